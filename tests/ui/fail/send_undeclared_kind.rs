// An integration that declares `submits = [metrics]` cannot send logs: the manifest's data and
// what the integration sends agree, and the error names the kind and where to add it.
use dd_integration::datadog_integration;
use dd_integration::telemetry::{Intake, Log};

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

async fn forward(intake: &Intake<AcmePager>) {
    let _ = intake.send(Log::new("paged the on-call engineer")).await;
}

fn main() {
    let _ = forward;
}
