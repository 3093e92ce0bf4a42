//! Datadog's API as the customer authorized it, against the sandbox: every operation family the
//! sandbox serves, called with the installation's bearer token on its region's API host; path
//! parameters percent-encoded; serde bodies both ways; refresh through the token lifecycle; the
//! 401 refresh-and-retry-once; 429 waits; a 403 naming the grant that is missing. And the same
//! installation's intake, from the same install.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dd_integration::api::{v1, v2};
use dd_integration::client::{ApiClient, ApiError, ApiSettings};
use dd_integration::telemetry::{Telemetry, TelemetryError};
use dd_integration::testkit::{ClientSpec, Fault, OrgSpec, Route, Sandbox, SandboxOrg};
use dd_integration::tokens::TokenSettings;
use dd_integration::{
    ClientSecret, Domain, Installation, InstallationStore, Installer, MemoryStore, Scope, Sealer,
    SealingKey, datadog_integration,
};
use dd_integration_tests::lifecycle::install;
use serde_json::{Value, json};

#[datadog_integration(
    name = "Acme Pager",
    scopes = [
        monitors_read, monitors_write, dashboards_read, dashboards_write, events_read,
        incident_read, incident_write, user_access_read, timeseries_query, slos_read,
        api_keys_write,
    ],
    redirect = "http://127.0.0.1:9/datadog/oauth/callback",
    onboarding = "http://127.0.0.1:9/datadog/connect",
    submits = [events],
)]
struct AcmePager;

const SCOPES: [&str; 11] = [
    "monitors_read",
    "monitors_write",
    "dashboards_read",
    "dashboards_write",
    "events_read",
    "incident_read",
    "incident_write",
    "user_access_read",
    "timeseries_query",
    "slos_read",
    "api_keys_write",
];

struct World {
    sandbox: Sandbox,
    installer: Installer<AcmePager>,
    store: Arc<MemoryStore>,
}

impl World {
    async fn new() -> World {
        World::with(Sandbox::start().await).await
    }

    async fn with(sandbox: Sandbox) -> World {
        let client = sandbox.add_client(
            ClientSpec::new("Acme Pager")
                .redirect_uri("http://127.0.0.1:9/datadog/oauth/callback")
                .scopes(SCOPES),
        );
        let (key, _) = SealingKey::generate("test").unwrap();
        let store = Arc::new(MemoryStore::new());
        let installer = Installer::<AcmePager>::builder()
            .client(client.client_id, ClientSecret::new(client.client_secret))
            .sealer(Sealer::new(key))
            .endpoints(sandbox.endpoints())
            .store(Arc::clone(&store) as Arc<dyn InstallationStore>)
            .token_settings(
                TokenSettings::default()
                    .backoff(Duration::from_millis(10))
                    .max_backoff(Duration::from_millis(50)),
            )
            .build()
            .unwrap();
        World {
            sandbox,
            installer,
            store,
        }
    }

    /// An org with its own vanity subdomain (so the authorize page knows who is logged in).
    fn org(&self, spec: OrgSpec) -> SandboxOrg {
        self.sandbox.add_org(spec)
    }

    async fn install(&self, org: &SandboxOrg) -> Installation {
        install(&self.installer, &self.sandbox, org).await
    }
}

/// The declared scopes an org's admin lets OAuth clients have when dashboards are withheld.
fn all_but_dashboards() -> impl Iterator<Item = &'static str> {
    SCOPES
        .iter()
        .copied()
        .filter(|s| !s.starts_with("dashboards"))
}

