use super::*;
use crate::appeal::{Appellant, DueStep, NewAppeal, Step, sample_new_appeal};
use crate::command::UnitLeaders;
use crate::command::{Action, next_status};
use crate::event::EventType;
use crate::value::ids::{AppealId, TicketNo, UserId};
use chrono::TimeZone;
use chrono_tz::Asia::Shanghai;
use serde_json::json;
use strum::IntoEnumIterator;

/// An event's `data` as stored and served.
fn data(e: &Event) -> serde_json::Value {
    serde_json::to_value(&e.payload).unwrap()["data"].clone()
}

/// The statuses in which notes on the case (classification, ownership, timer steps) are taken.
const NOT_TERMINAL: [Status; 6] = [
    Status::Received,
    Status::Dispatched,
    Status::Accepted,
    Status::Returned,
    Status::Replied,
    Status::Reopened,
];

const UNIT_A: &str = "DEMO-FGJ";
const UNIT_B: &str = "DEMO-RSJ";

/// The allowed transitions, written out from SPEC §5 independently of `next_status` (notes
/// on the case, allowed in every status in `NOT_TERMINAL` and changing none, come on top).
const ALLOWED: &[(Status, Action, Status)] = &[
    (Status::Received, Action::Dispatch, Status::Dispatched),
    (Status::Received, Action::Close, Status::Closed),
    (Status::Received, Action::Void, Status::Voided),
    (Status::Received, Action::Merge, Status::Merged),
    (Status::Dispatched, Action::Accept, Status::Accepted),
    (Status::Dispatched, Action::Return, Status::Returned),
    (Status::Dispatched, Action::Reassign, Status::Dispatched),
    (Status::Dispatched, Action::Void, Status::Voided),
    (Status::Dispatched, Action::Merge, Status::Merged),
    (Status::Returned, Action::Dispatch, Status::Dispatched),
    (Status::Returned, Action::Reassign, Status::Dispatched),
    (Status::Returned, Action::Void, Status::Voided),
    (Status::Returned, Action::Merge, Status::Merged),
    (Status::Accepted, Action::RequestExtension, Status::Accepted),
    (Status::Accepted, Action::ApproveExtension, Status::Accepted),
    (Status::Accepted, Action::Reply, Status::Replied),
    (Status::Accepted, Action::Pause, Status::Accepted),
    (Status::Accepted, Action::Resume, Status::Accepted),
    (Status::Accepted, Action::Reassign, Status::Dispatched),
    (Status::Accepted, Action::Void, Status::Voided),
    (Status::Replied, Action::RateSatisfied, Status::Closed),
    (Status::Replied, Action::RateUnsatisfied, Status::Reopened),
    (Status::Replied, Action::Close, Status::Closed),
    (Status::Reopened, Action::Accept, Status::Accepted),
    (Status::Reopened, Action::Reassign, Status::Dispatched),
    (Status::Reopened, Action::Void, Status::Voided),
];

fn expected_next(from: Status, action: Action) -> Option<Status> {
    if action == Action::Reveal {
        return Some(from);
    }
    if matches!(
        action,
        Action::Classify
            | Action::Own
            | Action::Fire
            | Action::MarkConfidential
            | Action::Supplement
            | Action::Note
    ) {
        return NOT_TERMINAL.contains(&from).then_some(from);
    }
    ALLOWED
        .iter()
        .find(|(f, a, _)| *f == from && *a == action)
        .map(|(_, _, to)| *to)
}

/// A Shanghai wall-clock time as an instant.
fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

// The standard timeline: Friday 2026-11-20 to Monday 2026-11-23 (no holidays near).
fn t_received() -> DateTime<Utc> {
    sh(2026, 11, 20, 14, 50)
}
fn t_dispatch() -> DateTime<Utc> {
    sh(2026, 11, 20, 15, 0)
}
fn t_accept() -> DateTime<Utc> {
    sh(2026, 11, 20, 15, 10)
}
fn t_reply() -> DateTime<Utc> {
    sh(2026, 11, 23, 9, 0)
}
fn t_rate() -> DateTime<Utc> {
    sh(2026, 11, 23, 12, 0)
}
fn t_later() -> DateTime<Utc> {
    sh(2026, 11, 23, 14, 0)
}

fn actor(name: &str, role: Role) -> Actor {
    Actor {
        name: name.to_owned(),
        role,
        unit: None,
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    }
}
fn agent() -> Actor {
    actor("agent-1", Role::Agent)
}
fn dispatcher() -> Actor {
    actor("dispatcher-1", Role::Dispatcher)
}
fn supervisor() -> Actor {
    actor("supervisor-1", Role::Supervisor)
}
fn unit_staff(unit: &str) -> Actor {
    Actor {
        unit: Some(unit.into()),
        ..actor(&format!("staff-{unit}"), Role::Unit)
    }
}
fn appellant(appeal: &Appeal) -> Actor {
    Actor {
        appeal: Some(appeal.id),
        ..actor("appellant", Role::Appellant)
    }
}

/// The actor who would take `action` on `appeal` (per `Actor::authorize`).
fn actor_for(action: Action, appeal: &Appeal) -> Actor {
    match action {
        Action::Classify | Action::Dispatch | Action::Reassign | Action::Void | Action::Merge => {
            dispatcher()
        }
        Action::Own => Actor {
            in_charge_of: vec![appeal.unit.clone().unwrap_or_else(|| UNIT_A.into())],
            ..actor("leader-1", Role::Leader)
        },
        Action::Reveal | Action::Note => supervisor(),
        Action::Supplement => appellant(appeal),
        Action::MarkConfidential => Actor {
            mailbox_reader: true,
            ..actor("mailbox-reader-1", Role::Leader)
        },
        Action::Fire => Actor::system(),
        Action::Accept
        | Action::Return
        | Action::RequestExtension
        | Action::Reply
        | Action::Pause
        | Action::Resume => unit_staff(appeal.unit.as_deref().unwrap_or(UNIT_A)),
        Action::ApproveExtension | Action::Close => supervisor(),
        Action::RateSatisfied | Action::RateUnsatisfied => appellant(appeal),
    }
}

struct World {
    rules: Rules,
}

impl World {
    fn new() -> Self {
        World {
            rules: Rules::shipped(),
        }
    }

    fn decide(
        &self,
        appeal: &Appeal,
        actor: &Actor,
        now: DateTime<Utc>,
        command: Command,
    ) -> Result<Decision, DomainError> {
        decide(appeal, command, &self.rules.context(now, actor))
    }
}

/// An appeal and its whole history, driven through `decide`.
struct Case<'w> {
    world: &'w World,
    appeal: Appeal,
    events: Vec<Event>,
}

/// A submission received at `t_received()` by `by`.
fn intake(world: &World, kind: Kind, priority: Priority, by: &str) -> Decision {
    let new = sample_new_appeal(kind, priority);
    let agent = actor(by, Role::Agent);
    let ctx = world.rules.context(t_received(), &agent);
    Intake::new(new, &ctx)
        .unwrap()
        .receive(TicketNo::from("20261120-000001"))
}

/// Another appeal, received, for a merge to go into.
fn other_appeal(world: &World) -> Appeal {
    intake(world, Kind::Complaint, Priority::Normal, "agent-2").into_appeal()
}

impl<'w> Case<'w> {
    fn new(world: &'w World, kind: Kind, priority: Priority) -> Self {
        let received = intake(world, kind, priority, "agent-1");
        let events = received.events().to_vec();
        Case {
            world,
            appeal: received.into_appeal(),
            events,
        }
    }

    /// `decide` without applying the outcome.
    fn attempt(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        command: Command,
    ) -> Result<Decision, DomainError> {
        self.world.decide(&self.appeal, actor, now, command)
    }

    /// The error `command` is refused with.
    fn refused(&self, actor: &Actor, now: DateTime<Utc>, command: Command) -> DomainError {
        let before = self.appeal.clone();
        let err = self
            .attempt(actor, now, command.clone())
            .expect_err(&format!("{command:?} should be refused"));
        assert_eq!(self.appeal, before);
        err
    }

