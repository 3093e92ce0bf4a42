//! The install flow, from the tile's onboarding URL to a stored installation, independent of any
//! web framework: requests come in as `http` types and answers go out as `http::Response`.
//! [`crate::web`] mounts it in axum.
//!
//! Onboarding: the site is checked against Datadog's regions, the partner's hook says which of
//! its accounts is connecting (or sends the user to log in and back), a PKCE verifier and a state
//! are sealed with the site into a short-lived cookie, and the browser goes to the site's
//! authorize page.
//!
//! Callback: the cookie is opened and its state compared in constant time; the returned `domain`
//! must be the region the flow began on; the flow is claimed once (a replayed or double-clicked
//! callback waits for the first and shows its outcome); the code is exchanged; the installation is
//! stored before anything else; the marketplace API key is created (once) and stored before the
//! user is told anything; the partner's hook runs; the user sees a page they may close.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cookie::time::Duration as CookieDuration;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode, Uri};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use url::Url;

use crate::endpoint::Endpoints;
use crate::error::ConfigError;
use crate::error::Error;
pub use crate::hooks::{ApiKeyOutcome, Hooks, Identify, InstallFailure, InstallReport, NoHooks};
use crate::installation::MarketplaceApiKey;
use crate::installation::{Installation, InstallationId, InstallationStatus, OrgId};
use crate::integration::{DatadogIntegration, IntegrationSpec};
use crate::oauth::OAuthClient;
use crate::page::{self, escape};
pub use crate::page::{DefaultPages, PageContent, PageTemplate};
use crate::pkce::PkceVerifier;
use crate::scope::{Scope, ScopeSet};
use crate::seal::Sealer;
use crate::secret::ClientSecret;
use crate::site::{Domain, Site};
use crate::store::{FlowClaim, InstallationStore, MemoryStore};
use crate::tokens::{TokenSettings, Tokens};
use crate::transport::HttpConfig;

/// How long a flow may take from onboarding to callback.
const FLOW_LIFETIME: Duration = Duration::from_secs(600);
/// How long a replayed callback waits for the first one to finish.
const REPLAY_WAIT: Duration = Duration::from_secs(15);

/// The longest a key's creation can still be under way: the key call's time-out (30 s by
/// default) and the store's retries, with room. A key journal older than this is a creation
/// that stopped (a crash, a lost answer), not one to wait for.
const KEY_WINDOW: Duration = Duration::from_secs(120);

/// How long, after Datadog answered that the org's API key exists, a flow waits for another
/// flow of the same org (another tab) to store the key it was given.
const CONCURRENT_KEY_WAIT: Duration = Duration::from_secs(3);

/// An installation of the org without a key, created less than this long ago, may be a flow
/// still storing the key Datadog just gave it: only then is it worth waiting for.
const CONCURRENT_FLOW_AGE: Duration = Duration::from_secs(30);

/// A callback whose flow this request claimed: what completing it needs, owned.
struct Claimed {
    flow_id: String,
    site: Site,
    domain: Domain,
    code: String,
    verifier: PkceVerifier,
    /// `dd_oid` and `dd_org_name` from the callback, as the browser sent them: hints, never
    /// evidence (anyone can edit them in the callback URL).
    org_hint: Option<String>,
    org_name: Option<String>,
    account: Option<String>,
}

/// The flow's state, sealed into the cookie.
#[derive(Serialize, Deserialize)]
struct FlowState {
    state: String,
    verifier: String,
    site: String,
    account: Option<String>,
    expires: u64,
    /// The flow ended (its code spent or refused): the cookie is kept, without the verifier,
    /// so that a reload, Back/Forward or a second tab shows the flow's outcome.
    #[serde(default)]
    finished: bool,
}

/// Builds an [`Installer`] of the integration `I`: [`Installer::builder`].
///
/// What a build checks, and refuses with the fix: a client id and secret, a sealing key, a
/// store, the redirect URI and onboarding URL among those declared (or an `environment`'s),
/// on one origin.
///
/// ```
/// use std::sync::Arc;
/// use dd_integration::{ClientSecret, Installer, Sealer, SealingKey, datadog_integration};
///
/// #[datadog_integration(
///     name = "Acme Pager",
///     scopes = [monitors_read],
///     redirect = "https://acme.example/datadog/callback",
///     onboarding = "https://acme.example/datadog/connect",
///     environment(
///         name = "staging",
///         onboarding = "https://staging.acme.example/datadog/connect",
///         redirect = "https://staging.acme.example/datadog/callback",
///     ),
/// )]
/// struct AcmePager;
///
/// let builder = || {
///     Installer::<AcmePager>::builder()
///         .client("client-id", ClientSecret::new("client-secret"))
///         .sealer(Sealer::new(SealingKey::generate("k1").unwrap().0))
/// };
/// // No store: refused, with the durable choice named.
/// let refused = builder().build().unwrap_err().to_string();
/// assert!(refused.contains("SqliteStore::open"));
/// // Staging, with installations in memory (tests only).
/// let staging = builder().environment("staging").memory_store_for_tests().build().unwrap();
/// assert_eq!(staging.callback_path(), "/datadog/callback");
/// assert_eq!(staging.onboarding_url().host_str(), Some("staging.acme.example"));
/// ```
#[must_use]
pub struct InstallerBuilder<I> {
    integration: PhantomData<fn() -> I>,
    spec: &'static IntegrationSpec,
    client_id: Option<String>,
    client_secret: Option<ClientSecret>,
    sealer: Option<Sealer>,
    redirect_uri: Option<String>,
    onboarding_url: Option<String>,
    endpoints: Endpoints,
    http: HttpConfig,
    store: Option<Arc<dyn InstallationStore>>,
    hooks: Arc<dyn Hooks>,
    flow_lifetime: Duration,
    token_settings: TokenSettings,
    exchange_limit: ExchangeLimit,
    environment: Option<String>,
    pages: Arc<dyn PageTemplate>,
}

