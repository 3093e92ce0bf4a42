//! The refresh storm: OS processes sharing one store, 100 installations whose access tokens
//! need a refresh at the same moment, 250 concurrent callers per process, the sandbox in strict
//! rotation. Exactly one refresh per installation reaches Datadog, no caller sees an error, and
//! no installation is lost.
//!
//! - 4 processes on one PostgreSQL (a real server: see `support/postgres.rs`);
//! - 2 processes on one SQLite file.
//!
//! The sandbox runs in this test process; the workers (`src/bin/lifecycle_worker.rs`) reach it
//! on loopback. Each prints the fingerprints of the tokens its callers got.

#[path = "support/postgres.rs"]
mod postgres_support;

use std::sync::Arc;

use dd_integration::store::{PostgresStore, SqliteStore};
use dd_integration_tests::lifecycle::{Lab, refresh_storm};

const WORKER: &str = env!("CARGO_BIN_EXE_lifecycle_worker");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_postgres_refresh_each_installation_exactly_once() {
    let Some(server) = postgres_support::server() else {
        return;
    };
    let url = server.database().await;
    let lab = Lab::start().await;
    let store = Arc::new(PostgresStore::connect(&url, lab.sealer()).await.unwrap());
    refresh_storm(WORKER, &lab, store, &format!("postgres:{url}"), 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_sqlite_refresh_each_installation_exactly_once() {
    let dir = std::env::temp_dir().join(format!("dd-storm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("installations.db");
    let lab = Lab::start().await;
    let store = Arc::new(SqliteStore::open(&path, lab.sealer()).await.unwrap());
    refresh_storm(
        WORKER,
        &lab,
        store,
        &format!("sqlite:{}", path.display()),
        2,
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}
