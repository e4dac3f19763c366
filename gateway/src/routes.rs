//! The v1 API handlers: thin, they check access, parse input and hand over to the domain and the
//! store.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Datelike;
use hotline_schemas::command::transition;
use hotline_schemas::event::Mention;
use hotline_schemas::event::envelope::{new_traceparent, valid_traceparent};
use hotline_schemas::lifecycle::decide;
use hotline_schemas::{
    Action, Actor, AppealId, Channel, Command, DomainError, ErrorCode, EventPayload, MatterCode,
    NewAppeal, Rating, Role, Status, UnitCode,
};
use hotline_store::{AppealFilter, CommitMeta};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::AppState;
use crate::access::{
    Allowed, AnyCaller, CallerHistory, DispatchQueue, MailboxQueue, Oversight, RateAppeal, Staff,
    Stats, forbidden,
};
use crate::error::ApiError;
use crate::extract::{ClientAddr, MaybeCaller, ValidJson, parse_json};
use crate::service::{
    self, QueuedAppeal, Submitted, execute, history, internal, load_visible, scope, view,
};
use crate::view::AppealView;

type Shared = State<Arc<AppState>>;

/// Appeals per page when the client does not say.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// The most appeals one page holds.
pub const MAX_PER_PAGE: u32 = 100;

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): Shared) -> Result<Json<serde_json::Value>, ApiError> {
    state.store.ping().await?;
    Ok(Json(json!({ "status": "ready" })))
}

pub async fn units(
    State(state): Shared,
    _: Allowed<Staff>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let units = state.store.units().await?;
    Ok(Json(json!({ "units": units })))
}

/// The taxonomy: categories with their matters, and the units.
pub async fn taxonomy(
    State(state): Shared,
    _: Allowed<Staff>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.taxonomy().to_api()))
}

/// Statistics of a period (default: this month in the city's time zone): response rate within
/// the response limit, on-time resolution rate, satisfaction rate, overdue count, average
/// handling time, for the city and per unit. A unit sees its own figures only.
pub async fn stats(
    State(state): Shared,
    Allowed(actor, ..): Allowed<Stats>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tz = state.tz();
    let now = state.now();
    let today = now.with_timezone(&tz).date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let mut from_day = month_start;
    let mut to_day = (month_start + chrono::Months::new(1))
        .pred_opt()
        .unwrap_or(month_start);
    let mut unit = None;
    for (name, value) in &params {
        let day = || {
            chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
                ApiError(
                    DomainError::new(ErrorCode::InvalidQuery)
                        .with_field(name.clone())
                        .with_arg("detail", format!(": {value} (YYYY-MM-DD)")),
                )
            })
        };
        match name.as_str() {
            "from" => from_day = day()?,
            "to" => to_day = day()?,
            "unit" => unit = Some(value.clone()),
            _ => {
                return Err(ApiError(
                    DomainError::new(ErrorCode::InvalidQuery).with_field(name.clone()),
                ));
            }
        }
    }
    if actor.role == Role::Unit {
        unit = actor.unit.as_ref().map(ToString::to_string);
    }
    let (from, to) = crate::service::period(&state, from_day, to_day)?;
    let response = crate::service::response_limit(&state);
    let confidential = crate::service::stat_scope(&state, &actor).confidential;
    let mut activity = state.store.activity_since(from, confidential).await?;
    // A leader's statistics are those of the units they are in charge of.
    let leads_units = crate::service::leads_units(&actor);
    if leads_units {
        if unit
            .as_deref()
            .is_some_and(|code| !actor.in_charge_of.iter().any(|u| u == code))
        {
            return Err(forbidden(&actor, "stats"));
        }
        activity.retain(|(_, events)| {
            events.iter().any(|e| match &e.payload {
                EventPayload::Dispatched(a) | EventPayload::Reassigned(a) => {
                    actor.in_charge_of.contains(&a.unit)
                }
                _ => false,
            })
        });
    }
    let stats = hotline_schemas::stats::compute(&activity, from, to, now, response);
    let mut body = serde_json::to_value(&stats).map_err(|e| internal(&e))?;
    body["from"] = json!(from_day);
    body["to"] = json!(to_day);
    if let Some(code) = unit {
        let figures = stats.units.get(&code).cloned().unwrap_or_default();
        body = serde_json::to_value(&figures).map_err(|e| internal(&e))?;
        body["from"] = json!(from_day);
        body["to"] = json!(to_day);
        body["unit"] = json!(code);
    } else {
        let units: Vec<serde_json::Value> = stats
            .units
            .iter()
            .filter(|(code, _)| {
                !leads_units || actor.in_charge_of.iter().any(|u| u == code.as_str())
            })
            .map(|(code, f)| {
                let mut v = serde_json::to_value(f).unwrap_or_default();
                v["unit"] = json!(code);
                v
            })
            .collect();
        body["units"] = json!(units);
    }
    Ok(Json(body))
}

