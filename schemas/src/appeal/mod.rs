//! The appeal (诉求/工单), the values it is made of, and its time-limit track.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;

use crate::value::snake_enum;

use crate::value::error::{DomainError, ErrorCode};
use crate::value::ids::{AppealId, MatterCode, StaffRef, TicketNo, UnitCode, UserId};
use crate::value::taxonomy::PlaceFound;
use crate::value::uscc;

pub mod mask;
pub mod signature;
pub mod track;

pub use track::{DueStep, SlaTrack, Step, TimeLimit};

snake_enum!(
    /// Where an appeal came in (渠道).
    Channel {
        /// 12345 phone call logged by an agent.
        Hotline,
        /// 书记信箱, the party-secretary mailbox.
        Mailbox,
        Wechat,
        Web,
        Open311,
    }
);

impl Channel {
    /// Channels an appellant uses directly, without an agent.
    pub fn is_public(self) -> bool {
        !matches!(self, Channel::Hotline)
    }
}

snake_enum!(
    /// What the appellant wants (诉求类型).
    Kind {
        /// 投诉
        Complaint,
        /// 求助
        Help,
        /// 咨询
        Consultation,
        /// 建议
        Suggestion,
        /// 举报
        Report,
        /// 表扬
        Praise,
    }
);

snake_enum!(
    /// How fast the appeal must be solved.
    Priority {
        Normal,
        /// 紧急: solved within 12 hours.
        Urgent,
    }
);

snake_enum!(
    /// Where the appeal stands in its lifecycle (SPEC §5).
    Status {
        Received,
        Dispatched,
        Accepted,
        Returned,
        Replied,
        Reopened,
        Closed,
        Merged,
        Voided,
    }
);

impl Status {
    /// No action can change an appeal in a terminal status.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Merged | Status::Voided)
    }

    /// Still being worked on: its resolution deadline can be missed (a replied appeal waits for
    /// its rating, not for the unit).
    pub fn is_open(self) -> bool {
        !self.is_terminal() && self != Status::Replied
    }

    /// The statuses `holds` is true of.
    pub fn matching(holds: fn(Status) -> bool) -> impl Iterator<Item = Status> {
        Status::iter().filter(move |s| holds(*s))
    }

    /// Waiting for a dispatcher: never dispatched yet, or returned by the unit.
    pub fn awaits_dispatch(self) -> bool {
        matches!(self, Status::Received | Status::Returned)
    }

    /// Dispatched (or reopened) and not yet accepted or returned: the unit must sign for it
    /// within the response limit.
    pub fn awaits_acceptance(self) -> bool {
        matches!(self, Status::Dispatched | Status::Reopened)
    }
}

snake_enum!(
    /// The national 好差评 scale.
    Rating {
        /// 非常满意
        VerySatisfied,
        /// 满意
        Satisfied,
        /// 基本满意
        BasicallySatisfied,
        /// 不满意
        Dissatisfied,
        /// 非常不满意
        VeryDissatisfied,
    }
);

impl Rating {
    /// 不满意 and 非常不满意 are bad ratings: they send the appeal back for rework.
    pub fn is_bad(self) -> bool {
        matches!(self, Rating::Dissatisfied | Rating::VeryDissatisfied)
    }

    /// 非常满意 and 满意 count as satisfied in the statistics.
    pub fn is_good(self) -> bool {
        matches!(self, Rating::VerySatisfied | Rating::Satisfied)
    }
}

/// Who brought the appeal: a person or an enterprise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Appellant {
    Person {
        name: String,
        phone: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wechat_openid: Option<String>,
    },
    Enterprise {
        name: String,
        phone: Option<String>,
        /// 统一社会信用代码, checked per GB 32100-2015.
        uscc: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wechat_openid: Option<String>,
    },
}

impl Appellant {
    pub fn name(&self) -> &str {
        match self {
            Appellant::Person { name, .. } | Appellant::Enterprise { name, .. } => name,
        }
    }

    pub fn phone(&self) -> Option<&str> {
        match self {
            Appellant::Person { phone, .. } | Appellant::Enterprise { phone, .. } => {
                phone.as_deref()
            }
        }
    }

    pub fn wechat_openid(&self) -> Option<&str> {
        match self {
            Appellant::Person { wechat_openid, .. }
            | Appellant::Enterprise { wechat_openid, .. } => wechat_openid.as_deref(),
        }
    }

    /// Who the appellant is, whatever way the number is written: `phone:` and its digits
    /// (without `+86`), else `wechat:` and the openid; `None` for neither.
    pub fn contact(&self) -> Option<String> {
        self.phone()
            .and_then(phone_key)
            .or_else(|| self.wechat_openid().and_then(wechat_key))
    }

