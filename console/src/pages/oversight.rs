//! Oversight (督办): the supervisors' and leaders' desk of escalated, owned and overdue cases
//! with how late each is, filtered by unit, status, matter and date and downloadable; one
//! case's whole history with the oversight actions (延期审批 for supervisors and admins, 包案
//! for leaders); the extensions waiting for approval; and the confidential desk of the mailbox
//! readers and the discipline office (书记信箱: the letters waiting to be placed and the late
//! confidential cases).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use hotline_gateway::access::{MailboxQueue, Oversight, Permission, Staff, forbidden};
use hotline_gateway::service::{self, execute, history, scope, view};
use hotline_schemas::appeal::mask;
use hotline_schemas::event::envelope::new_traceparent;
use hotline_schemas::value::unit::Unit;
use hotline_schemas::{Action, Actor, Appeal, Command, ErrorCode, Role, Status};
use serde::Deserialize;
use strum::IntoEnumIterator;

use crate::Console;
use crate::error::{Failure, form_urlencoded};
use crate::i18n::Tr;
use crate::pages::dashboard::{Cell, Format, Table, download, unit_label};
use crate::pages::history::{self, Step};
use crate::pages::{Chrome, MatterGroup, appellant_line, matter_groups, page};
use crate::session::{Posted, SignedIn};

/// The routes of the oversight pages.
pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/console/oversight", get(desk))
        .route("/console/oversight/export", get(export))
        .route("/console/oversight/mailbox", get(mailbox))
        .route("/console/oversight/appeals/{id}", get(case))
        .route("/console/oversight/appeals/{id}/{action}", post(act))
}

/// What a notice after an action may say.
const DONE: [&str; 2] = ["owned", "approved"];
/// Letters the confidential desk lists at once.
const LETTERS: u32 = 100;

/// The desk's filters, as its form sends them (empty: any).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filters {
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    matter: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
}

