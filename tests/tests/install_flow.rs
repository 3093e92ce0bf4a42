//! The install flow over real HTTP: the partner's app (the SDK's handlers in axum) on
//! `localhost`, the Datadog sandbox on `127.0.0.1`, and a browser whose cookies the tests
//! control, so that every hostile case can be played.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use dd_integration::DatadogIntegration;
use dd_integration::hooks::InstallReport;
use dd_integration::install::{ApiKeyOutcome, Identify, InstallFailure};
use dd_integration::testkit::{Consent, Fault, OrgSpec, Route, Sandbox, SandboxOrg};
use dd_integration::{
    ClientSecret, Domain, Hooks, HttpConfig, InstallationId, Installer, Scope, Sealer, SealingKey,
    Site,
};
use dd_integration_tests::integration::{AcmeBeacon, AcmePager, AcmeStaged};
use http::HeaderMap;
use url::Url;

/// What the partner's hooks saw.
#[derive(Default)]
struct Seen {
    installed: Vec<InstallReport>,
    failed: Vec<String>,
    login_required: bool,
    /// The partner names no account (as with no `identify` hook at all).
    anonymous: bool,
}

#[derive(Clone, Default)]
struct Seeing(Arc<Mutex<Seen>>);

#[async_trait]
impl Hooks for Seeing {
    async fn identify(&self, headers: &HeaderMap, return_to: &str) -> Identify {
        if self.0.lock().unwrap().anonymous {
            return Identify::Anonymous;
        }
        if !self.0.lock().unwrap().login_required {
            return Identify::Account("acct-42".into());
        }
        let session = headers
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| {
                c.split("; ")
                    .find_map(|kv| kv.strip_prefix("acme_session="))
            });
        match session {
            Some(user) => Identify::Account(user.to_owned()),
            None => Identify::Redirect(format!(
                "/login?return_to={}",
                url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
            )),
        }
    }
    async fn installed(&self, report: &InstallReport) {
        self.0.lock().unwrap().installed.push(report.clone());
    }
    async fn failed(&self, failure: &InstallFailure) {
        self.0.lock().unwrap().failed.push(format!("{failure:?}"));
    }
}

struct App<I: DatadogIntegration = AcmePager> {
    sandbox: Sandbox,
    installer: Installer<I>,
    hooks: Seeing,
    base: Url,
}

impl App {
    async fn start() -> App {
        App::start_with(|b| b).await
    }

    async fn start_with(
        configure: impl FnOnce(
            dd_integration::install::InstallerBuilder<AcmePager>,
        ) -> dd_integration::install::InstallerBuilder<AcmePager>,
    ) -> App {
        App::start_spec(configure).await
    }
}

