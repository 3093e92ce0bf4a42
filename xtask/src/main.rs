//! Workspace tasks, run as `cargo xtask <task>` (aliased in `.cargo/config.toml`).
//!
//! It builds in seconds: it links only `dd-integration-facts` (no dependencies), for `codegen`.
//! `manifest` and `validate` need the example integrations' declarations, so they run the
//! examples' submission tool (`examples/src/bin/submission.rs`, the one line a partner's xtask
//! holds) through cargo, which builds the SDK only for them.

mod codegen;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

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
      check a submission folder against the rules of Datadog's checks (RULES.md), one line
      a finding
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
        "manifest" | "validate" => return examples_tool(&args),
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

/// Runs `manifest` or `validate` in the examples' submission tool, with this process's
/// arguments, and exits as it does.
fn examples_tool(args: &[String]) -> ExitCode {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(codegen::workspace_root())
        .args([
            "run",
            "--quiet",
            "-p",
            "dd-integration-examples",
            "--bin",
            "submission",
            "--",
        ])
        .args(args)
        .status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: cannot run cargo for the examples' submission tool: {e}");
            ExitCode::FAILURE
        }
    }
}
