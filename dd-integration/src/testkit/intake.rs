//! The intake endpoints (metrics v2, logs v2, events v1, service checks) with Datadog's
//! authentication, content encodings, size limits and validation, recording what arrived.

use std::io::Read;

use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::api::key_org;
use super::faults::Route;
use super::server::{Call, api_error, header_text, json_response, read_body};
use super::state::Shared;

/// Series: at most this many bytes as sent (`POST /api/v2/series`).
pub const SERIES_MAX_WIRE_BYTES: usize = 512_000;
/// Series: the decompressed payload must be strictly smaller than this.
pub const SERIES_DECOMPRESSED_LIMIT: usize = 5_242_880;
/// Logs: at most this many bytes uncompressed per request.
pub const LOGS_MAX_BYTES: usize = 5_242_880;
/// Logs: at most this many entries per request.
pub const LOGS_MAX_ENTRIES: usize = 1000;
/// Logs: a `message` longer than this many bytes is truncated (the entry is still accepted).
pub const LOG_MESSAGE_MAX_BYTES: usize = 1_048_576;
/// Events: the most characters `text` may have.
pub const EVENT_TEXT_MAX_CHARS: usize = 4000;
/// Events and service checks: Datadog documents no size limit; the sandbox caps both the body
/// as sent and decompressed here.
const V1_MAX_BYTES: usize = 5 * 1024 * 1024;
/// Bodies are always read whole (so that a client is never cut off mid-upload and sees the
/// real status), up to this much.
const READ_CAP: usize = 16 * 1024 * 1024;
/// Points further ahead of the sandbox clock than this are dropped.
const MAX_FUTURE_SECS: i64 = 600;
/// Points further behind the sandbox clock than this are dropped.
const MAX_PAST_SECS: i64 = 3600;
/// Log entries whose `timestamp` (Unix milliseconds) is older than this are dropped.
pub const LOG_MAX_AGE_SECS: i64 = 18 * 3600;
/// Log entries whose `timestamp` is further ahead than this are dropped.
pub const LOG_MAX_AHEAD_SECS: i64 = 2 * 3600;
/// Events whose `date_happened` is older than this are dropped.
pub const EVENT_MAX_AGE_SECS: i64 = 18 * 3600;
/// Service checks whose `timestamp` is older than this are dropped.
pub const CHECK_MAX_AGE_SECS: i64 = 600;

/// One request an intake endpoint accepted, as a test reads it back.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Received {
    /// The org whose API key sent it.
    pub org_id: String,
    /// The Datadog host it was sent to (`api.datadoghq.eu`, `http-intake.logs.datadoghq.com`).
    pub host: String,
    /// The `Content-Encoding` header as sent, if any.
    pub encoding: Option<String>,
    /// The size of the body as sent.
    pub wire_bytes: usize,
    /// The decoded JSON. For logs it is always an array (a single object is wrapped), with
    /// over-long messages already truncated.
    pub body: Value,
    /// Series only: the points outside the accepted time window (10 minutes ahead, 1 hour
    /// behind the sandbox clock), which Datadog accepts and silently drops.
    pub dropped_points: Vec<DroppedPoint>,
    /// Logs only: how many entries had their message truncated.
    pub truncated_logs: usize,
    /// Logs, events and service checks: how many entries were accepted and dropped for their
    /// time (a log's `timestamp` over 18 hours old or 2 hours ahead, an event's `date_happened`
    /// over 18 hours old, a check's `timestamp` over 10 minutes old). Datadog documents these windows, not its answer to an
    /// entry outside them; the sandbox answers `202` and drops, as Datadog does for metric
    /// points. The SDK refuses such entries when they are sent (a log's `timestamp` whether set
    /// by `Log::timestamp` or as an integer attribute); an entry that ages past its window
    /// while queued or retried is dropped here as at Datadog.
    pub dropped_entries: usize,
}