impl<I: DatadogIntegration> App<I> {
    /// The app of an integration; the sandbox's client holds the scopes it declares.
    async fn start_spec(
        configure: impl FnOnce(
            dd_integration::install::InstallerBuilder<I>,
        ) -> dd_integration::install::InstallerBuilder<I>,
    ) -> App<I> {
        let spec = I::SPEC;
        let sandbox = Sandbox::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = Url::parse(&format!("http://localhost:{port}")).unwrap();
        let callback = base.join("/datadog/oauth/callback").unwrap();
        let client = sandbox.add_client(
            dd_integration::testkit::ClientSpec::new(spec.name)
                .redirect_uri(callback.as_str())
                .scopes(spec.scopes.iter().map(|s| s.as_str())),
        );
        let hooks = Seeing::default();
        let builder = Installer::<I>::builder()
            .client(
                client.client_id.clone(),
                ClientSecret::new(client.client_secret.clone()),
            )
            .sealer(Sealer::new(SealingKey::generate("test").unwrap().0))
            .redirect_uri(callback.as_str())
            .onboarding_url(base.join("/datadog/connect").unwrap().as_str())
            .endpoints(sandbox.endpoints())
            .memory_store_for_tests()
            .hooks(Arc::new(hooks.clone()));
        let installer = configure(builder).build().unwrap();
        let router = dd_integration::web::router(installer.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        App {
            sandbox,
            installer,
            hooks,
            base,
        }
    }

    fn onboarding(&self, org: &SandboxOrg) -> Url {
        let mut url = self.base.join("/datadog/connect").unwrap();
        url.query_pairs_mut()
            .append_pair("site", &org.site.origin())
            .append_pair("domain", org.domain.as_str());
        url
    }

    async fn installations(&self) -> usize {
        self.installer.store().list().await.unwrap().len()
    }

    /// The tile's "test authorization" button, clicked for `org`, completed.
    async fn authorize_from_tile(&self, org: &SandboxOrg) -> String {
        let onboarding = self.base.join("/datadog/connect").unwrap();
        let done = self
            .sandbox
            .test_authorization(&onboarding, org)
            .await
            .unwrap();
        assert_eq!(done.status, 200, "{}", done.body);
        done.body
    }

    /// What the `installed` hook was told of the API key, install `i` (in order).
    fn key_outcome(&self, i: usize) -> ApiKeyOutcome {
        self.hooks.0.lock().unwrap().installed[i].api_key.clone()
    }

    /// The newest installation the partner account `account` made.
    async fn newest_of(&self, account: &str) -> dd_integration::Installation {
        let all = self.installer.store().list().await.unwrap();
        all.into_iter()
            .rev()
            .find(|i| i.partner_account.as_deref() == Some(account))
            .expect("the account installed")
    }

    /// The org's current installation.
    async fn current(&self, org: &SandboxOrg) -> dd_integration::Installation {
        self.installer
            .store()
            .find_by_org(&org.org_id())
            .await
            .unwrap()
            .expect("the org is installed")
    }

    fn failures(&self) -> Vec<String> {
        self.hooks.0.lock().unwrap().failed.clone()
    }
}

/// A browser for one origin whose cookie jar the test can read and change.
#[derive(Default)]
struct Browser {
    http: reqwest::Client,
    jar: HashMap<String, String>,
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> Url {
        Url::parse(self.headers["location"].to_str().unwrap()).unwrap()
    }
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: HashMap::new(),
        }
    }

    async fn get(&mut self, url: &Url) -> Page {
        let mut request = self.http.get(url.clone());
        if !self.jar.is_empty() {
            let header: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", header.join("; "));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all("set-cookie") {
            let cookie = cookie::Cookie::parse(set.to_str().unwrap().to_owned()).unwrap();
            if cookie.max_age() == Some(cookie::time::Duration::ZERO) {
                self.jar.remove(cookie.name());
            } else {
                self.jar
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        let body = response.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    /// Onboarding, then Datadog's authorize page: returns the callback URL Datadog sends the
    /// browser to (not yet visited).
    async fn start<I: DatadogIntegration>(&mut self, app: &App<I>, org: &SandboxOrg) -> Url {
        let page = self.get(&app.onboarding(org)).await;
        assert_eq!(page.status, 302, "{}", page.body);
        // The person is logged in to `org` in Datadog: `dd_oid` on the authorize URL picks it
        // (else the sandbox takes the region's first org).
        let authorize = with_added_param(&page.location(), "dd_oid", &org.id);
        app.sandbox.authorize(&authorize).await.unwrap()
    }
}

fn param(url: &Url, key: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn with_added_param(url: &Url, key: &str, value: &str) -> Url {
    let mut out = url.clone();
    out.query_pairs_mut().append_pair(key, value);
    out
}

fn with_param(url: &Url, key: &str, value: &str) -> Url {
    let mut out = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == key {
                (k, value.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

#[tokio::test]
async fn installs_on_every_site_and_a_vanity_subdomain_with_the_test_authorization_button() {
    let app = App::start().await;
    let mut orgs: Vec<SandboxOrg> = Domain::ALL
        .into_iter()
        .map(|d| {
            app.sandbox
                .add_org(OrgSpec::new(format!("Org {}", d.name()), d))
        })
        .collect();
    orgs.push(
        app.sandbox
            .add_org(OrgSpec::new("Big Corp", Domain::Eu1).vanity("bigcorp")),
    );
    let onboarding = app.base.join("/datadog/connect").unwrap();
    for org in &orgs {
        let done = app
            .sandbox
            .test_authorization(&onboarding, org)
            .await
            .unwrap();
        assert_eq!(done.status, 200, "{}: {}", org.name, done.body);
        assert!(
            done.body.contains("You may now close this tab"),
            "{}",
            done.body
        );
        assert!(done.visited.iter().any(|u| u.path().starts_with(&format!(
            "/{}/oauth2/v1/authorize",
            org.site.authorize_host()
        ))));
        let installation = app.current(org).await;
        assert_eq!(installation.domain, org.domain);
        assert_eq!(installation.site, org.site);
        assert_eq!(installation.org_name.as_deref(), Some(org.name.as_str()));
        assert_eq!(installation.partner_account.as_deref(), Some("acct-42"));
        let key = installation.api_key.as_ref().expect("the key is stored");
        assert_eq!(
            app.sandbox
                .api_key(&org.id, app.installer.oauth().client_id())
                .as_deref(),
            Some(key.key.expose_secret())
        );
        // Nothing secret or spent on the page or in any URL after the callback.
        assert!(!done.body.contains(key.key.expose_secret()));
        assert!(
            !done
                .body
                .contains(installation.access_token.expose_secret())
        );
    }
    assert_eq!(app.installations().await, orgs.len());
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), orgs.len());
}

#[tokio::test]
async fn a_person_clicks_through_the_consent_page() {
    let app = App::start().await;
    app.sandbox.set_consent(Consent::Page);
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us5));
    let done = app
        .sandbox
        .test_authorization(&app.base.join("/datadog/connect").unwrap(), &org)
        .await
        .unwrap();
    assert!(done.body.contains("is connected"), "{}", done.body);
    assert!(
        done.visited
            .iter()
            .any(|u| u.path().ends_with("/authorize/decision"))
    );
}

#[tokio::test]
async fn flow_pages_are_not_cached_and_leak_no_referrer() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let onboarding = browser.get(&app.onboarding(&org)).await;
    let callback = app.sandbox.authorize(&onboarding.location()).await.unwrap();
    let done = browser.get(&callback).await;
    let picker = browser
        .get(&app.base.join("/datadog/connect").unwrap())
        .await;
    for page in [&onboarding, &done, &picker] {
        assert_eq!(page.headers["cache-control"], "no-store");
        assert_eq!(page.headers["referrer-policy"], "no-referrer");
        // RFC 9700 §4.15 for the client's own pages: never framed.
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
    let set_cookie = onboarding.headers["set-cookie"].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=600"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    // The code is spent and appears nowhere the SDK produced after the callback.
    assert!(!done.body.contains(&param(&callback, "code")));
    assert!(done.headers.get("location").is_none());
    // The flow cookie now holds the finished flow (no verifier), for the flow's life: the
    // cookie changed, and a reload shows the outcome without a second exchange.
    let sealed_before = onboarding.headers["set-cookie"].to_str().unwrap();
    let (name, now) = browser
        .jar
        .iter()
        .next()
        .expect("the finished flow's cookie");
    assert!(!sealed_before.contains(now.as_str()), "{name} was replaced");
    let again = browser.get(&callback).await;
    assert!(again.body.contains("is connected"), "{}", again.body);
    assert_eq!(again.headers["cache-control"], "no-store");
    assert_eq!(app.sandbox.calls(Route::Token), 1);
}

/// The partner's first hour: reloading the success page (or Back/Forward, or the same URL in
/// a second tab of the browser) said "not connected" to a connected customer, since the
/// success answer cleared the flow cookie. It now shows the flow's outcome, creating nothing.
#[tokio::test]
async fn a_reload_of_a_finished_flow_shows_its_outcome_and_creates_nothing() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    assert_eq!(browser.get(&callback).await.status, 200);
    for _ in 0..3 {
        let page = browser.get(&callback).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("is connected"), "{}", page.body);
    }
    assert_eq!(app.installations().await, 1);
    assert_eq!(app.sandbox.calls(Route::Token), 1);
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 1);
    assert_eq!(
        app.hooks.0.lock().unwrap().installed.len(),
        1,
        "installed once"
    );

    // A failed exchange: the reload says the authorization failed, and reports nothing again.
    app.sandbox.inject(Route::Token, Fault::status(400));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, 502, "{}", page.body);
    let failures = app.failures().len();
    let page = browser.get(&callback).await;
    assert!(page.body.contains("already failed"), "{}", page.body);
    assert_eq!(app.failures().len(), failures, "reported once");
}

