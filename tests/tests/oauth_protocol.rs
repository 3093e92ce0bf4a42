//! The OAuth client and the marketplace key against the Datadog sandbox: every endpoint, every
//! documented error, every site.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use dd_integration::error::Operation;
use dd_integration::pkce::PkceVerifier;
use dd_integration::testkit::{ClientSpec, Consent, Fault, OrgSpec, Route, TokenState};
use dd_integration::{
    ClientSecret, Domain, Endpoints, Error, HttpConfig, OAuthClient, Scope, Site,
};
use support::{OTHER_REDIRECT, REDIRECT, World, oauth_client};

const SCOPES: &[&str] = &["monitors_read", "api_keys_write"];

#[tokio::test]
async fn full_flow_on_each_of_the_nine_sites() {
    let world = World::new(SCOPES).await;
    for domain in Domain::ALL {
        let org = world.org(&format!("Org {}", domain.name()), domain);
        let (callback, grant) = world.grant(&Site::of(domain)).await;
        assert_eq!(callback.domain(), domain);
        assert_eq!(callback.get("dd_oid"), org.id);
        assert_eq!(callback.get("state"), "state-123");
        assert!(grant.expires_at > SystemTime::now() + Duration::from_secs(3500));
        let scopes = grant.scopes.clone().unwrap();
        assert!(scopes.contains(&Scope::MONITORS_READ) && scopes.contains(&Scope::API_KEYS_WRITE));

        let key = world
            .oauth
            .create_marketplace_api_key(domain, &grant.access_token)
            .await
            .unwrap();
        assert_eq!(
            world
                .sandbox
                .api_key(&org.id, &world.client.client_id)
                .as_deref(),
            Some(key.key.expose_secret())
        );
        assert!(
            world
                .oauth
                .validate_api_key(domain, &key.key)
                .await
                .unwrap()
        );

        let refresh = grant.refresh_token.clone().unwrap();
        let next = world.oauth.refresh(domain, &refresh).await.unwrap();
        let rotated = next.refresh_token.clone().unwrap();
        assert_ne!(
            rotated, refresh,
            "{domain}: refresh rotates the refresh token"
        );
        assert_ne!(next.access_token, grant.access_token);

        world
            .oauth
            .revoke_refresh_token(domain, &rotated)
            .await
            .unwrap();
        assert_eq!(
            world.sandbox.refresh_token_state(rotated.expose_secret()),
            Some(TokenState::Revoked)
        );
        let err = world.oauth.refresh(domain, &rotated).await.unwrap_err();
        assert!(err.is_invalid_grant(), "{domain}: {err}");
    }
}

#[tokio::test]
async fn vanity_subdomain_authorizes_there_and_calls_the_region() {
    let world = World::new(SCOPES).await;
    let org = world
        .sandbox
        .add_org(OrgSpec::new("Big Corp", Domain::Eu1).vanity("bigcorp"));
    let site = Site::parse("https://bigcorp.datadoghq.eu").unwrap();
    let verifier = PkceVerifier::generate();
    let url = world.oauth.authorize_url(&site, &verifier.challenge(), "s");
    assert!(
        url.path()
            .starts_with("/bigcorp.datadoghq.eu/oauth2/v1/authorize"),
        "{url}"
    );
    let callback = support::Callback::from(&world.sandbox.authorize(&url).await.unwrap());
    assert_eq!(callback.get("dd_oid"), org.id);
    assert_eq!(callback.domain(), Domain::Eu1);
    world
        .oauth
        .exchange_code(Domain::Eu1, callback.get("code"), &verifier)
        .await
        .unwrap();
}

#[test]
fn authorize_url_carries_exactly_the_documented_parameters() {
    let oauth = OAuthClient::builder("cid", ClientSecret::new("secret"), REDIRECT)
        .build()
        .unwrap();
    let verifier = PkceVerifier::generate();
    let url = oauth.authorize_url(&Site::of(Domain::Us3), &verifier.challenge(), "st");
    assert_eq!(url.host_str(), Some("us3.datadoghq.com"));
    assert_eq!(url.path(), "/oauth2/v1/authorize");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "redirect_uri",
            "client_id",
            "response_type",
            "code_challenge",
            "code_challenge_method",
            "state"
        ]
    );
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).unwrap().1.clone();
    assert_eq!(get("redirect_uri"), REDIRECT);
    assert_eq!(get("response_type"), "code");
    assert_eq!(get("code_challenge"), verifier.challenge().as_str());
    assert_eq!(get("code_challenge_method"), "S256");
    assert!(!url.as_str().contains("secret"));
    assert!(!url.as_str().contains(verifier.secret()));
}

