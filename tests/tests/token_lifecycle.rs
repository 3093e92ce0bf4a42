//! The token lifecycle in one process against the Datadog sandbox (strict rotation): cached
//! tokens, single-flight refresh, replicas sharing a store, revocation, transient failures, a
//! response lost after rotation, disconnect and reinstall, scope drift.
//!
//! Several replicas are several `Installer`s sharing one store here; `refresh_storm.rs` and
//! `crash.rs` run them as separate OS processes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use dd_integration::hooks::NoHooks;
use dd_integration::installation::{InstallationStatus, RevocationCause};
use dd_integration::testkit::{Fault, OrgSpec, Route, SandboxOrg, TokenState};
use dd_integration::tokens::CustomerStep;
use dd_integration::{
    Domain, Installation, InstallationId, InstallationStore, Installer, MemoryStore, Scope,
    TokenError,
};
use dd_integration_tests::integration::AcmePager;
use dd_integration_tests::lifecycle::{
    Lab, Recorder, SPEC, StoreCall, StoreTap, Tapped, call_api, short_timeouts, start_flow,
    test_settings,
};

/// Counts reads, to show that cached tokens cost no I/O.
#[derive(Default)]
struct Counting {
    gets: AtomicUsize,
    /// When set, every lease is granted: what a lapsed lease looks like.
    leases_always_free: bool,
}

