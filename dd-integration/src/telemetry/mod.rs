//! Telemetry to Datadog's intake with each installation's marketplace API key: metrics (v2
//! series), logs (v2), events (v1) and service checks (v1 `check_run`), at intake speed.
//!
//! One [`Telemetry`] per process holds the HTTP connection pool; [`Telemetry::installation`]
//! gives the [`Intake`] of one installation, which queues what it is given and returns at once
//! (or waits for room: bounded memory, backpressure). A worker per installation batches the
//! queue within Datadog's documented limits ([`limits`]), compresses (`zstd1` for metrics,
//! `gzip` for logs), and delivers with retries:
//!
//! - **Limits**: metric payloads at most 512,000 bytes as sent and under 5 MiB decompressed; log
//!   payloads at most 1,000 entries and 5 MiB, each entry at most 1 MiB and nested at most 126
//!   levels deep ([`TelemetryError::TooDeep`]: a deeper one would make the intake's JSON parser
//!   refuse its whole payload, so it is refused alone when sent); points more than 10
//!   minutes ahead or 1 hour behind are refused when sent ([`TelemetryError::PointOutOfWindow`]),
//!   and points that pass the hour while queued or retried (Datadog accepts and drops them) are
//!   reported by `flush` ([`DeliveryFailure::Expired`]), not counted as delivered. Log entries
//!   dated over 18 hours back or 2 hours ahead ([`Log::timestamp`]), events over 18 hours old
//!   and service checks over 10 minutes old are refused when sent, as Datadog drops them.
//! - **Retries**: 408, 429 (after `X-RateLimit-Reset`), 5xx, time-outs and cut connections, with
//!   jittered exponential backoff; a payload answered 413 is split in halves and resent.
//! - **Key revocation**: a 403 marks the installation's key as refused; every later send fails
//!   with [`TelemetryError::KeyRejected`], which says what the customer must do.
//! - **Flush and shutdown**: [`Intake::flush`] returns once everything accepted before it was
//!   delivered (or definitively failed); [`Telemetry::shutdown`] does that for every
//!   installation and stops: nothing accepted is lost.
//! - **Declared data only**: a metric is a [`Metric`] of the declaration (checked at compile
//!   time in a `const`), a service check a declared [`Check`], and sending a kind of data that
//!   is not in the declaration's `submits` does not compile ([`Submits`](crate::integration::Submits)).
//! - **Many installations**: each has its own queue, byte budget, worker and requests in flight
//!   (`max_in_flight`), so one slow org stalls no other; all share one connection pool, a
//!   process-wide byte budget (`total_queue_bytes`) and a process-wide cap on requests in
//!   flight (`total_in_flight`).
//!
//! ```
//! use dd_integration::datadog_integration;
//! use dd_integration::telemetry::{Metric, Telemetry};
//! use dd_integration::testkit::{OrgSpec, Sandbox};
//! use dd_integration::{Domain, InstallationId};
//! use dd_integration::secret::ApiKey;
//!
//! #[datadog_integration(
//!     name = "Acme Pager",
//!     scopes = [api_keys_write],
//!     redirect = "https://acme.example/datadog/callback",
//!     onboarding = "https://acme.example/datadog/connect",
//!     submits = [metrics],
//!     metric_prefix = "acme.",
//!     metric(name = "acme.pages.sent", type = count, unit = "page"),
//! )]
//! struct AcmePager;
//!
//! const PAGES: Metric<AcmePager> = Metric::declared("acme.pages.sent");
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sandbox = Sandbox::start().await;
//! # let org = sandbox.add_org(OrgSpec::new("Acme", Domain::Eu1));
//! # let key = sandbox.issue_api_key(&org.id, "acme-pager");
//! let telemetry = Telemetry::builder().endpoints(sandbox.endpoints()).build()?;
//! // Usually `telemetry.installation::<AcmePager>(&installation)?`, from the store.
//! let intake = telemetry.intake::<AcmePager>(
//!     InstallationId::from_stored("inst_1"),
//!     Domain::Eu1,
//!     ApiKey::new(key),
//! )?;
//! let pages = PAGES.series().tag("team:sre").build()?;
//! intake.send(pages.now(3.0)).await?;
//! telemetry.shutdown().await?;
//! assert_eq!(sandbox.received_series().len(), 1);
//! # Ok(())
//! # }
//! ```

