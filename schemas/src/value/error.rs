//! Stable error codes. Each code is also the Fluent message id of its text in `locales/`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use strum::{EnumIter, IntoStaticStr};

/// Every error the platform reports to a client, as a stable snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumIter, IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    // Input
    InvalidJson,
    UnknownField,
    MissingField,
    InvalidValue,
    InvalidType,
    EmptyField,
    TooLong,
    TooMany,
    /// A control character (other than tab, line feed, carriage return) in a text field.
    ControlCharacters,
    InvalidPhone,
    /// A password outside the rules (10 to 256 characters, no control characters).
    WeakPassword,
    /// A version of the reference data (taxonomy, calendar, policies) that does not load;
    /// `detail` says what is wrong and where.
    InvalidReferenceData,
    InvalidUscc,
    InvalidUsccLength,
    InvalidUsccCharacter,
    InvalidOrganizationCode,
    InvalidCoordinates,
    InvalidQuery,
    PayloadTooLarge,
    UnsupportedMediaType,
    // Access
    Unauthenticated,
    InvalidToken,
    Forbidden,
    WrongUnit,
    /// Too many submissions from one client address or appellant: try again later.
    RateLimited,
    // Resources
    NotFound,
    AppealNotFound,
    UnknownUnit,
    UnknownMatter,
    MatterUnitMismatch,
    UnknownAction,
    // Lifecycle
    ActionNotAllowed,
    ConcurrentUpdate,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    SameUnit,
    /// A confidential appeal may not go to the unit it complains about.
    SubjectUnitRefused,
    /// A confidential appeal goes to the discipline office only.
    ConfidentialToDisciplineOnly,
    NoPendingExtension,
    ExtensionPending,
    ExtensionTooLate,
    ExtensionUnitMismatch,
    NotAConsultation,
    AlreadyPaused,
    /// The leader owns the case already (包案).
    AlreadyOwned,
    NotPaused,
    // Server
    Timeout,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule of the domain was broken: the code, the field it concerns and the values the message
/// needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}{}", .field.as_deref().map(|f| format!(" ({f})")).unwrap_or_default())]
pub struct DomainError {
    pub code: ErrorCode,
    pub field: Option<String>,
    pub args: BTreeMap<&'static str, String>,
}

impl DomainError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            field: None,
            args: BTreeMap::new(),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.insert(name, value.into());
        self
    }
}

impl From<ErrorCode> for DomainError {
    fn from(code: ErrorCode) -> Self {
        DomainError::new(code)
    }
}