    /// Applies `command` (which must be authorized and succeed) and checks the bookkeeping.
    fn step(&mut self, actor: &Actor, now: DateTime<Utc>, command: Command) -> Vec<Event> {
        let action = command.action();
        actor
            .authorize(action, &self.appeal)
            .unwrap_or_else(|e| panic!("{} may not {action:?}: {e}", actor.name));
        let expected = expected_next(self.appeal.status, action);
        let decision = self
            .attempt(actor, now, command.clone())
            .unwrap_or_else(|e| panic!("{command:?} in {:?}: {e:?}", self.appeal.status));
        assert_eq!(Some(decision.appeal().status), expected, "{command:?}");
        assert!(!decision.events().is_empty());
        for (i, event) in decision.events().iter().enumerate() {
            assert_eq!(event.seq, self.appeal.version + i as i64 + 1);
            assert_eq!(event.appeal_id, self.appeal.id);
            assert_eq!(event.at, now);
            assert_eq!(event.actor, actor.name);
        }
        assert_eq!(
            decision.appeal().version,
            self.appeal.version + decision.events().len() as i64
        );
        assert_eq!(decision.appeal().updated_at, now);
        assert_eq!(decision.appeal().id, self.appeal.id);
        let events = decision.events().to_vec();
        self.events.extend(events.iter().cloned());
        self.appeal = decision.into_appeal();
        assert_eq!(self.appeal.version, self.events.len() as i64);
        events
    }

    fn types(&self) -> Vec<EventType> {
        self.events.iter().map(|e| e.event_type()).collect()
    }

    fn dispatch(&mut self, unit: &str, at: DateTime<Utc>) -> &mut Self {
        self.step(
            &dispatcher(),
            at,
            Command::Dispatch {
                unit: unit.into(),
                matter: None,
            },
        );
        self
    }

    fn accept(&mut self, at: DateTime<Utc>) -> &mut Self {
        let staff = actor_for(Action::Accept, &self.appeal);
        self.step(&staff, at, Command::Accept);
        self
    }

    fn reply(&mut self, at: DateTime<Utc>) -> &mut Self {
        let staff = actor_for(Action::Reply, &self.appeal);
        self.step(&staff, at, reply_command());
        self
    }

    fn rate(&mut self, rating: Rating, at: DateTime<Utc>) -> Vec<Event> {
        let who = appellant(&self.appeal);
        self.step(&who, at, rate_command(rating))
    }
}

fn reply_command() -> Command {
    Command::Reply {
        result: "经核实,补贴已于本周拨付到账。".to_owned(),
    }
}

fn rate_command(rating: Rating) -> Command {
    Command::Rate {
        rating,
        comment: Some("处理及时".to_owned()),
    }
}

fn extension(days: Option<u32>, hours: Option<u32>) -> Command {
    Command::RequestExtension {
        days,
        hours,
        reason: "需会同区财政局核实拨付流程".to_owned(),
    }
}

/// Drives a fresh appeal through real `decide` calls to `status`.
fn reach(world: &World, kind: Kind, priority: Priority, status: Status) -> Case<'_> {
    let mut case = match status {
        Status::Received | Status::Voided | Status::Merged => Case::new(world, kind, priority),
        Status::Dispatched => reach(world, kind, priority, Status::Received),
        Status::Accepted | Status::Returned => reach(world, kind, priority, Status::Dispatched),
        Status::Replied => reach(world, kind, priority, Status::Accepted),
        Status::Reopened | Status::Closed => reach(world, kind, priority, Status::Replied),
    };
    match status {
        Status::Received => {}
        Status::Dispatched => {
            case.dispatch(UNIT_A, t_dispatch());
        }
        Status::Accepted => {
            case.accept(t_accept());
        }
        Status::Returned => {
            let staff = unit_staff(UNIT_A);
            case.step(
                &staff,
                t_accept(),
                Command::Return {
                    reason: "不属于本单位职责".to_owned(),
                },
            );
        }
        Status::Replied => {
            case.reply(t_reply());
        }
        Status::Reopened => {
            case.rate(Rating::Dissatisfied, t_rate());
        }
        Status::Closed => {
            case.rate(Rating::Satisfied, t_rate());
        }
        Status::Voided => {
            case.step(
                &dispatcher(),
                t_dispatch(),
                Command::Void {
                    reason: "骚扰电话".to_owned(),
                },
            );
        }
        Status::Merged => {
            case.step(
                &dispatcher(),
                t_dispatch(),
                Command::Merge {
                    into: Box::new(other_appeal(world)),
                },
            );
        }
    }
    assert_eq!(case.appeal.status, status);
    case
}

/// One command of every variant, with valid content (both rating kinds), in `Action` order.
fn every_command(world: &World) -> Vec<Command> {
    vec![
        Command::Classify(classification()),
        Command::Dispatch {
            unit: UNIT_B.into(),
            matter: None,
        },
        Command::Accept,
        Command::Return {
            reason: "不属于本单位职责".to_owned(),
        },
        Command::Reassign {
            unit: UNIT_B.into(),
            matter: None,
        },
        extension(Some(2), None),
        Command::ApproveExtension,
        reply_command(),
        rate_command(Rating::Satisfied),
        rate_command(Rating::Dissatisfied),
        Command::Pause {
            reason: "请补充营业执照复印件".to_owned(),
        },
        Command::Resume,
        Command::Close {
            reason: Some("已电话答复".to_owned()),
        },
        Command::Void {
            reason: "重复来电".to_owned(),
        },
        Command::Merge {
            into: Box::new(other_appeal(world)),
        },
        Command::Own,
        Command::MarkConfidential {
            subject_unit: Some(UNIT_B.into()),
        },
        Command::Reveal {
            reason: "回访前核对来电人身份".to_owned(),
        },
        Command::Supplement {
            text: "补充营业执照复印件".to_owned(),
        },
        Command::Fire {
            due: DueStep {
                step: Step::DispatchReminder,
                at: t_dispatch(),
            },
            leaders: UnitLeaders::default(),
        },
        Command::Note {
            text: "已电话联系物业，明早到现场".to_owned(),
            mentions: vec![crate::event::Mention::Unit(UNIT_B.into())],
        },
    ]
}

/// What the router concludes about the sample appeal.
fn classification() -> Classification {
    Classification {
        matter: Some("FIN-01".into()),
        unit: Some(UNIT_A.into()),
        confidence: 0.4,
        suggestions: Vec::new(),
        dispatched: false,
        urgent_signals: Vec::new(),
        duplicate_of: None,
        rule: None,
        priority: Priority::Normal,
        confidential: false,
        subject_unit: None,
        place: None,
        held: None,
    }
}

fn arg<'e>(err: &'e DomainError, name: &str) -> Option<&'e str> {
    err.args.get(name).map(String::as_str)
}

fn assert_code(err: &DomainError, code: ErrorCode, field: Option<&str>) {
    assert_eq!(err.code, code, "{err:?}");
    assert_eq!(err.field.as_deref(), field, "{err:?}");
}

// ---- 1. The table ----

#[test]
fn table_is_exactly_the_expected_one() {
    // The literal table has no pair twice.
    for (i, (f, a, _)) in ALLOWED.iter().enumerate() {
        assert!(
            !ALLOWED[i + 1..]
                .iter()
                .any(|(f2, a2, _)| f2 == f && a2 == a),
            "{f:?} {a:?} listed twice"
        );
    }
    let mut allowed = 0;
    for from in Status::iter() {
        for action in Action::iter() {
            let expected = expected_next(from, action);
            assert_eq!(
                next_status(from, action),
                expected,
                "{from:?} --{action:?}-->"
            );
            allowed += usize::from(expected.is_some());
        }
    }
    assert_eq!(
        allowed,
        ALLOWED.len() + 6 * NOT_TERMINAL.len() + Status::iter().count()
    );
    assert_eq!(Status::iter().count(), 9);
    assert_eq!(Action::iter().count(), 21);
}

