//! The reference data as published: what every process builds its rules and taxonomy from.

use chrono_tz::Tz;
use hotline_schemas::reference::{Reference, ReferenceKind, Texts, Versions};

use crate::{Result, Store, StoreError};

/// What was published last of every kind, built in the city's time zone `tz`.
pub async fn published(store: &dyn Store, tz: Tz) -> Result<Reference> {
    let mut versions = Versions::default();
    let mut texts = Vec::with_capacity(ReferenceKind::ALL.len());
    for kind in ReferenceKind::ALL {
        let (version, text) = store.published_reference(kind).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("no {} has been published", kind.as_str()))
        })?;
        match kind {
            ReferenceKind::Taxonomy => versions.taxonomy = version,
            ReferenceKind::Calendar => versions.calendar = version,
            ReferenceKind::Policies => versions.policies = version,
        }
        texts.push(text);
    }
    let texts = Texts {
        taxonomy: &texts[0],
        calendar: &texts[1],
        policies: &texts[2],
    };
    Reference::build(versions, texts, tz)
        .map_err(|e| StoreError::Corrupt(format!("the published reference data {versions:?}: {e}")))
}
