//! The web console in a real browser: headless Chromium driven through chromedriver (WebDriver,
//! with `fantoccini`). Screenshots go to `<target>/screenshots/<name>.png`.
//!
//! Chromium is `HOTLINE_TEST_CHROMIUM` (else `/usr/bin/chromium`), chromedriver is
//! `HOTLINE_TEST_CHROMEDRIVER` (else `chromedriver` on `PATH`). When either is missing the tests
//! say `SKIPPED: …`; with `CI` set they fail instead.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::support::{Engine, TestServer};

/// The size of the browser window.
#[derive(Debug, Clone, Copy)]
pub enum Screen {
    /// 1280×900.
    Desktop,
    /// A phone: 390×844 CSS pixels at a device pixel ratio of 3, touch, mobile viewport.
    Phone,
}

/// A headless Chromium session through a chromedriver of its own (killed on drop).
pub struct Browser {
    pub client: Client,
    driver: Child,
    port: u16,
    /// The WebDriver session, while it is open.
    session: Option<String>,
}

/// The file at `var`, else `default`; `None` when there is no such file.
fn program(var: &str, default: &str) -> Option<PathBuf> {
    let named = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    if named.components().count() > 1 {
        return named.is_file().then_some(named);
    }
    // A bare name: look it up on PATH.
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(&named))
        .find(|candidate| candidate.is_file())
}

/// Some free port on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The cargo target directory: `$CARGO_TARGET_DIR` (relative to the workspace root when
/// relative), else `target/` at the workspace root.
pub fn target_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the hotline package lives in the workspace root")
        .to_path_buf();
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

impl Browser {
    /// A browser for `test`, or `None` (said loudly) when Chromium or chromedriver is not
    /// installed here; with `CI` set, their absence fails the test instead.
    pub async fn start(test: &str, screen: Screen) -> Option<Browser> {
        let chromium = program("HOTLINE_TEST_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = program("HOTLINE_TEST_CHROMEDRIVER", "chromedriver");
        let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
            let missing = "Chromium (HOTLINE_TEST_CHROMIUM, else /usr/bin/chromium) or \
                           chromedriver (HOTLINE_TEST_CHROMEDRIVER, else on PATH)";
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: {missing} is not installed, and CI is set: the browser is required \
                 (apt-get install chromium chromium-driver fonts-noto-cjk)"
            );
            eprintln!("SKIPPED: {missing} not found, {test} not run");
            return None;
        };

