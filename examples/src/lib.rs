//! Example integrations built with `dd-integration`, each declared with one
//! `#[datadog_integration(...)]`: used by the README, the tests and `cargo xtask`.
//!
//! - [`oncall`]: an on-call tool that reads monitors and opens incidents (bearer API calls);
//! - [`exporter`]: an exporter that submits metrics, events, a service check and logs (the marketplace API key);
//! - [`insights`]: a paid listing on Datadog's Marketplace (pricing, terms, its own rules).
//!
//! The crate is linted with `clippy::pedantic` so that the macro's expansion is checked against
//! it on every `cargo clippy`.
#![warn(clippy::pedantic, missing_docs, unused_qualifications)]

pub mod exporter;
pub mod insights;
pub mod oncall;

use dd_integration::DatadogIntegration;
use dd_integration_submission::Tool;

/// The examples' submission commands (`cargo xtask manifest`, `cargo xtask validate`), with the
/// folders committed under `examples/submission/`: what a partner's xtask does in one line.
#[must_use]
pub fn submission_tool() -> Tool {
    Tool::new(&[
        ("oncall", oncall::AcmeOnCall::SPEC),
        ("exporter", exporter::AcmeExporter::SPEC),
        ("insights", insights::AcmeInsights::SPEC),
    ])
    .out(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("submission"))
}
