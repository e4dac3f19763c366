//! The users of the platform, managed by admins: `GET /users`, `POST /users`,
//! `POST /users/{id}/disable` and `…/enable`. A disabled user's tokens are refused on the next
//! request ([`crate::extract::Caller`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hotline_schemas::{ErrorCode, NewUser, User, UserId};
use hotline_store::StoreError;
use serde_json::json;

use crate::AppState;
use crate::access::{Allowed, ManageUsers};
use crate::error::ApiError;
use crate::extract::ValidJson;

type Shared = State<Arc<AppState>>;

/// Every user, oldest first.
pub async fn list(
    State(state): Shared,
    _: Allowed<ManageUsers>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let users = state.store.users().await?;
    Ok(Json(json!({ "users": users })))
}

/// Adds a user: 201 with the record (its `id` is what `hotline token issue --user` takes).
pub async fn add(
    State(state): Shared,
    _: Allowed<ManageUsers>,
    ValidJson(new): ValidJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((StatusCode::CREATED, Json(add_user(&state, new).await?)))
}

/// Adds the user `new` describes after the domain's checks, its units being the platform's;
/// a sign-in name another user has is refused.
pub async fn add_user(state: &AppState, new: NewUser) -> Result<User, ApiError> {
    new.validate()?;
    let units = state.store.units().await?;
    new.check_units(|code| units.iter().any(|u| &u.code == code))?;
    let user = new.into_user(UserId::new(), state.now())?;
    match state.store.add_user(&user).await {
        Ok(()) => Ok(user),
        Err(StoreError::Duplicate) => Err(ApiError(
            hotline_schemas::DomainError::new(ErrorCode::ConcurrentUpdate).with_field("username"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Disables a user: their tokens stop working at once.
pub async fn disable(
    state: Shared,
    _: Allowed<ManageUsers>,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    set_disabled(state, &id, true).await
}

/// Enables a disabled user again: their unexpired, unrevoked tokens work again.
pub async fn enable(
    state: Shared,
    _: Allowed<ManageUsers>,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    set_disabled(state, &id, false).await
}

async fn set_disabled(
    State(state): Shared,
    id: &str,
    disabled: bool,
) -> Result<Json<User>, ApiError> {
    let id: UserId = id.parse().map_err(|_| ApiError::new(ErrorCode::NotFound))?;
    Ok(Json(set_user_disabled(&state, id, disabled).await?))
}

/// Disables (or enables again) the user `id`; a disabled user's console sessions end too.
pub async fn set_user_disabled(
    state: &AppState,
    id: UserId,
    disabled: bool,
) -> Result<User, ApiError> {
    let user = state
        .store
        .set_user_disabled(id, disabled, state.now())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    if disabled {
        state.store.end_sessions_of(id).await?;
    }
    Ok(user)
}
