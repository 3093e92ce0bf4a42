use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Exporter",
    scopes = [api_keys_write],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    submits = [metrics],
    metric_prefix = "acme.",
    metric(name = "pages.sent", type = count),
)]
struct AcmeExporter;

fn main() {}