mod batch;
mod data;
mod error;
pub mod limits;
#[cfg(test)]
mod proptests;
mod worker;

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Semaphore;

pub use batch::{LogsCompression, SeriesCompression};
pub use data::{
    AlertType, Check, CheckStatus, Event, Log, Metric, Points, Prepared, Priority, Series,
    SeriesBuilder, ServiceCheck, Submission,
};
pub use error::{DeliveryFailure, TelemetryError};

use crate::endpoint::Endpoints;
use crate::error::ConfigError;
use crate::installation::{Installation, InstallationId, InstallationStatus};
use crate::integration::DatadogIntegration;
use crate::secret::ApiKey;
use crate::site::Domain;
use crate::transport::{DatadogHttp, HttpConfig};
use worker::{KeyRejectedHook, Queue, Transport};

/// How telemetry is queued, batched and retried. The defaults suit Datadog.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TelemetrySettings {
    /// Bytes (roughly, as rendered JSON) one installation may have queued, in flight included,
    /// before `send` waits and `try_send` fails (default 16 MiB; at most `u32::MAX`, about
    /// 4 GiB: larger is taken as that). `send` also waits, whatever the bytes, while a closed
    /// payload waits for one of the `max_in_flight` deliveries to start: a sender faster than
    /// the deliveries holds a few payloads, not the whole budget.
    pub queue_bytes: usize,
    /// The same for all installations together (default 1 GiB; at most `u32::MAX`).
    pub total_queue_bytes: usize,
    /// How long a payload that is not full waits for more data before it is sent (default
    /// 250 ms; at most a year, longer is taken as a year).
    pub linger: Duration,
    /// Requests one installation may have in flight at once (default 4).
    pub max_in_flight: usize,
    /// Requests all installations together may have in flight at once (default 256): bounds
    /// the connections and sockets one process opens to Datadog however many orgs it sends
    /// for. A request holds no slot while it backs off. Slow orgs hold at most
    /// `max_in_flight` slots each, so the others keep going until `total_in_flight /
    /// max_in_flight` orgs (64 by default) are all slow at once.
    pub total_in_flight: usize,
    /// Requests per payload, the first included, when Datadog fails transiently (default 8).
    pub attempts: u32,
    /// The first backoff after a transient failure, doubled each time and jittered between half
    /// and all of it (default 200 ms).
    pub backoff: Duration,
    /// The longest backoff (default 30 s).
    pub max_backoff: Duration,
    /// The longest `X-RateLimit-Reset` waited for; a longer one fails the payload (default
    /// 120 s).
    pub max_rate_limit_wait: Duration,
    /// How metric payloads are compressed (default, with the `zstd` feature,
    /// `SeriesCompression::Recommended`: `zstd1` at level 3, level 2 for payloads past 256 KiB;
    /// without it, `gzip` at level 6).
    pub series_compression: SeriesCompression,
    /// How log payloads are compressed (default `gzip` at level 6).
    pub logs_compression: LogsCompression,
}

impl Default for TelemetrySettings {
    fn default() -> TelemetrySettings {
        TelemetrySettings {
            queue_bytes: 16 << 20,
            total_queue_bytes: 1 << 30,
            linger: Duration::from_millis(250),
            max_in_flight: 4,
            total_in_flight: 256,
            attempts: 8,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(120),
            series_compression: SeriesCompression::default(),
            logs_compression: LogsCompression::default(),
        }
    }
}

impl TelemetrySettings {
    /// Sets [`TelemetrySettings::queue_bytes`] (at least 64 KiB).
    pub fn queue_bytes(mut self, bytes: usize) -> TelemetrySettings {
        self.queue_bytes = bytes.max(64 << 10);
        self
    }

    /// Sets [`TelemetrySettings::total_queue_bytes`] (at least 64 KiB).
    pub fn total_queue_bytes(mut self, bytes: usize) -> TelemetrySettings {
        self.total_queue_bytes = bytes.max(64 << 10);
        self
    }

    /// Sets [`TelemetrySettings::linger`].
    pub fn linger(mut self, linger: Duration) -> TelemetrySettings {
        self.linger = linger;
        self
    }

    /// Sets [`TelemetrySettings::max_in_flight`] (at least 1).
    pub fn max_in_flight(mut self, n: usize) -> TelemetrySettings {
        self.max_in_flight = n.max(1);
        self
    }

