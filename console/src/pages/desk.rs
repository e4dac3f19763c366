//! The agent desk (接线台): log a call while on the phone. The caller's number brings up their
//! history (unmasked: the agent has the number); the form takes the kind, text, place and
//! appellant, and goes through the same intake as the API (channel `hotline`, the agent as the
//! one who logged it); while the agent types, the router's suggestions and probable duplicates
//! show beside it. A consultation answered on the spot is closed at once (一次性告知). Below,
//! the agent's own calls and how far each has got.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hotline_gateway::access::AgentDesk;
use hotline_gateway::error::{ApiError, message_of};
use hotline_gateway::preview::{Likeness, PreviewRequest, preview as route_preview};
use hotline_gateway::service::{self, execute, history, scope, view};
use hotline_schemas::event::envelope::new_traceparent;
use hotline_schemas::{
    Action, Actor, Appeal, Channel, Command, DomainError, ErrorCode, Kind, Priority,
};
use hotline_store::AppealFilter;
use serde::{Deserialize, Serialize};

use crate::Console;
use crate::error::{Failure, form_urlencoded};
use crate::i18n::Tr;
use crate::pages::submit::{AppealFields, Choice, Client, Problem, kind_choices, problem_of};
use crate::pages::{Chrome, appellant_line, history, page};
use crate::session::{Posted, SignedIn, Visitor, constant_time_eq, random_token};

/// The agent's own calls the desk lists.
const MINE: u32 = 20;
/// The header the desk's script sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The routes of the desk.
pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/console/desk", get(desk).post(log_call))
        .route("/console/desk/preview", post(preview))
        .route("/console/desk/appeals/{id}", get(case))
        .route("/console/desk/appeals/{id}/close", post(close))
}

/// An appeal in one of the desk's lists.
pub struct Listed {
    pub id: String,
    pub ticket: String,
    pub title: String,
    pub kind: String,
    pub status: String,
    pub at: String,
    pub unit: String,
}

impl Listed {
    fn of(console: &Console, tr: &Tr, appeal: &Appeal) -> Listed {
        Listed {
            id: appeal.id.to_string(),
            ticket: appeal.ticket_no.to_string(),
            title: appeal.title.clone(),
            kind: tr.code("desk-kind", appeal.kind.as_str()),
            status: tr.code("status", appeal.status.as_str()),
            at: appeal
                .created_at
                .with_timezone(&console.app.tz())
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            unit: appeal
                .unit
                .as_deref()
                .map(|u| unit_name(console, tr, u))
                .unwrap_or_default(),
        }
    }
}

/// A unit's name in the visitor's language (the taxonomy's, else the code).
pub fn unit_name(console: &Console, tr: &Tr, code: &str) -> String {
    console
        .app
        .taxonomy()
        .unit(code)
        .map(|u| {
            if tr.lang().starts_with("en") {
                u.name_en.clone()
            } else {
                u.name.clone()
            }
        })
        .unwrap_or_else(|| code.to_owned())
}

/// A matter's name in the visitor's language.
pub fn matter_name(console: &Console, tr: &Tr, code: &str) -> String {
    console
        .app
        .taxonomy()
        .matter(code)
        .map(|m| {
            if tr.lang().starts_with("en") {
                m.name_en.clone()
            } else {
                m.name.clone()
            }
        })
        .unwrap_or_else(|| code.to_owned())
}

/// What the desk's form holds besides the appeal's fields.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeskFields {
    #[serde(flatten)]
    pub appeal: AppealFields,
    /// `on` when the agent marks it urgent.
    #[serde(default)]
    pub urgent: String,
    /// The answer given on the spot, for a consultation closed at once (一次性告知).
    #[serde(default)]
    pub answer: String,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    chrome: Chrome,
    number: String,
    lookup_problem: Option<String>,
    history: Option<Vec<Listed>>,
    values: AppealFields,
    urgent: bool,
    answer: String,
    kinds: Vec<Choice>,
    problem: Option<Problem>,
    mine: Vec<Listed>,
}

impl DeskPage {
    /// Whether `id` is the input the problem is about.
    fn invalid(&self, id: &str) -> bool {
        self.problem
            .as_ref()
            .and_then(|p| p.field.as_deref())
            .is_some_and(|f| f == id)
    }
}

#[derive(Deserialize)]
pub struct Lookup {
    #[serde(default)]
    number: String,
}

