//! The quickstart: the example exporter integration (`examples/src/exporter.rs`) served by the
//! SDK's real handlers on `localhost`, installed end to end against the Datadog sandbox on
//! `127.0.0.1`, with every step printed and every secret masked.
//!
//! ```text
//! cargo run -p dd-integration-examples --bin quickstart [-- --site <site>] [--serve]
//! ```
//!
//! `--serve` keeps both servers running and prints the URL to open in a browser, where a person
//! clicks through the consent page.
//!
//! The installations live in a SQLite file in a directory of its own under the system's temporary
//! directory (created `0700` on Unix, the file `0600`), removed when the quickstart ends: at the
//! end of a run, on an error, and on Ctrl-C (or SIGTERM on Unix), with or without `--serve`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use dd_integration::OrgId;
use dd_integration::hooks::InstallReport;
use dd_integration::install::{ApiKeyOutcome, InstallFailure};
use dd_integration::telemetry::{CheckStatus, Event, ServiceCheck, Telemetry};
use dd_integration::testkit::{ClientSpec, Consent, OrgSpec, Sandbox};
use dd_integration::{
    ClientSecret, DatadogIntegration, Hooks, Installation, Installer, Sealer, SealingKey, Site,
    SqliteStore,
};
use dd_integration_examples::exporter::{AcmeExporter, CAN_CONNECT, QUEUE_DEPTH};
use tokio::sync::watch;