#[async_trait]
impl StoreTap for Counting {
    async fn before(&self, call: &StoreCall<'_>) {
        if let StoreCall::Get = call {
            self.gets.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn lease(&self) -> Option<bool> {
        self.leases_always_free.then_some(true)
    }
}

/// A memory store, tapped.
fn counting(tap: Counting) -> Arc<Tapped<Counting>> {
    Arc::new(Tapped {
        inner: Arc::new(MemoryStore::default()),
        tap,
    })
}

/// Access tokens issued from now on expire inside the leeway: the next call must refresh.
fn expiring(lab: &Lab) {
    lab.sandbox.set_access_token_ttl(Duration::from_secs(60));
}

fn lasting(lab: &Lab) {
    lab.sandbox.set_access_token_ttl(Duration::from_secs(3600));
}

/// `org` installed with an access token that expires inside the leeway: the next call must
/// refresh. Tokens issued later last an hour again.
async fn install_expiring(
    lab: &Lab,
    installer: &Installer<AcmePager>,
    org: &SandboxOrg,
) -> Installation {
    expiring(lab);
    let installation = lab.install(installer, org).await;
    lasting(lab);
    installation
}

async fn stored(store: &dyn InstallationStore, id: &InstallationId) -> Installation {
    store.get(id).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_token_costs_no_io_and_an_expiring_one_is_refreshed_once_for_250_callers() {
    let lab = Lab::start().await;
    let store = counting(Counting::default());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let org = lab.org("Acme", Domain::Eu1);
    let installation = install_expiring(&lab, &installer, &org).await;
    let exchanges = lab.sandbox.calls(Route::Token);

    let handle = installer.tokens().installation(&installation.id);
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..250 {
        let handle = handle.clone();
        callers.spawn(async move { handle.access_token().await });
    }
    let mut tokens = Vec::new();
    while let Some(done) = callers.join_next().await {
        tokens.push(done.unwrap().expect("every caller gets a token"));
    }
    assert_eq!(
        lab.sandbox.calls(Route::Token) - exchanges,
        1,
        "one refresh for 250 callers"
    );
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "everyone got the same token"
    );
    let after = stored(store.as_ref(), &installation.id).await;
    assert_eq!(after.access_token, tokens[0]);
    assert!(!after.refresh_interrupted());
    // The newest refresh token is the stored one, and the spent one is dead.
    assert_eq!(
        lab.sandbox
            .refresh_token_state(after.refresh_token.expose_secret()),
        Some(TokenState::Active)
    );
    assert_eq!(
        lab.sandbox
            .refresh_token_state(installation.refresh_token.expose_secret()),
        Some(TokenState::Rotated)
    );
    assert_eq!(call_api(&lab.sandbox, org.domain, &tokens[0]).await, 200);

    // Cached from now on: no store read, no Datadog call.
    let gets = store.tap.gets.load(Ordering::SeqCst);
    for _ in 0..1000 {
        assert_eq!(handle.access_token().await.unwrap(), tokens[0]);
        assert_eq!(
            installer
                .tokens()
                .access_token(&installation.id)
                .await
                .unwrap(),
            tokens[0]
        );
    }
    assert_eq!(store.tap.gets.load(Ordering::SeqCst), gets);
    assert_eq!(lab.sandbox.calls(Route::Token) - exchanges, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_replicas_sharing_a_store_refresh_each_installation_once() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let replicas: Vec<_> = (0..4)
        .map(|_| lab.installer(store.clone(), NoHooks, test_settings()))
        .collect();
    expiring(&lab);
    let mut ids = Vec::new();
    for i in 0..20 {
        let org = lab.org(&format!("Org {i}"), Domain::ALL[i % Domain::ALL.len()]);
        ids.push(lab.install(&replicas[i % 4], &org).await.id);
    }
    lasting(&lab);
    let exchanges = lab.sandbox.calls(Route::Token);
    let mut callers = tokio::task::JoinSet::new();
    for replica in &replicas {
        for c in 0..25 {
            let tokens = replica.tokens().clone();
            let ids = ids.clone();
            callers.spawn(async move {
                let mut got = Vec::new();
                for k in 0..ids.len() {
                    let id = &ids[(c + k) % ids.len()];
                    got.push((id.clone(), tokens.access_token(id).await.expect("a token")));
                }
                got
            });
        }
    }
    let mut seen = std::collections::HashMap::new();
    while let Some(done) = callers.join_next().await {
        for (id, token) in done.unwrap() {
            seen.entry(id).or_insert_with(Vec::new).push(token);
        }
    }
    assert_eq!(
        lab.sandbox.calls(Route::Token) - exchanges,
        ids.len(),
        "exactly one refresh per installation"
    );
    for id in &ids {
        let now = stored(store.as_ref(), id).await;
        assert!(
            seen[id].iter().all(|t| *t == now.access_token),
            "every replica used the stored token"
        );
        assert_eq!(
            lab.sandbox
                .refresh_token_state(now.refresh_token.expose_secret()),
            Some(TokenState::Active)
        );
    }
}

#[tokio::test]
async fn revocation_is_detected_within_one_call_and_then_fails_fast() {
    let lab = Lab::start().await;
    let store = counting(Counting::default());
    let hooks = Recorder::default();
    let installer = lab.installer(store.clone(), hooks.clone(), test_settings());
    let org = lab.org("Acme", Domain::Us5);
    let installation = lab.install(&installer, &org).await;
    let handle = installer.tokens().installation(&installation.id);
    let token = handle.access_token().await.unwrap();
    assert_eq!(call_api(&lab.sandbox, org.domain, &token).await, 200);

    lab.sandbox.revoke_grants(&org.id);
    let calls = lab.sandbox.calls(Route::Token);
    // The API refuses the cached token; the integration says so, and the next call refreshes.
    assert_eq!(call_api(&lab.sandbox, org.domain, &token).await, 401);
    handle.invalidate(&token);
    let error = handle.access_token().await.unwrap_err();
    assert!(
        matches!(error, TokenError::ReauthorizationRequired { .. }),
        "{error}"
    );
    assert!(error.needs_reauthorization() && !error.is_transient());
    assert!(error.to_string().contains("uninstalled"), "{error}");
    assert_eq!(
        lab.sandbox.calls(Route::Token) - calls,
        1,
        "detected by one refresh"
    );
    let now = stored(store.as_ref(), &installation.id).await;
    assert!(
        matches!(&now.status, InstallationStatus::Revoked(r) if r.cause == RevocationCause::Refused && r.to_string().contains("invalid_grant")),
        "{:?}",
        now.status
    );
    let reported = hooks.revoked();
    assert_eq!(reported.len(), 1);
    assert_eq!(reported[0].0, installation.id);
    assert_eq!(reported[0].1.cause, RevocationCause::Refused);

    // From now on: the same error, with no store read and no Datadog call.
    let gets = store.tap.gets.load(Ordering::SeqCst);
    for _ in 0..100 {
        assert!(
            handle
                .access_token()
                .await
                .unwrap_err()
                .needs_reauthorization()
        );
    }
    assert_eq!(store.tap.gets.load(Ordering::SeqCst), gets);
    assert_eq!(lab.sandbox.calls(Route::Token) - calls, 1);
    assert_eq!(hooks.revoked().len(), 1);

    // Another replica learns it from the store, without calling Datadog or the hook again.
    let other = lab.installer(store.clone(), hooks.clone(), test_settings());
    assert!(
        other
            .tokens()
            .access_token(&installation.id)
            .await
            .unwrap_err()
            .needs_reauthorization()
    );
    assert_eq!(lab.sandbox.calls(Route::Token) - calls, 1);
    assert_eq!(hooks.revoked().len(), 1);
}

#[tokio::test]
async fn an_expired_token_of_a_revoked_grant_is_detected_by_the_first_call() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let org = lab.org("Acme", Domain::Us1);
    expiring(&lab);
    let installation = lab.install(&installer, &org).await;
    lab.sandbox.revoke_grants(&org.id);
    let calls = lab.sandbox.calls(Route::Token);
    let error = installer
        .tokens()
        .access_token(&installation.id)
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error}");
    assert_eq!(lab.sandbox.calls(Route::Token) - calls, 1);
}

#[tokio::test]
async fn a_transient_5xx_storm_never_marks_an_installation_revoked() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let hooks = Recorder::default();
    let installer = lab.installer(store.clone(), hooks.clone(), test_settings());
    let org = lab.org("Acme", Domain::Eu1);
    lab.sandbox.set_access_token_ttl(Duration::from_secs(1));
    let installation = lab.install(&installer, &org).await;
    lasting(&lab);
    tokio::time::sleep(Duration::from_millis(1100)).await; // the access token is now expired
    let handle = installer.tokens().installation(&installation.id);

