//! No secret in logs, `Debug`, errors or URLs: a full flow (and its failures) with every tracing
//! event captured at TRACE level, then searched for every secret the flow handled.

#[path = "support/capture.rs"]
mod capture;
mod support;

use capture::Capture;
use dd_integration::pkce::PkceVerifier;
use dd_integration::testkit::{Fault, Route};
use dd_integration::{ClientSecret, Domain, OAuthClient, Site};
use support::{REDIRECT, World};

#[tokio::test]
async fn no_secret_reaches_logs_debug_errors_or_urls() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.subscriber()).unwrap();

    let world = World::new(&["monitors_read", "api_keys_write"]).await;
    world.org("Acme", Domain::Eu1);
    let mut shown = Vec::new();
    let mut secrets = vec![world.client.client_secret.clone()];

    let verifier = PkceVerifier::generate();
    secrets.push(verifier.secret().to_owned());
    let url = world
        .oauth
        .authorize_url(&Site::of(Domain::Eu1), &verifier.challenge(), "st");
    shown.push(url.to_string());
    let callback = support::Callback::from(&world.sandbox.authorize(&url).await.unwrap());
    let grant = world
        .oauth
        .exchange_code(Domain::Eu1, callback.get("code"), &verifier)
        .await
        .unwrap();
    let refresh = grant.refresh_token.clone().unwrap();
    secrets.push(grant.access_token.expose_secret().to_owned());
    secrets.push(refresh.expose_secret().to_owned());
    shown.push(format!("{grant:?} {:?}", world.oauth));

    let key = world
        .oauth
        .create_marketplace_api_key(Domain::Eu1, &grant.access_token)
        .await
        .unwrap();
    secrets.push(key.key.expose_secret().to_owned());
    shown.push(format!("{key:?}"));

    let next = world.oauth.refresh(Domain::Eu1, &refresh).await.unwrap();
    secrets.push(next.access_token.expose_secret().to_owned());
    secrets.push(
        next.refresh_token
            .as_ref()
            .unwrap()
            .expose_secret()
            .to_owned(),
    );
    shown.push(format!("{next:?}"));

    // Failures carry no secret either.
    let errors = [
        world
            .oauth
            .create_marketplace_api_key(Domain::Eu1, &next.access_token)
            .await
            .unwrap_err(),
        world
            .oauth
            .exchange_code(Domain::Eu1, callback.get("code"), &verifier)
            .await
            .unwrap_err(),
        {
            world.sandbox.inject(Route::Token, Fault::status(429));
            world
                .oauth
                .refresh(Domain::Eu1, next.refresh_token.as_ref().unwrap())
                .await
                .unwrap_err()
        },
        {
            world.sandbox.inject(Route::Token, Fault::drop_response());
            world
                .oauth
                .refresh(Domain::Eu1, next.refresh_token.as_ref().unwrap())
                .await
                .unwrap_err()
        },
        OAuthClient::builder(
            world.client.client_id.clone(),
            ClientSecret::new("wrong-secret-value"),
            REDIRECT,
        )
        .endpoints(world.sandbox.endpoints())
        .build()
        .unwrap()
        .refresh(Domain::Eu1, &refresh)
        .await
        .unwrap_err(),
    ];
    for err in &errors {
        shown.push(format!("{err} {err:?}"));
    }
    world
        .oauth
        .revoke_refresh_token(Domain::Eu1, next.refresh_token.as_ref().unwrap())
        .await
        .unwrap();

    let logs = capture.text();
    assert!(
        logs.contains("datadog.oauth.exchange") && logs.contains("token granted"),
        "the capture saw the flow's spans:\n{logs}"
    );
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret: {secret:?}");
        assert!(
            !logs.contains(secret.as_str()),
            "a secret reached the logs:\n{logs}"
        );
        for text in &shown {
            assert!(!text.contains(secret.as_str()), "a secret in: {text}");
        }
    }
}
