use std::io::Write as _;

use serde_json::json;

use super::*;
use crate::testkit::{
    CHECK_MAX_AGE_SECS, EVENT_MAX_AGE_SECS, LOG_MAX_AGE_SECS, LOG_MAX_AHEAD_SECS,
    LOG_MESSAGE_MAX_BYTES, LOGS_MAX_BYTES, LOGS_MAX_ENTRIES, Route, SERIES_DECOMPRESSED_LIMIT,
    SERIES_MAX_WIRE_BYTES,
};

const API: &str = "api.datadoghq.eu";
const LOGS: &str = "http-intake.logs.datadoghq.eu";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

fn encode(encoding: Option<&str>, data: &[u8]) -> Vec<u8> {
    match encoding {
        None | Some("identity") => data.to_vec(),
        Some("gzip") => gzip(data),
        Some("deflate") => zlib(data),
        Some("zstd" | "zstd1") => zstd(data),
        Some(other) => panic!("{other}"),
    }
}

impl Fx {
    async fn post(
        &self,
        host: &str,
        path: &str,
        key: Option<&str>,
        encoding: Option<&str>,
        wire: Vec<u8>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url(host, path))
            .header("content-type", "application/json")
            .body(wire);
        if let Some(k) = key {
            req = req.header("DD-API-KEY", k);
        }
        if let Some(e) = encoding {
            req = req.header("Content-Encoding", e);
        }
        json_of(req.send().await.unwrap()).await
    }

    /// `body` as plain JSON with `key`.
    async fn post_json(&self, host: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
        let wire = serde_json::to_vec(body).unwrap();
        self.post(host, path, Some(key), None, wire).await
    }
}

/// A valid series body of exactly `n` bytes.
fn series_of_size(n: usize, ts: i64) -> Vec<u8> {
    let head = format!(
        r#"{{"series":[{{"metric":"acme.size","type":3,"points":[{{"timestamp":{ts},"value":1.0}}],"tags":["pad:"#
    );
    let tail = r#""]}]}"#;
    let mut body = head.into_bytes();
    body.resize(n - tail.len(), b'a');
    body.extend_from_slice(tail.as_bytes());
    assert_eq!(body.len(), n);
    body
}

fn now(f: &Fx) -> i64 {
    super::super::clock::unix_secs(f.sb.now())
}

#[tokio::test]
async fn series_in_every_encoding() {
    let f = fx().await;
    let key = f.key().await;
    let ts = now(&f);
    let body = serde_json::to_vec(&json!({"series": [{
        "metric": "acme.requests", "type": 1, "interval": 10, "unit": "request",
        "points": [{"timestamp": ts, "value": 3.0}],
        "resources": [{"name": "web-1", "type": "host"}], "tags": ["env:prod"],
    }]}))
    .unwrap();
    for enc in [
        None,
        Some("identity"),
        Some("gzip"),
        Some("deflate"),
        Some("zstd"),
        Some("zstd1"),
    ] {
        let wire = encode(enc, &body);
        let (status, resp) = f.post(API, "/api/v2/series", Some(&key), enc, wire).await;
        assert_eq!((status, resp), (202, json!({"errors": []})), "{enc:?}");
    }
    let got = f.sb.received_series();
    assert_eq!(got.len(), 6);
    assert_eq!(got[4].encoding.as_deref(), Some("zstd"));
    assert_eq!(got[2].wire_bytes, gzip(&body).len());
    assert_eq!(got[5].body["series"][0]["metric"], "acme.requests");
    assert_eq!(got[0].org_id, f.org.id);
    assert_eq!(got[0].host, API);
    assert!(got.iter().all(|r| r.dropped_points.is_empty()));
    let (status, _) = f
        .post(API, "/api/v2/series", Some(&key), Some("br"), body.clone())
        .await;
    assert_eq!(status, 415);
    let (status, _) = f
        .post(API, "/api/v2/series", Some(&key), Some("gzip"), body)
        .await;
    assert_eq!(status, 400, "not gzip at all");
}

