//! One customer org's installation of the integration: what the install flow stores.

use std::fmt;
use std::time::SystemTime;

use crate::integration::IntegrationSpec;
use crate::scope::ScopeSet;
use crate::secret::{AccessToken, ApiKey, RefreshToken};
use crate::site::{Domain, Site};

/// An installation's id (random, URL-safe, not secret).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstallationId(String);

impl InstallationId {
    /// A fresh random id.
    ///
    /// # Panics
    /// If the OS random source fails.
    pub fn generate() -> InstallationId {
        use base64::Engine as _;
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the OS random source failed");
        InstallationId(format!(
            "inst_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// An id read back from storage.
    pub fn from_stored(id: impl Into<String>) -> InstallationId {
        InstallationId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstallationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for InstallationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Datadog org's id **as Datadog confirmed it** (read with an installation's own access
/// token, `GET /api/v2/users`). Only the SDK's confirmation, a store reading back what it
/// stored, or a test makes one: the callback's `dd_oid`, which a browser can edit, stays a
/// `String` hint ([`Installation::org_hint`]), so it cannot be passed where an installation is
/// looked up or linked by org.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(String);

impl OrgId {
    /// An org id Datadog confirmed, as stored (or as a test names it).
    pub fn from_confirmed(id: impl Into<String>) -> OrgId {
        OrgId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for OrgId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// Whether an installation can be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstallationStatus {
    /// Working.
    Active,
    /// Datadog will no longer refresh its tokens: the customer must authorize again.
    Revoked(Revocation),
    /// The partner disconnected it (tokens revoked at Datadog).
    Removed,
    /// A newer installation of the same org took its place.
    Replaced {
        /// The newer installation.
        by: InstallationId,
    },
}

/// A marketplace API key as Datadog created it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MarketplaceApiKey {
    /// The key's id (not secret; it names the key in Datadog's API Keys page).
    pub id: String,
    /// The key.
    pub key: ApiKey,
    /// The key's name in Datadog (`"<client name> OAuth Client API Key <id>"`).
    pub name: Option<String>,
    /// When Datadog created it (RFC 3339).
    pub created_at: Option<String>,
}

/// Why an installation's tokens can no longer be refreshed, as detected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Revocation {
    /// What happened.
    pub cause: RevocationCause,
    /// What Datadog said (its `error_description`), or, for a revocation recorded by an
    /// older version, the text it recorded.
    pub detail: Option<String>,
}

impl Revocation {
    /// A revocation for `cause`, with what Datadog said, if anything.
    pub fn new(cause: RevocationCause, detail: Option<String>) -> Revocation {
        Revocation { cause, detail }
    }

    /// The stored form (`refused`, or `answer-lost: <detail>`): the cause's code first, so
    /// that a store keeps one text column and reads the cause back.
    pub fn to_stored(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{}: {detail}", self.cause.code()),
            None => self.cause.code().to_owned(),
        }
    }

    /// Reads [`Revocation::to_stored`]'s form back; any other text (a reason an older version
    /// stored as free text) is [`RevocationCause::Unknown`] with the text as its detail.
    pub fn from_stored(text: &str) -> Revocation {
        let (code, detail) = match text.split_once(": ") {
            Some((code, detail)) => (code, Some(detail.to_owned())),
            None => (text, None),
        };
        match RevocationCause::from_code(code) {
            Some(cause) => Revocation { cause, detail },
            None => Revocation {
                cause: RevocationCause::Unknown,
                detail: (!text.is_empty()).then(|| text.to_owned()),
            },
        }
    }
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cause.describe())?;
        match &self.detail {
            Some(detail) if self.cause == RevocationCause::Unknown => write!(f, ": {detail}"),
            Some(detail) => write!(f, " (Datadog said: {detail})"),
            None => Ok(()),
        }
    }
}

/// What ended an installation's refreshes: a partner matches on this, not on text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationCause {
    /// Datadog refused the refresh token (`invalid_grant`): the customer uninstalled the
    /// integration or its access was revoked.
    Refused,
    /// The answer to a refresh never arrived (the connection broke or timed out after the
    /// request was sent) and Datadog had rotated the refresh token: the new one is lost.
    AnswerLost,
    /// An earlier refresh with the stored refresh token never stored its answer (the process
    /// stopped, or the answer was lost) and Datadog had rotated the token.
    Interrupted,
    /// Recorded by an older version, as free text (see [`Revocation::detail`]).
    Unknown,
}

