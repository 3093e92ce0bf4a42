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
    // Log pipelines the merged repository holds (the reference copies leave assets out).
    if ["aimon", "doppler", "fauna", "modal"].contains(&name) {
        let id = manifest["app_id"].as_str().unwrap();
        for file in [format!("{name}.yaml"), format!("{name}_tests.yaml")] {
            wanted.push(format!("assets/logs/{file}"));
            folder.insert(&format!("assets/logs/{file}"), format!("id: {id}\n"));
        }
    }
    for path in wanted {
        if !folder.contains(&path) {
            let contents: &[u8] = if path.ends_with(".json") {
                br#"{"title": "placeholder", "description": "", "template_variables": [], "widgets": [], "layout_type": "ordered"}"#
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
    classifier_tags = [
        "Supported OS::Linux",
        "Supported OS::macOS",
        "Supported OS::Windows",
        "Offering::Integration",
        "Category::Cost Management",
        "Category::Cloud",
    ],
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

/// Writes the merged folder `name` to a scratch directory and runs `update` with `spec` over it
/// once: adoption succeeds, writes nothing (every file the declaration agrees with is left
/// byte for byte, the README's prose, link numbers and layout included), and the folder
/// passes with the declaration.
fn assert_adopted_in_one_run(name: &str, spec: &IntegrationSpec) {
    let scratch = TempDir::new("adopt");
    let before = merged(name);
    before.write_to(&scratch.path().join(name)).unwrap();

    let update = submission::update(spec, scratch.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let after = Folder::read(&scratch.path().join(name)).unwrap();

    assert!(
        update.written.is_empty(),
        "{name}: wrote {:?}",
        update.written
    );
    for path in before.paths() {
        assert_eq!(after.get(path), before.get(path), "{name}: {path} changed");
    }
    let errors = errors(&after, Some(spec));
    assert!(errors.is_empty(), "{name}: {errors:#?}");
}

/// The error findings of `folder`, one line each.
fn errors(folder: &Folder, spec: Option<&IntegrationSpec>) -> Vec<String> {
    submission::validate(folder, spec)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("[{}] {f}", f.rule))
        .collect()
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
            vendor_id: None,
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
    classifier_tags = [
        "Category::Automation",
        "Category::Cloud",
        "Category::Incidents",
        "Category::Notifications",
        "Category::Orchestration",
        "Offering::Integration",
        "Supported OS::Linux",
        "Supported OS::Windows",
        "Supported OS::macOS",
    ],
    tile_support = "support@blinkops.com",
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
    // Merged without a dashboard.
    starter_dashboard = false,
)]
pub struct Blink;

/// ably, declared from its public files.
#[dd_integration::datadog_integration(
    name = "Ably",
    app_id = "ably",
    app_uuid = "4596cd59-d3f2-4921-8133-3a448ccaea61",
    description = "Collect and graph Ably metrics",
    author(
        name = "Ably",
        homepage = "https://ably.com",
        support_email = "support@ably.com",
        sales_email = "sales@ably.com",
    ),
    classifier_tags = [
        "Supported OS::Linux",
        "Supported OS::Windows",
        "Supported OS::macOS",
        "Category::Cloud",
        "Category::Metrics",
        "Submitted Data Type::Metrics",
        "Offering::Integration",
    ],
    scopes = [api_keys_write],
    redirect = [
        "https://ably.com/datadog_oauth/callback",
        "https://ably.com/datadog_oauth_callback",
        "https://ably-dev.com/datadog_oauth/callback",
    ],
    onboarding = "https://ably.com/datadog_oauth/onboard",
    submits = [metrics],
    oauth_client_id = "0d40439e-bd92-11ed-994c-da7ad0900002",
    oauth_client_description = "Ably integration",
    source_type_id = 10340,
    metric_prefix = "ably.",
    metadata_csv = "../../shared/reference/real-integrations/ably/metadata.csv",
    metrics_check = [
        "ably.channels.mean",
        "ably.channels.min",
        "ably.channels.peak",
        "ably.connections.all.mean",
        "ably.connections.all.min",
        "ably.connections.all.peak",
    ],
)]
pub struct Ably;

