//! What the two benchmarks share: the integration they declare, the data they send, and the
//! official client's set-up. `official-comparison` (the default binary) sends through the
//! Datadog sandbox, for correctness and the receiver's cost; `client_cost` sends to a sink
//! that discards everything, for the client's own cost.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::{SystemTime, UNIX_EPOCH};

use datadog_api_client::datadog::{APIKey, Configuration};
use datadog_api_client::datadogV2::api_logs::{LogsAPI, SubmitLogOptionalParams};
use datadog_api_client::datadogV2::api_metrics::{MetricsAPI, SubmitMetricsOptionalParams};
use datadog_api_client::datadogV2::model::{
    ContentEncoding, HTTPLogItem, MetricContentEncoding, MetricIntakeType, MetricPayload,
    MetricPoint, MetricResource, MetricSeries,
};
use dd_integration::datadog_integration;
use dd_integration::telemetry::{Intake, Metric, Series};

#[datadog_integration(
    name = "Acme Bench",
    scopes = [api_keys_write],
    redirect = "https://acme.example/datadog/callback",
    onboarding = "https://acme.example/datadog/connect",
    submits = [metrics, logs],
    metric_prefix = "acme.",
    metric(name = "acme.queue.depth", type = gauge, unit = "item"),
)]
pub struct AcmeBench;

pub const DEPTH: Metric<AcmeBench> = Metric::declared("acme.queue.depth");
/// Series the points are spread over (distinct tag sets), round-robin.
pub const SERIES: usize = 1000;
/// Points per request the official client is given (it does not batch by itself); about
/// 2 MB rendered and 300 KB compressed, within Datadog's limits.
pub const OFFICIAL_POINTS_PER_REQUEST: usize = 50_000;
/// Log lines per request the official client is given: Datadog's maximum.
pub const OFFICIAL_LINES_PER_REQUEST: usize = 1000;
/// Requests the tuned official client has in flight at once, as the SDK's default.
pub const IN_FLIGHT: usize = 4;

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `n` points as (series, timestamp, value), in the order they are produced: ten-second
/// points over the last 40 minutes, gauge values with two decimals.
pub fn points(n: usize) -> Vec<(u32, i64, f64)> {
    let t = now();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|k| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let series = (k % SERIES) as u32;
            let ts = t - 2400 + ((k / SERIES) as i64 % 240) * 10;
            (series, ts, (x % 100_000) as f64 / 100.0)
        })
        .collect()
}

pub fn series_tags(i: usize) -> Vec<String> {
    vec![
        "env:bench".to_owned(),
        format!("queue:q{i}"),
        format!("region:r{}", i % 7),
    ]
}

pub fn host(i: usize) -> String {
    format!("web-{}", i % 50)
}

/// The SDK's series of the benchmark, one per tag set.
pub fn all_series() -> Vec<Series<AcmeBench>> {
    (0..SERIES)
        .map(|i| {
            DEPTH
                .series()
                .tags(series_tags(i))
                .host(host(i))
                .build()
                .unwrap()
        })
        .collect()
}

