use std::time::Duration;

use serde_json::json;

use super::*;
use crate::testkit::{AuthorizeError, Consent, Route, TokenState};

#[tokio::test]
async fn hosts_are_checked_like_dns_and_tls() {
    let f = fx().await;
    f.sb.add_org(OrgSpec::new("BigCorp", Domain::Eu1).vanity("bigcorp"));
    let form = [("grant_type", "refresh_token")];
    // A token request to a vanity subdomain or a UI host fails TLS in reality.
    for host in [
        "acme.datadoghq.com",
        "bigcorp.datadoghq.eu",
        "app.datadoghq.eu",
        "datadoghq.eu",
    ] {
        let resp = f.token_form(host, &form).await;
        assert_eq!(resp.status(), 421, "{host}");
        let text = resp.text().await.unwrap();
        assert!(text.contains("api.datadoghq"), "{host}: {text}");
    }
    assert_eq!(f.sb.calls(Route::Token), 0);
    let (_, challenge) = pkce();
    // Authorize lives only on UI hosts: the standard one or a registered vanity subdomain.
    for host in [
        "api.datadoghq.eu",
        "nobody.datadoghq.eu",
        "app.us3.datadoghq.com",
        "evil.example",
        "http-intake.logs.datadoghq.eu",
    ] {
        let url = f.authorize_url_for(host, &f.client, &challenge, &[]);
        let resp = f.http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 421, "{host}");
    }
    for host in ["app.datadoghq.eu", "bigcorp.datadoghq.eu"] {
        let url = f.authorize_url_for(host, &f.client, &challenge, &[]);
        assert_eq!(
            f.http.get(url).send().await.unwrap().status(),
            302,
            "{host}"
        );
    }
    // Logs only on the logs intake host, the rest only on api.
    let logs_on_api = f.http.post(f.api("/api/v2/logs")).send().await.unwrap();
    assert_eq!(logs_on_api.status(), 421);
    let series_on_logs = f
        .http
        .post(f.url("http-intake.logs.datadoghq.eu", "/api/v2/series"))
        .send()
        .await
        .unwrap();
    assert_eq!(series_on_logs.status(), 421);
    let unknown = f
        .http
        .get(f.url("evil.example", "/anything"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 421);
    let not_found = f.http.get(f.api("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(not_found.status(), 404);
    let wrong_method = f.http.get(f.api("/oauth2/v1/token")).send().await.unwrap();
    assert_eq!(wrong_method.status(), 405);
}

#[tokio::test]
async fn success_redirects_with_what_datadog_adds() {
    let f = fx().await;
    let (_, challenge) = pkce();
    let url = f.authorize_url_for("app.datadoghq.eu", &f.client, &challenge, &[]);
    let cb = f.sb.authorize(&url).await.unwrap();
    assert_eq!(cb.as_str().split('?').next().unwrap(), CALLBACK);
    assert!(query(&cb, "code").is_some());
    assert_eq!(query(&cb, "state").as_deref(), Some("st-123"));
    assert_eq!(query(&cb, "domain").as_deref(), Some("datadoghq.eu"));
    assert_eq!(
        query(&cb, "site").as_deref(),
        Some("https://app.datadoghq.eu")
    );
    assert_eq!(query(&cb, "dd_oid").as_deref(), Some(f.org.id.as_str()));
    assert_eq!(query(&cb, "dd_org_name").as_deref(), Some("Acme"));

    // Without state, none comes back; the real Datadog URL is mapped onto the sandbox.
    let mut real = Url::parse("https://app.datadoghq.eu/oauth2/v1/authorize").unwrap();
    real.query_pairs_mut()
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("client_id", &f.client.client_id)
        .append_pair("response_type", "code")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let cb = f.sb.authorize(&real).await.unwrap();
    assert!(query(&cb, "code").is_some());
    assert_eq!(query(&cb, "state"), None);
}

#[tokio::test]
async fn org_is_chosen_by_vanity_host_then_dd_oid_then_first() {
    let f = fx().await;
    let second = f.sb.add_org(OrgSpec::new("Second", Domain::Eu1));
    let big =
        f.sb.add_org(OrgSpec::new("BigCorp", Domain::Eu1).vanity("bigcorp"));
    let us = f.sb.add_org(OrgSpec::new("Yankee", Domain::Us3));
    let (_, ch) = pkce();
    let oid = |host: &str, extra: &[(&str, &str)]| f.authorize_url_for(host, &f.client, &ch, extra);

    let cb = f.sb.authorize(&oid("app.datadoghq.eu", &[])).await.unwrap();
    assert_eq!(query(&cb, "dd_oid").unwrap(), f.org.id);
    let cb =
        f.sb.authorize(&oid("app.datadoghq.eu", &[("dd_oid", &second.id)]))
            .await
            .unwrap();
    assert_eq!(query(&cb, "dd_oid").unwrap(), second.id);
    // dd_oid of another region is ignored.
    let cb =
        f.sb.authorize(&oid("app.datadoghq.eu", &[("dd_oid", &us.id)]))
            .await
            .unwrap();
    assert_eq!(query(&cb, "dd_oid").unwrap(), f.org.id);
    let cb =
        f.sb.authorize(&oid("bigcorp.datadoghq.eu", &[]))
            .await
            .unwrap();
    assert_eq!(query(&cb, "dd_oid").unwrap(), big.id);
    assert_eq!(query(&cb, "site").unwrap(), "https://bigcorp.datadoghq.eu");
    assert_eq!(query(&cb, "domain").unwrap(), "datadoghq.eu");
    // The same label on another region is another org; on the same region it is taken.
    let big_us =
        f.sb.add_org(OrgSpec::new("BigCorp US", Domain::Us1).vanity("bigcorp"));
    let cb =
        f.sb.authorize(&oid("bigcorp.datadoghq.com", &[]))
            .await
            .unwrap();
    assert_eq!(query(&cb, "dd_oid").unwrap(), big_us.id);
    for label in ["bigcorp", "BigCorp"] {
        let taken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            f.sb.add_org(OrgSpec::new("Impostor", Domain::Eu1).vanity(label))
        }));
        assert!(
            taken.is_err(),
            "{label}: a vanity subdomain belongs to one org"
        );
    }
    let cb =
        f.sb.authorize(&oid("bigcorp.datadoghq.eu", &[]))
            .await
            .unwrap();
    assert_eq!(query(&cb, "dd_oid").unwrap(), big.id);
    let cb =
        f.sb.authorize(&oid("us3.datadoghq.com", &[]))
            .await
            .unwrap();
    assert_eq!(query(&cb, "dd_oid").unwrap(), us.id);
    assert_eq!(query(&cb, "domain").unwrap(), "us3.datadoghq.com");
    // No org on AP1: an error page.
    let err =
        f.sb.authorize(&oid("ap1.datadoghq.com", &[]))
            .await
            .unwrap_err();
    assert!(
        matches!(err, AuthorizeError::Page { status: 400, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn client_and_redirect_errors_are_pages_not_redirects() {
    let f = fx().await;
    let (_, ch) = pkce();
    let page = |e: AuthorizeError| match e {
        AuthorizeError::Page { status, text } => {
            assert_eq!(status, 400);
            text
        }
        other => panic!("{other:?}"),
    };
    let mut url = f.authorize_url_for("app.datadoghq.eu", &f.client, &ch, &[]);
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "client_id" {
                "nope".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let text = page(f.sb.authorize(&url).await.unwrap_err());
    assert!(text.contains("Invalid client_id parameter value"), "{text}");

    let other = f.sb.add_client(
        ClientSpec::new("Other")
            .redirect_uri("https://other.example/cb")
            .scopes(["monitors_read"]),
    );
    let text = page(
        f.sb.authorize(&f.authorize_url_for("app.datadoghq.eu", &other, &ch, &[]))
            .await
            .unwrap_err(),
    );
    assert!(
        text.contains("invalid_request - Mismatching redirect URI"),
        "{text}"
    );

    // Unpublished: only the developer org may authorize.
    let dev = f.sb.add_org(OrgSpec::new("Dev", Domain::Us1));
    let draft = f.sb.add_client(
        ClientSpec::new("Draft")
            .redirect_uri(CALLBACK)
            .scopes(["monitors_read"])
            .unpublished(&dev.id),
    );
    let text = page(
        f.sb.authorize(&f.authorize_url_for("app.datadoghq.eu", &draft, &ch, &[]))
            .await
            .unwrap_err(),
    );
    assert!(
        text.contains("invalid_request - Invalid client_id parameter value"),
        "{text}"
    );
    let cb =
        f.sb.authorize(&f.authorize_url_for("app.datadoghq.com", &draft, &ch, &[]))
            .await
            .unwrap();
    assert!(query(&cb, "code").is_some());
}

#[tokio::test]
async fn other_errors_redirect_with_state() {
    let f = fx().await;
    let (_, ch) = pkce();
    let check = |cb: Url, error: &str| {
        assert_eq!(query(&cb, "error").as_deref(), Some(error), "{cb}");
        assert!(query(&cb, "error_description").is_some());
        assert_eq!(query(&cb, "state").as_deref(), Some("st-123"));
        assert_eq!(query(&cb, "code"), None);
    };
    let base = f.authorize_url_for("app.datadoghq.eu", &f.client, &ch, &[]);
    let with = |name: &str, value: Option<&str>| {
        let mut url = base.clone();
        let pairs: Vec<(String, String)> = base
            .query_pairs()
            .filter(|(k, _)| k != name)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .chain(value.map(|v| (name.to_owned(), v.to_owned())))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        url
    };
    check(
        f.sb.authorize(&with("response_type", Some("token")))
            .await
            .unwrap(),
        "unsupported_response_type",
    );
    check(
        f.sb.authorize(&with("code_challenge", None)).await.unwrap(),
        "invalid_request",
    );
    check(
        f.sb.authorize(&with("code_challenge_method", Some("plain")))
            .await
            .unwrap(),
        "invalid_request",
    );
    check(
        f.sb.authorize(&with("scope", Some("dashboards_write")))
            .await
            .unwrap(),
        "invalid_scope",
    );
    f.sb.set_consent(Consent::Deny);
    check(f.sb.authorize(&base).await.unwrap(), "access_denied");
}

#[tokio::test]
async fn consent_page_authorize_and_deny() {
    let f = fx_with(Sandbox::builder().consent(Consent::Page).start().await).await;
    let (_, ch) = pkce();
    let url = f.authorize_url_for("app.datadoghq.eu", &f.client, &ch, &[]);
    let resp = f.http.get(url.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    for needle in [
        "Acme Pager",
        "monitors_read",
        "api_keys_write",
        ">Authorize<",
        ">Deny<",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    let pending = html
        .split("name=\"pending\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let decision = f.url("app.datadoghq.eu", "/oauth2/v1/authorize/decision");
    let resp = f
        .http
        .post(decision.clone())
        .form(&[("pending", pending.as_str()), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let cb = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(query(&cb, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&cb, "state").as_deref(), Some("st-123"));
    // A pending request is answered once.
    let again = f
        .http
        .post(decision)
        .form(&[("pending", pending.as_str()), ("decision", "authorize")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    // The browser helper clicks Authorize.
    let cb = f.sb.authorize(&url).await.unwrap();
    assert!(query(&cb, "code").is_some());
}

#[tokio::test]
async fn granted_scopes_are_the_intersection() {
    let f = fx().await;
    let narrow = f.sb.add_org(
        OrgSpec::new("Narrow", Domain::Us5).grantable_scopes(["monitors_read", "dashboards_read"]),
    );
    let (verifier, ch) = pkce();
    let url = f.authorize_url_for("us5.datadoghq.com", &f.client, &ch, &[]);
    let cb = f.sb.authorize(&url).await.unwrap();
    assert_eq!(query(&cb, "dd_oid").unwrap(), narrow.id);
    let resp = f
        .token_form(
            "api.us5.datadoghq.com",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &f.client.client_id),
                ("client_secret", &f.client.client_secret),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &verifier),
                ("code", &query(&cb, "code").unwrap()),
            ],
        )
        .await;
    assert_eq!(parse_tokens(resp).await.scope, "monitors_read");

    let (verifier, ch) = pkce();
    let url = f.authorize_url_for(
        "app.datadoghq.eu",
        &f.client,
        &ch,
        &[("scope", "api_keys_write")],
    );
    let code = query(&f.sb.authorize(&url).await.unwrap(), "code").unwrap();
    let t = parse_tokens(f.exchange(&code, &verifier).await).await;
    assert_eq!(t.scope, "api_keys_write");
    let full = f.tokens().await;
    assert_eq!(full.scope, "monitors_read api_keys_write");
}

#[tokio::test]
async fn token_response_shape_and_json_body() {
    let f = fx().await;
    let (code, verifier) = f.code().await;
    let resp = f
        .http
        .post(f.api("/oauth2/v1/token"))
        .json(&json!({
            "grant_type": "authorization_code",
            "client_id": f.client.client_id,
            "client_secret": f.client.client_secret,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
            "code": code,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let (status, body) = json_of(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].as_str().unwrap().len() >= 32);
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn code_is_single_use_and_reuse_revokes_its_tokens() {
    let f = fx().await;
    let (code, verifier) = f.code().await;
    let t = parse_tokens(f.exchange(&code, &verifier).await).await;
    assert_eq!(f.monitors(&t.access).await.status(), 200);
    let (status, body) = json_of(f.exchange(&code, &verifier).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Invalid code or code verifier"})
    );
    assert_eq!(f.monitors(&t.access).await.status(), 401);
    assert_eq!(
        f.sb.refresh_token_state(&t.refresh),
        Some(TokenState::Revoked)
    );
    let (status, body) = json_of(f.refresh(&t.refresh).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn code_expires() {
    let f = fx().await;
    let (code, verifier) = f.code().await;
    f.sb.advance(Duration::from_secs(601));
    let (status, body) = json_of(f.exchange(&code, &verifier).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    f.sb.set_code_ttl(Duration::from_secs(30));
    let (code, verifier) = f.code().await;
    f.sb.advance(Duration::from_secs(20));
    assert_eq!(f.exchange(&code, &verifier).await.status(), 200);
    let (code, verifier) = f.code().await;
    f.sb.advance(Duration::from_secs(31));
    assert_eq!(f.exchange(&code, &verifier).await.status(), 400);
}

#[tokio::test]
async fn verifier_redirect_client_and_region_are_checked() {
    let f = fx().await;
    let (code, _) = f.code().await;
    let (wrong, _) = pkce();
    let (status, body) = json_of(f.exchange(&code, &wrong).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_description"], "Invalid code or code verifier");

    let (code, verifier) = f.code().await;
    let resp = f
        .token_form(
            "api.datadoghq.eu",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &f.client.client_id),
                ("client_secret", &f.client.client_secret),
                ("redirect_uri", "https://pager.example/other"),
                ("code_verifier", &verifier),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(
        json_of(resp).await,
        (
            400,
            json!({"error": "invalid_request", "error_description": "Mismatching redirect URI"})
        )
    );

    // A code issued to another client.
    let other = f.sb.add_client(
        ClientSpec::new("Other")
            .redirect_uri(CALLBACK)
            .scopes(["monitors_read"]),
    );
    let (code, verifier) = f.code().await;
    let (status, body) = json_of(f.exchange_as(&other, &code, &verifier).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // The EU org's code exchanged on US1.
    let (code, verifier) = f.code().await;
    let resp = f
        .token_form(
            "api.datadoghq.com",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &f.client.client_id),
                ("client_secret", &f.client.client_secret),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &verifier),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn client_authentication_and_request_shape() {
    let f = fx().await;
    let (code, verifier) = f.code().await;
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", f.client.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", verifier.as_str()),
        ("code", code.as_str()),
    ];
    let invalid_client =
        json!({"error": "invalid_client", "error_description": "Client authentication failed"});
    assert_eq!(
        json_of(f.token_form("api.datadoghq.eu", &base).await).await,
        (401, invalid_client.clone())
    );
    let mut wrong = base.to_vec();
    wrong.push(("client_secret", "not-the-secret"));
    assert_eq!(
        json_of(f.token_form("api.datadoghq.eu", &wrong).await).await,
        (401, invalid_client)
    );
    // The failed authentications did not spend the code.
    assert_eq!(f.exchange(&code, &verifier).await.status(), 200);

    let unknown = [
        ("grant_type", "refresh_token"),
        ("client_id", "nope"),
        ("client_secret", "x"),
    ];
    assert_eq!(
        json_of(f.token_form("api.datadoghq.eu", &unknown).await).await,
        (
            400,
            json!({"error": "invalid_request", "error_description": "Invalid client_id parameter value"})
        )
    );
    let text = f
        .http
        .post(f.api("/oauth2/v1/token"))
        .header("content-type", "text/plain")
        .body("grant_type=authorization_code")
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(text).await,
        (
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid code or code verifier"})
        )
    );
    let password = [
        ("grant_type", "password"),
        ("client_id", f.client.client_id.as_str()),
        ("client_secret", f.client.client_secret.as_str()),
    ];
    let (status, body) = json_of(f.token_form("api.datadoghq.eu", &password).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn lenient_rotation_keeps_the_previous_token_until_the_new_one_is_used() {
    let f = fx().await;
    let t1 = f.tokens().await;
    let t2 = parse_tokens(f.refresh(&t1.refresh).await).await;
    assert_ne!(t2.refresh, t1.refresh);
    assert_ne!(t2.access, t1.access);
    assert_eq!(t2.scope, t1.scope);
    assert_eq!(
        f.sb.refresh_token_state(&t1.refresh),
        Some(TokenState::Rotated)
    );
    assert_eq!(
        f.sb.refresh_token_state(&t2.refresh),
        Some(TokenState::Active)
    );
    // A lost response: the old token still works.
    let t2b = parse_tokens(f.refresh(&t1.refresh).await).await;
    assert_eq!(f.monitors(&t2b.access).await.status(), 200);
    // Once the replacement is used, the old one is dead.
    let t3 = parse_tokens(f.refresh(&t2.refresh).await).await;
    let (status, body) = json_of(f.refresh(&t1.refresh).await).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid refresh token"})
        )
    );
    assert_eq!(f.refresh(&t3.refresh).await.status(), 200);
    let (status, _) = json_of(f.refresh("never-issued").await).await;
    assert_eq!(status, 400);
    assert_eq!(f.sb.refresh_token_state("never-issued"), None);
}

#[tokio::test]
async fn strict_rotation_kills_a_used_token_at_once() {
    let f = fx_with(Sandbox::builder().strict_rotation(true).start().await).await;
    let t1 = f.tokens().await;
    let t2 = parse_tokens(f.refresh(&t1.refresh).await).await;
    let (status, body) = json_of(f.refresh(&t1.refresh).await).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Invalid refresh token"))
    );
    assert_eq!(f.refresh(&t2.refresh).await.status(), 200);
}

#[tokio::test]
async fn access_tokens_expire() {
    let f = fx().await;
    f.sb.set_access_token_ttl(Duration::from_secs(60));
    let t = f.tokens().await;
    assert_eq!(f.monitors(&t.access).await.status(), 200);
    f.sb.advance(Duration::from_secs(61));
    assert_eq!(f.monitors(&t.access).await.status(), 401);
    // The refresh token never expires.
    let t2 = parse_tokens(f.refresh(&t.refresh).await).await;
    assert_eq!(f.monitors(&t2.access).await.status(), 200);
}

#[tokio::test]
async fn revoke_ends_the_whole_grant() {
    let f = fx().await;
    let revoke = |form: Vec<(&'static str, String)>| {
        let http = f.http.clone();
        let url = f.api("/oauth2/v1/revoke");
        async move { http.post(url).form(&form).send().await.unwrap() }
    };
    let id = f.client.client_id.clone();
    let secret = f.client.client_secret.clone();
    let creds = || vec![("client_id", id.clone()), ("client_secret", secret.clone())];

    let (status, body) = json_of(revoke(creds()).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let resp = revoke(vec![("client_id", id.clone()), ("token", "x".into())]).await;
    assert_eq!(resp.status(), 401);
    let mut unknown = creds();
    unknown.push(("token", "never-issued".into()));
    let resp = revoke(unknown).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "");

    // Revoking the refresh token kills the access token too.
    let t = f.tokens().await;
    let mut form = creds();
    form.push(("token", t.refresh.clone()));
    form.push(("token_type_hint", "refresh_token".into()));
    assert_eq!(revoke(form).await.status(), 200);
    assert_eq!(f.monitors(&t.access).await.status(), 401);
    assert_eq!(
        f.sb.refresh_token_state(&t.refresh),
        Some(TokenState::Revoked)
    );
    assert_eq!(f.refresh(&t.refresh).await.status(), 400);

    // Revoking an access token kills the refresh token (and its rotated successors).
    let t = f.tokens().await;
    let t2 = parse_tokens(f.refresh(&t.refresh).await).await;
    let mut form = creds();
    form.push(("token", t.access.clone()));
    assert_eq!(revoke(form).await.status(), 200);
    assert_eq!(f.refresh(&t2.refresh).await.status(), 400);
    assert_eq!(f.monitors(&t2.access).await.status(), 401);
}

#[tokio::test]
async fn redirect_uri_is_kept_exactly_as_registered() {
    let f = fx().await;
    let bare = "https://bare.example";
    let client = f.sb.add_client(
        ClientSpec::new("Bare")
            .redirect_uri(bare)
            .scopes(["monitors_read"]),
    );
    let (verifier, challenge) = pkce();
    let mut url = f.url("app.datadoghq.eu", "/oauth2/v1/authorize");
    url.query_pairs_mut()
        .append_pair("redirect_uri", bare)
        .append_pair("client_id", &client.client_id)
        .append_pair("response_type", "code")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let cb = f.sb.authorize(&url).await.unwrap();
    let form = |redirect: &'static str| {
        let code = query(&cb, "code").unwrap();
        let (id, secret, verifier) = (
            client.client_id.clone(),
            client.client_secret.clone(),
            verifier.clone(),
        );
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", id),
            ("client_secret", secret),
            ("redirect_uri", redirect.to_owned()),
            ("code_verifier", verifier),
            ("code", code),
        ]
    };
    let resp = f
        .http
        .post(f.api("/oauth2/v1/token"))
        .form(&form(bare))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A normalised form of it is not the same string.
    let (_, challenge) = pkce();
    let mut url2 = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| match &*k {
            "code_challenge" => (k.into_owned(), challenge.clone()),
            "redirect_uri" => (k.into_owned(), format!("{bare}/")),
            _ => (k.into_owned(), v.into_owned()),
        })
        .collect();
    url2.query_pairs_mut().clear().extend_pairs(pairs);
    let err = f.sb.authorize(&url2).await.unwrap_err();
    assert!(
        err.to_string().contains("Mismatching redirect URI"),
        "{err}"
    );
}
