//! Datadog's vocabularies and value formats for the submission files: classifier tags, names,
//! identifiers, units.

use super::unit_names::UNIT_NAMES;

/// `Category::` values that merged manifests use and reviewers accept. The same list the
/// attribute macro accepts for `categories`.
pub(crate) const CATEGORIES: &[&str] = &[
    "AI/ML",
    "AWS",
    "Alerting",
    "Automation",
    "Azure",
    "Caching",
    "Cloud",
    "Collaboration",
    "Compliance",
    "Configuration & Deployment",
    "Containers",
    "Cost Management",
    "Data Stores",
    "Developer Tools",
    "Event Management",
    "Google Cloud",
    "Incidents",
    "Issue Tracking",
    "Kubernetes",
    "Languages",
    "Log Collection",
    "Metrics",
    "Mobile",
    "Network",
    "Notifications",
    "OS & System",
    "Orchestration",
    "Provisioning",
    "Security",
    "Source Control",
    "Testing",
    "Tracing",
];

/// `Category::` spellings Datadog's docs list that reviewers renamed, with the accepted one.
const CATEGORIES_RENAMED: &[(&str, &str)] = &[
    ("Notification", "Notifications"),
    ("Data Store", "Data Stores"),
    ("AI", "AI/ML"),
    ("Machine Learning & LLM", "AI/ML"),
];

/// Other `Category::` values that appear in Datadog's docs or in a few merged manifests: they
/// may pass, but are outside the set known to pass review.
const CATEGORIES_RARE: &[&str] = &[
    "Autodiscovery",
    "Content Delivery Network",
    "Exceptions",
    "IOT",
    "ISP",
    "IoT",
    "Mainframe",
    "Mainframes",
    "Marketplace",
    "Message Queues",
    "Messaging",
    "Monitoring",
    "OS System",
    "Oracle",
    "Processing",
    "Profiling",
    "RUM",
    "SAP",
    "SIEM",
    "SNMP",
    "Web",
];

/// `Offering::` values.
const OFFERINGS: &[&str] = &[
    "Integration",
    "Professional Service",
    "Software License",
    "UI Extension",
];

/// `Queried Data Type::` and `Submitted Data Type::` values.
const DATA_TYPES: &[&str] = &["Metrics", "Logs", "Traces", "Events", "Incidents"];

/// `Supported OS::` values.
const OPERATING_SYSTEMS: &[&str] = &[
    "Android", "Any", "HP-UX", "IBM i/OS", "IBM z/OS", "iOS", "Linux", "macOS", "Solaris",
    "Windows",
];

/// Each facet with its values.
const FACETS: &[(&str, &[&str])] = &[
    ("Category", CATEGORIES),
    ("Offering", OFFERINGS),
    ("Queried Data Type", DATA_TYPES),
    ("Submitted Data Type", DATA_TYPES),
    ("Supported OS", OPERATING_SYSTEMS),
];

/// What checking a classifier tag found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TagCheck {
    Accepted,
    /// Probably accepted, but outside the known-good set: the reason.
    Doubtful(String),
    /// Refused: the reason, with the fix.
    Refused(String),
}

/// Checks one classifier tag against the vocabulary.
pub(crate) fn classifier_tag(tag: &str) -> TagCheck {
    let Some((facet, value)) = tag.split_once("::") else {
        return TagCheck::Refused(format!(
            "`{tag}` is not `Facet::Value` (such as `Category::Alerting`)"
        ));
    };
    let Some((_, values)) = FACETS.iter().find(|(f, _)| *f == facet) else {
        let facets: Vec<&str> = FACETS.iter().map(|(f, _)| *f).collect();
        return TagCheck::Refused(format!(
            "`{tag}` has the facet `{facet}`, which is not one of {}{}",
            facets.join(", "),
            hint(closest(facet, &facets))
        ));
    };
    if values.contains(&value) {
        return TagCheck::Accepted;
    }
    if facet == "Category" {
        if let Some((_, renamed)) = CATEGORIES_RENAMED.iter().find(|(from, _)| *from == value) {
            return TagCheck::Refused(format!(
                "`{tag}` is in Datadog's docs but reviewers rename it: write `Category::{renamed}`"
            ));
        }
        if CATEGORIES_RARE.contains(&value) {
            return TagCheck::Doubtful(format!(
                "`{tag}` is outside the categories known to pass review{}",
                hint(
                    closest(value, CATEGORIES)
                        .map(|v| format!("Category::{v}"))
                        .as_deref()
                )
            ));
        }
    }
    TagCheck::Refused(format!(
        "`{tag}` is not a value of `{facet}::`{}",
        hint(
            closest(value, values)
                .map(|v| format!("{facet}::{v}"))
                .as_deref()
        )
    ))
}

