//! Example integrations built with `dd-integration`, each declared with one
//! `#[datadog_integration(...)]`: used by the README, the tests and `cargo xtask`.
//!
//! - [`oncall`]: an on-call tool that reads monitors and opens incidents (bearer API calls);
//! - [`exporter`]: an exporter that submits metrics and events (the marketplace API key).
//!
//! The crate is linted with `clippy::pedantic` so that the macro's expansion is checked against
//! it on every `cargo clippy`.
#![warn(clippy::pedantic, missing_docs, unused_qualifications)]

pub mod exporter;
pub mod oncall;