#[test]
fn terminal_statuses_allow_nothing_and_the_others_something() {
    // A reveal looks at the case and changes nothing: it is allowed in every status.
    let changes = || Action::iter().filter(|a| *a != Action::Reveal);
    for from in Status::iter() {
        let any = changes().any(|a| next_status(from, a).is_some());
        assert_eq!(any, !from.is_terminal(), "{from:?}");
        assert_eq!(next_status(from, Action::Reveal), Some(from));
    }
    for from in [Status::Closed, Status::Merged, Status::Voided] {
        assert!(from.is_terminal());
        for action in changes() {
            assert_eq!(next_status(from, action), None, "{from:?} {action:?}");
        }
    }
}

#[test]
fn every_status_is_reachable_and_every_open_one_can_end() {
    let mut reached = vec![Status::Received];
    let mut i = 0;
    while let Some(&from) = reached.get(i) {
        for to in Action::iter().filter_map(|a| next_status(from, a)) {
            if !reached.contains(&to) {
                reached.push(to);
            }
        }
        i += 1;
    }
    for status in Status::iter() {
        assert!(reached.contains(&status), "{status:?} unreachable");
        if !status.is_terminal() {
            let voidable = next_status(status, Action::Void) == Some(Status::Voided);
            let closable = next_status(status, Action::Close) == Some(Status::Closed);
            assert!(
                voidable || closable,
                "{status:?} can neither be voided nor closed"
            );
        }
    }
}

#[test]
fn transition_names_status_and_action_when_refused() {
    for from in Status::iter() {
        for action in Action::iter() {
            match transition(from, action) {
                Ok(to) => assert_eq!(Some(to), expected_next(from, action)),
                Err(err) => {
                    assert_eq!(expected_next(from, action), None);
                    assert_code(&err, ErrorCode::ActionNotAllowed, None);
                    assert_eq!(arg(&err, "status"), Some(from.as_str()));
                    assert_eq!(arg(&err, "action"), Some(action.as_str()));
                    assert_eq!(err.args.len(), 2);
                }
            }
        }
    }
    let err = transition(Status::Closed, Action::RequestExtension).unwrap_err();
    assert_eq!(arg(&err, "status"), Some("closed"));
    assert_eq!(arg(&err, "action"), Some("request_extension"));
}

#[test]
fn command_maps_to_its_action() {
    let world = World::new();
    let actions: Vec<Action> = every_command(&world).iter().map(Command::action).collect();
    let all: Vec<Action> = Action::iter().collect();
    assert_eq!(actions, all);
    for rating in Rating::iter() {
        let expected = match rating {
            Rating::Dissatisfied | Rating::VeryDissatisfied => Action::RateUnsatisfied,
            Rating::VerySatisfied | Rating::Satisfied | Rating::BasicallySatisfied => {
                Action::RateSatisfied
            }
        };
        assert_eq!(rate_command(rating).action(), expected, "{rating:?}");
    }
}

// ---- 2. decide for every status and command ----

#[test]
fn decide_follows_the_table_for_every_status_and_command() {
    let world = World::new();
    let mut oks = 0;
    for status in Status::iter() {
        for command in every_command(&world) {
            let action = command.action();
            let mut case = reach(&world, Kind::Consultation, Priority::Normal, status);
            if action == Action::ApproveExtension && status == Status::Accepted {
                let staff = unit_staff(UNIT_A);
                case.step(&staff, t_reply(), extension(Some(2), None));
            }
            if action == Action::Resume && status == Status::Accepted {
                let staff = unit_staff(UNIT_A);
                case.step(
                    &staff,
                    t_reply(),
                    Command::Pause {
                        reason: "请补充材料".to_owned(),
                    },
                );
            }
            let who = actor_for(action, &case.appeal);
            let result = case.attempt(&who, t_later(), command.clone());
            match expected_next(status, action) {
                Some(to) => {
                    let decision = result.unwrap_or_else(|e| {
                        panic!("{command:?} in {status:?} should succeed: {e:?}")
                    });
                    assert_eq!(decision.appeal().status, to, "{command:?} in {status:?}");
                    assert!(!decision.events().is_empty());
                    assert_eq!(decision.events()[0].seq, case.appeal.version + 1);
                    oks += 1;
                }
                None => {
                    let err = result.expect_err(&format!("{command:?} in {status:?}"));
                    assert_code(&err, ErrorCode::ActionNotAllowed, None);
                    assert_eq!(arg(&err, "status"), Some(status.as_str()));
                    assert_eq!(arg(&err, "action"), Some(action.as_str()));
                }
            }
        }
    }
    assert_eq!(
        oks,
        ALLOWED.len() + 6 * NOT_TERMINAL.len() + Status::iter().count()
    );
}

#[test]
fn status_is_checked_before_content() {
    let world = World::new();
    let case = reach(&world, Kind::Complaint, Priority::Normal, Status::Closed);
    for command in [
        Command::Return {
            reason: String::new(),
        },
        Command::Reply {
            result: String::new(),
        },
        extension(None, None),
    ] {
        let err = case.refused(&unit_staff(UNIT_A), t_later(), command);
        assert_code(&err, ErrorCode::ActionNotAllowed, None);
    }
}

// ---- 3. Happy path ----

#[test]
fn happy_path_with_deadlines() {
    let world = World::new();
    let mut case = Case::new(&world, Kind::Complaint, Priority::Normal);
    assert_eq!(case.appeal.version, 1);
    assert_eq!(case.events[0].seq, 1);
    assert_eq!(case.events[0].event_type(), EventType::Received);

    let events = case.dispatch(UNIT_A, t_dispatch()).events.clone();
    let d = &case.appeal.deadlines;
    assert_eq!(d.response_due, Some(sh(2026, 11, 20, 15, 30)));
    // Friday 15:00 + 3 working days = Wednesday 15:00.
    assert_eq!(d.resolve_due, Some(sh(2026, 11, 25, 15, 0)));
    assert_eq!(d.original_resolve_due, Some(sh(2026, 11, 25, 15, 0)));
    assert_eq!(case.appeal.unit.as_deref(), Some(UNIT_A));
    let dispatched = &events[1];
    assert_eq!(dispatched.event_type(), EventType::Dispatched);
    assert_eq!(data(dispatched)["unit"], UNIT_A);
    assert!(data(dispatched)["from_unit"].is_null());
    assert_eq!(
        data(dispatched)["resolve_due"],
        json!(sh(2026, 11, 25, 15, 0))
    );
    assert_eq!(
        data(dispatched)["response_due"],
        json!(sh(2026, 11, 20, 15, 30))
    );
    assert_eq!(dispatched.actor, "dispatcher-1");

    case.accept(t_accept());
    case.reply(t_reply());
    assert_eq!(case.appeal.status, Status::Replied);
    assert_eq!(
        data(case.events.last().unwrap())["result"],
        "经核实,补贴已于本周拨付到账。"
    );
    let last = case.rate(Rating::Satisfied, t_rate());
    assert_eq!(last.len(), 2);
    assert_eq!(data(&last[0])["rating"], "satisfied");
    assert_eq!(data(&last[0])["comment"], "处理及时");
    assert_eq!(data(&last[1])["rated"], true);

    assert_eq!(case.appeal.status, Status::Closed);
    assert_eq!(case.appeal.rating, Some(Rating::Satisfied));
    assert_eq!(case.appeal.rework_count, 0);
    assert_eq!(
        case.types(),
        [
            EventType::Received,
            EventType::Dispatched,
            EventType::Accepted,
            EventType::Replied,
            EventType::Rated,
            EventType::Closed,
        ]
    );
    let seqs: Vec<i64> = case.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(case.appeal.version, 6);
    // The deadlines set at dispatch were never moved.
    assert_eq!(
        case.appeal.deadlines.resolve_due,
        Some(sh(2026, 11, 25, 15, 0))
    );
}

