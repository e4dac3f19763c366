//! Places (属地): the district's streets (街道), each with its office (街道办) as a responsible
//! unit, and their communities (社区). A territorial matter goes to the office of the street
//! the appeal is in: found by the address, then the coordinates, then the letter's text.

use serde::{Deserialize, Serialize};

use crate::value::ids::UnitCode;

/// A street (街道) and its office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Street {
    /// ASCII letters, digits, '-' or '_'.
    pub code: String,
    /// 福永街道.
    pub name: String,
    pub name_en: String,
    /// The street office (街道办): a unit of the taxonomy.
    pub office: UnitCode,
    /// What appellants call it besides its name (福永).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The street's centre, for appeals that carry coordinates only.
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default, rename = "community")]
    pub communities: Vec<Community>,
    /// Sample data shipped with the platform, for a city to replace.
    #[serde(default)]
    pub demo: bool,
}

/// A community (社区) of a street.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Community {
    /// 凤凰社区.
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub latitude: Option<f64>,
}

/// How an appeal's street was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::AsRefStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FoundBy {
    /// The address the appellant gave names the street or one of its communities.
    Address,
    /// The nearest street or community to the appeal's coordinates.
    Coordinates,
    /// The letter's title or body names it.
    Text,
}

/// The street an appeal is in, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceFound {
    /// The street's code.
    pub street: String,
    /// The street office.
    pub office: UnitCode,
    pub found_by: FoundBy,
}

/// Coordinates farther than this from every street and community (in kilometres) place
/// nothing: the appeal is outside the district.
const NEAREST_WITHIN_KM: f64 = 10.0;

/// The street `text` names, the longest mention (of a street, an alias, or one of its
/// communities) winning.
pub fn street_named_in<'s>(streets: &'s [Street], text: &str) -> Option<&'s Street> {
    super::longest_mentioned(streets.iter(), street_names, text)
}

/// Every name of a street: its own, its aliases, and its communities' names and aliases.
fn street_names(street: &Street) -> impl Iterator<Item = &str> {
    std::iter::once(street.name.as_str())
        .chain(street.aliases.iter().map(String::as_str))
        .chain(street.communities.iter().flat_map(|c| {
            std::iter::once(c.name.as_str()).chain(c.aliases.iter().map(String::as_str))
        }))
}

/// The street whose centre, or one of whose communities, is nearest to `(longitude,
/// latitude)`, within [`NEAREST_WITHIN_KM`].
pub fn street_nearest(streets: &[Street], longitude: f64, latitude: f64) -> Option<&Street> {
    streets
        .iter()
        .flat_map(|street| {
            let centre = street.longitude.zip(street.latitude);
            let communities = street
                .communities
                .iter()
                .filter_map(|c| c.longitude.zip(c.latitude));
            centre
                .into_iter()
                .chain(communities)
                .map(move |point| (distance_km(point, (longitude, latitude)), street))
        })
        .filter(|(km, _)| *km <= NEAREST_WITHIN_KM)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, street)| street)
}

/// Great-circle distance between two `(longitude, latitude)` points, in kilometres.
fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

/// The street of an appeal: its address first, then its coordinates, then its text.
pub fn place_of(
    streets: &[Street],
    address: Option<&str>,
    coordinates: Option<(f64, f64)>,
    text: &str,
) -> Option<PlaceFound> {
    let found = |street: &Street, found_by| PlaceFound {
        street: street.code.clone(),
        office: street.office.clone(),
        found_by,
    };
    address
        .and_then(|a| street_named_in(streets, a))
        .map(|s| found(s, FoundBy::Address))
        .or_else(|| {
            coordinates
                .and_then(|(lon, lat)| street_nearest(streets, lon, lat))
                .map(|s| found(s, FoundBy::Coordinates))
        })
        .or_else(|| street_named_in(streets, text).map(|s| found(s, FoundBy::Text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn street(code: &str, name: &str, alias: &str, at: (f64, f64), community: &str) -> Street {
        Street {
            code: code.to_owned(),
            name: name.to_owned(),
            name_en: code.to_owned(),
            office: UnitCode::new(format!("JD-{code}")),
            aliases: vec![alias.to_owned()],
            longitude: Some(at.0),
            latitude: Some(at.1),
            communities: vec![Community {
                name: community.to_owned(),
                aliases: Vec::new(),
                longitude: None,
                latitude: None,
            }],
            demo: true,
        }
    }

    fn streets() -> Vec<Street> {
        vec![
            street("FY", "福永街道", "福永", (113.82, 22.67), "凤凰社区"),
            street("FH", "福海街道", "福海", (113.80, 22.68), "桥头社区"),
            street("XX", "西乡街道", "西乡", (113.88, 22.58), "固戍社区"),
        ]
    }

    #[test]
    fn the_address_wins_over_the_text() {
        let found = place_of(
            &streets(),
            Some("宝安区福永街道某小区"),
            None,
            "我原来住在西乡",
        );
        assert_eq!(found.as_ref().map(|f| f.street.as_str()), Some("FY"));
        assert_eq!(found.map(|f| f.found_by), Some(FoundBy::Address));
    }

    #[test]
    fn a_community_names_its_street() {
        let found = place_of(&streets(), None, None, "固戍社区楼下的垃圾没人清");
        assert_eq!(found.map(|f| f.street), Some("XX".to_owned()));
    }

    #[test]
    fn the_longest_mention_wins() {
        // 福海大道 runs through 福永: the address names 福永街道 in full.
        let streets = streets();
        let found = street_named_in(&streets, "福永街道福海大道");
        assert_eq!(found.map(|s| s.code.as_str()), Some("FY"));
    }

    #[test]
    fn coordinates_find_the_nearest_street_within_the_district() {
        let found = place_of(&streets(), None, Some((113.879, 22.581)), "楼下很吵");
        assert_eq!(found.clone().map(|f| f.street), Some("XX".to_owned()));
        assert_eq!(found.map(|f| f.found_by), Some(FoundBy::Coordinates));
        // Sanya is far from every street of Bao'an.
        assert_eq!(
            place_of(&streets(), None, Some((109.51, 18.25)), "楼下很吵"),
            None
        );
    }

    #[test]
    fn no_place_is_none() {
        assert_eq!(place_of(&streets(), Some("某小区"), None, "楼上很吵"), None);
    }
}
