//! The public's submission page (`/submit`, the web channel): what the appeal is about, where,
//! and who asks; the same intake as the API, under the public's limits. The page after it shows
//! the ticket number and the link to follow the appeal. Also the pieces the agent desk's form
//! shares with it: the client's address, the title taken from the text, the kinds, and a
//! problem shown beside the field it is about.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use hotline_gateway::error::{ApiError, message_of};
use hotline_gateway::service;
use hotline_schemas::event::envelope::new_traceparent;
use hotline_schemas::{
    Appellant, Channel, DomainError, ErrorCode, Kind, Location, NewAppeal, Priority, Role,
};
use serde::Deserialize;
use strum::IntoEnumIterator;

use crate::Console;
use crate::error::{Failure, form_urlencoded};
use crate::i18n::Tr;
use crate::pages::public::{PublicCsrf, PublicForm};
use crate::pages::{Chrome, page};
use crate::session::random_token;

/// The client's address, as the intake limits count it (the peer, or the client a trusted
/// proxy names).
pub struct Client(pub Option<IpAddr>);

impl FromRequestParts<Arc<Console>> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Client(console.app.limits.client(peer, &parts.headers)))
    }
}

/// Characters of the text a title taken from it keeps at most.
pub const TITLE_FROM_TEXT: usize = 30;

/// The title as given, else the text's first line, at most [`TITLE_FROM_TEXT`] characters.
pub fn title_of(title: &str, body: &str) -> String {
    let title = title.trim();
    if !title.is_empty() {
        return title.to_owned();
    }
    let first = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    first.chars().take(TITLE_FROM_TEXT).collect()
}

/// A choice of a radio group or a select.
pub struct Choice {
    pub code: String,
    pub label: String,
    pub checked: bool,
}

/// The kinds of appeal (诉求类型), `selected` checked.
pub fn kind_choices(tr: &Tr, selected: &str) -> Vec<Choice> {
    Kind::iter()
        .map(|k| Choice {
            code: k.as_str().to_owned(),
            label: tr.code("desk-kind", k.as_str()),
            checked: k.as_str() == selected,
        })
        .collect()
}

/// A problem with a form: the message, and the input it is about (its id).
pub struct Problem {
    pub message: String,
    pub field: Option<String>,
}

/// The inputs of the appeal forms, by the field names the intake's errors give.
const FIELDS: [(&str, &str); 8] = [
    ("title", "title"),
    ("body", "body"),
    ("kind", "kind"),
    ("appellant.name", "name"),
    ("appellant.phone", "phone"),
    ("appellant.uscc", "uscc"),
    ("location.address", "address"),
    ("answer", "answer"),
];

/// `error` in the visitor's words, naming the field by its label on the form.
pub fn problem_of(console: &Console, tr: &Tr, error: &ApiError) -> Problem {
    let mut shown = error.0.clone();
    let field = shown.field.as_deref().and_then(|f| {
        FIELDS
            .iter()
            .find(|(name, _)| *name == f)
            .map(|(_, id)| (*id).to_owned())
    });
    if let Some(id) = &field {
        shown
            .args
            .insert("field", tr.code("desk-field", id.as_str()));
    }
    Problem {
        message: message_of(&console.app.localizer, tr.lang(), &shown),
        field,
    }
}

/// An input left empty is none.
pub fn given(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The kind the form names.
pub fn kind_of(code: &str) -> Result<Kind, ApiError> {
    code.parse::<Kind>().map_err(|_| {
        ApiError(
            DomainError::new(ErrorCode::InvalidValue)
                .with_field("kind")
                .with_arg("detail", format!(": {code}")),
        )
    })
}

/// What the appeal forms ask, as typed (every field a string, kept to show the form again).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AppealFields {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub address: String,
    /// `person` or `enterprise`.
    #[serde(default)]
    pub appellant_kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub uscc: String,
    /// The form's own idempotency key: sent twice, it is one appeal.
    #[serde(default, rename = "_idem")]
    pub idem: String,
}

impl AppealFields {
    pub fn enterprise(&self) -> bool {
        self.appellant_kind == "enterprise"
    }

    /// The submission on `channel`.
    pub fn to_new(&self, channel: Channel, priority: Priority) -> Result<NewAppeal, ApiError> {
        let kind = kind_of(&self.kind)?;
        let name = self.name.trim().to_owned();
        let phone = given(&self.phone);
        let appellant = if self.enterprise() {
            Appellant::Enterprise {
                name,
                phone,
                uscc: self.uscc.trim().to_ascii_uppercase(),
                wechat_openid: None,
            }
        } else {
            Appellant::Person {
                name,
                phone,
                wechat_openid: None,
            }
        };
        Ok(NewAppeal {
            channel,
            kind,
            priority,
            title: title_of(&self.title, &self.body),
            body: self.body.trim().to_owned(),
            appellant,
            location: Location {
                address: given(&self.address),
                ..Location::default()
            },
            attachments: Vec::new(),
        })
    }