    /// Sets [`TelemetrySettings::total_in_flight`] (at least 1).
    pub fn total_in_flight(mut self, n: usize) -> TelemetrySettings {
        self.total_in_flight = n.max(1);
        self
    }

    /// Sets [`TelemetrySettings::attempts`] (at least 1).
    pub fn attempts(mut self, n: u32) -> TelemetrySettings {
        self.attempts = n.max(1);
        self
    }

    /// Sets [`TelemetrySettings::backoff`].
    pub fn backoff(mut self, backoff: Duration) -> TelemetrySettings {
        self.backoff = backoff;
        self
    }

    /// Sets [`TelemetrySettings::max_backoff`].
    pub fn max_backoff(mut self, max: Duration) -> TelemetrySettings {
        self.max_backoff = max;
        self
    }

    /// Sets [`TelemetrySettings::max_rate_limit_wait`].
    pub fn max_rate_limit_wait(mut self, max: Duration) -> TelemetrySettings {
        self.max_rate_limit_wait = max;
        self
    }

    /// Sets [`TelemetrySettings::series_compression`].
    pub fn series_compression(mut self, c: SeriesCompression) -> TelemetrySettings {
        self.series_compression = c;
        self
    }

    /// Sets [`TelemetrySettings::logs_compression`].
    pub fn logs_compression(mut self, c: LogsCompression) -> TelemetrySettings {
        self.logs_compression = c;
        self
    }
}

/// Counts by kind of data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KindCounts {
    /// Metric points.
    pub points: u64,
    /// Log entries.
    pub logs: u64,
    /// Events.
    pub events: u64,
    /// Service checks.
    pub service_checks: u64,
}

impl std::ops::AddAssign for KindCounts {
    fn add_assign(&mut self, o: KindCounts) {
        self.points += o.points;
        self.logs += o.logs;
        self.events += o.events;
        self.service_checks += o.service_checks;
    }
}

/// What an installation's intake (or all of them) did so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntakeStats {
    /// Accepted by `send` / `try_send`.
    pub accepted: KindCounts,
    /// Accepted by Datadog (2xx).
    pub delivered: KindCounts,
    /// Given up on (see the failures `flush` reports).
    pub undelivered: KindCounts,
    /// HTTP requests made.
    pub requests: u64,
    /// Of which retries.
    pub retries: u64,
    /// Payloads split in halves: too large once compressed, or answered 413.
    pub splits: u64,
    /// Body bytes as sent, of the payloads Datadog accepted.
    pub wire_bytes: u64,
    /// The same payloads' bytes uncompressed.
    pub raw_bytes: u64,
    /// Budget bytes held now by queued and in-flight data.
    pub queued_bytes: usize,
}

impl std::ops::AddAssign for IntakeStats {
    fn add_assign(&mut self, o: IntakeStats) {
        self.accepted += o.accepted;
        self.delivered += o.delivered;
        self.undelivered += o.undelivered;
        self.requests += o.requests;
        self.retries += o.retries;
        self.splits += o.splits;
        self.wire_bytes += o.wire_bytes;
        self.raw_bytes += o.raw_bytes;
        self.queued_bytes += o.queued_bytes;
    }
}

/// What `flush` or `shutdown` could not deliver: one [`TelemetryError::Undelivered`] per
/// installation, kind of data and cause.
#[derive(Clone, Debug, PartialEq)]
pub struct FlushError(pub Vec<TelemetryError>);

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FlushError {}

fn flushed(failures: Vec<TelemetryError>) -> Result<(), FlushError> {
    if failures.is_empty() {
        Ok(())
    } else {
        Err(FlushError(failures))
    }
}

/// The largest queue budget: permits are taken in `u32`, and a semaphore holds at most
/// `Semaphore::MAX_PERMITS`.
const MAX_QUEUE_BYTES: usize = if (u32::MAX as usize) < Semaphore::MAX_PERMITS {
    u32::MAX as usize
} else {
    Semaphore::MAX_PERMITS
};

/// The longest linger: a deadline `Instant::now() + linger` cannot overflow.
const MAX_LINGER: Duration = Duration::from_secs(365 * 24 * 3600);

