//! `cargo xtask manifest` and `cargo xtask validate`: the submission folders of the workspace's
//! example integrations, written and checked by `dd_integration::submission`.
//!
//! A partner's own xtask does the same for its integration with `submission::update` and
//! `submission::validate`; this file only adds the workspace's choices: which declarations
//! (`EXAMPLES`), where the folders go (`examples/submission/`), and how results are printed.

use std::path::{Path, PathBuf};

use dd_integration::submission::{self, Finding, Folder};
use dd_integration::{DatadogIntegration, IntegrationSpec};
use dd_integration_examples::exporter::AcmeExporter;
use dd_integration_examples::oncall::AcmeOnCall;

/// What `--check` reports when a committed folder differs from what the declaration renders.
pub const STALE: &str = "stale: run `cargo xtask manifest`";

/// Where the example folders are committed, relative to the workspace root.
pub const OUT: &str = "examples/submission";

/// The example integrations, by the name the commands take.
pub const EXAMPLES: [(&str, &IntegrationSpec); 2] = [
    ("oncall", AcmeOnCall::SPEC),
    ("exporter", AcmeExporter::SPEC),
];

/// The example called `name`: its short name, `app_id` or folder name.
pub fn example(name: &str) -> Result<&'static IntegrationSpec, String> {
    EXAMPLES
        .iter()
        .find(|(short, spec)| {
            *short == name || spec.app_id == name || submission::dir_name(spec) == name
        })
        .map(|(_, spec)| *spec)
        .ok_or_else(|| {
            let names: Vec<&str> = EXAMPLES.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown example integration `{name}`; the examples are {}",
                names.join(", ")
            )
        })
}

/// Options of `cargo xtask manifest`.
#[derive(Debug, Default)]
pub struct ManifestOptions {
    /// Change nothing; fail if a folder is stale.
    pub check: bool,
    /// The directory the integration folders go in (`examples/submission` by default).
    pub out: Option<PathBuf>,
    /// The examples to render (all by default).
    pub examples: Vec<String>,
}

/// Runs `cargo xtask manifest` in the workspace at `root`.
pub fn manifest(root: &Path, options: &ManifestOptions) -> Result<(), String> {
    let out = options.out.clone().unwrap_or_else(|| root.join(OUT));
    let specs = selected(&options.examples)?;
    if options.check {
        let mut stale = Vec::new();
        for spec in &specs {
            let dir = submission::dir_name(spec);
            for path in submission::stale(spec, &out).map_err(|e| e.to_string())? {
                stale.push(format!("{dir}/{path}"));
            }
        }
        return if stale.is_empty() {
            Ok(())
        } else {
            Err(format!("{STALE} ({} differs)", stale.join(", ")))
        };
    }
    let mut errors = 0;
    for spec in specs {
        let update = submission::update(spec, &out).map_err(|e| e.to_string())?;
        let shown = update.dir.strip_prefix(root).unwrap_or(&update.dir);
        for path in &update.written {
            println!("wrote {}", shown.join(path).display());
        }
        for note in &update.notes {
            println!("note: {}/{note}", shown.display());
        }
        errors += report(shown, &update.findings);
    }
    if errors > 0 {
        return Err(format!(
            "{errors} error(s) in the written folders: fix the declarations (or the partner \
             files) and run again"
        ));
    }
    Ok(())
}

/// Options of `cargo xtask validate`.
#[derive(Debug, Default)]
pub struct ValidateOptions {
    /// The folder to check.
    pub folder: PathBuf,
    /// The example whose declaration the folder must match.
    pub integration: Option<String>,
    /// A published version of the folder, for the immutable fields.
    pub base: Option<PathBuf>,
}

/// Runs `cargo xtask validate`.
pub fn validate(options: &ValidateOptions) -> Result<(), String> {
    let folder = Folder::read(&options.folder).map_err(|e| e.to_string())?;
    let spec = options.integration.as_deref().map(example).transpose()?;
    let mut findings = submission::validate(&folder, spec);
    if let Some(base) = &options.base {
        let base = Folder::read(base).map_err(|e| e.to_string())?;
        findings.extend(submission::validate_against(&base, &folder));
    }
    let errors = report(&options.folder, &findings);
    let warnings = findings.len() - errors;
    let checked = if spec.is_some() {
        "Datadog's rules and the declaration"
    } else {
        "Datadog's rules (pass --integration <example> to check the declaration too)"
    };
    println!(
        "{}: {errors} error(s), {warnings} warning(s) against {checked}",
        options.folder.display()
    );
    if errors > 0 {
        Err(format!(
            "{} does not pass validation",
            options.folder.display()
        ))
    } else {
        Ok(())
    }
}