/// A key request whose answer was lost (the connection cut after Datadog created the key):
/// the installation's key journal stays, the page says the key was not created, and a reload
/// says at once what is true since: Datadog may hold a key nobody can read, and how to recover.
#[tokio::test]
async fn a_lost_key_answer_is_journaled_and_a_reload_tells_the_recovery() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    app.sandbox
        .inject(Route::MarketplaceKey, Fault::drop_response());
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let page = browser.get(&callback).await;
    assert!(
        page.body.contains("Data cannot be sent yet"),
        "{}",
        page.body
    );
    let installation = app.current(&org).await;
    assert!(installation.api_key_interrupted(), "the journal stays");
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 1);
    assert!(
        app.sandbox
            .api_key(&org.id, app.installer.oauth().client_id())
            .is_some(),
        "Datadog did create the key"
    );
    let started = tokio::time::Instant::now();
    let page = browser.get(&callback).await;
    assert!(
        page.body.contains("interrupted") && page.body.contains("revoke"),
        "{}",
        page.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a finished flow's reload does not wait for a key: nothing is under way"
    );
    assert_eq!(
        app.sandbox.calls(Route::MarketplaceKey),
        1,
        "no second key request"
    );
}

/// The partner's first hour: a failure page said "contact support" without the address the
/// declaration holds. Every failure page a customer can reach names it.
#[tokio::test]
async fn failure_pages_name_the_partners_support_contact() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let contact = "mailto:support@acme.example";
    // A failed exchange, a callback in another browser, a bad site, and a success page whose key
    // Datadog did not create.
    app.sandbox.inject(Route::Token, Fault::status(500));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let mut pages = vec![browser.get(&callback).await];
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    pages.push(Browser::new().get(&callback).await);
    let mut onboarding = app.onboarding(&org);
    onboarding.set_query(Some("site=https%3A%2F%2Fdatadoghq.evil.example"));
    pages.push(Browser::new().get(&onboarding).await);
    app.sandbox
        .inject(Route::MarketplaceKey, Fault::status(503));
    pages.push(browser.get(&callback).await);
    for page in &pages {
        assert!(
            page.body.contains(contact),
            "{}: {}",
            page.status,
            page.body
        );
    }
}

#[tokio::test]
async fn no_site_shows_the_site_picker_with_all_nine_regions() {
    let app = App::start().await;
    let page = Browser::new()
        .get(&app.base.join("/datadog/connect").unwrap())
        .await;
    assert_eq!(page.status, 200);
    for d in Domain::ALL {
        assert!(page.body.contains(d.ui_host()), "{}", d.name());
    }
    assert!(page.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn hostile_onboarding_requests_are_refused_without_a_flow() {
    let app = App::start().await;
    for query in [
        "site=datadoghq.com.evil.example&domain=datadoghq.com",
        "site=https://datadoghq.com@evil.example",
        "site=http://app.datadoghq.com",
        "site=127.0.0.1:8080",
        "site=app.datadoghq.com&domain=datadoghq.eu",
        "domain=evil.example",
    ] {
        let url = Url::parse(&format!("{}datadog/connect?{query}", app.base)).unwrap();
        let page = Browser::new().get(&url).await;
        assert_eq!(page.status, 400, "{query}: {}", page.body);
        assert!(page.headers.get("set-cookie").is_none(), "{query}");
        assert!(page.headers.get("location").is_none(), "{query}");
    }
    assert_eq!(app.sandbox.calls(Route::Authorize), 0);
}

#[tokio::test]
async fn the_partner_login_comes_back_to_the_same_onboarding_url() {
    let app = App::start().await;
    app.hooks.0.lock().unwrap().login_required = true;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Ap1));
    let mut browser = Browser::new();
    let page = browser.get(&app.onboarding(&org)).await;
    assert_eq!(page.status, 302);
    let login = page.location();
    assert_eq!(login.path(), "/login");
    let return_to = app.base.join(&param(&login, "return_to")).unwrap();
    assert_eq!(
        return_to,
        app.onboarding(&org),
        "the site survives the login"
    );
    // The partner's login sets its session, then sends the browser back.
    browser.jar.insert("acme_session".into(), "user-7".into());
    let page = browser.get(&return_to).await;
    let callback = app.sandbox.authorize(&page.location()).await.unwrap();
    assert_eq!(browser.get(&callback).await.status, 200);
    let installation = app.current(&org).await;
    assert_eq!(installation.partner_account.as_deref(), Some("user-7"));
}

#[tokio::test]
async fn a_hook_redirect_off_the_partner_origin_is_refused() {
    struct Evil;
    #[async_trait]
    impl Hooks for Evil {
        async fn identify(&self, _: &HeaderMap, _: &str) -> Identify {
            Identify::Redirect("https://evil.example/phish".into())
        }
    }
    let app = App::start_with(|b| b.hooks(Arc::new(Evil))).await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let page = Browser::new().get(&app.onboarding(&org)).await;
    assert_eq!(page.status, 400);
    assert!(page.headers.get("location").is_none());
    struct SchemeRelative;
    #[async_trait]
    impl Hooks for SchemeRelative {
        async fn identify(&self, _: &HeaderMap, _: &str) -> Identify {
            Identify::Redirect("//evil.example/phish".into())
        }
    }
    let app = App::start_with(|b| b.hooks(Arc::new(SchemeRelative))).await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    assert_eq!(Browser::new().get(&app.onboarding(&org)).await.status, 400);
}

#[tokio::test]
async fn a_callback_without_the_flow_cookie_consumes_nothing() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    // A link-preview bot, or the link opened in another browser.
    let bot = Browser::new().get(&callback).await;
    assert_eq!(bot.status, 400);
    assert!(bot.body.contains("Start again"), "{}", bot.body);
    // A HEAD from a link checker, even with the cookie.
    let head = browser
        .http
        .head(callback.clone())
        .header(
            "cookie",
            browser
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(app.sandbox.calls(Route::Token), 0);
    // The real browser still completes the flow.
    assert_eq!(browser.get(&callback).await.status, 200);
    assert_eq!(app.installations().await, 1);
    assert!(
        app.failures().is_empty(),
        "a missing cookie is not reported: {:?}",
        app.failures()
    );
}

