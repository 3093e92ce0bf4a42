//! The submission folder's files: `manifest.json`, `metadata.csv`, `README.md`,
//! `CHANGELOG.md`, `assets/oauth_clients.json` and `assets/service_checks.json`, as a partner
//! (or a pull request) leaves them, read by `validate`, `validate_against` and `render`.
//!
//! The seeds are folders Datadog merged (`shared/reference/real-integrations`, read at test
//! time; skipped with a message when absent) and the folders the test declarations render.
//! Mutated byte by byte, value by value, cell by cell and line by line, or replaced by anything,
//! no file makes a function panic, and every finding is one line.

use std::path::Path;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use crate::fixture;
use crate::{
    CHANGELOG, Finding, Folder, MANIFEST, METADATA, OAUTH_CLIENTS, README, SERVICE_CHECKS,
    render_at, validate, validate_against,
};
use dd_integration::testkit::strategies::{XSS, any_text, config, hostile_text, replace_at};

const FILES: [&str; 6] = [
    MANIFEST,
    METADATA,
    README,
    CHANGELOG,
    OAUTH_CLIENTS,
    SERVICE_CHECKS,
];

/// The folders to mutate: the rendered test declarations, and the merged integrations when the
/// shared reference is present.
fn seeds() -> Vec<(String, Folder)> {
    let mut seeds = vec![
        (
            "rendered exporter".to_owned(),
            fixture::folder(&fixture::EXPORTER),
        ),
        (
            "rendered on-call".to_owned(),
            fixture::folder(&fixture::ONCALL),
        ),
    ];
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/real-integrations");
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            let mut dirs: Vec<_> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            eprintln!(
                "mutating {} merged integrations from {}",
                dirs.len(),
                dir.display()
            );
            for path in dirs {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                seeds.push((name, Folder::read(&path).unwrap()));
            }
        }
        Err(e) => eprintln!(
            "the merged integrations are not mutated: {} is absent ({e}); only the rendered \
             declarations are",
            dir.display()
        ),
    }
    seeds
}

// ---------------------------------------------------------------------------------------------
// Edits

/// One change to one file of a folder.
#[derive(Clone, Debug)]
enum Edit {
    /// Flips bit `bit` of byte `at`.
    FlipBit { file: usize, at: usize, bit: u8 },
    /// Keeps the first `keep` bytes.
    Truncate { file: usize, keep: usize },
    /// Inserts bytes (UTF-8 or not).
    Insert {
        file: usize,
        at: usize,
        bytes: Vec<u8>,
    },
    /// Removes `len` bytes.
    Remove { file: usize, at: usize, len: usize },
    /// Repeats a stretch, to make the file long.
    Repeat {
        file: usize,
        at: usize,
        len: usize,
        times: usize,
    },
    /// Replaces one JSON value, `depth` levels down.
    JsonValue {
        file: usize,
        depth: usize,
        at: usize,
        value: Value,
    },
    /// Inserts a key the object may already have (JSON refuses duplicates).
    JsonDuplicate {
        file: usize,
        key: &'static str,
        value: Value,
    },
    /// Replaces one cell of a CSV line.
    Cell {
        line: usize,
        cell: usize,
        text: String,
    },
    /// Inserts a line into a text file.
    Line {
        file: usize,
        at: usize,
        text: String,
    },
    /// Removes a line of a text file.
    DropLine { file: usize, at: usize },
    /// Removes a file.
    Delete { file: usize },
    /// Adds a file the folder should not have, or one under a path that is not a path.
    Add { path: String, text: String },
}

fn file() -> impl Strategy<Value = usize> + Clone {
    0..FILES.len()
}

fn json_file() -> impl Strategy<Value = usize> + Clone {
    // manifest.json, oauth_clients.json, service_checks.json.
    select(vec![0usize, 4, 5])
}

fn text_file() -> impl Strategy<Value = usize> + Clone {
    // metadata.csv, README.md, CHANGELOG.md.
    select(vec![1usize, 2, 3])
}

