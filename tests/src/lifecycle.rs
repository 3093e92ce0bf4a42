//! Set-up shared by the token-lifecycle tests and their worker processes: one integration, a
//! Datadog sandbox, installers configured alike in every process (one OAuth client, one sealing
//! key), and installs driven through the SDK's own handlers without a web server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use dd_integration::install::InstallerBuilder;
use dd_integration::testkit::{ClientSpec, OrgSpec, Sandbox, SandboxClient, SandboxOrg};
use dd_integration::{
    Author, ClientSecret, DataKind, Domain, Endpoints, HttpConfig, InstallHooks, Installation,
    InstallationId, InstallationStore, Installer, IntegrationSpec, Scope, Sealer, SealingKey,
    TokenSettings,
};
use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, Uri};
use url::Url;

/// The integration under test: reads monitors, sends events (so it creates the API key).
pub static SPEC: IntegrationSpec = IntegrationSpec {
    name: "Acme Pager",
    app_id: "acme-pager",
    app_uuid: None,
    description: "Pages the on-call engineer when a Datadog monitor alerts.",
    version: "1.0.0",
    author: Author {
        name: "Acme",
        homepage: "https://acme.example",
        support_email: "support@acme.example",
        sales_email: "sales@acme.example",
    },
    classifier_tags: &[],
    scopes: &[Scope::MONITORS_READ, Scope::API_KEYS_WRITE],
    redirect_uris: &["https://acme.example/datadog/oauth/callback"],
    onboarding_url: "https://acme.example/datadog/connect",
    submits: &[DataKind::Events],
    oauth_client_id: None,
    source_type_id: None,
    metric_prefix: None,
    metrics: &[],
    service_checks: &[],
};

/// Plain-http loopback URLs are accepted for development; nothing listens there: the tests call
/// the handlers directly.
pub const ONBOARDING: &str = "http://127.0.0.1:9/datadog/connect";
/// The callback on the same origin.
pub const REDIRECT: &str = "http://127.0.0.1:9/datadog/oauth/callback";

/// Token settings short enough for tests: a crashed holder's lease lapses in 2 s.
pub fn test_settings() -> TokenSettings {
    TokenSettings::default()
        .lease(Duration::from_secs(2))
        .attempts(3)
        .backoff(Duration::from_millis(20))
        .max_backoff(Duration::from_millis(200))
        .poll(Duration::from_millis(20))
}

/// What every process needs to build the same installer: where the sandbox is, the OAuth
/// client, and the sealing key of flow cookies. Passed to workers in environment variables.
#[derive(Clone, Debug)]
pub struct Config {
    /// The sandbox's base URL.
    pub sandbox: String,
    /// The OAuth client's id.
    pub client_id: String,
    /// The OAuth client's secret.
    pub client_secret: String,
    /// The sealing key, base64.
    pub sealing_key: String,
}

impl Config {
    const VARS: [&'static str; 4] = [
        "DD_TEST_SANDBOX",
        "DD_TEST_CLIENT_ID",
        "DD_TEST_CLIENT_SECRET",
        "DD_TEST_SEALING_KEY",
    ];

    /// The variables to pass to a worker.
    pub fn env(&self) -> [(&'static str, String); 4] {
        let [a, b, c, d] = Config::VARS;
        [
            (a, self.sandbox.clone()),
            (b, self.client_id.clone()),
            (c, self.client_secret.clone()),
            (d, self.sealing_key.clone()),
        ]
    }

    /// Read back in a worker.
    ///
    /// # Panics
    /// If a variable is missing.
    pub fn from_env() -> Config {
        let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
        let [a, b, c, d] = Config::VARS;
        Config {
            sandbox: var(a),
            client_id: var(b),
            client_secret: var(c),
            sealing_key: var(d),
        }
    }

    /// An installer on `store`, as every process of a test builds it.
    ///
    /// # Panics
    /// If the configuration is unusable.
    pub fn installer(
        &self,
        store: Arc<dyn InstallationStore>,
        hooks: impl InstallHooks,
        settings: TokenSettings,
        configure: impl FnOnce(InstallerBuilder) -> InstallerBuilder,
    ) -> Installer {
        let key = SealingKey::from_base64("test", &self.sealing_key).expect("a sealing key");
        let builder = Installer::builder(&SPEC)
            .client(
                self.client_id.clone(),
                ClientSecret::new(self.client_secret.clone()),
            )
            .sealer(Sealer::new(key))
            .redirect_uri(REDIRECT)
            .onboarding_url(ONBOARDING)
            .endpoints(Endpoints::override_base(&self.sandbox).expect("a loopback sandbox"))
            .store(store)
            .hooks(hooks)
            .token_settings(settings);
        configure(builder).build().expect("the installer builds")
    }
}

/// A sandbox (strict rotation) with the integration's OAuth client registered.
pub struct Lab {
    /// The sandbox.
    pub sandbox: Sandbox,
    /// The OAuth client registered in it.
    pub client: SandboxClient,
    /// What workers need to reach it.
    pub config: Config,
}

impl Lab {
    /// Starts the sandbox, in strict rotation: a used refresh token dies at once.
    pub async fn start() -> Lab {
        let sandbox = Sandbox::builder().strict_rotation(true).start().await;
        let client = sandbox.add_client(
            ClientSpec::new("Acme Pager")
                .redirect_uri(REDIRECT)
                .scopes(["monitors_read", "api_keys_write"]),
        );
        let (_, sealing_key) = SealingKey::generate("test").expect("a sealing key");
        let config = Config {
            sandbox: sandbox.base_url().to_string(),
            client_id: client.client_id.clone(),
            client_secret: client.client_secret.clone(),
            sealing_key,
        };
        Lab {
            sandbox,
            client,
            config,
        }
    }

