//! Classifier tags (`Facet::Value`) and the normalizations ddev applies to names.
//!
//! Source: Datadog docs (the `integration_categories` shortcode) for the facets and their
//! values, and the 262 manifests merged into integrations-extras for the spellings Datadog's
//! `datadog-assets` check accepted where its docs disagree (reference/submission-files.md §5.3).

use crate::suggest::{closest, hint};

/// `Category::` values Datadog accepts: its docs' list with the spellings merged manifests use
/// (`Notifications`, `Data Stores`, `AI/ML`, `SIEM`, `Message Queues`, `IoT`, `Mainframes`,
/// `Content Delivery Network`), sorted. `#[datadog_integration(categories = [...])]` takes
/// these.
pub const CATEGORIES: &[&str] = &[
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
    "Content Delivery Network",
    "Cost Management",
    "Data Stores",
    "Developer Tools",
    "Event Management",
    "Google Cloud",
    "IOT",
    "Incidents",
    "IoT",
    "Issue Tracking",
    "Kubernetes",
    "Languages",
    "Log Collection",
    "Mainframe",
    "Mainframes",
    "Marketplace",
    "Message Queues",
    "Messaging",
    "Metrics",
    "Mobile",
    "Network",
    "Notifications",
    "OS & System",
    "Oracle",
    "Orchestration",
    "Provisioning",
    "RUM",
    "SAP",
    "SIEM",
    "SNMP",
    "Security",
    "Source Control",
    "Testing",
    "Tracing",
];

/// `Category::` spellings Datadog's docs list that reviewers renamed, with the accepted one.
pub const CATEGORIES_RENAMED: &[(&str, &str)] = &[
    ("Notification", "Notifications"),
    ("Data Store", "Data Stores"),
    ("AI", "AI/ML"),
    ("Machine Learning & LLM", "AI/ML"),
];

/// `Category::` values only ddev's v1-to-v2 migration map emits: no merged manifest and no
/// docs page uses them, so they may pass but nothing shows it.
pub const CATEGORIES_MIGRATION_ONLY: &[&str] = &[
    "Autodiscovery",
    "Exceptions",
    "ISP",
    "Monitoring",
    "OS System",
    "Processing",
    "Profiling",
    "Web",
];

/// `Offering::` values.
pub const OFFERINGS: &[&str] = &[
    "Integration",
    "Professional Service",
    "Software License",
    "UI Extension",
];

/// The category ddev's `LogsCategoryValidator` pairs with a README that mentions logs.
pub const LOG_COLLECTION: &str = "Category::Log Collection";

/// `Queried Data Type::` and `Submitted Data Type::` values.
pub const DATA_TYPES: &[&str] = &["Metrics", "Logs", "Traces", "Events", "Incidents"];

/// `Supported OS::` values.
pub const OPERATING_SYSTEMS: &[&str] = &[
    "Android", "Any", "HP-UX", "IBM i/OS", "IBM z/OS", "iOS", "Linux", "macOS", "Solaris",
    "Windows",
];

/// Each facet with its values.
pub const FACETS: &[(&str, &[&str])] = &[
    ("Category", CATEGORIES),
    ("Offering", OFFERINGS),
    ("Queried Data Type", DATA_TYPES),
    ("Submitted Data Type", DATA_TYPES),
    ("Supported OS", OPERATING_SYSTEMS),
];

/// What checking a classifier tag found.
#[derive(Debug, PartialEq, Eq)]
pub enum TagCheck {
    /// Datadog accepts it.
    Accepted,
    /// Probably accepted, but nothing merged shows it: the reason, with the usual spelling.
    Doubtful(String),
    /// Refused: the reason, with the fix.
    Refused(String),
}

/// Checks one classifier tag (`Category::Alerting`) against the vocabulary.
pub fn classifier_tag(tag: &str) -> TagCheck {
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
        match category(value) {
            TagCheck::Refused(_) => {}
            other => return other,
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

/// Checks a category value (`Alerting`, without the facet).
pub fn category(value: &str) -> TagCheck {
    if CATEGORIES.contains(&value) {
        return TagCheck::Accepted;
    }
    if let Some((_, renamed)) = CATEGORIES_RENAMED.iter().find(|(from, _)| *from == value) {
        return TagCheck::Doubtful(format!(
            "`{value}` is the spelling of Datadog's docs, but merged manifests use \
             `{renamed}`: write `{renamed}`"
        ));
    }
    if CATEGORIES_MIGRATION_ONLY.contains(&value) {
        return TagCheck::Doubtful(format!(
            "`{value}` comes only from ddev's migration map; no merged manifest uses it{}",
            hint(closest(value, CATEGORIES))
        ));
    }
    let bare = value.strip_prefix("Category::").unwrap_or(value);
    if bare != value && CATEGORIES.contains(&bare) {
        return TagCheck::Refused(format!("`{value}` repeats the facet: write `\"{bare}\"`"));
    }
    TagCheck::Refused(format!(
        "`{value}` is not a Datadog category{}",
        match closest(bare, CATEGORIES) {
            Some(s) => format!("; did you mean `\"{s}\"`?"),
            None => format!(" (one of {})", CATEGORIES.join(", ")),
        }
    ))
}

/// The folder name of an integration: `app_id` with `_` for `-`.
pub fn folder_name(app_id: &str) -> String {
    app_id.replace('-', "_")
}

/// metadata.csv's `integration` value: `source_type_name` with every run of characters other
/// than ASCII letters, digits and `-` made one `_`, trimmed of `_`, lowercase (ddev
/// `validate metadata`).
pub fn normalize_integration(source_type_name: &str) -> String {
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
pub fn normalize_metric_name(name: &str) -> String {
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

/// Prefixes metadata.csv accepts besides the integration's own (ddev `validate metadata`).
pub const SHARED_METRIC_PREFIXES: &[&str] = &[
    "system.", "jvm.", "http.", "datadog.", "sftp.", "process.", "runtime.", "otelcol_",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(classifier_tag("Category::Alerting"), TagCheck::Accepted);
        assert_eq!(
            classifier_tag("Category::Message Queues"),
            TagCheck::Accepted
        );
        assert_eq!(classifier_tag("Supported OS::macOS"), TagCheck::Accepted);
        assert!(matches!(
            classifier_tag("Category::Notification"),
            TagCheck::Doubtful(m) if m.contains("`Notifications`")
        ));
        assert!(matches!(
            classifier_tag("Category::Web"),
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
    fn categories_of_a_declaration() {
        assert_eq!(category("Alerting"), TagCheck::Accepted);
        assert_eq!(category("AI/ML"), TagCheck::Accepted);
        assert!(
            matches!(category("alerting"), TagCheck::Refused(m) if m.contains("did you mean `\"Alerting\"`"))
        );
        assert!(
            matches!(category("Category::Alerting"), TagCheck::Refused(m) if m.contains("repeats the facet"))
        );
        assert!(
            matches!(category("Gardening"), TagCheck::Refused(m) if m.contains("one of AI/ML"))
        );
        assert!(CATEGORIES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn normalizations() {
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
        assert_eq!(folder_name("acme-pager"), "acme_pager");
    }
}
