//! The access table, walked through HTTP: every route × every role × the own or another unit
//! × an ordinary or a confidential appeal, compared with the table written out here from SPEC
//! §1, §3 and §8 (independently of `gateway/src/access.rs` and the domain's rules).

use hotline_schemas::{Actor, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestServer, enterprise_appeal, staff_actor};

/// Who calls, relative to the appeals under test (the ordinary one is with DEMO-FGJ, the
/// confidential one with the discipline office JWJW).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Public,
    Agent,
    Dispatcher,
    /// Staff of DEMO-FGJ.
    OwnUnit,
    /// Staff of DEMO-RSJ.
    OtherUnit,
    /// Staff of the discipline office.
    Office,
    Supervisor,
    Leader,
    MailboxReader,
    Admin,
    /// The appellant of the appeal asked about.
    Appellant,
    /// The appellant of another appeal.
    OtherAppellant,
}

const EVERYONE: [Who; 12] = [
    Who::Public,
    Who::Agent,
    Who::Dispatcher,
    Who::OwnUnit,
    Who::OtherUnit,
    Who::Office,
    Who::Supervisor,
    Who::Leader,
    Who::MailboxReader,
    Who::Admin,
    Who::Appellant,
    Who::OtherAppellant,
];

/// The routes walked: lists and desks, an appeal read, and actions sent with content that
/// cannot succeed (so the walk changes nothing), whose answer tells access from the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Units,
    Taxonomy,
    List,
    Stats,
    Oversight,
    DispatchQueue,
    MailboxQueue,
    /// A caller's history by phone number.
    Callers,
    Read,
    /// `…/reveal {}`: no reason.
    Reveal,
    /// `…/accept {"x": 1}`: an unknown field.
    Accept,
    /// `…/dispatch {}`: not allowed while dispatched.
    Dispatch,
    /// `…/rate {}`: not allowed before a reply.
    Rate,
    /// `POST /appeals {"x": 1}`: an unknown field.
    Submit,
    /// `…/own`: a token for a role alone (no user) owns nothing.
    Own,
    /// The other actions, each `{"x": 1}` (an unknown field).
    Other(&'static str),
    /// `…/extend/approve {"x": 1}`.
    ApproveExtension,
    /// `GET /users`.
    Users,
    /// `POST /users {}`: no name.
    AddUser,
    /// `POST /users/{id}/disable` of a user there is not.
    DisableUser,
    /// `POST /users/{id}/enable` of a user there is not.
    EnableUser,
}

/// The actions of `POST /appeals/{id}/{action}` walked as `Route::Other`.
const OTHER_ACTIONS: [&str; 12] = [
    "return",
    "reassign",
    "extend",
    "reply",
    "pause",
    "resume",
    "void",
    "merge",
    "close",
    "confidential",
    "supplement",
    "no-such-action",
];

const ROUTES: [Route; 32] = [
    Route::Units,
    Route::Taxonomy,
    Route::List,
    Route::Stats,
    Route::Oversight,
    Route::DispatchQueue,
    Route::MailboxQueue,
    Route::Callers,
    Route::Read,
    Route::Reveal,
    Route::Accept,
    Route::Dispatch,
    Route::Rate,
    Route::Users,
    Route::AddUser,
    Route::DisableUser,
    Route::EnableUser,
    Route::Submit,
    Route::Own,
    Route::ApproveExtension,
    Route::Other(OTHER_ACTIONS[0]),
    Route::Other(OTHER_ACTIONS[1]),
    Route::Other(OTHER_ACTIONS[2]),
    Route::Other(OTHER_ACTIONS[3]),
    Route::Other(OTHER_ACTIONS[4]),
    Route::Other(OTHER_ACTIONS[5]),
    Route::Other(OTHER_ACTIONS[6]),
    Route::Other(OTHER_ACTIONS[7]),
    Route::Other(OTHER_ACTIONS[8]),
    Route::Other(OTHER_ACTIONS[9]),
    Route::Other(OTHER_ACTIONS[10]),
    Route::Other(OTHER_ACTIONS[11]),
];

/// Whether `who` may see the appeal at all.
fn sees(who: Who, confidential: bool) -> bool {
    match who {
        Who::Public | Who::OtherAppellant => false,
        Who::Appellant | Who::Admin => true,
        // A leader sees their cases: owned, or escalated in their units (none here); a
        // mailbox reader the confidential ones too.
        Who::Leader => false,
        Who::MailboxReader => confidential,
        Who::OwnUnit => !confidential,
        Who::Office => confidential,
        Who::OtherUnit => false,
        Who::Agent | Who::Dispatcher | Who::Supervisor => !confidential,
    }
}

