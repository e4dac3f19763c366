//! Typed identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// Identifies one appeal (诉求/工单).
    AppealId
);
uuid_id!(
    /// Identifies one event in an appeal's history.
    EventId
);

macro_rules! code_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(code: impl Into<String>) -> Self {
                Self(code.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(code: String) -> Self {
                Self(code)
            }
        }

        impl From<&str> for $name {
            fn from(code: &str) -> Self {
                Self(code.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

code_id!(
    /// A responsible unit's code (责任单位), e.g. `GHZRZYJ`.
    UnitCode
);
code_id!(
    /// A service matter's code (服务事项), e.g. `IND-11`.
    MatterCode
);
code_id!(
    /// A ticket number (工单编号), e.g. `20261123-000001`.
    TicketNo
);

uuid_id!(
    /// Identifies one user of the platform: a person with a role (staff), not a token.
    UserId
);
uuid_id!(
    /// Identifies one token (its `jti`), so that it can be revoked before it expires.
    TokenId
);

/// A member of staff as an appeal records them (its owners, the agent who logged it): the
/// user and the display name they had then. Access follows the user, never the name; one
/// recorded before users existed (`user` none) is a title only and grants nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StaffRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    pub name: String,
}

impl StaffRef {
    /// Whether this is `user`.
    pub fn is(&self, user: Option<UserId>) -> bool {
        self.user.is_some() && self.user == user
    }
}
