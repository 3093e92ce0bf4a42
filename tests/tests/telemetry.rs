//! Telemetry against the Datadog sandbox's intake: every kind of data to its host, decoded by the
//! sandbox exactly as sent; every documented limit just under and just over; each retry path;
//! the 413 split; key revocation; flush and shutdown losing nothing; many installations at
//! once, one of them slow.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dd_integration::secret::ApiKey;
use dd_integration::telemetry::limits::{
    LOG_ENTRY_MAX_BYTES, LOG_ENTRY_MAX_DEPTH, LOGS_MAX_BYTES, LOGS_MAX_ENTRIES,
    SERIES_DECOMPRESSED_LIMIT, SERIES_MAX_WIRE_BYTES,
};
use dd_integration::telemetry::{
    AlertType, Check, CheckStatus, DeliveryFailure, Event, FlushError, Intake, Log,
    LogsCompression, Metric, Priority, Series, SeriesCompression, ServiceCheck, Telemetry,
    TelemetryError, TelemetrySettings,
};
use dd_integration::testkit::{Fault, IntakeTally, OrgSpec, Received, Route, Sandbox, SandboxOrg};
use dd_integration::{DataKind, Domain, InstallationId, datadog_integration};
use serde_json::{Value, json};

#[datadog_integration(
    name = "Acme Pager",
    scopes = [api_keys_write],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/datadog/connect",
    submits = [metrics, logs, events, service_checks],
    metric_prefix = "acme.",
    metric(name = "acme.pages.sent", type = count, unit = "page"),
    metric(name = "acme.queue.depth", type = gauge),
    metric(name = "acme.pages.rate", type = rate, unit = "page", per_unit = "second"),
    service_check(name = "acme.can_connect", title = "Acme reachable", description = "Can reach Acme."),
)]
struct AcmePager;

/// Sends metrics only.
#[datadog_integration(
    name = "Acme Gauge",
    scopes = [api_keys_write],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/datadog/connect",
    submits = [metrics],
    metric_prefix = "acme.",
    metric(name = "acme.up", type = gauge),
)]
struct MetricsOnly;

const PAGES: Metric<AcmePager> = Metric::declared("acme.pages.sent");
const DEPTH: Metric<AcmePager> = Metric::declared("acme.queue.depth");
const RATE: Metric<AcmePager> = Metric::declared("acme.pages.rate");
const CAN_CONNECT: Check<AcmePager> = Check::declared("acme.can_connect");
const CLIENT: &str = "acme-pager-client";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Short waits, so that retries take milliseconds.
fn quick() -> TelemetrySettings {
    TelemetrySettings::default()
        .linger(Duration::from_millis(10))
        .backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(40))
        .attempts(4)
}

struct World {
    sandbox: Sandbox,
    telemetry: Telemetry,
    org: SandboxOrg,
    intake: Intake<AcmePager>,
}

impl World {
    async fn new(domain: Domain, settings: TelemetrySettings) -> World {
        let sandbox = Sandbox::start().await;
        let telemetry = telemetry(&sandbox, settings);
        let org = sandbox.add_org(OrgSpec::new("Acme", domain));
        let intake = intake(&sandbox, &telemetry, &org, "inst_acme");
        World {
            sandbox,
            telemetry,
            org,
            intake,
        }
    }
}

fn telemetry(sandbox: &Sandbox, settings: TelemetrySettings) -> Telemetry {
    Telemetry::builder()
        .endpoints(sandbox.endpoints())
        .settings(settings)
        .build()
        .unwrap()
}

fn intake(
    sandbox: &Sandbox,
    telemetry: &Telemetry,
    org: &SandboxOrg,
    id: &str,
) -> Intake<AcmePager> {
    let key = sandbox.issue_api_key(&org.id, CLIENT);
    telemetry
        .intake(
            InstallationId::from_stored(id),
            org.domain,
            ApiKey::new(key),
        )
        .unwrap()
}

/// The log entries the sandbox received, all payloads together.
fn log_entries(sandbox: &Sandbox) -> usize {
    sandbox
        .received_logs()
        .iter()
        .map(|r| r.body.as_array().unwrap().len())
        .sum()
}

fn pages() -> Series<AcmePager> {
    PAGES
        .series()
        .tag("env:prod")
        .host("web-1")
        .interval(60)
        .build()
        .unwrap()
}

/// Every point of every payload, in order: (metric, timestamp, value).
fn points(received: &[Received]) -> Vec<(String, i64, f64)> {
    let mut out = Vec::new();
    for r in received {
        for s in r.body["series"].as_array().unwrap() {
            let metric = s["metric"].as_str().unwrap().to_owned();
            for p in s["points"].as_array().unwrap() {
                out.push((
                    metric.clone(),
                    p["timestamp"].as_i64().unwrap(),
                    p["value"].as_f64().unwrap(),
                ));
            }
        }
    }
    out
}

/// Every series object of the payloads without its points: what a split must keep whole.
fn headers(received: &[Received]) -> Vec<Value> {
    received
        .iter()
        .flat_map(|r| r.body["series"].as_array().unwrap().iter())
        .map(|s| {
            let mut s = s.clone();
            s.as_object_mut().unwrap().remove("points");
            s
        })
        .collect()
}

/// The series object of [`pages`], as Datadog decodes it.
fn pages_header() -> Value {
    json!({"metric": "acme.pages.sent", "type": 1, "unit": "page", "interval": 60,
           "tags": ["env:prod"], "resources": [{"name": "web-1", "type": "host"}]})
}

/// Every request that reached `route` was accepted: nothing went over a limit and came back
/// 413 to be split and resent.
fn none_refused(sandbox: &Sandbox, route: Route) {
    let accepted = match route {
        Route::Series => sandbox.received_series().len(),
        Route::Logs => sandbox.received_logs().len(),
        other => panic!("not a batched route: {other:?}"),
    };
    assert_eq!(
        sandbox.calls(route),
        accepted,
        "a request to {route:?} was refused"
    );
}

fn undelivered(error: &FlushError) -> Vec<(DataKind, usize, DeliveryFailure)> {
    error
        .0
        .iter()
        .map(|e| match e {
            TelemetryError::Undelivered {
                kind,
                count,
                failure,
                ..
            } => (*kind, *count, failure.clone()),
            other => panic!("not an Undelivered: {other}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// What arrives

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_reaches_its_intake_host_decoded_as_sent() {
    let w = World::new(Domain::Us3, quick().linger(Duration::from_secs(30))).await;
    let t = now();
    let series = pages();
    let depth = DEPTH.series().tag("queue:a").build().unwrap();
    w.intake
        .send(series.points([(t - 20, 1.0), (t - 10, 2.5), (t, 3.0)]))
        .await
        .unwrap();
    w.intake.send(depth.point(t, 12.0)).await.unwrap();
    w.intake
        .send(
            Log::new("page sent to \"alice\"\n")
                .service("pager")
                .hostname("web-1")
                .status("info")
                .tag("env:prod")
                .tag("team:sre")
                .attribute("page_id", 42)
                .attribute("message", "ignored: a reserved field"),
        )
        .await
        .unwrap();
    w.intake
        .send(
            Event::new("Page escalated", "%%% \n**Alice** did not answer \n %%%")
                .alert_type(AlertType::Warning)
                .priority(Priority::Low)
                .aggregation_key("page-42")
                .tag("env:prod")
                .host("web-1"),
        )
        .await
        .unwrap();
    w.intake
        .send(
            ServiceCheck::new(CAN_CONNECT, "web-1", CheckStatus::Warning)
                .tag("env:prod")
                .message("slow"),
        )
        .await
        .unwrap();
    w.intake.flush().await.unwrap();

    let series_in = w.sandbox.received_series();
    assert_eq!(series_in.len(), 1, "one payload for both series");
    let s = &series_in[0];
    assert_eq!(s.host, "api.us3.datadoghq.com");
    assert_eq!(s.org_id, w.org.id);
    assert_eq!(s.encoding.as_deref(), Some("zstd1"));
    // Whole values travel as JSON integers, as Datadog's own clients send them.
    assert_eq!(
        s.body,
        json!({"series": [
            {"metric": "acme.pages.sent", "type": 1, "unit": "page", "interval": 60,
             "tags": ["env:prod"], "resources": [{"name": "web-1", "type": "host"}],
             "points": [{"timestamp": t - 20, "value": 1}, {"timestamp": t - 10, "value": 2.5},
                        {"timestamp": t, "value": 3}]},
            {"metric": "acme.queue.depth", "type": 3, "tags": ["queue:a"],
             "points": [{"timestamp": t, "value": 12}]},
        ]})
    );
    assert!(s.dropped_points.is_empty());

    let logs = w.sandbox.received_logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].host, "http-intake.logs.us3.datadoghq.com");
    assert_eq!(logs[0].encoding.as_deref(), Some("gzip"));
    assert_eq!(
        logs[0].body,
        json!([{"ddsource": "acme-pager", "ddtags": "env:prod,team:sre", "hostname": "web-1",
                "service": "pager", "status": "info", "page_id": 42,
                "message": "page sent to \"alice\"\n"}])
    );

    let events = w.sandbox.received_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].host, "api.us3.datadoghq.com");
    assert_eq!(events[0].encoding, None);
    assert_eq!(
        events[0].body,
        json!({"title": "Page escalated", "text": "%%% \n**Alice** did not answer \n %%%",
               "aggregation_key": "page-42", "alert_type": "warning", "priority": "low",
               "host": "web-1", "tags": ["env:prod"],
               // The integration's own source, stamped when the caller names none.
               "source_type_name": "Acme Pager"})
    );

    let checks = w.sandbox.received_check_runs();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].host, "api.us3.datadoghq.com");
    assert_eq!(
        checks[0].body,
        json!([{"check": "acme.can_connect", "host_name": "web-1", "status": 1,
                "tags": ["env:prod"], "message": "slow"}])
    );

    let stats = w.intake.stats();
    assert_eq!(stats.accepted.points, 4);
    assert_eq!(stats.delivered.points, 4);
    assert_eq!(
        (
            stats.delivered.logs,
            stats.delivered.events,
            stats.delivered.service_checks
        ),
        (1, 1, 1)
    );
    assert_eq!(stats.requests, 4);
    assert_eq!(stats.queued_bytes, 0, "delivered data frees its budget");
    w.telemetry.shutdown().await.unwrap();
}

