//! The people who work on the platform (SPEC §1): a user record with a staff role, and the
//! actor its tokens carry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::appeal::{check_characters, require_text};
use crate::command::access::{Actor, Role};
use crate::value::error::{DomainError, ErrorCode};
use crate::value::ids::{UnitCode, UserId};

/// The longest display name.
pub const MAX_USER_NAME_CHARS: usize = 100;
/// The longest unit code a user may name.
const MAX_UNIT_CODE_CHARS: usize = 64;
/// How many units one leader or supervisor may be in charge of.
const MAX_IN_CHARGE_OF: usize = 100;

/// One user: a person with a staff role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// Recorded as the `actor` of the events the user causes.
    pub name: String,
    /// What they sign in to the console with (with a password); none: tokens only.
    #[serde(default)]
    pub username: Option<String>,
    /// A staff role (never `appellant`).
    pub role: Role,
    /// The unit of a `unit` user.
    pub unit: Option<UnitCode>,
    /// The units a leader or supervisor is in charge of (分管).
    pub in_charge_of: Vec<UnitCode>,
    /// Reads and handles confidential appeals (书记信箱).
    pub mailbox_reader: bool,
    /// A disabled user's tokens are refused.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user to add, as an admin asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    /// Sign-in name: 2 to 64 of a–z, 0–9, `.`, `_`, `-` (lowercased).
    #[serde(default)]
    pub username: Option<String>,
    pub role: Role,
    #[serde(default)]
    pub unit: Option<UnitCode>,
    #[serde(default)]
    pub in_charge_of: Vec<UnitCode>,
    #[serde(default)]
    pub mailbox_reader: bool,
}

impl NewUser {
    /// Checks the rules of a user record: a non-empty name without control characters, a
    /// staff role, a unit for (and only for) unit staff, `in_charge_of` only for leaders and
    /// supervisors. Each error names its field.
    pub fn validate(&self) -> Result<(), DomainError> {
        require_text(&self.name, "name", MAX_USER_NAME_CHARS)?;
        if let Some(username) = &self.username {
            check_username(username)?;
        }
        if self.role == Role::Appellant {
            return Err(DomainError::new(ErrorCode::InvalidValue)
                .with_field("role")
                .with_arg("detail", ": appellant (a staff role)"));
        }
        match (&self.unit, self.role) {
            (None, Role::Unit) => {
                return Err(DomainError::new(ErrorCode::MissingField).with_field("unit"));
            }
            (Some(unit), Role::Unit) => check_code(unit, "unit")?,
            (Some(_), role) => {
                return Err(DomainError::new(ErrorCode::InvalidValue)
                    .with_field("unit")
                    .with_arg(
                        "detail",
                        format!(": only unit staff have a unit, not {role}"),
                    ));
            }
            (None, _) => {}
        }
        if !self.in_charge_of.is_empty() {
            if !matches!(self.role, Role::Leader | Role::Supervisor) {
                return Err(DomainError::new(ErrorCode::InvalidValue)
                    .with_field("in_charge_of")
                    .with_arg(
                        "detail",
                        format!(
                            ": only leaders and supervisors are in charge of units, not {}",
                            self.role
                        ),
                    ));
            }
            if self.in_charge_of.len() > MAX_IN_CHARGE_OF {
                return Err(DomainError::new(ErrorCode::TooMany)
                    .with_field("in_charge_of")
                    .with_arg("max", MAX_IN_CHARGE_OF.to_string()));
            }
            for (i, unit) in self.in_charge_of.iter().enumerate() {
                check_code(unit, &format!("in_charge_of[{i}]"))?;
            }
        }
        Ok(())
    }

    /// Checks that every unit the user names is one of the platform's (`known`).
    pub fn check_units(&self, known: impl Fn(&UnitCode) -> bool) -> Result<(), DomainError> {
        let named = self.unit.iter().map(|u| (u, "unit".to_owned()));
        let in_charge = self
            .in_charge_of
            .iter()
            .enumerate()
            .map(|(i, u)| (u, format!("in_charge_of[{i}]")));
        match named.chain(in_charge).find(|(u, _)| !known(u)) {
            None => Ok(()),
            Some((unit, field)) => Err(DomainError::new(ErrorCode::UnknownUnit)
                .with_field(field)
                .with_arg("unit", unit.as_str())),
        }
    }

    /// The validated user record, created at `now`.
    pub fn into_user(self, id: UserId, now: DateTime<Utc>) -> Result<User, DomainError> {
        self.validate()?;
        let mut in_charge_of = self.in_charge_of;
        in_charge_of.sort();
        in_charge_of.dedup();
        Ok(User {
            id,
            name: self.name.trim().to_owned(),
            username: self.username.map(|u| u.trim().to_lowercase()),
            role: self.role,
            unit: self.unit,
            in_charge_of,
            mailbox_reader: self.mailbox_reader,
            disabled: false,
            created_at: now,
            updated_at: now,
        })
    }
}

