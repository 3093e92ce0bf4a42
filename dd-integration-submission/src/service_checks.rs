//! `assets/service_checks.json`: one entry a declared service check, as ddev's
//! `validate service-checks` reads it.

use super::json::{Json, Object};
use super::validate::Checker;
use super::vocabulary;
use super::{Rule, SERVICE_CHECKS};
use dd_integration::IntegrationSpec;

const KEYS: [&str; 7] = [
    "agent_version",
    "integration",
    "check",
    "statuses",
    "groups",
    "name",
    "description",
];

const STATUSES: [&str; 4] = ["ok", "warning", "critical", "unknown"];

/// The Agent version the file names: API integrations run no Agent, and ddev only checks that
/// the field is `x.y.z`; this is the version its templates use.
const AGENT_VERSION: &str = "6.0.0";

/// The entries for the declared service checks; `[]` when there are none. A check submitted
/// through Datadog's API can have any status, so each lists all four.
pub(crate) fn render(spec: &IntegrationSpec) -> Json {
    Json::Array(
        spec.service_checks
            .iter()
            .map(|check| {
                let mut entry = Object::new();
                entry.insert("agent_version", Json::string(AGENT_VERSION));
                entry.insert("integration", Json::string(spec.name));
                entry.insert("check", Json::string(check.name));
                entry.insert("statuses", Json::strings(STATUSES));
                entry.insert("groups", Json::Array(Vec::new()));
                entry.insert("name", Json::string(check.title));
                entry.insert("description", Json::string(check.description));
                entry.into()
            })
            .collect(),
    )
}

/// Checks the service checks file.
pub(crate) fn check(c: &mut Checker<'_>, file: &Json, manifest: Option<&Json>) {
    let Some(entries) = file.as_array() else {
        c.error(
            Rule::ServiceChecksShape,
            SERVICE_CHECKS,
            format!(
                "is {}; it must be an array (`[]` when there are none)",
                file.kind()
            ),
        );
        return;
    };
    let source_type_name =
        manifest.and_then(|m| m.str_at(&["assets", "integration", "source_type_name"]));
    let mut checks: Vec<&str> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let error = |c: &mut Checker<'_>, rule, message: String| {
            c.error(rule, SERVICE_CHECKS, format!("[{i}]: {message}"));
        };
        let Some(object) = entry.as_object() else {
            error(
                c,
                Rule::ServiceChecksShape,
                format!("is {}; it must be an object", entry.kind()),
            );
            continue;
        };
        for key in object.keys().filter(|k| !KEYS.contains(k)) {
            error(
                c,
                Rule::ServiceChecksShape,
                format!("`{key}` is not a service check field"),
            );
        }
        for key in KEYS.iter().filter(|k| object.get(k).is_none()) {
            error(c, Rule::ServiceChecksShape, format!("`{key}` is missing"));
        }
        let string = |key| object.get(key).and_then(Json::as_str);

        if object.get("agent_version").is_some()
            && string("agent_version")
                .and_then(super::changelog::parse_version)
                .is_none()
        {
            error(
                c,
                Rule::ServiceCheckAgentVersion,
                "agent_version must be a version string `x.y.z`".to_owned(),
            );
        }
        if let (Some(integration), Some(expected)) = (string("integration"), source_type_name)
            && integration != expected
        {
            error(
                c,
                Rule::ServiceCheckIntegration,
                format!("integration \"{integration}\" must be source_type_name, \"{expected}\""),
            );
        }
        if let Some(check) = string("check") {
            if let Some(problem) = vocabulary::service_check_name_problem(check) {
                error(
                    c,
                    Rule::ServiceCheckName,
                    format!("check `{check}` {problem}"),
                );
            }
            if checks.contains(&check) {
                error(
                    c,
                    Rule::ServiceCheckName,
                    format!("check `{check}` is listed twice"),
                );
            }
            checks.push(check);
        } else if object.get("check").is_some() {
            error(
                c,
                Rule::ServiceCheckName,
                "check must be a string".to_owned(),
            );
        }
        if let Some(statuses) = object.get("statuses") {
            let list: Option<Vec<&str>> = statuses
                .as_array()
                .and_then(|a| a.iter().map(Json::as_str).collect());
            let valid = list.as_ref().is_some_and(|l| {
                !l.is_empty()
                    && l.iter().all(|s| STATUSES.contains(s))
                    && l.iter().enumerate().all(|(i, s)| !l[..i].contains(s))
            });
            if !valid {
                error(
                    c,
                    Rule::ServiceCheckStatuses,
                    "statuses must list some of ok, warning, critical and unknown, each once"
                        .to_owned(),
                );
            }
        }
        if let Some(groups) = object.get("groups") {
            let valid = groups.as_array().is_some_and(|a| {
                a.iter()
                    .all(|g| g.as_str().is_some_and(|s| !s.trim().is_empty()))
            });
            if !valid {
                error(
                    c,
                    Rule::ServiceCheckGroups,
                    "groups must be a list of tag keys (`[]` for none)".to_owned(),
                );
            }
        }
        match string("name") {
            Some(name) if name.trim().is_empty() => {
                error(c, Rule::ServiceCheckText, "name is empty".to_owned());
            }
            Some(name) if names.contains(&name) => {
                error(
                    c,
                    Rule::ServiceCheckText,
                    format!("name \"{name}\" is used twice"),
                );
            }
            Some(name) => names.push(name),
            None if object.get("name").is_some() => {
                error(
                    c,
                    Rule::ServiceCheckText,
                    "name must be a string".to_owned(),
                );
            }
            None => {}
        }
        if object.get("description").is_some()
            && string("description").is_none_or(|d| d.trim().is_empty())
        {
            error(
                c,
                Rule::ServiceCheckText,
                "description must be a non-empty string".to_owned(),
            );
        }
    }
}
