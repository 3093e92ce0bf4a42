// Every key of the attribute, with a struct that has fields and other attributes.
use dd_integration::api::{self, v1, v2};
use dd_integration::{DataKind, DatadogIntegration, datadog_integration};
use dd_integration::integration::{MetricType, Orientation};

#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read, monitors_write, incident_write, timeseries_query, api_keys_write],
    redirect = [
        "https://acme.example/datadog/callback",
        "https://staging.acme.example/datadog/callback",
        "http://localhost:3000/datadog/callback",
        "http://[::1]:3000/datadog/callback",
    ],
    onboarding = "https://app.acme.example/datadog/connect?from=tile",
    submits = [metrics, logs, events, service_checks],
    app_id = "acme-pager",
    app_uuid = "9a5b1c4e-2f3d-4e6a-8b7c-0d1e2f3a4b5c",
    description = "Pages the on-call engineer when a Datadog monitor alerts.",
    author(
        name = "Acme Inc.",
        homepage = "https://acme.example",
        support_email = "support@acme.example",
        sales_email = "sales@acme.example",
    ),
    categories = ["Alerting", "Incidents", "AI/ML", "Configuration & Deployment"],
    oauth_client_id = "2c7e9f4a-1b3d-11ef-8a6c-da7ad0900002",
    source_type_id = 12345678,
    metric_prefix = "acme.",
    metric(
        name = "acme.pages.sent",
        type = count,
        unit = "page",
        per_unit = "minute",
        description = "Pages sent.",
        orientation = higher_is_better,
        short_name = "pages",
    ),
    metric(name = "acme.ack.latency", type = gauge, unit = "second", orientation = lower_is_better),
    metric(name = "acme.queue", type = rate),
    service_check(name = "acme.can_connect", title = "Acme reachable", description = "Can reach Acme."),
    crate = ::dd_integration,
)]
#[derive(Debug, Default)]
pub struct AcmePager {
    /// Fields are kept.
    pub region: String,
}

fn main() {
    let spec = AcmePager::SPEC;
    assert_eq!(spec.app_uuid, Some("9a5b1c4e-2f3d-4e6a-8b7c-0d1e2f3a4b5c"));
    assert_eq!(spec.description, "Pages the on-call engineer when a Datadog monitor alerts.");
    assert_eq!(spec.author.sales_email, "sales@acme.example");
    assert_eq!(spec.classifier_tags[2], "Category::AI/ML");
    assert_eq!(spec.oauth_client_id, Some("2c7e9f4a-1b3d-11ef-8a6c-da7ad0900002"));
    assert_eq!(spec.source_type_id, Some(12_345_678));
    assert_eq!(spec.submits.len(), 4);
    assert!(spec.submits.contains(&DataKind::ServiceChecks));
    assert_eq!(spec.metrics.len(), 3);
    let pages = spec.metric("acme.pages.sent").unwrap();
    assert_eq!(pages.metric_type, MetricType::Count);
    assert_eq!(pages.per_unit, Some("minute"));
    assert_eq!(pages.orientation, Orientation::HigherIsBetter);
    assert_eq!(spec.metrics[2].metric_type, MetricType::Rate);
    assert_eq!(spec.service_checks[0].title, "Acme reachable");
    assert_eq!(AcmePager::default().region, "");
    let _ = api::require::<AcmePager, v1::CreateMonitor>();
    let _ = api::require::<AcmePager, v2::CreateIncident>();
    let _ = api::require::<AcmePager, v2::QueryTimeseriesData>();
}