// ---- 4. Urgent ----

#[test]
fn urgent_resolution_is_twelve_clock_hours_even_over_a_weekend() {
    let world = World::new();
    // Friday 20:00 → Saturday 08:00.
    let mut case = Case::new(&world, Kind::Help, Priority::Urgent);
    case.dispatch(UNIT_A, sh(2026, 11, 20, 20, 0));
    let d = &case.appeal.deadlines;
    assert_eq!(d.response_due, Some(sh(2026, 11, 20, 20, 30)));
    assert_eq!(d.resolve_due, Some(sh(2026, 11, 21, 8, 0)));
    assert_eq!(d.original_resolve_due, Some(sh(2026, 11, 21, 8, 0)));

    // Dispatched on a Saturday: still clock time, not the next working day.
    let mut case = Case::new(&world, Kind::Help, Priority::Urgent);
    case.dispatch(UNIT_A, sh(2026, 11, 21, 10, 0));
    assert_eq!(
        case.appeal.deadlines.resolve_due,
        Some(sh(2026, 11, 21, 22, 0))
    );
}

// ---- 5. Reassign and dispatch after return ----

#[test]
fn reassign_restarts_the_clocks() {
    let world = World::new();
    let mut case = reach(
        &world,
        Kind::Complaint,
        Priority::Normal,
        Status::Dispatched,
    );
    let at = sh(2026, 11, 20, 15, 20);
    let events = case.step(
        &dispatcher(),
        at,
        Command::Reassign {
            unit: UNIT_B.into(),
            matter: None,
        },
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), EventType::Reassigned);
    assert_eq!(data(&events[0])["from_unit"], UNIT_A);
    assert_eq!(data(&events[0])["unit"], UNIT_B);
    assert_eq!(case.appeal.status, Status::Dispatched);
    assert_eq!(case.appeal.unit.as_deref(), Some(UNIT_B));
    let d = &case.appeal.deadlines;
    assert_eq!(d.response_due, Some(sh(2026, 11, 20, 15, 50)));
    assert_eq!(d.resolve_due, Some(sh(2026, 11, 25, 15, 20)));
    assert_eq!(d.original_resolve_due, Some(sh(2026, 11, 25, 15, 20)));

    // The new unit may act, and reassigning back to it is refused.
    case.accept(sh(2026, 11, 20, 15, 30));
    let err = case.refused(
        &dispatcher(),
        t_later(),
        Command::Reassign {
            unit: UNIT_B.into(),
            matter: None,
        },
    );
    assert_code(&err, ErrorCode::SameUnit, Some("unit"));
    assert_eq!(arg(&err, "unit"), Some(UNIT_B));
}

#[test]
fn reassign_to_the_same_unit_is_refused() {
    let world = World::new();
    for status in [Status::Dispatched, Status::Accepted, Status::Reopened] {
        let case = reach(&world, Kind::Complaint, Priority::Normal, status);
        let err = case.refused(
            &dispatcher(),
            t_later(),
            Command::Reassign {
                unit: UNIT_A.into(),
                matter: None,
            },
        );
        assert_code(&err, ErrorCode::SameUnit, Some("unit"));
    }
    let case = reach(
        &world,
        Kind::Complaint,
        Priority::Normal,
        Status::Dispatched,
    );
    let err = case.refused(
        &dispatcher(),
        t_later(),
        Command::Reassign {
            unit: "  ".into(),
            matter: None,
        },
    );
    assert_code(&err, ErrorCode::EmptyField, Some("unit"));
}

#[test]
fn dispatch_after_return_may_go_to_the_same_unit() {
    let world = World::new();
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Returned);
    let returned = case.events.last().unwrap();
    assert_eq!(returned.event_type(), EventType::Returned);
    assert_eq!(returned.reason.as_deref(), Some("不属于本单位职责"));
    assert_eq!(data(returned)["unit"], UNIT_A);

    let at = sh(2026, 11, 20, 16, 0);
    let events = case.step(
        &dispatcher(),
        at,
        Command::Dispatch {
            unit: UNIT_A.into(),
            matter: None,
        },
    );
    assert_eq!(case.appeal.status, Status::Dispatched);
    assert_eq!(case.appeal.unit.as_deref(), Some(UNIT_A));
    assert_eq!(data(&events[0])["from_unit"], UNIT_A);
    assert_eq!(data(&events[0])["unit"], UNIT_A);
    let d = &case.appeal.deadlines;
    assert_eq!(d.response_due, Some(sh(2026, 11, 20, 16, 30)));
    assert_eq!(d.resolve_due, Some(sh(2026, 11, 25, 16, 0)));

    // Or reassigned to another unit.
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Returned);
    case.step(
        &dispatcher(),
        at,
        Command::Reassign {
            unit: UNIT_B.into(),
            matter: None,
        },
    );
    assert_eq!(case.appeal.unit.as_deref(), Some(UNIT_B));
}

// ---- 6. Extensions ----

#[test]
fn extension_requested_and_approved() {
    let world = World::new();
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    let staff = unit_staff(UNIT_A);
    let requested_at = sh(2026, 11, 23, 10, 0);
    let events = case.step(&staff, requested_at, extension(Some(2), None));
    assert_eq!(events[0].event_type(), EventType::ExtensionRequested);
    assert_eq!(data(&events[0])["limit"], "2wd");
    assert_eq!(
        events[0].reason.as_deref(),
        Some("需会同区财政局核实拨付流程")
    );
    assert_eq!(case.appeal.status, Status::Accepted);
    let pending = case.appeal.pending_extension.clone().unwrap();
    assert_eq!(pending.days, Some(2));
    assert_eq!(pending.hours, None);
    assert_eq!(pending.requested_at, requested_at);
    assert_eq!(pending.requested_by, staff.name);
    // Not moved until approved.
    assert_eq!(
        case.appeal.deadlines.resolve_due,
        Some(sh(2026, 11, 25, 15, 0))
    );

    // A second request while one is pending.
    let err = case.refused(&staff, sh(2026, 11, 23, 10, 30), extension(Some(1), None));
    assert_code(&err, ErrorCode::ExtensionPending, None);

    let events = case.step(
        &supervisor(),
        sh(2026, 11, 23, 11, 0),
        Command::ApproveExtension,
    );
    assert_eq!(events[0].event_type(), EventType::ExtensionApproved);
    assert_eq!(
        data(&events[0])["previous_resolve_due"],
        json!(sh(2026, 11, 25, 15, 0))
    );
    let d = &case.appeal.deadlines;
    // Wednesday 15:00 + 2 working days = Friday 15:00.
    assert_eq!(d.resolve_due, Some(sh(2026, 11, 27, 15, 0)));
    assert_eq!(d.original_resolve_due, Some(sh(2026, 11, 25, 15, 0)));
    assert_eq!(case.appeal.pending_extension, None);

    // Nothing pending any more.
    let err = case.refused(&supervisor(), t_later(), Command::ApproveExtension);
    assert_code(&err, ErrorCode::NoPendingExtension, None);

    // The reply drops nothing, the deadline stays moved.
    case.reply(t_later());
    assert_eq!(
        case.appeal.deadlines.resolve_due,
        Some(sh(2026, 11, 27, 15, 0))
    );
}

#[test]
fn extension_must_come_a_working_day_before_the_deadline() {
    let world = World::new();
    let case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    let staff = unit_staff(UNIT_A);
    // Deadline Wednesday 2026-11-25 15:00: Tuesday 15:00 is the last moment.
    assert!(
        case.attempt(&staff, sh(2026, 11, 24, 15, 0), extension(Some(2), None))
            .is_ok()
    );
    for late in [
        sh(2026, 11, 24, 15, 1),
        sh(2026, 11, 25, 9, 0),
        sh(2026, 11, 26, 9, 0),
    ] {
        let err = case.refused(&staff, late, extension(Some(2), None));
        assert_code(&err, ErrorCode::ExtensionTooLate, None);
    }
    // A request on the weekend counts from Monday: still early enough.
    assert!(
        case.attempt(&staff, sh(2026, 11, 21, 12, 0), extension(Some(2), None))
            .is_ok()
    );
}