/// aimon, declared from its public files.
#[dd_integration::datadog_integration(
    name = "AIMon",
    app_id = "aimon",
    app_uuid = "019646ae-150c-78c1-aa29-fbdf76f0cab0",
    description = "Real-time Hallucination, Instruction Deviation, Context Relevance, Safety, and Adversarial metrics for your AI",
    author(
        name = "AIMon Labs",
        homepage = "https://www.aimon.ai",
        support_email = "info@aimon.ai",
        sales_email = "info@aimon.ai",
        vendor_id = "aimon-labs",
    ),
    classifier_tags = [
        "Category::AI/ML",
        "Category::Metrics",
        "Category::Developer Tools",
        "Offering::Integration",
        "Supported OS::Linux",
        "Supported OS::Windows",
        "Supported OS::macOS",
        "Submitted Data Type::Metrics",
        "Submitted Data Type::Logs",
    ],
    resource(type = documentation, url = "https://docs.aimon.ai/"),
    resource(type = blog, url = "https://www.aimon.ai/posts/aimon-hdm-2-hallucination-detection-model"),
    resource(type = blog, url = "https://www.aimon.ai/posts/aimon-rre-1-retrieval-eval-reranker-model"),
    scopes = [api_keys_write],
    redirect = [
        "https://am-ui-backend-ser-3010-7615d7e0-ogoislnf.onporter.run/api/integrations/datadog/oauth/callback",
    ],
    onboarding = "https://am-ui-backend-ser-3010-7615d7e0-ogoislnf.onporter.run/api/integrations/datadog/onboarding",
    submits = [metrics, logs],
    oauth_client_id = "4ce8cb3c-31d6-11f0-89e7-da7ad0900002",
    oauth_client_name = "aimon",
    oauth_client_description = "AIMon OAuth Client",
    source_type_id = 47345900,
    source_type_name = "aimon",
    logs_source = "aimon-evaluator",
    metric_prefix = "aimon",
    metadata_csv = "../../shared/reference/real-integrations/aimon/metadata.csv",
    metrics_check = [
        "aimon.health_check",
    ],
)]
pub struct Aimon;

/// doppler, declared from its public files.
#[dd_integration::datadog_integration(
    name = "Doppler",
    app_id = "doppler",
    app_uuid = "e22c8861-f652-42a9-9582-6470504b421f",
    description = "Doppler Secrets Management",
    author(
        name = "Doppler",
        homepage = "https://doppler.com",
        support_email = "support@doppler.com",
        sales_email = "sales@doppler.com",
    ),
    classifier_tags = [
        "Supported OS::Linux",
        "Supported OS::Windows",
        "Supported OS::macOS",
        "Category::Security",
        "Category::Developer Tools",
        "Category::Log Collection",
        "Offering::Integration",
        "Submitted Data Type::Logs",
    ],
    scopes = [api_keys_write],
    redirect = [
        "https://dashboard.doppler.com/notification_services/datadog/callback",
    ],
    onboarding = "https://dashboard.doppler.com/notification_services/datadog/connect",
    submits = [logs],
    oauth_client_id = "87fdb7f6-542c-11ef-abb5-da7ad0900002",
    oauth_client_name = "Doppler API",
    oauth_client_description = "Doppler API Client",
    source_type_id = 25660413,
    source_type_name = "doppler",
)]
pub struct Doppler;