/// What one org sent to one intake route, in total: kept even when the payloads themselves are
/// not (see [`SandboxBuilder::keep_payloads`](super::SandboxBuilder::keep_payloads)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntakeTally {
    /// Payloads accepted (`202`).
    pub payloads: usize,
    /// Items in them: metric points (those dropped for their timestamp included), log entries,
    /// events, service-check runs.
    pub items: usize,
    /// Metric points accepted and dropped because of their timestamp.
    pub dropped_points: usize,
    /// Log entries, events and service checks accepted and dropped because of their time
    /// ([`Received::dropped_entries`]).
    pub dropped_entries: usize,
    /// Their bodies' sizes as sent.
    pub wire_bytes: usize,
}

impl IntakeTally {
    pub(super) fn add(&mut self, route: Route, received: &Received) {
        let items = match route {
            Route::Series => received.body["series"].as_array().map_or(0, |series| {
                series
                    .iter()
                    .map(|s| s["points"].as_array().map_or(0, Vec::len))
                    .sum()
            }),
            // Logs are always kept as an array; check runs are one.
            Route::Logs | Route::CheckRun => received.body.as_array().map_or(1, Vec::len),
            _ => 1,
        };
        self.payloads += 1;
        self.items += items;
        self.dropped_points += received.dropped_points.len();
        self.dropped_entries += received.dropped_entries;
        self.wire_bytes += received.wire_bytes;
    }
}

/// A metric point that was accepted but dropped because of its timestamp.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DroppedPoint {
    /// The metric name.
    pub metric: String,
    /// The point's timestamp (Unix seconds).
    pub timestamp: i64,
    /// The point's value.
    pub value: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Deflate,
    Zstd,
}

/// How one intake endpoint differs from the others.
struct Spec {
    route: Route,
    wire_cap: usize,
    /// The most bytes the decoded body may have.
    decoded_cap: usize,
    zstd: bool,
    /// Logs intake: 401 without a key and structured error objects.
    logs: bool,
}

impl Spec {
    fn error(&self, status: StatusCode, detail: &str) -> Response {
        tracing::info!(status = status.as_u16(), detail, "sandbox intake: refused");
        if self.logs {
            json_response(
                status,
                json!({ "errors": [{
                    "status": status.as_u16().to_string(),
                    "title": status.canonical_reason().unwrap_or("Error"),
                    "detail": detail,
                }]}),
            )
        } else {
            api_error(status, detail)
        }
    }

    fn too_large(&self) -> Response {
        self.error(StatusCode::PAYLOAD_TOO_LARGE, "Payload too large")
    }
}

/// Authenticated, size-checked and decoded: an intake body ready for validation.
struct Arrival {
    org_id: String,
    host: String,
    encoding: Option<String>,
    wire_bytes: usize,
    json: Value,
}

impl Arrival {
    fn received(self, body: Value) -> Received {
        Received {
            org_id: self.org_id,
            host: self.host,
            encoding: self.encoding,
            wire_bytes: self.wire_bytes,
            body,
            dropped_points: Vec::new(),
            truncated_logs: 0,
            dropped_entries: 0,
        }
    }
}

async fn arrive(shared: &Shared, call: Call, spec: &Spec) -> Result<Arrival, Response> {
    let Some(bytes) = read_body(call.body, READ_CAP).await else {
        return Err(spec.too_large());
    };
    let org = {
        let st = shared.lock();
        key_org(&st, &call.headers, call.domain)
    };
    let Some(org_id) = org else {
        let missing = !call.headers.contains_key("dd-api-key");
        return Err(if spec.logs && missing {
            spec.error(StatusCode::UNAUTHORIZED, "API key is missing")
        } else {
            spec.error(StatusCode::FORBIDDEN, "Forbidden")
        });
    };
    if bytes.len() > spec.wire_cap {
        return Err(spec.too_large());
    }
    let encoding = header_text(&call.headers, header::CONTENT_ENCODING.as_str()).map(str::to_owned);
    let enc = match encoding
        .as_deref()
        .map(|e| e.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("identity") => Encoding::Identity,
        Some("gzip") => Encoding::Gzip,
        Some("deflate") => Encoding::Deflate,
        Some("zstd" | "zstd1") if spec.zstd => Encoding::Zstd,
        Some(other) => {
            return Err(spec.error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("Unsupported Content-Encoding: {other}"),
            ));
        }
    };
    let decoded = match decode(enc, &bytes, spec.decoded_cap) {
        Ok(d) => d,
        Err(Decode::TooLarge) => return Err(spec.too_large()),
        Err(Decode::Malformed(why)) => {
            return Err(spec.error(
                StatusCode::BAD_REQUEST,
                &format!("Malformed compressed payload: {why}"),
            ));
        }
    };
    let json = serde_json::from_slice(&decoded)
        .map_err(|e| spec.error(StatusCode::BAD_REQUEST, &format!("Malformed JSON: {e}")))?;
    Ok(Arrival {
        org_id,
        host: call.host,
        encoding,
        wire_bytes: bytes.len(),
        json,
    })
}

