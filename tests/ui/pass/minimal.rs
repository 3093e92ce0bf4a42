// The smallest declaration: name, scopes, redirect, onboarding. The rest is derived.
use dd_integration::{DatadogIntegration, datadog_integration};

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/datadog/connect",
)]
struct AcmePager;

fn main() {
    let spec = AcmePager::SPEC;
    assert_eq!(spec.name, "Acme Pager");
    assert_eq!(spec.app_id, "acme-pager");
    assert_eq!(spec.redirect_uris, ["https://acme.example/datadog/callback"]);
    assert!(spec.submits.is_empty() && spec.metrics.is_empty());
    let _ = dd_integration::api::require::<AcmePager, dd_integration::api::v1::ListMonitors>();
}
