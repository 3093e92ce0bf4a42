//! Set-up shared by the token-lifecycle tests and their worker processes: one integration, a
//! Datadog sandbox, installers configured alike in every process (one OAuth client, one sealing
//! key), and installs driven through the SDK's own handlers without a web server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::integration::AcmePager;
use async_trait::async_trait;
use dd_integration::install::InstallerBuilder;
use dd_integration::installation::InstallationStatus;
use dd_integration::installation::MarketplaceApiKey;
use dd_integration::installation::Revocation;
use dd_integration::store::{FlowClaim, TokenUpdate};
use dd_integration::testkit::{ClientSpec, OrgSpec, Sandbox, SandboxClient, SandboxOrg};
use dd_integration::tokens::TokenSettings;
use dd_integration::{
    ClientSecret, DatadogIntegration, Domain, Endpoints, Hooks, HttpConfig, Installation,
    InstallationId, InstallationStore, Installer, IntegrationSpec, OrgId, Sealer, SealingKey,
    StoreError,
};
use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, Uri};
use url::Url;

/// The integration under test: reads monitors, sends events (so it creates the API key); the
/// one declared with the macro in `crate::integration`.
pub const SPEC: &IntegrationSpec = <AcmePager as DatadogIntegration>::SPEC;

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
        hooks: impl Hooks,
        settings: TokenSettings,
        configure: impl FnOnce(InstallerBuilder<AcmePager>) -> InstallerBuilder<AcmePager>,
    ) -> Installer<AcmePager> {
        let key = SealingKey::from_base64("test", &self.sealing_key).expect("a sealing key");
        let builder = Installer::<AcmePager>::builder()
            .client(
                self.client_id.clone(),
                ClientSecret::new(self.client_secret.clone()),
            )
            .sealer(Sealer::new(key))
            .redirect_uri(REDIRECT)
            .onboarding_url(ONBOARDING)
            .endpoints(Endpoints::override_base(&self.sandbox).expect("a loopback sandbox"))
            .store(store)
            .hooks(Arc::new(hooks))
            .token_settings(settings)
            // The labs install hundreds of orgs in seconds, far past the default limit a
            // partner's replica puts on code exchanges.
            .exchange_limit(10_000, 100_000);
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
                .scopes(["monitors_read", "api_keys_write", "user_access_read"]),
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
        hooks: impl Hooks,
        settings: TokenSettings,
    ) -> Installer<AcmePager> {
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
    pub async fn install(
        &self,
        installer: &Installer<AcmePager>,
        org: &SandboxOrg,
    ) -> Installation {
        install(installer, &self.sandbox, org).await
    }

    /// `n` orgs on every region in turn, installed `installer`, 10 at a time.
    ///
    /// # Panics
    /// If an install does not succeed.
    pub async fn install_many(
        &self,
        installer: &Installer<AcmePager>,
        n: usize,
    ) -> Vec<Installation> {
        let mut installed = Vec::with_capacity(n);
        let orgs: Vec<SandboxOrg> = (0..n)
            .map(|i| self.org(&format!("Org {i}"), Domain::ALL[i % Domain::ALL.len()]))
            .collect();
        for batch in orgs.chunks(10) {
            let mut tasks = tokio::task::JoinSet::new();
            for org in batch {
                let (installer, sandbox, org) =
                    (installer.clone(), self.sandbox.clone(), org.clone());
                tasks.spawn(async move { install(&installer, &sandbox, &org).await });
            }
            while let Some(done) = tasks.join_next().await {
                installed.push(done.expect("an install panicked"));
            }
        }
        installed
    }

    /// A sealer with the key every process of the test shares.
    pub fn sealer(&self) -> Sealer {
        Sealer::new(
            SealingKey::from_base64("test", &self.config.sealing_key).expect("a sealing key"),
        )
    }
}

