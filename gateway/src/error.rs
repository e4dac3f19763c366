//! API errors: a code, the field concerned and a message in the caller's language, rendered as
//! `{"code", "message", "field"}` by the `localize_errors` middleware.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hotline_schemas::{DomainError, ErrorCode};
use hotline_store::StoreError;
use serde::Serialize;

use hotline_locales::Localizer;

use crate::AppState;

/// An error a handler returns; the middleware turns it into the localized body.
#[derive(Debug, Clone)]
pub struct ApiError(pub DomainError);

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self(DomainError::new(code))
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.0.code)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        Self(e)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::new(ErrorCode::ConcurrentUpdate),
            StoreError::IdempotencyConflict => Self::new(ErrorCode::IdempotencyKeyReused),
            other => {
                tracing::error!(error = %other, "store failed");
                Self::new(ErrorCode::Unavailable)
            }
        }
    }
}

/// The text of `error` in `lang`, its field and the statuses, actions and roles it names in
/// words of that language.
pub fn message_of(localizer: &Localizer, lang: &str, error: &DomainError) -> String {
    let mut args = error.args.clone();
    args.entry("detail").or_default();
    if let Some(field) = &error.field {
        args.entry("field").or_insert_with(|| field.clone());
    }
    for name in ["status", "action", "role"] {
        if let Some(value) = args.get(name).cloned() {
            let id = format!("{name}-{value}");
            if localizer.has(lang, &id) {
                args.insert(name, localizer.message(lang, &id, &Default::default()));
            }
        }
    }
    localizer.message(lang, error.code.as_str(), &args)
}

/// The HTTP status of each error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::InvalidJson
        | C::UnknownField
        | C::MissingField
        | C::InvalidValue
        | C::InvalidType
        | C::InvalidQuery
        | C::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
        C::EmptyField
        | C::TooLong
        | C::TooMany
        | C::ControlCharacters
        | C::InvalidPhone
        | C::WeakPassword
        | C::InvalidReferenceData
        | C::InvalidUscc
        | C::InvalidUsccLength
        | C::InvalidUsccCharacter
        | C::InvalidOrganizationCode
        | C::InvalidCoordinates
        | C::UnknownUnit
        | C::UnknownMatter
        | C::MatterUnitMismatch
        | C::SameUnit
        | C::SubjectUnitRefused
        | C::ConfidentialToDisciplineOnly
        | C::ExtensionTooLate
        | C::ExtensionUnitMismatch
        | C::NotAConsultation => StatusCode::UNPROCESSABLE_ENTITY,
        C::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::Unauthenticated | C::InvalidToken => StatusCode::UNAUTHORIZED,
        C::Forbidden | C::WrongUnit => StatusCode::FORBIDDEN,
        C::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        C::NotFound | C::AppealNotFound | C::UnknownAction => StatusCode::NOT_FOUND,
        C::ActionNotAllowed
        | C::ConcurrentUpdate
        | C::IdempotencyKeyReused
        | C::NoPendingExtension
        | C::ExtensionPending
        | C::AlreadyPaused
        | C::AlreadyOwned
        | C::NotPaused => StatusCode::CONFLICT,
        C::Timeout => StatusCode::REQUEST_TIMEOUT,
        C::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        C::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        if let Some(seconds) = self.0.args.get("seconds")
            && self.0.code == ErrorCode::RateLimited
            && let Ok(value) = HeaderValue::from_str(seconds)
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(self);
        response
    }
}

#[derive(Serialize)]
struct ErrorBody {
    code: ErrorCode,
    message: String,
    field: Option<String>,
}

/// Renders every error in the language of the request's `Accept-Language` (zh-CN by default),
/// including the bare errors of layers below the handlers (timeouts, body limits).
pub async fn localize_errors(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut response = next.run(request).await;
    let error = match response.extensions_mut().remove::<ApiError>() {
        Some(e) => e,
        None => match response.status() {
            StatusCode::REQUEST_TIMEOUT => ApiError::new(ErrorCode::Timeout),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(ErrorCode::PayloadTooLarge),
            StatusCode::NOT_FOUND if response.headers().get(header::CONTENT_TYPE).is_none() => {
                ApiError::new(ErrorCode::NotFound)
            }
            StatusCode::METHOD_NOT_ALLOWED => ApiError::new(ErrorCode::NotFound),
            _ => return response,
        },
    };
    let lang = state.localizer.negotiate(accept.as_deref());
    let body = ErrorBody {
        code: error.0.code,
        message: message_of(&state.localizer, lang, &error.0),
        field: error.0.field.clone(),
    };
    let status = error.status();
    let mut out = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(lang) {
        out.headers_mut().insert(header::CONTENT_LANGUAGE, v);
    }
    if let Some(v) = response.headers().get(header::RETRY_AFTER) {
        out.headers_mut().insert(header::RETRY_AFTER, v.clone());
    }
    out
}