/// Log line `i` (about 190 bytes) and its host.
pub fn log_line(i: usize) -> (String, String) {
    (
        format!(
            "GET /api/v1/pages/{} 200 {}ms user=user{}@acme.example trace_id={:016x} page escalated to on-call",
            i * 7919 % 100_000,
            i % 997,
            i % 313,
            (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ),
        host(i),
    )
}

/// The official client pointed at `authority` (`host:port`): its second server is
/// `{protocol}://{name}`, with the Datadog host as the first path segment, as the sandbox
/// expects (the sink ignores the path).
pub fn official_config(authority: &str, key: &str) -> Configuration {
    let mut config = Configuration::new();
    config.server_index = 1;
    config
        .server_variables
        .insert("protocol".into(), "http".into());
    config
        .server_variables
        .insert("name".into(), format!("{authority}/api.datadoghq.com"));
    config
        .server_operation_index
        .insert("v2.submit_log".into(), 1);
    config.server_operation_variables.insert(
        "v2.submit_log".into(),
        HashMap::from([
            ("protocol".into(), "http".into()),
            (
                "name".into(),
                format!("{authority}/http-intake.logs.datadoghq.com"),
            ),
        ]),
    );
    config.set_auth_key(
        "apiKeyAuth",
        APIKey {
            key: key.to_owned(),
            prefix: String::new(),
        },
    );
    config.set_retry(false, 0);
    config
}

/// Requests of the official client, at most `n` at once, as a caller would run them.
pub struct InFlight {
    slots: Arc<tokio::sync::Semaphore>,
    tasks: tokio::task::JoinSet<()>,
}

impl InFlight {
    pub fn new(n: usize) -> InFlight {
        InFlight {
            slots: Arc::new(tokio::sync::Semaphore::new(n)),
            tasks: tokio::task::JoinSet::new(),
        }
    }

    /// Waits for a free slot, then starts `request`.
    pub async fn start(&mut self, request: impl std::future::Future<Output = ()> + Send + 'static) {
        let permit = Arc::clone(&self.slots).acquire_owned().await.unwrap();
        self.tasks.spawn(async move {
            request.await;
            drop(permit);
        });
    }

    /// Waits for every request started.
    pub async fn finish(mut self) {
        while let Some(done) = self.tasks.join_next().await {
            done.unwrap();
        }
    }
}

/// Each series' tags and host, built once: what a caller of the official client that keeps its
/// series' identities would hold.
static IDENTITIES: LazyLock<Vec<(Vec<String>, String)>> =
    LazyLock::new(|| (0..SERIES).map(|i| (series_tags(i), host(i))).collect());

/// Builds the series' identities now, before a clock starts: a tuned caller holds them.
pub fn build_identities() {
    LazyLock::force(&IDENTITIES);
}

/// Series `i` (below `SERIES`) of the benchmark with `points`, as a caller of the official
/// client builds it.
pub fn official_series(i: usize, points: Vec<MetricPoint>) -> MetricSeries {
    let (tags, host) = &IDENTITIES[i];
    MetricSeries::new("acme.queue.depth".to_owned(), points)
        .type_(MetricIntakeType::GAUGE)
        .unit("item".to_owned())
        .tags(tags.clone())
        .resources(vec![
            MetricResource::new()
                .name(host.clone())
                .type_("host".to_owned()),
        ])
}

/// `chunk`'s points grouped by series, as a caller of the official client groups them.
pub fn grouped_series(chunk: &[(u32, i64, f64)]) -> Vec<MetricSeries> {
    let mut by_series: HashMap<u32, Vec<MetricPoint>> = HashMap::new();
    for &(s, ts, v) in chunk {
        by_series
            .entry(s)
            .or_default()
            .push(MetricPoint::new().timestamp(ts).value(v));
    }
    by_series
        .into_iter()
        .map(|(s, points)| official_series(s as usize, points))
        .collect()
}

/// A log line as a caller of the official client builds it.
pub fn official_log((message, host): &(String, String)) -> HTTPLogItem {
    HTTPLogItem::new(message.clone())
        .ddsource("acme-bench".to_owned())
        .ddtags("env:bench".to_owned())
        .hostname(host.clone())
        .service("pager".to_owned())
}

/// One `submit_metrics` call with zstd1, as the official client's docs show.
pub async fn submit(api: &MetricsAPI, series: Vec<MetricSeries>) {
    api.submit_metrics(
        MetricPayload::new(series),
        SubmitMetricsOptionalParams::default().content_encoding(MetricContentEncoding::ZSTD1),
    )
    .await
    .unwrap();
}

/// One `submit_log` call with gzip.
pub async fn submit_logs(api: &LogsAPI, items: Vec<HTTPLogItem>) {
    api.submit_log(
        items,
        SubmitLogOptionalParams::default().content_encoding(ContentEncoding::GZIP),
    )
    .await
    .unwrap();
}

/// The SDK as an integration sends `data`: one `send` per point, or (`grouped`) one `send` of
/// each series' points per 50,000 points, as the tuned official client is given them.
pub async fn sdk_send(
    intake: &Intake<AcmeBench>,
    series: &[Series<AcmeBench>],
    data: &[(u32, i64, f64)],
    grouped: bool,
) {
    if grouped {
        for chunk in data.chunks(OFFICIAL_POINTS_PER_REQUEST) {
            let mut by_series: HashMap<u32, Vec<(i64, f64)>> = HashMap::new();
            for &(s, ts, v) in chunk {
                by_series.entry(s).or_default().push((ts, v));
            }
            for (s, points) in by_series {
                intake
                    .send(series[s as usize].points(points))
                    .await
                    .unwrap();
            }
        }
    } else {
        for &(s, ts, v) in data {
            intake.send(series[s as usize].point(ts, v)).await.unwrap();
        }
    }
}

/// The SDK as an integration sends log lines: one `send` per line.
pub async fn sdk_send_logs(intake: &Intake<AcmeBench>, lines: &[(String, String)]) {
    for (message, host) in lines {
        intake
            .send(
                dd_integration::telemetry::Log::new(message.as_str())
                    .service("pager")
                    .hostname(host.as_str())
                    .tag("env:bench"),
            )
            .await
            .unwrap();
    }
}