enum Decode {
    TooLarge,
    Malformed(String),
}

/// Decodes at most `cap + 1` bytes, whatever the payload claims: a bomb costs at most `cap`.
fn decode(enc: Encoding, wire: &[u8], cap: usize) -> Result<Vec<u8>, Decode> {
    let reader: Box<dyn Read + '_> = match enc {
        Encoding::Identity => {
            return if wire.len() > cap {
                Err(Decode::TooLarge)
            } else {
                Ok(wire.to_vec())
            };
        }
        Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(wire)),
        Encoding::Deflate => Box::new(flate2::read::ZlibDecoder::new(wire)),
        Encoding::Zstd => Box::new(
            ruzstd::decoding::StreamingDecoder::new(wire)
                .map_err(|e| Decode::Malformed(e.to_string()))?,
        ),
    };
    let mut out = Vec::new();
    reader
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Decode::Malformed(e.to_string()))?;
    if out.len() > cap {
        Err(Decode::TooLarge)
    } else {
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics

/// `POST /{api host}/api/v2/series`.
pub(super) async fn series(shared: &Shared, call: Call) -> Response {
    let spec = Spec {
        route: Route::Series,
        wire_cap: SERIES_MAX_WIRE_BYTES,
        decoded_cap: SERIES_DECOMPRESSED_LIMIT - 1,
        zstd: true,
        logs: false,
    };
    let mut arrival = match arrive(shared, call, &spec).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let now = shared.lock().clock.unix_secs();
    let dropped = match check_series(&arrival.json, now) {
        Ok(d) => d,
        Err(why) => return spec.error(StatusCode::BAD_REQUEST, &why),
    };
    // Moved, not cloned: a payload can hold 100,000 points.
    let body = arrival.json.take();
    let mut received = arrival.received(body);
    tracing::info!(org_id = %received.org_id, dropped = dropped.len(), "sandbox series: accepted");
    received.dropped_points = dropped;
    let unkept = shared.lock().record(spec.route, received);
    drop(unkept);
    json_response(StatusCode::ACCEPTED, json!({ "errors": [] }))
}

fn check_series(body: &Value, now: i64) -> Result<Vec<DroppedPoint>, String> {
    let series = body
        .get("series")
        .and_then(Value::as_array)
        .ok_or("the body must be an object with a `series` array")?;
    let mut dropped = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let s = s
            .as_object()
            .ok_or_else(|| format!("series[{i}] is not an object"))?;
        let metric = s
            .get("metric")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .ok_or_else(|| format!("series[{i}].metric is required (a non-empty string)"))?;
        if let Some(t) = s.get("type")
            && t.as_u64().is_none_or(|t| t > 3)
        {
            return Err(format!("series[{i}].type must be 0, 1, 2 or 3"));
        }
        optional(s, "unit", Value::is_string, i, "a string")?;
        optional(s, "interval", Value::is_i64, i, "an integer")?;
        optional(s, "tags", is_string_array, i, "an array of strings")?;
        optional(s, "source_type_name", Value::is_string, i, "a string")?;
        optional(s, "metadata", Value::is_object, i, "an object")?;
        optional(
            s,
            "resources",
            |v| {
                v.as_array().is_some_and(|a| {
                    a.iter().all(|r| {
                        r.get("name").is_none_or(Value::is_string)
                            && r.get("type").is_none_or(Value::is_string)
                            && r.is_object()
                    })
                })
            },
            i,
            "an array of {name, type} objects",
        )?;
        let points = s
            .get("points")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("series[{i}].points is required (an array)"))?;
        for (j, p) in points.iter().enumerate() {
            let ts = p.get("timestamp").and_then(Value::as_i64);
            let value = p.get("value").and_then(Value::as_f64);
            let (Some(timestamp), Some(value)) = (ts, value) else {
                return Err(format!(
                    "series[{i}].points[{j}] must be {{\"timestamp\": <integer seconds>, \"value\": <number>}}"
                ));
            };
            if timestamp > now + MAX_FUTURE_SECS || timestamp < now - MAX_PAST_SECS {
                dropped.push(DroppedPoint {
                    metric: metric.to_owned(),
                    timestamp,
                    value,
                });
            }
        }
    }
    Ok(dropped)
}