        let port = free_port();
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = driver.try_wait().unwrap() {
                panic!("{} exited at start: {status}", chromedriver.display());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on {addr} within 20 s",
                chromedriver.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
        ];
        let mut options = json!({ "binary": chromium.to_string_lossy() });
        match screen {
            Screen::Desktop => args.push("--window-size=1280,900"),
            Screen::Phone => {
                args.push("--window-size=390,844");
                options["mobileEmulation"] = json!({
                    "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 3.0, "touch": true, "mobile": true }
                });
            }
        }
        options["args"] = json!(args);
        let capabilities = match json!({ "browserName": "chrome", "goog:chromeOptions": options }) {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://{addr}"))
            .await;
        let client = match client {
            Ok(client) => client,
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("no Chromium session through chromedriver: {e}");
            }
        };
        let session = client.session_id().await.unwrap();
        Some(Browser {
            client,
            driver,
            port,
            session,
        })
    }

    /// Opens `url` and waits for its `<body>`.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap();
        self.wait_for("body").await;
    }

    /// The element `css` selects, waiting up to 10 s for it.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("no {css} on {}: {e}", self.location().await),
        }
    }

    /// The path of the current URL.
    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// The path and query of the current URL, as the address bar shows them after the host.
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The page's HTML as it is now.
    pub async fn html(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Evaluates `script` (a function body: `return …`) in the page.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap()
    }

    /// Saves what the window shows as `<target>/screenshots/<name>.png`, and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Fills in the sign-in form on the page shown and sends it.
    pub async fn fill_sign_in(&self, username: &str, password: &str) {
        let name = self.wait_for("#username").await;
        name.clear().await.unwrap();
        name.send_keys(username).await.unwrap();
        self.wait_for("#password")
            .await
            .send_keys(password)
            .await
            .unwrap();
        self.wait_for("form[action=\"/sign-in\"] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
    }

    /// Signs in on `base`'s sign-in page; the console's start page is then shown.
    pub async fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.open(&format!("{base}/sign-in")).await;
        self.fill_sign_in(username, password).await;
        self.wait_for("form[action=\"/sign-out\"]").await;
    }

    /// Ends the session (Chromium quits), then chromedriver.
    pub async fn close(mut self) {
        if self.session.take().is_some() {
            let _ = self.client.clone().close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After a panic the session is still open: end it (Chromium with it) before killing
        // chromedriver, which would otherwise leave Chromium behind. Drop cannot await, and
        // chromedriver speaks plain HTTP: one blocking DELETE.
        if let Some(id) = self.session.take() {
            let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
            if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /session/{id} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
                );
                if stream.write_all(request.as_bytes()).is_ok() {
                    let _ = stream.read_to_end(&mut Vec::new());
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_user_signs_in_and_out_in_both_languages() {
    let test = "a_unit_user_signs_in_and_out_in_both_languages";
    let Some(browser) = Browser::start(test, Screen::Desktop).await else {
        return;
    };
    let s = TestServer::start(Engine::Sqlite).await.unwrap();
    let (user, _) = s
        .user(
            json!({"name": "发改局王五", "username": "wangwu", "role": "unit", "unit": "DEMO-FGJ"}),
        )
        .await;
    let store = hotline::open_store(&s.config).await.unwrap();
    let password = "a long password 123";
    hotline::people::set_password(store.as_ref(), user.id, password)
        .await
        .unwrap();
    let base = &s.base;

    // The public start page, in Chinese (the choice is kept in a cookie from here on).
    browser.open(&format!("{base}/?lang=zh-CN")).await;
    assert_eq!(
        browser.eval("return document.documentElement.lang").await,
        "zh-CN"
    );
    browser.screenshot("home-zh-CN").await;

    browser.open(&format!("{base}/sign-in")).await;
    assert_eq!(
        browser.eval("return document.documentElement.lang").await,
        "zh-CN"
    );
    browser
        .wait_for("form[action=\"/sign-in\"] button[type=submit]")
        .await;
    browser.screenshot("sign-in-zh-CN").await;

    // A wrong password: the form again, saying why.
    browser.fill_sign_in("wangwu", "not the password").await;
    let problem = browser.wait_for("#sign-in-problem").await;
    assert!(!problem.text().await.unwrap().trim().is_empty());
    assert_eq!(browser.path().await, "/sign-in");
    browser.screenshot("sign-in-problem-zh-CN").await;

    // The right one: the console's start page, with the user's name in it.
    browser.fill_sign_in("wangwu", password).await;
    browser.wait_for("form[action=\"/sign-out\"]").await;
    assert_eq!(browser.path().await, "/console");
    let html = browser.html().await;
    assert!(html.contains("发改局王五"), "{html}");
    assert!(!html.contains("sign-in-problem"), "{html}");
    browser.screenshot("start-zh-CN").await;

    // In English, through the switch in the header.
    browser
        .wait_for("a.lang[hreflang=\"en-US\"]")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("form[action=\"/sign-out\"]").await;
    assert_eq!(
        browser.eval("return document.documentElement.lang").await,
        "en-US"
    );
    assert_eq!(browser.location().await, "/console?lang=en-US");
    assert!(browser.html().await.contains("发改局王五"));
    browser.screenshot("start-en-US").await;

    // Signing out leads to the sign-in page (still in English) ...
    browser
        .wait_for("form[action=\"/sign-out\"] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("form[action=\"/sign-in\"]").await;
    assert_eq!(browser.path().await, "/sign-in");
    assert_eq!(
        browser.eval("return document.documentElement.lang").await,
        "en-US"
    );
    browser.screenshot("sign-in-en-US").await;

    // ... and the console is closed again: back to signing in, coming back here after.
    browser.open(&format!("{base}/console")).await;
    browser.wait_for("form[action=\"/sign-in\"]").await;
    let here = browser.location().await;
    let next = here.strip_prefix("/sign-in?next=");
    assert!(
        matches!(next, Some("/console" | "%2Fconsole")),
        "{here}: not the sign-in page coming back to /console"
    );
    assert_eq!(
        browser
            .eval("return document.querySelector('input[name=next]').value")
            .await,
        "/console"
    );

    browser.close().await;
    s.stop().await;
}

/// The public start page on a phone: nothing wider than the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_page_fits_a_phone() {
    let test = "the_start_page_fits_a_phone";
    let Some(browser) = Browser::start(test, Screen::Phone).await else {
        return;
    };
    let s = TestServer::start(Engine::Sqlite).await.unwrap();
    browser.open(&format!("{}/?lang=zh-CN", s.base)).await;
    let width = browser.eval("return window.innerWidth").await;
    assert_eq!(width, 390, "the phone's viewport");
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    browser.screenshot("home-zh-CN-phone").await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page is {overflow} px wider than a 390 px phone"
    );
    browser.close().await;
    s.stop().await;
}

/// A unit's staff member works an appeal in the browser: the inbox with its countdown, a new
/// arrival shown without a reload, the case, signing for it and replying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_works_an_appeal_from_its_inbox() {
    let test = "a_unit_works_an_appeal_from_its_inbox";
    let Some(browser) = Browser::start(test, Screen::Desktop).await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let config = hotline::Config {
        data_dir: data.path().join("data"),
        ..hotline::Config::default()
    }
    .without_intake_limits();
    // The whole platform, relay included: the inbox hears of arrivals through the bus.
    let live = crate::support::Live::start(config.clone(), chrono::Utc::now()).await;
    live.user_with_password(
        json!({"name": "发改局王五", "username": "wangwu", "role": "unit", "unit": "DEMO-FGJ"}),
    )
    .await;
    let admin = live.token(hotline_schemas::Role::Admin, None, "管理员");
    // Appeals the router cannot place: a dispatcher sends them to the unit.
    let dispatch = || {
        let (live, admin) = (&live, &admin);
        async move {
            let body = crate::support::unplaceable_appeal();
            let id = live.submit(None, body).await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            crate::procs::until_classified(&live.base, &id, admin).await;
            let (status, answer) = live
                .act(&id, "dispatch", admin, json!({"unit": "DEMO-FGJ"}))
                .await;
            assert_eq!(status, reqwest::StatusCode::OK, "{answer}");
            id
        }
    };
    let first = dispatch().await;
    let base = &live.base;
    browser.open(&format!("{base}/?lang=zh-CN")).await;
    browser
        .sign_in(base, "wangwu", crate::console::PASSWORD)
        .await;
    browser.open(&format!("{base}/console/inbox")).await;
    browser.wait_for("#inbox").await;
    assert!(browser.html().await.contains(&first));
    // The countdown runs: minutes left to sign for it.
    let countdown = browser.wait_for(".countdown").await;
    assert!(countdown.text().await.unwrap().contains("min"));
    // A second appeal arrives while the page is open.
    let second = dispatch().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !browser.html().await.contains(&second) {
        assert!(Instant::now() < deadline, "the arrival never showed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let notice = browser.wait_for("#inbox-live").await.text().await.unwrap();
    assert!(notice.contains("新派来的工单"), "{notice}");
    browser.screenshot("inbox-zh-CN").await;

    browser
        .open(&format!("{base}/console/appeals/{first}"))
        .await;
    browser.wait_for("#accept").await.click().await.unwrap();
    browser
        .wait_for("#result")
        .await
        .send_keys("已联系排水公司疏通,积水已排除。")
        .await
        .unwrap();
    browser.screenshot("case-zh-CN").await;
    browser.wait_for("#reply").await.click().await.unwrap();
    // The case again, replied (the form is gone).
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.html().await.contains("id=\"reply\"") {
        assert!(Instant::now() < deadline, "the reply never went through");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = browser.wait_for("#case-status").await.text().await.unwrap();
    assert_eq!(status.trim(), "已答复");
    browser
        .open(&format!("{base}/console/inbox?lang=en-US"))
        .await;
    browser.wait_for("#inbox").await;
    browser.screenshot("inbox-en-US").await;
    browser.close().await;
    live.stop().await;
}

/// The walks of one appeal through the console, role by role, in a real browser.
mod walk {
    use super::*;
    use crate::console::PASSWORD;
    use crate::procs::until;
    use crate::support::{Live, enterprise_appeal};
    use hotline_schemas::Role;

    /// Where the platform says people reach it: the rating link it sends starts here.
    const PUBLIC_URL: &str = "http://12345.hotline.test";
    /// The planning bureau of the shipped taxonomy, in both languages.
    const PLANNING: &str = "GHZRZYJ";
    const PLANNING_ZH: &str = "区规划和自然资源局";
    const PLANNING_EN: &str = "District Planning and Natural Resources Bureau";

    /// The whole platform (router, worker with relay and notifier) on a fresh SQLite database,
    /// telling the webhook it returns what it notifies.
    async fn platform() -> (Live, crate::notify::Inbox, tempfile::TempDir) {
        let data = tempfile::tempdir().unwrap();
        let (hook, notified) = crate::notify::webhook(0).await;
        let config = hotline::Config {
            data_dir: data.path().join("data"),
            notify_webhook_url: Some(hook),
            public_url: PUBLIC_URL.to_owned(),
            duplicate_window_hours: 0,
            ..hotline::Config::default()
        }
        .without_intake_limits();
        let live = Live::start(config, chrono::Utc::now()).await;
        (live, notified, data)
    }

    /// Users `news` describes, each signing in with [`PASSWORD`].
    async fn staff(live: &Live, news: &[Value]) {
        for new in news {
            live.user_with_password(new.clone()).await;
        }
    }

    /// `at` (a path and query) with its language set to `lang`.
    fn in_language(at: &str, lang: &str) -> String {
        let (path, query) = at.split_once('?').unwrap_or((at, ""));
        let mut pairs: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .map(str::to_owned)
            .collect();
        pairs.push(format!("lang={lang}"));
        format!("{path}?{}", pairs.join("&"))
    }

    /// The text the page shows.
    async fn text(browser: &Browser) -> String {
        let shown = browser.eval("return document.body.innerText").await;
        shown.as_str().unwrap_or_default().to_owned()
    }

    /// The page shown, in Chinese, then the same page in English: each time the page says it
    /// is in that language, shows that language's `zh` or `en` texts and not the other's, and is
    /// saved as `walk-<step>-<lang>`. Back in Chinese after.
    async fn in_both_languages(
        browser: &Browser,
        base: &str,
        step: &str,
        zh: &[&str],
        en: &[&str],
    ) {
        let at = browser.location().await;
        for (lang, want, other) in [("zh-CN", zh, en), ("en-US", en, zh)] {
            if lang == "en-US" {
                browser
                    .open(&format!("{base}{}", in_language(&at, lang)))
                    .await;
            }
            assert_eq!(
                browser.eval("return document.documentElement.lang").await,
                lang,
                "{step}: {at}"
            );
            let shown = text(browser).await;
            for t in want {
                assert!(shown.contains(t), "{step} in {lang}: no {t:?} in {shown}");
            }
            for t in other.iter().filter(|t| !want.contains(t)) {
                assert!(!shown.contains(t), "{step} in {lang}: {t:?} in {shown}");
            }
            browser.screenshot(&format!("walk-{step}-{lang}")).await;
        }
        browser
            .open(&format!("{base}{}", in_language(&at, "zh-CN")))
            .await;
    }

    /// Opens `url` again and again until `done` holds of the page's text (bounded: 20 s).
    async fn shown_until(browser: &Browser, url: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            browser.open(url).await;
            let shown = text(browser).await;
            if done(&shown) {
                return shown;
            }
            assert!(Instant::now() < deadline, "{url} never got there: {shown}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn sign_out(browser: &Browser) {
        browser
            .wait_for("form[action=\"/sign-out\"] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        browser.wait_for("form[action=\"/sign-in\"]").await;
    }

    async fn type_into(browser: &Browser, css: &str, value: &str) {
        browser.wait_for(css).await.send_keys(value).await.unwrap();
    }

    async fn click(browser: &Browser, css: &str) {
        browser.wait_for(css).await.click().await.unwrap();
    }

    /// The status of `GET base+path` with the browser's session cookie.
    async fn status_of(browser: &Browser, live: &Live, path: &str) -> reqwest::StatusCode {
        let session = browser
            .client
            .get_named_cookie("hotline_session")
            .await
            .unwrap();
        live.client
            .get(format!("{}{path}", live.base))
            .header(
                reqwest::header::COOKIE,
                format!("hotline_session={}", session.value()),
            )
            .send()
            .await
            .unwrap()
            .status()
    }

    /// The appeal with ticket number `ticket`, as an admin lists it.
    async fn by_ticket(live: &Live, admin: &str, ticket: &str) -> Value {
        let (status, list) = live.get("/api/v1/appeals?per_page=100", admin).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{list}");
        list["appeals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["ticket_no"] == ticket)
            .unwrap_or_else(|| panic!("no appeal {ticket} in {list}"))
            .clone()
    }

    /// One appeal from the agent's call to the leader's dashboard, every step in the browser:
    /// the agent logs it on the desk, the router places it with the planning bureau by itself,
    /// the bureau signs for it and replies from its inbox, the appellant rates it through the
    /// link the platform sent, and the leader in charge of the bureau finds it counted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_appeal_walks_through_every_role() {
        let test = "one_appeal_walks_through_every_role";
        let Some(browser) = Browser::start(test, Screen::Desktop).await else {
            return;
        };
        let (live, notified, _data) = platform().await;
        staff(
            &live,
            &[
                json!({"name": "话务员小王", "username": "xiaowang", "role": "agent"}),
                json!({"name": "规自局王五", "username": "wangwu", "role": "unit", "unit": PLANNING}),
                json!({"name": "分管规划的副区长", "username": "fuquzhang", "role": "leader", "in_charge_of": [PLANNING]}),
            ],
        )
        .await;
        let admin = live.token(Role::Admin, None, "管理员");
        let base = &live.base;
        browser.open(&format!("{base}/?lang=zh-CN")).await;

        // 1. The agent logs the call on the desk.
        browser.sign_in(base, "xiaowang", PASSWORD).await;
        browser.open(&format!("{base}/console/desk")).await;
        browser.wait_for("#desk-form").await;
        in_both_languages(&browser, base, "1-desk", &["接线登记"], &["Log a call"]).await;
        click(&browser, "input[name=kind][value=complaint]").await;
        type_into(
            &browser,
            "#body",
            "我司在福海街道申请厂房用地,审批已三个月无进展,请协调。",
        )
        .await;
        type_into(&browser, "#title", "厂房用地审批缓慢").await;
        type_into(&browser, "#address", "宝安区福海街道").await;
        type_into(&browser, "#name", "陈先生").await;
        type_into(&browser, "#phone", "13800138000").await;
        click(&browser, "#log-call").await;
        browser.wait_for("#desk-notice").await;
        let here = browser.path().await;
        let id = here
            .strip_prefix("/console/desk/appeals/")
            .unwrap_or_else(|| panic!("not the logged call's page: {here}"))
            .to_owned();
        let ticket = browser.wait_for("#case-ticket").await.text().await.unwrap();
        let ticket = ticket.trim().to_owned();
        assert!(!ticket.is_empty());

        // 2. The router places it with the planning bureau by itself: the desk's page says so.
        let case = format!("{base}/console/desk/appeals/{id}");
        let shown = shown_until(&browser, &case, |t| t.contains("已派单")).await;
        assert!(shown.contains(PLANNING_ZH), "{shown}");
        let placed = until(base, &id, &admin, |a| a["status"] == "dispatched").await;
        assert_eq!(placed["unit"], PLANNING, "{placed}");
        assert_eq!(placed["channel"], "hotline");
        assert_eq!(placed["ticket_no"], ticket.as_str());
        in_both_languages(
            &browser,
            base,
            "2-desk-case",
            &[PLANNING_ZH, "已派单", "办理过程"],
            &[PLANNING_EN, "dispatched", "Progress"],
        )
        .await;
        sign_out(&browser).await;

        // 3. The bureau: its inbox, the case, signed for, replied.
        browser.sign_in(base, "wangwu", PASSWORD).await;
        browser.open(&format!("{base}/console/inbox")).await;
        browser.wait_for("#inbox").await;
        assert!(text(&browser).await.contains(&ticket));
        in_both_languages(
            &browser,
            base,
            "3-inbox",
            &["待办工单", &ticket],
            &["Inbox", &ticket],
        )
        .await;
        click(
            &browser,
            &format!("#inbox a[href=\"/console/appeals/{id}\"]"),
        )
        .await;
        browser.wait_for("#accept").await;
        in_both_languages(
            &browser,
            base,
            "4-case",
            &["签收", "已派单"],
            &["Sign for it", "dispatched"],
        )
        .await;
        click(&browser, "#accept").await;
        browser.wait_for("#result").await;
        let status = browser.wait_for("#case-status").await.text().await.unwrap();
        assert_eq!(status.trim(), "已签收");
        in_both_languages(
            &browser,
            base,
            "5-accepted",
            &["办结答复", "已签收"],
            &["Reply with the result", "accepted"],
        )
        .await;
        let result = "已协调自然资源局加快审批,用地手续本周内办结。";
        type_into(&browser, "#result", result).await;
        click(&browser, "#reply").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while browser.html().await.contains("id=\"reply\"") {
            assert!(Instant::now() < deadline, "the reply never went through");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let status = browser.wait_for("#case-status").await.text().await.unwrap();
        assert_eq!(status.trim(), "已答复");
        in_both_languages(
            &browser,
            base,
            "6-replied",
            &["已答复", result],
            &["replied", result],
        )
        .await;
        sign_out(&browser).await;

        // 4. The appellant rates it through the link the platform sent them.
        let told = crate::notify::received(&notified, |n| {
            n["event"] == "replied" && n["ticket_no"] == ticket.as_str()
        })
        .await;
        assert_eq!(told["to"], "appellant:13800138000", "{told}");
        let said = told["text"].as_str().unwrap();
        let start = said
            .find(&format!("{PUBLIC_URL}/rate?"))
            .unwrap_or_else(|| panic!("no rating link in {said}"));
        let link = said[start..].split_whitespace().next().unwrap();
        assert!(link.contains(&format!("ticket={ticket}&token=")), "{link}");
        let link = link.replacen(PUBLIC_URL, base, 1);
        browser.open(&link).await;
        browser.wait_for("form[action=\"/rate\"]").await;
        assert!(text(&browser).await.contains(result));
        in_both_languages(
            &browser,
            base,
            "7-rate",
            &["评价办理结果", result],
            &["Rate the result", result],
        )
        .await;
        click(&browser, "input[name=rating][value=very_satisfied]").await;
        let comment = "办得很快,谢谢规自局!";
        type_into(&browser, "#comment", comment).await;
        click(&browser, "form[action=\"/rate\"] button[type=submit]").await;
        let thanks = browser
            .wait_for("#follow-notice")
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(thanks.trim(), "感谢您的评价。");
        assert!(
            !browser.html().await.contains("action=\"/rate\""),
            "rated once: the form is gone"
        );
        in_both_languages(
            &browser,
            base,
            "8-rated",
            &["感谢您的评价", "非常满意"],
            &["Thank you for your rating", "Very satisfied"],
        )
        .await;
        let rated = until(base, &id, &admin, |a| a["status"] == "closed").await;
        assert_eq!(rated["rating"], "very_satisfied", "{rated}");
        let said = rated["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "rated")
            .map(|e| e["data"]["comment"].clone());
        assert_eq!(said, Some(json!(comment)), "{rated}");

        // 5. The leader in charge of the bureau: the dashboard counts it, the case shows how it went.
        browser.sign_in(base, "fuquzhang", PASSWORD).await;
        let dashboard = format!("{base}/console/dashboard");
        browser.open(&dashboard).await;
        let figure = |id: &'static str| {
            let browser = &browser;
            async move {
                let v = browser
                    .eval(&format!(
                        "return document.getElementById('kpi-{id}').textContent"
                    ))
                    .await;
                v.as_str().unwrap().trim().to_owned()
            }
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while figure("satisfaction-rate").await != "100.0%" {
            assert!(
                Instant::now() < deadline,
                "the rating was never counted: {}",
                text(&browser).await
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
            browser.open(&dashboard).await;
        }
        assert_eq!(figure("received").await, "1");
        assert_eq!(figure("overdue").await, "0");
        let whose = browser
            .wait_for("#dashboard-whose")
            .await
            .text()
            .await
            .unwrap();
        assert!(whose.contains(PLANNING_ZH), "{whose}");
        let row = browser
            .eval(
                "return Array.from(document.querySelectorAll('#table-units tbody tr'), \
                 r => Array.from(r.cells, c => c.textContent.trim()))",
            )
            .await;
        assert_eq!(row, json!([[PLANNING_ZH, "1", "1", "1", "0"]]), "by unit");
        let ranked = browser
            .eval(
                "return Array.from(document.querySelectorAll('#table-ranking tbody tr'), \
                 r => Array.from(r.cells, c => c.textContent.trim()))",
            )
            .await;
        assert_eq!(ranked[0][0], "1", "{ranked}");
        assert_eq!(ranked[0][1], PLANNING_ZH, "{ranked}");
        assert_eq!(ranked[0][4], "100.0%", "the unit's satisfaction: {ranked}");
        browser.wait_for(".chart canvas").await;
        in_both_languages(
            &browser,
            base,
            "9-dashboard",
            &["统计看板", PLANNING_ZH],
            &["Dashboard", PLANNING_EN],
        )
        .await;

        // Handled in time: nothing on the oversight desk (a leader's cases there are the late and
        // escalated ones of their units, and those they own).
        browser.open(&format!("{base}/console/oversight")).await;
        browser.wait_for("#oversight-empty").await;
        assert!(!text(&browser).await.contains(&ticket));
        in_both_languages(
            &browser,
            base,
            "10-oversight",
            &["督办工作台"],
            &["Oversight desk"],
        )
        .await;
        browser.close().await;
        live.stop().await;
    }

    /// A complaint that accuses the planning bureau, submitted on the public page: the router
    /// sends it to the discipline office, which sees it in its inbox and returns it to the
    /// mailbox readers' queue, where a reader places it again; the bureau's pages never show
    /// it, and its case page is refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_confidential_complaint_reaches_only_the_discipline_office() {
        let test = "a_confidential_complaint_reaches_only_the_discipline_office";
        let Some(browser) = Browser::start(test, Screen::Desktop).await else {
            return;
        };
        let (live, _notified, _data) = platform().await;
        staff(
            &live,
            &[
                json!({"name": "纪委监委小刘", "username": "xiaoliu", "role": "unit", "unit": "JWJW"}),
                json!({"name": "书记信箱专员老周", "username": "laozhou", "role": "leader", "mailbox_reader": true}),
                json!({"name": "规自局王五", "username": "wangwu", "role": "unit", "unit": PLANNING}),
            ],
        )
        .await;
        let admin = live.token(Role::Admin, None, "管理员");
        let base = &live.base;
        // The bureau has an ordinary appeal of its own.
        let ordinary = live.submit(None, enterprise_appeal()).await;
        let ordinary_id = ordinary["id"].as_str().unwrap().to_owned();
        let ordinary_ticket = ordinary["ticket_no"].as_str().unwrap().to_owned();
        let placed = until(base, &ordinary_id, &admin, |a| a["status"] == "dispatched").await;
        assert_eq!(placed["unit"], PLANNING);

        // The whistle-blower, on the public page.
        browser.open(&format!("{base}/submit?lang=zh-CN")).await;
        browser.wait_for("#submit-form").await;
        in_both_languages(
            &browser,
            base,
            "c1-submit",
            &["提交诉求"],
            &["Submit an appeal"],
        )
        .await;
        let body = "规自局的工作人员办事吃拿卡要,不给好处费就卡着用地审批。";
        let title = "审批时被索要好处费";
        click(&browser, "input[name=kind][value=complaint]").await;
        type_into(&browser, "#body", body).await;
        type_into(&browser, "#title", title).await;
        type_into(&browser, "#name", "王先生").await;
        type_into(&browser, "#phone", "13700003333").await;
        click(&browser, "#submit-appeal").await;
        let ticket = browser
            .wait_for("#submitted-ticket")
            .await
            .text()
            .await
            .unwrap();
        let ticket = ticket.trim().to_owned();
        in_both_languages(
            &browser,
            base,
            "c2-submitted",
            &["诉求已提交", &ticket],
            &["Appeal submitted", &ticket],
        )
        .await;
        let id = by_ticket(&live, &admin, &ticket).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let placed = until(base, &id, &admin, |a| a["status"] == "dispatched").await;
        assert_eq!(placed["unit"], "JWJW", "{placed}");
        assert_eq!(placed["subject_unit"], PLANNING, "{placed}");
        assert_eq!(placed["confidential"], true, "{placed}");

        // The discipline office: in its inbox, returned to the mailbox readers, on its desk.
        browser.sign_in(base, "xiaoliu", PASSWORD).await;
        browser.open(&format!("{base}/console/inbox")).await;
        browser.wait_for("#inbox").await;
        let shown = text(&browser).await;
        assert!(shown.contains(&ticket), "{shown}");
        assert!(!shown.contains(&ordinary_ticket), "{shown}");
        in_both_languages(
            &browser,
            base,
            "c3-office-inbox",
            &["待办工单", &ticket],
            &["Inbox", &ticket],
        )
        .await;
        click(
            &browser,
            &format!("#inbox a[href=\"/console/appeals/{id}\"]"),
        )
        .await;
        browser.wait_for("#reason").await;
        assert!(text(&browser).await.contains(body));
        in_both_languages(
            &browser,
            base,
            "c4-office-case",
            &["签收", body],
            &["Sign for it", body],
        )
        .await;
        type_into(&browser, "#reason", "需书记信箱先行核实").await;
        click(
            &browser,
            &format!("form[action=\"/console/appeals/{id}/return\"] button[type=submit]"),
        )
        .await;
        browser.wait_for("#inbox-empty").await;
        assert_eq!(browser.path().await, "/console/inbox");
        browser
            .open(&format!("{base}/console/oversight/mailbox"))
            .await;
        let letters = browser.wait_for("#letters").await.text().await.unwrap();
        assert!(
            letters.contains(&ticket) && letters.contains(title),
            "{letters}"
        );
        in_both_languages(
            &browser,
            base,
            "c5-office-mailbox",
            &["书记信箱保密件", &ticket],
            &["Party secretary's mailbox: confidential cases", &ticket],
        )
        .await;
        sign_out(&browser).await;

        // A mailbox reader: the letter in the mailbox queue, placed with the office again.
        browser.sign_in(base, "laozhou", PASSWORD).await;
        browser.open(&format!("{base}/console/queue/mailbox")).await;
        let queue = browser.wait_for("#queue").await.text().await.unwrap();
        assert!(queue.contains(&ticket), "{queue}");
        assert!(!queue.contains(&ordinary_ticket), "{queue}");
        in_both_languages(
            &browser,
            base,
            "c6-mailbox-queue",
            &["书记信箱待办", &ticket],
            &["Mailbox queue", &ticket],
        )
        .await;
        click(
            &browser,
            &format!("a[href=\"/console/queue/appeals/{id}\"]"),
        )
        .await;
        browser.wait_for("#assign-form").await;
        // The accused unit is neither offered nor chosen for it.
        let offered = browser
            .eval(
                "const u = document.querySelector('#unit'); \
                 return [Array.from(u.options, o => o.value), u.value]",
            )
            .await;
        let codes = offered[0].as_array().unwrap();
        assert!(codes.iter().any(|c| c == "JWJW"), "{offered}");
        assert!(
            codes.iter().all(|c| c != PLANNING),
            "the accused unit offered: {offered}"
        );
        assert_ne!(offered[1], PLANNING, "{offered}");
        in_both_languages(
            &browser,
            base,
            "c7-mailbox-case",
            &[&ticket, body, "改派", "责任单位"],
            &[&ticket, body, "Reassign", "Responsible unit"],
        )
        .await;
        browser
            .wait_for("#unit")
            .await
            .select_by_value("JWJW")
            .await
            .unwrap();
        click(&browser, "#assign").await;
        let notice = browser
            .wait_for("#queue-notice")
            .await
            .text()
            .await
            .unwrap();
        assert!(notice.contains(&ticket), "{notice}");
        let placed = until(base, &id, &admin, |a| a["status"] == "dispatched").await;
        assert_eq!(placed["unit"], "JWJW", "{placed}");
        in_both_languages(
            &browser,
            base,
            "c8-placed",
            &["书记信箱待办", "已改派"],
            &["Mailbox queue", "reassigned"],
        )
        .await;
        sign_out(&browser).await;

        // The accused bureau: its own appeal, never the complaint.
        browser.sign_in(base, "wangwu", PASSWORD).await;
        let absent = |shown: &str| {
            for t in [ticket.as_str(), id.as_str(), title, body, "吃拿卡要"] {
                assert!(
                    !shown.contains(t),
                    "{t:?} shown to the accused unit: {shown}"
                );
            }
        };
        browser.open(&format!("{base}/console/inbox")).await;
        browser.wait_for("#inbox").await;
        let shown = text(&browser).await;
        assert!(shown.contains(&ordinary_ticket), "{shown}");
        absent(&shown);
        absent(&browser.html().await);
        in_both_languages(
            &browser,
            base,
            "c9-accused-inbox",
            &["待办工单", &ordinary_ticket],
            &["Inbox", &ordinary_ticket],
        )
        .await;
        browser.open(&format!("{base}/console/appeals/{id}")).await;
        browser.wait_for(".failure").await;
        absent(&browser.html().await);
        assert_eq!(
            status_of(&browser, &live, &format!("/console/appeals/{id}")).await,
            reqwest::StatusCode::NOT_FOUND
        );
        assert_eq!(
            status_of(&browser, &live, &format!("/console/appeals/{ordinary_id}")).await,
            reqwest::StatusCode::OK,
            "the same session opens the bureau's own case"
        );
        in_both_languages(
            &browser,
            base,
            "c10-accused-case",
            &["无法完成操作"],
            &["This could not be done"],
        )
        .await;
        browser
            .open(&format!("{base}/console/oversight/mailbox"))
            .await;
        browser.wait_for(".failure").await;
        absent(&browser.html().await);
        assert_eq!(
            status_of(&browser, &live, "/console/oversight/mailbox").await,
            reqwest::StatusCode::FORBIDDEN
        );
        in_both_languages(
            &browser,
            base,
            "c11-accused-mailbox",
            &["无法完成操作"],
            &["This could not be done"],
        )
        .await;
        // The dashboard counts the bureau's own appeal, not the complaint about it (which the
        // office's dashboard does count).
        let dashboard = format!("{base}/console/dashboard");
        let received = || async {
            let v = browser
                .eval("return document.getElementById('kpi-received').textContent")
                .await;
            v.as_str().unwrap().trim().to_owned()
        };
        browser.open(&dashboard).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while received().await == "0" {
            assert!(
                Instant::now() < deadline,
                "the bureau's appeal never counted"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
            browser.open(&dashboard).await;
        }
        let shown = text(&browser).await;
        assert_eq!(received().await, "1", "{shown}");
        absent(&shown);
        assert!(!shown.contains("区纪委监委"), "{shown}");
        browser.wait_for(".chart canvas").await;
        in_both_languages(
            &browser,
            base,
            "c12-accused-dashboard",
            &["统计看板", PLANNING_ZH],
            &["Dashboard", PLANNING_EN],
        )
        .await;
        sign_out(&browser).await;

        browser.sign_in(base, "xiaoliu", PASSWORD).await;
        let office = shown_until(&browser, &dashboard, |t| t.contains("区纪委监委")).await;
        assert_eq!(
            received().await,
            "1",
            "the office counts the complaint: {office}"
        );

        browser.close().await;
        live.stop().await;
    }
}

/// An admin uploads a new version of the time-limit policies from a file, saves and publishes
/// it, and sees it in use; the admin pages in both languages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_uploads_and_publishes_a_policy_file() {
    let test = "an_admin_uploads_and_publishes_a_policy_file";
    let Some(browser) = Browser::start(test, Screen::Desktop).await else {
        return;
    };
    let s = TestServer::start(Engine::Sqlite).await.unwrap();
    crate::console::user_with_password(
        &s,
        json!({"name": "管理员老周", "username": "zhou", "role": "admin"}),
    )
    .await;
    let store = hotline::open_store(&s.config).await.unwrap();
    let base = &s.base;
    browser.open(&format!("{base}/?lang=zh-CN")).await;
    browser
        .sign_in(base, "zhou", crate::console::PASSWORD)
        .await;

    browser.open(&format!("{base}/console/admin")).await;
    browser
        .wait_for("#reference-link")
        .await
        .click()
        .await
        .unwrap();
    let kinds = browser
        .wait_for("#reference-kinds")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        kinds.contains("办理时限") && kinds.contains("v1"),
        "{kinds}"
    );
    browser.screenshot("admin-reference-zh-CN").await;
    browser
        .wait_for("#kind-policies a")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("#reference-form").await;
    browser.screenshot("admin-policies-zh-CN").await;

    // The file chosen fills the editor.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policies.toml");
    let shipped = hotline_schemas::reference::SHIPPED_POLICIES;
    std::fs::write(
        &file,
        shipped.replace("response = \"30m\"", "response = \"20m\""),
    )
    .unwrap();
    browser
        .wait_for("#file")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !browser
        .eval("return document.getElementById('text').value")
        .await
        .as_str()
        .unwrap()
        .contains("response = \"20m\"")
    {
        assert!(
            Instant::now() < deadline,
            "the file never reached the editor"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser
        .wait_for("#note")
        .await
        .send_keys("签收时限 20 分钟")
        .await
        .unwrap();
    browser.wait_for("#save").await.click().await.unwrap();
    let saved = browser.wait_for("#saved").await.text().await.unwrap();
    assert!(saved.contains("第 2 版"), "{saved}");
    browser.screenshot("admin-policies-saved-zh-CN").await;
    browser.wait_for("#publish").await.click().await.unwrap();
    let notice = browser
        .wait_for("#reference-notice")
        .await
        .text()
        .await
        .unwrap();
    assert!(notice.contains("已发布"), "{notice}");
    let current = browser
        .wait_for("#reference-current")
        .await
        .text()
        .await
        .unwrap();
    assert!(current.contains("v2"), "{current}");
    let kind = hotline_schemas::reference::ReferenceKind::Policies;
    assert_eq!(store.published_versions().await.unwrap().of(kind), 2);
    browser.screenshot("admin-policies-published-zh-CN").await;

    // The same pages in English.
    for (path, name, text) in [
        ("/console/admin", "admin", "Administration"),
        (
            "/console/admin/reference",
            "admin-reference",
            "Reference data",
        ),
        (
            "/console/admin/reference/policies",
            "admin-policies",
            "Time limits",
        ),
    ] {
        browser.open(&format!("{base}{path}?lang=en-US")).await;
        assert_eq!(
            browser.eval("return document.documentElement.lang").await,
            "en-US"
        );
        let body = browser.wait_for("main").await.text().await.unwrap();
        assert!(body.contains(text), "{path}: {body}");
        browser.screenshot(&format!("{name}-en-US")).await;
    }
    browser
        .open(&format!("{base}/console/admin?lang=zh-CN"))
        .await;
    browser.screenshot("admin-zh-CN").await;
    browser.close().await;
    s.stop().await;
}
