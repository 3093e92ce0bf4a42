//! No secret in the logs of the token lifecycle: refresh, a lost response, revocation and
//! disconnect, every tracing event at TRACE captured, then searched for every secret handled.
//!
//! A binary of its own, with the capture as the process's global subscriber: a subscriber set
//! for one thread (`set_default`) misses events whose callsites other tests of the same
//! process registered first, and this test failed 4 runs in 20 on a loaded machine that way.

#[path = "support/capture.rs"]
mod capture;

use std::sync::Arc;
use std::time::Duration;

use capture::Capture;
use dd_integration::testkit::{Fault, Route};
use dd_integration::{Domain, Installation, InstallationId, InstallationStore, MemoryStore};
use dd_integration_tests::lifecycle::{Lab, Recorder, test_settings};

fn expiring(lab: &Lab) {
    lab.sandbox.set_access_token_ttl(Duration::from_secs(60));
}

fn lasting(lab: &Lab) {
    lab.sandbox.set_access_token_ttl(Duration::from_secs(3600));
}

async fn stored(store: &dyn InstallationStore, id: &InstallationId) -> Installation {
    store.get(id).await.unwrap().unwrap()
}

/// Refresh, a lost response, revocation and disconnect, every tracing event at TRACE captured
/// (a current-thread runtime: the refresh tasks run under the test's subscriber), then searched
/// for every secret handled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_of_refresh_revocation_and_disconnect() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.subscriber()).unwrap();

    let lab = Lab::start().await;
    let store: Arc<dyn InstallationStore> = Arc::new(MemoryStore::new());
    let installer = lab.installer(store.clone(), Recorder::default(), test_settings());
    expiring(&lab);
    let a = lab
        .install(&installer, &lab.org("Alpha", Domain::Eu1))
        .await;
    let b = lab.install(&installer, &lab.org("Beta", Domain::Us1)).await;
    lasting(&lab);
    installer.tokens().access_token(&a.id).await.unwrap();
    let refreshed = stored(store.as_ref(), &a.id).await;
    lab.sandbox.inject(Route::Token, Fault::status(503));
    lab.sandbox.inject(Route::Token, Fault::drop_response());
    assert!(
        installer
            .tokens()
            .access_token(&b.id)
            .await
            .unwrap_err()
            .needs_reauthorization()
    );
    let done = installer.tokens().disconnect(&a.id).await.unwrap();

    let logs = capture.text();
    assert!(
        logs.contains("datadog.tokens.refresh") && logs.contains(a.id.as_str()),
        "spans name the installation"
    );
    let mut secrets = vec![lab.client.client_secret.clone()];
    for installation in [&a, &b, &refreshed] {
        secrets.push(installation.access_token.expose_secret().to_owned());
        secrets.push(installation.refresh_token.expose_secret().to_owned());
    }
    secrets.extend(
        a.api_key
            .iter()
            .chain(&b.api_key)
            .map(|k| k.key.expose_secret().to_owned()),
    );
    let shown = format!("{logs}{done:?}");
    for secret in &secrets {
        assert!(
            !shown.contains(secret.as_str()),
            "a secret reached the logs"
        );
    }
}
