//! The dispatcher's queue (派单): what the router could not place with confidence and what units
//! returned, oldest first, each with the router's top suggestions and a probable duplicate; on
//! a case, dispatch (派单, the unit and matter preselected from the top suggestion), reassign
//! (改派), merge into the duplicate (合并) and void (作废). Mailbox readers have the
//! confidential queue of their own (书记信箱).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hotline_gateway::access::{AnyCaller, DispatchQueue, MailboxQueue, Permission, forbidden};
use hotline_gateway::service::{self, QueuedAppeal, execute, history, scope, view};
use hotline_schemas::event::envelope::new_traceparent;
use hotline_schemas::{Action, Actor, Appeal, AppealId, Command, DomainError, ErrorCode, Status};
use serde::Deserialize;

use crate::Console;
use crate::error::{Failure, form_urlencoded};
use crate::i18n::Tr;
use crate::pages::desk::{matter_name, percent, unit_name};
use crate::pages::{Chrome, MatterGroup, appellant_line, history, matter_groups, page};
use crate::session::{Posted, SignedIn, Visitor};

/// Appeals one page of the queue shows.
const PAGE_SIZE: u32 = 50;
/// What a notice after an action may say.
pub const DONE: [&str; 4] = ["dispatched", "reassigned", "merged", "voided"];

/// The routes of the queue.
pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/console/queue", get(dispatch_queue))
        .route("/console/queue/mailbox", get(mailbox_queue))
        .route("/console/queue/appeals/{id}", get(case))
        .route("/console/queue/appeals/{id}/{action}", post(act))
}

/// A suggestion of the router, as the queue shows it.
pub struct Shown {
    pub matter: String,
    pub matter_name: String,
    pub unit: String,
    pub unit_name: String,
    pub percent: String,
}

/// An appeal in the queue.
pub struct Row {
    pub id: String,
    pub ticket: String,
    pub title: String,
    pub status: String,
    pub returned: bool,
    pub urgent: bool,
    pub due_local: String,
    pub due_iso: String,
    pub overdue: bool,
    pub waited: String,
    pub suggestions: Vec<Shown>,
    /// The probable duplicate: its id and ticket number.
    pub duplicate: Option<(String, String)>,
}

fn shown_suggestions(
    console: &Console,
    tr: &Tr,
    list: &[hotline_schemas::Suggestion],
) -> Vec<Shown> {
    list.iter()
        .map(|s| Shown {
            matter: s.matter.to_string(),
            matter_name: matter_name(console, tr, &s.matter),
            unit: s.unit.to_string(),
            unit_name: unit_name(console, tr, &s.unit),
            percent: percent(s.probability),
        })
        .collect()
}

/// The ticket number of the duplicate `id`, when `actor` may see it.
async fn duplicate_of(
    console: &Console,
    actor: &Actor,
    id: Option<&str>,
) -> Result<Option<(String, String)>, Failure> {
    let Some(id) = id.and_then(|i| i.parse::<AppealId>().ok()) else {
        return Ok(None);
    };
    Ok(console
        .app
        .store
        .appeal_in(id, &scope(actor))
        .await?
        .map(|a| (a.id.to_string(), a.ticket_no.to_string())))
}

