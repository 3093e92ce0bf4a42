//! Property tests: arbitrary timestamps, values, tags, strings and nested attributes thrown at
//! the item builders and at `send`. Nothing panics; what is refused is refused with a typed
//! error; what is accepted renders to JSON that serde_json reads back, alone and in a payload;
//! and sent to the sandbox, no accepted item makes it refuse a payload.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use super::batch::{Body, SeriesBatch, point_bound};
use super::data::{Item, render_point};
use super::{
    Check, CheckStatus, Event, Log, Metric, Prepared, ServiceCheck, Submission, Telemetry,
    TelemetryError, TelemetrySettings, limits,
};
use crate::integration::{
    DataKind, DatadogIntegration, IntegrationSpec, MetricSpec, MetricType, Orientation,
    ServiceCheckSpec, Submits, kinds,
};
use crate::secret::ApiKey;
use crate::testkit::{OrgSpec, Route, Sandbox};
use crate::{Domain, InstallationId};

/// Cases per property: enough to find the edges, few enough for a 2-core machine.
const CASES: u32 = 256;

fn config() -> Config {
    let mut config = Config {
        cases: CASES,
        // No regression files written into the source tree.
        failure_persistence: None,
        ..Config::default()
    };
    // The same cases on every run (see `crate::proptests::config`); PROPTEST_RNG_SEED explores.
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(crate::proptests::SEED);
    }
    config
}

/// An integration that sends every kind of data.
struct Fuzzed;

impl DatadogIntegration for Fuzzed {
    const SPEC: &'static IntegrationSpec = &IntegrationSpec {
        environments: &[],
        listing: crate::integration::Listing::DEFAULT,
        name: "Fuzzed",
        app_id: "fuzzed",
        submits: &[
            DataKind::Metrics,
            DataKind::Logs,
            DataKind::Events,
            DataKind::ServiceChecks,
        ],
        metrics: &[
            MetricSpec {
                name: "fuzz.count",
                metric_type: MetricType::Count,
                unit: Some("item"),
                per_unit: None,
                description: "",
                orientation: Orientation::Neutral,
                short_name: None,
                interval: None,
                sample_tags: &[],
                curated_metric: &[],
            },
            MetricSpec {
                name: "fuzz.gauge",
                metric_type: MetricType::Gauge,
                unit: None,
                per_unit: None,
                description: "",
                orientation: Orientation::Neutral,
                short_name: None,
                interval: None,
                sample_tags: &[],
                curated_metric: &[],
            },
        ],
        service_checks: &[ServiceCheckSpec {
            name: "fuzz.ok",
            title: "Fuzz",
            description: "",
            statuses: &["ok", "critical"],
        }],
        ..*crate::__private::INVALID_SPEC
    };
}

impl Submits<kinds::metrics> for Fuzzed {}
impl Submits<kinds::logs> for Fuzzed {}
impl Submits<kinds::events> for Fuzzed {}
impl Submits<kinds::service_checks> for Fuzzed {}

const COUNT: Metric<Fuzzed> = Metric::declared("fuzz.count");
const GAUGE: Metric<Fuzzed> = Metric::declared("fuzz.gauge");
const OK: Check<Fuzzed> = Check::declared("fuzz.ok");

/// A fixed clock for the builders' properties: 2023-11-14, in Unix milliseconds.
const NOW_MS: i64 = 1_700_000_000_000;

// ---------------------------------------------------------------------------------------------
// Strategies

/// Any text, control characters and lone combining marks included, and sometimes empty.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => vec(any::<char>(), 0..24).prop_map(String::from_iter),
        1 => Just(String::new()),
        1 => "[a-z]{1,8}:[a-z0-9]{0,8}",
    ]
}

/// Unix seconds: anywhere in i64, the extremes, or near `now` (seconds).
fn timestamp(now: i64) -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MIN + 1),
        Just(i64::MAX),
        (-4_000i64..1_000).prop_map(move |d| now.saturating_add(d)),
    ]
}

/// Any f64: NaN, the infinities, -0, subnormals, the largest, and whole numbers near 1e15
/// (where rendering switches from integers to floats).
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        (-1_000_000_000_000_000i64..1_000_000_000_000_000).prop_map(|i| i as f64),
    ]
}

