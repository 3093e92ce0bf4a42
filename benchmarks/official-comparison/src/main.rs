//! The same metric points, then the same log lines, sent to the Datadog sandbox's intake through
//! dd-integration and through Datadog's official Rust client (`datadog-api-client`), in one run.
//!
//! `cargo run --release -- [points] [log lines]` (defaults 2,000,000 and 500,000).
//!
//! The official client is run several ways, since it does not batch by itself: as Datadog's
//! examples use it (one request per point or line, awaited; on the first 20,000 items only, it
//! is slow), with the caller batching 1,000 items a request or 50,000 points grouped by series
//! (awaited one after the other), and tuned (50,000 points or 1,000 lines a request, 4
//! requests in flight). Then 1,000 orgs (`BENCH_ORGS`), each with its own API key and 200
//! points: the SDK with an intake per org (`send` per point, or of each series' points), the
//! official client with a client per org and one request per org, the orgs one after the other
//! or 64 at once.
//!
//! The whole sequence runs twice (`BENCH_ROUNDS`) and only the last round is printed: the first
//! warms the allocator and the connection pools.
//!
//! Diagnostics: `BENCH_SDK_ONLY=1` runs the SDK alone (for profiling), `BENCH_QUEUE_MB` and
//! `BENCH_IN_FLIGHT` change the SDK's queue and in-flight settings (defaults otherwise),
//! `BENCH_THREADS=1` lists the threads measured.
//!
//! The sandbox (a fake Datadog on loopback, which decodes and validates every payload, then
//! keeps only its tally: `keep_payloads(false)`) runs on
//! its own Tokio runtime; each client on another. CPU seconds are read per thread from
//! `/proc/self/task/<tid>/stat`, so a client's figure excludes the sandbox's work. Bytes on the
//! wire are the request bodies the sandbox received, as sent (compressed).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datadog_api_client::datadog::Configuration;
use datadog_api_client::datadogV2::api_logs::LogsAPI;
use datadog_api_client::datadogV2::api_metrics::MetricsAPI;
use datadog_api_client::datadogV2::model::{HTTPLogItem, MetricPayload, MetricPoint, MetricSeries};
use dd_integration::secret::ApiKey;
use dd_integration::telemetry::{Series, Telemetry};
use dd_integration::testkit::{OrgSpec, Route, Sandbox};
use dd_integration::{Domain, InstallationId};
use tokio::runtime::Runtime;

use official_comparison::{
    AcmeBench, IN_FLIGHT, InFlight, OFFICIAL_LINES_PER_REQUEST, OFFICIAL_POINTS_PER_REQUEST,
    SERIES, all_series, grouped_series, log_line, now, official_config, official_log,
    official_series, sdk_send, sdk_send_logs, submit, submit_logs,
};

/// Items sent one request each through the official client (a subset: it is slow).
const ONE_BY_ONE: usize = 20_000;

// ---------------------------------------------------------------------------------------------
// CPU time per thread group

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Group {
    Sandbox,
    Client,
}

static THREADS: Mutex<Vec<(Group, i32)>> = Mutex::new(Vec::new());

fn runtime(group: Group, name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .thread_keep_alive(Duration::from_secs(3600))
        .on_thread_start(move || {
            THREADS.lock().unwrap().push((group, thread_id()));
        })
        .enable_all()
        .build()
        .unwrap()
}

/// The calling thread's kernel id, from `/proc/thread-self` (no `unsafe` needed).
fn thread_id() -> i32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system) the group's threads have used so far.
fn cpu(group: Group) -> f64 {
    let threads = THREADS.lock().unwrap().clone();
    threads
        .into_iter()
        .filter(|&(g, _)| g == group)
        .map(|(_, tid)| stat_cpu(&format!("/proc/self/task/{tid}/stat")))
        .sum()
}

/// CPU seconds the calling thread has used so far.
fn thread_cpu() -> f64 {
    stat_cpu("/proc/thread-self/stat")
}