#[tokio::test]
async fn series_limits() {
    let f = fx().await;
    let key = f.key().await;
    let ts = now(&f);
    let too_large = (413, json!({"errors": ["Payload too large"]}));
    // As sent.
    let at = series_of_size(SERIES_MAX_WIRE_BYTES, ts);
    assert_eq!(
        f.post(API, "/api/v2/series", Some(&key), None, at).await.0,
        202
    );
    let over = series_of_size(SERIES_MAX_WIRE_BYTES + 1, ts);
    assert_eq!(
        f.post(API, "/api/v2/series", Some(&key), None, over).await,
        too_large
    );
    // Decompressed: strictly below 5 MiB.
    let under = gzip(&series_of_size(SERIES_DECOMPRESSED_LIMIT - 1, ts));
    assert!(under.len() <= SERIES_MAX_WIRE_BYTES);
    assert_eq!(
        f.post(API, "/api/v2/series", Some(&key), Some("gzip"), under)
            .await
            .0,
        202
    );
    let at = gzip(&series_of_size(SERIES_DECOMPRESSED_LIMIT, ts));
    assert_eq!(
        f.post(API, "/api/v2/series", Some(&key), Some("gzip"), at)
            .await,
        too_large
    );
    // A bomb is cut off at the limit, in every codec.
    let zeros = vec![0u8; 8 * 1024 * 1024];
    for (enc, wire) in [("deflate", zlib(&zeros)), ("zstd", zstd(&zeros))] {
        assert!(wire.len() < SERIES_MAX_WIRE_BYTES);
        assert_eq!(
            f.post(API, "/api/v2/series", Some(&key), Some(enc), wire)
                .await,
            too_large,
            "{enc}"
        );
    }
}

#[tokio::test]
async fn series_validation_auth_and_time_window() {
    let f = fx().await;
    let key = f.key().await;
    let ts = now(&f);
    for bad in [
        "{not json",
        r#"{"series": 1}"#,
        r#"{"series":[{"type":3,"points":[]}]}"#,
        r#"{"series":[{"metric":"m","type":4,"points":[]}]}"#,
        r#"{"series":[{"metric":"m","points":[{"timestamp":"now","value":1}]}]}"#,
        r#"{"series":[{"metric":"m","points":[],"tags":[1]}]}"#,
    ] {
        let (status, body) = f
            .post(API, "/api/v2/series", Some(&key), None, bad.into())
            .await;
        assert_eq!(status, 400, "{bad}");
        assert!(body["errors"][0].is_string());
    }
    let forbidden = (403, json!({"errors": ["Forbidden"]}));
    let ok = series_of_size(200, ts);
    assert_eq!(
        f.post(API, "/api/v2/series", None, None, ok.clone()).await,
        forbidden
    );
    assert_eq!(
        f.post(API, "/api/v2/series", Some("bad"), None, ok.clone())
            .await,
        forbidden
    );
    // The EU key on US1.
    assert_eq!(
        f.post("api.datadoghq.com", "/api/v2/series", Some(&key), None, ok)
            .await,
        forbidden
    );

    let points = json!([
        {"timestamp": ts + 590, "value": 1.0},
        {"timestamp": ts + 700, "value": 2.0},
        {"timestamp": ts - 3500, "value": 3.0},
        {"timestamp": ts - 3700, "value": 4.0},
    ]);
    let body = serde_json::to_vec(&json!({"series": [{"metric": "m", "points": points}]})).unwrap();
    assert_eq!(
        f.post(API, "/api/v2/series", Some(&key), None, body)
            .await
            .0,
        202
    );
    let dropped = &f.sb.received_series()[0].dropped_points;
    let ts_dropped: Vec<i64> = dropped.iter().map(|d| d.timestamp).collect();
    assert_eq!(ts_dropped, [ts + 700, ts - 3700]);
    assert_eq!(dropped[0].metric, "m");
    assert_eq!(dropped[1].value, 4.0);
}