    /// The idempotency key the form carries, if it is one of ours.
    pub fn key(&self) -> Option<&str> {
        let key = self.idem.trim();
        (key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())).then_some(key)
    }
}

#[derive(Template)]
#[template(path = "submit.html")]
struct SubmitPage {
    chrome: Chrome,
    values: AppealFields,
    kinds: Vec<Choice>,
    problem: Option<Problem>,
}

impl SubmitPage {
    /// Whether `id` is the input the problem is about.
    fn invalid(&self, id: &str) -> bool {
        self.problem
            .as_ref()
            .and_then(|p| p.field.as_deref())
            .is_some_and(|f| f == id)
    }
}

fn submit_page(tr: Tr, csrf: String, values: AppealFields, problem: Option<Problem>) -> SubmitPage {
    let selected = if values.kind.is_empty() {
        Kind::Complaint.as_str().to_owned()
    } else {
        values.kind.clone()
    };
    SubmitPage {
        kinds: kind_choices(&tr, &selected),
        chrome: Chrome::public_form(tr, csrf),
        values,
        problem,
    }
}

/// `GET /submit`: the form.
pub async fn form(tr: Tr, csrf: PublicCsrf) -> Result<Response, Failure> {
    let values = AppealFields {
        appellant_kind: "person".to_owned(),
        idem: random_token(),
        ..AppealFields::default()
    };
    let shown = submit_page(tr, csrf.token.clone(), values, None);
    Ok(csrf.attach(page(&shown)?))
}

/// `POST /submit`: the appeal through the web channel, under the public's limits (per client
/// address, then per appellant); then the page with its ticket number. A problem shows the form
/// again, as filled in, with the message beside the field.
pub async fn submit(
    State(console): State<Arc<Console>>,
    tr: Tr,
    csrf: PublicCsrf,
    Client(client): Client,
    PublicForm(values): PublicForm<AppealFields>,
) -> Result<Response, Failure> {
    let outcome = async {
        console.app.limits.take_public(client)?;
        let new = values.to_new(Channel::Web, Priority::Normal)?;
        service::submit(&console.app, None, new, values.key(), new_traceparent()).await
    }
    .await;
    match outcome {
        Ok(submitted) => {
            let to = format!(
                "/submit/done?ticket={}&token={}",
                form_urlencoded(submitted.appeal.ticket_no.as_str()),
                form_urlencoded(&submitted.appellant_token)
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let problem = problem_of(&console, &tr, &e);
            let shown = submit_page(tr, csrf.token.clone(), values, Some(problem));
            let mut response = page(&shown)?;
            *response.status_mut() = e.status();
            Ok(csrf.attach(response))
        }
    }
}

#[derive(Deserialize)]
pub struct DoneLink {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "submit_done.html")]
struct DonePage {
    chrome: Chrome,
    ticket: String,
    token: String,
    follow: String,
    title: String,
}

/// `GET /submit/done`: the ticket number, the code to follow the appeal with, and the link.
pub async fn done(
    State(console): State<Arc<Console>>,
    tr: Tr,
    Query(link): Query<DoneLink>,
) -> Result<Response, Failure> {
    let app = &console.app;
    let verified = app
        .signer
        .verified_at(link.token.trim(), app.now())
        .filter(|v| v.actor.role == Role::Appellant && !v.rating_only)
        .ok_or(Failure::BadLink)?;
    let id = verified.actor.appeal.ok_or(Failure::BadLink)?;
    let appeal = service::load_visible(app, &verified.actor, &id.to_string())
        .await
        .map_err(|_| Failure::BadLink)?;
    if appeal.ticket_no.as_str() != link.ticket.trim() {
        return Err(Failure::BadLink);
    }
    let (ticket, token) = (appeal.ticket_no.to_string(), link.token.trim().to_owned());
    let follow = format!(
        "/follow?ticket={}&token={}",
        form_urlencoded(&ticket),
        form_urlencoded(&token)
    );
    page(&DonePage {
        chrome: Chrome::public(tr),
        ticket,
        token,
        follow,
        title: appeal.title,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_taken_from_the_text_when_none_is_given() {
        assert_eq!(title_of("  厂房审批 ", "正文"), "厂房审批");
        assert_eq!(title_of("", "\n  小区停水两天\n无人处理"), "小区停水两天");
        let long = "我".repeat(40);
        assert_eq!(title_of(" ", &long).chars().count(), TITLE_FROM_TEXT);
        assert_eq!(title_of("", ""), "");
    }

    #[test]
    fn only_keys_of_the_form_are_taken() {
        let mut fields = AppealFields {
            idem: "ab".repeat(32),
            ..AppealFields::default()
        };
        assert!(fields.key().is_some());
        fields.idem = "not a key".to_owned();
        assert!(fields.key().is_none());
    }
}