    lab.sandbox
        .inject(Route::Token, Fault::status(503).always());
    let calls = lab.sandbox.calls(Route::Token);
    for _ in 0..3 {
        let error = handle.access_token().await.unwrap_err();
        assert!(
            matches!(error, TokenError::Unavailable { attempts: 3, .. }),
            "{error}"
        );
        assert!(error.is_transient() && !error.needs_reauthorization());
    }
    assert_eq!(
        lab.sandbox.calls(Route::Token) - calls,
        9,
        "3 calls, 3 attempts each: bounded"
    );
    let during = stored(store.as_ref(), &installation.id).await;
    assert!(during.is_active());
    assert!(
        !during.refresh_interrupted(),
        "a refusal with a status spent nothing: no journal mark is left"
    );
    assert!(hooks.revoked().is_empty());

    lab.sandbox.clear_faults();
    let token = handle
        .access_token()
        .await
        .expect("works once Datadog is back");
    assert_eq!(call_api(&lab.sandbox, org.domain, &token).await, 200);
    assert!(stored(store.as_ref(), &installation.id).await.is_active());
    assert!(hooks.revoked().is_empty());
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_with_its_reset() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let settings = test_settings().max_backoff(Duration::from_secs(2));
    let installer = lab.installer(store.clone(), NoHooks, settings);
    let org = lab.org("Acme", Domain::Ap1);
    let installation = install_expiring(&lab, &installer, &org).await;
    lab.sandbox.inject(
        Route::Token,
        Fault::status(429).reset_after(Duration::from_secs(1)),
    );
    let started = std::time::Instant::now();
    installer
        .tokens()
        .access_token(&installation.id)
        .await
        .expect("the second attempt succeeds");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "X-RateLimit-Reset was honoured"
    );
}

