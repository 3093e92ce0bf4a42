// Plain http is accepted on loopback only (development).
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = ["http://acme.example/callback", "http://localhost:3000/callback"],
    onboarding = "ftp://acme.example/connect",
)]
struct AcmePager;

fn main() {}
