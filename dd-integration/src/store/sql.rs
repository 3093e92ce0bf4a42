//! What the SQL backends share: the schema and its migrations, the SQL text of every
//! operation, and the sealing of secrets at rest.
//!
//! The statements use `$n` parameters, which PostgreSQL and SQLite (through sqlx) both read, and
//! only SQL both accept (`ON CONFLICT`, `RETURNING`), so SQLite and PostgreSQL run the same text
//! with three exceptions: how the schema generates the creation-order column, the flow claim
//! (on PostgreSQL one statement that commits without waiting for the disk), and the install's
//! write (on PostgreSQL one statement with data-modifying CTEs, on SQLite a transaction).
//!
//! Concurrency rests on what the database makes atomic, never on a read in one call followed by
//! a write in another: compare-and-swap is `UPDATE .. WHERE id = $1 AND version = $2`, the
//! refresh lease is one conditional `UPDATE` of the `lease_holder` and `lease_until` columns, a
//! flow claim is one `INSERT .. ON CONFLICT`, and the install's write reads the installation it
//! replaces inside its own write (SQLite's write lock; on PostgreSQL a unique index on
//! `previous_id`, the statement run again if another install took that link first). So the same
//! code is safe for several processes on one SQLite file and for many replicas on one PostgreSQL
//! database.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sqlx::Connection as _;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::{FlowClaim, InstallationStore, StoreError, TokenUpdate};
use crate::installation::MarketplaceApiKey;
use crate::installation::{Installation, InstallationId, InstallationStatus, OrgId, Revocation};
use crate::scope::ScopeSet;
use crate::seal::Sealer;
use crate::secret::{AccessToken, ApiKey, RefreshToken};
use crate::site::{Domain, Site};

/// The newest schema version this code knows.
pub(super) const SCHEMA_VERSION: i64 = 4;

/// How long a finished or abandoned flow claim is kept after its cookie expired, as the memory
/// store does: a late replay of the callback still finds how the flow ended.
const FLOW_GRACE: Duration = Duration::from_secs(60);

/// Expired flow claims are swept on one claim in this many.
const FLOW_SWEEP_EVERY: u32 = 128;

/// Which database: the few places where SQLite and PostgreSQL differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
}

impl Dialect {
    pub(super) const fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }

    /// Starts a transaction that writes. SQLite's `IMMEDIATE` takes the file's write lock at
    /// once (waiting up to the busy timeout), so two processes never deadlock upgrading a read.
    const fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Serializes migrations across processes (SQLite's `BEGIN IMMEDIATE` already does).
    const fn migration_lock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            // An arbitrary constant: "dd-int" in ASCII.
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock(110381421391476)"),
        }
    }

    /// The creation-order column.
    const fn seq_column(self) -> &'static str {
        match self {
            Dialect::Sqlite => "seq INTEGER PRIMARY KEY",
            Dialect::Postgres => "seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        }
    }

    /// Migration `version`'s statements.
    fn migration(self, version: i64) -> Vec<String> {
        match version {
            1 => vec![
                format!(
                    "CREATE TABLE dd_installations (
                        {seq},
                        id TEXT NOT NULL UNIQUE,
                        org_id TEXT,
                        org_name TEXT,
                        site TEXT NOT NULL,
                        domain TEXT NOT NULL,
                        granted_scopes TEXT NOT NULL,
                        access_token TEXT NOT NULL,
                        access_token_expires_at BIGINT NOT NULL,
                        refresh_token TEXT NOT NULL,
                        api_key_id TEXT,
                        api_key TEXT,
                        api_key_name TEXT,
                        api_key_created_at TEXT,
                        partner_account TEXT,
                        status TEXT NOT NULL,
                        status_reason TEXT,
                        replaced_by TEXT,
                        previous_id TEXT,
                        created_at BIGINT NOT NULL,
                        updated_at BIGINT NOT NULL,
                        version BIGINT NOT NULL,
                        lease_holder TEXT,
                        lease_until BIGINT
                    )",
                    seq = self.seq_column()
                ),
                "CREATE INDEX dd_installations_org ON dd_installations (org_id, status)".into(),
                "CREATE TABLE dd_flows (
                    flow_id TEXT NOT NULL PRIMARY KEY,
                    outcome TEXT NOT NULL,
                    installation_id TEXT,
                    keep_until BIGINT NOT NULL
                )"
                .into(),
                "CREATE INDEX dd_flows_keep_until ON dd_flows (keep_until)".into(),
            ],
            // `org_id` holds only an org id Datadog confirmed; the callback's `dd_oid` (which
            // the browser can edit) moves to `org_hint`. Ids stored before were never
            // confirmed: they become hints, so no installation is linked through them.
            2 => vec![
                "ALTER TABLE dd_installations ADD COLUMN org_hint TEXT".into(),
                "UPDATE dd_installations SET org_hint = org_id, org_id = NULL".into(),
                // The install's key journal (`Installation::api_key_requested_at`).
                "ALTER TABLE dd_installations ADD COLUMN api_key_requested_at BIGINT".into(),
            ],
            // The refresh journal gets its own column (`Installation::refresh_started_at`);
            // before, a refresh under way was an access-token expiry of 0. A row left so by an
            // interrupted refresh keeps that expiry (its token's life is unknown) and gets the
            // journal, dated at its last write.
            3 => vec![
                "ALTER TABLE dd_installations ADD COLUMN refresh_started_at BIGINT".into(),
                "UPDATE dd_installations SET refresh_started_at = updated_at \
                 WHERE access_token_expires_at = 0"
                    .into(),
            ],
            // One installation replaces another at most once, so that two installs of one org
            // at the same moment cannot both replace its current installation (the second one
            // to commit fails on the index and is run again, now seeing the first one). Where
            // that happened before this version, the newest installation keeps the link.
            4 => vec![
                "UPDATE dd_installations SET previous_id = NULL \
                 WHERE previous_id IS NOT NULL AND seq <> (SELECT MAX(newer.seq) \
                 FROM dd_installations AS newer WHERE newer.previous_id = dd_installations.previous_id)"
                    .into(),
                "CREATE UNIQUE INDEX IF NOT EXISTS dd_installations_previous \
                 ON dd_installations (previous_id) WHERE previous_id IS NOT NULL"
                    .into(),
            ],
            _ => Vec::new(),
        }
    }
}

/// The index that lets one installation be replaced once (schema 4).
const PREVIOUS_INDEX: &str = "dd_installations_previous";

const COLUMNS: &str = "id, org_id, org_name, site, domain, granted_scopes, \
    access_token, access_token_expires_at, refresh_token, \
    api_key_id, api_key, api_key_name, api_key_created_at, \
    partner_account, status, status_reason, replaced_by, previous_id, \
    created_at, updated_at, version, org_hint, api_key_requested_at, refresh_started_at";

/// The new row's columns but `previous_id`, bound `$1`..`$23` in this order by
/// `SqlStore::bind_new_row`.
const NEW_ROW_COLUMNS: &str = "id, org_id, org_name, site, domain, \
    granted_scopes, access_token, access_token_expires_at, refresh_token, \
    api_key_id, api_key, api_key_name, api_key_created_at, \
    partner_account, status, status_reason, replaced_by, \
    created_at, updated_at, version, org_hint, api_key_requested_at, refresh_started_at";

const NEW_ROW_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
    $16, $17, $18, $19, $20, $21, $22, $23";

/// A new row, `previous_id` as `$24`.
static INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO dd_installations ({NEW_ROW_COLUMNS}, previous_id) \
         VALUES ({NEW_ROW_VALUES}, $24) ON CONFLICT (id) DO NOTHING RETURNING id"
    )
});

/// The org's current installation (`$1`, a confirmed org id): its newest one that no newer one
/// replaced, whatever its status.
static CURRENT_OF_ORG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM dd_installations WHERE org_id = $1 AND status <> 'replaced' \
         ORDER BY seq DESC LIMIT 1"
    )
});

/// An install's one write on PostgreSQL, one autocommit statement (synced): the org's current
/// installation (`CURRENT_OF_ORG` for the new row's `org_id`, `$2`), when on the new row's
/// domain (`$5`), is the one replaced; the new row (`$1`..`$23`) names it as its previous one,
/// it is marked replaced, and the flow `$24` ends with the new row (kept until `$25` if its
/// claim is gone). Nothing but the read happens when the id exists. One row: the new id (`NULL`
/// when it existed), then the replaced installation's columns (`NULL`s when none), as they
/// were before this statement.
static INSTALL_FOR_FLOW_PG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH current_of_org AS (\
             SELECT {COLUMNS} FROM dd_installations \
             WHERE org_id = $2 AND status <> 'replaced' ORDER BY seq DESC LIMIT 1), \
         replaced AS (SELECT * FROM current_of_org WHERE domain = $5), \
         inserted AS (\
             INSERT INTO dd_installations ({NEW_ROW_COLUMNS}, previous_id) \
             VALUES ({NEW_ROW_VALUES}, (SELECT id FROM replaced)) \
             ON CONFLICT (id) DO NOTHING RETURNING id), \
         marked AS (\
             UPDATE dd_installations \
             SET status = 'replaced', status_reason = NULL, replaced_by = $1, updated_at = $18, \
                 version = version + 1 \
             WHERE id = (SELECT id FROM replaced) AND EXISTS (SELECT 1 FROM inserted)), \
         ended AS (\
             INSERT INTO dd_flows (flow_id, outcome, installation_id, keep_until) \
             SELECT $24, 'installed', $1, $25 WHERE EXISTS (SELECT 1 FROM inserted) \
             ON CONFLICT (flow_id) DO UPDATE SET outcome = 'installed', installation_id = $1) \
         SELECT (SELECT id FROM inserted) AS inserted, replaced.* \
         FROM (SELECT 1) AS one LEFT JOIN replaced ON true"
    )
});

const MARK_REPLACED: &str = "UPDATE dd_installations \
    SET status = 'replaced', status_reason = NULL, replaced_by = $2, updated_at = $3, \
    version = version + 1 WHERE id = $1";

const SET_API_KEY: &str = "UPDATE dd_installations \
    SET api_key_id = $2, api_key = $3, api_key_name = $4, api_key_created_at = $5, \
    api_key_requested_at = NULL, updated_at = $6, version = version + 1 WHERE id = $1 \
    RETURNING id";

const CLEAR_API_KEY_REQUEST: &str = "UPDATE dd_installations \
    SET api_key_requested_at = NULL, updated_at = $2, version = version + 1 WHERE id = $1 \
    RETURNING id";

const UPDATE_TOKENS: &str = "UPDATE dd_installations \
    SET access_token = $3, access_token_expires_at = $4, refresh_token = $5, \
    granted_scopes = COALESCE($6, granted_scopes), updated_at = $7, refresh_started_at = $8, \
    version = version + 1 \
    WHERE id = $1 AND version = $2 RETURNING version";

