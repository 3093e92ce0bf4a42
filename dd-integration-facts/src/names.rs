//! The formats of single values, as Datadog's submission checks apply them: `app_id`, UUIDs,
//! e-mail addresses, metric and service-check names and units.
//!
//! Each check returns the end of a sentence that starts with the value ("`Acme` ...").

use crate::catalog;
use crate::suggest;

/// The longest tile title Datadog accepts.
pub const MAX_NAME: usize = 50;
/// The longest tile description Datadog's checks accept.
pub const MAX_DESCRIPTION: usize = 80;
/// The longest metric name Datadog accepts.
pub const MAX_METRIC_NAME: usize = 200;
/// The longest metric description metadata.csv accepts.
pub const MAX_METRIC_DESCRIPTION: usize = 400;

/// metadata.csv's `metric_type` values (ddev `validate metadata`: `VALID_METRIC_TYPE`).
pub const METRIC_TYPES: [&str; 3] = ["gauge", "count", "rate"];

/// metadata.csv's `orientation` values (ddev `validate metadata`: `VALID_ORIENTATION`).
pub const ORIENTATIONS: [&str; 3] = ["-1", "0", "1"];

/// metadata.csv's `curated_metric` values, `|`-separated (ddev `validate metadata`:
/// `VALID_CURATED_METRIC_TYPES`).
pub const CURATED_METRIC_TYPES: [&str; 2] = ["cpu", "memory"];

/// A service check's statuses (ddev `validate service-checks`).
pub const SERVICE_CHECK_STATUSES: [&str; 4] = ["ok", "warning", "critical", "unknown"];

/// A Marketplace tile description's limit (datadog-checks-dev `TileDescriptionValidator`).
pub const MAX_DESCRIPTION_MARKETPLACE: usize = 70;

/// metadata.csv's columns, in ddev's canonical order (ddev `validate metadata`).
pub const METADATA_COLUMNS: [&str; 11] = [
    "metric_name",
    "metric_type",
    "interval",
    "unit_name",
    "per_unit_name",
    "description",
    "orientation",
    "integration",
    "short_name",
    "curated_metric",
    "sample_tags",
];

/// The columns every metadata.csv has: all but the last two (`curated_metric` and
/// `sample_tags` are optional).
pub const METADATA_REQUIRED_COLUMNS: &[&str] = METADATA_COLUMNS.split_at(9).0;

/// A Marketplace `vendor_id`: the `app_id` rules, with letters and dashes only (Datadog's docs:
/// "only dashes and alphabetic chars are allowed").
pub fn marketplace_vendor_id(id: &str) -> Result<(), String> {
    app_id(id)?;
    if id.chars().any(|c| c.is_ascii_digit()) {
        return Err(
            "holds a digit; a Marketplace vendor id has only lowercase letters and dashes"
                .to_owned(),
        );
    }
    Ok(())
}

/// Time units: metadata.csv refuses a time per time (`second` per `second`).
pub const TIME_UNITS: &[&str] = &[
    "nanosecond",
    "microsecond",
    "millisecond",
    "second",
    "minute",
    "hour",
    "day",
    "week",
];

/// `app_id`: kebab-case, `^[a-z0-9]+(-[a-z0-9]+)*$`, not starting with `datadog`.
pub fn app_id(id: &str) -> Result<(), String> {
    let kebab = !id.is_empty()
        && id.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !kebab {
        return Err(format!(
            "is not kebab-case: use lowercase letters, digits and single dashes, such as `{}`",
            kebab_case(id)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "acme-pager".into())
        ));
    }
    if id.starts_with("datadog") {
        return Err(
            "starts with `datadog`, which Datadog reserves for its own integrations".into(),
        );
    }
    Ok(())
}

/// The kebab-case form of a display name (`Acme Pager` → `acme-pager`), as `ddev create`
/// derives `app_id`; `None` when the name holds a non-ASCII letter (which has no obvious ASCII
/// spelling) or no letter or digit at all.
pub fn kebab_case(name: &str) -> Option<String> {
    if name.chars().any(|c| c.is_alphanumeric() && !c.is_ascii()) {
        return None;
    }
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    (!out.is_empty()).then_some(out)
}

/// A UUID in lowercase canonical form, 8-4-4-4-12 hex, not nil.
pub fn uuid(text: &str) -> Result<(), String> {
    let groups: Vec<&str> = text.split('-').collect();
    let shape = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()));
    if !shape {
        return Err("is not a UUID: write it as 8-4-4-4-12 hex digits".into());
    }
    if text.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "is in uppercase: Datadog uses the lowercase form `{}`",
            text.to_ascii_lowercase()
        ));
    }
    if text.chars().all(|c| c == '0' || c == '-') {
        return Err("is the nil UUID".into());
    }
    Ok(())
}

