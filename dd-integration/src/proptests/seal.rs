//! `Sealer::open`: the flow cookie comes back from the browser, which can send anything.
//!
//! Arbitrary strings and every mutation of a real sealed value (bit flips, truncation,
//! extension, a swapped key id or format) never open; a value opens only under the name
//! (purpose) it was sealed for, and only to what was sealed.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestRunner;

use super::{any_text, config, hostile_text};
use crate::seal::{SealError, Sealer, SealingKey};

/// The current key `k1` with the older `k0` still listed, and a stranger's sealer that uses
/// `k1`'s id with other bytes.
fn sealers() -> (Sealer, Sealer) {
    let (current, _) = SealingKey::generate("k1").unwrap();
    let (older, _) = SealingKey::generate("k0").unwrap();
    let (stranger, _) = SealingKey::generate("k1").unwrap();
    (
        Sealer::new(current).with_older_key(older),
        Sealer::new(stranger),
    )
}

/// A cookie name as the install flow makes them, or anything.
fn purpose() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "(__Host-)?ddflow-[A-Za-z0-9]{0,16}",
        1 => any_text(24),
        1 => Just(String::new()),
    ]
}

/// Strings shaped like a sealed value (`v1.<id>.<base64url>`), near misses of the shape, and
/// anything.
fn sealed_like() -> impl Strategy<Value = String> {
    let body = prop_oneof![
        "[A-Za-z0-9_-]{0,120}",
        "[A-Za-z0-9+/=_-]{0,120}",
        any_text(40),
    ];
    let shaped = (
        select(&["v1", "v1", "V1", "v2", "v0", "", "v1.v1"][..]),
        select(
            &[
                "k1",
                "k0",
                "k2",
                "",
                "K1",
                "k1\n",
                "k1\u{0}",
                "k1.k1",
                "\u{1b}[31m",
            ][..],
        ),
        body,
    )
        .prop_map(|(format, id, body)| format!("{format}.{id}.{body}"));
    prop_oneof![
        3 => shaped,
        1 => hostile_text(),
        1 => Just("not-a-sealed-flow".to_owned()),
    ]
}

#[test]
fn arbitrary_strings_never_open_and_errors_are_escaped() {
    let (sealer, _) = sealers();
    let strategy = (purpose(), sealed_like());
    TestRunner::new(config(1024))
        .run(&strategy, |(purpose, text)| {
            let opened = sealer.open(&purpose, &text);
            prop_assert!(opened.is_err(), "{text:?} opened");
            let shown = opened.unwrap_err().to_string();
            prop_assert!(!shown.chars().any(char::is_control), "{shown:?}");
            prop_assert!(shown.len() < 600, "{shown}");
            // The key id is read without opening, and only from the crate's format.
            if let Some(id) = Sealer::key_id_of(&text) {
                let prefix = format!("v1.{id}.");
                prop_assert!(text.starts_with(&prefix));
            }
            Ok(())
        })
        .unwrap();
}

/// One change to a sealed value.
#[derive(Clone, Debug)]
enum Mutation {
    /// Flips bit `bit` of byte `at` (mod the length).
    FlipBit { at: usize, bit: u8 },
    /// Keeps the first `keep` bytes (mod the length).
    Truncate { keep: usize },
    /// Appends text.
    Extend(String),
    /// Inserts text at a byte (mod the length, on a char boundary).
    Insert { at: usize, text: String },
    /// Removes `len` bytes at `at`.
    Remove { at: usize, len: usize },
    /// Swaps two bytes.
    Swap { a: usize, b: usize },
    /// Replaces the key id.
    KeyId(String),
    /// Replaces the format.
    Format(String),
    /// Replaces the body with another value's, sealed for another purpose or under another key.
    Graft { other_purpose: bool },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        2 => any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        2 => prop_oneof![
            "[A-Za-z0-9_-]{1,8}",
            Just("=".to_owned()),
            Just("==".to_owned()),
            Just(".".to_owned()),
            any_text(4).prop_filter("not empty", |s| !s.is_empty()),
        ]
        .prop_map(Mutation::Extend),
        2 => (any::<usize>(), "[A-Za-z0-9_.=-]{1,4}")
            .prop_map(|(at, text)| Mutation::Insert { at, text }),
        2 => (any::<usize>(), 1usize..6).prop_map(|(at, len)| Mutation::Remove { at, len }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap { a, b }),
        2 => select(&["k0", "k2", "", "K1", "k1 ", "k1.", "k"][..])
            .prop_map(|s| Mutation::KeyId(s.to_owned())),
        1 => select(&["v2", "V1", "", "v1 ", "v"][..]).prop_map(|s| Mutation::Format(s.to_owned())),
        1 => any::<bool>().prop_map(|other_purpose| Mutation::Graft { other_purpose }),
    ]
}

