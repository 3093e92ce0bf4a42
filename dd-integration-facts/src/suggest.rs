//! "Did you mean": the closest known name to a misspelt one. The one algorithm: the macro, the
//! runtime (`dd_integration::scope::suggest`) and the submission validator all call it.

use crate::catalog;

/// The scope name in Datadog's catalog closest to `name`, if one is close.
pub fn scope(name: &str) -> Option<&'static str> {
    closest(name, &catalog::SCOPES)
}

/// The name among `candidates` closest to `name`, if one is close; `None` for input too long to
/// be a typo of any of them.
///
/// Case, `-`, `.`, `:` and spaces are forgiven (`Monitors-Read` → `monitors_read`), as is word
/// order (`read_monitors`). Otherwise a name is close when it is one edit away, or when each of its
/// words is within a small edit distance of the candidate's words (`monitor_read` →
/// `monitors_read`). A different word is never close: `metrics_write` does not become
/// `metrics_read`. Ties go to the candidate listed first.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if name.len() > 256 {
        return None;
    }
    let normalized = normalize(name);
    if normalized.is_empty() {
        return None;
    }
    let words: Vec<&str> = normalized.split('_').collect();
    let mut sorted_words = words.clone();
    sorted_words.sort_unstable();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let cand = normalize(candidate);
        if cand == normalized {
            return Some(candidate);
        }
        let whole = edit_distance(&normalized, &cand);
        let cand_words: Vec<&str> = cand.split('_').collect();
        let mut cand_sorted = cand_words.clone();
        cand_sorted.sort_unstable();
        let by_words = [
            word_distance(&words, &cand_words),
            word_distance(&sorted_words, &cand_sorted),
        ]
        .into_iter()
        .flatten()
        .min();
        let score = match by_words {
            Some(d) => d.min(whole),
            None if whole <= 1 => whole,
            None => continue,
        };
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `did you mean `x`?`, or nothing.
pub fn hint(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!("; did you mean `{s}`?"))
}

fn normalize(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            '-' | '.' | ':' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The summed edit distance of words paired in order, if every pair is close: at most a quarter
/// of the candidate word's length (at least 1), so a typo passes and a different word does not.
fn word_distance(words: &[&str], candidate: &[&str]) -> Option<usize> {
    if words.len() != candidate.len() {
        return None;
    }
    let mut total = 0;
    for (word, cand) in words.iter().zip(candidate) {
        let d = edit_distance(word, cand);
        if d > (cand.len() / 4).max(1) {
            return None;
        }
        total += d;
    }
    Some(total)
}

/// The optimal string alignment distance: insertions, deletions, substitutions and
/// transpositions of adjacent characters each cost 1.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_scope_the_runtime_suggests() {
        for (typo, expected) in [
            ("monitor_read", "monitors_read"),
            ("dashboard_read", "dashboards_read"),
            ("dashbaords_read", "dashboards_read"),
            ("monitors_raed", "monitors_read"),
            ("monitorsread", "monitors_read"),
            ("Monitors-Read", "monitors_read"),
            ("monitors:read", "monitors_read"),
            ("read_monitors", "monitors_read"),
            ("slo_read", "slos_read"),
            ("incidents_write", "incident_write"),
            ("api_key_write", "api_keys_write"),
            (
                "synthetic_global_variables_read",
                "synthetics_global_variable_read",
            ),
            ("hosts_read", "hosts_read"),
        ] {
            assert_eq!(scope(typo), Some(expected), "{typo}");
        }
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        for name in [
            "",
            "   ",
            "x",
            "metrics_write",
            "logs_write",
            "logs_read",
            "events_write",
            "apm_write",
            "completely_unrelated",
            "notebooks_read",
        ] {
            assert_eq!(scope(name), None, "{name}");
        }
        assert_eq!(scope(&"monitors_read".repeat(100)), None);
    }

    #[test]
    fn works_on_any_list_with_spaces_and_case() {
        let keys = ["name", "scopes", "redirect", "onboarding", "submits"];
        assert_eq!(closest("scope", &keys), Some("scopes"));
        assert_eq!(closest("scops", &keys), Some("scopes"));
        assert_eq!(closest("redirects", &keys), Some("redirect"));
        assert_eq!(closest("submit", &keys), Some("submits"));
        assert_eq!(closest("homepage", &keys), None);
        let categories = ["Alerting", "Incidents", "Developer Tools"];
        assert_eq!(closest("alerting", &categories), Some("Alerting"));
        assert_eq!(
            closest("Developer Tool", &categories),
            Some("Developer Tools")
        );
        assert_eq!(
            closest("developer-tools", &categories),
            Some("Developer Tools")
        );
        assert_eq!(closest("Incident", &categories), Some("Incidents"));
    }

    #[test]
    fn hint_reads_as_a_question() {
        assert_eq!(hint(Some("x")), "; did you mean `x`?");
        assert_eq!(hint(None), "");
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("monitor", "monitors"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("read", "raed"), 1);
        assert_eq!(edit_distance("ca", "abc"), 3);
    }
}