/// downdetector, declared from its public files.
#[dd_integration::datadog_integration(
    name = "Downdetector",
    app_id = "downdetector",
    app_uuid = "0193da66-1a4a-7d09-b520-469edb80cf24",
    description = "Monitor service disruptions with real-time outage alerts from Downdetector",
    author(
        name = "Ookla",
        homepage = "https://downdetector.com/for-business/",
        support_email = "support@downdetector.com",
        sales_email = "sales@ookla.com",
        vendor_id = "ookla",
    ),
    classifier_tags = [
        "Category::Alerting",
        "Category::Incidents",
        "Category::Notifications",
        "Offering::Integration",
        "Supported OS::Linux",
        "Supported OS::Windows",
        "Supported OS::macOS",
        "Submitted Data Type::Events",
    ],
    scopes = [api_keys_write],
    redirect = [
        "https://enterprise.downdetector.com/api/v3/integrations/datadog/callback",
        "https://enterprise-beta.downdetector.dev/api/v3/integrations/datadog/callback",
        "https://explorer.downdetector.com/api/v3/integrations/datadog/callback",
    ],
    onboarding = "https://enterprise.downdetector.com/#/alerts/integrations/datadog",
    submits = [events],
    oauth_client_id = "1f9fb47c-e7c8-11ef-984d-da7ad0900002",
    oauth_client_description = "Downdetector Datadog connector",
    source_type_id = 39203326,
    source_type_name = "downdetector",
)]
pub struct Downdetector;

/// fauna, declared from its public files.
#[dd_integration::datadog_integration(
    name = "Fauna",
    app_id = "fauna",
    app_uuid = "2be7cc0c-a21f-43ad-b2b7-3f41a98ad299",
    description = "Import your Fauna query logs into Datadog.",
    author(
        name = "Fauna",
        homepage = "https://fauna.com/",
        support_email = "support@fauna.com",
    ),
    classifier_tags = [
        "Supported OS::Linux",
        "Supported OS::Windows",
        "Supported OS::macOS",
        "Category::Cloud",
        "Category::Data Stores",
        "Category::Log Collection",
        "Offering::Integration",
        "Submitted Data Type::Logs",
    ],
    scopes = [api_keys_write],
    redirect = [
        "https://frontdoor.fauna.com/api/v1/oauth/redirect",
        "https://account.fauna.com/api/v1/oauth/redirect",
        "https://frontdoor.prev.faunadb.net/api/v1/oauth/redirect",
        "https://account.fauna-preview.com/api/v1/oauth/redirect",
        "https://frontdoor.dev.faunadb.net/api/v1/oauth/redirect",
        "https://account.fauna-dev.com/api/v1/oauth/redirect",
    ],
    onboarding = "https://dashboard.fauna.com/auth/oauth/datadog",
    submits = [logs],
    oauth_client_id = "23913076-2ccd-11ef-8041-da7ad0900002",
    oauth_client_description = "Fauna Integration",
    source_type_id = 21173861,
)]
pub struct Fauna;

/// inngest, declared from its public files.
#[dd_integration::datadog_integration(
    name = "Inngest",
    app_id = "inngest",
    app_uuid = "01960169-7c57-7080-bc2b-05f5bf2828ac",
    description = "Collect key metrics from your Inngest functions",
    author(
        name = "Inngest Inc.",
        homepage = "https://www.inngest.com/",
        support_email = "hello@inngest.com",
        sales_email = "sales@inngest.com",
        vendor_id = "inngest-inc",
    ),
    classifier_tags = [
        "Category::AI/ML",
        "Category::Message Queues",
        "Category::Developer Tools",
        "Category::Cloud",
        "Offering::Integration",
        "Supported OS::Linux",
        "Supported OS::Windows",
        "Supported OS::macOS",
        "Submitted Data Type::Metrics",
    ],
    scopes = [api_keys_write],
    redirect = [
        "https://app.inngest.com/settings/integrations/datadog/finish",
        "https://app.inngest.net/settings/integrations/datadog/finish",
    ],
    onboarding = "https://app.inngest.com/settings/integrations/datadog/start",
    submits = [metrics],
    oauth_client_id = "5ae71012-1c8d-11f0-9a89-da7ad0900002",
    oauth_client_description = "Inngest OAuth Client",
    source_type_id = 45005455,
    source_type_name = "inngest",
    metric_prefix = "inngest.",
    metadata_csv = "../../shared/reference/real-integrations/inngest/metadata.csv",
    metrics_check = [
        "inngest.metric_export_integration_healthy",
    ],
)]
pub struct Inngest;