/// Builds a [`Telemetry`].
#[must_use]
pub struct TelemetryBuilder {
    endpoints: Endpoints,
    http: HttpConfig,
    shared: Option<DatadogHttp>,
    settings: TelemetrySettings,
    hook: Option<KeyRejectedHook>,
}

impl fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("endpoints", &self.endpoints)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    /// Where Datadog's hosts are (default: Datadog itself; the sandbox in tests).
    pub fn endpoints(mut self, endpoints: Endpoints) -> TelemetryBuilder {
        self.endpoints = endpoints;
        self
    }

    /// The HTTP client's time-outs.
    pub fn http_config(mut self, config: HttpConfig) -> TelemetryBuilder {
        self.http = config;
        self
    }

    /// Shares an existing client's connection pool and endpoints (the installer's:
    /// `installer.oauth().http()`) instead of opening a new one.
    pub fn http(mut self, http: &DatadogHttp) -> TelemetryBuilder {
        self.shared = Some(http.clone());
        self
    }

    /// Queues, batches and retries.
    pub fn settings(mut self, settings: TelemetrySettings) -> TelemetryBuilder {
        self.settings = settings;
        self
    }

    /// The partner's hooks (the installer's: [`Installer::hooks`](crate::Installer::hooks)):
    /// [`Hooks::key_rejected`](crate::hooks::Hooks::key_rejected) runs once for each
    /// installation whose key Datadog refuses, to mark it in the partner's records and tell the
    /// customer to reconnect.
    pub fn hooks(mut self, hooks: Arc<dyn crate::hooks::Hooks>) -> TelemetryBuilder {
        self.hook = Some(hooks);
        self
    }

    /// The telemetry.
    ///
    /// # Errors
    /// [`ConfigError::Http`] when the HTTP client cannot be built.
    pub fn build(self) -> Result<Telemetry, ConfigError> {
        let http = match self.shared {
            Some(http) => http,
            None => DatadogHttp::new(self.endpoints, &self.http).map_err(ConfigError::Http)?,
        };
        // The pool of the given client, whatever host the probe names.
        let (client, _) = http.post(http.url("api.datadoghq.com", "/")).build_split();
        // The fields are public, and a budget counts in `u32` permits: what a semaphore or an
        // `Instant` cannot hold is clamped here, not a panic later.
        let mut settings = self.settings;
        settings.queue_bytes = settings.queue_bytes.min(MAX_QUEUE_BYTES);
        settings.total_queue_bytes = settings.total_queue_bytes.min(MAX_QUEUE_BYTES);
        settings.linger = settings.linger.min(MAX_LINGER);
        let global = Arc::new(Semaphore::new(settings.total_queue_bytes));
        Ok(Telemetry {
            inner: Arc::new(Inner {
                transport: Arc::new(Transport {
                    client,
                    endpoints: http.endpoints().clone(),
                    // The field is public: a 0 set by hand would stall every delivery.
                    slots: Semaphore::new(
                        settings.total_in_flight.clamp(1, Semaphore::MAX_PERMITS),
                    ),
                }),
                settings,
                global,
                queues: Mutex::new(HashMap::new()),
                closed: AtomicBool::new(false),
                hook: self.hook,
            }),
        })
    }
}

