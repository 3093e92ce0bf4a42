//! The eleven folders Datadog reviewed and merged (`../shared/reference/real-integrations/`),
//! against the SDK's rules: every rule that is an error must let them through, since Datadog's
//! tools and reviewers did.
//!
//! The reference copies leave out the partner's binary and exported files (images, dashboards,
//! monitors); each test puts a placeholder where the folder names one, so that what is checked
//! is what Datadog checked.

use std::path::{Path, PathBuf};

use dd_integration_submission::{self as submission, Folder, Rule, Severity};

/// The eleven merged folders.
const FOLDERS: [&str; 11] = [
    "ably",
    "aimon",
    "blink",
    "doppler",
    "downdetector",
    "fauna",
    "inngest",
    "mergify_oauth",
    "modal",
    "notion",
    "vantage",
];

fn reference() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/real-integrations");
    assert!(
        dir.is_dir(),
        "{} is missing: the tests read the merged folders from the shared reference beside the \
         project",
        dir.display()
    );
    dir
}

/// A merged folder with a placeholder for each partner-owned file the reference copy omits.
fn merged(name: &str) -> Folder {
    let mut folder = Folder::read(&reference().join(name)).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(folder.get("manifest.json").unwrap()).unwrap();
    let mut wanted: Vec<String> = Vec::new();
    for media in manifest["tile"]["media"].as_array().into_iter().flatten() {
        if let Some(url) = media["image_url"].as_str() {
            wanted.push(url.to_owned());
        }
    }
    for kind in ["dashboards", "monitors", "saved_views"] {
        for path in manifest["assets"][kind]
            .as_object()
            .into_iter()
            .flat_map(|o| o.values())
        {
            if let Some(path) = path.as_str() {
                wanted.push(path.to_owned());
            }
        }
    }
    let readme = folder
        .text("README.md")
        .and_then(Result::ok)
        .unwrap_or_default()
        .to_owned();
    let marker = format!("/{name}/images/");
    for (at, _) in readme.match_indices(&marker) {
        let rest = &readme[at + marker.len()..];
        let end = rest
            .find(|c: char| c == ')' || c == '"' || c == '\'' || c.is_whitespace())
            .unwrap_or(rest.len());
        wanted.push(format!("images/{}", &rest[..end]));
    }
    for path in wanted {
        if !folder.contains(&path) {
            let contents: &[u8] = if path.ends_with(".json") {
                br#"{"title": "placeholder", "widgets": [], "layout_type": "ordered"}"#
            } else {
                b"placeholder image"
            };
            folder.insert(&path, contents);
        }
    }
    folder
}

#[test]
fn every_merged_folder_passes_every_error_rule() {
    let mut refused = Vec::new();
    for name in FOLDERS {
        let findings = submission::validate(&merged(name), None);
        for finding in findings.iter().filter(|f| f.severity == Severity::Error) {
            refused.push(format!("{name}: [{}] {finding}", finding.rule));
        }
    }
    assert!(
        refused.is_empty(),
        "the validator refuses what Datadog merged:\n{}",
        refused.join("\n")
    );
}

#[test]
fn the_warnings_on_merged_folders_name_rules_that_cannot_refuse_them() {
    // What the merged folders do differently from Datadog's docs is a warning, under a rule whose
    // source says so: these are the cases the rules table relaxed.
    let expect = [
        ("aimon", Rule::TileDescription, "110 characters"),
        (
            "blink",
            Rule::TileLinks,
            "tile.support is \"support@blinkops.com\"",
        ),
        ("blink", Rule::ApiKeyScope, "lacks `api_keys_write`"),
        (
            "doppler",
            Rule::ReadmeUninstallation,
            "`### Uninstallation` is a H3",
        ),
        (
            "fauna",
            Rule::ManifestRequired,
            "author.sales_email is missing",
        ),
        ("notion", Rule::LogsCategory, "README.md has no `### Logs`"),
    ];
    for (name, rule, text) in expect {
        let findings = submission::validate(&merged(name), None);
        let found = findings
            .iter()
            .find(|f| f.rule == rule && f.message.contains(text))
            .unwrap_or_else(|| {
                panic!(
                    "{name}: no {rule} finding with {text:?}; found:\n{}",
                    findings
                        .iter()
                        .map(|f| format!("  {} [{}] {f}", f.severity, f.rule))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            });
        assert_eq!(found.severity, Severity::Warning, "{name}: {found}");
    }
}

#[test]
fn a_placeholder_is_needed_only_for_files_the_reference_omits() {
    // Without the placeholders, the only errors are the omitted files themselves: proof that
    // the placeholders hide nothing else.
    for name in FOLDERS {
        let folder = Folder::read(&reference().join(name)).unwrap();
        for finding in submission::validate(&folder, None)
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            let omitted = matches!(
                finding.rule,
                Rule::FileMissing | Rule::TileMedia | Rule::ReadmeImages
            ) && (finding.message.contains("is not in")
                || finding.message.contains("is missing"));
            assert!(omitted, "{name}: {finding}");
        }
    }
}

#[test]
fn the_api_keys_sentence_is_asked_only_of_a_client_that_creates_keys() {
    // blink's client requests no `api_keys_write`: it creates no key, so its README has none
    // to tell the customer to disable.
    let mut folder = merged("blink");
    let readme = folder
        .text("README.md")
        .and_then(Result::ok)
        .unwrap()
        .to_owned();
    let with_section = format!(
        "{readme}\n## Uninstallation\n\nOnce this integration has been uninstalled, any \
         previous authorizations are revoked.\n"
    );
    folder.insert("README.md", with_section.clone());
    let asked = |folder: &Folder| {
        submission::validate(folder, None)
            .iter()
            .any(|f| f.message.contains("does not link to the API Keys page"))
    };
    assert!(!asked(&folder));
    // The same README under a client that creates keys is asked for it.
    let clients = String::from_utf8(folder.get("assets/oauth_clients.json").unwrap().to_vec())
        .unwrap()
        .replace("\"scopes\": [", "\"scopes\": [\n      \"api_keys_write\",");
    folder.insert("assets/oauth_clients.json", clients);
    assert!(asked(&folder));
}
