//! A process killed (SIGKILL) at chosen points of a refresh and of an install, on a shared
//! SQLite file, the sandbox in strict rotation. After a restart every installation either works
//! or is marked as needing re-authorization with the true reason; none is silently broken.
//!
//! The points (see `src/bin/lifecycle_worker.rs`): before the token call, after the token call
//! and before the write, after the write. The one window that loses a rotated refresh token is
//! "after the token call, before the write" of a refresh: Datadog has rotated, and the new
//! token died with the process. The SDK then reports it as such.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dd_integration::hooks::NoHooks;
use dd_integration::installation::{InstallationStatus, RevocationCause};
use dd_integration::store::SqliteStore;
use dd_integration::testkit::{Route, TokenState};
use dd_integration::{Installation, InstallationStore};
use dd_integration_tests::lifecycle::{
    Config, Lab, Worker, call_api, onboarding_url, run_worker, start_flow, test_settings,
};

const WORKER: &str = env!("CARGO_BIN_EXE_lifecycle_worker");

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("dd-crash-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("installations.db")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn vars(store: &str, mode: &str, ids: &str, pause: Option<&str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("DD_TEST_STORE", store.to_owned()),
        ("DD_TEST_MODE", mode.to_owned()),
        ("DD_TEST_IDS", ids.to_owned()),
    ];
    if let Some(point) = pause {
        vars.push(("DD_TEST_PAUSE_AT", point.to_owned()));
    }
    vars
}

