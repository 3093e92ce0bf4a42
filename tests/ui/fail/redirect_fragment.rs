use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback#done",
    onboarding = "https://acme.example/connect",
)]
struct AcmePager;

fn main() {}
