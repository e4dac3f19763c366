//! Signing in: sessions in an HttpOnly cookie (only its SHA-256 is stored), idle and absolute
//! expiry, a CSRF token per session carried by every form, and lockout after repeated failed
//! attempts. A page states who may open it in its extractor's type: `SignedIn<P>` with a
//! permission of the API's access table.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use hotline_gateway::access::{Permission, forbidden};
use hotline_schemas::{Actor, User};
use hotline_store::Session;
use rand::RngCore;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::Console;
use crate::cookies::cookie;
use crate::error::Failure;

/// The session cookie.
pub const SESSION_COOKIE: &str = "hotline_session";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// A session's last use is written at most this often (each request reads it).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A random token of 32 bytes, as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a cookie's value, as the store keeps it.
pub fn hash_of(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether the session is still good at `now`: used within the idle time, and younger than the
/// absolute lifetime.
fn alive(console: &Console, session: &Session, now: DateTime<Utc>) -> bool {
    now - session.last_seen_at <= console.settings.session_idle
        && now - session.created_at <= console.settings.session_lifetime
}

/// The signed-in user of a request: their session and record.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub user: User,
    pub session: Session,
}

impl Visitor {
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }

    /// Checks a form's CSRF token against the session's.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), Failure> {
        match token {
            Some(t) if constant_time_eq(t.as_bytes(), self.session.csrf.as_bytes()) => Ok(()),
            _ => Err(Failure::Csrf),
        }
    }
}

/// Equal bytes, in a time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The visitor of a request, if signed in with a live session of an enabled user.
pub async fn visitor(console: &Console, parts: &Parts) -> Result<Option<Visitor>, Failure> {
    let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let store = &console.app.store;
    let Some(session) = store.session(&hash_of(&value)).await? else {
        return Ok(None);
    };
    let now = console.app.now();
    if !alive(console, &session, now) {
        store.end_session(&session.id_hash).await?;
        return Ok(None);
    }
    let Some(user) = store.user(session.user).await?.filter(|u| !u.disabled) else {
        store.end_session(&session.id_hash).await?;
        return Ok(None);
    };
    if (now - session.last_seen_at).num_seconds() >= TOUCH_EVERY_SECONDS {
        store.touch_session(&session.id_hash, now).await?;
    }
    Ok(Some(Visitor { user, session }))
}

/// A page for those `P` allows: others are sent to sign in (not signed in) or refused.
pub struct SignedIn<P: Permission>(pub Visitor, pub PhantomData<P>);

impl<P: Permission> FromRequestParts<Arc<Console>> for SignedIn<P> {
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Failure> {
        let next = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/console".to_owned(), |p| p.as_str().to_owned());
        let Some(visitor) = visitor(console, parts).await? else {
            return Err(Failure::SignIn { next });
        };
        let actor = visitor.actor();
        if !P::allows(&actor) {
            return Err(Failure::Api(forbidden(&actor, P::NAME)));
        }
        Ok(SignedIn(visitor, PhantomData))
    }
}

/// A form posted by a visitor `P` allows, its CSRF token checked before anything else is read:
/// a handler cannot forget the check.
pub struct Posted<P: Permission, T>(pub Visitor, pub T, pub PhantomData<P>);

impl<P: Permission, T: DeserializeOwned + Send> FromRequest<Arc<Console>> for Posted<P, T> {
    type Rejection = Failure;

    async fn from_request(request: Request, console: &Arc<Console>) -> Result<Self, Failure> {
        let (visitor, form) =
            posted::<P, T>(request, console, hotline_gateway::BODY_LIMIT_BYTES).await?;
        Ok(Posted(visitor, form, PhantomData))
    }
}

/// The longest form that carries a whole reference data file (a taxonomy), URL-encoded.
pub const LARGE_FORM_BYTES: usize = 8 * 1024 * 1024;

/// [`Posted`] for a form that carries a whole file: up to [`LARGE_FORM_BYTES`].
pub struct PostedFile<P: Permission, T>(pub Visitor, pub T, pub PhantomData<P>);

impl<P: Permission, T: DeserializeOwned + Send> FromRequest<Arc<Console>> for PostedFile<P, T> {
    type Rejection = Failure;

    async fn from_request(request: Request, console: &Arc<Console>) -> Result<Self, Failure> {
        let (visitor, form) = posted::<P, T>(request, console, LARGE_FORM_BYTES).await?;
        Ok(PostedFile(visitor, form, PhantomData))
    }
}

/// The signed-in visitor `P` allows and their form of at most `limit` bytes, its CSRF token
/// checked before anything else is read.
async fn posted<P: Permission, T: DeserializeOwned>(
    request: Request,
    console: &Arc<Console>,
    limit: usize,
) -> Result<(Visitor, T), Failure> {
    let (mut parts, body) = request.into_parts();
    let SignedIn(visitor, _) = SignedIn::<P>::from_request_parts(&mut parts, console).await?;
    let fields = form_fields(body, limit).await?;
    visitor.check_csrf(field(&fields, CSRF_FIELD))?;
    let form = parse_form(&fields)?;
    Ok((visitor, form))
}

/// The fields of a form body (`application/x-www-form-urlencoded`) of at most `limit` bytes.
pub async fn form_fields(
    body: axum::body::Body,
    limit: usize,
) -> Result<Vec<(String, String)>, Failure> {
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| Failure::Api(hotline_schemas::ErrorCode::PayloadTooLarge.into()))?;
    Ok(form_urlencoded_pairs(&bytes))
}

/// The pairs of an urlencoded body; a body that does not parse has none.
fn form_urlencoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(bytes).unwrap_or_default()
}

/// The value of the field `name`.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The form as `T` (fields it does not name, such as the CSRF token, are left aside); a field
/// that does not fit names itself in the error.
pub fn parse_form<T: DeserializeOwned>(fields: &[(String, String)]) -> Result<T, Failure> {
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .filter(|(k, _)| k != CSRF_FIELD)
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
        Failure::Api(
            hotline_schemas::DomainError::new(hotline_schemas::ErrorCode::InvalidValue)
                .with_arg("detail", format!(": {e}"))
                .into(),
        )
    })
}
