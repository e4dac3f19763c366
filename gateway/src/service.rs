//! The operations the API and the web console share: reading an appeal within the caller's
//! scope, and carrying out a command on one. Handlers turn their input into a command; this is
//! where it is checked against the platform's data, decided and committed.

use hotline_schemas::appeal::{phone_key, uscc_key, validate_phone};
use hotline_schemas::command::transition;
use hotline_schemas::lifecycle::{Intake, decide};
use hotline_schemas::value::ticket::ticket_day;
use hotline_schemas::value::uscc;
use hotline_schemas::{
    Action, Actor, Appeal, AppealId, Command, DomainError, ErrorCode, Event, MatterCode, NewAppeal,
    Role, Status, UnitCode,
};
use hotline_store::{CommitMeta, IdempotencyKey, LeaderScope, Scope, Submission, TrainingExample};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::view::AppealView;

/// The appeal `id` as `actor` may see it, checked that `action` is theirs to take now (access,
/// then status): what a command is then decided on.
pub async fn prepare(
    state: &AppState,
    actor: &Actor,
    id: &str,
    action: Action,
) -> Result<Appeal, ApiError> {
    let appeal = load_visible(state, actor, id).await?;
    actor.authorize(action, &appeal)?;
    transition(appeal.status, action)?;
    Ok(appeal)
}

/// Checks `command` against the platform's data (units, matters), decides it on `appeal` and
/// commits it: the appeal as it now is, with its history.
pub async fn execute(
    state: &AppState,
    actor: &Actor,
    appeal: &Appeal,
    command: Command,
    traceparent: String,
) -> Result<(Appeal, Vec<Event>), ApiError> {
    if let Command::Dispatch { unit, matter } | Command::Reassign { unit, matter } = &command {
        check_assignment(state, unit, matter.as_ref()).await?;
    }
    if let Command::MarkConfidential {
        subject_unit: Some(unit),
    } = &command
    {
        check_unit(state, unit, "subject_unit").await?;
    }
    let action = command.action();
    let now = state.now();
    let decision = decide(appeal, command.clone(), &state.rules().context(now, actor))?;
    let meta = CommitMeta {
        traceparent: Some(traceparent),
        consumed: None,
    };
    state.store.commit(&decision, &meta).await?;
    keep_correction(state, appeal, &command, now).await;
    let event_types: Vec<&str> = decision
        .events()
        .iter()
        .map(|e| e.event_type().as_str())
        .collect();
    tracing::info!(appeal = %appeal.id, actor = %actor.name, action = action.as_str(), events = ?event_types, "appeal changed");
    let appeal = decision.into_appeal();
    let events = history(state, &appeal).await?;
    Ok((appeal, events))
}

/// The history of `appeal` as far as the state read: events a later change added since are
/// left out, so the view shows one moment.
pub async fn history(state: &AppState, appeal: &Appeal) -> Result<Vec<Event>, ApiError> {
    let mut events = state.store.events(appeal.id).await?;
    events.retain(|e| e.seq <= appeal.version);
    Ok(events)
}

