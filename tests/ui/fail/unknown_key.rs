// A misspelt key is reported with the key it was likely meant as, and not again as missing.
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Exporter",
    scope = [api_keys_write],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    submits = [metrics],
    colour = "blue",
    metric(nme = "acme_exporter.sent", type = gauge),
)]
struct AcmeExporter;

fn main() {}