const VERSION_OF: &str = "SELECT version FROM dd_installations WHERE id = $1";

const ACQUIRE_LEASE: &str = "UPDATE dd_installations SET lease_holder = $2, lease_until = $3 \
    WHERE id = $1 AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until <= $4) \
    RETURNING id";

const RELEASE_LEASE: &str = "UPDATE dd_installations SET lease_holder = NULL, lease_until = NULL \
    WHERE id = $1 AND lease_holder = $2";

const SET_STATUS: &str = "UPDATE dd_installations \
    SET status = $2, status_reason = $3, replaced_by = $4, updated_at = $5, \
    version = version + 1 WHERE id = $1 RETURNING id";

const DELETE: &str = "DELETE FROM dd_installations WHERE id = $1 RETURNING id";

/// A claim is taken when the flow has none, or only one whose time is over.
const CLAIM_FLOW: &str = "INSERT INTO dd_flows (flow_id, outcome, installation_id, keep_until) \
    VALUES ($1, 'claimed', NULL, $2) \
    ON CONFLICT (flow_id) DO UPDATE SET outcome = 'claimed', installation_id = NULL, \
    keep_until = $2 WHERE dd_flows.keep_until <= $3 \
    RETURNING flow_id";

/// The claim on PostgreSQL: one autocommit statement that commits without waiting for the
/// disk, `set_config(.., true)` being `SET LOCAL` for the statement's own transaction (one round
/// trip where `BEGIN`, `SET LOCAL`, the claim and `COMMIT` were four).
const CLAIM_FLOW_UNSYNCED_PG: &str = "INSERT INTO dd_flows (flow_id, outcome, installation_id, keep_until) \
    SELECT $1, 'claimed', NULL, $2 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS unsynced \
    ON CONFLICT (flow_id) DO UPDATE SET outcome = 'claimed', installation_id = NULL, \
    keep_until = $2 WHERE dd_flows.keep_until <= $3 \
    RETURNING flow_id";

const FLOW_OUTCOME: &str = "SELECT outcome, installation_id FROM dd_flows WHERE flow_id = $1";

const FINISH_FLOW: &str =
    "UPDATE dd_flows SET outcome = $2, installation_id = $3 WHERE flow_id = $1";

const SWEEP_FLOWS: &str = "DELETE FROM dd_flows WHERE keep_until <= $1";

/// A flow's outcome as its installation, whether or not its claim row is still there.
const INSTALLED_FLOW: &str = "INSERT INTO dd_flows (flow_id, outcome, installation_id, keep_until) \
    VALUES ($1, 'installed', $2, $3) \
    ON CONFLICT (flow_id) DO UPDATE SET outcome = 'installed', installation_id = $2";

/// How long a flow outcome written without its claim row is kept: past any flow cookie.
const INSTALLED_FLOW_KEPT: Duration = Duration::from_secs(3600);

/// An installation store on any database sqlx drives with the SQL above.
pub(super) struct SqlStore<DB: Database> {
    pool: Pool<DB>,
    sealer: Sealer,
    dialect: Dialect,
    claims: AtomicU32,
    /// SQLite has one writer at a time, and a connection that finds the file locked sleeps in
    /// SQLite's busy handler (1, 2, 5, 10 ms...) while holding one of the pool's few
    /// connections: the process's writes take turns here first, so that under many concurrent
    /// installs a write waits only for the writes before it and reads keep their connections.
    /// Other processes sharing the file still meet SQLite's lock. `None` on PostgreSQL, whose
    /// writers run concurrently.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// The install path's writes waiting for their turn on SQLite: one task ([`lead`]) takes
    /// turns, each committing every write queued meanwhile in one transaction (group commit), so
    /// that concurrent installs share one disk sync instead of taking one each.
    queue: Queue<DB>,
    /// PostgreSQL: told when a statement found its connection closed, so that the pool checks
    /// every connection it hands out for a while (see [`Liveness`]).
    liveness: Option<Arc<Liveness>>,
    /// PostgreSQL: connections kept between the install's statements (see [`Kept`]).
    kept: Arc<Kept<DB>>,
}

/// Connections the store keeps between the install's statements on PostgreSQL (the claim, the
/// installation, the key), rather than giving each back to the pool: sqlx's pool pings every
/// connection given back to it (a round trip, on a task of its own), which doubled the round
/// trips of the install's three statements. A kept connection goes back through the pool
/// (which checks it then) once it sat idle long enough for the pool to check it before use
/// ([`Liveness::must_check`]) and the next statement comes, or after [`Kept::CYCLE`] out of
/// it, so the pool's lifetime limits still apply. A task ([`Kept::sweep`]) gives back, while
/// any is kept, those left idle ten times that long (a minute at most), so none stays out once
/// the install's statements stop: not sooner, as a connection given back is pinged, and a
/// connection the pool got back is not checked again before use for `idle_after`. These statements run at most half
/// the pool's size at a time (none is kept from a pool of one), in the order they came
/// ([`Kept::turns`]), so that other calls always find connections and a statement does not
/// wait in the pool's queue while kept connections go to others; a statement that failed does
/// not keep its connection. Nothing is kept once the pool is closed.
struct Kept<DB: Database> {
    conns: std::sync::Mutex<Vec<KeptConnection<DB>>>,
    /// One for each statement under way; as many as connections may be kept.
    turns: tokio::sync::Semaphore,
    most: usize,
    /// Whether a [`Kept::sweep`] task is running.
    sweeping: std::sync::atomic::AtomicBool,
}

struct KeptConnection<DB: Database> {
    conn: sqlx::pool::PoolConnection<DB>,
    /// When it came out of the pool.
    since: std::time::Instant,
    /// When its last statement ended.
    used: std::time::Instant,
}

impl<DB: Database> Kept<DB> {
    /// How long a connection may stay out of the pool.
    const CYCLE: Duration = Duration::from_secs(60);

    fn new(most: usize) -> Kept<DB> {
        Kept {
            conns: std::sync::Mutex::new(Vec::new()),
            turns: tokio::sync::Semaphore::new(most),
            most,
            sweeping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Every `every` while any connection is kept, sends back to the pool those idle for
    /// `every` or out of it for [`Kept::CYCLE`], then ends; [`Kept::put`] starts it again.
    async fn sweep(kept: Arc<Kept<DB>>, every: Duration) {
        /// Lets the next `put` start a sweep if this one ends early (its runtime shut down).
        struct Sweeping<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Sweeping<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _sweeping = Sweeping(&kept.sweeping);
        loop {
            tokio::time::sleep(every).await;
            let (stale, empty) = {
                let mut conns = kept
                    .conns
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let stale: Vec<_> = conns
                    .extract_if(.., |k| {
                        k.used.elapsed() >= every || k.since.elapsed() >= Self::CYCLE
                    })
                    .collect();
                (stale, conns.is_empty())
            };
            drop(stale);
            if empty {
                // A connection kept after this look starts a sweep of its own.
                return;
            }
        }
    }

    /// Whether `kept` goes back to the pool rather than serving another statement.
    fn stale(kept: &KeptConnection<DB>, liveness: Option<&Liveness>) -> bool {
        kept.since.elapsed() >= Self::CYCLE
            || liveness.is_some_and(|l| l.must_check(kept.used.elapsed()))
    }

    /// The connection used last, if one is kept and not stale; stale ones go back to the pool.
    fn take(
        &self,
        liveness: Option<&Liveness>,
    ) -> Option<(sqlx::pool::PoolConnection<DB>, std::time::Instant)> {
        let mut stale = Vec::new();
        let found = {
            let mut conns = self
                .conns
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            loop {
                match conns.pop() {
                    None => break None,
                    Some(kept) if Self::stale(&kept, liveness) => stale.push(kept.conn),
                    Some(kept) => break Some((kept.conn, kept.since)),
                }
            }
        };
        drop(stale);
        found
    }

    /// Keeps `conn` after a statement that succeeded, if there is room and `pool` is open;
    /// sends stale ones back.
    fn put(
        self: &Arc<Self>,
        pool: &Pool<DB>,
        conn: sqlx::pool::PoolConnection<DB>,
        since: std::time::Instant,
        liveness: Option<&Liveness>,
    ) {
        let mut back = Vec::new();
        let mut keeps = false;
        {
            let mut conns = self
                .conns
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            back.extend(
                conns
                    .extract_if(.., |k| Self::stale(k, liveness))
                    .map(|k| k.conn),
            );
            let kept = KeptConnection {
                conn,
                since,
                used: std::time::Instant::now(),
            };
            // Checked under the lock `close` takes after closing the pool: nothing is kept
            // once it is closed.
            if conns.len() < self.most && !Self::stale(&kept, liveness) && !pool.is_closed() {
                conns.push(kept);
                keeps = true;
            } else {
                back.push(kept.conn);
            }
        }
        drop(back);
        if keeps && !self.sweeping.swap(true, Ordering::AcqRel) {
            let every = liveness.map_or(Self::CYCLE, |l| {
                l.idle_after().saturating_mul(10).min(Self::CYCLE)
            });
            tokio::spawn(Self::sweep(Arc::clone(self), every));
        }
    }

    /// Every kept connection, out of the store's hands.
    fn take_all(&self) -> impl Iterator<Item = sqlx::pool::PoolConnection<DB>> + use<DB> {
        std::mem::take(
            &mut *self
                .conns
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_iter()
        .map(|kept| kept.conn)
    }
}

/// Runs `work` on a kept connection, or one from the pool, and keeps the connection if `work`
/// succeeded (see [`Kept`]). A connection lost under it is closed, not given back.
async fn on_kept<DB, T>(
    pool: Pool<DB>,
    kept: Arc<Kept<DB>>,
    liveness: Option<Arc<Liveness>>,
    work: Work<DB, T>,
) -> Result<T, sqlx::Error>
where
    DB: Database,
{
    // A pool of one connection: none is kept from it, and statements take no turn.
    let turn = match kept.most {
        0 => None,
        // Never closed.
        _ => Some(
            kept.turns
                .acquire()
                .await
                .map_err(|_| sqlx::Error::PoolClosed)?,
        ),
    };
    let found = turn.as_ref().and_then(|_| kept.take(liveness.as_deref()));
    let (mut conn, since) = match found {
        Some(found) => found,
        None => (pool.acquire().await?, std::time::Instant::now()),
    };
    let out = work(&mut conn).await;
    match &out {
        Ok(_) if turn.is_some() => kept.put(&pool, conn, since, liveness.as_deref()),
        Err(e) if connection_lost(e) => conn.close_on_drop(),
        // Given back to the pool, which checks it.
        _ => drop(conn),
    }
    out
}

/// Whether the pool checks a connection (one round trip) before a call uses it.
///
/// A connection idle for `idle_after` or more is checked: the server may have closed it meanwhile.
/// One in steady use is not, as a check on every statement would add a round trip to each. Once
/// a statement finds its connection closed (a fail-over, a restart: the server usually closes
/// every connection at once), every connection is checked for the next few seconds, so that a
/// retried call (a marketplace key being stored again) meets a live one rather than the next
/// closed one.
#[derive(Debug)]
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(super) struct Liveness {
    idle_after: Duration,
    /// Unix ms until which every connection is checked.
    check_all_until: std::sync::atomic::AtomicI64,
}

#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
impl Liveness {
    /// How long every connection is checked after one was found closed.
    const AFTER_A_LOSS: Duration = Duration::from_secs(5);

    pub(super) fn new(idle_after: Duration) -> Liveness {
        Liveness {
            idle_after,
            check_all_until: std::sync::atomic::AtomicI64::new(i64::MIN),
        }
    }

    /// How long a connection sits idle before it is checked.
    fn idle_after(&self) -> Duration {
        self.idle_after
    }

    /// Whether a connection idle for `idle_for` is checked before use.
    pub(super) fn must_check(&self, idle_for: Duration) -> bool {
        idle_for >= self.idle_after
            || millis(SystemTime::now()) < self.check_all_until.load(Ordering::Relaxed)
    }

    /// A statement failed in a way that shows its connection is gone.
    fn saw(&self, error: &sqlx::Error) {
        if connection_lost(error) {
            self.check_all_until.store(
                millis(SystemTime::now() + Liveness::AFTER_A_LOSS),
                Ordering::Relaxed,
            );
        }
    }
}

/// An error that shows the connection is gone: an I/O or protocol failure, PostgreSQL's
/// connection-exception class (`08`), or the server shutting the connection down (`57P01`
/// administrator command, `57P02` crash, `57P03` cannot connect now).
fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// The writes waiting for the next group commit (SQLite), and whether a task is committing them.
type Queue<DB> = Arc<std::sync::Mutex<Pending<DB>>>;

/// What [`Queue`] holds.
struct Pending<DB: Database> {
    /// The writes not yet taken by a turn, each with how durable it must be.
    jobs: Vec<(Job<DB>, Durability)>,
    /// A task ([`lead`]) is taking turns until it finds no write waiting: a write queued while
    /// it does is committed by it, and its caller starts no task of its own.
    leading: bool,
    /// The connection the turns write on, kept between the tasks that take them, so that its
    /// page cache stays warm (SQLite empties a connection's cache when another connection
    /// wrote) and a turn neither waits for the pool nor pings the connection as it gives it
    /// back. Given back to the pool when the store closes.
    conn: Option<sqlx::pool::PoolConnection<DB>>,
    /// Why the last task taking turns ended with writes queued, for their callers; cleared
    /// when a task starts again.
    ended: Option<&'static str>,
    /// Times the group commit took the write lock since the store opened: its turns, and the
    /// last look of each task that finds no write waiting.
    turns: u64,
}

/// Whether a batched write must be on disk before its caller hears of it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// Synced: the installation, its key.
    Disk,
    /// Enough on SQLite's log: a flow claim (see [`SqlStore::claim_write`]).
    Log,
}

/// What a batched write does when its transaction ended: `Ok` when it committed.
type Finish = Box<dyn FnOnce(Result<(), CommitFailed>) + Send>;

/// Why a batch's transaction did not commit, as each of its writes hears of it: the database's
/// code and message are kept, so that the store's error still says what to do (a full disk, a
/// read-only file) for every write of the batch.
#[derive(Debug, Clone)]
struct CommitFailed {
    /// The database's (extended) result code, when the database refused the commit.
    code: Option<String>,
    message: String,
}

impl CommitFailed {
    fn of(error: &sqlx::Error) -> CommitFailed {
        match error {
            sqlx::Error::Database(db) => CommitFailed {
                code: db.code().map(std::borrow::Cow::into_owned),
                message: db.message().to_owned(),
            },
            other => CommitFailed {
                code: None,
                message: other.to_string(),
            },
        }
    }

    /// The error one write of the batch answers with.
    fn to_error(&self) -> sqlx::Error {
        if self.code.is_some() {
            sqlx::Error::Database(Box::new(self.clone()))
        } else {
            sqlx::Error::Protocol(self.to_string())
        }
    }
}

impl std::fmt::Display for CommitFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the write's transaction did not commit: {}",
            self.message
        )
    }
}

