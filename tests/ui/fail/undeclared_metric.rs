// A metric the declaration does not list does not compile, so metadata.csv and the data agree.
use dd_integration::datadog_integration;
use dd_integration::telemetry::Metric;

#[datadog_integration(
    name = "Acme Pager",
    scopes = [api_keys_write],
    redirect = "https://acme.example/callback",
    onboarding = "https://acme.example/connect",
    submits = [metrics],
    metric_prefix = "acme.",
    metric(name = "acme.pages.sent", type = count, unit = "page"),
)]
struct AcmePager;

const PAGES: Metric<AcmePager> = Metric::declared("acme.pages.sent");
const TYPO: Metric<AcmePager> = Metric::declared("acme.page.sent");

fn main() {
    let _ = (PAGES, TYPO);
}