pub async fn load_visible(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<hotline_schemas::Appeal, ApiError> {
    let not_found = || ApiError::new(ErrorCode::AppealNotFound);
    let id: AppealId = id.parse().map_err(|_| not_found())?;
    // Filtered in SQL by the caller's scope, and checked by the domain's rule too.
    let appeal = state
        .store
        .appeal_in(id, &scope(actor))
        .await?
        .ok_or_else(not_found)?;
    if actor.can_read(&appeal) {
        Ok(appeal)
    } else {
        Err(not_found())
    }
}

/// The appeal as `actor` may see it: personal data masked unless they are entitled to it
/// (SPEC §8).
pub fn view(
    state: &AppState,
    actor: &Actor,
    appeal: Appeal,
    events: Option<Vec<Event>>,
) -> AppealView {
    let (appeal, events) = if actor.sees_personal_data(&appeal) {
        (appeal, events)
    } else {
        let names = appeal.person_names();
        let events = events.map(|list| list.iter().map(|e| e.masked(&names)).collect());
        (appeal.masked(), events)
    };
    let shown = AppealView::new(appeal, events, state.tz(), state.now());
    if actor.role == Role::Appellant {
        shown.public()
    } else {
        shown
    }
}

/// The unit of a dispatch or reassignment exists, and the matter it names is that unit's.
pub async fn check_assignment(
    state: &AppState,
    unit: &UnitCode,
    matter: Option<&MatterCode>,
) -> Result<(), ApiError> {
    check_unit(state, unit, "unit").await?;
    let Some(code) = matter else {
        return Ok(());
    };
    let taxonomy = state.taxonomy();
    let known = taxonomy.matter(code).ok_or_else(|| {
        ApiError(
            DomainError::new(ErrorCode::UnknownMatter)
                .with_field("matter")
                .with_arg("matter", code.as_str()),
        )
    })?;
    if &known.unit != unit {
        return Err(ApiError(
            DomainError::new(ErrorCode::MatterUnitMismatch)
                .with_field("matter")
                .with_arg("matter", code.as_str())
                .with_arg("expected", known.unit.as_str())
                .with_arg("unit", unit.as_str()),
        ));
    }
    Ok(())
}

/// `unit`, named in `field`, is a unit of the platform.
pub async fn check_unit(state: &AppState, unit: &UnitCode, field: &str) -> Result<(), ApiError> {
    if state.store.units().await?.iter().any(|u| &u.code == unit) {
        return Ok(());
    }
    Err(ApiError(
        DomainError::new(ErrorCode::UnknownUnit)
            .with_field(field)
            .with_arg("unit", unit.as_str()),
    ))
}

/// The appeals `actor` may see, as the store filters them: their unit's for unit staff,
/// confidential ones only for admins and mailbox readers.
pub fn scope(actor: &Actor) -> Scope {
    Scope {
        // An appellant's own appeal may be confidential (a whistle-blower's).
        confidential: actor.reads_confidential() || actor.role == Role::Appellant,
        unit: if actor.role == Role::Unit {
            actor.unit.clone()
        } else {
            None
        },
        leader: (actor.role == Role::Leader).then(|| LeaderScope {
            // A leader's token always names its user; one without owns nothing.
            user: actor.user.unwrap_or_default(),
            units: actor.in_charge_of.clone(),
        }),
        appeal: if actor.role == Role::Appellant {
            // An appellant token always names its appeal; one without names none.
            Some(actor.appeal.unwrap_or_default())
        } else {
            None
        },
    }
}

/// A dispatcher's choice that differs from the router's, or a unit's return, is kept as a
/// training example for the next `hotline train`.
pub async fn keep_correction(
    state: &AppState,
    appeal: &hotline_schemas::Appeal,
    command: &Command,
    now: chrono::DateTime<chrono::Utc>,
) {
    let suggested = appeal.suggestions.first();
    let mut matter = None;
    let (unit, source) = match command {
        Command::Dispatch {
            unit,
            matter: named,
        }
        | Command::Reassign {
            unit,
            matter: named,
        } => {
            matter = named.clone();
            let differs = suggested.is_some_and(|s| &s.unit != unit);
            let was_routed = appeal.unit.is_some();
            if !(differs || matter.is_some() || was_routed) {
                return;
            }
            let source = if matches!(command, Command::Reassign { .. }) {
                "reassign"
            } else {
                "dispatch"
            };
            (unit.clone(), source)
        }
        Command::Return { .. } => match &appeal.unit {
            Some(unit) => (unit.clone(), "return"),
            None => return,
        },
        _ => return,
    };
    let example = TrainingExample {
        appeal_id: appeal.id,
        text: format!("{}\n{}", appeal.title, appeal.body),
        matter,
        unit,
        suggested_matter: suggested.map(|s| s.matter.clone()),
        source: source.to_owned(),
        created_at: now,
    };
    if let Err(e) = state.store.record_training_example(&example).await {
        tracing::warn!(appeal = %appeal.id, error = %e, "could not keep the correction");
    }
}

/// An accepted submission: the appeal as its submitter may see it, and the appellant's token.
#[derive(Serialize)]
pub struct Submitted {
    #[serde(flatten)]
    pub appeal: AppealView,
    /// Lets the appellant follow and rate this appeal.
    pub appellant_token: String,
    /// Created now, or found under the same idempotency key.
    #[serde(skip)]
    pub created: bool,
}

/// Takes in a submission from `actor` (`None`: the public), the same for every channel and
/// for the API and the console: who may submit on its channel, validation (naming the field),
/// the public's per-appellant limit, then the store records it durably under the next ticket
/// number. `idempotency_key`: the client's key, when it sent one. The limits per client
/// address are the caller's to take first, before the input is read.
pub async fn submit(
    state: &AppState,
    actor: Option<Actor>,
    new: NewAppeal,
    idempotency_key: Option<&str>,
    traceparent: String,
) -> Result<Submitted, ApiError> {
    if !Actor::may_submit(actor.as_ref(), new.channel) {
        return Err(match &actor {
            None => ApiError::new(ErrorCode::Unauthenticated),
            Some(a) => crate::access::forbidden(a, "submit"),
        });
    }
    let public = actor.as_ref().is_none_or(|a| a.role == Role::Appellant);
    let caller = actor
        .as_ref()
        .map(|a| format!("{}:{}", a.role, a.name))
        .unwrap_or_else(|| "public".to_owned());
    let idempotency = idempotency_key
        .map(|key| idempotency(key, caller, &new))
        .transpose()?;
    let now = state.now();
    let submitter = actor.unwrap_or_else(Actor::public);
    let contact = new.appellant.contact();
    let intake = Intake::new(new, &state.rules().context(now, &submitter))?;
    if public && let Some(contact) = &contact {
        state.limits.take_appellant(contact).inspect_err(|e| {
            let retry_after = e.0.args.get("seconds").cloned().unwrap_or_default();
            tracing::info!(
                limit = "public per appellant",
                retry_after,
                "submission held by an intake limit"
            );
        })?;
    }
    let submission = Submission {
        intake,
        day: ticket_day(now, state.tz()),
        idempotency,
        traceparent: Some(traceparent),
    };
    let submitted = state.store.submit(submission).await?;
    let appeal = submitted.appeal;
    let appellant_token = state
        .signer
        .issue_appellant(appeal.id, now)
        .map_err(|e| internal(&e))?;
    let events = if submitted.created {
        submitted.events
    } else {
        history(state, &appeal).await?
    };
    if submitted.created {
        tracing::info!(appeal = %appeal.id, ticket_no = %appeal.ticket_no, channel = %appeal.channel, "appeal received");
    }
    Ok(Submitted {
        appeal: view(state, &submitter.following(appeal.id), appeal, Some(events)),
        appellant_token,
        created: submitted.created,
    })
}

/// A client's idempotency key, scoped to `caller`, with the hash of the submission.
fn idempotency(key: &str, caller: String, new: &NewAppeal) -> Result<IdempotencyKey, ApiError> {
    if !((1..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())) {
        return Err(ApiError::new(ErrorCode::InvalidIdempotencyKey));
    }
    let canonical = serde_json::to_vec(new).map_err(|e| internal(&e))?;
    let request_hash = format!("{:x}", Sha256::digest(&canonical));
    Ok(IdempotencyKey {
        caller,
        key: key.to_owned(),
        request_hash,
    })
}

/// Most appeals a caller's history shows.
pub const CALLER_HISTORY_SIZE: i64 = 50;

/// A caller's history (来电历史): the appeals of the appellant with the full phone number or
/// USCC `number` an agent types, newest first, within `actor`'s scope.
pub async fn caller_history(
    state: &AppState,
    actor: &Actor,
    number: &str,
) -> Result<Vec<Appeal>, ApiError> {
    let key = if uscc::validate(number).is_ok() {
        uscc_key(number)
    } else {
        validate_phone(number).map_err(|e| ApiError(e.with_field("number")))?;
        phone_key(number)
    }
    .ok_or_else(|| ApiError(DomainError::new(ErrorCode::EmptyField).with_field("number")))?;
    Ok(state
        .store
        .appeals_of(&key, &scope(actor), CALLER_HISTORY_SIZE)
        .await?)
}

/// An appeal waiting for a dispatcher, with how long it has waited.
#[derive(Serialize)]
pub struct QueuedAppeal {
    #[serde(flatten)]
    pub appeal: AppealView,
    pub waiting_seconds: i64,
    pub dispatch_due: chrono::DateTime<chrono::FixedOffset>,
    pub dispatch_overdue: bool,
}

/// One page of a waiting queue (the dispatchers', or the mailbox readers' when
/// `confidential`), oldest first, as `actor` may see it, and how many wait in all.
pub async fn waiting(
    state: &AppState,
    actor: &Actor,
    confidential: bool,
    page: u32,
    per_page: u32,
) -> Result<(Vec<QueuedAppeal>, i64), ApiError> {
    let now = state.now();
    let found = state
        .store
        .dispatch_queue(confidential, page, per_page)
        .await?;
    let rules = state.rules();
    let wait = rules.policies.dispatch_wait();
    let clock = rules.clock();
    let tz = state.tz();
    let appeals = found
        .appeals
        .into_iter()
        .map(|a| {
            // Time in the queue counts from arrival, or from the return for a returned one.
            let since = if a.status == Status::Returned {
                a.updated_at.min(now)
            } else {
                a.created_at
            };
            let due = clock.add(since, wait);
            QueuedAppeal {
                waiting_seconds: (now - since).num_seconds().max(0),
                dispatch_due: due.with_timezone(&tz).fixed_offset(),
                dispatch_overdue: now > due,
                appeal: view(state, actor, a, None),
            }
        })
        .collect();
    Ok((appeals, found.total))
}

/// A merge into `into`, which must be an appeal `actor` may see: nothing else is admitted to
/// exist.
pub async fn merge_into(
    state: &AppState,
    actor: &Actor,
    into: AppealId,
) -> Result<Command, ApiError> {
    let target = state
        .store
        .appeal_in(into, &scope(actor))
        .await?
        .ok_or_else(|| {
            ApiError(
                DomainError::new(ErrorCode::InvalidValue)
                    .with_field("into")
                    .with_arg("detail", format!(": {into}")),
            )
        })?;
    Ok(Command::Merge {
        into: Box::new(target),
    })
}

pub fn internal(e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "internal error");
    ApiError::new(ErrorCode::Internal)
}

