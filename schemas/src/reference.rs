//! Reference data (基础数据): the taxonomy (units, categories, matters), the holiday calendar and
//! the time-limit policies. Each is a versioned text in the database, in the format of its
//! shipped file; an admin saves a new version, checked here, and publishes it; every process
//! then works with what was last published ([`Reference`], held in a [`Current`]).

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::lifecycle::Rules;
use crate::policy::calendar::{BusinessCalendar, CalendarError};
use crate::policy::sla::{SlaError, SlaPolicies};
use crate::value::taxonomy::{Taxonomy, TaxonomyError};

/// The longest text a version may have (the shipped taxonomy is about 100 KB).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The shipped taxonomy: version 1 of a database that has none (unless configured otherwise).
pub const SHIPPED_TAXONOMY: &str = include_str!("../taxonomy/taxonomy.toml");
/// The shipped official calendar.
pub const SHIPPED_CALENDAR: &str = include_str!("../calendar/cn-official-days.csv");
/// The shipped time-limit policies.
pub const SHIPPED_POLICIES: &str = include_str!("../sla/policies.toml");

/// The routing key of [`Published`] on the bus.
pub const PUBLISHED_ROUTING_KEY: &str = "reference.published";

/// One kind of reference data.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReferenceKind {
    /// Units, categories and matters (`schemas/taxonomy/taxonomy.toml`).
    Taxonomy,
    /// Holidays and adjusted working days (`schemas/calendar/cn-official-days.csv`).
    Calendar,
    /// Time limits (`schemas/sla/policies.toml`).
    Policies,
}

impl ReferenceKind {
    pub const ALL: [ReferenceKind; 3] = [
        ReferenceKind::Taxonomy,
        ReferenceKind::Calendar,
        ReferenceKind::Policies,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The file format of its text: `toml` or `csv`.
    pub fn format(self) -> &'static str {
        match self {
            ReferenceKind::Calendar => "csv",
            ReferenceKind::Taxonomy | ReferenceKind::Policies => "toml",
        }
    }
}

/// A version's text that cannot be used, with what is wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error(transparent)]
    Taxonomy(#[from] TaxonomyError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Policies(#[from] SlaError),
    #[error("{kind:?}: the text is empty")]
    Empty { kind: ReferenceKind },
    #[error("{kind:?}: {bytes} bytes, more than the {MAX_BODY_BYTES} a version may have")]
    TooLarge { kind: ReferenceKind, bytes: usize },
    /// A taxonomy without the discipline office would leave confidential appeals nowhere to go.
    #[error("taxonomy: {0}")]
    Unsafe(String),
}

/// What a valid text holds, to show before it is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Taxonomy: units, categories, matters. Calendar: listed days, years covered. Policies:
    /// rules (the base one and its overrides).
    pub counts: Vec<(&'static str, usize)>,
}

/// Checks `body` as a version of `kind`: it must load exactly as the platform would load it.
pub fn validate(kind: ReferenceKind, body: &str) -> Result<Summary, ReferenceError> {
    if body.trim().is_empty() {
        return Err(ReferenceError::Empty { kind });
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ReferenceError::TooLarge {
            kind,
            bytes: body.len(),
        });
    }
    let counts = match kind {
        ReferenceKind::Taxonomy => {
            let taxonomy = Taxonomy::from_toml(body)?;
            if taxonomy.discipline_unit().is_none() {
                return Err(ReferenceError::Unsafe(
                    "no unit is the discipline office (discipline = true): confidential appeals would have nowhere to go".to_owned(),
                ));
            }
            vec![
                ("units", taxonomy.units.len()),
                ("categories", taxonomy.categories.len()),
                ("matters", taxonomy.matters.len()),
            ]
        }
        ReferenceKind::Calendar => {
            let calendar = BusinessCalendar::from_csv(body)?;
            vec![
                (
                    "days",
                    body.lines()
                        .skip(1)
                        .filter(|l| !l.trim().is_empty())
                        .count(),
                ),
                ("years", calendar.years().count()),
            ]
        }
        ReferenceKind::Policies => {
            let policies = SlaPolicies::from_toml(body)?;
            vec![("rules", policies.overrides() + 1)]
        }
    };
    Ok(Summary { counts })
}

/// One saved version of one kind (its text only when asked for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceVersion {
    pub kind: ReferenceKind,
    /// 1, 2, …, per kind.
    pub version: u32,
    /// What the author said it changes.
    pub note: String,
    /// Who saved it (the admin's name), or `system` for the shipped files.
    pub author: String,
    pub saved_at: DateTime<Utc>,
    /// When it was last published, if ever.
    pub published_at: Option<DateTime<Utc>>,
}

/// The versions of each kind one [`Reference`] was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Versions {
    pub taxonomy: u32,
    pub calendar: u32,
    pub policies: u32,
}