impl std::error::Error for CommitFailed {}

impl sqlx::error::DatabaseError for CommitFailed {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.code.as_deref().map(std::borrow::Cow::Borrowed)
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    /// SQLite's extended codes for the constraints a commit can find violated (a deferred
    /// foreign key); anything else is `Other`.
    fn kind(&self) -> sqlx::error::ErrorKind {
        match self.code.as_deref() {
            Some("787") => sqlx::error::ErrorKind::ForeignKeyViolation,
            Some("1555" | "2067") => sqlx::error::ErrorKind::UniqueViolation,
            Some("275") => sqlx::error::ErrorKind::CheckViolation,
            Some("1299") => sqlx::error::ErrorKind::NotNullViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

/// One write of a group commit: its statements, run on the batch's transaction (inside a
/// savepoint of its own when it shares the batch, so that a failed write leaves the others
/// whole), then how to answer its caller, and whether it succeeded.
type Job<DB> = Box<
    dyn for<'c> FnOnce(
            &'c mut <DB as Database>::Connection,
            bool,
        )
            -> std::pin::Pin<Box<dyn Future<Output = (Finish, bool)> + Send + 'c>>
        + Send,
>;

/// The statements of one batched write, on the batch's connection.
type Work<DB, T> = Box<
    dyn for<'c> FnOnce(
            &'c mut <DB as Database>::Connection,
        ) -> std::pin::Pin<
            Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>,
        > + Send,
>;

/// What a write's caller hears when its batch could not begin.
fn not_begun() -> sqlx::Error {
    sqlx::Error::Protocol("the write's transaction could not begin".into())
}

/// Commits SQLite's queued writes, one group-commit turn after another, until a turn finds none
/// waiting; one task at a time does this ([`Pending::leading`]).
///
/// The write lock is taken for each turn and let go between turns, so that a write outside the
/// group commit (a token refresh, a lease, an uninstall) waits for the turn under way, not for
/// every write queued after it. Before, each write's own task waited for the lock in turn, and
/// found its write already committed by an earlier turn most of the time: under many concurrent
/// installs those tasks queued up faster than they drained, each turn took whatever one or two
/// writes had arrived since the last, and a refresh waited seconds behind them (BENCHMARKS.md).
/// The turns write on one connection, kept between tasks ([`Pending::conn`]).
async fn lead<DB>(
    pool: Pool<DB>,
    writer: Arc<tokio::sync::Mutex<()>>,
    queue: Queue<DB>,
    dialect: Dialect,
    mut leading: Leading<DB>,
) where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
{
    let mut conn: Option<sqlx::pool::PoolConnection<DB>> = None;
    loop {
        let _turn = Arc::clone(&writer).lock_owned().await;
        if pool.is_closed() {
            // The store closed: its connection goes back (and is closed), and the writes left
            // fail below, the pool giving no connection.
            conn = None;
        }
        let jobs = {
            let mut pending = queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending.turns += 1;
            if pending.jobs.is_empty() {
                // Under the queue's lock: a write queued after this sees no task leading, and
                // starts one.
                pending.leading = false;
                // Under the lock `close` takes after closing the pool: not kept once it is.
                if !pool.is_closed() {
                    pending.conn = conn.take();
                }
                leading.0 = None;
                return;
            }
            if conn.is_none() {
                conn = pending.conn.take();
            }
            std::mem::take(&mut pending.jobs)
        };
        let mut held = match conn.take() {
            Some(held) => held,
            None => match pool.acquire().await {
                Ok(held) => held,
                // The jobs, dropped, answer their callers that the batch could not begin.
                Err(e) => {
                    tracing::warn!(error = %e, writes = jobs.len(), "a batch of writes could not begin");
                    continue;
                }
            },
        };
        if turn(&mut held, jobs, dialect, Some(&queue)).await {
            conn = Some(held);
        } else {
            held.close_on_drop();
        }
    }
}

/// Made with the task taking turns ([`lead`]), which holds it: if that task ends with writes
/// still queued (a write panicked, or its runtime shut down, even before it first ran), they
/// are dropped, so that their callers hear why rather than wait ([`Pending::ended`]), and the
/// next write starts a task again.
struct Leading<DB: Database>(Option<Queue<DB>>);

impl<DB: Database> Drop for Leading<DB> {
    fn drop(&mut self) {
        if let Some(queue) = self.0.take() {
            let dropped = {
                let mut pending = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                pending.leading = false;
                pending.ended = Some(if std::thread::panicking() {
                    "a store write panicked while SQLite's writes were committed (see the log)"
                } else {
                    "a store transaction was cancelled because the runtime is shutting down"
                });
                std::mem::take(&mut pending.jobs)
            };
            drop(dropped);
        }
    }
}

/// One transaction over `jobs`, each answered once it ended (in a savepoint of its own when
/// there are several); on SQLite, a batch of claims alone is committed without a disk sync.
/// A write that fails puts the ones after it back in `queue`, first in line. Whether `conn` may
/// be used again.
async fn turn<DB>(
    conn: &mut DB::Connection,
    jobs: Vec<(Job<DB>, Durability)>,
    dialect: Dialect,
    queue: Option<&Queue<DB>>,
) -> bool
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
{
    let unsynced =
        dialect == Dialect::Sqlite && jobs.iter().all(|(_, sync)| *sync == Durability::Log);
    if unsynced
        && sqlx::query::<DB>("PRAGMA synchronous = NORMAL")
            .execute(&mut *conn)
            .await
            .is_err()
    {
        // The jobs, dropped, answer their callers that the batch could not begin.
        return false;
    }
    let committed = match conn.begin_with(dialect.begin_write()).await {
        Ok(mut tx) => {
            let shared = jobs.len() > 1;
            let mut finishes = Vec::with_capacity(jobs.len());
            let mut all_ok = true;
            let mut jobs = jobs.into_iter();
            for (job, _) in jobs.by_ref() {
                let (finish, ok) = job(&mut *tx, shared).await;
                all_ok &= ok;
                finishes.push(finish);
                if !ok {
                    // Some failures (a full disk, an I/O error) end SQLite's transaction by
                    // themselves: no later write may run in what could be autocommit mode. The
                    // rest go back, first in line, for the next turn.
                    break;
                }
            }
            let rest: Vec<(Job<DB>, Durability)> = jobs.collect();
            if !rest.is_empty()
                && let Some(queue) = queue
            {
                let mut pending = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let later = std::mem::take(&mut pending.jobs);
                pending.jobs.extend(rest);
                pending.jobs.extend(later);
            }
            // A write alone that failed is rolled back whole (dropping the transaction); shared
            // ones were each rolled back to their savepoint.
            let committed = if shared || all_ok {
                tx.commit().await.map_err(|e| CommitFailed::of(&e))
            } else {
                drop(tx);
                Err(CommitFailed {
                    code: None,
                    message: "rolled back".to_owned(),
                })
            };
            for finish in finishes {
                finish(committed.clone());
            }
            committed.is_ok()
        }
        Err(e) => {
            tracing::warn!(error = %e, writes = jobs.len(), "a batch of writes could not begin");
            false
        }
    };
    // A failed commit or a failed lone write may leave the connection believing it is in a
    // transaction SQLite already ended (sqlx counts one until a COMMIT or ROLLBACK succeeds):
    // it is not used again.
    let mut reusable = committed;
    if unsynced
        && sqlx::query::<DB>("PRAGMA synchronous = FULL")
            .execute(&mut *conn)
            .await
            .is_err()
    {
        // Never used again unsynced.
        reusable = false;
    }
    reusable
}

impl<DB: Database> Drop for SqlStore<DB> {
    fn drop(&mut self) {
        let held = self.held();
        // sqlx gives a connection back to its pool on a task, which needs a runtime: a store
        // dropped outside one (after its runtime ended) closes the connections it holds here.
        if tokio::runtime::Handle::try_current().is_err() {
            for conn in held {
                drop(conn.detach());
            }
        }
    }
}

impl<DB: Database> SqlStore<DB> {
    /// Closes the pool's connections (waiting for the ones in use to come back).
    pub(super) async fn close(&self) {
        // Closed first (sqlx marks the pool closed as `close` is called): a connection in use
        // now is not kept when its statement ends, but given back, and the wait ends.
        let closing = self.pool.close();
        drop(self.held());
        closing.await;
    }

