//! `CHANGELOG.md`: written once, then the partner's (each release adds an entry).

use std::time::{SystemTime, UNIX_EPOCH};

use super::json::Json;
use super::validate::Checker;
use super::{CHANGELOG, Finding, Note, Rule};
use dd_integration::IntegrationSpec;

/// The CHANGELOG: `existing` unchanged when there is one (with a note when it has no entry for
/// the declared version), else a first entry dated `now`.
pub(crate) fn render(
    spec: &IntegrationSpec,
    existing: Option<&str>,
    now: SystemTime,
    notes: &mut Vec<Note>,
) -> String {
    if let Some(text) = existing {
        if !entries(text).any(|(_, version, _)| version == spec.version) {
            notes.push(Note {
                file: CHANGELOG,
                message: format!(
                    "has no entry for version {v}: add `## {v} / {}` with what changed above \
                     the others",
                    date(now),
                    v = spec.version
                ),
                rule: Some(Rule::ChangelogVersion),
            });
        }
        return text.to_owned();
    }
    format!(
        "# CHANGELOG - {}\n\n## {} / {}\n\n***Added***:\n\n* Initial Release\n",
        spec.name,
        spec.version,
        date(now)
    )
}

/// `YYYY-MM-DD` in UTC.
fn date(now: SystemTime) -> String {
    let days = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The entry headings: (line, version, date), as written.
fn entries(text: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let rest = line.strip_prefix("## ")?;
        let (version, date) = rest.split_once(" / ").unwrap_or((rest, ""));
        Some((i + 1, version.trim(), date.trim()))
    })
}

/// `x.y.z` with numbers.
pub(crate) fn parse_version(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.').map(|p| {
        (!p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            .then(|| p.parse::<u64>().ok())
            .flatten()
    });
    let v = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(v)
}

fn valid_date(date: &str) -> bool {
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let digits = |s: &str, len| s.len() == len && s.chars().all(|c| c.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Checks CHANGELOG.md when the manifest names it (its absence is the manifest's finding).
pub(crate) fn check(c: &mut Checker<'_>, manifest: Option<&Json>) {
    if !c.folder.contains(CHANGELOG) {
        if manifest.is_none() {
            c.error(Rule::FileMissing, CHANGELOG, "is missing");
        }
        return;
    }
    let Some(text) = c.text(CHANGELOG) else {
        return;
    };
    let first = text.lines().enumerate().find(|(_, l)| !l.trim().is_empty());
    match first {
        Some((_, line)) if line.starts_with("# CHANGELOG - ") => {
            let title = line["# CHANGELOG - ".len()..].trim();
            if let Some(tile) = manifest.and_then(|m| m.str_at(&["tile", "title"]))
                && tile != title
            {
                c.push(
                    Finding::warning(
                        Rule::Changelog,
                        CHANGELOG,
                        format!("the title is \"{title}\" but tile.title is \"{tile}\""),
                    )
                    .at_line(1),
                );
            }
        }
        Some((i, _)) => c.push(
            Finding::error(
                Rule::Changelog,
                CHANGELOG,
                "must start with `# CHANGELOG - <tile title>`",
            )
            .at_line(i + 1),
        ),
        None => c.error(Rule::Changelog, CHANGELOG, "is empty"),
    }
    let mut previous: Option<(u64, u64, u64)> = None;
    let mut count = 0;
    for (line, version, date) in entries(text) {
        count += 1;
        let parsed = parse_version(version);
        if parsed.is_none() || !valid_date(date) {
            c.push(
                Finding::error(
                    Rule::Changelog,
                    CHANGELOG,
                    format!(
                        "the entry `## {version}{}` must read `## x.y.z / YYYY-MM-DD`",
                        if date.is_empty() {
                            String::new()
                        } else {
                            format!(" / {date}")
                        }
                    ),
                )
                .at_line(line),
            );
            continue;
        }
        if let (Some(before), Some(this)) = (previous, parsed)
            && this >= before
        {
            c.push(
                Finding::warning(
                    Rule::Changelog,
                    CHANGELOG,
                    format!("the entry {version} is not older than the one above it; newest first"),
                )
                .at_line(line),
            );
        }
        previous = parsed;
    }
    if count == 0 {
        c.error(
            Rule::Changelog,
            CHANGELOG,
            "has no entry; add `## x.y.z / YYYY-MM-DD` with `***Added***:` and `* Initial Release`",
        );
    }
}

/// Whether the CHANGELOG has an entry for `version`.
pub(crate) fn has_entry(text: &str, version: &str) -> bool {
    entries(text).any(|(_, v, _)| v == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_versions_and_entries() {
        let at = UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        assert_eq!(date(at), "2026-11-18");
        assert_eq!(date(UNIX_EPOCH), "1970-01-01");
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(parse_version("1.10.0"), Some((1, 10, 0)));
        assert_eq!(parse_version("1.0"), None);
        assert_eq!(parse_version("1.0.0-rc1"), None);
        assert!(valid_date("2024-02-29") && !valid_date("2023-02-29") && !valid_date("24-2-1"));
        let text = "# CHANGELOG - Acme\n\n## 1.1.0 / 2026-01-02\n\n## 1.0.0 / 2025-12-01\n";
        assert!(has_entry(text, "1.0.0") && !has_entry(text, "2.0.0"));
    }
}
