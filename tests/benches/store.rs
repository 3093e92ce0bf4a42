//! Installs stored per second, on SQLite and on PostgreSQL.
//!
//! One install's writes, as the install flow does them: `insert` (tokens sealed, the previous
//! installation of the org marked replaced in the same transaction when there is one), then
//! `set_api_key`. Sequential (one install at a time, each waiting for the last) and with 8 at
//! once. Both databases sync every commit to disk: SQLite in WAL mode with `synchronous=FULL`,
//! PostgreSQL with its defaults (`fsync=on`, `synchronous_commit=on`), a throwaway cluster from
//! Debian's binaries unless `DD_TEST_POSTGRES_URL` names a server.
//!
//! `cargo bench -p dd-integration-tests --bench store`

#[path = "../tests/support/postgres.rs"]
mod postgres_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dd_integration::store::conformance::{sample_api_key, sample_installation};
use dd_integration::store::{InstallationStore, PostgresStore, SqliteStore};
use dd_integration::{Sealer, SealingKey};

const INSTALLS: usize = 2000;
const RUNS: usize = 3;

fn sealer() -> Sealer {
    Sealer::new(SealingKey::from_bytes("bench", &[0x42; 32]).unwrap())
}

/// Stores `count` installs with `parallel` at once; the elapsed time.
async fn install(
    store: &Arc<dyn InstallationStore>,
    count: usize,
    parallel: usize,
    with_key: bool,
) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = (0..parallel)
        .map(|worker| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                for n in (worker..count).step_by(parallel) {
                    let installation = sample_installation(&format!("org-{n}"));
                    store.insert(&installation).await.unwrap();
                    if with_key {
                        store
                            .set_api_key(&installation.id, &sample_api_key())
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

async fn measure(name: &str, store: Arc<dyn InstallationStore>) {
    // Warm up: connections open, statements prepared, files grown.
    install(&store, 200, 8, true).await;
    for (what, with_key) in [("insert + set_api_key", true), ("insert only", false)] {
        for parallel in [1, 8] {
            let mut rates: Vec<f64> = (0..RUNS).map(|_| 0.0).collect();
            for rate in &mut rates {
                let elapsed = install(&store, INSTALLS, parallel, with_key).await;
                *rate = INSTALLS as f64 / elapsed.as_secs_f64();
            }
            rates.sort_by(f64::total_cmp);
            println!(
                "{name:<10} {what:<21} {parallel} at once: median {:>7.0} installs/s (runs: {})",
                rates[RUNS / 2],
                rates
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("dd-store-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sqlite = SqliteStore::open(dir.join("bench.sqlite"), sealer())
            .await
            .unwrap();
        measure("SQLite", Arc::new(sqlite)).await;
        let _ = std::fs::remove_dir_all(&dir);

        match postgres_support::PostgresServer::find(postgres_support::Durability::Full) {
            Ok(server) => {
                let url = server.database().await;
                let postgres = PostgresStore::connect(&url, sealer()).await.unwrap();
                measure("PostgreSQL", Arc::new(postgres)).await;
            }
            Err(why) => eprintln!("PostgreSQL SKIPPED: {why}"),
        }
    });
}