#[tokio::test]
async fn a_response_lost_after_rotation_is_reported_with_its_true_reason() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let hooks = Recorder::default();
    let installer = lab.installer(store.clone(), hooks.clone(), test_settings());
    let org = lab.org("Acme", Domain::Us3);
    let installation = install_expiring(&lab, &installer, &org).await;
    // Datadog processes the refresh (and rotates, strictly), then the answer is lost.
    lab.sandbox.inject(Route::Token, Fault::drop_response());
    let calls = lab.sandbox.calls(Route::Token);
    let error = installer
        .tokens()
        .access_token(&installation.id)
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error}");
    assert!(
        error
            .to_string()
            .contains("refresh response lost after rotation"),
        "{error}"
    );
    assert_eq!(
        lab.sandbox.calls(Route::Token) - calls,
        2,
        "the lost one, then the refused retry"
    );
    let now = stored(store.as_ref(), &installation.id).await;
    assert!(
        matches!(&now.status, InstallationStatus::Revoked(r) if r.cause == RevocationCause::AnswerLost && r.to_string().starts_with("refresh response lost after rotation")),
        "{:?}",
        now.status
    );
    assert_eq!(hooks.revoked().len(), 1);
    assert_eq!(hooks.revoked()[0].1.cause, RevocationCause::AnswerLost);
}

#[tokio::test]
async fn under_lenient_rotation_a_lost_response_loses_nothing() {
    let lab = Lab::start().await;
    lab.sandbox.set_strict_rotation(false);
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let org = lab.org("Acme", Domain::Us3);
    let installation = install_expiring(&lab, &installer, &org).await;
    lab.sandbox.inject(Route::Token, Fault::drop_response());
    let token = installer
        .tokens()
        .access_token(&installation.id)
        .await
        .expect("the retry succeeds");
    assert_eq!(call_api(&lab.sandbox, org.domain, &token).await, 200);
    assert!(stored(store.as_ref(), &installation.id).await.is_active());
}

