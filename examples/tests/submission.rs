//! The examples' submission folders: committed fresh and valid, rendered as the snapshots say,
//! and regenerated without losing the partner's prose or changing an immutable id.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use dd_integration::{DatadogIntegration, IntegrationSpec};
use dd_integration_examples::exporter::AcmeExporter;
use dd_integration_examples::insights::AcmeInsights;
use dd_integration_examples::oncall::AcmeOnCall;
use dd_integration_examples::submission_tool;
use dd_integration_submission::cli::{ManifestOptions, ValidateOptions};
use dd_integration_submission::{self as submission, Folder, Rule, SubmissionError};

const EXAMPLES: [(&str, &IntegrationSpec); 3] = [
    ("oncall", AcmeOnCall::SPEC),
    ("exporter", AcmeExporter::SPEC),
    ("insights", AcmeInsights::SPEC),
];

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("submission")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn committed_folders_are_fresh() {
    let out = committed();
    for (name, spec) in EXAMPLES {
        let stale = submission::stale(spec, &out).unwrap();
        assert!(
            stale.is_empty(),
            "stale: run `cargo xtask manifest` ({name}: {} differs)",
            stale.join(", ")
        );
    }
}

#[test]
fn committed_folders_pass_validate() {
    let out = committed();
    for (name, spec) in EXAMPLES {
        let options = ValidateOptions {
            folder: out.join(submission::dir_name(spec)),
            integration: Some(name.to_owned()),
            base: Some(out.join(submission::dir_name(spec))),
        };
        submission_tool().validate(&options).unwrap();
        let folder = Folder::read(&options.folder).unwrap();
        let errors: Vec<String> = submission::validate(&folder, Some(spec))
            .iter()
            .filter(|f| f.is_error())
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

/// Every file of both examples, rendered into an empty folder at a fixed time.
#[test]
fn snapshots() {
    let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    for (name, spec) in EXAMPLES {
        let rendered = submission::render_at(spec, None, now).unwrap();
        for (path, text) in rendered.files() {
            let snapshot = format!("{name}__{}", path.replace(['/', '.'], "_"));
            insta::assert_snapshot!(snapshot, text);
        }
    }
}

#[test]
fn regeneration_keeps_partner_prose_and_assets() {
    let out = temp_dir("prose");
    let spec = AcmeExporter::SPEC;
    let first = submission::update(spec, &out).unwrap();
    assert!(first.written.iter().any(|f| f == "README.md"));
    let dir = first.dir;
    let readme = fs::read_to_string(dir.join("README.md")).unwrap();
    let prose = "Acme Exporter also reports deploys as events, see the [deploy docs][50].\n";
    let edited = readme
        .replace("## Overview\n", &format!("## Overview\n\n{prose}"))
        .replace(
            "For support or questions",
            "Text the generator owns, edited by hand",
        )
        + "[50]: https://docs.acme.example/deploys\n";
    fs::write(dir.join("README.md"), edited).unwrap();
    let manifest = fs::read_to_string(dir.join("manifest.json")).unwrap();
    // The partner adds a dashboard of their own beside the starter one.
    let starter = "\"Acme Exporter Overview\": \"assets/dashboards/acme_exporter_overview.json\"";
    let with_dashboard = manifest.replace(
        starter,
        &format!("{starter},\n      \"Acme Deploys\": \"assets/dashboards/deploys.json\""),
    );
    assert_ne!(manifest, with_dashboard);
    fs::write(dir.join("manifest.json"), with_dashboard).unwrap();
    fs::write(
        dir.join("assets/dashboards/deploys.json"),
        r#"{"title": "Acme Deploys", "description": "", "template_variables": [], "widgets": [], "layout_type": "ordered"}"#,
    )
    .unwrap();

    let second = submission::update(spec, &out).unwrap();
    assert_eq!(second.written, ["README.md"]);
    let readme = fs::read_to_string(dir.join("README.md")).unwrap();
    // The partner's link keeps the number they gave it.
    assert!(readme.contains(
        "## Overview\n\nAcme Exporter also reports deploys as events, see the [deploy docs][50].\n"
    ));
    assert!(readme.contains("[50]: https://docs.acme.example/deploys\n"));
    assert!(readme.contains("For support or questions"));
    assert!(!readme.contains("edited by hand"));
    let manifest = fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(manifest.contains(&format!(
        "    \"dashboards\": {{\n      {starter},\n      \"Acme Deploys\": \"assets/dashboards/deploys.json\"\n    }},"
    )));
    assert!(
        second.findings.iter().all(|f| !f.is_error()),
        "{:#?}",
        second.findings
    );

    let third = submission::update(spec, &out).unwrap();
    assert!(third.written.is_empty(), "{:?}", third.written);
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn refuses_to_change_an_immutable_field() {
    let out = temp_dir("immutable");
    let spec = AcmeExporter::SPEC;
    let dir = submission::update(spec, &out).unwrap().dir;
    let rendered = fs::read_to_string(dir.join("manifest.json")).unwrap();
    let published = rendered
        .replace(
            "\"source_type_name\": \"Acme Exporter\"",
            "\"source_type_name\": \"Acme Export\"",
        )
        .replace("\"source_type_id\": 98765432", "\"source_type_id\": 4242");
    fs::write(dir.join("manifest.json"), &published).unwrap();

    let err = submission::update(spec, &out).unwrap_err();
    let SubmissionError::Immutable(changes) = &err else {
        panic!("{err}");
    };
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "assets.integration.source_type_name",
            "assets.integration.source_type_id"
        ]
    );
    let message = err.to_string();
    assert!(message.starts_with("the declaration changes fields that cannot change:\n"));
    assert!(message.contains(
        "manifest.json: assets.integration.source_type_name is \"Acme Export\" in the folder \
         but \"Acme Exporter\" in the declaration; it cannot change: Datadog ties the \
         integration's data to it"
    ));
    // Nothing was written.
    assert_eq!(
        fs::read_to_string(dir.join("manifest.json")).unwrap(),
        published
    );
    let manifest_err = submission_tool()
        .manifest(&ManifestOptions {
            out: Some(out.clone()),
            integrations: vec!["exporter".into()],
            ..ManifestOptions::default()
        })
        .unwrap_err();
    assert!(manifest_err.contains("source_type_name"), "{manifest_err}");
    // validate says the same, as findings.
    let folder = Folder::read(&dir).unwrap();
    let immutable: Vec<_> = submission::validate(&folder, Some(spec))
        .into_iter()
        .filter(|f| f.rule == Rule::Immutable)
        .collect();
    assert_eq!(immutable.len(), 2);
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn refuses_to_move_to_another_app_id() {
    let out = temp_dir("app-id");
    submission::update(AcmeExporter::SPEC, &out).unwrap();
    let renamed = IntegrationSpec {
        app_id: "acme-exporter-cloud",
        ..*AcmeExporter::SPEC
    };
    let err = submission::update(&renamed, &out).unwrap_err().to_string();
    assert!(
        err.contains(
            "app_id is \"acme-exporter\" in the folder but \"acme-exporter-cloud\" in the \
             declaration; it cannot change"
        ),
        "{err}"
    );
    assert!(!out.join("acme_exporter_cloud").exists());
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn check_reports_stale_folders() {
    let out = temp_dir("check");
    let options = ManifestOptions {
        check: true,
        out: Some(out.clone()),
        integrations: vec!["oncall".into()],
    };
    let err = submission_tool().manifest(&options).unwrap_err();
    assert!(
        err.starts_with("stale: run `cargo xtask manifest`"),
        "{err}"
    );
    assert!(err.contains("acme_on_call/manifest.json"), "{err}");
    submission_tool()
        .manifest(&ManifestOptions {
            check: false,
            ..options
        })
        .unwrap();
    submission_tool()
        .manifest(&ManifestOptions {
            check: true,
            out: Some(out.clone()),
            integrations: vec!["acme-on-call".into()],
        })
        .unwrap();
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn names_examples() {
    let tool = submission_tool();
    assert_eq!(
        tool.integration("exporter").unwrap().app_id,
        "acme-exporter"
    );
    assert_eq!(
        tool.integration("acme_on_call").unwrap().app_id,
        "acme-on-call"
    );
    assert!(
        tool.integration("pager")
            .unwrap_err()
            .contains("oncall, exporter")
    );
}

#[test]
fn validate_fails_on_errors() {
    let out = temp_dir("validate");
    let dir = submission::update(AcmeExporter::SPEC, &out).unwrap().dir;
    fs::remove_file(dir.join("README.md")).unwrap();
    let err = submission_tool()
        .validate(&ValidateOptions {
            folder: dir,
            integration: Some("exporter".into()),
            base: None,
        })
        .unwrap_err();
    assert!(err.ends_with("does not pass validation"), "{err}");
    fs::remove_dir_all(&out).unwrap();
}

#[test]
fn the_marketplace_listing_follows_the_marketplaces_rules() {
    let dir = committed().join("acme_insights");
    let folder = Folder::read(&dir).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(folder.get("manifest.json").unwrap()).unwrap();
    assert_eq!(manifest["app_id"], "acme-insights");
    assert_eq!(manifest["author"]["vendor_id"], "acme");
    assert_eq!(manifest["pricing"][0]["billing_type"], "tag_count");
    assert_eq!(manifest["pricing"][0]["product_id"], "insights");
    assert_eq!(manifest["pricing"][0]["includes_assets"], true);
    assert_eq!(manifest["legal_terms"]["eula"], "assets/eula.pdf");
    assert_eq!(manifest["assets"]["integration"]["auto_install"], false);
    assert!(manifest["tile"]["description"].as_str().unwrap().len() <= 70);
    let readme = folder.text("README.md").unwrap().unwrap();
    assert!(readme.contains("https://github.com/DataDog/marketplace/blob/master/acme_insights/"));
    assert!(!readme.contains("integrations-extras"));
    for section in ["## Uninstallation", "## Support"] {
        assert!(readme.contains(section), "{section}");
    }
    let errors = |folder: &Folder| -> Vec<Rule> {
        submission::validate(folder, Some(AcmeInsights::SPEC))
            .into_iter()
            .filter(|f| f.is_error())
            .map(|f| f.rule)
            .collect()
    };
    assert_eq!(errors(&folder), []);
    // The Marketplace's own rules apply: without the EULA, or with an extras-length
    // description, the folder is refused.
    let mut without_eula = folder.clone();
    without_eula.remove("assets/eula.pdf");
    assert_eq!(errors(&without_eula), [Rule::MarketplaceEula]);
    let mut long = folder.clone();
    let text = String::from_utf8(long.get("manifest.json").unwrap().to_vec())
        .unwrap()
        .replace(
            "Job analytics from Acme in Datadog, billed per host.",
            "Job analytics from Acme in Datadog, billed per host, for every team you have.",
        );
    long.insert("manifest.json", text);
    assert!(
        errors(&long).contains(&Rule::TileDescription),
        "{:?}",
        errors(&long)
    );
}