#[tokio::test]
async fn forged_altered_renamed_and_foreign_cookies_are_refused() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));

    // Forged: a made-up value under the right name.
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let name = browser.jar.keys().next().unwrap().clone();
    browser.jar.insert(
        name.clone(),
        "v1.test.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
    );
    assert_eq!(browser.get(&callback).await.status, 400);

    // Altered: one character of the real cookie changed (the verifier inside is tampered).
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let (name, value) = browser
        .jar
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    let mut bytes = value.into_bytes();
    let i = bytes.len() - 5;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    browser.jar.insert(name, String::from_utf8(bytes).unwrap());
    assert_eq!(browser.get(&callback).await.status, 400);

    // Foreign: flow A's cookie renamed to flow B's name (another installation's flow).
    let mut a = Browser::new();
    a.start(&app, &org).await;
    let mut b = Browser::new();
    let callback_b = b.start(&app, &org).await;
    let a_value = a.jar.values().next().unwrap().clone();
    let b_name = b.jar.keys().next().unwrap().clone();
    b.jar.insert(b_name, a_value);
    assert_eq!(b.get(&callback_b).await.status, 400);

    // Mismatched: flow B's callback in the browser that holds only flow A's cookie.
    let mut a = Browser::new();
    a.start(&app, &org).await;
    let mut b = Browser::new();
    let callback_b = b.start(&app, &org).await;
    assert_eq!(a.get(&callback_b).await.status, 400);

    assert_eq!(app.sandbox.calls(Route::Token), 0, "no code was exchanged");
    assert_eq!(app.installations().await, 0);
    // A cookie that does not open shows no flow this server began: the partner's hook is
    // not told (anyone could send one), the log is.
    assert!(app.failures().is_empty(), "{:?}", app.failures());
}

#[tokio::test]
async fn a_state_that_does_not_match_the_cookie_is_refused() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let state = param(&callback, "state");
    // The last character changed: the cookie (named for the state's start) is found, but the
    // state it holds differs.
    let last = if state.ends_with('A') { "B" } else { "A" };
    let forged = format!("{}{last}", &state[..state.len() - 1]);
    let page = browser.get(&with_param(&callback, "state", &forged)).await;
    assert_eq!(page.status, 400);
    assert!(app.failures().is_empty(), "{:?}", app.failures());
    assert_eq!(app.sandbox.calls(Route::Token), 0);
}

#[tokio::test]
async fn an_expired_flow_is_refused() {
    let app = App::start_with(|b| b.flow_lifetime(Duration::from_secs(1))).await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let page = browser.get(&callback).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        app.failures().iter().any(|f| f.contains("Expired")),
        "{:?}",
        app.failures()
    );
    assert_eq!(app.sandbox.calls(Route::Token), 0);
}

#[tokio::test]
async fn a_callback_domain_of_another_region_or_outside_datadog_is_refused() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Eu1));
    for domain in [
        "datadoghq.com",
        "us3.datadoghq.com",
        "evil.example",
        "datadoghq.eu.evil.example",
    ] {
        let mut browser = Browser::new();
        let callback = browser.start(&app, &org).await;
        let page = browser.get(&with_param(&callback, "domain", domain)).await;
        assert_eq!(page.status, 400, "{domain}");
    }
    assert_eq!(app.sandbox.calls(Route::Token), 0);
    assert_eq!(
        app.failures()
            .iter()
            .filter(|f| f.contains("DomainMismatch"))
            .count(),
        4
    );
}

#[tokio::test]
async fn malformed_callbacks_are_refused() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let mut repeated = callback.clone();
    repeated.query_pairs_mut().append_pair("state", "other");
    assert_eq!(browser.get(&repeated).await.status, 400);
    let mut no_code = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != "code")
        .collect();
    no_code.query_pairs_mut().clear().extend_pairs(pairs);
    assert_eq!(browser.get(&no_code).await.status, 400);
    assert_eq!(app.sandbox.calls(Route::Token), 0);
    // The real callback still works after both.
    assert_eq!(browser.get(&callback).await.status, 200);
}

#[tokio::test]
async fn a_replayed_callback_creates_no_second_installation_or_key() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let cookies = browser.jar.clone();
    assert_eq!(browser.get(&callback).await.status, 200);
    // Browser back, or a reload with the cookie still there.
    browser.jar = cookies;
    let again = browser.get(&callback).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.contains("is connected"));
    assert_eq!(app.installations().await, 1);
    assert_eq!(app.sandbox.calls(Route::Token), 1);
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 1);
}

#[tokio::test]
async fn a_double_click_races_to_one_installation_and_one_key_request() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    app.sandbox
        .inject(Route::Token, Fault::latency(Duration::from_millis(200)));
    let mut first = Browser::new();
    let callback = first.start(&app, &org).await;
    let mut second = Browser::new();
    second.jar = first.jar.clone();
    let (a, b) = tokio::join!(first.get(&callback), second.get(&callback));
    assert_eq!((a.status, b.status), (200, 200), "{} / {}", a.body, b.body);
    assert_eq!(app.installations().await, 1);
    assert_eq!(app.sandbox.calls(Route::Token), 1);
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 1);
}

#[tokio::test]
async fn a_denied_authorization_is_a_clear_page_and_a_typed_event() {
    let app = App::start().await;
    app.sandbox.set_consent(Consent::Deny);
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    assert_eq!(param(&callback, "error"), "access_denied");
    let page = browser.get(&callback).await;
    assert!(page.body.contains("declined"), "{}", page.body);
    assert!(
        app.failures().iter().any(|f| f.starts_with("Denied")),
        "{:?}",
        app.failures()
    );
    assert_eq!(app.installations().await, 0);
    // The flow is finished: a reload shows the same page and reports nothing again.
    let again = browser.get(&callback).await;
    assert!(again.body.contains("declined"), "{}", again.body);
    assert_eq!(app.failures().len(), 1, "{:?}", app.failures());
}

#[tokio::test]
async fn an_error_callback_from_another_browser_ends_no_flow_and_reports_nothing() {
    let app = App::start().await;
    app.sandbox.set_consent(Consent::Deny);
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    // The same URL, state included, loaded by someone without the flow's cookie.
    let page = Browser::new().get(&callback).await;
    assert!(page.body.contains("declined"), "{}", page.body);
    assert!(app.failures().is_empty(), "{:?}", app.failures());
    // Or with a state of no flow.
    let forged = with_param(&callback, "state", "not-a-flow");
    browser.get(&forged).await;
    assert!(app.failures().is_empty(), "{:?}", app.failures());
    assert!(!browser.jar.is_empty(), "the real flow's cookie is kept");
    // The browser whose flow it is ends it.
    let page = browser.get(&callback).await;
    assert!(page.body.contains("declined"), "{}", page.body);
    assert_eq!(app.failures().len(), 1, "{:?}", app.failures());
    let page = browser.get(&callback).await;
    assert!(page.body.contains("declined"), "{}", page.body);
    assert_eq!(app.failures().len(), 1, "a reload reports nothing again");
}

