//! Acme Exporter: forwards the health of Acme's platform to Datadog as metrics, events, a
//! service check and its job logs.
//!
//! It calls no bearer API; it submits data, which Datadog accepts only with the marketplace API
//! key that `api_keys_write` creates at install.

use dd_integration::datadog_integration;
use dd_integration::telemetry::{Check, Metric};

/// The exporter integration.
#[datadog_integration(
    name = "Acme Exporter",
    scopes = [api_keys_write],
    redirect = "https://exporter.acme.example/datadog/callback",
    onboarding = "https://exporter.acme.example/datadog/connect",
    submits = [metrics, events, service_checks, logs],
    log_facets = ["acme_exporter.job_id", "acme_exporter.queue"],
    app_uuid = "0b9e4d2c-6a1f-4e3b-8c5d-2f7a9b1e3c4d",
    description = "Acme platform health in Datadog: queue depth, job latency and deploys.",
    author(
        name = "Acme Inc.",
        homepage = "https://acme.example",
        support_email = "support@acme.example",
        sales_email = "sales@acme.example",
    ),
    categories = ["Metrics", "Event Management"],
    source_type_id = 98_765_432,
    metric_prefix = "acme_exporter.",
    metric(
        name = "acme_exporter.queue.depth",
        type = gauge,
        unit = "job",
        description = "Jobs waiting in the queue.",
        orientation = lower_is_better,
        short_name = "queue depth",
    ),
    metric(
        name = "acme_exporter.jobs.completed",
        type = count,
        unit = "job",
        description = "Jobs completed in the interval.",
        orientation = higher_is_better,
    ),
    metric(
        name = "acme_exporter.jobs.latency",
        type = gauge,
        unit = "millisecond",
        description = "Time from enqueue to completion.",
        orientation = lower_is_better,
    ),
    service_check(
        name = "acme_exporter.can_connect",
        title = "Acme API reachable",
        description = "Whether the exporter reached Acme's API on its last run.",
    ),
)]
pub struct AcmeExporter;

/// The queue depth, checked against the declaration at compile time.
pub const QUEUE_DEPTH: Metric<AcmeExporter> = Metric::declared("acme_exporter.queue.depth");

/// Whether Acme's API answered, checked against the declaration at compile time.
pub const CAN_CONNECT: Check<AcmeExporter> = Check::declared("acme_exporter.can_connect");

#[cfg(test)]
mod tests {
    use dd_integration::integration::{MetricType, Orientation};
    use dd_integration::{DataKind, DatadogIntegration};

    use super::*;

    #[test]
    fn declaration_is_the_spec() {
        let spec = AcmeExporter::SPEC;
        assert_eq!(spec.app_id, "acme-exporter");
        assert!(spec.creates_api_key() && spec.submits_data());
        assert_eq!(
            spec.submits,
            [
                DataKind::Metrics,
                DataKind::Events,
                DataKind::ServiceChecks,
                DataKind::Logs
            ]
        );
        assert_eq!(spec.source_type_id, Some(98_765_432));
        assert_eq!(spec.metric_prefix, Some("acme_exporter."));
        let depth = spec.metric("acme_exporter.queue.depth").unwrap();
        assert_eq!(depth.metric_type, MetricType::Gauge);
        assert_eq!(depth.orientation, Orientation::LowerIsBetter);
        assert_eq!(depth.unit, Some("job"));
        assert_eq!(depth.short_name, Some("queue depth"));
        assert_eq!(spec.service_checks[0].name, "acme_exporter.can_connect");
    }
}
