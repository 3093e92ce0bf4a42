use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::testkit::{Fault, Route, TokenState};

#[tokio::test]
async fn status_faults_apply_to_the_next_calls_then_stop() {
    let f = fx().await;
    let (code, verifier) = f.code().await;
    f.sb.inject(Route::Token, Fault::status(503).times(2));
    for _ in 0..2 {
        let (status, body) = json_of(f.exchange(&code, &verifier).await).await;
        assert_eq!(
            (status, body),
            (503, json!({"errors": ["Service Unavailable"]}))
        );
    }
    // The faulted calls had no effect: the code is still good.
    assert_eq!(f.exchange(&code, &verifier).await.status(), 200);
    assert_eq!(f.sb.calls(Route::Token), 3);
}

#[tokio::test]
async fn rate_limit_fault_carries_datadogs_headers() {
    let f = fx().await;
    let key = f.key().await;
    f.sb.inject(
        Route::Validate,
        Fault::status(429).reset_after(Duration::from_secs(7)),
    );
    let resp = f
        .http
        .get(f.api("/api/v1/validate"))
        .header("DD-API-KEY", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let h = resp.headers();
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-period",
        "x-ratelimit-remaining",
        "x-ratelimit-name",
    ] {
        assert!(h.contains_key(name), "{name}");
    }
    assert_eq!(h["x-ratelimit-reset"], "7");
    assert_eq!(h["x-ratelimit-remaining"], "0");
}

#[tokio::test]
async fn latency_fault_delays_then_answers() {
    let f = fx().await;
    let t = f.tokens().await;
    f.sb.inject(Route::Monitor, Fault::latency(Duration::from_millis(300)));
    let start = Instant::now();
    assert_eq!(f.monitors(&t.access).await.status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
    let start = Instant::now();
    assert_eq!(f.monitors(&t.access).await.status(), 200);
    assert!(start.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn dropped_response_was_still_processed() {
    let f = fx_with(Sandbox::builder().strict_rotation(true).start().await).await;
    let t = f.tokens().await;
    f.sb.inject(Route::Token, Fault::drop_response());
    let lost = f
        .http
        .post(f.api("/oauth2/v1/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &f.client.client_id),
            ("client_secret", &f.client.client_secret),
            ("refresh_token", &t.refresh),
        ])
        .send()
        .await;
    assert!(lost.is_err(), "the connection should be cut: {lost:?}");
    // The refresh happened: under strict rotation, the token is now spent.
    assert_eq!(
        f.sb.refresh_token_state(&t.refresh),
        Some(TokenState::Rotated)
    );
    assert_eq!(f.refresh(&t.refresh).await.status(), 400);

    // The same for the marketplace key: created, but the caller never saw it.
    let t = f.tokens().await;
    f.sb.inject(Route::MarketplaceKey, Fault::drop_response());
    let http = reqwest::Client::new();
    let lost = http
        .post(f.api("/api/v2/api_keys/marketplace"))
        .bearer_auth(&t.access)
        .send()
        .await;
    assert!(lost.is_err());
    assert!(f.sb.api_key(&f.org.id, &f.client.client_id).is_some());
    assert_eq!(f.create_key(&t.access).await.status(), 409);
}

#[tokio::test]
async fn always_until_cleared() {
    let f = fx().await;
    f.sb.inject(Route::Validate, Fault::status(500).always());
    for _ in 0..3 {
        let resp = f.http.get(f.api("/api/v1/validate")).send().await.unwrap();
        assert_eq!(resp.status(), 500);
    }
    f.sb.clear_faults();
    let resp = f.http.get(f.api("/api/v1/validate")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(f.sb.calls(Route::Validate), 4);
}

#[tokio::test]
async fn shutdown_and_last_drop_stop_the_server() {
    let sb = Sandbox::start().await;
    let url = sb.endpoints().url("api.datadoghq.com", "/api/v1/validate");
    let http = reqwest::Client::new();
    assert_eq!(http.get(url.clone()).send().await.unwrap().status(), 403);
    let clone = sb.clone();
    clone.shutdown().await;
    assert!(http.get(url).send().await.is_err());

    let sb = Sandbox::start().await;
    let url = sb.endpoints().url("api.datadoghq.com", "/api/v1/validate");
    let clone = sb.clone();
    drop(sb);
    assert_eq!(reqwest::get(url.clone()).await.unwrap().status(), 403);
    drop(clone);
    let mut stopped = false;
    for _ in 0..50 {
        if reqwest::get(url.clone()).await.is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stopped);
}
