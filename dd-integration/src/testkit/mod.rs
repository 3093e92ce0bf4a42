//! The Datadog sandbox: a fake Datadog on loopback, faithful to Datadog's documented behaviour,
//! for testing an integration end to end without a Datadog account.
//!
//! **Testing a partner's integration end to end takes one call**:
//! `TestIntegration::<MyIntegration>::start().await` starts the sandbox, registers an OAuth
//! client with the declared scopes and a loopback redirect URI, builds the installer on it and
//! serves the install flow; `world.install("Customer", Domain::Eu1).await` then completes
//! Datadog's Test Authorization for a new org and returns the stored installation. See
//! [`TestIntegration`]. Add it with one dev-dependency line:
//! `dd-integration = { version = "...", features = ["testkit"] }`.
//!
//! [`Sandbox::start`] runs a real HTTP server on `127.0.0.1` on a random port. Point the SDK at
//! it with [`Sandbox::endpoints`]: a request meant for `https://<datadog host><path>` then
//! arrives as `<base>/<datadog host><path>`, and the sandbox checks the host as Datadog's DNS and
//! TLS would. A token request sent to a vanity subdomain (`acme.datadoghq.com`), which fails TLS
//! in reality, gets `421 Misdirected Request` here.
//!
//! Served, per region (`<domain>` is e.g. `datadoghq.eu`):
//!
//! | route | host |
//! |---|---|
//! | `GET /oauth2/v1/authorize` | the region's UI host, or a registered org's vanity subdomain |
//! | `POST /oauth2/v1/token`, `POST /oauth2/v1/revoke` | `api.<domain>` |
//! | `POST /api/v2/api_keys/marketplace`, `GET /api/v1/validate`, `GET /api/v1/monitor` | `api.<domain>` |
//! | `POST /api/v2/series`, `POST /api/v1/events`, `POST /api/v1/check_run` | `api.<domain>` |
//! | `POST /api/v2/logs` | `http-intake.logs.<domain>` |
//! | every other operation of Datadog's API that accepts an OAuth token ([`crate::api::ALL_OPERATIONS`]): token, region, scope and application-key checks, then an echo of the request | `api.<domain>` |
//!
//! The intake endpoints enforce Datadog's documented limits (sizes, entry counts, encodings)
//! with Datadog's status codes, and accept but drop what falls outside Datadog's time windows:
//! metric points over 10 minutes ahead or an hour behind ([`Received::dropped_points`]), log
//! entries over 18 hours old or 2 hours ahead, events over 18 hours old and service checks over
//! 10 minutes old
//! ([`Received::dropped_entries`]).
//!
//! ```
//! use dd_integration::Domain;
//! use dd_integration::testkit::{ClientSpec, OrgSpec, Route, Sandbox};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let sandbox = Sandbox::start().await;
//! let org = sandbox.add_org(OrgSpec::new("Acme", Domain::Eu1));
//! let client = sandbox.add_client(
//!     ClientSpec::new("Acme Pager")
//!         .redirect_uri("https://pager.example/oauth/callback")
//!         .scopes(["monitors_read", "api_keys_write"]),
//! );
//! // Configure the SDK with `sandbox.endpoints()`; it then builds authorize URLs like this one.
//! let mut authorize = sandbox
//!     .endpoints()
//!     .url(&org.site.authorize_host(), "/oauth2/v1/authorize");
//! authorize
//!     .query_pairs_mut()
//!     .append_pair("redirect_uri", "https://pager.example/oauth/callback")
//!     .append_pair("client_id", &client.client_id)
//!     .append_pair("response_type", "code")
//!     .append_pair("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
//!     .append_pair("code_challenge_method", "S256")
//!     .append_pair("state", "af0ifjsldkj");
//! // The user's browser goes there and comes back to the callback:
//! let callback = sandbox.authorize(&authorize).await.unwrap();
//! assert!(callback.query_pairs().any(|(k, _)| k == "code"));
//! assert!(callback.query_pairs().any(|(k, v)| k == "dd_oid" && v == org.id.as_str()));
//! assert_eq!(sandbox.calls(Route::Authorize), 1);
//! // ... the SDK exchanges the code, creates the key; then the test asserts on Datadog's side:
//! assert_eq!(sandbox.api_key(&org.id, &client.client_id), None);
//! # }
//! ```
//!
//! Where Datadog's behaviour is undocumented, the sandbox takes the stricter reading, so that
//! code passing here passes against Datadog: an authorization code is spent by any exchange
//! attempt, refresh-token rotation can be made strict ([`Sandbox::set_strict_rotation`]), and
//! only `client_secret_post` authenticates a client.

