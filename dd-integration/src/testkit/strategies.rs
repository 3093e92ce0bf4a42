//! Property-test strategies for hostile input, and the runner configuration the SDK's own
//! property tests use: text an attacker would send (markup, percent-encoding garbage, control
//! characters, look-alike Unicode, long runs), and a JSON answer with one value replaced by
//! junk. A partner can point them at its own handlers and hooks.
//!
//! Behind the `proptest` feature (with `testkit`).

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;
use serde_json::Value;

/// A runner's configuration: `cases` cases unless `PROPTEST_CASES` says otherwise, and no
/// regression files written into the source tree (the seeds worth keeping are unit tests).
pub fn config(cases: u32) -> Config {
    // `Config::default()` reads the `PROPTEST_*` variables.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    // The same cases on every run of the test command: a property that found a new input
    // once and passes the next time would be a flaky test. Explore with another seed by
    // setting PROPTEST_RNG_SEED (each input found that way becomes a regression case here).
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(SEED);
    }
    config.failure_persistence = None;
    config
}

/// The fixed seed of the test command's runs.
pub const SEED: u64 = 0x00dd_1e91_2026_1206;

/// Markup that must never come back out of a page unescaped.
pub const XSS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "</title><script>alert(1)</script>",
    "</p><iframe src=javascript:alert(1)>",
    "<scr<script>ipt>alert(1)</script>",
    "\u{0}<script>alert(1)</script>",
    "<<script>>",
    "&lt;script&gt;",
    "<!--<script>-->",
    "<a href=\"javascript:alert(1)\">x</a>",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "<p style=\"background:url(javascript:alert(1))\">",
];

/// Any characters, control characters and unpaired combining marks included.
pub fn any_text(max: usize) -> impl Strategy<Value = String> + Clone {
    vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

/// Text an attacker would try: arbitrary characters, markup, percent-encoding garbage, control
/// characters, look-alike Unicode, token-shaped runs, and now and then something long.
pub fn hostile_text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        12 => short_hostile_text(),
        1 => (any_text(4), 100usize..3_000).prop_map(|(s, n)| {
            let unit = if s.is_empty() { "x".to_owned() } else { s };
            unit.repeat(n.div_ceil(unit.len()))
        }),
    ]
}

/// [`hostile_text`] without the long values: at most a few dozen characters.
pub fn short_hostile_text() -> impl Strategy<Value = String> + Clone {
    let pieces = prop_oneof![
        4 => any_text(12),
        2 => select(XSS).prop_map(str::to_owned),
        2 => select(&[
            "%", "%%", "%0", "%zz", "%00", "%0a", "%0d%0a", "%ff", "%e2%82", "%C0%AE", "%25", "+",
            "&", "=", "==", ";", "#", "?", "/", "\\", "\"", "'", "\u{0}", "\n", "\r\n", "\t",
            "\u{202e}", "\u{200b}", "\u{feff}", "\u{fffd}", "é", "е", "ı", "ß", "🦀", "\u{10ffff}",
            " ", "..", "../", "null", "undefined", "NaN", "-1", "0", "9999999999999999999999",
        ][..])
        .prop_map(str::to_owned),
        1 => "[A-Za-z0-9]{20,40}",
        1 => "[a-z_]{1,12}",
    ];
    vec(pieces, 0..6).prop_map(|p| p.concat())
}

/// Replaces the value `depth` levels down (the `at`th child at each level, as far as there are
/// children) with `junk`.
pub fn replace_at(value: &mut Value, depth: usize, at: usize, junk: Value) {
    let child = match value {
        _ if depth == 0 => None,
        Value::Object(o) if !o.is_empty() => {
            let n = o.len();
            o.values_mut().nth(at % n)
        }
        Value::Array(a) if !a.is_empty() => {
            let n = a.len();
            a.get_mut(at % n)
        }
        _ => None,
    };
    match child {
        Some(child) => replace_at(child, depth - 1, at / 7, junk),
        None => *value = junk,
    }
}