#[test]
fn approve_with_nothing_pending() {
    let world = World::new();
    let case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    let err = case.refused(&supervisor(), t_later(), Command::ApproveExtension);
    assert_code(&err, ErrorCode::NoPendingExtension, None);
}

#[test]
fn extension_content_is_checked() {
    let world = World::new();
    let case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    let staff = unit_staff(UNIT_A);
    let now = t_later();
    for days in [0, 31, 1000] {
        let err = case.refused(&staff, now, extension(Some(days), None));
        assert_code(&err, ErrorCode::InvalidValue, Some("days"));
        assert_eq!(arg(&err, "max"), Some("30"));
    }
    assert!(case.attempt(&staff, now, extension(Some(1), None)).is_ok());
    assert!(case.attempt(&staff, now, extension(Some(30), None)).is_ok());
    for (days, hours) in [(None, None), (None, Some(4))] {
        let err = case.refused(&staff, now, extension(days, hours));
        assert_code(&err, ErrorCode::MissingField, Some("days"));
    }
    let err = case.refused(
        &staff,
        now,
        Command::RequestExtension {
            days: Some(2),
            hours: None,
            reason: " ".to_owned(),
        },
    );
    assert_code(&err, ErrorCode::EmptyField, Some("reason"));
}

#[test]
fn urgent_extension_is_in_hours_before_the_deadline() {
    let world = World::new();
    let mut case = Case::new(&world, Kind::Help, Priority::Urgent);
    case.dispatch(UNIT_A, sh(2026, 11, 20, 20, 0));
    case.accept(sh(2026, 11, 20, 20, 10));
    let staff = unit_staff(UNIT_A);
    let now = sh(2026, 11, 21, 7, 0);

    let err = case.refused(&staff, now, extension(Some(1), None));
    assert_code(&err, ErrorCode::MissingField, Some("hours"));
    let err = case.refused(&staff, now, extension(None, None));
    assert_code(&err, ErrorCode::MissingField, Some("hours"));
    for hours in [0, 73] {
        let err = case.refused(&staff, now, extension(None, Some(hours)));
        assert_code(&err, ErrorCode::InvalidValue, Some("hours"));
        assert_eq!(arg(&err, "max"), Some("72"));
    }
    // Any time before the deadline (Saturday 08:00), not at or after it.
    for late in [sh(2026, 11, 21, 8, 0), sh(2026, 11, 21, 9, 0)] {
        let err = case.refused(&staff, late, extension(None, Some(4)));
        assert_code(&err, ErrorCode::ExtensionTooLate, None);
    }

    let events = case.step(&staff, now, extension(None, Some(4)));
    assert_eq!(data(&events[0])["limit"], "4h");
    case.step(
        &supervisor(),
        sh(2026, 11, 21, 7, 30),
        Command::ApproveExtension,
    );
    let d = &case.appeal.deadlines;
    assert_eq!(d.resolve_due, Some(sh(2026, 11, 21, 12, 0)));
    assert_eq!(d.original_resolve_due, Some(sh(2026, 11, 21, 8, 0)));
}

#[test]
fn a_pending_extension_does_not_outlive_the_accepted_status() {
    let world = World::new();
    let staff = unit_staff(UNIT_A);
    // Replied with a request still pending: it can never be approved any more.
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    case.step(&staff, t_reply(), extension(Some(2), None));
    case.reply(t_later());
    assert_eq!(case.appeal.pending_extension, None);
    case.rate(Rating::Satisfied, sh(2026, 11, 24, 9, 0));
    assert_eq!(case.appeal.pending_extension, None);

    // Reassigned: the new unit did not ask.
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    case.step(&staff, t_reply(), extension(Some(2), None));
    case.step(
        &dispatcher(),
        t_later(),
        Command::Reassign {
            unit: UNIT_B.into(),
            matter: None,
        },
    );
    assert_eq!(case.appeal.pending_extension, None);

    // Voided.
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    case.step(&staff, t_reply(), extension(Some(2), None));
    case.step(
        &dispatcher(),
        t_later(),
        Command::Void {
            reason: "重复工单".to_owned(),
        },
    );
    assert_eq!(case.appeal.pending_extension, None);
}

// ---- 7. Bad rating and rework ----

#[test]
fn bad_rating_reopens_for_rework() {
    let world = World::new();
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Replied);
    let events = case.rate(Rating::Dissatisfied, t_rate());
    assert_eq!(
        events.iter().map(|e| e.event_type()).collect::<Vec<_>>(),
        [EventType::Rated, EventType::Reopened]
    );
    assert_eq!(data(&events[0])["rating"], "dissatisfied");
    assert_eq!(data(&events[1])["rework_count"], 1);
    assert_eq!(case.appeal.status, Status::Reopened);
    assert_eq!(case.appeal.rework_count, 1);
    assert_eq!(case.appeal.rating, Some(Rating::Dissatisfied));
    // Monday 2026-11-23 12:00 + 15 working days = Monday 2026-12-14 12:00.
    let d = &case.appeal.deadlines;
    assert_eq!(d.resolve_due, Some(sh(2026, 12, 14, 12, 0)));
    assert_eq!(
        data(&events[1])["resolve_due"],
        json!(sh(2026, 12, 14, 12, 0))
    );
    assert_eq!(d.response_due, Some(sh(2026, 11, 23, 12, 30)));
    // The original deadline is kept for statistics.
    assert_eq!(d.original_resolve_due, Some(sh(2026, 11, 25, 15, 0)));

    // The same unit signs for it again and replies again.
    let events = case.step(
        &unit_staff(UNIT_A),
        sh(2026, 11, 23, 12, 20),
        Command::Accept,
    );
    assert_eq!(events[0].event_type(), EventType::Accepted);
    assert_eq!(case.appeal.status, Status::Accepted);
    case.reply(sh(2026, 11, 24, 10, 0));
    case.rate(Rating::VerySatisfied, sh(2026, 11, 24, 11, 0));
    assert_eq!(case.appeal.status, Status::Closed);
    assert_eq!(case.appeal.rating, Some(Rating::VerySatisfied));
    assert_eq!(case.appeal.rework_count, 1);
    assert_eq!(
        case.types(),
        [
            EventType::Received,
            EventType::Dispatched,
            EventType::Accepted,
            EventType::Replied,
            EventType::Rated,
            EventType::Reopened,
            EventType::Accepted,
            EventType::Replied,
            EventType::Rated,
            EventType::Closed,
        ]
    );
    let seqs: Vec<i64> = case.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<i64>>());
    assert_eq!(case.appeal.version, 10);
}

#[test]
fn each_bad_rating_counts_and_neutral_closes() {
    let world = World::new();
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Replied);
    case.rate(Rating::VeryDissatisfied, t_rate());
    assert_eq!(case.appeal.status, Status::Reopened);
    case.accept(t_later());
    case.reply(sh(2026, 11, 24, 9, 0));
    case.rate(Rating::Dissatisfied, sh(2026, 11, 24, 12, 0));
    assert_eq!(case.appeal.status, Status::Reopened);
    assert_eq!(case.appeal.rework_count, 2);
    // Tuesday 2026-11-24 12:00 + 15 working days = Tuesday 2026-12-15 12:00.
    assert_eq!(
        case.appeal.deadlines.resolve_due,
        Some(sh(2026, 12, 15, 12, 0))
    );

    // 基本满意 is neutral: it closes the appeal.
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Replied);
    let events = case.rate(Rating::BasicallySatisfied, t_rate());
    assert_eq!(events[1].event_type(), EventType::Closed);
    assert_eq!(case.appeal.status, Status::Closed);
    assert_eq!(case.appeal.rework_count, 0);
}

// ---- 8. Close ----

