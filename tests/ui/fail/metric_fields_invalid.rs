// The metadata.csv rules for a metric's type, units, description and orientation.
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Exporter",
    scopes = [api_keys_write],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    submits = [metrics],
    metric(name = "acme_exporter.a", type = guage, unit = "seconds", orientation = up),
    metric(name = "acme_exporter.b", type = distribution),
    metric(name = "acme_exporter.c", type = gauge, unit = "millisecond", per_unit = "second"),
    metric(name = "acme_exporter.d", type = gauge, description = "left|right"),
)]
struct AcmeExporter;

fn main() {}