    /// Every key the appellant is known by (phone, USCC, WeChat id), for a caller's history
    /// and for duplicates.
    pub fn keys(&self) -> Vec<String> {
        let uscc = match self {
            Appellant::Enterprise { uscc, .. } => uscc_key(uscc),
            Appellant::Person { .. } => None,
        };
        [
            self.phone().and_then(phone_key),
            uscc,
            self.wechat_openid().and_then(wechat_key),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn validate(&self) -> Result<(), DomainError> {
        require_text(self.name(), "appellant.name", 100)?;
        if let Some(phone) = self.phone() {
            check_characters(phone, "appellant.phone")?;
            validate_phone(phone)?;
        }
        if let Some(openid) = self.wechat_openid() {
            check_characters(openid, "appellant.wechat_openid")?;
        }
        if let Appellant::Enterprise { uscc: code, .. } = self {
            check_characters(code, "appellant.uscc")?;
            uscc::validate(code).map_err(|e| e.with_field("appellant.uscc"))?;
        }
        Ok(())
    }
}

/// Where the matter is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub latitude: Option<f64>,
}

impl Location {
    fn validate(&self) -> Result<(), DomainError> {
        if let Some(address) = &self.address {
            if address.chars().count() > 200 {
                return Err(DomainError::new(ErrorCode::TooLong)
                    .with_field("location.address")
                    .with_arg("max", "200"));
            }
            check_characters(address, "location.address")?;
        }
        match (self.longitude, self.latitude) {
            (None, None) => Ok(()),
            (Some(lon), Some(lat))
                if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) =>
            {
                Ok(())
            }
            (Some(lon), Some(_)) if !(-180.0..=180.0).contains(&lon) => {
                Err(DomainError::new(ErrorCode::InvalidCoordinates)
                    .with_field("location.longitude"))
            }
            (Some(_), Some(_)) => {
                Err(DomainError::new(ErrorCode::InvalidCoordinates).with_field("location.latitude"))
            }
            (None, Some(_)) => {
                Err(DomainError::new(ErrorCode::MissingField).with_field("location.longitude"))
            }
            (Some(_), None) => {
                Err(DomainError::new(ErrorCode::MissingField).with_field("location.latitude"))
            }
        }
    }
}

/// Metadata of a file the appellant attached (the file itself lives elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub name: String,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A submission as received from any channel, before it is accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAppeal {
    pub channel: Channel,
    pub kind: Kind,
    #[serde(default = "default_priority")]
    pub priority: Priority,
    pub title: String,
    pub body: String,
    pub appellant: Appellant,
    #[serde(default)]
    pub location: Location,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

fn default_priority() -> Priority {
    Priority::Normal
}

/// Longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body accepted, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// Most attachments on one appeal.
pub const MAX_ATTACHMENTS: usize = 20;

impl NewAppeal {
    /// Checks every field; the first problem found is returned with the field named.
    pub fn validate(&self) -> Result<(), DomainError> {
        require_text(&self.title, "title", MAX_TITLE_CHARS)?;
        require_text(&self.body, "body", MAX_BODY_CHARS)?;
        self.appellant.validate()?;
        self.location.validate()?;
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(DomainError::new(ErrorCode::TooMany)
                .with_field("attachments")
                .with_arg("max", MAX_ATTACHMENTS.to_string()));
        }
        for (i, a) in self.attachments.iter().enumerate() {
            require_text(&a.name, &format!("attachments[{i}].name"), 255)?;
            for (value, name) in [(&a.content_type, "content_type"), (&a.url, "url")] {
                if let Some(value) = value {
                    check_characters(value, &format!("attachments[{i}].{name}"))?;
                }
            }
        }
        Ok(())
    }
}

/// The digits of a phone number however it is written, without the country code `+86`.
pub fn national_digits(phone: &str) -> String {
    let trimmed = phone.trim();
    let national = trimmed.strip_prefix("+86").unwrap_or(trimmed);
    national.chars().filter(char::is_ascii_digit).collect()
}

/// The key of a phone number however it is written: `phone:` and its national digits.
pub fn phone_key(phone: &str) -> Option<String> {
    let digits = national_digits(phone);
    (!digits.is_empty()).then(|| format!("phone:{digits}"))
}

/// The key of a USCC (统一社会信用代码): `uscc:` and the code in capitals.
pub fn uscc_key(uscc: &str) -> Option<String> {
    let code = uscc.trim().to_ascii_uppercase();
    (!code.is_empty()).then(|| format!("uscc:{code}"))
}

fn wechat_key(openid: &str) -> Option<String> {
    let id = openid.trim();
    (!id.is_empty()).then(|| format!("wechat:{id}"))
}

/// A non-empty text of at most `max` characters, without control characters.
pub fn require_text(value: &str, field: &str, max: usize) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::new(ErrorCode::EmptyField).with_field(field));
    }
    if value.chars().count() > max {
        return Err(DomainError::new(ErrorCode::TooLong)
            .with_field(field)
            .with_arg("max", max.to_string()));
    }
    check_characters(value, field)
}

