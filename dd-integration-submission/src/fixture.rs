//! Declarations for the tests, shaped like the workspace's examples.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Folder, render_at};
use dd_integration::Scope;
use dd_integration::integration::{Author, MetricSpec, MetricType, Orientation, ServiceCheckSpec};
use dd_integration::{DataKind, IntegrationSpec};

const AUTHOR: Author = Author {
    name: "Acme Inc.",
    homepage: "https://acme.example",
    support_email: "support@acme.example",
    sales_email: "sales@acme.example",
    vendor_id: None,
};

/// An integration that sends metrics, events and a service check, with every id declared.
pub(crate) const EXPORTER: IntegrationSpec = IntegrationSpec {
    environments: &[],
    listing: dd_integration::integration::Listing::DEFAULT,
    name: "Acme Exporter",
    app_id: "acme-exporter",
    app_uuid: Some("0b9e4d2c-6a1f-4e3b-8c5d-2f7a9b1e3c4d"),
    description: "Acme platform health in Datadog: queue depth, job latency and deploys.",
    version: "1.0.0",
    author: AUTHOR,
    classifier_tags: &["Category::Metrics", "Category::Event Management"],
    scopes: &[Scope::API_KEYS_WRITE],
    redirect_uris: &["https://exporter.acme.example/datadog/callback"],
    onboarding_url: "https://exporter.acme.example/datadog/connect",
    submits: &[DataKind::Metrics, DataKind::Events, DataKind::ServiceChecks],
    oauth_client_id: Some("2c7e9f4a-1b3d-11ef-8a6c-da7ad0900002"),
    source_type_id: Some(98_765_432),
    source_type_name: None,
    oauth_client: dd_integration::integration::OAuthClientText {
        name: None,
        description: None,
    },
    logs_source: None,
    creates_events: false,
    metric_prefix: Some("acme_exporter."),
    metrics: &[
        MetricSpec {
            name: "acme_exporter.queue.depth",
            metric_type: MetricType::Gauge,
            unit: Some("job"),
            per_unit: None,
            description: "Jobs waiting in the queue, by priority.",
            orientation: Orientation::LowerIsBetter,
            short_name: Some("queue depth"),
            interval: None,
            sample_tags: &[],
            curated_metric: &[],
        },
        MetricSpec {
            name: "acme_exporter.jobs.rate",
            metric_type: MetricType::Rate,
            unit: Some("job"),
            per_unit: Some("second"),
            description: "Jobs completed per second.",
            orientation: Orientation::HigherIsBetter,
            short_name: None,
            interval: None,
            sample_tags: &[],
            curated_metric: &[],
        },
    ],
    service_checks: &[ServiceCheckSpec {
        name: "acme_exporter.can_connect",
        title: "Acme API reachable",
        description: "Whether the exporter reached Acme's API on its last run.",
        statuses: &["ok", "warning", "critical", "unknown"],
    }],
};

/// An integration that only reads Datadog, without the ids a published one has.
pub(crate) const ONCALL: IntegrationSpec = IntegrationSpec {
    environments: &[],
    listing: dd_integration::integration::Listing::DEFAULT,
    name: "Acme On-Call",
    app_id: "acme-on-call",
    app_uuid: None,
    description: "Page the right person when a Datadog monitor alerts.",
    version: "1.0.0",
    author: AUTHOR,
    classifier_tags: &["Category::Alerting", "Category::Incidents"],
    scopes: &[
        Scope::MONITORS_READ,
        Scope::INCIDENT_READ,
        Scope::INCIDENT_WRITE,
    ],
    redirect_uris: &[
        "https://oncall.acme.example/datadog/oauth/callback",
        "http://localhost:8080/datadog/oauth/callback",
    ],
    onboarding_url: "https://oncall.acme.example/datadog/connect",
    submits: &[],
    oauth_client_id: None,
    source_type_id: None,
    source_type_name: None,
    oauth_client: dd_integration::integration::OAuthClientText {
        name: None,
        description: None,
    },
    logs_source: None,
    creates_events: false,
    metric_prefix: None,
    metrics: &[],
    service_checks: &[],
};

/// A fixed time: 2026-11-18.
pub(crate) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

/// The folder rendered from `spec`, as written to an empty directory.
pub(crate) fn folder(spec: &IntegrationSpec) -> Folder {
    render_at(spec, None, now()).unwrap().apply(None)
}