#[test]
fn consultation_closed_on_the_spot_by_the_agent() {
    let world = World::new();
    let mut case = Case::new(&world, Kind::Consultation, Priority::Normal);
    let events = case.step(
        &agent(),
        sh(2026, 11, 20, 14, 55),
        Command::Close {
            reason: Some("一次性告知办理流程".to_owned()),
        },
    );
    assert_eq!(case.appeal.status, Status::Closed);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), EventType::Closed);
    assert_eq!(events[0].reason.as_deref(), Some("一次性告知办理流程"));
    assert_eq!(data(&events[0])["rated"], false);
    assert_eq!(case.appeal.version, 2);
}

#[test]
fn only_consultations_close_on_the_spot() {
    let world = World::new();
    for kind in Kind::iter().filter(|k| *k != Kind::Consultation) {
        let case = Case::new(&world, kind, Priority::Normal);
        let err = case.refused(&agent(), t_dispatch(), Command::Close { reason: None });
        assert_code(&err, ErrorCode::NotAConsultation, None);
        let err = case.refused(&supervisor(), t_dispatch(), Command::Close { reason: None });
        assert_code(&err, ErrorCode::NotAConsultation, None);
    }
}

#[test]
fn an_agent_may_not_close_a_replied_appeal() {
    let world = World::new();
    let case = reach(&world, Kind::Complaint, Priority::Normal, Status::Replied);
    let err = case.refused(&agent(), t_later(), Command::Close { reason: None });
    assert_code(&err, ErrorCode::Forbidden, None);
    assert_eq!(arg(&err, "role"), Some("agent"));
    assert_eq!(arg(&err, "action"), Some("close"));
}

#[test]
fn supervisor_closes_an_unrated_reply() {
    let world = World::new();
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Replied);
    let events = case.step(
        &supervisor(),
        sh(2026, 11, 30, 9, 0),
        Command::Close {
            reason: Some("回访未接通,视为未评价".to_owned()),
        },
    );
    assert_eq!(case.appeal.status, Status::Closed);
    assert_eq!(case.appeal.rating, None);
    assert_eq!(data(&events[0])["rated"], false);

    // After a rework the second reply is unrated too, though an earlier one was rated.
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Reopened);
    case.accept(t_later());
    case.reply(sh(2026, 11, 24, 9, 0));
    let events = case.step(
        &supervisor(),
        sh(2026, 12, 1, 9, 0),
        Command::Close { reason: None },
    );
    assert_eq!(case.appeal.status, Status::Closed);
    assert_eq!(data(&events[0])["rated"], false);
    assert_eq!(events[0].reason, None);
}

#[test]
fn close_reason_is_checked_when_given() {
    let world = World::new();
    let case = Case::new(&world, Kind::Consultation, Priority::Normal);
    let err = case.refused(
        &agent(),
        t_dispatch(),
        Command::Close {
            reason: Some(String::new()),
        },
    );
    assert_code(&err, ErrorCode::EmptyField, Some("reason"));
    let err = case.refused(
        &agent(),
        t_dispatch(),
        Command::Close {
            reason: Some("长".repeat(MAX_REASON_CHARS + 1)),
        },
    );
    assert_code(&err, ErrorCode::TooLong, Some("reason"));
}

// ---- 9. Validation ----

#[test]
fn return_and_void_need_a_reason() {
    let world = World::new();
    let case = reach(
        &world,
        Kind::Complaint,
        Priority::Normal,
        Status::Dispatched,
    );
    for reason in ["", "   ", "\n\t"] {
        let err = case.refused(
            &unit_staff(UNIT_A),
            t_accept(),
            Command::Return {
                reason: reason.to_owned(),
            },
        );
        assert_code(&err, ErrorCode::EmptyField, Some("reason"));
        let err = case.refused(
            &dispatcher(),
            t_accept(),
            Command::Void {
                reason: reason.to_owned(),
            },
        );
        assert_code(&err, ErrorCode::EmptyField, Some("reason"));
    }
    let err = case.refused(
        &unit_staff(UNIT_A),
        t_accept(),
        Command::Return {
            reason: "退".repeat(MAX_REASON_CHARS + 1),
        },
    );
    assert_code(&err, ErrorCode::TooLong, Some("reason"));
    assert_eq!(arg(&err, "max"), Some("1000"));
    // Exactly the maximum is fine (characters, not bytes).
    assert!(
        case.attempt(
            &unit_staff(UNIT_A),
            t_accept(),
            Command::Return {
                reason: "退".repeat(MAX_REASON_CHARS),
            },
        )
        .is_ok()
    );

    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Received);
    let events = case.step(
        &dispatcher(),
        t_dispatch(),
        Command::Void {
            reason: "测试工单".to_owned(),
        },
    );
    assert_eq!(events[0].event_type(), EventType::Voided);
    assert_eq!(events[0].reason.as_deref(), Some("测试工单"));
}

#[test]
fn reply_needs_a_result() {
    let world = World::new();
    let case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    let staff = unit_staff(UNIT_A);
    let err = case.refused(
        &staff,
        t_reply(),
        Command::Reply {
            result: " ".to_owned(),
        },
    );
    assert_code(&err, ErrorCode::EmptyField, Some("result"));
    let err = case.refused(
        &staff,
        t_reply(),
        Command::Reply {
            result: "答".repeat(MAX_RESULT_CHARS + 1),
        },
    );
    assert_code(&err, ErrorCode::TooLong, Some("result"));
    assert_eq!(arg(&err, "max"), Some("10000"));
}

#[test]
fn rating_comment_is_limited() {
    let world = World::new();
    let case = reach(&world, Kind::Complaint, Priority::Normal, Status::Replied);
    let who = appellant(&case.appeal);
    let err = case.refused(
        &who,
        t_rate(),
        Command::Rate {
            rating: Rating::Satisfied,
            comment: Some("好".repeat(MAX_REASON_CHARS + 1)),
        },
    );
    assert_code(&err, ErrorCode::TooLong, Some("comment"));
    assert_eq!(arg(&err, "max"), Some("1000"));
    let decision = case
        .attempt(
            &who,
            t_rate(),
            Command::Rate {
                rating: Rating::Satisfied,
                comment: None,
            },
        )
        .unwrap();
    assert!(data(&decision.events()[0])["comment"].is_null());
}

#[test]
fn control_characters_are_refused_in_every_text_field_of_a_submission() {
    let world = World::new();
    let ctx = |actor| world.rules.context(t_received(), actor);
    let agent = agent();
    type Edit = fn(&mut NewAppeal, String);
    let fields: [(&str, Edit); 10] = [
        ("title", |n, v| n.title = v),
        ("body", |n, v| n.body = v),
        ("appellant.name", |n, v| {
            if let Appellant::Enterprise { name, .. } = &mut n.appellant {
                *name = v;
            }
        }),
        ("appellant.phone", |n, v| {
            if let Appellant::Enterprise { phone, .. } = &mut n.appellant {
                *phone = Some(v);
            }
        }),
        ("appellant.uscc", |n, v| {
            if let Appellant::Enterprise { uscc, .. } = &mut n.appellant {
                *uscc = v;
            }
        }),
        ("appellant.wechat_openid", |n, v| {
            if let Appellant::Enterprise { wechat_openid, .. } = &mut n.appellant {
                *wechat_openid = Some(v);
            }
        }),
        ("location.address", |n, v| n.location.address = Some(v)),
        ("attachments[0].name", |n, v| n.attachments[0].name = v),
        ("attachments[0].content_type", |n, v| {
            n.attachments[0].content_type = Some(v)
        }),
        ("attachments[0].url", |n, v| n.attachments[0].url = Some(v)),
    ];
    for (field, edit) in fields {
        for (bad, character, position) in [
            ("\u{0}", "U+0000", "4"),
            ("\u{1b}[2J", "U+001B", "4"),
            ("\u{7f}", "U+007F", "4"),
            ("\u{9b}", "U+009B", "4"),
        ] {
            let mut new = sample_new_appeal(Kind::Complaint, Priority::Normal);
            new.attachments.push(crate::appeal::Attachment {
                name: "现场照片.jpg".to_owned(),
                content_type: None,
                size: None,
                url: None,
            });
            edit(&mut new, format!("一二三{bad}四"));
            let err = Intake::new(new, &ctx(&agent)).unwrap_err();
            assert_code(&err, ErrorCode::ControlCharacters, Some(field));
            assert_eq!(arg(&err, "character"), Some(character), "{field}");
            assert_eq!(arg(&err, "position"), Some(position), "{field}");
        }
    }
    // Line breaks and tabs are text.
    let mut new = sample_new_appeal(Kind::Complaint, Priority::Normal);
    new.body = "第一段\r\n第二段\t完".to_owned();
    assert!(Intake::new(new, &ctx(&agent)).is_ok());
}