/// `GET /console/desk`: the form; with `?number=` the caller's history, and the form filled
/// with what it tells (the number, the name last given).
pub async fn desk(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<AgentDesk>,
    Query(lookup): Query<Lookup>,
) -> Result<Response, Failure> {
    let number = lookup.number.trim().to_owned();
    let mut values = AppealFields {
        kind: Kind::Complaint.as_str().to_owned(),
        appellant_kind: "person".to_owned(),
        idem: random_token(),
        ..AppealFields::default()
    };
    let (mut lookup_problem, mut history) = (None, None);
    if !number.is_empty() {
        match service::caller_history(&console.app, &visitor.actor(), &number).await {
            Ok(appeals) => {
                if hotline_schemas::value::uscc::validate(&number).is_ok() {
                    values.appellant_kind = "enterprise".to_owned();
                    values.uscc = number.to_ascii_uppercase();
                } else {
                    values.phone = number.clone();
                }
                if let Some(last) = appeals.first() {
                    values.name = last.appellant.name().to_owned();
                    if let hotline_schemas::Appellant::Enterprise { uscc, phone, .. } =
                        &last.appellant
                    {
                        values.appellant_kind = "enterprise".to_owned();
                        values.uscc = uscc.clone();
                        if values.phone.is_empty() {
                            values.phone = phone.clone().unwrap_or_default();
                        }
                    }
                }
                history = Some(
                    appeals
                        .iter()
                        .map(|a| Listed::of(&console, &tr, a))
                        .collect(),
                );
            }
            Err(e) => {
                lookup_problem = Some(message_of(&console.app.localizer, tr.lang(), &e.0));
            }
        }
    }
    let shown = desk_page(
        &console,
        tr,
        &visitor,
        DeskFields {
            appeal: values,
            ..DeskFields::default()
        },
        None,
    )
    .await?;
    page(&DeskPage {
        number,
        lookup_problem,
        history,
        ..shown
    })
}

/// The desk with the form holding `fields`, and the agent's own calls.
async fn desk_page(
    console: &Console,
    tr: Tr,
    visitor: &Visitor,
    fields: DeskFields,
    problem: Option<Problem>,
) -> Result<DeskPage, Failure> {
    let actor = visitor.actor();
    let filter = AppealFilter {
        submitted_by: Some(visitor.user.id),
        page: 1,
        per_page: MINE,
        ..AppealFilter::default()
    };
    let mine = console
        .app
        .store
        .list(&filter, &scope(&actor))
        .await?
        .appeals
        .iter()
        .map(|a| Listed::of(console, &tr, a))
        .collect();
    Ok(DeskPage {
        kinds: kind_choices(&tr, &fields.appeal.kind),
        chrome: Chrome::staff(tr, visitor, "/console/desk"),
        number: String::new(),
        lookup_problem: None,
        history: None,
        urgent: fields.urgent == "on",
        answer: fields.answer,
        values: fields.appeal,
        problem,
        mine,
    })
}

/// `POST /console/desk`: logs the call (channel `hotline`), under the staff's limit per client
/// address; a consultation with an answer is closed at once. Then the new appeal's page; a
/// problem shows the form again as filled in.
pub async fn log_call(
    State(console): State<Arc<Console>>,
    tr: Tr,
    Client(client): Client,
    Posted(visitor, fields, ..): Posted<AgentDesk, DeskFields>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let answer = fields.answer.trim().to_owned();
    let outcome = async {
        console.app.limits.take_staff(client)?;
        let priority = if fields.urgent == "on" {
            Priority::Urgent
        } else {
            Priority::Normal
        };
        let new = fields.appeal.to_new(Channel::Hotline, priority)?;
        if !answer.is_empty() && new.kind != Kind::Consultation {
            return Err(ApiError(
                DomainError::new(ErrorCode::NotAConsultation).with_field("answer"),
            ));
        }
        let submitted = service::submit(
            &console.app,
            Some(actor.clone()),
            new,
            fields.appeal.key(),
            new_traceparent(),
        )
        .await?;
        Ok(submitted.appeal.id)
    }
    .await;
    let id = match outcome {
        Ok(id) => id,
        Err(e) => {
            let problem = problem_of(&console, &tr, &e);
            let shown = desk_page(&console, tr, &visitor, fields, Some(problem)).await?;
            let mut response = page(&shown)?;
            *response.status_mut() = e.status();
            return Ok(response);
        }
    };
    if answer.is_empty() {
        return Ok(
            Redirect::to(&format!("/console/desk/appeals/{id}?done=logged")).into_response(),
        );
    }
    // Answered on the spot: closed now, while nobody else has placed it yet. It is logged
    // either way: should the router have dispatched it first, its page says where it stands.
    let closed = async {
        let appeal = service::prepare(&console.app, &actor, &id.to_string(), Action::Close).await?;
        let command = Command::Close {
            reason: Some(answer),
        };
        execute(&console.app, &actor, &appeal, command, new_traceparent()).await
    }
    .await;
    let done = match closed {
        Ok(_) => "answered",
        Err(e) => {
            tracing::info!(appeal = %id, code = e.0.code.as_str(), "a consultation logged could not be closed on the spot");
            "logged"
        }
    };
    Ok(Redirect::to(&format!("/console/desk/appeals/{id}?done={done}")).into_response())
}