#[tokio::test]
async fn wrong_client_secret_is_a_401_with_the_fix() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let (callback, verifier) = world.authorize(&Site::of(Domain::Us1)).await;
    let wrong = OAuthClient::builder(
        world.client.client_id.clone(),
        ClientSecret::new("not-the-secret"),
        REDIRECT,
    )
    .endpoints(world.sandbox.endpoints())
    .build()
    .unwrap();
    let err = wrong
        .exchange_code(Domain::Us1, callback.get("code"), &verifier)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ClientAuthentication {
                operation: Operation::ExchangeCode
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("client secret"), "{err}");
    assert!(!err.to_string().contains("not-the-secret"));
}

/// The partner's first hour: a wrong client secret was found only when the first customer's
/// install failed. `check_credentials` finds it at start-up, and spends nothing.
#[tokio::test]
async fn credentials_are_checked_before_the_first_customer() {
    let world = World::new(SCOPES).await;
    world
        .oauth
        .check_credentials(Domain::Us1)
        .await
        .expect("the right id and secret are accepted");
    let with = |id: &str, secret: &str| {
        OAuthClient::builder(id, ClientSecret::new(secret), REDIRECT)
            .endpoints(world.sandbox.endpoints())
            .build()
            .unwrap()
    };
    let err = with(&world.client.client_id, "not-the-secret")
        .check_credentials(Domain::Eu1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ClientAuthentication { .. }), "{err:?}");
    assert!(!err.to_string().contains("not-the-secret"));
    let err = with("no-such-client", &world.client.client_secret)
        .check_credentials(Domain::Us1)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidClientId
                | Error::InvalidClient { .. }
                | Error::ClientAuthentication { .. }
        ),
        "{err:?}"
    );
    // A Datadog that fails says nothing of the credentials: the failure is transient.
    world.sandbox.inject(Route::Token, Fault::status(503));
    let err = world
        .oauth
        .check_credentials(Domain::Us1)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[test]
fn empty_client_secret_or_id_is_refused_before_any_call() {
    let err = OAuthClient::builder("cid", ClientSecret::new(""), REDIRECT)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    assert!(
        OAuthClient::builder(" ", ClientSecret::new("s"), REDIRECT)
            .build()
            .is_err()
    );
    for bad in [
        "http://acme.example/cb",
        "https://acme.example/cb#x",
        "not a url",
    ] {
        assert!(
            OAuthClient::builder("cid", ClientSecret::new("s"), bad)
                .build()
                .is_err(),
            "{bad}"
        );
    }
    assert!(
        OAuthClient::builder("cid", ClientSecret::new("s"), "http://127.0.0.1:3000/cb")
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn a_used_code_is_refused_and_says_to_start_again() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let (callback, verifier) = world.authorize(&Site::of(Domain::Us1)).await;
    world
        .oauth
        .exchange_code(Domain::Us1, callback.get("code"), &verifier)
        .await
        .unwrap();
    let err = world
        .oauth
        .exchange_code(Domain::Us1, callback.get("code"), &verifier)
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err:?}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let (callback, verifier) = world.authorize(&Site::of(Domain::Us1)).await;
    world.sandbox.advance(Duration::from_secs(3600));
    let err = world
        .oauth
        .exchange_code(Domain::Us1, callback.get("code"), &verifier)
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err:?}");
}

#[tokio::test]
async fn a_wrong_verifier_is_invalid_code_or_code_verifier() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let (callback, _) = world.authorize(&Site::of(Domain::Us1)).await;
    let err = world
        .oauth
        .exchange_code(Domain::Us1, callback.get("code"), &PkceVerifier::generate())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCodeOrVerifier), "{err:?}");
    assert!(err.to_string().contains("verifier"), "{err}");
}

