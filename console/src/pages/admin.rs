//! The console's admin pages.

use std::sync::Arc;

use axum::Router;

use crate::Console;

/// The routes of these pages.
pub fn routes() -> Router<Arc<Console>> {
    Router::new()
}
