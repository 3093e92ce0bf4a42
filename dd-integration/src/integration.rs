//! The declaration of an integration, as static data.
//!
//! `#[datadog_integration(...)]` checks the declaration at compile time and emits it as an
//! [`IntegrationSpec`] through an impl of [`DatadogIntegration`]. The install flow, the clients and
//! `cargo xtask manifest` all read that one value: there is no second source of truth.

use crate::scope::{Scope, ScopeSet};

/// An integration declared with `#[datadog_integration(...)]`.
pub trait DatadogIntegration: Send + Sync + 'static {
    /// The declaration.
    const SPEC: &'static IntegrationSpec;
}

/// Everything an integration declares. Built by the attribute macro; read by the runtime and by
/// the submission-file generator.
///
/// The fields are public so that tools can read them; construct it only through the macro (the
/// struct gains fields between minor versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegrationSpec {
    /// The display name: tile title, OAuth client name, and `source_type_name` (50 characters
    /// at most).
    pub name: &'static str,
    /// The kebab-case identifier (`acme-pager`); immutable once published.
    pub app_id: &'static str,
    /// The listing's UUID (lowercase 8-4-4-4-12 hex), once it has one; immutable.
    pub app_uuid: Option<&'static str>,
    /// The tile description (80 characters at most).
    pub description: &'static str,
    /// The integration's version (`CARGO_PKG_VERSION` by default).
    pub version: &'static str,
    /// Who makes and supports it.
    pub author: Author,
    /// Classifier tags, in Datadog's `<Facet>::<Value>` form (`Category::Alerting`).
    pub classifier_tags: &'static [&'static str],
    /// The OAuth scopes the integration requests.
    pub scopes: &'static [Scope],
    /// The redirect URIs registered on the OAuth client(s); the first is the default.
    pub redirect_uris: &'static [&'static str],
    /// The onboarding URL the tile opens.
    pub onboarding_url: &'static str,
    /// The kinds of data the integration submits through the marketplace API key.
    pub submits: &'static [DataKind],
    /// The published OAuth client's id, once Datadog issued it.
    pub oauth_client_id: Option<&'static str>,
    /// The manifest's `assets.integration.source_type_id`, once assigned; immutable.
    pub source_type_id: Option<u32>,
    /// The manifest's `assets.integration.source_type_name` when it is not [`name`](Self::name)
    /// (a published integration's, which can never change); see
    /// [`IntegrationSpec::source_type_name`].
    pub source_type_name: Option<&'static str>,
    /// The published OAuth client's own name and description, when they are not the tile's
    /// (`name`, `description`).
    pub oauth_client: OAuthClientText,
    /// The `source` of the integration's logs (`ddsource`, `assets.logs.source`), when not
    /// its `app_id`.
    pub logs_source: Option<&'static str>,
    /// Whether the integration creates Datadog events by its own means, outside the SDK's
    /// intake (`assets.integration.events.creates_events` without `submits = [events]`).
    pub creates_events: bool,
    /// The prefix every declared metric starts with (`acme.`).
    pub metric_prefix: Option<&'static str>,
    /// The metrics it submits (metadata.csv).
    pub metrics: &'static [MetricSpec],
    /// The service checks it submits (service_checks.json).
    pub service_checks: &'static [ServiceCheckSpec],
    /// Other deployments (`environment(...)`): staging, preview... each with its onboarding
    /// URL and redirect URI on one origin. The top-level `onboarding` and first `redirect` are
    /// the default one.
    pub environments: &'static [Environment],
    /// What the manifest says of the listing beyond what the rest of the declaration implies:
    /// explicit classifier tags, resources, `tile.support`, the `metrics.check` subset,
    /// `auto_install` and `display_on_public_website`.
    pub listing: Listing,
}