async fn row_of(
    console: &Console,
    tr: &Tr,
    actor: &Actor,
    queued: QueuedAppeal,
) -> Result<Row, Failure> {
    let a = queued.appeal;
    Ok(Row {
        duplicate: duplicate_of(console, actor, a.duplicate_of.as_deref()).await?,
        suggestions: shown_suggestions(console, tr, &a.suggestions),
        id: a.id,
        ticket: a.ticket_no.to_string(),
        title: a.title,
        status: tr.code("status", a.status.as_str()),
        returned: a.status == Status::Returned,
        urgent: a.priority == hotline_schemas::Priority::Urgent,
        due_local: queued.dispatch_due.format("%m-%d %H:%M").to_string(),
        due_iso: queued.dispatch_due.to_rfc3339(),
        overdue: queued.dispatch_overdue,
        waited: tr.t1("queue-waited", "minutes", queued.waiting_seconds / 60),
    })
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    mailbox: bool,
    /// The visitor reads the other queue too.
    other: Option<(&'static str, String)>,
    notice: Option<String>,
    rows: Vec<Row>,
    total: i64,
    page: u32,
    pages: u32,
}

#[derive(Deserialize)]
pub struct Listing {
    #[serde(default)]
    page: Option<u32>,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
}

/// `GET /console/queue`: the dispatchers' queue.
pub async fn dispatch_queue(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<DispatchQueue>,
    Query(listing): Query<Listing>,
) -> Result<Response, Failure> {
    queue_page(&console, tr, &visitor, false, listing).await
}

/// `GET /console/queue/mailbox`: the mailbox readers' queue of confidential appeals.
pub async fn mailbox_queue(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<MailboxQueue>,
    Query(listing): Query<Listing>,
) -> Result<Response, Failure> {
    queue_page(&console, tr, &visitor, true, listing).await
}

async fn queue_page(
    console: &Console,
    tr: Tr,
    visitor: &Visitor,
    mailbox: bool,
    listing: Listing,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let page_no = listing.page.unwrap_or(1).max(1);
    let (queued, total) =
        service::waiting(&console.app, &actor, mailbox, page_no, PAGE_SIZE).await?;
    let mut rows = Vec::with_capacity(queued.len());
    for q in queued {
        rows.push(row_of(console, &tr, &actor, q).await?);
    }
    let notice = match (listing.done.as_deref(), listing.ticket) {
        (Some(done), Some(ticket)) if DONE.contains(&done) => {
            Some(tr.t1(&format!("queue-done-{done}"), "ticket", ticket))
        }
        _ => None,
    };
    let other = if mailbox {
        DispatchQueue::allows(&actor).then(|| ("/console/queue", tr.t("queue-title")))
    } else {
        MailboxQueue::allows(&actor)
            .then(|| ("/console/queue/mailbox", tr.t("queue-mailbox-title")))
    };
    let per_page = i64::from(PAGE_SIZE);
    let pages = u32::try_from((total.max(1) + per_page - 1) / per_page).unwrap_or(1);
    page(&QueuePage {
        chrome: Chrome::staff(tr, visitor, "/console/queue"),
        mailbox,
        other,
        notice,
        rows,
        total,
        page: page_no,
        pages,
    })
}

/// A unit in the dispatch form.
struct UnitChoice {
    code: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "queue_case.html")]
struct CasePage {
    chrome: Chrome,
    id: String,
    ticket: String,
    title: String,
    status: String,
    kind: String,
    body: String,
    appellant: String,
    address: String,
    unit: String,
    suggestions: Vec<Shown>,
    duplicate: Option<(String, String)>,
    /// `dispatch` or `reassign`, when the visitor may place it now.
    assign: Option<&'static str>,
    units: Vec<UnitChoice>,
    groups: Vec<MatterGroup>,
    can_merge: bool,
    can_void: bool,
    steps: Vec<history::Step>,
    back: &'static str,
}

/// Whether `actor` may take `action` on `appeal` now.
fn may(actor: &Actor, appeal: &Appeal, action: Action) -> bool {
    actor.authorize(action, appeal).is_ok()
        && hotline_schemas::command::transition(appeal.status, action).is_ok()
}