#[test]
fn control_characters_are_refused_in_reasons_replies_and_comments() {
    let world = World::new();
    let bad = "已处理\u{0}".to_owned();
    let dispatched = reach(
        &world,
        Kind::Complaint,
        Priority::Normal,
        Status::Dispatched,
    );
    let staff = unit_staff(UNIT_A);
    let err = dispatched.refused(
        &staff,
        t_accept(),
        Command::Return {
            reason: bad.clone(),
        },
    );
    assert_code(&err, ErrorCode::ControlCharacters, Some("reason"));
    let err = dispatched.refused(
        &dispatcher(),
        t_accept(),
        Command::Void {
            reason: bad.clone(),
        },
    );
    assert_code(&err, ErrorCode::ControlCharacters, Some("reason"));
    let accepted = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    let err = accepted.refused(
        &staff,
        t_reply(),
        Command::Reply {
            result: bad.clone(),
        },
    );
    assert_code(&err, ErrorCode::ControlCharacters, Some("result"));
    let err = accepted.refused(
        &staff,
        t_reply(),
        Command::Pause {
            reason: bad.clone(),
        },
    );
    assert_code(&err, ErrorCode::ControlCharacters, Some("reason"));
    let err = accepted.refused(
        &staff,
        t_reply(),
        Command::RequestExtension {
            days: Some(2),
            hours: None,
            reason: bad.clone(),
        },
    );
    assert_code(&err, ErrorCode::ControlCharacters, Some("reason"));
    let replied = reach(&world, Kind::Complaint, Priority::Normal, Status::Replied);
    let err = replied.refused(
        &appellant(&replied.appeal),
        t_rate(),
        Command::Rate {
            rating: Rating::Satisfied,
            comment: Some(bad.clone()),
        },
    );
    assert_code(&err, ErrorCode::ControlCharacters, Some("comment"));
    let err = replied.refused(
        &supervisor(),
        t_rate(),
        Command::Close { reason: Some(bad) },
    );
    assert_code(&err, ErrorCode::ControlCharacters, Some("reason"));
}

#[test]
fn the_public_cannot_set_the_priority_staff_can() {
    let world = World::new();
    for (actor, kept) in [
        (Actor::public(), Priority::Normal),
        (agent(), Priority::Urgent),
        (dispatcher(), Priority::Urgent),
        (actor("admin", Role::Admin), Priority::Urgent),
    ] {
        let new = sample_new_appeal(Kind::Complaint, Priority::Urgent);
        let received = Intake::new(new, &world.rules.context(t_received(), &actor))
            .unwrap()
            .receive(TicketNo::from("20261120-000001"));
        assert_eq!(received.appeal().priority, kept, "{}", actor.role);
        assert_eq!(data(&received.events()[0])["priority"], kept.as_str());
    }
}

#[test]
fn an_appellant_is_known_by_phone_digits_else_openid() {
    let person = |phone: Option<&str>, openid: Option<&str>| Appellant::Person {
        name: "李女士".to_owned(),
        phone: phone.map(str::to_owned),
        wechat_openid: openid.map(str::to_owned),
    };
    for phone in ["13800138000", "+86 138-0013-8000", " 138 0013 8000 "] {
        assert_eq!(
            person(Some(phone), Some("oX1")).contact().as_deref(),
            Some("phone:13800138000")
        );
    }
    assert_eq!(
        person(None, Some("oAbC123")).contact().as_deref(),
        Some("wechat:oAbC123")
    );
    assert_eq!(person(None, None).contact(), None);
}

// ---- 10. Merge ----

#[test]
fn merge_into_itself_is_refused() {
    let world = World::new();
    let case = Case::new(&world, Kind::Complaint, Priority::Normal);
    let err = case.refused(
        &dispatcher(),
        t_dispatch(),
        Command::Merge {
            into: Box::new(case.appeal.clone()),
        },
    );
    assert_code(&err, ErrorCode::InvalidValue, Some("into"));

    let mut case = reach(
        &world,
        Kind::Complaint,
        Priority::Normal,
        Status::Dispatched,
    );
    let target = other_appeal(&world);
    let into = Box::new(target.clone());
    let events = case.step(&dispatcher(), t_accept(), Command::Merge { into });
    assert_eq!(case.appeal.status, Status::Merged);
    assert_eq!(events[0].event_type(), EventType::Merged);
    assert_eq!(data(&events[0])["into"], target.id.to_string());
}

#[test]
fn a_merge_records_the_duplicate_on_its_target_too() {
    let world = World::new();
    let case = Case::new(&world, Kind::Complaint, Priority::Normal);
    let target = other_appeal(&world);
    let merge = Command::Merge {
        into: Box::new(target.clone()),
    };
    let decision = case.attempt(&dispatcher(), t_accept(), merge).unwrap();
    let changes: Vec<&Change> = decision.changes().collect();
    let [duplicate, kept] = changes[..] else {
        panic!("a merge changes two appeals")
    };
    assert_eq!(duplicate.appeal().status, Status::Merged);
    assert_eq!(kept.appeal().id, target.id);
    assert_eq!(kept.appeal().status, Status::Received);
    assert_eq!(kept.appeal().duplicates, vec![case.appeal.id]);
    assert_eq!(kept.base_version(), target.version);
    assert_eq!(kept.appeal().version, target.version + 1);
    let [recorded] = kept.events() else {
        panic!("one event on the target")
    };
    assert_eq!(recorded.seq, target.version + 1);
    assert_eq!(
        recorded.payload,
        EventPayload::DuplicateMerged {
            duplicate: case.appeal.id,
            ticket_no: case.appeal.ticket_no.clone(),
        }
    );
    // Nothing can be merged into an appeal that was itself merged or voided.
    let mut gone = target;
    gone.status = Status::Voided;
    let merge = Command::Merge {
        into: Box::new(gone),
    };
    let err = case.refused(&dispatcher(), t_accept(), merge);
    assert_code(&err, ErrorCode::InvalidValue, Some("into"));
}

#[test]
fn classification_sets_the_matter_and_urgency_signals_make_it_urgent() {
    let world = World::new();
    let mut case = Case::new(&world, Kind::Complaint, Priority::Normal);
    let urgent = Classification {
        urgent_signals: vec!["燃气泄漏".to_owned()],
        duplicate_of: Some(AppealId::new()),
        ..classification()
    };
    let events = case.step(
        &dispatcher(),
        t_dispatch(),
        Command::Classify(urgent.clone()),
    );
    assert_eq!(case.appeal.status, Status::Received);
    assert_eq!(case.appeal.priority, Priority::Urgent);
    assert_eq!(case.appeal.matter.as_deref(), Some("FIN-01"));
    assert_eq!(case.appeal.duplicate_of, urgent.duplicate_of);
    assert_eq!(data(&events[0])["priority"], "urgent");
    // Once dispatched, the priority stays what the dispatch's deadlines were set for.
    let mut dispatched = reach(
        &world,
        Kind::Complaint,
        Priority::Normal,
        Status::Dispatched,
    );
    dispatched.step(&dispatcher(), t_accept(), Command::Classify(urgent));
    assert_eq!(dispatched.appeal.priority, Priority::Normal);
}