    /// One of the install's statements on PostgreSQL: `work` on a kept connection
    /// ([`on_kept`]), on a task of its own ([`detached`]).
    async fn on_kept<T: Send + 'static>(
        &self,
        work: Work<DB, T>,
    ) -> Result<Result<T, sqlx::Error>, StoreError> {
        detached(on_kept(
            self.pool.clone(),
            Arc::clone(&self.kept),
            self.liveness.clone(),
            work,
        ))
        .await
    }

    /// The connections the store holds between calls, out of its hands: those kept by the
    /// install's statements ([`Kept`]) and the group commit's ([`Pending::conn`]).
    fn held(&self) -> Vec<sqlx::pool::PoolConnection<DB>> {
        let mut held: Vec<_> = self.kept.take_all().collect();
        held.extend(
            self.queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .conn
                .take(),
        );
        held
    }
}

/// What [`SqliteStore::reseal`](super::SqliteStore::reseal) (or the PostgreSQL one) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResealReport {
    /// Rows with at least one secret sealed again.
    pub rows: usize,
    /// Secrets (access token, refresh token, API key) sealed again.
    pub values: usize,
    /// Secrets rewritten by another writer between the read and the reseal, found under the
    /// current key when read again.
    pub raced: usize,
    /// Secrets still under an older key when it returned: 0 unless another process still
    /// seals under the older key as current. Give every process the new key as current, run
    /// it again, and drop the older key only when this is 0.
    pub remaining: usize,
}