/// User + system CPU seconds from a thread's `stat` file (0 if it is gone).
fn stat_cpu(path: &str) -> f64 {
    let ticks = 100.0; // sysconf(_SC_CLK_TCK) on Linux
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces): utime and stime are the
    // 12th and 13th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    (fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()) as f64 / ticks
}

// ---------------------------------------------------------------------------------------------
// The data

struct Points {
    /// (series, timestamp, value), in the order they are produced.
    points: Vec<(u32, i64, f64)>,
}

fn points(n: usize) -> Points {
    Points {
        points: official_comparison::points(n),
    }
}

/// Per org: (series, its points).
type OrgPoints = Vec<Vec<(usize, Vec<(i64, f64)>)>>;

/// Orgs of the many-orgs runs, each with `SERIES_PER_ORG` series of `POINTS_PER_SERIES` points.
const ORGS: usize = 1000;
const SERIES_PER_ORG: usize = 10;
const POINTS_PER_SERIES: usize = 20;

fn org_points(orgs: usize) -> OrgPoints {
    let t = now();
    (0..orgs)
        .map(|o| {
            (0..SERIES_PER_ORG)
                .map(|j| {
                    let s = (o * SERIES_PER_ORG + j) % SERIES;
                    let points = (0..POINTS_PER_SERIES)
                        .map(|p| {
                            let v = ((o * 31 + j * 7 + p * 13) % 10_000) as f64 / 100.0;
                            (t - 2400 + 10 * p as i64, v)
                        })
                        .collect();
                    (s, points)
                })
                .collect()
        })
        .collect()
}

fn org_items(data: &OrgPoints) -> usize {
    data.iter()
        .flat_map(|org| org.iter().map(|(_, points)| points.len()))
        .sum()
}

