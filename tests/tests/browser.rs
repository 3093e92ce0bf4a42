//! A real browser through the whole install: headless Chromium, driven over WebDriver by
//! chromedriver, opens the onboarding URL served on `localhost`, is sent to the Datadog sandbox
//! on `127.0.0.1` (another site, so the flow cookie really crosses sites), clicks Authorize on the
//! consent page and lands on the success page; the installation is then found stored.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test fails on CI and is skipped, loudly, elsewhere.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dd_integration::testkit::{ClientSpec, Consent, OrgSpec, Route, Sandbox};
use dd_integration::{ClientSecret, Domain, Installer, Sealer, SealingKey};
use dd_integration_tests::integration::AcmePager;
use serde_json::{Value, json};
use url::Url;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver as a child process, killed on drop.
struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    session: Option<String>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Driver {
        let port = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            session: None,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("dd-browser-{}", std::process::id()));
        let created = driver
            .call(
                "POST",
                "/session",
                json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--disable-quic", "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            format!("--user-data-dir={}", profile.display()),
                        ]
                    }
                }}}),
            )
            .await;
        driver.session = Some(
            created["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
                .to_owned(),
        );
        driver
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = match &self.session {
            Some(id) if path != "/session" => format!("{}/session/{id}{path}", self.base),
            _ => format!("{}{path}", self.base),
        };
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let reply: Value = request.send().await.unwrap().json().await.unwrap();
        reply["value"].clone()
    }

    async fn open(&self, url: &Url) {
        self.call("POST", "/url", json!({"url": url.as_str()}))
            .await;
    }

    async fn current_url(&self) -> Url {
        Url::parse(
            self.call("GET", "/url", Value::Null)
                .await
                .as_str()
                .unwrap(),
        )
        .unwrap()
    }

    async fn source(&self) -> String {
        self.call("GET", "/source", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn click(&self, css: &str) {
        let found = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        let id = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned();
        self.call("POST", &format!("/element/{id}/click"), json!({}))
            .await;
    }

    /// Waits until the page's URL satisfies `done`.
    async fn wait_for(&self, what: &str, done: impl Fn(&Url) -> bool) -> Url {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = self.current_url().await;
            if done(&url) {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; at {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_installs_the_integration_by_clicking_authorize() {
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium and chromium-driver must be installed on CI (.ci/run installs them)"
        );
        eprintln!(
            "SKIPPED: the real-browser test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        );
        return;
    }
    let sandbox = Sandbox::start().await;
    sandbox.set_consent(Consent::Page);
    let org = sandbox.add_org(OrgSpec::new("Acme Corp", Domain::Eu1));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = Url::parse(&format!("http://localhost:{port}")).unwrap();
    let callback = base.join("/datadog/oauth/callback").unwrap();
    let client = sandbox.add_client(
        ClientSpec::new("Acme Pager")
            .redirect_uri(callback.as_str())
            .scopes(["monitors_read", "api_keys_write", "user_access_read"]),
    );
    let installer = Installer::<AcmePager>::builder()
        .client(
            client.client_id.clone(),
            ClientSecret::new(client.client_secret.clone()),
        )
        .sealer(Sealer::new(SealingKey::generate("browser").unwrap().0))
        .redirect_uri(callback.as_str())
        .onboarding_url(base.join("/datadog/connect").unwrap().as_str())
        .endpoints(sandbox.endpoints())
        .memory_store_for_tests()
        .page_style("h1{color:#0b3d91}")
        .build()
        .unwrap();
    let router = dd_integration::web::router(installer.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let driver = Driver::start().await;
    let mut onboarding = base.join("/datadog/connect").unwrap();
    onboarding
        .query_pairs_mut()
        .append_pair("site", &org.site.origin())
        .append_pair("domain", org.domain.as_str());
    driver.open(&onboarding).await;
    let consent = driver
        .wait_for("the sandbox's consent page", |u| {
            u.host_str() == Some("127.0.0.1") && u.path().ends_with("/oauth2/v1/authorize")
        })
        .await;
    assert!(
        consent.path().starts_with("/app.datadoghq.eu/"),
        "{consent}"
    );
    assert!(driver.source().await.contains("Acme Pager"));
    driver.click("button[value=authorize]").await;
    let done = driver
        .wait_for("the partner's callback", |u| {
            u.host_str() == Some("localhost") && u.path() == "/datadog/oauth/callback"
        })
        .await;
    let page = driver.source().await;
    assert!(
        page.contains("You may now close this tab"),
        "{done}: {page}"
    );
    assert!(
        page.contains("h1{color:#0b3d91}"),
        "the partner's style: {page}"
    );
    // The person reloads the success page, then goes Back and Forward: the page still says
    // connected (the flow's outcome), and nothing is created twice.
    driver.call("POST", "/refresh", json!({})).await;
    assert!(driver.source().await.contains("is connected"));
    driver.call("POST", "/back", json!({})).await;
    driver.call("POST", "/forward", json!({})).await;
    let again = driver.source().await;
    assert!(
        again.contains("is connected") || again.contains("You may now close this tab"),
        "{again}"
    );
    assert_eq!(
        sandbox.calls(Route::Token),
        1,
        "one code exchange, whatever the reloads"
    );

    let installation = installer
        .store()
        .find_by_org(&org.org_id())
        .await
        .unwrap()
        .expect("the installation is stored");
    assert_eq!(installation.domain, Domain::Eu1);
    assert!(installation.api_key.is_some());
    assert_eq!(sandbox.calls(Route::MarketplaceKey), 1);
    driver.call("DELETE", "", Value::Null).await;
}
