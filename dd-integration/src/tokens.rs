//! A valid access token for an installation, whoever asks, however often, on however many
//! replicas.
//!
//! [`Tokens`] (one per process, [`Installer::tokens`](crate::Installer::tokens)) hands out
//! [`InstallationHandle`]s; [`InstallationHandle::access_token`] returns a token that is valid
//! for at least the leeway (5 minutes by default, as Datadog's own clients refresh):
//!
//! - **Cached**: a token inside its life minus the leeway is answered from memory, with no I/O
//!   and no await (a read lock and a clone).
//! - **Single flight in the process**: otherwise one caller runs the refresh and every caller
//!   waiting meanwhile shares its outcome.
//! - **The store's lease across processes**: the refresh runs under
//!   [`InstallationStore::acquire_refresh_lease`], which expires (a crashed holder blocks nobody
//!   for longer than [`TokenSettings::lease`]). Replicas that do not hold it poll the store
//!   until the holder's new token appears.
//! - **Re-read after taking the lease**: if another replica refreshed meanwhile, its token is
//!   used and nothing is sent to Datadog.
//! - **Journal, refresh, compare-and-swap**: before the refresh token is spent, the stored
//!   refresh journal is written ([`Installation::refresh_started_at`], see
//!   [`Installation::refresh_interrupted`]); the new tokens are then written with
//!   [`InstallationStore::update_tokens`] (compare and swap on the version) **before** the new
//!   access token is handed to anyone, so the newest refresh token is durable before any
//!   access token from it is used. The refresh itself runs in its own task: a caller that gives
//!   up (a cancelled request) cannot interrupt it between Datadog's answer and the write.
//! - **`invalid_grant`**: the store is read again first (a rotation by another replica is not a
//!   revocation). If it still holds the refresh token that was refused, the installation is
//!   marked [`InstallationStatus::Revoked`] with the reason, the partner's
//!   [`Hooks::revoked`] hook runs, and every later call fails fast with
//!   [`TokenError::ReauthorizationRequired`], without I/O.
//! - **Transient failures** (5xx, 429 with `X-RateLimit-Reset`, time-outs, cut connections) are
//!   retried [`TokenSettings::attempts`] times with jittered exponential backoff and are never
//!   taken for a revocation. If every attempt fails and the current access token is still valid,
//!   it is returned (with a warning) rather than failing the caller.
//!
//! ```no_run
//! # use dd_integration::{DatadogIntegration, Installer, InstallationId, TokenError};
//! # async fn call_datadog<I: DatadogIntegration>(installer: &Installer<I>, id: &InstallationId) -> Result<(), TokenError> {
//! let handle = installer.tokens().installation(id);
//! match handle.access_token().await {
//!     Ok(token) => {
//!         // `Authorization: Bearer <token>` to https://api.<domain>/...; if Datadog answers
//!         // 401 all the same, say so: the next call refreshes, and detects a revoked grant.
//!         handle.invalidate(&token);
//!     }
//!     Err(e) if e.needs_reauthorization() => {
//!         // Tell the customer to connect again: `installer.reauthorize_url(&installation)`.
//!     }
//!     Err(e) => return Err(e), // transient: retry later
//! }
//! # Ok(()) }
//! ```
//!
//! A partner-side uninstall is [`Tokens::disconnect`]: it revokes the tokens at Datadog, marks
//! the installation removed, and lists what the customer must still do ([`CustomerStep`]).
//!
//! # The window in which a rotated refresh token can be lost
//!
//! Datadog rotates the refresh token on every refresh; under strict rotation the old one dies at
//! once. Between the moment Datadog processes a refresh and the moment the new tokens are
//! durable in the store, the newest refresh token exists only in one process's memory or on the
//! wire. It is lost if, in that window:
//!
//! 1. the response is lost: the connection is cut or times out after Datadog processed the
//!    request (a proxy's 502/504 may hide the same);
//! 2. the process dies (killed, OOM, power) after Datadog answered and before the write;
//! 3. the store stays unavailable through every write retry (about
//!    [`TokenSettings::max_backoff`] times eight, with the lease renewed).
//!
//! No client can close this window: the rotation happens on Datadog's side before the answer
//! is sent. The SDK makes it visible instead. Because the journal mark is durable before the
//! token is spent, whoever next refreshes (this process, another replica, or the process after
//! a restart) and is refused finds the mark, and marks the installation
//! `Revoked` with [`RevocationCause::AnswerLost`] or [`RevocationCause::Interrupted`] (the true
//! cause, distinct from a customer's revocation, [`RevocationCause::Refused`]), calls [`Hooks::revoked`], and answers
//! [`TokenError::ReauthorizationRequired`]. Under lenient rotation the old token still works and
//! nothing is lost. A process killed before the token call, or after the write, loses nothing:
//! the next refresh simply succeeds with the stored token, or finds the new one.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::Instrument as _;
use tracing::field::Empty;

use crate::error::Error;
use crate::hooks::{Hooks, NoHooks};
use crate::installation::{
    Installation, InstallationId, InstallationStatus, Revocation, RevocationCause,
};
use crate::oauth::{OAuthClient, TokenGrant};
use crate::scope::Scope;
use crate::secret::{AccessToken, RefreshToken};
use crate::store::{InstallationStore, StoreError, TokenUpdate};
use crate::transport::{Backoff, jittered};

/// How many times the rotated tokens are written before giving up (the store failing).
const WRITE_ATTEMPTS: u32 = 8;
/// An access token kept in use after a failed refresh must still have this long to live.
const FALLBACK_MARGIN: Duration = Duration::from_secs(30);

/// How tokens are kept fresh. The defaults suit Datadog; tests shorten them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TokenSettings {
    /// A token is refreshed this long before it expires (default 5 minutes, as Datadog's own
    /// clients do), so that it does not expire during a call.
    pub leeway: Duration,
    /// How long a refresh lease lasts before another replica may take it over (default 60 s;
    /// renewed before every attempt). It bounds how long a crashed holder delays others.
    pub lease: Duration,
    /// Token requests per refresh, the first included, when Datadog fails transiently
    /// (default 4).
    pub attempts: u32,
    /// The first backoff after a transient failure, doubled each time (default 250 ms); each
    /// wait is jittered between half and all of it.
    pub backoff: Duration,
    /// The longest backoff (default 10 s). A rate limit asking for longer ends the retries.
    pub max_backoff: Duration,
    /// How often a replica waiting for another's refresh reads the store (default 50 ms,
    /// jittered).
    pub poll: Duration,
}

