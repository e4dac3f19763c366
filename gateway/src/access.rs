//! The access table of the API: each route names its permission in its extractor's type
//! (`Allowed<Stats>`), so a route cannot forget its check. What a caller may then do to one
//! appeal is the domain's rule (`Actor::can_read`, `Actor::authorize`): a route on an appeal
//! takes `Allowed<AnyCaller>` and asks the domain.
//!
//! | route | permission |
//! |---|---|
//! | `GET /units`, `GET /taxonomy`, `GET /appeals` | [`Staff`] |
//! | `GET /stats` | [`Stats`]: supervisors, leaders, dispatchers, admins, units (their own) |
//! | `GET /oversight` | [`Oversight`]: leaders, supervisors, admins |
//! | `GET /dispatch-queue` | [`DispatchQueue`]: dispatchers, supervisors, admins |
//! | `GET /mailbox-queue` | [`MailboxQueue`]: mailbox readers, admins |
//! | `GET /callers/{number}` | [`CallerHistory`]: agents, admins |
//! | `GET /appeals/{id}`, `POST /appeals/{id}/…` | [`AnyCaller`], then the appeal's own rules |
//! | `POST /appeals/{id}/rate` | [`RateAppeal`]: also a rating link's token, then the appeal's rules |
//! | `POST /appeals` | the public on public channels; agents, dispatchers, admins |
//! | console `GET /console/inbox` | [`UnitInbox`]: unit staff |
//! | console `/console/desk…`, `POST /route-preview` | [`AgentDesk`]: agents, admins |
//! | `GET /users`, `POST /users`, `POST /users/{id}/disable`, `…/enable` | [`ManageUsers`]: admins |
//! | console `/console/admin/reference…` | [`ManageReference`]: admins |

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hotline_schemas::{Actor, DomainError, ErrorCode, Role};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Caller, bearer};

/// Who may call a route.
pub trait Permission: Send + Sync + 'static {
    /// The route's name in a `forbidden` error.
    const NAME: &'static str;
    /// Whether the route takes a rating link's token, good for rating only.
    const TAKES_RATING_LINK: bool = false;
    fn allows(actor: &Actor) -> bool;
}

/// The caller of a route their token entitles them to: `Allowed<P>` answers `unauthenticated`
/// without a valid token and `forbidden` when `P` does not allow its holder.
pub struct Allowed<P: Permission>(pub Actor, pub PhantomData<P>);

impl<P: Permission> FromRequestParts<Arc<AppState>> for Allowed<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let actor = if P::TAKES_RATING_LINK {
            bearer(parts, state)
                .await?
                .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?
                .actor
        } else {
            Caller::from_request_parts(parts, state).await?.0
        };
        if P::allows(&actor) {
            Ok(Allowed(actor, PhantomData))
        } else {
            Err(forbidden(&actor, P::NAME))
        }
    }
}

/// `forbidden`, naming the caller's role and what they tried.
pub fn forbidden(actor: &Actor, action: &str) -> ApiError {
    ApiError(
        DomainError::new(ErrorCode::Forbidden)
            .with_arg("role", actor.role.as_str())
            .with_arg("action", action.to_owned()),
    )
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident = $label:literal, |$actor:ident| $rule:expr;)+) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl Permission for $name {
                const NAME: &'static str = $label;
                fn allows($actor: &Actor) -> bool {
                    $rule
                }
            }
        )+
    };
}

permissions! {
    /// Anyone with a valid token: what they may do is decided by the appeal's own rules.
    AnyCaller = "read", |_actor| true;
    /// Staff: everyone but appellants (units, categories, the list of appeals).
    Staff = "list", |actor| actor.can_list();
    /// The statistics: supervisors, leaders, dispatchers, admins, and units (their own).
    Stats = "stats", |actor| matches!(
        actor.role,
        Role::Supervisor | Role::Leader | Role::Admin | Role::Dispatcher | Role::Unit
    );
    /// The oversight desk: leaders, supervisors, admins.
    Oversight = "oversight", |actor| matches!(
        actor.role,
        Role::Leader | Role::Supervisor | Role::Admin
    );
    /// The dispatch queue: dispatchers, supervisors, admins.
    DispatchQueue = "dispatch_queue", |actor| matches!(
        actor.role,
        Role::Dispatcher | Role::Admin | Role::Supervisor
    );
    /// The mailbox readers' queue of confidential appeals: mailbox readers, admins.
    MailboxQueue = "mailbox_queue", |actor| actor.reads_confidential();
    /// A caller's history by the number they give: agents (on the phone with them), admins.
    CallerHistory = "caller_history", |actor| matches!(actor.role, Role::Agent | Role::Admin);
    /// The users of the platform: admins.
    ManageUsers = "users", |actor| actor.role == Role::Admin;
    /// The reference data (units, taxonomy, calendar, time-limit policies): admins.
    ManageReference = "reference", |actor| actor.role == Role::Admin;
    /// A unit's inbox in the console: its staff.
    UnitInbox = "unit_inbox", |actor| actor.role == Role::Unit;
    /// The agent desk (接线台) and its routing preview: agents, admins.
    AgentDesk = "agent_desk", |actor| matches!(actor.role, Role::Agent | Role::Admin);
}

/// Rating an appeal (`POST /appeals/{id}/rate`): the one route a rating link's token opens;
/// who may rate is then the appeal's rule (its appellant, an agent calling back).
pub struct RateAppeal;

impl Permission for RateAppeal {
    const NAME: &'static str = "rate";
    const TAKES_RATING_LINK: bool = true;
    fn allows(_actor: &Actor) -> bool {
        true
    }
}
