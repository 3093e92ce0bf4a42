//! UI tests of `#[datadog_integration]`: declarations that must compile (`tests/ui/pass`) and
//! declarations that must not, each with the compiler output it must print (`tests/ui/fail`,
//! `.stderr` beside each case).
//!
//! The `.stderr` files hold rustc's rendering of the macro's errors, which changes between
//! releases: they are for the rustc named in `tests/ui/RUSTC_VERSION`. After a toolchain bump,
//! update that file and regenerate with `TRYBUILD=overwrite cargo test -p dd-integration-tests
//! --test ui`, then review every `.stderr` diff like code.

use std::fs;
use std::path::Path;
use std::process::Command;

#[test]
fn ui() {
    if let Err(skip) = check_rustc_version() {
        // Another rustc renders the same errors differently: the test command stays green on
        // the next stable, and says what it did not check.
        eprintln!("ui SKIPPED: {skip}");
        return;
    }
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}

/// The `.stderr` files are only meaningful for the rustc they were written with: an error
/// naming both versions when another one runs.
fn check_rustc_version() -> Result<(), String> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pinned = fs::read_to_string(manifest_dir.join("ui/RUSTC_VERSION"))
        .expect("tests/ui/RUSTC_VERSION names the rustc the .stderr files are for");
    let pinned = pinned.trim();
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .arg("--version")
        .output()
        .expect("run `rustc --version`");
    let version = String::from_utf8_lossy(&output.stdout);
    let running = version.split_whitespace().nth(1).unwrap_or("unknown");
    if running == pinned {
        Ok(())
    } else {
        Err(format!(
            "the .stderr files are for rustc {pinned}; this is rustc {running}. To check the \
             compile errors on it, update tests/ui/RUSTC_VERSION, run with TRYBUILD=overwrite \
             and review every .stderr diff"
        ))
    }
}

/// `crate = ::path` makes every generated path go through the renamed dependency: a crate that
/// knows the SDK only as `sdk` compiles, declares an integration and calls an operation. It
/// is its own package (a package cannot depend on the SDK under two names), built by a nested
/// cargo in trybuild's target directory, which already holds the SDK's dependencies.
#[test]
fn renamed_dependency() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir.parent().expect("tests/ sits in the workspace");
    let target = workspace.join("target/tests/trybuild");
    let project = target.join("renamed-dependency");
    fs::create_dir_all(project.join("src")).unwrap();
    let sdk = workspace.join("dd-integration");
    fs::write(
        project.join("Cargo.toml"),
        format!(
            "[package]\nname = \"dd-renamed-dependency\"\nversion = \"0.0.0\"\nedition = \
             \"2024\"\npublish = false\n\n[dependencies]\nsdk = {{ package = \
             \"dd-integration\", path = {:?} }}\n\n[workspace]\n",
            sdk.display().to_string()
        ),
    )
    .unwrap();
    fs::copy(workspace.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    fs::write(
        project.join("src/lib.rs"),
        "//! The SDK under another name.\n\
         #![deny(warnings, unused_qualifications, missing_docs)]\n\
         \n\
         /// An integration declared through the renamed crate.\n\
         #[sdk::datadog_integration(\n\
         \x20   crate = ::sdk,\n\
         \x20   name = \"Renamed\",\n\
         \x20   scopes = [monitors_read, api_keys_write],\n\
         \x20   redirect = \"https://renamed.example/callback\",\n\
         \x20   onboarding = \"https://renamed.example/connect\",\n\
         \x20   submits = [metrics],\n\
         \x20   metric(name = \"renamed.a\", type = gauge),\n\
         )]\n\
         pub struct Renamed;\n\
         \n\
         /// A bearer operation the declaration allows.\n\
         pub const LIST: sdk::api::OperationSpec =\n\
         \x20   sdk::api::require::<Renamed, sdk::api::v1::ListMonitors>();\n\
         \n\
         /// The declaration, read back.\n\
         pub const NAME: &str = <Renamed as sdk::DatadogIntegration>::SPEC.name;\n",
    )
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["check", "--quiet", "--offline", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "the renamed-dependency crate in {} failed to build:\n{}",
        project.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}
