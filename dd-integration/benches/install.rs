//! Complete installs over loopback against the Datadog sandbox, and the SDK's own time in the
//! callback: `cargo bench -p dd-integration --bench install`.
//!
//! Each install is what a browser does: GET the onboarding URL (302 + flow cookie), GET the
//! sandbox's authorize URL (302 with a code), GET the callback with the cookie (exchange, key,
//! store, success page). The browser is one shared HTTP client with the cookie handled by hand,
//! so the figure is the SDK's and the sandbox's, not a cookie jar's.
//!
//! The SDK's own time in the callback is the callback's wall time minus the time spent inside
//! the two calls to Datadog (the `datadog.oauth.exchange` and `datadog.api_key.create` spans).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dd_integration::testkit::{ClientSpec, OrgSpec, SESSION_COOKIE, Sandbox, SandboxOrg};
use dd_integration::{ClientSecret, Domain, Installer, Sealer, SealingKey};
use tracing::span;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// The integration being installed.
#[dd_integration::datadog_integration(
    name = "Bench",
    scopes = [monitors_read, api_keys_write],
    redirect = "https://acme.example/cb",
    onboarding = "https://acme.example/connect",
    submits = [events],
    description = "Benchmark integration.",
    author(
        name = "Acme",
        homepage = "https://acme.example",
        support_email = "support@acme.example",
        sales_email = "sales@acme.example",
    ),
)]
struct Bench;

/// Time spent inside the spans of calls to Datadog, summed.
#[derive(Clone, Default)]
struct DatadogTime(Arc<Mutex<Duration>>);

struct Started(Instant);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for DatadogTime {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let name = attrs.metadata().name();
        if (name == "datadog.oauth.exchange" || name == "datadog.api_key.create")
            && let Some(span) = ctx.span(id)
        {
            span.extensions_mut().insert(Started(Instant::now()));
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(started) = span.extensions().get::<Started>()
        {
            *self.0.lock().unwrap() += started.0.elapsed();
        }
    }
}

struct Browser {
    sandbox: Sandbox,
    app: String,
    http: reqwest::Client,
}

impl Browser {
    /// One install; returns the callback's wall time.
    async fn install(&self, org: &SandboxOrg) -> Duration {
        let onboarding = format!(
            "{}/connect?site={}&domain={}",
            self.app,
            org.site.origin(),
            org.domain
        );
        let r = self.http.get(onboarding).send().await.unwrap();
        assert_eq!(r.status(), 302);
        let set = r.headers()["set-cookie"].to_str().unwrap();
        let cookie = set.split(';').next().unwrap().to_owned();
        let authorize = r.headers()["location"].to_str().unwrap().to_owned();
        let r = self
            .http
            .get(authorize)
            .header("cookie", format!("{SESSION_COOKIE}={}", org.id))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        let callback = r.headers()["location"].to_str().unwrap().to_owned();
        let start = Instant::now();
        let r = self
            .http
            .get(callback)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let callback_time = start.elapsed();
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await.unwrap();
        callback_time
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (installs, concurrency) = if full { (3000, 32) } else { (40, 8) };
    let datadog_time = DatadogTime::default();
    let subscriber = tracing_subscriber::registry().with(datadog_time.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let sandbox = Sandbox::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let client = sandbox.add_client(
            ClientSpec::new("Bench")
                .redirect_uri(format!("{app}/cb"))
                .scopes(["monitors_read", "api_keys_write"]),
        );
        let installer = Installer::<Bench>::builder()
            .client(client.client_id.clone(), ClientSecret::new(client.client_secret.clone()))
            .sealer(Sealer::new(SealingKey::generate("bench").unwrap().0))
            .redirect_uri(format!("{app}/cb"))
            .onboarding_url(format!("{app}/connect"))
            .endpoints(sandbox.endpoints())
        // The benchmark's browsers are many and fast: no limit on code exchanges.
        .exchange_limit(1_000_000, 1_000_000)
            .memory_store_for_tests()
            .build()
            .unwrap();
        let router = dd_integration::web::router(installer.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let orgs: Vec<SandboxOrg> = (0..installs)
            .map(|i| sandbox.add_org(OrgSpec::new(format!("Org {i}"), Domain::ALL[i % 9])))
            .collect();
        let bench = Arc::new(Browser {
            sandbox,
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        });

        // Installs per second: `concurrency` browsers at once.
        let queue = Arc::new(Mutex::new(orgs));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let bench = bench.clone();
            let queue = queue.clone();
            tasks.spawn(async move {
                let mut done = 0usize;
                loop {
                    let Some(org) = queue.lock().unwrap().pop() else { break };
                    bench.install(&org).await;
                    done += 1;
                }
                done
            });
        }
        while let Some(times) = tasks.join_next().await {
            times.unwrap();
        }
        let elapsed = start.elapsed();
        assert_eq!(installer.store().list().await.unwrap().len(), installs);
        assert_eq!(bench.sandbox.calls(dd_integration::testkit::Route::MarketplaceKey), installs);
        println!(
            "{installs} complete installs, {concurrency} browsers at once: {:.0} installs/s ({:.2} s)",
            installs as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64()
        );

        // The SDK's own time in the callback, one install at a time so that the spans of one
        // callback are not mixed with another's.
        let orgs: Vec<SandboxOrg> = (0..installs / 3)
            .map(|i| bench.sandbox.add_org(OrgSpec::new(format!("Serial {i}"), Domain::ALL[i % 9])))
            .collect();
        let mut own = Vec::with_capacity(orgs.len());
        for org in &orgs {
            *datadog_time.0.lock().unwrap() = Duration::ZERO;
            let callback = bench.install(org).await;
            let in_datadog = *datadog_time.0.lock().unwrap();
            own.push(callback.saturating_sub(in_datadog));
        }
        own.sort();
        let pct = |p: f64| own[((own.len() as f64 * p) as usize).min(own.len() - 1)];
        println!(
            "SDK's own time in the callback (wall time minus the two Datadog calls), {} installs: median {:.0} µs, p99 {:.0} µs",
            own.len(),
            pct(0.5).as_secs_f64() * 1e6,
            pct(0.99).as_secs_f64() * 1e6
        );
    });
}
