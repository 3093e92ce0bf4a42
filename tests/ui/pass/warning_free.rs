//! The expansion is warning-free under the strictest lints a user may set (clippy's pedantic
//! group is checked on the examples crate, which `cargo clippy` lints with it).
#![deny(warnings, unused_qualifications, missing_docs, unused_results, unreachable_pub)]
#![deny(non_camel_case_types, non_upper_case_globals, trivial_casts, unused_extern_crates)]
#![deny(clippy::all, clippy::pedantic)]

use dd_integration::datadog_integration;
// Names the expansion also uses, imported: its absolute paths must not trip
// `unused_qualifications`.
use dd_integration::scope::markers::{api_keys_write, monitors_read};
use dd_integration::scope::{HasScope, ScopeMarker, markers};
use dd_integration::{DatadogIntegration, IntegrationSpec, Scope};

/// A declaration with every kind of generated item.
#[datadog_integration(
    name = "Strict",
    scopes = [monitors_read, api_keys_write],
    redirect = "https://strict.example/callback",
    onboarding = "https://strict.example/connect",
    submits = [metrics, service_checks],
    source_type_id = 12345678,
    metric(name = "strict.a", type = gauge, unit = "page"),
    service_check(name = "strict.up", title = "Up", description = "Is up."),
)]
pub struct Strict;

mod inner {
    //! Declared inside a module, away from the crate root.

    /// Another integration.
    #[dd_integration::datadog_integration(
        name = "Inner",
        scopes = [events_read],
        redirect = "https://inner.example/callback",
        onboarding = "https://inner.example/connect",
    )]
    pub(crate) struct Inner;
}

fn holds<I: HasScope<S>, S: ScopeMarker>() -> Scope {
    S::SCOPE
}

fn main() {
    let _ = (Strict, inner::Inner);
    let spec: &IntegrationSpec = Strict::SPEC;
    assert_eq!(holds::<Strict, monitors_read>(), spec.scopes[0]);
    assert_eq!(holds::<Strict, api_keys_write>(), spec.scopes[1]);
    assert_eq!(holds::<inner::Inner, markers::events_read>(), Scope::EVENTS_READ);
}