/// Telemetry for every installation of the process: one connection pool, one queue and worker
/// per installation. Cheap to clone. Workers run on the Tokio runtime the intakes are made in.
///
/// Call [`Telemetry::shutdown`] before the process exits; dropping the last clone instead lets
/// the workers deliver what they hold in the background, unawaited.
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<Transport>,
    settings: TelemetrySettings,
    global: Arc<Semaphore>,
    queues: Mutex<HashMap<InstallationId, Arc<Queue>>>,
    closed: AtomicBool,
    hook: Option<KeyRejectedHook>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let queues = self
            .queues
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for queue in queues.values() {
            queue.close_in_background();
        }
    }
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("endpoints", &self.inner.transport.endpoints)
            .field("installations", &self.queues().len())
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// A builder.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder {
            endpoints: Endpoints::datadog(),
            http: HttpConfig::default(),
            shared: None,
            settings: TelemetrySettings::default(),
            hook: None,
        }
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, HashMap<InstallationId, Arc<Queue>>> {
        self.inner
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The intake of a stored installation, with its region and marketplace API key.
    ///
    /// # Errors
    /// [`TelemetryError::NoApiKey`] when it has no key, [`TelemetryError::Inactive`] when it is
    /// revoked, disconnected or replaced, [`TelemetryError::Closed`] after
    /// [`shutdown`](Self::shutdown).
    ///
    /// # Panics
    /// Outside a Tokio runtime, the first time an installation is used.
    pub fn installation<I: DatadogIntegration>(
        &self,
        installation: &Installation,
    ) -> Result<Intake<I>, TelemetryError> {
        if installation.status != InstallationStatus::Active {
            return Err(TelemetryError::Inactive {
                installation: installation.id.clone(),
                status: format!("{:?}", installation.status),
            });
        }
        let key = installation
            .api_key
            .as_ref()
            .ok_or_else(|| TelemetryError::NoApiKey {
                installation: installation.id.clone(),
            })?;
        self.intake(
            installation.id.clone(),
            installation.domain,
            key.key.clone(),
        )
    }

    /// The intake of an installation given its parts. The first call for an id starts its
    /// worker; later calls return the same intake (the key given first is kept).
    ///
    /// # Errors
    /// [`TelemetryError::Closed`] after [`shutdown`](Self::shutdown).
    ///
    /// # Panics
    /// Outside a Tokio runtime, the first time an installation is used.
    pub fn intake<I: DatadogIntegration>(
        &self,
        id: InstallationId,
        domain: Domain,
        key: ApiKey,
    ) -> Result<Intake<I>, TelemetryError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(TelemetryError::Closed { installation: id });
        }
        let mut queues = self.queues();
        let queue = queues.entry(id.clone()).or_insert_with(|| {
            Queue::start(
                id,
                domain,
                key,
                Arc::clone(&self.inner.transport),
                self.inner.settings.clone(),
                Arc::clone(&self.inner.global),
                self.inner.hook.clone(),
            )
        });
        Ok(Intake {
            queue: Arc::clone(queue),
            integration: PhantomData,
        })
    }

    /// Delivers everything accepted so far, for every installation.
    ///
    /// # Errors
    /// What could not be delivered since the last flush.
    pub async fn flush(&self) -> Result<(), FlushError> {
        let queues: Vec<Arc<Queue>> = self.queues().values().cloned().collect();
        let mut tasks = tokio::task::JoinSet::new();
        for queue in queues {
            tasks.spawn(async move { queue.flush().await });
        }
        let mut failures = Vec::new();
        while let Some(done) = tasks.join_next().await {
            failures.extend(done.unwrap_or_default());
        }
        flushed(failures)
    }

    /// Stops one installation's telemetry (after it was disconnected, say): what it holds is
    /// delivered first.
    ///
    /// # Errors
    /// What could not be delivered.
    pub async fn remove(&self, id: &InstallationId) -> Result<(), FlushError> {
        let queue = self.queues().remove(id);
        match queue {
            Some(queue) => flushed(queue.close().await),
            None => Ok(()),
        }
    }

    /// Accepts nothing more, delivers everything accepted (retries included), and stops every
    /// worker.
    ///
    /// # Errors
    /// What could not be delivered since the last flush.
    pub async fn shutdown(&self) -> Result<(), FlushError> {
        self.inner.closed.store(true, Ordering::Release);
        let queues: Vec<Arc<Queue>> = self.queues().drain().map(|(_, q)| q).collect();
        let mut tasks = tokio::task::JoinSet::new();
        for queue in queues {
            tasks.spawn(async move { queue.close().await });
        }
        let mut failures = Vec::new();
        while let Some(done) = tasks.join_next().await {
            failures.extend(done.unwrap_or_default());
        }
        tracing::info!(undelivered = failures.len(), "telemetry shut down");
        flushed(failures)
    }

    /// The counts of every installation together.
    pub fn stats(&self) -> IntakeStats {
        let mut total = IntakeStats::default();
        for queue in self.queues().values() {
            total += queue.stats();
        }
        total
    }

    /// The settings in force.
    pub fn settings(&self) -> &TelemetrySettings {
        &self.inner.settings
    }
}

/// One installation's intake: sends its telemetry with its marketplace API key to its region.
/// Cheap to clone.
pub struct Intake<I> {
    queue: Arc<Queue>,
    integration: PhantomData<fn() -> I>,
}

