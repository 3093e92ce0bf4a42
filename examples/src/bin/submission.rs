//! The examples' submission commands, run by `cargo xtask manifest` and `cargo xtask validate`:
//! a partner's xtask is this one line with its own declarations.

fn main() -> std::process::ExitCode {
    dd_integration_examples::submission_tool().main()
}
