// Datadog accepts data only with the marketplace API key, which `api_keys_write` creates.
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Exporter",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    submits = [metrics, events],
)]
struct AcmeExporter;

fn main() {}