/// One suggestion as the desk shows it.
struct Suggestion {
    matter: String,
    unit: String,
    percent: String,
}

#[derive(Template)]
#[template(path = "desk_case.html")]
struct CasePage {
    chrome: Chrome,
    notice: Option<String>,
    row: Listed,
    body: String,
    appellant: String,
    address: String,
    priority: String,
    suggestions: Vec<Suggestion>,
    steps: Vec<history::Step>,
    can_close: bool,
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// What a notice after an action may say.
const DONE: [&str; 3] = ["logged", "answered", "closed"];

/// `GET /console/desk/appeals/{id}`: a call just logged (or one of the agent's): its ticket
/// number, where it stands, and closing a consultation answered on the spot.
pub async fn case(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<AgentDesk>,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let appeal = service::load_visible(&console.app, &actor, &id).await?;
    let events = history(&console.app, &appeal).await?;
    let can_close = may_close(&actor, &appeal);
    let row = Listed::of(&console, &tr, &appeal);
    let shown = view(&console.app, &actor, appeal, Some(events));
    let notice = done
        .done
        .as_deref()
        .filter(|d| DONE.contains(d))
        .map(|d| tr.t1(&format!("desk-done-{d}"), "ticket", &row.ticket));
    let units = console.app.store.units().await?;
    let steps = history::steps(&console, &tr, &units, shown.events.as_deref());
    let suggestions = shown
        .suggestions
        .iter()
        .map(|s| Suggestion {
            matter: matter_name(&console, &tr, &s.matter),
            unit: unit_name(&console, &tr, &s.unit),
            percent: percent(s.probability),
        })
        .collect();
    let appellant = appellant_line(&shown.appellant);
    page(&CasePage {
        notice,
        body: shown.body,
        appellant,
        address: shown.location.address.clone().unwrap_or_default(),
        priority: tr.code("desk-priority", shown.priority.as_str()),
        suggestions,
        steps,
        can_close,
        row,
        chrome: Chrome::staff(tr, &visitor, "/console/desk"),
    })
}

/// Whether `actor` may close `appeal` on the spot: a consultation nobody has placed yet.
fn may_close(actor: &Actor, appeal: &Appeal) -> bool {
    appeal.kind == Kind::Consultation
        && actor.authorize(Action::Close, appeal).is_ok()
        && hotline_schemas::command::transition(appeal.status, Action::Close).is_ok()
        && appeal.status == hotline_schemas::Status::Received
}

/// A probability as a percentage.
pub fn percent(probability: f64) -> String {
    format!("{:.0}%", (probability * 100.0).clamp(0.0, 100.0))
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    answer: String,
}

/// `POST /console/desk/appeals/{id}/close`: a consultation answered on the spot is closed,
/// the answer given recorded as the reason.
pub async fn close(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    Posted(visitor, form, ..): Posted<AgentDesk, CloseForm>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let appeal = service::prepare(&console.app, &actor, &id, Action::Close).await?;
    let reason = Some(form.answer.trim().to_owned()).filter(|a| !a.is_empty());
    execute(
        &console.app,
        &actor,
        &appeal,
        Command::Close { reason },
        new_traceparent(),
    )
    .await?;
    Ok(Redirect::to(&format!("/console/desk/appeals/{id}?done=closed")).into_response())
}

/// A suggestion in the desk's live preview.
#[derive(Serialize)]
struct ShownSuggestion {
    label: String,
    percent: String,
}

/// A probable duplicate in the desk's live preview.
#[derive(Serialize)]
struct ShownDuplicate {
    href: String,
    ticket: String,
    title: String,
    status: String,
    why: String,
}

/// The live preview as the desk's script shows it: texts in the visitor's language.
#[derive(Serialize)]
struct ShownPreview {
    /// Where the router would send it, and whether by itself.
    summary: String,
    suggestions: Vec<ShownSuggestion>,
    urgent: Option<String>,
    confidential: Option<String>,
    duplicates: Vec<ShownDuplicate>,
}

/// What the desk's script sends: what has been typed so far.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Typed {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    uscc: String,
    #[serde(default)]
    address: String,
}

/// A JSON answer for the desk's script: the error's code and message, in the visitor's language.
fn json_error(console: &Console, tr: &Tr, status: StatusCode, e: &DomainError) -> Response {
    let body = serde_json::json!({
        "code": e.code,
        "message": message_of(&console.app.localizer, tr.lang(), e),
        "field": e.field,
    });
    (status, axum::Json(body)).into_response()
}