fn hint(suggestion: Option<&str>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

/// The value of `candidates` closest to `value`, when one is close (case and separators
/// forgiven, then at most a third of the letters wrong).
pub(crate) fn closest<'a>(value: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let folded = fold(value);
    if folded.is_empty() || folded.len() > 64 {
        return None;
    }
    candidates
        .iter()
        .map(|c| (edit_distance(&folded, &fold(c)), *c))
        .filter(|(d, c)| *d <= (fold(c).len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

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
pub(crate) fn classifier_tags(spec: &crate::IntegrationSpec) -> Vec<String> {
    use crate::DataKind;
    let mut tags: Vec<String> = ["Linux", "Windows", "macOS"]
        .iter()
        .map(|os| format!("Supported OS::{os}"))
        .collect();
    tags.extend(spec.classifier_tags.iter().map(|t| (*t).to_owned()));
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

/// A lowercase canonical UUID: 8-4-4-4-12 hex digits.
pub(crate) fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')))
}

/// `app_id` (and `vendor_id`): kebab-case, not starting with `datadog`; the reason when not.
pub(crate) fn app_id_problem(value: &str) -> Option<String> {
    let kebab = !value.is_empty()
        && value.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !kebab {
        return Some(format!(
            "`{value}` is not kebab-case (lowercase letters and digits in words joined by single dashes)"
        ));
    }
    if value.starts_with("datadog") {
        return Some(format!(
            "`{value}` starts with `datadog`, which Datadog keeps for its own integrations"
        ));
    }
    None
}

/// The folder name of an integration: `app_id` with `_` for `-`.
pub(crate) fn folder_name(app_id: &str) -> String {
    app_id.replace('-', "_")
}

/// An e-mail address as the manifest takes it: ASCII, one `@`, a dot in the domain, no spaces.
pub(crate) fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    value.is_ascii()
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An absolute http(s) URL with a host.
pub(crate) fn is_web_url(value: &str) -> bool {
    url::Url::parse(value)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Why an OAuth URL is refused: not absolute https (http only on loopback), or with a fragment
/// or user info.
pub(crate) fn oauth_url_problem(value: &str) -> Option<String> {
    let Ok(url) = url::Url::parse(value) else {
        return Some(format!("`{value}` is not an absolute URL"));
    };
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Some(format!("`{value}` is not https (http only on loopback)")),
    }
    if url.fragment().is_some() {
        return Some(format!("`{value}` has a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some(format!("`{value}` carries user info"));
    }
    None
}

/// metadata.csv's `integration` value: `source_type_name` with every run of characters other
/// than ASCII letters, digits and `-` made one `_`, trimmed of `_`, lowercase.
pub(crate) fn normalize_integration(source_type_name: &str) -> String {
    let mut out = String::new();
    for c in source_type_name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

/// A metric name as ddev normalizes it: each run of characters outside `[A-Za-z0-9_.]` and any
/// leading run of non-letters become one `_`, `_` around a `.` go, and no `_` at either end.
pub(crate) fn normalize_metric_name(name: &str) -> String {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut replaced = String::new();
    let mut chars = name.chars().peekable();
    if chars.peek().is_some_and(|c| !c.is_ascii_alphabetic()) {
        while chars.peek().is_some_and(|c| !c.is_ascii_alphabetic()) {
            chars.next();
        }
        replaced.push('_');
    }
    let mut in_run = false;
    for c in chars {
        if valid(c) {
            replaced.push(c);
            in_run = false;
        } else if !in_run {
            replaced.push('_');
            in_run = true;
        }
    }
    let mut out = String::new();
    for (i, part) in replaced.split('.').enumerate() {
        if i > 0 {
            while out.ends_with('_') {
                out.pop();
            }
            out.push('.');
            out.push_str(part.trim_start_matches('_'));
        } else {
            out.push_str(part);
        }
    }
    out.trim_matches('_').to_owned()
}

/// Prefixes metadata.csv accepts besides the integration's own.
pub(crate) const SHARED_METRIC_PREFIXES: &[&str] = &[
    "system.", "jvm.", "http.", "datadog.", "sftp.", "process.", "runtime.", "otelcol_",
];

/// A unit name metadata.csv accepts.
pub(crate) fn is_unit(name: &str) -> bool {
    UNIT_NAMES.binary_search(&name).is_ok()
}

/// A unit name close to `name`, for a hint.
pub(crate) fn closest_unit(name: &str) -> Option<&'static str> {
    closest(name, &UNIT_NAMES)
}

/// Time units: metadata.csv refuses a time per time.
pub(crate) fn is_time_unit(name: &str) -> bool {
    [
        "nanosecond",
        "microsecond",
        "millisecond",
        "second",
        "minute",
        "hour",
        "day",
        "week",
    ]
    .contains(&name)
}

/// A service check name: `[A-Za-z0-9_.]`, no `__`, `..`, `_.`, `._`, no `_` or `.` at either
/// end; the reason when not.
pub(crate) fn service_check_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
    {
        return Some("uses characters other than ASCII letters, digits, `_` and `.`".into());
    }
    let edged = |c: char| name.starts_with(c) || name.ends_with(c);
    if ["__", "..", "_.", "._"].iter().any(|p| name.contains(p)) || edged('_') || edged('.') {
        return Some("has `__`, `..`, `_.`, `._` or a `_` or `.` at an end".into());
    }
    None
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
    fn tags() {
        assert_eq!(classifier_tag("Category::Alerting"), TagCheck::Accepted);
        assert_eq!(classifier_tag("Supported OS::macOS"), TagCheck::Accepted);
        assert!(matches!(
            classifier_tag("Category::Notification"),
            TagCheck::Refused(m) if m.contains("`Category::Notifications`")
        ));
        assert!(matches!(
            classifier_tag("Category::SIEM"),
            TagCheck::Doubtful(_)
        ));
        assert!(matches!(
            classifier_tag("Category::Alertng"),
            TagCheck::Refused(m) if m.contains("did you mean `Category::Alerting`")
        ));
        assert!(matches!(
            classifier_tag("Categry::Alerting"),
            TagCheck::Refused(m) if m.contains("did you mean `Category`")
        ));
        assert!(matches!(classifier_tag("Alerting"), TagCheck::Refused(_)));
    }

    #[test]
    fn names_and_formats() {
        assert!(is_uuid("5f0c3b9e-8d4a-4c1e-9f2b-7a6d5e4c3b2a"));
        assert!(!is_uuid("5F0C3B9E-8D4A-4C1E-9F2B-7A6D5E4C3B2A"));
        assert!(!is_uuid("5f0c3b9e8d4a4c1e9f2b7a6d5e4c3b2a"));
        assert_eq!(app_id_problem("acme-pager"), None);
        assert!(app_id_problem("Acme_Pager").is_some());
        assert!(app_id_problem("datadog-acme").is_some());
        assert_eq!(normalize_integration("Mergify OAuth"), "mergify_oauth");
        assert_eq!(normalize_integration("Acme On-Call"), "acme_on-call");
        assert_eq!(normalize_integration(" Acme  (beta) "), "acme_beta");
        assert_eq!(
            normalize_metric_name("acme.jobs.completed"),
            "acme.jobs.completed"
        );
        assert_eq!(normalize_metric_name("acme._jobs-#done_"), "acme.jobs_done");
        assert_eq!(normalize_metric_name("1acme.x"), "acme.x");
        assert_eq!(normalize_metric_name("acme__x"), "acme__x");
        assert!(is_email("support@acme.example"));
        assert!(!is_email("support@acme"));
        assert!(!is_email("s upport@acme.example"));
        assert!(is_unit("millisecond") && !is_unit("milisecond"));
        assert_eq!(closest_unit("milisecond"), Some("millisecond"));
        assert_eq!(query_value("Acme On-Call"), "Acme%20On-Call");
        assert!(oauth_url_problem("http://localhost:3000/cb").is_none());
        assert!(oauth_url_problem("http://acme.example/cb").is_some());
        assert!(service_check_name_problem("acme.can_connect").is_none());
        assert!(service_check_name_problem("acme._x").is_some());
    }
}