/// The fields the first test leaves out, each decoded by the sandbox as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_optional_field_arrives_as_sent() {
    let w = World::new(Domain::Eu1, quick().linger(Duration::from_secs(30))).await;
    let t = now();
    let at = |secs: i64| UNIX_EPOCH + Duration::from_secs(secs as u64);
    let rate = RATE
        .series()
        .tag("env:prod")
        .tag("team:sre")
        .host("web-1")
        .resource("service", "pager")
        .interval(10)
        .build()
        .unwrap();
    w.intake.send(rate.point(t - 5, 0.25)).await.unwrap();
    w.intake
        .send(
            Log::new("escalated")
                .source("acme-pager-worker")
                .attribute("page", json!({"id": 42, "channels": ["sms", "call"]}))
                .attribute("urgent", true)
                .attribute("latency_s", 1.5)
                .attribute("note", Value::Null),
        )
        .await
        .unwrap();
    // When it happened, in milliseconds; the attribute of the same name gives way.
    let happened_ms = t * 1000 - 17 * 3_600_000 - 250;
    w.intake
        .send(
            Log::new("replayed")
                .timestamp(UNIX_EPOCH + Duration::from_millis(happened_ms as u64))
                .attribute("timestamp", "ignored")
                .attribute("z", 1),
        )
        .await
        .unwrap();
    w.intake
        .send(
            Event::new("Page escalated", "text")
                .date_happened(at(t - 3_600))
                .source_type_name("acme")
                .related_event_id(1_234_567)
                .device_name("pager-7"),
        )
        .await
        .unwrap();
    w.intake
        .send(ServiceCheck::new(CAN_CONNECT, "web-1", CheckStatus::Critical).timestamp(at(t - 60)))
        .await
        .unwrap();
    w.intake.flush().await.unwrap();

    assert_eq!(
        w.sandbox.received_series()[0].body,
        json!({"series": [{"metric": "acme.pages.rate", "type": 2, "unit": "page",
                           "interval": 10, "tags": ["env:prod", "team:sre"],
                           "resources": [{"name": "web-1", "type": "host"},
                                         {"name": "pager", "type": "service"}],
                           "points": [{"timestamp": t - 5, "value": 0.25}]}]})
    );
    let logs = w.sandbox.received_logs();
    let entries: Vec<&Value> = logs
        .iter()
        .flat_map(|r| r.body.as_array().unwrap())
        .collect();
    assert_eq!(
        entries,
        [
            &json!({"ddsource": "acme-pager-worker", "message": "escalated",
                    "page": {"id": 42, "channels": ["sms", "call"]}, "urgent": true,
                    "latency_s": 1.5, "note": null}),
            &json!({"ddsource": "acme-pager", "message": "replayed",
                    "timestamp": happened_ms, "z": 1}),
        ]
    );
    assert!(
        logs.iter().all(|r| r.dropped_entries == 0),
        "17 hours old is kept"
    );
    assert_eq!(
        w.sandbox.received_events()[0].body,
        json!({"title": "Page escalated", "text": "text", "date_happened": t - 3_600,
               "source_type_name": "acme", "related_event_id": 1_234_567,
               "device_name": "pager-7"})
    );
    assert_eq!(
        w.sandbox.received_check_runs()[0].body,
        json!([{"check": "acme.can_connect", "host_name": "web-1", "status": 2,
                "timestamp": t - 60}])
    );
    w.telemetry.shutdown().await.unwrap();
}

