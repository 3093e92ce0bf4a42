//! Wall time of the refresh storm (see `tests/refresh_storm.rs`): 100 installations due for a
//! refresh at once, 250 concurrent callers per process, the sandbox in strict rotation;
//! 4 processes on PostgreSQL (fsync on), then 2 processes on SQLite (`synchronous = FULL`).
//! Three runs each, on fresh databases: `cargo bench -p dd-integration-tests --bench refresh_storm`.
//!
//! The time runs from the go signal to the last process's report: every caller of every process
//! has its token. The checks of the test run too.

#[path = "../tests/support/postgres.rs"]
mod postgres_support;

use std::sync::Arc;
use std::time::Duration;

use dd_integration::store::{PostgresStore, SqliteStore};
use dd_integration_tests::lifecycle::{Lab, refresh_storm};

const WORKER: &str = env!("CARGO_BIN_EXE_lifecycle_worker");
const RUNS: usize = 3;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    match postgres_support::PostgresServer::find(postgres_support::Durability::Full) {
        Ok(server) => {
            let mut walls = Vec::new();
            for _ in 0..RUNS {
                let url = server.database().await;
                let lab = Lab::start().await;
                let store = Arc::new(PostgresStore::connect(&url, lab.sealer()).await.unwrap());
                walls.push(refresh_storm(WORKER, &lab, store, &format!("postgres:{url}"), 4).await);
            }
            report("PostgreSQL, 4 processes", walls);
        }
        Err(why) => println!("PostgreSQL storm skipped: {why}"),
    }
    let mut walls = Vec::new();
    for run in 0..RUNS {
        let dir = std::env::temp_dir().join(format!("dd-storm-bench-{}-{run}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("installations.db");
        let lab = Lab::start().await;
        let store = Arc::new(SqliteStore::open(&path, lab.sealer()).await.unwrap());
        walls.push(
            refresh_storm(
                WORKER,
                &lab,
                store,
                &format!("sqlite:{}", path.display()),
                2,
            )
            .await,
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    report("SQLite, 2 processes", walls);
}

fn report(what: &str, mut walls: Vec<Duration>) {
    walls.sort();
    println!(
        "refresh storm, {what}: median {:?}, runs {:?}",
        walls[walls.len() / 2],
        walls
    );
}
