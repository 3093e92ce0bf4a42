//! The partner's one hooks trait, [`Hooks`], and what it is told: who is connecting
//! ([`Identify`]), an install that succeeded ([`InstallReport`]) or failed
//! ([`InstallFailure`]), an installation Datadog will no longer refresh ([`Revocation`]), a
//! marketplace API key the intake refused.
//!
//! It belongs to neither the install flow nor the token lifecycle: both, and telemetry, call
//! the one implementation the partner hands the [`Installer`](crate::Installer) (and
//! [`TelemetryBuilder::hooks`](crate::telemetry::TelemetryBuilder::hooks)).

use async_trait::async_trait;
use http::HeaderMap;

use crate::error::Error;
use crate::installation::{Installation, InstallationId, Revocation};
use crate::scope::ScopeSet;
use crate::site::Domain;

/// Who is connecting, as the partner's [`Hooks::identify`] says.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identify {
    /// This partner account (kept with the installation).
    Account(String),
    /// Nobody in particular (the partner links the installation later, in its hook).
    Anonymous,
    /// Not logged in: send the browser here (a path on the partner's own origin, or a URL of
    /// it); the login must come back to the `return_to` it was given.
    Redirect(String),
}

/// The partner's side of the flow. Every method has a default.
#[async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Which of the partner's accounts is connecting. `headers` are the onboarding request's
    /// (for the partner's session cookie); `return_to` is the onboarding URL to come back to
    /// after a login, site included.
    async fn identify(&self, headers: &HeaderMap, return_to: &str) -> Identify {
        let _ = (headers, return_to);
        Identify::Anonymous
    }

    /// An installation was stored (its API key too, when one was created).
    async fn installed(&self, report: &InstallReport) {
        let _ = report;
    }

    /// A flow ended without an installation.
    async fn failed(&self, failure: &InstallFailure) {
        let _ = failure;
    }

    /// Datadog will no longer refresh an installation's tokens: the customer uninstalled, its
    /// access was revoked, or a rotated refresh token was lost ([`Revocation::cause`] says
    /// which). It is stored as [`InstallationStatus::Revoked`](crate::installation::InstallationStatus::Revoked) and never retried; the customer
    /// must connect again ([`Installer::reauthorize_url`](crate::Installer::reauthorize_url)). Called once, by the replica that
    /// detected it.
    async fn revoked(&self, installation: &Installation, revocation: &Revocation) {
        let _ = (installation, revocation);
    }

    /// Datadog's intake refused an installation's marketplace API key (401 or 403): the
    /// customer revoked the key, or uninstalled. Its data is dropped until the customer
    /// connects again; mark it in the partner's records and tell the customer. Called once per
    /// installation and telemetry, from a task of its own.
    async fn key_rejected(&self, installation: &InstallationId, domain: Domain) {
        let _ = (installation, domain);
    }
}

/// Hooks that do nothing: anonymous installs.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl Hooks for NoHooks {}

/// What an install produced.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct InstallReport {
    /// The stored installation (with its API key, if any).
    pub installation: Installation,
    /// Declared scopes the customer's grant lacks (an admin can narrow a grant). Empty when
    /// everything was granted.
    pub missing_scopes: ScopeSet,
    /// What happened to the marketplace API key.
    pub api_key: ApiKeyOutcome,
}

/// What happened to the marketplace API key during an install.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ApiKeyOutcome {
    /// The integration does not declare `api_keys_write`.
    NotRequested,
    /// Created and stored.
    Created,
    /// The org's key from an earlier installation still works and was kept.
    Reused,
    /// The grant lacks `api_keys_write` (an admin narrowed it).
    ScopeNotGranted,
    /// Datadog answered 409: the org has a key this SDK no longer holds. The customer must
    /// revoke it in Organization Settings > API Keys and connect again.
    AlreadyExists,
    /// Creation failed; the message says why.
    Failed(String),
    /// The key's creation began and stored no outcome (the installation's key journal,
    /// [`Installation::api_key_interrupted`]): a crash or a lost answer. Datadog may hold a key
    /// for the org that nobody can read; the customer must revoke it and connect again.
    Interrupted,
}

/// Why a flow ended without an installation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallFailure {
    /// The onboarding `site` is not a Datadog site.
    #[error("the onboarding request's site is not a Datadog site: {0}")]
    BadSite(#[source] crate::site::SiteError),
    /// `site` and `domain` on the onboarding request disagree.
    #[error("the onboarding request's domain {domain} is not the region of site {site}")]
    SiteDomainMismatch {
        /// The site.
        site: String,
        /// The domain.
        domain: String,
    },
    /// The partner's hook returned a login URL on another origin.
    #[error(
        "the identify hook returned a redirect outside the partner's origin; refused (open redirect)"
    )]
    ForeignRedirect,
    /// The user (or an org policy) denied the authorization.
    #[error("the authorization was denied in Datadog{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Denied {
        /// Datadog's `error_description`, escaped.
        description: Option<String>,
    },
    /// Datadog redirected back with another OAuth error.
    #[error("Datadog returned `{error}` to the callback")]
    Datadog {
        /// The `error` code, escaped.
        error: String,
        /// The `error_description`, escaped.
        description: Option<String>,
    },
    /// The callback lacks `code` or `state`, or repeats one.
    #[error("the callback is malformed: {0}")]
    BadCallback(&'static str),
    /// No flow cookie: another browser, an expired cookie, or a link preview.
    #[error(
        "no flow cookie for this callback: it was opened in another browser, after the flow expired, or by a link preview"
    )]
    NoFlowCookie,
    /// The cookie does not open or does not match the state.
    #[error("the flow cookie is forged, altered or belongs to another flow")]
    ForgedFlow,
    /// The flow is older than its lifetime.
    #[error("the flow expired (it must finish within 10 minutes)")]
    Expired,
    /// The callback's `domain` is not the region the flow began on.
    #[error(
        "the callback's domain `{got}` is not {expected}, the region the flow began on (possible mix-up attack)"
    )]
    DomainMismatch {
        /// The region of the flow.
        expected: Domain,
        /// What the callback said, escaped.
        got: String,
    },
    /// The code exchange failed.
    #[error("the code exchange failed: {0}")]
    Exchange(#[source] Error),
    /// The store failed.
    #[error("the installation could not be stored: {0}")]
    Store(#[source] crate::store::StoreError),
    /// The flow was claimed and never finished: the server completing it stopped (a restart, a
    /// crash) before the installation was stored. Nothing was stored and no key created.
    #[error(
        "the flow was being completed when the server stopped, before anything was stored; start again from the tile"
    )]
    Interrupted,
    /// More callbacks than the code exchange limit allows
    /// ([`InstallerBuilder::exchange_limit`](crate::install::InstallerBuilder::exchange_limit)): the flow stays open, to be reloaded.
    #[error("too many code exchanges at this moment (the installer's exchange limit)")]
    Busy,
}