#[tokio::test]
async fn mixing_redirect_uris_is_mismatching_redirect_uri() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let (callback, verifier) = world.authorize(&Site::of(Domain::Us1)).await;
    let other = oauth_client(
        &world.sandbox,
        &world.client,
        OTHER_REDIRECT,
        HttpConfig::default(),
    );
    let err = other
        .exchange_code(Domain::Us1, callback.get("code"), &verifier)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MismatchingRedirectUri), "{err:?}");
    assert!(err.to_string().contains("published"), "{err}");
}

#[tokio::test]
async fn an_unpublished_client_outside_its_developer_org_is_invalid_client_id() {
    let world = World::new(SCOPES).await;
    let developer = world.org("Acme (developer)", Domain::Us1);
    world.org("Customer", Domain::Eu1);
    let unpublished = world.sandbox.add_client(
        ClientSpec::new("Acme Pager (test)")
            .redirect_uri(REDIRECT)
            .scopes(SCOPES.iter().copied())
            .unpublished(&developer.id),
    );
    let oauth = oauth_client(
        &world.sandbox,
        &unpublished,
        REDIRECT,
        HttpConfig::default(),
    );
    let verifier = PkceVerifier::generate();
    // The customer's org: Datadog shows an error page and does not redirect.
    let url = oauth.authorize_url(&Site::of(Domain::Eu1), &verifier.challenge(), "s");
    let page = world.sandbox.authorize(&url).await.unwrap_err();
    assert!(
        page.to_string()
            .contains("Invalid client_id parameter value"),
        "{page}"
    );
    // The developer org may authorize it.
    let url = oauth.authorize_url(&Site::of(Domain::Us1), &verifier.challenge(), "s");
    assert!(world.sandbox.authorize(&url).await.is_ok());
    // A client id Datadog does not know, at the token endpoint.
    let unknown = OAuthClient::builder("no-such-client", ClientSecret::new("x"), REDIRECT)
        .endpoints(world.sandbox.endpoints())
        .build()
        .unwrap();
    let err = unknown
        .exchange_code(Domain::Us1, "code", &verifier)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidClientId), "{err:?}");
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let oauth = oauth_client(
        &world.sandbox,
        &world.client,
        "https://evil.example/steal",
        HttpConfig::default(),
    );
    let url = oauth.authorize_url(
        &Site::of(Domain::Us1),
        &PkceVerifier::generate().challenge(),
        "s",
    );
    let page = world.sandbox.authorize(&url).await.unwrap_err();
    assert!(
        page.to_string().contains("Mismatching redirect URI"),
        "{page}"
    );
}

#[tokio::test]
async fn a_denied_consent_redirects_with_access_denied() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    world.sandbox.set_consent(Consent::Deny);
    let url = world.oauth.authorize_url(
        &Site::of(Domain::Us1),
        &PkceVerifier::generate().challenge(),
        "st",
    );
    let callback = support::Callback::from(&world.sandbox.authorize(&url).await.unwrap());
    assert_eq!(callback.get("error"), "access_denied");
    assert_eq!(callback.get("state"), "st");
    assert!(!callback.params.contains_key("code"));
}

#[tokio::test]
async fn an_admin_narrowed_grant_reports_the_smaller_scope_set() {
    let world = World::new(&["monitors_read", "dashboards_read", "api_keys_write"]).await;
    world.sandbox.add_org(
        OrgSpec::new("Narrow", Domain::Us5).grantable_scopes(["monitors_read", "api_keys_write"]),
    );
    let (_, grant) = world.grant(&Site::of(Domain::Us5)).await;
    let scopes = grant.scopes.unwrap();
    assert!(scopes.contains(&Scope::MONITORS_READ));
    assert!(!scopes.contains(&Scope::DASHBOARDS_READ));
}

