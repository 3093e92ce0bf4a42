use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    name = "Acme Pager 2",
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    author(name = "Acme", name = "Acme Inc."),
)]
struct AcmePager;

fn main() {}
