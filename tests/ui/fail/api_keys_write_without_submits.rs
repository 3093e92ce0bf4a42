// The reverse is a warning (a marketplace key nothing uses), an error under `deny(warnings)`.
#![deny(warnings)]
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read, api_keys_write],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
struct AcmePager;

fn main() {
    let _ = AcmePager;
}
