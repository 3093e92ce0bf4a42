// The installer's integration is fixed once, in its type: an API client (or intake) of another
// integration does not compile, where it used to panic at run time.
use dd_integration::client::ApiClient;
use dd_integration::{Installation, Installer, datadog_integration};

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
struct AcmePager;

#[datadog_integration(
    name = "Acme Admin",
    scopes = [monitors_read, user_access_read],
    redirect = "https://acme.example/admin/callback",
    onboarding = "https://acme.example/admin/connect",
)]
struct AcmeAdmin;

fn admin_api(installer: &Installer<AcmePager>, installation: &Installation) -> ApiClient<AcmeAdmin> {
    installer.api(installation)
}

fn main() {
    let _ = admin_api;
}
