//! An appeal's time limits at work: the steps that fire, and what has fired.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::value::snake_enum;

snake_enum!(
    /// Which time limit a step is about.
    TimeLimit {
        /// 派单时限: a dispatcher must place the appeal.
        Dispatch,
        /// 签收时限: the unit must sign for it or return it.
        Response,
        /// 办结时限: the unit must reply.
        Resolution,
        /// 整改: bad ratings sent it back for rework too often.
        Rework,
    }
);

/// A step of an appeal's time limits that fires at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 派单超时: the appeal waited in the dispatcher's queue past the dispatch limit.
    DispatchOverdue,
    /// The dispatchers are reminded again.
    DispatchReminder,
    /// 签收超时: the unit neither accepted nor returned it within the response limit.
    ResponseBreach,
    /// The unit is reminded again to sign.
    ResponseReminder,
    /// The supervisor is alerted to phone a unit that still has not signed.
    ResponseSupervisor,
    /// 预警: the next warning fraction of the resolution time has passed.
    Warning,
    /// 超期: the resolution deadline passed; level 1 of the ladder (the unit is reminded).
    ResolutionBreach,
    /// Level 2 of the ladder: the supervisor (督办员).
    Supervisor,
    /// Level 3 of the ladder: the unit's leader, who takes the case (包案).
    Leader,
    /// 未评价: no rating within the rating wait; the appeal is closed as not rated.
    RatingTimeout,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::DispatchOverdue => "dispatch_overdue",
            Step::DispatchReminder => "dispatch_reminder",
            Step::ResponseBreach => "response_breach",
            Step::ResponseReminder => "response_reminder",
            Step::ResponseSupervisor => "response_supervisor",
            Step::Warning => "warning",
            Step::ResolutionBreach => "resolution_breach",
            Step::Supervisor => "supervisor",
            Step::Leader => "leader",
            Step::RatingTimeout => "rating_timeout",
        }
    }
}

/// A step and the instant it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueStep {
    pub step: Step,
    pub at: DateTime<Utc>,
}

/// Where an appeal stands with its time limits: what has fired, its pauses, what comes next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlaTrack {
    /// When it last started waiting for a dispatcher (a return); `None`: since it was received.
    pub queued_at: Option<DateTime<Utc>>,
    /// When the resolution clock started (dispatch, reassignment or rework).
    pub started_at: Option<DateTime<Utc>>,
    /// When the unit replied: the rating wait runs from then.
    pub replied_at: Option<DateTime<Utc>>,
    /// Reminders sent in the current wait for a dispatcher or for the unit to sign; 0 while
    /// its limit is not missed.
    pub reminders: u32,
    pub last_reminder_at: Option<DateTime<Utc>>,
    /// Whether the supervisor was alerted about the missed response limit.
    pub response_escalated: bool,
    /// Resolution warnings sent for the current deadline.
    pub warnings: u32,
    /// Escalation level reached after the resolution deadline: 0 (none) to 3 (leader).
    pub level: u8,
    /// Waiting for the appellant since then (补充材料): the resolution clock is stopped.
    pub paused_since: Option<DateTime<Utc>>,
    /// Time spent paused, all pauses together, in seconds.
    pub paused_seconds: i64,
    /// The next step and when it is due; the store keeps it as the appeal's timer.
    pub next: Option<DueStep>,
}

impl SlaTrack {
    /// A fresh wait for the unit: dispatch, reassignment or rework starting at `at`. Pauses
    /// already taken stay counted.
    pub fn restart(&mut self, at: DateTime<Utc>) {
        *self = SlaTrack {
            started_at: Some(at),
            paused_seconds: self.paused_seconds + self.paused_until(at),
            ..SlaTrack::default()
        };
    }

    /// Ends a running pause at `at`; the seconds it lasted.
    pub fn end_pause(&mut self, at: DateTime<Utc>) -> i64 {
        let seconds = self.paused_until(at);
        self.paused_since = None;
        self.paused_seconds += seconds;
        seconds
    }

    /// Ends the reminders of the current wait (the unit signed for it).
    pub fn stop_reminders(&mut self) {
        self.reminders = 0;
        self.last_reminder_at = None;
    }

    /// Back in the dispatcher's queue from `at` (the unit returned it).
    pub fn requeue(&mut self, at: DateTime<Utc>) {
        self.stop_reminders();
        self.queued_at = Some(at);
        self.response_escalated = false;
    }

    fn paused_until(&self, at: DateTime<Utc>) -> i64 {
        self.paused_since
            .map_or(0, |since| (at - since).num_seconds().max(0))
    }
}
