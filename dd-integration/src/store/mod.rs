//! Where installations and flow claims live.
//!
//! [`InstallationStore`] is the interface every backend implements:
//! - `SqliteStore` (feature `sqlite`, on by default): one file, for one host. Several processes
//!   may share the file.
//! - `PostgresStore` (feature `postgres`): for several replicas behind a load balancer.
//! - [`MemoryStore`]: everything in the process, for tests and single-process development.
//!
//! The SQL backends share one schema and one SQL text, keep every secret (access token, refresh
//! token, API key) sealed with a [`Sealer`](crate::seal::Sealer) under the partner's key, and
//! migrate their schema when they open. A partner's own backend can run the same battery of
//! tests the built-in ones pass: `conformance` (feature `testkit`).
//!
//! # What an install costs the store
//!
//! The OAuth callback of an integration that creates the marketplace key makes three writes:
//! - the flow's claim, not synced: the install's next write, synced, makes it durable with
//!   itself; lost alone in a power cut, it only lets the same authorization code be presented
//!   again, which Datadog refuses;
//! - the installation, with its tokens and the note that its key is being created, synced
//!   before the key is created: after a crash, the installation and the true state of its key
//!   are found, not a flow that never ends;
//! - the key, synced before the customer sees "connected": Datadog shows a marketplace key
//!   only once, when it creates it.
//!
//! Concurrent installs share their syncs: SQLite's writes are committed in groups, and
//! PostgreSQL groups the commits of concurrent connections itself. Still, one install waits for
//! two of the disk's syncs, one after the other, and the disk sets the floor of the callback's
//! time. On a 2-core VM whose two syncs took 0.1-2 ms at the median and 0.6-3.6 ms at the p99
//! (from one run to the next), the SDK's own time in the callback (beside the calls to Datadog)
//! had a p99 of 2-3.5 ms on SQLite. With the files on a RAM disk it was 0.8 ms on SQLite and
//! 0.5 ms on PostgreSQL (`BENCHMARKS.md`, "Installs with the durable stores"). A disk whose
//! sync is fast at the tail (local NVMe, a write cache that survives a power cut) is what
//! brings the callback's time down.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::installation::MarketplaceApiKey;
use crate::installation::{Installation, InstallationId, InstallationStatus, OrgId};
use crate::scope::ScopeSet;
use crate::seal::SealError;
use crate::secret::{AccessToken, RefreshToken};

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "testkit")]
pub mod conformance;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::ResealReport;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// What happened to a claim on a flow (one authorization, identified by its state).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowClaim {
    /// This caller claimed the flow and must finish it.
    Claimed,
    /// Another request claimed it first and is still working on it.
    InProgress,
    /// The flow already ended with this installation.
    Installed(InstallationId),
    /// The flow already ended without an installation.
    Failed,
}