/// `GET /console/queue/appeals/{id}`: one case of a queue with the dispatcher's actions, for
/// those who work a queue.
pub async fn case(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<AnyCaller>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    if !(DispatchQueue::allows(&actor) || MailboxQueue::allows(&actor)) {
        return Err(Failure::Api(forbidden(&actor, DispatchQueue::NAME)));
    }
    let appeal = service::load_visible(&console.app, &actor, &id).await?;
    let events = history(&console.app, &appeal).await?;
    let assign = if appeal.status == Status::Received && may(&actor, &appeal, Action::Dispatch) {
        Some("dispatch")
    } else if may(&actor, &appeal, Action::Reassign) {
        Some("reassign")
    } else {
        None
    };
    let can_merge = appeal.duplicate_of.is_some() && may(&actor, &appeal, Action::Merge);
    let can_void = may(&actor, &appeal, Action::Void);
    let duplicate = duplicate_of(
        &console,
        &actor,
        appeal.duplicate_of.map(|d| d.to_string()).as_deref(),
    )
    .await?;
    // Preselected: the best suggestion of another unit than the one that has it now. A
    // confidential complaint is never sent to the unit it accuses: that one is not offered.
    let current = appeal
        .unit
        .clone()
        .filter(|_| appeal.status != Status::Received);
    let accused = appeal.subject_unit.as_ref();
    let best = appeal
        .suggestions
        .iter()
        .find(|s| Some(&s.unit) != current.as_ref() && Some(&s.unit) != accused);
    let stored_units = console.app.store.units().await?;
    let units = stored_units
        .iter()
        .filter(|u| Some(&u.code) != accused)
        .cloned()
        .map(|u| {
            // Units the taxonomy does not name (the demo units) by their own name.
            let named = unit_name(&console, &tr, &u.code);
            UnitChoice {
                selected: best.is_some_and(|s| s.unit == u.code),
                name: if named == u.code.as_str() {
                    u.name
                } else {
                    named
                },
                code: u.code.to_string(),
            }
        })
        .collect();
    let groups = matter_groups(&console, &tr, |m| best.is_some_and(|s| s.matter == m));
    let status = tr.code("status", appeal.status.as_str());
    let back = if appeal.confidential {
        "/console/queue/mailbox"
    } else {
        "/console/queue"
    };
    let shown = view(&console.app, &actor, appeal, Some(events));
    let steps = history::steps(&console, &tr, &stored_units, shown.events.as_deref());
    page(&CasePage {
        id: shown.id.clone(),
        ticket: shown.ticket_no.to_string(),
        title: shown.title.clone(),
        status,
        kind: tr.code("desk-kind", shown.kind.as_str()),
        body: shown.body.clone(),
        appellant: appellant_line(&shown.appellant),
        address: shown.location.address.clone().unwrap_or_default(),
        unit: shown
            .unit
            .as_deref()
            .map(|u| unit_name(&console, &tr, u))
            .unwrap_or_default(),
        suggestions: shown_suggestions(&console, &tr, &shown.suggestions),
        duplicate,
        assign,
        units,
        groups,
        can_merge,
        can_void,
        steps,
        back,
        chrome: Chrome::staff(tr, &visitor, "/console/queue"),
    })
}

/// What the queue's forms may carry.
#[derive(Deserialize)]
pub struct QueueForm {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    matter: String,
    #[serde(default)]
    into: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/queue/appeals/{id}/{action}`: dispatch or reassign (unit, optional matter),
/// merge (into the duplicate), void (with a reason); then the queue, saying what was done. Who
/// may is the appeal's own rule, as in the API.
pub async fn act(
    State(console): State<Arc<Console>>,
    Path((id, action)): Path<(String, String)>,
    Posted(visitor, form, ..): Posted<AnyCaller, QueueForm>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let action = match action.as_str() {
        "dispatch" => Action::Dispatch,
        "reassign" => Action::Reassign,
        "merge" => Action::Merge,
        "void" => Action::Void,
        other => {
            return Err(Failure::Api(
                DomainError::new(ErrorCode::UnknownAction)
                    .with_arg("action", other.to_owned())
                    .into(),
            ));
        }
    };
    let appeal = service::prepare(&console.app, &actor, &id, action).await?;
    let unit = || form.unit.trim().to_owned();
    let matter = || Some(form.matter.trim().to_owned()).filter(|m| !m.is_empty());
    let command = match action {
        Action::Dispatch | Action::Reassign if unit().is_empty() => {
            return Err(Failure::Api(
                DomainError::new(ErrorCode::EmptyField)
                    .with_field("unit")
                    .into(),
            ));
        }
        Action::Dispatch => Command::Dispatch {
            unit: unit().into(),
            matter: matter().map(Into::into),
        },
        Action::Reassign => Command::Reassign {
            unit: unit().into(),
            matter: matter().map(Into::into),
        },
        Action::Merge => {
            let into = form.into.trim().parse::<AppealId>().map_err(|_| {
                Failure::Api(
                    DomainError::new(ErrorCode::InvalidValue)
                        .with_field("into")
                        .with_arg("detail", format!(": {}", form.into.trim()))
                        .into(),
                )
            })?;
            service::merge_into(&console.app, &actor, into).await?
        }
        _ => Command::Void {
            reason: form.reason.trim().to_owned(),
        },
    };
    let done = match action {
        Action::Dispatch => "dispatched",
        Action::Reassign => "reassigned",
        Action::Merge => "merged",
        _ => "voided",
    };
    execute(&console.app, &actor, &appeal, command, new_traceparent()).await?;
    let back = if appeal.confidential {
        "/console/queue/mailbox"
    } else {
        "/console/queue"
    };
    let to = format!(
        "{back}?done={done}&ticket={}",
        form_urlencoded(appeal.ticket_no.as_str())
    );
    Ok(Redirect::to(&to).into_response())
}