/// Refuses control characters (NUL and the rest of U+0000–U+001F, U+007F–U+009F) except tab,
/// line feed and carriage return, naming the field, the character and its position.
pub fn check_characters(value: &str, field: &str) -> Result<(), DomainError> {
    let refused = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    match value.chars().enumerate().find(|(_, c)| refused(*c)) {
        None => Ok(()),
        Some((i, c)) => Err(DomainError::new(ErrorCode::ControlCharacters)
            .with_field(field)
            .with_arg("character", format!("U+{:04X}", u32::from(c)))
            .with_arg("position", (i + 1).to_string())),
    }
}

/// A mainland mobile number (11 digits starting with 1), or a landline such as `0898-12345678`,
/// optionally with `+86`.
pub fn validate_phone(phone: &str) -> Result<(), DomainError> {
    let trimmed = phone.trim();
    let national = trimmed
        .strip_prefix("+86")
        .map(|s| s.trim_start_matches(['-', ' ']))
        .unwrap_or(trimmed);
    let digits: String = national
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .collect();
    let all_digits = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    let mobile = digits.len() == 11 && digits.starts_with('1');
    let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
    let service = digits.len() == 5 && digits.starts_with("12");
    if all_digits && (mobile || landline || service) {
        Ok(())
    } else {
        Err(DomainError::new(ErrorCode::InvalidPhone)
            .with_field("appellant.phone")
            .with_arg("value", phone))
    }
}

/// The time limits running on an appeal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// The unit must accept or return it by then (签收时限).
    pub response_due: Option<DateTime<Utc>>,
    /// The unit must reply by then (办结时限), moved by approved extensions.
    pub resolve_due: Option<DateTime<Utc>>,
    /// The resolution deadline set at dispatch, kept for statistics.
    pub original_resolve_due: Option<DateTime<Utc>>,
}

/// An extension a unit asked for and a supervisor has not yet approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingExtension {
    pub days: Option<u32>,
    pub hours: Option<u32>,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
}

/// A service matter the router thinks an appeal is about, with its unit and how sure it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub matter: MatterCode,
    pub unit: UnitCode,
    /// Calibrated probability, 0–1.
    pub probability: f64,
}

/// Why the router left an appeal to the dispatcher though it was sure of the matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::AsRefStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Held {
    /// A territorial matter, and no street of the district found in the address, the
    /// coordinates or the text.
    NoPlace,
}

/// The current state of an appeal: the projection of its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appeal {
    pub id: AppealId,
    pub ticket_no: TicketNo,
    pub channel: Channel,
    pub kind: Kind,
    pub priority: Priority,
    pub status: Status,
    pub title: String,
    pub body: String,
    pub appellant: Appellant,
    pub location: Location,
    pub attachments: Vec<Attachment>,
    /// The service matter (服务事项) code, once classified.
    pub matter: Option<MatterCode>,
    /// The responsible unit (责任单位) code, once dispatched.
    pub unit: Option<UnitCode>,
    pub deadlines: Deadlines,
    pub pending_extension: Option<PendingExtension>,
    pub rating: Option<Rating>,
    /// How many times a bad rating sent it back for rework (整改).
    pub rework_count: u32,
    /// The router's best guesses, best first (shown to the dispatcher).
    #[serde(default)]
    pub suggestions: Vec<Suggestion>,
    /// An earlier appeal this one probably repeats (same appellant or near-identical text).
    #[serde(default)]
    pub duplicate_of: Option<AppealId>,
    /// The street the appeal is in, when the router looked for it (a territorial matter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<PlaceFound>,
    /// Why the router left the appeal to the dispatcher though it was sure of the matter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
    /// Later appeals merged into this one as its duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<AppealId>,
    /// The leaders who own the case (包案): who took it, and those in charge of its unit when
    /// it reached the leader (escalation level 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<StaffRef>,
    /// A complaint about officials' conduct (书记信箱): seen and handled only by the discipline
    /// office, mailbox readers and admins; for everyone else it does not exist.
    #[serde(default)]
    pub confidential: bool,
    /// The unit a confidential appeal complains about: it is never sent there.
    #[serde(default)]
    pub subject_unit: Option<UnitCode>,
    /// The agent who logged it from a call (首问责任): they see it unmasked.
    #[serde(default)]
    pub logged_by: Option<StaffRef>,
    /// Its time limits at work: what has fired, pauses, the next step.
    #[serde(default)]
    pub sla: SlaTrack,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Number of events applied; the store updates only when it still holds this version.
    pub version: i64,
}