/// The listing's own choices in `manifest.json`, each with the default a new folder gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing {
    /// The tile's classifier tags in full and in order, when declared (`classifier_tags =
    /// [...]`); otherwise they are derived from the categories, `submits` and the scopes.
    pub classifier_tags: Option<&'static [&'static str]>,
    /// `tile.resources`: documentation, blog posts, FAQs.
    pub resources: &'static [Resource],
    /// `tile.support` when it is not `README.md#Support` (`README.md#Troubleshooting`, an
    /// e-mail address).
    pub support: Option<&'static str>,
    /// `assets.integration.metrics.check`: the metrics whose arrival marks the integration
    /// as working, when not every declared metric.
    pub metrics_check: Option<&'static [&'static str]>,
    /// `assets.integration.auto_install`, when declared: otherwise a published folder's is
    /// kept and a new one gets `true`.
    pub auto_install: Option<bool>,
    /// `display_on_public_website`, when declared (once `true` it cannot go back): otherwise
    /// a published folder's is kept and a new one gets `true`.
    pub display_on_public_website: Option<bool>,
    /// `Some(false)` when the integration opts out of the starter dashboard the submission
    /// files get when they list none.
    pub starter_dashboard: Option<bool>,
    /// A paid listing on Datadog's Marketplace, when it is one: its product, pricing and
    /// terms; the submission files then follow the Marketplace's rules.
    pub marketplace: Option<Marketplace>,
    /// The log attributes (paths, `acme.job_id`) the log pipeline skeleton makes facets of.
    pub log_facets: &'static [&'static str],
}

/// A Marketplace listing (`marketplace(...)`): the manifest's `pricing` and `legal_terms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marketplace {
    /// The product half of `app_id` (`<vendor_id>-<product_id>`), kebab-case.
    pub product_id: &'static str,
    /// The End User License Agreement PDF, as a path in the folder (`assets/eula.pdf`).
    pub legal_terms: &'static str,
    /// How it is billed: one entry, or several of one billing type.
    pub pricing: &'static [Pricing],
}

/// One entry of the manifest's `pricing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pricing {
    /// How it is billed.
    pub billing_type: BillingType,
    /// The price in US dollars, as written (`"25"`, `"0.5"`).
    pub unit_price: &'static str,
    /// What a unit is, as the listing shows it ("Price per <unit_label> per month").
    pub unit_label: &'static str,
    /// For `tag_count`: the metering metric, `datadog.marketplace.<vendor>.<product>`.
    pub metric: Option<&'static str>,
    /// For `tag_count`: the tag whose distinct values are the billed units (`host`).
    pub tag: Option<&'static str>,
    /// A short description of the price.
    pub short_description: &'static str,
}

/// A Marketplace billing type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingType {
    /// Charged once.
    OneTime,
    /// Charged monthly.
    FlatFee,
    /// Charged monthly per distinct value of a tag on the metering metric.
    TagCount,
}

impl BillingType {
    /// As the manifest writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            BillingType::OneTime => "one_time",
            BillingType::FlatFee => "flat_fee",
            BillingType::TagCount => "tag_count",
        }
    }
}

impl Listing {
    /// What a declaration that says nothing of its listing gets.
    pub const DEFAULT: Listing = Listing {
        classifier_tags: None,
        resources: &[],
        support: None,
        metrics_check: None,
        auto_install: None,
        display_on_public_website: None,
        starter_dashboard: None,
        marketplace: None,
        log_facets: &[],
    };
}

impl Default for Listing {
    fn default() -> Self {
        Listing::DEFAULT
    }
}

/// One of `tile.resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// `blog`, `documentation`, `faq` or `other`.
    pub kind: &'static str,
    /// An absolute `https` URL.
    pub url: &'static str,
}

/// The OAuth client's own name and description (`assets/oauth_clients.json`), when they are not
/// the tile's. Merged integrations name their client differently from their tile in 16 of 37
/// folders, and describe it differently in 36.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OAuthClientText {
    /// The client's name.
    pub name: Option<&'static str>,
    /// The client's description.
    pub description: Option<&'static str>,
}