/// A time from the dawn of i64 seconds to its end: `None` where `SystemTime` cannot go.
fn system_time(now: i64) -> impl Strategy<Value = Option<SystemTime>> {
    (timestamp(now), 0u32..1_000_000_000).prop_map(|(secs, nanos)| {
        let offset = Duration::new(secs.unsigned_abs(), nanos);
        if secs >= 0 {
            UNIX_EPOCH.checked_add(offset)
        } else {
            UNIX_EPOCH.checked_sub(offset)
        }
    })
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // NaN and the infinities become `null`, as serde_json makes them.
        value().prop_map(Value::from),
        text().prop_map(Value::from),
    ]
}

/// Any JSON: a small random tree, wrapped in up to 140 further levels of arrays and objects
/// (past the intake parser's depth).
fn json() -> impl Strategy<Value = Value> {
    let tree = json_leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let wraps = prop_oneof![3 => 0usize..4, 1 => 0usize..140, 1 => 120usize..130];
    (tree, wraps, any::<bool>()).prop_map(|(mut v, wraps, arrays_first)| {
        for i in 0..wraps {
            v = if (i % 2 == 0) == arrays_first {
                Value::Array(vec![v])
            } else {
                Value::Object([("k".to_owned(), v)].into_iter().collect())
            };
        }
        v
    })
}

/// The nesting of `v` (a scalar: 0), measured recursively: the values here are shallow enough.
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[derive(Clone, Debug)]
struct LogCase {
    message: String,
    tags: Vec<String>,
    service: Option<String>,
    status: Option<String>,
    time: Option<Option<SystemTime>>,
    attributes: Vec<(String, Value)>,
}

impl LogCase {
    fn log(&self) -> Log<'_> {
        let mut log = Log::new(self.message.clone());
        for tag in &self.tags {
            log = log.tag(tag.clone());
        }
        if let Some(s) = &self.service {
            log = log.service(s.clone());
        }
        if let Some(s) = &self.status {
            log = log.status(s.clone());
        }
        if let Some(Some(t)) = self.time {
            log = log.timestamp(t);
        }
        for (k, v) in &self.attributes {
            log = log.attribute(k.clone(), v.clone());
        }
        log
    }

    /// The deepest attribute that is sent (reserved names are not).
    fn sent_depth(&self) -> usize {
        let reserved = [
            "message", "service", "hostname", "ddsource", "ddtags", "status",
        ];
        let mut last: std::collections::BTreeMap<&str, &Value> = Default::default();
        for (k, v) in &self.attributes {
            last.insert(k, v);
        }
        last.iter()
            .filter(|(k, _)| !reserved.contains(k))
            .filter(|(k, _)| !(**k == "timestamp" && matches!(self.time, Some(Some(_)))))
            .map(|(_, v)| depth(v))
            .max()
            .unwrap_or(0)
    }
}

fn log_case(now: i64) -> impl Strategy<Value = LogCase> {
    let key =
        prop_oneof![4 => text(), 1 => Just("timestamp".to_owned()), 1 => Just("status".to_owned())];
    (
        text(),
        vec(text(), 0..4),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(system_time(now)),
        vec((key, json()), 0..4),
    )
        .prop_map(
            |(message, tags, service, status, time, attributes)| LogCase {
                message,
                tags,
                service,
                status,
                time,
                attributes,
            },
        )
}

#[derive(Clone, Debug)]
struct SeriesCase {
    gauge: bool,
    tags: Vec<String>,
    resources: Vec<(String, String)>,
    interval: Option<u64>,
    points: Vec<(i64, f64)>,
}

fn series_case(now: i64) -> impl Strategy<Value = SeriesCase> {
    let interval = proptest::option::of(prop_oneof![
        any::<u64>(),
        Just(i64::MAX as u64),
        Just(i64::MAX as u64 + 1),
        Just(u64::MAX),
        0u64..3600,
    ]);
    (
        any::<bool>(),
        vec(text(), 0..4),
        vec((text(), text()), 0..2),
        interval,
        vec((timestamp(now), value()), 1..6),
    )
        .prop_map(|(gauge, tags, resources, interval, points)| SeriesCase {
            gauge,
            tags,
            resources,
            interval,
            points,
        })
}

impl SeriesCase {
    fn builder(&self) -> super::SeriesBuilder<Fuzzed> {
        let mut b = if self.gauge { GAUGE } else { COUNT }
            .series()
            .tags(self.tags.iter().cloned());
        for (kind, name) in &self.resources {
            b = b.resource(kind.clone(), name.clone());
        }
        if let Some(i) = self.interval {
            b = b.interval(i);
        }
        b
    }
}