impl Default for TokenSettings {
    fn default() -> TokenSettings {
        TokenSettings {
            leeway: Duration::from_secs(300),
            lease: Duration::from_secs(60),
            attempts: 4,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            poll: Duration::from_millis(50),
        }
    }
}

impl TokenSettings {
    /// Sets [`TokenSettings::leeway`].
    pub fn leeway(mut self, value: Duration) -> TokenSettings {
        self.leeway = value;
        self
    }

    /// Sets [`TokenSettings::lease`].
    pub fn lease(mut self, value: Duration) -> TokenSettings {
        self.lease = value;
        self
    }

    /// Sets [`TokenSettings::attempts`] (at least 1).
    pub fn attempts(mut self, value: u32) -> TokenSettings {
        self.attempts = value.max(1);
        self
    }

    /// Sets [`TokenSettings::backoff`].
    pub fn backoff(mut self, value: Duration) -> TokenSettings {
        self.backoff = value;
        self
    }

    /// Sets [`TokenSettings::max_backoff`].
    pub fn max_backoff(mut self, value: Duration) -> TokenSettings {
        self.max_backoff = value;
        self
    }

    /// Sets [`TokenSettings::poll`].
    pub fn poll(mut self, value: Duration) -> TokenSettings {
        self.poll = value;
        self
    }

    /// The wait before attempt `attempt + 1`: exponential, jittered, at least a rate limit's
    /// reset; `None` when the reset is longer than [`TokenSettings::max_backoff`].
    fn wait_before(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let backoff = Backoff {
            first: self.backoff,
            max: self.max_backoff,
        };
        match retry_after {
            Some(reset) => backoff.after_rate_limit(attempt, reset, self.max_backoff),
            None => Some(backoff.delay(attempt)),
        }
    }
}

/// Why no access token could be had. The message says what to do; none carries a secret.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The installation is not in the store.
    #[error("no installation {id}: it was never stored, or it was deleted")]
    NotFound {
        /// The installation.
        id: InstallationId,
    },
    /// Datadog will not refresh this installation's tokens any more (it is marked
    /// [`InstallationStatus::Revoked`]).
    #[error(
        "installation {id} needs re-authorization: {revocation}. The customer must connect the integration again from its tile in Datadog (Installer::reauthorize_url gives the link)"
    )]
    ReauthorizationRequired {
        /// The installation.
        id: InstallationId,
        /// Why, as detected ([`Revocation::cause`] to match on).
        revocation: Revocation,
    },
    /// The partner disconnected the installation.
    #[error(
        "installation {id} was disconnected (its tokens were revoked at Datadog); the customer must connect the integration again from its tile to use it"
    )]
    Disconnected {
        /// The installation.
        id: InstallationId,
    },
    /// A newer installation of the same org took this one's place.
    #[error(
        "installation {id} was replaced by {by}, a newer installation of the same org: use that one"
    )]
    Replaced {
        /// The installation.
        id: InstallationId,
        /// The one that replaced it.
        by: InstallationId,
    },
    /// Datadog failed on every attempt, and one attempt may have reached it (a 502 or 504, a
    /// time-out, a connection cut after sending): the refresh token may have been spent. The
    /// journal mark stays on the installation; the next call refreshes again, and if Datadog
    /// then refuses the stored refresh token the installation is reported revoked with this
    /// cause.
    #[error(
        "Datadog's token endpoint failed {attempts} time(s) for installation {id}: {source}. One attempt may have reached Datadog and rotated the refresh token, whose answer was lost; the installation stays marked as refreshing. Retry later: if Datadog then refuses the stored refresh token, the customer must connect again from the tile"
    )]
    InDoubt {
        /// The installation.
        id: InstallationId,
        /// Token requests made.
        attempts: u32,
        /// The last failure.
        #[source]
        source: Arc<Error>,
    },
    /// Datadog failed transiently on every attempt, and each answer was definite: the refresh
    /// token is unchanged.
    #[error(
        "Datadog's token endpoint failed {attempts} time(s) for installation {id}: {source}. The installation is intact; retry later"
    )]
    Unavailable {
        /// The installation.
        id: InstallationId,
        /// Token requests made.
        attempts: u32,
        /// The last failure.
        #[source]
        source: Arc<Error>,
    },
    /// Datadog refused the refresh for another reason than the grant (wrong client secret, an
    /// answer this SDK does not understand).
    #[error("the refresh of installation {id} failed: {source}")]
    Refresh {
        /// The installation.
        id: InstallationId,
        /// What Datadog answered.
        #[source]
        source: Arc<Error>,
    },
    /// The store failed before anything was sent to Datadog.
    #[error(
        "the installation store failed for installation {id}: {source}. Nothing was changed; retry"
    )]
    Store {
        /// The installation.
        id: InstallationId,
        /// The store's error.
        #[source]
        source: Arc<StoreError>,
    },
    /// Datadog rotated the tokens but the store failed on every write: the newest refresh token
    /// was not kept.
    #[error(
        "Datadog rotated the tokens of installation {id}, but the store failed to keep them ({source}). Under strict rotation the installation can no longer be refreshed: the next refresh will mark it as needing re-authorization; check the store"
    )]
    NotStored {
        /// The installation.
        id: InstallationId,
        /// The store's last error.
        #[source]
        source: Arc<StoreError>,
    },
    /// Another replica held the refresh lease for too long.
    #[error(
        "another replica has been refreshing installation {id} for {}s without storing a token; retry (its lease expires after TokenSettings::lease)", waited.as_secs()
    )]
    Busy {
        /// The installation.
        id: InstallationId,
        /// How long this caller waited.
        waited: Duration,
    },
    /// The refresh task ended abnormally (a panic, or the runtime shutting down).
    #[error(
        "the refresh of installation {id} was interrupted (the task panicked or the runtime is shutting down); retry"
    )]
    Interrupted {
        /// The installation.
        id: InstallationId,
    },
}