/// A JSON value to put where another was.
fn json_value() -> impl Strategy<Value = Value> + Clone {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        hostile_text().prop_map(Value::from),
        select(
            &[
                "",
                "Category::Metrics",
                "Category::",
                "::",
                "Supported OS::Any",
                "Offering::Integration",
                "https://",
                "https://example.com/x?y#z",
                "http://localhost:8080/callback",
                "javascript:alert(1)",
                "a@b",
                "@",
                "00000000-0000-0000-0000-000000000000",
                "0b9e4d2c-6a1f-4e3b-8c5d-2f7a9b1e3c4",
                "api_keys_write",
                "monitors_read Monitors_Read",
                "1.0.0",
                "1.0",
                "v1.0.0-rc.1",
                "9999999999999999999.0.0",
                "gauge",
                "histogram",
            ][..],
        )
        .prop_map(Value::from),
        select(XSS).prop_map(Value::from),
        (1usize..3_000).prop_map(|n| Value::from("x".repeat(n))),
        (120usize..140).prop_map(|n| {
            let mut v = json!(1);
            for _ in 0..n {
                v = json!([v]);
            }
            v
        }),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((any_text(8), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Lines a README, a CHANGELOG or a metadata.csv can hold.
fn line() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => select(
            &[
                "## Overview",
                "## Setup",
                "## Uninstallation",
                "### Uninstallation",
                "## Data Collected",
                "## Support",
                "# Title",
                "#",
                "##",
                "###### Deep",
                "<!-- dd-integration:begin setup -->",
                "<!-- dd-integration:end setup -->",
                "<!-- dd-integration:begin -->",
                "<!-- dd-integration:end overview -->",
                "<!-- dd-integration:begin \u{0} -->",
                "<!--",
                "-->",
                "```",
                "~~~",
                "---",
                "| a | b |",
                "[link]: https://example.com",
                "[link](javascript:alert(1))",
                "![image](images/x.png)",
                "## 1.0.0 / 2026-01-01",
                "## 1.0.0 / 2026-13-45",
                "## 99999999999999999999.0.0 / 2026-01-01",
                "## Unreleased",
                "* [Added] Something.",
                "metric_name,metric_type,interval,unit_name,per_unit_name,description,orientation,integration,short_name,curated_metric",
                "acme.x,gauge,,,,d,0,acme,x,",
                "acme.x,histogram,abc,parsec,,\"unterminated,1,acme,,",
                "\"\"\"\",,,,,,,,,,,,,,,,,,,,,,",
                "",
                "\t",
                "\r",
            ][..],
        )
        .prop_map(str::to_owned),
        2 => hostile_text(),
        1 => select(XSS).prop_map(str::to_owned),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (file(), any::<usize>(), 0u8..8)
            .prop_map(|(file, at, bit)| Edit::FlipBit { file, at, bit }),
        1 => (file(), any::<usize>()).prop_map(|(file, keep)| Edit::Truncate { file, keep }),
        2 => (file(), any::<usize>(), prop_oneof![
            vec(any::<u8>(), 1..8),
            hostile_text().prop_map(String::into_bytes),
            select(&["\"", ",", "{", "}", "[", "]", ":", "\n", "\\", "\u{feff}"][..])
                .prop_map(|s| s.as_bytes().to_vec()),
        ])
            .prop_map(|(file, at, bytes)| Edit::Insert { file, at, bytes }),
        2 => (file(), any::<usize>(), 1usize..64)
            .prop_map(|(file, at, len)| Edit::Remove { file, at, len }),
        1 => (file(), any::<usize>(), 1usize..200, 10usize..2_000)
            .prop_map(|(file, at, len, times)| Edit::Repeat { file, at, len, times }),
        6 => (json_file(), 0usize..6, any::<usize>(), json_value())
            .prop_map(|(file, depth, at, value)| Edit::JsonValue { file, depth, at, value }),
        1 => (
            json_file(),
            select(&["app_id", "app_uuid", "assets", "tile", "author", "integration", "name"][..]),
            json_value(),
        )
            .prop_map(|(file, key, value)| Edit::JsonDuplicate { file, key, value }),
        3 => (any::<usize>(), any::<usize>(), prop_oneof![
            hostile_text(),
            select(&["", "\"", "\"\"", "\"a,b\"", "a\nb", "-1", "1e400", "gauge", "rate", "NaN"][..])
                .prop_map(str::to_owned),
        ])
            .prop_map(|(line, cell, text)| Edit::Cell { line, cell, text }),
        3 => (text_file(), any::<usize>(), line())
            .prop_map(|(file, at, text)| Edit::Line { file, at, text }),
        1 => (text_file(), any::<usize>()).prop_map(|(file, at)| Edit::DropLine { file, at }),
        1 => file().prop_map(|file| Edit::Delete { file }),
        1 => (
            prop_oneof![
                select(&[
                    "assets/dashboards/x.json",
                    "images/x.png",
                    "manifest.json.orig",
                    "../manifest.json",
                    "assets//oauth_clients.json",
                    "",
                    "/",
                ][..])
                .prop_map(str::to_owned),
                any_text(12),
            ],
            hostile_text(),
        )
            .prop_map(|(path, text)| Edit::Add { path, text }),
    ]
}

/// The byte offset `at` (mod the length, inclusive) moved back to a char boundary when the
/// bytes are text.
fn offset(bytes: &[u8], at: usize) -> usize {
    at % (bytes.len() + 1)
}

fn lines_of(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split('\n')
        .map(str::to_owned)
        .collect()
}

impl Edit {
    fn apply(&self, folder: &mut Folder) {
        let name = |file: &usize| FILES[*file];
        let bytes = |folder: &Folder, file: &usize| folder.get(FILES[*file]).map(<[u8]>::to_vec);
        match self {
            Edit::FlipBit { file, at, bit } => {
                if let Some(mut b) = bytes(folder, file).filter(|b| !b.is_empty()) {
                    let n = b.len();
                    b[at % n] ^= 1 << bit;
                    folder.insert(name(file), b);
                }
            }
            Edit::Truncate { file, keep } => {
                if let Some(mut b) = bytes(folder, file) {
                    b.truncate(offset(&b, *keep));
                    folder.insert(name(file), b);
                }
            }
            Edit::Insert {
                file,
                at,
                bytes: inserted,
            } => {
                let mut b = bytes(folder, file).unwrap_or_default();
                let at = offset(&b, *at);
                b.splice(at..at, inserted.iter().copied());
                folder.insert(name(file), b);
            }
            Edit::Remove { file, at, len } => {
                if let Some(mut b) = bytes(folder, file) {
                    let at = offset(&b, *at);
                    let end = (at + len).min(b.len());
                    b.drain(at..end);
                    folder.insert(name(file), b);
                }
            }
            Edit::Repeat {
                file,
                at,
                len,
                times,
            } => {
                if let Some(b) = bytes(folder, file) {
                    let at = offset(&b, *at);
                    let end = (at + len).min(b.len());
                    let stretch = b[at..end].repeat(*times);
                    let mut out = b[..end].to_vec();
                    out.extend_from_slice(&stretch);
                    out.extend_from_slice(&b[end..]);
                    folder.insert(name(file), out);
                }
            }
            Edit::JsonValue {
                file,
                depth,
                at,
                value,
            } => {
                let parsed =
                    bytes(folder, file).and_then(|b| serde_json::from_slice::<Value>(&b).ok());
                if let Some(mut json) = parsed {
                    replace_at(&mut json, *depth, *at, value.clone());
                    folder.insert(name(file), serde_json::to_string_pretty(&json).unwrap());
                }
            }
            Edit::JsonDuplicate { file, key, value } => {
                if let Some(b) = bytes(folder, file) {
                    let text = String::from_utf8_lossy(&b);
                    if let Some(i) = text.find('{') {
                        let entry = format!("\"{key}\": {value},");
                        let text = format!("{}{entry}{}", &text[..=i], &text[i + 1..]);
                        folder.insert(name(file), text);
                    }
                }
            }
            Edit::Cell { line, cell, text } => {
                if let Some(b) = folder.get(METADATA) {
                    let mut lines = lines_of(b);
                    let n = lines.len();
                    let l = &mut lines[line % n];
                    let mut cells: Vec<String> = l.split(',').map(str::to_owned).collect();
                    let m = cells.len();
                    cells[cell % m] = text.clone();
                    *l = cells.join(",");
                    folder.insert(METADATA, lines.join("\n"));
                }
            }
            Edit::Line { file, at, text } => {
                let mut lines = bytes(folder, file)
                    .map(|b| lines_of(&b))
                    .unwrap_or_default();
                let at = at % (lines.len() + 1);
                lines.insert(at, text.clone());
                folder.insert(name(file), lines.join("\n"));
            }
            Edit::DropLine { file, at } => {
                if let Some(b) = bytes(folder, file) {
                    let mut lines = lines_of(&b);
                    let n = lines.len();
                    lines.remove(at % n);
                    folder.insert(name(file), lines.join("\n"));
                }
            }
            Edit::Delete { file } => {
                folder.remove(name(file));
            }
            Edit::Add { path, text } => folder.insert(path, text.clone()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Runs every reader of a folder on `folder` (`seed` is the folder it was mutated from): a
/// panic fails the case. Returns the findings.
fn read_every_way(seed: &Folder, folder: &Folder, spec: usize) -> Vec<Finding> {
    let spec = [&fixture::EXPORTER, &fixture::ONCALL][spec % 2];
    let mut findings: Vec<Finding> = validate(folder, None);
    findings.extend(validate(folder, Some(spec)));
    findings.extend(validate_against(seed, folder));
    findings.extend(validate_against(folder, seed));
    // Rendering reads the folder for what it keeps; what it writes validates without panicking.
    if let Ok(rendered) = render_at(spec, Some(folder), fixture::now()) {
        let written = rendered.apply(Some(folder));
        let _ = validate(&written, Some(spec));
        let _ = rendered.stale(Some(folder));
    }
    findings
}

/// A folder mutated from one of `seeds`.
fn mutated(seeds: &[(String, Folder)]) -> impl Strategy<Value = (usize, Vec<Edit>, usize)> {
    (0..seeds.len(), vec(edit(), 1..5), any::<usize>())
}

fn apply_all(seed: &Folder, edits: &[Edit]) -> Folder {
    let mut folder = seed.clone();
    for edit in edits {
        edit.apply(&mut folder);
    }
    folder
}

fn arbitrary_files() -> impl Strategy<Value = (Folder, usize)> {
    let contents = prop_oneof![
        2 => hostile_text().prop_map(String::into_bytes),
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => vec(line(), 0..12).prop_map(|l| l.join("\n").into_bytes()),
        1 => vec(any::<u8>(), 0..64),
    ];
    (
        vec(proptest::option::of(contents), FILES.len()),
        any::<usize>(),
    )
        .prop_map(|(files, spec)| {
            let mut folder = Folder::named("fuzz");
            for (name, contents) in FILES.iter().zip(files) {
                if let Some(contents) = contents {
                    folder.insert(name, contents);
                }
            }
            (folder, spec)
        })
}

#[test]
fn mutated_submission_folders_never_panic_a_reader() {
    let seeds = seeds();
    TestRunner::new(config(128))
        .run(&mutated(&seeds), |(seed, edits, spec)| {
            let original = &seeds[seed].1;
            read_every_way(original, &apply_all(original, &edits), spec);
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_submission_files_never_panic_a_reader() {
    let base = fixture::folder(&fixture::EXPORTER);
    TestRunner::new(config(128))
        .run(&arbitrary_files(), |(folder, spec)| {
            read_every_way(&base, &folder, spec);
            Ok(())
        })
        .unwrap();
}

/// A finding "displays as one line" (`Finding`'s documentation), and it is printed to a
/// terminal or a CI log: text from the folder must come into it escaped.
fn check_printable(findings: &[Finding]) -> Result<(), TestCaseError> {
    for finding in findings {
        let text = finding.to_string();
        prop_assert!(
            !text.chars().any(char::is_control),
            "{:?}: a control character in {text:?}",
            finding.rule
        );
    }
    Ok(())
}

#[test]
fn every_finding_is_one_printable_line() {
    let seeds = seeds();
    let base = fixture::folder(&fixture::EXPORTER);
    TestRunner::new(config(128))
        .run(&mutated(&seeds), |(seed, edits, spec)| {
            let original = &seeds[seed].1;
            check_printable(&read_every_way(
                original,
                &apply_all(original, &edits),
                spec,
            ))
        })
        .unwrap();
    TestRunner::new(config(128))
        .run(&arbitrary_files(), |(folder, spec)| {
            check_printable(&read_every_way(&base, &folder, spec))
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Regression seeds

/// Files past any real integration's size are read in bounded time.
#[test]
fn huge_submission_files_are_read_in_bounded_time() {
    let mut folder = fixture::folder(&fixture::EXPORTER);
    let readme = folder.text(README).unwrap().unwrap().to_owned();
    folder.insert(README, readme.repeat(200));
    let csv = folder.text(METADATA).unwrap().unwrap().to_owned();
    let row = csv.lines().nth(1).unwrap().to_owned();
    folder.insert(
        METADATA,
        format!("{csv}{}", format!("{row}\n").repeat(20_000)),
    );
    folder.insert(
        CHANGELOG,
        "## 1.0.0 / 2026-01-01\n\n* [Added] x.\n\n".repeat(20_000),
    );
    let started = std::time::Instant::now();
    let _ = validate(&folder, Some(&fixture::EXPORTER));
    let _ = render_at(&fixture::EXPORTER, Some(&folder), fixture::now());
    let elapsed = started.elapsed();
    assert!(elapsed < std::time::Duration::from_secs(30), "{elapsed:?}");
}

/// The minimal input the property above shrank to: `assets/oauth_clients.json` holding
/// `{"\n":null}` gives "has the key `<newline>`", a finding of two lines.
#[test]
fn a_key_with_a_newline_makes_a_finding_of_two_lines() {
    let mut folder = Folder::named("fuzz");
    folder.insert(OAUTH_CLIENTS, "{\"\\n\":null}");
    folder.insert(
        METADATA,
        "metric_name,metric_type,interval,unit_name,per_unit_name,description,orientation,integration,short_name,curated_metric\nx.y,\u{1b}[2J,,,,d,0,x,,\n",
    );
    let findings = validate(&folder, None);
    for finding in &findings {
        let text = finding.to_string();
        assert!(
            !text.chars().any(char::is_control),
            "{:?}: {text:?}",
            finding.rule
        );
    }
}

/// JSON nested past serde_json's limit, and a manifest that is not an object.
#[test]
fn deep_or_odd_manifests_are_findings() {
    for manifest in [
        format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)),
        "[]".to_owned(),
        "null".to_owned(),
        "\"manifest\"".to_owned(),
        "{\"app_id\": 1, \"app_id\": 2}".to_owned(),
    ] {
        let mut folder = fixture::folder(&fixture::EXPORTER);
        folder.insert(MANIFEST, manifest.clone());
        let findings = validate(&folder, Some(&fixture::EXPORTER));
        assert!(
            findings.iter().any(Finding::is_error),
            "{}",
            &manifest[..manifest.len().min(40)]
        );
        let _ = render_at(&fixture::EXPORTER, Some(&folder), fixture::now());
    }
}
