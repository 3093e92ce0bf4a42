//! The cached path of `access_token()`, and the memory a cached installation costs:
//! `cargo bench -p dd-integration-tests --bench tokens`.
//!
//! - Latency: one thread, batches of 1000 calls on a handle whose token is cached; the median
//!   and the 99th percentile of the per-call time over 2000 batches. Also through
//!   `Tokens::access_token(&id)`, which adds the map look-up.
//! - Throughput: two threads (the machine's two cores), each calling for 2 s on one shared
//!   installation, then on installations of their own.
//! - Memory: the process's resident set before and after caching 100,000 installations (a
//!   counting allocator would need `unsafe impl GlobalAlloc`, which the workspace forbids).
//!   Includes the map, the entries, their token copies and the allocator's own overhead.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dd_integration::hooks::NoHooks;
use dd_integration::secret::AccessToken;
use dd_integration::tokens::{InstallationHandle, Tokens};
use dd_integration::{InstallationId, InstallationStore, MemoryStore};
use dd_integration_tests::lifecycle::{Lab, test_settings};

const BATCH: u32 = 1000;
const SAMPLES: usize = 2000;
const CACHED: usize = 100_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (installer, installations, _lab) = runtime.block_on(async {
        let lab = Lab::start().await;
        let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
        let installer = lab.installer(store, NoHooks, test_settings());
        let installations = lab.install_many(&installer, 2).await;
        (installer, installations, lab)
    });
    let tokens = installer.tokens();
    let handles: Vec<InstallationHandle> = installations
        .iter()
        .map(|i| tokens.installation(&i.id))
        .collect();
    for handle in &handles {
        runtime
            .block_on(handle.access_token())
            .expect("the token is cached");
    }

    println!("access_token() on a cached token, one thread ({SAMPLES} batches of {BATCH}):");
    let (median, p99) = latency(|| handles[0].access_token());
    println!("  handle.access_token():          median {median:.1} ns, p99 {p99:.1} ns");
    let id = installations[0].id.clone();
    let (median, p99) = latency(|| tokens.access_token(&id));
    println!("  tokens.access_token(&id):       median {median:.1} ns, p99 {p99:.1} ns");

    println!("access_token() on cached tokens, two threads, 2 s:");
    let shared = throughput([handles[0].clone(), handles[0].clone()]);
    println!(
        "  one shared installation:        {:.2} M calls/s",
        shared / 1e6
    );
    let own = throughput([handles[0].clone(), handles[1].clone()]);
    println!(
        "  one installation per thread:    {:.2} M calls/s",
        own / 1e6
    );

    println!("memory per cached installation ({CACHED} installations, resident set delta):");
    let template = installations[0].clone();
    let records: Vec<_> = (0..CACHED)
        .map(|i| {
            let mut record = template.clone();
            record.id = InstallationId::generate();
            // A token as long as the sandbox's, distinct per installation.
            record.access_token = AccessToken::new(format!(
                "{:0>width$}",
                i,
                width = template.access_token.expose_secret().len()
            ));
            record
        })
        .collect();
    // A manager of its own, so that only these installations are in its cache.
    let cache = Tokens::builder(installer.oauth().clone(), Arc::new(MemoryStore::new()))
        .settings(test_settings())
        .build();
    let before = resident_bytes();
    for record in &records {
        cache.warm(record);
    }
    let after = resident_bytes();
    // Every record is cached and answered from memory.
    for record in records.iter().step_by(997) {
        let token = runtime
            .block_on(cache.access_token(&record.id))
            .expect("cached");
        assert_eq!(token, record.access_token);
    }
    println!(
        "  {} bytes per installation ({:.1} MiB for {CACHED})",
        (after - before) / CACHED as u64,
        (after - before) as f64 / (1 << 20) as f64
    );
    drop(records);
}

/// Per-call nanoseconds of `call` (a future that completes at its first poll): median and p99
/// over batches.
fn latency<F, Fut>(call: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<AccessToken, dd_integration::TokenError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut samples = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES / 10 {
            black_box(call().await.expect("cached"));
        }
        for _ in 0..SAMPLES {
            let started = Instant::now();
            for _ in 0..BATCH {
                black_box(call().await.expect("cached"));
            }
            samples.push(started.elapsed().as_nanos() as f64 / f64::from(BATCH));
        }
        samples.sort_by(f64::total_cmp);
        (samples[SAMPLES / 2], samples[SAMPLES * 99 / 100])
    })
}

/// Calls per second of two threads calling `handles[i]` for 2 s each.
fn throughput(handles: [InstallationHandle; 2]) -> f64 {
    let run = Duration::from_secs(2);
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let threads: Vec<_> = handles
            .iter()
            .map(|handle| {
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .expect("a runtime");
                    runtime.block_on(async {
                        let started = Instant::now();
                        let mut calls = 0u64;
                        while started.elapsed() < run {
                            for _ in 0..BATCH {
                                black_box(handle.access_token().await.expect("cached"));
                            }
                            calls += u64::from(BATCH);
                        }
                        calls as f64 / started.elapsed().as_secs_f64()
                    })
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a bench thread") as u64)
            .collect()
    });
    counts.iter().sum::<u64>() as f64
}

/// The process's resident set, from `/proc/self/statm`.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("statm's resident field");
    pages * 4096
}
