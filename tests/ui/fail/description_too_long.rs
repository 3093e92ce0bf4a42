use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    description = "Pages the on-call engineer whenever a Datadog monitor fires, then keeps on paging.",
)]
struct AcmePager;

fn main() {}