fn chosen(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn day(value: &Option<String>) -> Option<NaiveDate> {
    chosen(value).and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
}

impl Filters {
    fn keeps(&self, appeal: &Appeal, tz: chrono_tz::Tz) -> bool {
        let created = appeal.created_at.with_timezone(&tz).date_naive();
        chosen(&self.unit).is_none_or(|u| appeal.unit.as_deref() == Some(u))
            && chosen(&self.status).is_none_or(|s| appeal.status.as_str() == s)
            && chosen(&self.matter).is_none_or(|m| appeal.matter.as_deref() == Some(m))
            && day(&self.from).is_none_or(|d| created >= d)
            && day(&self.to).is_none_or(|d| created <= d)
    }

    /// The filters as a query string (for the downloads).
    fn query(&self) -> String {
        [
            ("unit", &self.unit),
            ("status", &self.status),
            ("matter", &self.matter),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter_map(|(name, value)| chosen(value).map(|v| format!("{name}={}", form_urlencoded(v))))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// How late, in words: "2 天 3 小时".
pub fn late_text(tr: &Tr, seconds: i64) -> String {
    let minutes = seconds / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let args = |pairs: &[(&'static str, i64)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    };
    if days > 0 {
        tr.ta("ov-late-days", &args(&[("days", days), ("hours", hours)]))
    } else if hours > 0 {
        tr.ta(
            "ov-late-hours",
            &args(&[("hours", hours), ("minutes", minutes)]),
        )
    } else {
        tr.t1("ov-late-minutes", "minutes", minutes)
    }
}

/// A case on the desk.
pub struct Watched {
    pub id: String,
    pub ticket: String,
    pub title: String,
    pub unit: String,
    pub status: String,
    /// 超期未办结, 超时未签收 or 包案.
    pub why: String,
    pub late: String,
    pub late_seconds: i64,
    pub level: String,
    pub owners: String,
    pub owned_by_me: bool,
    pub can_own: bool,
    pub pending_extension: bool,
    pub confidential: bool,
    pub created: String,
    /// Where its history is (the oversight case page, or the case page for those the desk is
    /// not for).
    pub href: String,
}

/// The escalation level in words ("—" below level 1).
fn level_text(tr: &Tr, appeal: &Appeal) -> String {
    let level = if appeal.sla.response_escalated {
        appeal.sla.level.max(2)
    } else {
        appeal.sla.level
    };
    match level {
        0 => "—".to_owned(),
        n => tr.code("ov-level", &n.min(3).to_string()),
    }
}

/// Whether `actor` may take the case now (包案): theirs to take, and not theirs yet.
fn may_own(actor: &Actor, appeal: &Appeal) -> bool {
    !appeal.is_owned_by(actor.user)
        && actor.authorize(Action::Own, appeal).is_ok()
        && hotline_schemas::command::transition(appeal.status, Action::Own).is_ok()
}

/// Whether `actor` may approve the appeal's pending extension now.
fn may_approve(actor: &Actor, appeal: &Appeal) -> bool {
    appeal.pending_extension.is_some()
        && actor.authorize(Action::ApproveExtension, appeal).is_ok()
        && hotline_schemas::command::transition(appeal.status, Action::ApproveExtension).is_ok()
}

fn watched(
    console: &Console,
    tr: &Tr,
    units: &[Unit],
    actor: &Actor,
    appeal: Appeal,
    now: DateTime<Utc>,
) -> Watched {
    let tz = console.app.tz();
    let late_seconds = appeal.late_seconds(now);
    let why = if appeal.is_overdue(now) {
        tr.t("ov-why-overdue")
    } else if late_seconds > 0 {
        tr.t("ov-why-unsigned")
    } else if !appeal.owners.is_empty() {
        tr.t("ov-why-owned")
    } else {
        tr.t("ov-why-escalated")
    };
    let owners = appeal
        .owners
        .iter()
        .map(|o| o.name.clone())
        .collect::<Vec<_>>()
        .join("、");
    let owned_by_me = appeal.is_owned_by(actor.user);
    let can_own = may_own(actor, &appeal);
    let href = if Oversight::allows(actor) {
        format!("/console/oversight/appeals/{}", appeal.id)
    } else {
        format!("/console/appeals/{}", appeal.id)
    };
    let level = level_text(tr, &appeal);
    let unit = appeal
        .unit
        .as_deref()
        .map(|u| unit_label(console, tr, units, u))
        .unwrap_or_default();
    let created = appeal
        .created_at
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let pending_extension = appeal.pending_extension.is_some();
    let confidential = appeal.confidential;
    let status = tr.code("status", appeal.status.as_str());
    let shown = view(&console.app, actor, appeal, None);
    Watched {
        id: shown.id,
        ticket: shown.ticket_no.to_string(),
        title: shown.title,
        unit,
        status,
        why,
        late: if late_seconds > 0 {
            late_text(tr, late_seconds)
        } else {
            "—".to_owned()
        },
        late_seconds,
        level,
        owners,
        owned_by_me,
        can_own,
        pending_extension,
        confidential,
        created,
        href,
    }
}

/// The cases on `actor`'s desk, the latest first: overdue, unsigned past the response
/// deadline, and (a leader's) owned, within their scope.
async fn desk_cases(console: &Console, actor: &Actor) -> Result<Vec<Appeal>, Failure> {
    let now = console.app.now();
    let owner = actor.user.filter(|_| actor.role == Role::Leader);
    let mut cases = console
        .app
        .store
        .oversight(owner, now, &scope(actor))
        .await?;
    cases.sort_by_key(|a| std::cmp::Reverse(a.late_seconds(now)));
    Ok(cases)
}

/// An option of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// An extension waiting for approval.
pub struct Extension {
    pub id: String,
    pub ticket: String,
    pub title: String,
    pub unit: String,
    pub asked: String,
    pub reason: String,
    pub requested: String,
    pub due: String,
    pub can_approve: bool,
}

#[derive(Template)]
#[template(path = "oversight.html")]
struct DeskPage {
    chrome: Chrome,
    notice: Option<String>,
    cases: Vec<Watched>,
    total: usize,
    units: Vec<Choice>,
    statuses: Vec<Choice>,
    matters: Vec<MatterGroup>,
    from: String,
    to: String,
    csv: String,
    xlsx: String,
    extensions: Vec<Extension>,
    /// Supervisors and admins approve extensions: the section is theirs.
    approves: bool,
    /// The confidential desk, for those who have it.
    confidential_desk: bool,
}

fn unit_choices(console: &Console, tr: &Tr, units: &[Unit], selected: Option<&str>) -> Vec<Choice> {
    let mut out: Vec<Choice> = units
        .iter()
        .map(|u| Choice {
            value: u.code.to_string(),
            label: unit_label(console, tr, units, &u.code),
            selected: selected == Some(u.code.as_str()),
        })
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

fn extension_of(
    console: &Console,
    tr: &Tr,
    units: &[Unit],
    actor: &Actor,
    appeal: Appeal,
) -> Option<Extension> {
    let tz = console.app.tz();
    let pending = appeal.pending_extension.clone()?;
    let asked = match (pending.days, pending.hours) {
        (Some(d), _) => tr.t1("ov-limit-days", "n", d),
        (None, Some(h)) => tr.t1("ov-limit-hours", "n", h),
        (None, None) => "—".to_owned(),
    };
    let reason = if actor.sees_personal_data(&appeal) {
        pending.reason.clone()
    } else {
        mask::text(&pending.reason, &appeal.person_names())
    };
    let can_approve = may_approve(actor, &appeal);
    let unit = appeal
        .unit
        .as_deref()
        .map(|u| unit_label(console, tr, units, u))
        .unwrap_or_default();
    let due = appeal
        .deadlines
        .resolve_due
        .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let shown = view(&console.app, actor, appeal, None);
    Some(Extension {
        id: shown.id,
        ticket: shown.ticket_no.to_string(),
        title: shown.title,
        unit,
        asked,
        reason,
        requested: format!(
            "{} · {}",
            pending
                .requested_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M"),
            pending.requested_by
        ),
        due,
        can_approve,
    })
}

/// Whether `actor` has the confidential desk: mailbox readers, admins and the discipline
/// office's staff.
fn has_confidential_desk(console: &Console, actor: &Actor) -> bool {
    MailboxQueue::allows(actor) || console.app.is_discipline_office(actor)
}

/// The notice after an action (`?done=owned&ticket=…`).
fn notice_of(tr: &Tr, filters: &Filters) -> Option<String> {
    match (filters.done.as_deref(), filters.ticket.as_deref()) {
        (Some(done), Some(ticket)) if DONE.contains(&done) => {
            Some(tr.t1(&format!("ov-done-{done}"), "ticket", ticket))
        }
        _ => None,
    }
}

/// `GET /console/oversight`: the desk.
pub async fn desk(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<Oversight>,
    Query(filters): Query<Filters>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let now = console.app.now();
    let tz = console.app.tz();
    let units = console.app.store.units().await?;
    let cases: Vec<Watched> = desk_cases(&console, &actor)
        .await?
        .into_iter()
        .filter(|a| filters.keeps(a, tz))
        .map(|a| watched(&console, &tr, &units, &actor, a, now))
        .collect();
    let approves = matches!(actor.role, Role::Supervisor | Role::Admin);
    let extensions = if approves {
        console
            .app
            .store
            .pending_extensions(&scope(&actor))
            .await?
            .into_iter()
            .filter_map(|a| extension_of(&console, &tr, &units, &actor, a))
            .collect()
    } else {
        Vec::new()
    };
    let query = filters.query();
    let link = |format: &str| {
        if query.is_empty() {
            format!("/console/oversight/export?format={format}")
        } else {
            format!("/console/oversight/export?format={format}&{query}")
        }
    };
    let statuses = Status::iter()
        .filter(|s| s.is_open())
        .map(|s| Choice {
            value: s.as_str().to_owned(),
            label: tr.code("status", s.as_str()),
            selected: chosen(&filters.status) == Some(s.as_str()),
        })
        .collect();
    page(&DeskPage {
        notice: notice_of(&tr, &filters),
        total: cases.len(),
        cases,
        units: unit_choices(&console, &tr, &units, chosen(&filters.unit)),
        statuses,
        matters: {
            let chosen = chosen(&filters.matter);
            matter_groups(&console, &tr, |m| chosen == Some(m))
        },
        from: day(&filters.from)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        to: day(&filters.to).map(|d| d.to_string()).unwrap_or_default(),
        csv: link("csv"),
        xlsx: link("xlsx"),
        extensions,
        approves,
        confidential_desk: has_confidential_desk(&console, &actor),
        chrome: Chrome::staff(tr, &visitor, "/console/oversight"),
    })
}

/// The desk's cases as a table, for a download.
fn cases_table(tr: &Tr, cases: &[Watched]) -> Table {
    Table {
        id: "oversight",
        title: tr.t("ov-title"),
        headers: vec![
            tr.t("col-ticket"),
            tr.t("col-title"),
            tr.t("ov-col-unit"),
            tr.t("col-status"),
            tr.t("ov-col-why"),
            tr.t("ov-col-late"),
            tr.t("ov-col-late-hours"),
            tr.t("ov-col-level"),
            tr.t("ov-col-owners"),
            tr.t("ov-col-created"),
        ],
        rows: cases
            .iter()
            .map(|c| {
                vec![
                    Cell::Text(c.ticket.clone()),
                    Cell::Text(c.title.clone()),
                    Cell::Text(c.unit.clone()),
                    Cell::Text(c.status.clone()),
                    Cell::Text(c.why.clone()),
                    Cell::Text(c.late.clone()),
                    Cell::Num(Some(c.late_seconds as f64 / 3600.0)),
                    Cell::Text(c.level.clone()),
                    Cell::Text(c.owners.clone()),
                    Cell::Text(c.created.clone()),
                ]
            })
            .collect(),
    }
}

/// `GET /console/oversight/export?format=csv|xlsx&…filters`: the desk's cases as a file,
/// masked as on the page.
pub async fn export(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<Oversight>,
    Query(filters): Query<Filters>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let format = Format::parse(filters.format.as_deref())?;
    let now = console.app.now();
    let tz = console.app.tz();
    let units = console.app.store.units().await?;
    let cases: Vec<Watched> = desk_cases(&console, &actor)
        .await?
        .into_iter()
        .filter(|a| filters.keeps(a, tz))
        .map(|a| watched(&console, &tr, &units, &actor, a, now))
        .collect();
    let today = now.with_timezone(&tz).date_naive();
    download(
        &cases_table(&tr, &cases),
        format,
        &format!("oversight-{today}"),
    )
}

/// A letter waiting to be placed, on the confidential desk.
pub struct Letter {
    pub id: String,
    pub ticket: String,
    pub title: String,
    pub status: String,
    pub waiting: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "oversight_mailbox.html")]
struct MailboxPage {
    chrome: Chrome,
    letters: Vec<Letter>,
    waiting_total: i64,
    cases: Vec<Watched>,
    /// Letters are placed on the dispatcher's page for confidential appeals.
    places: bool,
}

/// `GET /console/oversight/mailbox`: the confidential desk (书记信箱) of the mailbox readers and
/// the discipline office: letters waiting to be placed, oldest first, and the late or owned
/// confidential cases; 403 for everyone else.
pub async fn mailbox(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<Staff>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    if !has_confidential_desk(&console, &actor) {
        return Err(Failure::Api(forbidden(&actor, MailboxQueue::NAME)));
    }
    let now = console.app.now();
    let units = console.app.store.units().await?;
    let (queued, waiting_total) = service::waiting(&console.app, &actor, true, 1, LETTERS).await?;
    let letters = queued
        .into_iter()
        .map(|q| Letter {
            id: q.appeal.id.clone(),
            ticket: q.appeal.ticket_no.to_string(),
            title: q.appeal.title.clone(),
            status: tr.code("status", q.appeal.status.as_str()),
            waiting: late_text(&tr, q.waiting_seconds),
            overdue: q.dispatch_overdue,
        })
        .collect();
    let owner = actor.user.filter(|_| actor.role == Role::Leader);
    let mut confidential: Vec<Appeal> = console
        .app
        .store
        .oversight(owner, now, &scope(&actor))
        .await?
        .into_iter()
        .filter(|a| a.confidential)
        .collect();
    confidential.sort_by_key(|a| std::cmp::Reverse(a.late_seconds(now)));
    let cases = confidential
        .into_iter()
        .map(|a| watched(&console, &tr, &units, &actor, a, now))
        .collect();
    page(&MailboxPage {
        letters,
        waiting_total,
        cases,
        places: MailboxQueue::allows(&actor),
        chrome: Chrome::staff(tr, &visitor, "/console/oversight"),
    })
}

/// A fact of the case page.
pub struct Fact {
    pub label: String,
    pub value: String,
    pub id: &'static str,
}

#[derive(Template)]
#[template(path = "oversight_case.html")]
struct CasePage {
    chrome: Chrome,
    notice: Option<String>,
    id: String,
    ticket: String,
    title: String,
    body: String,
    facts: Vec<Fact>,
    owned_by_me: bool,
    can_own: bool,
    extension: Option<Extension>,
    steps: Vec<Step>,
}

/// `GET /console/oversight/appeals/{id}`: one case for oversight: its time limits, owners and
/// pending extension, its whole history, and the actions the visitor may take.
pub async fn case(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<Oversight>,
    Path(id): Path<String>,
    Query(filters): Query<Filters>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let appeal = service::load_visible(&console.app, &actor, &id).await?;
    let events = history(&console.app, &appeal).await?;
    let now = console.app.now();
    let tz = console.app.tz();
    let units = console.app.store.units().await?;
    let taxonomy = console.app.taxonomy();
    let at = |d: Option<DateTime<Utc>>| {
        d.map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "—".to_owned())
    };
    let late = appeal.late_seconds(now);
    let mut facts = vec![
        Fact {
            id: "status",
            label: tr.t("col-status"),
            value: tr.code("status", appeal.status.as_str()),
        },
        Fact {
            id: "channel",
            label: tr.t("ov-col-channel"),
            value: tr.code("ov-channel", appeal.channel.as_str()),
        },
        Fact {
            id: "kind",
            label: tr.t("ov-col-kind"),
            value: tr.code("ov-kind", appeal.kind.as_str()),
        },
        Fact {
            id: "priority",
            label: tr.t("ov-col-priority"),
            value: tr.code("ov-priority", appeal.priority.as_str()),
        },
        Fact {
            id: "unit",
            label: tr.t("ov-col-unit"),
            value: appeal
                .unit
                .as_deref()
                .map(|u| unit_label(&console, &tr, &units, u))
                .unwrap_or_else(|| "—".to_owned()),
        },
        Fact {
            id: "matter",
            label: tr.t("ov-col-matter"),
            value: appeal
                .matter
                .as_deref()
                .and_then(|m| taxonomy.matter(m))
                .map(|m| {
                    if tr.lang().starts_with("en") {
                        m.name_en.clone()
                    } else {
                        m.name.clone()
                    }
                })
                .unwrap_or_else(|| "—".to_owned()),
        },
        Fact {
            id: "created",
            label: tr.t("ov-col-created"),
            value: at(Some(appeal.created_at)),
        },
        Fact {
            id: "response-due",
            label: tr.t("due-response"),
            value: at(appeal.deadlines.response_due),
        },
        Fact {
            id: "resolve-due",
            label: tr.t("due-resolve"),
            value: at(appeal.deadlines.resolve_due),
        },
    ];
    if appeal.deadlines.original_resolve_due.is_some()
        && appeal.deadlines.original_resolve_due != appeal.deadlines.resolve_due
    {
        facts.push(Fact {
            id: "original-due",
            label: tr.t("ov-col-original-due"),
            value: at(appeal.deadlines.original_resolve_due),
        });
    }
    facts.push(Fact {
        id: "late",
        label: tr.t("ov-col-late"),
        value: if late > 0 {
            late_text(&tr, late)
        } else {
            "—".to_owned()
        },
    });
    facts.push(Fact {
        id: "level",
        label: tr.t("ov-col-level"),
        value: level_text(&tr, &appeal),
    });
    let owners = appeal
        .owners
        .iter()
        .map(|o| o.name.clone())
        .collect::<Vec<_>>()
        .join("、");
    facts.push(Fact {
        id: "owners",
        label: tr.t("ov-col-owners"),
        value: if owners.is_empty() {
            "—".to_owned()
        } else {
            owners
        },
    });
    if appeal.confidential {
        facts.push(Fact {
            id: "confidential",
            label: tr.t("ov-col-confidential"),
            value: tr.t("ov-confidential"),
        });
    }
    let owned_by_me = appeal.is_owned_by(actor.user);
    let can_own = may_own(&actor, &appeal);
    let extension = extension_of(&console, &tr, &units, &actor, appeal.clone());
    let shown = view(&console.app, &actor, appeal, Some(events));
    facts.push(Fact {
        id: "appellant",
        label: tr.t("case-appellant"),
        value: appellant_line(&shown.appellant),
    });
    facts.push(Fact {
        id: "address",
        label: tr.t("case-address"),
        value: shown
            .location
            .address
            .clone()
            .unwrap_or_else(|| "—".to_owned()),
    });
    let steps = history::steps(&console, &tr, &units, shown.events.as_deref());
    page(&CasePage {
        notice: notice_of(&tr, &filters),
        id: shown.id,
        ticket: shown.ticket_no.to_string(),
        title: shown.title,
        body: shown.body,
        facts,
        owned_by_me,
        can_own,
        extension,
        steps,
        chrome: Chrome::staff(tr, &visitor, "/console/oversight"),
    })
}

/// What an oversight action's form may carry besides its token.
#[derive(Debug, Default, Deserialize)]
pub struct ActForm {
    /// `list`: back to the desk, else to the case.
    #[serde(default)]
    back: Option<String>,
}

/// `POST /console/oversight/appeals/{id}/own` (包案, a leader) or `…/approve-extension`
/// (延期审批, a supervisor or admin): the command through the same checks as the API's, then
/// the desk or the case again with a notice.
pub async fn act(
    State(console): State<Arc<Console>>,
    Path((id, action)): Path<(String, String)>,
    Posted(visitor, form, ..): Posted<Oversight, ActForm>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let (command, done) = match action.as_str() {
        "own" => (Command::Own, "owned"),
        "approve-extension" => (Command::ApproveExtension, "approved"),
        _ => return Err(Failure::Api(ErrorCode::UnknownAction.into())),
    };
    let appeal = service::prepare(&console.app, &actor, &id, command.action()).await?;
    let (appeal, _) = execute(&console.app, &actor, &appeal, command, new_traceparent()).await?;
    let ticket = form_urlencoded(appeal.ticket_no.as_ref());
    let back = if form.back.as_deref() == Some("list") {
        format!("/console/oversight?done={done}&ticket={ticket}")
    } else {
        format!("/console/oversight/appeals/{id}?done={done}&ticket={ticket}")
    };
    Ok(Redirect::to(&back).into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use hotline_locales::{LANGUAGES, Localizer};
    use hotline_schemas::{Channel, Kind, Priority};
    use strum::IntoEnumIterator;

    /// The texts the pages name by a code (`tr.code`, notices) exist in every language.
    #[test]
    fn the_texts_named_by_code_exist_in_every_language() {
        let mut keys: Vec<String> = Channel::iter().map(|c| format!("ov-channel-{c}")).collect();
        keys.extend(Kind::iter().map(|k| format!("ov-kind-{k}")));
        keys.extend(Priority::iter().map(|p| format!("ov-priority-{p}")));
        keys.extend((1..=3).map(|n| format!("ov-level-{n}")));
        keys.extend(super::DONE.map(|d| format!("ov-done-{d}")));
        keys.extend(["dash-range-invalid", "dash-range-too-long"].map(String::from));
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

    #[test]
    fn lateness_reads_in_days_hours_and_minutes() {
        let tr = crate::i18n::Tr::new(std::sync::Arc::new(Localizer::new().unwrap()), "zh-CN");
        assert_eq!(
            super::late_text(&tr, 2 * 86400 + 3 * 3600 + 59),
            "2 天 3 小时"
        );
        assert_eq!(super::late_text(&tr, 3600 + 5 * 60), "1 小时 5 分钟");
        let en = crate::i18n::Tr::new(std::sync::Arc::new(Localizer::new().unwrap()), "en-US");
        assert_eq!(super::late_text(&en, 59 * 60), "59 min");
    }
}
