// Datadog requires the onboarding and redirect URLs on one domain: no per-customer domains.
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = [
        "https://eu.acme.example/callback",
        "https://acme-staging.example/callback",
        "https://{customer}.acme.example/callback",
    ],
    onboarding = "https://acme.example/connect",
)]
struct AcmePager;

fn main() {}