/// Starts a worker that pauses at `point`, and kills it there.
async fn kill_at(config: &Config, vars: &[(&'static str, String)], point: &str) {
    let mut worker = Worker::spawn(WORKER, config, vars);
    assert_eq!(worker.line().await, format!("PAUSED {point}"));
    worker.kill().await;
}

/// What a restarted process gets for an installation: `OK <fingerprint>` or `ERR <kind> ...`.
async fn restarted_token(lab: &Lab, store: &str, installation: &Installation) -> String {
    run_worker(
        WORKER,
        &lab.config,
        &vars(store, "token", installation.id.as_str(), None),
    )
    .await
}

async fn setup(lab: &Lab, scratch: &Scratch) -> (Arc<dyn InstallationStore>, String) {
    let store: Arc<dyn InstallationStore> =
        Arc::new(SqliteStore::open(scratch.db(), lab.sealer()).await.unwrap());
    (store, format!("sqlite:{}", scratch.db().display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_killed_at_any_point_leaves_a_working_or_truly_marked_installation() {
    let lab = Lab::start().await;
    let scratch = Scratch::new("refresh");
    let (store, spec) = setup(&lab, &scratch).await;
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    lab.sandbox.set_access_token_ttl(Duration::from_secs(60)); // inside the leeway: refresh due
    let installations = lab.install_many(&installer, 3).await;
    lab.sandbox.set_access_token_ttl(Duration::from_secs(3600));
    let points = [
        "refresh_before_token_call",
        "refresh_after_token_call",
        "refresh_after_write",
    ];

    // Kill one process at each point, each on its own installation, all at once.
    let before = lab.sandbox.calls(Route::Token);
    let mut kills = tokio::task::JoinSet::new();
    for (point, installation) in points.iter().zip(&installations) {
        let (config, vars) = (
            lab.config.clone(),
            vars(&spec, "token", installation.id.as_str(), Some(point)),
        );
        let point = point.to_string();
        kills.spawn(async move { kill_at(&config, &vars, &point).await });
    }
    while let Some(done) = kills.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        lab.sandbox.calls(Route::Token) - before,
        2,
        "the two killed after the token call had sent it"
    );
    for installation in &installations {
        let now = store.get(&installation.id).await.unwrap().unwrap();
        assert!(now.is_active());
    }

    // Restart: one new process per installation (each waits out the dead holder's lease).
    let before = lab.sandbox.calls(Route::Token);
    let mut restarts = tokio::task::JoinSet::new();
    for installation in installations.clone() {
        let (config, vars) = (
            lab.config.clone(),
            vars(&spec, "token", installation.id.as_str(), None),
        );
        restarts.spawn(async move {
            (
                installation.id.clone(),
                run_worker(WORKER, &config, &vars).await,
            )
        });
    }
    let mut answers = std::collections::HashMap::new();
    while let Some(done) = restarts.join_next().await {
        let (id, line) = done.unwrap();
        answers.insert(id, line);
    }
    let [killed_before, killed_after_call, killed_after_write] =
        [0, 1, 2].map(|i| &installations[i]);

    // Killed before the token call: the stored refresh token was never sent; the restart uses it.
    assert!(
        answers[&killed_before.id].starts_with("OK "),
        "{}",
        answers[&killed_before.id]
    );
    // Killed after the write: the new tokens are durable; the restart just reads them.
    assert!(
        answers[&killed_after_write.id].starts_with("OK "),
        "{}",
        answers[&killed_after_write.id]
    );
    // Killed between Datadog's answer and the write: the rotated token is lost (strict rotation).
    // The restart is refused, and says why: not "revoked", but lost after rotation.
    let lost = &answers[&killed_after_call.id];
    assert!(lost.starts_with("ERR reauthorize "), "{lost}");
    assert!(
        lost.contains("refresh response lost after rotation"),
        "{lost}"
    );
    assert_eq!(
        lab.sandbox.calls(Route::Token) - before,
        2,
        "one refresh for the one killed before its call, one refused for the lost one, none after the write"
    );
    let now = store.get(&killed_after_call.id).await.unwrap().unwrap();
    assert!(
        matches!(&now.status, InstallationStatus::Revoked(r) if r.cause == RevocationCause::Interrupted && r.to_string().starts_with("refresh response lost after rotation")),
        "{:?}",
        now.status
    );

    // Nothing is silently broken: every installation works, or is marked with its reason.
    for installation in store.list().await.unwrap() {
        match &installation.status {
            InstallationStatus::Active => {
                assert!(!installation.refresh_interrupted());
                assert_eq!(
                    lab.sandbox
                        .refresh_token_state(installation.refresh_token.expose_secret()),
                    Some(TokenState::Active)
                );
                assert_eq!(
                    call_api(
                        &lab.sandbox,
                        installation.domain,
                        &installation.access_token
                    )
                    .await,
                    200
                );
                assert!(
                    restarted_token(&lab, &spec, &installation)
                        .await
                        .starts_with("OK ")
                );
            }
            InstallationStatus::Revoked(r) => assert_ne!(r.cause, RevocationCause::Unknown),
            other => panic!("unexpected status {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_lenient_rotation_a_refresh_killed_after_the_token_call_loses_nothing() {
    let lab = Lab::start().await;
    lab.sandbox.set_strict_rotation(false);
    let scratch = Scratch::new("lenient");
    let (store, spec) = setup(&lab, &scratch).await;
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    lab.sandbox.set_access_token_ttl(Duration::from_secs(60));
    let installation = lab.install_many(&installer, 1).await.remove(0);
    lab.sandbox.set_access_token_ttl(Duration::from_secs(3600));
    let point = "refresh_after_token_call";
    kill_at(
        &lab.config,
        &vars(&spec, "token", installation.id.as_str(), Some(point)),
        point,
    )
    .await;
    let answer = restarted_token(&lab, &spec, &installation).await;
    assert!(answer.starts_with("OK "), "{answer}");
    assert!(
        store
            .get(&installation.id)
            .await
            .unwrap()
            .unwrap()
            .is_active()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_install_killed_at_any_point_leaves_nothing_silently_broken() {
    let lab = Lab::start().await;
    let scratch = Scratch::new("install");
    let (store, spec) = setup(&lab, &scratch).await;
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let points = [
        "install_before_token_call",
        "install_after_token_call",
        "install_after_write",
        "install_after_key_call",
    ];
    let orgs: Vec<_> = points
        .iter()
        .map(|p| lab.org(p, dd_integration::Domain::Eu1))
        .collect();

    // This process starts each flow (onboarding, Datadog's authorize page); a worker receives
    // the browser at the callback and is killed at the point.
    let mut kills = tokio::task::JoinSet::new();
    let mut flows = Vec::new();
    for (point, org) in points.iter().zip(&orgs) {
        let flow = start_flow(&installer, &lab.sandbox, &onboarding_url(org)).await;
        let mut vars = vars(&spec, "callback", "", Some(point));
        vars.push(("DD_TEST_CALLBACK", flow.callback.to_string()));
        vars.push(("DD_TEST_COOKIE", flow.cookie.clone()));
        flows.push(flow);
        let (config, point) = (lab.config.clone(), point.to_string());
        kills.spawn(async move { kill_at(&config, &vars, &point).await });
    }
    while let Some(done) = kills.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        lab.sandbox.calls(Route::Token),
        3,
        "three codes were exchanged before the kill"
    );
    assert_eq!(
        lab.sandbox.calls(Route::MarketplaceKey),
        1,
        "one key was created, and died with its process"
    );
    let [before_call, after_call, after_write, after_key] = [0, 1, 2, 3].map(|i| &orgs[i]);
    // No record of the first two: nothing claims to work.
    assert!(
        store
            .find_by_org(&before_call.org_id())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_by_org(&after_call.org_id())
            .await
            .unwrap()
            .is_none()
    );
    // The third is stored and works (a restarted process refreshes it); it has no API key, and
    // its key journal says the key was being created.
    let stored = store
        .find_by_org(&after_write.org_id())
        .await
        .unwrap()
        .expect("stored before the kill");
    assert!(stored.is_active() && stored.api_key.is_none());
    assert!(
        restarted_token(&lab, &spec, &stored)
            .await
            .starts_with("OK ")
    );
    // The fourth: Datadog created its key, which died unstored. The journal says so.
    let lost = store
        .find_by_org(&after_key.org_id())
        .await
        .unwrap()
        .expect("stored before the key call");
    assert!(
        lost.api_key_interrupted(),
        "the key window is journaled: {:?}",
        lost.api_key_requested_at
    );

    // The browser reloads the killed callback (served by a replica alive): the flow's outcome
    // is its installation, and the page tells the true state of the key and the next step.
    let page = flows[3].finish(&installer).await;
    assert_eq!(page.status(), 200, "{}", page.body());
    assert!(
        page.body().contains("interrupted") && page.body().contains("revoke"),
        "{}",
        page.body()
    );
    // A reload of a flow killed before anything was stored says it did not finish.
    let page = flows[1].finish(&installer).await;
    assert_eq!(page.status(), 503, "{}", page.body());
    assert!(page.body().contains("did not finish"), "{}", page.body());

    // The customer starts again from the tile: each org installs, with its key, and the
    // interrupted record is linked. The org whose key was lost gets Datadog's 409 and the
    // recovery; once the customer revoked the lost key, it installs too.
    for org in &orgs {
        let connect = || async {
            let flow = start_flow(&installer, &lab.sandbox, &onboarding_url(org)).await;
            let mut vars = vars(&spec, "callback", "", None);
            vars.push(("DD_TEST_CALLBACK", flow.callback.to_string()));
            vars.push(("DD_TEST_COOKIE", flow.cookie.clone()));
            assert_eq!(run_worker(WORKER, &lab.config, &vars).await, "STATUS 200");
            store
                .find_by_org(&org.org_id())
                .await
                .unwrap()
                .expect("installed")
        };
        let mut installation = connect().await;
        if org.id == after_key.id {
            assert!(installation.api_key.is_none(), "the lost key cannot be had");
            assert!(lab.sandbox.delete_api_key(&org.id, &lab.config.client_id));
            installation = connect().await;
        }
        assert!(installation.api_key.is_some(), "{}", org.name);
        assert!(
            restarted_token(&lab, &spec, &installation)
                .await
                .starts_with("OK ")
        );
    }
    let again = store
        .find_by_org(&after_write.org_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.previous.as_ref(), Some(&stored.id));

    // Every record works, or was replaced by one that does.
    for installation in store.list().await.unwrap() {
        match &installation.status {
            InstallationStatus::Active => {
                assert!(
                    restarted_token(&lab, &spec, &installation)
                        .await
                        .starts_with("OK ")
                );
            }
            InstallationStatus::Replaced { by } => {
                // Follow the chain of reinstalls to the org's current installation.
                let mut current = store.get(by).await.unwrap().unwrap();
                while let InstallationStatus::Replaced { by } = &current.status {
                    current = store.get(by).await.unwrap().unwrap();
                }
                assert!(current.is_active());
            }
            other => panic!("unexpected status {other:?}"),
        }
    }
}
