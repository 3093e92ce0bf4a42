//! Scope names and lists: `Scope::parse`, `ScopeSet::parse` (a token answer's `scope`, a
//! declaration's list) and `suggest`, the "did you mean" search over the catalog.
//!
//! Nothing panics; what parses is exactly the well-formed names and prints back to itself;
//! errors name the first refused character and quote the input bounded and escaped; and the
//! cost stays bounded on hostile input (a megabyte returns at once).

use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestRunner;

use super::{any_text, config, hostile_text};
use crate::scope::{Scope, ScopeError, ScopeSet, suggest};

fn catalog_names() -> Vec<&'static str> {
    Scope::catalog().iter().map(Scope::as_str).collect()
}

/// One edit of `name`: a character inserted, removed, replaced, or two swapped.
fn one_edit(name: &str, kind: u8, at: usize, c: char) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    let n = chars.len();
    match kind % 4 {
        0 => chars.insert(at % (n + 1), c),
        1 if n > 0 => {
            chars.remove(at % n);
        }
        2 if n > 0 => chars[at % n] = c,
        3 if n > 1 => chars.swap(at % (n - 1), at % (n - 1) + 1),
        _ => chars.push(c),
    }
    chars.into_iter().collect()
}

/// A catalog name with one edit, in any case, with `-`, `.` or `:` for `_`.
fn near_miss() -> impl Strategy<Value = String> + Clone {
    (
        select(catalog_names()),
        any::<u8>(),
        any::<usize>(),
        prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => Just('_'),
            1 => Just('-'),
            1 => any::<char>(),
        ],
        any::<u8>(),
    )
        .prop_map(|(name, kind, at, c, style)| {
            let edited = one_edit(name, kind, at, c);
            match style % 4 {
                0 => edited.to_ascii_uppercase(),
                1 => edited.replace('_', "-"),
                2 => edited.replace('_', ":"),
                _ => edited,
            }
        })
}

fn scope_name() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => select(catalog_names()).prop_map(str::to_owned),
        3 => near_miss(),
        2 => "[a-z0-9_]{1,40}",
        1 => (120usize..140).prop_map(|n| "a".repeat(n)),
        1 => (250usize..270).prop_map(|n| "monitors_read".repeat(n / 13 + 1)[..n].to_owned()),
        1 => any_text(20),
        1 => hostile_text(),
    ]
}