impl IntegrationSpec {
    /// `assets.integration.source_type_name`: the declared one, or the tile's name.
    pub const fn source_type_name(&self) -> &'static str {
        match self.source_type_name {
            Some(name) => name,
            None => self.name,
        }
    }

    /// The OAuth client's name: the declared one, or the tile's.
    pub const fn oauth_client_name(&self) -> &'static str {
        match self.oauth_client.name {
            Some(name) => name,
            None => self.name,
        }
    }

    /// The OAuth client's description: the declared one, or the tile's.
    pub const fn oauth_client_description(&self) -> &'static str {
        match self.oauth_client.description {
            Some(text) => text,
            None => self.description,
        }
    }

    /// The `source` its logs carry: the declared `logs_source`, or the `app_id`.
    pub const fn logs_source(&self) -> &'static str {
        match self.logs_source {
            Some(source) => source,
            None => self.app_id,
        }
    }
}

/// A deployment of the integration other than the default one, declared with
/// `environment(name = "staging", onboarding = "...", redirect = "...")` and picked at run
/// time with [`InstallerBuilder::environment`](crate::install::InstallerBuilder::environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Environment {
    /// Its name (`staging`).
    pub name: &'static str,
    /// Its redirect URI (also listed in [`IntegrationSpec::redirect_uris`]).
    pub redirect_uri: &'static str,
    /// Its onboarding URL, on the redirect URI's origin.
    pub onboarding_url: &'static str,
}

impl IntegrationSpec {
    /// The declared scopes as a set.
    pub fn scope_set(&self) -> ScopeSet {
        self.scopes.iter().cloned().collect()
    }

    /// Whether the integration sends data (and so needs the marketplace API key).
    pub fn submits_data(&self) -> bool {
        !self.submits.is_empty()
    }

    /// Whether the declaration asks for the marketplace API key (`api_keys_write`).
    pub fn creates_api_key(&self) -> bool {
        self.scopes.contains(&Scope::API_KEYS_WRITE)
    }

    /// The declared metric called `name`, if any.
    pub fn metric(&self, name: &str) -> Option<&'static MetricSpec> {
        self.metrics.iter().find(|m| m.name == name)
    }
}

/// The integration's maker, as the manifest's `author` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Author {
    /// The company name.
    pub name: &'static str,
    /// The company's homepage (`https://...`).
    pub homepage: &'static str,
    /// Where customers get support.
    pub support_email: &'static str,
    /// Where customers reach sales.
    pub sales_email: &'static str,
    /// The vendor's id (`author.vendor_id`): required on the Marketplace, optional in
    /// integrations-extras; immutable once published.
    pub vendor_id: Option<&'static str>,
}

/// A kind of data sent to Datadog's intake with the marketplace API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKind {
    /// Metrics (`/api/v2/series`).
    Metrics,
    /// Logs (`http-intake.logs.<domain>/api/v2/logs`).
    Logs,
    /// Events (`/api/v1/events`).
    Events,
    /// Service checks (`/api/v1/check_run`).
    ServiceChecks,
}

impl DataKind {
    /// The name as written in the declaration (`service_checks`).
    pub const fn as_str(self) -> &'static str {
        match self {
            DataKind::Metrics => "metrics",
            DataKind::Logs => "logs",
            DataKind::Events => "events",
            DataKind::ServiceChecks => "service_checks",
        }
    }
}

/// A [`DataKind`] as a type: the parameter of [`Submits`]. Implemented by the four markers in
/// [`kinds`] only.
pub trait KindMarker: kind_sealed::Sealed + Copy + Send + Sync + 'static {
    /// The kind this type stands for.
    const KIND: DataKind;
}

mod kind_sealed {
    /// Only the markers in [`kinds`](super::kinds) implement [`KindMarker`](super::KindMarker).
    pub trait Sealed {}
}