mod api;
mod browser;
mod clock;
mod faults;
mod harness;
mod ids;
mod intake;
mod oauth;
mod server;
mod state;
#[cfg(feature = "proptest")]
pub mod strategies;

#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

pub use browser::{AuthorizeError, TestAuthorization};
pub use faults::{Fault, Route};
pub use harness::TestIntegration;
pub use intake::{
    CHECK_MAX_AGE_SECS, DroppedPoint, EVENT_MAX_AGE_SECS, EVENT_TEXT_MAX_CHARS, IntakeTally,
    LOG_MAX_AGE_SECS, LOG_MAX_AHEAD_SECS, LOG_MESSAGE_MAX_BYTES, LOGS_MAX_BYTES, LOGS_MAX_ENTRIES,
    Received, SERIES_DECOMPRESSED_LIMIT, SERIES_MAX_WIRE_BYTES,
};
pub use oauth::SESSION_COOKIE;
pub use state::{ClientSpec, Consent, OrgSpec, SandboxClient, SandboxOrg, TokenState};

use crate::endpoint::Endpoints;
use state::{Settings, Shared};

/// A running Datadog sandbox. Cheap to clone; the server stops when the last clone is dropped,
/// or at [`Sandbox::shutdown`].
#[derive(Clone)]
pub struct Sandbox {
    handle: Arc<Handle>,
}

/// The one owner of the server task: dropping it stops the server.
struct Handle {
    shared: Arc<Shared>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.get_mut().ok().and_then(Option::take) {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.handle.shared.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Settings for a sandbox before it starts; see [`Sandbox::builder`].
#[derive(Default)]
#[must_use]
pub struct SandboxBuilder {
    settings: Settings,
}

impl std::fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("consent", &self.settings.consent)
            .field("strict_rotation", &self.settings.strict_rotation)
            .field("code_ttl", &self.settings.code_ttl)
            .field("access_token_ttl", &self.settings.access_token_ttl)
            .field("keep_payloads", &self.settings.keep_payloads)
            .finish()
    }
}

impl SandboxBuilder {
    /// How the user answers the authorize page (default [`Consent::Auto`]).
    pub fn consent(mut self, consent: Consent) -> SandboxBuilder {
        self.settings.consent = consent;
        self
    }

    /// Strict refresh-token rotation: a used refresh token dies at once (default: lenient, the
    /// previous token works until its replacement is used).
    pub fn strict_rotation(mut self, strict: bool) -> SandboxBuilder {
        self.settings.strict_rotation = strict;
        self
    }

    /// How long an authorization code can be exchanged (default 10 minutes).
    pub fn code_ttl(mut self, ttl: Duration) -> SandboxBuilder {
        self.settings.code_ttl = ttl;
        self
    }

    /// How long an access token lives (default 1 hour, Datadog's `expires_in: 3600`).
    pub fn access_token_ttl(mut self, ttl: Duration) -> SandboxBuilder {
        self.settings.access_token_ttl = ttl;
        self
    }

    /// Whether the intake keeps every accepted payload for [`Sandbox::received_series`] and
    /// the like (default `true`). With `false` it still authenticates, decodes and validates
    /// each payload as Datadog does and counts it in [`Sandbox::intake_tally`], but drops the
    /// body: for long runs, where millions of points would otherwise be held in memory.
    pub fn keep_payloads(mut self, keep: bool) -> SandboxBuilder {
        self.settings.keep_payloads = keep;
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    ///
    /// # Panics
    /// Outside a Tokio runtime, or if no loopback port can be bound.
    pub async fn start(self) -> Sandbox {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("the Datadog sandbox could not bind a port on 127.0.0.1");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let base = Url::parse(&format!("http://{addr}")).expect("a socket address makes a URL");
        let shared = Arc::new(Shared::new(self.settings, base));
        let app = server::router(Arc::clone(&shared));
        let counted = Arc::clone(&shared);
        let listener = axum::serve::ListenerExt::tap_io(listener, move |_| {
            counted
                .connections
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "the Datadog sandbox server failed");
            }
        });
        tracing::info!(base = %shared.base, "Datadog sandbox started");
        Sandbox {
            handle: Arc::new(Handle {
                shared,
                stop: Mutex::new(Some(stop)),
                task: Mutex::new(Some(task)),
            }),
        }
    }
}