/// A row's sealed columns, by name.
type SealedColumns = [(&'static str, Option<String>); 3];

/// The secrets of a record, sealed for its row.
struct SealedSecrets {
    access_token: String,
    refresh_token: String,
    api_key: Option<String>,
}

/// A new row of `dd_installations` but its `previous_id`, secrets sealed: `NEW_ROW_COLUMNS`.
#[derive(Clone)]
struct NewRow {
    id: String,
    org_id: Option<String>,
    org_name: Option<String>,
    site: String,
    domain: &'static str,
    granted_scopes: String,
    access_token: String,
    access_token_expires_at: i64,
    refresh_token: String,
    api_key_id: Option<String>,
    api_key: Option<String>,
    api_key_name: Option<String>,
    api_key_created_at: Option<String>,
    partner_account: Option<String>,
    status: &'static str,
    status_reason: Option<String>,
    replaced_by: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
    org_hint: Option<String>,
    api_key_requested_at: Option<i64>,
    refresh_started_at: Option<i64>,
}

/// What a secret is sealed for: its row and column, so that a sealed value copied into another
/// row or column does not open there.
fn purpose(id: &InstallationId, column: &str) -> String {
    format!("installation/{id}/{column}")
}

fn seal_str(sealer: &Sealer, id: &InstallationId, column: &str, value: &str) -> String {
    sealer.seal(&purpose(id, column), value.as_bytes())
}

fn open_str(
    sealer: &Sealer,
    id: &InstallationId,
    column: &'static str,
    sealed: &str,
) -> Result<String, StoreError> {
    let bytes = sealer
        .open(&purpose(id, column), sealed)
        .map_err(|source| StoreError::Sealed {
            id: id.clone(),
            secret: column,
            source,
        })?;
    String::from_utf8(bytes).map_err(|_| StoreError::Corrupt {
        id: id.clone(),
        column,
        detail: "the opened value is not UTF-8".into(),
    })
}

/// Unix milliseconds (negative before 1970).
pub(super) fn millis(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

fn from_millis(ms: i64) -> SystemTime {
    let d = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

/// A version as the database holds it. Versions start at 1 and grow by one a change, so none is
/// ever near `i64::MAX`; one that does not fit matches no row (-1 is never stored).
fn version_param(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(-1)
}

fn stored_version(id: &InstallationId, version: i64) -> Result<u64, StoreError> {
    u64::try_from(version).map_err(|_| StoreError::Corrupt {
        id: id.clone(),
        column: "version",
        detail: format!("negative version {version}"),
    })
}

/// Status as text, plus its reason and, when replaced, by what.
fn status_columns(status: &InstallationStatus) -> (&'static str, Option<String>, Option<String>) {
    match status {
        InstallationStatus::Active => ("active", None, None),
        InstallationStatus::Revoked(revocation) => ("revoked", Some(revocation.to_stored()), None),
        InstallationStatus::Removed => ("removed", None, None),
        InstallationStatus::Replaced { by } => ("replaced", None, Some(by.as_str().to_owned())),
    }
}

fn status_from_columns(
    text: &str,
    reason: Option<String>,
    replaced_by: Option<String>,
) -> Result<InstallationStatus, String> {
    Ok(match (text, reason, replaced_by) {
        ("active", _, _) => InstallationStatus::Active,
        ("revoked", reason, _) => InstallationStatus::Revoked(Revocation::from_stored(
            reason.as_deref().unwrap_or_default(),
        )),
        ("removed", _, _) => InstallationStatus::Removed,
        ("replaced", _, Some(by)) => InstallationStatus::Replaced {
            by: InstallationId::from_stored(by),
        },
        ("replaced", _, None) => return Err("replaced, but by no installation".into()),
        (other, _, _) => {
            let shown: String = other
                .chars()
                .take(32)
                .flat_map(char::escape_default)
                .collect();
            return Err(format!("unknown status \"{shown}\""));
        }
    })
}

/// A row of `dd_installations` as read (`COLUMNS` order), secrets still sealed.
struct StoredRow {
    id: String,
    org_id: Option<String>,
    org_hint: Option<String>,
    api_key_requested_at: Option<i64>,
    refresh_started_at: Option<i64>,
    org_name: Option<String>,
    site: String,
    domain: String,
    granted_scopes: String,
    access_token: String,
    access_token_expires_at: i64,
    refresh_token: String,
    api_key_id: Option<String>,
    api_key: Option<String>,
    api_key_name: Option<String>,
    api_key_created_at: Option<String>,
    partner_account: Option<String>,
    status: String,
    status_reason: Option<String>,
    replaced_by: Option<String>,
    previous_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl StoredRow {
    fn open(self, sealer: &Sealer) -> Result<Installation, StoreError> {
        let id = InstallationId::from_stored(self.id);
        let corrupt = |column: &'static str, detail: String| StoreError::Corrupt {
            id: id.clone(),
            column,
            detail,
        };
        let site = Site::parse(&self.site).map_err(|e| corrupt("site", e.to_string()))?;
        let domain = Domain::parse(&self.domain).map_err(|e| corrupt("domain", e.to_string()))?;
        let granted_scopes = ScopeSet::parse(&self.granted_scopes)
            .map_err(|e| corrupt("granted_scopes", e.to_string()))?;
        let status = status_from_columns(&self.status, self.status_reason, self.replaced_by)
            .map_err(|detail| corrupt("status", detail))?;
        let api_key = match (self.api_key_id, self.api_key) {
            (Some(key_id), Some(sealed)) => Some(MarketplaceApiKey {
                id: key_id,
                key: ApiKey::new(open_str(sealer, &id, "api_key", &sealed)?),
                name: self.api_key_name,
                created_at: self.api_key_created_at,
            }),
            _ => None,
        };
        Ok(Installation {
            access_token: AccessToken::new(open_str(
                sealer,
                &id,
                "access_token",
                &self.access_token,
            )?),
            refresh_token: RefreshToken::new(open_str(
                sealer,
                &id,
                "refresh_token",
                &self.refresh_token,
            )?),
            version: stored_version(&id, self.version)?,
            id,
            org_id: self.org_id.map(OrgId::from_confirmed),
            org_hint: self.org_hint,
            api_key_requested_at: self.api_key_requested_at.map(from_millis),
            refresh_started_at: self.refresh_started_at.map(from_millis),
            org_name: self.org_name,
            site,
            domain,
            granted_scopes,
            access_token_expires_at: from_millis(self.access_token_expires_at),
            api_key,
            partner_account: self.partner_account,
            status,
            previous: self.previous_id.map(InstallationId::from_stored),
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
        })
    }
}

/// Runs a transaction on a task of its own, so that a caller who stops waiting (a dropped
/// future, a timeout) cannot cut it short. Cut short, a transaction can leave its connection
/// inside `BEGIN` when it goes back to the pool: on SQLite that connection keeps the file's
/// write lock and every other writer fails; on PostgreSQL the next statements on it would never
/// commit. On its own task it always commits or rolls back.
async fn detached<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::spawn(work).await {
        Ok(done) => Ok(done),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(StoreError::Backend(
            "a store transaction was cancelled because the runtime is shutting down".into(),
        )),
    }
}

/// What a failed statement means, for the person reading the error.
pub(super) fn database_error(dialect: Dialect, doing: &str, error: sqlx::Error) -> StoreError {
    let name = dialect.name();
    let hint = match &error {
        sqlx::Error::PoolTimedOut => {
            "no database connection came free in time: the database is slow or unreachable, or the pool is too small for the load"
        }
        sqlx::Error::PoolClosed => "the store was closed; open a new one",
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            "check that the database is running and reachable from this process"
        }
        sqlx::Error::Database(db) if dialect == Dialect::Sqlite => match db.code().as_deref() {
            Some("5" | "6" | "261" | "517") => {
                "another process held the SQLite file locked for longer than the busy timeout; retry, and if it persists look for a long-running transaction on the file"
            }
            Some("8" | "1032") => {
                "the SQLite file or its directory is read-only for this process; fix the permissions"
            }
            Some("13") => "the disk is full",
            Some("14") => {
                "check that the directory exists and that this process may create and write files in it"
            }
            Some("11" | "26") => {
                "the SQLite file is damaged or is not a database; restore it from a backup"
            }
            _ => "the database refused the statement",
        },
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some(code) if code.starts_with("28") => {
                "the database refused the credentials; check the user and password"
            }
            Some("3D000") => "the database does not exist; create it first",
            Some("42501") => {
                "the database user lacks a privilege it needs (CREATE on the schema for the migrations; SELECT, INSERT, UPDATE, DELETE on the dd_ tables)"
            }
            Some(code) if code.starts_with("53") || code.starts_with("57") => {
                "the database is out of resources or shutting down; retry later"
            }
            _ => "the database refused the statement",
        },
        _ => "the database driver failed",
    };
    StoreError::Database {
        context: format!("the {name} installation store could not {doing} ({hint})"),
        source: Box::new(error),
    }
}

impl<DB> SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// A store on `pool`, with the schema brought up to date.
    pub(super) async fn new(
        pool: Pool<DB>,
        sealer: Sealer,
        dialect: Dialect,
        liveness: Option<Arc<Liveness>>,
    ) -> Result<SqlStore<DB>, StoreError> {
        let store = SqlStore {
            kept: Arc::new(Kept::new(
                (pool.options().get_max_connections() / 2) as usize,
            )),
            pool,
            sealer,
            dialect,
            liveness,
            claims: AtomicU32::new(0),
            writer: matches!(dialect, Dialect::Sqlite)
                .then(|| Arc::new(tokio::sync::Mutex::new(()))),
            queue: Arc::new(std::sync::Mutex::new(Pending {
                jobs: Vec::new(),
                leading: false,
                turns: 0,
                conn: None,
                ended: None,
            })),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Runs `work` as one write: on SQLite, queued and committed with every other write queued
    /// meanwhile (one transaction, one disk sync, each write in its own savepoint) by the task
    /// taking turns ([`lead`]), which the first write to find none starts; on PostgreSQL, in a
    /// transaction of its own. The answer comes once the transaction committed.
    async fn batched<T: Send + 'static>(
        &self,
        sync: Durability,
        work: Work<DB, T>,
    ) -> Result<Result<T, sqlx::Error>, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, sqlx::Error>>();
        let job: Job<DB> = Box::new(move |conn, shared| {
            Box::pin(async move {
                // A claim whose caller left while it waited is not written: the flow stays
                // free for a reload rather than in progress until it expires.
                if sync == Durability::Log && answer.is_closed() {
                    let nothing: Finish = Box::new(|_| {});
                    return (nothing, true);
                }
                let out = if shared {
                    match sqlx::query::<DB>("SAVEPOINT dd_write")
                        .execute(&mut *conn)
                        .await
                    {
                        Err(e) => Err(e),
                        Ok(_) => match work(&mut *conn).await {
                            Ok(value) => sqlx::query::<DB>("RELEASE dd_write")
                                .execute(&mut *conn)
                                .await
                                .map(|_| value),
                            Err(e) => {
                                let _ = sqlx::query::<DB>("ROLLBACK TO dd_write")
                                    .execute(&mut *conn)
                                    .await;
                                let _ = sqlx::query::<DB>("RELEASE dd_write")
                                    .execute(&mut *conn)
                                    .await;
                                Err(e)
                            }
                        },
                    }
                } else {
                    // Alone in its transaction: a failure rolls the transaction back.
                    work(&mut *conn).await
                };
                let ok = out.is_ok();
                let finish: Finish = Box::new(move |committed| {
                    let _ = answer.send(match (out, committed) {
                        (Ok(value), Ok(())) => Ok(value),
                        (Ok(_), Err(failed)) => Err(failed.to_error()),
                        (Err(e), _) => Err(e),
                    });
                });
                (finish, ok)
            })
        });
        let pool = self.pool.clone();
        let dialect = self.dialect;
        let Some(writer) = self.writer.clone() else {
            // PostgreSQL: alone in its transaction, on a task of its own, so that a caller that
            // stops waiting leaves no transaction half done.
            let task = tokio::spawn(async move {
                let mut conn = match pool.acquire().await {
                    Ok(conn) => conn,
                    // The job, dropped, answers its caller with a closed channel.
                    Err(e) => {
                        tracing::warn!(error = %e, "a write could not begin");
                        return;
                    }
                };
                if !turn(&mut conn, vec![(job, sync)], dialect, None).await {
                    conn.close_on_drop();
                }
            });
            return match answered.await {
                Ok(result) => Ok(result),
                // No answer: the transaction could not begin, or its task ended early.
                Err(_) => match task.await {
                    Ok(()) => Ok(Err(not_begun())),
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => Err(StoreError::Backend(
                        "a store transaction was cancelled because the runtime is shutting down"
                            .into(),
                    )),
                },
            };
        };
        let queue = Arc::clone(&self.queue);
        let lead_now = {
            let mut pending = queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending.jobs.push((job, sync));
            let lead_now = !std::mem::replace(&mut pending.leading, true);
            if lead_now {
                pending.ended = None;
            }
            lead_now
        };
        // The first write to find no task committing starts one; the others wait for their
        // answer only. On a task rather than in the caller: a caller that stops waiting leaves
        // no batch half done, and the writes queued behind it are still committed.
        if lead_now {
            let leading = Leading(Some(Arc::clone(&queue)));
            tokio::spawn(lead(pool, writer, Arc::clone(&queue), dialect, leading));
        }
        match answered.await {
            Ok(result) => Ok(result),
            // No answer: the task committing it ended early (a write panicked, the runtime
            // shutting down), or the batch could not begin (the pool gave no connection).
            Err(_) => match queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .ended
            {
                Some(why) => Err(StoreError::Backend(why.into())),
                None => Ok(Err(not_begun())),
            },
        }
    }

    /// Times the group commit took the write lock since the store opened (SQLite; 0 on
    /// PostgreSQL).
    #[cfg(test)]
    pub(super) fn turns(&self) -> u64 {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .turns
    }

    /// This process's turn to write (SQLite; on PostgreSQL, no wait): see [`SqlStore::writer`].
    async fn writing(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.writer {
            Some(writer) => Some(Arc::clone(writer).lock_owned().await),
            None => None,
        }
    }

    fn error(&self, doing: &str) -> impl FnOnce(sqlx::Error) -> StoreError + use<'_, DB> {
        let doing = doing.to_owned();
        move |e| {
            if let Some(liveness) = &self.liveness {
                liveness.saw(&e);
            }
            database_error(self.dialect, &doing, e)
        }
    }

    /// Applies the migrations this database lacks, in one transaction that other processes wait
    /// for, so that several processes opening one new database at once do it exactly once.
    async fn migrate(&self) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        let dialect = self.dialect;
        detached(async move {
            let mut tx = pool.begin_with(dialect.begin_write()).await?;
            if let Some(lock) = dialect.migration_lock() {
                sqlx::query::<DB>(lock).execute(&mut *tx).await?;
            }
            sqlx::query::<DB>(
                "CREATE TABLE IF NOT EXISTS dd_schema_version \
                 (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .execute(&mut *tx)
            .await?;
            let current = sqlx::query_scalar::<DB, i64>(
                "SELECT COALESCE(MAX(version), 0) FROM dd_schema_version",
            )
            .fetch_one(&mut *tx)
            .await?;
            if current > SCHEMA_VERSION {
                return Ok(Err(StoreError::SchemaTooNew {
                    found: current,
                    supported: SCHEMA_VERSION,
                }));
            }
            for version in current + 1..=SCHEMA_VERSION {
                for statement in dialect.migration(version) {
                    sqlx::query::<DB>(&statement).execute(&mut *tx).await?;
                }
                sqlx::query::<DB>(
                    "INSERT INTO dd_schema_version (version, applied_at) VALUES ($1, $2)",
                )
                .bind(version)
                .bind(millis(SystemTime::now()))
                .execute(&mut *tx)
                .await?;
                tracing::info!(
                    backend = dialect.name(),
                    version,
                    "installation store schema migrated"
                );
            }
            tx.commit().await?;
            Ok(Ok(()))
        })
        .await?
        .map_err(self.error("migrate its schema"))?
    }

    /// Seals again, under the sealer's current key, every secret at rest sealed under an older
    /// one; see [`ResealReport`]. Each value is replaced only if it is still the one read (one
    /// conditional `UPDATE`); one rewritten meanwhile is read again and looked at afresh. The
    /// row's version is not changed: the plaintext is not. Passes repeat (three at most) until
    /// none is left under an older key, which the report's `remaining` confirms.
    pub(super) async fn reseal(&self) -> Result<ResealReport, StoreError> {
        let mut report = ResealReport::default();
        for _ in 0..3 {
            self.reseal_pass(&mut report).await?;
            report.remaining = self.under_older_keys().await?;
            if report.remaining == 0 {
                break;
            }
        }
        tracing::info!(
            rows = report.rows,
            values = report.values,
            remaining = report.remaining,
            key_id = %self.sealer.current_key_id(),
            "secrets at rest sealed again under the current key"
        );
        Ok(report)
    }

    /// Every sealed secret: (installation id, [(column, value)]).
    async fn sealed_values(&self) -> Result<Vec<(String, SealedColumns)>, StoreError> {
        let rows = sqlx::query::<DB>(
            "SELECT id, access_token, refresh_token, api_key FROM dd_installations ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.error("list sealed secrets"))?;
        rows.iter()
            .map(|row| -> Result<_, sqlx::Error> {
                Ok((
                    row.try_get(0)?,
                    [
                        ("access_token", Some(row.try_get(1)?)),
                        ("refresh_token", Some(row.try_get(2)?)),
                        ("api_key", row.try_get(3)?),
                    ],
                ))
            })
            .collect::<Result<_, _>>()
            .map_err(self.error("read sealed secrets"))
    }

    /// How many sealed secrets are under a key other than the current one.
    async fn under_older_keys(&self) -> Result<usize, StoreError> {
        let current = self.sealer.current_key_id();
        Ok(self
            .sealed_values()
            .await?
            .iter()
            .flat_map(|(_, columns)| columns.iter())
            .filter_map(|(_, value)| value.as_deref())
            .filter(|value| Sealer::key_id_of(value) != Some(current))
            .count())
    }

    async fn reseal_pass(&self, report: &mut ResealReport) -> Result<(), StoreError> {
        let current = self.sealer.current_key_id().to_owned();
        for (id, columns) in self.sealed_values().await? {
            let id = InstallationId::from_stored(id);
            let mut changed = false;
            for (column, mut sealed) in columns {
                // `column` is one of three names above, never input.
                let update = format!(
                    "UPDATE dd_installations SET {column} = $3 WHERE id = $1 AND {column} = $2 \
                     RETURNING id"
                );
                let reread = format!("SELECT {column} FROM dd_installations WHERE id = $1");
                for attempt in 0..16 {
                    // None: no value in this column, or the row is gone.
                    let Some(value) = sealed.take() else { break };
                    if Sealer::key_id_of(&value) == Some(current.as_str()) {
                        report.raced += usize::from(attempt > 0);
                        break;
                    }
                    let plain = open_str(&self.sealer, &id, column, &value)?;
                    let fresh = seal_str(&self.sealer, &id, column, &plain);
                    let updated = sqlx::query_scalar::<DB, String>(&update)
                        .bind(id.as_str().to_owned())
                        .bind(value)
                        .bind(fresh)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(self.error("reseal a secret"))?;
                    if updated.is_some() {
                        report.values += 1;
                        changed = true;
                        break;
                    }
                    // Rewritten meanwhile: look at what is there now.
                    sealed = sqlx::query_scalar::<DB, Option<String>>(&reread)
                        .bind(id.as_str().to_owned())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(self.error("read a sealed secret again"))?
                        .flatten();
                }
            }
            report.rows += usize::from(changed);
        }
        Ok(())
    }

    fn seal(&self, installation: &Installation) -> SealedSecrets {
        let id = &installation.id;
        SealedSecrets {
            access_token: seal_str(
                &self.sealer,
                id,
                "access_token",
                installation.access_token.expose_secret(),
            ),
            refresh_token: seal_str(
                &self.sealer,
                id,
                "refresh_token",
                installation.refresh_token.expose_secret(),
            ),
            api_key: installation
                .api_key
                .as_ref()
                .map(|k| seal_str(&self.sealer, id, "api_key", k.key.expose_secret())),
        }
    }

    /// The new row's values but `previous_id`, secrets sealed.
    fn new_row(&self, installation: &Installation) -> Result<NewRow, StoreError> {
        let sealed = self.seal(installation);
        let (status, status_reason, replaced_by) = status_columns(&installation.status);
        let api_key = installation.api_key.as_ref();
        let version = i64::try_from(installation.version).map_err(|_| StoreError::Corrupt {
            id: installation.id.clone(),
            column: "version",
            detail: "a version above 2^63".into(),
        })?;
        Ok(NewRow {
            id: installation.id.as_str().to_owned(),
            org_id: installation.org_id.as_ref().map(|o| o.as_str().to_owned()),
            org_name: installation.org_name.clone(),
            site: installation.site.to_string(),
            domain: installation.domain.as_str(),
            granted_scopes: installation.granted_scopes.to_string(),
            access_token: sealed.access_token,
            access_token_expires_at: millis(installation.access_token_expires_at),
            refresh_token: sealed.refresh_token,
            api_key_id: api_key.map(|k| k.id.clone()),
            api_key: sealed.api_key,
            api_key_name: api_key.and_then(|k| k.name.clone()),
            api_key_created_at: api_key.and_then(|k| k.created_at.clone()),
            partner_account: installation.partner_account.clone(),
            status,
            status_reason,
            replaced_by,
            created_at: millis(installation.created_at),
            updated_at: millis(installation.updated_at),
            version,
            org_hint: installation.org_hint.clone(),
            api_key_requested_at: installation.api_key_requested_at.map(millis),
            refresh_started_at: installation.refresh_started_at.map(millis),
        })
    }

    /// Binds `row` as `$1`..`$23` (`NEW_ROW_COLUMNS`).
    fn bind_new_row<'q>(
        row: NewRow,
        query: sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>,
    ) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>> {
        query
            .bind(row.id)
            .bind(row.org_id)
            .bind(row.org_name)
            .bind(row.site)
            .bind(row.domain.to_owned())
            .bind(row.granted_scopes)
            .bind(row.access_token)
            .bind(row.access_token_expires_at)
            .bind(row.refresh_token)
            .bind(row.api_key_id)
            .bind(row.api_key)
            .bind(row.api_key_name)
            .bind(row.api_key_created_at)
            .bind(row.partner_account)
            .bind(row.status.to_owned())
            .bind(row.status_reason)
            .bind(row.replaced_by)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(row.version)
            .bind(row.org_hint)
            .bind(row.api_key_requested_at)
            .bind(row.refresh_started_at)
    }

    fn read_row(&self, row: &DB::Row) -> Result<Installation, StoreError> {
        self.read_row_at(row, 0)
    }

    /// The installation whose `COLUMNS` start at column `first` of `row`.
    fn read_row_at(&self, row: &DB::Row, first: usize) -> Result<Installation, StoreError> {
        let stored = (|| -> Result<StoredRow, sqlx::Error> {
            Ok(StoredRow {
                id: row.try_get(first)?,
                org_id: row.try_get(first + 1)?,
                org_name: row.try_get(first + 2)?,
                site: row.try_get(first + 3)?,
                domain: row.try_get(first + 4)?,
                granted_scopes: row.try_get(first + 5)?,
                access_token: row.try_get(first + 6)?,
                access_token_expires_at: row.try_get(first + 7)?,
                refresh_token: row.try_get(first + 8)?,
                api_key_id: row.try_get(first + 9)?,
                api_key: row.try_get(first + 10)?,
                api_key_name: row.try_get(first + 11)?,
                api_key_created_at: row.try_get(first + 12)?,
                partner_account: row.try_get(first + 13)?,
                status: row.try_get(first + 14)?,
                status_reason: row.try_get(first + 15)?,
                replaced_by: row.try_get(first + 16)?,
                previous_id: row.try_get(first + 17)?,
                created_at: row.try_get(first + 18)?,
                updated_at: row.try_get(first + 19)?,
                version: row.try_get(first + 20)?,
                org_hint: row.try_get(first + 21)?,
                api_key_requested_at: row.try_get(first + 22)?,
                refresh_started_at: row.try_get(first + 23)?,
            })
        })()
        .map_err(self.error("read an installation"))?;
        stored.open(&self.sealer)
    }

    async fn select_one(
        &self,
        sql: &str,
        param: &str,
        doing: &str,
    ) -> Result<Option<Installation>, StoreError> {
        let row = sqlx::query::<DB>(sql)
            .bind(param.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(self.error(doing))?;
        row.map(|r| self.read_row(&r)).transpose()
    }

    async fn exists(&self, id: &InstallationId) -> Result<bool, StoreError> {
        let found =
            sqlx::query_scalar::<DB, String>("SELECT id FROM dd_installations WHERE id = $1")
                .bind(id.as_str().to_owned())
                .fetch_optional(&self.pool)
                .await
                .map_err(self.error("look up an installation"))?;
        Ok(found.is_some())
    }

    /// Inserts the installation and, given a flow, records the installation as that flow's
    /// outcome: one transaction, one synced commit (on PostgreSQL, with a flow, one statement).
    /// Without a flow (`insert`), the installation's `previous` one is marked replaced. With one
    /// (`insert_for_flow`), the store finds the one it replaces, in the same transaction: the
    /// org's current installation on the same domain, marked replaced and returned as it was.
    async fn insert_row(
        &self,
        installation: &Installation,
        flow: Option<&str>,
    ) -> Result<Option<Installation>, StoreError> {
        let row = self.new_row(installation)?;
        let for_flow = flow.is_some();
        let flow = flow.map(str::to_owned);
        let flow_kept_until = millis(SystemTime::now() + INSTALLED_FLOW_KEPT);
        let replaced = if self.dialect == Dialect::Postgres
            && let Some(flow) = flow
        {
            // Shared by the two runs: each binds its own copy, as binding takes the values.
            let row = Arc::new(row);
            let run = |row: Arc<NewRow>, flow: String| {
                self.on_kept(Box::new(move |conn| {
                    Box::pin(async move {
                        // Another install of the same org that committed first replaced the
                        // same installation (its new row holds the `previous_id` index
                        // entry): nothing of this statement was written, and run again it
                        // sees that one as current. Each such failure means another install
                        // succeeded, so this ends.
                        let mut attempts = 0;
                        loop {
                            attempts += 1;
                            let query = Self::bind_new_row(
                                NewRow::clone(&row),
                                sqlx::query::<DB>(INSTALL_FOR_FLOW_PG.as_str()),
                            )
                            .bind(flow.clone())
                            .bind(flow_kept_until);
                            match query.fetch_one(&mut *conn).await {
                                Err(sqlx::Error::Database(db))
                                    if attempts < 32 && db.constraint() == Some(PREVIOUS_INDEX) => {
                                }
                                done => break done,
                            }
                        }
                    })
                }))
            };
            let mut retried = false;
            let out = match run(Arc::clone(&row), flow.clone()).await? {
                // The connection was closed under the statement (a fail-over): the tokens in
                // hand would be lost with the install, so it runs once more, on a connection
                // the pool now checks first. Whether the first run committed is unknown; if it
                // did, the second finds the id taken.
                Err(e) if connection_lost(&e) => {
                    if let Some(liveness) = &self.liveness {
                        liveness.saw(&e);
                    }
                    tracing::warn!(error = %e, "the install's write lost its connection; writing it again");
                    retried = true;
                    run(row, flow).await?
                }
                done => done,
            }
            .map_err(self.error("store an installation"))?;
            let (inserted, replaced) = (|| {
                Ok::<_, sqlx::Error>((
                    out.try_get::<Option<String>, _>(0)?,
                    out.try_get::<Option<String>, _>(1)?,
                ))
            })()
            .map_err(self.error("store an installation"))?;
            match (inserted, replaced) {
                // The first run committed before its connection was lost (a new id is
                // random: no other install has it). What it replaced is read back as it is
                // now, marked replaced by this one.
                (None, _) if retried => match self.get(&installation.id).await? {
                    Some(stored) => match &stored.previous {
                        Some(previous) => Some(self.get(previous).await?),
                        None => Some(None),
                    },
                    None => None,
                },
                (None, _) => None,
                (Some(_), None) => Some(None),
                (Some(_), Some(_)) => Some(Some(self.read_row_at(&out, 1)?)),
            }
        } else {
            let finds_replaced = for_flow;
            let org = installation.org_id.as_ref().map(|o| o.as_str().to_owned());
            let domain = installation.domain.as_str();
            let previous = installation
                .previous
                .as_ref()
                .map(|p| p.as_str().to_owned());
            let id = row.id.clone();
            let created_at = row.created_at;
            let written = self
                .batched(
                    Durability::Disk,
                    Box::new(move |conn| {
                        Box::pin(async move {
                            let (previous, replaced) = match (finds_replaced, org) {
                                (true, Some(org)) => {
                                    let current = sqlx::query::<DB>(CURRENT_OF_ORG.as_str())
                                        .bind(org)
                                        .fetch_optional(&mut *conn)
                                        .await?;
                                    match current {
                                        Some(current)
                                            if current.try_get::<String, _>(4)? == domain =>
                                        {
                                            (Some(current.try_get::<String, _>(0)?), Some(current))
                                        }
                                        _ => (None, None),
                                    }
                                }
                                (true, None) => (None, None),
                                (false, _) => (previous, None),
                            };
                            let inserted =
                                Self::bind_new_row(row, sqlx::query::<DB>(INSERT.as_str()))
                                    .bind(previous.clone())
                                    .fetch_optional(&mut *conn)
                                    .await?;
                            if inserted.is_none() {
                                // The id exists: nothing was written.
                                return Ok(None);
                            }
                            if let Some(previous) = previous {
                                sqlx::query::<DB>(MARK_REPLACED)
                                    .bind(previous)
                                    .bind(id.clone())
                                    .bind(created_at)
                                    .execute(&mut *conn)
                                    .await?;
                            }
                            if let Some(flow) = flow {
                                // An upsert: a claim the database acknowledged without
                                // syncing may be gone after a crash the app survived.
                                sqlx::query::<DB>(INSTALLED_FLOW)
                                    .bind(flow)
                                    .bind(Some(id))
                                    .bind(flow_kept_until)
                                    .execute(&mut *conn)
                                    .await?;
                            }
                            Ok(Some(replaced))
                        })
                    }),
                )
                .await?
                .map_err(self.error("store an installation"))?;
            match written {
                None => None,
                Some(replaced) => Some(replaced.map(|r| self.read_row(&r)).transpose()?),
            }
        };
        let Some(replaced) = replaced else {
            return Err(StoreError::Duplicate(installation.id.clone()));
        };
        Ok(replaced)
    }

    /// Writes a flow claim. PostgreSQL commits it without waiting for the disk
    /// (`synchronous_commit = off`): the install's next write (the installation, synced) makes
    /// it durable with itself, since the log is synced in order; lost alone in a power failure,
    /// it only lets the same code be presented again, which Datadog refuses (a code is used
    /// once). SQLite commits it in the group commit of the writes queued with it, one disk sync
    /// shared by all.
    async fn claim_write(
        &self,
        flow_id: &str,
        keep_until: i64,
        now: i64,
    ) -> Result<Result<Option<String>, sqlx::Error>, StoreError> {
        if self.dialect == Dialect::Sqlite {
            let claim = sqlx::query_scalar::<DB, String>(CLAIM_FLOW)
                .bind(flow_id.to_owned())
                .bind(keep_until)
                .bind(now);
            return self
                .batched(
                    Durability::Log,
                    Box::new(move |conn| {
                        Box::pin(async move { claim.fetch_optional(&mut *conn).await })
                    }),
                )
                .await;
        }
        let claim = sqlx::query_scalar::<DB, String>(CLAIM_FLOW_UNSYNCED_PG)
            .bind(flow_id.to_owned())
            .bind(keep_until)
            .bind(now);
        self.on_kept(Box::new(move |conn| {
            Box::pin(async move { claim.fetch_optional(&mut *conn).await })
        }))
        .await
    }

    async fn claim(&self, flow_id: &str, expires_at: SystemTime) -> Result<FlowClaim, StoreError> {
        if self.claims.fetch_add(1, Ordering::Relaxed) % FLOW_SWEEP_EVERY == FLOW_SWEEP_EVERY - 1 {
            let _turn = self.writing().await;
            let swept = sqlx::query::<DB>(SWEEP_FLOWS)
                .bind(millis(SystemTime::now()))
                .execute(&self.pool)
                .await;
            if let Err(e) = swept {
                tracing::warn!(error = %database_error(self.dialect, "sweep expired flow claims", e), "sweeping flow claims failed");
            }
        }
        // A row swept between the two statements is claimed on the next turn.
        for _ in 0..3 {
            let now = SystemTime::now();
            let keep_until = expires_at.max(now) + FLOW_GRACE;
            let claimed = self
                .claim_write(flow_id, millis(keep_until), millis(now))
                .await?
                .map_err(self.error("claim a flow"))?;
            if claimed.is_some() {
                return Ok(FlowClaim::Claimed);
            }
            let row = sqlx::query::<DB>(FLOW_OUTCOME)
                .bind(flow_id.to_owned())
                .fetch_optional(&self.pool)
                .await
                .map_err(self.error("read a flow claim"))?;
            let Some(row) = row else { continue };
            let (outcome, installed): (String, Option<String>) =
                (|| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))()
                    .map_err(self.error("read a flow claim"))?;
            return Ok(match (outcome.as_str(), installed) {
                ("installed", Some(id)) => FlowClaim::Installed(InstallationId::from_stored(id)),
                ("failed", _) => FlowClaim::Failed,
                _ => FlowClaim::InProgress,
            });
        }
        Ok(FlowClaim::InProgress)
    }
}

