//! The web console of the hotline: server-rendered pages for every role and for the public, in
//! the visitor's language, with sign-in, sessions and CSRF-protected forms. Pages turn their
//! forms into the same commands as the API and hand them to [`hotline_gateway::service`].

mod assets;
mod cookies;
pub mod error;
pub mod i18n;
mod pages;
pub mod password;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::routing::{get, post};
use chrono::Duration;
use hotline_gateway::AppState;

/// Settings of the console.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where people reach the console, e.g. `https://12345.example.gov.cn`.
    pub public_url: String,
    /// A session ends when unused this long.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_lifetime: Duration,
    /// Failed sign-ins in a row that lock a user out.
    pub lockout_after: u32,
    /// How long a lockout lasts.
    pub lockout_for: Duration,
}

impl Settings {
    /// Cookies are `Secure` when the console is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://127.0.0.1:8080".to_owned(),
            session_idle: Duration::hours(2),
            session_lifetime: Duration::hours(12),
            lockout_after: 5,
            lockout_for: Duration::minutes(15),
        }
    }
}

/// What the pages share: the gateway's state, the console's settings, and what happens to
/// appeals as the bus tells it (for pages that update by themselves).
pub struct Console {
    pub app: Arc<AppState>,
    pub settings: Settings,
    pub live: tokio::sync::broadcast::Sender<Live>,
    /// Cancelled when the gateway stops: live pages end their streams.
    pub stopping: tokio_util::sync::CancellationToken,
}

impl Console {
    pub fn new(app: Arc<AppState>, settings: Settings) -> Console {
        Console {
            app,
            settings,
            live: tokio::sync::broadcast::channel(LIVE_CAPACITY).0,
            stopping: tokio_util::sync::CancellationToken::new(),
        }
    }
}

/// Changes a slow page may fall behind by before it is told to reload.
pub const LIVE_CAPACITY: usize = 256;

/// Something that happened to an appeal: its event's routing key (e.g.
/// `appeal.dispatched.DEMO-FGJ`) and the appeal. No personal data: a page that shows it loads
/// the appeal within its visitor's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub routing_key: String,
    pub appeal: hotline_schemas::AppealId,
}

/// The console's pages as a router, to be merged with the API's.
pub fn pages(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(pages::public::home))
        .route(
            "/sign-in",
            get(pages::sign_in::form).post(pages::sign_in::submit),
        )
        .route("/sign-out", post(pages::sign_in::sign_out))
        .route(
            "/submit",
            get(pages::submit::form).post(pages::submit::submit),
        )
        .route("/submit/done", get(pages::submit::done))
        .route("/follow", get(pages::follow::follow))
        .route("/follow/supplement", post(pages::follow::supplement))
        .route(
            "/rate",
            get(pages::follow::rate_link).post(pages::follow::rate),
        )
        .route("/console", get(pages::start::start))
        .route("/console/inbox", get(pages::inbox::inbox))
        .route("/console/inbox/events", get(pages::inbox::events))
        .route("/console/appeals/{id}", get(pages::inbox::case))
        .route("/console/appeals/{id}/{action}", post(pages::inbox::act))
        .route("/assets/{file}", get(assets::serve))
        .merge(pages::desk::routes())
        .merge(pages::queue::routes())
        .merge(pages::oversight::routes())
        .merge(pages::dashboard::routes())
        .merge(pages::admin::routes())
        .merge(pages::reference::routes())
        .layer(middleware::from_fn_with_state(
            console.clone(),
            error::render_failures,
        ))
        .layer(middleware::from_fn_with_state(
            console.clone(),
            i18n::remember_language,
        ))
        .layer(middleware::map_response(security_headers))
        .with_state(console)
}

/// Headers every page carries: no framing, no sniffing, scripts and styles from the console
/// only, and no URL (a rating link holds a token) sent to other sites.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
