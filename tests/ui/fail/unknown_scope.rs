// A scope outside Datadog's catalog; a near miss gets a suggestion.
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitor_read, metrics_write],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
struct AcmePager;

fn main() {}
