// Calling an operation whose scope was not declared does not compile, and says which scope to add.
use dd_integration::api::{self, v1};
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme On-Call",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
struct AcmeOnCall;

fn main() {
    let _ = api::require::<AcmeOnCall, v1::ListMonitors>();
    let _ = api::require::<AcmeOnCall, v1::CreateMonitor>();
}
