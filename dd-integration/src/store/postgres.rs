//! [`PostgresStore`]: installations in PostgreSQL, for several replicas.

use std::fmt;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::StoreError;
use super::sql::{Dialect, Liveness, ResealReport, SqlStore, database_error, forward_to_sql_store};
use crate::seal::Sealer;

/// Connections each process keeps at most.
const MAX_CONNECTIONS: u32 = 10;

/// How long a call waits for a free connection (or for the server to answer a new one).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection idle at least this long is checked (one round trip) before a call uses it: the
/// server may have closed it meanwhile (a restart, a fail-over, an idle timeout), and a fresh
/// one is taken instead. A connection in steady use is not checked again: the pool already
/// checks each one when it comes back, so checking it again as it goes out would add a round
/// trip to every statement. (The install's three statements keep their connection between
/// them rather than give it back; one kept this long goes back through the pool and its check.) The price: a connection the server closes within a second of its
/// last use (a fail-over under load) fails the one call made on it next, which the caller sees
/// as a database error; after that every connection is checked for a few seconds
/// (`Liveness`), so a retried call (the marketplace key's store is retried) meets a live one.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);

/// Installations in a PostgreSQL database: for several replicas behind a load balancer.
///
/// Every replica connects to the same database. Refresh leases, compare-and-swap on the
/// version and flow claims are single conditional statements, so they hold across any number
/// of processes. The tables (`dd_installations`, `dd_flows`, `dd_schema_version`) are created in
/// the connection's current schema when the store first connects; to keep them apart from the
/// partner's own tables, give the user a schema of its own (`search_path`).
///
/// A refresh lease's expiry is judged by the clock of the process that takes it: keep the
/// replicas' clocks in sync (NTP), well within a lease's length.
///
/// Secrets are sealed with the [`Sealer`] before they reach the database, so neither the
/// database nor its backups hold a usable token or key.
pub struct PostgresStore {
    inner: SqlStore<sqlx::Postgres>,
    shown: String,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:5432/database`; a
    /// Unix socket as `postgres://user@localhost/database?host=/run/postgresql`) and brings
    /// its schema up to date. The password is never logged nor shown in errors.
    ///
    /// TLS (rustls) follows the URL's `sslmode`: `prefer` by default (TLS when the server
    /// offers it), `require` (TLS, any certificate), `verify-full` (TLS, the certificate checked
    /// for the host against the Mozilla roots, or against the PEM file `sslrootcert` names,
    /// such as a cloud provider's CA bundle). Managed servers that require TLS want
    /// `verify-full`.
    pub async fn connect(url: &str, sealer: Sealer) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with_pool(url, sealer, MAX_CONNECTIONS).await
    }

    /// As [`PostgresStore::connect`], with at most `max_connections` connections from this
    /// process (10 by default). Mind the server's `max_connections` across all replicas.
    ///
    /// The install's three statements (the flow's claim, the installation, its key) keep their
    /// connection between them rather than give it back to the pool after each one (which
    /// would ping it, a second round trip each); they use at most half of `max_connections` at
    /// once, so the store's other calls always find a connection. A process that runs many
    /// installs at once against a database far away may want a larger pool.
    pub async fn connect_with_pool(
        url: &str,
        sealer: Sealer,
        max_connections: u32,
    ) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_checking_idle_after(url, sealer, max_connections, CHECK_IDLE_AFTER)
            .await
    }

    /// As [`PostgresStore::connect_with_pool`], checking a connection before use once it sat
    /// idle for `idle_after` (a second by default). For tests that close connections on the
    /// server.
    #[doc(hidden)]
    pub async fn connect_checking_idle_after(
        url: &str,
        sealer: Sealer,
        max_connections: u32,
        idle_after: Duration,
    ) -> Result<PostgresStore, StoreError> {
        let shown = shown_url(url);
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| {
                database_error(
                    Dialect::Postgres,
                    &format!(
                        "read the URL {shown} (expected postgres://user:password@host:port/database)"
                    ),
                    e,
                )
            })?
            .application_name("dd-integration");
        let liveness = Arc::new(Liveness::new(idle_after));
        let checks = Arc::clone(&liveness);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let check = checks.must_check(meta.idle_for);
                Box::pin(async move {
                    if check {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| database_error(Dialect::Postgres, &format!("connect to {shown}"), e))?;
        let inner = SqlStore::new(pool, sealer, Dialect::Postgres, Some(liveness)).await?;
        tracing::info!(database = %shown, "PostgreSQL installation store connected");
        Ok(PostgresStore { inner, shown })
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

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.shown)
            .finish_non_exhaustive()
    }
}

forward_to_sql_store!(PostgresStore);

/// The URL without its password or any query parameter but `host` (a socket directory): what
/// is safe to log and show.
fn shown_url(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "(a URL that does not parse)".to_owned();
    };
    let mut shown = format!("{}://", parsed.scheme());
    if !parsed.username().is_empty() {
        shown.push_str(parsed.username());
        shown.push('@');
    }
    shown.push_str(parsed.host_str().unwrap_or(""));
    if let Some(port) = parsed.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(parsed.path());
    if let Some((_, host)) = parsed.query_pairs().find(|(k, _)| k == "host") {
        shown.push_str(&format!("?host={host}"));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_carry_no_password() {
        assert_eq!(
            shown_url("postgres://app:hunter2@db.internal:5433/installs?sslmode=require"),
            "postgres://app@db.internal:5433/installs"
        );
        assert_eq!(
            shown_url("postgres://app@localhost/db?password=hunter2&host=/run/postgresql"),
            "postgres://app@localhost/db?host=/run/postgresql"
        );
        assert!(!shown_url("postgres://a:hunter2@[::1/x").contains("hunter2"));
    }

    #[tokio::test]
    async fn a_bad_url_is_refused_without_showing_the_password() {
        let sealer = Sealer::new(crate::seal::SealingKey::from_bytes("k", &[1; 32]).unwrap());
        let error = PostgresStore::connect(
            "postgres://app:hunter2@127.0.0.1:1/db?sslmode=bogus",
            sealer,
        )
        .await
        .unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://app@127.0.0.1:1/db"), "{shown}");
    }
}