impl<I> Clone for Intake<I> {
    fn clone(&self) -> Intake<I> {
        Intake {
            queue: Arc::clone(&self.queue),
            integration: PhantomData,
        }
    }
}

impl<I> fmt::Debug for Intake<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Intake")
            .field("installation", &self.queue.id)
            .field("domain", &self.queue.domain)
            .finish_non_exhaustive()
    }
}

/// What [`Intake::send`] returns: ready when the data was queued (or refused) at the call, and
/// waiting for room only while the installation's queue is full (or a closed payload waits for
/// a delivery to start). Await it.
#[must_use = "await it: the data waits for room in the queue until then"]
pub struct Sending<'a>(SendingState<'a>);

enum SendingState<'a> {
    /// Queued at the call.
    Queued,
    /// Refused at the call (boxed: the common case stays a few bytes to return and poll).
    Refused(Option<Box<TelemetryError>>),
    Waiting(Pin<Box<dyn Future<Output = Result<(), TelemetryError>> + Send + 'a>>),
}

impl Sending<'_> {
    fn refused(error: TelemetryError) -> Self {
        Sending(SendingState::Refused(Some(Box::new(error))))
    }
}

impl fmt::Debug for Sending<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            SendingState::Queued => "Sending(queued)",
            SendingState::Refused(_) => "Sending(refused)",
            SendingState::Waiting(_) => "Sending(waiting for room)",
        })
    }
}

impl Future for Sending<'_> {
    type Output = Result<(), TelemetryError>;

    #[inline]
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match &mut self.0 {
            SendingState::Queued => std::task::Poll::Ready(Ok(())),
            SendingState::Refused(error) => {
                std::task::Poll::Ready(error.take().map_or(Ok(()), |e| Err(*e)))
            }
            SendingState::Waiting(future) => future.as_mut().poll(cx),
        }
    }
}

impl<I: DatadogIntegration> Intake<I> {
    /// Queues `data` ([`Points`], [`Log`], [`Event`], [`ServiceCheck`]), waiting while the
    /// installation's queue is full or a closed payload waits for a delivery to start. Returns once
    /// it is accepted, before it is delivered.
    ///
    /// # Errors
    /// The data refused before sending (undeclared, out of Datadog's limits), or
    /// [`TelemetryError::KeyRejected`] / [`TelemetryError::Closed`].
    ///
    /// The data is checked and, when there is room, queued at the call; the future then only
    /// waits for room when the queue is full. Its type holds nothing of `D`, so data the
    /// integration does not declare is one compile error at the call.
    #[inline]
    pub fn send<D: Submission<I>>(&self, data: D) -> Sending<'_> {
        let item = match data.prepare(data::send_now_ms()) {
            Ok(Prepared(item)) => item,
            Err(e) => return Sending::refused(e),
        };
        match self.queue.offer(item, true) {
            worker::Offer::Queued => Sending(SendingState::Queued),
            worker::Offer::Full(item) | worker::Offer::FullGlobally(item, _) => {
                Sending(SendingState::Waiting(Box::pin(self.queue.send(*item))))
            }
            worker::Offer::Refused(e) => Sending::refused(*e),
        }
    }

    /// Queues `data` if there is room now.
    ///
    /// # Errors
    /// As [`send`](Self::send), and [`TelemetryError::Full`] instead of waiting.
    pub fn try_send(&self, data: impl Submission<I>) -> Result<(), TelemetryError> {
        let Prepared(item) = data.prepare(data::send_now_ms())?;
        self.queue.try_send(item)
    }

    /// Delivers everything accepted so far (retries included) and returns.
    ///
    /// # Errors
    /// What could not be delivered since the last flush.
    pub async fn flush(&self) -> Result<(), FlushError> {
        flushed(self.queue.flush().await)
    }

    /// What this installation's intake did so far.
    pub fn stats(&self) -> IntakeStats {
        self.queue.stats()
    }

    /// The installation.
    pub fn installation(&self) -> &InstallationId {
        &self.queue.id
    }

    /// Its region.
    pub fn domain(&self) -> Domain {
        self.queue.domain
    }

    /// Why nothing is sent any more, once Datadog refused the key.
    pub fn key_rejected(&self) -> Option<TelemetryError> {
        self.queue
            .is_rejected()
            .then(|| self.queue.key_rejected_error())
    }
}
