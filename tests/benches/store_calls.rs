//! The CPU each of the install's three store calls costs on PostgreSQL, the client's (the
//! SDK, sqlx, sealing) and the server's apart, one call at a time: what an install costs the
//! database before any contention.
//!
//! `cargo bench -p dd-integration-tests --bench store_calls`
//!
//! Each round makes `BENCH_CALLS` (default 3,000) installs' calls, one call type after the
//! other: `claim_flow` (unsynced), `insert_for_flow` (a new org each, so nothing is replaced),
//! `set_api_key`. The client's CPU is this thread's (the runtime is single-threaded); the
//! server's is the throwaway cluster's (its postmaster and the postmaster's children), or every
//! `postgres` process's on the machine for a server someone else started; both from
//! `schedstat`. A throwaway cluster from Debian's binaries with `fsync=on` and
//! `synchronous_commit=on`, unless `DD_TEST_POSTGRES_URL` names a server (its CPU shows as
//! `n/a` when no `postgres` process runs here).

#[path = "../tests/support/postgres.rs"]
mod postgres_support;

use std::time::{Duration, SystemTime};

use dd_integration::store::conformance::{sample_api_key, sample_installation};
use dd_integration::store::{InstallationStore, PostgresStore};
use dd_integration::{Sealer, SealingKey};
use dd_integration_tests::cpu::{postgres_by_pid, postgres_since, this_thread};

/// The CPU `work` cost this thread and, when the cluster runs here, the `postgres` processes
/// (ns). The thread's clock is read inside the server's, so neither counts the other's reading.
async fn spent(postmaster: Option<u32>, work: impl Future<Output = ()>) -> (u64, Option<u64>) {
    let server_before = postgres_by_pid(postmaster);
    let client_before = this_thread();
    work.await;
    let client = this_thread() - client_before;
    let server_after = postgres_by_pid(postmaster);
    let server = (!server_after.is_empty()).then(|| postgres_since(&server_before, &server_after));
    (client, server)
}

fn main() {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server =
            match postgres_support::PostgresServer::find(postgres_support::Durability::Full) {
                Ok(server) => server,
                Err(why) => {
                    eprintln!("PostgreSQL SKIPPED: {why}");
                    return;
                }
            };
        let postmaster = server.postmaster();
        let url = server.database().await;
        let sealer = Sealer::new(SealingKey::from_bytes("bench", &[0x42; 32]).unwrap());
        let store = PostgresStore::connect(&url, sealer).await.unwrap();
        let kept_until = SystemTime::now() + Duration::from_secs(600);
        let key = sample_api_key();
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!("load average at the start: {}", load.trim());
        // The first round warms the connections and the prepared statements.
        for round in 0..3 {
            let flows: Vec<String> = (0..calls).map(|i| format!("flow-{round}-{i}")).collect();
            let mut installs: Vec<_> = (0..calls)
                .map(|i| sample_installation(&format!("org-{round}-{i}")))
                .collect();
            let mut line = format!("round {round}: CPU per call, client / server (us):");
            let mut report = |call: &str, (client, server): (u64, Option<u64>)| {
                let us = |ns: u64| format!("{:.1}", ns as f64 / 1e3 / calls as f64);
                line.push_str(&format!(
                    " {call} {} / {};",
                    us(client),
                    server.map_or("n/a".into(), us)
                ));
            };
            report(
                "claim_flow",
                spent(postmaster, async {
                    for flow in &flows {
                        store.claim_flow(flow, kept_until).await.unwrap();
                    }
                })
                .await,
            );
            report(
                "insert_for_flow",
                spent(postmaster, async {
                    for (installation, flow) in installs.iter_mut().zip(&flows) {
                        store.insert_for_flow(installation, flow).await.unwrap();
                    }
                })
                .await,
            );
            report(
                "set_api_key",
                spent(postmaster, async {
                    for installation in &installs {
                        store.set_api_key(&installation.id, &key).await.unwrap();
                    }
                })
                .await,
            );
            println!("{line}");
        }
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!("load average at the end: {}", load.trim());
    });
}