#[async_trait]
impl<DB> InstallationStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    #[tracing::instrument(name = "store.insert", skip_all, fields(installation = %installation.id, backend = self.dialect.name()))]
    async fn insert(&self, installation: &Installation) -> Result<(), StoreError> {
        self.insert_row(installation, None).await?;
        tracing::debug!(previous = ?installation.previous, "installation inserted");
        Ok(())
    }

    async fn insert_for_flow(
        &self,
        installation: &mut Installation,
        flow_id: &str,
    ) -> Result<Option<Installation>, StoreError> {
        let replaced = self.insert_row(installation, Some(flow_id)).await?;
        installation.previous = replaced.as_ref().map(|r| r.id.clone());
        tracing::debug!(previous = ?installation.previous, "installation inserted, its flow finished");
        Ok(replaced)
    }

    async fn get(&self, id: &InstallationId) -> Result<Option<Installation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dd_installations WHERE id = $1");
        self.select_one(&sql, id.as_str(), "read an installation")
            .await
    }

    async fn find_by_org(&self, org_id: &OrgId) -> Result<Option<Installation>, StoreError> {
        self.select_one(
            CURRENT_OF_ORG.as_str(),
            org_id.as_str(),
            "find an org's installation",
        )
        .await
    }

    async fn list(&self) -> Result<Vec<Installation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dd_installations ORDER BY seq");
        let rows = sqlx::query::<DB>(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(self.error("list installations"))?;
        rows.iter().map(|r| self.read_row(r)).collect()
    }

    async fn list_by_org(&self, org_id: &OrgId) -> Result<Vec<Installation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dd_installations WHERE org_id = $1 ORDER BY seq");
        let rows = sqlx::query::<DB>(&sql)
            .bind(org_id.as_str().to_owned())
            .fetch_all(&self.pool)
            .await
            .map_err(self.error("list an org's installations"))?;
        rows.iter().map(|r| self.read_row(r)).collect()
    }

    #[tracing::instrument(name = "store.set_api_key", skip_all, fields(installation = %id, backend = self.dialect.name()))]
    async fn set_api_key(
        &self,
        id: &InstallationId,
        key: &MarketplaceApiKey,
    ) -> Result<(), StoreError> {
        let query = sqlx::query_scalar::<DB, String>(SET_API_KEY)
            .bind(id.as_str().to_owned())
            .bind(key.id.clone())
            .bind(seal_str(
                &self.sealer,
                id,
                "api_key",
                key.key.expose_secret(),
            ))
            .bind(key.name.clone())
            .bind(key.created_at.clone())
            .bind(millis(SystemTime::now()));
        // Group-committed on SQLite with the other installs' writes; on PostgreSQL one
        // autocommit statement (synced, as every commit there is by default), one round trip
        // where `BEGIN`, the update and `COMMIT` were three.
        let updated = if self.dialect == Dialect::Sqlite {
            self.batched(
                Durability::Disk,
                Box::new(move |conn| {
                    Box::pin(async move { query.fetch_optional(&mut *conn).await })
                }),
            )
            .await?
        } else {
            self.on_kept(Box::new(move |conn| {
                Box::pin(async move { query.fetch_optional(&mut *conn).await })
            }))
            .await?
        }
        .map_err(self.error("store a marketplace API key"))?;
        match updated {
            Some(_) => {
                tracing::debug!(key_id = %key.id, "marketplace API key stored");
                Ok(())
            }
            None => Err(StoreError::NotFound(id.clone())),
        }
    }

    async fn clear_api_key_request(&self, id: &InstallationId) -> Result<(), StoreError> {
        let _turn = self.writing().await;
        let updated = sqlx::query_scalar::<DB, String>(CLEAR_API_KEY_REQUEST)
            .bind(id.as_str().to_owned())
            .bind(millis(SystemTime::now()))
            .fetch_optional(&self.pool)
            .await
            .map_err(self.error("clear an API key request"))?;
        updated
            .map(|_| ())
            .ok_or_else(|| StoreError::NotFound(id.clone()))
    }

    #[tracing::instrument(name = "store.update_tokens", skip_all, fields(installation = %id, expected_version = expected_version, backend = self.dialect.name()))]
    async fn update_tokens(
        &self,
        id: &InstallationId,
        expected_version: u64,
        tokens: &TokenUpdate,
    ) -> Result<u64, StoreError> {
        let _turn = self.writing().await;
        let new_version = sqlx::query_scalar::<DB, i64>(UPDATE_TOKENS)
            .bind(id.as_str().to_owned())
            .bind(version_param(expected_version))
            .bind(seal_str(
                &self.sealer,
                id,
                "access_token",
                tokens.access_token.expose_secret(),
            ))
            .bind(millis(tokens.access_token_expires_at))
            .bind(seal_str(
                &self.sealer,
                id,
                "refresh_token",
                tokens.refresh_token.expose_secret(),
            ))
            .bind(tokens.granted_scopes.as_ref().map(ScopeSet::to_string))
            .bind(millis(SystemTime::now()))
            .bind(tokens.refresh_started_at.map(millis))
            .fetch_optional(&self.pool)
            .await
            .map_err(self.error("update an installation's tokens"))?;
        if let Some(version) = new_version {
            tracing::debug!(version, "tokens updated");
            return stored_version(id, version);
        }
        let current = sqlx::query_scalar::<DB, i64>(VERSION_OF)
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(self.error("read an installation's version"))?;
        match current {
            Some(current) => {
                tracing::debug!(current, "token update lost a compare-and-swap");
                Err(StoreError::Conflict {
                    id: id.clone(),
                    current: stored_version(id, current)?,
                })
            }
            None => Err(StoreError::NotFound(id.clone())),
        }
    }

    #[tracing::instrument(name = "store.acquire_refresh_lease", skip_all, fields(installation = %id, holder = %holder, backend = self.dialect.name()))]
    async fn acquire_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
        until: SystemTime,
    ) -> Result<bool, StoreError> {
        let _turn = self.writing().await;
        let taken = sqlx::query_scalar::<DB, String>(ACQUIRE_LEASE)
            .bind(id.as_str().to_owned())
            .bind(holder.to_owned())
            .bind(millis(until))
            .bind(millis(SystemTime::now()))
            .fetch_optional(&self.pool)
            .await
            .map_err(self.error("take a refresh lease"))?;
        if taken.is_some() {
            return Ok(true);
        }
        if self.exists(id).await? {
            Ok(false)
        } else {
            Err(StoreError::NotFound(id.clone()))
        }
    }

    #[tracing::instrument(name = "store.release_refresh_lease", skip_all, fields(installation = %id, holder = %holder, backend = self.dialect.name()))]
    async fn release_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
    ) -> Result<(), StoreError> {
        let _turn = self.writing().await;
        sqlx::query::<DB>(RELEASE_LEASE)
            .bind(id.as_str().to_owned())
            .bind(holder.to_owned())
            .execute(&self.pool)
            .await
            .map_err(self.error("release a refresh lease"))?;
        Ok(())
    }

    #[tracing::instrument(name = "store.set_status", skip_all, fields(installation = %id, backend = self.dialect.name()))]
    async fn set_status(
        &self,
        id: &InstallationId,
        status: &InstallationStatus,
    ) -> Result<(), StoreError> {
        let _turn = self.writing().await;
        let (text, reason, replaced_by) = status_columns(status);
        let updated = sqlx::query_scalar::<DB, String>(SET_STATUS)
            .bind(id.as_str().to_owned())
            .bind(text.to_owned())
            .bind(reason)
            .bind(replaced_by)
            .bind(millis(SystemTime::now()))
            .fetch_optional(&self.pool)
            .await
            .map_err(self.error("set an installation's status"))?;
        match updated {
            Some(_) => {
                tracing::debug!(status = text, "status set");
                Ok(())
            }
            None => Err(StoreError::NotFound(id.clone())),
        }
    }

    #[tracing::instrument(name = "store.delete", skip_all, fields(installation = %id, backend = self.dialect.name()))]
    async fn delete(&self, id: &InstallationId) -> Result<bool, StoreError> {
        let _turn = self.writing().await;
        let deleted = sqlx::query_scalar::<DB, String>(DELETE)
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(self.error("delete an installation"))?;
        Ok(deleted.is_some())
    }

    #[tracing::instrument(name = "store.claim_flow", skip_all, fields(backend = self.dialect.name()))]
    async fn claim_flow(
        &self,
        flow_id: &str,
        expires_at: SystemTime,
    ) -> Result<FlowClaim, StoreError> {
        self.claim(flow_id, expires_at).await
    }

    #[tracing::instrument(name = "store.finish_flow", skip_all, fields(installation = ?installed, backend = self.dialect.name()))]
    async fn finish_flow(
        &self,
        flow_id: &str,
        installed: Option<&InstallationId>,
    ) -> Result<(), StoreError> {
        let _turn = self.writing().await;
        let outcome = if installed.is_some() {
            "installed"
        } else {
            "failed"
        };
        sqlx::query::<DB>(FINISH_FLOW)
            .bind(flow_id.to_owned())
            .bind(outcome.to_owned())
            .bind(installed.map(|id| id.as_str().to_owned()))
            .execute(&self.pool)
            .await
            .map_err(self.error("record how a flow ended"))?;
        Ok(())
    }
}