fn optional(
    obj: &Map<String, Value>,
    field: &str,
    ok: impl Fn(&Value) -> bool,
    i: usize,
    what: &str,
) -> Result<(), String> {
    match obj.get(field) {
        Some(v) if !ok(v) => Err(format!("series[{i}].{field} must be {what}")),
        _ => Ok(()),
    }
}

fn is_string_array(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

// ---------------------------------------------------------------------------------------------
// Time windows of logs, events and service checks

/// Whether Datadog drops a log entry whose `timestamp` is `ms` (Unix milliseconds) at `now_ms`.
fn log_time_dropped(ms: i64, now_ms: i64) -> bool {
    ms < now_ms.saturating_sub(LOG_MAX_AGE_SECS * 1000)
        || ms > now_ms.saturating_add(LOG_MAX_AHEAD_SECS * 1000)
}

/// Whether Datadog drops an event that happened at `at` (Unix seconds) at `now`.
fn event_time_dropped(at: i64, now: i64) -> bool {
    at < now.saturating_sub(EVENT_MAX_AGE_SECS)
}

/// Whether Datadog drops a service check of `timestamp` `at` (Unix seconds) at `now`.
fn check_time_dropped(at: i64, now: i64) -> bool {
    at < now.saturating_sub(CHECK_MAX_AGE_SECS)
}

// ---------------------------------------------------------------------------------------------
// Logs

/// `POST /{logs host}/api/v2/logs`.
pub(super) async fn logs(shared: &Shared, call: Call) -> Response {
    let spec = Spec {
        route: Route::Logs,
        wire_cap: LOGS_MAX_BYTES,
        decoded_cap: LOGS_MAX_BYTES,
        zstd: false,
        logs: true,
    };
    let mut arrival = match arrive(shared, call, &spec).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let mut entries = match arrival.json.take() {
        Value::Array(a) => a,
        o @ Value::Object(_) => vec![o],
        _ => {
            return spec.error(
                StatusCode::BAD_REQUEST,
                "The body must be a JSON array of log entries or a single log entry object",
            );
        }
    };
    if entries.len() > LOGS_MAX_ENTRIES {
        return spec.error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("Too many log entries: at most {LOGS_MAX_ENTRIES} per request"),
        );
    }
    let now_ms = shared.lock().clock.unix_ms();
    let mut truncated = 0;
    let mut dropped = 0;
    for entry in &mut entries {
        let Some(obj) = entry.as_object_mut() else {
            return spec.error(
                StatusCode::BAD_REQUEST,
                "Each log entry must be a JSON object",
            );
        };
        if let Some(Value::String(m)) = obj.get_mut("message")
            && m.len() > LOG_MESSAGE_MAX_BYTES
        {
            let mut end = LOG_MESSAGE_MAX_BYTES;
            while !m.is_char_boundary(end) {
                end -= 1;
            }
            m.truncate(end);
            truncated += 1;
        }
        // Datadog reads the date from `timestamp` among other attributes; the SDK writes Unix
        // milliseconds there.
        if obj
            .get("timestamp")
            .and_then(Value::as_f64)
            .is_some_and(|ms| log_time_dropped(ms as i64, now_ms))
        {
            dropped += 1;
        }
    }
    let mut received = arrival.received(Value::Array(entries));
    received.truncated_logs = truncated;
    received.dropped_entries = dropped;
    tracing::info!(org_id = %received.org_id, truncated, dropped, "sandbox logs: accepted");
    let unkept = shared.lock().record(spec.route, received);
    drop(unkept);
    json_response(StatusCode::ACCEPTED, json!({}))
}

