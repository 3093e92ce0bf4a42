//! The manifest fields that never change once an integration is published.
//!
//! Datadog's `ImmutableAttributesValidator` compares a pull request with the published
//! version; here the same comparison runs between the folder and what the declaration renders
//! (so rendering stops before anything changes) and, for `validate --base`, between a
//! published version and the folder.

use std::fmt;

use super::json::Json;

/// The two sides compared, as the messages name them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sides {
    pub(crate) old: &'static str,
    pub(crate) new: &'static str,
}

impl Sides {
    /// The existing folder against the declaration.
    pub(crate) const DECLARATION: Sides = Sides {
        old: "the folder",
        new: "the declaration",
    };
    /// A published version against the folder.
    pub(crate) const BASE: Sides = Sides {
        old: "the published version",
        new: "the folder",
    };
}

/// An immutable field whose value would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImmutableChange {
    /// The field, as a manifest path (`assets.integration.source_type_name`), or an asset key
    /// (`assets.dashboards["Acme Overview"]`).
    pub field: String,
    /// Its value on the side that was there first (`None`: removed).
    pub old: Option<String>,
    /// Its value on the other side (`None`: removed).
    pub new: Option<String>,
    /// Why it cannot change.
    pub why: &'static str,
    old_side: &'static str,
    new_side: &'static str,
}

impl ImmutableChange {
    /// What changed, why it cannot, and what to do, without the file name.
    pub fn message(&self) -> String {
        let (old_side, new_side) = (self.old_side, self.new_side);
        match (&self.old, &self.new) {
            (Some(old), Some(new)) => format!(
                "{} is {old} in {old_side} but {new} in {new_side}; it cannot change: {}. Keep \
                 {old}, or, if this integration was never published, delete the field from the \
                 folder",
                self.field, self.why
            ),
            (Some(old), None) => format!(
                "{} ({old}) is in {old_side} but not in {new_side}; it cannot be removed or \
                 renamed: {}",
                self.field, self.why
            ),
            (None, _) => format!("{} appeared: {}", self.field, self.why),
        }
    }
}

impl fmt::Display for ImmutableChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "manifest.json: {}", self.message())
    }
}

/// The changes as lines.
pub(crate) fn list(changes: &[ImmutableChange]) -> String {
    changes
        .iter()
        .map(|c| format!("  {c}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The scalar fields that never change, and why.
const FIELDS: &[(&[&str], &str)] = &[
    (
        &["app_id"],
        "it is the listing's identifier, in its URLs and in the integrations-extras folder name",
    ),
    (
        &["app_uuid"],
        "Datadog identifies the listing by it; another UUID is another listing",
    ),
    (
        &["assets", "integration", "source_type_name"],
        "Datadog ties the integration's data to it (metadata.csv's integration column, the \
         service checks), and the declaration's `name` writes it",
    ),
    (
        &["assets", "integration", "source_type_id"],
        "Datadog ties the integration's data to this number",
    ),
    (
        &["assets", "integration", "id"],
        "Datadog identifies the integration by it",
    ),
];

/// The asset maps whose keys never change.
const ASSET_MAPS: &[&str] = &["dashboards", "monitors", "saved_views"];

/// The immutable fields that differ between `old` and `new` (both manifests). A field absent
/// from `old` is new, not a change.
pub(crate) fn changes(old: &Json, new: &Json, sides: Sides) -> Vec<ImmutableChange> {
    let mut changes = Vec::new();
    let change = |field: String, old, new, why| ImmutableChange {
        field,
        old,
        new,
        why,
        old_side: sides.old,
        new_side: sides.new,
    };
    for (path, why) in FIELDS {
        let Some(before) = old.at(path) else {
            continue;
        };
        let after = new.at(path);
        if after != Some(before) {
            changes.push(change(
                path.join("."),
                Some(shown(before)),
                after.map(shown),
                why,
            ));
        }
    }
    for map in ASSET_MAPS {
        let Some(before) = old.at(&["assets", map]).and_then(Json::as_object) else {
            continue;
        };
        let after = new.at(&["assets", map]).and_then(Json::as_object);
        for (key, _) in before.iter() {
            if after.and_then(|a| a.get(key)).is_none() {
                changes.push(change(
                    format!("assets.{map}[\"{key}\"]"),
                    Some(format!("\"{key}\"")),
                    None,
                    "customers' copies are installed under this key; renaming or removing it \
                     orphans them",
                ));
            }
        }
    }
    changes
}

fn shown(value: &Json) -> String {
    match value {
        Json::String(s) => format!("\"{s}\""),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_changed_and_removed_fields_not_new_ones() {
        let old = Json::parse(
            r#"{"app_id": "acme", "assets": {"integration": {"source_type_id": 5},
                "dashboards": {"Acme": "assets/dashboards/a.json"}}}"#,
        )
        .unwrap();
        let new = Json::parse(
            r#"{"app_id": "acme-2", "app_uuid": "x", "assets": {"integration": {"source_type_id": 6},
                "dashboards": {}}}"#,
        )
        .unwrap();
        let changes = changes(&old, &new, Sides::DECLARATION);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "app_id",
                "assets.integration.source_type_id",
                "assets.dashboards[\"Acme\"]"
            ]
        );
        let text = changes[1].to_string();
        assert!(
            text.starts_with(
                "manifest.json: assets.integration.source_type_id is 5 in the folder but 6 in \
                 the declaration; it cannot change: Datadog ties"
            ),
            "{text}"
        );
    }
}