/// Implements [`InstallationStore`] for a backend type by handing every call to its `inner`
/// [`SqlStore`].
macro_rules! forward_to_sql_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::InstallationStore for $store {
            async fn insert(
                &self,
                installation: &$crate::installation::Installation,
            ) -> Result<(), $crate::store::StoreError> {
                self.inner.insert(installation).await
            }

            async fn insert_for_flow(
                &self,
                installation: &mut $crate::installation::Installation,
                flow_id: &str,
            ) -> Result<Option<$crate::installation::Installation>, $crate::store::StoreError> {
                self.inner.insert_for_flow(installation, flow_id).await
            }

            async fn get(
                &self,
                id: &$crate::installation::InstallationId,
            ) -> Result<Option<$crate::installation::Installation>, $crate::store::StoreError> {
                self.inner.get(id).await
            }

            async fn find_by_org(
                &self,
                org_id: &$crate::installation::OrgId,
            ) -> Result<Option<$crate::installation::Installation>, $crate::store::StoreError> {
                self.inner.find_by_org(org_id).await
            }

            async fn list(
                &self,
            ) -> Result<Vec<$crate::installation::Installation>, $crate::store::StoreError> {
                self.inner.list().await
            }

            async fn list_by_org(
                &self,
                org_id: &$crate::installation::OrgId,
            ) -> Result<Vec<$crate::installation::Installation>, $crate::store::StoreError> {
                self.inner.list_by_org(org_id).await
            }

            async fn set_api_key(
                &self,
                id: &$crate::installation::InstallationId,
                key: &$crate::installation::MarketplaceApiKey,
            ) -> Result<(), $crate::store::StoreError> {
                self.inner.set_api_key(id, key).await
            }

            async fn clear_api_key_request(
                &self,
                id: &$crate::installation::InstallationId,
            ) -> Result<(), $crate::store::StoreError> {
                self.inner.clear_api_key_request(id).await
            }

            async fn update_tokens(
                &self,
                id: &$crate::installation::InstallationId,
                expected_version: u64,
                tokens: &$crate::store::TokenUpdate,
            ) -> Result<u64, $crate::store::StoreError> {
                self.inner.update_tokens(id, expected_version, tokens).await
            }

            async fn acquire_refresh_lease(
                &self,
                id: &$crate::installation::InstallationId,
                holder: &str,
                until: ::std::time::SystemTime,
            ) -> Result<bool, $crate::store::StoreError> {
                self.inner.acquire_refresh_lease(id, holder, until).await
            }

            async fn release_refresh_lease(
                &self,
                id: &$crate::installation::InstallationId,
                holder: &str,
            ) -> Result<(), $crate::store::StoreError> {
                self.inner.release_refresh_lease(id, holder).await
            }

            async fn set_status(
                &self,
                id: &$crate::installation::InstallationId,
                status: &$crate::installation::InstallationStatus,
            ) -> Result<(), $crate::store::StoreError> {
                self.inner.set_status(id, status).await
            }

            async fn delete(
                &self,
                id: &$crate::installation::InstallationId,
            ) -> Result<bool, $crate::store::StoreError> {
                self.inner.delete(id).await
            }

            async fn claim_flow(
                &self,
                flow_id: &str,
                expires_at: ::std::time::SystemTime,
            ) -> Result<$crate::store::FlowClaim, $crate::store::StoreError> {
                self.inner.claim_flow(flow_id, expires_at).await
            }

            async fn finish_flow(
                &self,
                flow_id: &str,
                installed: Option<&$crate::installation::InstallationId>,
            ) -> Result<(), $crate::store::StoreError> {
                self.inner.finish_flow(flow_id, installed).await
            }
        }
    };
}

