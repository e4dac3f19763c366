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
    let new =
        json!({"name": "发改局王五", "username": "wangwu", "role": "unit", "unit": "DEMO-FGJ"});
    let (user, _) = crate::support::user_on(&live.client, &live.base, &config, new).await;
    let store = hotline::open_store(&config).await.unwrap();
    hotline::people::set_password(store.as_ref(), user.id, crate::console::PASSWORD)
        .await
        .unwrap();
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
            crate::procs::until(&live.base, &id, admin, |a| {
                a["events"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["type"] == "classified"))
            })
            .await;
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
