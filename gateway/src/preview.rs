//! The routing preview (`POST /api/v1/route-preview`, and the agent desk's own route): what the
//! router would make of a text an agent is typing — the matter and unit, its top suggestions,
//! urgency signals, whether it would be confidential — and the probable duplicates the duplicate
//! index finds (the same appellant, or a similar text). Nothing is stored.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use chrono::{DateTime, FixedOffset};
use hotline_router::routing::{similarity, text_of};
use hotline_router::{Classifier, RoutingPolicy, route};
use hotline_schemas::appeal::{
    MAX_BODY_CHARS, MAX_TITLE_CHARS, phone_key, uscc_key, validate_phone,
};
use hotline_schemas::reference::Reference;
use hotline_schemas::value::taxonomy::Taxonomy;
use hotline_schemas::value::uscc;
use hotline_schemas::{
    Actor, Appeal, AppealId, Appellant, Channel, DomainError, ErrorCode, Kind, Location, NewAppeal,
    Priority, Status, TicketNo,
};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::access::{AgentDesk, Allowed};
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::service::{scope, view};

/// Builds the router's classifier for a taxonomy (it reads the dispatchers' corrections from
/// the store).
pub type BuildClassifier = Box<
    dyn Fn(
            Arc<Taxonomy>,
        ) -> Pin<Box<dyn Future<Output = Result<Arc<dyn Classifier>, String>> + Send>>
        + Send
        + Sync,
>;

/// The router's rules and classifier, for previews.
pub struct Previewer {
    policy: RoutingPolicy,
    /// The classifier built for the taxonomy version it names.
    classifier: tokio::sync::Mutex<Option<(u32, Arc<dyn Classifier>)>>,
    build: BuildClassifier,
}

impl Previewer {
    /// A previewer with the router's `policy`, its classifier made by `build` when first needed
    /// and again after a new taxonomy is published.
    pub fn new(policy: RoutingPolicy, build: BuildClassifier) -> Previewer {
        Previewer {
            policy,
            classifier: tokio::sync::Mutex::new(None),
            build,
        }
    }

    async fn classifier(&self, reference: &Reference) -> Result<Arc<dyn Classifier>, ApiError> {
        let version = reference.versions.taxonomy;
        let mut cached = self.classifier.lock().await;
        if let Some((built_for, classifier)) = cached.as_ref()
            && *built_for == version
        {
            return Ok(classifier.clone());
        }
        let classifier = (self.build)(reference.taxonomy.clone())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "the preview's classifier could not be built");
                ApiError::new(ErrorCode::Unavailable)
            })?;
        *cached = Some((version, classifier.clone()));
        Ok(classifier)
    }
}

/// What an agent has typed so far.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    #[serde(default)]
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub kind: Option<Kind>,
    /// `hotline` unless said.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// The caller's phone number, when typed in full.
    #[serde(default)]
    pub phone: Option<String>,
    /// The enterprise's USCC, when typed in full.
    #[serde(default)]
    pub uscc: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// A matter or unit: its code and name.
#[derive(Debug, Clone, Serialize)]
pub struct Named {
    pub code: String,
    pub name: String,
}

/// One of the router's suggestions.
#[derive(Debug, Clone, Serialize)]
pub struct Suggested {
    pub matter: Named,
    pub unit: Named,
    /// 0–1.
    pub probability: f64,
}

/// Why an appeal looks like a duplicate of what is being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Likeness {
    /// The same phone number or USCC.
    SameAppellant,
    /// A text much like it.
    SimilarText,
    /// The same place about the same matter (the router's own rule).
    SamePlace,
}

/// A recent appeal the new one probably repeats.
#[derive(Debug, Clone, Serialize)]
pub struct ProbableDuplicate {
    pub id: String,
    pub ticket_no: TicketNo,
    pub title: String,
    pub status: Status,
    pub created_at: DateTime<FixedOffset>,
    pub why: Likeness,
}

/// What the router would conclude.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub matter: Option<Named>,
    pub unit: Option<Named>,
    pub confidence: f64,
    /// The router would dispatch it by itself (else a dispatcher places it).
    pub dispatch: bool,
    pub suggestions: Vec<Suggested>,
    /// Urgency signals in the text: the appeal becomes urgent.
    pub urgent_signals: Vec<String>,
    /// A complaint about an official's conduct: it goes to the discipline office only.
    pub confidential: bool,
    pub duplicates: Vec<ProbableDuplicate>,
}

/// Texts at least this alike (character bigrams) make a probable duplicate in a preview: looser
/// than the router's near-identical rule, since the agent decides.
pub const SIMILAR_TEXT: f64 = 0.5;
/// Appeals from the duplicate index a preview compares the text with at most.
const CANDIDATES: i64 = 50;
/// Probable duplicates a preview shows at most.
const MAX_DUPLICATES: usize = 5;

