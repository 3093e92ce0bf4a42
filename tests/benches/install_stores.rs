//! Complete installs over loopback against the Datadog sandbox, with the durable stores a
//! partner runs (SQLite, PostgreSQL) beside the memory store, and the store's calls timed apart.
//!
//! `cargo bench -p dd-integration-tests --bench install_stores`
//!
//! Each install is what a browser does ([`Connections`]): GET the onboarding URL (302 + flow
//! cookie), GET the sandbox's authorize URL (302 with a code), GET the callback with the cookie
//! (exchange, key, store, success page). For each store: installs per second with 1 and with 32
//! browsers at once; the SDK's own time in the callback (its wall time at the browser minus the
//! time inside the calls to Datadog, the `datadog.oauth.exchange`, `datadog.org.confirm` and
//! `datadog.api_key.create` spans), one install at a time; each store method's calls per install
//! and time per call, measured by a tap on the store ([`Tapped`]); and, during the 32-browser
//! phase, the CPU per install of the app (the SDK's server and store, on a runtime of its own),
//! of PostgreSQL's server processes and of the harness (the sandbox and the browsers, on another
//! runtime), with the installs per second that the app's (and database's) CPU alone would allow
//! on this machine's cores: a ceiling, computed, not measured. Before SQLite, the disk's floor:
//! two synced writes 0.5 ms apart. Both databases sync every commit they are asked to: SQLite in
//! WAL mode with `synchronous=FULL`, PostgreSQL with its defaults (a throwaway cluster from
//! Debian's binaries unless `DD_TEST_POSTGRES_URL` names a server).
//!
//! `BENCH_STORES=postgres` (or `memory`, `sqlite`, comma-separated) runs only those stores;
//! `BENCH_INSTALLS=n` makes n installs at 32 browsers (n / 4 one at a time); `BENCH_PG_RTT_US=n`
//! puts the throwaway cluster at least n microseconds of round trip away, behind a proxy (each
//! chunk is held by a thread's sleep, which can overshoot); `BENCH_DIR=path` puts SQLite's file,
//! the disk's floor and the throwaway cluster in `path` (`/tmp` by default): on a RAM disk
//! (`/dev/shm`) a sync costs nothing, which shows what the disk adds to each figure.

#[path = "../tests/support/postgres.rs"]
mod postgres_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dd_integration::store::InstallationStore;
use dd_integration::testkit::{ClientSpec, OrgSpec, SESSION_COOKIE, Sandbox, SandboxOrg};
use dd_integration::{
    ClientSecret, Domain, Installer, PostgresStore, Sealer, SealingKey, SqliteStore,
};
use dd_integration_tests::lifecycle::{StoreTap, Tapped};
use tracing::span;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// The integration being installed: it confirms the org (so that `find_by_org` runs, as for
/// every integration that links reinstalls) and creates the marketplace API key.
#[dd_integration::datadog_integration(
    name = "Bench",
    scopes = [monitors_read, api_keys_write, user_access_read],
    redirect = "https://acme.example/cb",
    onboarding = "https://acme.example/connect",
    submits = [events],
)]
struct Bench;

/// Time spent inside the spans of calls to Datadog, summed.
#[derive(Clone, Default)]
struct DatadogTime(Arc<Mutex<Duration>>);

struct Started(Instant);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for DatadogTime {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let name = attrs.metadata().name();
        if (name == "datadog.oauth.exchange"
            || name == "datadog.api_key.create"
            || name == "datadog.org.confirm")
            && let Some(span) = ctx.span(id)
        {
            span.extensions_mut().insert(Started(Instant::now()));
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(started) = span.extensions().get::<Started>()
        {
            *self.0.lock().unwrap() += started.0.elapsed();
        }
    }
}

/// Times every call of the store it taps ([`Tapped`], the tests' one store decorator).
#[derive(Default)]
struct Timed {
    calls: Mutex<BTreeMap<&'static str, Vec<Duration>>>,
}

impl StoreTap for Timed {
    fn timed(&self, method: &'static str, elapsed: Duration) {
        self.calls
            .lock()
            .unwrap()
            .entry(method)
            .or_default()
            .push(elapsed);
    }
}

