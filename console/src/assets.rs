//! The console's stylesheet and scripts, built into the binary (no network at run time).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Each asset: its name, type and content.
const ASSETS: [(&str, &str, &str); 5] = [
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/console.js"),
    ),
    (
        "desk.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/desk.js"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/dashboard.js"),
    ),
    // Apache ECharts 6.1.0, vendored (assets/vendor/README.md).
    (
        "echarts.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/vendor/echarts.min.js"),
    ),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
