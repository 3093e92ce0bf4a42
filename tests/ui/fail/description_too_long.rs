// Over 80 characters is a warning, not an error: Datadog merged tiles with longer descriptions
// (RULES.md, `manifest-tile-description`). Under `deny(warnings)` it fails the build.
#![deny(warnings)]
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    description = "Pages the on-call engineer whenever a Datadog monitor fires, then keeps on paging.",
)]
struct AcmePager;

fn main() {
    let _ = AcmePager;
}
