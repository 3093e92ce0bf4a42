// Every mistake of a declaration is reported in one compile, and nothing else: the struct is
// kept, and its uses below raise no follow-on error.
use dd_integration::api::{self, v1};
use dd_integration::{DatadogIntegration, datadog_integration};

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitor_read, api_keys_write],
    redirect = "http://acme.example/callback",
    onboarding = "https://acme.example/{tenant}/connect",
    submits = [metrics],
    app_id = "acme pager",
    nmae = "x",
)]
pub struct AcmePager {
    pub region: &'static str,
}

fn main() {
    let pager = AcmePager { region: "eu" };
    let _ = (pager.region, AcmePager::SPEC.name);
    let _ = api::require::<AcmePager, v1::CreateMonitor>();
}
