//! The web console over HTTP, as a browser without JavaScript uses it: sign-in, its cookies,
//! CSRF tokens on every form, lockout and sign-out.

use std::collections::BTreeMap;

use chrono::Duration;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::support::{Engine, TestServer};

pub use crate::support::PASSWORD;

/// A browser's session: its cookies, sent back on every request; redirects are not followed.
pub struct Visit<'s> {
    base: String,
    _server: std::marker::PhantomData<&'s ()>,
    client: Client,
    cookies: BTreeMap<String, String>,
    /// The `Set-Cookie` headers of the last response.
    set: Vec<String>,
}

/// A page as it came: status, where it sends the visitor, body.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl<'s> Visit<'s> {
    pub fn new(s: &'s TestServer) -> Self {
        Self::at(&s.base)
    }

    /// A visit to the platform at `base`.
    pub fn at(base: &str) -> Self {
        let client = Client::builder().redirect(Policy::none()).build().unwrap();
        Visit {
            base: base.to_owned(),
            _server: std::marker::PhantomData,
            client,
            cookies: BTreeMap::new(),
            set: Vec::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let response = request
            .header(COOKIE, cookie.join("; "))
            .send()
            .await
            .unwrap();
        self.set = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for set in &self.set {
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Answer {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    /// The `Set-Cookie` of the last response for `name`.
    pub fn set_cookie(&self, name: &str) -> String {
        self.set
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", self.set))
            .clone()
    }

    /// Signs in on the sign-in page's form.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Answer {
        let page = self.get("/sign-in").await;
        let csrf = csrf_of(&page.body);
        self.post(
            "/sign-in",
            &[
                ("_csrf", &csrf),
                ("username", username),
                ("password", password),
                ("next", "/console"),
            ],
        )
        .await
    }
}

/// The CSRF token a page's forms carry.
pub fn csrf_of(html: &str) -> String {
    let re = regex::Regex::new(r#"name="_csrf" value="([0-9a-f]{64})""#).unwrap();
    re.captures(html)
        .unwrap_or_else(|| panic!("no CSRF token in {html}"))[1]
        .to_owned()
}

/// A user added as `new` says (with a `username`) whose password is [`PASSWORD`].
pub async fn user_with_password(s: &TestServer, new: serde_json::Value) -> hotline_schemas::User {
    let (user, _) = s.user(new).await;
    let store = hotline::open_store(&s.config).await.unwrap();
    hotline::people::set_password(store.as_ref(), user.id, PASSWORD)
        .await
        .unwrap();
    user
}

/// A browser session signed in as a new user `new` describes.
pub async fn signed_in<'s>(s: &'s TestServer, new: serde_json::Value) -> Visit<'s> {
    let username = new["username"].as_str().unwrap().to_lowercase();
    user_with_password(s, new).await;
    let mut visit = Visit::new(s);
    let answer = visit.sign_in(&username, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    visit
}

/// A unit user of DEMO-FGJ who signs in as `wangwu`.
async fn unit_user(s: &TestServer) {
    user_with_password(
        s,
        json!({"name": "发改局王五", "username": "WangWu", "role": "unit", "unit": "DEMO-FGJ"}),
    )
    .await;
}

async fn signing_in_sets_a_safe_cookie_and_signing_out_ends_it(s: &TestServer) {
    unit_user(s).await;
    let mut visit = Visit::new(s);
    let signed = visit.sign_in("wangwu", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert_eq!(signed.location.as_deref(), Some("/console"));
    let cookie = visit.set_cookie("hotline_session");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "served over http: {cookie}");
    let start = visit.get("/console").await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(start.body.contains("发改局王五"), "{}", start.body);
    assert!(start.body.contains("退出登录"));
    let stolen = visit.cookies.clone();

    // Signing out needs the session's token, then ends the session everywhere.
    let refused = visit.post("/sign-out", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let csrf = csrf_of(&start.body);
    let out = visit.post("/sign-out", &[("_csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/sign-in"));
    let after = visit.get("/console").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location.as_deref(), Some("/sign-in?next=/console"));
    let mut replay = Visit::new(s);
    replay.cookies = stolen;
    let replayed = replay.get("/console").await;
    assert_eq!(
        replayed.status,
        StatusCode::SEE_OTHER,
        "the old cookie opens nothing"
    );
}

async fn a_form_without_its_token_is_refused(s: &TestServer) {
    unit_user(s).await;
    let mut visit = Visit::new(s);
    visit.get("/sign-in").await;
    for form in [
        vec![("username", "wangwu"), ("password", PASSWORD)],
        vec![
            (
                "_csrf",
                "0000000000000000000000000000000000000000000000000000000000000000",
            ),
            ("username", "wangwu"),
            ("password", PASSWORD),
        ],
    ] {
        let answer = visit.post("/sign-in", &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        assert!(answer.body.contains("表单已过期"), "{}", answer.body);
        assert!(visit.set.iter().all(|c| !c.starts_with("hotline_session")));
    }
    // A session's forms need the session's token, not the sign-in page's.
    let signed = visit.sign_in("wangwu", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let public_token = visit.cookies["hotline_form"].clone();
    let answer = visit.post("/sign-out", &[("_csrf", &public_token)]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        visit.get("/console").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

async fn repeated_failures_lock_the_user_out_for_a_while(s: &TestServer) {
    unit_user(s).await;
    let mut visit = Visit::new(s);
    for _ in 0..5 {
        let wrong = visit.sign_in("wangwu", "not the password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("用户名或密码不正确"), "{}", wrong.body);
    }
    let locked = visit.sign_in("wangwu", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert!(locked.body.contains("暂时锁定"), "{}", locked.body);
    // An unknown name gets the answer a wrong password gets.
    let unknown = visit.sign_in("nobody", PASSWORD).await;
    assert!(unknown.body.contains("用户名或密码不正确"));
    s.set_now(s.now() + Duration::minutes(16));
    let again = visit.sign_in("wangwu", PASSWORD).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
}

async fn sessions_end_when_idle_and_pages_speak_english_on_request(s: &TestServer) {
    unit_user(s).await;
    let mut visit = Visit::new(s);
    visit.sign_in("wangwu", PASSWORD).await;
    let english = visit.get("/console?lang=en-US").await;
    assert!(english.body.contains("<html lang=\"en-US\">"));
    assert!(english.body.contains("Sign out"), "{}", english.body);
    assert!(visit.set_cookie("hotline_lang").contains("en-US"));
    let kept = visit.get("/console").await;
    assert!(kept.body.contains("Sign out"), "the language is kept");
    s.set_now(s.now() + Duration::hours(3));
    let idle = visit.get("/console").await;
    assert_eq!(
        idle.status,
        StatusCode::SEE_OTHER,
        "idle for longer than allowed"
    );
}

async fn every_page_carries_protective_headers(s: &TestServer) {
    let response = Client::new()
        .get(format!("{}/sign-in", s.base))
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(headers["cache-control"], "no-store");
}

on_both_engines!(
    signing_in_sets_a_safe_cookie_and_signing_out_ends_it,
    a_form_without_its_token_is_refused,
    repeated_failures_lock_the_user_out_for_a_while,
    sessions_end_when_idle_and_pages_speak_english_on_request,
    every_page_carries_protective_headers,
    the_appellant_follows_supplements_and_rates_on_the_public_pages,
    a_unit_works_its_inbox_and_another_unit_cannot_open_the_case,
    an_admin_adds_and_disables_users_in_the_console,
);

/// Over https the session cookie is `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_secure_behind_https() {
    let s = TestServer::start_with(Engine::Sqlite, |c| {
        c.public_url = "https://12345.example.gov.cn".to_owned();
    })
    .await
    .unwrap();
    unit_user(&s).await;
    let mut visit = Visit::new(&s);
    visit.sign_in("wangwu", PASSWORD).await;
    assert!(visit.set_cookie("hotline_session").contains("Secure"));
    s.stop().await;
}

/// The appellant follows the appeal with the ticket number and token from the submission,
/// adds material, and rates the reply on the page the rating link opens.
async fn the_appellant_follows_supplements_and_rates_on_the_public_pages(s: &TestServer) {
    let admin = s.token(hotline_schemas::Role::Admin, None, "管理员");
    let unit = s.token(hotline_schemas::Role::Unit, Some("DEMO-FGJ"), "发改局王五");
    let created = s.submit(None, crate::support::enterprise_appeal()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let ticket = created["ticket_no"].as_str().unwrap().to_owned();
    let token = created["appellant_token"].as_str().unwrap().to_owned();
    for (action, who, body) in [
        ("dispatch", &admin, json!({"unit": "DEMO-FGJ"})),
        ("accept", &unit, json!({})),
    ] {
        let (status, answer) = s.act(&id, action, who, body).await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
    }
    let mut visit = Visit::new(s);
    let link = format!("/follow?ticket={ticket}&token={token}");
    let page = visit.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("承办单位已签收"), "{}", page.body);
    assert!(!page.body.contains("发改局王五"), "no staff names");
    let csrf = csrf_of(&page.body);
    let added = visit
        .post(
            "/follow/supplement",
            &[
                ("_csrf", &csrf),
                ("ticket", &ticket),
                ("token", &token),
                ("text", "补充营业执照"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let shown = visit.get(added.location.as_deref().unwrap()).await;
    assert!(shown.body.contains("补充内容已收到"), "{}", shown.body);

    let (status, _) = s
        .act(&id, "reply", &unit, json!({"result": "已协调完成审批"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let rate_page = visit
        .get(&format!("/rate?ticket={ticket}&token={token}"))
        .await;
    assert!(
        rate_page.body.contains("已协调完成审批"),
        "{}",
        rate_page.body
    );
    assert!(rate_page.body.contains("非常满意"));
    let no_token = visit
        .post(
            "/rate",
            &[
                ("ticket", &ticket),
                ("token", &token),
                ("rating", "satisfied"),
            ],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "CSRF");
    let rated = visit
        .post(
            "/rate",
            &[
                ("_csrf", &csrf),
                ("ticket", &ticket),
                ("token", &token),
                ("rating", "very_satisfied"),
                ("comment", "很快"),
            ],
        )
        .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER, "{}", rated.body);
    let done = visit.get(rated.location.as_deref().unwrap()).await;
    assert!(done.body.contains("感谢您的评价"), "{}", done.body);
    assert!(done.body.contains("已办结"), "{}", done.body);
    let (_, seen) = s.get(&format!("/api/v1/appeals/{id}"), &admin).await;
    assert_eq!(seen["status"], "closed");
    assert_eq!(seen["rating"], "very_satisfied");

    // Another ticket number, or a forged token, opens nothing.
    for wrong in [
        format!("/follow?ticket=20990101-000001&token={token}"),
        format!("/follow?ticket={ticket}&token=forged"),
    ] {
        let page = visit.get(&wrong).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{wrong}");
        assert!(page.body.contains("链接无效"), "{}", page.body);
    }
}

/// A unit's staff work an appeal in the inbox: sign for it, reply; another unit's staff get
/// 404 for the same case by URL, and a form without its token changes nothing.
async fn a_unit_works_its_inbox_and_another_unit_cannot_open_the_case(s: &TestServer) {
    unit_user(s).await;

    let admin = s.token(hotline_schemas::Role::Admin, None, "管理员");
    let created = s.submit(None, crate::support::enterprise_appeal()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, _) = s
        .act(&id, "dispatch", &admin, json!({"unit": "DEMO-FGJ"}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let mut visit = Visit::new(s);
    visit.sign_in("wangwu", PASSWORD).await;
    let inbox = visit.get("/console/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    assert!(
        inbox.body.contains(&format!("/console/appeals/{id}")),
        "{}",
        inbox.body
    );
    assert!(inbox.body.contains("签收时限"));
    let path = format!("/console/appeals/{id}");
    let case = visit.get(&path).await;
    assert!(
        case.body.contains("13800138000") || case.body.contains("某"),
        "{}",
        case.body
    );
    let csrf = csrf_of(&case.body);
    let forged = visit.post(&format!("{path}/accept"), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let accepted = visit
        .post(&format!("{path}/accept"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let replied = visit
        .post(
            &format!("{path}/reply"),
            &[("_csrf", &csrf), ("result", "已完成审批")],
        )
        .await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.body);
    let (_, seen) = s.get(&path.replace("/console", "/api/v1"), &admin).await;
    assert_eq!(seen["status"], "replied");
    let empty = visit
        .post(&format!("{path}/reply"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(
        empty.status,
        StatusCode::CONFLICT,
        "already replied: {}",
        empty.body
    );

    let mut elsewhere = signed_in(
        s,
        json!({"name": "人资局李四", "username": "lisi", "role": "unit", "unit": "DEMO-RSJ"}),
    )
    .await;
    let refused = elsewhere.get(&path).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    let theirs = elsewhere.get("/console/inbox").await;
    assert!(!theirs.body.contains(&id));
}

/// The inbox hears of a new arrival at once (server-sent events fed from the bus: the whole
/// platform runs, relay included), and only of its own unit's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_hears_of_new_arrivals_as_they_come() {
    use futures_util::StreamExt;
    let data = tempfile::tempdir().unwrap();
    let config = hotline::Config {
        data_dir: data.path().join("data"),
        ..hotline::Config::default()
    }
    .without_intake_limits();
    let live = crate::support::Live::start(config.clone(), crate::support::monday_morning()).await;
    live.user_with_password(
        json!({"name": "发改局王五", "username": "wangwu", "role": "unit", "unit": "DEMO-FGJ"}),
    )
    .await;
    let mut visit = Visit::at(&live.base);
    visit.sign_in("wangwu", PASSWORD).await;
    let cookie: Vec<String> = visit
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let response = Client::new()
        .get(format!("{}/console/inbox/events", live.base))
        .header(COOKIE, cookie.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut stream = response.bytes_stream();
    let admin = live.token(hotline_schemas::Role::Admin, None, "管理员");
    let mut ids = Vec::new();
    for unit in ["DEMO-RSJ", "DEMO-FGJ"] {
        let created = live
            .submit(None, crate::support::unplaceable_appeal())
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        // Dispatched once the router has classified it (else the two changes race).
        crate::procs::until_classified(&live.base, &id, &admin).await;
        let (status, answer) = live
            .act(&id, "dispatch", &admin, json!({"unit": unit}))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        ids.push(id);
    }
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !seen.contains(&ids[1]) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("the arrival in time: {seen}"))
            .expect("the stream goes on")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: arrival"), "{seen}");
    assert!(!seen.contains(&ids[0]), "another unit's arrival: {seen}");
    drop(stream);
    live.stop().await;
}

/// An admin adds a user with a password in the console, who then signs in; disabling them ends
/// their session at once; only admins open these pages.
async fn an_admin_adds_and_disables_users_in_the_console(s: &TestServer) {
    let mut admin = signed_in(
        s,
        json!({"name": "系统管理员", "username": "root", "role": "admin"}),
    )
    .await;
    let page = admin.get("/console/admin").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = csrf_of(&page.body);
    let short = admin
        .post(
            "/console/admin/users",
            &[
                ("_csrf", &csrf),
                ("name", "张三"),
                ("username", "zhangsan"),
                ("role", "unit"),
                ("unit", "DEMO-FGJ"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.body
    );
    assert!(
        short.body.contains("密码需 10 到 256 个字符"),
        "{}",
        short.body
    );
    let added = admin
        .post(
            "/console/admin/users",
            &[
                ("_csrf", &csrf),
                ("name", "张三"),
                ("username", "ZhangSan"),
                ("role", "unit"),
                ("unit", "DEMO-FGJ"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let listed = admin.get("/console/admin?done=added").await;
    assert!(listed.body.contains("用户已新增") && listed.body.contains("zhangsan"));
    let again = admin
        .post(
            "/console/admin/users",
            &[
                ("_csrf", &csrf),
                ("name", "另一个张三"),
                ("username", "zhangsan"),
                ("role", "agent"),
            ],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "the sign-in name is taken"
    );

    let mut zhang = Visit::new(s);
    let signed = zhang.sign_in("zhangsan", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert_eq!(zhang.get("/console/inbox").await.status, StatusCode::OK);
    assert_eq!(
        zhang.get("/console/admin").await.status,
        StatusCode::FORBIDDEN,
        "only admins"
    );
    let users = s
        .get(
            "/api/v1/users",
            &s.token(hotline_schemas::Role::Admin, None, "管理员"),
        )
        .await
        .1;
    let id = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "zhangsan")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disabled = admin
        .post(
            &format!("/console/admin/users/{id}/disable"),
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.body);
    assert_eq!(
        zhang.get("/console/inbox").await.status,
        StatusCode::SEE_OTHER,
        "their session ended"
    );
    assert_eq!(
        zhang.sign_in("zhangsan", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}