#[tokio::test]
async fn strict_rotation_kills_the_old_refresh_token() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    world.sandbox.set_strict_rotation(true);
    let (_, grant) = world.grant(&Site::of(Domain::Us1)).await;
    let first = grant.refresh_token.unwrap();
    let second = world.oauth.refresh(Domain::Us1, &first).await.unwrap();
    let err = world.oauth.refresh(Domain::Us1, &first).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidGrant {
                operation: Operation::Refresh,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("authorize again"), "{err}");
    // The rotated one still works.
    world
        .oauth
        .refresh(Domain::Us1, &second.refresh_token.unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn revoke_is_ok_for_unknown_tokens_and_401_without_the_secret() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let (_, grant) = world.grant(&Site::of(Domain::Us1)).await;
    world
        .oauth
        .revoke_refresh_token(
            Domain::Us1,
            &dd_integration::secret::RefreshToken::new("never-issued"),
        )
        .await
        .unwrap();
    world
        .oauth
        .revoke_access_token(Domain::Us1, &grant.access_token)
        .await
        .unwrap();
    // The whole grant ended: the access token no longer creates keys.
    let err = world
        .oauth
        .create_marketplace_api_key(Domain::Us1, &grant.access_token)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    let wrong = OAuthClient::builder(
        world.client.client_id.clone(),
        ClientSecret::new("nope"),
        REDIRECT,
    )
    .endpoints(world.sandbox.endpoints())
    .build()
    .unwrap();
    let err = wrong
        .revoke_access_token(Domain::Us1, &grant.access_token)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ClientAuthentication {
                operation: Operation::Revoke
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn marketplace_key_is_created_once_then_409_with_the_recovery() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Ap1);
    let (_, grant) = world.grant(&Site::of(Domain::Ap1)).await;
    let key = world
        .oauth
        .create_marketplace_api_key(Domain::Ap1, &grant.access_token)
        .await
        .unwrap();
    assert_eq!(key.key.expose_secret().len(), 32);
    assert!(key.name.unwrap().contains("OAuth Client API Key"));
    let err = world
        .oauth
        .create_marketplace_api_key(Domain::Ap1, &grant.access_token)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ApiKeyAlreadyExists), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("API Keys") && text.contains("revoke it"),
        "{text}"
    );
    assert!(!text.contains(key.key.expose_secret()));
}

#[tokio::test]
async fn marketplace_key_without_api_keys_write_is_forbidden() {
    let world = World::new(&["monitors_read"]).await;
    world.org("Acme", Domain::Us3);
    let (_, grant) = world.grant(&Site::of(Domain::Us3)).await;
    let err = world
        .oauth
        .create_marketplace_api_key(Domain::Us3, &grant.access_token)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Forbidden {
                operation: Operation::CreateMarketplaceKey,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("api_keys_write"), "{err}");
}

