//! The reference data as admins change it: a new version is checked and saved, then published;
//! this gateway works with it at once, every other process when it hears of it on the bus.

use std::sync::Arc;

use hotline_schemas::reference::{self, ReferenceKind, Summary};
use hotline_schemas::value::taxonomy::Taxonomy;
use hotline_schemas::{Actor, DomainError, ErrorCode};
use hotline_store::{Publication, ReferenceDraft};

use crate::AppState;
use crate::error::ApiError;

/// A text the platform could not load, with what is wrong and where.
fn invalid(e: &reference::ReferenceError) -> ApiError {
    ApiError(
        DomainError::new(ErrorCode::InvalidReferenceData)
            .with_field("text")
            .with_arg("detail", e.to_string()),
    )
}

/// Checks `text` as a version of `kind` and saves it, unpublished: its number and what it holds.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    kind: ReferenceKind,
    text: &str,
    note: &str,
) -> Result<(u32, Summary), ApiError> {
    // Line endings as a browser sends them (CRLF) are stored as the files have them.
    let text = text.replace("\r\n", "\n");
    let summary = reference::validate(kind, &text).map_err(|e| invalid(&e))?;
    let draft = ReferenceDraft {
        kind,
        text,
        note: note.trim().chars().take(500).collect(),
        author: actor.name.clone(),
        at: state.now(),
    };
    let version = state.store.save_reference(&draft).await?;
    tracing::info!(kind = kind.as_str(), version, "reference data saved");
    Ok((version, summary))
}

/// Publishes `version` of `kind` (checked again): it is current from now on, here at once.
pub async fn publish(
    state: &AppState,
    actor: &Actor,
    kind: ReferenceKind,
    version: u32,
) -> Result<(), ApiError> {
    let not_found = || ApiError(DomainError::new(ErrorCode::NotFound));
    let text = state
        .store
        .reference_text(kind, version)
        .await?
        .ok_or_else(not_found)?;
    reference::validate(kind, &text).map_err(|e| invalid(&e))?;
    let units = match kind {
        ReferenceKind::Taxonomy => Taxonomy::from_toml(&text)
            .map_err(|e| invalid(&e.into()))?
            .units
            .iter()
            .map(|u| u.to_unit())
            .collect(),
        ReferenceKind::Calendar | ReferenceKind::Policies => Vec::new(),
    };
    let publication = Publication {
        kind,
        version,
        by: actor.name.clone(),
        at: state.now(),
        units,
    };
    if !state.store.publish_reference(&publication).await? {
        return Err(not_found());
    }
    let reloaded = hotline_store::reference::published(state.store.as_ref(), state.tz()).await?;
    state.reference.set(Arc::new(reloaded));
    tracing::info!(kind = kind.as_str(), version, "reference data published");
    Ok(())
}