#[tokio::test]
async fn a_timed_out_refresh_is_not_taken_for_a_revocation() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let installer = lab
        .config
        .installer(store.clone(), NoHooks, test_settings(), |b| {
            b.http_config(short_timeouts())
        });
    let org = lab.org("Acme", Domain::Us1);
    let installation = install_expiring(&lab, &installer, &org).await;
    // The answer comes after the client's time-out. The request is still processed; under
    // lenient rotation the old refresh token stays valid, so the retry succeeds.
    lab.sandbox
        .inject(Route::Token, Fault::latency(Duration::from_secs(1)));
    lab.sandbox.set_strict_rotation(false);
    let token = installer
        .tokens()
        .access_token(&installation.id)
        .await
        .expect("the retry succeeds");
    assert_eq!(call_api(&lab.sandbox, org.domain, &token).await, 200);
    assert!(stored(store.as_ref(), &installation.id).await.is_active());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_by_another_replica_is_not_a_revocation() {
    let lab = Lab::start().await;
    // Leases always granted: two replicas refresh the same token at once, as after a lapsed
    // lease. The slower one is refused, reads the store again, and takes the other's tokens.
    let store = counting(Counting {
        leases_always_free: true,
        ..Counting::default()
    });
    let hooks = Recorder::default();
    let a = lab.installer(store.clone(), hooks.clone(), test_settings());
    let b = lab.installer(store.clone(), hooks.clone(), test_settings());
    let org = lab.org("Acme", Domain::Eu1);
    let installation = install_expiring(&lab, &a, &org).await;
    lab.sandbox
        .inject(Route::Token, Fault::latency(Duration::from_millis(300)));
    let slow = tokio::spawn({
        let tokens = a.tokens().clone();
        let id = installation.id.clone();
        async move { tokens.access_token(&id).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fast = b
        .tokens()
        .access_token(&installation.id)
        .await
        .expect("b refreshes");
    let slow = slow
        .await
        .unwrap()
        .expect("a is refused, re-reads, and uses b's token");
    assert_eq!(slow, fast);
    let now = stored(store.as_ref(), &installation.id).await;
    assert!(now.is_active(), "{:?}", now.status);
    assert!(hooks.revoked().is_empty());
    assert_eq!(
        lab.sandbox
            .refresh_token_state(now.refresh_token.expose_secret()),
        Some(TokenState::Active)
    );
}

#[tokio::test]
async fn a_caller_that_gives_up_does_not_interrupt_the_refresh() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let org = lab.org("Acme", Domain::Eu1);
    let installation = install_expiring(&lab, &installer, &org).await;
    lab.sandbox
        .inject(Route::Token, Fault::latency(Duration::from_millis(300)));
    let handle = installer.tokens().installation(&installation.id);
    let gave_up = tokio::time::timeout(Duration::from_millis(50), handle.access_token()).await;
    assert!(gave_up.is_err(), "the caller stopped waiting");
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The refresh finished and stored its tokens anyway.
    let now = stored(store.as_ref(), &installation.id).await;
    assert_ne!(now.refresh_token, installation.refresh_token);
    assert_eq!(
        lab.sandbox
            .refresh_token_state(now.refresh_token.expose_secret()),
        Some(TokenState::Active)
    );
    let calls = lab.sandbox.calls(Route::Token);
    assert_eq!(handle.access_token().await.unwrap(), now.access_token);
    assert_eq!(lab.sandbox.calls(Route::Token), calls);
}

#[tokio::test]
async fn a_lease_left_by_a_dead_holder_delays_only_until_it_expires() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let settings = test_settings().lease(Duration::from_millis(500));
    let installer = lab.installer(store.clone(), NoHooks, settings);
    let org = lab.org("Acme", Domain::Eu1);
    let installation = install_expiring(&lab, &installer, &org).await;
    let until = SystemTime::now() + Duration::from_millis(500);
    assert!(
        store
            .acquire_refresh_lease(&installation.id, "a-crashed-process", until)
            .await
            .unwrap()
    );
    let started = std::time::Instant::now();
    installer
        .tokens()
        .access_token(&installation.id)
        .await
        .expect("a token once the lease lapses");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn disconnect_revokes_at_datadog_marks_removed_and_says_what_is_left() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let org = lab.org("Acme", Domain::Eu1);
    let first = lab.install(&installer, &org).await;
    let key = first.api_key.clone().expect("the key was created");
    let token = installer.tokens().access_token(&first.id).await.unwrap();

    let done = installer
        .tokens()
        .disconnect(&first.id)
        .await
        .expect("disconnected");
    assert_eq!(done.installation.status, InstallationStatus::Removed);
    assert_eq!(
        stored(store.as_ref(), &first.id).await.status,
        InstallationStatus::Removed
    );
    assert_eq!(
        lab.sandbox
            .refresh_token_state(first.refresh_token.expose_secret()),
        Some(TokenState::Revoked)
    );
    assert_eq!(
        call_api(&lab.sandbox, org.domain, &token).await,
        401,
        "the access token is dead too"
    );
    // Revoking tokens does not delete the key: the customer must, and is told how.
    assert!(
        lab.sandbox
            .api_key(&org.id, &lab.client.client_id)
            .is_some()
    );
    assert_eq!(done.customer_steps.len(), 1);
    let CustomerStep::RevokeApiKey { masked_key, .. } = &done.customer_steps[0] else {
        unreachable!()
    };
    assert_eq!(masked_key.as_deref(), Some(key.key.masked().as_str()));
    let step = done.customer_steps[0].to_string();
    assert!(
        step.contains("Organization Settings > API Keys") && step.contains(&key.key.masked()),
        "{step}"
    );
    assert!(!format!("{done:?}{step}").contains(key.key.expose_secret()));
    // The installation fails fast, and a second disconnect is harmless.
    let error = installer
        .tokens()
        .access_token(&first.id)
        .await
        .unwrap_err();
    assert!(matches!(error, TokenError::Disconnected { .. }), "{error}");
    installer
        .tokens()
        .disconnect(&first.id)
        .await
        .expect("a repeated disconnect succeeds");

    // The customer revokes the key as told, then installs again: a new installation that works.
    assert!(lab.sandbox.delete_api_key(&org.id, &lab.client.client_id));
    let second = lab.install(&installer, &org).await;
    assert_ne!(second.id, first.id);
    assert!(second.api_key.is_some());
    let token = installer.tokens().access_token(&second.id).await.unwrap();
    assert_eq!(call_api(&lab.sandbox, org.domain, &token).await, 200);
}

/// `find_by_org` returns the org's current installation whatever its status, so a reinstall
/// after a disconnect or a revocation links the old record and keeps its still-valid API key
/// (Datadog would answer 409 to a second key request).
#[tokio::test]
async fn a_reinstall_after_disconnect_or_revocation_links_the_old_record_and_reuses_its_key() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());

    // Disconnected by the partner; the customer did not revoke the key: the reinstall reuses it.
    let org = lab.org("Acme", Domain::Eu1);
    let first = lab.install(&installer, &org).await;
    installer
        .tokens()
        .disconnect(&first.id)
        .await
        .expect("disconnected");
    let second = lab.install(&installer, &org).await;
    assert_eq!(
        second.previous.as_ref(),
        Some(&first.id),
        "linked to the old record"
    );
    assert_eq!(
        second.api_key.as_ref().map(|k| &k.key),
        first.api_key.as_ref().map(|k| &k.key)
    );

    // Uninstalled in Datadog (grants revoked; the key stays): detected, then reinstalled.
    lab.sandbox.revoke_grants(&org.id);
    let handle = installer.tokens().installation(&second.id);
    handle.invalidate(&handle.access_token().await.unwrap());
    assert!(
        handle
            .access_token()
            .await
            .unwrap_err()
            .needs_reauthorization()
    );
    let third = lab.install(&installer, &org).await;
    assert_eq!(
        third.previous.as_ref(),
        Some(&second.id),
        "linked to the revoked record"
    );
    assert!(
        third.api_key.is_some(),
        "the org's key is reused, not refused with a 409"
    );
    assert_eq!(lab.sandbox.calls(Route::MarketplaceKey), 1);
}