/// The data kinds as types, named as `submits = [...]` writes them.
#[allow(non_camel_case_types)]
pub mod kinds {
    use super::{DataKind, KindMarker, kind_sealed::Sealed};

    macro_rules! markers {
        ($($(#[$doc:meta])* $name:ident => $kind:ident,)*) => {$(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub enum $name {}
            impl Sealed for $name {}
            impl KindMarker for $name {
                const KIND: DataKind = DataKind::$kind;
            }
        )*};
    }

    markers! {
        /// `submits = [metrics]`: metric series.
        metrics => Metrics,
        /// `submits = [logs]`: log entries.
        logs => Logs,
        /// `submits = [events]`: events.
        events => Events,
        /// `submits = [service_checks]`: service check runs.
        service_checks => ServiceChecks,
    }
}

/// Proof, at the type level, that the integration `Self` declares the data kind `K` in
/// `submits = [...]`.
///
/// `#[datadog_integration(submits = [metrics, logs])]` implements `Submits<kinds::metrics>` and
/// `Submits<kinds::logs>` for the struct it is on, and only those: sending a [`Log`] through an
/// intake of an integration that does not submit logs does not compile, so the manifest's data
/// and what the integration sends agree. Do not implement it by hand.
///
/// [`Log`]: crate::telemetry::Log
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not declare `{K}` in `submits`",
    label = "this sends `{K}`",
    note = "add `{K}` to `submits = [...]` in `#[datadog_integration(...)]` on `{Self}`"
)]
pub trait Submits<K: KindMarker>: DatadogIntegration {}

/// A metric's type, as metadata.csv names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A value at a point in time.
    Gauge,
    /// A number of events in an interval.
    Count,
    /// A number of events per second.
    Rate,
    /// A distribution of values.
    Distribution,
}

impl MetricType {
    /// The name metadata.csv uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Count => "count",
            MetricType::Rate => "rate",
            MetricType::Distribution => "distribution",
        }
    }
}

/// Whether more of a metric is better, worse or neither (metadata.csv's `orientation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Orientation {
    /// Lower is better (-1).
    LowerIsBetter,
    /// Neither (0).
    Neutral,
    /// Higher is better (1).
    HigherIsBetter,
}

impl Orientation {
    /// The number metadata.csv uses.
    pub const fn as_i8(self) -> i8 {
        match self {
            Orientation::LowerIsBetter => -1,
            Orientation::Neutral => 0,
            Orientation::HigherIsBetter => 1,
        }
    }
}

/// A declared metric: one row of metadata.csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricSpec {
    /// The full metric name (`acme.pages.sent`).
    pub name: &'static str,
    /// Its type.
    pub metric_type: MetricType,
    /// Its unit, from Datadog's unit names (`page`, `second`).
    pub unit: Option<&'static str>,
    /// The unit it is per (`second` for pages per second).
    pub per_unit: Option<&'static str>,
    /// What it measures.
    pub description: &'static str,
    /// Whether more is better.
    pub orientation: Orientation,
    /// A short name for the UI.
    pub short_name: Option<&'static str>,
    /// The collection interval in seconds (metadata.csv's `interval`), when stated.
    pub interval: Option<u32>,
    /// The tag keys shown as examples (metadata.csv's `sample_tags`).
    pub sample_tags: &'static [&'static str],
    /// metadata.csv's `curated_metric`: `cpu` and/or `memory`.
    pub curated_metric: &'static [&'static str],
}

/// A declared service check: one entry of service_checks.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCheckSpec {
    /// The check name (`acme.can_connect`).
    pub name: &'static str,
    /// The human name shown in Datadog.
    pub title: &'static str,
    /// What it checks.
    pub description: &'static str,
    /// The statuses it can report, of `ok`, `warning`, `critical`, `unknown`.
    pub statuses: &'static [&'static str],
}