impl Sandbox {
    /// Starts a sandbox with the default settings (see [`SandboxBuilder`]).
    ///
    /// # Panics
    /// Outside a Tokio runtime, or if no loopback port can be bound.
    pub async fn start() -> Sandbox {
        SandboxBuilder::default().start().await
    }

    /// A builder, to start a sandbox with other settings.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// Stops the server for every clone of this handle and waits for it to finish (at most a
    /// few seconds; in-flight requests complete).
    pub async fn shutdown(&self) {
        let stop = self.handle.stop.lock().ok().and_then(|mut s| s.take());
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        let task = self.handle.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    /// The sandbox's base URL, `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> Url {
        self.shared().base.clone()
    }

    /// The endpoint override that sends the SDK's Datadog traffic to this sandbox.
    pub fn endpoints(&self) -> Endpoints {
        Endpoints::override_base(self.shared().base.as_str())
            .expect("a loopback http URL is a valid override")
    }

    // -- orgs and clients ---------------------------------------------------------------------

    /// Adds an organization. The first org added on a region is the one a user is "logged in"
    /// to on the region's standard UI host (unless the authorize URL names another with
    /// `dd_oid`); an org with a vanity subdomain is always the one on that subdomain.
    ///
    /// # Panics
    /// If the vanity label is not a valid DNS label or is already taken on that region.
    pub fn add_org(&self, spec: OrgSpec) -> SandboxOrg {
        let org = self.shared().lock().add_org(spec);
        tracing::info!(org_id = %org.id, domain = %org.domain, "sandbox: org added");
        org
    }

    /// Registers an OAuth client (published unless [`ClientSpec::unpublished`]).
    ///
    /// # Panics
    /// If a redirect URI is not an absolute URL.
    pub fn add_client(&self, spec: ClientSpec) -> SandboxClient {
        let client = self.shared().lock().add_client(spec);
        tracing::info!(client_id = %client.client_id, "sandbox: client added");
        client
    }

    /// Adds a monitor (any JSON) to what `GET /api/v1/monitor` lists for the org.
    pub fn add_monitor(&self, org_id: &str, monitor: serde_json::Value) {
        self.shared()
            .lock()
            .monitors
            .push((org_id.to_owned(), monitor));
    }

    // -- settings -----------------------------------------------------------------------------

    /// How the user answers the authorize page from now on.
    pub fn set_consent(&self, consent: Consent) {
        self.shared().lock().settings.consent = consent;
    }

    /// Strict (a used refresh token dies at once) or lenient (it works until its replacement is
    /// used) refresh-token rotation.
    pub fn set_strict_rotation(&self, strict: bool) {
        self.shared().lock().settings.strict_rotation = strict;
    }

    /// How long authorization codes can be exchanged (applies to codes already issued too).
    pub fn set_code_ttl(&self, ttl: Duration) {
        self.shared().lock().settings.code_ttl = ttl;
    }

    /// How long access tokens issued from now on live.
    pub fn set_access_token_ttl(&self, ttl: Duration) {
        self.shared().lock().settings.access_token_ttl = ttl;
    }

    // -- clock --------------------------------------------------------------------------------

    /// The sandbox's time: real time plus everything [`Sandbox::advance`] added.
    pub fn now(&self) -> SystemTime {
        self.shared().lock().now()
    }

    /// Moves the sandbox clock forward (codes and access tokens expire, the metric time window
    /// moves).
    pub fn advance(&self, by: Duration) {
        self.shared().lock().clock.advance(by);
    }

    // -- faults -------------------------------------------------------------------------------

    /// Queues a fault on a route. Faults on one route apply in the order injected.
    pub fn inject(&self, route: Route, fault: Fault) {
        tracing::info!(route = ?route, fault = ?fault, "sandbox: fault injected");
        self.shared().lock().faults.inject(route, fault);
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        self.shared().lock().faults.clear();
    }

    // -- inspection ---------------------------------------------------------------------------

    /// How many requests reached `route` on a host that serves it, whatever their outcome
    /// (refused, faulted or successful). Requests answered `421` are not counted.
    pub fn calls(&self, route: Route) -> usize {
        self.shared().lock().calls.get(&route).copied().unwrap_or(0)
    }

