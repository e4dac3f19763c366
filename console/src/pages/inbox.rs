//! The unit's inbox (承办单位): what the unit holds, the most urgent deadline first, and one case
//! with the actions its staff take (accept, return, reply).

use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use hotline_gateway::access::{AnyCaller, UnitInbox};
use hotline_gateway::service::{self, execute, history, scope, view};
use hotline_schemas::event::envelope::new_traceparent;
use hotline_schemas::{Action, Appeal, Command, Status};
use hotline_store::AppealFilter;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::Console;
use crate::error::Failure;
use crate::i18n::Tr;
use crate::pages::{Chrome, appellant_line, history, page};
use crate::session::{Posted, SignedIn};

/// Appeals one inbox page shows.
const INBOX_SIZE: u32 = 100;

/// One appeal in a list, with its next deadline.
pub struct Row {
    pub id: String,
    pub ticket: String,
    pub title: String,
    pub status: String,
    /// The deadline that counts now: signing for it, else resolving it.
    pub due: Option<Due>,
}

/// A deadline as a page shows it: the local time, and the instant for the live countdown.
pub struct Due {
    pub what: String,
    pub local: String,
    pub iso: String,
    pub late: bool,
}

impl Row {
    fn of(tr: &Tr, appeal: &Appeal, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Row {
        let waiting = matches!(appeal.status, Status::Dispatched | Status::Reopened);
        let due = if waiting {
            appeal.deadlines.response_due.map(|at| ("due-response", at))
        } else {
            appeal.deadlines.resolve_due.map(|at| ("due-resolve", at))
        };
        Row {
            id: appeal.id.to_string(),
            ticket: appeal.ticket_no.to_string(),
            title: appeal.title.clone(),
            status: tr.code("status", appeal.status.as_str()),
            due: due
                .filter(|_| appeal.status.is_open())
                .map(|(key, at)| Due {
                    what: tr.t(key),
                    local: at.with_timezone(&tz).format("%m-%d %H:%M").to_string(),
                    iso: at.to_rfc3339(),
                    late: at < now,
                }),
        }
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    rows: Vec<Row>,
    /// Open appeals of the unit in all (the page shows the first [`INBOX_SIZE`]).
    total: i64,
}

/// `GET /console/inbox`: the unit's open appeals, the nearest deadline first.
pub async fn inbox(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<UnitInbox>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let filter = AppealFilter {
        unit: actor.unit.clone(),
        open_by_deadline: true,
        page: 1,
        per_page: INBOX_SIZE,
        ..AppealFilter::default()
    };
    let listed = console.app.store.list(&filter, &scope(&actor)).await?;
    let now = console.app.now();
    let appeals = listed.appeals;
    let rows = appeals
        .iter()
        .map(|a| Row::of(&tr, a, now, console.app.tz()))
        .collect();
    page(&InboxPage {
        chrome: Chrome::staff(tr, &visitor, "/console/inbox"),
        rows,
        total: listed.total,
    })
}

/// `GET /console/inbox/events`: server-sent events for the unit's new arrivals (dispatched or
/// reassigned to it), fed from the bus so that they work with several gateways. Each carries
/// the appeal's id only; a page that falls behind is told to reload.
pub async fn events(
    State(console): State<Arc<Console>>,
    SignedIn(visitor, ..): SignedIn<UnitInbox>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let unit = visitor.user.unit.clone().unwrap_or_default();
    let arrivals = [
        format!("appeal.dispatched.{unit}"),
        format!("appeal.reassigned.{unit}"),
    ];
    let live = console.live.subscribe();
    let stopping = console.stopping.clone();
    let stream = futures_util::stream::unfold(live, move |mut live| {
        let arrivals = arrivals.clone();
        let stopping = stopping.clone();
        async move {
            loop {
                let next = tokio::select! {
                    () = stopping.cancelled() => return None,
                    next = live.recv() => next,
                };
                let event = match next {
                    Ok(change) if arrivals.contains(&change.routing_key) => Event::default()
                        .event("arrival")
                        .data(change.appeal.to_string()),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => Event::default().event("reload").data("lagged"),
                    Err(RecvError::Closed) => return None,
                };
                return Some((Ok(event), live));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    row: Row,
    body: String,
    appellant: String,
    address: String,
    steps: Vec<history::Step>,
    can_accept: bool,
    can_reply: bool,
    can_return: bool,
}

/// `GET /console/appeals/{id}`: one case as the visitor may see it (404 when they may not).
pub async fn case(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<AnyCaller>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let appeal = service::load_visible(&console.app, &actor, &id).await?;
    let events = history(&console.app, &appeal).await?;
    let may = |action: Action| {
        actor.authorize(action, &appeal).is_ok()
            && hotline_schemas::command::transition(appeal.status, action).is_ok()
    };
    let (can_accept, can_reply, can_return) =
        (may(Action::Accept), may(Action::Reply), may(Action::Return));
    let row = Row::of(&tr, &appeal, console.app.now(), console.app.tz());
    let shown = view(&console.app, &actor, appeal, Some(events));
    let units = console.app.store.units().await?;
    let steps = history::steps(&console, &tr, &units, shown.events.as_deref());
    page(&CasePage {
        chrome: Chrome::staff(tr, &visitor, "/console/inbox"),
        row,
        body: shown.body,
        appellant: appellant_line(&shown.appellant),
        address: shown.location.address.clone().unwrap_or_default(),
        steps,
        can_accept,
        can_reply,
        can_return,
    })
}

/// What a unit's action form may carry.
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /console/appeals/{id}/{action}`: accept, return (with a reason) or reply (with the
/// result); then the case again.
pub async fn act(
    State(console): State<Arc<Console>>,
    Path((id, action)): Path<(String, String)>,
    Posted(visitor, form, ..): Posted<AnyCaller, ActionForm>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let text = |value: Option<String>| value.unwrap_or_default().trim().to_owned();
    let command = match action.as_str() {
        "accept" => Command::Accept,
        "return" => Command::Return {
            reason: text(form.reason),
        },
        "reply" => Command::Reply {
            result: text(form.result),
        },
        _ => {
            return Err(Failure::Api(
                hotline_schemas::ErrorCode::UnknownAction.into(),
            ));
        }
    };
    let appeal = service::prepare(&console.app, &actor, &id, command.action()).await?;
    execute(&console.app, &actor, &appeal, command, new_traceparent()).await?;
    let back = if action == "return" {
        "/console/inbox".to_owned()
    } else {
        format!("/console/appeals/{id}")
    };
    Ok(Redirect::to(&back).into_response())
}
