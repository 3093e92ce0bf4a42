use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read, dashboards_read, monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
struct AcmePager;

fn main() {}
