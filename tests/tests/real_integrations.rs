//! The eleven folders Datadog reviewed and merged (`../shared/reference/real-integrations/`),
//! against the SDK's rules: every rule that is an error must let them through, since Datadog's
//! tools and reviewers did.
//!
//! The reference copies leave out the partner's binary and exported files (images, dashboards,
//! monitors); each test puts a placeholder where the folder names one, so that what is checked
//! is what Datadog checked.

// vantage's declaration names seven scopes outside the SDK's catalog; each is a compile warning
// (a use of a deprecated item), which is the behaviour under test, not a mistake here.
#![allow(deprecated)]

use std::path::{Path, PathBuf};

use dd_integration::{DatadogIntegration, IntegrationSpec};
use dd_integration_submission::{self as submission, Folder, Rule, Severity};
use dd_integration_tests::scratch::TempDir;

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
    let refused: Vec<String> = FOLDERS
        .iter()
        .flat_map(|name| {
            errors(&merged(name), None)
                .into_iter()
                .map(move |e| format!("{name}: {e}"))
        })
        .collect();
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

/// vantage, declared from its public files: query-only, sixteen scopes of which the SDK's
/// catalog lacks seven.
#[dd_integration::datadog_integration(
    name = "Vantage",
    app_uuid = "2784a986-2673-4189-a3b8-320755f6c2b4",
    description = "Import your Datadog costs and track them alongside other infrastructure spending",
    author(
        name = "Vantage",
        homepage = "https://www.vantage.sh",
        support_email = "support@vantage.sh",
        sales_email = "sales@vantage.sh",
    ),
    categories = ["Cost Management", "Cloud"],
    scopes = [
        usage_read, metrics_read, timeseries_query, billing_read,
        uncatalogued(logs_read_config), uncatalogued(logs_read_archives),
        uncatalogued(logs_read_data),
        uncatalogued(logs_read_index_data), uncatalogued(logs_read_workspaces), monitors_read,
        apm_read,
        dashboards_read, uncatalogued(mcp_read), incident_read, events_read,
        uncatalogued(llm_observability_read),
    ],
    redirect = "https://console.vantage.sh/auth/datadog/callback",
    onboarding = "https://console.vantage.sh/settings/integrations",
    oauth_client_id = "c32aa33c-4594-11ed-9ca8-da7ad0900002",
    oauth_client_description = "Vantage Cost Integration",
)]
pub struct Vantage;

