// The API client does not compile a call of an operation whose scope the integration did not
// declare, and says which scope to add.
use dd_integration::api::v1;
use dd_integration::client::ApiClient;
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme On-Call",
    scopes = [monitors_read],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
)]
struct AcmeOnCall;

async fn mute(api: &ApiClient<AcmeOnCall>) {
    let _ = api.call::<v1::ListMonitors>().send().await;
    let _ = api.call::<v1::DeleteMonitor>();
}

fn main() {
    let _ = mute;
}
