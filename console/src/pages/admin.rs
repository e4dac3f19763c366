//! Administration (管理员): the platform's users — who they are, their roles and units, their
//! console passwords, and disabling them.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hotline_gateway::access::ManageUsers;
use hotline_gateway::users::{add_user, set_user_disabled};
use hotline_schemas::{NewUser, Role, UserId};
use serde::Deserialize;
use strum::IntoEnumIterator;

use crate::Console;
use crate::error::{Failure, form_urlencoded};
use crate::i18n::Tr;
use crate::pages::{Chrome, page};
use crate::password;
use crate::session::{Posted, SignedIn};

/// The routes of these pages.
pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/console/admin", get(users))
        .route("/console/admin/users", post(add))
        .route("/console/admin/users/{id}/{action}", post(change))
}

/// One user in the list.
struct UserRow {
    id: String,
    name: String,
    username: String,
    role: String,
    unit: String,
    in_charge_of: String,
    mailbox_reader: bool,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    roles: Vec<(&'static str, String)>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct Shown {
    done: Option<String>,
}

/// `GET /console/admin`: the users, and a form to add one.
pub async fn users(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<ManageUsers>,
    Query(shown): Query<Shown>,
) -> Result<Response, Failure> {
    let users = console
        .app
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id.to_string(),
            name: u.name,
            username: u.username.unwrap_or_default(),
            role: tr.code("role", u.role.as_str()),
            unit: u.unit.map(String::from).unwrap_or_default(),
            in_charge_of: u
                .in_charge_of
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            mailbox_reader: u.mailbox_reader,
            disabled: u.disabled,
        })
        .collect();
    let roles = Role::iter()
        .filter(|r| *r != Role::Appellant)
        .map(|r| (r.as_str(), tr.code("role", r.as_str())))
        .collect();
    let notice = shown
        .done
        .filter(|d| ["added", "disabled", "enabled", "password"].contains(&d.as_str()))
        .map(|d| tr.t(&format!("admin-done-{d}")));
    page(&UsersPage {
        chrome: Chrome::staff(tr, &visitor, "/console/admin"),
        users,
        roles,
        notice,
    })
}

/// The form that adds a user; text fields come as the browser sends them.
#[derive(Deserialize)]
pub struct AddForm {
    name: String,
    #[serde(default)]
    username: String,
    role: Role,
    #[serde(default)]
    unit: String,
    /// Unit codes separated by commas or spaces.
    #[serde(default)]
    in_charge_of: String,
    #[serde(default)]
    mailbox_reader: Option<String>,
    #[serde(default)]
    password: String,
}

/// `POST /console/admin/users`: adds the user, with a console password when one is given.
pub async fn add(
    State(console): State<Arc<Console>>,
    Posted(_, form, ..): Posted<ManageUsers, AddForm>,
) -> Result<Response, Failure> {
    let filled = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let hash = match filled(&form.password) {
        Some(p) => Some(password::hash(&p).map_err(password_error)?),
        None => None,
    };
    let new = NewUser {
        name: form.name,
        username: filled(&form.username),
        role: form.role,
        unit: filled(&form.unit).map(Into::into),
        in_charge_of: form
            .in_charge_of
            .split([',', ' ', '，'])
            .filter(|c| !c.is_empty())
            .map(Into::into)
            .collect(),
        mailbox_reader: form.mailbox_reader.is_some(),
    };
    let user = add_user(&console.app, new).await?;
    if let Some(hash) = hash {
        console
            .app
            .store
            .set_password(user.id, &hash, console.app.now())
            .await?;
    }
    tracing::info!(user = %user.id, "user added in the console");
    Ok(Redirect::to("/console/admin?done=added").into_response())
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    password: String,
}

/// `POST /console/admin/users/{id}/{disable|enable|password}`.
pub async fn change(
    State(console): State<Arc<Console>>,
    Path((id, action)): Path<(String, String)>,
    Posted(visitor, form, ..): Posted<ManageUsers, ChangeForm>,
) -> Result<Response, Failure> {
    let not_found = || Failure::Api(hotline_schemas::ErrorCode::NotFound.into());
    let id: UserId = id.parse().map_err(|_| not_found())?;
    let done = match action.as_str() {
        "disable" if id == visitor.user.id => {
            return Err(Failure::Api(hotline_gateway::access::forbidden(
                &visitor.actor(),
                "disable_self",
            )));
        }
        "disable" | "enable" => {
            set_user_disabled(&console.app, id, action == "disable").await?;
            if action == "disable" {
                "disabled"
            } else {
                "enabled"
            }
        }
        "password" => {
            let hash = password::hash(form.password.trim()).map_err(password_error)?;
            let now = console.app.now();
            if !console.app.store.set_password(id, &hash, now).await? {
                return Err(not_found());
            }
            "password"
        }
        _ => return Err(not_found()),
    };
    tracing::info!(user = %id, action, "user changed in the console");
    Ok(Redirect::to(&format!("/console/admin?done={}", form_urlencoded(done))).into_response())
}

/// A password the rules refuse, as a field error.
fn password_error(e: password::PasswordError) -> Failure {
    use hotline_schemas::{DomainError, ErrorCode};
    let error = match e {
        password::PasswordError::Hash(_) => DomainError::new(ErrorCode::Internal),
        _ => DomainError::new(ErrorCode::WeakPassword)
            .with_field("password")
            .with_arg("min", password::MIN_PASSWORD_CHARS.to_string())
            .with_arg("max", password::MAX_PASSWORD_CHARS.to_string()),
    };
    Failure::Api(error.into())
}
