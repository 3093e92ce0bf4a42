//! The submission files' view of Datadog's vocabularies and value formats. The facts live once,
//! in `dd_integration_facts` (shared with the attribute macro); this module adapts them to the
//! validator's wording and adds what only the renderer needs.

use dd_integration_facts::{names, url};

pub(crate) use dd_integration_facts::suggest::closest;
pub(crate) use dd_integration_facts::vocabulary::{
    LOG_COLLECTION, SHARED_METRIC_PREFIXES, TagCheck, classifier_tag, folder_name,
    normalize_integration, normalize_metric_name,
};

/// `Queried Data Type::` values for the scopes that read each kind of data.
const QUERIED: &[(&str, &[&str])] = &[
    ("Metrics", &["metrics_read", "timeseries_query"]),
    ("Logs", &["logs_read_data", "logs_read_index_data"]),
    ("Traces", &["apm_read"]),
    ("Events", &["events_read"]),
    ("Incidents", &["incident_read"]),
];

/// The classifier tags of a declaration: the OS trio every API integration carries, the
/// declared categories, `Offering::Integration`, and one data-type tag for each kind of data it
/// submits (`submits`) or reads (its scopes).
pub(crate) fn classifier_tags(spec: &dd_integration::IntegrationSpec) -> Vec<String> {
    use dd_integration::DataKind;
    let mut tags: Vec<String> = ["Linux", "Windows", "macOS"]
        .iter()
        .map(|os| format!("Supported OS::{os}"))
        .collect();
    tags.extend(spec.classifier_tags.iter().map(|t| (*t).to_owned()));
    if spec.submits.contains(&DataKind::Logs) {
        // ddev's `LogsCategoryValidator`: the README's `### Logs` asks for this category.
        tags.push(LOG_COLLECTION.to_owned());
    }
    tags.push("Offering::Integration".to_owned());
    for (kind, value) in [
        (DataKind::Metrics, "Metrics"),
        (DataKind::Logs, "Logs"),
        (DataKind::Events, "Events"),
    ] {
        if spec.submits.contains(&kind) {
            tags.push(format!("Submitted Data Type::{value}"));
        }
    }
    for (value, scopes) in QUERIED {
        if spec.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
            tags.push(format!("Queried Data Type::{value}"));
        }
    }
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert(t.clone()));
    tags
}

/// The repository the folder goes to: `marketplace` for a Marketplace listing (private: access
/// through marketplace@datadoghq.com), `integrations-extras` otherwise.
pub(crate) fn repository(spec: &dd_integration::IntegrationSpec) -> &'static str {
    if spec.listing.marketplace.is_some() {
        "marketplace"
    } else {
        "integrations-extras"
    }
}

/// A lowercase canonical UUID: 8-4-4-4-12 hex digits.
pub(crate) fn is_uuid(value: &str) -> bool {
    names::uuid(value).is_ok()
}

/// `app_id` (and `vendor_id`): kebab-case, not starting with `datadog`; the reason when not.
pub(crate) fn app_id_problem(value: &str) -> Option<String> {
    names::app_id(value).err().map(|e| format!("`{value}` {e}"))
}

/// An e-mail address as the manifest takes it.
pub(crate) fn is_email(value: &str) -> bool {
    names::email(value).is_ok()
}

/// An absolute http(s) URL with a host.
pub(crate) fn is_web_url(value: &str) -> bool {
    names::homepage(value).is_ok()
}

/// Why an OAuth URL is refused (see [`url::check`]); an onboarding URL may carry a fragment
/// (Datadog sends the browser there; RFC 6749 forbids a fragment only in a redirect URI).
pub(crate) fn oauth_url_problem(value: &str, redirect: bool) -> Option<String> {
    let checked = if redirect {
        url::check(value)
    } else {
        url::check_onboarding(value)
    };
    checked.err().map(|e| format!("`{value}` {e}"))
}

/// A unit name metadata.csv accepts.
pub(crate) fn is_unit(name: &str) -> bool {
    names::is_unit(name)
}

/// A unit name close to `name`, for a hint.
pub(crate) fn closest_unit(name: &str) -> Option<&'static str> {
    closest(name, &dd_integration_facts::catalog::UNIT_NAMES)
}

/// A unit of time: metadata.csv refuses a time per time.
pub(crate) fn is_time_unit(name: &str) -> bool {
    names::is_time_unit(name)
}

/// A service check name (ddev `validate service-checks`); the reason when not.
pub(crate) fn service_check_name_problem(name: &str) -> Option<String> {
    names::service_check_name(name).err()
}

/// Percent-encodes a query value (the API Keys page's `filter`): unreserved characters stay.
pub(crate) fn query_value(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validator_words_the_shared_facts() {
        assert!(is_uuid("5f0c3b9e-8d4a-4c1e-9f2b-7a6d5e4c3b2a"));
        assert!(!is_uuid("5F0C3B9E-8D4A-4C1E-9F2B-7A6D5E4C3B2A"));
        assert!(!is_uuid("5f0c3b9e8d4a4c1e9f2b7a6d5e4c3b2a"));
        assert_eq!(app_id_problem("acme-pager"), None);
        assert!(app_id_problem("Acme_Pager").is_some());
        assert!(app_id_problem("datadog-acme").is_some());
        assert!(is_email("support@acme.example"));
        assert!(!is_email("support@acme"));
        assert!(!is_email("s upport@acme.example"));
        assert!(!is_email("a@b..c"));
        assert!(!is_email("a\u{7}@b.c"));
        assert!(is_unit("millisecond") && !is_unit("milisecond"));
        assert_eq!(closest_unit("milisecond"), Some("millisecond"));
        assert_eq!(query_value("Acme On-Call"), "Acme%20On-Call");
        assert!(oauth_url_problem("http://localhost:3000/cb", true).is_none());
        assert!(oauth_url_problem("http://acme.example/cb", true).is_some());
        assert!(oauth_url_problem("https://acme.example/cb#x", true).is_some());
        assert!(oauth_url_problem("https://acme.example/connect#/datadog", false).is_none());
        assert!(service_check_name_problem("acme.can_connect").is_none());
        assert!(service_check_name_problem("acme._x").is_some());
    }
}