/// mergify_oauth, declared from its public files.
#[dd_integration::datadog_integration(
    name = "Mergify",
    app_id = "mergify-oauth",
    app_uuid = "3b53fe32-b47e-4a29-881f-b90397a11589",
    description = "Monitor your Mergify merge queue stats",
    author(
        name = "Mergify",
        homepage = "https://mergify.com",
        support_email = "support@mergify.com",
        sales_email = "hello@mergify.com",
    ),
    classifier_tags = [
        "Supported OS::Linux",
        "Supported OS::Windows",
        "Supported OS::macOS",
        "Submitted Data Type::Metrics",
        "Category::Developer Tools",
        "Offering::Integration",
    ],
    scopes = [api_keys_write],
    redirect = [
        "https://dashboard.mergify.com/front/integrations/callback/datadog-US1",
        "https://dashboard.mergify.com/front/integrations/callback/datadog-US3",
        "https://dashboard.mergify.com/front/integrations/callback/datadog-US5",
        "https://dashboard.mergify.com/front/integrations/callback/datadog-EU1",
        "https://dashboard.mergify.com/front/integrations/callback/datadog-US1-FED",
        "https://dashboard.mergify.com/front/integrations/callback/datadog-AP1",
    ],
    onboarding = "https://dashboard.mergify.com/datadog-oauth",
    submits = [metrics],
    oauth_client_id = "7e609702-7d7d-11ef-9fee-da7ad0900002",
    oauth_client_name = "Mergify Integration OAuth Client",
    oauth_client_description = "Mergify Integration OAuth Client",
    source_type_id = 10350,
    source_type_name = "Mergify OAuth",
    metric_prefix = "mergify.",
    metadata_csv = "../../shared/reference/real-integrations/mergify_oauth/metadata.csv",
)]
pub struct Mergify;

/// modal, declared from its public files.
#[dd_integration::datadog_integration(
    name = "Modal",
    app_id = "modal",
    app_uuid = "faa29018-d015-4134-956e-40912d774640",
    description = "Collect logs and metrics for your Modal applications",
    author(
        name = "Modal Labs",
        homepage = "https://modal.com",
        support_email = "support@modal.com",
        sales_email = "support@modal.com",
    ),
    classifier_tags = [
        "Supported OS::Linux",
        "Supported OS::Windows",
        "Supported OS::macOS",
        "Category::Cloud",
        "Category::Metrics",
        "Category::Log Collection",
        "Category::AI/ML",
        "Submitted Data Type::Logs",
        "Offering::Integration",
    ],
    tile_support = "README.md#Troubleshooting",
    scopes = [api_keys_write],
    redirect = [
        "https://modal.com/api/oauth-callback-datadog",
    ],
    onboarding = "https://modal.com/api/authorize-datadog",
    submits = [metrics, logs],
    oauth_client_id = "9cd351b8-d4d9-11ee-a4ac-da7ad0900002",
    oauth_client_name = "Modal (prod) OAuth Client",
    oauth_client_description = "OAuth Client for the Prod cluster",
    source_type_id = 7324533,
    metric_prefix = "modal.",
    metadata_csv = "../../shared/reference/real-integrations/modal/metadata.csv",
)]
pub struct Modal;

