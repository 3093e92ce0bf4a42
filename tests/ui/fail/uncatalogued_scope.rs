// An uncatalogued scope is a warning that names it (an error under `deny(warnings)`); a catalog
// scope written as uncatalogued, or a name that is no scope name, is an error.
#![deny(warnings)]
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Cost",
    scopes = [uncatalogued(mcp_read)],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/datadog/connect",
)]
struct AcmeCost;

#[datadog_integration(
    name = "Acme Other",
    scopes = [uncatalogued(monitors_read), uncatalogued(Mcp_Read), mcp_read],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/datadog/connect",
)]
struct AcmeOther;

fn main() {
    let _ = (AcmeCost, AcmeOther);
}