impl Appeal {
    /// A freshly received appeal.
    pub fn received(
        id: AppealId,
        ticket_no: TicketNo,
        new: NewAppeal,
        at: DateTime<Utc>,
    ) -> Appeal {
        Appeal {
            id,
            ticket_no,
            channel: new.channel,
            kind: new.kind,
            priority: new.priority,
            status: Status::Received,
            title: new.title,
            body: new.body,
            appellant: new.appellant,
            location: new.location,
            attachments: new.attachments,
            matter: None,
            unit: None,
            deadlines: Deadlines::default(),
            pending_extension: None,
            rating: None,
            rework_count: 0,
            suggestions: Vec::new(),
            duplicate_of: None,
            place: None,
            held: None,
            duplicates: Vec::new(),
            owners: Vec::new(),
            // Everything that comes through the party secretary's mailbox is confidential.
            confidential: new.channel == Channel::Mailbox,
            subject_unit: None,
            logged_by: None,
            sla: SlaTrack::default(),
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }
}

impl Appeal {
    /// Escalated (督办): its resolution deadline was missed, or the supervisor was called for a
    /// unit that did not sign for it. A leader in charge of its unit sees it from then on.
    pub fn is_escalated(&self) -> bool {
        self.sla.level >= 1 || self.sla.response_escalated
    }

    /// Whether `user` owns the case (包案).
    pub fn is_owned_by(&self, user: Option<UserId>) -> bool {
        self.owners.iter().any(|owner| owner.is(user))
    }

    /// Whether `user` is the agent who logged it (首问责任).
    pub fn is_logged_by(&self, user: Option<UserId>) -> bool {
        self.logged_by.as_ref().is_some_and(|agent| agent.is(user))
    }

    /// Whether `unit` holds the appeal now: it was dispatched there and not returned.
    pub fn is_with(&self, unit: Option<&UnitCode>) -> bool {
        unit.is_some() && self.unit.as_ref() == unit && self.status != Status::Returned
    }

    /// The appellant's name as written, for masking it inside free text (a person's only: an
    /// enterprise's name is not personal data).
    pub fn person_names(&self) -> Vec<&str> {
        match &self.appellant {
            Appellant::Person { name, .. } => vec![name.as_str()],
            Appellant::Enterprise { .. } => Vec::new(),
        }
    }

    /// The appeal with personal data masked (SPEC §8): the appellant's name, phone and WeChat
    /// id, and phone, ID-card and house numbers and the name inside title, body, address and
    /// attachment names.
    pub fn masked(&self) -> Appeal {
        let names = self.person_names();
        let text = |t: &str| mask::text(t, &names);
        let mut out = self.clone();
        out.appellant = match &self.appellant {
            Appellant::Person {
                name,
                phone,
                wechat_openid,
            } => Appellant::Person {
                name: mask::name(name),
                phone: phone.as_deref().map(mask::phone),
                wechat_openid: wechat_openid.as_deref().map(mask::opaque),
            },
            Appellant::Enterprise {
                name,
                phone,
                uscc,
                wechat_openid,
            } => Appellant::Enterprise {
                name: name.clone(),
                phone: phone.as_deref().map(mask::phone),
                uscc: uscc.clone(),
                wechat_openid: wechat_openid.as_deref().map(mask::opaque),
            },
        };
        out.title = text(&self.title);
        out.body = text(&self.body);
        out.location.address = self.location.address.as_deref().map(text);
        for attachment in &mut out.attachments {
            attachment.name = text(&attachment.name);
            attachment.url = None;
        }
        out
    }

    /// Overdue at `now` (超期): still being worked on and past its resolution deadline.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && self.deadlines.resolve_due.is_some_and(|due| due < now)
    }

    /// How late it is at `now`: past its resolution deadline, or, while it waits for the unit
    /// to sign, past its response deadline; zero when not late.
    pub fn late_seconds(&self, now: DateTime<Utc>) -> i64 {
        let past =
            |due: Option<DateTime<Utc>>| due.map_or(0, |due| (now - due).num_seconds().max(0));
        let response = if self.status.awaits_acceptance() {
            past(self.deadlines.response_due)
        } else {
            0
        };
        past(self.deadlines.resolve_due).max(response)
    }
}

/// An enterprise's appeal about a rent subsidy: what the domain's tests start from.
#[cfg(test)]
pub(crate) fn sample_new_appeal(kind: Kind, priority: Priority) -> NewAppeal {
    NewAppeal {
        channel: Channel::Web,
        kind,
        priority,
        title: "厂房租金补贴迟迟未到账".to_owned(),
        body: "我司于今年三月申请的厂房租金补贴至今未到账,请协调办理。".to_owned(),
        appellant: Appellant::Enterprise {
            name: "三亚某科技有限公司".to_owned(),
            phone: Some("13800138000".to_owned()),
            uscc: "914403001922038216".to_owned(),
            wechat_openid: None,
        },
        location: Location::default(),
        attachments: Vec::new(),
    }
}