/// An e-mail address, as far as a manifest needs: ASCII, one `@`, a dotted domain, no space.
pub fn email(text: &str) -> Result<(), String> {
    let valid = text.is_ascii()
        && !text.contains(|c: char| c.is_whitespace() || c.is_control())
        && text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && domain.split('.').all(|label| !label.is_empty())
        });
    if valid {
        Ok(())
    } else {
        Err("is not an e-mail address (ASCII, such as `support@acme.example`)".into())
    }
}

/// A homepage: an absolute http(s) URL.
pub fn homepage(text: &str) -> Result<(), String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !text.contains(char::is_whitespace) => Ok(()),
        _ => Err("is not an absolute URL: write `https://<host>`".into()),
    }
}

/// A metric name in the form metadata.csv requires (its normalized form): ASCII letters,
/// digits, `_` and `.`, a letter first, no empty or `_`-edged segment.
pub fn metric_name(name: &str) -> Result<(), String> {
    if name.len() > MAX_METRIC_NAME {
        return Err(format!(
            "is {} characters long; Datadog allows {MAX_METRIC_NAME}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
    {
        return Err(format!(
            "contains {c:?}: metric names use only ASCII letters, digits, `_` and `.`"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("does not start with a letter".into());
    }
    if name.contains("..")
        || name.contains("._")
        || name.contains("_.")
        || name.ends_with('.')
        || name.ends_with('_')
    {
        return Err(
            "has an empty or `_`-edged segment (`..`, `._`, `_.`, or a trailing `.`/`_`); \
             Datadog would rename it"
                .into(),
        );
    }
    Ok(())
}

/// Display text of the manifest or the OAuth client (a `source_type_name`, a client's name or
/// description): not empty, one line.
pub fn display_text(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("is empty".into());
    }
    if text.contains(|c: char| c.is_control()) {
        return Err("has a control character (a line break?): write it on one line".into());
    }
    Ok(())
}

/// A log `source` (`ddsource`, `assets.logs.source`): lowercase letters, digits, `-`, `_` and
/// `.`, as Datadog's log pipelines key on it (merged: `aimon-evaluator`).
pub fn log_source(source: &str) -> Result<(), String> {
    if source.is_empty()
        || !source
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
    {
        return Err(
            "is not a log source: lowercase letters, digits, `-`, `_` and `.`, such as `acme`"
                .into(),
        );
    }
    Ok(())
}

/// A scope name as Datadog spells them: `a-z`, `0-9` and `_`, a letter first, at most 128
/// bytes (the form of every name in Datadog's scope list).
pub fn scope_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 128 {
        return Err("is not 1 to 128 characters long".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase())
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(
            "is not a scope name: lowercase letters, digits and `_`, a letter first".into(),
        );
    }
    Ok(())
}

/// A metric prefix: a metric name followed by `.` (`acme.`).
pub fn metric_prefix(prefix: &str) -> Result<(), String> {
    let Some(stem) = prefix.strip_suffix('.') else {
        return Err(format!("does not end with `.`: write `{prefix}.`"));
    };
    metric_name(stem)
}

/// A service check name: `[A-Za-z0-9_.]`, no `__`, `..`, `_.`, `._`, no `_` or `.` at either end.
pub fn service_check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
    {
        return Err(format!(
            "contains {c:?}: service check names use only ASCII letters, digits, `_` and `.`"
        ));
    }
    let edged = |c: char| name.starts_with(c) || name.ends_with(c);
    if ["__", "..", "_.", "._"].iter().any(|p| name.contains(p)) || edged('_') || edged('.') {
        return Err("has `__`, `..`, `_.`, `._` or a leading or trailing `_` or `.`".into());
    }
    Ok(())
}

/// A unit name of metadata.csv, with a suggestion for a near miss.
pub fn unit(name: &str) -> Result<(), String> {
    if catalog::UNIT_NAMES.binary_search(&name).is_ok() {
        return Ok(());
    }
    Err(format!(
        "is not a Datadog unit name{}",
        suggest::hint(suggest::closest(name, &catalog::UNIT_NAMES))
    ))
}

/// Whether `name` is a unit name of metadata.csv.
pub fn is_unit(name: &str) -> bool {
    catalog::UNIT_NAMES.binary_search(&name).is_ok()
}

/// Whether `name` is a unit of time.
pub fn is_time_unit(name: &str) -> bool {
    TIME_UNITS.contains(&name)
}

/// Whether `unit` per `per_unit` is a time per time, which metadata.csv refuses.
pub fn time_per_time(unit: &str, per_unit: &str) -> bool {
    TIME_UNITS.contains(&unit) && TIME_UNITS.contains(&per_unit)
}

/// Free text of metadata.csv: ASCII, no `|`.
pub fn csv_text(text: &str) -> Result<(), String> {
    if let Some(c) = text
        .chars()
        .find(|c| !c.is_ascii() || *c == '|' || c.is_control())
    {
        return Err(format!(
            "contains {c:?}: metadata.csv takes ASCII text without `|` or control characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids() {
        for ok in ["acme", "acme-pager", "acme2-x9"] {
            assert_eq!(app_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "Acme",
            "acme_pager",
            "acme--pager",
            "-acme",
            "acme-",
            "acme pager",
        ] {
            assert!(app_id(bad).unwrap_err().contains("kebab-case"), "{bad}");
        }
        assert!(app_id("Acme Pager").unwrap_err().contains("`acme-pager`"));
        assert!(app_id("datadog-thing").unwrap_err().contains("reserves"));
    }

    #[test]
    fn kebab_case_of_names() {
        assert_eq!(kebab_case("Acme Pager").as_deref(), Some("acme-pager"));
        assert_eq!(
            kebab_case("  Acme -- On_Call 2 ").as_deref(),
            Some("acme-on-call-2")
        );
        assert_eq!(kebab_case("Ünïcode Çorp"), None);
        assert_eq!(kebab_case("¡¿!"), None);
    }

    #[test]
    fn uuids() {
        assert_eq!(uuid("9a5b1c4e-2f3d-4e6a-8b7c-0d1e2f3a4b5c"), Ok(()));
        assert!(
            uuid("9A5B1C4E-2F3D-4E6A-8B7C-0D1E2F3A4B5C")
                .unwrap_err()
                .contains("lowercase")
        );
        assert!(
            uuid("00000000-0000-0000-0000-000000000000")
                .unwrap_err()
                .contains("nil")
        );
        for bad in [
            "",
            "9a5b1c4e2f3d4e6a8b7c0d1e2f3a4b5c",
            "9a5b1c4e-2f3d-4e6a-8b7c-0d1e2f3a4b5",
            "9a5b1c4e-2f3d-4e6a-8b7c-0d1e2f3a4b5g",
        ] {
            assert!(uuid(bad).unwrap_err().contains("not a UUID"), "{bad}");
        }
    }

    #[test]
    fn emails_and_homepages() {
        assert_eq!(email("support@acme.example"), Ok(()));
        for bad in [
            "",
            "support",
            "@acme.example",
            "a@b",
            "a@@b.c",
            "a b@c.d",
            "é@acme.example",
            "a@b..c",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert_eq!(homepage("https://acme.example"), Ok(()));
        assert!(homepage("acme.example").is_err());
        assert!(homepage("https://").is_err());
    }

    #[test]
    fn metric_names() {
        for ok in ["acme.pages.sent", "acme.p_95", "a", "Acme.X"] {
            assert_eq!(metric_name(ok), Ok(()), "{ok}");
        }
        assert!(metric_name("acme.pages-sent").unwrap_err().contains("'-'"));
        assert!(metric_name("1acme").unwrap_err().contains("letter"));
        assert!(metric_name("_acme").unwrap_err().contains("letter"));
        for bad in ["acme..x", "acme._x", "acme_.x", "acme.", "acme_"] {
            assert!(metric_name(bad).unwrap_err().contains("segment"), "{bad}");
        }
        assert!(
            metric_name(&format!("a{}", "b".repeat(200)))
                .unwrap_err()
                .contains("200")
        );
        assert_eq!(metric_prefix("acme."), Ok(()));
        assert!(metric_prefix("acme").unwrap_err().contains("write `acme.`"));
    }

    #[test]
    fn service_check_names() {
        assert_eq!(service_check_name("acme.can_connect"), Ok(()));
        for bad in [
            "", "acme..x", "acme__x", "_acme", "acme.", "acme-x", "acme._x",
        ] {
            assert!(service_check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn units_and_text() {
        assert_eq!(unit("second"), Ok(()));
        assert_eq!(unit("bolívar digital"), Ok(()));
        assert!(
            unit("seconds")
                .unwrap_err()
                .contains("did you mean `second`?")
        );
        assert!(time_per_time("millisecond", "second"));
        assert!(!time_per_time("page", "second"));
        assert_eq!(csv_text("Pages sent."), Ok(()));
        assert!(csv_text("a|b").is_err());
        assert!(csv_text("é").is_err());
    }
}
