// An environment's onboarding URL and redirect URI share one origin: the SDK's flow cookie,
// set at onboarding, reaches only a callback there. Caught at compile time, with the fix.
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    environment(
        name = "staging",
        onboarding = "https://acme.example/connect",
        redirect = "https://staging.acme.example/callback",
    ),
)]
struct AcmePager;

fn main() {}
