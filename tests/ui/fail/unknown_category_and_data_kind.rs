use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Exporter",
    scopes = [api_keys_write],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    submits = [metric, traces],
    categories = ["Notification", "Gardening"],
)]
struct AcmeExporter;

fn main() {}
