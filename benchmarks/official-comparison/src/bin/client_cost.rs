//! The client's own cost, with the receiver out of the way: the same metric points and log
//! lines sent by dd-integration, by Datadog's official Rust client tuned by hand, and by a
//! floor (a minimal serializer writing the SDK's exact JSON, the same compression with one
//! reused context, a bare HTTP/1.1 POST), each to a sink that discards every body.
//!
//! `cargo run --release --bin client_cost -- [points] [log lines]` (defaults 2,000,000 and
//! 500,000; `BENCH_ROUNDS`, default 3, runs of each, interleaved; the median is reported).
//!
//! - The sink is a process of its own pinned to core 1: it reads each request, discards the
//!   body, counts its bytes, and answers 202 as Datadog does.
//! - Each client run is a process of its own pinned to core 0 (`sched_setaffinity`), its Tokio
//!   runtime the default one (one worker on one core). Its data is built before the clock
//!   starts; from then to the last answer it reports its CPU (`getrusage`, user and system, all
//!   its threads), its wall time, and its peak memory growth (the peak resident set, reset by
//!   `/proc/self/clear_refs` when the clock starts, less the resident set then). Each run
//!   also prints its minor page faults while measured, on stderr.
//! - `BENCH_ONLY=<prefix>` runs only the clients whose name starts with it (`metrics`,
//!   `metrics-sdk`, `logs`, ...).
//! - Bytes on the wire and requests are what the sink received.
//!
//! Correctness is checked apart, against the Datadog sandbox, by the `official-comparison`
//! binary (every point and line decoded, validated and counted).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use datadog_api_client::datadogV2::api_logs::LogsAPI;
use datadog_api_client::datadogV2::api_metrics::MetricsAPI;
use datadog_api_client::datadogV2::model::HTTPLogItem;
use dd_integration::endpoint::Endpoints;
use dd_integration::secret::ApiKey;
use dd_integration::telemetry::{Intake, Series, SeriesCompression, Telemetry, TelemetrySettings};
use dd_integration::{Domain, InstallationId};
use official_comparison::{
    AcmeBench, IN_FLIGHT, InFlight, OFFICIAL_LINES_PER_REQUEST, OFFICIAL_POINTS_PER_REQUEST,
    SERIES, all_series, build_identities, grouped_series, host, log_line, official_config,
    official_log, points, sdk_send, sdk_send_logs, series_tags, submit, submit_logs,
};

/// The floor's metric payloads, rendered: about what the SDK fills at zstd's ratio here.
const FLOOR_PAYLOAD: usize = 2_000_000;
const KEY: &str = "0123456789abcdef0123456789abcdef";

// ---------------------------------------------------------------------------------------------
// Processes, cores, CPU and memory

fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the call reads it and changes only this
    // thread's affinity, which the threads it starts later inherit.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let rc = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(rc, 0, "sched_setaffinity to core {cpu}");
    }
}

/// The whole process's resource use so far, every thread.
fn usage() -> libc::rusage {
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

/// User and system CPU seconds of the whole process, every thread.
fn cpu_seconds() -> f64 {
    let usage = usage();
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Minor page faults of the whole process so far (memory touched for the first time).
fn minor_faults() -> i64 {
    usage().ru_minflt
}

/// A field of /proc/self/status in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// What a client process measured.
struct Measured {
    items: usize,
    wall: f64,
    cpu: f64,
    growth_kib: u64,
}

/// Runs `work` with the clock, CPU and peak memory measured from its start.
fn measure(items: usize, work: impl FnOnce()) -> Measured {
    // Resets the peak resident set to the current one (Linux 4.0 and later).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let rss0 = status_kib("VmRSS:");
    let c0 = cpu_seconds();
    let f0 = minor_faults();
    let t0 = Instant::now();
    work();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c0;
    eprintln!("  page faults while measured: {}", minor_faults() - f0);
    let growth_kib = status_kib("VmHWM:").saturating_sub(rss0);
    Measured {
        items,
        wall,
        cpu,
        growth_kib,
    }
}

// ---------------------------------------------------------------------------------------------
// The sink

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    bytes: AtomicU64,
}

fn sink() {
    pin(1);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().unwrap();
    let tally = Arc::new(Tally::default());
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let tally = Arc::clone(&tally);
        std::thread::spawn(move || {
            let _ = serve(stream, &tally);
        });
    }
}

