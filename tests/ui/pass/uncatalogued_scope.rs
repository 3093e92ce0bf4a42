// A scope Datadog grants that the catalog lacks, declared deliberately: it compiles (with a
// warning that names it), and the declaration requests it as written.
use dd_integration::{DatadogIntegration, datadog_integration};

#[datadog_integration(
    name = "Acme Cost",
    scopes = [api_keys_write, uncatalogued(mcp_read), uncatalogued(llm_observability_read)],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/datadog/connect",
    submits = [metrics],
)]
struct AcmeCost;

fn main() {
    let names: Vec<&str> = AcmeCost::SPEC.scopes.iter().map(|s| s.as_str()).collect();
    assert_eq!(names, ["api_keys_write", "mcp_read", "llm_observability_read"]);
    assert!(AcmeCost::SPEC.scopes[0].is_known());
    assert!(!AcmeCost::SPEC.scopes[1].is_known());
}
