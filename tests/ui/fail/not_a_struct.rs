use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
enum AcmePager {
    Eu,
    Us,
}

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
fn acme_pager() {}

fn main() {
    let _ = (AcmePager::Eu, AcmePager::Us, acme_pager());
}
