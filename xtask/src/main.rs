//! Workspace tasks, run as `cargo xtask <task>` (aliased in `.cargo/config.toml`).
//!
//! Dependency-free on purpose: it must build fast and never pull anything into CI that the
//! SDK itself does not need.

mod codegen;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  codegen [--check] [--from <dir>]
      regenerate the Rust sources generated from reference/ (scope catalog and
      markers, typed API operations, the macro crate's catalog)
      --check       change nothing; fail if a generated file is stale
      --from <dir>  first refresh reference/ from <dir> (usually ../shared/reference)";

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