impl<I> std::fmt::Debug for InstallerBuilder<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallerBuilder")
            .field("integration", &self.spec.name)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl<I: DatadogIntegration> InstallerBuilder<I> {
    /// The OAuth client's id and secret (test and published clients differ).
    pub fn client(mut self, client_id: impl Into<String>, secret: ClientSecret) -> Self {
        self.client_id = Some(client_id.into());
        self.client_secret = Some(secret);
        self
    }

    /// The key that seals the flow cookie. Every replica must have the same one.
    pub fn sealer(mut self, sealer: Sealer) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// Styles the flow's pages with the partner's CSS, added after the SDK's own (colours,
    /// fonts, spacing). The security headers do not change: no script, outside resource or
    /// framing is allowed in.
    pub fn page_style(mut self, css: &str) -> Self {
        self.pages = Arc::new(DefaultPages::with_style(css));
        self
    }

    /// Renders the flow's pages with the partner's own template (see [`PageTemplate`]): the
    /// SDK still writes each page's escaped text and sets the security headers.
    pub fn page_template(mut self, template: impl PageTemplate) -> Self {
        self.pages = Arc::new(template);
        self
    }

    /// Serves the declared `environment(name = "...", ...)`: its onboarding URL and redirect
    /// URI (one origin, checked at compile time). Without it, the installer serves the
    /// top-level `onboarding` and the first `redirect`. Pick it from the deployment's
    /// configuration: `.environment(&std::env::var("ACME_ENVIRONMENT")?)`.
    pub fn environment(mut self, name: &str) -> Self {
        self.environment = Some(name.to_owned());
        self
    }

    /// Which declared redirect URI this deployment uses (default: the first declared). A plain
    /// http loopback URI is accepted even if undeclared, for local development.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The onboarding URL this deployment serves (default: the declared one). A plain http
    /// loopback URL is accepted for local development.
    pub fn onboarding_url(mut self, url: impl Into<String>) -> Self {
        self.onboarding_url = Some(url.into());
        self
    }

    /// Sends every Datadog host elsewhere (the sandbox). See [`Endpoints`].
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Time-outs and the response cap for calls to Datadog.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// Where installations are stored: required. [`SqliteStore`](crate::store::SqliteStore)
    /// (one file; the embedded choice) or `PostgresStore` (several replicas). The store holds
    /// each org's marketplace API key, which Datadog shows once: a store that forgets on
    /// restart loses them all.
    pub fn store(mut self, store: Arc<dyn InstallationStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Keeps installations in memory only: **for tests**. Every installation, and every
    /// marketplace API key Datadog showed once, is lost when the process stops. A production
    /// installer names a durable [`store`](InstallerBuilder::store); without one,
    /// [`build`](InstallerBuilder::build) fails rather than forget silently.
    pub fn memory_store_for_tests(mut self) -> Self {
        self.store = Some(Arc::new(MemoryStore::new()));
        self
    }

    /// The partner's hooks (also for telemetry: [`Installer::hooks`] hands them on).
    ///
    /// Like the store, hooks are shared (with the tokens and telemetry), so every builder takes
    /// them as an `Arc`.
    pub fn hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// How long a person may take from the tile to the callback (default 10 minutes).
    pub fn flow_lifetime(mut self, lifetime: Duration) -> Self {
        self.flow_lifetime = lifetime;
        self
    }

    /// How access tokens are refreshed ([`Installer::tokens`]).
    pub fn token_settings(mut self, settings: TokenSettings) -> Self {
        self.token_settings = settings;
        self
    }

    /// How many code exchanges (token requests carrying the client secret) this installer
    /// makes at most: `burst` at once, then `per_minute` (default 60 and 120). Each flow makes
    /// at most one; a callback past the limit gets a 503 page and its flow stays open to be
    /// retried, so that anonymous onboarding and forged codes cannot drive the partner's
    /// client into Datadog's rate limit. Set it per replica.
    pub fn exchange_limit(mut self, burst: u32, per_minute: u32) -> Self {
        self.exchange_limit = ExchangeLimit::new(burst, per_minute);
        self
    }

    /// Checks everything and builds the installer.
    pub fn build(self) -> Result<Installer<I>, ConfigError> {
        let spec = self.spec;
        let client_id = self.client_id.ok_or(ConfigError::Missing(
            "client id and secret (InstallerBuilder::client)",
        ))?;
        let secret = self
            .client_secret
            .ok_or(ConfigError::Missing("client secret"))?;
        let sealer = self.sealer.ok_or(ConfigError::Missing(
            "sealing key (InstallerBuilder::sealer; generate one with SealingKey::generate)",
        ))?;
        // The environment picks both URLs, unless one is given explicitly.
        let (redirect_uri, onboarding_url) = match &self.environment {
            None => (self.redirect_uri, self.onboarding_url),
            Some(name) => {
                let env = spec
                    .environments
                    .iter()
                    .find(|e| e.name == name)
                    .ok_or_else(|| ConfigError::UnknownEnvironment {
                        name: crate::error::quoted(name),
                        declared: spec
                            .environments
                            .iter()
                            .map(|e| e.name)
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?;
                (
                    self.redirect_uri
                        .or_else(|| Some(env.redirect_uri.to_owned())),
                    self.onboarding_url
                        .or_else(|| Some(env.onboarding_url.to_owned())),
                )
            }
        };
        let (redirect, redirect_text) =
            pick_url(redirect_uri, spec.redirect_uris, "redirect URI", true)?;
        let onboardings: Vec<&str> = std::iter::once(spec.onboarding_url)
            .chain(spec.environments.iter().map(|e| e.onboarding_url))
            .collect();
        let (onboarding, _) = pick_url(onboarding_url, &onboardings, "onboarding URL", false)?;
        if redirect.origin() != onboarding.origin() {
            return Err(ConfigError::Origins {
                onboarding: onboarding.origin().ascii_serialization(),
                redirect: redirect.origin().ascii_serialization(),
            });
        }
        // Sent exactly as declared and registered: Datadog compares it byte for byte.
        let oauth = OAuthClient::builder(client_id, secret, redirect_text)
            .endpoints(self.endpoints)
            .http_config(self.http)
            .build()?;
        let secure_cookie = redirect.scheme() == "https";
        let store = self.store.ok_or(ConfigError::Missing(
            "durable installation store (InstallerBuilder::store): SqliteStore::open(\"<a private directory>/installations.sqlite\", sealer) keeps installations, and the marketplace API keys Datadog shows only once, across restarts; PostgresStore for several replicas. Tests may call InstallerBuilder::memory_store_for_tests()",
        ))?;
        let tokens = Tokens::builder(oauth.clone(), Arc::clone(&store))
            .hooks(Arc::clone(&self.hooks))
            .settings(self.token_settings)
            .build();
        Ok(Installer {
            integration: PhantomData,
            inner: Arc::new(Inner {
                spec,
                oauth,
                sealer,
                store,
                tokens,
                hooks: self.hooks,
                onboarding,
                redirect,
                secure_cookie,
                flow_lifetime: self.flow_lifetime,
                exchanges: self.exchange_limit,
                pages: self.pages,
            }),
        })
    }
}

/// The URL chosen (or the first declared), parsed and as written; `exact`: it must be sent as
/// written (a redirect URI, which Datadog compares byte for byte with the one registered), so
/// a form a URL parser rewrites is refused, but for an empty path: `https://acme.example` is
/// sent as written (merged integrations register redirect URIs without a path), and served at
/// `/`.
fn pick_url(
    chosen: Option<String>,
    declared: &[&str],
    what: &'static str,
    exact: bool,
) -> Result<(Url, String), ConfigError> {
    let text = match chosen {
        Some(text) => text,
        None => declared
            .first()
            .map(|s| (*s).to_owned())
            .ok_or(ConfigError::Missing(what))?,
    };
    let url = Url::parse(&text).map_err(|e| ConfigError::Url {
        what,
        reason: e.to_string(),
    })?;
    let without_path = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.as_str().strip_suffix('/') == Some(text.as_str());
    if exact && url.as_str() != text && !without_path {
        return Err(ConfigError::Url {
            what,
            reason: format!(
                "it would be sent as `{}`, not as written: declare and register that form",
                url.as_str()
            ),
        });
    }
    let loopback = crate::endpoint::is_loopback(&url);
    let loopback_http = url.scheme() == "http" && loopback;
    if !declared.contains(&text.as_str()) && !loopback_http {
        return Err(ConfigError::Undeclared {
            what,
            url: text,
            declared: declared.join(", "),
        });
    }
    if url.scheme() != "https" && !loopback_http {
        return Err(ConfigError::Url {
            what,
            reason: "it must be https (plain http only on loopback)".into(),
        });
    }
    Ok((url, text))
}

/// The install flow of one integration. Cheap to clone; share one between all requests.
///
/// Built with [`Installer::builder`], served by [`web::router`](crate::web::router). A complete
/// installer, run against the Datadog sandbox (a customer clicks the tile's Test
/// Authorization button and the installation is stored, its API key with it):
///
/// ```
/// use std::sync::Arc;
/// use dd_integration::testkit::{ClientSpec, OrgSpec, Sandbox};
/// use dd_integration::{
///     ClientSecret, Domain, Installer, Sealer, SealingKey, SqliteStore, datadog_integration,
/// };
///
/// #[datadog_integration(
///     name = "Acme Pager",
///     scopes = [monitors_read, api_keys_write],
///     redirect = "https://acme.example/datadog/callback",
///     onboarding = "https://acme.example/datadog/connect",
///     submits = [events],
///     description = "Pages the on-call engineer when a Datadog monitor alerts.",
///     author(name = "Acme", homepage = "https://acme.example",
///            support_email = "support@acme.example", sales_email = "sales@acme.example"),
/// )]
/// struct AcmePager;
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sandbox = Sandbox::start().await;
/// let org = sandbox.add_org(OrgSpec::new("Customer", Domain::Eu1));
/// // The partner's app on loopback (plain http is accepted there, for development).
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let base = format!("http://localhost:{}", listener.local_addr()?.port());
/// let client = sandbox.add_client(
///     ClientSpec::new("Acme Pager")
///         .redirect_uri(format!("{base}/datadog/callback"))
///         .scopes(["monitors_read", "api_keys_write"]),
/// );
/// let dir = std::env::temp_dir().join(format!("dd-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let sealer = Sealer::new(SealingKey::generate("k1")?.0);
/// let store = SqliteStore::open(dir.join("installations.sqlite"), sealer.clone()).await?;
/// let installer = Installer::<AcmePager>::builder()
///     .client(client.client_id.clone(), ClientSecret::new(client.client_secret.clone()))
///     .sealer(sealer)
///     .store(Arc::new(store))
///     .redirect_uri(format!("{base}/datadog/callback"))
///     .onboarding_url(format!("{base}/datadog/connect"))
///     .endpoints(sandbox.endpoints())
///     .build()?;
/// let app = dd_integration::web::router(installer.clone());
/// tokio::spawn(dd_integration::web::serve(listener, app));
///
/// let onboarding = url::Url::parse(&format!("{base}/datadog/connect"))?;
/// let done = sandbox.test_authorization(&onboarding, &org).await?;
/// assert_eq!(done.status, 200);
/// let installation = installer.store().list().await?.pop().expect("stored");
/// assert!(installation.api_key.is_some());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
pub struct Installer<I> {
    integration: PhantomData<fn() -> I>,
    inner: Arc<Inner>,
}

impl<I> Clone for Installer<I> {
    fn clone(&self) -> Self {
        Installer {
            integration: PhantomData,
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner {
    spec: &'static IntegrationSpec,
    oauth: OAuthClient,
    sealer: Sealer,
    store: Arc<dyn InstallationStore>,
    tokens: Tokens,
    hooks: Arc<dyn Hooks>,
    onboarding: Url,
    redirect: Url,
    secure_cookie: bool,
    flow_lifetime: Duration,
    exchanges: ExchangeLimit,
    pages: Arc<dyn PageTemplate>,
}

/// A token bucket over code exchanges.
struct ExchangeLimit {
    burst: f64,
    per_second: f64,
    bucket: std::sync::Mutex<(f64, std::time::Instant)>,
}

impl ExchangeLimit {
    fn new(burst: u32, per_minute: u32) -> ExchangeLimit {
        let burst = f64::from(burst.max(1));
        ExchangeLimit {
            burst,
            per_second: f64::from(per_minute.max(1)) / 60.0,
            bucket: std::sync::Mutex::new((burst, std::time::Instant::now())),
        }
    }

    /// Takes one exchange if the bucket has one.
    fn take(&self) -> bool {
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        let (tokens, last) = *bucket;
        let tokens =
            (tokens + now.duration_since(last).as_secs_f64() * self.per_second).min(self.burst);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            true
        } else {
            *bucket = (tokens, now);
            false
        }
    }

    /// Returns an exchange taken but not made.
    fn give_back(&self) {
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        bucket.0 = (bucket.0 + 1.0).min(self.burst);
    }
}

impl<I> std::fmt::Debug for Installer<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installer")
            .field("integration", &self.inner.spec.name)
            .field("oauth", &self.inner.oauth)
            .field("onboarding", &self.inner.onboarding.as_str())
            .finish_non_exhaustive()
    }
}

impl<I: DatadogIntegration> Installer<I> {
    /// Starts an installer for the integration `I` (`Installer::<AcmePager>::builder()`): the
    /// type is fixed here, once, and the installer's API clients and intakes are of `I` alone.
    pub fn builder() -> InstallerBuilder<I> {
        InstallerBuilder {
            integration: PhantomData,
            spec: I::SPEC,
            client_id: None,
            client_secret: None,
            sealer: None,
            redirect_uri: None,
            onboarding_url: None,
            endpoints: Endpoints::datadog(),
            http: HttpConfig::default(),
            store: None,
            hooks: Arc::new(NoHooks),
            flow_lifetime: FLOW_LIFETIME,
            token_settings: TokenSettings::default(),
            exchange_limit: ExchangeLimit::new(60, 120),
            environment: None,
            pages: Arc::new(DefaultPages::default()),
        }
    }

    /// The declaration.
    pub fn spec(&self) -> &'static IntegrationSpec {
        self.inner.spec
    }

    /// The OAuth client.
    pub fn oauth(&self) -> &OAuthClient {
        &self.inner.oauth
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn InstallationStore> {
        &self.inner.store
    }

    /// Access tokens of the installations, kept fresh; also where a partner disconnects one.
    pub fn tokens(&self) -> &Tokens {
        &self.inner.tokens
    }

    /// The partner's hooks, to hand to telemetry
    /// ([`TelemetryBuilder::hooks`](crate::telemetry::TelemetryBuilder::hooks)), so that one
    /// implementation hears every event.
    pub fn hooks(&self) -> Arc<dyn Hooks> {
        Arc::clone(&self.inner.hooks)
    }

    /// The URL that starts a fresh authorization for an installation's org, as the tile would:
    /// the onboarding URL with the installation's `site` (its vanity subdomain kept) and
    /// `domain`. Send the customer there when [`Installation::missing_scopes`] is not empty or
    /// the installation needs re-authorization; the new installation is linked to the old one.
    pub fn reauthorize_url(&self, installation: &Installation) -> Url {
        let mut url = self.inner.onboarding.clone();
        url.query_pairs_mut()
            .append_pair("site", &installation.site.origin())
            .append_pair("domain", installation.domain.as_str());
        url
    }

    /// Checks the OAuth client's id and secret with Datadog on `domain` before any customer
    /// connects (see [`OAuthClient::check_credentials`] for what it relies on). Call it at
    /// start-up: a wrong secret is then found by the partner, not by the first customer.
    pub async fn check_credentials(&self, domain: Domain) -> Result<(), Error> {
        self.inner.oauth.check_credentials(domain).await
    }

    /// The path the onboarding handler serves.
    pub fn onboarding_path(&self) -> &str {
        self.inner.onboarding.path()
    }

    /// The path the callback handler serves.
    pub fn callback_path(&self) -> &str {
        self.inner.redirect.path()
    }

    /// The onboarding URL.
    pub fn onboarding_url(&self) -> &Url {
        &self.inner.onboarding
    }

    /// `GET <onboarding>?site=..&domain=..`: the tile's entry into the flow.
    pub async fn onboarding(&self, uri: &Uri, headers: &HeaderMap) -> Response<String> {
        let params = Params::parse(uri.query());
        let spec = self.inner.spec;
        let site = match (params.one("site"), params.one("domain")) {
            (None, None) => {
                return page::site_picker(&*self.inner.pages, spec.name, self.onboarding_path());
            }
            (Some(site), domain) => match Site::parse(site) {
                Err(e) => return self.failure_page(InstallFailure::BadSite(e)).await,
                Ok(parsed) => {
                    if let Some(domain) = domain
                        && Domain::parse(domain).ok() != Some(parsed.domain())
                    {
                        return self
                            .failure_page(InstallFailure::SiteDomainMismatch {
                                site: crate::error::quoted(site),
                                domain: crate::error::quoted(domain),
                            })
                            .await;
                    }
                    parsed
                }
            },
            (None, Some(domain)) => match Domain::parse(domain) {
                Ok(domain) => Site::of(domain),
                Err(e) => return self.failure_page(InstallFailure::BadSite(e)).await,
            },
        };
        let return_to = match uri.query() {
            Some(q) => format!("{}?{q}", self.onboarding_path()),
            None => self.onboarding_path().to_owned(),
        };
        let account = match self.inner.hooks.identify(headers, &return_to).await {
            Identify::Account(account) => Some(account),
            Identify::Anonymous => None,
            Identify::Redirect(location) => {
                return match self.same_origin(&location) {
                    Some(location) => page::redirect(&location),
                    None => self.failure_page(InstallFailure::ForeignRedirect).await,
                };
            }
        };
        let verifier = PkceVerifier::generate();
        let state = random_token();
        let expires = SystemTime::now() + self.inner.flow_lifetime;
        let flow = FlowState {
            state: state.clone(),
            verifier: verifier.secret().to_owned(),
            site: site.authorize_host(),
            account,
            expires: unix(expires),
            finished: false,
        };
        let name = self.cookie_name(&state);
        let sealed = self.inner.sealer.seal(
            &name,
            &serde_json::to_vec(&flow).expect("the flow state serializes"),
        );
        let authorize = self
            .inner
            .oauth
            .authorize_url(&site, &verifier.challenge(), &state);
        tracing::info!(site = %site, domain = %site.domain(), "install flow started");
        let mut response = page::redirect(authorize.as_str());
        self.set_cookie(&mut response, &name, &sealed, self.inner.flow_lifetime);
        response
    }

    /// `GET <redirect_uri>?code=..&state=..&domain=..`: Datadog's redirect back.
    pub async fn callback(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Response<String> {
        if method == Method::HEAD {
            // Link checkers and previews: answer without touching the flow.
            return page::with_flow_headers(Response::new(String::new()));
        }
        let params = Params::parse(uri.query());
        let state = params.one("state");
        let cookie_name = state.map(|s| self.cookie_name(s));
        let mut opened = None;
        let result = self
            .finish(&params, headers, cookie_name.as_deref(), &mut opened)
            .await;
        // The cookie is cleared only when the flow ended. A callback that never opened it (a
        // crafted link, a wrong domain) must not cancel the person's flow.
        let ended = match &result {
            Ok(_) | Err(Outcome::Replayed(_)) => true,
            Err(Outcome::Failed(failure)) => matches!(
                failure,
                InstallFailure::Denied { .. }
                    | InstallFailure::Datadog { .. }
                    | InstallFailure::Exchange(_)
                    | InstallFailure::Store(_)
                    | InstallFailure::Expired
                    | InstallFailure::Interrupted
            ),
            Err(Outcome::FailedQuietly(_)) => false,
        };
        let expired = matches!(result, Err(Outcome::Failed(InstallFailure::Expired)));
        let mut response = match result {
            Ok(report) => self.success_page(&report),
            Err(Outcome::Replayed(report)) => self.success_page(&report),
            Err(Outcome::Failed(failure)) => self.failure_page(failure).await,
            Err(Outcome::FailedQuietly(failure)) => {
                tracing::info!(error = %failure, "callback refused (no flow of this server's)");
                self.failure_body(&failure)
            }
        };
        // An ended flow's cookie is replaced by its finished form (no verifier) for the rest of
        // the flow's life, as long as the store keeps the flow's outcome: a reload then shows
        // that outcome instead of a stranger's callback.
        if let Some(name) = cookie_name.as_ref().filter(|_| ended && expired) {
            self.set_cookie(&mut response, name, "", Duration::ZERO);
        }
        if let (Some(name), Some(state), Some(expires)) =
            (cookie_name.filter(|_| ended && !expired), state, opened)
        {
            let finished = FlowState {
                state: state.to_owned(),
                verifier: String::new(),
                site: String::new(),
                account: None,
                expires,
                finished: true,
            };
            let sealed = self.inner.sealer.seal(
                &name,
                &serde_json::to_vec(&finished).expect("the flow state serializes"),
            );
            let life = Duration::from_secs(expires.saturating_sub(unix(SystemTime::now())));
            self.set_cookie(&mut response, &name, &sealed, life);
        }
        response
    }

    async fn finish(
        &self,
        params: &Params,
        headers: &HeaderMap,
        cookie_name: Option<&str>,
        opened: &mut Option<u64>,
    ) -> Result<InstallReport, Outcome> {
        // Until the flow cookie opens, nothing shows that this server began the flow: such
        // failures are shown but not reported to the partner's `failed` hook (anyone can load
        // the callback URL with any query).
        if params.too_long {
            return Err(Outcome::FailedQuietly(InstallFailure::BadCallback(
                "the callback's query is too long",
            )));
        }
        if !params.duplicated.is_empty() {
            return Err(Outcome::FailedQuietly(InstallFailure::BadCallback(
                "a parameter is repeated",
            )));
        }
        if let Some(error) = params.one("error") {
            let description = params.one("error_description").map(crate::error::quoted);
            let failure = if error == "access_denied" {
                InstallFailure::Denied { description }
            } else {
                InstallFailure::Datadog {
                    error: crate::error::quoted(error),
                    description,
                }
            };
            // Only the browser whose flow it is (its cookie, its state) ends the flow and
            // reports the failure: anyone can load `?error=access_denied`.
            let flow = match (params.one("state"), cookie_name) {
                (Some(state), Some(name)) => self.open_flow(headers, name, state).ok(),
                _ => None,
            };
            // A reload of a finished flow's error page shows it again, reported once.
            let own = flow.as_ref().is_some_and(|f| !f.finished);
            if let Some(flow) = flow.filter(|f| !f.finished) {
                *opened = Some(flow.expires);
            }
            return Err(if own {
                Outcome::Failed(failure)
            } else {
                Outcome::FailedQuietly(failure)
            });
        }
        let (Some(state), Some(code), Some(cookie_name)) =
            (params.one("state"), params.one("code"), cookie_name)
        else {
            return Err(Outcome::FailedQuietly(InstallFailure::BadCallback(
                "`code` or `state` is missing",
            )));
        };
        let flow = self.open_flow(headers, cookie_name, state)?;
        if flow.finished {
            // A reload, Back/Forward or a second tab of an ended flow: its outcome, as stored.
            return self.replay(&flow_id(state), true).await;
        }
        *opened = Some(flow.expires);
        if unix(SystemTime::now()) > flow.expires {
            return Err(Outcome::Failed(InstallFailure::Expired));
        }
        let site =
            Site::parse(&flow.site).map_err(|_| Outcome::Failed(InstallFailure::ForgedFlow))?;
        let domain = match params.one("domain") {
            None => site.domain(),
            Some(text) => match Domain::parse(text) {
                Ok(d) if d == site.domain() => d,
                _ => {
                    return Err(Outcome::Failed(InstallFailure::DomainMismatch {
                        expected: site.domain(),
                        got: crate::error::quoted(text),
                    }));
                }
            },
        };
        let verifier = PkceVerifier::from_string(flow.verifier)
            .map_err(|_| Outcome::Failed(InstallFailure::ForgedFlow))?;
        let flow_id = flow_id(state);
        let expires_at = UNIX_EPOCH + Duration::from_secs(flow.expires);
        // An exchange is taken from the limit before the flow is claimed, so that a callback
        // turned away can be reloaded later; a replay (the flow was claimed before) gives it
        // back.
        if !self.inner.exchanges.take() {
            tracing::warn!("code exchange limit reached: callback turned away");
            return Err(Outcome::FailedQuietly(InstallFailure::Busy));
        }
        match self
            .inner
            .store
            .claim_flow(&flow_id, expires_at)
            .await
            .map_err(store_failed)?
        {
            FlowClaim::Claimed => {}
            _ => {
                self.inner.exchanges.give_back();
                return self.replay(&flow_id, false).await;
            }
        }
        // The claimed flow is completed in a task of its own: when the browser goes away (a
        // closed tab, a proxy's time-out), the server drops this handler's future, and an API
        // key Datadog had just created, not yet stored, would be lost with it.
        let flow = Claimed {
            flow_id,
            site,
            domain,
            code: code.to_owned(),
            verifier,
            org_hint: params.one("dd_oid").map(bounded),
            org_name: params.one("dd_org_name").map(bounded),
            account: flow.account,
        };
        let this = self.clone();
        match tokio::spawn(async move { this.complete(flow).await }).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(Outcome::Failed(InstallFailure::BadCallback(
                "the server is shutting down; connect again from the integration tile",
            ))),
        }
    }

    /// The flow sealed in this browser's cookie, if it is the flow `state` names.
    fn open_flow(
        &self,
        headers: &HeaderMap,
        cookie_name: &str,
        state: &str,
    ) -> Result<FlowState, Outcome> {
        // Without the cookie nothing is consumed: a preview bot or another browser leaves the
        // flow intact for the real one.
        let sealed = cookie(headers, cookie_name)
            .ok_or(Outcome::FailedQuietly(InstallFailure::NoFlowCookie))?;
        let flow: FlowState = self
            .inner
            .sealer
            .open(cookie_name, &sealed)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(Outcome::FailedQuietly(InstallFailure::ForgedFlow))?;
        if !bool::from(flow.state.as_bytes().ct_eq(state.as_bytes())) {
            return Err(Outcome::FailedQuietly(InstallFailure::ForgedFlow));
        }
        Ok(flow)
    }

    async fn complete(&self, flow: Claimed) -> Result<InstallReport, Outcome> {
        // A stored installation recorded the flow's outcome as soon as it was written (see
        // `install`); a flow that failed before that records its failure here.
        let result = self.install(&flow).await;
        if result.is_err()
            && let Err(e) = self.inner.store.finish_flow(&flow.flow_id, None).await
        {
            tracing::warn!(error = %e, "could not record the end of a flow");
        }
        match result {
            Ok(report) => {
                self.inner.hooks.installed(&report).await;
                Ok(report)
            }
            Err(failure) => Err(Outcome::Failed(failure)),
        }
    }

    async fn install(&self, flow: &Claimed) -> Result<InstallReport, InstallFailure> {
        let Claimed {
            site,
            domain,
            code,
            verifier,
            account,
            ..
        } = flow;
        let domain = *domain;
        let spec = self.inner.spec;
        let oauth = &self.inner.oauth;
        let store = &self.inner.store;
        let grant = oauth
            .exchange_code(domain, code, verifier)
            .await
            .map_err(InstallFailure::Exchange)?;
        let declared = spec.scope_set();
        // No `scope` in the response: Datadog applied the scopes configured on the client.
        let granted = grant.scopes.clone().unwrap_or_else(|| declared.clone());
        let missing_scopes = declared.missing_from(&granted);
        let Some(refresh_token) = grant.refresh_token.clone() else {
            return Err(InstallFailure::Exchange(Error::UnexpectedResponse {
                operation: crate::error::Operation::ExchangeCode,
                status: 200,
                detail: "the token response has no refresh_token".into(),
            }));
        };
        // The org is the one Datadog names for this access token, never the callback's
        // `dd_oid` (the browser can edit it). Only a confirmed org links this installation to
        // the org's earlier one and carries the org's API key over.
        let org_id = self
            .confirmed_org(domain, &grant.access_token, &granted)
            .await;
        if let (Some(confirmed), Some(hint)) = (&org_id, &flow.org_hint)
            && confirmed.as_str() != hint
        {
            tracing::warn!(
                "the callback's dd_oid is not the org Datadog names for the token: ignored"
            );
        }
        let now = SystemTime::now();
        let mut installation = Installation {
            id: InstallationId::generate(),
            org_id,
            org_hint: flow.org_hint.clone(),
            org_name: flow.org_name.clone(),
            site: site.clone(),
            domain,
            granted_scopes: granted.clone(),
            access_token: grant.access_token.clone(),
            access_token_expires_at: grant.expires_at,
            refresh_token,
            api_key: None,
            // The key journal, written with the tokens: a key request follows.
            api_key_requested_at: (spec.creates_api_key()
                && granted.contains(&Scope::API_KEYS_WRITE))
            .then_some(now),
            refresh_started_at: None,
            partner_account: account.clone(),
            status: InstallationStatus::Active,
            // The store links the installation this one replaces, if any.
            previous: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        // The tokens (and the key journal) are durable before anything else can fail, and, in
        // the same write, the flow's outcome is its installation: a reload or a second click
        // waits for its key (the journal shows it is being created), and after a crash finds
        // the installation and the true state of its key rather than a flow that never ends.
        // With a confirmed org, the same write links the org's current installation on this
        // domain, which this one replaces, and returns it.
        let previous = store
            .insert_for_flow(&mut installation, &flow.flow_id)
            .await
            .map_err(InstallFailure::Store)?;
        let api_key = self
            .api_key(&mut installation, previous.as_ref(), &granted)
            .await;
        tracing::info!(
            installation = %installation.id,
            %domain,
            missing_scopes = %missing_scopes,
            "installation stored"
        );
        Ok(InstallReport {
            installation,
            missing_scopes,
            api_key,
        })
    }

    /// The org Datadog names for `access_token`, when the integration declares
    /// `user_access_read` and the customer granted it; else `None` (nothing is linked).
    async fn confirmed_org(
        &self,
        domain: Domain,
        access_token: &crate::secret::AccessToken,
        granted: &ScopeSet,
    ) -> Option<OrgId> {
        if !granted.contains(&Scope::USER_ACCESS_READ) {
            return None;
        }
        match self.inner.oauth.confirmed_org(domain, access_token).await {
            Ok(org) => org,
            Err(e) => {
                tracing::warn!(error = %e, "the token's org could not be read: the installation is linked to no other");
                None
            }
        }
    }

    async fn api_key(
        &self,
        installation: &mut Installation,
        previous: Option<&Installation>,
        granted: &ScopeSet,
    ) -> ApiKeyOutcome {
        // A reinstall: the org's key from before is the one Datadog will not create again. It
        // moves to the new installation unless Datadog says it is invalid: a validation that
        // failed for a passing reason (a time-out, a 5xx) proves nothing, and a key left on
        // the replaced installation could never be reached again.
        if let Some(old) = previous.and_then(|p| p.api_key.clone())
            && self.usable(installation.domain, &old).await
        {
            return self
                .keep_key(installation, old, ApiKeyOutcome::Reused)
                .await;
        }
        if !self.inner.spec.creates_api_key() {
            return ApiKeyOutcome::NotRequested;
        }
        if !granted.contains(&Scope::API_KEYS_WRITE) {
            return ApiKeyOutcome::ScopeNotGranted;
        }
        match self
            .inner
            .oauth
            .create_marketplace_api_key(installation.domain, &installation.access_token)
            .await
        {
            Ok(key) => {
                self.keep_key(installation, key, ApiKeyOutcome::Created)
                    .await
            }
            Err(Error::ApiKeyAlreadyExists) => match self.stored_key(installation).await {
                Some(key) => {
                    self.keep_key(installation, key, ApiKeyOutcome::Reused)
                        .await
                }
                None => {
                    // Datadog created nothing this time: the org's key predates this install.
                    self.clear_key_journal(installation).await;
                    ApiKeyOutcome::AlreadyExists
                }
            },
            Err(e) => {
                if e.may_have_been_processed() {
                    // The key may exist at Datadog with its answer lost: the journal stays, so
                    // the installation says so for good.
                    tracing::error!(installation = %installation.id, error = %e, "the marketplace API key may have been created and lost");
                } else {
                    self.clear_key_journal(installation).await;
                }
                ApiKeyOutcome::Failed(e.to_string())
            }
        }
    }

    /// Clears the key journal after an answer that certainly created no key.
    async fn clear_key_journal(&self, installation: &mut Installation) {
        if installation.api_key_requested_at.is_none() {
            return;
        }
        match self
            .inner
            .store
            .clear_api_key_request(&installation.id)
            .await
        {
            Ok(()) => {
                installation.api_key_requested_at = None;
                installation.version += 1;
            }
            Err(e) => tracing::warn!(error = %e, "could not clear the key journal"),
        }
    }

    /// False only when Datadog answers that the key is invalid.
    async fn usable(&self, domain: Domain, key: &MarketplaceApiKey) -> bool {
        match self.inner.oauth.validate_api_key(domain, &key.key).await {
            Ok(valid) => valid,
            Err(e) => {
                tracing::warn!(error = %e, "the org's API key could not be checked; kept");
                true
            }
        }
    }

    /// After a `409`: the org's key as another installation of the same confirmed org stored it
    /// (an earlier one, or one completing at the same moment in another tab, whose key Datadog
    /// created a moment ago and which stores it shortly). Without a confirmed org, none.
    async fn stored_key(&self, installation: &Installation) -> Option<MarketplaceApiKey> {
        let org = installation.org_id.as_ref()?;
        let deadline = tokio::time::Instant::now() + CONCURRENT_KEY_WAIT;
        loop {
            let rows = match self.inner.store.list_by_org(org).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "could not look for the org's stored API key");
                    return None;
                }
            };
            let others = rows
                .iter()
                .rev()
                .filter(|row| row.id != installation.id && row.domain == installation.domain);
            // Newest first.
            for row in others.clone() {
                if let Some(key) = &row.api_key
                    && self.usable(installation.domain, key).await
                {
                    tracing::info!(from = %row.id, "the org's API key found on another installation");
                    return Some(key.clone());
                }
            }
            // Waiting helps only while another flow of the org may still be storing its key.
            let recent = SystemTime::now()
                .checked_sub(CONCURRENT_FLOW_AGE)
                .unwrap_or(UNIX_EPOCH);
            let pending = others
                .clone()
                .any(|row| row.api_key.is_none() && row.created_at > recent);
            if !pending || tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stores the key, retrying: Datadog will not show it again.
    async fn keep_key(
        &self,
        installation: &mut Installation,
        key: MarketplaceApiKey,
        outcome: ApiKeyOutcome,
    ) -> ApiKeyOutcome {
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=5 {
            match self.inner.store.set_api_key(&installation.id, &key).await {
                Ok(()) => {
                    installation.api_key = Some(key);
                    installation.api_key_requested_at = None;
                    installation.version += 1;
                    return outcome;
                }
                Err(e) => {
                    tracing::error!(installation = %installation.id, attempt, error = %e, "storing the marketplace API key failed");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
        ApiKeyOutcome::Failed(
            "the key was created but could not be stored; the customer must revoke it in Organization Settings > API Keys and connect again".into(),
        )
    }

    /// The outcome of a flow claimed before (`finished`: by a callback that ended, as its
    /// cookie says), waiting for it while it is being completed.
    async fn replay(&self, flow_id: &str, finished: bool) -> Result<InstallReport, Outcome> {
        let store = &self.inner.store;
        let deadline = tokio::time::Instant::now() + REPLAY_WAIT;
        loop {
            match store
                .claim_flow(flow_id, SystemTime::now())
                .await
                .map_err(store_failed)?
            {
                FlowClaim::Installed(id) => {
                    let installation =
                        store
                            .get(&id)
                            .await
                            .map_err(store_failed)?
                            .ok_or(Outcome::Failed(InstallFailure::BadCallback(
                                "the flow's installation is gone",
                            )))?;
                    // Its key is being created (by the first callback): wait for the outcome,
                    // so that nobody is told "connected" before the key is durable.
                    // A journal older than a creation can last is a creation that stopped.
                    let creating = installation.api_key_requested_at.is_some_and(|at| {
                        SystemTime::now()
                            .duration_since(at)
                            .is_ok_and(|age| age < KEY_WINDOW)
                    });
                    // A finished flow's first callback has answered: nothing is under way.
                    if installation.api_key_interrupted()
                        && creating
                        && !finished
                        && tokio::time::Instant::now() < deadline
                    {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    return Err(Outcome::Replayed(Box::new(InstallReport {
                        missing_scopes: self
                            .inner
                            .spec
                            .scope_set()
                            .missing_from(&installation.granted_scopes),
                        api_key: if installation.api_key.is_some() {
                            ApiKeyOutcome::Created
                        } else if installation.api_key_interrupted() {
                            ApiKeyOutcome::Interrupted
                        } else {
                            ApiKeyOutcome::NotRequested
                        },
                        installation,
                    })));
                }
                FlowClaim::Failed => {
                    // Reported when it failed: shown again, not reported again.
                    return Err(Outcome::FailedQuietly(InstallFailure::BadCallback(
                        "this authorization already failed; start again from the tile",
                    )));
                }
                FlowClaim::Claimed if finished => {
                    // The store no longer knows the ended flow (its record was purged): give
                    // the claim just taken back as failed, and say what to do.
                    if let Err(e) = store.finish_flow(flow_id, None).await {
                        tracing::warn!(error = %e, "could not record the end of a flow");
                    }
                    return Err(Outcome::FailedQuietly(InstallFailure::BadCallback(
                        "this connection already ended; if the integration is not connected, start again from the integration tile",
                    )));
                }
                FlowClaim::InProgress | FlowClaim::Claimed
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                _ => {
                    return Err(Outcome::Failed(InstallFailure::Interrupted));
                }
            }
        }
    }

    fn success_page(&self, report: &InstallReport) -> Response<String> {
        let spec = self.inner.spec;
        let installation = &report.installation;
        let org = installation
            .org_name
            .as_deref()
            .map(|n| format!(" <strong>{}</strong>", escape(n)))
            .unwrap_or_default();
        let mut body = format!(
            "<p>{} is connected to your Datadog organization{org} on {}.</p>",
            escape(spec.name),
            escape(installation.domain.name())
        );
        if !report.missing_scopes.is_empty() {
            body.push_str(&format!(
                "<p>Your Datadog administrator did not grant every permission {} asks for (missing: {}). Some features will not work until an administrator allows them and you connect again.</p>",
                escape(spec.name),
                escape(&report.missing_scopes.to_string())
            ));
        }
        match &report.api_key {
            ApiKeyOutcome::AlreadyExists => body.push_str(&format!(
                "<p><strong>Data cannot be sent yet.</strong> Your organization already has an API key for {name} that this connection cannot read. In Datadog, open Organization Settings &gt; API Keys, find the key named after {name} (\"OAuth Client API Key\"), revoke it, then connect again from the integration tile.</p>",
                name = escape(spec.name)
            )),
            ApiKeyOutcome::Failed(reason) => body.push_str(&format!(
                "<p><strong>Data cannot be sent yet:</strong> the API key was not created ({}). Connect again from the integration tile in a few minutes.</p>",
                escape(reason)
            )),
            ApiKeyOutcome::Interrupted => body.push_str(&format!(
                "<p><strong>Data cannot be sent yet.</strong> Creating your organization's API key for {name} was interrupted, and Datadog may have created a key that was not saved. In Datadog, open Organization Settings &gt; API Keys, revoke the key named after {name} (\"OAuth Client API Key\") if there is one, then connect again from the integration tile.</p>",
                name = escape(spec.name)
            )),
            ApiKeyOutcome::ScopeNotGranted => body.push_str(
                "<p><strong>Data cannot be sent:</strong> the permission to create an API key was not granted.</p>",
            ),
            _ => {}
        }
        if !matches!(
            report.api_key,
            ApiKeyOutcome::Created | ApiKeyOutcome::Reused | ApiKeyOutcome::NotRequested
        ) {
            body.push_str(&support_line(spec));
        }
        body.push_str("<p>You may now close this tab.</p>");
        page::html(
            &*self.inner.pages,
            StatusCode::OK,
            &format!("{} is connected", spec.name),
            &body,
        )
    }

    async fn failure_page(&self, failure: InstallFailure) -> Response<String> {
        tracing::warn!(error = %failure, "install flow failed");
        self.inner.hooks.failed(&failure).await;
        self.failure_body(&failure)
    }

    fn failure_body(&self, failure: &InstallFailure) -> Response<String> {
        let spec = self.inner.spec;
        let (status, advice) = match failure {
            InstallFailure::Denied { .. } => (
                StatusCode::OK,
                "The authorization was declined in Datadog, so nothing was connected. To connect, start again from the integration tile and choose Authorize.".to_owned(),
            ),
            InstallFailure::Exchange(e) if e.is_transient() => (
                StatusCode::BAD_GATEWAY,
                "Datadog did not answer in time. Start again from the integration tile in a few minutes.".to_owned(),
            ),
            InstallFailure::Exchange(_) | InstallFailure::Store(_) => (
                StatusCode::BAD_GATEWAY,
                "The connection could not be completed. Start again from the integration tile; if it keeps failing, contact support (below).".to_owned(),
            ),
            InstallFailure::Interrupted => (
                StatusCode::SERVICE_UNAVAILABLE,
                "This connection did not finish: the server stopped while completing it, before anything was saved. Start again from the integration tile in Datadog.".to_owned(),
            ),
            InstallFailure::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many connections are being completed at this moment. Reload this page in a minute to finish connecting.".to_owned(),
            ),
            InstallFailure::NoFlowCookie | InstallFailure::Expired => (
                StatusCode::BAD_REQUEST,
                "This page was opened outside the browser tab that started the connection, or too late. Start again from the integration tile in Datadog.".to_owned(),
            ),
            other => (
                StatusCode::BAD_REQUEST,
                format!("The connection was refused: {other}. Start again from the integration tile in Datadog."),
            ),
        };
        page::html(
            &*self.inner.pages,
            status,
            &format!("{} was not connected", spec.name),
            &format!("<p>{}</p>{}", escape(&advice), support_line(spec)),
        )
    }

    fn cookie_name(&self, state: &str) -> String {
        // One cookie per flow, named by the state's start, so that two flows in two tabs do not
        // overwrite each other and one flow's cookie cannot stand in for another's.
        let tag: String = state
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(16)
            .collect();
        if self.inner.secure_cookie {
            format!("__Host-ddflow-{tag}")
        } else {
            format!("ddflow-{tag}")
        }
    }

    fn set_cookie(&self, response: &mut Response<String>, name: &str, value: &str, life: Duration) {
        let max_age = CookieDuration::seconds(i64::try_from(life.as_secs()).unwrap_or(600));
        // `__Host-` requires Secure, Path=/ and no Domain; on plain-http loopback (development)
        // browsers drop Secure cookies, so the cookie is host-only without the prefix there.
        let cookie = cookie::Cookie::build((name.to_owned(), value.to_owned()))
            .http_only(true)
            .secure(self.inner.secure_cookie)
            .same_site(cookie::SameSite::Lax)
            .path("/")
            .max_age(max_age)
            .build();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }

    /// `location` if it stays on the onboarding URL's origin, as an absolute URL.
    fn same_origin(&self, location: &str) -> Option<String> {
        let joined = self.inner.onboarding.join(location).ok()?;
        (joined.origin() == self.inner.onboarding.origin() && !location.starts_with("//"))
            .then(|| joined.to_string())
    }
}

enum Outcome {
    Replayed(Box<InstallReport>),
    Failed(InstallFailure),
    /// Shown, but not reported to the partner's hook: nothing of the flow was touched.
    FailedQuietly(InstallFailure),
}

/// The partner's support contact, from the declaration, as a paragraph of a page.
fn support_line(spec: &IntegrationSpec) -> String {
    let author = &spec.author;
    if author.support_email.is_empty() {
        return String::new();
    }
    let company = if author.name.is_empty() {
        spec.name
    } else {
        author.name
    };
    format!(
        "<p>Need help? Contact {} support at <a href=\"mailto:{email}\">{email}</a>.</p>",
        escape(company),
        email = escape(author.support_email)
    )
}

fn store_failed(e: crate::store::StoreError) -> Outcome {
    Outcome::Failed(InstallFailure::Store(e))
}

/// The longest callback query read. Datadog's callback carries a handful of short parameters;
/// a longer query is refused whole rather than read in part.
const MAX_QUERY: usize = 8 * 1024;

/// Query parameters, with repeated names noted (a repeated `code` or `state` is refused), every
/// one of them counted: a cap on how many are read would hide a repeat past it.
struct Params {
    pairs: Vec<(String, String)>,
    duplicated: Vec<String>,
    too_long: bool,
}

impl Params {
    fn parse(query: Option<&str>) -> Params {
        let query = query.unwrap_or("");
        if query.len() > MAX_QUERY {
            return Params {
                pairs: Vec::new(),
                duplicated: Vec::new(),
                too_long: true,
            };
        }
        let mut seen = std::collections::HashSet::new();
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut duplicated = Vec::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if seen.insert(k.clone()) {
                pairs.push((k.into_owned(), v.into_owned()));
            } else {
                duplicated.push(k.into_owned());
            }
        }
        Params {
            pairs,
            duplicated,
            too_long: false,
        }
    }

    fn one(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn random_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The store's key for a flow: a hash of the state, so the store holds nothing a callback
/// could be forged from.
fn flow_id(state: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(state.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Untrusted text kept in a record: no control characters, at most 256 characters.
fn bounded(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(256).collect()
}
impl<I: DatadogIntegration> Installer<I> {
    /// The API client of a stored installation, with the lifecycle's tokens and this
    /// installer's connection pool: an [`ApiClient`](crate::client::ApiClient) of the installer's integration, so that
    /// only the operations its declared scopes allow compile.
    pub fn api(&self, installation: &Installation) -> crate::client::ApiClient<I> {
        crate::client::ApiClient::new(
            self.oauth().http(),
            installation,
            Arc::new(self.tokens().installation(&installation.id)),
        )
        .with_store(Arc::clone(self.store()))
    }

    /// The intake of a stored installation in `telemetry` (the process's one
    /// [`Telemetry`](crate::telemetry::Telemetry)), for the installer's integration: only the
    /// kinds of data and the metrics it declares compile. See
    /// [`Telemetry::installation`](crate::telemetry::Telemetry::installation) for the errors.
    ///
    /// # Errors
    /// As `Telemetry::installation`.
    pub fn intake(
        &self,
        telemetry: &crate::telemetry::Telemetry,
        installation: &Installation,
    ) -> Result<crate::telemetry::Intake<I>, crate::telemetry::TelemetryError> {
        telemetry.installation::<I>(installation)
    }
}
