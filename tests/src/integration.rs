//! The integration the workspace tests install, declared the way a partner declares one.

use dd_integration::datadog_integration;

/// Reads monitors and sends events, so each install also creates the marketplace API key.
/// Declares `user_access_read`, so the SDK confirms each installation's org with Datadog and
/// links a reinstall to the org's earlier installation.
#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read, api_keys_write, user_access_read],
    redirect = "https://acme.example/datadog/oauth/callback",
    onboarding = "https://acme.example/datadog/connect",
    submits = [events],
    description = "Pages the on-call engineer when a Datadog monitor alerts.",
    author(
        name = "Acme",
        homepage = "https://acme.example",
        support_email = "support@acme.example",
        sales_email = "sales@acme.example",
    ),
)]
pub struct AcmePager;

/// Sends events only: no `user_access_read`, so no installation's org is confirmed and no
/// installation is ever linked to another (the callback's `dd_oid` is only a hint).
#[datadog_integration(
    name = "Acme Beacon",
    scopes = [api_keys_write],
    redirect = "https://acme.example/datadog/oauth/callback",
    onboarding = "https://acme.example/datadog/connect",
    submits = [events],
    description = "Sends an event to Datadog when a beacon fires.",
    author(
        name = "Acme",
        homepage = "https://acme.example",
        support_email = "support@acme.example",
        sales_email = "sales@acme.example",
    ),
)]
pub struct AcmeBeacon;

/// Deployed twice: production (the top-level URLs) and staging, each flow on its own origin.
#[datadog_integration(
    name = "Acme Staged",
    scopes = [api_keys_write],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/datadog/connect",
    environment(
        name = "staging",
        onboarding = "https://staging.acme-dev.example/datadog/connect",
        redirect = "https://staging.acme-dev.example/datadog/callback",
    ),
    submits = [events],
    description = "Sends an event to Datadog from staging and production.",
    author(
        name = "Acme",
        homepage = "https://acme.example",
        support_email = "support@acme.example",
        sales_email = "sales@acme.example",
    ),
)]
pub struct AcmeStaged;
