//! Workspace tasks, run as `cargo xtask <task>` (aliased in `.cargo/config.toml`).
//!
//! It depends only on the workspace's own crates: `codegen` on nothing, `manifest` and
//! `validate` on the SDK and the example integrations whose declarations they read.

mod codegen;
mod submission;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  codegen [--check] [--from <dir>]
      regenerate the Rust sources generated from reference/ (scope catalog and
      markers, typed API operations, the macro crate's catalog)
      --check       change nothing; fail if a generated file is stale
      --from <dir>  first refresh reference/ from <dir> (usually ../shared/reference)
  manifest [--check] [--out <dir>] [<example>...]
      write the Datadog submission folder (manifest.json, README.md, CHANGELOG.md,
      metadata.csv, assets/) of the example integrations (oncall, exporter) into
      examples/submission/<folder>/, keeping the partner's text and ids already there
      --check      change nothing; fail if a folder is stale
      --out <dir>  write the folders under <dir> (an integrations-extras checkout)
  validate <folder> [--integration <example>] [--base <folder>]
      check a submission folder against the rules of Datadog's checks, one line a finding
      --integration <example>  also check it against that example's declaration
      --base <folder>          also check its immutable fields against a published version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match task {
        "codegen" => match codegen_options(rest) {
            Ok(options) => codegen::run(&codegen::workspace_root(), &options),
            Err(e) => {
                eprintln!("error: {e}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        "manifest" => match manifest_options(rest) {
            Ok(options) => submission::manifest(&codegen::workspace_root(), &options),
            Err(e) => {
                eprintln!("error: {e}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        "validate" => match validate_options(rest) {
            Ok(options) => submission::validate(&options),
            Err(e) => {
                eprintln!("error: {e}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("error: unknown task `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn codegen_options(args: &[String]) -> Result<codegen::Options, String> {
    let mut options = codegen::Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => options.check = true,
            "--from" => {
                let dir = args.next().ok_or("`--from` needs a path")?;
                options.from = Some(PathBuf::from(dir));
            }
            other => return Err(format!("unknown codegen option `{other}`")),
        }
    }
    Ok(options)
}

fn manifest_options(args: &[String]) -> Result<submission::ManifestOptions, String> {
    let mut options = submission::ManifestOptions::default();
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
            example => {
                submission::example(example)?;
                options.examples.push(example.to_owned());
            }
        }
    }
    Ok(options)
}

fn validate_options(args: &[String]) -> Result<submission::ValidateOptions, String> {
    let mut folder = None;
    let mut options = submission::ValidateOptions::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--integration" => {
                let name = args
                    .next()
                    .ok_or("`--integration` needs an example's name")?;
                submission::example(name)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_manifest_and_validate_options() {
        let options = manifest_options(&args(&["--check", "--out", "x", "exporter"])).unwrap();
        assert!(options.check);
        assert_eq!(options.out, Some(PathBuf::from("x")));
        assert_eq!(options.examples, ["exporter"]);
        assert!(
            manifest_options(&args(&["pager"]))
                .unwrap_err()
                .contains("unknown example")
        );
        assert!(manifest_options(&args(&["--out"])).is_err());

        let options =
            validate_options(&args(&["dir", "--integration", "oncall", "--base", "b"])).unwrap();
        assert_eq!(options.folder, PathBuf::from("dir"));
        assert_eq!(options.integration.as_deref(), Some("oncall"));
        assert_eq!(options.base, Some(PathBuf::from("b")));
        assert!(
            validate_options(&args(&[]))
                .unwrap_err()
                .contains("needs the folder")
        );
        assert!(
            validate_options(&args(&["a", "b"]))
                .unwrap_err()
                .contains("second")
        );
        assert!(validate_options(&args(&["a", "--strict"])).is_err());
    }
}
