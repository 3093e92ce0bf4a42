// Production and staging declared once, each pair on its own origin, and a redirect URI on a
// second company domain (as merged integrations register).
use dd_integration::{DatadogIntegration, datadog_integration};

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = ["https://acme.example/callback", "https://acme-legacy.example/callback"],
    onboarding = "https://acme.example/connect",
    environment(
        name = "staging",
        onboarding = "https://staging.acme.example/connect",
        redirect = "https://staging.acme.example/callback",
    ),
)]
struct AcmePager;

fn main() {
    let spec = AcmePager::SPEC;
    assert_eq!(spec.environments.len(), 1);
    assert_eq!(spec.environments[0].name, "staging");
    assert_eq!(spec.redirect_uris.len(), 3);
}