/// The longest sign-in name.
const MAX_USERNAME_CHARS: usize = 64;

/// A sign-in name: 2 to 64 of a–z, 0–9, `.`, `_` and `-`, in any case.
fn check_username(username: &str) -> Result<(), DomainError> {
    let username = username.trim();
    require_text(username, "username", MAX_USERNAME_CHARS)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if username.chars().count() < 2 || !username.chars().all(allowed) {
        return Err(DomainError::new(ErrorCode::InvalidValue)
            .with_field("username")
            .with_arg("detail", ": 2 to 64 of a-z, 0-9, . _ -"));
    }
    Ok(())
}

/// A unit code: non-empty, short, without control characters or spaces.
fn check_code(code: &UnitCode, field: &str) -> Result<(), DomainError> {
    require_text(code.as_str(), field, MAX_UNIT_CODE_CHARS)?;
    check_characters(code.as_str(), field)?;
    if code.chars().any(char::is_whitespace) {
        return Err(DomainError::new(ErrorCode::InvalidValue)
            .with_field(field)
            .with_arg("detail", format!(": {code:?}")));
    }
    Ok(())
}

impl User {
    /// The actor a token issued for this user carries.
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.name.clone(),
            role: self.role,
            unit: self.unit.clone(),
            appeal: None,
            user: Some(self.id),
            in_charge_of: self.in_charge_of.clone(),
            mailbox_reader: self.mailbox_reader,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn new(role: Role) -> NewUser {
        NewUser {
            name: "规自局王五".into(),
            username: None,
            role,
            unit: None,
            in_charge_of: Vec::new(),
            mailbox_reader: false,
        }
    }

    fn field_of(user: NewUser) -> (ErrorCode, Option<String>) {
        let e = user.validate().unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn a_user_carries_its_record_into_its_actor() {
        let now = "2026-12-01T08:00:00Z".parse().unwrap();
        let mut leader = new(Role::Leader);
        leader.in_charge_of = vec!["GHZRZYJ".into(), "FGJ".into(), "FGJ".into()];
        leader.mailbox_reader = true;
        let id = UserId::new();
        let user = leader.into_user(id, now).unwrap();
        assert_eq!(
            user.in_charge_of,
            vec![UnitCode::from("FGJ"), "GHZRZYJ".into()]
        );
        let actor = user.actor();
        assert_eq!(actor.user, Some(id));
        assert_eq!(actor.role, Role::Leader);
        assert!(actor.mailbox_reader);
        assert_eq!(actor.in_charge_of, user.in_charge_of);
        assert!(!user.disabled);
    }

    #[test]
    fn the_rules_of_a_user_name_the_field() {
        let mut unit = new(Role::Unit);
        assert_eq!(
            field_of(unit.clone()),
            (ErrorCode::MissingField, Some("unit".into()))
        );
        unit.unit = Some("GHZRZYJ".into());
        assert!(unit.validate().is_ok());
        unit.in_charge_of = vec!["FGJ".into()];
        assert_eq!(
            field_of(unit),
            (ErrorCode::InvalidValue, Some("in_charge_of".into()))
        );

        let mut agent = new(Role::Agent);
        agent.unit = Some("FGJ".into());
        assert_eq!(
            field_of(agent),
            (ErrorCode::InvalidValue, Some("unit".into()))
        );

        let mut blank = new(Role::Agent);
        blank.name = "  ".into();
        assert_eq!(
            field_of(blank),
            (ErrorCode::EmptyField, Some("name".into()))
        );
        let mut control = new(Role::Agent);
        control.name = "王\u{7}五".into();
        assert_eq!(
            field_of(control),
            (ErrorCode::ControlCharacters, Some("name".into()))
        );
        assert_eq!(
            field_of(new(Role::Appellant)),
            (ErrorCode::InvalidValue, Some("role".into()))
        );

        let mut supervisor = new(Role::Supervisor);
        supervisor.in_charge_of = vec!["FGJ".into(), "".into()];
        assert_eq!(
            field_of(supervisor),
            (ErrorCode::EmptyField, Some("in_charge_of[1]".into()))
        );

        for bad in ["w", "wang wu", "王五", "a/b"] {
            let mut named = new(Role::Agent);
            named.username = Some(bad.into());
            assert_eq!(
                field_of(named),
                (ErrorCode::InvalidValue, Some("username".into())),
                "{bad}"
            );
        }
        let mut named = new(Role::Agent);
        named.username = Some(" Wang.Wu-1 ".into());
        let user = named.into_user(UserId::new(), Utc::now()).unwrap();
        assert_eq!(user.username.as_deref(), Some("wang.wu-1"));
    }
}