impl TokenError {
    /// True when the same call may succeed later: Datadog or the store failing, another replica
    /// busy. Never true when the customer must act.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TokenError::Unavailable { .. }
                | TokenError::InDoubt { .. }
                | TokenError::Store { .. }
                | TokenError::Busy { .. }
                | TokenError::Interrupted { .. }
        )
    }

    /// True when only the customer connecting again (from the tile) makes the installation
    /// usable.
    pub fn needs_reauthorization(&self) -> bool {
        matches!(
            self,
            TokenError::ReauthorizationRequired { .. } | TokenError::Disconnected { .. }
        )
    }
}

/// Why a disconnect did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectError {
    /// The installation is not in the store.
    #[error("no installation {0}")]
    NotFound(InstallationId),
    /// A newer installation of the org replaced it: disconnect that one.
    #[error("installation {id} was replaced by {by}; disconnect that one")]
    Replaced {
        /// The installation.
        id: InstallationId,
        /// The newer one.
        by: InstallationId,
    },
    /// Datadog did not confirm the revocation; nothing was changed in the store.
    #[error(
        "Datadog did not revoke the tokens of installation {id} ({source}); the installation is unchanged: retry the disconnect"
    )]
    Revoke {
        /// The installation.
        id: InstallationId,
        /// What Datadog answered.
        #[source]
        source: Error,
    },
    /// The store failed (the tokens may already be revoked at Datadog; retrying is safe).
    #[error("the installation store failed for installation {id}: {source}; retry the disconnect")]
    Store {
        /// The installation.
        id: InstallationId,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// Another replica held the refresh lease for too long.
    #[error("another replica is refreshing installation {0}; retry the disconnect")]
    Busy(InstallationId),
    /// The disconnect task ended abnormally.
    #[error("the disconnect of installation {0} was interrupted; retry it")]
    Interrupted(InstallationId),
}

/// What a disconnect did, and what the customer must still do in Datadog.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Disconnected {
    /// The installation as now stored ([`InstallationStatus::Removed`]).
    pub installation: Installation,
    /// What only the customer can do; tell them.
    pub customer_steps: Vec<CustomerStep>,
}

/// Something only the customer can do in Datadog after a disconnect.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CustomerStep {
    /// Revoke the marketplace API key: revoking the OAuth tokens does not delete it, it can still
    /// send data, and Datadog creates no second one for a reinstall while it exists.
    RevokeApiKey {
        /// The key as Datadog shows it (`…abcd`), when the installation holds it.
        masked_key: Option<String>,
        /// The key's name in Datadog, when known.
        name: Option<String>,
    },
}

impl fmt::Display for CustomerStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerStep::RevokeApiKey { masked_key, name } => {
                f.write_str("In Datadog, open Organization Settings > API Keys and revoke ")?;
                match (name, masked_key) {
                    (Some(name), Some(key)) => write!(f, "the key \"{name}\" (ending {key})")?,
                    (None, Some(key)) => write!(f, "the key ending {key}")?,
                    (Some(name), None) => write!(f, "the key \"{name}\"")?,
                    (None, None) => f.write_str(
                        "the key named after this integration's OAuth client (\"... OAuth Client API Key ...\"), if there is one",
                    )?,
                }
                f.write_str(": disconnecting revoked the OAuth tokens but not this key, which can still send data")
            }
        }
    }
}

/// Access tokens for every installation of one integration, kept fresh. Cheap to clone; use one
/// per process (the [`Installer`](crate::Installer) has one).
#[derive(Clone)]
pub struct Tokens {
    inner: Arc<Inner>,
}

struct Inner {
    oauth: OAuthClient,
    store: Arc<dyn InstallationStore>,
    hooks: Arc<dyn Hooks>,
    settings: TokenSettings,
    /// This process's name on refresh leases; each refresh adds its own number.
    holder: String,
    refreshes: AtomicU64,
    cache: RwLock<HashMap<InstallationId, Arc<Entry>>>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("holder", &self.inner.holder)
            .field("settings", &self.inner.settings)
            .field("cached", &read(&self.inner.cache).len())
            .finish_non_exhaustive()
    }
}

/// Builds [`Tokens`].
#[must_use]
pub struct TokensBuilder {
    oauth: OAuthClient,
    store: Arc<dyn InstallationStore>,
    hooks: Arc<dyn Hooks>,
    settings: TokenSettings,
}

impl fmt::Debug for TokensBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokensBuilder")
            .field("oauth", &self.oauth)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TokensBuilder {
    /// The partner's hooks ([`Hooks::revoked`] is called when an installation is found
    /// revoked).
    pub fn hooks(mut self, hooks: Arc<dyn Hooks>) -> TokensBuilder {
        self.hooks = hooks;
        self
    }

    /// Leeway, lease and retries.
    pub fn settings(mut self, settings: TokenSettings) -> TokensBuilder {
        self.settings = settings;
        self
    }

    /// Builds the manager.
    pub fn build(self) -> Tokens {
        let mut tag = [0u8; 6];
        // Only for telling lease holders apart; the process id does that if randomness fails.
        let _ = getrandom::fill(&mut tag);
        let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        Tokens {
            inner: Arc::new(Inner {
                oauth: self.oauth,
                store: self.store,
                hooks: self.hooks,
                settings: self.settings,
                holder: format!("pid{}-{tag}", std::process::id()),
                refreshes: AtomicU64::new(0),
                cache: RwLock::new(HashMap::new()),
            }),
        }
    }
}

/// One installation's tokens, as seen by this process. Cheap to clone; keep it, or get it again
/// from [`Tokens::installation`] (a map look-up).
#[derive(Clone)]
pub struct InstallationHandle {
    tokens: Tokens,
    entry: Arc<Entry>,
}

impl fmt::Debug for InstallationHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstallationHandle")
            .field("id", &self.entry.id)
            .finish_non_exhaustive()
    }
}