fn vanity(name: &str, domain: Domain) -> OrgSpec {
    OrgSpec::new(name, domain).vanity(format!("v{}", name.to_ascii_lowercase()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_is_called_with_the_installations_token_on_its_region() {
    let w = World::new().await;
    // A vanity org on EU1: the API must be called on api.datadoghq.eu, never on the vanity host
    // (where the sandbox, like Datadog's TLS, refuses it).
    let org = w.org(vanity("Acme", Domain::Eu1));
    let installation = w.install(&org).await;
    assert!(installation.site.vanity().is_some());
    w.sandbox
        .add_monitor(&org.id, json!({"id": 7, "name": "CPU"}));
    let api: ApiClient<AcmePager> = w.installer.api(&installation);
    assert_eq!(api.domain(), Domain::Eu1);

    let monitors: Value = api.call::<v1::ListMonitors>().json().await.unwrap();
    assert_eq!(monitors, json!([{"id": 7, "name": "CPU"}]));

    // One call per family served generically; the sandbox echoes what it received.
    let echo = |v: &Value, id: &str| {
        assert_eq!(v["operation"], id, "{v}");
        assert_eq!(v["org_id"], org.id.as_str());
    };
    let v: Value = api
        .call::<v1::GetMonitor>()
        .path("monitor_id", 7)
        .json()
        .await
        .unwrap();
    echo(&v, "GetMonitor");
    assert_eq!(v["path"], json!({"monitor_id": "7"}));
    let v: Value = api
        .call::<v1::UpdateMonitor>()
        .path("monitor_id", 7)
        .body(&json!({"name": "CPU high"}))
        .json()
        .await
        .unwrap();
    echo(&v, "UpdateMonitor");
    assert_eq!(v["body"], json!({"name": "CPU high"}));
    let v: Value = api
        .call::<v1::DeleteMonitor>()
        .path("monitor_id", 7)
        .json()
        .await
        .unwrap();
    echo(&v, "DeleteMonitor");
    let v: Value = api.call::<v1::ListDashboards>().json().await.unwrap();
    echo(&v, "ListDashboards");
    let v: Value = api
        .call::<v1::CreateDashboard>()
        .body(&json!({"title": "Pages", "layout_type": "ordered", "widgets": []}))
        .json()
        .await
        .unwrap();
    echo(&v, "CreateDashboard");
    assert_eq!(v["body"]["title"], "Pages");
    let v: Value = api
        .call::<v1::ListEvents>()
        .query("start", 1)
        .query("end", 2)
        .json()
        .await
        .unwrap();
    echo(&v, "ListEvents");
    assert_eq!(v["query"], json!({"start": "1", "end": "2"}));
    let v: Value = api.call::<v2::ListEvents>().json().await.unwrap();
    echo(&v, "ListEvents");
    let v: Value = api.call::<v2::ListIncidents>().json().await.unwrap();
    echo(&v, "ListIncidents");
    let v: Value = api
        .call::<v2::UpdateIncident>()
        .path("incident_id", "abc-123")
        .body(&json!({"data": {"type": "incidents", "attributes": {"title": "t"}}}))
        .json()
        .await
        .unwrap();
    echo(&v, "UpdateIncident");
    // `GET /api/v2/users` has a handler of its own: the org's users, each naming the org.
    let v: Value = api
        .call::<v2::ListUsers>()
        .query("page[size]", 10)
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["data"][0]["relationships"]["org"]["data"]["id"],
        org.id.as_str()
    );
    let v: Value = api
        .call::<v2::GetUser>()
        .path("user_id", "u-1")
        .query("page[size]", 10)
        .json()
        .await
        .unwrap();
    echo(&v, "GetUser");
    assert_eq!(v["query"]["page[size]"], "10");
    let v: Value = api
        .call::<v1::QueryMetrics>()
        .query("query", "avg:acme.queue.depth{*}")
        .json()
        .await
        .unwrap();
    echo(&v, "QueryMetrics");
    assert_eq!(v["query"]["query"], "avg:acme.queue.depth{*}");
    let v: Value = api
        .call::<v2::QueryTimeseriesData>()
        .body(&json!({"data": {"type": "timeseries_request"}}))
        .json()
        .await
        .unwrap();
    echo(&v, "QueryTimeseriesData");
    let v: Value = api.call::<v1::ListSLOs>().json().await.unwrap();
    echo(&v, "ListSLOs");

    let response = api.call::<v1::ListDashboards>().send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_parameters_are_percent_encoded_and_checked() {
    let w = World::new().await;
    let org = w.org(vanity("Acme", Domain::Us5));
    let api: ApiClient<AcmePager> = w.installer.api(&w.install(&org).await);
    for id in ["a b/c?d#e%f+g&h=i", "ünïcödé", "...", "%2e%2e", "42"] {
        let v: Value = api
            .call::<v1::GetDashboard>()
            .path("dashboard_id", id)
            .json()
            .await
            .unwrap();
        assert_eq!(v["path"]["dashboard_id"], id);
    }
    for id in ["", ".", ".."] {
        let refused = api
            .call::<v1::GetDashboard>()
            .path("dashboard_id", id)
            .send()
            .await
            .unwrap_err();
        assert!(matches!(refused, ApiError::PathParameter { .. }), "{id:?}");
    }
    let missing = api.call::<v1::GetDashboard>().send().await.unwrap_err();
    assert!(
        matches!(&missing, ApiError::PathParameter { problem, .. } if problem.contains("`dashboard_id` is missing"))
    );
    let unknown = api
        .call::<v1::ListDashboards>()
        .path("dashboard_id", 1)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(unknown, ApiError::PathParameter { .. }));
    let twice = api
        .call::<v1::GetDashboard>()
        .path("dashboard_id", 1)
        .path("dashboard_id", 2)
        .send()
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("given twice"));
}

/// A partner's own request type, as its code would declare it.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct NewIncident {
    title: String,
    customer_impacted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    commander: Option<String>,
    fields: BTreeMap<String, Vec<u32>>,
}