// ---------------------------------------------------------------------------------------------
// Events

const ALERT_TYPES: [&str; 7] = [
    "error",
    "warning",
    "info",
    "success",
    "user_update",
    "recommendation",
    "snapshot",
];

/// `POST /{api host}/api/v1/events`.
pub(super) async fn events(shared: &Shared, call: Call) -> Response {
    let spec = Spec {
        route: Route::Events,
        wire_cap: V1_MAX_BYTES,
        decoded_cap: V1_MAX_BYTES,
        zstd: false,
        logs: false,
    };
    let mut arrival = match arrive(shared, call, &spec).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    if let Err(why) = check_event(&arrival.json) {
        return spec.error(StatusCode::BAD_REQUEST, &why);
    }
    let e = &arrival.json;
    let mut st = shared.lock();
    st.next_event_id += 1;
    let id = st.next_event_id;
    let ui = st
        .org(&arrival.org_id)
        .map(|o| o.public.site.authorize_host())
        .unwrap_or_default();
    let event = json!({
        "id": id,
        "id_str": id.to_string(),
        "title": e["title"],
        "text": e["text"],
        "date_happened": e.get("date_happened").cloned().unwrap_or_else(|| json!(st.clock.unix_secs())),
        "priority": e.get("priority").cloned().unwrap_or(Value::Null),
        "alert_type": e.get("alert_type").cloned().unwrap_or_else(|| json!("info")),
        "tags": e.get("tags").cloned().unwrap_or_else(|| json!([])),
        "handle": Value::Null,
        "related_event_id": e.get("related_event_id").cloned().unwrap_or(Value::Null),
        "url": format!("https://{ui}/event/event?id={id}"),
    });
    let stale = e
        .get("date_happened")
        .and_then(Value::as_i64)
        .is_some_and(|at| event_time_dropped(at, st.clock.unix_secs()));
    let body = arrival.json.take();
    let mut received = arrival.received(body);
    received.dropped_entries = usize::from(stale);
    tracing::info!(org_id = %received.org_id, event_id = id, stale, "sandbox events: accepted");
    let unkept = st.record(spec.route, received);
    drop(st);
    drop(unkept);
    json_response(
        StatusCode::ACCEPTED,
        json!({ "event": event, "status": "ok" }),
    )
}

