//! Who may do what (SPEC §1): roles, the actor behind a request, and the access rules.

use serde::{Deserialize, Serialize};

use crate::appeal::{Appeal, Channel};
use crate::command::Action;
use crate::value::error::{DomainError, ErrorCode};
use crate::value::ids::{AppealId, StaffRef, UnitCode, UserId};
use crate::value::snake_enum;

snake_enum!(
    /// A role from SPEC §1.
    Role {
        /// 话务员
        Agent,
        /// 派单员
        Dispatcher,
        /// 承办单位 staff, bound to one unit.
        Unit,
        /// 督办员
        Supervisor,
        /// 领导
        Leader,
        /// 管理员
        Admin,
        /// The appellant following their own appeal.
        Appellant,
    }
);

/// The authenticated caller of a request, or the public for anonymous submissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Recorded as the `actor` of the events this caller causes.
    pub name: String,
    pub role: Role,
    /// The unit of a `unit` actor.
    pub unit: Option<UnitCode>,
    /// The appeal of an `appellant` actor.
    pub appeal: Option<AppealId>,
    /// The user behind a staff token; `None` for the platform itself and for appellants.
    #[serde(default)]
    pub user: Option<UserId>,
    /// The units a leader or supervisor is in charge of (分管).
    #[serde(default)]
    pub in_charge_of: Vec<UnitCode>,
    /// May read and handle confidential appeals (书记信箱 readers).
    #[serde(default)]
    pub mailbox_reader: bool,
}

impl Actor {
    /// The platform itself (router, worker).
    pub fn system() -> Actor {
        Actor {
            name: "system".to_owned(),
            role: Role::Admin,
            unit: None,
            appeal: None,
            user: None,
            in_charge_of: Vec::new(),
            mailbox_reader: false,
        }
    }

    /// The public submitting through a public channel without a token: recorded as
    /// `appellant`.
    pub fn public() -> Actor {
        Actor {
            name: "appellant".to_owned(),
            role: Role::Appellant,
            unit: None,
            appeal: None,
            user: None,
            in_charge_of: Vec::new(),
            mailbox_reader: false,
        }
    }

    /// This caller, or for the public the appellant of `appeal` (who follows what they just
    /// submitted).
    pub fn following(&self, appeal: AppealId) -> Actor {
        match self.role {
            Role::Appellant => Actor {
                appeal: Some(appeal),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// Whether this caller may see the appeal at all (else it is reported as not found). Unit
    /// staff see what their unit holds now (not what it returned); a confidential appeal
    /// exists only for admins, mailbox readers and the unit (the discipline office) holding it.
    pub fn can_read(&self, appeal: &Appeal) -> bool {
        match self.role {
            Role::Appellant => self.appeal == Some(appeal.id),
            // A confidential appeal only ever goes to the discipline office.
            Role::Unit => {
                appeal.is_with(self.unit.as_ref()) || (appeal.confidential && self.mailbox_reader)
            }
            _ if appeal.confidential => self.reads_confidential(),
            Role::Leader => self.leads(appeal),
            Role::Agent | Role::Dispatcher | Role::Supervisor | Role::Admin => true,
        }
    }

    /// A leader's cases: those they own, and the escalated ones of the units they are in
    /// charge of (分管). A mailbox reader also oversees confidential appeals.
    pub fn leads(&self, appeal: &Appeal) -> bool {
        let in_charge = appeal
            .unit
            .as_ref()
            .is_some_and(|unit| self.in_charge_of.contains(unit));
        appeal.is_owned_by(self.user)
            || (in_charge && appeal.is_escalated())
            || (appeal.confidential && self.mailbox_reader)
    }

    /// Whether this caller sees the appellant's personal data unmasked: the unit the appeal is
    /// dispatched to, the agent who logged it, its owners, the appellant and admins (SPEC §8).
    pub fn sees_personal_data(&self, appeal: &Appeal) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Appellant => self.appeal == Some(appeal.id),
            Role::Unit => appeal.is_with(self.unit.as_ref()),
            Role::Agent => appeal.is_logged_by(self.user) || appeal.is_owned_by(self.user),
            Role::Dispatcher | Role::Supervisor | Role::Leader => appeal.is_owned_by(self.user),
        }
    }

    /// This caller as an appeal records them (an owner, the agent who logged it).
    pub fn as_staff(&self) -> StaffRef {
        StaffRef {
            user: self.user,
            name: self.name.clone(),
        }
    }

    /// Whether this caller sees confidential appeals wherever they are: admins and mailbox
    /// readers.
    pub fn reads_confidential(&self) -> bool {
        self.role == Role::Admin || self.mailbox_reader
    }

    /// Whether this caller may list and search appeals; units see only their own.
    pub fn can_list(&self) -> bool {
        self.role != Role::Appellant
    }

    /// Whether this caller may submit through `channel`; the public (no token) uses public
    /// channels only.
    pub fn may_submit(actor: Option<&Actor>, channel: Channel) -> bool {
        match actor {
            None => channel.is_public(),
            Some(a) => matches!(a.role, Role::Agent | Role::Dispatcher | Role::Admin),
        }
    }

    /// Whether a submission by this caller keeps the priority it asks for: staff who take
    /// submissions do; the public's are normal (the router and staff raise urgent ones).
    pub fn may_set_priority(&self) -> bool {
        matches!(self.role, Role::Agent | Role::Dispatcher | Role::Admin)
    }

    /// Checks that this caller may take `action` on `appeal`: `appeal_not_found` when they may
    /// not even see it, `forbidden` when they see it but the action is not theirs.
    pub fn authorize(&self, action: Action, appeal: &Appeal) -> Result<(), DomainError> {
        if !self.can_read(appeal) {
            return Err(DomainError::new(ErrorCode::AppealNotFound));
        }
        let allowed = match action {
            // The router's identity is a dispatcher's; the timers run as the system (admin).
            Action::Classify => matches!(self.role, Role::Dispatcher | Role::Admin),
            // Ownership is a person's: a token for a role alone owns nothing.
            Action::Own => matches!(self.role, Role::Leader | Role::Admin) && self.user.is_some(),
            Action::MarkConfidential => self.reads_confidential(),
            Action::Reveal | Action::Note => self.role != Role::Appellant,
            Action::Supplement => self.role == Role::Appellant,
            Action::Fire => self.role == Role::Admin,
            // A confidential appeal waits for the mailbox readers, not the dispatchers.
            Action::Dispatch | Action::Reassign | Action::Void | Action::Merge => {
                matches!(self.role, Role::Dispatcher | Role::Admin)
                    || (appeal.confidential && self.mailbox_reader)
            }
            Action::Accept
            | Action::Return
            | Action::RequestExtension
            | Action::Reply
            | Action::Pause
            | Action::Resume => self.role == Role::Unit,
            Action::ApproveExtension => matches!(self.role, Role::Supervisor | Role::Admin),
            // An agent closes a consultation answered on the spot (一次性告知).
            Action::Close => matches!(self.role, Role::Supervisor | Role::Admin | Role::Agent),
            // An agent records the rating given in a call-back (回访).
            Action::RateSatisfied | Action::RateUnsatisfied => {
                matches!(self.role, Role::Appellant | Role::Agent)
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(DomainError::new(ErrorCode::Forbidden)
                .with_arg("role", self.role.as_str())
                .with_arg("action", action.as_str()))
        }
    }
}

#[cfg(test)]
mod tests;
