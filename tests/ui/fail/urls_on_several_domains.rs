// Redirect URIs on several domains are allowed (merged integrations register them), but a
// per-customer host is not: Datadog does not support per-customer subdomains.
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
