//! Acme On-Call: pages the right person when a Datadog monitor alerts, and mirrors the page as a
//! Datadog incident.
//!
//! It reads Datadog (monitors, downtimes, incidents) with the OAuth token of each installation and
//! submits no data, so it needs no `api_keys_write`.

use dd_integration::api::{self, OperationSpec, v1, v2};
use dd_integration::datadog_integration;

/// The on-call integration.
#[datadog_integration(
    name = "Acme On-Call",
    scopes = [monitors_read, monitors_downtime, incident_read, incident_write, user_access_read],
    redirect = [
        "https://oncall.acme.example/datadog/oauth/callback",
        "https://staging.oncall.acme.example/datadog/oauth/callback",
        "http://localhost:8080/datadog/oauth/callback",
    ],
    onboarding = "https://oncall.acme.example/datadog/connect",
    app_uuid = "5f0c3b9e-8d4a-4c1e-9f2b-7a6d5e4c3b2a",
    description = "Page the right person when a Datadog monitor alerts.",
    author(
        name = "Acme Inc.",
        homepage = "https://acme.example",
        support_email = "support@acme.example",
        sales_email = "sales@acme.example",
    ),
    categories = ["Alerting", "Incidents", "Collaboration"],
    source_type_id = 95_329_440,
)]
pub struct AcmeOnCall;

/// Every Datadog operation the on-call tool calls.
///
/// Each line compiles only because [`AcmeOnCall`] declares the operation's scopes: drop
/// `incident_write` from the declaration and `CreateIncident` fails to compile, naming the scope.
pub const OPERATIONS: [OperationSpec; 6] = [
    api::require::<AcmeOnCall, v1::ListMonitors>(),
    api::require::<AcmeOnCall, v1::GetMonitor>(),
    api::require::<AcmeOnCall, v2::CreateDowntime>(),
    api::require::<AcmeOnCall, v2::ListIncidents>(),
    api::require::<AcmeOnCall, v2::CreateIncident>(),
    api::require::<AcmeOnCall, v2::ListUsers>(),
];

#[cfg(test)]
mod tests {
    use dd_integration::api::Method;
    use dd_integration::{DatadogIntegration, Scope};

    use super::*;

    #[test]
    fn declaration_is_the_spec() {
        let spec = AcmeOnCall::SPEC;
        assert_eq!(spec.name, "Acme On-Call");
        assert_eq!(spec.app_id, "acme-on-call");
        assert_eq!(spec.version, env!("CARGO_PKG_VERSION"));
        assert!(spec.scopes.contains(&Scope::MONITORS_READ));
        assert!(!spec.creates_api_key() && !spec.submits_data());
        assert_eq!(spec.redirect_uris.len(), 3);
        assert_eq!(
            spec.classifier_tags,
            [
                "Category::Alerting",
                "Category::Incidents",
                "Category::Collaboration"
            ]
        );
    }

    #[test]
    fn operations_need_only_declared_scopes() {
        let declared = AcmeOnCall::SPEC.scope_set();
        for op in OPERATIONS {
            assert!(op.scopes.iter().all(|s| declared.contains(s)), "{}", op.id);
        }
        assert_eq!(OPERATIONS[0].method, Method::Get);
        assert_eq!(OPERATIONS[0].path, "/api/v1/monitor");
    }
}