#[tokio::test]
async fn a_narrowed_grant_names_its_missing_scopes_and_the_url_to_reauthorize() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let org = lab.sandbox.add_org(
        OrgSpec::new("Narrow", Domain::Eu1)
            .vanity("narrow")
            .grantable_scopes(["api_keys_write", "user_access_read"]),
    );
    let first = lab.install(&installer, &org).await;
    let missing = first.missing_scopes(SPEC);
    assert_eq!(
        missing.iter().collect::<Vec<_>>(),
        vec![&Scope::MONITORS_READ]
    );

    let url = installer.reauthorize_url(&first);
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query["site"], "https://narrow.datadoghq.eu",
        "the vanity subdomain is kept"
    );
    assert_eq!(query["domain"], "datadoghq.eu");
    assert_eq!(url.path(), "/datadog/connect");
    // Following it starts a fresh flow on the customer's own site, linked to the old record.
    let flow = start_flow(&installer, &lab.sandbox, &url).await;
    assert!(
        flow.callback
            .query_pairs()
            .any(|(k, v)| k == "site" && v == "https://narrow.datadoghq.eu")
    );
    assert_eq!(flow.finish(&installer).await.status(), 200);
    let second = store.find_by_org(&org.org_id()).await.unwrap().unwrap();
    assert_eq!(second.previous.as_ref(), Some(&first.id));
    assert!(!stored(store.as_ref(), &first.id).await.is_active());

    // A full grant reports nothing missing.
    let full = lab.install(&installer, &lab.org("Full", Domain::Eu1)).await;
    assert!(full.missing_scopes(SPEC).is_empty());
}

