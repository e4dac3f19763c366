//! The public's pages: the start page, and the CSRF token of forms posted without a session
//! (a double-submit cookie).

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use serde::de::DeserializeOwned;

use crate::Console;
use crate::cookies::{cookie, set_cookie};
use crate::error::Failure;
use crate::i18n::Tr;
use crate::pages::{Chrome, page};
use crate::session::{CSRF_FIELD, constant_time_eq, field, form_fields, parse_form, random_token};

/// The cookie holding the CSRF token of the public pages' forms.
pub const PUBLIC_CSRF_COOKIE: &str = "hotline_form";

/// The token a public page's forms carry: the visitor's cookie, or a new one to set.
pub struct PublicCsrf {
    pub token: String,
    set: Option<String>,
}

impl PublicCsrf {
    /// `response` with the cookie set when it was new.
    pub fn attach(self, mut response: Response) -> Response {
        if let Some(value) = self.set.and_then(|v| v.parse().ok()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }
}

impl FromRequestParts<Arc<Console>> for PublicCsrf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        Ok(match cookie(&parts.headers, PUBLIC_CSRF_COOKIE) {
            Some(token) if token.len() == 64 => PublicCsrf { token, set: None },
            _ => {
                let token = random_token();
                let secure = console.settings.secure_cookies();
                let set = set_cookie(PUBLIC_CSRF_COOKIE, &token, secure, None);
                PublicCsrf {
                    token,
                    set: Some(set),
                }
            }
        })
    }
}

/// A form posted from a public page, its token checked against the cookie first.
pub struct PublicForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<Arc<Console>> for PublicForm<T> {
    type Rejection = Failure;

    async fn from_request(request: Request, _: &Arc<Console>) -> Result<Self, Failure> {
        let (parts, body) = request.into_parts();
        let kept = cookie(&parts.headers, PUBLIC_CSRF_COOKIE);
        let fields = form_fields(body, hotline_gateway::BODY_LIMIT_BYTES).await?;
        match (kept, field(&fields, CSRF_FIELD)) {
            (Some(kept), Some(sent)) if constant_time_eq(kept.as_bytes(), sent.as_bytes()) => {
                Ok(PublicForm(parse_form(&fields)?))
            }
            _ => Err(Failure::Csrf),
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chrome: Chrome,
}

/// The start page: submit an appeal, follow one, or sign in.
pub async fn home(tr: Tr) -> Result<Response, Failure> {
    page(&Home {
        chrome: Chrome::public(tr),
    })
}