/// Who `actor`'s statistics count, as `GET /api/v1/stats` and the dashboards apply it:
/// confidential appeals for admins, mailbox readers and the discipline office; a leader's are
/// the appeals ever dispatched to the units they are in charge of; a unit's, its own facts.
pub fn stat_scope(state: &AppState, actor: &Actor) -> hotline_store::StatScope {
    hotline_store::StatScope {
        confidential: actor.reads_confidential() || state.is_discipline_office(actor),
        dispatched_to: leads_units(actor).then(|| actor.in_charge_of.clone()),
        unit: if actor.role == Role::Unit {
            actor.unit.clone()
        } else {
            None
        },
    }
}

/// Whether `actor`'s statistics are those of the units they are in charge of (a leader who
/// does not read the mailbox).
pub fn leads_units(actor: &Actor) -> bool {
    actor.role == Role::Leader && !actor.reads_confidential()
}

/// The time a unit has to sign for a dispatch, as the statistics count it (the response limit
/// of the ordinary policy, 30 minutes by default).
pub fn response_limit(state: &AppState) -> chrono::Duration {
    state
        .rules()
        .policies
        .policy_for(
            hotline_schemas::Kind::Complaint,
            hotline_schemas::Channel::Web,
            hotline_schemas::Priority::Normal,
        )
        .response
        .clock_duration()
        .unwrap_or(chrono::Duration::minutes(30))
}

/// The instants of the days `from_day` to `to_day` (both included) in the city's time zone:
/// `[from_day 00:00, the day after to_day 00:00)`; `invalid_query` naming `to` when a day has
/// no such instant.
pub fn period(
    state: &AppState,
    from_day: chrono::NaiveDate,
    to_day: chrono::NaiveDate,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>), ApiError> {
    let tz = state.tz();
    let start_of = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    match (start_of(from_day), to_day.succ_opt().and_then(start_of)) {
        (Some(from), Some(to)) => Ok((from, to)),
        _ => Err(ApiError(
            DomainError::new(ErrorCode::InvalidQuery).with_field("to"),
        )),
    }
}
