//! The taxonomy (服务事项目录): responsible units, service categories and service matters, as
//! data loaded at start and validated with errors that name the entry and field at fault.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::value::ids::{MatterCode, UnitCode};
use crate::value::unit::Unit;

mod places;
pub use places::{
    Community, FoundBy, PlaceFound, Street, place_of, street_named_in, street_nearest,
};

/// A responsible unit (责任单位).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxonomyUnit {
    pub code: UnitCode,
    pub name: String,
    pub name_en: String,
    /// Who owns cases escalated to the leader level (包案).
    #[serde(default)]
    pub leader: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// What appellants call the unit besides its name (规自局 for 区规划和自然资源局).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The discipline office (纪委监委): confidential appeals are its business.
    #[serde(default)]
    pub discipline: bool,
    /// Sample data shipped with the platform (the demo district's street offices).
    #[serde(default)]
    pub demo: bool,
}

impl TaxonomyUnit {
    /// The unit as the store keeps it.
    pub fn to_unit(&self) -> Unit {
        Unit {
            code: self.code.clone(),
            name: self.name.clone(),
            demo: self.demo,
            keywords: self.keywords.clone(),
        }
    }
}

/// A service category (服务类别).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

/// A service matter (服务事项), owned by one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matter {
    pub code: MatterCode,
    pub name: String,
    pub name_en: String,
    pub category: String,
    pub unit: UnitCode,
    pub keywords: Vec<String>,
    /// Realistic appeals about this matter: what the router learns from.
    pub examples: Vec<String>,
    /// Words that make an appeal urgent (12-hour limit): gas leaks, building cracks, …
    #[serde(default)]
    pub urgent_keywords: Vec<String>,
    /// Complaints about officials' conduct (书记信箱): seen only by the discipline office,
    /// mailbox readers and admins.
    #[serde(default)]
    pub confidential: bool,
    /// Words that make an appeal on any channel a complaint about an official's conduct (so
    /// confidential); on the mailbox any of `keywords` does.
    #[serde(default)]
    pub conduct_keywords: Vec<String>,
    /// A neighbourhood matter (属地管理: noise, sanitation, a broken road): it goes to the
    /// office of the street the appeal is in, `unit` only owning it in the taxonomy.
    #[serde(default)]
    pub territorial: bool,
}

/// The whole taxonomy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    #[serde(rename = "unit")]
    pub units: Vec<TaxonomyUnit>,
    #[serde(rename = "category")]
    pub categories: Vec<Category>,
    #[serde(rename = "matter")]
    pub matters: Vec<Matter>,
    /// The district's streets and their offices (属地).
    #[serde(default, rename = "street")]
    pub streets: Vec<Street>,
}

/// Why a taxonomy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("taxonomy: {entry}: {problem}")]
    Invalid { entry: String, problem: String },
}

/// The item with the longest of its `names` that `text` mentions (the last one on a tie);
/// empty names mention nothing.
fn longest_mentioned<'a, T, N>(
    items: impl Iterator<Item = &'a T>,
    names: impl Fn(&'a T) -> N,
    text: &str,
) -> Option<&'a T>
where
    N: Iterator<Item = &'a str>,
{
    items
        .flat_map(|item| {
            names(item)
                .filter(|name| !name.is_empty() && text.contains(*name))
                .map(move |name| (name.chars().count(), item))
        })
        .max_by_key(|(length, _)| *length)
        .map(|(_, item)| item)
}

/// ASCII letters, digits, '-' or '_', at least one.
fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn invalid(entry: impl Into<String>, problem: impl Into<String>) -> TaxonomyError {
    TaxonomyError::Invalid {
        entry: entry.into(),
        problem: problem.into(),
    }
}

const SHIPPED: &str = include_str!("../../taxonomy/taxonomy.toml");

impl Taxonomy {
    /// The sample taxonomy shipped with the platform.
    pub fn shipped() -> Result<Self, TaxonomyError> {
        Self::from_toml(SHIPPED)
    }

