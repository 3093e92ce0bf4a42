//! One full code exchange against the Datadog sandbox on loopback, timed end to end:
//! `cargo bench -p dd-integration --bench exchange`. Prints the median and p99 of N exchanges
//! (authorize excluded: each iteration exchanges a code authorized beforehand).

use std::time::{Duration, Instant};

use dd_integration::pkce::PkceVerifier;
use dd_integration::testkit::{ClientSpec, OrgSpec, Sandbox};
use dd_integration::{ClientSecret, Domain, OAuthClient, Site};

const N: usize = 2000;

fn main() {
    // Under `cargo test --benches` run one round only, as a smoke test.
    let n = if std::env::args().any(|a| a == "--bench") {
        N
    } else {
        10
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let sandbox = Sandbox::start().await;
        sandbox.add_org(OrgSpec::new("Bench", Domain::Us1));
        let client = sandbox.add_client(
            ClientSpec::new("Bench")
                .redirect_uri("https://acme.example/cb")
                .scopes(["monitors_read"]),
        );
        let oauth = OAuthClient::builder(
            client.client_id.clone(),
            ClientSecret::new(client.client_secret.clone()),
            "https://acme.example/cb",
        )
        .endpoints(sandbox.endpoints())
        .build()
        .unwrap();
        let site = Site::of(Domain::Us1);
        let mut times = Vec::with_capacity(n);
        for i in 0..n + n / 10 {
            let verifier = PkceVerifier::generate();
            let url = oauth.authorize_url(&site, &verifier.challenge(), "s");
            let callback = sandbox.authorize(&url).await.unwrap();
            let code = callback
                .query_pairs()
                .find(|(k, _)| k == "code")
                .unwrap()
                .1
                .into_owned();
            let start = Instant::now();
            oauth
                .exchange_code(Domain::Us1, &code, &verifier)
                .await
                .unwrap();
            // The first tenth warms connections and caches.
            if i >= n / 10 {
                times.push(start.elapsed());
            }
        }
        times.sort();
        let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        let show = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
        println!(
            "exchange against the sandbox on loopback, {} runs: median {}, p99 {}, max {}",
            times.len(),
            show(pct(0.5)),
            show(pct(0.99)),
            show(*times.last().unwrap())
        );
    });
}