#[tokio::test]
async fn a_narrowed_grant_is_installed_and_reported() {
    let app = App::start().await;
    let org = app
        .sandbox
        .add_org(OrgSpec::new("Narrow", Domain::Us3).grantable_scopes(["api_keys_write"]));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let page = browser.get(&callback).await;
    assert!(page.body.contains("monitors_read"), "{}", page.body);
    let seen = app.hooks.0.lock().unwrap();
    let report = &seen.installed[0];
    assert!(report.missing_scopes.contains(&Scope::MONITORS_READ));
    assert!(matches!(report.api_key, ApiKeyOutcome::Created));
}

#[tokio::test]
async fn a_grant_without_api_keys_write_makes_no_key_request() {
    let app = App::start().await;
    let org = app
        .sandbox
        .add_org(OrgSpec::new("Narrow", Domain::Us3).grantable_scopes(["monitors_read"]));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let page = browser.get(&callback).await;
    assert!(page.body.contains("Data cannot be sent"), "{}", page.body);
    assert!(matches!(app.key_outcome(0), ApiKeyOutcome::ScopeNotGranted));
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 0);
}

#[tokio::test]
async fn token_endpoint_failures_store_nothing() {
    let http = HttpConfig::default().timeout(Duration::from_millis(500));
    let app = App::start_with(|b| b.http_config(http)).await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    for fault in [
        Fault::status(500),
        Fault::status(503),
        Fault::latency(Duration::from_secs(2)),
        Fault::drop_response(),
    ] {
        let mut browser = Browser::new();
        let callback = browser.start(&app, &org).await;
        app.sandbox.inject(Route::Token, fault);
        let page = browser.get(&callback).await;
        assert_eq!(page.status, 502, "{}", page.body);
        assert!(page.body.contains("Start again"), "{}", page.body);
    }
    assert_eq!(app.installations().await, 0);
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 0);
    assert_eq!(
        app.failures()
            .iter()
            .filter(|f| f.starts_with("Exchange"))
            .count(),
        4
    );
}

#[tokio::test]
async fn key_409_keeps_the_installation_and_shows_the_recovery() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    app.sandbox
        .inject(Route::MarketplaceKey, Fault::status(409));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let page = browser.get(&callback).await;
    assert!(
        page.body.contains("API Keys") && page.body.contains("revoke"),
        "{}",
        page.body
    );
    let installation = app.current(&org).await;
    assert!(installation.api_key.is_none());
    assert!(matches!(app.key_outcome(0), ApiKeyOutcome::AlreadyExists));
}

#[tokio::test]
async fn key_5xx_keeps_the_installation_and_says_to_retry() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    app.sandbox
        .inject(Route::MarketplaceKey, Fault::status(503));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let page = browser.get(&callback).await;
    assert!(
        page.body.contains("Data cannot be sent yet"),
        "{}",
        page.body
    );
    let installation = app.current(&org).await;
    assert!(installation.api_key.is_none());
    assert!(matches!(app.key_outcome(0), ApiKeyOutcome::Failed(_)));
}

#[tokio::test]
async fn reinstalling_an_org_reuses_its_key_and_links_the_old_record() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let onboarding = app.base.join("/datadog/connect").unwrap();
    app.sandbox
        .test_authorization(&onboarding, &org)
        .await
        .unwrap();
    let first = app.current(&org).await;
    let done = app
        .sandbox
        .test_authorization(&onboarding, &org)
        .await
        .unwrap();
    assert_eq!(done.status, 200, "{}", done.body);
    let second = app.current(&org).await;
    assert_ne!(first.id, second.id);
    assert_eq!(second.previous.as_ref(), Some(&first.id));
    assert_eq!(
        second.api_key.as_ref().unwrap().key,
        first.api_key.as_ref().unwrap().key,
        "the key Datadog will not show again is carried over"
    );
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 1);
    let old = app.installer.store().get(&first.id).await.unwrap().unwrap();
    assert!(!old.is_active());
}

#[tokio::test]
async fn a_key_check_failing_for_a_passing_reason_keeps_the_org_key() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    app.authorize_from_tile(&org).await;
    let first = app.current(&org).await;
    // The reinstall's check of the org's key meets a 503 (every attempt).
    app.sandbox
        .inject(Route::Validate, Fault::status(503).always());
    app.authorize_from_tile(&org).await;
    let second = app.current(&org).await;
    assert_eq!(second.previous.as_ref(), Some(&first.id));
    assert_eq!(
        second.api_key.as_ref().map(|k| &k.key),
        first.api_key.as_ref().map(|k| &k.key),
        "an unchecked key is carried over, not left on the replaced installation"
    );
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 1);
    assert!(matches!(app.key_outcome(1), ApiKeyOutcome::Reused));
}

#[tokio::test]
async fn a_409_finds_the_key_an_earlier_installation_of_the_org_kept() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    app.authorize_from_tile(&org).await;
    let first = app.current(&org).await;
    // A newer installation of the org that holds no key (one whose key request failed), so the
    // next install finds no key on the org's current installation.
    let mut keyless = first.clone();
    keyless.id = InstallationId::generate();
    keyless.api_key = None;
    keyless.previous = Some(first.id.clone());
    app.installer.store().insert(&keyless).await.unwrap();
    let body = app.authorize_from_tile(&org).await;
    let third = app.current(&org).await;
    assert_eq!(third.previous.as_ref(), Some(&keyless.id));
    assert_eq!(
        third.api_key.as_ref().map(|k| &k.key),
        first.api_key.as_ref().map(|k| &k.key),
        "Datadog's 409 sends the install to the key the org's first installation kept"
    );
    assert_eq!(
        app.sandbox.calls(Route::MarketplaceKey),
        2,
        "one key created, one 409"
    );
    assert!(!body.contains("revoke"), "{body}");
}