/// Reads requests on one connection, discarding their bodies, until it closes.
fn serve(stream: TcpStream, tally: &Tally) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::with_capacity(256 << 10, stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    let mut discard = vec![0u8; 256 << 10];
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line.split(' ').nth(1).unwrap_or("").to_owned();
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            }
        }
        let mut body = 0u64;
        let mut skip = |reader: &mut BufReader<TcpStream>, mut n: usize| -> std::io::Result<()> {
            while n > 0 {
                let k = n.min(discard.len());
                reader.read_exact(&mut discard[..k])?;
                n -= k;
            }
            Ok(())
        };
        if chunked {
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                skip(&mut reader, size + 2)?;
                body += size as u64;
                if size == 0 {
                    break;
                }
            }
        } else {
            skip(&mut reader, length)?;
            body = length as u64;
        }
        let reply = match target.as_str() {
            "/stats" => format!(
                "{} {}",
                tally.requests.swap(0, Ordering::SeqCst),
                tally.bytes.swap(0, Ordering::SeqCst)
            ),
            t if t.contains("/api/v2/series") => {
                tally.requests.fetch_add(1, Ordering::Relaxed);
                tally.bytes.fetch_add(body, Ordering::Relaxed);
                "{\"errors\":[]}".to_owned()
            }
            _ => {
                tally.requests.fetch_add(1, Ordering::Relaxed);
                tally.bytes.fetch_add(body, Ordering::Relaxed);
                "{}".to_owned()
            }
        };
        write!(
            writer,
            "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
            reply.len(),
            reply
        )?;
        writer.flush()?;
        if target == "/stats" {
            return Ok(());
        }
    }
}