#[derive(Clone, Debug)]
struct EventCase {
    title: String,
    text: String,
    key: Option<String>,
    tags: Vec<String>,
    host: Option<String>,
    date: Option<Option<SystemTime>>,
    related: Option<i64>,
}

fn event_case(now: i64) -> impl Strategy<Value = EventCase> {
    let long = prop_oneof![text(), (3_990usize..4_010).prop_map(|n| "é".repeat(n))];
    (
        text(),
        long,
        proptest::option::of(prop_oneof![
            text(),
            (95usize..105).prop_map(|n| "k".repeat(n))
        ]),
        vec(text(), 0..3),
        proptest::option::of(text()),
        proptest::option::of(system_time(now)),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(|(title, text, key, tags, host, date, related)| EventCase {
            title,
            text,
            key,
            tags,
            host,
            date,
            related,
        })
}

impl EventCase {
    fn event(&self) -> Event {
        let mut e = Event::new(self.title.clone(), self.text.clone());
        if let Some(k) = &self.key {
            e = e.aggregation_key(k.clone());
        }
        for t in &self.tags {
            e = e.tag(t.clone());
        }
        if let Some(h) = &self.host {
            e = e.host(h.clone());
        }
        if let Some(Some(d)) = self.date {
            e = e.date_happened(d);
        }
        if let Some(r) = self.related {
            e = e.related_event_id(r);
        }
        e
    }
}

#[derive(Clone, Debug)]
struct CheckCase {
    host: String,
    status: u8,
    tags: Vec<String>,
    message: Option<String>,
    time: Option<Option<SystemTime>>,
}

fn check_case(now: i64) -> impl Strategy<Value = CheckCase> {
    (
        text(),
        0u8..4,
        vec(text(), 0..3),
        proptest::option::of(text()),
        proptest::option::of(system_time(now)),
    )
        .prop_map(|(host, status, tags, message, time)| CheckCase {
            host,
            status,
            tags,
            message,
            time,
        })
}

impl CheckCase {
    fn check(&self) -> ServiceCheck<Fuzzed> {
        let status = [
            CheckStatus::Ok,
            CheckStatus::Warning,
            CheckStatus::Critical,
            CheckStatus::Unknown,
        ][usize::from(self.status)];
        let mut c = ServiceCheck::new(OK, self.host.clone(), status);
        for t in &self.tags {
            c = c.tag(t.clone());
        }
        if let Some(m) = &self.message {
            c = c.message(m.clone());
        }
        if let Some(Some(t)) = self.time {
            c = c.timestamp(t);
        }
        c
    }
}

// ---------------------------------------------------------------------------------------------
// Builders and `prepare`: no panic, typed refusals, JSON that reads back

/// Reads `bytes` back, alone and as the two-entry array a payload makes of it.
fn reads_back(bytes: &[u8]) -> Result<Value, TestCaseError> {
    let alone: Value = serde_json::from_slice(bytes)
        .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(bytes))))?;
    let payload = [b"[".as_slice(), bytes, b",", bytes, b"]"].concat();
    serde_json::from_slice::<Value>(&payload)
        .map_err(|e| TestCaseError::fail(format!("as a payload: {e}")))?;
    Ok(alone)
}

/// The SDK's JSON strings are `serde_json`'s, byte for byte, whatever the text: control
/// characters, quotes, backslashes, any Unicode.
#[test]
fn json_strings_are_escaped_as_serde_json_escapes_them() {
    let text = prop_oneof![
        any::<String>(),
        vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                (0u8..0x20).prop_map(char::from),
                any::<char>()
            ],
            0..40
        )
        .prop_map(|c| c.into_iter().collect::<String>()),
    ];
    TestRunner::new(config())
        .run(&text, |text| {
            let mut ours = Vec::new();
            super::data::json_str(&mut ours, &text);
            prop_assert_eq!(ours, serde_json::to_vec(&text).unwrap());
            Ok(())
        })
        .unwrap();
}