impl Timed {
    fn take(&self) -> BTreeMap<&'static str, Vec<Duration>> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

struct Browser {
    /// Kept alive for the benchmark's length: the app's Datadog.
    _sandbox: Sandbox,
    app: String,
}

/// A browser's connections, one per host it talks to (the app, the sandbox), kept alive between
/// its requests: plain HTTP/1.1 GETs on loopback, each answer read by its `Content-Length`. A
/// browser of its own rather than an HTTP client library: the browsers share the 2 cores with
/// the app and its database, and a real customer's browser costs the server nothing
/// (BENCHMARKS.md gives the harness's CPU with each).
#[derive(Default)]
struct Connections(std::collections::HashMap<String, tokio::io::BufStream<tokio::net::TcpStream>>);

/// What the browser reads of an answer.
struct Answer {
    status: u16,
    location: Option<String>,
    set_cookie: Option<String>,
    body: Vec<u8>,
}

impl Connections {
    async fn get(&mut self, url: &str, cookie: Option<&str>) -> Answer {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        let rest = url.strip_prefix("http://").expect("a loopback http URL");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(cookie) = cookie {
            request.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        request.push_str("\r\n");
        for attempt in 0..2 {
            if attempt > 0 || !self.0.contains_key(authority) {
                let stream = tokio::net::TcpStream::connect(authority).await.unwrap();
                stream.set_nodelay(true).unwrap();
                self.0
                    .insert(authority.to_owned(), tokio::io::BufStream::new(stream));
            }
            let conn = self.0.get_mut(authority).unwrap();
            let mut line = String::new();
            // A connection the server closed while idle: once more on a new one.
            if conn.write_all(request.as_bytes()).await.is_err()
                || conn.flush().await.is_err()
                || conn.read_line(&mut line).await.unwrap_or(0) == 0
            {
                continue;
            }
            let status = line.split(' ').nth(1).unwrap().parse().unwrap();
            let (mut length, mut location, mut set_cookie) = (0, None, None);
            loop {
                line.clear();
                conn.read_line(&mut line).await.unwrap();
                let header = line.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap();
                let value = value.trim().to_owned();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse().unwrap(),
                    "location" => location = Some(value),
                    "set-cookie" => {
                        set_cookie.get_or_insert(value);
                    }
                    "transfer-encoding" => panic!("an answer without a length: {value}"),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            conn.read_exact(&mut body).await.unwrap();
            return Answer {
                status,
                location,
                set_cookie,
                body,
            };
        }
        panic!("{url}: no answer on a new connection")
    }
}

impl Browser {
    /// One install on `conns`; returns the callback's wall time.
    async fn install(&self, conns: &mut Connections, org: &SandboxOrg) -> Duration {
        let onboarding = format!(
            "{}/connect?site={}&domain={}",
            self.app,
            org.site.origin(),
            org.domain
        );
        let r = conns.get(&onboarding, None).await;
        assert_eq!(r.status, 302);
        let cookie = r.set_cookie.unwrap().split(';').next().unwrap().to_owned();
        let session = format!("{SESSION_COOKIE}={}", org.id);
        let r = conns.get(&r.location.unwrap(), Some(&session)).await;
        assert_eq!(r.status, 302);
        let callback = r.location.unwrap();
        let start = Instant::now();
        let r = conns.get(&callback, Some(&cookie)).await;
        let callback_time = start.elapsed();
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        callback_time
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Installs `orgs` with `browsers` at once; installs per second.
async fn rate(bench: &Arc<Browser>, orgs: Vec<SandboxOrg>, browsers: usize) -> f64 {
    let count = orgs.len();
    let queue = Arc::new(Mutex::new(orgs));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..browsers {
        let bench = bench.clone();
        let queue = queue.clone();
        tasks.spawn(async move {
            let mut conns = Connections::default();
            loop {
                let Some(org) = queue.lock().unwrap().pop() else {
                    break;
                };
                bench.install(&mut conns, &org).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    count as f64 / start.elapsed().as_secs_f64()
}

/// CPU time (ns) of this process's threads by role: the app's (its runtime's threads, named
/// `app`, and SQLite's connection threads) and the harness's (the sandbox and the browsers, on
/// the runtime whose threads are named `harness`); from each thread's `schedstat`.
fn cpu_by_role() -> (u64, u64) {
    let (mut app, mut harness) = (0, 0);
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let ran = dd_integration_tests::cpu::schedstat_ns(&path.join("schedstat")).unwrap_or(0);
        if name.starts_with("app") || name.starts_with("sqlx-sqlite") {
            app += ran;
        } else if name.starts_with("harness") {
            harness += ran;
        }
    }
    (app, harness)
}

/// A moment's CPU times: the app's, the harness's, each `postgres` process's.
type CpuSample = (u64, u64, BTreeMap<u32, u64>);

/// What the 32-browser phase cost in CPU, split by who spent it (ns).
struct Cpu {
    app: u64,
    harness: u64,
    database: u64,
}

/// The database server whose processes a store's run counts.
#[derive(Clone, Copy)]
enum Server {
    /// The store has none (memory, SQLite): any `postgres` running here is someone else's.
    None,
    /// PostgreSQL: the throwaway cluster's postmaster and the postmaster's children, or, for a server
    /// `DD_TEST_POSTGRES_URL` names, every `postgres` process on the machine.
    Postgres { postmaster: Option<u32> },
}

impl Cpu {
    fn sample(server: Server) -> CpuSample {
        let (app, harness) = cpu_by_role();
        let database = match server {
            Server::None => BTreeMap::new(),
            Server::Postgres { postmaster } => {
                dd_integration_tests::cpu::postgres_by_pid(postmaster)
            }
        };
        (app, harness, database)
    }

    fn since(before: CpuSample, server: Server) -> Cpu {
        let (app, harness, database) = Cpu::sample(server);
        Cpu {
            app: app.saturating_sub(before.0),
            harness: harness.saturating_sub(before.1),
            database: dd_integration_tests::cpu::postgres_since(&before.2, &database),
        }
    }
}

/// The disk's floor for an install: two synced writes one after the other, as SQLite makes them
/// (a 16 KiB write, then `fsync`, which the bundled SQLite calls), 0.5 ms apart (the key's
/// creation between them), installs 1 ms apart. Median and p99 of the pair, in ms.
fn disk_floor(dir: &std::path::Path) -> (f64, f64) {
    use std::io::{Seek, Write};
    let path = dir.join("disk-floor.bin");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0x5Au8; 16 * 1024];
    let spin = |d: Duration| {
        let until = Instant::now() + d;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    };
    let mut pairs = Vec::with_capacity(500);
    for i in 0..500u64 {
        let mut pair = Duration::ZERO;
        for half in 0..2u64 {
            file.seek(std::io::SeekFrom::Start(((i * 2 + half) % 256) * 16 * 1024))
                .unwrap();
            file.write_all(&block).unwrap();
            let started = Instant::now();
            file.sync_all().unwrap();
            pair += started.elapsed();
            if half == 0 {
                spin(Duration::from_micros(500));
            }
        }
        pairs.push(pair);
        spin(Duration::from_millis(1));
    }
    let _ = std::fs::remove_file(&path);
    pairs.sort();
    (
        percentile(&pairs, 0.5).as_secs_f64() * 1e3,
        percentile(&pairs, 0.99).as_secs_f64() * 1e3,
    )
}

/// A TCP proxy to the throwaway cluster's Unix socket that holds every chunk `one_way` before
/// passing it on, in each direction: a database `2 * one_way` of round trip away, as a managed
/// database in the app's region is. Threads of its own, counted as neither the app nor the
/// harness. Returns the URL to connect through it.
fn delayed(url: &str, socket_dir: &std::path::Path, one_way: Duration) -> String {
    use std::io::{Read, Write};
    let parsed = url::Url::parse(url).unwrap();
    let socket = socket_dir.join(format!(".s.PGSQL.{}", parsed.port().unwrap_or(5432)));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            client.set_nodelay(true).unwrap();
            let server = std::os::unix::net::UnixStream::connect(&socket).unwrap();
            let pump = |mut from: Box<dyn Read + Send>, mut to: Box<dyn Write + Send>| {
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n @ 1..) = from.read(&mut buf) {
                        std::thread::sleep(one_way);
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            };
            pump(
                Box::new(client.try_clone().unwrap()),
                Box::new(server.try_clone().unwrap()),
            );
            pump(Box::new(server), Box::new(client));
        }
    });
    let mut proxied = url::Url::parse(&format!("postgres://127.0.0.1:{port}")).unwrap();
    proxied.set_username(parsed.username()).unwrap();
    proxied.set_path(parsed.path());
    proxied.to_string()
}

/// Runs `work` on the app's runtime and waits for it.
async fn on_app<T: Send + 'static>(
    app: &tokio::runtime::Handle,
    work: impl Future<Output = T> + Send + 'static,
) -> T {
    app.spawn(work).await.unwrap()
}

async fn measure(
    name: &str,
    database_server: Server,
    store: Arc<dyn InstallationStore>,
    installs: usize,
    datadog_time: &DatadogTime,
    app_runtime: &tokio::runtime::Handle,
) {
    let sandbox = Sandbox::start().await;
    let listener = on_app(app_runtime, async {
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
    })
    .await;
    let app = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let client = sandbox.add_client(
        ClientSpec::new("Bench")
            .redirect_uri(format!("{app}/cb"))
            .scopes(["monitors_read", "api_keys_write", "user_access_read"]),
    );
    let timed = Arc::new(Tapped {
        inner: store,
        tap: Timed::default(),
    });
    let installer = Installer::<Bench>::builder()
        .client(
            client.client_id.clone(),
            ClientSecret::new(client.client_secret.clone()),
        )
        .sealer(Sealer::new(
            SealingKey::from_bytes("bench", &[0x42; 32]).unwrap(),
        ))
        .redirect_uri(format!("{app}/cb"))
        .onboarding_url(format!("{app}/connect"))
        .endpoints(sandbox.endpoints())
        // The benchmark's browsers are many and fast: no limit on code exchanges.
        .exchange_limit(1_000_000, 1_000_000)
        .store(timed.clone())
        .build()
        .unwrap();
    let router = dd_integration::web::router(installer.clone());
    let server = app_runtime.spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut next = 0usize;
    let mut orgs = |n: usize| -> Vec<SandboxOrg> {
        let made = (next..next + n)
            .map(|i| sandbox.add_org(OrgSpec::new(format!("Org {i}"), Domain::ALL[i % 9])))
            .collect();
        next += n;
        made
    };
    let warm = orgs(100);
    let serial = orgs(installs / 4);
    let parallel = orgs(installs);
    let bench = Arc::new(Browser {
        _sandbox: sandbox,
        app,
    });
    rate(&bench, warm, 8).await;
    timed.tap.take();

    let before = Cpu::sample(database_server);
    let at_32 = rate(&bench, parallel, 32).await;
    let cpu = Cpu::since(before, database_server);
    let calls = timed.tap.take();

    // One at a time: installs per second with one browser, and the SDK's own time.
    let mut own = Vec::with_capacity(serial.len());
    let started = Instant::now();
    let count = serial.len();
    let mut conns = Connections::default();
    for org in &serial {
        *datadog_time.0.lock().unwrap() = Duration::ZERO;
        let callback = bench.install(&mut conns, org).await;
        let in_datadog = *datadog_time.0.lock().unwrap();
        own.push(callback.saturating_sub(in_datadog));
    }
    let at_1 = count as f64 / started.elapsed().as_secs_f64();
    let serial_calls = timed.tap.take();
    own.sort();
    println!(
        "{name:<10} installs/s: {at_1:>6.0} with 1 browser, {at_32:>6.0} with 32; the SDK's own time in the callback ({count} installs, one at a time): median {:.2} ms, p99 {:.2} ms",
        percentile(&own, 0.5).as_secs_f64() * 1e3,
        percentile(&own, 0.99).as_secs_f64() * 1e3,
    );
    let per_install = |ns: u64| ns as f64 / installs as f64 / 1e3;
    let has_server = matches!(database_server, Server::Postgres { .. });
    let database = cpu.database;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{name:<10}   CPU per install at 32 browsers: the app (the SDK and the store's client) {:.0} us, {}the harness (sandbox, browsers) {:.0} us; what that CPU allows the app{} on {cores} cores, were nothing else running and nothing waited: {:.0} installs/s",
        per_install(cpu.app),
        if has_server {
            format!("the database server {:.0} us, ", per_install(database))
        } else {
            String::new()
        },
        per_install(cpu.harness),
        if has_server { " and its database" } else { "" },
        cores as f64 * 1e6 / per_install(cpu.app + database),
    );
    for (what, calls, installs) in [
        ("32 browsers", &calls, installs),
        ("1 browser", &serial_calls, count),
    ] {
        let mut line = format!("{name:<10}   store calls per install, {what}:");
        for (method, times) in calls {
            let mut times = times.clone();
            times.sort();
            line.push_str(&format!(
                " {method} {:.2}x median {:.2} ms p99 {:.2} ms;",
                times.len() as f64 / installs as f64,
                percentile(&times, 0.5).as_secs_f64() * 1e3,
                percentile(&times, 0.99).as_secs_f64() * 1e3
            ));
        }
        println!("{line}");
    }
    server.abort();
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // `BENCH_INSTALLS=n`: installs at 32 browsers (a quarter of that one at a time).
    let installs = std::env::var("BENCH_INSTALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if full { 2000 } else { 80 });
    let datadog_time = DatadogTime::default();
    let subscriber = tracing_subscriber::registry().with(datadog_time.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();
    // The app (the SDK, its server and its store) and the harness (the sandbox and the browsers)
    // on runtimes of their own, as they would be in production, and so that each one's CPU is
    // counted apart.
    let app_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("app")
        .enable_all()
        .build()
        .unwrap();
    let app = app_runtime.handle().clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("harness")
        .enable_all()
        .build()
        .unwrap();
    // `BENCH_DIR=path`: where SQLite's file, the disk's floor and the throwaway cluster go.
    let bench_dir = std::env::var_os("BENCH_DIR").map_or_else(
        || std::path::PathBuf::from("/tmp"),
        std::path::PathBuf::from,
    );
    // `BENCH_STORES=sqlite,postgres` runs only those (memory, sqlite, postgres; all by default).
    let only = std::env::var("BENCH_STORES").ok();
    let runs = |store: &str| {
        only.as_deref().is_none_or(|only| {
            only.split(',')
                .any(|s| s.trim().eq_ignore_ascii_case(store))
        })
    };
    runtime.block_on(async {
        let sealer = || Sealer::new(SealingKey::from_bytes("bench", &[0x42; 32]).unwrap());
        if runs("memory") {
            measure(
                "memory",
                Server::None,
                Arc::new(dd_integration::MemoryStore::new()),
                installs,
                &datadog_time,
                &app,
            )
            .await;
        }
        if runs("sqlite") {
            let dir = bench_dir.join(format!("dd-install-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let (median, p99) = disk_floor(&dir);
            println!(
                "disk       two synced writes 0.5 ms apart (16 KiB each, fsync), installs 1 ms apart: median {median:.2} ms, p99 {p99:.2} ms"
            );
            let file = dir.join("bench.sqlite");
            let sqlite = on_app(&app, async move {
                SqliteStore::open(file, sealer()).await.unwrap()
            })
            .await;
            measure(
                "SQLite",
                Server::None,
                Arc::new(sqlite),
                installs,
                &datadog_time,
                &app,
            )
            .await;
            let _ = std::fs::remove_dir_all(&dir);
        }
        if !runs("postgres") {
            return;
        }
        match postgres_support::PostgresServer::find_in(
            postgres_support::Durability::Full,
            &bench_dir,
        ) {
            Ok(server) => {
                let postmaster = server.postmaster();
                let mut url = server.database().await;
                // `BENCH_PG_RTT_US=n`: the database n microseconds of round trip away.
                if let Some(rtt) = std::env::var("BENCH_PG_RTT_US")
                    .ok()
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    let Some(dir) = server.socket_dir() else {
                        eprintln!("BENCH_PG_RTT_US needs the throwaway cluster, not DD_TEST_POSTGRES_URL");
                        return;
                    };
                    url = delayed(&url, dir, Duration::from_micros(rtt / 2));
                    println!("PostgreSQL behind a proxy adding at least {rtt} us of round trip");
                }
                let postgres = on_app(&app, async move {
                    PostgresStore::connect(&url, sealer()).await.unwrap()
                })
                .await;
                measure(
                    "PostgreSQL",
                    Server::Postgres { postmaster },
                    Arc::new(postgres),
                    installs,
                    &datadog_time,
                    &app,
                )
                .await;
            }
            Err(why) => eprintln!("PostgreSQL SKIPPED: {why}"),
        }
    });
}
