//! The integration the workspace tests install, declared the way a partner declares one.

use dd_integration::datadog_integration;

/// Reads monitors and sends events, so each install also creates the marketplace API key.
#[datadog_integration(
    name = "Acme Pager",
    scopes = [monitors_read, api_keys_write],
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