/// What the process knows of one installation, and its single-flight lock.
struct Entry {
    id: InstallationId,
    view: RwLock<View>,
    /// Bumped when a refresh ends; a caller that waited across a bump takes that refresh's
    /// outcome instead of starting another.
    refreshes_done: AtomicU64,
    /// The single-flight lock, holding the last refresh's error (`None` after a success, whose
    /// token is in the view).
    flight: Arc<tokio::sync::Mutex<Option<TokenError>>>,
}

struct View {
    /// The access token to hand out while `now < fresh_until`.
    token: Option<AccessToken>,
    fresh_until: SystemTime,
    /// A token Datadog answered 401 to: never handed out again, even if the store still has it.
    rejected: Option<AccessToken>,
    /// Why the installation can no longer be used: every call fails fast with it.
    dead: Option<Box<TokenError>>,
}

impl Entry {
    fn new(id: InstallationId) -> Entry {
        Entry {
            id,
            view: RwLock::new(View {
                token: None,
                fresh_until: UNIX_EPOCH,
                rejected: None,
                dead: None,
            }),
            refreshes_done: AtomicU64::new(0),
            flight: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// The answer that needs no I/O: a fresh token, or why there will never be one.
    fn cached(&self, now: SystemTime) -> Option<Result<AccessToken, TokenError>> {
        let view = read(&self.view);
        if let Some(dead) = &view.dead {
            return Some(Err(TokenError::clone(dead)));
        }
        match &view.token {
            Some(token) if now < view.fresh_until => Some(Ok(token.clone())),
            _ => None,
        }
    }

    /// The token the last refresh produced or kept, fresh or not: what callers that waited for
    /// that refresh get.
    fn latest(&self) -> Option<Result<AccessToken, TokenError>> {
        let view = read(&self.view);
        if let Some(dead) = &view.dead {
            return Some(Err(TokenError::clone(dead)));
        }
        view.token.clone().map(Ok)
    }

    fn keep(&self, token: &AccessToken, fresh_until: SystemTime) {
        let mut view = write(&self.view);
        view.token = Some(token.clone());
        view.fresh_until = fresh_until;
    }

    fn kill(&self, error: TokenError) -> TokenError {
        let mut view = write(&self.view);
        view.token = None;
        view.dead = Some(Box::new(error.clone()));
        error
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // Every write is a few assignments that cannot panic half-way: a poisoned lock is consistent.
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl InstallationHandle {
    /// The installation's id.
    pub fn id(&self) -> &InstallationId {
        &self.entry.id
    }

    /// A valid access token, refreshed if needed (see the [module docs](self)).
    ///
    /// Costs no I/O while the cached token is inside its life minus the leeway, or once the
    /// installation is known to be unusable.
    ///
    /// # Errors
    /// [`TokenError::needs_reauthorization`] errors when only the customer can fix it,
    /// [`TokenError::is_transient`] ones when retrying later may succeed.
    pub async fn access_token(&self) -> Result<AccessToken, TokenError> {
        if let Some(answer) = self.entry.cached(SystemTime::now()) {
            return answer;
        }
        self.tokens.refresh(&self.entry).await
    }

    /// Tells the SDK that Datadog answered 401 to `token`: it is not handed out again, and if it
    /// is the current one, the next [`access_token`](Self::access_token) refreshes (which detects
    /// a revoked grant at once). A late 401 for an older token forces no second refresh.
    pub fn invalidate(&self, token: &AccessToken) {
        let mut view = write(&self.entry.view);
        if view.token.as_ref() == Some(token) {
            view.token = None;
            view.fresh_until = UNIX_EPOCH;
        }
        view.rejected = Some(token.clone());
    }
}

impl Tokens {
    /// A manager for the installations in `store`, refreshing through `oauth`.
    pub fn builder(oauth: OAuthClient, store: Arc<dyn InstallationStore>) -> TokensBuilder {
        TokensBuilder {
            oauth,
            store,
            hooks: Arc::new(NoHooks),
            settings: TokenSettings::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &TokenSettings {
        &self.inner.settings
    }

    /// The handle of an installation (no I/O; the store is read at the first call that needs
    /// it).
    pub fn installation(&self, id: &InstallationId) -> InstallationHandle {
        InstallationHandle {
            tokens: self.clone(),
            entry: self.entry(id),
        }
    }

    /// Shorthand for `self.installation(id).access_token()`.
    ///
    /// # Errors
    /// As [`InstallationHandle::access_token`].
    pub async fn access_token(&self, id: &InstallationId) -> Result<AccessToken, TokenError> {
        let entry = self.entry(id);
        if let Some(answer) = entry.cached(SystemTime::now()) {
            return answer;
        }
        self.refresh(&entry).await
    }

    /// Caches what a stored installation says (a fresh token, or that it is unusable), so that
    /// the first calls after a start need no store read. Nothing is cached for a token inside the
    /// leeway.
    pub fn warm(&self, installation: &Installation) {
        let entry = self.entry(&installation.id);
        // A failure is remembered by `observe` itself; warming has no caller to report it to.
        if self.observe(&entry, installation).is_ok() {
            self.usable(&entry, installation);
        }
    }

    /// Drops what this process remembers of an installation (after deleting it, say).
    pub fn forget(&self, id: &InstallationId) {
        write(&self.inner.cache).remove(id);
    }

    fn entry(&self, id: &InstallationId) -> Arc<Entry> {
        if let Some(entry) = read(&self.inner.cache).get(id) {
            return Arc::clone(entry);
        }
        let mut cache = write(&self.inner.cache);
        Arc::clone(
            cache
                .entry(id.clone())
                .or_insert_with(|| Arc::new(Entry::new(id.clone()))),
        )
    }

    /// The slow path: one refresh at a time per installation in this process, its outcome
    /// shared with whoever waited for it.
    async fn refresh(&self, entry: &Arc<Entry>) -> Result<AccessToken, TokenError> {
        let seen = entry.refreshes_done.load(Ordering::Acquire);
        let mut flight = Arc::clone(&entry.flight).lock_owned().await;
        if let Some(answer) = entry.cached(SystemTime::now()) {
            return answer;
        }
        if entry.refreshes_done.load(Ordering::Acquire) != seen {
            // A refresh ended while this caller waited: its outcome is this caller's too.
            if let Some(error) = flight.as_ref() {
                return Err(error.clone());
            }
            if let Some(answer) = entry.latest() {
                return answer;
            }
        }
        let span = tracing::info_span!(
            "datadog.tokens.refresh",
            installation = %entry.id,
            site = Empty,
            domain = Empty
        );
        let tokens = self.clone();
        let entry = Arc::clone(entry);
        let id = entry.id.clone();
        // Its own task: a caller that stops waiting (a cancelled request) must not stop a
        // refresh between Datadog's answer and the store write. The task holds the flight lock
        // until it has published its outcome.
        let task = tokio::spawn(
            async move {
                let outcome = tokens.obtain(&entry).await;
                *flight = outcome.as_ref().err().cloned();
                entry.refreshes_done.fetch_add(1, Ordering::Release);
                drop(flight);
                outcome
            }
            .instrument(span),
        );
        task.await
            .unwrap_or_else(|_| Err(TokenError::Interrupted { id }))
    }

    /// A fresh token from the store, or from a refresh under the lease.
    async fn obtain(&self, entry: &Entry) -> Result<AccessToken, TokenError> {
        let settings = &self.inner.settings;
        let holder = self.lease_holder();
        let started = tokio::time::Instant::now();
        let mut installation = self.load(entry).await?;
        let span = tracing::Span::current();
        span.record("site", tracing::field::display(&installation.site));
        span.record("domain", tracing::field::display(installation.domain));
        let mut next_try = started;
        loop {
            if let Some(token) = self.usable(entry, &installation) {
                return Ok(token);
            }
            let waited = started.elapsed();
            if waited >= settings.lease * 2 {
                return Err(TokenError::Busy {
                    id: entry.id.clone(),
                    waited,
                });
            }
            // While the journal mark shows a refresh under way, waiting is reading: the lease is
            // tried again only now and then, in case its holder died. (A lease attempt is a
            // write, and SQLite has one writer.)
            let now = tokio::time::Instant::now();
            if !installation.refresh_interrupted() || now >= next_try {
                next_try = now + settings.lease / 8;
                if self.take_lease(&entry.id, &holder).await? {
                    let outcome = self.refresh_leased(entry, &holder).await;
                    self.release_lease(&entry.id, &holder).await;
                    if let Some(token) = outcome? {
                        return Ok(token);
                    }
                    installation = self.load(entry).await?;
                    continue;
                }
            }
            tokio::time::sleep(jittered(settings.poll)).await;
            installation = self.load(entry).await?;
        }
    }

    /// Holding the lease: re-read, journal, refresh, store. `Ok(None)` when another replica
    /// changed the installation meanwhile and the caller should look again.
    async fn refresh_leased(
        &self,
        entry: &Entry,
        holder: &str,
    ) -> Result<Option<AccessToken>, TokenError> {
        let settings = &self.inner.settings;
        // Re-read under the lease: another replica may have refreshed since the last read.
        let mut current = self.load(entry).await?;
        if let Some(token) = self.usable(entry, &current) {
            return Ok(Some(token));
        }
        // A journal mark left by an earlier refresh means the stored refresh token may have been
        // spent by it.
        let inherited = current.refresh_interrupted();
        let previous = (!inherited).then(|| {
            (
                current.access_token.clone(),
                current.access_token_expires_at,
            )
        });
        if !self.journal(&mut current).await? {
            return Ok(None);
        }
        let spent = current.refresh_token.clone();
        let mut doubt = inherited.then_some(RevocationCause::Interrupted);
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 && !self.take_lease(&entry.id, holder).await? {
                // The lease lapsed during the backoff and another replica took it.
                return Ok(None);
            }
            let error = match self.inner.oauth.refresh(current.domain, &spent).await {
                Ok(grant) => {
                    return self
                        .store_grant(entry, current, &spent, grant, holder)
                        .await;
                }
                Err(e) if e.is_invalid_grant() => {
                    return self.refused(entry, &spent, doubt, &e).await;
                }
                Err(e) => e,
            };
            if may_have_rotated(&error) {
                doubt = Some(RevocationCause::AnswerLost);
            }
            let wait = self
                .inner
                .settings
                .wait_before(attempt, error.retry_after());
            match wait {
                Some(wait) if error.is_transient() && attempt < settings.attempts => {
                    tracing::warn!(attempt, error = %error, wait_ms = wait.as_millis() as u64, "refresh failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    tracing::error!(attempt, error = %error, "refresh failed");
                    if doubt.is_none() {
                        // Every answer was definite: the refresh token was not spent. Undo the
                        // journal mark so it does not suggest otherwise.
                        self.unjournal(&current, previous.as_ref()).await;
                    }
                    let id = entry.id.clone();
                    let source = Arc::new(error);
                    let failure = if source.is_transient() && doubt.is_some() {
                        TokenError::InDoubt {
                            id,
                            attempts: attempt,
                            source,
                        }
                    } else if source.is_transient() {
                        TokenError::Unavailable {
                            id,
                            attempts: attempt,
                            source,
                        }
                    } else {
                        TokenError::Refresh { id, source }
                    };
                    return self.fallback(entry, previous, failure).map(Some);
                }
            }
        }
    }

    /// Writes the journal mark (compare and swap). False when the installation changed since it
    /// was read.
    async fn journal(&self, current: &mut Installation) -> Result<bool, TokenError> {
        let started = SystemTime::now();
        let mark = TokenUpdate {
            access_token: current.access_token.clone(),
            access_token_expires_at: current.access_token_expires_at,
            refresh_token: current.refresh_token.clone(),
            granted_scopes: None,
            refresh_started_at: Some(started),
        };
        match self
            .inner
            .store
            .update_tokens(&current.id, current.version, &mark)
            .await
        {
            Ok(version) => {
                current.version = version;
                current.refresh_started_at = Some(started);
                Ok(true)
            }
            Err(StoreError::Conflict { .. }) => Ok(false),
            Err(e) => Err(self.store_error(&current.id, e)),
        }
    }

    /// Restores the real expiry after a refresh that certainly did not spend the token.
    async fn unjournal(
        &self,
        current: &Installation,
        previous: Option<&(AccessToken, SystemTime)>,
    ) {
        let Some((access_token, expires_at)) = previous else {
            return;
        };
        let restore = TokenUpdate {
            access_token: access_token.clone(),
            access_token_expires_at: *expires_at,
            refresh_token: current.refresh_token.clone(),
            granted_scopes: None,
            refresh_started_at: None,
        };
        if let Err(e) = self
            .inner
            .store
            .update_tokens(&current.id, current.version, &restore)
            .await
        {
            tracing::debug!(error = %e, "could not clear the journal mark");
        }
    }

    /// After every attempt failed: the current access token if it is still good for a while,
    /// else the failure.
    fn fallback(
        &self,
        entry: &Entry,
        previous: Option<(AccessToken, SystemTime)>,
        failure: TokenError,
    ) -> Result<AccessToken, TokenError> {
        let now = SystemTime::now();
        let rejected = read(&entry.view).rejected.clone();
        match previous {
            Some((token, expires_at))
                if expires_at > now + FALLBACK_MARGIN && rejected.as_ref() != Some(&token) =>
            {
                // Try again after a backoff, not at every call; never past the token's life.
                let retry_at =
                    (now + self.inner.settings.max_backoff).min(expires_at - FALLBACK_MARGIN);
                entry.keep(&token, retry_at);
                tracing::warn!(error = %failure, "refresh failed; the current access token is still valid and stays in use");
                Ok(token)
            }
            _ => Err(failure),
        }
    }

    /// Makes a grant durable, then hands out its access token.
    async fn store_grant(
        &self,
        entry: &Entry,
        mut current: Installation,
        spent: &RefreshToken,
        grant: TokenGrant,
        holder: &str,
    ) -> Result<Option<AccessToken>, TokenError> {
        let update = TokenUpdate {
            access_token: grant.access_token,
            access_token_expires_at: grant.expires_at,
            // Datadog rotates on every refresh; keep the old one only if the answer had none.
            refresh_token: grant.refresh_token.unwrap_or_else(|| spent.clone()),
            granted_scopes: grant.scopes,
            refresh_started_at: None,
        };
        let store = &self.inner.store;
        let mut delay = self.inner.settings.backoff;
        let mut last_error = None;
        for attempt in 1..=WRITE_ATTEMPTS {
            match store
                .update_tokens(&entry.id, current.version, &update)
                .await
            {
                Ok(_) => {
                    write(&entry.view).rejected = None;
                    entry.keep(
                        &update.access_token,
                        self.fresh_until(update.access_token_expires_at),
                    );
                    tracing::info!(
                        expires_in_s = update
                            .access_token_expires_at
                            .duration_since(SystemTime::now())
                            .map_or(0, |d| d.as_secs()),
                        "tokens refreshed and stored"
                    );
                    if update.access_token.expose_secret().is_empty() {
                        // The answer held a rotated refresh token and no access token: the
                        // refresh token is stored; look again (the next round refreshes).
                        return Ok(None);
                    }
                    return Ok(Some(update.access_token));
                }
                Err(StoreError::Conflict { .. }) => match store.get(&entry.id).await {
                    // Still our refresh token: something else (the API key, the status) bumped
                    // the version. Ours are the newest tokens: write them on the new version.
                    Ok(Some(now)) if now.refresh_token == *spent => {
                        current = now;
                        continue;
                    }
                    Ok(Some(_)) => {
                        // Our lease lapsed and another replica stored newer tokens: theirs are
                        // durable and win; ours are dropped unused.
                        tracing::warn!(
                            "another replica stored newer tokens during this refresh (the lease lapsed); using theirs"
                        );
                        return Ok(None);
                    }
                    Ok(None) => {
                        return Err(self.deleted_meanwhile(entry, current.domain, &update).await);
                    }
                    Err(e) => last_error = Some(e),
                },
                Err(StoreError::NotFound(_)) => {
                    return Err(self.deleted_meanwhile(entry, current.domain, &update).await);
                }
                Err(e) => last_error = Some(e),
            }
            if let Some(e) = &last_error {
                tracing::error!(attempt, error = %e, "storing the rotated tokens failed; retrying");
            }
            tokio::time::sleep(jittered(delay)).await;
            delay = (delay * 2).min(self.inner.settings.max_backoff);
            // Keep others off the old (now spent) token while retrying; the outcome is the same
            // if the lease was lost.
            let _ = self.take_lease(&entry.id, holder).await;
        }
        let source = Arc::new(
            last_error
                .unwrap_or_else(|| StoreError::Backend("the write kept conflicting".to_owned())),
        );
        tracing::error!(error = %source, "the rotated tokens could not be stored");
        Err(TokenError::NotStored {
            id: entry.id.clone(),
            source,
        })
    }

    /// The installation was deleted while its tokens were being refreshed: end the new grant
    /// rather than leave it live with no record.
    async fn deleted_meanwhile(
        &self,
        entry: &Entry,
        domain: crate::site::Domain,
        update: &TokenUpdate,
    ) -> TokenError {
        tracing::warn!("installation deleted during a refresh; revoking the new tokens");
        if let Err(e) = self
            .inner
            .oauth
            .revoke_refresh_token(domain, &update.refresh_token)
            .await
        {
            tracing::warn!(error = %e, "could not revoke the orphaned refresh token");
        }
        entry.kill(TokenError::NotFound {
            id: entry.id.clone(),
        })
    }

    /// Datadog answered `invalid_grant` to `spent`.
    async fn refused(
        &self,
        entry: &Entry,
        spent: &RefreshToken,
        doubt: Option<RevocationCause>,
        error: &Error,
    ) -> Result<Option<AccessToken>, TokenError> {
        // Read again first: a rotation by another replica is not a revocation.
        let now = match self.inner.store.get(&entry.id).await {
            Ok(Some(now)) => now,
            Ok(None) => {
                return Err(entry.kill(TokenError::NotFound {
                    id: entry.id.clone(),
                }));
            }
            Err(e) => return Err(self.store_error(&entry.id, e)),
        };
        if now.refresh_token != *spent {
            tracing::info!("the refresh token was rotated by another replica; using its tokens");
            return Ok(None);
        }
        // Disconnected or replaced meanwhile: that is the answer, not a revocation.
        self.observe(entry, &now)?;
        let detail = match error {
            Error::InvalidGrant {
                description: Some(d),
                ..
            } => Some(d.clone()),
            _ => None,
        };
        let revocation = Revocation::new(doubt.unwrap_or(RevocationCause::Refused), detail);
        Err(self.mark_revoked(entry, now, revocation).await)
    }

    async fn mark_revoked(
        &self,
        entry: &Entry,
        mut installation: Installation,
        revocation: Revocation,
    ) -> TokenError {
        let status = InstallationStatus::Revoked(revocation.clone());
        let mut delay = self.inner.settings.backoff;
        for attempt in 1..=3 {
            match self.inner.store.set_status(&entry.id, &status).await {
                Ok(()) => break,
                Err(e) => {
                    // The process still fails fast; another replica will mark it when refused.
                    tracing::error!(attempt, error = %e, "could not mark the installation revoked");
                    tokio::time::sleep(jittered(delay)).await;
                    delay *= 2;
                }
            }
        }
        installation.status = status;
        tracing::warn!(
            installation = %entry.id,
            domain = %installation.domain,
            cause = revocation.cause.code(),
            reason = %revocation,
            "installation needs re-authorization"
        );
        let error = entry.kill(TokenError::ReauthorizationRequired {
            id: entry.id.clone(),
            revocation: revocation.clone(),
        });
        self.inner.hooks.revoked(&installation, &revocation).await;
        error
    }

    /// Reads the installation and remembers what it says.
    async fn load(&self, entry: &Entry) -> Result<Installation, TokenError> {
        let installation = match self.inner.store.get(&entry.id).await {
            Ok(Some(installation)) => installation,
            Ok(None) => {
                return Err(TokenError::NotFound {
                    id: entry.id.clone(),
                });
            }
            Err(e) => return Err(self.store_error(&entry.id, e)),
        };
        self.observe(entry, &installation)?;
        Ok(installation)
    }

    /// Fails fast from now on if the installation is no longer usable.
    fn observe(&self, entry: &Entry, installation: &Installation) -> Result<(), TokenError> {
        let id = entry.id.clone();
        let dead = match &installation.status {
            InstallationStatus::Active => return Ok(()),
            InstallationStatus::Revoked(revocation) => TokenError::ReauthorizationRequired {
                id,
                revocation: revocation.clone(),
            },
            InstallationStatus::Removed => TokenError::Disconnected { id },
            InstallationStatus::Replaced { by } => TokenError::Replaced { id, by: by.clone() },
        };
        Err(entry.kill(dead))
    }

    /// The stored token, cached, if it is fresh and Datadog has not rejected it.
    fn usable(&self, entry: &Entry, installation: &Installation) -> Option<AccessToken> {
        let fresh_until = self.fresh_until(installation.access_token_expires_at);
        // A refresh under way (or interrupted) may have rotated the tokens at Datadog: its
        // holder's answer, not the stored token, is what to use.
        if installation.refresh_interrupted()
            || SystemTime::now() >= fresh_until
            || read(&entry.view).rejected.as_ref() == Some(&installation.access_token)
        {
            return None;
        }
        entry.keep(&installation.access_token, fresh_until);
        Some(installation.access_token.clone())
    }

    fn fresh_until(&self, expires_at: SystemTime) -> SystemTime {
        expires_at
            .checked_sub(self.inner.settings.leeway)
            .unwrap_or(UNIX_EPOCH)
    }

    fn lease_holder(&self) -> String {
        let n = self.inner.refreshes.fetch_add(1, Ordering::Relaxed);
        format!("{}#{n}", self.inner.holder)
    }

    async fn take_lease(&self, id: &InstallationId, holder: &str) -> Result<bool, TokenError> {
        let until = SystemTime::now() + self.inner.settings.lease;
        self.inner
            .store
            .acquire_refresh_lease(id, holder, until)
            .await
            .map_err(|e| self.store_error(id, e))
    }

    async fn release_lease(&self, id: &InstallationId, holder: &str) {
        // An unreleased lease only delays other replicas until it expires.
        if let Err(e) = self.inner.store.release_refresh_lease(id, holder).await {
            tracing::warn!(error = %e, "could not release the refresh lease");
        }
    }

    fn store_error(&self, id: &InstallationId, error: StoreError) -> TokenError {
        match error {
            StoreError::NotFound(_) => TokenError::NotFound { id: id.clone() },
            other => TokenError::Store {
                id: id.clone(),
                source: Arc::new(other),
            },
        }
    }

    // -- disconnect -------------------------------------------------------------------------

    /// Disconnects an installation from the partner's side: revokes its refresh token at
    /// Datadog (which ends the grant; the access token is revoked too), marks it
    /// [`InstallationStatus::Removed`], and says what the customer must still do in Datadog
    /// (revoke the marketplace API key, which revoking tokens does not delete).
    ///
    /// Safe to repeat. The same org installing again later gets a new installation.
    ///
    /// # Errors
    /// See [`DisconnectError`]; on every error the installation is left as it was, or revoked
    /// at Datadog but still stored as it was (repeat the call).
    pub async fn disconnect(&self, id: &InstallationId) -> Result<Disconnected, DisconnectError> {
        let entry = self.entry(id);
        // No refresh of this process runs meanwhile (the flight lock), nor of another (the
        // lease): a rotation between the read and the revocation would leave a live grant.
        let flight = Arc::clone(&entry.flight).lock_owned().await;
        let span = tracing::info_span!(
            "datadog.tokens.disconnect",
            installation = %id,
            site = Empty,
            domain = Empty
        );
        let tokens = self.clone();
        let task = tokio::spawn(
            async move {
                let outcome = tokens.disconnect_locked(&entry).await;
                drop(flight);
                outcome
            }
            .instrument(span),
        );
        task.await
            .unwrap_or_else(|_| Err(DisconnectError::Interrupted(id.clone())))
    }

    async fn disconnect_locked(&self, entry: &Entry) -> Result<Disconnected, DisconnectError> {
        let id = &entry.id;
        let holder = self.lease_holder();
        let started = tokio::time::Instant::now();
        let store_failed = |e: TokenError| match e {
            TokenError::NotFound { id } => DisconnectError::NotFound(id),
            TokenError::Store { id, source } => DisconnectError::Store {
                id,
                source: Arc::try_unwrap(source)
                    .unwrap_or_else(|shared| StoreError::Backend(shared.to_string())),
            },
            _ => DisconnectError::Busy(id.clone()),
        };
        while !self.take_lease(id, &holder).await.map_err(store_failed)? {
            if started.elapsed() >= self.inner.settings.lease * 2 {
                return Err(DisconnectError::Busy(id.clone()));
            }
            tokio::time::sleep(jittered(self.inner.settings.poll)).await;
        }
        let outcome = self.revoke_and_remove(entry).await;
        self.release_lease(id, &holder).await;
        outcome
    }

    async fn revoke_and_remove(&self, entry: &Entry) -> Result<Disconnected, DisconnectError> {
        let id = &entry.id;
        let store = &self.inner.store;
        let store_error = |source| DisconnectError::Store {
            id: id.clone(),
            source,
        };
        let mut installation = store
            .get(id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| DisconnectError::NotFound(id.clone()))?;
        let span = tracing::Span::current();
        span.record("site", tracing::field::display(&installation.site));
        span.record("domain", tracing::field::display(installation.domain));
        if let InstallationStatus::Replaced { by } = &installation.status {
            return Err(DisconnectError::Replaced {
                id: id.clone(),
                by: by.clone(),
            });
        }
        let oauth = &self.inner.oauth;
        let domain = installation.domain;
        // RFC 7009: an unknown or already revoked token is answered 200 too, so repeating a
        // disconnect (or disconnecting a revoked installation) is harmless.
        let refresh_token = installation.refresh_token.clone();
        self.with_retries(|| oauth.revoke_refresh_token(domain, &refresh_token))
            .await
            .map_err(|source| DisconnectError::Revoke {
                id: id.clone(),
                source,
            })?;
        // Revoking the refresh token ends the grant; the access token too, for servers that do
        // not tie them together.
        if let Err(e) = oauth
            .revoke_access_token(domain, &installation.access_token)
            .await
        {
            tracing::warn!(error = %e, "revoking the access token failed (its grant is revoked)");
        }
        store
            .set_status(id, &InstallationStatus::Removed)
            .await
            .map_err(store_error)?;
        installation.status = InstallationStatus::Removed;
        entry.kill(TokenError::Disconnected { id: id.clone() });
        let customer_steps = remaining_steps(&installation);
        tracing::info!(steps = customer_steps.len(), "installation disconnected");
        Ok(Disconnected {
            installation,
            customer_steps,
        })
    }

    async fn with_retries<F, Fut>(&self, mut call: F) -> Result<(), Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), Error>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call().await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_transient() && attempt < self.inner.settings.attempts => {
                    match self.inner.settings.wait_before(attempt, e.retry_after()) {
                        Some(wait) => {
                            tracing::warn!(attempt, error = %e, "retrying");
                            tokio::time::sleep(wait).await;
                        }
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// What the customer must still do after a disconnect.
fn remaining_steps(installation: &Installation) -> Vec<CustomerStep> {
    // A key may exist even if none is stored (a 409 at install, a lost answer).
    let may_have_key = installation.api_key.is_some()
        || installation.granted_scopes.contains(&Scope::API_KEYS_WRITE);
    if !may_have_key {
        return Vec::new();
    }
    vec![CustomerStep::RevokeApiKey {
        masked_key: installation.api_key.as_ref().map(|k| k.key.masked()),
        name: installation.api_key.as_ref().and_then(|k| k.name.clone()),
    }]
}

/// Whether Datadog may have processed (and so rotated) a refresh whose answer was `error`.
fn may_have_rotated(error: &Error) -> bool {
    error.may_have_been_processed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_honours_a_short_rate_limit_reset() {
        let settings = TokenSettings::default()
            .backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(1));
        let within = |attempt, low: u64, high: u64| {
            let wait = settings.wait_before(attempt, None).unwrap();
            assert!(
                wait >= Duration::from_millis(low) && wait <= Duration::from_millis(high),
                "attempt {attempt}: {wait:?}"
            );
        };
        within(1, 50, 100);
        within(2, 100, 200);
        within(3, 200, 400);
        within(10, 500, 1000);
        within(u32::MAX, 500, 1000);
        let reset = settings
            .wait_before(1, Some(Duration::from_millis(800)))
            .unwrap();
        assert!(reset >= Duration::from_millis(800), "{reset:?}");
        assert_eq!(settings.wait_before(1, Some(Duration::from_secs(30))), None);
    }

    #[test]
    fn only_answers_that_may_hide_a_processed_refresh_count_as_possible_rotations() {
        let op = crate::error::Operation::Refresh;
        let domain = crate::site::Domain::Us1;
        assert!(may_have_rotated(&Error::Timeout {
            operation: op,
            domain
        }));
        assert!(may_have_rotated(&Error::Server {
            operation: op,
            status: 504
        }));
        assert!(may_have_rotated(&Error::UnexpectedResponse {
            operation: op,
            status: 200,
            detail: String::new()
        }));
        assert!(!may_have_rotated(&Error::Server {
            operation: op,
            status: 503
        }));
        assert!(!may_have_rotated(&Error::RateLimited {
            operation: op,
            rate_limit: Default::default()
        }));
        assert!(!may_have_rotated(&Error::InvalidGrant {
            operation: op,
            description: None
        }));
    }

    #[test]
    fn the_customer_step_says_where_and_what() {
        let step = CustomerStep::RevokeApiKey {
            masked_key: Some("…abcd".into()),
            name: Some("Acme OAuth Client API Key 1".into()),
        };
        let text = step.to_string();
        assert!(text.contains("Organization Settings > API Keys"), "{text}");
        assert!(
            text.contains("…abcd") && text.contains("Acme OAuth Client API Key 1"),
            "{text}"
        );
        let unknown = CustomerStep::RevokeApiKey {
            masked_key: None,
            name: None,
        }
        .to_string();
        assert!(unknown.contains("OAuth Client API Key"), "{unknown}");
    }
}
