use serde_json::json;

use super::*;

#[tokio::test]
async fn marketplace_key_is_created_once_per_org_and_client() {
    let f = fx().await;
    let t = f.tokens().await;
    let (status, body) = json_of(f.create_key(&t.access).await).await;
    assert_eq!(status, 201);
    let data = &body["data"];
    assert_eq!(data["type"], "api_keys");
    assert_eq!(data["id"].as_str().unwrap().len(), 36);
    let attrs = &data["attributes"];
    let key = attrs["key"].as_str().unwrap();
    assert_eq!(key.len(), 32);
    assert!(
        key.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(attrs["last4"].as_str().unwrap(), &key[28..]);
    let created = attrs["created_at"].as_str().unwrap();
    assert_eq!(created.len(), "2021-05-06T16:32:07.411970+00:00".len());
    assert!(created.ends_with("+00:00") && created.as_bytes()[10] == b'T');
    assert!(
        attrs["name"]
            .as_str()
            .unwrap()
            .starts_with("Acme Pager OAuth Client API Key ")
    );
    assert_eq!(
        body["data"]["relationships"]["created_by"]["data"]["type"],
        "users"
    );
    assert_eq!(
        f.sb.api_key(&f.org.id, &f.client.client_id).as_deref(),
        Some(key)
    );

    // Again, even with a fresh grant: 409.
    let t2 = f.tokens().await;
    assert_eq!(
        json_of(f.create_key(&t2.access).await).await,
        (
            409,
            json!({"errors": ["An API key with this name already exists"]})
        )
    );
    // The customer deletes the key by hand: the next call creates a new one.
    assert!(f.sb.delete_api_key(&f.org.id, &f.client.client_id));
    assert_eq!(f.create_key(&t2.access).await.status(), 201);
    assert_ne!(
        f.sb.api_key(&f.org.id, &f.client.client_id).as_deref(),
        Some(key)
    );
}

#[tokio::test]
async fn marketplace_key_refusals() {
    let f = fx().await;
    let unauthorized = (401, json!({"errors": ["Unauthorized"]}));
    let forbidden = (403, json!({"errors": ["Forbidden"]}));
    let url = f.api("/api/v2/api_keys/marketplace");
    let none = f.http.post(url.clone()).send().await.unwrap();
    assert_eq!(json_of(none).await, unauthorized);
    assert_eq!(json_of(f.create_key("garbage").await).await, unauthorized);

    let t = f.tokens().await;
    let with_app_key = f
        .http
        .post(url.clone())
        .bearer_auth(&t.access)
        .header("DD-APPLICATION-KEY", "0123")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(with_app_key).await, forbidden);
    // The right token on the wrong region is unknown there.
    let us1 = f
        .http
        .post(f.url("api.datadoghq.com", "/api/v2/api_keys/marketplace"))
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    assert_eq!(us1.status(), 401);

    // A client without api_keys_write.
    let reader = f.sb.add_client(
        ClientSpec::new("Reader")
            .redirect_uri(CALLBACK)
            .scopes(["monitors_read"]),
    );
    let (code, verifier) = f.code_for(&reader).await;
    let t = parse_tokens(f.exchange_as(&reader, &code, &verifier).await).await;
    assert_eq!(json_of(f.create_key(&t.access).await).await, forbidden);
    assert_eq!(f.sb.api_key(&f.org.id, &reader.client_id), None);
}

#[tokio::test]
async fn validate_checks_the_key_and_its_region() {
    let f = fx().await;
    let key = f.key().await;
    let validate = |host: &'static str, key: Option<String>| {
        let mut req = f.http.get(f.url(host, "/api/v1/validate"));
        if let Some(k) = key {
            req = req.header("DD-API-KEY", k);
        }
        async move { json_of(req.send().await.unwrap()).await }
    };
    assert_eq!(
        validate("api.datadoghq.eu", Some(key.clone())).await,
        (200, json!({"valid": true}))
    );
    let forbidden = (403, json!({"errors": ["Forbidden"]}));
    assert_eq!(
        validate("api.datadoghq.eu", Some("0".repeat(32))).await,
        forbidden
    );
    assert_eq!(validate("api.datadoghq.eu", None).await, forbidden);
    assert_eq!(
        validate("api.datadoghq.com", Some(key.clone())).await,
        forbidden
    );

    // Uninstall revokes the tokens but keeps the key, as Datadog does; deleting the key ends it.
    let t = f.tokens().await;
    f.sb.revoke_grants(&f.org.id);
    assert_eq!(f.monitors(&t.access).await.status(), 401);
    assert_eq!(f.refresh(&t.refresh).await.status(), 400);
    assert_eq!(validate("api.datadoghq.eu", Some(key.clone())).await.0, 200);
    f.sb.delete_api_key(&f.org.id, &f.client.client_id);
    assert_eq!(validate("api.datadoghq.eu", Some(key)).await, forbidden);
}

#[tokio::test]
async fn monitors_need_the_scope_and_no_app_key() {
    let f = fx().await;
    let t = f.tokens().await;
    assert_eq!(json_of(f.monitors(&t.access).await).await, (200, json!([])));
    f.sb.add_monitor(&f.org.id, json!({"id": 1, "name": "CPU"}));
    f.sb.add_monitor("another-org", json!({"id": 2}));
    assert_eq!(
        json_of(f.monitors(&t.access).await).await,
        (200, json!([{"id": 1, "name": "CPU"}]))
    );
    let app_key = f
        .http
        .get(f.api("/api/v1/monitor"))
        .bearer_auth(&t.access)
        .header("DD-APPLICATION-KEY", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(app_key.status(), 403);
    assert_eq!(f.monitors("nope").await.status(), 401);

    let writer = f.sb.add_client(
        ClientSpec::new("Writer")
            .redirect_uri(CALLBACK)
            .scopes(["api_keys_write"]),
    );
    let (code, verifier) = f.code_for(&writer).await;
    let t = parse_tokens(f.exchange_as(&writer, &code, &verifier).await).await;
    assert_eq!(
        json_of(f.monitors(&t.access).await).await,
        (403, json!({"errors": ["Forbidden"]}))
    );
}