fn check_event(e: &Value) -> Result<(), String> {
    let obj = e.as_object().ok_or("The body must be a JSON object")?;
    obj.get("title")
        .and_then(Value::as_str)
        .ok_or("`title` is required (a string)")?;
    let text = obj
        .get("text")
        .and_then(Value::as_str)
        .ok_or("`text` is required (a string)")?;
    let chars = text.chars().count();
    if chars > EVENT_TEXT_MAX_CHARS {
        return Err(format!(
            "`text` has {chars} characters; at most {EVENT_TEXT_MAX_CHARS} are allowed"
        ));
    }
    let field = |name: &str, ok: &dyn Fn(&Value) -> bool, what: &str| match obj.get(name) {
        Some(v) if !v.is_null() && !ok(v) => Err(format!("`{name}` must be {what}")),
        _ => Ok(()),
    };
    field(
        "aggregation_key",
        &|v| v.as_str().is_some_and(|s| s.chars().count() <= 100),
        "a string of at most 100 characters",
    )?;
    field(
        "alert_type",
        &|v| v.as_str().is_some_and(|s| ALERT_TYPES.contains(&s)),
        "one of error, warning, info, success, user_update, recommendation, snapshot",
    )?;
    field(
        "priority",
        &|v| matches!(v.as_str(), Some("normal" | "low")),
        "normal or low",
    )?;
    field("date_happened", &Value::is_i64, "an integer (Unix seconds)")?;
    field("tags", &is_string_array, "an array of strings")?;
    field("host", &Value::is_string, "a string")?;
    field("source_type_name", &Value::is_string, "a string")?;
    field("device_name", &Value::is_string, "a string")?;
    field("related_event_id", &Value::is_i64, "an integer")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Service checks

/// `POST /{api host}/api/v1/check_run`.
pub(super) async fn check_run(shared: &Shared, call: Call) -> Response {
    let spec = Spec {
        route: Route::CheckRun,
        wire_cap: V1_MAX_BYTES,
        decoded_cap: V1_MAX_BYTES,
        zstd: false,
        logs: false,
    };
    let mut arrival = match arrive(shared, call, &spec).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    if let Err(why) = check_checks(&arrival.json) {
        return spec.error(StatusCode::BAD_REQUEST, &why);
    }
    let now = shared.lock().clock.unix_secs();
    let dropped = arrival.json.as_array().map_or(0, |checks| {
        checks
            .iter()
            .filter(|c| {
                c.get("timestamp")
                    .and_then(Value::as_i64)
                    .is_some_and(|t| check_time_dropped(t, now))
            })
            .count()
    });
    let body = arrival.json.take();
    let mut received = arrival.received(body);
    received.dropped_entries = dropped;
    tracing::info!(org_id = %received.org_id, dropped, "sandbox check_run: accepted");
    let unkept = shared.lock().record(spec.route, received);
    drop(unkept);
    json_response(StatusCode::ACCEPTED, json!({ "status": "ok" }))
}

fn check_checks(body: &Value) -> Result<(), String> {
    let checks = body
        .as_array()
        .ok_or("The body must be a JSON array of service checks")?;
    for (i, c) in checks.iter().enumerate() {
        let c = c
            .as_object()
            .ok_or_else(|| format!("[{i}] is not an object"))?;
        if c.get("check")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!("[{i}].check is required (a non-empty string)"));
        }
        if !c.get("host_name").is_some_and(Value::is_string) {
            return Err(format!("[{i}].host_name is required (a string)"));
        }
        if c.get("status")
            .and_then(Value::as_u64)
            .is_none_or(|s| s > 3)
        {
            return Err(format!(
                "[{i}].status is required: 0 (OK), 1 (WARNING), 2 (CRITICAL) or 3 (UNKNOWN)"
            ));
        }
        if c.get("tags").is_some_and(|t| !is_string_array(t)) {
            return Err(format!("[{i}].tags must be an array of strings"));
        }
        if c.get("message").is_some_and(|m| !m.is_string()) {
            return Err(format!("[{i}].message must be a string"));
        }
        if c.get("timestamp").is_some_and(|t| !t.is_i64()) {
            return Err(format!("[{i}].timestamp must be an integer (Unix seconds)"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod windows {
    use super::*;

    #[test]
    fn each_window_keeps_its_edge_and_drops_one_past_it() {
        let now_ms = 1_700_000_000_123;
        let (oldest, newest) = (now_ms - 18 * 3_600_000, now_ms + 2 * 3_600_000);
        assert!(!log_time_dropped(oldest, now_ms) && !log_time_dropped(newest, now_ms));
        assert!(log_time_dropped(oldest - 1, now_ms) && log_time_dropped(newest + 1, now_ms));
        let now = 1_700_000_000;
        assert!(!event_time_dropped(now - 18 * 3600, now));
        assert!(event_time_dropped(now - 18 * 3600 - 1, now));
        assert!(
            !event_time_dropped(now + 3600, now),
            "no documented limit ahead"
        );
        assert!(!check_time_dropped(now - 600, now));
        assert!(check_time_dropped(now - 601, now));
        assert!(!log_time_dropped(i64::MAX, i64::MAX) && log_time_dropped(i64::MIN, 0));
    }
}