/// For long runs the sandbox can drop payloads once validated and keep only their tallies,
/// which still count every point, entry, event and check run that was accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intake_tallies_what_it_accepts_with_or_without_keeping_payloads() {
    for keep in [true, false] {
        let sandbox = Sandbox::builder().keep_payloads(keep).start().await;
        let telemetry = telemetry(&sandbox, quick().linger(Duration::from_secs(30)));
        let org = sandbox.add_org(OrgSpec::new("Acme", Domain::Eu1));
        let other = sandbox.add_org(OrgSpec::new("Other", Domain::Eu1));
        let intake = intake(&sandbox, &telemetry, &org, "inst_acme");
        let t = now();
        let series = pages();
        for i in 0..2_500 {
            intake.send(series.point(t - i % 600, 1.0)).await.unwrap();
        }
        for i in 0..1_200 {
            intake.send(Log::new(format!("line {i}"))).await.unwrap();
        }
        for i in 0..2 {
            intake
                .send(Event::new("Page", format!("{i}")))
                .await
                .unwrap();
        }
        for _ in 0..3 {
            intake
                .send(ServiceCheck::new(CAN_CONNECT, "web-1", CheckStatus::Ok))
                .await
                .unwrap();
        }
        intake.flush().await.unwrap();

        // A point two hours old, sent by hand: accepted (202) and dropped, as Datadog does.
        let key = sandbox.issue_api_key(&other.id, CLIENT);
        let url = format!("{}api.datadoghq.eu/api/v2/series", sandbox.base_url());
        let old = json!({"series": [{"metric": "acme.pages.sent",
                                     "points": [{"timestamp": t - 7_200, "value": 1}]}]});
        let response = reqwest::Client::new()
            .post(url)
            .header("DD-API-KEY", key)
            .json(&old)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);

        let tally = |route| sandbox.intake_tally(route, &org.id);
        let series_tally = tally(Route::Series);
        assert_eq!(
            (series_tally.items, series_tally.dropped_points),
            (2_500, 0)
        );
        // The same bytes the SDK counts as sent and accepted, across the four routes.
        let routes = [Route::Series, Route::Logs, Route::Events, Route::CheckRun];
        let wire: usize = routes.iter().map(|r| tally(*r).wire_bytes).sum();
        assert_eq!(wire as u64, intake.stats().wire_bytes);
        assert_eq!(intake.stats().delivered.points, 2_500);
        let logs = tally(Route::Logs);
        assert_eq!(logs.items, 1_200);
        assert!(logs.payloads >= 2, "at most 1,000 entries a payload");
        assert_eq!(tally(Route::Events).items, 2);
        assert_eq!(tally(Route::CheckRun).items, 3);
        let dropped = sandbox.intake_tally(Route::Series, &other.id);
        assert_eq!(
            (dropped.payloads, dropped.items, dropped.dropped_points),
            (1, 1, 1)
        );
        assert_eq!(
            sandbox.intake_tally(Route::Logs, &other.id),
            IntakeTally::default()
        );

        let kept = sandbox.received_series();
        if keep {
            assert_eq!(points(&kept).len(), 2_501);
            assert_eq!(sandbox.received_logs().len(), logs.payloads);
        } else {
            assert!(kept.is_empty() && sandbox.received_logs().is_empty());
            assert!(sandbox.received_events().is_empty());
            assert!(sandbox.received_check_runs().is_empty());
        }
        telemetry.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_compression_decodes_to_the_same_points() {
    let t = now();
    let cases = [
        (SeriesCompression::None, LogsCompression::None, None, None),
        (
            SeriesCompression::Gzip(1),
            LogsCompression::Deflate(9),
            Some("gzip"),
            Some("deflate"),
        ),
        (
            SeriesCompression::Deflate(6),
            LogsCompression::Gzip(1),
            Some("deflate"),
            Some("gzip"),
        ),
        (
            SeriesCompression::Zstd(19),
            LogsCompression::Recommended,
            Some("zstd1"),
            Some("gzip"),
        ),
    ];
    for (series_c, logs_c, series_enc, logs_enc) in cases {
        let settings = quick()
            .series_compression(series_c)
            .logs_compression(logs_c);
        let w = World::new(Domain::Eu1, settings).await;
        let sent: Vec<(i64, f64)> = (0..500).map(|i| (t - i % 600, i as f64 * 0.25)).collect();
        w.intake.send(pages().points(sent.clone())).await.unwrap();
        w.intake.send(Log::new("hello")).await.unwrap();
        w.intake.flush().await.unwrap();
        let received = w.sandbox.received_series();
        assert_eq!(received[0].encoding.as_deref(), series_enc, "{series_c:?}");
        let got: Vec<(i64, f64)> = points(&received).into_iter().map(|p| (p.1, p.2)).collect();
        assert_eq!(got, sent, "{series_c:?}");
        let logs = w.sandbox.received_logs();
        assert_eq!(logs[0].encoding.as_deref(), logs_enc, "{logs_c:?}");
        assert_eq!(logs[0].body[0]["message"], "hello");
        w.telemetry.shutdown().await.unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// What the declaration allows

#[tokio::test]
async fn only_declared_data_is_sent() {
    let w = World::new(Domain::Us1, quick()).await;
    let undeclared = Metric::<AcmePager>::named("acme.page.sent").unwrap_err();
    assert!(matches!(
        &undeclared,
        TelemetryError::UndeclaredMetric { metric, .. } if metric == "acme.page.sent"
    ));
    assert!(
        undeclared
            .to_string()
            .contains("metric(name = \"acme.page.sent\"")
    );
    assert_eq!(
        Metric::<AcmePager>::named("acme.pages.sent")
            .unwrap()
            .name(),
        "acme.pages.sent"
    );
    assert!(matches!(
        Check::<AcmePager>::named("acme.cannot_connect"),
        Err(TelemetryError::UndeclaredServiceCheck { .. })
    ));

    // An integration that declares `submits = [metrics]` sends metrics; sending it a log does
    // not compile (tests/ui/fail/send_undeclared_kind.rs).
    let key = w.sandbox.issue_api_key(&w.org.id, "metrics-only");
    let only = w
        .telemetry
        .intake::<MetricsOnly>(
            InstallationId::from_stored("inst_metrics"),
            Domain::Us1,
            ApiKey::new(key),
        )
        .unwrap();
    let up = Metric::<MetricsOnly>::declared("acme.up")
        .series()
        .build()
        .unwrap();
    only.send(up.now(1.0)).await.unwrap();
    only.flush().await.unwrap();
    assert_eq!(w.sandbox.received_series().len(), 1);
    assert!(w.sandbox.received_logs().is_empty());

    // Values JSON cannot carry.
    assert!(matches!(
        w.intake.send(pages().now(f64::NAN)).await,
        Err(TelemetryError::NotFinite { .. })
    ));
    w.telemetry.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Limits, each just under and just over

/// A point accepted just within the hour can age out while it waits for a retry: Datadog then
/// accepts the payload and drops the point. The SDK does not count it as delivered: flush
/// reports it, and the sandbox, like Datadog, dropped it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_that_age_past_the_hour_in_a_retry_are_reported_not_delivered() {
    let settings = quick()
        .backoff(Duration::from_secs(6))
        .max_backoff(Duration::from_secs(6))
        .attempts(2);
    let w = World::new(Domain::Us1, settings).await;
    w.sandbox.inject(Route::Series, Fault::status(503));
    let t = now();
    let series = pages();
    w.intake
        .send(series.points([(t - 3_598, 1.0), (t, 2.0)]))
        .await
        .unwrap();
    // The retry comes 3 to 6 s later: the first point is then over an hour old (and a send
    // delayed by up to a second on a loaded machine still finds it within the hour).
    let error = w.intake.flush().await.unwrap_err();
    assert_eq!(
        undelivered(&error),
        [(DataKind::Metrics, 1, DeliveryFailure::Expired)]
    );
    assert!(
        error.to_string().contains("more than an hour old"),
        "{error}"
    );
    let stats = w.intake.stats();
    assert_eq!((stats.delivered.points, stats.undelivered.points), (1, 1));
    let received = w.sandbox.received_series();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].dropped_points.len(), 1, "Datadog drops it too");
    assert_eq!(received[0].dropped_points[0].timestamp, t - 3_598);
    w.telemetry.shutdown().await.unwrap();
}

#[tokio::test]
async fn points_within_ten_minutes_ahead_and_an_hour_behind() {
    let w = World::new(Domain::Us5, quick()).await;
    let series = pages();
    let t = now();
    w.intake.send(series.point(t + 600, 1.0)).await.unwrap();
    // One second inside: the sandbox's clock may have moved on by the time it arrives.
    w.intake.send(series.point(t - 3599, 2.0)).await.unwrap();
    let ahead = w.intake.send(series.point(t + 602, 3.0)).await.unwrap_err();
    assert!(matches!(
        ahead,
        TelemetryError::PointOutOfWindow { offset_secs, .. } if offset_secs >= 601
    ));
    assert!(ahead.to_string().contains("ahead"));
    let behind = w
        .intake
        .send(series.points([(t, 4.0), (t - 3602, 5.0)]))
        .await
        .unwrap_err();
    assert!(behind.to_string().contains("behind"));
    assert!(matches!(
        w.intake.try_send(series.point(t - 7200, 6.0)),
        Err(TelemetryError::PointOutOfWindow { .. })
    ));
    w.intake.flush().await.unwrap();
    let received = w.sandbox.received_series();
    let got: Vec<f64> = points(&received).into_iter().map(|p| p.2).collect();
    assert_eq!(
        got,
        [1.0, 2.0],
        "the refused points were not sent, not even their batch mates"
    );
    assert!(received.iter().all(|r| r.dropped_points.is_empty()));
    w.telemetry.shutdown().await.unwrap();
}

/// `n` points whose payload, rendered alone, has exactly `total` bytes: `base` is the size of a
/// payload of one point `(t, 1.0)`; each further point adds 35 bytes (`,` and
/// `{"timestamp":<10 digits>,"value":1}`), one more with the value 10.0.
fn points_for(total: usize, base: usize, t: i64) -> Vec<(i64, f64)> {
    assert!(total >= base);
    let n = 1 + (total - base) / 35;
    let tens = (total - base) % 35;
    assert!(tens <= n);
    (0..n)
        .map(|i| (t, if i < tens { 10.0 } else { 1.0 }))
        .collect()
}