#[tokio::test]
async fn logs_encodings_and_auth() {
    let f = fx().await;
    let key = f.key().await;
    let body = br#"[{"message":"hello","ddsource":"acme","service":"pager"}]"#;
    for enc in [None, Some("gzip"), Some("deflate"), Some("identity")] {
        let r = f
            .post(LOGS, "/api/v2/logs", Some(&key), enc, encode(enc, body))
            .await;
        assert_eq!(r, (202, json!({})), "{enc:?}");
    }
    let (status, err) = f
        .post(LOGS, "/api/v2/logs", Some(&key), Some("zstd"), zstd(body))
        .await;
    assert_eq!(status, 415);
    assert_eq!(err["errors"][0]["status"], "415");
    let single = br#"{"message":"one"}"#.to_vec();
    assert_eq!(
        f.post(LOGS, "/api/v2/logs", Some(&key), None, single)
            .await
            .0,
        202
    );
    let logs = f.sb.received_logs();
    assert_eq!(logs.len(), 5);
    assert_eq!(logs[4].body, json!([{"message": "one"}]));
    assert_eq!(logs[1].encoding.as_deref(), Some("gzip"));

    let (status, err) = f
        .post(LOGS, "/api/v2/logs", None, None, body.to_vec())
        .await;
    assert_eq!(status, 401);
    assert_eq!(err["errors"][0]["status"], "401");
    let (status, err) = f
        .post(LOGS, "/api/v2/logs", Some("bad"), None, body.to_vec())
        .await;
    assert_eq!(status, 403);
    assert_eq!(err["errors"][0]["title"], "Forbidden");
    assert!(err["errors"][0]["detail"].is_string());
    let (status, _) = f
        .post(LOGS, "/api/v2/logs", Some(&key), None, b"[1,2]".to_vec())
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn logs_limits() {
    let f = fx().await;
    let key = f.key().await;
    let entries = |n: usize| serde_json::to_vec(&vec![json!({"message": "x"}); n]).unwrap();
    assert_eq!(
        f.post(
            LOGS,
            "/api/v2/logs",
            Some(&key),
            None,
            entries(LOGS_MAX_ENTRIES)
        )
        .await
        .0,
        202
    );
    let (status, err) = f
        .post(
            LOGS,
            "/api/v2/logs",
            Some(&key),
            None,
            entries(LOGS_MAX_ENTRIES + 1),
        )
        .await;
    assert_eq!(status, 413);
    assert_eq!(err["errors"][0]["status"], "413");

    // 5 MiB uncompressed, whatever the encoding.
    let of_size = |n: usize| {
        let mut v = br#"[{"message":""#.to_vec();
        v.resize(n - 3, b'a');
        v.extend_from_slice(br#""}]"#);
        v
    };
    assert_eq!(
        f.post(
            LOGS,
            "/api/v2/logs",
            Some(&key),
            None,
            of_size(LOGS_MAX_BYTES)
        )
        .await
        .0,
        202
    );
    assert_eq!(
        f.post(
            LOGS,
            "/api/v2/logs",
            Some(&key),
            None,
            of_size(LOGS_MAX_BYTES + 1)
        )
        .await
        .0,
        413
    );
    let wire = gzip(&of_size(LOGS_MAX_BYTES + 1));
    assert_eq!(
        f.post(LOGS, "/api/v2/logs", Some(&key), Some("gzip"), wire)
            .await
            .0,
        413
    );

    // 1 MiB a message: longer ones are truncated and accepted.
    let message = |n: usize| serde_json::to_vec(&json!([{"message": "m".repeat(n)}])).unwrap();
    let before = f.sb.received_logs().len();
    for n in [LOG_MESSAGE_MAX_BYTES, LOG_MESSAGE_MAX_BYTES + 1] {
        assert_eq!(
            f.post(LOGS, "/api/v2/logs", Some(&key), None, message(n))
                .await
                .0,
            202
        );
    }
    let got = &f.sb.received_logs()[before..];
    assert_eq!(got[0].truncated_logs, 0);
    assert_eq!(got[1].truncated_logs, 1);
    assert_eq!(
        got[1].body[0]["message"].as_str().unwrap().len(),
        LOG_MESSAGE_MAX_BYTES
    );
}

#[tokio::test]
async fn events_validation_and_encodings() {
    let f = fx().await;
    let key = f.key().await;
    let event = |text: String| {
        serde_json::to_vec(
            &json!({"title": "Deploy", "text": text, "tags": ["env:prod"], "alert_type": "info"}),
        )
        .unwrap()
    };
    let (status, body) = f
        .post(
            API,
            "/api/v1/events",
            Some(&key),
            Some("gzip"),
            gzip(&event("é".repeat(4000))),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(body["status"], "ok");
    assert!(body["event"]["id"].is_u64());
    assert_eq!(body["event"]["title"], "Deploy");
    let (status, body) = f
        .post(
            API,
            "/api/v1/events",
            Some(&key),
            Some("deflate"),
            zlib(&event("x".into())),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(body["event"]["id"], 2);
    let (status, body) = f
        .post(
            API,
            "/api/v1/events",
            Some(&key),
            None,
            event("x".repeat(4001)),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body["errors"][0].as_str().unwrap().contains("4000"));
    for bad in [
        json!({"text": "no title"}),
        json!({"title": "no text"}),
        json!({"title": "t", "text": "x", "priority": "urgent"}),
        json!({"title": "t", "text": "x", "alert_type": "fatal"}),
        json!([]),
    ] {
        assert_eq!(
            f.post_json(API, "/api/v1/events", &key, &bad).await.0,
            400,
            "{bad}"
        );
    }
    let (status, _) = f
        .post(
            API,
            "/api/v1/events",
            Some(&key),
            Some("zstd"),
            zstd(&event("x".into())),
        )
        .await;
    assert_eq!(status, 415);
    assert_eq!(
        f.post(API, "/api/v1/events", None, None, event("x".into()))
            .await
            .0,
        403
    );
    assert_eq!(f.sb.received_events().len(), 2);
}

#[tokio::test]
async fn check_runs() {
    let f = fx().await;
    let key = f.key().await;
    let ok = json!([
        {"check": "acme.can_connect", "host_name": "web-1", "status": 0, "tags": ["env:prod"]},
        {"check": "acme.can_connect", "host_name": "web-2", "status": 3, "message": "?", "timestamp": now(&f)},
    ]);
    let wire = gzip(&serde_json::to_vec(&ok).unwrap());
    let r = f
        .post(API, "/api/v1/check_run", Some(&key), Some("gzip"), wire)
        .await;
    assert_eq!(r, (202, json!({"status": "ok"})));
    let wire = zlib(&serde_json::to_vec(&ok).unwrap());
    assert_eq!(
        f.post(API, "/api/v1/check_run", Some(&key), Some("deflate"), wire)
            .await
            .0,
        202
    );
    assert_eq!(f.sb.received_check_runs()[0].body, ok);
    for bad in [
        json!([{"check": "c", "host_name": "h", "status": 4}]),
        json!([{"check": "c", "status": 0}]),
        json!([{"host_name": "h", "status": 0}]),
        json!([{"check": "c", "host_name": "h", "status": 0, "tags": "env:prod"}]),
        json!({"check": "c", "host_name": "h", "status": 0}),
    ] {
        assert_eq!(
            f.post_json(API, "/api/v1/check_run", &key, &bad).await.0,
            400,
            "{bad}"
        );
    }
    let wire = serde_json::to_vec(&ok).unwrap();
    assert_eq!(
        f.post(API, "/api/v1/check_run", Some("bad"), None, wire)
            .await
            .0,
        403
    );
}

/// Logs older than 18 hours or over 2 hours ahead, events older than 18 hours and checks older
/// than 10 minutes are accepted (`202`)
/// and dropped, each counted, whatever else the payload holds; a minute inside each window is
/// kept.
#[tokio::test]
async fn logs_events_and_checks_past_their_time_window_are_accepted_and_dropped() {
    let f = fx().await;
    let key = f.key().await;
    // A minute inside or outside each window: the sandbox's clock runs on while the requests
    // are made (the edges themselves are tested in `intake::windows`).
    let t = now(&f);
    let log_limit_ms = (t - LOG_MAX_AGE_SECS + 60) * 1000;
    let log_ahead_ms = (t + LOG_MAX_AHEAD_SECS - 60) * 1000;
    let logs = json!([
        {"message": "kept, a minute inside", "timestamp": log_limit_ms},
        {"message": "dropped", "timestamp": log_limit_ms - 120_000},
        {"message": "kept, no timestamp"},
        {"message": "kept, a date Datadog parses itself", "timestamp": "2020-01-01T00:00:00Z"},
        {"message": "dropped too", "timestamp": 0},
        {"message": "kept, ahead a minute inside", "timestamp": log_ahead_ms},
        {"message": "dropped, too far ahead", "timestamp": log_ahead_ms + 120_000},
    ]);
    let (status, _) = f.post_json(LOGS, "/api/v2/logs", &key, &logs).await;
    assert_eq!(status, 202);
    assert_eq!(f.sb.received_logs()[0].dropped_entries, 3);

    for (date, dropped) in [
        (t - EVENT_MAX_AGE_SECS + 60, 0),
        (t - EVENT_MAX_AGE_SECS - 60, 1),
    ] {
        let event = json!({"title": "Deploy", "text": "x", "date_happened": date});
        let (status, body) = f.post_json(API, "/api/v1/events", &key, &event).await;
        assert_eq!((status, &body["status"]), (202, &json!("ok")));
        assert_eq!(
            f.sb.received_events().last().unwrap().dropped_entries,
            dropped
        );
    }

    let checks = json!([
        {"check": "acme.can_connect", "host_name": "a", "status": 0, "timestamp": t - CHECK_MAX_AGE_SECS + 60},
        {"check": "acme.can_connect", "host_name": "b", "status": 0, "timestamp": t - CHECK_MAX_AGE_SECS - 60},
        {"check": "acme.can_connect", "host_name": "c", "status": 0},
    ]);
    let r = f.post_json(API, "/api/v1/check_run", &key, &checks).await;
    assert_eq!(r, (202, json!({"status": "ok"})));
    assert_eq!(f.sb.received_check_runs()[0].dropped_entries, 1);

    let org = &f.org.id;
    let tally = |route| {
        let t = f.sb.intake_tally(route, org);
        (t.payloads, t.items, t.dropped_entries)
    };
    assert_eq!(tally(Route::Logs), (1, 7, 3));
    assert_eq!(tally(Route::Events), (2, 2, 1));
    assert_eq!(tally(Route::CheckRun), (1, 3, 1));
}