#[tokio::test]
async fn errors_and_hooks_never_show_a_secret() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let hooks = Recorder::default();
    let installer = lab.installer(store.clone(), hooks.clone(), test_settings());
    let org = lab.org("Acme", Domain::Eu1);
    let installation = install_expiring(&lab, &installer, &org).await;
    lab.sandbox.inject(Route::Token, Fault::drop_response());
    let error = installer
        .tokens()
        .access_token(&installation.id)
        .await
        .unwrap_err();
    let shown = format!(
        "{error} {error:?} {:?} {:?}",
        hooks.revoked(),
        installer.tokens()
    );
    for secret in [
        installation.refresh_token.expose_secret(),
        installation.access_token.expose_secret(),
        lab.client.client_secret.as_str(),
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

/// The security review's finding: a 200 refresh answer with an odd field (`expires_in` of `-5`
/// or `"soon"`, a `token_type` that is not Bearer) was refused whole under strict rotation: the
/// rotated refresh token in it was dropped, the old one was already dead, and the installation
/// was marked revoked. Every such answer now keeps its tokens, and the next refresh works.
#[tokio::test]
async fn a_2xx_refresh_answer_with_odd_fields_keeps_the_rotated_refresh_token() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::default());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let org = lab.org("Acme", Domain::Us1);
    let installation = install_expiring(&lab, &installer, &org).await;
    let handle = installer.tokens().installation(&installation.id);
    let mut spent = installation.refresh_token.clone();
    let mut last = None;
    for (field, value) in [
        ("expires_in", serde_json::json!(-5)),
        ("expires_in", serde_json::json!("soon")),
        ("token_type", serde_json::json!("mac")),
        ("scope", serde_json::json!(["not", "a", "string"])),
    ] {
        // The answer is odd; the next answer (the refresh after this one) is normal.
        lab.sandbox
            .inject(Route::Token, Fault::rewrite_answer(field, value.clone()));
        // Each round refreshes: the first because the installed token expires inside the
        // leeway, the next because the API refused the last one.
        if let Some(last) = &last {
            handle.invalidate(last);
        }
        let token = handle
            .access_token()
            .await
            .unwrap_or_else(|e| panic!("{field} = {value}: {e}"));
        let after = stored(store.as_ref(), &installation.id).await;
        assert!(after.is_active(), "{field} = {value}: {:?}", after.status);
        assert_ne!(
            after.refresh_token, spent,
            "{field} = {value}: the rotated token is stored"
        );
        assert_eq!(
            lab.sandbox
                .refresh_token_state(after.refresh_token.expose_secret()),
            Some(TokenState::Active),
            "{field} = {value}: the stored refresh token is the live one"
        );
        assert_eq!(after.access_token, token);
        spent = after.refresh_token.clone();
        last = Some(token);
    }
}

/// A 200 refresh answer with a refresh token and no access token: the refresh token is kept,
/// and the lifecycle refreshes again with it.
#[tokio::test]
async fn a_2xx_refresh_answer_without_an_access_token_keeps_its_refresh_token() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::default());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let org = lab.org("Acme", Domain::Us1);
    let installation = install_expiring(&lab, &installer, &org).await;
    lab.sandbox.inject(
        Route::Token,
        Fault::rewrite_answer("access_token", serde_json::Value::Null),
    );
    let token = installer
        .tokens()
        .installation(&installation.id)
        .access_token()
        .await
        .expect("a second refresh with the kept refresh token");
    assert!(!token.expose_secret().is_empty());
    let after = stored(store.as_ref(), &installation.id).await;
    assert!(after.is_active());
    assert_eq!(
        lab.sandbox
            .refresh_token_state(after.refresh_token.expose_secret()),
        Some(TokenState::Active)
    );
}

/// The review's finding: persistent 502s were reported as "the installation is intact" while
/// the journal mark said a rotation may have happened (a 502 can come from a proxy after
/// Datadog processed the refresh). The error now says the rotation is in doubt, and the mark
/// stays.
#[tokio::test]
async fn persistent_502s_report_a_rotation_in_doubt_not_an_intact_installation() {
    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let installer = lab.installer(store.clone(), NoHooks, test_settings());
    let org = lab.org("Acme", Domain::Eu1);
    lab.sandbox.set_access_token_ttl(Duration::from_secs(1));
    let installation = lab.install(&installer, &org).await;
    lasting(&lab);
    tokio::time::sleep(Duration::from_millis(1100)).await; // the access token is now expired
    lab.sandbox
        .inject(Route::Token, Fault::status(502).always());
    let error = installer
        .tokens()
        .access_token(&installation.id)
        .await
        .unwrap_err();
    assert!(matches!(error, TokenError::InDoubt { .. }), "{error}");
    assert!(!error.to_string().contains("intact"), "{error}");
    assert!(error.is_transient() && !error.needs_reauthorization());
    let during = stored(store.as_ref(), &installation.id).await;
    assert!(during.refresh_interrupted(), "the journal mark stays");
    lab.sandbox.clear_faults();
    installer
        .tokens()
        .access_token(&installation.id)
        .await
        .expect("the untouched refresh token still works once Datadog answers");
}