/// A store of installations. Every method is atomic on its own (but `insert_for_flow`'s default:
/// see there).
#[async_trait]
pub trait InstallationStore: Send + Sync + 'static {
    /// Stores a new installation. If it names a `previous` one, that one is marked replaced in
    /// the same step.
    async fn insert(&self, installation: &Installation) -> Result<(), StoreError>;

    /// Stores the installation an install's callback made once it has the tokens, as
    /// [`insert`](Self::insert) does, linked to the installation it replaces, and records it as
    /// the outcome of the flow `flow_id` ([`finish_flow`](Self::finish_flow)).
    ///
    /// The store finds the installation it replaces: when `installation.org_id` is set (an org
    /// Datadog confirmed), the org's current installation ([`find_by_org`](Self::find_by_org)),
    /// if it is on the same Datadog domain. That one is marked replaced, `installation.previous`
    /// is set to it (whatever it was), and it is returned as it was before. Otherwise nothing is
    /// replaced and `previous` becomes `None`.
    ///
    /// On an error nothing is stored and `installation` is left as it was.
    ///
    /// Two installs of one org at the same moment must not both replace its current
    /// installation: one replaces it, the other the first (the conformance battery checks it).
    /// The SQL stores do all of it in one transaction (on PostgreSQL, one statement), so an
    /// install costs one synced write here; the memory store under its one lock. The default
    /// makes the calls one after another, which holds only in a store that runs one write at a
    /// time; a failure to record the flow's outcome then only leaves the claim to expire.
    async fn insert_for_flow(
        &self,
        installation: &mut Installation,
        flow_id: &str,
    ) -> Result<Option<Installation>, StoreError> {
        let replaced = match &installation.org_id {
            Some(org) => self
                .find_by_org(org)
                .await?
                .filter(|current| current.domain == installation.domain),
            None => None,
        };
        let mut stored = installation.clone();
        stored.previous = replaced.as_ref().map(|r| r.id.clone());
        self.insert(&stored).await?;
        installation.previous = stored.previous;
        if let Err(e) = self.finish_flow(flow_id, Some(&installation.id)).await {
            tracing::warn!(error = %e, "could not record the end of a flow");
        }
        Ok(replaced)
    }

    /// The installation with this id.
    async fn get(&self, id: &InstallationId) -> Result<Option<Installation>, StoreError>;

    /// The org's current installation: its newest one that no newer installation replaced,
    /// whatever its status (active, revoked or removed), so that a reinstall can link to it and
    /// keep its API key. `None` if the org never installed. `org_id` is an org id Datadog
    /// confirmed ([`Installation::org_id`]), never the callback's `dd_oid`.
    async fn find_by_org(&self, org_id: &OrgId) -> Result<Option<Installation>, StoreError>;

    /// Every installation, in creation order.
    async fn list(&self) -> Result<Vec<Installation>, StoreError>;

    /// Every installation of an org, whatever its status, in creation order: where an install
    /// looks for the org's API key when Datadog says the org has one. The default reads
    /// [`list`](Self::list); stores with many installations should answer from an index.
    async fn list_by_org(&self, org_id: &OrgId) -> Result<Vec<Installation>, StoreError> {
        let mut all = self.list().await?;
        all.retain(|i| i.org_id.as_ref() == Some(org_id));
        Ok(all)
    }

    /// Records the marketplace API key of an installation, and clears its key journal
    /// ([`Installation::api_key_requested_at`]) in the same write.
    async fn set_api_key(
        &self,
        id: &InstallationId,
        key: &MarketplaceApiKey,
    ) -> Result<(), StoreError>;

    /// Clears the key journal ([`Installation::api_key_requested_at`]) of an installation
    /// whose key request certainly created no key (Datadog refused it, or it was not sent).
    async fn clear_api_key_request(&self, id: &InstallationId) -> Result<(), StoreError>;

    /// Replaces the tokens of an installation if its version is still `expected_version`
    /// (compare and swap), bumping the version. Returns the new version, or
    /// [`StoreError::Conflict`] with the current one when another writer got there first.
    async fn update_tokens(
        &self,
        id: &InstallationId,
        expected_version: u64,
        tokens: &TokenUpdate,
    ) -> Result<u64, StoreError>;

    /// Takes the refresh lease of an installation for `holder` until `until`: true when the
    /// lease was free, expired, or already `holder`'s. While one holder has it, no other
    /// process refreshes that installation.
    async fn acquire_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
        until: SystemTime,
    ) -> Result<bool, StoreError>;

    /// Gives the lease back, if `holder` still has it.
    async fn release_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
    ) -> Result<(), StoreError>;

    /// Sets an installation's status (revoked, removed), bumping its version.
    async fn set_status(
        &self,
        id: &InstallationId,
        status: &InstallationStatus,
    ) -> Result<(), StoreError>;

    /// Deletes an installation; false if there was none.
    async fn delete(&self, id: &InstallationId) -> Result<bool, StoreError>;

    /// Claims the flow `flow_id` for this caller, unless someone did already. Claims are kept
    /// until `expires_at` (after that the flow's cookie has expired too).
    ///
    /// A claim need not wait for the disk (the built-in stores do not: PostgreSQL commits it
    /// with `synchronous_commit = off`, SQLite without its sync unless other writes share the
    /// commit). The install's next write, synced, makes it durable with itself, since both
    /// databases sync their log in order; lost alone in a power failure, it only lets the same
    /// authorization code be presented again, which Datadog refuses: a code is used once.
    async fn claim_flow(
        &self,
        flow_id: &str,
        expires_at: SystemTime,
    ) -> Result<FlowClaim, StoreError>;

    /// Records how a claimed flow ended: `Some(id)` installed, `None` failed.
    async fn finish_flow(
        &self,
        flow_id: &str,
        installed: Option<&InstallationId>,
    ) -> Result<(), StoreError>;
}