#[tokio::test]
async fn a_callback_naming_another_org_takes_neither_its_installation_nor_its_key() {
    let app = App::start().await;
    app.hooks.0.lock().unwrap().login_required = true;
    let victim = app.sandbox.add_org(OrgSpec::new("Victim", Domain::Us1));
    let attacker = app.sandbox.add_org(OrgSpec::new("Mallory", Domain::Us1));
    let install = |user: &'static str, org: SandboxOrg, dd_oid: String| {
        let app = &app;
        async move {
            let mut browser = Browser::new();
            browser.jar.insert("acme_session".into(), user.to_owned());
            let callback = browser.start(app, &org).await;
            let callback = with_param(&callback, "dd_oid", &dd_oid);
            let page = browser.get(&callback).await;
            assert_eq!(page.status, 200, "{}", page.body);
        }
    };
    install("alice", victim.clone(), victim.id.clone()).await;
    let theirs = app.current(&victim).await;
    assert!(theirs.api_key.is_some());

    // Mallory authorizes her own org, then edits the callback to name the victim's org.
    install("mallory", attacker.clone(), victim.id.clone()).await;
    let hers = app.newest_of("mallory").await;
    assert_eq!(
        hers.previous, None,
        "not linked to the victim's installation"
    );
    assert_ne!(
        hers.api_key.as_ref().map(|k| &k.key),
        theirs.api_key.as_ref().map(|k| &k.key),
        "the victim's key stays the victim's"
    );
    let still = app
        .installer
        .store()
        .get(&theirs.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        still.is_active(),
        "the victim's installation is not replaced"
    );
    assert_eq!(
        app.current(&victim).await.id,
        theirs.id,
        "find_by_org(victim) is still the victim's installation"
    );

    // The victim's own reinstall still finds its key.
    install("alice", victim.clone(), victim.id.clone()).await;
    let again = app.newest_of("alice").await;
    assert_ne!(again.id, theirs.id);
    assert_eq!(
        again.api_key.as_ref().map(|k| &k.key),
        theirs.api_key.as_ref().map(|k| &k.key)
    );
}

/// The takeover the security review found: with no partner accounts (no `identify` hook, as
/// in the README), Mallory authorizes her own org and edits `dd_oid` in her callback URL to
/// the victim's org. The integration does not declare `user_access_read`, so no org is
/// confirmed: nothing is linked, the victim's installation and key stay the victim's.
#[tokio::test]
async fn an_edited_dd_oid_without_partner_accounts_takes_nothing_of_the_victim() {
    let app = App::<AcmeBeacon>::start_spec(|b| b).await;
    app.hooks.0.lock().unwrap().anonymous = true;
    let victim = app.sandbox.add_org(OrgSpec::new("Victim", Domain::Us1));
    let attacker = app.sandbox.add_org(OrgSpec::new("Mallory", Domain::Us1));
    app.authorize_from_tile(&victim).await;
    let theirs = app.installer.store().list().await.unwrap().pop().unwrap();
    assert_eq!(
        theirs.org_id, None,
        "no org is confirmed without user_access_read"
    );
    assert_eq!(theirs.org_hint.as_deref(), Some(victim.id.as_str()));
    assert!(theirs.api_key.is_some());

    let mut browser = Browser::new();
    let callback = browser.start(&app, &attacker).await;
    let callback = with_param(&callback, "dd_oid", &victim.id);
    let page = browser.get(&callback).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let hers = app.installer.store().list().await.unwrap().pop().unwrap();
    assert_ne!(hers.id, theirs.id);
    assert_eq!(
        hers.previous, None,
        "not linked to the victim's installation"
    );
    assert_eq!(hers.org_id, None);
    assert_ne!(
        hers.api_key.as_ref().map(|k| &k.key),
        theirs.api_key.as_ref().map(|k| &k.key),
        "the victim's key stays the victim's"
    );
    let still = app
        .installer
        .store()
        .get(&theirs.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        still.is_active(),
        "the victim's installation is not replaced"
    );
    assert!(
        app.installer
            .store()
            .find_by_org(&victim.org_id())
            .await
            .unwrap()
            .is_none(),
        "no installation is found as the victim org's through a browser parameter"
    );
    // Her key is her org's: data sent with it lands in her org, not the victim's.
    assert_eq!(
        app.sandbox.calls(Route::MarketplaceKey),
        2,
        "each org's key created with its own token"
    );
    assert_eq!(
        app.sandbox.calls(Route::Users),
        0,
        "no org is read without the scope"
    );
}

/// The same edit against an integration that declares `user_access_read`: the org is the one
/// Datadog names for Mallory's token, so she gets her own org's installation and key, and the
/// victim org's current installation is still the victim's.
#[tokio::test]
async fn an_edited_dd_oid_is_overruled_by_the_org_datadog_confirms() {
    let app = App::start().await;
    app.hooks.0.lock().unwrap().anonymous = true;
    let victim = app.sandbox.add_org(OrgSpec::new("Victim", Domain::Us1));
    let attacker = app.sandbox.add_org(OrgSpec::new("Mallory", Domain::Us1));
    app.authorize_from_tile(&victim).await;
    let theirs = app.current(&victim).await;
    assert_eq!(theirs.org_id, Some(victim.org_id()));

    let mut browser = Browser::new();
    let callback = browser.start(&app, &attacker).await;
    let callback = with_param(&callback, "dd_oid", &victim.id);
    let page = browser.get(&callback).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let hers = app.current(&attacker).await;
    assert_eq!(hers.org_id, Some(attacker.org_id()));
    assert_eq!(
        hers.org_hint.as_deref(),
        Some(victim.id.as_str()),
        "kept as a hint only"
    );
    assert_eq!(hers.previous, None);
    assert_ne!(
        hers.api_key.as_ref().map(|k| &k.key),
        theirs.api_key.as_ref().map(|k| &k.key)
    );
    assert_eq!(
        app.current(&victim).await.id,
        theirs.id,
        "the victim org's installation is still the victim's"
    );
    assert!(
        app.installer
            .store()
            .get(&theirs.id)
            .await
            .unwrap()
            .unwrap()
            .is_active()
    );
}