/// `POST /console/desk/preview`: the router's view of what the agent is typing, as JSON for the
/// desk's script (same origin, the session's cookie, its CSRF token in `x-csrf-token`). Nothing
/// is stored.
pub async fn preview(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<AgentDesk>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let csrf_ok =
        sent.is_some_and(|t| constant_time_eq(t.as_bytes(), visitor.session.csrf.as_bytes()));
    if !csrf_ok {
        let refused = DomainError::new(ErrorCode::Forbidden)
            .with_arg("role", visitor.user.role.as_str())
            .with_arg("action", "agent_desk");
        return json_error(&console, &tr, StatusCode::FORBIDDEN, &refused);
    }
    let typed: Typed = match serde_json::from_slice(&body) {
        Ok(t) => t,
        Err(e) => {
            let bad = DomainError::new(ErrorCode::InvalidJson).with_arg("detail", e.to_string());
            return json_error(&console, &tr, StatusCode::BAD_REQUEST, &bad);
        }
    };
    let actor = visitor.actor();
    let request = PreviewRequest {
        title: typed.title,
        body: typed.body,
        kind: typed.kind.parse().ok(),
        channel: Some(Channel::Hotline),
        phone: Some(typed.phone),
        uscc: Some(typed.uscc),
        address: Some(typed.address),
    };
    match route_preview(&console.app, &actor, request, tr.lang()).await {
        Ok(found) => {
            let summary = match (&found.unit, &found.matter) {
                _ if found.confidential => tr.t("desk-preview-confidential-route"),
                (Some(unit), Some(matter)) => tr.ta(
                    if found.dispatch {
                        "desk-preview-auto"
                    } else {
                        "desk-preview-manual"
                    },
                    &[
                        ("unit", unit.name.clone()),
                        ("matter", matter.name.clone()),
                        ("percent", percent(found.confidence)),
                    ],
                ),
                _ => tr.t("desk-preview-unplaced"),
            };
            let shown = ShownPreview {
                summary,
                suggestions: found
                    .suggestions
                    .iter()
                    .map(|s| ShownSuggestion {
                        label: format!("{} · {}", s.matter.name, s.unit.name),
                        percent: percent(s.probability),
                    })
                    .collect(),
                urgent: (!found.urgent_signals.is_empty()).then(|| {
                    tr.t1(
                        "desk-preview-urgent",
                        "signals",
                        found.urgent_signals.join("、"),
                    )
                }),
                confidential: found
                    .confidential
                    .then(|| tr.t("desk-preview-confidential")),
                duplicates: found
                    .duplicates
                    .iter()
                    .map(|d| ShownDuplicate {
                        href: format!("/console/desk/appeals/{}", form_urlencoded(&d.id)),
                        ticket: d.ticket_no.to_string(),
                        title: d.title.clone(),
                        status: tr.code("status", d.status.as_str()),
                        why: tr.code("desk-why", likeness(d.why)),
                    })
                    .collect(),
            };
            (
                [(axum::http::header::CACHE_CONTROL, "no-store")],
                axum::Json(shown),
            )
                .into_response()
        }
        Err(e) => json_error(&console, &tr, e.status(), &e.0),
    }
}

/// The code of a likeness, for its text.
fn likeness(why: Likeness) -> &'static str {
    match why {
        Likeness::SameAppellant => "same_appellant",
        Likeness::SimilarText => "similar_text",
        Likeness::SamePlace => "same_place",
    }
}

#[cfg(test)]
mod tests {
    use hotline_locales::{LANGUAGES, Localizer};
    use hotline_schemas::{Kind, Priority};
    use strum::IntoEnumIterator;

    /// The texts the desk, queue and submission pages name by code: every one in every
    /// language (the scan of `t("…")` does not see them).
    #[test]
    fn the_texts_named_by_code_exist_in_every_language() {
        let mut keys: Vec<String> = Kind::iter().map(|k| format!("desk-kind-{k}")).collect();
        keys.extend(Priority::iter().map(|p| format!("desk-priority-{p}")));
        keys.extend(
            ["same_appellant", "similar_text", "same_place"].map(|w| format!("desk-why-{w}")),
        );
        keys.extend(super::DONE.map(|d| format!("desk-done-{d}")));
        keys.extend(crate::pages::queue::DONE.map(|d| format!("queue-done-{d}")));
        keys.extend(
            [
                "title", "body", "kind", "name", "phone", "uscc", "address", "answer",
            ]
            .map(|f| format!("desk-field-{f}")),
        );
        keys.push("action-agent_desk".to_owned());
        keys.push("action-mailbox_queue".to_owned());
        let localizer = Localizer::new().unwrap();
        let missing: Vec<String> = LANGUAGES
            .iter()
            .flat_map(|lang| {
                keys.iter()
                    .filter(|k| !localizer.has(lang, k))
                    .map(move |k| format!("{lang}: {k}"))
            })
            .collect();
        assert!(missing.is_empty(), "texts missing: {missing:?}");
    }
}
