//! One replica of a partner's service, as a separate OS process, for the multi-process tests
//! (`refresh_storm.rs`, `crash.rs`). The test runs the Datadog sandbox and the database, and
//! passes everything in environment variables (see `lifecycle::Config`) plus:
//!
//! - `DD_TEST_STORE`: `sqlite:<path>` or `postgres:<url>`;
//! - `DD_TEST_MODE`:
//!   - `storm`: prints `READY`, waits for a line on stdin, then runs `DD_TEST_CALLERS` concurrent
//!     callers, each asking a token for every installation of `DD_TEST_IDS` (comma-separated)
//!     once; prints one JSON line `{"calls":..,"errors":[..],"seen":{"<id>":["<fingerprint>"]}}`;
//!   - `token`: one `access_token()` for `DD_TEST_IDS`; prints `OK <fingerprint>` or
//!     `ERR <reauthorize|transient|other> <message>`;
//!   - `callback`: the browser's arrival at `DD_TEST_CALLBACK` with the `Cookie` header
//!     `DD_TEST_COOKIE`; prints `STATUS <code>`;
//! - `DD_TEST_PAUSE_AT`: a point at which to print `PAUSED <point>` and hang (for the test to
//!   kill the process exactly there): `refresh_before_token_call` (the journal mark is written,
//!   the refresh token not yet sent), `refresh_after_token_call` (Datadog answered; the new
//!   tokens are not written), `refresh_after_write`, `install_before_token_call` (the flow is
//!   claimed, the code not yet exchanged), `install_after_token_call` (exchanged, not stored),
//!   `install_after_write` (stored; no API key yet), `install_after_key_call` (Datadog created
//!   the marketplace API key; it is not stored).
//!
//! The pause points sit in a store wrapper: the SDK carries no test hook.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use dd_integration::hooks::NoHooks;
use dd_integration::store::{PostgresStore, SqliteStore};
use dd_integration::{InstallationId, InstallationStore, Sealer, SealingKey};
use dd_integration_tests::lifecycle::{
    Config, PendingCallback, StoreCall, StoreTap, Tapped, fingerprint, test_settings,
};
use tokio::io::AsyncBufReadExt as _;
use url::Url;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let config = Config::from_env();
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let pause = Pause(std::env::var("DD_TEST_PAUSE_AT").ok());
    let store = Arc::new(Tapped {
        inner: open_store(&config, &var("DD_TEST_STORE")).await,
        tap: pause,
    });
    let installer = config.installer(store, NoHooks, test_settings(), |b| b);
    let ids: Vec<InstallationId> = var("DD_TEST_IDS")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(InstallationId::from_stored)
        .collect();
    match var("DD_TEST_MODE").as_str() {
        "storm" => {
            let callers = var("DD_TEST_CALLERS").parse().unwrap_or(250);
            say("READY");
            let mut go = String::new();
            tokio::io::BufReader::new(tokio::io::stdin())
                .read_line(&mut go)
                .await
                .expect("a go line on stdin");
            let report = storm(&installer, &ids, callers).await;
            say(&report.to_string());
        }
        "token" => {
            let id = ids.first().expect("DD_TEST_IDS names an installation");
            match installer.tokens().access_token(id).await {
                Ok(token) => say(&format!("OK {}", fingerprint(&token))),
                Err(e) => {
                    let kind = if e.needs_reauthorization() {
                        "reauthorize"
                    } else if e.is_transient() {
                        "transient"
                    } else {
                        "other"
                    };
                    say(&format!("ERR {kind} {e}"));
                }
            }
        }
        "callback" => {
            let pending = PendingCallback {
                callback: Url::parse(&var("DD_TEST_CALLBACK")).expect("DD_TEST_CALLBACK is a URL"),
                cookie: var("DD_TEST_COOKIE"),
            };
            let page = pending.finish(&installer).await;
            say(&format!("STATUS {}", page.status().as_u16()));
        }
        other => panic!("unknown DD_TEST_MODE `{other}`"),
    }
}

/// `callers` concurrent callers; caller `c` asks for installation `(c + k) % n` at step `k`, so
/// every installation is asked for by every caller, in staggered orders.
async fn storm(
    installer: &dd_integration::Installer<dd_integration_tests::integration::AcmePager>,
    ids: &[InstallationId],
    callers: usize,
) -> serde_json::Value {
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..callers {
        let tokens = installer.tokens().clone();
        let ids = ids.to_vec();
        tasks.spawn(async move {
            let mut outcomes = Vec::with_capacity(ids.len());
            for k in 0..ids.len() {
                let id = &ids[(c + k) % ids.len()];
                outcomes.push((id.clone(), tokens.access_token(id).await));
            }
            outcomes
        });
    }
    let mut calls = 0;
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        for (id, outcome) in done.expect("a caller panicked") {
            calls += 1;
            match outcome {
                Ok(token) => {
                    seen.entry(id.to_string())
                        .or_default()
                        .insert(fingerprint(&token));
                }
                Err(e) => errors.push(format!("{id}: {e}")),
            }
        }
    }
    serde_json::json!({ "calls": calls, "errors": errors, "seen": seen })
}

async fn open_store(config: &Config, spec: &str) -> Arc<dyn InstallationStore> {
    let key = SealingKey::from_base64("test", &config.sealing_key).expect("a sealing key");
    let sealer = Sealer::new(key);
    if let Some(path) = spec.strip_prefix("sqlite:") {
        Arc::new(
            SqliteStore::open(path, sealer)
                .await
                .expect("the SQLite file opens"),
        )
    } else if let Some(url) = spec.strip_prefix("postgres:") {
        Arc::new(
            PostgresStore::connect(url, sealer)
                .await
                .expect("PostgreSQL connects"),
        )
    } else {
        panic!("DD_TEST_STORE must be sqlite:<path> or postgres:<url>, not `{spec}`")
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("stdout is open");
    out.flush().expect("stdout is open");
}

struct Pause(Option<String>);

impl Pause {
    /// At the chosen point: say so, and hang until killed.
    async fn at(&self, point: &str) {
        if self.0.as_deref() == Some(point) {
            say(&format!("PAUSED {point}"));
            std::future::pending::<()>().await;
        }
    }
}

/// The pause points around the store writes that matter.
#[async_trait]
impl StoreTap for Pause {
    async fn before(&self, call: &StoreCall<'_>) {
        match call {
            StoreCall::Insert => self.at("install_after_token_call").await,
            StoreCall::Other("set_api_key") => self.at("install_after_key_call").await,
            StoreCall::UpdateTokens { journal: false, .. } => {
                self.at("refresh_after_token_call").await;
            }
            _ => {}
        }
    }

    async fn after(&self, call: &StoreCall<'_>) {
        match call {
            StoreCall::Insert => self.at("install_after_write").await,
            StoreCall::UpdateTokens { journal: true, .. } => {
                self.at("refresh_before_token_call").await;
            }
            StoreCall::UpdateTokens { journal: false, .. } => {
                self.at("refresh_after_write").await;
            }
            StoreCall::ClaimFlow { claimed: true } => {
                self.at("install_before_token_call").await;
            }
            _ => {}
        }
    }
}
