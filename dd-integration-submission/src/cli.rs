//! The `manifest` and `validate` commands of a partner's xtask, in one line:
//!
//! ```no_run
//! # use dd_integration::{datadog_integration, DatadogIntegration};
//! # #[datadog_integration(
//! #     name = "Acme Pager",
//! #     scopes = [monitors_read],
//! #     redirect = "https://acme.example/datadog/callback",
//! #     onboarding = "https://acme.example/datadog/connect",
//! # )]
//! # pub struct AcmePager;
//! // xtask/src/main.rs
//! fn main() -> std::process::ExitCode {
//!     dd_integration_submission::Tool::new(&[("pager", AcmePager::SPEC)]).main()
//! }
//! ```
//!
//! `cargo xtask manifest [--check] [--out <dir>] [<integration>...]` writes (or checks) the
//! submission folder of each integration under `submission/` (or `--out`, an
//! integrations-extras checkout), keeping the partner's text and ids already there;
//! `cargo xtask validate <folder> [--integration <name>] [--base <folder>]` checks a folder
//! against Datadog's rules ([`RULES.md`](https://github.com/dd-integration/dd-integration/blob/main/RULES.md)),
//! one line a finding, and fails on an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::{self as submission, Finding, Folder};
use dd_integration::IntegrationSpec;

/// The commands' usage, for `help` and for a mistaken command line.
pub const USAGE: &str = "\
  manifest [--check] [--out <dir>] [<integration>...]
      write the Datadog submission folder (manifest.json, README.md, CHANGELOG.md,
      metadata.csv, assets/) of each integration, keeping the partner's text and ids
      --check      change nothing; fail if a folder is stale
      --out <dir>  write the folders under <dir> (an integrations-extras checkout)
  validate <folder> [--integration <name>] [--base <folder>]
      check a submission folder against the rules of Datadog's checks, one line a finding
      --integration <name>  also check it against that integration's declaration
      --base <folder>       also check its immutable fields against a published version";

/// The submission commands over a set of declarations.
#[derive(Debug, Clone)]
pub struct Tool {
    integrations: Vec<(&'static str, &'static IntegrationSpec)>,
    out: PathBuf,
    command: String,
}

/// Options of `manifest`.
#[derive(Debug, Default)]
pub struct ManifestOptions {
    /// Change nothing; fail if a folder is stale.
    pub check: bool,
    /// The directory the integration folders go in (the tool's `out` by default).
    pub out: Option<PathBuf>,
    /// The integrations to render (all by default).
    pub integrations: Vec<String>,
}

/// Options of `validate`.
#[derive(Debug, Default)]
pub struct ValidateOptions {
    /// The folder to check.
    pub folder: PathBuf,
    /// The integration whose declaration the folder must match.
    pub integration: Option<String>,
    /// A published version of the folder, for the immutable fields.
    pub base: Option<PathBuf>,
}

impl Tool {
    /// The commands over `integrations`, each with the short name the command line takes
    /// (its `app_id` and folder name are taken too). The folders go under `submission/`.
    pub fn new(integrations: &[(&'static str, &'static IntegrationSpec)]) -> Tool {
        Tool {
            integrations: integrations.to_vec(),
            out: PathBuf::from("submission"),
            command: "cargo xtask".to_owned(),
        }
    }

    /// Where the folders go by default.
    #[must_use]
    pub fn out(mut self, dir: impl Into<PathBuf>) -> Tool {
        self.out = dir.into();
        self
    }

    /// How users run the tool, for the messages that say what to run (`cargo xtask`).
    #[must_use]
    pub fn command(mut self, command: impl Into<String>) -> Tool {
        self.command = command.into();
        self
    }

    /// What `--check` reports when a folder differs from what the declaration renders.
    pub fn stale_message(&self) -> String {
        format!("stale: run `{} manifest`", self.command)
    }

