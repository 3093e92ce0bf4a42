//! [`SqliteStore`]: installations in one SQLite file, the embedded default.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::StoreError;
use super::sql::{Dialect, ResealReport, SqlStore, database_error, forward_to_sql_store};
use crate::seal::Sealer;

/// How long a statement waits for another process's write lock on the file before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Connections to the file; SQLite writes one at a time, so more would only wait.
const MAX_CONNECTIONS: u32 = 4;

/// Installations in one SQLite file: the embedded default, for one host.
///
/// The file is in WAL mode with `synchronous = FULL`, so a write that returned survives a crash
/// or a power cut, and readers never wait for the writer. Several processes on the host may
/// open the same file: writes wait their turn (up to a 15 s busy timeout), and leases,
/// compare-and-swap and flow claims hold across processes. The file must be on a local disk
/// (SQLite's locks do not hold on network file systems); for several hosts, use
/// `PostgresStore`.
///
/// Secrets are sealed with the [`Sealer`] before they reach the file.
///
/// # File permissions (Unix)
///
/// The file holds, in the clear, each installation's org id and name, site, scopes and partner
/// account, and the flows in progress; so it is for the service's user alone. A file the store
/// creates is created `0600` (owner read and write; the process's umask can only remove from
/// that), and SQLite creates its `-wal` and `-shm` companions with the file's mode. A file that
/// already exists and that the group or other users may read or write (a store created before
/// this check, or a `touch` under a `022` umask) is tightened at open to the owner's bits
/// (at least read and write), its companions too, with a warning in the log; if the process
/// cannot change it (it is not the file's owner), the warning says so and the store opens
/// anyway. Sharing the file with another user through its group is therefore not supported.
///
/// This holds for a plain path (SQLite reads a name starting with `file:` as a URI, which the
/// store passes on as it is). The store creates no directory: put the file in a directory only
/// the service's user can write (not a shared one such as `/tmp`, where another user could
/// create the file, or a link, first).
///
/// ```
/// use std::sync::Arc;
/// use dd_integration::{InstallationStore, Sealer, SealingKey, SqliteStore};
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::env::temp_dir().join(format!("dd-sqlite-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// // The sealing key from the partner's secret manager (`dd-sealing-key` makes one).
/// let sealer = Sealer::new(SealingKey::generate("k1")?.0);
/// let store = SqliteStore::open(dir.join("installations.sqlite"), sealer).await?;
/// assert!(store.list().await?.is_empty());
/// // Give it to the installer: `Installer::<MyIntegration>::builder().store(Arc::new(store))`.
/// let _shared: Arc<dyn InstallationStore> = Arc::new(store);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
pub struct SqliteStore {
    inner: SqlStore<sqlx::Sqlite>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens the SQLite file at `path`, creating it if it does not exist, and brings its schema
    /// up to date.
    pub async fn open(path: impl AsRef<Path>, sealer: Sealer) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        #[cfg(unix)]
        owner_only(&path);
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        // Switching a new file to WAL needs it alone for a moment, and SQLite may answer
        // `SQLITE_BUSY` at once, without its busy handler, while another connection (in this
        // process or another) opens the same new file: wait a little and open again, up to the
        // busy timeout.
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(10);
        let pool = loop {
            let opened = SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                // No server can close a connection to a file: checking each one as it goes out
                // would only add a round trip to its thread to every statement.
                .test_before_acquire(false)
                .acquire_timeout(BUSY_TIMEOUT * 2)
                .connect_with(options.clone())
                .await;
            match opened {
                Ok(pool) => break pool,
                Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                    tracing::debug!(path = %path.display(), "SQLite file busy while opening; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(250));
                }
                Err(e) => {
                    return Err(database_error(
                        Dialect::Sqlite,
                        &format!("open the file {}", path.display()),
                        e,
                    ));
                }
            }
        };
        let inner = SqlStore::new(pool, sealer, Dialect::Sqlite, None).await?;
        tracing::info!(path = %path.display(), "SQLite installation store opened");
        Ok(SqliteStore { inner, path })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the store's connections, waiting for those in use. Later calls fail.
    pub async fn close(&self) {
        self.inner.close().await;
    }
    /// Seals again, under the sealer's current key, every secret sealed under an older key
    /// ([`Sealer::with_older_key`]), so that the older key can be dropped without losing a
    /// customer's tokens or API key. Safe while the store is in use, from any number of
    /// processes. Run it once every process seals under the new key as current; drop the
    /// older key only when the report's `remaining` is 0.
    ///
    /// # Errors
    /// [`StoreError::Sealed`] for a value no key of the sealer opens (the older key was dropped
    /// too soon: add it back), or a database failure.
    pub async fn reseal(&self) -> Result<ResealReport, StoreError> {
        self.inner.reseal().await
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

forward_to_sql_store!(SqliteStore);

/// The companions SQLite keeps beside the file: the write-ahead log, its shared-memory index,
/// and the rollback journal (used before the file is in WAL mode).
#[cfg(unix)]
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Creates the file at `path` readable and writable by its owner only (`0600`) if it does not
/// exist, before SQLite opens it (SQLite would create it `0644` under the usual umask); if it
/// exists, tightens it and its companions to their owner's bits. Failures are logged, not
/// returned: SQLite's own open reports a missing directory or a denied access better.
#[cfg(unix)]
fn owner_only(path: &Path) {
    use std::os::unix::fs::OpenOptionsExt;

    // What SQLite reads as no file at all (`:memory:`, a temporary database) or as a URI: not a
    // path to create here.
    let name = path.as_os_str().as_encoded_bytes();
    if name.is_empty() || name == b":memory:" || name.starts_with(b"file:") {
        tracing::debug!(path = %path.display(), "not a plain path: permissions left to SQLite");
        return;
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => tracing::debug!(path = %path.display(), "SQLite file created 0600"),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        // SQLite's open fails next, and says what to do.
        Err(_) => return,
    }
    tighten(path);
    for suffix in COMPANIONS {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        tighten(Path::new(&companion));
    }
}

/// Removes the group's and other users' bits from an existing file's mode (keeping its owner's
/// read and write), with a warning; nothing if it does not exist or is already owner-only.
#[cfg(unix)]
fn tighten(file: &Path) {
    use std::os::unix::fs::PermissionsExt;

    let Ok(metadata) = std::fs::metadata(file) else {
        return;
    };
    if !metadata.is_file() {
        return;
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return;
    }
    let tightened = (mode & 0o700) | 0o600;
    match std::fs::set_permissions(file, std::fs::Permissions::from_mode(tightened)) {
        Ok(()) => tracing::warn!(
            path = %file.display(),
            "the SQLite installation store's file was {mode:04o}, open to other users: now {tightened:04o}"
        ),
        Err(e) => tracing::warn!(
            path = %file.display(),
            error = %e,
            "the SQLite installation store's file is {mode:04o}, open to other users, and could not be changed: make it 0600"
        ),
    }
}

/// `SQLITE_BUSY` and its extended codes (`SQLITE_BUSY_RECOVERY`, `SQLITE_BUSY_SNAPSHOT`), and
/// `SQLITE_LOCKED`.
fn is_busy(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("5" | "6" | "261" | "517"))
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::store::InstallationStore;
    use crate::store::conformance::{sample_api_key, sample_installation};

    /// A file of its own in the temporary directory, removed with its companions on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str) -> TempFile {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).unwrap();
            let tag: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            TempFile(std::env::temp_dir().join(format!("dd-{name}-{tag}.sqlite")))
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut path = self.0.as_os_str().to_owned();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// Under many concurrent installs' writes, a write outside the group commit (here a status
    /// change, as an uninstall makes) waits for the turn under way, not for every write queued
    /// behind it. Counted in turns (the group commit's takings of the write lock), not in time.
    /// When each write's task waited for the lock itself, most of them finding their write
    /// already committed by an earlier turn, the tasks queued faster than they drained: the
    /// status change never got the lock while the writers ran.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_outside_the_group_commit_waits_for_the_turn_under_way() {
        const WRITERS: usize = 48;
        let file = TempFile::new("turns");
        let sealer = Sealer::new(crate::seal::SealingKey::from_bytes("k", &[7; 32]).unwrap());
        let store = Arc::new(SqliteStore::open(&file.0, sealer).await.unwrap());
        let mut ids = Vec::new();
        for i in 0..=WRITERS {
            let installation = sample_installation(&format!("org-{i}"));
            store.insert(&installation).await.unwrap();
            ids.push(installation.id);
        }
        let target = ids.pop().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = tokio::task::JoinSet::new();
        for id in ids {
            let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
            writers.spawn(async move {
                let mut writes = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    store.set_api_key(&id, &sample_api_key()).await.unwrap();
                    writes += 1;
                }
                writes
            });
        }
        // Wait for the writers to be under way, whatever the machine's speed (a bound on a
        // hang, should they fail).
        tokio::time::timeout(Duration::from_secs(60), async {
            while store.inner.turns() < 50 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the writers took no 50 turns in a minute");
        let mut waited = Vec::new();
        for _ in 0..5 {
            let before = store.inner.turns();
            // A bound on a hang, not a measure: before, the change never got the lock while the
            // writers ran (and their queued tasks grew by gigabytes a minute).
            tokio::time::timeout(
                Duration::from_secs(60),
                store.set_status(&target, &crate::installation::InstallationStatus::Active),
            )
            .await
            .expect("a write outside the group commit got no turn in a minute")
            .unwrap();
            waited.push(store.inner.turns() - before);
        }
        stop.store(true, Ordering::Relaxed);
        let mut writes = 0;
        while let Some(done) = writers.join_next().await {
            writes += done.unwrap();
        }
        assert!(writes > 0);
        // The status change takes the lock after the turn under way, and the group commit may
        // take one more before the change is seen done: two. The least of five tries, as the
        // test's task may be paused between reading the count and asking for the lock.
        assert!(
            waited.iter().min().is_some_and(|&w| w <= 2),
            "a write outside the group commit waited for {waited:?} turns"
        );
    }
}
