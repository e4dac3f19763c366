//! The appellant's pages: follow an appeal by its ticket number and the token given at
//! submission, add material, and rate the reply (the page the rating link opens).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use hotline_gateway::service::{self, execute, history, view};
use hotline_gateway::view::AppealView;
use hotline_schemas::{Action, Actor, Command, EventPayload, Rating, Status};
use serde::Deserialize;
use strum::IntoEnumIterator;

use crate::Console;
use crate::error::{Failure, form_urlencoded};
use crate::i18n::Tr;
use crate::pages::public::{PublicCsrf, PublicForm};
use crate::pages::{Chrome, page};

/// A link to an appeal: its ticket number and the appellant's token.
#[derive(Deserialize)]
pub struct Link {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    token: String,
}

/// The appellant a link names, and whether its token is a rating link's (good for rating only).
struct Holder {
    actor: Actor,
    rating_only: bool,
}

/// The appellant behind `link`, whose token must open the appeal with that ticket number.
async fn holder(
    console: &Console,
    link: &Link,
) -> Result<(Holder, hotline_schemas::Appeal), Failure> {
    let app = &console.app;
    let verified = app
        .signer
        .verified_at(link.token.trim(), app.now())
        .filter(|v| v.actor.role == hotline_schemas::Role::Appellant)
        .ok_or(Failure::BadLink)?;
    let id = verified.actor.appeal.ok_or(Failure::BadLink)?;
    let appeal = service::load_visible(app, &verified.actor, &id.to_string())
        .await
        .map_err(|_| Failure::BadLink)?;
    if appeal.ticket_no.as_str() != link.ticket.trim() {
        return Err(Failure::BadLink);
    }
    Ok((
        Holder {
            actor: verified.actor,
            rating_only: verified.rating_only,
        },
        appeal,
    ))
}

/// One step of the public timeline.
struct Step {
    at: String,
    text: String,
}

#[derive(Template)]
#[template(path = "follow.html")]
struct FollowPage {
    chrome: Chrome,
    ticket: String,
    token: String,
    title: String,
    status: String,
    steps: Vec<Step>,
    reply: Option<String>,
    rating: Option<String>,
    can_rate: bool,
    can_supplement: bool,
    /// Asked for material (the clock waits for the appellant).
    waiting_for_material: bool,
    ratings: Vec<(&'static str, String)>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "follow_ask.html")]
struct AskPage {
    chrome: Chrome,
    ticket: String,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub struct Shown {
    #[serde(flatten)]
    link: Link,
    #[serde(default)]
    done: Option<String>,
}

/// `GET /follow`: asks for the ticket number and token, or shows the appeal they open.
pub async fn follow(
    State(console): State<Arc<Console>>,
    tr: Tr,
    csrf: PublicCsrf,
    Query(q): Query<Shown>,
) -> Result<Response, Failure> {
    if q.link.ticket.is_empty() && q.link.token.is_empty() {
        return page(&AskPage {
            chrome: Chrome::public(tr),
            ticket: String::new(),
            problem: None,
        });
    }
    let Ok((holder, appeal)) = holder(&console, &q.link).await else {
        let shown = AskPage {
            chrome: Chrome::public(tr.clone()),
            ticket: q.link.ticket.clone(),
            problem: Some(tr.t("failure-bad-link")),
        };
        let mut response = page(&shown)?;
        *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
        return Ok(response);
    };
    let events = history(&console.app, &appeal).await?;
    let shown = view(&console.app, &holder.actor, appeal, Some(events));
    let notice = q
        .done
        .as_deref()
        .map(|done| tr.t(&format!("follow-done-{done}")));
    let body = follow_page(tr, csrf.token.clone(), &q.link, &holder, shown, notice);
    Ok(csrf.attach(page(&body)?))
}

/// `GET /rate`: the rating link of the reply notification opens the same page.
pub async fn rate_link(
    console: State<Arc<Console>>,
    tr: Tr,
    csrf: PublicCsrf,
    query: Query<Shown>,
) -> Result<Response, Failure> {
    follow(console, tr, csrf, query).await
}

fn follow_page(
    tr: Tr,
    csrf: String,
    link: &Link,
    holder: &Holder,
    shown: AppealView,
    notice: Option<String>,
) -> FollowPage {
    let events = shown.events.unwrap_or_default();
    let reply = events.iter().rev().find_map(|e| match &e.payload {
        EventPayload::Replied { result, .. } => Some(result.clone()),
        _ => None,
    });
    let waiting_for_material = shown.sla.paused_since.is_some();
    let steps = events
        .iter()
        .map(|e| Step {
            at: e.at.format("%Y-%m-%d %H:%M").to_string(),
            text: tr.code("event", e.payload.event_type().as_str()),
        })
        .collect();
    FollowPage {
        ticket: link.ticket.trim().to_owned(),
        token: link.token.trim().to_owned(),
        title: shown.title,
        status: tr.code("status", shown.status.as_str()),
        steps,
        reply,
        rating: shown.rating.map(|r| tr.code("rating", r.as_str())),
        can_rate: shown.status == Status::Replied,
        can_supplement: !holder.rating_only && shown.status.is_open(),
        waiting_for_material,
        ratings: Rating::iter()
            .map(|r| (r.as_str(), tr.code("rating", r.as_str())))
            .collect(),
        notice,
        chrome: Chrome::public_form(tr, csrf),
    }
}

#[derive(Deserialize)]
pub struct RateForm {
    #[serde(flatten)]
    link: Link,
    rating: Rating,
    #[serde(default)]
    comment: String,
}

/// `POST /rate`: the appellant's rating on five levels, with a comment.
pub async fn rate(
    State(console): State<Arc<Console>>,
    PublicForm(form): PublicForm<RateForm>,
) -> Result<Response, Failure> {
    let (holder, _) = holder(&console, &form.link).await?;
    let comment = Some(form.comment.trim().to_owned()).filter(|c| !c.is_empty());
    let command = Command::Rate {
        rating: form.rating,
        comment,
    };
    act(&console, &holder.actor, &form.link, command, "rated").await
}

#[derive(Deserialize)]
pub struct SupplementForm {
    #[serde(flatten)]
    link: Link,
    text: String,
}

/// `POST /follow/supplement`: material or a comment from the appellant (补充材料).
pub async fn supplement(
    State(console): State<Arc<Console>>,
    PublicForm(form): PublicForm<SupplementForm>,
) -> Result<Response, Failure> {
    let (holder, _) = holder(&console, &form.link).await?;
    if holder.rating_only {
        return Err(Failure::BadLink);
    }
    let command = Command::Supplement { text: form.text };
    act(&console, &holder.actor, &form.link, command, "supplemented").await
}

/// Carries out the appellant's `command`, then shows the appeal again with what was done.
async fn act(
    console: &Console,
    actor: &Actor,
    link: &Link,
    command: Command,
    done: &str,
) -> Result<Response, Failure> {
    let id = actor.appeal.ok_or(Failure::BadLink)?;
    let action: Action = command.action();
    let appeal = service::prepare(&console.app, actor, &id.to_string(), action).await?;
    execute(
        &console.app,
        actor,
        &appeal,
        command,
        hotline_schemas::event::envelope::new_traceparent(),
    )
    .await?;
    let to = format!(
        "/follow?ticket={}&token={}&done={done}",
        form_urlencoded(link.ticket.trim()),
        form_urlencoded(link.token.trim())
    );
    Ok(Redirect::to(&to).into_response())
}
