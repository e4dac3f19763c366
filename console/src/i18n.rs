//! The console's language: `?lang=` (kept in a cookie), else the cookie, else the browser's
//! `Accept-Language`; zh-CN by default. Every text of a page comes from `locales/`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use hotline_locales::{LANGUAGES, Localizer};

use crate::Console;
use crate::cookies::cookie;

/// The cookie that keeps a chosen language.
pub const LANG_COOKIE: &str = "hotline_lang";

/// The texts of one language, for a page.
#[derive(Clone)]
pub struct Tr {
    lang: &'static str,
    localizer: Arc<Localizer>,
}

impl Tr {
    pub fn new(localizer: Arc<Localizer>, lang: &str) -> Tr {
        let lang = LANGUAGES
            .iter()
            .copied()
            .find(|l| *l == lang)
            .unwrap_or(LANGUAGES[0]);
        Tr { lang, localizer }
    }

    /// The language code, for `<html lang>` and links.
    pub fn lang(&self) -> &'static str {
        self.lang
    }

    /// The other language, for the switch in the header.
    pub fn other_lang(&self) -> &'static str {
        LANGUAGES
            .iter()
            .copied()
            .find(|l| *l != self.lang)
            .unwrap_or(LANGUAGES[0])
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        self.localizer.message(self.lang, id, &BTreeMap::new())
    }

    /// The message `id` with one argument.
    pub fn t1(&self, id: &str, name: &'static str, value: impl ToString) -> String {
        self.localizer
            .message(self.lang, id, &BTreeMap::from([(name, value.to_string())]))
    }

    /// The message `id` with arguments.
    pub fn ta(&self, id: &str, args: &[(&'static str, String)]) -> String {
        self.localizer
            .message(self.lang, id, &args.iter().cloned().collect())
    }

    /// The text of an enum value with a stable code (a status, kind, role …): `{prefix}-{code}`.
    pub fn code(&self, prefix: &str, code: &str) -> String {
        self.t(&format!("{prefix}-{code}"))
    }
}

impl Tr {
    /// The language of a request.
    pub fn of(console: &Console, parts: &Parts) -> Tr {
        let asked = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("lang=")))
            .map(str::to_owned);
        let kept = cookie(&parts.headers, LANG_COOKIE);
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let localizer = console.app.localizer.clone();
        let lang = match asked.or(kept) {
            Some(lang) if LANGUAGES.contains(&lang.as_str()) => lang,
            _ => localizer.negotiate(accept).to_owned(),
        };
        Tr::new(localizer, &lang)
    }
}

/// Keeps a language chosen with `?lang=` in a cookie, for the pages that follow.
pub async fn remember_language(
    axum::extract::State(console): axum::extract::State<Arc<Console>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let asked = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("lang=")))
        .and_then(|lang| LANGUAGES.iter().copied().find(|l| *l == lang));
    let mut response = next.run(request).await;
    if let Some(lang) = asked {
        let year = 365 * 24 * 3600;
        let set = crate::cookies::set_cookie(
            LANG_COOKIE,
            lang,
            console.settings.secure_cookies(),
            Some(year),
        );
        if let Ok(value) = set.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

impl FromRequestParts<Arc<Console>> for Tr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Tr, Self::Rejection> {
        Ok(Tr::of(console, parts))
    }
}
