//! The one call a partner's own end-to-end test starts with: `TestIntegration`.

use std::sync::Arc;

use dd_integration::api::v1;
use dd_integration::testkit::{Route, TestIntegration};
use dd_integration::{Domain, InstallationStore, Sealer, SealingKey, SqliteStore};
use dd_integration_tests::integration::{AcmeBeacon, AcmePager};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_call_gives_an_installed_integration_whose_api_and_key_work() {
    let world = TestIntegration::<AcmePager>::start().await;
    let installation = world.install("Customer", Domain::Us5).await;
    assert_eq!(installation.domain, Domain::Us5);
    assert!(installation.is_active());
    // The org is confirmed by Datadog (the integration declares user_access_read).
    assert!(installation.org_id.is_some());
    let key = installation.api_key.as_ref().expect("the marketplace key");
    assert_eq!(
        world
            .sandbox
            .api_key(
                installation.org_hint.as_deref().unwrap(),
                &world.client.client_id
            )
            .as_deref(),
        Some(key.key.expose_secret())
    );
    let api = world.installer.api(&installation);
    let monitors: serde_json::Value = api.call::<v1::ListMonitors>().json().await.unwrap();
    assert_eq!(monitors, serde_json::json!([]));
    assert_eq!(world.sandbox.calls(Route::Monitor), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installer_can_be_configured_with_the_partners_own_store() {
    let dir = std::env::temp_dir().join(format!("dd-harness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sealer = Sealer::new(SealingKey::generate("k").unwrap().0);
    let store: Arc<dyn InstallationStore> = Arc::new(
        SqliteStore::open(dir.join("installations.sqlite"), sealer)
            .await
            .unwrap(),
    );
    let world = TestIntegration::<AcmeBeacon>::start_with(|b| b.store(store.clone()))
        .await
        .unwrap();
    let installation = world.install("Customer", Domain::Eu1).await;
    assert!(store.get(&installation.id).await.unwrap().is_some());
    // A failed install is reported, not hidden: a second org whose key creation fails.
    world.sandbox.inject(
        Route::MarketplaceKey,
        dd_integration::testkit::Fault::status(403),
    );
    let org = world
        .sandbox
        .add_org(dd_integration::testkit::OrgSpec::new("Other", Domain::Eu1));
    let done = world.test_authorization(&org).await;
    assert!(done.body.contains("Data cannot be sent"), "{}", done.body);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// blink registers `https://sso-app.blinkops.com`, a redirect URI without a path: the SDK sends
/// it exactly as written (Datadog compares byte for byte), and serves the callback at `/`.
#[dd_integration::datadog_integration(
    name = "Acme Root",
    scopes = [monitors_read],
    redirect = "https://root.acme.example",
    onboarding = "https://root.acme.example/datadog/connect",
)]
pub struct AcmeRoot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_uri_without_a_path_is_sent_as_written_and_the_install_completes() {
    let world = TestIntegration::<AcmeRoot>::start().await;
    let sent = world.installer.oauth().redirect_uri().to_owned();
    assert!(
        sent.starts_with("http://localhost:") && !sent.ends_with('/'),
        "{sent}"
    );
    assert_eq!(world.installer.callback_path(), "/");
    // The sandbox compares the redirect URI byte for byte, as Datadog does: with a `/` added,
    // the authorize step would answer "Mismatching redirect URI".
    let installation = world.install("Customer", Domain::Eu1).await;
    assert!(installation.is_active());
    assert_eq!(world.sandbox.calls(Route::Token), 1);
}