/// A line of a README with its link numbers taken out (`[text][4]` → `[text][]`), for
/// comparing prose across a renumbering.
fn unnumbered(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("][") {
        out.push_str(&rest[..at + 2]);
        rest = &rest[at + 2..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(']') {
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Writes the merged folder `name` to a scratch directory, runs `update` with `spec` over it
/// once, and checks what adoption promises: the files the declaration agrees with are left
/// byte for byte, only the README may be written, every line of its prose is kept (only link
/// numbers move), no section is added or duplicated, and the result passes.
/// Returns the files it wrote.
fn assert_adopted_in_one_run(name: &str, spec: &IntegrationSpec) -> Vec<&'static str> {
    let scratch = TempDir::new("adopt");
    let before = merged(name);
    before.write_to(&scratch.path().join(name)).unwrap();

    let update = submission::update(spec, scratch.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let after = Folder::read(&scratch.path().join(name)).unwrap();

    for file in ["manifest.json", "assets/oauth_clients.json", "CHANGELOG.md"] {
        assert_eq!(after.get(file), before.get(file), "{name}: {file} changed");
    }
    assert!(
        update.written.iter().all(|f| *f == "README.md"),
        "{name}: {:?}",
        update.written
    );
    let old = before.text("README.md").unwrap().unwrap();
    let new = after.text("README.md").unwrap().unwrap();
    let kept: Vec<String> = new.lines().map(unnumbered).collect();
    for line in old.lines().filter(|l| !l.starts_with('[')) {
        assert!(kept.contains(&unnumbered(line)), "{name}: lost: {line}");
    }
    assert_eq!(
        new.matches("## ").count(),
        old.matches("## ").count(),
        "{name}"
    );
    assert!(
        !new.contains("dd-integration:begin uninstallation"),
        "{name}"
    );
    let errors = errors(&after, Some(spec));
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    update.written
}

/// The error findings of `folder`, one line each.
fn errors(folder: &Folder, spec: Option<&IntegrationSpec>) -> Vec<String> {
    submission::validate(folder, spec)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("[{}] {f}", f.rule))
        .collect()
}

#[test]
fn vantage_is_adopted_in_place_in_one_run() {
    // The manifest (no `assets.integration`, its key order and tags kept) and the OAuth client
    // (seven uncatalogued scopes) say what the declaration says.
    let written = assert_adopted_in_one_run("vantage", Vantage::SPEC);
    assert_eq!(written, ["README.md"], "its link numbers move");
}

/// The attribute reference's first example, as written there.
#[dd_integration::datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/datadog/connect",
    description = "Pages the on-call engineer when a Datadog monitor fires.",
    author(name = "Acme", homepage = "https://acme.example", support_email = "support@acme.example"),
)]
pub struct AcmeMinimal;

#[test]
fn the_attribute_references_first_example_renders_a_folder_without_errors() {
    let rendered =
        submission::render_at(AcmeMinimal::SPEC, None, std::time::SystemTime::now()).unwrap();
    let folder = rendered.apply(None);
    let errors = errors(&folder, Some(AcmeMinimal::SPEC));
    assert!(errors.is_empty(), "{errors:#?}");
    // No sales address declared: none rendered, and no empty link.
    let readme = folder.text("README.md").unwrap().unwrap();
    assert!(!readme.contains("mailto:\n") && !readme.contains("Sales:"));
    // Without an author, nothing is written, and the error names the field.
    let bare = IntegrationSpec {
        author: dd_integration::integration::Author {
            name: "",
            homepage: "",
            support_email: "",
            sales_email: "",
        },
        ..*AcmeMinimal::SPEC
    };
    let Err(refused) = submission::render_at(&bare, None, std::time::SystemTime::now()) else {
        panic!("a declaration without an author was rendered");
    };
    let refused = refused.to_string();
    assert!(
        refused.starts_with("the declaration's `author(name = ...)` is empty"),
        "{refused}"
    );
}

/// blink, declared from its public files: five redirect URIs on a second host, none with a
/// path; events it creates by its own means (its client has no `api_keys_write`); a tile whose
/// `support` is an e-mail address.
#[dd_integration::datadog_integration(
    name = "Blink",
    app_uuid = "f2bd43a7-bbc5-4f69-89b7-437afbbff9fd",
    description = "Blink is a no-code automation platform for security and infrastructure.",
    author(
        name = "Blink",
        homepage = "https://www.blinkops.com/",
        support_email = "support@blinkops.com",
        sales_email = "support@blinkops.com",
    ),
    categories = ["Automation", "Cloud", "Incidents", "Notifications", "Orchestration"],
    scopes = [
        incident_write, monitors_write, monitors_downtime, user_access_read, metrics_read,
        timeseries_query, dashboards_read, incident_read, events_read, incident_settings_write,
        dashboards_write, incident_notification_settings_write, monitors_read,
    ],
    redirect = [
        "https://sso-app.blinkops.com",
        "https://sso-app.blinkops.com/prod",
        "https://sso-app.blinkops.com/staging",
        "https://sso-app.blinkops.com/demo",
        "https://sso-app.blinkops.com/datadog",
    ],
    onboarding = "https://app.blinkops.com",
    oauth_client_id = "f58ff13a-b847-11ed-b3da-da7ad0900002",
    oauth_client_description = "Blink OAuth integration",
    source_type_id = 10316,
    creates_events = true,
)]
pub struct Blink;

#[test]
fn blink_is_adopted_in_place_in_one_run() {
    // Including `tile.support`, an e-mail address, and a JSON file without a final newline.
    assert_adopted_in_one_run("blink", Blink::SPEC);
}
