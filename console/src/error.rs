//! What a page could not do, rendered as a page in the visitor's language.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use hotline_gateway::error::{ApiError, message_of};
use hotline_schemas::ErrorCode;

use crate::Console;
use crate::i18n::Tr;
use crate::pages::Chrome;

/// A page's failure: `render_failures` shows it.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Not signed in, or the session ended: the sign-in page, then back to `next`.
    SignIn { next: String },
    /// A rule of the platform refused it: its status and message.
    Api(ApiError),
    /// The form came without the token of the page it was on.
    Csrf,
    /// A page that takes an appellant's token came with none that opens this appeal.
    BadLink,
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<hotline_store::StoreError> for Failure {
    fn from(e: hotline_store::StoreError) -> Self {
        Failure::Api(e.into())
    }
}

impl From<hotline_schemas::DomainError> for Failure {
    fn from(e: hotline_schemas::DomainError) -> Self {
        Failure::Api(e.into())
    }
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Failure::SignIn { .. } => StatusCode::SEE_OTHER,
            Failure::Api(e) => e.status(),
            Failure::Csrf | Failure::BadLink => StatusCode::FORBIDDEN,
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        if let Failure::SignIn { next } = &self {
            let next: String = form_urlencoded(next);
            return Redirect::to(&format!("/sign-in?next={next}")).into_response();
        }
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// `value` encoded for a query string.
pub fn form_urlencoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "failure.html")]
struct FailurePage {
    chrome: Chrome,
    title: String,
    message: String,
}

/// Renders the failures of the console's handlers as pages.
pub async fn render_failures(
    State(console): State<Arc<Console>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let tr = Tr::of(&console, &parts);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let Some(failure) = response.extensions_mut().remove::<Failure>() else {
        return response;
    };
    let status = failure.status();
    let (title, message) = match &failure {
        Failure::Api(e) => (
            tr.t("failure-title"),
            message_of(&console.app.localizer, tr.lang(), &e.0),
        ),
        Failure::Csrf => (tr.t("failure-title"), tr.t("failure-csrf")),
        Failure::BadLink => (tr.t("failure-title"), tr.t("failure-bad-link")),
        Failure::SignIn { .. } => (tr.t("failure-title"), String::new()),
    };
    let page = FailurePage {
        chrome: Chrome::public(tr),
        title,
        message,
    };
    match page.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a failure page could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A page that could not be rendered: the template's fault, logged.
pub fn render_error(e: askama::Error) -> Failure {
    tracing::error!(error = %e, "a page could not be rendered");
    Failure::Api(ApiError::new(ErrorCode::Internal))
}