/// New tokens from a refresh, written together.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TokenUpdate {
    /// The new access token.
    pub access_token: AccessToken,
    /// When it expires.
    pub access_token_expires_at: SystemTime,
    /// The newest refresh token (the rotated one, or the old one if Datadog sent none).
    pub refresh_token: RefreshToken,
    /// The scopes granted, when the response said.
    pub granted_scopes: Option<ScopeSet>,
    /// The refresh journal to store with them ([`Installation::refresh_started_at`]): set when
    /// a refresh begins, `None` with its outcome.
    pub refresh_started_at: Option<SystemTime>,
}

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The installation does not exist.
    #[error("no installation with id {0}")]
    NotFound(InstallationId),
    /// An installation with this id exists already.
    #[error("an installation with id {0} exists already")]
    Duplicate(InstallationId),
    /// A compare-and-swap lost: the installation changed since it was read.
    #[error("installation {id} changed since it was read (now version {current})")]
    Conflict {
        /// The installation.
        id: InstallationId,
        /// Its current version.
        current: u64,
    },
    /// The backend failed (for backends outside this crate, which have no better variant).
    #[error("the installation store failed: {0}")]
    Backend(String),
    /// The database failed, or could not be reached. The message says what was being done and
    /// what to check; the source is the database driver's error.
    #[error("{context}: {source}")]
    Database {
        /// What the store was doing, and what to check.
        context: String,
        /// The driver's error (it never holds a secret: the database sees only sealed values).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A stored secret did not open: it was sealed under a key that is not configured (add it
    /// as an older key while rotating), or it was altered or moved from another row.
    #[error("the stored {secret} of installation {id} does not open: {source}")]
    Sealed {
        /// The installation.
        id: InstallationId,
        /// Which secret (`access_token`, `refresh_token`, `api_key`).
        secret: &'static str,
        /// Why.
        #[source]
        source: SealError,
    },
    /// A stored record holds a value this version of the SDK does not understand.
    #[error(
        "installation {id} has an unreadable {column} ({detail}); if a newer dd-integration wrote it, upgrade this one"
    )]
    Corrupt {
        /// The installation.
        id: InstallationId,
        /// The column.
        column: &'static str,
        /// What is wrong with it (never a secret).
        detail: String,
    },
    /// The database was migrated by a newer version of the SDK.
    #[error(
        "the database's schema is at version {found}, newer than this dd-integration understands (up to {supported}); upgrade dd-integration on every process that shares the database"
    )]
    SchemaTooNew {
        /// The schema version found.
        found: i64,
        /// The newest version this SDK knows.
        supported: i64,
    },
}

/// A shared store is a store: `Arc<SqliteStore>` or `Arc<dyn InstallationStore>` can be passed
/// wherever a store is expected.
#[async_trait]
impl<T: InstallationStore + ?Sized> InstallationStore for Arc<T> {
    async fn insert(&self, installation: &Installation) -> Result<(), StoreError> {
        (**self).insert(installation).await
    }

    async fn insert_for_flow(
        &self,
        installation: &mut Installation,
        flow_id: &str,
    ) -> Result<Option<Installation>, StoreError> {
        (**self).insert_for_flow(installation, flow_id).await
    }

    async fn get(&self, id: &InstallationId) -> Result<Option<Installation>, StoreError> {
        (**self).get(id).await
    }

    async fn find_by_org(&self, org_id: &OrgId) -> Result<Option<Installation>, StoreError> {
        (**self).find_by_org(org_id).await
    }

    async fn list(&self) -> Result<Vec<Installation>, StoreError> {
        (**self).list().await
    }

    async fn list_by_org(&self, org_id: &OrgId) -> Result<Vec<Installation>, StoreError> {
        (**self).list_by_org(org_id).await
    }

    async fn set_api_key(
        &self,
        id: &InstallationId,
        key: &MarketplaceApiKey,
    ) -> Result<(), StoreError> {
        (**self).set_api_key(id, key).await
    }

    async fn clear_api_key_request(&self, id: &InstallationId) -> Result<(), StoreError> {
        (**self).clear_api_key_request(id).await
    }

    async fn update_tokens(
        &self,
        id: &InstallationId,
        expected_version: u64,
        tokens: &TokenUpdate,
    ) -> Result<u64, StoreError> {
        (**self).update_tokens(id, expected_version, tokens).await
    }

    async fn acquire_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
        until: SystemTime,
    ) -> Result<bool, StoreError> {
        (**self).acquire_refresh_lease(id, holder, until).await
    }

    async fn release_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
    ) -> Result<(), StoreError> {
        (**self).release_refresh_lease(id, holder).await
    }

    async fn set_status(
        &self,
        id: &InstallationId,
        status: &InstallationStatus,
    ) -> Result<(), StoreError> {
        (**self).set_status(id, status).await
    }

    async fn delete(&self, id: &InstallationId) -> Result<bool, StoreError> {
        (**self).delete(id).await
    }

    async fn claim_flow(
        &self,
        flow_id: &str,
        expires_at: SystemTime,
    ) -> Result<FlowClaim, StoreError> {
        (**self).claim_flow(flow_id, expires_at).await
    }

    async fn finish_flow(
        &self,
        flow_id: &str,
        installed: Option<&InstallationId>,
    ) -> Result<(), StoreError> {
        (**self).finish_flow(flow_id, installed).await
    }
}