/// Installs the integration in `org` through `installer`'s handlers, as the tile and a browser
/// would. Returns the stored installation.
///
/// # Panics
/// If the install does not succeed.
pub async fn install<I: DatadogIntegration>(
    installer: &Installer<I>,
    sandbox: &Sandbox,
    org: &SandboxOrg,
) -> Installation {
    let flow = start_flow(installer, sandbox, &onboarding_url(org)).await;
    let page = flow.finish(installer).await;
    assert_eq!(page.status(), 200, "{}", page.body());
    // The newest installation the browser named the org for (`find_by_org` finds confirmed
    // orgs only, and a narrowed grant may lack `user_access_read`).
    installer
        .store()
        .list()
        .await
        .expect("the store answers")
        .into_iter()
        .rev()
        .find(|i| i.org_hint.as_deref() == Some(org.id.as_str()))
        .expect("the installation is stored")
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
    pub async fn finish<I: DatadogIntegration>(
        &self,
        installer: &Installer<I>,
    ) -> http::Response<String> {
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
pub async fn start_flow<I: DatadogIntegration>(
    installer: &Installer<I>,
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
    token: &dd_integration::secret::AccessToken,
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
pub struct Recorder(Arc<Mutex<Vec<(InstallationId, Revocation)>>>);

impl Recorder {
    /// The `revoked` calls so far: installation and why.
    pub fn revoked(&self) -> Vec<(InstallationId, Revocation)> {
        self.0.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl Hooks for Recorder {
    async fn revoked(&self, installation: &Installation, revocation: &Revocation) {
        self.0
            .lock()
            .expect("not poisoned")
            .push((installation.id.clone(), revocation.clone()));
    }
}

/// The HTTP limits of tests that provoke time-outs.
pub fn short_timeouts() -> HttpConfig {
    HttpConfig::default().timeout(Duration::from_millis(400))
}

/// A short, stable fingerprint of a token, to compare tokens across processes without printing
/// them. (`DefaultHasher::new` has fixed keys, so every process computes the same.)
pub fn fingerprint(token: &dd_integration::secret::AccessToken) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::hash::DefaultHasher::new();
    token.expose_secret().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// A worker process (`src/bin/lifecycle_worker.rs`) and its stdout, line by line. Killed if
/// dropped, so a failing test leaves no process behind.
pub struct Worker {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl Worker {
    /// Starts `exe` (the test's `env!("CARGO_BIN_EXE_lifecycle_worker")`) with `config` and
    /// `vars` in its environment.
    ///
    /// # Panics
    /// If it cannot be started.
    pub fn spawn(exe: &str, config: &Config, vars: &[(&str, String)]) -> Worker {
        use std::process::Stdio;
        let mut child = tokio::process::Command::new(exe)
            .envs(config.env())
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the worker starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        Worker {
            child,
            stdin,
            lines: tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout)),
        }
    }

    /// The next line the worker prints.
    ///
    /// # Panics
    /// After 60 s, or if the worker exits first.
    pub async fn line(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("the worker answers within 60 s")
            .expect("the worker's stdout reads")
            .expect("the worker printed a line before exiting")
    }

    /// Writes a line to the worker's stdin.
    ///
    /// # Panics
    /// If the worker's stdin is closed.
    pub async fn send(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt as _;
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("the worker reads stdin");
        stdin.flush().await.expect("the worker reads stdin");
    }

    /// SIGKILL, then reap.
    ///
    /// # Panics
    /// If the process cannot be killed.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    /// Waits for the worker to exit on its own.
    ///
    /// # Panics
    /// If it fails.
    pub async fn finish(mut self) {
        drop(self.stdin.take());
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("the worker exits")
            .expect("the worker is reaped");
        assert!(status.success(), "the worker failed: {status}");
    }
}

/// Runs one worker to its first line and its exit: what it printed.
///
/// # Panics
/// If it fails.
pub async fn run_worker(exe: &str, config: &Config, vars: &[(&str, String)]) -> String {
    let mut worker = Worker::spawn(exe, config, vars);
    let line = worker.line().await;
    worker.finish().await;
    line
}

/// Installations in a refresh storm.
pub const STORM_INSTALLATIONS: usize = 100;
/// Concurrent callers in each process of a refresh storm.
pub const STORM_CALLERS: usize = 250;

/// The refresh storm: installs [`STORM_INSTALLATIONS`] installations whose tokens are inside the
/// leeway, starts `processes` workers (`exe`) on the store `spec` (the same store as `store`),
/// lets [`STORM_CALLERS`] callers per process ask for every installation's token at once, and
/// checks that exactly one refresh per installation reached Datadog, that no caller saw an
/// error, and that no installation was lost. Returns the storm's wall time, from the go signal
/// to the last report.
///
/// # Panics
/// When any of that does not hold.
pub async fn refresh_storm(
    exe: &str,
    lab: &Lab,
    store: Arc<dyn InstallationStore>,
    spec: &str,
    processes: usize,
) -> Duration {
    use std::collections::{BTreeSet, HashMap};

    use dd_integration::hooks::NoHooks;
    use dd_integration::testkit::{Route, TokenState};

    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    // Installed with one-minute tokens: inside the five-minute leeway, so every one of them needs
    // a refresh now. The refreshes then get Datadog's hour.
    lab.sandbox.set_access_token_ttl(Duration::from_secs(60));
    let installations = lab.install_many(&installer, STORM_INSTALLATIONS).await;
    lab.sandbox.set_access_token_ttl(Duration::from_secs(3600));
    let ids: Vec<String> = installations.iter().map(|i| i.id.to_string()).collect();
    let before = lab.sandbox.calls(Route::Token);

    let vars = [
        ("DD_TEST_STORE", spec.to_owned()),
        ("DD_TEST_MODE", "storm".to_owned()),
        ("DD_TEST_IDS", ids.join(",")),
        ("DD_TEST_CALLERS", STORM_CALLERS.to_string()),
    ];
    let mut workers: Vec<Worker> = (0..processes)
        .map(|_| Worker::spawn(exe, &lab.config, &vars))
        .collect();
    for worker in &mut workers {
        assert_eq!(worker.line().await, "READY");
    }
    let started = Instant::now();
    for worker in &mut workers {
        worker.send("go").await;
    }
    let mut reports = Vec::new();
    for worker in &mut workers {
        let line = worker.line().await;
        reports.push(serde_json::from_str::<serde_json::Value>(&line).expect("a JSON report"));
    }
    let wall = started.elapsed();
    for worker in workers {
        worker.finish().await;
    }

    assert_eq!(
        lab.sandbox.calls(Route::Token) - before,
        STORM_INSTALLATIONS,
        "exactly one refresh per installation reached Datadog"
    );
    let mut seen: HashMap<String, BTreeSet<String>> = HashMap::new();
    for report in &reports {
        assert_eq!(
            report["errors"],
            serde_json::json!([]),
            "no caller saw an error"
        );
        assert_eq!(report["calls"], STORM_CALLERS * STORM_INSTALLATIONS);
        for (id, prints) in report["seen"].as_object().expect("seen") {
            let prints = prints.as_array().expect("fingerprints");
            seen.entry(id.clone())
                .or_default()
                .extend(prints.iter().filter_map(|p| p.as_str().map(str::to_owned)));
        }
    }
    for installation in &installations {
        let now = store
            .get(&installation.id)
            .await
            .expect("the store answers")
            .expect("no installation is lost");
        assert!(now.is_active(), "{:?}", now.status);
        assert!(!now.refresh_interrupted());
        assert_ne!(
            now.refresh_token, installation.refresh_token,
            "rotated once"
        );
        assert_eq!(
            lab.sandbox
                .refresh_token_state(now.refresh_token.expose_secret()),
            Some(TokenState::Active)
        );
        assert_eq!(
            seen[installation.id.as_str()],
            BTreeSet::from([fingerprint(&now.access_token)]),
            "every caller in every process got the one stored token"
        );
        assert_eq!(
            call_api(&lab.sandbox, now.domain, &now.access_token).await,
            200
        );
    }
    eprintln!(
        "refresh storm ({kind}): {processes} processes x {STORM_CALLERS} callers x \
         {STORM_INSTALLATIONS} installations, wall time {wall:?}",
        kind = spec.split(':').next().unwrap_or(spec)
    );
    wall
}

// ---------------------------------------------------------------------------------------------
// A store decorator for tests

/// A store call, as a [`StoreTap`] sees it.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreCall<'a> {
    /// `insert`.
    Insert,
    /// `get`.
    Get,
    /// `update_tokens`; `journal`: the durable mark written before a refresh token is spent
    /// (`refresh_started_at` set), not a refresh's result.
    UpdateTokens {
        /// The update.
        tokens: &'a TokenUpdate,
        /// Whether it is the journal mark.
        journal: bool,
    },
    /// `claim_flow`; `claimed` (seen only after the call): the flow was claimed by this call.
    ClaimFlow {
        /// Whether this call claimed the flow.
        claimed: bool,
    },
    /// Any other method, by name.
    Other(&'static str),
}

/// What a test adds around a store's calls: [`Tapped`] calls `before` and `after` around every
/// method of the store it wraps. Every method has a default that does nothing.
#[async_trait]
pub trait StoreTap: Send + Sync + 'static {
    /// Before the call reaches the store.
    async fn before(&self, _call: &StoreCall<'_>) {}
    /// After the store answered `Ok` (for `claim_flow`, with `claimed` filled in).
    async fn after(&self, _call: &StoreCall<'_>) {}
    /// `Some(granted)` answers `acquire_refresh_lease` without asking the store.
    fn lease(&self) -> Option<bool> {
        None
    }
    /// How long the store took to answer `method` (`Ok` or not), the tap's own hooks excluded.
    fn timed(&self, _method: &'static str, _elapsed: Duration) {}
}

/// `inner`, with `tap` around every call: the one store decorator of the lifecycle tests and
/// their worker processes (the SDK carries no test hook).
pub struct Tapped<T> {
    /// The store called.
    pub inner: Arc<dyn InstallationStore>,
    /// What runs around each call.
    pub tap: T,
}

impl<T: StoreTap> Tapped<T> {
    async fn around<R>(
        &self,
        method: &'static str,
        call: StoreCall<'_>,
        run: impl Future<Output = Result<R, StoreError>> + Send,
    ) -> Result<R, StoreError> {
        self.tap.before(&call).await;
        let out = self.time(method, run).await?;
        self.tap.after(&call).await;
        Ok(out)
    }

    async fn time<R>(&self, method: &'static str, run: impl Future<Output = R> + Send) -> R {
        let started = Instant::now();
        let out = run.await;
        self.tap.timed(method, started.elapsed());
        out
    }
}

#[async_trait]
impl<T: StoreTap> InstallationStore for Tapped<T> {
    async fn insert(&self, installation: &Installation) -> Result<(), StoreError> {
        self.around("insert", StoreCall::Insert, self.inner.insert(installation))
            .await
    }
    async fn insert_for_flow(
        &self,
        installation: &mut Installation,
        flow_id: &str,
    ) -> Result<Option<Installation>, StoreError> {
        // The one write that stores the installation (its flow's outcome with it).
        self.around(
            "insert_for_flow",
            StoreCall::Insert,
            self.inner.insert_for_flow(installation, flow_id),
        )
        .await
    }
    async fn get(&self, id: &InstallationId) -> Result<Option<Installation>, StoreError> {
        self.around("get", StoreCall::Get, self.inner.get(id)).await
    }
    async fn find_by_org(&self, org: &OrgId) -> Result<Option<Installation>, StoreError> {
        self.around(
            "find_by_org",
            StoreCall::Other("find_by_org"),
            self.inner.find_by_org(org),
        )
        .await
    }
    async fn list(&self) -> Result<Vec<Installation>, StoreError> {
        self.around("list", StoreCall::Other("list"), self.inner.list())
            .await
    }
    async fn set_api_key(
        &self,
        id: &InstallationId,
        key: &MarketplaceApiKey,
    ) -> Result<(), StoreError> {
        self.around(
            "set_api_key",
            StoreCall::Other("set_api_key"),
            self.inner.set_api_key(id, key),
        )
        .await
    }
    async fn clear_api_key_request(&self, id: &InstallationId) -> Result<(), StoreError> {
        self.around(
            "clear_api_key_request",
            StoreCall::Other("clear_api_key_request"),
            self.inner.clear_api_key_request(id),
        )
        .await
    }
    async fn update_tokens(
        &self,
        id: &InstallationId,
        version: u64,
        tokens: &TokenUpdate,
    ) -> Result<u64, StoreError> {
        let journal = tokens.refresh_started_at.is_some();
        self.around(
            "update_tokens",
            StoreCall::UpdateTokens { tokens, journal },
            self.inner.update_tokens(id, version, tokens),
        )
        .await
    }
    async fn acquire_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
        until: SystemTime,
    ) -> Result<bool, StoreError> {
        if let Some(granted) = self.tap.lease() {
            return Ok(granted);
        }
        self.around(
            "acquire_refresh_lease",
            StoreCall::Other("acquire_refresh_lease"),
            self.inner.acquire_refresh_lease(id, holder, until),
        )
        .await
    }
    async fn release_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
    ) -> Result<(), StoreError> {
        self.around(
            "release_refresh_lease",
            StoreCall::Other("release_refresh_lease"),
            self.inner.release_refresh_lease(id, holder),
        )
        .await
    }
    async fn set_status(
        &self,
        id: &InstallationId,
        status: &InstallationStatus,
    ) -> Result<(), StoreError> {
        self.around(
            "set_status",
            StoreCall::Other("set_status"),
            self.inner.set_status(id, status),
        )
        .await
    }
    async fn delete(&self, id: &InstallationId) -> Result<bool, StoreError> {
        self.around("delete", StoreCall::Other("delete"), self.inner.delete(id))
            .await
    }
    async fn claim_flow(
        &self,
        flow_id: &str,
        expires_at: SystemTime,
    ) -> Result<FlowClaim, StoreError> {
        self.tap
            .before(&StoreCall::ClaimFlow { claimed: false })
            .await;
        let claim = self
            .time("claim_flow", self.inner.claim_flow(flow_id, expires_at))
            .await?;
        let claimed = claim == FlowClaim::Claimed;
        self.tap.after(&StoreCall::ClaimFlow { claimed }).await;
        Ok(claim)
    }
    async fn finish_flow(
        &self,
        flow_id: &str,
        installed: Option<&InstallationId>,
    ) -> Result<(), StoreError> {
        self.around(
            "finish_flow",
            StoreCall::Other("finish_flow"),
            self.inner.finish_flow(flow_id, installed),
        )
        .await
    }
}