fn well_formed(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= Scope::MAX_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[test]
fn arbitrary_scope_names_parse_exactly_when_well_formed_and_round_trip() {
    TestRunner::new(config(512))
        .run(&scope_name(), |name| {
            match Scope::parse(&name) {
                Ok(scope) => {
                    prop_assert!(well_formed(&name), "{name:?}");
                    prop_assert_eq!(scope.as_str(), name.as_str());
                    prop_assert_eq!(scope.is_known(), catalog_names().contains(&name.as_str()));
                    // Displayed, it reads back as itself.
                    let printed = scope.to_string();
                    prop_assert_eq!(Scope::parse(&printed), Ok(scope.clone()));
                    let json = serde_json::to_string(&scope).unwrap();
                    prop_assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
                }
                Err(e) => {
                    prop_assert!(!well_formed(&name), "{name:?}: {e}");
                    match &e {
                        ScopeError::Empty => prop_assert!(name.is_empty()),
                        ScopeError::InvalidChar {
                            found, suggestion, ..
                        } => {
                            let first = name.chars().find(|c| {
                                !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                            });
                            prop_assert_eq!(Some(*found), first);
                            if let Some(s) = suggestion {
                                prop_assert!(catalog_names().contains(s));
                            }
                        }
                        ScopeError::TooLong { len, .. } => {
                            prop_assert_eq!(*len, name.len());
                            prop_assert!(*len > Scope::MAX_LEN);
                        }
                    }
                    let text = e.to_string();
                    prop_assert!(!text.chars().any(char::is_control), "{text:?}");
                    prop_assert!(text.len() < 1_200, "{text}");
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_scope_lists_parse_to_their_names_and_print_back() {
    let separator = select(
        &[
            " ", " ", "  ", "\t", "\n", "\r\n", ",", ", ", "\u{a0}", "\u{3000}",
        ][..],
    );
    let strategy = vec((scope_name(), separator), 0..10).prop_map(|names| {
        names
            .into_iter()
            .map(|(n, s)| format!("{n}{s}"))
            .collect::<String>()
    });
    TestRunner::new(config(512))
        .run(&strategy, |list| {
            let names: Vec<&str> = list.split_ascii_whitespace().collect();
            match ScopeSet::parse(&list) {
                Ok(set) => {
                    prop_assert!(names.iter().all(|n| well_formed(n)), "{list:?}");
                    prop_assert!(set.len() <= names.len());
                    for name in &names {
                        prop_assert!(set.contains(&Scope::parse(name).unwrap()));
                    }
                    prop_assert_eq!(ScopeSet::parse(&set.to_string()), Ok(set.clone()));
                    let printed = set.to_header_string();
                    prop_assert!(!printed.starts_with(' ') && !printed.contains("  "));
                    let json = serde_json::to_string(&set).unwrap();
                    prop_assert_eq!(serde_json::from_str::<ScopeSet>(&json).unwrap(), set);
                }
                Err(_) => prop_assert!(!names.iter().all(|n| well_formed(n)), "{list:?}"),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn suggestions_are_catalog_names_and_every_one_edit_miss_gets_one() {
    let strategy = prop_oneof![
        3 => near_miss().prop_map(|n| (n, true)),
        2 => scope_name().prop_map(|n| (n, false)),
    ];
    TestRunner::new(config(512))
        .run(&strategy, |(name, one_edit)| {
            let suggestion = suggest(&name);
            if let Some(s) = suggestion {
                prop_assert!(catalog_names().contains(&s), "{s}");
            }
            if catalog_names().contains(&name.as_str()) {
                prop_assert_eq!(suggestion, Some(name.as_str()));
            }
            // One edit away (after case and separators are forgiven) is always close.
            if one_edit && name.len() <= 2 * Scope::MAX_LEN {
                prop_assert!(suggestion.is_some(), "{name:?}");
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Regression seeds: bounded cost

/// The review's abuse case: a megabyte of near-miss scope names. Each function returns at once
/// (a suggestion is looked for at most once, on a bounded name).
#[test]
fn a_megabyte_of_near_miss_scope_names_costs_little() {
    let valid_misses = "monitors_raed dashbaords_read monitor_read ".repeat(1 << 15);
    let invalid_misses = "Monitors-Read dashbaords.read monitors:raed ".repeat(1 << 15);
    let one_name = "monitors_read".repeat(1 << 17);
    let one_bad_name = "Monitors_Read".repeat(1 << 17);
    for list in [&valid_misses, &invalid_misses, &one_name, &one_bad_name] {
        assert!(list.len() >= 1 << 20);
        let started = Instant::now();
        let parsed = ScopeSet::parse(list);
        let _ = Scope::parse(list);
        let _ = suggest(list);
        for name in list.split_ascii_whitespace().take(300) {
            let _ = suggest(name);
        }
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
        if std::ptr::eq(list, &valid_misses) {
            assert_eq!(parsed.unwrap().len(), 3);
        } else {
            assert!(parsed.is_err());
        }
    }
}

/// The longest name `suggest` still searches for, made of the catalog's words: the edit
/// distances over it stay cheap.
#[test]
fn the_longest_searched_name_is_cheap() {
    let name: String = "dashboards_read_".repeat(16)[..2 * Scope::MAX_LEN].to_owned();
    let started = Instant::now();
    for _ in 0..10 {
        let _ = suggest(&name);
        let _ = Scope::parse(&name.replace('_', "-"));
    }
    assert!(started.elapsed() < Duration::from_secs(20));
}