    /// An installer (one replica) on `store`.
    pub fn installer(
        &self,
        store: Arc<dyn InstallationStore>,
        hooks: impl InstallHooks,
        settings: TokenSettings,
    ) -> Installer {
        self.config.installer(store, hooks, settings, |b| b)
    }

    /// A new org on `domain` with its own vanity subdomain, so that the authorize page knows
    /// which org is logged in without a browser session.
    pub fn org(&self, name: &str, domain: Domain) -> SandboxOrg {
        let label: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        self.sandbox
            .add_org(OrgSpec::new(name, domain).vanity(format!("v{label}")))
    }

    /// Installs the integration in `org` through `installer`'s handlers, as the tile and a
    /// browser would. Returns the stored installation.
    ///
    /// # Panics
    /// If the install does not succeed.
    pub async fn install(&self, installer: &Installer, org: &SandboxOrg) -> Installation {
        let flow = start_flow(installer, &self.sandbox, &onboarding_url(org)).await;
        let page = flow.finish(installer).await;
        assert_eq!(page.status(), 200, "{}", page.body());
        installer
            .store()
            .find_by_org(&org.id)
            .await
            .expect("the store answers")
            .expect("the installation is stored")
    }
}

/// The onboarding URL the tile opens for `org`.
pub fn onboarding_url(org: &SandboxOrg) -> Url {
    let mut url = Url::parse(ONBOARDING).expect("a URL");
    url.query_pairs_mut()
        .append_pair("site", &org.site.origin())
        .append_pair("domain", org.domain.as_str());
    url
}

/// A flow between Datadog's redirect back and the callback: the callback URL and the browser's
/// flow cookie.
#[derive(Clone, Debug)]
pub struct PendingCallback {
    /// The callback URL Datadog redirected to.
    pub callback: Url,
    /// The `Cookie` header the browser sends with it.
    pub cookie: String,
}

impl PendingCallback {
    /// The browser arrives at the callback.
    pub async fn finish(&self, installer: &Installer) -> http::Response<String> {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&self.cookie).expect("a cookie header"),
        );
        let uri: Uri = self.callback.as_str().parse().expect("a URI");
        installer.callback(&Method::GET, &uri, &headers).await
    }
}

/// GET `onboarding` (an onboarding or re-authorize URL) on `installer`, then Datadog's authorize
/// page: where Datadog sends the browser back, not yet visited.
///
/// # Panics
/// If a step does not redirect as it should.
pub async fn start_flow(
    installer: &Installer,
    sandbox: &Sandbox,
    onboarding: &Url,
) -> PendingCallback {
    let uri: Uri = onboarding.as_str().parse().expect("a URI");
    let page = installer.onboarding(&uri, &HeaderMap::new()).await;
    assert_eq!(page.status(), 302, "{}", page.body());
    let cookie = page.headers()[SET_COOKIE]
        .to_str()
        .expect("a cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let authorize = Url::parse(page.headers()[LOCATION].to_str().expect("a location"))
        .expect("an absolute URL");
    let callback = sandbox
        .authorize(&authorize)
        .await
        .expect("Datadog redirects back");
    PendingCallback { callback, cookie }
}

/// Calls `GET /api/v1/monitor` with `token`, as an integration would: the HTTP status.
pub async fn call_api(
    sandbox: &Sandbox,
    domain: Domain,
    token: &dd_integration::AccessToken,
) -> u16 {
    let url = sandbox
        .endpoints()
        .url(&domain.api_host(), "/api/v1/monitor");
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .expect("the sandbox answers")
        .status()
        .as_u16()
}

/// Hooks that record what the SDK reported.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<(InstallationId, String)>>>);

impl Recorder {
    /// The `revoked` calls so far: installation and reason.
    pub fn revoked(&self) -> Vec<(InstallationId, String)> {
        self.0.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl InstallHooks for Recorder {
    async fn revoked(&self, installation: &Installation, reason: &str) {
        self.0
            .lock()
            .expect("not poisoned")
            .push((installation.id.clone(), reason.to_owned()));
    }
}

/// The HTTP limits of tests that provoke time-outs.
pub fn short_timeouts() -> HttpConfig {
    HttpConfig::default().timeout(Duration::from_millis(400))
}