/// A value is written as an integer exactly when it is whole and under 1e15 in magnitude: the
/// test by a round trip through `i64` agrees with `fract() == 0` on the values the strategies
/// make (any f64, NaN, the infinities, -0, subnormals, whole numbers and halves on both sides of
/// 1e15) and on the edges where the cast to `i64` saturates, and gives the same integer.
#[test]
fn whole_values_are_found_as_fract_finds_them() {
    let by_fract = |v: f64| (v.fract() == 0.0 && v.abs() < 1e15).then_some(v as i64);
    let near_the_switch = prop_oneof![
        value(),
        (-2_000_000_000_000_000i64..2_000_000_000_000_000).prop_map(|i| i as f64),
        (-4_000_000_000_000_000i64..4_000_000_000_000_000).prop_map(|i| i as f64 / 2.0),
    ];
    TestRunner::new(config())
        .run(&near_the_switch, |v| {
            prop_assert_eq!(super::data::whole(v), by_fract(v), "{}", v);
            Ok(())
        })
        .unwrap();
    for v in [
        0.0_f64,
        -0.0,
        0.5,
        -2.0,
        1e15,
        -1e15,
        1e15 - 1.0,
        -(1e15 - 1.0),
        999_999_999_999_999.5,
        -999_999_999_999_999.5,
        2f64.powi(53) + 2.0,
        2f64.powi(63),
        -2f64.powi(63),
        f64::MAX,
        f64::MIN,
    ] {
        assert_eq!(super::data::whole(v), by_fract(v), "{v}");
    }
}

/// A point's size as a payload counts it is its rendering's length for a whole value, and never
/// under it for any value, for timestamps of every length and sign.
#[test]
fn a_points_counted_size_is_its_rendering_or_more() {
    let timestamp = prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        (0u32..18, any::<u64>(), any::<bool>()).prop_map(|(digits, r, negative)| {
            let n = (10u64.pow(digits) + r % (9 * 10u64.pow(digits))) as i64;
            if negative { -n } else { n }
        }),
    ];
    let value = prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        (-1_000_000_000_000_000i64..1_000_000_000_000_000).prop_map(|i| i as f64),
    ];
    TestRunner::new(config())
        .run(&(timestamp, value), |(t, v)| {
            let mut rendered = Vec::new();
            render_point(&mut rendered, t, v);
            let counted = point_bound(t, v);
            prop_assert!(
                counted >= rendered.len(),
                "{} for {}",
                counted,
                rendered.len()
            );
            if super::data::whole(v).is_some() {
                prop_assert_eq!(counted, rendered.len());
            }
            Ok(())
        })
        .unwrap();
}

/// The first point Datadog would not take at `now` (Unix seconds): not finite, or out of its
/// window.
fn first_bad(points: &[(i64, f64)], now: i64) -> Option<(i64, f64)> {
    let window = now.saturating_sub(limits::POINT_MAX_BEHIND_SECS)
        ..=now.saturating_add(limits::POINT_MAX_AHEAD_SECS);
    points
        .iter()
        .copied()
        .find(|&(t, v)| !v.is_finite() || !window.contains(&t))
}

