//! Extractors that turn bad input into precise, localizable errors: the JSON body (unknown,
//! missing and invalid fields named by their path), the bearer token and the query string.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use hotline_schemas::{Actor, DomainError, ErrorCode};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::Verified;
use crate::error::ApiError;

/// A JSON body deserialized with the path of any offending field reported.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let json_content = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge))?;
        if !json_content && !bytes.is_empty() {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
        }
        // An action without content may come with no body at all.
        let bytes = if bytes.is_empty() {
            Bytes::from_static(b"{}")
        } else {
            bytes
        };
        parse_json(&bytes).map(ValidJson)
    }
}

/// Deserializes `bytes`, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError(json_error(&path, &inner))
    })
}

fn json_error(path: &str, error: &serde_json::Error) -> DomainError {
    let message = error.to_string();
    if error.is_syntax() || error.is_eof() {
        return DomainError::new(ErrorCode::InvalidJson).with_arg("detail", message);
    }
    let join = |name: &str| {
        if path.is_empty() || path == "." {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            // Some paths already end at the field (a top-level unknown field).
            path.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').nth(1))
            .map(str::to_owned)
    };
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_owned();
    // Unknown enum values are reported as `: fax (hotline, mailbox, …)`, the same in every
    // language; other serde messages are passed on as they are.
    let detail = match quoted("unknown variant ") {
        Some(value) => {
            let expected: Vec<&str> = message
                .split_once("expected ")
                .map(|(_, rest)| rest.split('`').skip(1).step_by(2).collect())
                .unwrap_or_default();
            format!(": {value} ({})", expected.join(", "))
        }
        None => format!(": {message}"),
    };
    if let Some(name) = quoted("unknown field ") {
        DomainError::new(ErrorCode::UnknownField).with_field(join(&name))
    } else if let Some(name) = quoted("missing field ") {
        DomainError::new(ErrorCode::MissingField).with_field(join(&name))
    } else if message.starts_with("invalid type") {
        DomainError::new(ErrorCode::InvalidType)
            .with_field(path)
            .with_arg("detail", detail)
    } else {
        DomainError::new(ErrorCode::InvalidValue)
            .with_field(path)
            .with_arg("detail", detail)
    }
}

/// The caller named by a valid bearer token.
pub struct Caller(pub Actor);

/// The caller when a token was sent (it must then be valid), else the public. A rating link's
/// token is refused here: only the rating route takes it (`Allowed<RateAppeal>`).
pub struct MaybeCaller(pub Option<Actor>);

impl FromRequestParts<Arc<AppState>> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        match bearer(parts, state).await? {
            Some(verified) if verified.rating_only => Err(ApiError::new(ErrorCode::InvalidToken)),
            verified => Ok(MaybeCaller(verified.map(|v| v.actor))),
        }
    }
}

/// The token of the request's bearer, verified and still valid; `None` when none was sent.
pub async fn bearer(parts: &Parts, state: &AppState) -> Result<Option<Verified>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken))?;
    let verified = state
        .signer
        .verified_at(token.trim(), state.now())
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken))?;
    if !still_valid(state, &verified).await? {
        return Err(ApiError::new(ErrorCode::InvalidToken));
    }
    Ok(Some(verified))
}

/// Whether a token that verified still holds: it is not revoked and, issued for a user, the
/// user exists and is not disabled. Asked of the store on every request.
async fn still_valid(state: &AppState, verified: &Verified) -> Result<bool, ApiError> {
    if let Some(id) = verified.id
        && state.store.token_revoked(id).await?
    {
        return Ok(false);
    }
    if let Some(user) = verified.actor.user {
        return Ok(state.store.user(user).await?.is_some_and(|u| !u.disabled));
    }
    Ok(true)
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        MaybeCaller::from_request_parts(parts, state)
            .await?
            .0
            .map(Caller)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))
    }
}

/// The client's address: the peer, or the client a trusted proxy names
/// ([`crate::IntakeLimits::client`]); `None` when the app is served without a socket.
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<Arc<AppState>> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(state.limits.client(peer, &parts.headers)))
    }
}
