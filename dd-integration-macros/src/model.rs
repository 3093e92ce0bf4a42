//! The checked declaration: what `validate` produces and `expand` reads. Every value here has
//! passed Datadog's rules, so expansion cannot fail.

use proc_macro2::Span;
use syn::{Ident, ItemStruct, Path};

/// One integration, as declared.
pub struct Integration {
    /// The struct, emitted unchanged.
    pub item: ItemStruct,
    /// Where the runtime crate is (`::dd_integration` unless `crate = ...`).
    pub krate: Path,
    pub name: String,
    pub app_id: String,
    pub app_uuid: Option<String>,
    pub description: String,
    pub author: Author,
    /// `Category::<value>` tags.
    pub classifier_tags: Vec<String>,
    /// The scopes as written (their spans point at the user's tokens).
    pub scopes: Vec<Ident>,
    /// Those of `scopes` declared `uncatalogued(...)`: no marker type, requested by name.
    pub uncatalogued_scopes: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub onboarding_url: String,
    pub submits: Vec<DataKind>,
    pub oauth_client_id: Option<String>,
    pub source_type_id: Option<u32>,
    pub source_type_name: Option<String>,
    pub oauth_client_name: Option<String>,
    pub oauth_client_description: Option<String>,
    pub logs_source: Option<String>,
    pub creates_events: bool,
    pub metric_prefix: Option<String>,
    pub metrics: Vec<Metric>,
    pub service_checks: Vec<ServiceCheck>,
    /// `environment(...)`s: other deployments, each with its onboarding URL and redirect URI.
    pub environments: Vec<Environment>,
    /// `classifier_tags = [...]`: the tile's tags in full, when declared.
    pub explicit_tags: Option<Vec<String>>,
    /// `resource(type = ..., url = ...)`s: (kind, url).
    pub resources: Vec<(String, String)>,
    /// `tile_support = "..."`.
    pub tile_support: Option<String>,
    /// `metrics_check = [...]`.
    pub metrics_check: Option<Vec<String>>,
    pub auto_install: Option<bool>,
    pub display_on_public_website: Option<bool>,
    pub starter_dashboard: Option<bool>,
    pub marketplace: Option<Marketplace>,
    pub log_facets: Vec<String>,
    /// `metadata_csv = "..."`: the file read, for the build to track it.
    pub metadata_csv: Option<String>,
    /// Legal but suspicious declarations, reported as warnings.
    pub warnings: Vec<Warning>,
}

pub struct Author {
    pub name: String,
    pub homepage: String,
    pub support_email: String,
    pub sales_email: String,
    pub vendor_id: Option<String>,
}

/// `DataKind` of the runtime crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    Metrics,
    Logs,
    Events,
    ServiceChecks,
}

impl DataKind {
    /// As written in `submits = [...]`, in the runtime's order.
    pub const ALL: [(&'static str, DataKind); 4] = [
        ("metrics", DataKind::Metrics),
        ("logs", DataKind::Logs),
        ("events", DataKind::Events),
        ("service_checks", DataKind::ServiceChecks),
    ];

    /// As written in `submits = [...]`: also the name of its marker type in `kinds`.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(name, _)| name)
    }

    /// The runtime variant's name.
    pub fn variant(self) -> &'static str {
        match self {
            DataKind::Metrics => "Metrics",
            DataKind::Logs => "Logs",
            DataKind::Events => "Events",
            DataKind::ServiceChecks => "ServiceChecks",
        }
    }
}

pub struct Metric {
    pub name: String,
    /// The runtime `MetricType` variant (`Gauge`).
    pub metric_type: &'static str,
    pub unit: Option<String>,
    pub per_unit: Option<String>,
    pub description: String,
    /// The runtime `Orientation` variant (`HigherIsBetter`).
    pub orientation: &'static str,
    pub short_name: Option<String>,
    pub interval: Option<u32>,
    pub sample_tags: Vec<String>,
    pub curated_metric: Vec<String>,
}

pub struct Marketplace {
    pub product_id: String,
    pub legal_terms: String,
    pub pricing: Vec<Pricing>,
}

pub struct Pricing {
    /// The runtime `BillingType` variant (`TagCount`).
    pub billing_type: &'static str,
    pub unit_price: String,
    pub unit_label: String,
    pub metric: Option<String>,
    pub tag: Option<String>,
    pub short_description: String,
}

pub struct Environment {
    pub name: String,
    pub redirect: String,
    pub onboarding: String,
}

pub struct ServiceCheck {
    pub name: String,
    pub title: String,
    pub description: String,
    pub statuses: Vec<String>,
}

/// A warning at the user's token.
pub struct Warning {
    pub span: Span,
    pub message: String,
}
