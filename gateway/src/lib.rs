//! The gateway: HTTP intake and the v1 API of the hotline.

pub mod access;
pub mod auth;
pub mod error;
mod extract;
pub mod limit;
pub mod preview;
pub mod reference;
mod routes;
pub mod service;
pub mod users;
pub mod view;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_locales::Localizer;
use hotline_schemas::lifecycle::Rules;
use hotline_schemas::reference::{Current, Reference};
use hotline_schemas::value::taxonomy::Taxonomy;
use hotline_store::Store;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use auth::TokenSigner;
pub use limit::{IntakeLimits, LimitSettings};

/// Largest request body accepted.
pub const BODY_LIMIT_BYTES: usize = 256 * 1024;
/// Longest a request may take before it is answered with `timeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub use hotline_schemas::{Clock, system_clock};

/// Everything the handlers share.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub signer: TokenSigner,
    pub localizer: Arc<Localizer>,
    /// The published taxonomy, calendar and policies, replaced when an admin publishes.
    pub reference: Arc<Current<Reference>>,
    pub clock: Clock,
    /// Submissions per client address and appellant.
    pub limits: Arc<IntakeLimits>,
    /// The router's rules and classifier, for routing previews.
    pub previewer: Arc<preview::Previewer>,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Time limits, calendar and the city's time zone, as published now.
    pub fn rules(&self) -> Arc<Rules> {
        self.reference.get().rules.clone()
    }

    /// Units, service categories and matters, as published now.
    pub fn taxonomy(&self) -> Arc<Taxonomy> {
        self.reference.get().taxonomy.clone()
    }

    /// The city's time zone: deadlines and ticket days are computed in it.
    pub fn tz(&self) -> Tz {
        self.rules().tz
    }

    /// Whether `actor` is staff of the discipline office (纪委监委).
    pub fn is_discipline_office(&self, actor: &hotline_schemas::Actor) -> bool {
        actor.role == hotline_schemas::Role::Unit
            && actor.unit.is_some()
            && actor.unit == self.rules().discipline_unit
    }
}

/// The API as an axum router, with `pages` (the web console) beside it under the same limits,
/// timeout and tracing.
pub fn app(state: Arc<AppState>, pages: Router) -> Router {
    let api = Router::new()
        .route("/units", get(routes::units))
        .route("/taxonomy", get(routes::taxonomy))
        .route("/stats", get(routes::stats))
        .route("/oversight", get(routes::oversight))
        .route("/dispatch-queue", get(routes::dispatch_queue))
        .route("/mailbox-queue", get(routes::mailbox_queue))
        .route("/callers/{number}", get(routes::caller_history))
        .route("/route-preview", post(preview::route_preview))
        .route("/appeals", post(routes::submit).get(routes::list_appeals))
        .route("/appeals/{id}", get(routes::get_appeal))
        .route(
            "/appeals/{id}/extend/approve",
            post(routes::approve_extension),
        )
        .route("/appeals/{id}/own", post(routes::own))
        .route("/appeals/{id}/rate", post(routes::rate))
        .route("/appeals/{id}/{action}", post(routes::act))
        .route("/users", get(users::list).post(users::add))
        .route("/users/{id}/disable", post(users::disable))
        .route("/users/{id}/enable", post(users::enable));
    Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .nest("/api/v1", api)
        .with_state(state.clone())
        .merge(pages)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // Outside the timeout, so that a timed-out request is answered in the caller's language.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::localize_errors,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// Serves `app` (see [`app`]) on `listener` until `shutdown` completes, then finishes in-flight requests.
/// Each request knows its peer's address (for the intake limits).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