/// The table: the status `who` gets on `route` for an ordinary or a confidential appeal.
fn expected(route: Route, who: Who, confidential: bool) -> StatusCode {
    use StatusCode as S;
    // Anyone may submit (the public on public channels); the body is then refused.
    if route == Route::Submit {
        return S::BAD_REQUEST;
    }
    if who == Who::Public {
        return S::UNAUTHORIZED;
    }
    let staff = !matches!(who, Who::Appellant | Who::OtherAppellant);
    let allowed = |yes: bool| if yes { S::OK } else { S::FORBIDDEN };
    let on_appeal = |may: bool, then: StatusCode| {
        if !sees(who, confidential) {
            S::NOT_FOUND
        } else if may {
            then
        } else {
            S::FORBIDDEN
        }
    };
    match route {
        Route::Units | Route::Taxonomy | Route::List => allowed(staff),
        Route::Stats => allowed(matches!(
            who,
            Who::Supervisor
                | Who::Leader
                | Who::MailboxReader
                | Who::Dispatcher
                | Who::Admin
                | Who::OwnUnit
                | Who::OtherUnit
                | Who::Office
        )),
        Route::Oversight => allowed(matches!(
            who,
            Who::Leader | Who::MailboxReader | Who::Supervisor | Who::Admin
        )),
        Route::DispatchQueue => allowed(matches!(
            who,
            Who::Dispatcher | Who::Supervisor | Who::Admin
        )),
        Route::MailboxQueue => allowed(matches!(who, Who::MailboxReader | Who::Admin)),
        Route::Callers => allowed(matches!(who, Who::Agent | Who::Admin)),
        Route::Read => on_appeal(true, S::OK),
        Route::Reveal => on_appeal(staff, S::BAD_REQUEST),
        // The unit it is dispatched to signs for it; the body is then refused.
        Route::Accept => on_appeal(matches!(who, Who::OwnUnit | Who::Office), S::BAD_REQUEST),
        Route::Dispatch => on_appeal(
            matches!(who, Who::Dispatcher | Who::Admin)
                || (confidential && who == Who::MailboxReader),
            S::CONFLICT,
        ),
        // Appellants and agents (回访) rate, after a reply.
        Route::Rate => on_appeal(matches!(who, Who::Appellant | Who::Agent), S::CONFLICT),
        // Admins only; the walk's requests then fail on their content.
        Route::Users => allowed(who == Who::Admin),
        Route::AddUser if who == Who::Admin => S::BAD_REQUEST,
        Route::DisableUser | Route::EnableUser if who == Who::Admin => S::NOT_FOUND,
        Route::AddUser | Route::DisableUser | Route::EnableUser => S::FORBIDDEN,
        Route::Submit => unreachable!("answered above"),
        Route::Own => on_appeal(false, S::OK),
        // Not while it waits to be signed for.
        Route::ApproveExtension => {
            on_appeal(matches!(who, Who::Supervisor | Who::Admin), S::CONFLICT)
        }
        Route::Other(action) => on_appeal(may_act(action, who, confidential), then(action)),
    }
}

