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

use dd_integration_facts::names::SERVICE_CHECK_STATUSES as STATUSES;

/// The Agent version the file names: API integrations run no Agent, and ddev only checks that
/// the field is `x.y.z`; this is the version its templates use.
const AGENT_VERSION: &str = "6.0.0";

/// The entries for the declared service checks; `[]` when there are none. Each lists the
/// statuses declared (all four by default: a check submitted through Datadog's API can have
/// any).
pub(crate) fn render(spec: &IntegrationSpec) -> Json {
    Json::Array(
        spec.service_checks
            .iter()
            .map(|check| {
                let mut entry = Object::new();
                entry.insert("agent_version", Json::string(AGENT_VERSION));
                entry.insert("integration", Json::string(spec.source_type_name()));
                entry.insert("check", Json::string(check.name));
                let statuses = if check.statuses.is_empty() {
                    &STATUSES[..]
                } else {
                    check.statuses
                };
                entry.insert("statuses", Json::strings(statuses.iter().copied()));
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
    let mut seen = Seen {
        source_type_name: manifest
            .and_then(|m| m.str_at(&["assets", "integration", "source_type_name"])),
        checks: Vec::new(),
        names: Vec::new(),
    };
    for (index, entry) in entries.iter().enumerate() {
        let mut at = Entry { c: &mut *c, index };
        let Some(object) = entry.as_object() else {
            at.error(
                Rule::ServiceChecksShape,
                format!("is {}; it must be an object", entry.kind()),
            );
            continue;
        };
        for (_, rule) in ENTRY_RULES {
            rule(&mut at, object, &mut seen);
        }
    }
}

/// An entry's rules, one function each, in the order findings are reported; each is named
/// after the [`Rule`] it applies (ddev `validate service-checks`, see RULES.md).
type EntryRule = for<'j> fn(&mut Entry<'_, '_>, &'j Object, &mut Seen<'j>);

const ENTRY_RULES: [(Rule, EntryRule); 7] = [
    (Rule::ServiceChecksShape, shape),
    (Rule::ServiceCheckAgentVersion, agent_version),
    (Rule::ServiceCheckIntegration, integration),
    (Rule::ServiceCheckName, check_name),
    (Rule::ServiceCheckStatuses, statuses),
    (Rule::ServiceCheckGroups, groups),
    (Rule::ServiceCheckText, text),
];

/// What the entries share: the manifest's `source_type_name`, and the checks and names so far.
struct Seen<'j> {
    source_type_name: Option<&'j str>,
    checks: Vec<&'j str>,
    names: Vec<&'j str>,
}

/// The entry being checked: its findings are prefixed with its index.
struct Entry<'c, 'f> {
    c: &'c mut Checker<'f>,
    index: usize,
}

impl Entry<'_, '_> {
    fn error(&mut self, rule: Rule, message: String) {
        self.c
            .error(rule, SERVICE_CHECKS, format!("[{}]: {message}", self.index));
    }
}

fn string<'j>(object: &'j Object, key: &str) -> Option<&'j str> {
    object.get(key).and_then(Json::as_str)
}

fn shape(at: &mut Entry<'_, '_>, object: &Object, _: &mut Seen<'_>) {
    for key in object.keys().filter(|k| !KEYS.contains(k)) {
        at.error(
            Rule::ServiceChecksShape,
            format!("`{key}` is not a service check field"),
        );
    }
    for key in KEYS.iter().filter(|k| object.get(k).is_none()) {
        at.error(Rule::ServiceChecksShape, format!("`{key}` is missing"));
    }
}

fn agent_version(at: &mut Entry<'_, '_>, object: &Object, _: &mut Seen<'_>) {
    if object.get("agent_version").is_some()
        && string(object, "agent_version")
            .and_then(super::changelog::parse_version)
            .is_none()
    {
        at.error(
            Rule::ServiceCheckAgentVersion,
            "agent_version must be a version string `x.y.z`".to_owned(),
        );
    }
}

fn integration(at: &mut Entry<'_, '_>, object: &Object, seen: &mut Seen<'_>) {
    if let (Some(integration), Some(expected)) =
        (string(object, "integration"), seen.source_type_name)
        && integration != expected
    {
        at.error(
            Rule::ServiceCheckIntegration,
            format!("integration \"{integration}\" must be source_type_name, \"{expected}\""),
        );
    }
}

fn check_name<'j>(at: &mut Entry<'_, '_>, object: &'j Object, seen: &mut Seen<'j>) {
    if let Some(check) = string(object, "check") {
        if let Some(problem) = vocabulary::service_check_name_problem(check) {
            at.error(Rule::ServiceCheckName, format!("check `{check}` {problem}"));
        }
        if seen.checks.contains(&check) {
            at.error(
                Rule::ServiceCheckName,
                format!("check `{check}` is listed twice"),
            );
        }
        seen.checks.push(check);
    } else if object.get("check").is_some() {
        at.error(Rule::ServiceCheckName, "check must be a string".to_owned());
    }
}

fn statuses(at: &mut Entry<'_, '_>, object: &Object, _: &mut Seen<'_>) {
    let Some(statuses) = object.get("statuses") else {
        return;
    };
    let list: Option<Vec<&str>> = statuses
        .as_array()
        .and_then(|a| a.iter().map(Json::as_str).collect());
    let valid = list.as_ref().is_some_and(|l| {
        !l.is_empty()
            && l.iter().all(|s| STATUSES.contains(s))
            && l.iter().enumerate().all(|(i, s)| !l[..i].contains(s))
    });
    if !valid {
        at.error(
            Rule::ServiceCheckStatuses,
            "statuses must list some of ok, warning, critical and unknown, each once".to_owned(),
        );
    }
}

fn groups(at: &mut Entry<'_, '_>, object: &Object, _: &mut Seen<'_>) {
    let Some(groups) = object.get("groups") else {
        return;
    };
    let valid = groups.as_array().is_some_and(|a| {
        a.iter()
            .all(|g| g.as_str().is_some_and(|s| !s.trim().is_empty()))
    });
    if !valid {
        at.error(
            Rule::ServiceCheckGroups,
            "groups must be a list of tag keys (`[]` for none)".to_owned(),
        );
    }
}

fn text<'j>(at: &mut Entry<'_, '_>, object: &'j Object, seen: &mut Seen<'j>) {
    match string(object, "name") {
        Some(name) if name.trim().is_empty() => {
            at.error(Rule::ServiceCheckText, "name is empty".to_owned());
        }
        Some(name) if seen.names.contains(&name) => {
            at.error(
                Rule::ServiceCheckText,
                format!("name \"{name}\" is used twice"),
            );
        }
        Some(name) => seen.names.push(name),
        None if object.get("name").is_some() => {
            at.error(Rule::ServiceCheckText, "name must be a string".to_owned());
        }
        None => {}
    }
    if object.get("description").is_some()
        && string(object, "description").is_none_or(|d| d.trim().is_empty())
    {
        at.error(
            Rule::ServiceCheckText,
            "description must be a non-empty string".to_owned(),
        );
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn each_entry_rule_is_a_rule_of_ddev_validate_service_checks() {
        for (rule, _) in ENTRY_RULES {
            assert!(rule.id().starts_with("service-check"), "{rule}");
            assert!(
                matches!(rule.source(), crate::Source::Ddev(d) if d.contains("validate service-checks")),
                "{rule}"
            );
        }
    }
}