struct Options {
    site: Site,
    serve: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    // Ctrl-C (or SIGTERM) ends the run: `--serve` shuts its server down, closes the store and
    // returns; a run without it is dropped where it is. Either way the scratch directory, and the
    // database in it, are removed on the way out.
    let (stop, stopped) = watch::channel(false);
    let signal = stop_signal();
    tokio::spawn(async move {
        signal.await;
        let _ = stop.send(true);
    });
    let serve = options.serve;
    let mut interrupted = stopped.clone();
    let outcome = tokio::select! {
        outcome = run(options, stopped) => outcome,
        _ = interrupted.wait_for(|stop| *stop), if !serve => Err("interrupted".into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix. On Unix the handlers are installed before this returns, so a
/// signal that arrives before the future is first polled is not missed.
fn stop_signal() -> impl Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A directory of the quickstart's own under the temporary directory, removed (with everything in
/// it) when dropped. On Unix it is `0700`, and a fresh name: never a directory or link someone
/// else made.
struct Scratch(PathBuf);

impl Scratch {
    fn create() -> std::io::Result<Scratch> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut attempt = 0;
        loop {
            let dir = std::env::temp_dir().join(format!(
                "dd-quickstart-{}-{nanos:08x}-{attempt}",
                std::process::id()
            ));
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&dir) {
                Ok(()) => return Ok(Scratch(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        match std::fs::remove_dir_all(&self.0) {
            Ok(()) => println!("removed {}", self.0.display()),
            Err(e) => eprintln!("could not remove {}: {e}", self.0.display()),
        }
    }
}

fn options() -> Result<Options, String> {
    let mut site = Site::parse("acme.datadoghq.eu").map_err(|e| e.to_string())?;
    let mut serve = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--serve" => serve = true,
            "--site" => {
                let value = args.next().ok_or("--site needs a value")?;
                site = Site::parse(&value).map_err(|e| format!("--site: {e}"))?;
            }
            _ => {
                return Err(
                    "usage: quickstart [--site <datadog site, e.g. us5.datadoghq.com>] [--serve]"
                        .into(),
                );
            }
        }
    }
    Ok(Options { site, serve })
}

/// Prints what the install flow reports, as a partner's hooks would record it.
struct Printer;

#[async_trait]
impl Hooks for Printer {
    async fn installed(&self, report: &InstallReport) {
        println!("\n[hook] installed: {}", report.installation.id);
        print_installation(&report.installation);
        let key = match &report.api_key {
            ApiKeyOutcome::Created => "created and stored before the success page",
            ApiKeyOutcome::Reused => "the org's earlier key, still valid, kept",
            ApiKeyOutcome::AlreadyExists => "409: the org has a key this app no longer holds",
            _ => "not created",
        };
        println!("  marketplace API key: {key}");
        if !report.missing_scopes.is_empty() {
            println!(
                "  scopes the admin did not grant: {}",
                report.missing_scopes
            );
        }
    }

    async fn failed(&self, failure: &InstallFailure) {
        println!("\n[hook] install failed: {failure}");
    }
}

async fn run(
    options: Options,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::create()?;
    let spec = AcmeExporter::SPEC;
    let site = options.site;

    // Datadog, faked faithfully on 127.0.0.1: one customer org, and the integration's OAuth
    // client as the Developer Platform would register it.
    let sandbox = Sandbox::start().await;
    if options.serve {
        sandbox.set_consent(Consent::Page);
    }
    let mut org = OrgSpec::new("Acme Corp (customer)", site.domain());
    if let Some(label) = site.vanity() {
        org = org.vanity(label);
    }
    let org = sandbox.add_org(org);

    // The partner's app on localhost, serving the SDK's onboarding and callback handlers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let app = format!("http://localhost:{}", listener.local_addr()?.port());
    let onboarding = format!("{app}/datadog/connect");
    let callback = format!("{app}/datadog/callback");
    let client = sandbox.add_client(
        ClientSpec::new(spec.name)
            .redirect_uri(&callback)
            .scopes(spec.scopes.iter().map(|s| s.as_str())),
    );
    // Installations live in SQLite, their tokens and key sealed at rest under the partner's key
    // (a temporary file and a fresh key here; SealingKey::from_env in a real deployment). The
    // scratch directory outlives everything below (declared first, dropped last), so it is
    // removed after the store is closed, and whenever `run` ends.
    let (sealing_key, _) = SealingKey::generate("quickstart")?;
    let database = scratch.path().join("installations.sqlite");
    let store = Arc::new(SqliteStore::open(&database, Sealer::new(sealing_key.clone())).await?);
    let installer = Installer::<AcmeExporter>::builder()
        .client(
            client.client_id.clone(),
            ClientSecret::new(client.client_secret.clone()),
        )
        .sealer(Sealer::new(sealing_key))
        .onboarding_url(&onboarding)
        .redirect_uri(&callback)
        .endpoints(sandbox.endpoints())
        .store(store.clone())
        .hooks(Arc::new(Printer))
        .build()?;
    // Served with the SDK's time-outs against slow clients, until `shutdown` fires.
    let router = dd_integration::web::router(installer.clone());
    let (shutdown, shut) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(dd_integration::web::Server::new().serve_with_shutdown(
        listener,
        router,
        async move {
            let _ = shut.await;
        },
    ));

    println!("{} (declared in examples/src/exporter.rs)", spec.name);
    println!("  scopes: {}", spec.scope_set());
    println!("  partner app:     {app} (onboarding {onboarding})");
    println!("  Datadog sandbox: {}", sandbox.base_url());
    println!(
        "  customer org:    {} ({}) on {} at {}",
        org.name,
        org.id,
        org.domain.name(),
        org.site
    );
    // Before any customer: Datadog authenticates the client id and secret.
    installer.check_credentials(org.domain).await?;
    println!("  OAuth client:    id and secret accepted by Datadog's token endpoint");

    if options.serve {
        let mut url = url::Url::parse(&onboarding)?;
        url.query_pairs_mut()
            .append_pair("site", &org.site.origin())
            .append_pair("domain", org.domain.as_str());
        println!(
            "\nOpen this URL in a browser to click through the install (Ctrl-C to stop):\n\n  {url}\n"
        );
        let _ = stopped.wait_for(|stop| *stop).await;
        println!("\nStopping.");
        let _ = shutdown.send(());
        let _ = server.await;
        drop(installer);
        store.close().await;
        return Ok(());
    }

    println!("\nTest Authorization: the browser opens the onboarding URL with site and domain");
    let done = sandbox
        .test_authorization(&url::Url::parse(&onboarding)?, &org)
        .await?;
    for url in &done.visited {
        println!("  GET {}", redact_query(url));
    }
    println!("  final page ({}): {}", done.status, text_of(&done.body));

    // The exporter does not declare `user_access_read`, so the SDK does not confirm the org
    // (and links no reinstall): the newest installation is this one.
    let installation = installer
        .store()
        .list()
        .await?
        .pop()
        .ok_or("no installation was stored")?;
    let key = installation
        .api_key
        .as_ref()
        .ok_or("the installation has no API key")?;
    let oauth = installer.oauth();
    println!(
        "\nStored in {} (sealed at rest); the key works at {}: {}",
        database.display(),
        installation.domain.api_host(),
        oauth
            .validate_api_key(installation.domain, &key.key)
            .await?
    );

    // The token lifecycle: a cached token costs nothing; after a 401 (or near expiry) exactly one
    // caller refreshes, and the rotated refresh token is stored before the new token is used.
    let handle = installer.tokens().installation(&installation.id);
    let token = handle.access_token().await?;
    handle.invalidate(&token);
    let fresh = handle.access_token().await?;
    let stored = installer
        .store()
        .get(&installation.id)
        .await?
        .ok_or("the installation vanished")?;
    println!(
        "access_token(): cached, then refreshed after a 401 (new token: {}, refresh token rotated and stored: {})",
        fresh != token,
        stored.refresh_token != installation.refresh_token
    );
    let missing = stored.missing_scopes(spec);
    if missing.is_empty() {
        println!("every declared scope was granted");
    } else {
        println!(
            "missing scopes {missing}; re-authorize at {}",
            installer.reauthorize_url(&stored)
        );
    }

    // The exporter's data, with the installation's marketplace API key, to its region's
    // intake: batched, compressed, retried, and delivered before shutdown returns.
    let telemetry = Telemetry::builder()
        .endpoints(sandbox.endpoints())
        .build()?;
    let intake = installer.intake(&telemetry, &stored)?;
    let depth = QUEUE_DEPTH.series().tag("queue:default").build()?;
    intake.send(depth.now(42.0)).await?;
    intake
        .send(Event::new("Deploy finished", "acme-api v2.3.1 is live").tag("env:prod"))
        .await?;
    intake
        .send(ServiceCheck::new(CAN_CONNECT, "acme-api", CheckStatus::Ok))
        .await?;
    telemetry.shutdown().await?;
    let stats = intake.stats();
    println!(
        "sent to {} with the marketplace API key: {} point, {} event, {} service check delivered ({} bytes on the wire)",
        stored.domain.api_host(),
        stats.delivered.points,
        stats.delivered.events,
        stats.delivered.service_checks,
        stats.wire_bytes
    );
    for received in sandbox.received_series() {
        println!("  Datadog's intake decoded: {}", received.body);
    }

    // A partner-side disconnect: the grant is revoked at Datadog; the API key is the customer's
    // to revoke, and the SDK says so.
    let gone = installer.tokens().disconnect(&installation.id).await?;
    println!("disconnected ({:?})", gone.installation.status);
    for step in &gone.customer_steps {
        println!("  tell the customer: {step}");
    }
    let _ = shutdown.send(());
    let _ = server.await;
    drop(installer);
    store.close().await;
    println!("\nDone. Run with --serve to click through it in a browser.");
    Ok(())
}

fn print_installation(installation: &Installation) {
    let left = installation
        .access_token_expires_at
        .duration_since(SystemTime::now())
        .map_or(0, |d| d.as_secs());
    println!(
        "  org {} (dd_oid {}, as the browser passed it; confirmed by Datadog: {}) on {}, site {}",
        installation.org_name.as_deref().unwrap_or("?"),
        installation.org_hint.as_deref().unwrap_or("?"),
        installation
            .org_id
            .as_ref()
            .map_or("no, user_access_read is not declared", OrgId::as_str),
        installation.domain.name(),
        installation.site
    );
    println!("  granted scopes: {}", installation.granted_scopes);
    println!(
        "  access token {:?} (expires in {left}s), refresh token {:?}",
        installation.access_token, installation.refresh_token
    );
    if let Some(key) = &installation.api_key {
        println!("  API key {} (id {})", key.key.masked(), key.id);
    }
}

/// A URL with its query values shown only where they are not secrets or one-time codes.
fn redact_query(url: &url::Url) -> String {
    let mut shown = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if matches!(k.as_ref(), "code" | "state" | "code_challenge") {
                "<redacted>".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    if pairs.is_empty() {
        shown.set_query(None);
    } else {
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// The visible text of a small HTML page.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let body = html.split("<body>").nth(1).unwrap_or(html);
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