impl Versions {
    pub fn of(&self, kind: ReferenceKind) -> u32 {
        match kind {
            ReferenceKind::Taxonomy => self.taxonomy,
            ReferenceKind::Calendar => self.calendar,
            ReferenceKind::Policies => self.policies,
        }
    }
}

/// Said on the bus when an admin has published `version` of `kind`: every process reloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub kind: ReferenceKind,
    pub version: u32,
}

/// The texts of one version of each kind.
#[derive(Debug, Clone, Copy)]
pub struct Texts<'a> {
    pub taxonomy: &'a str,
    pub calendar: &'a str,
    pub policies: &'a str,
}

/// What every process works with: the published taxonomy and the rules built from the
/// published calendar and policies.
#[derive(Debug, Clone)]
pub struct Reference {
    pub versions: Versions,
    pub taxonomy: Arc<Taxonomy>,
    pub rules: Arc<Rules>,
}

impl Reference {
    /// Builds the reference data from its texts in the city's time zone `tz`.
    pub fn build(versions: Versions, texts: Texts<'_>, tz: Tz) -> Result<Self, ReferenceError> {
        let taxonomy = Taxonomy::from_toml(texts.taxonomy)?;
        Ok(Self::of(
            versions,
            taxonomy,
            SlaPolicies::from_toml(texts.policies)?,
            BusinessCalendar::from_csv(texts.calendar)?,
            tz,
        ))
    }

    /// Reference data from values already loaded.
    pub fn of(
        versions: Versions,
        taxonomy: Taxonomy,
        policies: SlaPolicies,
        calendar: BusinessCalendar,
        tz: Tz,
    ) -> Self {
        let rules = Rules {
            policies,
            calendar,
            tz,
            discipline_unit: taxonomy.discipline_unit().map(|u| u.code.clone()),
        };
        Self {
            versions,
            taxonomy: Arc::new(taxonomy),
            rules: Arc::new(rules),
        }
    }
}

/// A value every task of a process reads and a reload replaces at once: readers keep the
/// `Arc` they took for as long as they work with it.
#[derive(Debug)]
pub struct Current<T: ?Sized>(RwLock<Arc<T>>);

impl<T: ?Sized> Current<T> {
    pub fn new(value: Arc<T>) -> Self {
        Self(RwLock::new(value))
    }

    /// The value now.
    pub fn get(&self) -> Arc<T> {
        // A writer cannot panic while holding the lock (it only swaps an Arc).
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the value; readers see it from their next `get`.
    pub fn set(&self, value: Arc<T>) {
        match self.0.write() {
            Ok(mut guard) => *guard = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAXONOMY: &str = SHIPPED_TAXONOMY;
    const CALENDAR: &str = SHIPPED_CALENDAR;
    const POLICIES: &str = SHIPPED_POLICIES;

    #[test]
    fn the_shipped_files_are_valid_versions() {
        for (kind, body) in [
            (ReferenceKind::Taxonomy, TAXONOMY),
            (ReferenceKind::Calendar, CALENDAR),
            (ReferenceKind::Policies, POLICIES),
        ] {
            let summary = validate(kind, body).unwrap();
            assert!(
                summary.counts.iter().any(|(_, n)| *n > 0),
                "{kind:?}: {summary:?}"
            );
        }
        let texts = Texts {
            taxonomy: TAXONOMY,
            calendar: CALENDAR,
            policies: POLICIES,
        };
        let reference =
            Reference::build(Versions::default(), texts, chrono_tz::Asia::Shanghai).unwrap();
        assert!(reference.rules.discipline_unit.is_some());
    }

    #[test]
    fn a_bad_text_is_refused_with_where_it_is_wrong() {
        let policies = POLICIES.replace("response = \"30m\"", "response = \"30 minutes\"");
        let e = validate(ReferenceKind::Policies, &policies).unwrap_err();
        assert!(e.to_string().contains("30 minutes"), "{e}");
        let calendar = format!("{CALENDAR}2027-02-30,holiday,Spring Festival\n");
        let e = validate(ReferenceKind::Calendar, &calendar).unwrap_err();
        assert!(e.to_string().contains("2027-02-30"), "{e}");
        let e = validate(ReferenceKind::Taxonomy, "  \n").unwrap_err();
        assert!(matches!(e, ReferenceError::Empty { .. }), "{e}");
        let no_office = TAXONOMY.replace("discipline = true", "discipline = false");
        let e = validate(ReferenceKind::Taxonomy, &no_office).unwrap_err();
        assert!(e.to_string().contains("discipline"), "{e}");
    }

    #[test]
    fn readers_keep_what_they_took_and_see_the_new_value_next() {
        let current = Current::new(Arc::new(1));
        let taken = current.get();
        current.set(Arc::new(2));
        assert_eq!((*taken, *current.get()), (1, 2));
    }

    #[test]
    fn kinds_read_back_from_their_names() {
        for kind in ReferenceKind::ALL {
            assert_eq!(kind.as_str().parse::<ReferenceKind>().unwrap(), kind);
        }
    }
}
