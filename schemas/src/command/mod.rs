//! Commands: what can be done to an appeal, as validated input, and the table of which
//! action is allowed in which status (SPEC §5). Access rules are in [`access`].

pub mod access;
pub mod user;

use strum::{EnumIter, IntoStaticStr};

use crate::appeal::{Appeal, DueStep, Rating, Status};
use crate::event::{Classification, Mention};
use crate::value::error::{DomainError, ErrorCode};
use crate::value::ids::{MatterCode, StaffRef, UnitCode};

pub use access::{Actor, Role};
pub use user::{NewUser, User};

/// Something that can be done to an appeal: by a person, or by the router and the timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// 分拨: the router's conclusion (matter, suggestions, duplicate link, urgency)
    Classify,
    /// 派单
    Dispatch,
    /// 签收
    Accept,
    /// 退回
    Return,
    /// 改派
    Reassign,
    /// 申请延期
    RequestExtension,
    /// 批准延期
    ApproveExtension,
    /// 办结答复
    Reply,
    /// 评价: 非常满意, 满意 or 基本满意
    RateSatisfied,
    /// 评价: 不满意 or 非常不满意 (差评), which sends it back for rework
    RateUnsatisfied,
    /// 补充材料: the unit waits for the appellant; the resolution clock stops
    Pause,
    /// The appellant's material came: the resolution clock runs again
    Resume,
    Close,
    /// 作废
    Void,
    /// 合并: into the appeal it repeats
    Merge,
    /// 包案: a leader takes ownership of the case
    Own,
    /// Marks a complaint about an official's conduct confidential
    MarkConfidential,
    /// Shows the appellant's personal data to someone not entitled to it, for a reason (audited)
    Reveal,
    /// 补充材料: the appellant adds material or a comment
    Supplement,
    /// A due time-limit step (the worker's timers)
    Fire,
    /// 内部备注: a note for the staff on the case, never shown to the appellant
    Note,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The table of allowed transitions: the status an action leads to from a status, or `None`
/// when the action is not allowed there.
pub fn next_status(from: Status, action: Action) -> Option<Status> {
    use Action as A;
    use Status as S;
    match (from, action) {
        // An audited look at the appellant's details: any status, closed cases too.
        (from, A::Reveal) => Some(from),
        // Notes on the case: any status but a terminal one, which they leave as it is.
        (from, A::Classify | A::Own | A::Fire | A::MarkConfidential | A::Supplement | A::Note)
            if !from.is_terminal() =>
        {
            Some(from)
        }

        (S::Received, A::Dispatch) => Some(S::Dispatched),
        (S::Received, A::Close) => Some(S::Closed),
        (S::Received, A::Void) => Some(S::Voided),
        (S::Received, A::Merge) => Some(S::Merged),

        (S::Dispatched, A::Accept) => Some(S::Accepted),
        (S::Dispatched, A::Return) => Some(S::Returned),
        (S::Dispatched, A::Reassign) => Some(S::Dispatched),
        (S::Dispatched, A::Void) => Some(S::Voided),
        (S::Dispatched, A::Merge) => Some(S::Merged),

        (S::Returned, A::Dispatch) => Some(S::Dispatched),
        (S::Returned, A::Reassign) => Some(S::Dispatched),
        (S::Returned, A::Void) => Some(S::Voided),
        (S::Returned, A::Merge) => Some(S::Merged),

        (S::Accepted, A::RequestExtension) => Some(S::Accepted),
        (S::Accepted, A::ApproveExtension) => Some(S::Accepted),
        (S::Accepted, A::Reply) => Some(S::Replied),
        (S::Accepted, A::Pause) => Some(S::Accepted),
        (S::Accepted, A::Resume) => Some(S::Accepted),
        (S::Accepted, A::Reassign) => Some(S::Dispatched),
        (S::Accepted, A::Void) => Some(S::Voided),

        (S::Replied, A::RateSatisfied) => Some(S::Closed),
        (S::Replied, A::RateUnsatisfied) => Some(S::Reopened),
        (S::Replied, A::Close) => Some(S::Closed),

        (S::Reopened, A::Accept) => Some(S::Accepted),
        (S::Reopened, A::Reassign) => Some(S::Dispatched),
        (S::Reopened, A::Void) => Some(S::Voided),

        _ => None,
    }
}

