//! The start of the console: each role's sections.

use askama::Template;
use axum::response::Response;
use hotline_gateway::access::AnyCaller;

use crate::error::Failure;
use crate::i18n::Tr;
use crate::pages::{Chrome, page};
use crate::session::SignedIn;

#[derive(Template)]
#[template(path = "start.html")]
struct Start {
    chrome: Chrome,
}

pub async fn start(
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<AnyCaller>,
) -> Result<Response, Failure> {
    page(&Start {
        chrome: Chrome::staff(tr, &visitor, "/console"),
    })
}