/// The sink's counts since the last call: (requests, body bytes).
fn sink_stats(port: u16) -> (u64, u64) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /stats HTTP/1.1\r\nhost: sink\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    let mut it = body.split(' ').map(|n| n.parse::<u64>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

// ---------------------------------------------------------------------------------------------
// The clients

fn runtime() -> tokio::runtime::Runtime {
    // The default multi-threaded runtime: pinned to one core, it has one worker.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn sdk_telemetry(port: u16) -> Telemetry {
    let mut settings = TelemetrySettings::default();
    // For choosing the default: `BENCH_ZSTD_LEVEL` sets the metric payloads' zstd level.
    if let Some(level) = std::env::var("BENCH_ZSTD_LEVEL")
        .ok()
        .and_then(|l| l.parse().ok())
    {
        settings = settings.series_compression(SeriesCompression::Zstd(level));
    }
    Telemetry::builder()
        .endpoints(Endpoints::override_base(&format!("http://127.0.0.1:{port}")).unwrap())
        .settings(settings)
        .build()
        .unwrap()
}

/// The benchmark's installation, its worker on `rt`.
fn sdk_intake(rt: &tokio::runtime::Runtime, telemetry: &Telemetry) -> Intake<AcmeBench> {
    rt.block_on(async {
        telemetry
            .intake::<AcmeBench>(
                InstallationId::from_stored("inst_bench"),
                Domain::Us1,
                ApiKey::new(KEY),
            )
            .unwrap()
    })
}

fn sdk_metrics(port: u16, n: usize, grouped: bool) -> Measured {
    let rt = runtime();
    let data = points(n);
    let telemetry = sdk_telemetry(port);
    let series: Vec<Series<AcmeBench>> = all_series();
    let intake = sdk_intake(&rt, &telemetry);
    let m = measure(n, || {
        rt.block_on(async {
            sdk_send(&intake, &series, &data, grouped).await;
            telemetry.shutdown().await.unwrap();
        });
    });
    assert_eq!(
        intake.stats().delivered.points,
        n as u64,
        "every point delivered"
    );
    m
}

fn sdk_logs(port: u16, n: usize) -> Measured {
    let rt = runtime();
    let lines: Vec<(String, String)> = (0..n).map(log_line).collect();
    let telemetry = sdk_telemetry(port);
    let intake = sdk_intake(&rt, &telemetry);
    let m = measure(n, || {
        rt.block_on(async {
            sdk_send_logs(&intake, &lines).await;
            telemetry.shutdown().await.unwrap();
        });
    });
    assert_eq!(
        intake.stats().delivered.logs,
        n as u64,
        "every line delivered"
    );
    m
}

fn official_metrics(port: u16, n: usize) -> Measured {
    let rt = runtime();
    let data = points(n);
    let api = rt.block_on(async {
        Arc::new(MetricsAPI::with_config(official_config(
            &format!("127.0.0.1:{port}"),
            KEY,
        )))
    });
    build_identities();
    measure(n, || {
        rt.block_on(async {
            let mut requests = InFlight::new(IN_FLIGHT);
            for chunk in data.chunks(OFFICIAL_POINTS_PER_REQUEST) {
                let series = grouped_series(chunk);
                let api = Arc::clone(&api);
                requests
                    .start(async move {
                        submit(&api, series).await;
                    })
                    .await;
            }
            requests.finish().await;
        });
    })
}

fn official_logs(port: u16, n: usize) -> Measured {
    let rt = runtime();
    let lines: Vec<(String, String)> = (0..n).map(log_line).collect();
    let api = rt.block_on(async {
        Arc::new(LogsAPI::with_config(official_config(
            &format!("127.0.0.1:{port}"),
            KEY,
        )))
    });
    measure(n, || {
        rt.block_on(async {
            let mut requests = InFlight::new(IN_FLIGHT);
            for chunk in lines.chunks(OFFICIAL_LINES_PER_REQUEST) {
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
    })
}

// -- the floor

/// A bare HTTP/1.1 client on one kept-alive connection.
struct Bare {
    stream: BufReader<TcpStream>,
    head: Vec<u8>,
}

impl Bare {
    fn connect(port: u16) -> Bare {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_nodelay(true).unwrap();
        Bare {
            stream: BufReader::new(stream),
            head: Vec::with_capacity(256),
        }
    }

    /// POSTs `body` and reads the answer.
    fn post(&mut self, path: &str, encoding: &str, body: &[u8]) {
        self.head.clear();
        write!(
            self.head,
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ndd-api-key: {KEY}\r\ncontent-type: application/json\r\ncontent-encoding: {encoding}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        let s = self.stream.get_mut();
        s.write_all(&self.head).unwrap();
        s.write_all(body).unwrap();
        let mut line = String::new();
        let mut length = 0;
        self.stream.read_line(&mut line).unwrap();
        assert!(line.contains(" 202 "), "{line}");
        loop {
            line.clear();
            self.stream.read_line(&mut line).unwrap();
            let h = line.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut rest = vec![0; length];
        self.stream.read_exact(&mut rest).unwrap();
    }
}

/// The SDK's point: `{"timestamp":T,"value":V}`, whole values as integers, its numbers written
/// in place as the SDK writes them.
fn render_point(out: &mut Vec<u8>, t: i64, v: f64) {
    out.reserve(72);
    out.extend_from_slice(b"{\"timestamp\":");
    put_i64(out, t);
    out.extend_from_slice(b",\"value\":");
    // A whole value's test as the SDK's: a round trip through `i64`, no call to libm's `trunc`.
    let whole = v as i64;
    if v.abs() < 1e15 && whole as f64 == v {
        put_i64(out, whole);
    } else {
        for &b in ryu::Buffer::new().format_finite(v).as_bytes() {
            out.push(b);
        }
    }
    out.push(b'}');
}

fn put_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    let mut n = n.unsigned_abs();
    let len = if n == 0 { 1 } else { n.ilog10() as usize + 1 };
    let start = out.len();
    out.resize(start + len, b'0');
    for d in out[start..].iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// A JSON string, escaped as the SDK escapes it (eight bytes looked at a time; the bytes
/// needing no escape copied as they are). The benchmark's lines need no escape beyond `"`.
fn json_str(out: &mut Vec<u8>, s: &str) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    out.push(b'"');
    let bytes = s.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let w = u64::from_le_bytes(word.try_into().unwrap());
            let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
            if zero(w ^ (ONES * 0x22)) | zero(w ^ (ONES * 0x5c)) | below_space == 0 {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        if b == b'"' || b == b'\\' || b < 0x20 {
            out.extend_from_slice(&bytes[start..i]);
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                _ => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            }
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn floor_metrics(port: u16, n: usize, level: i32) -> Measured {
    let data = points(n);
    // The SDK's series header, around the points.
    let headers: Vec<(Vec<u8>, Vec<u8>)> = (0..SERIES)
        .map(|i| {
            let mut suffix = b"],\"resources\":[{\"name\":".to_vec();
            json_str(&mut suffix, &host(i));
            suffix.extend_from_slice(b",\"type\":\"host\"}],\"tags\":[");
            for (k, tag) in series_tags(i).iter().enumerate() {
                if k > 0 {
                    suffix.push(b',');
                }
                json_str(&mut suffix, tag);
            }
            suffix.extend_from_slice(b"],\"type\":3,\"unit\":\"item\"}");
            (
                b"{\"metric\":\"acme.queue.depth\",\"points\":[".to_vec(),
                suffix,
            )
        })
        .collect();
    let mut bare = Bare::connect(port);
    let mut compressor = zstd::bulk::Compressor::new(level).unwrap();
    measure(n, || {
        let mut per_series: Vec<Vec<u8>> = vec![Vec::new(); SERIES];
        let mut touched: Vec<usize> = Vec::new();
        let (mut raw, mut payload, mut wire) = (0usize, Vec::new(), Vec::new());
        let mut send = |per_series: &mut Vec<Vec<u8>>, touched: &mut Vec<usize>| {
            payload.clear();
            payload.extend_from_slice(b"{\"series\":[");
            for (k, &s) in touched.iter().enumerate() {
                if k > 0 {
                    payload.push(b',');
                }
                payload.extend_from_slice(&headers[s].0);
                payload.extend_from_slice(&per_series[s]);
                payload.extend_from_slice(&headers[s].1);
                per_series[s].clear();
            }
            payload.extend_from_slice(b"]}");
            touched.clear();
            wire.clear();
            wire.reserve(zstd::zstd_safe::compress_bound(payload.len()));
            compressor.compress_to_buffer(&payload, &mut wire).unwrap();
            bare.post("/api.datadoghq.com/api/v2/series", "zstd1", &wire);
        };
        for &(s, t, v) in &data {
            let buf = &mut per_series[s as usize];
            let before = buf.len();
            if buf.is_empty() {
                touched.push(s as usize);
            } else {
                buf.push(b',');
            }
            render_point(buf, t, v);
            raw += buf.len() - before;
            if raw >= FLOOR_PAYLOAD {
                send(&mut per_series, &mut touched);
                raw = 0;
            }
        }
        if !touched.is_empty() {
            send(&mut per_series, &mut touched);
        }
    })
}

fn floor_logs(port: u16, n: usize) -> Measured {
    let lines: Vec<(String, String)> = (0..n).map(log_line).collect();
    let mut bare = Bare::connect(port);
    let mut deflate = flate2::Compress::new_gzip(flate2::Compression::new(6), 15);
    measure(n, || {
        let (mut payload, mut wire) = (Vec::new(), Vec::new());
        for chunk in lines.chunks(OFFICIAL_LINES_PER_REQUEST) {
            payload.clear();
            payload.push(b'[');
            for (k, (message, host)) in chunk.iter().enumerate() {
                if k > 0 {
                    payload.push(b',');
                }
                payload.extend_from_slice(
                    b"{\"ddsource\":\"acme-bench\",\"ddtags\":\"env:bench\",\"hostname\":",
                );
                json_str(&mut payload, host);
                payload.extend_from_slice(b",\"message\":");
                json_str(&mut payload, message);
                payload.extend_from_slice(b",\"service\":\"pager\"}");
            }
            payload.push(b']');
            deflate.reset();
            wire.clear();
            wire.reserve(payload.len() + 1024);
            let status = deflate
                .compress_vec(&payload, &mut wire, flate2::FlushCompress::Finish)
                .unwrap();
            assert_eq!(status, flate2::Status::StreamEnd);
            bare.post("/http-intake.logs.datadoghq.com/api/v2/logs", "gzip", &wire);
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The runs

const RUNS: [(&str, &str); 8] = [
    (
        "metrics-floor-3",
        "metrics, floor: the SDK's JSON, zstd level 3 (the official client's)",
    ),
    (
        "metrics-floor-2",
        "metrics, floor: the SDK's JSON, zstd level 2 (the SDK's, for payloads this large)",
    ),
    (
        "metrics-sdk",
        "metrics, dd-integration: `send` per point (default settings)",
    ),
    (
        "metrics-sdk-grouped",
        "metrics, dd-integration: `send` of each series' points per 50,000",
    ),
    (
        "metrics-official",
        "metrics, official client: 50,000 grouped points a request, 4 in flight (zstd1)",
    ),
    ("logs-floor", "logs, floor: the SDK's JSON, gzip level 6"),
    (
        "logs-sdk",
        "logs, dd-integration: `send` per line (default settings)",
    ),
    (
        "logs-official",
        "logs, official client: 1,000 lines a request, 4 in flight (gzip)",
    ),
];

fn child(role: &str, port: u16, n: usize) {
    pin(0);
    let m = match role {
        "metrics-floor-3" => floor_metrics(port, n, 3),
        "metrics-floor-2" => floor_metrics(port, n, 2),
        "metrics-sdk" => sdk_metrics(port, n, false),
        "metrics-sdk-grouped" => sdk_metrics(port, n, true),
        "metrics-official" => official_metrics(port, n),
        "logs-floor" => floor_logs(port, n),
        "logs-sdk" => sdk_logs(port, n),
        "logs-official" => official_logs(port, n),
        other => panic!("no such run: {other}"),
    };
    println!("{} {} {} {}", m.items, m.wall, m.cpu, m.growth_kib);
}

struct Row {
    items: usize,
    wall: f64,
    cpu: f64,
    growth_kib: u64,
    requests: u64,
    bytes: u64,
}

impl Row {
    fn cpu_ns(&self) -> f64 {
        self.cpu * 1e9 / self.items as f64
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--sink") {
        return sink();
    }
    if args.get(1).map(String::as_str) == Some("--child") {
        return child(&args[2], args[3].parse().unwrap(), args[4].parse().unwrap());
    }
    let number = |i: usize, default: usize| {
        args.get(i)
            .map(|a| a.replace('_', "").parse().expect("a number"))
            .unwrap_or(default)
    };
    let n_points = number(1, 2_000_000);
    let n_lines = number(2, 500_000);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    let only = std::env::var("BENCH_ONLY").ok();
    let exe = std::env::current_exe().unwrap();
    let mut sink = Command::new(&exe)
        .arg("--sink")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    BufReader::new(sink.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let port: u16 = port.trim().parse().unwrap();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap();
    eprintln!("load average at the start: {}", load.trim());

    let mut rows: HashMap<&str, Vec<Row>> = HashMap::new();
    for round in 1..=rounds {
        for (role, _) in RUNS {
            if only.as_deref().is_some_and(|o| !role.starts_with(o)) {
                continue;
            }
            let n = if role.starts_with("logs") {
                n_lines
            } else {
                n_points
            };
            let out = Command::new(&exe)
                .args(["--child", role, &port.to_string(), &n.to_string()])
                .stderr(Stdio::inherit())
                .output()
                .unwrap();
            assert!(out.status.success(), "{role} failed");
            let text = String::from_utf8(out.stdout).unwrap();
            let f: Vec<&str> = text.trim().split(' ').collect();
            let (requests, bytes) = sink_stats(port);
            let row = Row {
                items: f[0].parse().unwrap(),
                wall: f[1].parse().unwrap(),
                cpu: f[2].parse().unwrap(),
                growth_kib: f[3].parse().unwrap(),
                requests,
                bytes,
            };
            eprintln!(
                "round {round} {role}: {:.0} ns CPU/item, {:.0} items/s, {} bytes, {} requests, +{:.1} MiB",
                row.cpu_ns(),
                row.items as f64 / row.wall,
                row.bytes,
                row.requests,
                row.growth_kib as f64 / 1024.0
            );
            rows.entry(role).or_default().push(row);
        }
    }
    let _ = sink.kill();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap();
    eprintln!("load average at the end: {}", load.trim());

    println!(
        "| run | items | CPU ns/item (median; runs) | items/s on one core | bytes on the wire | bytes/item | requests | peak memory growth | CPU × floor at its level |"
    );
    println!("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    // Each client against the floor at its own compression: the SDK's default zstd level for
    // payloads this large is 2 (unless `BENCH_ZSTD_LEVEL` says otherwise), the official
    // client's 3.
    let sdk_floor = match std::env::var("BENCH_ZSTD_LEVEL").ok().as_deref() {
        Some("3") => "metrics-floor-3",
        _ => "metrics-floor-2",
    };
    let floor_of = |role: &str| -> Option<f64> {
        let floor = if role.starts_with("logs") {
            "logs-floor"
        } else if role.starts_with("metrics-sdk") {
            sdk_floor
        } else {
            "metrics-floor-3"
        };
        rows.get(floor)
            .map(|r| median(r.iter().map(Row::cpu_ns).collect()))
    };
    for (role, label) in RUNS {
        let Some(runs) = rows.get(role) else { continue };
        let cpu = median(runs.iter().map(Row::cpu_ns).collect());
        let each: Vec<String> = runs.iter().map(|r| format!("{:.0}", r.cpu_ns())).collect();
        let rate = median(runs.iter().map(|r| r.items as f64 / r.wall).collect());
        let bytes = median(runs.iter().map(|r| r.bytes as f64).collect());
        let requests = median(runs.iter().map(|r| r.requests as f64).collect());
        let growth = median(runs.iter().map(|r| r.growth_kib as f64 / 1024.0).collect());
        let items = runs[0].items;
        let times = floor_of(role).map_or("".to_owned(), |f| format!("{:.2}", cpu / f));
        println!(
            "| {label} | {items} | {cpu:.0} ({}) | {rate:.0} | {bytes:.0} | {:.2} | {requests:.0} | +{growth:.1} MiB | {times} |",
            each.join(", "),
            bytes / items as f64
        );
    }
}