pub(super) use forward_to_sql_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_group_commit_keeps_the_database_code_and_its_hint() {
        // A full disk found at COMMIT (SQLite writes a transaction's pages to its log then).
        let failed = CommitFailed {
            code: Some("13".into()),
            message: "database or disk is full".into(),
        };
        let error = database_error(Dialect::Sqlite, "store an installation", failed.to_error());
        let shown = error.to_string();
        assert!(shown.contains("the disk is full"), "{shown}");
        assert!(shown.contains("database or disk is full"), "{shown}");
        // A failure the database did not name stays a plain message.
        let failed = CommitFailed::of(&sqlx::Error::PoolClosed);
        assert!(failed.code.is_none());
        assert!(matches!(failed.to_error(), sqlx::Error::Protocol(_)));
    }

    #[test]
    fn millis_round_trip_at_millisecond_precision() {
        for ms in [0, 1, 1_700_000_000_123, -1, -86_400_000] {
            assert_eq!(millis(from_millis(ms)), ms);
        }
        let now = SystemTime::now();
        let back = from_millis(millis(now));
        assert!(now.duration_since(back).unwrap() < Duration::from_millis(1));
    }

    #[test]
    fn a_sealed_secret_opens_only_in_its_own_row_and_column() {
        let sealer = Sealer::new(crate::seal::SealingKey::from_bytes("k", &[7; 32]).unwrap());
        let a = InstallationId::from_stored("inst_a");
        let b = InstallationId::from_stored("inst_b");
        let sealed = seal_str(&sealer, &a, "refresh_token", "rt-secret");
        assert!(!sealed.contains("rt-secret"));
        assert_eq!(
            open_str(&sealer, &a, "refresh_token", &sealed).unwrap(),
            "rt-secret"
        );
        assert!(matches!(
            open_str(&sealer, &b, "refresh_token", &sealed),
            Err(StoreError::Sealed { .. })
        ));
        assert!(matches!(
            open_str(&sealer, &a, "access_token", &sealed),
            Err(StoreError::Sealed { .. })
        ));
    }

    #[test]
    fn every_status_survives_its_columns() {
        for status in [
            InstallationStatus::Active,
            InstallationStatus::Revoked(Revocation::new(
                crate::installation::RevocationCause::Refused,
                Some("Invalid refresh token: it was revoked".into()),
            )),
            InstallationStatus::Revoked(Revocation::new(
                crate::installation::RevocationCause::AnswerLost,
                None,
            )),
            InstallationStatus::Removed,
            InstallationStatus::Replaced {
                by: InstallationId::from_stored("inst_new"),
            },
        ] {
            let (text, reason, by) = status_columns(&status);
            let row_status = status_from_columns(text, reason, by).unwrap();
            assert_eq!(row_status, status);
        }
        // A reason an older version stored as free text is read as an unknown cause.
        let legacy = status_from_columns(
            "revoked",
            Some("Datadog refused the refresh token (invalid_grant): gone".into()),
            None,
        )
        .unwrap();
        assert!(matches!(
            legacy,
            InstallationStatus::Revoked(Revocation {
                cause: crate::installation::RevocationCause::Unknown,
                detail: Some(ref d),
            }) if d.starts_with("Datadog refused")
        ));
        assert!(status_from_columns("paused", None, None).is_err());
        assert!(status_from_columns("replaced", None, None).is_err());
    }
}