/// The status `action` leads to, or `action_not_allowed` naming the status and the action.
pub fn transition(from: Status, action: Action) -> Result<Status, DomainError> {
    next_status(from, action).ok_or_else(|| {
        DomainError::new(ErrorCode::ActionNotAllowed)
            .with_arg("action", action.as_str())
            .with_arg("status", from.as_str())
    })
}

/// An action with its content, as validated input.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// The router's conclusion.
    Classify(Classification),
    /// 派单, with the service matter when the dispatcher names it.
    Dispatch {
        unit: UnitCode,
        matter: Option<MatterCode>,
    },
    /// 改派
    Reassign {
        unit: UnitCode,
        matter: Option<MatterCode>,
    },
    Accept,
    Return {
        reason: String,
    },
    RequestExtension {
        days: Option<u32>,
        hours: Option<u32>,
        reason: String,
    },
    ApproveExtension,
    Reply {
        result: String,
    },
    Rate {
        rating: Rating,
        comment: Option<String>,
    },
    Pause {
        /// What the appellant must supply.
        reason: String,
    },
    Resume,
    Close {
        reason: Option<String>,
    },
    Void {
        reason: String,
    },
    /// Into `into`, the appeal this one repeats, which records the duplicate too.
    Merge {
        into: Box<Appeal>,
    },
    /// 包案: the caller, a leader, takes the case.
    Own,
    /// The appeal complains about an official's conduct (of `subject_unit`, when known).
    MarkConfidential {
        subject_unit: Option<UnitCode>,
    },
    /// Shows the caller the appellant's personal data, for `reason` (recorded).
    Reveal {
        reason: String,
    },
    /// The appellant's material or comment; it resumes a clock paused for them.
    Supplement {
        text: String,
    },
    /// A due step of the appeal's time limits; `leaders` are those of its unit, for level 3.
    Fire {
        due: DueStep,
        leaders: UnitLeaders,
    },
    /// An internal note for the staff on the case, naming the units and users it calls on.
    Note {
        text: String,
        mentions: Vec<Mention>,
    },
}

/// Who leads an appeal's unit, for the last step of the ladder (escalation level 3): the
/// taxonomy's title for its leader, and the leaders (users) who become the case's owners.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitLeaders {
    /// The taxonomy's `leader` text, e.g. 分管规划的副区长: named in the escalation.
    pub title: Option<String>,
    /// The enabled leaders in charge of the unit (分管); for a confidential appeal only those
    /// who are mailbox readers, since nobody else may see it.
    pub owners: Vec<StaffRef>,
}

impl UnitLeaders {
    /// The leaders among `users` for `appeal`, with its unit's `title`.
    pub fn of(appeal: &Appeal, users: &[User], title: Option<String>) -> UnitLeaders {
        let in_charge = |user: &&User| {
            !user.disabled
                && user.role == Role::Leader
                && appeal
                    .unit
                    .as_ref()
                    .is_some_and(|unit| user.in_charge_of.contains(unit))
                && (!appeal.confidential || user.mailbox_reader)
        };
        let owners = users
            .iter()
            .filter(in_charge)
            .map(|user| StaffRef {
                user: Some(user.id),
                name: user.name.clone(),
            })
            .collect();
        UnitLeaders { title, owners }
    }
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Classify(_) => Action::Classify,
            Command::Dispatch { .. } => Action::Dispatch,
            Command::Reassign { .. } => Action::Reassign,
            Command::Accept => Action::Accept,
            Command::Return { .. } => Action::Return,
            Command::RequestExtension { .. } => Action::RequestExtension,
            Command::ApproveExtension => Action::ApproveExtension,
            Command::Reply { .. } => Action::Reply,
            Command::Rate { rating, .. } if rating.is_bad() => Action::RateUnsatisfied,
            Command::Rate { .. } => Action::RateSatisfied,
            Command::Pause { .. } => Action::Pause,
            Command::Resume => Action::Resume,
            Command::Close { .. } => Action::Close,
            Command::Void { .. } => Action::Void,
            Command::Merge { .. } => Action::Merge,
            Command::Own => Action::Own,
            Command::MarkConfidential { .. } => Action::MarkConfidential,
            Command::Reveal { .. } => Action::Reveal,
            Command::Supplement { .. } => Action::Supplement,
            Command::Fire { .. } => Action::Fire,
            Command::Note { .. } => Action::Note,
        }
    }
}

/// Longest reason (退回理由, 作废理由, …) accepted, in characters.
pub const MAX_REASON_CHARS: usize = 1_000;
/// Longest reply (办结答复) accepted, in characters.
pub const MAX_RESULT_CHARS: usize = 10_000;
