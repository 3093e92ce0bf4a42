//! One operation of every API family Datadog serves to OAuth clients, called through
//! `ApiClient` against the sandbox, which serves every operation of the endpoint table: the
//! bearer token of the installation on its region's host, path parameters percent-encoded,
//! bodies as sent. A family added to the table without a call here fails the test.

use std::collections::BTreeSet;
use std::sync::Arc;

use dd_integration::api::{
    ALL_OPERATIONS, ApiVersion, Authorized, Method, Operation, OperationSpec, v1, v2,
};
use dd_integration::client::ApiClient;
use dd_integration::testkit::{ClientSpec, OrgSpec, Sandbox, SandboxOrg};
use dd_integration::{
    ClientSecret, DatadogIntegration, Domain, InstallationStore, Installer, MemoryStore, Sealer,
    SealingKey, datadog_integration,
};
use dd_integration_tests::lifecycle::install;
use serde_json::{Value, json};

/// Declares every scope the operations below need, and nothing else.
#[datadog_integration(
    name = "Acme Everything",
    scopes = [
        apm_api_catalog_write, apm_read, apm_service_catalog_write,
        bits_investigations_read, cases_read, cases_write, ci_visibility_read,
        cloud_cost_management_write, code_analysis_read, code_coverage_read,
        create_webhooks, dashboards_read, dashboards_write, error_tracking_read,
        error_tracking_write, events_read, hosts_read, incident_settings_write,
        incident_write, metrics_read, monitors_downtime, monitors_read, monitors_write,
        org_connections_write, org_management, security_monitoring_critical_assets_write,
        security_monitoring_findings_read, security_monitoring_rules_read,
        security_monitoring_rules_write, slos_read, slos_write,
        synthetics_private_location_write, synthetics_write, teams_manage, teams_read,
        test_optimization_write, timeseries_query, usage_read, user_access_invite,
        user_access_manage, user_access_read, workflows_run,
    ],
    redirect = "http://127.0.0.1:9/datadog/oauth/callback",
    onboarding = "http://127.0.0.1:9/datadog/connect",
)]
struct AcmeEverything;

/// `/api/v2/incidents/...` is the family `(V2, "incidents")`.
fn family(spec: &OperationSpec) -> (ApiVersion, &'static str) {
    (spec.version, spec.path.split('/').nth(3).unwrap_or(""))
}

