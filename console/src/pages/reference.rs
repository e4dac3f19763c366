//! Reference data (基础数据) for admins: the units, the taxonomy, the holiday calendar and the
//! time-limit policies, each a versioned text. An admin edits the current text or uploads a
//! file, the platform checks it and saves it as a new version, and the admin publishes it:
//! every process works with it from then on.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use hotline_gateway::access::ManageReference;
use hotline_gateway::error::ApiError;
use hotline_schemas::ErrorCode;
use hotline_schemas::reference::{ReferenceKind, ReferenceVersion, Summary};
use serde::Deserialize;

use crate::Console;
use crate::error::Failure;
use crate::i18n::Tr;
use crate::pages::{Chrome, page};
use crate::session::{Posted, PostedFile, SignedIn};

/// The routes of these pages.
pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/console/admin/reference", get(overview))
        .route("/console/admin/reference/{kind}", get(kind_page).post(save))
        .route("/console/admin/reference/{kind}/{version}", get(download))
        .route(
            "/console/admin/reference/{kind}/{version}/publish",
            post(publish),
        )
}

fn kind_of(text: &str) -> Result<ReferenceKind, Failure> {
    text.parse()
        .map_err(|_| Failure::Api(ErrorCode::NotFound.into()))
}

/// One kind on the overview.
struct KindRow {
    kind: &'static str,
    label: String,
    version: u32,
    published: String,
}

/// One unit of the published taxonomy.
struct UnitRow {
    code: String,
    name: String,
    leader: String,
    discipline: bool,
}

/// A street of the district (属地) and its office.
struct StreetRow {
    code: String,
    name: String,
    office: String,
    communities: String,
    demo: bool,
}

#[derive(Template)]
#[template(path = "reference.html")]
struct OverviewPage {
    chrome: Chrome,
    kinds: Vec<KindRow>,
    units: Vec<UnitRow>,
    streets: Vec<StreetRow>,
}

fn when(tr: &Tr, console: &Console, at: Option<DateTime<Utc>>) -> String {
    let tz = console.app.tz();
    at.map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| tr.t("ref-never"))
}

/// `GET /console/admin/reference`: what is published of each kind, and the units.
pub async fn overview(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<ManageReference>,
) -> Result<Response, Failure> {
    let reference = console.app.reference.get();
    let mut kinds = Vec::new();
    for kind in ReferenceKind::ALL {
        let version = reference.versions.of(kind);
        let history = console.app.store.reference_versions(kind).await?;
        let published = history
            .iter()
            .find(|v| v.version == version)
            .and_then(|v| v.published_at);
        kinds.push(KindRow {
            kind: kind.as_str(),
            label: tr.t(&format!("ref-kind-{}", kind.as_str())),
            version,
            published: when(&tr, &console, published),
        });
    }
    let english = tr.lang().starts_with("en");
    let units = reference
        .taxonomy
        .units
        .iter()
        .map(|u| UnitRow {
            code: u.code.to_string(),
            name: if english { &u.name_en } else { &u.name }.clone(),
            leader: u.leader.clone().unwrap_or_default(),
            discipline: u.discipline,
        })
        .collect();
    let taxonomy = &reference.taxonomy;
    let streets = taxonomy
        .streets
        .iter()
        .map(|s| StreetRow {
            code: s.code.clone(),
            name: if english { &s.name_en } else { &s.name }.clone(),
            office: taxonomy.unit(s.office.as_str()).map_or_else(
                || s.office.to_string(),
                |u| if english { &u.name_en } else { &u.name }.clone(),
            ),
            communities: s
                .communities
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(if english { ", " } else { "、" }),
            demo: s.demo,
        })
        .collect();
    page(&OverviewPage {
        chrome: Chrome::staff(tr, &visitor, "/console/admin"),
        kinds,
        units,
        streets,
    })
}

/// One saved version in the history.
struct VersionRow {
    version: u32,
    note: String,
    author: String,
    saved: String,
    published: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "reference_kind.html")]