#[test]
fn a_leader_takes_the_case() {
    let world = World::new();
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    case.appeal.sla.level = 1;
    let leader = Actor {
        in_charge_of: vec![UNIT_A.into()],
        user: Some(UserId::new()),
        ..actor("王区长", Role::Leader)
    };
    let events = case.step(&leader, t_later(), Command::Own);
    assert_eq!(case.appeal.owners, vec![leader.as_staff()]);
    assert_eq!(
        data(&events[0]),
        json!({"leader": "王区长", "user": leader.user})
    );
    let again = case.refused(&leader, t_later(), Command::Own);
    assert_eq!(again.code, ErrorCode::AlreadyOwned);
}

#[test]
fn received_event_is_the_first() {
    let world = World::new();
    let received = intake(&world, Kind::Report, Priority::Urgent, "wechat");
    let event = received.events()[0].clone();
    let appeal = received.into_appeal();
    assert_eq!(event.seq, 1);
    assert_eq!(event.appeal_id, appeal.id);
    assert_eq!(event.at, appeal.created_at);
    assert_eq!(event.actor, "wechat");
    assert_eq!(event.event_type(), EventType::Received);
    assert_eq!(data(&event)["channel"], "web");
    assert_eq!(data(&event)["kind"], "report");
    assert_eq!(data(&event)["priority"], "urgent");
    assert_eq!(data(&event)["ticket_no"], "20261120-000001");
    assert_eq!(appeal.version, 1);
}

// ---- 11. Confidential appeals ----

/// The shipped rules with the discipline office named.
fn rules_with_office() -> World {
    World {
        rules: Rules {
            discipline_unit: Some("JWJW".into()),
            ..Rules::shipped()
        },
    }
}

fn conduct_complaint() -> Classification {
    Classification {
        matter: Some("PTY-09".into()),
        unit: Some("JWJW".into()),
        confidence: 1.0,
        rule: Some("conduct_complaint".to_owned()),
        confidential: true,
        subject_unit: Some(UNIT_A.into()),
        ..classification()
    }
}

#[test]
fn a_conduct_complaint_never_goes_to_the_unit_it_accuses() {
    let world = rules_with_office();
    let mut case = Case::new(&world, Kind::Complaint, Priority::Normal);
    let events = case.step(
        &dispatcher(),
        t_dispatch(),
        Command::Classify(conduct_complaint()),
    );
    assert!(case.appeal.confidential);
    assert_eq!(case.appeal.subject_unit.as_deref(), Some(UNIT_A));
    assert_eq!(data(&events[0])["confidential"], true);
    assert_eq!(data(&events[0])["subject_unit"], UNIT_A);
    let admin = actor("admin", Role::Admin);
    for unit in [UNIT_A, UNIT_B] {
        let dispatch = Command::Dispatch {
            unit: unit.into(),
            matter: None,
        };
        let err = case.refused(&admin, t_dispatch(), dispatch);
        let expected = if unit == UNIT_A {
            ErrorCode::SubjectUnitRefused
        } else {
            ErrorCode::ConfidentialToDisciplineOnly
        };
        assert_code(&err, expected, Some("unit"));
    }
    let to_office = Command::Dispatch {
        unit: "JWJW".into(),
        matter: None,
    };
    case.step(&admin, t_dispatch(), to_office);
    assert_eq!(case.appeal.unit.as_deref(), Some("JWJW"));
    // Reassigning it to the accused unit later is refused too.
    let back = Command::Reassign {
        unit: UNIT_A.into(),
        matter: None,
    };
    let err = case.refused(&admin, t_accept(), back);
    assert_code(&err, ErrorCode::SubjectUnitRefused, Some("unit"));
}

#[test]
fn marking_takes_the_appeal_from_the_unit_to_the_discipline_office() {
    let world = rules_with_office();
    let case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    let reader = Actor {
        mailbox_reader: true,
        ..actor("书记信箱管理员", Role::Leader)
    };
    let mark = Command::MarkConfidential {
        subject_unit: Some(UNIT_A.into()),
    };
    let decision = case.attempt(&reader, t_later(), mark).unwrap();
    let types: Vec<EventType> = decision.events().iter().map(Event::event_type).collect();
    assert_eq!(
        types,
        [EventType::MarkedConfidential, EventType::Reassigned]
    );
    let marked = decision.appeal();
    assert!(marked.confidential);
    assert_eq!(marked.status, Status::Dispatched);
    assert_eq!(marked.unit.as_deref(), Some("JWJW"));
    assert_eq!(marked.subject_unit.as_deref(), Some(UNIT_A));
    assert_eq!(
        marked.sla.started_at,
        Some(t_later()),
        "both clocks start again"
    );
}

#[test]
fn a_mailbox_letter_is_confidential_from_the_start() {
    let world = World::new();
    let mut new = sample_new_appeal(Kind::Complaint, Priority::Normal);
    new.channel = crate::appeal::Channel::Mailbox;
    let agent = actor("agent-1", Role::Agent);
    let received = Intake::new(new, &world.rules.context(t_received(), &agent))
        .unwrap()
        .receive(TicketNo::from("20261120-000009"));
    assert!(received.appeal().confidential);
    assert_eq!(data(&received.events()[0])["confidential"], true);
    let ordinary = intake(&world, Kind::Complaint, Priority::Normal, "agent-1");
    assert!(!ordinary.appeal().confidential);
    assert!(data(&ordinary.events()[0]).get("confidential").is_none());
}

#[test]
fn the_appellants_material_resumes_the_paused_clock() {
    let world = World::new();
    let mut case = reach(&world, Kind::Complaint, Priority::Normal, Status::Accepted);
    let staff = unit_staff(UNIT_A);
    let pause = Command::Pause {
        reason: "请补充营业执照复印件".to_owned(),
    };
    case.step(&staff, t_reply(), pause);
    let who = appellant(&case.appeal);
    let added = Command::Supplement {
        text: "已上传营业执照复印件".to_owned(),
    };
    let events = case.step(&who, t_rate(), added);
    let types: Vec<EventType> = events.iter().map(Event::event_type).collect();
    assert_eq!(types, [EventType::Supplemented, EventType::Resumed]);
    assert_eq!(case.appeal.sla.paused_since, None);
    assert_eq!(case.appeal.sla.paused_seconds, 3 * 3600);
    // Not paused: the material is recorded, nothing else.
    let more = Command::Supplement {
        text: "再补充一张照片".to_owned(),
    };
    let events = case.step(&who, t_later(), more);
    assert_eq!(events.len(), 1);
}

#[test]
fn events_record_the_user_behind_the_actor() {
    let world = World::new();
    let user = crate::value::ids::UserId::new();
    let mut agent = actor("话务员小李", Role::Agent);
    agent.user = Some(user);
    let ctx = world.rules.context(t_received(), &agent);
    let received = Intake::new(sample_new_appeal(Kind::Complaint, Priority::Normal), &ctx)
        .unwrap()
        .receive(TicketNo::from("20261120-000001"));
    assert_eq!(received.events()[0].actor_id, Some(user));
    let appeal = received.into_appeal();

    let mut dispatching = dispatcher();
    let dispatched = world
        .decide(
            &appeal,
            &dispatching,
            t_dispatch(),
            Command::Dispatch {
                unit: UNIT_A.into(),
                matter: None,
            },
        )
        .unwrap();
    assert_eq!(dispatched.events()[0].actor_id, None, "no user behind it");
    let other = crate::value::ids::UserId::new();
    dispatching.user = Some(other);
    let dispatched = world
        .decide(
            &appeal,
            &dispatching,
            t_dispatch(),
            Command::Dispatch {
                unit: UNIT_A.into(),
                matter: None,
            },
        )
        .unwrap();
    assert!(
        dispatched
            .events()
            .iter()
            .all(|e| e.actor_id == Some(other))
    );
}
