use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Pager",
    app_uuid = "9A5B1C4E-2F3D-4E6A-8B7C-0D1E2F3A4B5C",
    oauth_client_id = "not-a-uuid",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
struct AcmePager;

fn main() {}