#[tokio::test]
async fn a_revoked_api_key_fails_validation() {
    let world = World::new(SCOPES).await;
    let org = world.org("Acme", Domain::Us1);
    let (_, grant) = world.grant(&Site::of(Domain::Us1)).await;
    let key = world
        .oauth
        .create_marketplace_api_key(Domain::Us1, &grant.access_token)
        .await
        .unwrap();
    world
        .sandbox
        .delete_api_key(&org.id, &world.client.client_id);
    assert!(
        !world
            .oauth
            .validate_api_key(Domain::Us1, &key.key)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn rate_limit_429_carries_the_headers() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let (_, grant) = world.grant(&Site::of(Domain::Us1)).await;
    world.sandbox.inject(Route::Token, Fault::status(429));
    let err = world
        .oauth
        .refresh(Domain::Us1, grant.refresh_token.as_ref().unwrap())
        .await
        .unwrap_err();
    let Error::RateLimited { rate_limit, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(rate_limit.limit.is_some() && rate_limit.period.is_some());
    assert!(rate_limit.remaining.is_some() && rate_limit.name.is_some());
    assert!(err.retry_after().is_some());
    assert!(err.is_transient());
    // The fault was one-shot: the token was not spent.
    world
        .oauth
        .refresh(Domain::Us1, grant.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn server_errors_are_transient() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let (_, grant) = world.grant(&Site::of(Domain::Us1)).await;
    for (route, status) in [
        (Route::Token, 500),
        (Route::Token, 503),
        (Route::MarketplaceKey, 502),
    ] {
        world.sandbox.inject(route, Fault::status(status));
        let err = match route {
            Route::Token => world
                .oauth
                .refresh(Domain::Us1, grant.refresh_token.as_ref().unwrap())
                .await
                .unwrap_err(),
            _ => world
                .oauth
                .create_marketplace_api_key(Domain::Us1, &grant.access_token)
                .await
                .unwrap_err(),
        };
        assert!(
            matches!(err, Error::Server { status: s, .. } if s == status),
            "{err:?}"
        );
        assert!(err.is_transient() && !err.is_invalid_grant());
    }
}

#[tokio::test]
async fn latency_beyond_the_timeout_is_a_timeout() {
    let http = HttpConfig::default().timeout(Duration::from_millis(300));
    let world = World::with_http(SCOPES, http).await;
    world.org("Acme", Domain::Us1);
    let (_, grant) = world.grant(&Site::of(Domain::Us1)).await;
    world
        .sandbox
        .inject(Route::Token, Fault::latency(Duration::from_secs(2)));
    let err = world
        .oauth
        .refresh(Domain::Us1, grant.refresh_token.as_ref().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_dropped_response_is_a_transport_error() {
    let world = World::new(SCOPES).await;
    world.org("Acme", Domain::Us1);
    let (_, grant) = world.grant(&Site::of(Domain::Us1)).await;
    world.sandbox.inject(Route::Token, Fault::drop_response());
    let err = world
        .oauth
        .refresh(Domain::Us1, grant.refresh_token.as_ref().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("may have processed"), "{err}");
}

#[tokio::test]
async fn an_oversized_response_is_refused() {
    let http = HttpConfig::default().max_response_bytes(64);
    let world = World::with_http(SCOPES, http).await;
    world.org("Acme", Domain::Us1);
    let (callback, verifier) = world.authorize(&Site::of(Domain::Us1)).await;
    let err = world
        .oauth
        .exchange_code(Domain::Us1, callback.get("code"), &verifier)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 64, .. }),
        "{err:?}"
    );
}

/// A peer that answers every request with a redirect, and records every request line.
fn redirecting_peer() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            log.lock()
                .unwrap()
                .push(head.lines().next().unwrap_or("").to_owned());
            let _ = stream.write_all(
                b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /leaked\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (base, seen)
}

#[tokio::test]
async fn redirects_are_never_followed_on_token_revoke_or_key_calls() {
    let (base, seen) = redirecting_peer();
    let oauth = OAuthClient::builder("cid", ClientSecret::new("secret"), REDIRECT)
        .endpoints(Endpoints::override_base(&base).unwrap())
        .build()
        .unwrap();
    let token = dd_integration::secret::AccessToken::new("token");
    let refresh = dd_integration::secret::RefreshToken::new("refresh");
    let errors = [
        oauth
            .exchange_code(Domain::Us1, "c", &PkceVerifier::generate())
            .await
            .unwrap_err(),
        oauth.refresh(Domain::Us1, &refresh).await.unwrap_err(),
        oauth
            .revoke_refresh_token(Domain::Us1, &refresh)
            .await
            .unwrap_err(),
        oauth
            .create_marketplace_api_key(Domain::Us1, &token)
            .await
            .unwrap_err(),
    ];
    for err in &errors {
        assert!(
            matches!(err, Error::UnexpectedResponse { status: 307, .. }),
            "{err:?}"
        );
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen.iter().all(|line| !line.contains("leaked")), "{seen:?}");
    assert!(
        seen[0].starts_with("POST /api.datadoghq.com/oauth2/v1/token "),
        "{seen:?}"
    );
}

#[tokio::test]
async fn token_calls_go_to_the_api_host_of_the_region() {
    let world = World::new(SCOPES).await;
    world
        .sandbox
        .add_org(OrgSpec::new("Acme", Domain::Us1).vanity("acme"));
    let (_, grant) = world
        .grant(&Site::parse("acme.datadoghq.com").unwrap())
        .await;
    // What Datadog does when a token call goes to the vanity host (TLS name mismatch there): the
    // sandbox refuses it, so a client that derived the host from the site would fail here.
    let peer = reqwest::Client::new();
    let url = format!(
        "{}acme.datadoghq.com/oauth2/v1/token",
        world.sandbox.base_url()
    );
    let status = peer.post(url).send().await.unwrap().status();
    assert_eq!(status.as_u16(), 421);
    assert!(grant.refresh_token.is_some());
    assert!(world.sandbox.calls(Route::Token) >= 1);
}