/// A leader takes ownership of a case (包案): they follow it to the end.
pub async fn own(
    State(state): Shared,
    Allowed(actor, ..): Allowed<AnyCaller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<AppealView>, ApiError> {
    let appeal = load_visible(&state, &actor, &id).await?;
    actor.authorize(Action::Own, &appeal)?;
    let now = state.now();
    let decision = decide(&appeal, Command::Own, &state.rules().context(now, &actor))?;
    let meta = CommitMeta {
        traceparent: Some(traceparent(&headers)),
        consumed: None,
    };
    state.store.commit(&decision, &meta).await?;
    let events = history(&state, decision.appeal()).await?;
    Ok(Json(view(
        &state,
        &actor,
        decision.into_appeal(),
        Some(events),
    )))
}

/// A case on a leader's or supervisor's desk, with how late it is.
#[derive(Serialize)]
pub struct WatchedAppeal {
    #[serde(flatten)]
    appeal: AppealView,
    /// Seconds past the resolution deadline (0 when not yet due).
    late_seconds: i64,
    owned: bool,
}

/// A leader's or supervisor's cases: the overdue ones and those the leader owns, the latest
/// first.
pub async fn oversight(
    State(state): Shared,
    Allowed(actor, ..): Allowed<Oversight>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = state.now();
    let owner = actor.user.filter(|_| actor.role == Role::Leader);
    let mut cases: Vec<WatchedAppeal> = state
        .store
        .oversight(owner, now, &scope(&actor))
        .await?
        .into_iter()
        .map(|a| WatchedAppeal {
            late_seconds: a.late_seconds(now),
            owned: a.is_owned_by(owner),
            appeal: view(&state, &actor, a, None),
        })
        .collect();
    cases.sort_by_key(|c| std::cmp::Reverse(c.late_seconds));
    Ok(Json(json!({ "appeals": cases, "total": cases.len() })))
}

/// The dispatcher's queue: appeals the router could not place (or a unit returned), oldest
/// first, with the router's suggestions and how long each has waited. Confidential appeals
/// are never in it: they wait in the mailbox queue.
pub async fn dispatch_queue(
    State(state): Shared,
    Allowed(actor, ..): Allowed<DispatchQueue>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Paged<QueuedAppeal>>, ApiError> {
    queue(&state, &actor, false, &params).await
}

/// The mailbox readers' queue: confidential appeals waiting to be placed (书记信箱 letters the
/// router did not give the discipline office, and what the office returned).
pub async fn mailbox_queue(
    State(state): Shared,
    Allowed(actor, ..): Allowed<MailboxQueue>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Paged<QueuedAppeal>>, ApiError> {
    queue(&state, &actor, true, &params).await
}

/// A caller's history (来电历史): the appeals of the appellant with the full phone number or
/// USCC an agent types, newest first, unmasked (they have the number already).
pub async fn caller_history(
    State(state): Shared,
    Allowed(actor, ..): Allowed<CallerHistory>,
    Path(number): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let appeals = service::caller_history(&state, &actor, &number).await?;
    let (tz, now) = (state.tz(), state.now());
    let appeals: Vec<AppealView> = appeals
        .into_iter()
        .map(|a| AppealView::new(a, None, tz, now))
        .collect();
    Ok(Json(json!({ "total": appeals.len(), "appeals": appeals })))
}

/// One page of a waiting queue.
async fn queue(
    state: &AppState,
    actor: &Actor,
    confidential: bool,
    params: &[(String, String)],
) -> Result<Json<Paged<QueuedAppeal>>, ApiError> {
    let filter = parse_filter(params, state.now())?;
    let (appeals, total) =
        service::waiting(state, actor, confidential, filter.page, filter.per_page).await?;
    Ok(Json(Paged {
        appeals,
        page: filter.page,
        per_page: filter.per_page,
        total,
    }))
}

/// A submission. The intake limits come first, before the body is read: the public's per
/// client address, staff's (any valid token) per client address; a valid public submission
/// then also counts against its appellant's limit.
pub async fn submit(
    State(state): Shared,
    MaybeCaller(actor): MaybeCaller,
    ClientAddr(client): ClientAddr,
    request: Request,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let public = actor.as_ref().is_none_or(|a| a.role == Role::Appellant);
    let held = |limit: &'static str| {
        move |e: &ApiError| {
            let retry_after = e.0.args.get("seconds").cloned().unwrap_or_default();
            tracing::info!(client = ?client, limit, retry_after, "submission held by an intake limit");
        }
    };
    if public {
        state
            .limits
            .take_public(client)
            .inspect_err(held("public per address"))?;
    } else {
        state
            .limits
            .take_staff(client)
            .inspect_err(held("staff per address"))?;
    }
    let headers = request.headers().clone();
    let ValidJson(new) = ValidJson::<NewAppeal>::from_request(request, &state).await?;
    let key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::new(ErrorCode::InvalidIdempotencyKey))
        })
        .transpose()?;
    let submitted = service::submit(&state, actor, new, key, traceparent(&headers)).await?;
    let status = if submitted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(submitted)))
}