    /// Parses and validates a taxonomy file.
    pub fn from_toml(text: &str) -> Result<Self, TaxonomyError> {
        let taxonomy: Taxonomy = toml::from_str(text)?;
        taxonomy.validate()?;
        Ok(taxonomy)
    }

    fn validate(&self) -> Result<(), TaxonomyError> {
        let mut unit_codes = HashSet::new();
        for (i, u) in self.units.iter().enumerate() {
            let entry = format!("unit[{i}] {:?}", u.code.as_str());
            if !is_code(u.code.as_str()) {
                return Err(invalid(
                    entry,
                    "code must be ASCII letters, digits, '-' or '_'",
                ));
            }
            if u.name.trim().is_empty() || u.name_en.trim().is_empty() {
                return Err(invalid(entry, "name and name_en must not be empty"));
            }
            if !unit_codes.insert(u.code.as_str()) {
                return Err(invalid(entry, "duplicate unit code"));
            }
        }
        let mut category_codes = HashSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            let entry = format!("category[{i}] {:?}", c.code);
            if c.code.trim().is_empty() || c.name.trim().is_empty() || c.name_en.trim().is_empty() {
                return Err(invalid(entry, "code, name and name_en must not be empty"));
            }
            if !category_codes.insert(c.code.as_str()) {
                return Err(invalid(entry, "duplicate category code"));
            }
        }
        let mut matter_codes = HashSet::new();
        let mut examples = HashSet::new();
        for (i, m) in self.matters.iter().enumerate() {
            let entry = format!("matter[{i}] {:?}", m.code.as_str());
            if m.code.trim().is_empty() || m.name.trim().is_empty() || m.name_en.trim().is_empty() {
                return Err(invalid(entry, "code, name and name_en must not be empty"));
            }
            if !matter_codes.insert(m.code.as_str()) {
                return Err(invalid(entry, "duplicate matter code"));
            }
            if !category_codes.contains(m.category.as_str()) {
                return Err(invalid(entry, format!("unknown category {:?}", m.category)));
            }
            if !unit_codes.contains(m.unit.as_str()) {
                return Err(invalid(
                    entry,
                    format!("unknown unit {:?}", m.unit.as_str()),
                ));
            }
            if m.keywords.iter().all(|k| k.trim().is_empty()) {
                return Err(invalid(entry, "needs at least one keyword"));
            }
            if m.examples.iter().all(|e| e.trim().is_empty()) {
                return Err(invalid(entry, "needs at least one example appeal"));
            }
            for e in &m.examples {
                if !examples.insert(e.trim()) {
                    return Err(invalid(entry, format!("example repeated: {e:?}")));
                }
            }
        }
        for c in &self.categories {
            if !self.matters.iter().any(|m| m.category == c.code) {
                return Err(invalid(format!("category {:?}", c.code), "has no matters"));
            }
        }
        self.validate_confidential()?;
        self.validate_streets(&unit_codes)
    }

    /// Streets with unique ASCII codes, names, known offices and coordinates on the globe.
    fn validate_streets(&self, unit_codes: &HashSet<&str>) -> Result<(), TaxonomyError> {
        let mut codes = HashSet::new();
        for (i, street) in self.streets.iter().enumerate() {
            let entry = format!("street[{i}] {:?}", street.code);
            if !is_code(&street.code) {
                return Err(invalid(
                    entry,
                    "code must be ASCII letters, digits, '-' or '_'",
                ));
            }
            if !codes.insert(street.code.as_str()) {
                return Err(invalid(entry, "duplicate street code"));
            }
            if street.name.trim().is_empty() || street.name_en.trim().is_empty() {
                return Err(invalid(entry, "name and name_en must not be empty"));
            }
            if !unit_codes.contains(street.office.as_str()) {
                return Err(invalid(
                    entry,
                    format!("unknown office unit {:?}", street.office.as_str()),
                ));
            }
            let points = std::iter::once((street.longitude, street.latitude))
                .chain(street.communities.iter().map(|c| (c.longitude, c.latitude)));
            for point in points {
                match point {
                    (None, None) => {}
                    (Some(lon), Some(lat))
                        if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) => {}
                    _ => {
                        return Err(invalid(
                            entry,
                            "longitude and latitude come together, within ±180 and ±90",
                        ));
                    }
                }
            }
            if street.communities.iter().any(|c| c.name.trim().is_empty()) {
                return Err(invalid(entry, "a community without a name"));
            }
        }
        if let Some(m) = self.matters.iter().find(|m| m.territorial)
            && self.streets.is_empty()
        {
            return Err(invalid(
                format!("matter {:?}", m.code.as_str()),
                "a territorial matter needs the streets whose offices take it",
            ));
        }
        Ok(())
    }

    /// One discipline office at most, and the confidential matters are its own.
    fn validate_confidential(&self) -> Result<(), TaxonomyError> {
        let offices: Vec<&TaxonomyUnit> = self.units.iter().filter(|u| u.discipline).collect();
        if let [_, second, ..] = offices[..] {
            return Err(invalid(
                format!("unit {:?}", second.code.as_str()),
                "a second discipline office (only one unit may have discipline = true)",
            ));
        }
        for m in self.matters.iter().filter(|m| m.confidential) {
            if offices.first().is_none_or(|office| office.code != m.unit) {
                return Err(invalid(
                    format!("matter {:?}", m.code.as_str()),
                    "a confidential matter must belong to the discipline office",
                ));
            }
        }
        Ok(())
    }

    /// The discipline office (纪委监委), if the taxonomy names one.
    pub fn discipline_unit(&self) -> Option<&TaxonomyUnit> {
        self.units.iter().find(|u| u.discipline)
    }

    /// The unit `text` names (by its name, its name without the leading 区, or an alias), the
    /// longest mention winning; never the discipline office itself.
    pub fn unit_named_in(&self, text: &str) -> Option<&TaxonomyUnit> {
        longest_mentioned(
            self.units.iter().filter(|u| !u.discipline),
            |u| {
                let short = u.name.strip_prefix('区').filter(|s| s.chars().count() >= 2);
                std::iter::once(u.name.as_str())
                    .chain(short)
                    .chain(u.aliases.iter().map(String::as_str))
            },
            text,
        )
    }

    pub fn matter(&self, code: &str) -> Option<&Matter> {
        self.matters.iter().find(|m| m.code == code)
    }

    pub fn unit(&self, code: &str) -> Option<&TaxonomyUnit> {
        self.units.iter().find(|u| u.code == code)
    }

    pub fn street(&self, code: &str) -> Option<&Street> {
        self.streets.iter().find(|s| s.code == code)
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn matters_of<'a>(&'a self, category: &'a str) -> impl Iterator<Item = &'a Matter> + 'a {
        self.matters.iter().filter(move |m| m.category == category)
    }

    /// Every example appeal with its matter code: the training data of the shipped model.
    pub fn examples(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.matters.iter().flat_map(|m| {
            m.examples
                .iter()
                .map(move |e| (e.as_str(), m.code.as_str()))
        })
    }

    /// The taxonomy as the API serves it: categories with their matters, and the units.
    pub fn to_api(&self) -> serde_json::Value {
        let categories: Vec<serde_json::Value> = self
            .categories
            .iter()
            .map(|c| {
                let matters: Vec<serde_json::Value> = self
                    .matters_of(&c.code)
                    .map(|m| {
                        serde_json::json!({
                            "code": m.code,
                            "name": m.name,
                            "name_en": m.name_en,
                            "unit": m.unit,
                            "keywords": m.keywords,
                            "urgent_keywords": m.urgent_keywords,
                            "confidential": m.confidential,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "code": c.code,
                    "name": c.name,
                    "name_en": c.name_en,
                    "matters": matters,
                })
            })
            .collect();
        let units: Vec<serde_json::Value> = self
            .units
            .iter()
            .map(|u| {
                serde_json::json!({
                    "code": u.code,
                    "name": u.name,
                    "name_en": u.name_en,
                    "leader": u.leader,
                })
            })
            .collect();
        serde_json::json!({ "categories": categories, "units": units })
    }
}

#[cfg(test)]
mod tests;
