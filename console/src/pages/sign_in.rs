//! Signing in and out.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use hotline_gateway::access::AnyCaller;
use hotline_store::Session;
use serde::Deserialize;

use crate::Console;
use crate::cookies::{clear_cookie, set_cookie};
use crate::error::Failure;
use crate::i18n::Tr;
use crate::pages::public::{PublicCsrf, PublicForm};
use crate::pages::{Chrome, page};
use crate::password;
use crate::session::{Posted, SESSION_COOKIE, hash_of, random_token};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    next: String,
    username: String,
    /// Why the last attempt failed.
    problem: Option<String>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Where to go after signing in: a path of this site only (never another host).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/console".to_owned(),
    }
}

pub async fn form(tr: Tr, csrf: PublicCsrf, Query(q): Query<Next>) -> Result<Response, Failure> {
    let shown = SignInPage {
        chrome: Chrome::public_form(tr, csrf.token.clone()),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        problem: None,
    };
    Ok(csrf.attach(page(&shown)?))
}

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    next: Option<String>,
}

/// Checks the password (argon2id) and starts a session; after `lockout_after` failures in a row
/// the user is locked out for `lockout_for`. An unknown name, a wrong password and a disabled
/// user get the same answer.
pub async fn submit(
    State(console): State<Arc<Console>>,
    tr: Tr,
    csrf: PublicCsrf,
    PublicForm(form): PublicForm<Credentials>,
) -> Result<Response, Failure> {
    let store = &console.app.store;
    let now = console.app.now();
    let username = form.username.trim().to_lowercase();
    let refused = |problem: String| -> Result<Response, Failure> {
        let shown = SignInPage {
            chrome: Chrome::public_form(tr.clone(), csrf.token.clone()),
            next: safe_next(form.next.as_deref()),
            username: username.clone(),
            problem: Some(problem),
        };
        let mut response = page(&shown)?;
        *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        Ok(response)
    };
    let Some(found) = store.credentials(&username).await? else {
        password::verify_nothing(&form.password);
        tracing::info!("sign-in refused: unknown name");
        return refused(tr.t("sign-in-wrong"));
    };
    if let Some(until) = found.locked_until.filter(|until| *until > now) {
        tracing::info!(user = %found.user.id, "sign-in refused: locked out");
        let minutes = (until - now).num_minutes() + 1;
        return refused(tr.t1("sign-in-locked", "minutes", minutes));
    }
    let matches = found
        .password_hash
        .as_deref()
        .is_some_and(|hash| password::verify(&form.password, hash));
    if !matches || found.user.disabled {
        let failures = store.sign_in_failed(found.user.id).await?;
        tracing::info!(user = %found.user.id, failures, "sign-in refused: wrong password or disabled");
        if failures >= console.settings.lockout_after {
            store
                .lock_sign_in(found.user.id, now + console.settings.lockout_for)
                .await?;
        }
        return refused(tr.t("sign-in-wrong"));
    }
    store.sign_in_succeeded(found.user.id).await?;
    let value = random_token();
    store
        .create_session(&Session {
            id_hash: hash_of(&value),
            user: found.user.id,
            csrf: random_token(),
            created_at: now,
            last_seen_at: now,
        })
        .await?;
    tracing::info!(user = %found.user.id, "signed in");
    let secure = console.settings.secure_cookies();
    let lifetime = console.settings.session_lifetime.num_seconds();
    let cookie = set_cookie(SESSION_COOKIE, &value, secure, Some(lifetime));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&safe_next(form.next.as_deref())),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct Nothing {}

/// Ends the session: its cookie no longer opens anything, on any gateway.
pub async fn sign_out(
    State(console): State<Arc<Console>>,
    Posted(visitor, Nothing {}, ..): Posted<AnyCaller, Nothing>,
) -> Result<Response, Failure> {
    console
        .app
        .store
        .end_session(&visitor.session.id_hash)
        .await?;
    tracing::info!(user = %visitor.user.id, "signed out");
    let cookie = clear_cookie(SESSION_COOKIE, console.settings.secure_cookies());
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/sign-in")).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn after_sign_in_only_paths_of_this_site() {
        assert_eq!(
            safe_next(Some("/console/inbox?page=2")),
            "/console/inbox?page=2"
        );
        for elsewhere in ["https://evil.example", "//evil.example", "/\\evil", "inbox"] {
            assert_eq!(safe_next(Some(elsewhere)), "/console", "{elsewhere}");
        }
        assert_eq!(safe_next(None), "/console");
    }
}