impl RevocationCause {
    /// The stable code a store keeps (`refused`, `answer-lost`, `interrupted`, `unknown`).
    pub const fn code(self) -> &'static str {
        match self {
            RevocationCause::Refused => "refused",
            RevocationCause::AnswerLost => "answer-lost",
            RevocationCause::Interrupted => "interrupted",
            RevocationCause::Unknown => "unknown",
        }
    }

    fn from_code(code: &str) -> Option<RevocationCause> {
        [
            RevocationCause::Refused,
            RevocationCause::AnswerLost,
            RevocationCause::Interrupted,
            RevocationCause::Unknown,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }

    /// What happened, in a sentence.
    pub const fn describe(self) -> &'static str {
        match self {
            RevocationCause::Refused => {
                "Datadog refused the refresh token (invalid_grant): the customer uninstalled the \
                 integration or its access was revoked"
            }
            RevocationCause::AnswerLost => {
                "refresh response lost after rotation: the connection broke (or timed out) after \
                 the refresh request was sent, so Datadog rotated the refresh token but its \
                 answer, with the new one, never arrived"
            }
            RevocationCause::Interrupted => {
                "refresh response lost after rotation: an earlier refresh with the stored refresh \
                 token (in this or another process) never stored its answer; the process \
                 stopped, or the response was lost, after Datadog rotated the token"
            }
            RevocationCause::Unknown => "revoked",
        }
    }
}

/// An installation: the tokens and key of one Datadog org, and who it belongs to on the
/// partner's side. `Debug` shows no secret.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Installation {
    /// The installation's id.
    pub id: InstallationId,
    /// The Datadog org's id **as Datadog confirmed it**: read with the installation's own access
    /// token from Datadog's API (`GET /api/v2/users`, each user's `relationships.org`), which
    /// needs the integration to declare `user_access_read`. `None` when the integration does not
    /// declare that scope, the customer did not grant it, or the call failed. The SDK links a
    /// reinstall to the org's earlier installation, and carries the org's API key over, only
    /// through this id; [`InstallationStore::find_by_org`](crate::store::InstallationStore::find_by_org)
    /// looks it up.
    pub org_id: Option<OrgId>,
    /// `dd_oid` as the customer's browser passed it on the callback: a hint for display and
    /// support, never evidence. Anyone can edit it in the callback URL.
    pub org_hint: Option<String>,
    /// The Datadog org's name (`dd_org_name`) as the browser passed it: for display only.
    pub org_name: Option<String>,
    /// The UI origin the customer came from (their vanity subdomain kept).
    pub site: Site,
    /// The region: every API and intake call goes to its hosts.
    pub domain: Domain,
    /// The scopes Datadog granted (possibly fewer than declared).
    pub granted_scopes: ScopeSet,
    /// The current access token.
    pub access_token: AccessToken,
    /// When the access token expires.
    pub access_token_expires_at: SystemTime,
    /// The newest refresh token.
    pub refresh_token: RefreshToken,
    /// The refresh journal: when a refresh of the tokens began (its refresh token about to be
    /// sent to Datadog), until its outcome is stored. Left set by a crash or a lost answer in
    /// that window, when Datadog may have rotated the refresh token (see
    /// [`Installation::refresh_interrupted`]).
    pub refresh_started_at: Option<SystemTime>,
    /// The marketplace API key, once created.
    pub api_key: Option<MarketplaceApiKey>,
    /// The install's journal of the key window: when the SDK was about to ask Datadog for the
    /// org's marketplace API key, until an outcome is stored (the key, or an answer that
    /// certainly created none). Set while the key is being created; left set by a crash or a
    /// lost answer in that window, when Datadog may have created a key that nobody holds
    /// (see [`Installation::api_key_interrupted`]).
    pub api_key_requested_at: Option<SystemTime>,
    /// The partner's own account this installation belongs to, as the partner's hook named it.
    pub partner_account: Option<String>,
    /// Whether it can be used.
    pub status: InstallationStatus,
    /// The installation of the same org this one replaced, if any.
    pub previous: Option<InstallationId>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it last changed.
    pub updated_at: SystemTime,
    /// Bumped on every change; updates compare and swap on it.
    pub version: u64,
}

impl Installation {
    /// Whether it can be used.
    pub fn is_active(&self) -> bool {
        self.status == InstallationStatus::Active
    }

    /// The scopes `spec` declares that Datadog did not grant (an admin can narrow a grant, and
    /// a refresh can report a narrower one). Empty when everything declared was granted; else
    /// the customer can grant them by connecting again from
    /// [`Installer::reauthorize_url`](crate::Installer::reauthorize_url).
    pub fn missing_scopes(&self, spec: &IntegrationSpec) -> ScopeSet {
        spec.scope_set().missing_from(&self.granted_scopes)
    }

    /// Whether the creation of its marketplace API key began and stored no outcome: under way
    /// now, or stopped by a crash or a lost answer. Datadog may then hold a key for the org
    /// that nobody can read (it shows a key once, and makes one per org): the customer must
    /// revoke it in Organization Settings > API Keys and connect again.
    pub fn api_key_interrupted(&self) -> bool {
        self.api_key.is_none() && self.api_key_requested_at.is_some()
    }

    /// Whether a refresh of its tokens began (its refresh token may have been sent to Datadog)
    /// and has not stored an outcome: under way now, or stopped by a crash or a lost response.
    /// See the [`tokens`](crate::tokens) module for what follows from it.
    pub fn refresh_interrupted(&self) -> bool {
        self.refresh_started_at.is_some()
    }
}
