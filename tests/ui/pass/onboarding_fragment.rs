// An onboarding URL may route a single-page app on its fragment (merged integrations do; RFC
// 6749 forbids a fragment only in a redirect URI), and a category merged manifests use passes.
#![deny(warnings)]
use dd_integration::datadog_integration;

#[datadog_integration(
    name = "Acme Queue",
    scopes = [monitors_read],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/app#/integrations/datadog",
    categories = ["Message Queues", "Data Stores"],
)]
struct AcmeQueue;

fn main() {
    let _ = AcmeQueue;
}
