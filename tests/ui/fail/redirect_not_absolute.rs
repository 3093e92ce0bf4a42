use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "/datadog/callback",
    onboarding = "acme.example/connect",
)]
struct AcmePager;

fn main() {}