/// Calls `O` with a value for each path parameter (with characters that need encoding) and a
/// body when its method takes one, and checks the sandbox's echo of what arrived.
async fn check<O>(
    api: &ApiClient<AcmeEverything>,
    org: &SandboxOrg,
    called: &mut BTreeSet<(ApiVersion, &'static str)>,
) where
    O: Operation + Authorized<AcmeEverything>,
{
    let spec = OperationSpec::of::<O>();
    let mut call = api.call::<O>();
    let mut path = serde_json::Map::new();
    for name in spec.path_params() {
        let value = format!("{name} 1/é?");
        call = call.path(name, &value);
        path.insert(name.to_owned(), Value::String(value));
    }
    let body = json!({"data": {"type": spec.id, "attributes": {"name": "Acme"}}});
    let with_body = matches!(spec.method, Method::Post | Method::Put | Method::Patch);
    if with_body {
        call = call.body(&body);
    }
    let echo: Value = call
        .json()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", spec.id));
    assert_eq!(echo["operation"], spec.id);
    assert_eq!(echo["org_id"], org.id.as_str(), "{}", spec.id);
    assert_eq!(echo["path"], Value::Object(path), "{}", spec.id);
    let expected = if with_body { body } else { Value::Null };
    assert_eq!(echo["body"], expected, "{}", spec.id);
    called.insert(family(&spec));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_operation_of_every_family_goes_through() {
    let sandbox = Sandbox::start().await;
    let spec = <AcmeEverything as DatadogIntegration>::SPEC;
    let client = sandbox.add_client(
        ClientSpec::new("Acme Everything")
            .redirect_uri(spec.redirect_uris[0])
            .scopes(spec.scopes.iter().map(ToString::to_string)),
    );
    let (key, _) = SealingKey::generate("test").unwrap();
    let installer = Installer::<AcmeEverything>::builder()
        .client(client.client_id, ClientSecret::new(client.client_secret))
        .sealer(Sealer::new(key))
        .endpoints(sandbox.endpoints())
        .store(Arc::new(MemoryStore::new()) as Arc<dyn InstallationStore>)
        .build()
        .unwrap();
    let org = sandbox.add_org(OrgSpec::new("Acme", Domain::Ap2).vanity("acme-everything"));
    let installation = install(&installer, &sandbox, &org).await;
    let api: ApiClient<AcmeEverything> = installer.api(&installation);
    let api = &api;
    let mut called = BTreeSet::new();
    let c = &mut called;
    check::<v1::UpdateDashboardList>(api, &org, c).await;
    check::<v1::UpdateDowntime>(api, &org, c).await;
    check::<v1::GetEvent>(api, &org, c).await;
    check::<v1::ListHosts>(api, &org, c).await;
    check::<v1::CreateWebhooksIntegration>(api, &org, c).await;
    check::<v1::GetMetricMetadata>(api, &org, c).await;
    check::<v1::UpdateMonitor>(api, &org, c).await;
    check::<v1::QueryMetrics>(api, &org, c).await;
    check::<v1::ListMetrics>(api, &org, c).await;
    check::<v1::UpdateSLO>(api, &org, c).await;
    check::<v1::UpdatePrivateLocation>(api, &org, c).await;
    check::<v1::GetUsageAnalyzedLogs>(api, &org, c).await;
    check::<v1::ListUsers>(api, &org, c).await;
    check::<v2::UpdateAwsScanOptions>(api, &org, c).await;
    check::<v2::UpdateOpenAPI>(api, &org, c).await;
    check::<v2::GetServiceList>(api, &org, c).await;
    check::<v2::GetInvestigation>(api, &org, c).await;
    check::<v2::UpdateProject>(api, &org, c).await;
    check::<v2::DeleteCatalogEntity>(api, &org, c).await;
    check::<v2::UpdateChangeRequest>(api, &org, c).await;
    check::<v2::AggregateCIAppPipelineEvents>(api, &org, c).await;
    check::<v2::UpdateCustomFramework>(api, &org, c).await;
    check::<v2::GetCodeCoverageBranchSummary>(api, &org, c).await;
    check::<v2::UpdateCustomAllocationRule>(api, &org, c).await;
    check::<v2::GetActiveBillingDimensions>(api, &org, c).await;
    check::<v2::GetDashboardListItems>(api, &org, c).await;
    check::<v2::UpdateDataset>(api, &org, c).await;
    check::<v2::PatchDomainAllowlist>(api, &org, c).await;
    check::<v2::UpdateDowntime>(api, &org, c).await;
    check::<v2::UpdateIssueAssignee>(api, &org, c).await;
    check::<v2::GetEvent>(api, &org, c).await;
    check::<v2::CreateIncidentImpact>(api, &org, c).await;
    check::<v2::UpdateIPAllowlist>(api, &org, c).await;
    check::<v2::ListTagsByMetricName>(api, &org, c).await;
    check::<v2::GetMonitorNotificationRule>(api, &org, c).await;
    check::<v2::UpdateOrgConnections>(api, &org, c).await;
    check::<v2::ListPermissions>(api, &org, c).await;
    check::<v2::GetFinding>(api, &org, c).await;
    check::<v2::UpdatePowerpack>(api, &org, c).await;
    check::<v2::QueryScalarData>(api, &org, c).await;
    check::<v2::UpdateRole>(api, &org, c).await;
    check::<v2::UpdateScorecardCampaign>(api, &org, c).await;
    check::<v2::SearchSecurityFindings>(api, &org, c).await;
    check::<v2::UpdateSecurityMonitoringCriticalAsset>(api, &org, c).await;
    check::<v2::DeleteServiceDefinition>(api, &org, c).await;
    check::<v2::CancelThreatHuntingJob>(api, &org, c).await;
    check::<v2::GetSLOReport>(api, &org, c).await;
    check::<v2::AggregateSpans>(api, &org, c).await;
    check::<v2::CreateSCAResult>(api, &org, c).await;
    check::<v2::ListMultipleRulesets>(api, &org, c).await;
    check::<v2::EditSyntheticsSuite>(api, &org, c).await;
    check::<v2::UpdateTagPipelinesRuleset>(api, &org, c).await;
    check::<v2::UpdateTeam>(api, &org, c).await;
    check::<v2::RemoveTeamHierarchyLink>(api, &org, c).await;
    check::<v2::UpdateIncidentTeam>(api, &org, c).await;
    check::<v2::UpdateFlakyTests>(api, &org, c).await;
    check::<v2::GetUsageApplicationSecurityMonitoring>(api, &org, c).await;
    check::<v2::GetInvitation>(api, &org, c).await;
    check::<v2::UpdateUser>(api, &org, c).await;
    check::<v2::CreateWorkflowInstance>(api, &org, c).await;

    let families: BTreeSet<_> = ALL_OPERATIONS.iter().map(family).collect();
    assert_eq!(
        families.difference(&called).collect::<Vec<_>>(),
        Vec::<&(ApiVersion, &str)>::new(),
        "families with no call here"
    );
    assert_eq!(called.len(), 60);
}