/// Without a confirmed org a reinstall is a new installation: Datadog's 409 says the org has a
/// key, and the customer is told how to recover, rather than being given a key found through
/// a browser parameter.
#[tokio::test]
async fn a_reinstall_without_a_confirmed_org_links_nothing_and_shows_the_recovery() {
    let app = App::<AcmeBeacon>::start_spec(|b| b).await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    app.authorize_from_tile(&org).await;
    let body = app.authorize_from_tile(&org).await;
    let all = app.installer.store().list().await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|i| i.is_active() && i.previous.is_none()));
    assert!(matches!(app.key_outcome(1), ApiKeyOutcome::AlreadyExists));
    assert!(body.contains("revoke"), "{body}");
}

/// Datadog's users API failing (a 503) confirms no org: the install completes, unlinked.
#[tokio::test]
async fn an_org_that_cannot_be_confirmed_is_linked_to_nothing() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    app.authorize_from_tile(&org).await;
    app.sandbox
        .inject(Route::Users, Fault::status(503).always());
    app.authorize_from_tile(&org).await;
    let all = app.installer.store().list().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].org_id, None);
    assert_eq!(all[1].previous, None);
    assert!(
        all[0].is_active(),
        "the confirmed installation is not replaced"
    );
}

/// The review's finding: a 2xx key answer shaped `{"data":"<key>"}` put the key into the
/// JSON error shown on the page and given to the hook.
#[tokio::test]
async fn a_misshapen_key_answer_never_shows_the_key() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let key = "0123456789abcdef0123456789abcdef";
    app.sandbox.inject(
        Route::MarketplaceKey,
        Fault::rewrite_answer("data", serde_json::json!(key)),
    );
    let body = app.authorize_from_tile(&org).await;
    assert!(body.contains("Data cannot be sent yet"), "{body}");
    assert!(!body.contains(key), "{body}");
    let ApiKeyOutcome::Failed(reason) = app.key_outcome(0) else {
        panic!("{:?}", app.key_outcome(0));
    };
    assert!(!reason.contains(key), "{reason}");
    assert!(reason.contains("Organization Settings"), "{reason}");
}

/// The review's finding: `?`, `?code=x`, a repeated `error` or a junk cookie each fired the
/// partner's `failed` hook, which anyone could then flood. The hook now hears only of flows
/// this server began (their cookie opened).
#[tokio::test]
async fn the_failed_hook_hears_only_of_flows_this_server_began() {
    let app = App::start().await;
    let callback = app.base.join("/datadog/oauth/callback").unwrap();
    for query in [
        "",
        "code=x",
        "state=y",
        "code=x&state=y",
        "error=access_denied&error=server_error",
        "code=x&code=y&state=z",
    ] {
        let mut url = callback.clone();
        url.set_query(Some(query));
        let page = Browser::new().get(&url).await;
        assert!(page.status >= 400, "{query}: {}", page.status);
    }
    let mut junk = Browser::new();
    junk.jar
        .insert("ddflow-AAAAAAAAAAAAAAAA".into(), "not-a-sealed-flow".into());
    let mut url = callback.clone();
    url.set_query(Some("code=x&state=AAAAAAAAAAAAAAAAAAAA"));
    junk.get(&url).await;
    assert!(app.failures().is_empty(), "{:?}", app.failures());
    assert_eq!(app.sandbox.calls(Route::Token), 0);
}

/// The review's finding: 200 anonymous onboarding and fake-code pairs made 200 token requests
/// with the partner's client secret in seconds. The installer makes at most its exchange
/// limit; the others are turned away with a 503 and their flows stay open.
#[tokio::test]
async fn forged_codes_make_no_more_token_requests_than_the_exchange_limit() {
    let app = App::start_with(|b| b.exchange_limit(3, 1)).await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut turned_away = Vec::new();
    for _ in 0..10 {
        let mut browser = Browser::new();
        let callback = browser.start(&app, &org).await;
        let forged = with_param(&callback, "code", "forged-code");
        let page = browser.get(&forged).await;
        if page.status == 503 {
            assert!(page.body.contains("Reload this page"), "{}", page.body);
            turned_away.push((browser, forged));
        }
    }
    assert_eq!(app.sandbox.calls(Route::Token), 3, "the burst, no more");
    assert_eq!(turned_away.len(), 7);
    // A turned-away flow was not consumed: it is still open (its cookie kept) for a reload.
    let (browser, _) = &turned_away[0];
    assert!(!browser.jar.is_empty(), "the flow cookie is kept");
}

/// The review's finding: parameters past the 64th were not read, so a second `code` or
/// `state` after 64 junk parameters was not seen as a repeat.
#[tokio::test]
async fn a_repeated_code_past_64_parameters_is_still_a_repeat() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    let mut padded = callback.clone();
    {
        let mut pairs = padded.query_pairs_mut();
        for i in 0..70 {
            pairs.append_pair(&format!("pad{i}"), "x");
        }
        pairs.append_pair("code", "another-code");
    }
    let page = browser.get(&padded).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("repeated"), "{}", page.body);
    assert_eq!(app.sandbox.calls(Route::Token), 0, "no exchange for it");
    // The real callback still completes.
    let page = browser.get(&callback).await;
    assert_eq!(page.status, 200, "{}", page.body);
}