/// The size of an uncompressed payload of one point of `pages()`.
async fn one_point_payload(sandbox: &Sandbox, t: i64) -> usize {
    let telemetry = telemetry(sandbox, quick().series_compression(SeriesCompression::None));
    let org = sandbox.add_org(OrgSpec::new("Calibration", Domain::Us1));
    let intake = intake(sandbox, &telemetry, &org, "inst_calibration");
    intake.send(pages().point(t, 1.0)).await.unwrap();
    telemetry.shutdown().await.unwrap();
    let received = sandbox.received_series();
    let base = received.last().unwrap().wire_bytes;
    assert_eq!(
        base,
        serde_json::to_vec(&received.last().unwrap().body)
            .unwrap()
            .len()
    );
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_payloads_stay_within_512000_bytes_as_sent() {
    let sandbox = Sandbox::start().await;
    let t = now();
    let base = one_point_payload(&sandbox, t).await;
    let settings = quick()
        .series_compression(SeriesCompression::None)
        .linger(Duration::from_secs(30));
    let telemetry = telemetry(&sandbox, settings);
    let org = sandbox.add_org(OrgSpec::new("Acme", Domain::Eu1));
    let intake = intake(&sandbox, &telemetry, &org, "inst_acme");
    let before = sandbox.received_series().len();

    // Exactly the limit: one request of 512,000 bytes.
    let at_limit = points_for(SERIES_MAX_WIRE_BYTES, base, t);
    intake.send(pages().points(at_limit.clone())).await.unwrap();
    intake.flush().await.unwrap();
    let received = sandbox.received_series();
    assert_eq!(received.len(), before + 1);
    assert_eq!(received[before].wire_bytes, SERIES_MAX_WIRE_BYTES);
    assert_eq!(points(&received[before..]).len(), at_limit.len());
    none_refused(&sandbox, Route::Series);

    // One byte more: two requests, each within the limit, every point kept in order.
    let over = points_for(SERIES_MAX_WIRE_BYTES + 1, base, t);
    intake.send(pages().points(over.clone())).await.unwrap();
    intake.flush().await.unwrap();
    let received = sandbox.received_series();
    assert_eq!(received.len(), before + 3);
    assert!(
        received[before + 1..]
            .iter()
            .all(|r| r.wire_bytes <= SERIES_MAX_WIRE_BYTES)
    );
    // Split before sending (no 413), each half with the series' metric, type, unit, interval,
    // tags and resources.
    none_refused(&sandbox, Route::Series);
    assert_eq!(headers(&received[before..]), vec![pages_header(); 3]);
    // Payloads travel concurrently: compare the points in any order.
    let mut got: Vec<f64> = points(&received[before + 1..])
        .into_iter()
        .map(|p| p.2)
        .collect();
    let mut want: Vec<f64> = over.iter().map(|p| p.1).collect();
    got.sort_by(f64::total_cmp);
    want.sort_by(f64::total_cmp);
    assert!(
        got == want,
        "{} points arrived of {}",
        got.len(),
        want.len()
    );
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_metric_payloads_decompress_to_under_5_mib() {
    let sandbox = Sandbox::start().await;
    let t = now();
    let base = one_point_payload(&sandbox, t).await;
    let telemetry = telemetry(&sandbox, quick().linger(Duration::from_secs(30)));
    let org = sandbox.add_org(OrgSpec::new("Acme", Domain::Eu1));
    let intake = intake(&sandbox, &telemetry, &org, "inst_acme");
    // Highly compressible points teach the batcher the ratio: payloads then fill up to the
    // decompressed limit.
    intake
        .send(pages().points((0..200_000).map(|_| (t, 1.0))))
        .await
        .unwrap();
    intake.flush().await.unwrap();
    let warmed = sandbox.received_series().len();

    // Just under 5 MiB decompressed (5,242,879 bytes): one request.
    let under = points_for(SERIES_DECOMPRESSED_LIMIT - 1, base, t);
    intake.send(pages().points(under.clone())).await.unwrap();
    intake.flush().await.unwrap();
    let received = sandbox.received_series();
    assert_eq!(
        received.len(),
        warmed + 1,
        "one request just under the limit"
    );
    assert_eq!(received[warmed].encoding.as_deref(), Some("zstd1"));
    assert!(received[warmed].wire_bytes <= SERIES_MAX_WIRE_BYTES);
    assert_eq!(
        serde_json::to_vec(&received[warmed].body).unwrap().len(),
        SERIES_DECOMPRESSED_LIMIT - 1
    );

    // At the limit (5,242,880 bytes, which Datadog refuses): two requests.
    let at = points_for(SERIES_DECOMPRESSED_LIMIT, base, t);
    intake.send(pages().points(at.clone())).await.unwrap();
    intake.flush().await.unwrap();
    let received = sandbox.received_series();
    assert_eq!(received.len(), warmed + 3, "split in two at the limit");
    assert_eq!(points(&received[warmed + 1..]).len(), at.len());
    none_refused(&sandbox, Route::Series);
    assert_eq!(headers(&received[warmed..]), vec![pages_header(); 3]);
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incompressible_metric_payloads_are_split_to_fit_512000_bytes_compressed() {
    let w = World::new(Domain::Ap1, quick().linger(Duration::from_secs(30))).await;
    let t = now();
    // 3000 series, each tagged with 900 random characters: about 2.8 MB rendered that compress
    // to about three quarters of that, far over 512,000 bytes: the first payloads are split.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut random_tag = || {
        let tag: String = (0..900)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                        [(x % 64) as usize],
                )
            })
            .collect();
        format!("blob:{tag}")
    };
    for i in 0..3000 {
        let series = DEPTH.series().tag(random_tag()).build().unwrap();
        w.intake.send(series.point(t, f64::from(i))).await.unwrap();
    }
    w.intake.flush().await.unwrap();
    let received = w.sandbox.received_series();
    assert!(received.len() >= 6, "split: {} payloads", received.len());
    for r in &received {
        assert!(r.wire_bytes <= SERIES_MAX_WIRE_BYTES, "{}", r.wire_bytes);
        assert_eq!(r.encoding.as_deref(), Some("zstd1"));
    }
    let mut got: Vec<f64> = points(&received).into_iter().map(|p| p.2).collect();
    got.sort_by(f64::total_cmp);
    assert!(
        got.iter().copied().eq((0..3000).map(f64::from)),
        "{} points arrived of 3000",
        got.len()
    );
    none_refused(&w.sandbox, Route::Series);
    let stats = w.intake.stats();
    assert_eq!(stats.delivered.points, 3000);
    assert!(stats.splits >= 1, "nothing was split");
    assert!(stats.wire_bytes <= stats.raw_bytes);
    w.telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_payloads_hold_at_most_1000_entries() {
    let w = World::new(Domain::Eu1, quick().linger(Duration::from_secs(30))).await;
    for i in 0..LOGS_MAX_ENTRIES {
        w.intake.send(Log::new(format!("line {i}"))).await.unwrap();
    }
    w.intake.flush().await.unwrap();
    let logs = w.sandbox.received_logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].body.as_array().unwrap().len(), LOGS_MAX_ENTRIES);

    for i in 0..=LOGS_MAX_ENTRIES {
        w.intake.send(Log::new(format!("line {i}"))).await.unwrap();
    }
    w.intake.flush().await.unwrap();
    let logs = w.sandbox.received_logs();
    let mut sizes: Vec<usize> = logs[1..]
        .iter()
        .map(|r| r.body.as_array().unwrap().len())
        .collect();
    // Payloads travel concurrently: either may arrive first.
    sizes.sort_unstable();
    assert_eq!(sizes, [1, LOGS_MAX_ENTRIES]);
    let single = logs[1..]
        .iter()
        .find(|r| r.body.as_array().unwrap().len() == 1);
    assert_eq!(single.unwrap().body[0]["message"], "line 1000");
    none_refused(&w.sandbox, Route::Logs);
    w.telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_entries_up_to_1_mib_and_payloads_up_to_5_mib() {
    let settings = quick()
        .logs_compression(LogsCompression::None)
        .linger(Duration::from_secs(30));
    let w = World::new(Domain::Eu1, settings).await;
    // An entry's bytes beside its message: `{"ddsource":"acme-pager","message":""}`.
    w.intake.send(Log::new("")).await.unwrap();
    w.intake.flush().await.unwrap();
    let overhead = w.sandbox.received_logs()[0].wire_bytes - 2;
    let entry = |len: usize, c: char| Log::new(c.to_string().repeat(len - overhead));

    // An entry of exactly 1 MiB is sent whole; one byte more is refused before sending.
    w.intake
        .send(entry(LOG_ENTRY_MAX_BYTES, 'a'))
        .await
        .unwrap();
    let error = w
        .intake
        .send(entry(LOG_ENTRY_MAX_BYTES + 1, 'a'))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        TelemetryError::OverLimit { size, limit, .. }
            if size == LOG_ENTRY_MAX_BYTES + 1 && limit == LOG_ENTRY_MAX_BYTES
    ));
    assert!(error.to_string().contains("split the message"));
    w.intake.flush().await.unwrap();
    let logs = w.sandbox.received_logs();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[1].truncated_logs, 0);
    assert_eq!(logs[1].wire_bytes, LOG_ENTRY_MAX_BYTES + 2);

    // Five entries in exactly 5 MiB (`[`, four commas, `]`): one request; a byte more: two.
    let five = |total: usize| {
        let each = (total - 6) / 5;
        let rest = (total - 6) % 5;
        (0..5)
            .map(|i| each + usize::from(i < rest))
            .collect::<Vec<_>>()
    };
    for (total, requests) in [(LOGS_MAX_BYTES, 1), (LOGS_MAX_BYTES + 1, 2)] {
        let before = w.sandbox.received_logs().len();
        for (i, len) in five(total).into_iter().enumerate() {
            assert!(len <= LOG_ENTRY_MAX_BYTES);
            w.intake
                .send(entry(len, char::from(b'a' + i as u8)))
                .await
                .unwrap();
        }
        w.intake.flush().await.unwrap();
        let logs = w.sandbox.received_logs();
        assert_eq!(logs.len() - before, requests, "{total} bytes");
        let wire: usize = logs[before..].iter().map(|r| r.wire_bytes).sum();
        assert_eq!(wire, total + 2 * (requests - 1) - (requests - 1));
        assert!(
            logs[before..]
                .iter()
                .all(|r| r.wire_bytes <= LOGS_MAX_BYTES)
        );
        let entries: usize = logs[before..]
            .iter()
            .map(|r| r.body.as_array().unwrap().len())
            .sum();
        assert_eq!(entries, 5);
        none_refused(&w.sandbox, Route::Logs);
    }
    w.telemetry.shutdown().await.unwrap();
}