/// Prints findings one a line; returns the number of errors.
fn report(dir: &Path, findings: &[Finding]) -> usize {
    for finding in findings {
        println!("{}: {}/{finding}", finding.severity, dir.display());
    }
    findings.iter().filter(|f| f.is_error()).count()
}

fn selected(names: &[String]) -> Result<Vec<&'static IntegrationSpec>, String> {
    if names.is_empty() {
        return Ok(EXAMPLES.iter().map(|(_, spec)| *spec).collect());
    }
    names.iter().map(|name| example(name)).collect()
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::{Duration, UNIX_EPOCH};

    use dd_integration::submission::{Rule, SubmissionError};

    use super::*;
    use crate::codegen::workspace_root;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn committed_folders_are_fresh() {
        let out = workspace_root().join(OUT);
        for (name, spec) in EXAMPLES {
            let stale = submission::stale(spec, &out).unwrap();
            assert!(
                stale.is_empty(),
                "{STALE} ({name}: {} differs)",
                stale.join(", ")
            );
        }
    }

    #[test]
    fn committed_folders_pass_validate() {
        let out = workspace_root().join(OUT);
        for (name, spec) in EXAMPLES {
            let options = ValidateOptions {
                folder: out.join(submission::dir_name(spec)),
                integration: Some(name.to_owned()),
                base: Some(out.join(submission::dir_name(spec))),
            };
            validate(&options).unwrap();
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
        assert!(first.written.contains(&"README.md"));
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
        let with_dashboard = manifest.replace(
            "\"oauth\": \"assets/oauth_clients.json\"",
            "\"dashboards\": {\n      \"Acme Exporter Overview\": \"assets/dashboards/overview.json\"\n    },\n    \"oauth\": \"assets/oauth_clients.json\"",
        );
        assert_ne!(manifest, with_dashboard);
        fs::write(dir.join("manifest.json"), with_dashboard).unwrap();
        fs::create_dir_all(dir.join("assets/dashboards")).unwrap();
        fs::write(dir.join("assets/dashboards/overview.json"), "{}").unwrap();

        let second = submission::update(spec, &out).unwrap();
        assert_eq!(second.written, ["README.md"]);
        let readme = fs::read_to_string(dir.join("README.md")).unwrap();
        assert!(readme.contains(
            "## Overview\n\nAcme Exporter also reports deploys as events, see the [deploy docs][1].\n"
        ));
        assert!(readme.contains("[1]: https://docs.acme.example/deploys\n"));
        assert!(readme.contains("For support or questions"));
        assert!(!readme.contains("edited by hand"));
        let manifest = fs::read_to_string(dir.join("manifest.json")).unwrap();
        assert!(manifest.contains(
            "    \"dashboards\": {\n      \"Acme Exporter Overview\": \"assets/dashboards/overview.json\"\n    },\n    \"oauth\""
        ));
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
        let manifest_err = manifest(
            &workspace_root(),
            &ManifestOptions {
                out: Some(out.clone()),
                examples: vec!["exporter".into()],
                ..ManifestOptions::default()
            },
        )
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
            examples: vec!["oncall".into()],
        };
        let err = manifest(&workspace_root(), &options).unwrap_err();
        assert!(err.starts_with(STALE), "{err}");
        assert!(err.contains("acme_on_call/manifest.json"), "{err}");
        manifest(
            &workspace_root(),
            &ManifestOptions {
                check: false,
                ..options
            },
        )
        .unwrap();
        manifest(
            &workspace_root(),
            &ManifestOptions {
                check: true,
                out: Some(out.clone()),
                examples: vec!["acme-on-call".into()],
            },
        )
        .unwrap();
        fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn names_examples() {
        assert_eq!(example("exporter").unwrap().app_id, "acme-exporter");
        assert_eq!(example("acme_on_call").unwrap().app_id, "acme-on-call");
        assert!(example("pager").unwrap_err().contains("oncall, exporter"));
    }

    #[test]
    fn validate_fails_on_errors() {
        let out = temp_dir("validate");
        let dir = submission::update(AcmeExporter::SPEC, &out).unwrap().dir;
        fs::remove_file(dir.join("README.md")).unwrap();
        let err = validate(&ValidateOptions {
            folder: dir,
            integration: Some("exporter".into()),
            base: None,
        })
        .unwrap_err();
        assert!(err.ends_with("does not pass validation"), "{err}");
        fs::remove_dir_all(&out).unwrap();
    }
}