/// What an action allowed to its caller answers on the walk's appeal, which waits to be signed
/// for: the status is checked before the body.
fn then(action: &str) -> StatusCode {
    match action {
        "extend" | "reply" | "pause" | "resume" | "close" => StatusCode::CONFLICT,
        "no-such-action" => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Whether `who` may take `action` on the walk's appeal (an unknown one is not found for
/// whoever sees the appeal).
fn may_act(action: &str, who: Who, confidential: bool) -> bool {
    let handles =
        matches!(who, Who::Dispatcher | Who::Admin) || (confidential && who == Who::MailboxReader);
    match action {
        "return" | "extend" | "reply" | "pause" | "resume" => {
            matches!(who, Who::OwnUnit | Who::Office)
        }
        "reassign" | "void" | "merge" => handles,
        "close" => matches!(who, Who::Supervisor | Who::Admin | Who::Agent),
        "confidential" => matches!(who, Who::MailboxReader | Who::Admin),
        "supplement" => who == Who::Appellant,
        _ => true,
    }
}

struct Tokens {
    by_who: Vec<(Who, Option<String>)>,
}

impl Tokens {
    fn of(&self, who: Who) -> Option<&str> {
        self.by_who
            .iter()
            .find(|(w, _)| *w == who)
            .and_then(|(_, t)| t.as_deref())
    }
}

fn tokens(s: &TestServer, appellant: &str, other_appellant: &str) -> Tokens {
    let reader = Actor {
        mailbox_reader: true,
        ..staff_actor(Role::Leader, "书记信箱专员")
    };
    let by_who = EVERYONE
        .iter()
        .map(|who| {
            let token = match who {
                Who::Public => None,
                Who::Agent => Some(s.token(Role::Agent, None, "话务员小王")),
                Who::Dispatcher => Some(s.token(Role::Dispatcher, None, "派单员老陈")),
                Who::OwnUnit => Some(s.token(Role::Unit, Some("DEMO-FGJ"), "发改局张三")),
                Who::OtherUnit => Some(s.token(Role::Unit, Some("DEMO-RSJ"), "人资局李四")),
                Who::Office => Some(s.token(Role::Unit, Some("JWJW"), "纪委监委王五")),
                Who::Supervisor => Some(s.token(Role::Supervisor, None, "督办员赵六")),
                Who::Leader => Some(s.token(Role::Leader, None, "王区长")),
                Who::MailboxReader => Some(hotline::issue_token(&s.config, &reader).unwrap()),
                Who::Admin => Some(s.token(Role::Admin, None, "管理员")),
                Who::Appellant => Some(appellant.to_owned()),
                Who::OtherAppellant => Some(other_appellant.to_owned()),
            };
            (*who, token)
        })
        .collect();
    Tokens { by_who }
}

/// The request of `route` about the appeal `id`.
fn request(route: Route, id: &str) -> (Method, String, Option<Value>) {
    let appeal = |action: &str| format!("/api/v1/appeals/{id}/{action}");
    match route {
        Route::Units => (Method::GET, "/api/v1/units".to_owned(), None),
        Route::Taxonomy => (Method::GET, "/api/v1/taxonomy".to_owned(), None),
        Route::List => (Method::GET, "/api/v1/appeals".to_owned(), None),
        Route::Stats => (Method::GET, "/api/v1/stats".to_owned(), None),
        Route::Oversight => (Method::GET, "/api/v1/oversight".to_owned(), None),
        Route::DispatchQueue => (Method::GET, "/api/v1/dispatch-queue".to_owned(), None),
        Route::MailboxQueue => (Method::GET, "/api/v1/mailbox-queue".to_owned(), None),
        Route::Callers => (Method::GET, "/api/v1/callers/13800138000".to_owned(), None),
        Route::Read => (Method::GET, format!("/api/v1/appeals/{id}"), None),
        Route::Reveal => (Method::POST, appeal("reveal"), Some(json!({}))),
        Route::Accept => (Method::POST, appeal("accept"), Some(json!({"x": 1}))),
        Route::Dispatch => (Method::POST, appeal("dispatch"), Some(json!({}))),
        Route::Rate => (Method::POST, appeal("rate"), Some(json!({}))),
        Route::Users => (Method::GET, "/api/v1/users".to_owned(), None),
        Route::AddUser => (Method::POST, "/api/v1/users".to_owned(), Some(json!({}))),
        Route::DisableUser => (
            Method::POST,
            format!("/api/v1/users/{}/disable", hotline_schemas::UserId::new()),
            Some(json!({})),
        ),
        Route::EnableUser => (
            Method::POST,
            format!("/api/v1/users/{}/enable", hotline_schemas::UserId::new()),
            Some(json!({})),
        ),
        Route::Submit => (
            Method::POST,
            "/api/v1/appeals".to_owned(),
            Some(json!({"x": 1})),
        ),
        Route::Own => (Method::POST, appeal("own"), Some(json!({}))),
        Route::ApproveExtension => (
            Method::POST,
            appeal("extend/approve"),
            Some(json!({"x": 1})),
        ),
        Route::Other(action) => (Method::POST, appeal(action), Some(json!({"x": 1}))),
    }
}

async fn every_route_every_role_as_the_table_says(s: &TestServer) {
    let admin = s.token(Role::Admin, None, "管理员");
    // An ordinary appeal with DEMO-FGJ, a confidential one (the mailbox) with the office.
    let ordinary = s.submit(None, enterprise_appeal()).await;
    let mut letter = enterprise_appeal();
    letter["channel"] = json!("mailbox");
    letter["body"] = json!("反映区发展和改革局审批事项办理中的问题。");
    let confidential = s.submit(None, letter).await;
    let other = s.submit(None, enterprise_appeal()).await;
    let mut walked = 0;
    let mut wrong = Vec::new();
    for (appeal, unit, secret) in [
        (&ordinary, "DEMO-FGJ", false),
        (&confidential, "JWJW", true),
    ] {
        let id = appeal["id"].as_str().unwrap();
        let (status, placed) = s.act(id, "dispatch", &admin, json!({"unit": unit})).await;
        assert_eq!(status, StatusCode::OK, "{placed}");
        let read = format!("/api/v1/appeals/{id}");
        let t = tokens(
            s,
            appeal["appellant_token"].as_str().unwrap(),
            other["appellant_token"].as_str().unwrap(),
        );
        for route in ROUTES {
            for who in EVERYONE {
                let (method, path, body) = request(route, id);
                let (status, answer) = s.call(method, &path, t.of(who), body, None).await;
                let want = expected(route, who, secret);
                if status != want {
                    let kind = if secret { "confidential" } else { "ordinary" };
                    wrong.push(format!(
                        "{route:?} by {who:?} on the {kind} appeal: {status} {answer}"
                    ));
                }
                walked += 1;
            }
        }
        let (_, after) = s.get(&read, &admin).await;
        assert_eq!(
            after["version"], placed["version"],
            "the walk changed nothing"
        );
    }
    assert!(
        wrong.is_empty(),
        "not as the table says:\n{}",
        wrong.join("\n")
    );
    assert_eq!(walked, 2 * ROUTES.len() * EVERYONE.len());
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_route_every_role_as_the_table_says() {
        let s = crate::support::TestServer::start(crate::support::Engine::Sqlite)
            .await
            .expect("SQLite is always available");
        super::every_route_every_role_as_the_table_says(&s).await;
        s.stop().await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_route_every_role_as_the_table_says() {
        if let Some(s) = crate::support::TestServer::start(crate::support::Engine::Postgres).await {
            super::every_route_every_role_as_the_table_says(&s).await;
            s.stop().await;
        }
    }
}
