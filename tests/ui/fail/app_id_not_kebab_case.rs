use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    app_id = "Acme_Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
struct AcmePager;

fn main() {}
