// An operation that needs two scopes does not compile when the integration declares only one
// of them: the error names the scope still missing.
use dd_integration::api::v2;
use dd_integration::client::ApiClient;
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Billing",
    scopes = [usage_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
struct AcmeBilling;

fn attribution(api: &ApiClient<AcmeBilling>) {
    let _ = api.call::<v2::GetMonthlyCostAttribution>();
}

fn main() {
    let _ = attribution;
}