/// One org's series, for the official client.
fn org_series(org: &[(usize, Vec<(i64, f64)>)]) -> Vec<MetricSeries> {
    org.iter()
        .map(|(s, points)| {
            let points = points
                .iter()
                .map(|&(ts, v)| MetricPoint::new().timestamp(ts).value(v))
                .collect();
            official_series(*s, points)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Results

struct Run {
    label: String,
    items: usize,
    wall: Duration,
    client_cpu: f64,
    sandbox_cpu: f64,
    wire: usize,
    requests: usize,
}

impl Run {
    fn rate(&self) -> f64 {
        self.items as f64 / self.wall.as_secs_f64()
    }

    fn row(&self) -> String {
        format!(
            "| {} | {} | {:.2} | {:.0} | {:.2} | {:.3} | {:.2} | {} | {:.2} | {} |",
            self.label,
            self.items,
            self.wall.as_secs_f64(),
            self.rate(),
            self.client_cpu,
            self.client_cpu * 1e6 / self.items as f64,
            self.sandbox_cpu,
            self.wire,
            self.wire as f64 / self.items as f64,
            self.requests,
        )
    }
}

/// The two runtimes. Each run gets a fresh sandbox, dropped after it. The sandbox decodes and
/// validates every payload but keeps only its tally (`keep_payloads(false)`): holding millions
/// of decoded points would grow the heap and slow the later runs.
struct Bench {
    client: Runtime,
    sandbox_rt: Runtime,
}

impl Bench {
    /// Runs `work` on the client runtime; wall time and CPU seconds of both groups.
    fn measure<F>(&self, work: F) -> (Duration, f64, f64)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (c0, s0) = (cpu(Group::Client), cpu(Group::Sandbox));
        let started = Instant::now();
        self.client.block_on(self.client.spawn(work)).unwrap();
        let wall = started.elapsed();
        (wall, cpu(Group::Client) - c0, cpu(Group::Sandbox) - s0)
    }

    /// A fresh sandbox.
    fn sandbox(&self) -> Sandbox {
        self.sandbox_rt
            .block_on(Sandbox::builder().keep_payloads(false).start())
    }

    /// Stops a sandbox and frees what it received.
    fn finish(&self, sandbox: Sandbox) {
        self.sandbox_rt.block_on(sandbox.shutdown());
    }

    /// A new org and its marketplace key.
    fn org(&self, sandbox: &Sandbox, name: &str) -> (String, String) {
        let org = sandbox.add_org(OrgSpec::new(name, Domain::Us1));
        let key = sandbox.issue_api_key(&org.id, "bench");
        (org.id, key)
    }

    /// The SDK's telemetry for `sandbox`: default settings unless `BENCH_*` say otherwise.
    fn telemetry(&self, sandbox: &Sandbox) -> Telemetry {
        let mut settings = dd_integration::telemetry::TelemetrySettings::default();
        if let Some(mb) = env_number("BENCH_QUEUE_MB") {
            settings = settings.queue_bytes(mb << 20);
        }
        if let Some(n) = env_number("BENCH_IN_FLIGHT") {
            settings = settings.max_in_flight(n);
        }
        let _guard = self.client.enter();
        Telemetry::builder()
            .endpoints(sandbox.endpoints())
            .settings(settings)
            .build()
            .unwrap()
    }

    fn run(
        &self,
        sandbox: &Sandbox,
        label: String,
        items: usize,
        org: &str,
        logs: bool,
        m: (Duration, f64, f64),
    ) -> Run {
        self.run_orgs(sandbox, label, items, &[org.to_owned()], logs, m)
    }

    /// What the sandbox received from `orgs` together, checked complete.
    fn run_orgs(
        &self,
        sandbox: &Sandbox,
        label: String,
        items: usize,
        orgs: &[String],
        logs: bool,
        m: (Duration, f64, f64),
    ) -> Run {
        let route = if logs { Route::Logs } else { Route::Series };
        let (mut wire, mut requests, mut got, mut dropped) = (0, 0, 0, 0);
        for org in orgs {
            let tally = sandbox.intake_tally(route, org);
            wire += tally.wire_bytes;
            requests += tally.payloads;
            got += tally.items;
            dropped += tally.dropped_points;
        }
        assert_eq!(got, items, "{label}: every item arrived");
        assert_eq!(dropped, 0, "{label}: no point dropped");
        let run = Run {
            label,
            items,
            wall: m.0,
            client_cpu: m.1,
            sandbox_cpu: m.2,
            wire,
            requests,
        };
        eprintln!("{}", run.row());
        run
    }

    fn official_config(&self, sandbox: &Sandbox, key: &str) -> Configuration {
        official_config(&authority(sandbox), key)
    }

    // -- metrics

    /// The SDK: one `send` per point as the application produces it (or, `grouped`, one `send`
    /// of each series' points per 50,000 points, as the tuned official client is given them),
    /// then `flush`.
    fn sdk_metrics(&self, data: &Arc<Points>, grouped: bool) -> Run {
        let sandbox = self.sandbox();
        let telemetry = self.telemetry(&sandbox);
        let (org, key) = self.org(&sandbox, "SDK metrics");
        let intake = {
            let _guard = self.client.enter();
            telemetry
                .intake::<AcmeBench>(
                    InstallationId::from_stored(format!("inst_sdk_metrics_{grouped}")),
                    Domain::Us1,
                    ApiKey::new(key),
                )
                .unwrap()
        };
        let series: Arc<Vec<Series<AcmeBench>>> = Arc::new(all_series());
        let data2 = Arc::clone(data);
        let m = self.measure(async move {
            sdk_send(&intake, &series, &data2.points, grouped).await;
            intake.flush().await.unwrap();
        });
        let how = sdk_use(grouped, " per 50000 points");
        let run = self.run(
            &sandbox,
            format!("metrics, dd-integration: {how} (zstd1)"),
            data.points.len(),
            &org,
            false,
            m,
        );
        self.client.block_on(telemetry.shutdown()).unwrap();
        self.finish(sandbox);
        run
    }

    /// Many orgs, as a multi-tenant integration sends: each org with its own API key and its
    /// own points, every org's queue delivering at once; the SDK with one `send` per point, or
    /// (`grouped`) one `send` of each series' points per org, as the official runs group them.
    fn sdk_orgs(&self, data: &Arc<OrgPoints>, grouped: bool) -> Run {
        let sandbox = self.sandbox();
        let telemetry = self.telemetry(&sandbox);
        let mut orgs = Vec::new();
        let mut intakes = Vec::new();
        for o in 0..data.len() {
            let (org, key) = self.org(&sandbox, &format!("SDK org {o}"));
            let _guard = self.client.enter();
            intakes.push(
                telemetry
                    .intake::<AcmeBench>(
                        InstallationId::from_stored(format!("inst_sdk_org_{o}_{grouped}")),
                        Domain::Us1,
                        ApiKey::new(key),
                    )
                    .unwrap(),
            );
            orgs.push(org);
        }
        let series: Arc<Vec<Series<AcmeBench>>> = Arc::new(all_series());
        let data2 = Arc::clone(data);
        let telemetry2 = telemetry.clone();
        let m = self.measure(async move {
            for (intake, org) in intakes.iter().zip(data2.iter()) {
                for (s, points) in org {
                    if grouped {
                        let all = series[*s].points(points.iter().copied());
                        intake.send(all).await.unwrap();
                    } else {
                        for &(ts, v) in points {
                            intake.send(series[*s].point(ts, v)).await.unwrap();
                        }
                    }
                }
            }
            telemetry2.flush().await.unwrap();
        });
        let run = self.run_orgs(
            &sandbox,
            format!(
                "metrics, {} orgs, dd-integration: {} (zstd1)",
                data.len(),
                sdk_use(grouped, "")
            ),
            org_items(data),
            &orgs,
            false,
            m,
        );
        self.client.block_on(telemetry.shutdown()).unwrap();
        self.finish(sandbox);
        run
    }

    /// Many orgs through the official client: a client per org (its API key is in the
    /// configuration), one request per org with all its points grouped by series,
    /// `in_flight` orgs at a time.
    fn official_orgs(&self, data: &Arc<OrgPoints>, in_flight: usize) -> Run {
        let sandbox = self.sandbox();
        let mut orgs = Vec::new();
        let mut apis = Vec::new();
        for o in 0..data.len() {
            let (org, key) = self.org(&sandbox, &format!("Official org {o}"));
            let _guard = self.client.enter();
            apis.push(Arc::new(MetricsAPI::with_config(
                self.official_config(&sandbox, &key),
            )));
            orgs.push(org);
        }
        let data2 = Arc::clone(data);
        let m = self.measure(async move {
            let mut requests = InFlight::new(in_flight);
            for (api, org) in apis.into_iter().zip(data2.iter()) {
                let series = org_series(org);
                requests
                    .start(async move { submit(&api, series).await })
                    .await;
            }
            requests.finish().await;
        });
        let how = if in_flight == 1 {
            "orgs one after the other".to_owned()
        } else {
            format!("{in_flight} orgs at once")
        };
        let run = self.run_orgs(
            &sandbox,
            format!(
                "metrics, {} orgs, official client: a request per org, {how} (zstd1)",
                data.len()
            ),
            org_items(data),
            &orgs,
            false,
            m,
        );
        self.finish(sandbox);
        run
    }

    /// The official client: the application groups `per_request` points by series into a
    /// payload and submits it with zstd1, `in_flight` requests at a time.
    fn official_metrics(
        &self,
        data: &Arc<Points>,
        count: usize,
        per_request: usize,
        in_flight: usize,
    ) -> Run {
        let sandbox = self.sandbox();
        let (org, key) = self.org(&sandbox, "Official metrics");
        let api = {
            let _guard = self.client.enter();
            Arc::new(MetricsAPI::with_config(
                self.official_config(&sandbox, &key),
            ))
        };
        let data2 = Arc::clone(data);
        let m = self.measure(async move {
            let mut requests = InFlight::new(in_flight);
            for chunk in data2.points[..count].chunks(per_request) {
                let series = grouped_series(chunk);
                let api = Arc::clone(&api);
                requests
                    .start(async move { submit(&api, series).await })
                    .await;
            }
            requests.finish().await;
        });
        let how = if in_flight == 1 {
            "sequential".to_owned()
        } else {
            format!("{in_flight} in flight")
        };
        let run = self.run(
            &sandbox,
            format!("metrics, official client: {per_request} points per request, {how} (zstd1)"),
            count,
            &org,
            false,
            m,
        );
        self.finish(sandbox);
        run
    }

    // -- logs

    /// The SDK: one `send` per line, then `flush`.
    fn sdk_logs(&self, lines: &Arc<Vec<(String, String)>>) -> Run {
        let sandbox = self.sandbox();
        let telemetry = self.telemetry(&sandbox);
        let (org, key) = self.org(&sandbox, "SDK logs");
        let intake = {
            let _guard = self.client.enter();
            telemetry
                .intake::<AcmeBench>(
                    InstallationId::from_stored("inst_sdk_logs"),
                    Domain::Us1,
                    ApiKey::new(key),
                )
                .unwrap()
        };
        let lines2 = Arc::clone(lines);
        let m = self.measure(async move {
            sdk_send_logs(&intake, &lines2).await;
            intake.flush().await.unwrap();
        });
        let run = self.run(
            &sandbox,
            "logs, dd-integration: `send` per line (gzip)".into(),
            lines.len(),
            &org,
            true,
            m,
        );
        self.client.block_on(telemetry.shutdown()).unwrap();
        self.finish(sandbox);
        run
    }

    /// The official client: `per_request` lines a request, gzip, `in_flight` at a time.
    fn official_logs(
        &self,
        lines: &Arc<Vec<(String, String)>>,
        count: usize,
        per_request: usize,
        in_flight: usize,
    ) -> Run {
        let sandbox = self.sandbox();
        let (org, key) = self.org(&sandbox, "Official logs");
        let api = {
            let _guard = self.client.enter();
            Arc::new(LogsAPI::with_config(self.official_config(&sandbox, &key)))
        };
        let lines2 = Arc::clone(lines);
        let m = self.measure(async move {
            let mut requests = InFlight::new(in_flight);
            for chunk in lines2[..count].chunks(per_request) {
                let items: Vec<HTTPLogItem> = chunk.iter().map(official_log).collect();
                let api = Arc::clone(&api);
                requests
                    .start(async move {
                        submit_logs(&api, items).await;
                    })
                    .await;
            }
            requests.finish().await;
        });
        let how = if in_flight == 1 {
            "sequential".to_owned()
        } else {
            format!("{in_flight} in flight")
        };
        let run = self.run(
            &sandbox,
            format!("logs, official client: {per_request} lines per request, {how} (gzip)"),
            count,
            &org,
            true,
            m,
        );
        self.finish(sandbox);
        run
    }

    // -- no client work

    /// The bodies of `prepared` posted by a bare HTTP client, `in_flight` at a time: what a
    /// client that spent nothing building and compressing payloads would reach here. Returns
    /// the run and what building the bodies cost.
    fn replay(
        &self,
        sandbox: &Sandbox,
        prepared: Prepared,
        orgs: &[String],
        logs: bool,
        in_flight: usize,
    ) -> (Run, Floor) {
        let (host, path, encoding) = if logs {
            ("http-intake.logs.datadoghq.com", "/api/v2/logs", "gzip")
        } else {
            ("api.datadoghq.com", "/api/v2/series", "zstd1")
        };
        let url = format!("http://{}/{host}{path}", authority(sandbox));
        let client = {
            let _guard = self.client.enter();
            reqwest::Client::new()
        };
        let floor = Floor {
            what: prepared.what.clone(),
            json: prepared.per_item(prepared.json_cpu),
            compress: prepared.per_item(prepared.compress_cpu),
        };
        let Prepared {
            what,
            items,
            bodies,
            ..
        } = prepared;
        let m = self.measure(async move {
            let mut requests = InFlight::new(in_flight);
            for (key, body) in bodies {
                let request = client
                    .post(&url)
                    .header("DD-API-KEY", key)
                    .header("Content-Type", "application/json")
                    .header("Content-Encoding", encoding)
                    .body(body);
                requests
                    .start(async move {
                        let response = request.send().await.unwrap();
                        assert_eq!(response.status(), 202, "the sandbox accepts the body");
                        response.bytes().await.unwrap();
                    })
                    .await;
            }
            requests.finish().await;
        });
        let label = format!("{what}, compressed beforehand: {NO_CLIENT_WORK}, {in_flight} at once");
        (self.run_orgs(sandbox, label, items, orgs, logs, m), floor)
    }

    fn bare_metrics(&self, data: &Points) -> (Run, Floor) {
        let sandbox = self.sandbox();
        let (org, key) = self.org(&sandbox, "No client work");
        let prepared = prepared_metrics(data, &key);
        let done = self.replay(&sandbox, prepared, &[org], false, IN_FLIGHT);
        self.finish(sandbox);
        done
    }

    fn bare_orgs(&self, data: &OrgPoints, in_flight: usize) -> (Run, Floor) {
        let sandbox = self.sandbox();
        let (orgs, keys): (Vec<String>, Vec<String>) = (0..data.len())
            .map(|o| self.org(&sandbox, &format!("No client work {o}")))
            .unzip();
        let prepared = prepared_orgs(data, &keys);
        let done = self.replay(&sandbox, prepared, &orgs, false, in_flight);
        self.finish(sandbox);
        done
    }

    fn bare_logs(&self, lines: &[(String, String)]) -> (Run, Floor) {
        let sandbox = self.sandbox();
        let (org, key) = self.org(&sandbox, "No client work");
        let prepared = prepared_logs(lines, &key);
        let done = self.replay(&sandbox, prepared, &[org], true, IN_FLIGHT);
        self.finish(sandbox);
        done
    }
}

/// The sandbox's `host:port`.
fn authority(sandbox: &Sandbox) -> String {
    let base = sandbox.base_url();
    format!("{}:{}", base.host_str().unwrap(), base.port().unwrap())
}

/// In the label of the runs that post bodies built beforehand.
const NO_CLIENT_WORK: &str = "no client work";

/// What building the official client's bodies cost, per item, on one thread (µs).
struct Floor {
    what: String,
    json: f64,
    compress: f64,
}

// ---------------------------------------------------------------------------------------------
// No client work: the most any client could reach here

/// The official client's JSON formatter: floats written with `Display` (`3`, not `3.0`), as
/// its `DDFormatter` writes them, so that the bodies below are the bytes it sends.
struct OfficialFloats;

impl serde_json::ser::Formatter for OfficialFloats {
    fn write_f64<W>(&mut self, writer: &mut W, value: f64) -> std::io::Result<()>
    where
        W: ?Sized + std::io::Write,
    {
        write!(writer, "{value}")
    }
}

/// Request bodies built and compressed beforehand, as the official client builds and
/// compresses them, each with its org's API key; and the CPU seconds of each step, on one
/// thread: the least a client that sends these bytes must spend before any HTTP.
struct Prepared {
    what: String,
    items: usize,
    /// (API key, compressed body).
    bodies: Vec<(String, Vec<u8>)>,
    json_cpu: f64,
    compress_cpu: f64,
}

impl Prepared {
    /// Serialises `payloads` (each with its key), then compresses each as `encoding` says.
    fn new<T: serde::Serialize>(
        what: String,
        items: usize,
        payloads: Vec<(String, T)>,
        encoding: &str,
    ) -> Prepared {
        let c0 = thread_cpu();
        let json: Vec<(String, Vec<u8>)> = payloads
            .into_iter()
            .map(|(key, payload)| {
                let mut ser = serde_json::Serializer::with_formatter(Vec::new(), OfficialFloats);
                payload.serialize(&mut ser).unwrap();
                (key, ser.into_inner())
            })
            .collect();
        let c1 = thread_cpu();
        let bodies = json
            .into_iter()
            .map(|(key, raw)| (key, compress(encoding, &raw)))
            .collect();
        let c2 = thread_cpu();
        Prepared {
            what,
            items,
            bodies,
            json_cpu: c1 - c0,
            compress_cpu: c2 - c1,
        }
    }

    fn per_item(&self, seconds: f64) -> f64 {
        seconds * 1e6 / self.items as f64
    }
}

/// As the official client compresses: zstd at its default level as a stream, gzip at flate2's
/// default level.
fn compress(encoding: &str, raw: &[u8]) -> Vec<u8> {
    use std::io::Write;
    match encoding {
        "zstd1" => {
            let mut enc = zstd::stream::Encoder::new(Vec::new(), 0).unwrap();
            enc.write_all(raw).unwrap();
            enc.finish().unwrap()
        }
        "gzip" => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(raw).unwrap();
            enc.finish().unwrap()
        }
        other => panic!("no such encoding here: {other}"),
    }
}

/// The official client's 50,000-point payloads, grouped by series as its runs group them.
fn prepared_metrics(data: &Points, key: &str) -> Prepared {
    let payloads = data
        .points
        .chunks(OFFICIAL_POINTS_PER_REQUEST)
        .map(|chunk| (key.to_owned(), MetricPayload::new(grouped_series(chunk))))
        .collect();
    Prepared::new(
        format!("metrics: the official client's {OFFICIAL_POINTS_PER_REQUEST}-point payloads"),
        data.points.len(),
        payloads,
        "zstd1",
    )
}

/// One payload per org, with all its points, as the official many-orgs runs send them.
fn prepared_orgs(data: &OrgPoints, keys: &[String]) -> Prepared {
    let payloads = data
        .iter()
        .zip(keys)
        .map(|(org, key)| (key.clone(), MetricPayload::new(org_series(org))))
        .collect();
    Prepared::new(
        format!("metrics, {} orgs: a payload per org", data.len()),
        org_items(data),
        payloads,
        "zstd1",
    )
}

/// The official client's 1,000-line payloads.
fn prepared_logs(lines: &[(String, String)], key: &str) -> Prepared {
    let payloads = lines
        .chunks(OFFICIAL_LINES_PER_REQUEST)
        .map(|chunk| {
            let items: Vec<HTTPLogItem> = chunk.iter().map(official_log).collect();
            (key.to_owned(), items)
        })
        .collect();
    Prepared::new(
        format!("logs: the official client's {OFFICIAL_LINES_PER_REQUEST}-line payloads"),
        lines.len(),
        payloads,
        "gzip",
    )
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.replace('_', "").parse().expect("a number"))
        .collect();
    let n_points = args.first().copied().unwrap_or(2_000_000);
    let n_lines = args.get(1).copied().unwrap_or(500_000);
    // For profiling the SDK alone.
    let sdk_only = std::env::var_os("BENCH_SDK_ONLY").is_some();

    let bench = Bench {
        client: runtime(Group::Client, "client"),
        sandbox_rt: runtime(Group::Sandbox, "sandbox"),
    };
    let data = Arc::new(points(n_points));
    let lines: Arc<Vec<(String, String)>> = Arc::new((0..n_lines).map(log_line).collect());
    let one_by_one = ONE_BY_ONE.min(n_points).min(n_lines);

    // The first rounds warm the allocator and the connection pools. Only the last round is
    // reported (`BENCH_ROUNDS`, default 2).
    let rounds = env_number("BENCH_ROUNDS").unwrap_or(2).max(1);
    let by_org = Arc::new(org_points(env_number("BENCH_ORGS").unwrap_or(ORGS)));
    let (mut metrics, mut logs, mut many) = (Vec::new(), Vec::new(), Vec::new());
    let mut floors = Vec::new();
    for round in 1..=rounds {
        eprintln!("round {round} of {rounds}");
        metrics = vec![bench.sdk_metrics(&data, false)];
        if !sdk_only {
            metrics.push(bench.sdk_metrics(&data, true));
            metrics.push(bench.official_metrics(
                &data,
                n_points,
                OFFICIAL_POINTS_PER_REQUEST,
                IN_FLIGHT,
            ));
            metrics.push(bench.official_metrics(&data, n_points, OFFICIAL_POINTS_PER_REQUEST, 1));
            metrics.push(bench.official_metrics(&data, n_points, 1000, 1));
            metrics.push(bench.official_metrics(&data, one_by_one, 1, 1));
        }
        floors.clear();
        let mut bare = |(run, floor)| {
            floors.push(floor);
            run
        };
        if !sdk_only {
            metrics.push(bare(bench.bare_metrics(&data)));
        }
        many = vec![
            bench.sdk_orgs(&by_org, false),
            bench.sdk_orgs(&by_org, true),
        ];
        if !sdk_only {
            many.push(bench.official_orgs(&by_org, 1));
            many.push(bench.official_orgs(&by_org, 64));
            many.push(bare(bench.bare_orgs(&by_org, 64)));
        }
        logs = vec![bench.sdk_logs(&lines)];
        if !sdk_only {
            logs.push(bench.official_logs(&lines, n_lines, OFFICIAL_LINES_PER_REQUEST, IN_FLIGHT));
            logs.push(bench.official_logs(&lines, n_lines, OFFICIAL_LINES_PER_REQUEST, 1));
            logs.push(bench.official_logs(&lines, one_by_one, 1, 1));
            logs.push(bare(bench.bare_logs(&lines)));
        }
    }
    if std::env::var_os("BENCH_THREADS").is_some() {
        for (group, tid) in THREADS.lock().unwrap().iter() {
            let comm =
                std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).unwrap_or_default();
            eprintln!("{group:?} {tid} {}", comm.trim());
        }
    }

    println!(
        "| run | items | wall s | items/s | client CPU s | client CPU µs/item | sandbox CPU s | bytes on the wire | bytes/item | requests |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in metrics.iter().chain(&many).chain(&logs) {
        println!("{}", r.row());
    }
    println!();
    for group in [&metrics, &many, &logs] {
        let (bare, clients): (Vec<&Run>, Vec<&Run>) =
            group.iter().partition(|r| r.label.contains(NO_CLIENT_WORK));
        let (sdks, officials): (Vec<&Run>, Vec<&Run>) = clients
            .into_iter()
            .partition(|r| r.label.contains("dd-integration"));
        for (ceiling, official) in bare
            .iter()
            .flat_map(|b| officials.iter().map(move |o| (*b, *o)))
        {
            println!(
                "- {} vs {}: x{:.2}, the most any client could have over it here",
                ceiling.label,
                official.label,
                ceiling.rate() / official.rate(),
            );
        }
        for (sdk, official) in sdks
            .iter()
            .flat_map(|s| officials.iter().map(move |o| (*s, *o)))
        {
            println!(
                "- {} vs {}: throughput x{:.2}; client CPU per item x{:.2} less; bytes per item {:.3} of the official client's",
                sdk.label,
                official.label,
                sdk.rate() / official.rate(),
                (official.client_cpu / official.items as f64) / (sdk.client_cpu / sdk.items as f64),
                (sdk.wire as f64 / sdk.items as f64)
                    / (official.wire as f64 / official.items as f64),
            );
        }
    }
    print_floors(&floors);
}

/// Prints what building the official client's bodies cost, and what that bounds.
fn print_floors(floors: &[Floor]) {
    println!();
    for f in floors {
        println!(
            "- {}: JSON {:.3} µs/item, compression {:.3} µs/item, on one thread",
            f.what, f.json, f.compress
        );
    }
}

/// How an SDK run sends, for its label: a point per `send`, or each series' points together
/// (`per` says over how many points).
fn sdk_use(grouped: bool, per: &str) -> String {
    if grouped {
        format!("`send` of each series' points{per}")
    } else {
        "`send` per point".to_owned()
    }
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok()
}