#[tokio::test]
async fn event_text_and_aggregation_key_limits_count_characters() {
    let w = World::new(Domain::Us1, quick()).await;
    // 4000 characters of two bytes each.
    w.intake
        .send(Event::new("t", "é".repeat(4000)).aggregation_key("k".repeat(100)))
        .await
        .unwrap();
    let long = w
        .intake
        .send(Event::new("t", "é".repeat(4001)))
        .await
        .unwrap_err();
    assert!(matches!(
        long,
        TelemetryError::OverLimit {
            size: 4001,
            limit: 4000,
            ..
        }
    ));
    assert!(matches!(
        w.intake
            .send(Event::new("t", "x").aggregation_key("k".repeat(101)))
            .await,
        Err(TelemetryError::OverLimit { size: 101, .. })
    ));
    let old = SystemTime::now() - Duration::from_secs(18 * 3600 + 60);
    assert!(matches!(
        w.intake.send(Event::new("t", "x").date_happened(old)).await,
        Err(TelemetryError::Invalid {
            field: "date_happened",
            ..
        })
    ));
    let ahead = SystemTime::now() + Duration::from_secs(2 * 3600 + 60);
    for time in [old, ahead] {
        assert!(matches!(
            w.intake.send(Log::new("x").timestamp(time)).await,
            Err(TelemetryError::Invalid {
                field: "log timestamp",
                ..
            })
        ));
    }
    let stale = SystemTime::now() - Duration::from_secs(11 * 60);
    assert!(matches!(
        w.intake
            .send(ServiceCheck::new(CAN_CONNECT, "h", CheckStatus::Ok).timestamp(stale))
            .await,
        Err(TelemetryError::Invalid { .. })
    ));
    w.intake.flush().await.unwrap();
    let events = w.sandbox.received_events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].body["text"].as_str().unwrap().chars().count(),
        4000
    );
    w.telemetry.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Bounded memory and backpressure

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_makes_send_wait_and_try_send_fail() {
    let settings = quick().queue_bytes(64 * 1024).max_in_flight(1);
    let w = World::new(Domain::Us1, settings).await;
    // Datadog is slow: every request takes 300 ms.
    w.sandbox.inject(
        Route::Logs,
        Fault::latency(Duration::from_millis(300)).always(),
    );
    let line = "x".repeat(1000);
    let mut accepted = 0;
    let full = loop {
        match w.intake.try_send(Log::new(line.clone())) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted < 1000, "the queue never filled");
    };
    assert!(matches!(
        full,
        TelemetryError::Full {
            capacity: 65536,
            ..
        }
    ));
    assert!(full.to_string().contains("queue_bytes"));
    assert!(w.intake.stats().queued_bytes <= 64 * 1024);
    // `send` waits for room instead, until the slow requests free some.
    let started = Instant::now();
    w.intake.send(Log::new(line.clone())).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(100));
    // An item larger than the whole queue can never be accepted.
    assert!(matches!(
        w.intake.send(Log::new("y".repeat(70_000))).await,
        Err(TelemetryError::TooLargeForQueue { .. })
    ));
    w.sandbox.clear_faults();
    w.intake.flush().await.unwrap();
    let entries = log_entries(&w.sandbox);
    assert_eq!(entries, accepted + 1);
    w.telemetry.shutdown().await.unwrap();
}

/// `send` also waits while a closed payload waits for a delivery slot, though the byte budget
/// has room: a sender that outruns the deliveries holds the payloads in flight and the one it
/// fills, not the whole budget. `try_send` takes while the bytes last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_waits_while_a_closed_payload_waits_for_a_slot_and_try_send_does_not() {
    let w = World::new(Domain::Us1, quick().max_in_flight(1)).await;
    // The first delivery takes long: the second payload waits for the one slot meanwhile.
    w.sandbox
        .inject(Route::Logs, Fault::latency(Duration::from_secs(3)));
    // Two full payloads of 1,000 entries each, far under the 16 MiB budget.
    for i in 0..2000 {
        w.intake.try_send(Log::new(format!("line {i}"))).unwrap();
    }
    assert!(w.intake.stats().queued_bytes < 1 << 20);
    // One poll: a send that queues at the call is ready; this one waits for the slot.
    let waited = tokio::time::timeout(Duration::ZERO, w.intake.send(Log::new("waits"))).await;
    assert!(
        waited.is_err(),
        "send queued while a closed payload waited for the slot"
    );
    // A sender that does not wait is not held back by the payloads, only by the bytes.
    w.intake.try_send(Log::new("taken")).unwrap();
    w.intake.flush().await.unwrap();
    let entries = log_entries(&w.sandbox);
    // The waiting send was dropped unqueued: nothing of it arrives, nothing else is lost.
    assert_eq!(entries, 2001);
    assert_eq!(w.intake.stats().accepted.logs, 2001);
    w.telemetry.shutdown().await.unwrap();
}

/// An intake whose worker is gone (the runtime it was made on dropped) refuses data as closed
/// instead of accepting what nobody would deliver.
#[test]
fn an_intake_whose_runtime_is_gone_refuses_data_as_closed() {
    let telemetry = Telemetry::builder()
        .endpoints(dd_integration::Endpoints::override_base("http://127.0.0.1:9").unwrap())
        .build()
        .unwrap();
    let first = tokio::runtime::Runtime::new().unwrap();
    let intake = first.block_on(async {
        telemetry
            .intake::<AcmePager>(
                InstallationId::from_stored("inst_gone"),
                Domain::Us1,
                ApiKey::new("0123456789abcdef0123456789abcdef"),
            )
            .unwrap()
    });
    let series = pages();
    intake.try_send(series.now(1.0)).unwrap();
    drop(first);
    let refused = intake.try_send(series.now(2.0)).unwrap_err();
    assert!(
        matches!(refused, TelemetryError::Closed { .. }),
        "{refused:?}"
    );
    assert_eq!(intake.stats().accepted.points, 1);
}