/// notion, declared from its public files.
#[dd_integration::datadog_integration(
    name = "Notion",
    app_id = "notion",
    app_uuid = "0a709534-658c-4d8f-99a3-566dd7cd809b",
    description = "Monitor your Notion workspace events and customize detections in Datadog",
    author(
        name = "Notion Labs, Inc.",
        homepage = "https://www.notion.so/",
        support_email = "team@makenotion.com",
        sales_email = "integrations@makenotion.com",
    ),
    classifier_tags = [
        "Category::Log Collection",
        "Category::Collaboration",
        "Supported OS::Any",
        "Submitted Data Type::Logs",
        "Offering::Integration",
    ],
    scopes = [api_keys_write],
    redirect = [
        "https://www.notion.so/datadogauthcallback",
        "https://app.notion.com/datadogauthcallback",
    ],
    onboarding = "https://integrations-api.notion.com/datadog/install",
    submits = [logs],
    oauth_client_id = "2d25f1e4-0627-11ee-b48e-da7ad0900002",
    oauth_client_description = "Official Notion integration for Datadog",
    source_type_id = 10361,
    source_type_name = "notion",
    metric_prefix = "notion.",
    metrics_check = [],
)]
pub struct Notion;

/// Each merged folder with its declaration.
fn declared() -> [(&'static str, &'static IntegrationSpec); 11] {
    [
        ("ably", Ably::SPEC),
        ("aimon", Aimon::SPEC),
        ("blink", Blink::SPEC),
        ("doppler", Doppler::SPEC),
        ("downdetector", Downdetector::SPEC),
        ("fauna", Fauna::SPEC),
        ("inngest", Inngest::SPEC),
        ("mergify_oauth", Mergify::SPEC),
        ("modal", Modal::SPEC),
        ("notion", Notion::SPEC),
        ("vantage", Vantage::SPEC),
    ]
}

/// Where two JSON values differ, one path each (`tile.media`, `assets.integration.configuration.spec`).
fn differences(at: &str, merged: &serde_json::Value, rendered: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match (merged, rendered) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let path = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    match (a.get(k), b.get(k)) {
                        (Some(x), Some(y)) => differences(&path, x, y),
                        _ => vec![path],
                    }
                })
                .collect()
        }
        (a, b) if a == b => Vec::new(),
        _ => vec![at.to_owned()],
    }
}

/// What a folder regenerated from its declaration alone may say differently from the merged
/// one, and why: nothing else may differ.
const REGENERATION_DIFFERS: &[(&str, &str, &str)] = &[
    // The partner's own exported files: images and dashboards are made in Datadog, not declared.
    ("*", "tile.media", "the partner's images"),
    (
        "*",
        "assets.dashboards",
        "the partner's exported dashboards",
    ),
    ("*", "assets.monitors", "the partner's exported monitors"),
    // Written by Datadog's Developer Platform export, empty or false, and meaningless for an API
    // integration: kept on adoption, never generated.
    (
        "*",
        "oauth",
        "the Developer Platform export's empty `oauth: {}`",
    ),
    (
        "*",
        "assets.integration.process_signatures",
        "the Developer Platform export's empty Agent process list",
    ),
    (
        "*",
        "assets.integration.supports_ddr_coordinated_failover",
        "the Developer Platform export's `false`",
    ),
    // An Agent check's configuration spec, left from the Agent-check template this folder was
    // made from; the file it names is not in the folder.
    (
        "doppler",
        "assets.integration.configuration.spec",
        "an Agent-check template leftover",
    ),
    // The SDK's telemetry stamps a `source` on every log, and Datadog's log pipelines are keyed by
    // it: a new folder lists it; the merged ones predate that.
    (
        "doppler",
        "assets.logs",
        "the source of the logs the SDK sends",
    ),
    (
        "fauna",
        "assets.logs",
        "the source of the logs the SDK sends",
    ),
    (
        "modal",
        "assets.logs",
        "the source of the logs the SDK sends",
    ),
    (
        "notion",
        "assets.logs",
        "the source of the logs the SDK sends",
    ),
];