/// The preview of `request` for `actor`, names in `lang`: nothing is stored. Only appeals
/// `actor` may see are compared.
pub async fn preview(
    state: &AppState,
    actor: &Actor,
    request: PreviewRequest,
    lang: &str,
) -> Result<Preview, ApiError> {
    let body = request.body.trim();
    if body.is_empty() && request.title.trim().is_empty() {
        return Err(ApiError(
            DomainError::new(ErrorCode::EmptyField).with_field("body"),
        ));
    }
    for (value, field, max) in [
        (request.title.as_str(), "title", MAX_TITLE_CHARS),
        (request.body.as_str(), "body", MAX_BODY_CHARS),
    ] {
        if value.chars().count() > max {
            return Err(ApiError(
                DomainError::new(ErrorCode::TooLong)
                    .with_field(field)
                    .with_arg("max", max.to_string()),
            ));
        }
    }
    let phone = request
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| validate_phone(p).is_ok())
        .map(str::to_owned);
    let uscc = request
        .uscc
        .as_deref()
        .map(str::trim)
        .filter(|u| uscc::validate(u).is_ok())
        .map(str::to_owned);
    let appellant = match uscc {
        Some(uscc) => Appellant::Enterprise {
            name: String::new(),
            phone,
            uscc,
            wechat_openid: None,
        },
        None => Appellant::Person {
            name: String::new(),
            phone,
            wechat_openid: None,
        },
    };
    let now = state.now();
    let new = NewAppeal {
        channel: request.channel.unwrap_or(Channel::Hotline),
        kind: request.kind.unwrap_or(Kind::Complaint),
        priority: Priority::Normal,
        title: request.title.trim().to_owned(),
        body: body.to_owned(),
        appellant,
        location: Location {
            address: request
                .address
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty()),
            ..Location::default()
        },
        attachments: Vec::new(),
    };
    let typed = Appeal::received(AppealId::new(), TicketNo::new("preview"), new, now);
    let previewer = &state.previewer;
    let window = previewer.policy.duplicate_window;
    let since = now - window;
    // Only what the agent may see is compared (the index's candidates are everyone's).
    let recent: Vec<Appeal> = if window > chrono::Duration::zero() {
        state
            .store
            .duplicate_candidates(&typed, since, CANDIDATES)
            .await?
            .into_iter()
            .filter(|a| actor.can_read(a))
            .collect()
    } else {
        Vec::new()
    };
    let reference = state.reference.get();
    let classifier = previewer.classifier(&reference).await?;
    let routing = route(
        &typed,
        &reference.taxonomy,
        classifier.as_ref(),
        &recent,
        &previewer.policy,
    );

    let mut found: Vec<(Appeal, Likeness)> = Vec::new();
    if window > chrono::Duration::zero() {
        let keys = [
            typed.appellant.phone().and_then(phone_key),
            match &typed.appellant {
                Appellant::Enterprise { uscc, .. } => uscc_key(uscc),
                Appellant::Person { .. } => None,
            },
        ];
        for key in keys.into_iter().flatten() {
            for a in state
                .store
                .appeals_of(&key, &scope(actor), MAX_DUPLICATES as i64)
                .await?
            {
                if a.created_at >= since {
                    found.push((a, Likeness::SameAppellant));
                }
            }
        }
        let text = text_of(&typed);
        for a in &recent {
            if routing.duplicate_of == Some(a.id) {
                found.push((a.clone(), Likeness::SamePlace));
            } else if similarity(&text, &text_of(a)) >= SIMILAR_TEXT {
                found.push((a.clone(), Likeness::SimilarText));
            }
        }
    }
    found.retain(|(a, _)| !matches!(a.status, Status::Voided | Status::Merged));
    found.sort_by_key(|(a, _)| std::cmp::Reverse(a.created_at));
    let mut seen = std::collections::HashSet::new();
    found.retain(|(a, _)| seen.insert(a.id));
    found.truncate(MAX_DUPLICATES);
    let (tz, now) = (state.tz(), state.now());
    let duplicates = found
        .into_iter()
        .map(|(a, why)| {
            // The caller's own appeals as their history shows them; others as the agent may
            // see them.
            let shown = if why == Likeness::SameAppellant {
                crate::view::AppealView::new(a, None, tz, now)
            } else {
                view(state, actor, a, None)
            };
            ProbableDuplicate {
                id: shown.id,
                ticket_no: shown.ticket_no,
                title: shown.title,
                status: shown.status,
                created_at: shown.created_at,
                why,
            }
        })
        .collect();

    let english = lang.starts_with("en");
    let matter_named = |code: &str| {
        state.taxonomy().matter(code).map(|m| Named {
            code: m.code.to_string(),
            name: if english { &m.name_en } else { &m.name }.clone(),
        })
    };
    let unit_named = |code: &str| Named {
        code: code.to_owned(),
        name: state
            .taxonomy()
            .unit(code)
            .map(|u| if english { &u.name_en } else { &u.name }.clone())
            .unwrap_or_else(|| code.to_owned()),
    };
    Ok(Preview {
        matter: routing.matter.as_deref().and_then(matter_named),
        unit: routing.unit.as_deref().map(unit_named),
        confidence: routing.confidence,
        dispatch: routing.dispatch,
        suggestions: routing
            .suggestions
            .iter()
            .filter_map(|s| {
                Some(Suggested {
                    matter: matter_named(&s.matter)?,
                    unit: unit_named(&s.unit),
                    probability: s.probability,
                })
            })
            .collect(),
        urgent_signals: routing.urgent_signals,
        confidential: routing.confidential,
        duplicates,
    })
}

/// `POST /api/v1/route-preview`: the preview for a bearer of a desk's token, names in the
/// language of `Accept-Language`.
pub async fn route_preview(
    State(state): State<Arc<AppState>>,
    Allowed(actor, ..): Allowed<AgentDesk>,
    headers: HeaderMap,
    ValidJson(request): ValidJson<PreviewRequest>,
) -> Result<Json<Preview>, ApiError> {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = state.localizer.negotiate(accept);
    Ok(Json(preview(&state, &actor, request, lang).await?))
}