    /// Runs the command line of this process (`manifest ...` or `validate ...`).
    pub fn main(&self) -> ExitCode {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match self.run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure::Usage(e)) => {
                eprintln!(
                    "error: {e}\n\nusage: {} <command>\n\ncommands:\n{USAGE}",
                    self.command
                );
                ExitCode::from(2)
            }
            Err(Failure::Failed(e)) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    }

    /// Runs one command line.
    pub fn run(&self, args: &[String]) -> Result<(), Failure> {
        match args.split_first() {
            Some((task, rest)) if task == "manifest" => {
                let options = self.manifest_options(rest).map_err(Failure::Usage)?;
                self.manifest(&options).map_err(Failure::Failed)
            }
            Some((task, rest)) if task == "validate" => {
                let options = self.validate_options(rest).map_err(Failure::Usage)?;
                self.validate(&options).map_err(Failure::Failed)
            }
            Some((task, _)) if matches!(task.as_str(), "help" | "-h" | "--help") => {
                println!("usage: {} <command>\n\ncommands:\n{USAGE}", self.command);
                Ok(())
            }
            Some((task, _)) => Err(Failure::Usage(format!("unknown command `{task}`"))),
            None => Err(Failure::Usage("no command".to_owned())),
        }
    }

    /// The integration called `name`: its short name, `app_id` or folder name.
    pub fn integration(&self, name: &str) -> Result<&'static IntegrationSpec, String> {
        self.integrations
            .iter()
            .find(|(short, spec)| {
                *short == name || spec.app_id == name || submission::dir_name(spec) == name
            })
            .map(|(_, spec)| *spec)
            .ok_or_else(|| {
                let names: Vec<&str> = self.integrations.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown integration `{name}`; the integrations are {}",
                    names.join(", ")
                )
            })
    }

    /// Runs `manifest`.
    pub fn manifest(&self, options: &ManifestOptions) -> Result<(), String> {
        let out = options.out.clone().unwrap_or_else(|| self.out.clone());
        let specs = self.selected(&options.integrations)?;
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
                Err(format!(
                    "{} ({} differs)",
                    self.stale_message(),
                    stale.join(", ")
                ))
            };
        }
        let here = std::env::current_dir().unwrap_or_default();
        let mut errors = 0;
        for spec in specs {
            let update = submission::update(spec, &out).map_err(|e| e.to_string())?;
            let shown = update.dir.strip_prefix(&here).unwrap_or(&update.dir);
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

    /// Runs `validate`.
    pub fn validate(&self, options: &ValidateOptions) -> Result<(), String> {
        let folder = Folder::read(&options.folder).map_err(|e| e.to_string())?;
        let spec = options
            .integration
            .as_deref()
            .map(|name| self.integration(name))
            .transpose()?;
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
            "Datadog's rules (pass --integration <name> to check the declaration too)"
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

    fn selected(&self, names: &[String]) -> Result<Vec<&'static IntegrationSpec>, String> {
        if names.is_empty() {
            return Ok(self.integrations.iter().map(|(_, spec)| *spec).collect());
        }
        names.iter().map(|name| self.integration(name)).collect()
    }

    /// Parses the arguments of `manifest`.
    pub fn manifest_options(&self, args: &[String]) -> Result<ManifestOptions, String> {
        let mut options = ManifestOptions::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--check" => options.check = true,
                "--out" => {
                    let dir = args.next().ok_or("`--out` needs a directory")?;
                    options.out = Some(PathBuf::from(dir));
                }
                other if other.starts_with('-') => {
                    return Err(format!("unknown manifest option `{other}`"));
                }
                name => {
                    self.integration(name)?;
                    options.integrations.push(name.to_owned());
                }
            }
        }
        Ok(options)
    }

    /// Parses the arguments of `validate`.
    pub fn validate_options(&self, args: &[String]) -> Result<ValidateOptions, String> {
        let mut folder = None;
        let mut options = ValidateOptions::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--integration" => {
                    let name = args
                        .next()
                        .ok_or("`--integration` needs an integration's name")?;
                    self.integration(name)?;
                    options.integration = Some(name.clone());
                }
                "--base" => {
                    let dir = args.next().ok_or("`--base` needs a folder")?;
                    options.base = Some(PathBuf::from(dir));
                }
                other if other.starts_with('-') => {
                    return Err(format!("unknown validate option `{other}`"));
                }
                path if folder.is_none() => folder = Some(PathBuf::from(path)),
                extra => return Err(format!("validate takes one folder; `{extra}` is a second")),
            }
        }
        options.folder = folder.ok_or("validate needs the folder to check")?;
        Ok(options)
    }
}

/// Why a command line did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The command line is wrong: the reason (the usage follows it).
    Usage(String),
    /// The command ran and failed: what to do.
    Failed(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(e) | Failure::Failed(e) => f.write_str(e),
        }
    }
}

/// Prints findings one a line; returns the number of errors.
fn report(dir: &Path, findings: &[Finding]) -> usize {
    for finding in findings {
        println!("{}: {}/{finding}", finding.severity, dir.display());
    }
    findings.iter().filter(|f| f.is_error()).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn tool() -> Tool {
        Tool::new(&[("exporter", &fixture::EXPORTER)])
    }

    #[test]
    fn parses_manifest_and_validate_options() {
        let tool = tool();
        let options = tool
            .manifest_options(&args(&["--check", "--out", "x", "exporter"]))
            .unwrap();
        assert!(options.check);
        assert_eq!(options.out, Some(PathBuf::from("x")));
        assert_eq!(options.integrations, ["exporter"]);
        assert!(
            tool.manifest_options(&args(&["pager"]))
                .unwrap_err()
                .contains("unknown integration `pager`; the integrations are exporter")
        );
        assert!(tool.manifest_options(&args(&["--out"])).is_err());
        assert!(tool.manifest_options(&args(&["acme_exporter"])).is_ok());

        let options = tool
            .validate_options(&args(&["dir", "--integration", "exporter", "--base", "b"]))
            .unwrap();
        assert_eq!(options.folder, PathBuf::from("dir"));
        assert_eq!(options.integration.as_deref(), Some("exporter"));
        assert_eq!(options.base, Some(PathBuf::from("b")));
        assert!(
            tool.validate_options(&args(&[]))
                .unwrap_err()
                .contains("needs the folder")
        );
        assert!(
            tool.validate_options(&args(&["a", "b"]))
                .unwrap_err()
                .contains("second")
        );
        assert!(tool.validate_options(&args(&["a", "--strict"])).is_err());
    }

    #[test]
    fn a_wrong_command_line_is_a_usage_failure() {
        let tool = tool().command("cargo xtask");
        assert_eq!(
            tool.run(&args(&["deploy"])),
            Err(Failure::Usage("unknown command `deploy`".into()))
        );
        assert!(matches!(tool.run(&[]), Err(Failure::Usage(_))));
        assert!(matches!(
            tool.run(&args(&["validate", "/nonexistent/acme_exporter"])),
            Err(Failure::Failed(_))
        ));
        assert_eq!(tool.stale_message(), "stale: run `cargo xtask manifest`");
    }
}