/// The request's W3C `traceparent`, or a new trace when it came without a valid one.
fn traceparent(headers: &HeaderMap) -> String {
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(valid_traceparent)
        .unwrap_or_else(new_traceparent)
}

pub async fn get_appeal(
    State(state): Shared,
    Allowed(actor, ..): Allowed<AnyCaller>,
    Path(id): Path<String>,
) -> Result<Json<AppealView>, ApiError> {
    let appeal = load_visible(&state, &actor, &id).await?;
    let events = history(&state, &appeal).await?;
    Ok(Json(view(&state, &actor, appeal, Some(events))))
}

/// One page of a list of appeals.
#[derive(Serialize)]
pub struct Paged<T> {
    appeals: Vec<T>,
    page: u32,
    per_page: u32,
    total: i64,
}

pub async fn list_appeals(
    State(state): Shared,
    Allowed(actor, ..): Allowed<Staff>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Paged<AppealView>>, ApiError> {
    let now = state.now();
    let mut filter = parse_filter(&params, now)?;
    if actor.role == Role::Unit {
        filter.unit = actor.unit.clone();
    }
    let page = state.store.list(&filter, &scope(&actor)).await?;
    Ok(Json(Paged {
        appeals: page
            .appeals
            .into_iter()
            .map(|a| view(&state, &actor, a, None))
            .collect(),
        page: filter.page,
        per_page: filter.per_page,
        total: page.total,
    }))
}

fn parse_filter(
    params: &[(String, String)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<AppealFilter, ApiError> {
    let invalid = |field: &str, value: &str| {
        ApiError(
            DomainError::new(ErrorCode::InvalidQuery)
                .with_field(field)
                .with_arg("detail", format!(": {value}")),
        )
    };
    let mut filter = AppealFilter {
        page: 1,
        per_page: DEFAULT_PER_PAGE,
        ..AppealFilter::default()
    };
    for (name, value) in params {
        if value.is_empty() {
            continue;
        }
        match name.as_str() {
            "status" => {
                filter.status = Some(value.parse::<Status>().map_err(|_| invalid(name, value))?)
            }
            "channel" => {
                filter.channel = Some(value.parse::<Channel>().map_err(|_| invalid(name, value))?)
            }
            "unit" => filter.unit = Some(value.as_str().into()),
            "overdue" => match value.as_str() {
                "true" | "1" => filter.overdue_at = Some(now),
                "false" | "0" => filter.overdue_at = None,
                _ => return Err(invalid(name, value)),
            },
            "page" => {
                filter.page = value
                    .parse()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| invalid(name, value))?;
            }
            "per_page" => {
                filter.per_page = value
                    .parse()
                    .ok()
                    .filter(|p| (1..=MAX_PER_PAGE).contains(p))
                    .ok_or_else(|| invalid(name, value))?;
            }
            _ => {
                return Err(ApiError(
                    DomainError::new(ErrorCode::InvalidQuery).with_field(name.clone()),
                ));
            }
        }
    }
    Ok(filter)
}

/// The action named in the path; `rate` stands for either rating until the body is read, as
/// both are allowed in the same statuses.
fn action_of(path: &str) -> Option<Action> {
    Some(match path {
        "dispatch" => Action::Dispatch,
        "accept" => Action::Accept,
        "return" => Action::Return,
        "reassign" => Action::Reassign,
        "extend" => Action::RequestExtension,
        "extend/approve" => Action::ApproveExtension,
        "reply" => Action::Reply,
        "pause" => Action::Pause,
        "resume" => Action::Resume,
        "rate" => Action::RateSatisfied,
        "close" => Action::Close,
        "void" => Action::Void,
        "merge" => Action::Merge,
        "confidential" => Action::MarkConfidential,
        "reveal" => Action::Reveal,
        "supplement" => Action::Supplement,
        "note" => Action::Note,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitBody {
    unit: UnitCode,
    /// The service matter, when the dispatcher names it (kept to retrain the router).
    #[serde(default)]
    matter: Option<MatterCode>,
}

/// A note: its text, and whom it calls on (`{"unit": "JD-FY"}`, `{"user": "<id>"}`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
    #[serde(default)]
    mentions: Vec<Mention>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionalReasonBody {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendBody {
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    hours: Option<u32>,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    result: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateBody {
    rating: Rating,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    into: AppealId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SupplementBody {
    /// The material or comment the appellant adds.
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfidentialBody {
    /// The unit the complaint is about.
    #[serde(default)]
    subject_unit: Option<UnitCode>,
}

/// The command in an action's body. A merge's target is loaded by the caller.
fn parse_command(action: Action, body: &[u8]) -> Result<Command, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    Ok(match action {
        Action::Dispatch | Action::Reassign => {
            let UnitBody { unit, matter } = parse_json(body)?;
            if action == Action::Dispatch {
                Command::Dispatch { unit, matter }
            } else {
                Command::Reassign { unit, matter }
            }
        }
        Action::Accept => {
            parse_json::<EmptyBody>(body)?;
            Command::Accept
        }
        Action::ApproveExtension => {
            parse_json::<EmptyBody>(body)?;
            Command::ApproveExtension
        }
        Action::Resume => {
            parse_json::<EmptyBody>(body)?;
            Command::Resume
        }
        Action::Pause => Command::Pause {
            reason: parse_json::<ReasonBody>(body)?.reason,
        },
        Action::Return => Command::Return {
            reason: parse_json::<ReasonBody>(body)?.reason,
        },
        Action::Void => Command::Void {
            reason: parse_json::<ReasonBody>(body)?.reason,
        },
        Action::Close => Command::Close {
            reason: parse_json::<OptionalReasonBody>(body)?.reason,
        },
        Action::RequestExtension => {
            let b: ExtendBody = parse_json(body)?;
            Command::RequestExtension {
                days: b.days,
                hours: b.hours,
                reason: b.reason,
            }
        }
        Action::Reply => Command::Reply {
            result: parse_json::<ReplyBody>(body)?.result,
        },
        Action::RateSatisfied | Action::RateUnsatisfied => {
            let b: RateBody = parse_json(body)?;
            Command::Rate {
                rating: b.rating,
                comment: b.comment,
            }
        }
        Action::Supplement => Command::Supplement {
            text: parse_json::<SupplementBody>(body)?.text,
        },
        Action::Reveal => Command::Reveal {
            reason: parse_json::<ReasonBody>(body)?.reason,
        },
        Action::Note => {
            let b: NoteBody = parse_json(body)?;
            Command::Note {
                text: b.text,
                mentions: b.mentions,
            }
        }
        Action::MarkConfidential => Command::MarkConfidential {
            subject_unit: parse_json::<ConfidentialBody>(body)?.subject_unit,
        },
        // Not actions of this route (`action_of` names none of them).
        Action::Merge | Action::Classify | Action::Own | Action::Fire => {
            return Err(ApiError(
                DomainError::new(ErrorCode::UnknownAction).with_arg("action", action.as_str()),
            ));
        }
    })
}

/// The appeal a merge goes into, as the body names it.
async fn merge_target(state: &AppState, actor: &Actor, body: &[u8]) -> Result<Command, ApiError> {
    let into = parse_json::<MergeBody>(body)?.into;
    service::merge_into(state, actor, into).await
}

pub async fn act(
    State(state): Shared,
    Allowed(actor, ..): Allowed<AnyCaller>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AppealView>, ApiError> {
    perform(&state, &actor, &id, &action, &headers, &body).await
}

/// 评价: the appellant (also with the rating link's token) or an agent calling back.
pub async fn rate(
    State(state): Shared,
    Allowed(actor, ..): Allowed<RateAppeal>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AppealView>, ApiError> {
    perform(&state, &actor, &id, "rate", &headers, &body).await
}

pub async fn approve_extension(
    State(state): Shared,
    Allowed(actor, ..): Allowed<AnyCaller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AppealView>, ApiError> {
    perform(&state, &actor, &id, "extend/approve", &headers, &body).await
}

/// Access, then status, then content: the order a client can rely on.
async fn perform(
    state: &AppState,
    actor: &Actor,
    id: &str,
    action_path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Json<AppealView>, ApiError> {
    let appeal = load_visible(state, actor, id).await?;
    let action = action_of(action_path).ok_or_else(|| {
        ApiError(DomainError::new(ErrorCode::UnknownAction).with_arg("action", action_path))
    })?;
    actor.authorize(action, &appeal)?;
    transition(appeal.status, action)?;
    let command = match action {
        Action::Merge => merge_target(state, actor, body).await?,
        _ => parse_command(action, body)?,
    };
    let revealed = matches!(command, Command::Reveal { .. });
    let (appeal, events) = execute(state, actor, &appeal, command, traceparent(headers)).await?;
    // A reveal answers with what it reveals; everything else as the caller may see it.
    if revealed {
        return Ok(Json(AppealView::new(
            appeal,
            Some(events),
            state.tz(),
            state.now(),
        )));
    }
    Ok(Json(view(state, actor, appeal, Some(events))))
}