#[test]
fn arbitrary_points_never_panic_and_accepted_ones_render_as_json_read_back() {
    // The clock at now, anywhere, and at every count of digits (1 to 16 seconds' digits, either
    // sign), with the points near it: what is accepted then has timestamps of every length.
    let strategy = prop_oneof![
        Just(NOW_MS),
        any::<i64>(),
        (0u32..16, any::<u64>(), any::<bool>()).prop_map(|(digits, r, negative)| {
            let secs = 10i64.pow(digits) + (r % 10u64.pow(digits)) as i64;
            if negative { -secs * 1000 } else { secs * 1000 }
        }),
    ]
    .prop_flat_map(|now_ms| (series_case(now_ms.div_euclid(1000)), Just(now_ms)));
    TestRunner::new(config())
        .run(&strategy, |(case, now_ms)| {
            let series = match case.builder().build() {
                Ok(series) => {
                    prop_assert!(case.interval.is_none_or(|i| i64::try_from(i).is_ok()));
                    prop_assert!(!case.tags.iter().any(String::is_empty));
                    series
                }
                Err(TelemetryError::Invalid { field, .. }) => {
                    prop_assert!(["tag", "resource", "interval"].contains(&field));
                    return Ok(());
                }
                Err(TelemetryError::OverLimit { .. }) => return Ok(()),
                Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
            };
            let points = series.points(case.points.iter().copied());
            let now = now_ms.div_euclid(1000);
            match <_ as Submission<Fuzzed>>::prepare(points, now_ms) {
                Ok(Prepared(Item::Points { header, points })) => {
                    let mut batch = SeriesBatch::default();
                    points.for_each(|t, v| {
                        assert!(batch.push(&header, t, v, usize::MAX));
                    });
                    let body = Body::Series(batch.take());
                    // The size counted as the points came is never under the rendered one,
                    // whatever the timestamps (the count takes a shortcut for 10 digits).
                    prop_assert!(body.raw_len() >= body.render().len());
                    let back = reads_back(&body.render())?;
                    let sent = back["series"][0]["points"].as_array().unwrap().clone();
                    prop_assert_eq!(sent.len(), case.points.len());
                    prop_assert!(first_bad(&case.points, now).is_none());
                    for (p, &(t, v)) in sent.iter().zip(&case.points) {
                        prop_assert_eq!(p["timestamp"].as_i64(), Some(t));
                        // serde_json (without `float_roundtrip`) may read a float one unit in
                        // the last place off; the text itself is exact for a correct parser.
                        let read = p["value"].as_f64().unwrap();
                        prop_assert!(
                            read == v || read.to_bits().abs_diff(v.to_bits()) <= 1,
                            "{read} for {v}"
                        );
                        let mut one = Vec::new();
                        render_point(&mut one, t, v);
                        let text = std::str::from_utf8(&one).unwrap();
                        let number = &text[text.find("\"value\":").unwrap() + 8..text.len() - 1];
                        prop_assert_eq!(number.parse::<f64>(), Ok(v), "{}", text);
                    }
                    if let Some(i) = case.interval {
                        prop_assert_eq!(back["series"][0]["interval"].as_u64(), Some(i));
                    }
                }
                Ok(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
                // The error is the first bad point's: not finite, or out of the window.
                Err(TelemetryError::NotFinite { .. }) => {
                    prop_assert!(first_bad(&case.points, now).is_some_and(|p| !p.1.is_finite()));
                }
                Err(TelemetryError::PointOutOfWindow {
                    timestamp,
                    offset_secs,
                    ..
                }) => {
                    let first = first_bad(&case.points, now);
                    prop_assert!(first.is_some_and(|p| p.1.is_finite() && p.0 == timestamp));
                    prop_assert_eq!(offset_secs, timestamp.saturating_sub(now));
                }
                Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_logs_never_panic_and_only_those_past_the_parsers_depth_are_refused_for_it() {
    let strategy = (
        log_case(NOW_MS / 1000),
        prop_oneof![3 => Just(NOW_MS), 1 => any::<i64>()],
    );
    TestRunner::new(config())
        .run(&strategy, |(case, now_ms)| {
            let deepest = case.sent_depth();
            match <Log as Submission<Fuzzed>>::prepare(case.log(), now_ms) {
                Ok(Prepared(Item::Log(bytes))) => {
                    prop_assert!(deepest < limits::LOG_ENTRY_MAX_DEPTH);
                    prop_assert!(bytes.len() <= limits::LOG_ENTRY_MAX_BYTES);
                    let back = reads_back(&bytes)?;
                    prop_assert_eq!(back["message"].as_str(), Some(case.message.as_str()));
                    prop_assert_eq!(back["ddsource"].as_str(), Some("fuzzed"));
                }
                Ok(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
                Err(TelemetryError::TooDeep { limit, .. }) => {
                    prop_assert_eq!(limit, limits::LOG_ENTRY_MAX_DEPTH);
                    prop_assert!(deepest >= limits::LOG_ENTRY_MAX_DEPTH, "{deepest}");
                }
                Err(TelemetryError::Invalid {
                    field: "log timestamp",
                    ..
                }) => {}
                Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_events_and_service_checks_never_panic_and_accepted_ones_read_back() {
    let now = NOW_MS / 1000;
    let strategy = (
        event_case(now),
        check_case(now),
        prop_oneof![3 => Just(NOW_MS), 1 => any::<i64>()],
    );
    TestRunner::new(config())
        .run(&strategy, |(event, check, now_ms)| {
            match <Event as Submission<Fuzzed>>::prepare(event.event(), now_ms) {
                Ok(Prepared(Item::Event(bytes))) => {
                    let back = reads_back(&bytes)?;
                    prop_assert_eq!(back["text"].as_str(), Some(event.text.as_str()));
                    prop_assert!(event.text.chars().count() <= limits::EVENT_TEXT_MAX_CHARS);
                }
                Ok(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
                Err(
                    TelemetryError::OverLimit { .. }
                    | TelemetryError::Invalid {
                        field: "date_happened",
                        ..
                    },
                ) => {}
                Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
            match <ServiceCheck<Fuzzed> as Submission<Fuzzed>>::prepare(check.check(), now_ms) {
                Ok(Prepared(Item::Check(bytes))) => {
                    let back = reads_back(&bytes)?;
                    prop_assert_eq!(back["host_name"].as_str(), Some(check.host.as_str()));
                    prop_assert_eq!(back["status"].as_u64(), Some(u64::from(check.status)));
                }
                Ok(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
                Err(TelemetryError::Invalid {
                    field: "service check timestamp",
                    ..
                }) => {}
                Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// `send` to the sandbox: no accepted item poisons a payload

#[derive(Clone, Debug)]
enum Sent {
    Series(SeriesCase),
    Log(LogCase),
    Event(EventCase),
    Check(CheckCase),
}

fn unix_now() -> i64 {
    super::data::unix_now()
}

/// Points and times near the clock as it is when the cases are made: inside Datadog's windows
/// with room for the run's length, or far outside (refused when sent).
fn sent(now: i64) -> impl Strategy<Value = Sent> {
    let near_points = vec(
        (
            prop_oneof![
                4 => (-3_000i64..500).prop_map(move |d| now + d),
                1 => timestamp(now),
            ],
            value(),
        ),
        1..6,
    );
    let series = (series_case(now), near_points).prop_map(|(mut case, points)| {
        case.points = points;
        case
    });
    prop_oneof![
        2 => series.prop_map(Sent::Series),
        4 => log_case(now).prop_map(Sent::Log),
        1 => event_case(now).prop_map(Sent::Event),
        2 => check_case(now).prop_map(Sent::Check),
    ]
}

#[test]
fn arbitrary_items_sent_to_the_sandbox_never_make_it_refuse_a_payload() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (sandbox, telemetry, intake, org_id) = rt.block_on(async {
        let sandbox = Sandbox::start().await;
        let org = sandbox.add_org(OrgSpec::new("Fuzz", Domain::Us1));
        let key = sandbox.issue_api_key(&org.id, "fuzzed");
        // A long linger: accepted items share payloads, where one bad item would sink the rest.
        let settings = TelemetrySettings::default().linger(Duration::from_secs(60));
        let telemetry = Telemetry::builder()
            .endpoints(sandbox.endpoints())
            .settings(settings)
            .build()
            .unwrap();
        let intake = telemetry
            .intake::<Fuzzed>(
                InstallationId::from_stored("inst_fuzz"),
                Domain::Us1,
                ApiKey::new(key),
            )
            .unwrap();
        (sandbox, telemetry, intake, org.id)
    });
    let accepted = Cell::new(0usize);
    TestRunner::new(config())
        .run(&sent(unix_now()), |case| {
            let result = rt.block_on(async {
                match &case {
                    Sent::Series(s) => match s.builder().build() {
                        Ok(series) => intake.send(series.points(s.points.clone())).await,
                        Err(e) => Err(e),
                    },
                    Sent::Log(l) => intake.send(l.log()).await,
                    Sent::Event(e) => intake.send(e.event()).await,
                    Sent::Check(c) => intake.send(c.check()).await,
                }
            });
            match result {
                Ok(()) => accepted.set(accepted.get() + 1),
                Err(
                    TelemetryError::Invalid { .. }
                    | TelemetryError::OverLimit { .. }
                    | TelemetryError::NotFinite { .. }
                    | TelemetryError::PointOutOfWindow { .. }
                    | TelemetryError::TooDeep { .. },
                ) => {}
                Err(other) => return Err(TestCaseError::fail(format!("{other}"))),
            }
            Ok(())
        })
        .unwrap();
    rt.block_on(async {
        intake.flush().await.unwrap();
        for route in [Route::Series, Route::Logs, Route::Events, Route::CheckRun] {
            let tally = sandbox.intake_tally(route, &org_id);
            assert_eq!(
                sandbox.calls(route),
                tally.payloads,
                "the sandbox refused a payload to {route:?}"
            );
        }
        let stats = intake.stats();
        assert_eq!(stats.delivered, stats.accepted);
        assert_eq!(stats.undelivered, Default::default());
        assert!(accepted.get() > 0);
        telemetry.shutdown().await.unwrap();
    });
}