/// A queue takes the process-wide budget in chunks and gives all of it back once idle: another
/// installation can then fill the whole process-wide budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_installation_keeps_none_of_the_process_wide_budget() {
    let total = 256 * 1024;
    let settings = quick().queue_bytes(1 << 20).total_queue_bytes(total);
    let w = World::new(Domain::Us1, settings).await;
    let line = "x".repeat(1000);
    for _ in 0..10 {
        w.intake.send(Log::new(line.clone())).await.unwrap();
    }
    w.intake.flush().await.unwrap();
    assert_eq!(w.intake.stats().queued_bytes, 0);
    // Another installation, its deliveries held back while it fills the budget.
    let other_org = w.sandbox.add_org(OrgSpec::new("Other", Domain::Us1));
    let other = intake(&w.sandbox, &w.telemetry, &other_org, "inst_other");
    w.sandbox.inject(
        Route::Logs,
        Fault::latency(Duration::from_millis(500)).always(),
    );
    let mut cost = 0;
    let full = loop {
        let before = other.stats().queued_bytes;
        match other.try_send(Log::new(line.clone())) {
            Ok(()) => cost = other.stats().queued_bytes - before,
            Err(e) => break e,
        }
    };
    assert!(matches!(full, TelemetryError::Full { capacity, .. } if capacity == total));
    // Everything but less than one entry's worth: the idle installation kept nothing.
    let held = other.stats().queued_bytes;
    assert!(
        held + cost > total,
        "{held} bytes held of {total}, entries of {cost}: the idle installation kept some"
    );
    w.sandbox.clear_faults();
    w.telemetry.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Retries

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_with_backoff() {
    for status in [408, 500, 502, 503, 504] {
        let w = World::new(Domain::Us1, quick()).await;
        w.sandbox
            .inject(Route::Series, Fault::status(status).times(2));
        w.sandbox.inject(Route::Logs, Fault::status(status));
        w.intake.send(pages().now(1.0)).await.unwrap();
        w.intake.send(Log::new("retried")).await.unwrap();
        w.intake.flush().await.unwrap();
        assert_eq!(w.sandbox.calls(Route::Series), 3, "{status}");
        assert_eq!(w.sandbox.received_series().len(), 1, "{status}");
        assert_eq!(w.sandbox.received_logs().len(), 1, "{status}");
        assert_eq!(w.intake.stats().retries, 3, "{status}");
        w.telemetry.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_waits_for_x_ratelimit_reset() {
    let w = World::new(Domain::Us1, quick()).await;
    w.sandbox.inject(
        Route::Events,
        Fault::status(429).reset_after(Duration::from_secs(1)),
    );
    let started = Instant::now();
    w.intake.send(Event::new("t", "x")).await.unwrap();
    w.intake.flush().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(w.sandbox.calls(Route::Events), 2);
    assert_eq!(w.sandbox.received_events().len(), 1);

    // A reset beyond the longest wait fails the payload at once, naming the limit.
    let w = World::new(
        Domain::Us1,
        quick().max_rate_limit_wait(Duration::from_secs(5)),
    )
    .await;
    w.sandbox.inject(
        Route::Events,
        Fault::status(429).reset_after(Duration::from_secs(60)),
    );
    w.intake.send(Event::new("t", "x")).await.unwrap();
    let error = w.intake.flush().await.unwrap_err();
    let failures = undelivered(&error);
    assert!(matches!(
        &failures[..],
        [(DataKind::Events, 1, DeliveryFailure::RateLimited { rate_limit })]
            if rate_limit.name.as_deref() == Some("post_event")
    ));
    w.telemetry.shutdown().await.unwrap();

    // A 429 without rate-limit headers (the logs intake under load; the metrics intake, where
    // Datadog documents none): retried after the backoff, on every kind that batches.
    let w = World::new(Domain::Us1, quick()).await;
    for route in [Route::Logs, Route::Series] {
        w.sandbox.inject(
            route,
            Fault::status(429).without_rate_limit_headers().times(2),
        );
    }
    w.intake.send(Log::new("under load")).await.unwrap();
    w.intake.send(pages().now(1.0)).await.unwrap();
    w.intake.flush().await.unwrap();
    assert_eq!(w.sandbox.calls(Route::Logs), 3);
    assert_eq!(w.sandbox.calls(Route::Series), 3);
    assert_eq!(w.sandbox.received_logs().len(), 1);
    assert_eq!(w.sandbox.received_series().len(), 1);
    assert_eq!(w.intake.stats().retries, 4);
    w.telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_is_retried_and_may_deliver_twice() {
    let w = World::new(Domain::Us1, quick()).await;
    w.sandbox.inject(Route::CheckRun, Fault::drop_response());
    w.intake
        .send(ServiceCheck::new(CAN_CONNECT, "h", CheckStatus::Critical))
        .await
        .unwrap();
    w.intake.flush().await.unwrap();
    // Datadog processed the first request before the connection was cut: at least once.
    assert_eq!(w.sandbox.received_check_runs().len(), 2);
    assert_eq!(w.intake.stats().retries, 1);
    w.telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_that_outlast_the_retries_are_reported_by_flush() {
    let w = World::new(Domain::Us1, quick().attempts(3)).await;
    w.sandbox.inject(Route::Series, Fault::status(503).always());
    w.intake
        .send(pages().points([(now(), 1.0), (now(), 2.0)]))
        .await
        .unwrap();
    let error = w.intake.flush().await.unwrap_err();
    assert!(matches!(
        &undelivered(&error)[..],
        [(DataKind::Metrics, 2, DeliveryFailure::Exhausted { attempts: 3, last })] if last == "HTTP 503"
    ));
    assert!(error.to_string().contains("2 metric points"));
    assert_eq!(w.sandbox.calls(Route::Series), 3);
    assert_eq!(w.intake.stats().undelivered.points, 2);
    // Reported once: the next flush has nothing to say.
    w.sandbox.clear_faults();
    w.intake.flush().await.unwrap();

    // A 400 is not retried: Datadog's reason is kept.
    w.sandbox.inject(Route::Logs, Fault::status(400));
    w.intake.send(Log::new("bad")).await.unwrap();
    let error = w.intake.flush().await.unwrap_err();
    assert!(matches!(
        &undelivered(&error)[..],
        [(DataKind::Logs, 1, DeliveryFailure::Refused { status: 400, detail })] if detail == "Bad Request"
    ));
    assert_eq!(w.sandbox.calls(Route::Logs), 1);
    w.telemetry.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// 413

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_413_splits_the_payload_in_halves_and_resends_both() {
    let w = World::new(Domain::Us1, quick().linger(Duration::from_secs(30))).await;
    w.sandbox.inject(Route::Series, Fault::status(413));
    w.sandbox.inject(Route::Logs, Fault::status(413).times(2));
    let t = now();
    let sent: Vec<(i64, f64)> = (0..100).map(|i| (t, f64::from(i))).collect();
    w.intake.send(pages().points(sent.clone())).await.unwrap();
    let log = |i: i32| {
        Log::new(format!("l{i}"))
            .service("pager")
            .tag("env:prod")
            .attribute("page", json!({"id": i, "urgent": i % 2 == 0}))
    };
    for i in 0..8 {
        w.intake.send(log(i)).await.unwrap();
    }
    w.intake.flush().await.unwrap();
    let series = w.sandbox.received_series();
    assert_eq!(series.len(), 2);
    let got: Vec<(i64, f64)> = points(&series).into_iter().map(|p| (p.1, p.2)).collect();
    assert_eq!(got, sent);
    assert_eq!(
        headers(&series),
        vec![pages_header(); 2],
        "both halves whole"
    );
    // Logs: 8 entries refused, then its first half (4) refused again: 2 + 2 + 4.
    let sizes: Vec<usize> = w
        .sandbox
        .received_logs()
        .iter()
        .map(|r| r.body.as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [2, 2, 4]);
    let entries: Vec<Value> = w
        .sandbox
        .received_logs()
        .iter()
        .flat_map(|r| r.body.as_array().unwrap().clone())
        .collect();
    assert_eq!(
        entries,
        (0..8)
            .map(
                |i| json!({"ddsource": "acme-pager", "service": "pager", "ddtags": "env:prod",
                            "page": {"id": i, "urgent": i % 2 == 0}, "message": format!("l{i}")})
            )
            .collect::<Vec<_>>()
    );

    assert_eq!(w.intake.stats().splits, 3);

    // A single event answered 413 cannot be split: reported.
    w.sandbox.inject(Route::Events, Fault::status(413));
    w.intake.send(Event::new("t", "x")).await.unwrap();
    let error = w.intake.flush().await.unwrap_err();
    assert_eq!(
        undelivered(&error),
        [(DataKind::Events, 1, DeliveryFailure::TooLarge)]
    );
    w.telemetry.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Key revocation

/// Hooks that count the keys the intake refused.
struct CountRejected(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl dd_integration::Hooks for CountRejected {
    async fn key_rejected(&self, _: &InstallationId, _: Domain) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_stops_the_installation_and_says_what_to_do() {
    let sandbox = Sandbox::start().await;
    let rejected = Arc::new(AtomicUsize::new(0));
    let telemetry = Telemetry::builder()
        .endpoints(sandbox.endpoints())
        .settings(quick())
        .hooks(Arc::new(CountRejected(Arc::clone(&rejected))))
        .build()
        .unwrap();
    let org = sandbox.add_org(OrgSpec::new("Acme", Domain::Eu1));
    let other_org = sandbox.add_org(OrgSpec::new("Other", Domain::Eu1));
    let intake = intake(&sandbox, &telemetry, &org, "inst_acme");
    let other = self::intake(&sandbox, &telemetry, &other_org, "inst_other");
    intake.send(pages().now(1.0)).await.unwrap();
    intake.flush().await.unwrap();

    // The customer revokes the key in Organization Settings > API Keys.
    assert!(sandbox.delete_api_key(&org.id, CLIENT));
    intake.send(pages().now(2.0)).await.unwrap();
    intake.send(Log::new("lost")).await.unwrap();
    let error = intake.flush().await.unwrap_err();
    let failures = undelivered(&error);
    assert!(
        failures
            .iter()
            .any(|f| matches!(f.2, DeliveryFailure::KeyRejected { status: 403 })),
        "{failures:?}"
    );
    assert!(error.0.iter().all(TelemetryError::needs_reconnect));

    let refused = intake.send(pages().now(3.0)).await.unwrap_err();
    assert!(matches!(
        refused,
        TelemetryError::KeyRejected {
            status: 403,
            domain: Domain::Eu1,
            ..
        }
    ));
    let text = refused.to_string();
    assert!(
        text.contains("connect the integration again from its tile"),
        "{text}"
    );
    assert!(text.contains("Organization Settings > API Keys"), "{text}");
    let key = sandbox.api_key(&org.id, CLIENT);
    assert!(key.is_none());
    assert!(intake.key_rejected().is_some());
    assert!(matches!(
        intake.try_send(Log::new("x")),
        Err(TelemetryError::KeyRejected { .. })
    ));
    // The hook runs on a task of its own: wait for it, then make sure it ran once.
    for _ in 0..200 {
        if rejected.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(rejected.load(Ordering::SeqCst), 1, "the hook runs once");
    // No request was made after the refusal; the other installation is unaffected.
    let calls = sandbox.calls(Route::Series) + sandbox.calls(Route::Logs);
    other.send(pages().now(4.0)).await.unwrap();
    other.flush().await.unwrap();
    assert_eq!(
        sandbox.calls(Route::Series) + sandbox.calls(Route::Logs),
        calls + 1
    );
    telemetry.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Flush and shutdown

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_delivers_everything_accepted_through_retries() {
    let w = World::new(Domain::Us1, quick().linger(Duration::from_secs(60))).await;
    w.sandbox.inject(Route::Series, Fault::status(503).times(2));
    w.sandbox
        .inject(Route::Logs, Fault::latency(Duration::from_millis(200)));
    let t = now();
    let series = pages();
    for i in 0..10_000 {
        w.intake.send(series.point(t, f64::from(i))).await.unwrap();
    }
    for i in 0..2500 {
        w.intake.send(Log::new(format!("l{i}"))).await.unwrap();
    }
    w.intake.send(Event::new("t", "x")).await.unwrap();
    w.intake
        .send(ServiceCheck::new(CAN_CONNECT, "h", CheckStatus::Ok))
        .await
        .unwrap();
    // The linger is a minute: only shutdown sends these.
    w.telemetry.shutdown().await.unwrap();
    assert_eq!(points(&w.sandbox.received_series()).len(), 10_000);
    let logs = log_entries(&w.sandbox);
    assert_eq!(logs, 2500);
    assert_eq!(w.sandbox.received_events().len(), 1);
    assert_eq!(w.sandbox.received_check_runs().len(), 1);

    // Nothing more is accepted.
    assert!(matches!(
        w.intake.send(series.now(1.0)).await,
        Err(TelemetryError::Closed { .. })
    ));
    assert!(matches!(
        w.telemetry.intake::<AcmePager>(
            InstallationId::from_stored("inst_new"),
            Domain::Us1,
            ApiKey::new("0123456789abcdef0123456789abcdef")
        ),
        Err(TelemetryError::Closed { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_installation_delivers_what_it_holds() {
    let w = World::new(Domain::Us1, quick().linger(Duration::from_secs(60))).await;
    w.intake.send(pages().now(1.0)).await.unwrap();
    w.telemetry
        .remove(&InstallationId::from_stored("inst_acme"))
        .await
        .unwrap();
    assert_eq!(w.sandbox.received_series().len(), 1);
    assert!(matches!(
        w.intake.send(pages().now(1.0)).await,
        Err(TelemetryError::Closed { .. })
    ));
    w.telemetry.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Many installations

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_org_does_not_stall_the_others() {
    let sandbox = Sandbox::start().await;
    let telemetry = telemetry(&sandbox, quick().queue_bytes(64 * 1024).max_in_flight(1));
    let slow_org = sandbox.add_org(OrgSpec::new("Slow", Domain::Us1));
    let slow = intake(&sandbox, &telemetry, &slow_org, "inst_slow");
    // The slow org's first request takes 3 s at Datadog.
    sandbox.inject(Route::Logs, Fault::latency(Duration::from_secs(3)));
    slow.send(Log::new("slow")).await.unwrap();
    while sandbox.calls(Route::Logs) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Its queue fills up to its own budget, and no further.
    let line = "z".repeat(2000);
    while slow.try_send(Log::new(line.clone())).is_ok() {}

    let orgs: Vec<Intake<AcmePager>> = (0..50)
        .map(|i| {
            let org = sandbox.add_org(OrgSpec::new(format!("Org {i}"), Domain::ALL[i % 9]));
            intake(&sandbox, &telemetry, &org, &format!("inst_{i}"))
        })
        .collect();
    let started = Instant::now();
    for intake in &orgs {
        intake.send(Log::new("fast")).await.unwrap();
        intake.send(pages().now(1.0)).await.unwrap();
    }
    for intake in &orgs {
        intake.flush().await.unwrap();
    }
    let others = started.elapsed();
    assert!(
        others < Duration::from_secs(2),
        "the others took {others:?}"
    );
    assert_eq!(sandbox.received_series().len(), 50);
    assert!(
        sandbox
            .received_logs()
            .iter()
            .all(|r| r.org_id != slow_org.id),
        "the slow org is still waiting"
    );
    slow.flush().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(2500));
    telemetry.shutdown().await.unwrap();
}

/// However many orgs one process sends for, `total_in_flight` bounds the requests it has open
/// to Datadog at once; each installation's own `max_in_flight` still applies under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_are_capped_across_installations() {
    for cap in [Some(2), None] {
        let sandbox = Sandbox::start().await;
        let mut settings = quick().max_in_flight(4);
        if let Some(cap) = cap {
            settings = settings.total_in_flight(cap);
        }
        let telemetry = telemetry(&sandbox, settings);
        sandbox.inject(
            Route::Series,
            Fault::latency(Duration::from_secs(1)).times(6),
        );
        let intakes: Vec<Intake<AcmePager>> = (0..6)
            .map(|i| {
                let org = sandbox.add_org(OrgSpec::new(format!("Org {i}"), Domain::Us1));
                intake(&sandbox, &telemetry, &org, &format!("inst_{i}"))
            })
            .collect();
        for intake in &intakes {
            intake.send(pages().now(1.0)).await.unwrap();
        }
        let mut flushes = tokio::task::JoinSet::new();
        for intake in &intakes {
            let intake = intake.clone();
            flushes.spawn(async move { intake.flush().await });
        }
        for flushed in flushes.join_all().await {
            flushed.unwrap();
        }
        assert_eq!(sandbox.received_series().len(), 6);
        let peak = sandbox.peak_concurrency(Route::Series);
        match cap {
            Some(cap) => assert_eq!(peak, cap, "at most the cap, and the cap is used"),
            // Without the cap the six orgs' requests overlap at Datadog.
            None => assert!(peak > 2, "peak {peak}"),
        }
        telemetry.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_installations_share_one_telemetry() {
    let sandbox = Sandbox::start().await;
    let telemetry = telemetry(&sandbox, quick().total_in_flight(32));
    let t = now();
    let series = pages();
    let mut intakes = Vec::new();
    for i in 0..1000 {
        let org = sandbox.add_org(OrgSpec::new(format!("Org {i}"), Domain::ALL[i % 9]));
        intakes.push((
            org.id.clone(),
            intake(&sandbox, &telemetry, &org, &format!("inst_{i}")),
        ));
    }
    let started = Instant::now();
    for (i, (_, intake)) in intakes.iter().enumerate() {
        intake
            .send(series.points((0..5).map(|j| (t - j, i as f64))))
            .await
            .unwrap();
        intake.send(Log::new(format!("org {i}"))).await.unwrap();
    }
    telemetry.flush().await.unwrap();
    let elapsed = started.elapsed();
    let stats = telemetry.stats();
    assert_eq!(stats.delivered.points, 5000);
    assert_eq!(stats.delivered.logs, 1000);
    let received = sandbox.received_series();
    assert_eq!(received.len(), 1000);
    // Each org's points went with its own key, to its own region.
    for r in &received {
        let (i, _) = intakes
            .iter()
            .enumerate()
            .find(|(_, (org, _))| *org == r.org_id)
            .unwrap();
        assert_eq!(r.host, Domain::ALL[i % 9].api_host());
        assert_eq!(
            r.body["series"][0]["points"][0]["value"].as_f64(),
            Some(i as f64)
        );
    }
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    // 2,000 requests for 1,000 orgs over one shared pool: about as many connections as
    // requests in flight at once (32), not one per org. (A connection goes back to the pool a
    // moment after its answer is read, so a few more than 32 can be opened.)
    assert_eq!(stats.requests, 2000);
    let connections = sandbox.connections();
    assert!(
        (1..=100).contains(&connections),
        "{connections} connections"
    );
    telemetry.shutdown().await.unwrap();
}

#[tokio::test]
async fn nothing_secret_in_debug_or_errors() {
    let w = World::new(Domain::Us1, quick()).await;
    let key = w.sandbox.api_key(&w.org.id, CLIENT).unwrap();
    let shown = format!("{:?} {:?}", w.intake, w.telemetry);
    assert!(!shown.contains(&key), "{shown}");
    w.sandbox.delete_api_key(&w.org.id, CLIENT);
    w.intake.send(Log::new("x")).await.unwrap();
    let error = w.intake.flush().await.unwrap_err();
    let refused = w.intake.send(Log::new("x")).await.unwrap_err();
    for text in [
        error.to_string(),
        format!("{error:?}"),
        refused.to_string(),
        format!("{refused:?}"),
    ] {
        assert!(!text.contains(&key), "{text}");
    }
    assert!(
        refused
            .to_string()
            .contains(&format!("…{}", &key[key.len() - 4..]))
    );
    w.telemetry.shutdown().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Hostile input: refused alone when sent, never a panic, never a lost batch

/// `UNIX_EPOCH - i64::MAX` seconds: the oldest time a timestamp in seconds can name.
fn dawn_of_time() -> SystemTime {
    UNIX_EPOCH
        .checked_sub(Duration::from_secs(i64::MAX as u64))
        .expect("this platform's SystemTime reaches i64::MAX seconds back")
}

/// `depth` levels of arrays and objects around a number, each level moved in (`json!` would
/// copy the value).
fn nested(depth: usize) -> Value {
    let mut v = Value::from(1);
    for i in 0..depth {
        v = if i % 2 == 0 {
            Value::Array(vec![v])
        } else {
            Value::Object([("k".to_owned(), v)].into_iter().collect())
        };
    }
    v
}

/// `t - now` of a point dated `i64::MIN` overflowed: a panic in a debug build, a wrapped offset
/// in a release one. Every extreme is refused as out of Datadog's window, the offset saturated.
#[tokio::test]
async fn a_point_timestamped_i64_min_is_refused_at_send_not_an_overflow_panic() {
    let w = World::new(Domain::Us1, quick()).await;
    let series = pages();
    let t = now();
    for bad in [
        series.point(i64::MIN, 1.0),
        series.point(i64::MIN + 1, 1.0),
        series.point(i64::MAX, 1.0),
        series.point_at(dawn_of_time(), 1.0),
        series.points([(t, 1.0), (i64::MIN, 2.0)]),
    ] {
        let error = w.intake.send(bad).await.unwrap_err();
        assert!(
            matches!(error, TelemetryError::PointOutOfWindow { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("check the source's clock"));
    }
    let error = w.intake.try_send(series.point(i64::MIN, 1.0)).unwrap_err();
    assert!(
        matches!(
            error,
            TelemetryError::PointOutOfWindow {
                timestamp: i64::MIN,
                offset_secs: i64::MIN,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("behind"), "{error}");
    w.intake.send(series.point(t, 7.0)).await.unwrap();
    w.intake.flush().await.unwrap();
    let got: Vec<f64> = points(&w.sandbox.received_series())
        .into_iter()
        .map(|p| p.2)
        .collect();
    assert_eq!(got, [7.0], "nothing refused was sent");
    w.telemetry.shutdown().await.unwrap();
}

/// `now - at` for a time `i64::MAX` seconds before the epoch overflowed in the age checks of
/// events and service checks. They are refused as too old, the age saturated.
#[tokio::test]
async fn an_event_or_service_check_dated_i64_max_seconds_before_the_epoch_is_refused_not_an_overflow_panic()
 {
    let w = World::new(Domain::Us1, quick()).await;
    let event = w
        .intake
        .send(Event::new("t", "x").date_happened(dawn_of_time()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            event,
            TelemetryError::Invalid {
                field: "date_happened",
                ..
            }
        ),
        "{event}"
    );
    assert!(
        event.to_string().contains("at most 18 hours old"),
        "{event}"
    );
    let check = w
        .intake
        .send(ServiceCheck::new(CAN_CONNECT, "h", CheckStatus::Ok).timestamp(dawn_of_time()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            check,
            TelemetryError::Invalid {
                field: "service check timestamp",
                ..
            }
        ),
        "{check}"
    );
    let log = w
        .intake
        .try_send(Log::new("x").timestamp(dawn_of_time()))
        .unwrap_err();
    assert!(
        matches!(
            log,
            TelemetryError::Invalid {
                field: "log timestamp",
                ..
            }
        ),
        "{log}"
    );
    w.intake.send(Event::new("t", "fine")).await.unwrap();
    w.intake
        .send(ServiceCheck::new(CAN_CONNECT, "h", CheckStatus::Ok))
        .await
        .unwrap();
    w.intake.flush().await.unwrap();
    assert_eq!(w.sandbox.received_events().len(), 1);
    assert_eq!(w.sandbox.received_check_runs().len(), 1);
    w.telemetry.shutdown().await.unwrap();
}

/// The fuzz run's loss: one entry nested past what the intake's JSON parser reads made it
/// refuse the whole payload (400), its 50 batch mates with it. That entry is now refused alone,
/// when sent; the deepest entry the parser reads still arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_log_nested_130_levels_deep_is_refused_alone_and_its_50_batch_mates_arrive() {
    let w = World::new(Domain::Eu1, quick().linger(Duration::from_secs(30))).await;
    for i in 0..25 {
        w.intake
            .send(Log::new(format!("before {i}")))
            .await
            .unwrap();
    }
    let error = w
        .intake
        .send(Log::new("deep").attribute("payload", nested(130)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            TelemetryError::TooDeep { attribute, limit }
                if attribute == "payload" && *limit == LOG_ENTRY_MAX_DEPTH
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("flatten the attribute"),
        "{error}"
    );
    for i in 0..25 {
        w.intake.send(Log::new(format!("after {i}"))).await.unwrap();
    }
    w.intake.flush().await.unwrap();
    let logs = w.sandbox.received_logs();
    assert_eq!(logs.len(), 1, "one payload");
    assert_eq!(logs[0].body.as_array().unwrap().len(), 50);
    assert_eq!(w.intake.stats().delivered.logs, 50);
    none_refused(&w.sandbox, Route::Logs);

    // At the limit (the entry's object and its attribute's levels), with a batch mate: both
    // arrive in one payload the parser reads.
    w.intake
        .send(Log::new("deepest").attribute("payload", nested(LOG_ENTRY_MAX_DEPTH - 1)))
        .await
        .unwrap();
    w.intake.send(Log::new("mate")).await.unwrap();
    w.intake.flush().await.unwrap();
    let logs = w.sandbox.received_logs();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[1].body.as_array().unwrap().len(), 2);
    assert_eq!(logs[1].body[0]["message"], "deepest");
    none_refused(&w.sandbox, Route::Logs);
    w.telemetry.shutdown().await.unwrap();
}

/// Datadog reads a series' `interval` as an int64: a larger one made it refuse the whole metric
/// payload, every other series in it too. It is refused when the series is built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_interval_past_i64_max_is_refused_when_built_not_poisoning_its_payload() {
    let error = PAGES.series().interval(u64::MAX).build().unwrap_err();
    assert!(
        matches!(
            error,
            TelemetryError::Invalid {
                field: "interval",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("in seconds"), "{error}");
    let w = World::new(Domain::Us1, quick().linger(Duration::from_secs(30))).await;
    let edge = PAGES
        .series()
        .tag("edge")
        .interval(i64::MAX as u64)
        .build()
        .unwrap();
    let t = now();
    w.intake.send(edge.point(t, 1.0)).await.unwrap();
    w.intake.send(pages().point(t, 2.0)).await.unwrap();
    w.intake.flush().await.unwrap();
    let received = w.sandbox.received_series();
    assert_eq!(received.len(), 1);
    assert_eq!(points(&received).len(), 2);
    assert_eq!(received[0].body["series"][0]["interval"], i64::MAX);
    none_refused(&w.sandbox, Route::Series);
    w.telemetry.shutdown().await.unwrap();
}

/// The settings' fields are public: budgets past what a semaphore holds and a linger past what
/// an `Instant` holds are clamped when the telemetry is built, not a panic in it or its worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_at_their_type_maxima_are_clamped_not_a_panic() {
    let mut settings = quick();
    settings.queue_bytes = usize::MAX;
    settings.total_queue_bytes = usize::MAX;
    settings.linger = Duration::MAX;
    let sandbox = Sandbox::start().await;
    let telemetry = telemetry(&sandbox, settings);
    assert_eq!(telemetry.settings().queue_bytes, u32::MAX as usize);
    assert_eq!(telemetry.settings().total_queue_bytes, u32::MAX as usize);
    let org = sandbox.add_org(OrgSpec::new("Acme", Domain::Us1));
    let intake = intake(&sandbox, &telemetry, &org, "inst_max");
    intake.send(Log::new("kept")).await.unwrap();
    intake.try_send(Log::new("kept too")).unwrap();
    intake.flush().await.unwrap();
    assert_eq!(intake.stats().delivered.logs, 2);
    assert_eq!(sandbox.received_logs()[0].body[0]["message"], "kept");
    telemetry.shutdown().await.unwrap();
}

/// The partner's first hour: a misspelled metric gave "evaluation panicked: this metric is not
/// declared", without its name or a suggestion. The message names both (the same text is the
/// compile error in a `const`; see `tests/ui/fail/undeclared_metric.rs`).
#[test]
fn a_misspelled_metric_or_check_names_itself_and_the_nearest_declared_one() {
    #[dd_integration::datadog_integration(
        name = "Acme Spelling",
        scopes = [api_keys_write],
        redirect = "https://acme.example/callback",
        onboarding = "https://acme.example/connect",
        submits = [metrics, service_checks],
        metric_prefix = "acme.",
        metric(name = "acme.pages.sent", type = count, unit = "page"),
        metric(name = "acme.queue.depth", type = gauge),
        service_check(name = "acme.can_connect", title = "Acme reachable", description = "d"),
    )]
    struct Spelling;

    let message = |f: fn()| {
        let payload = std::panic::catch_unwind(f).unwrap_err();
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap()
    };
    let typo = message(|| {
        let _ = Metric::<Spelling>::declared("acme.page.sent");
    });
    assert!(
        typo.starts_with("metric `acme.page.sent` is not declared by Acme Spelling; did you mean `acme.pages.sent`?"),
        "{typo}"
    );
    let far = message(|| {
        let _ = Metric::<Spelling>::declared("other.thing");
    });
    assert!(
        far.contains("`other.thing` is not declared") && !far.contains("did you mean"),
        "{far}"
    );
    assert!(far.contains("add `metric(name"), "{far}");
    let check = message(|| {
        let _ = Check::<Spelling>::declared("acme.can_conect");
    });
    assert!(
        check.contains("service check `acme.can_conect` is not declared")
            && check.contains("did you mean `acme.can_connect`?"),
        "{check}"
    );
}
