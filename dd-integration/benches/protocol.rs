//! Micro-benchmarks of the protocol's hot pieces: `cargo bench -p dd-integration --bench protocol`.

use dd_integration::pkce::PkceVerifier;
use dd_integration::{ClientSecret, OAuthClient, Site};
use divan::black_box;

fn main() {
    divan::main();
}

/// An authorize URL with a fresh PKCE pair: verifier from the OS CSPRNG, S256 challenge, URL.
#[divan::bench]
fn authorize_url_with_fresh_pkce(bencher: divan::Bencher) {
    let oauth = OAuthClient::builder(
        "8a4c6f0e-2f1d-4c5b-9c55-1b2a3c4d5e6f",
        ClientSecret::new("bench-secret"),
        "https://acme.example/datadog/oauth/callback",
    )
    .build()
    .unwrap();
    let site = Site::parse("acme.datadoghq.eu").unwrap();
    bencher.bench_local(|| {
        let verifier = PkceVerifier::generate();
        black_box(oauth.authorize_url(&site, &verifier.challenge(), "state-0123456789abcdef"))
    });
}

/// Parsing the `site` parameter, for a standard and a vanity host, with and without a scheme.
#[divan::bench(args = ["app.datadoghq.com", "https://acme.datadoghq.eu", "us5.datadoghq.com"])]
fn site_parse(input: &str) -> Site {
    Site::parse(black_box(input)).unwrap()
}

/// Refusing a hostile `site`.
#[divan::bench(args = ["datadoghq.com.evil.example", "https://datadoghq.com@evil.example"])]
fn site_parse_hostile(input: &str) -> bool {
    Site::parse(black_box(input)).is_err()
}