struct KindPage {
    chrome: Chrome,
    kind: &'static str,
    label: String,
    format: &'static str,
    current: u32,
    versions: Vec<VersionRow>,
    /// The text in the editor: the one asked for, the current one, or what was posted.
    text: String,
    /// The version the editor's text came from.
    from: Option<u32>,
    note: String,
    /// A text refused, with why.
    error: Option<String>,
    /// A version just saved, with what it holds, waiting to be published.
    saved: Option<(u32, String)>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct Shown {
    /// Open this version's text in the editor.
    version: Option<u32>,
    /// Just saved as this version.
    saved: Option<u32>,
    done: Option<String>,
}

fn summary_line(tr: &Tr, summary: &Summary) -> String {
    summary
        .counts
        .iter()
        .map(|(what, n)| format!("{} {n}", tr.t(&format!("ref-count-{what}"))))
        .collect::<Vec<_>>()
        .join(" · ")
}

struct Editor {
    text: String,
    from: Option<u32>,
    note: String,
    error: Option<String>,
    saved: Option<(u32, String)>,
    notice: Option<String>,
}

async fn render_kind(
    console: &Console,
    tr: Tr,
    visitor: &crate::session::Visitor,
    kind: ReferenceKind,
    editor: Editor,
) -> Result<Response, Failure> {
    let current = console.app.reference.get().versions.of(kind);
    let history: Vec<ReferenceVersion> = console.app.store.reference_versions(kind).await?;
    let versions = history
        .into_iter()
        .map(|v| VersionRow {
            version: v.version,
            note: v.note,
            author: v.author,
            saved: when(&tr, console, Some(v.saved_at)),
            published: when(&tr, console, v.published_at),
            current: v.version == current,
        })
        .collect();
    let label = tr.t(&format!("ref-kind-{}", kind.as_str()));
    page(&KindPage {
        chrome: Chrome::staff(tr, visitor, "/console/admin"),
        kind: kind.as_str(),
        label,
        format: kind.format(),
        current,
        versions,
        text: editor.text,
        from: editor.from,
        note: editor.note,
        error: editor.error,
        saved: editor.saved,
        notice: editor.notice,
    })
}

/// `GET /console/admin/reference/{kind}`: its versions and the editor, holding the current
/// text (or `?version=N`'s).
pub async fn kind_page(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<ManageReference>,
    Path(kind): Path<String>,
    Query(shown): Query<Shown>,
) -> Result<Response, Failure> {
    let kind = kind_of(&kind)?;
    let from = match shown.version.or(shown.saved) {
        Some(v) => v,
        None => console.app.reference.get().versions.of(kind),
    };
    let text = console
        .app
        .store
        .reference_text(kind, from)
        .await?
        .ok_or_else(|| Failure::Api(ErrorCode::NotFound.into()))?;
    let saved = match shown.saved {
        Some(v) => {
            let summary = hotline_schemas::reference::validate(kind, &text)
                .map(|s| summary_line(&tr, &s))
                .unwrap_or_default();
            Some((v, summary))
        }
        None => None,
    };
    let notice = shown
        .done
        .filter(|d| d == "published")
        .map(|d| tr.t(&format!("ref-done-{d}")));
    let editor = Editor {
        text,
        from: Some(from),
        note: String::new(),
        error: None,
        saved,
        notice,
    };
    render_kind(&console, tr, &visitor, kind, editor).await
}

#[derive(Deserialize)]
pub struct SaveForm {
    text: String,
    #[serde(default)]
    note: String,
}

/// `POST /console/admin/reference/{kind}`: checks the text and saves it as a new version; a
/// refused text comes back in the editor with what is wrong.
pub async fn save(
    State(console): State<Arc<Console>>,
    tr: Tr,
    Path(kind): Path<String>,
    PostedFile(visitor, form, ..): PostedFile<ManageReference, SaveForm>,
) -> Result<Response, Failure> {
    let kind = kind_of(&kind)?;
    let actor = visitor.actor();
    match hotline_gateway::reference::save(&console.app, &actor, kind, &form.text, &form.note).await
    {
        Ok((version, _)) => Ok(Redirect::to(&format!(
            "/console/admin/reference/{}?saved={version}",
            kind.as_str()
        ))
        .into_response()),
        Err(ApiError(e)) if e.code == ErrorCode::InvalidReferenceData => {
            let error = Some(hotline_gateway::error::message_of(
                &console.app.localizer,
                tr.lang(),
                &e,
            ));
            let editor = Editor {
                text: form.text,
                from: None,
                note: form.note,
                error,
                saved: None,
                notice: None,
            };
            render_kind(&console, tr, &visitor, kind, editor).await
        }
        Err(e) => Err(Failure::Api(e)),
    }
}

#[derive(Deserialize)]
pub struct PublishForm {}

/// `POST /console/admin/reference/{kind}/{version}/publish`.
pub async fn publish(
    State(console): State<Arc<Console>>,
    Path((kind, version)): Path<(String, u32)>,
    Posted(visitor, PublishForm {}, ..): Posted<ManageReference, PublishForm>,
) -> Result<Response, Failure> {
    let kind = kind_of(&kind)?;
    hotline_gateway::reference::publish(&console.app, &visitor.actor(), kind, version).await?;
    Ok(Redirect::to(&format!(
        "/console/admin/reference/{}?done=published",
        kind.as_str()
    ))
    .into_response())
}

/// `GET /console/admin/reference/{kind}/{version}`: the version's text as a file.
pub async fn download(
    State(console): State<Arc<Console>>,
    SignedIn(..): SignedIn<ManageReference>,
    Path((kind, version)): Path<(String, u32)>,
) -> Result<Response, Failure> {
    let kind = kind_of(&kind)?;
    let text = console
        .app
        .store
        .reference_text(kind, version)
        .await?
        .ok_or_else(|| Failure::Api(ErrorCode::NotFound.into()))?;
    let (name, mime) = match kind.format() {
        "csv" => ("csv", "text/csv; charset=utf-8"),
        _ => ("toml", "text/plain; charset=utf-8"),
    };
    let disposition = format!(
        "attachment; filename=\"{}-v{version}.{name}\"",
        kind.as_str()
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        text,
    )
        .into_response())
}