/// The partner's own response type: what the sandbox echoes.
#[derive(Debug, serde::Deserialize)]
struct Echo {
    operation: String,
    org_id: String,
    body: NewIncident,
}

/// The body and the response are the partner's own serde types as well as `serde_json::Value`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_bodies_and_responses_go_both_ways() {
    let w = World::new().await;
    let org = w.org(vanity("Acme", Domain::Us1));
    let api: ApiClient<AcmePager> = w.installer.api(&w.install(&org).await);
    let incident = NewIncident {
        title: "Pager down".into(),
        customer_impacted: true,
        commander: None,
        fields: BTreeMap::from([("severity".into(), vec![1, 2, 3])]),
    };
    let echo: Echo = api
        .call::<v2::CreateIncident>()
        .body(&incident)
        .json()
        .await
        .unwrap();
    assert_eq!(echo.operation, "CreateIncident");
    assert_eq!(echo.org_id, org.id);
    assert_eq!(echo.body, incident);
    // As sent on the wire: the skipped field absent, not null.
    let raw: Value = api
        .call::<v2::CreateIncident>()
        .body(&incident)
        .json()
        .await
        .unwrap();
    assert_eq!(
        raw["body"],
        json!({"title": "Pager down", "customer_impacted": true,
               "fields": {"severity": [1, 2, 3]}})
    );
    // A response that does not fit the partner's type is a typed decode error.
    let wrong = api
        .call::<v2::ListUsers>()
        .json::<Echo>()
        .await
        .unwrap_err();
    assert!(matches!(wrong, ApiError::Decode { status: 200, .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refreshed_through_the_lifecycle() {
    let w = World::new().await;
    // Tokens live 2 seconds: inside the 5-minute leeway, every call refreshes first.
    w.sandbox.set_access_token_ttl(Duration::from_secs(2));
    let org = w.org(vanity("Acme", Domain::Us3));
    let api: ApiClient<AcmePager> = w.installer.api(&w.install(&org).await);
    let before = w.sandbox.calls(Route::Token);
    for _ in 0..3 {
        api.call::<v1::ListMonitors>().send().await.unwrap();
    }
    assert!(w.sandbox.calls(Route::Token) >= before + 3);
    assert_eq!(
        w.sandbox.calls(Route::Monitor),
        3,
        "no call was refused first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_refreshes_and_retries_once() {
    let w = World::new().await;
    let org = w.org(vanity("Acme", Domain::Us1));
    let api: ApiClient<AcmePager> = w.installer.api(&w.install(&org).await);
    api.call::<v1::ListMonitors>().send().await.unwrap();
    let tokens = w.sandbox.calls(Route::Token);

    w.sandbox.inject(Route::Monitor, Fault::status(401));
    api.call::<v1::ListMonitors>().send().await.unwrap();
    assert_eq!(w.sandbox.calls(Route::Token), tokens + 1, "one refresh");
    assert_eq!(w.sandbox.calls(Route::Monitor), 3);

    // Refused twice: one refresh, one retry, then the error.
    w.sandbox
        .inject(Route::Monitor, Fault::status(401).times(2));
    let error = api.call::<v1::ListMonitors>().send().await.unwrap_err();
    assert!(matches!(error, ApiError::Unauthorized { .. }));
    assert!(error.needs_reauthorization());
    assert_eq!(w.sandbox.calls(Route::Token), tokens + 2);
    assert_eq!(w.sandbox.calls(Route::Monitor), 5);

    // The token refused after a refresh was fresh: the next calls use it, no refresh each.
    for _ in 0..3 {
        api.call::<v1::ListMonitors>().send().await.unwrap();
    }
    assert_eq!(
        w.sandbox.calls(Route::Token),
        tokens + 2,
        "no refresh per call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_says_the_customer_must_reconnect() {
    let w = World::new().await;
    let org = w.org(vanity("Acme", Domain::Us1));
    let api: ApiClient<AcmePager> = w.installer.api(&w.install(&org).await);
    api.call::<v1::ListMonitors>().send().await.unwrap();
    w.sandbox.revoke_grants(&org.id);
    let error = api.call::<v1::ListMonitors>().send().await.unwrap_err();
    assert!(matches!(error, ApiError::Token { .. }), "{error}");
    assert!(error.needs_reauthorization());
    assert!(error.to_string().contains("tile"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_waits_for_x_ratelimit_reset() {
    let w = World::new().await;
    let org = w.org(vanity("Acme", Domain::Us1));
    let installation = w.install(&org).await;
    let api: ApiClient<AcmePager> = w.installer.api(&installation);
    w.sandbox.inject(
        Route::Monitor,
        Fault::status(429).reset_after(Duration::from_secs(1)),
    );
    let started = Instant::now();
    api.call::<v1::ListMonitors>().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(w.sandbox.calls(Route::Monitor), 2);

    // A reset beyond the longest wait is returned at once, with Datadog's limit named.
    let api: ApiClient<AcmePager> = w
        .installer
        .api(&installation)
        .with_settings(ApiSettings::default().max_rate_limit_wait(Duration::from_secs(5)));
    w.sandbox.inject(
        Route::Monitor,
        Fault::status(429).reset_after(Duration::from_secs(30)),
    );
    let started = Instant::now();
    let error = api.call::<v1::ListMonitors>().send().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    match &error {
        ApiError::RateLimited { rate_limit, .. } => {
            assert_eq!(rate_limit.reset, Some(Duration::from_secs(30)));
            assert_eq!(rate_limit.name.as_deref(), Some("get_all_monitors"));
        }
        other => panic!("{other}"),
    }
    assert!(error.is_transient());

    // One wait per `rate_limit_retries`: a third 429 in a row is returned, with its limit.
    let api: ApiClient<AcmePager> = w.installer.api(&installation).with_settings(
        ApiSettings::default()
            .max_rate_limit_wait(Duration::from_secs(5))
            .rate_limit_retries(2),
    );
    let before = w.sandbox.calls(Route::Monitor);
    w.sandbox.inject(
        Route::Monitor,
        Fault::status(429)
            .reset_after(Duration::from_secs(1))
            .times(3),
    );
    let error = api.call::<v1::ListMonitors>().send().await.unwrap_err();
    assert!(matches!(error, ApiError::RateLimited { .. }), "{error}");
    assert_eq!(w.sandbox.calls(Route::Monitor) - before, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_names_the_grant_that_is_missing() {
    let w = World::new().await;
    // The org's admin lets OAuth clients read monitors, not dashboards.
    let org = w.org(vanity("Acme", Domain::Ap1).grantable_scopes(all_but_dashboards()));
    let installation = w.install(&org).await;
    assert!(
        !installation
            .granted_scopes
            .contains(&Scope::DASHBOARDS_READ)
    );
    let api: ApiClient<AcmePager> = w.installer.api(&installation);
    api.call::<v1::ListMonitors>().send().await.unwrap();
    let error = api.call::<v1::ListDashboards>().send().await.unwrap_err();
    match &error {
        ApiError::ScopeNotGranted { missing, .. } => {
            assert_eq!(missing.to_string(), "dashboards_read");
        }
        other => panic!("{other}"),
    }
    let text = error.to_string();
    assert!(text.contains("dashboards_read"), "{text}");
    assert!(text.contains("reauthorize_url"), "{text}");
    assert!(error.needs_reauthorization());

    // A 403 for an operation whose scopes were granted says something else.
    w.sandbox.inject(Route::Monitor, Fault::status(403));
    let error = api.call::<v1::ListMonitors>().send().await.unwrap_err();
    assert!(matches!(error, ApiError::Forbidden { .. }), "{error}");
    assert!(error.to_string().contains("Forbidden"));
}

/// A client made before the customer narrowed the grant still names what is missing: on a 403
/// it reads the installation's grants again from the store (where the install or the lifecycle
/// wrote them), rather than trusting the copy it was made with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_reads_the_grants_again_from_the_store() {
    let w = World::new().await;
    let org = w.org(vanity("Acme", Domain::Eu1).grantable_scopes(all_but_dashboards()));
    let installation = w.install(&org).await;
    // The copy the client is made from still lists `dashboards_read`.
    let mut stale = installation.clone();
    stale.granted_scopes.insert(Scope::DASHBOARDS_READ);

    let api: ApiClient<AcmePager> = w.installer.api(&stale);
    assert!(api.granted_scopes().contains(&Scope::DASHBOARDS_READ));
    let error = api.call::<v1::ListDashboards>().send().await.unwrap_err();
    assert!(
        matches!(&error, ApiError::ScopeNotGranted { missing, .. }
            if missing.to_string() == "dashboards_read"),
        "{error}"
    );
    assert!(!api.granted_scopes().contains(&Scope::DASHBOARDS_READ));

    // Without a store to read, the same 403 can only be a plain refusal.
    let tokens = Arc::new(w.installer.tokens().installation(&installation.id));
    let blind: ApiClient<AcmePager> = ApiClient::new(w.installer.oauth().http(), &stale, tokens);
    let error = blind.call::<v1::ListDashboards>().send().await.unwrap_err();
    assert!(matches!(error, ApiError::Forbidden { .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_failures_are_typed() {
    let w = World::new().await;
    let org = w.org(vanity("Acme", Domain::Us1));
    let api: ApiClient<AcmePager> = w.installer.api(&w.install(&org).await);
    for (status, check) in [
        (
            500u16,
            (|e: &ApiError| matches!(e, ApiError::Server { status: 500, .. }))
                as fn(&ApiError) -> bool,
        ),
        (503, |e| {
            matches!(e, ApiError::Server { status: 503, .. }) && e.is_transient()
        }),
        (404, |e| matches!(e, ApiError::NotFound { .. })),
        (
            400,
            |e| matches!(e, ApiError::Refused { status: 400, detail, .. } if detail == "Bad Request"),
        ),
    ] {
        w.sandbox.inject(Route::Monitor, Fault::status(status));
        let error = api.call::<v1::ListMonitors>().send().await.unwrap_err();
        assert!(check(&error), "{status}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_install_gives_the_intake_its_key() {
    let w = World::new().await;
    let org = w.org(vanity("Acme", Domain::Eu1));
    let installation = w.install(&org).await;
    let telemetry = Telemetry::builder()
        .http(w.installer.oauth().http())
        .build()
        .unwrap();
    let intake = telemetry.installation::<AcmePager>(&installation).unwrap();
    intake
        .send(dd_integration::telemetry::Event::new(
            "Connected",
            "Acme Pager is connected",
        ))
        .await
        .unwrap();
    telemetry.shutdown().await.unwrap();
    let events = w.sandbox.received_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].org_id, org.id);
    assert_eq!(events[0].host, "api.datadoghq.eu");

    // An install whose grant lacks api_keys_write has no key: nothing can be sent.
    let narrowed = SCOPES.iter().copied().filter(|s| *s != "api_keys_write");
    let keyless = w.org(vanity("Keyless", Domain::Eu1).grantable_scopes(narrowed));
    let installation = w.install(&keyless).await;
    let telemetry = Telemetry::builder()
        .endpoints(w.sandbox.endpoints())
        .build()
        .unwrap();
    let error = telemetry
        .installation::<AcmePager>(&installation)
        .unwrap_err();
    assert!(matches!(error, TelemetryError::NoApiKey { .. }));
    assert!(error.needs_reconnect());
    let _ = w.store.list().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_secret_in_debug_or_errors() {
    let w = World::new().await;
    let org = w.org(vanity("Acme", Domain::Us1));
    let installation = w.install(&org).await;
    let token = installation.access_token.expose_secret().to_owned();
    let api: ApiClient<AcmePager> = w.installer.api(&installation);
    let response = api.call::<v1::ListMonitors>().send().await.unwrap();
    w.sandbox
        .inject(Route::Monitor, Fault::status(401).times(2));
    let error = api.call::<v1::ListMonitors>().send().await.unwrap_err();
    for text in [
        format!("{api:?}"),
        format!("{response:?}"),
        format!("{error:?}"),
        error.to_string(),
    ] {
        assert!(!text.contains(&token), "{text}");
    }
}