#[test]
fn every_merged_folder_regenerates_from_its_declaration() {
    let mut unexpected = Vec::new();
    for (name, spec) in declared() {
        let rendered = submission::render_at(spec, None, std::time::SystemTime::now())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let merged = merged(name);
        for file in ["manifest.json", "assets/oauth_clients.json"] {
            let parse = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).unwrap();
            let old = parse(merged.get(file).unwrap());
            let new = parse(rendered.file(file).unwrap().as_bytes());
            for path in differences("", &old, &new) {
                let allowed = file == "manifest.json"
                    && REGENERATION_DIFFERS.iter().any(|(folder, p, _)| {
                        (*folder == "*" || *folder == name)
                            && (path == *p || path.starts_with(&format!("{p}.")))
                    });
                if !allowed {
                    unexpected.push(format!(
                        "{name}: {file} {path}: merged {} / regenerated {}",
                        pointer(&old, &path),
                        pointer(&new, &path)
                    ));
                }
            }
        }
        // And the regenerated folder passes, as a declaration that compiles promises.
        let errors = errors(&rendered.apply(None), Some(spec));
        unexpected.extend(
            errors
                .into_iter()
                .map(|e| format!("{name}: regenerated: {e}")),
        );
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

/// The value at a dotted path, for messages.
fn pointer(value: &serde_json::Value, path: &str) -> String {
    let pointer = format!("/{}", path.replace('.', "/"));
    value
        .pointer(&pointer)
        .map_or_else(|| "(absent)".to_owned(), ToString::to_string)
}

#[test]
fn every_merged_folder_is_adopted_in_place_in_one_run() {
    let failed: Vec<&str> = declared()
        .into_iter()
        .filter(|(name, spec)| {
            std::panic::catch_unwind(|| assert_adopted_in_one_run(name, spec)).is_err()
        })
        .map(|(name, _)| name)
        .collect();
    assert!(failed.is_empty(), "not adopted in one run: {failed:?}");
}

#[test]
fn adoption_adds_a_missing_section_and_moves_no_other_line() {
    // ably without its Uninstallation section, which an OAuth client's README must have:
    // adoption adds it, and every other line (the partner's link numbers included) stays.
    let scratch = TempDir::new("adopt");
    let mut folder = merged("ably");
    let readme = folder.text("README.md").unwrap().unwrap().to_owned();
    let start = readme.find("## Uninstallation").unwrap();
    let end = start + readme[start..].find("## Support").unwrap();
    let without = format!("{}{}", &readme[..start], &readme[end..]);
    folder.insert("README.md", without.clone());
    folder.write_to(&scratch.path().join("ably")).unwrap();

    let update = submission::update(Ably::SPEC, scratch.path()).unwrap();
    assert_eq!(update.written, ["README.md"]);
    let after = std::fs::read_to_string(scratch.path().join("ably/README.md")).unwrap();
    // Every line of the partner's README is still there, in order.
    let mut rest = after.as_str();
    let definition = |l: &str| l.starts_with('[') && l.contains("]: ");
    for line in without
        .lines()
        .filter(|l| !l.trim().is_empty() && !definition(l))
    {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("lost or moved: {line}\n---\n{after}"));
        rest = &rest[at + line.len()..];
    }
    // Each link definition still used keeps its number; the ones only the removed section used
    // are dropped (with a note).
    for line in without.lines().filter(|l| definition(l)) {
        let label = &line[..line.find("]: ").unwrap() + 1];
        let used = without
            .lines()
            .any(|l| !definition(l) && l.contains(&format!("]{label}")));
        if used {
            assert!(
                after.lines().any(|l| l == line),
                "renumbered: {line}\n---\n{after}"
            );
        }
    }
    assert!(
        update
            .notes
            .iter()
            .any(|n| n.to_string().contains("dropped the link definition"))
    );
    let added = after
        .find("## Uninstallation")
        .expect("the section is added");
    assert!(added < after.find("## Support").unwrap(), "{after}");
    assert!(after.contains("<!-- dd-integration:begin uninstallation -->"));
    let errors = errors(
        &Folder::read(&scratch.path().join("ably")).unwrap(),
        Some(Ably::SPEC),
    );
    assert!(errors.is_empty(), "{errors:#?}");
}