    /// The TCP connections clients opened to the sandbox so far, every host and route
    /// together: how well a client reuses its connections.
    pub fn connections(&self) -> usize {
        self.shared()
            .connections
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The most requests of `route` the sandbox was handling at once so far (injected latency
    /// included), counted like [`Sandbox::calls`].
    pub fn peak_concurrency(&self, route: Route) -> usize {
        self.shared().lock().peak.get(&route).copied().unwrap_or(0)
    }

    fn received(&self, route: Route) -> Vec<Received> {
        self.shared()
            .lock()
            .received
            .get(&route)
            .cloned()
            .unwrap_or_default()
    }

    /// What `org_id` sent to the intake `route` ([`Route::Series`], [`Route::Logs`],
    /// [`Route::Events`], [`Route::CheckRun`]) and was accepted, in total; counted whether or
    /// not payloads are kept.
    pub fn intake_tally(&self, route: Route, org_id: &str) -> IntakeTally {
        self.shared()
            .lock()
            .tallies
            .get(&(route, org_id.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    /// The metric payloads accepted (`202`) so far, oldest first.
    pub fn received_series(&self) -> Vec<Received> {
        self.received(Route::Series)
    }

    /// The log payloads accepted (`202`) so far, oldest first.
    pub fn received_logs(&self) -> Vec<Received> {
        self.received(Route::Logs)
    }

    /// The events accepted (`202`) so far, oldest first.
    pub fn received_events(&self) -> Vec<Received> {
        self.received(Route::Events)
    }

    /// The service-check payloads accepted (`202`) so far, oldest first.
    pub fn received_check_runs(&self) -> Vec<Received> {
        self.received(Route::CheckRun)
    }

    /// The marketplace API key Datadog holds for this org and client, if one exists.
    pub fn api_key(&self, org_id: &str, client_id: &str) -> Option<String> {
        self.shared()
            .lock()
            .api_keys
            .of(org_id, client_id)
            .map(str::to_owned)
    }

    /// The customer uninstalled the integration: every grant of the org is revoked (all its
    /// access and refresh tokens stop working). The marketplace API key is **not** deleted, as
    /// with Datadog.
    pub fn revoke_grants(&self, org_id: &str) {
        let mut st = self.shared().lock();
        let ids: Vec<usize> = st
            .grants
            .iter()
            .enumerate()
            .filter(|(_, g)| g.org_id == org_id)
            .map(|(i, _)| i)
            .collect();
        for id in ids {
            st.revoke_grant(id);
        }
        tracing::info!(org_id, "sandbox: grants revoked");
    }

    /// The customer revoked the marketplace API key by hand (Organization Settings → API Keys).
    /// Returns whether there was one.
    pub fn delete_api_key(&self, org_id: &str, client_id: &str) -> bool {
        let mut st = self.shared().lock();
        let deleted = st.api_keys.remove(org_id, client_id);
        tracing::info!(org_id, client_id, "sandbox: API key deleted");
        deleted
    }

    /// The state of a refresh token the sandbox issued; `None` if it never issued it.
    pub fn refresh_token_state(&self, refresh_token: &str) -> Option<TokenState> {
        self.shared().lock().refresh_state(refresh_token)
    }

    // -- browser ------------------------------------------------------------------------------

    /// Does what Datadog's Test Authorization (or the tile's Connect Accounts) button does for
    /// `org`: opens the integration's `onboarding` URL with the org's `site` and `domain`, then
    /// follows the flow like a browser (cookies kept, redirects followed, Authorize clicked) to
    /// the last page the integration shows. The integration must be built with
    /// [`Sandbox::endpoints`].
    pub async fn test_authorization(
        &self,
        onboarding: &Url,
        org: &SandboxOrg,
    ) -> Result<TestAuthorization, AuthorizeError> {
        browser::test_authorization(&self.base_url(), onboarding, org).await
    }

    /// Plays the user's browser: GETs the authorize URL (a real HTTP request to the sandbox)
    /// and returns where Datadog redirects, i.e. the callback URL with `code` or `error`. If a
    /// consent page is served ([`Consent::Page`]) it clicks **Authorize**.
    ///
    /// `authorize_url` may be on the sandbox already (built from [`Sandbox::endpoints`]) or be
    /// the real `https://<datadog host>/oauth2/v1/authorize?...`, which is mapped onto it.
    ///
    /// # Errors
    /// [`AuthorizeError::Page`] when Datadog shows an error page instead of redirecting, and
    /// [`AuthorizeError::Transport`] when the request fails.
    pub async fn authorize(&self, authorize_url: &Url) -> Result<Url, AuthorizeError> {
        let base = &self.shared().base;
        browser::follow(base, browser::on_sandbox(base, authorize_url)).await
    }
}