/// `sealed` with `m` applied; `other` is a value sealed for another purpose, `stranger` one
/// sealed under a stranger's key of the same id.
fn apply(sealed: &str, m: &Mutation, other: &str, stranger: &str) -> String {
    let mut bytes = sealed.as_bytes().to_vec();
    let n = bytes.len();
    if n == 0 {
        return match m {
            Mutation::Extend(text) | Mutation::Insert { text, .. } => text.clone(),
            _ => String::new(),
        };
    }
    let boundary = |at: usize| {
        let mut at = at % (n + 1);
        while !sealed.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    match m {
        Mutation::FlipBit { at, bit } => bytes[at % n] ^= 1 << bit,
        Mutation::Truncate { keep } => bytes.truncate(keep % n),
        Mutation::Extend(text) => bytes.extend_from_slice(text.as_bytes()),
        Mutation::Insert { at, text } => {
            let at = boundary(*at);
            bytes.splice(at..at, text.bytes());
        }
        Mutation::Remove { at, len } => {
            let at = at % n;
            bytes.drain(at..(at + len).min(n));
        }
        Mutation::Swap { a, b } => bytes.swap(a % n, b % n),
        Mutation::KeyId(id) => {
            let mut parts = sealed.splitn(3, '.');
            return match (parts.next(), parts.next(), parts.next()) {
                (Some(format), Some(_), Some(body)) => format!("{format}.{id}.{body}"),
                _ => format!("v1.{id}.{sealed}"),
            };
        }
        Mutation::Format(format) => {
            let rest = sealed.split_once('.').map_or(sealed, |(_, rest)| rest);
            return format!("{format}.{rest}");
        }
        Mutation::Graft { other_purpose } => {
            let head = sealed.rsplit_once('.').map_or(sealed, |(head, _)| head);
            let donor = if *other_purpose { other } else { stranger };
            let (_, body) = donor.rsplit_once('.').expect("a sealed value");
            return format!("{head}.{body}");
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn no_mutation_of_a_sealed_value_opens() {
    let (sealer, stranger) = sealers();
    let strategy = (purpose(), vec(any::<u8>(), 0..200), vec(mutation(), 1..4));
    TestRunner::new(config(1024))
        .run(&strategy, |(purpose, plaintext, mutations)| {
            let sealed = sealer.seal(&purpose, &plaintext);
            prop_assert_eq!(&sealer.open(&purpose, &sealed).unwrap(), &plaintext);
            let other = sealer.seal(&format!("{purpose}-other"), &plaintext);
            let foreign = stranger.seal(&purpose, &plaintext);
            let mut mutated = sealed.clone();
            for m in &mutations {
                mutated = apply(&mutated, m, &other, &foreign);
            }
            if mutated == sealed {
                return Ok(());
            }
            let opened = sealer.open(&purpose, &mutated);
            prop_assert!(
                opened.is_err(),
                "{mutations:?} turned {sealed:?} into {mutated:?}, which opened"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_value_opens_only_under_the_name_it_was_sealed_for() {
    let (current, _) = SealingKey::generate("k1").unwrap();
    let sealer = Sealer::new(current.clone());
    let (next, _) = SealingKey::generate("k2").unwrap();
    let rotated = Sealer::new(next).with_older_key(current);
    let (_, stranger) = sealers();
    let strategy = (purpose(), purpose(), vec(any::<u8>(), 0..64));
    TestRunner::new(config(512))
        .run(&strategy, |(name, other, plaintext)| {
            let sealed = sealer.seal(&name, &plaintext);
            prop_assert!(sealed.starts_with("v1.k1."));
            prop_assert_eq!(Sealer::key_id_of(&sealed), Some("k1"));
            prop_assert_eq!(sealer.open(&name, &sealed), Ok(plaintext.clone()));
            if other != name {
                prop_assert_eq!(sealer.open(&other, &sealed), Err(SealError::Tampered));
            }
            // Once its key is rotated out to an older one, it still opens for its name only.
            prop_assert_eq!(rotated.open(&name, &sealed), Ok(plaintext.clone()));
            if other != name {
                prop_assert_eq!(rotated.open(&other, &sealed), Err(SealError::Tampered));
            }
            // Sealed under a stranger's key of the same id, it never opens.
            prop_assert_eq!(stranger.open(&name, &sealed), Err(SealError::Tampered));
            let by_stranger = stranger.seal(&name, &plaintext);
            prop_assert_eq!(sealer.open(&name, &by_stranger), Err(SealError::Tampered));
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Regression seeds

#[test]
fn the_reviews_junk_cookie_values_do_not_open() {
    let (sealer, _) = sealers();
    let long = format!("v1.k1.{}", "A".repeat(1 << 20));
    for junk in [
        "not-a-sealed-flow",
        "",
        ".",
        "..",
        "v1..",
        "v1.k1.",
        "v1.k1.A",
        "v1.k1.AA",
        "v1.k1.====",
        "v1.k1.\u{0}",
        long.as_str(),
    ] {
        assert!(
            sealer.open("__Host-ddflow-AAAAAAAAAAAAAAAA", junk).is_err(),
            "{junk:?}"
        );
    }
}

/// Every single-character change of a real value is refused, whichever character (the last
/// one's unused base64 bits included).
#[test]
fn every_one_character_change_of_a_sealed_value_is_refused() {
    let (sealer, _) = sealers();
    let sealed = sealer.seal("ddflow-x", b"{\"state\":\"s\"}");
    for at in 0..sealed.len() {
        for replacement in ['A', 'B', 'Q', 'g', 'w', '-', '_', '.', '0'] {
            let mut changed = sealed.clone();
            changed.replace_range(at..=at, &replacement.to_string());
            if changed != sealed {
                assert!(sealer.open("ddflow-x", &changed).is_err(), "{changed}");
            }
        }
    }
}