#[tokio::test]
async fn a_browser_gone_mid_callback_loses_no_key() {
    let app = App::start().await;
    let org = app.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    app.sandbox.inject(
        Route::MarketplaceKey,
        Fault::latency(Duration::from_millis(800)),
    );
    let mut browser = Browser::new();
    let callback = browser.start(&app, &org).await;
    // The tab is closed while Datadog creates the key.
    let gone = browser
        .http
        .get(callback.clone())
        .header(
            "cookie",
            browser
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(gone.is_err(), "the request was cut before the answer");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stored = app
            .installer
            .store()
            .find_by_org(&org.org_id())
            .await
            .unwrap();
        if stored.as_ref().is_some_and(|i| i.api_key.is_some()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the key Datadog created was never stored: {stored:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 1);
}

#[tokio::test]
async fn two_hundred_concurrent_installs_each_make_one_key_request() {
    let app = Arc::new(App::start_with(|b| b.exchange_limit(200, 200)).await);
    let orgs: Vec<SandboxOrg> = (0..200)
        .map(|i| {
            let domain = Domain::ALL[i % Domain::ALL.len()];
            app.sandbox
                .add_org(OrgSpec::new(format!("Org {i}"), domain))
        })
        .collect();
    let onboarding = app.base.join("/datadog/connect").unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for org in orgs.clone() {
        let app = app.clone();
        let onboarding = onboarding.clone();
        tasks.spawn(async move {
            app.sandbox
                .test_authorization(&onboarding, &org)
                .await
                .unwrap()
                .status
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(app.installations().await, 200);
    assert_eq!(app.sandbox.calls(Route::MarketplaceKey), 200);
    let outcomes: Vec<String> = app
        .hooks
        .0
        .lock()
        .unwrap()
        .installed
        .iter()
        .filter(|r| !matches!(r.api_key, ApiKeyOutcome::Created))
        .map(|r| format!("{:?}", r.api_key))
        .collect();
    assert!(outcomes.is_empty(), "{outcomes:?}");
    for org in &orgs {
        let installation = app.current(org).await;
        assert!(installation.api_key.is_some());
        assert_eq!(installation.site, Site::of(org.domain));
    }
}

#[test]
fn undeclared_or_insecure_urls_are_refused_at_build() {
    let key = || Sealer::new(SealingKey::generate("k").unwrap().0);
    let build = |redirect: &str, onboarding: &str| {
        Installer::<AcmePager>::builder()
            .client("cid", ClientSecret::new("secret"))
            .sealer(key())
            .redirect_uri(redirect)
            .onboarding_url(onboarding)
            .memory_store_for_tests()
            .build()
    };
    assert!(
        build(
            "https://acme.example/datadog/oauth/callback",
            "https://acme.example/datadog/connect"
        )
        .is_ok()
    );
    assert!(build("http://localhost:1/cb", "http://localhost:1/connect").is_ok());
    assert!(
        build(
            "https://evil.example/cb",
            "https://acme.example/datadog/connect"
        )
        .is_err()
    );
    assert!(build("http://acme.example/cb", "http://acme.example/connect").is_err());
    let rewritten = build("http://localhost:80/cb", "http://localhost:80/connect")
        .expect_err("a redirect URI the parser rewrites is refused")
        .to_string();
    assert!(
        rewritten.contains("sent as `http://localhost/cb`"),
        "{rewritten}"
    );
    assert!(
        build("http://localhost:1/cb", "http://localhost:2/connect").is_err(),
        "origins differ"
    );
    assert!(
        Installer::<AcmePager>::builder()
            .client("cid", ClientSecret::new("s"))
            .build()
            .is_err(),
        "no sealing key"
    );
}

/// The partner's first hour: the README's set-up once built an installer that kept every
/// installation (and every marketplace API key, shown once) in memory, silently. An installer
/// without a store is now refused, with the durable choice in the error.
#[test]
fn an_installer_without_a_store_is_refused_rather_than_kept_in_memory() {
    let error = Installer::<AcmePager>::builder()
        .client("cid", ClientSecret::new("secret"))
        .sealer(Sealer::new(SealingKey::generate("test").unwrap().0))
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("SqliteStore::open") && error.contains("memory_store_for_tests"),
        "{error}"
    );
}

/// The partner's first hour: the documented staging set-up could not be built (a staging
/// redirect beside a production onboarding URL). Environments are declared once, each with its
/// onboarding URL and redirect URI on one origin, and picked at run time.
#[test]
fn environments_are_declared_once_and_picked_at_run_time() {
    let builder = || {
        Installer::<AcmeStaged>::builder()
            .client("cid", ClientSecret::new("secret"))
            .sealer(Sealer::new(SealingKey::generate("test").unwrap().0))
            .memory_store_for_tests()
    };
    let production = builder().build().unwrap();
    assert_eq!(
        production.onboarding_url().as_str(),
        "https://acme.example/datadog/connect"
    );
    assert_eq!(
        production.oauth().redirect_uri(),
        "https://acme.example/datadog/callback"
    );
    let staging = builder().environment("staging").build().unwrap();
    assert_eq!(
        staging.onboarding_url().as_str(),
        "https://staging.acme-dev.example/datadog/connect"
    );
    assert_eq!(
        staging.oauth().redirect_uri(),
        "https://staging.acme-dev.example/datadog/callback"
    );
    // Registered on the OAuth client too (oauth_clients.json lists every redirect URI).
    assert!(
        AcmeStaged::SPEC
            .redirect_uris
            .contains(&"https://staging.acme-dev.example/datadog/callback")
    );
    let error = builder()
        .environment("preview")
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("no environment `preview` is declared (declared: staging)"),
        "{error}"
    );
    // Mixing one environment's redirect with another's onboarding is refused at build.
    let error = builder()
        .environment("staging")
        .redirect_uri("https://acme.example/datadog/callback")
        .build()
        .unwrap_err()
        .to_string();
    assert!(error.contains("one origin"), "{error}");
}

/// The partner's first hour: the pages could not carry the partner's brand. Their CSS, or
/// their own template, renders every page; the security headers stay the SDK's.
#[tokio::test]
async fn pages_carry_the_partners_brand_and_keep_their_security_headers() {
    struct Branded;
    impl dd_integration::install::PageTemplate for Branded {
        fn render(&self, page: &dd_integration::install::PageContent<'_>) -> String {
            // A template cannot add a script that runs: the CSP forbids it.
            format!(
                "<html><body class=acme-brand><script>alert(1)</script><h2>{}</h2>{}</body></html>",
                page.escaped_title(),
                page.body_html
            )
        }
    }
    let styled =
        App::start_with(|b| b.page_style("body{background:#0b3d91}</style><script>")).await;
    let org = styled.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&styled, &org).await;
    let page = browser.get(&callback).await;
    assert!(
        page.body.contains("body{background:#0b3d91}"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("</style><script>"),
        "the CSS cannot end its element"
    );

    let templated = App::start_with(|b| b.page_template(Branded)).await;
    let org = templated.sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let mut browser = Browser::new();
    let callback = browser.start(&templated, &org).await;
    let done = browser.get(&callback).await;
    let picker = browser
        .get(&templated.base.join("/datadog/connect").unwrap())
        .await;
    let failure = Browser::new().get(&callback).await;
    for page in [&done, &picker, &failure] {
        assert!(page.body.contains("acme-brand"), "{}", page.body);
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert_eq!(page.headers["cache-control"], "no-store");
        assert_eq!(page.headers["referrer-policy"], "no-referrer");
        assert_eq!(page.headers["x-frame-options"], "DENY");
    }
    assert!(done.body.contains("is connected"), "{}", done.body);
    assert!(
        failure.body.contains("mailto:support@acme.example"),
        "{}",
        failure.body
    );
}
