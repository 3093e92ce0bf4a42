//! One installation's queue and the task that empties it: batches within Datadog's limits,
//! deliveries with retries, and the accounting that bounds memory.
//!
//! Each installation has its own queue, its own byte budget and its own worker task, so an org
//! whose intake is slow (or rate-limited, or down) holds only its own budget and its own
//! in-flight requests: it can neither stall the others nor take their memory. Every worker
//! shares the process's HTTP client, hence its connection pool.
//!
//! A sender writes its data straight into the payload being filled, under the queue's lock:
//! no message, no per-item allocation, no per-item atomic besides the lock. The process-wide
//! byte budget is taken in chunks, so that a sender touches it once per about a thousand
//! points, not once per point. The worker is woken only when a payload starts (to arm its
//! linger) or is closed (to deliver it); flushes and closes come by a channel.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use tokio::sync::{Notify, Semaphore, TryAcquireError, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tracing::Instrument as _;
use url::Url;

use super::batch::{ArrayBatch, Body, Codec, SeriesBatch};
use super::data::Item;
use super::error::{DeliveryFailure, TelemetryError};
use super::{IntakeStats, KindCounts, TelemetrySettings, limits};
use crate::endpoint::Endpoints;
use crate::error::{RateLimit, quoted_answer};
use crate::installation::InstallationId;
use crate::integration::DataKind;
use crate::secret::ApiKey;
use crate::site::Domain;
use crate::transport::{Backoff, BodyLimit, Reply, exchange};

/// What a worker reads from its control channel (the data itself is in [`Staging`]).
pub(crate) enum Control {
    /// Send everything accepted so far, then answer with the failures since the last answer.
    Flush(oneshot::Sender<Vec<TelemetryError>>),
    /// Accept nothing more; deliver everything, answer, and stop.
    Close(Option<oneshot::Sender<Vec<TelemetryError>>>),
}

const OPEN: u8 = 0;
const REJECTED: u8 = 1;
const CLOSED: u8 = 2;

/// The process-wide budget is taken this much at a time (or what one item needs, if more; a
/// 64th of the process-wide budget if that is less), and a queue keeps at most that much of it
/// unused while it holds data; an idle queue gives all of it back.
const RESERVE_CHUNK: usize = 64 << 10;

/// The HTTP client and where it sends, shared by every installation.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) client: reqwest::Client,
    pub(crate) endpoints: Endpoints,
    /// Requests in flight, all installations together (`total_in_flight`).
    pub(crate) slots: Semaphore,
}

/// Called once when Datadog refuses an installation's key.
pub(crate) type KeyRejectedHook = Arc<dyn crate::hooks::Hooks>;

/// What [`Queue::offer`] did with an item.
pub(crate) enum Offer {
    /// Queued.
    Queued,
    /// No room in the installation's budget now (or, for a sender that waits, a closed payload
    /// already waits for a delivery slot): the item, to wait with.
    Full(Box<Item<'static>>),
    /// No room in the process-wide budget now: the item, and the bytes it lacks.
    FullGlobally(Box<Item<'static>>, usize),
    /// Refused for good (closed, too large, a key refused); boxed, so that an offer is a few
    /// bytes to return.
    Refused(Box<TelemetryError>),
}

/// A closed payload waiting for an in-flight slot.
struct Ready {
    seq: u64,
    body: Body,
    cost: usize,
}

/// What senders fill and the worker empties, under the queue's lock.
struct Staging {
    series: SeriesBatch,
    logs: ArrayBatch,
    checks: ArrayBatch,
    /// Closed payloads the worker has not started delivering, oldest first.
    closed: VecDeque<Ready>,
    next_seq: u64,
    /// When the open batches are closed (their linger), once one holds data.
    deadline: Option<Instant>,
    /// Budget bytes held: open batches, closed payloads, deliveries in flight.
    held: usize,
    /// Bytes of the process-wide budget taken for this queue and not yet used.
    reserve: usize,
    /// False once the queue closes: nothing more is taken.
    accepting: bool,
    /// The size a metric payload is filled to ([`series_target`]), planned from the last one.
    series_target: usize,
    /// Accepted by `send` and `try_send`, by kind: counted under the lock already held.
    accepted: [u64; 4],
}

/// What the last metric payload measured, as first encoded: its rendered over wire bytes
/// (`ratio`) and its counted over rendered bytes (`fill`: fractional values are counted at
/// their longest).
#[derive(Clone, Copy, Debug)]
struct Measured {
    ratio: f64,
    fill: f64,
}

/// The size a metric payload is filled to, in the batch's counted bytes: the wire limit
/// uncompressed; compressed, what the last measured ratio says fits it, with a margin, under
/// the decompressed limit (before any payload, the codec's usual ratio). Planned once a payload,
/// not at each point.
fn series_target(codec: Codec, last: Option<Measured>) -> usize {
    if codec == Codec::Identity {
        return limits::SERIES_MAX_WIRE_BYTES;
    }
    let Measured { ratio, fill } = last.unwrap_or(Measured {
        ratio: codec.initial_ratio(),
        fill: 1.0,
    });
    let planned = limits::SERIES_MAX_WIRE_BYTES as f64
        * ratio.clamp(1.0, 100.0)
        * 0.85
        * fill.clamp(1.0, 4.0);
    (planned as usize).clamp(
        limits::SERIES_MAX_WIRE_BYTES / 2,
        limits::SERIES_DECOMPRESSED_LIMIT - 1,
    )
}

impl Staging {
    fn is_empty(&self) -> bool {
        self.series.is_empty() && self.logs.is_empty() && self.checks.is_empty()
    }

    fn close_ready(&mut self, body: Body, cost: usize) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.closed.push_back(Ready { seq, body, cost });
    }

    fn close_series(&mut self) {
        if !self.series.is_empty() {
            let cost = std::mem::take(&mut self.series.cost);
            let payload = self.series.take();
            self.close_ready(Body::Series(payload), cost);
        }
    }

    fn close_logs(&mut self) {
        if !self.logs.is_empty() {
            let cost = std::mem::take(&mut self.logs.cost);
            let payload = self.logs.take();
            self.close_ready(Body::Logs(payload), cost);
        }
    }

    fn close_checks(&mut self) {
        if !self.checks.is_empty() {
            let cost = std::mem::take(&mut self.checks.cost);
            let payload = self.checks.take();
            self.close_ready(Body::Checks(payload), cost);
        }
    }

    fn close_batches(&mut self) {
        self.close_series();
        self.close_logs();
        self.close_checks();
        self.deadline = None;
    }

    /// Adds an accepted item to the payloads. Whether the worker must be woken: a payload was
    /// closed, or one started and its linger must be armed.
    #[inline]
    fn add(&mut self, item: Item<'_>, cost: usize, settings: &TelemetrySettings) -> bool {
        let closed_before = self.closed.len();
        match item {
            Item::Points { header, points } => {
                let target = self.series_target;
                points.for_each(|t, v| {
                    if !self.series.push(&header, t, v, target) {
                        self.close_series();
                        let pushed = self.series.push(&header, t, v, target);
                        debug_assert!(pushed, "an empty batch takes any point");
                    }
                });
                self.series.cost += cost;
            }
            Item::Log(entry) => {
                if !self.logs.fits(&entry) {
                    self.close_logs();
                }
                self.logs.push(&entry);
                self.logs.cost += cost;
                if self.logs.full() {
                    self.close_logs();
                }
            }
            Item::Check(entry) => {
                if !self.checks.fits(&entry) {
                    self.close_checks();
                }
                self.checks.push(&entry);
                self.checks.cost += cost;
                if self.checks.full() {
                    self.close_checks();
                }
            }
            Item::Event(event) => self.close_ready(Body::Event(event), cost),
        }
        // A payload holding half the queue's budget is sent now rather than when full or after
        // the linger: senders waiting for room get it back only once it is delivered. (With the
        // default 16 MiB, full payloads of either kind fit in half.)
        let share = settings.queue_bytes / 2;
        if self.series.cost >= share {
            self.close_series();
        }
        if self.logs.cost >= share {
            self.close_logs();
        }
        if self.checks.cost >= share {
            self.close_checks();
        }
        let mut wake = self.closed.len() > closed_before;
        if self.is_empty() {
            // Every batch closed by its size: the next one lingers from its own start.
            self.deadline = None;
        } else if self.deadline.is_none() {
            self.deadline = Some(Instant::now() + settings.linger);
            wake = true;
        }
        wake
    }
}

/// One installation's side of the telemetry: its queue, budget, counters and worker.
pub(crate) struct Queue {
    pub(crate) id: InstallationId,
    pub(crate) domain: Domain,
    key: ApiKey,
    transport: Arc<Transport>,
    settings: TelemetrySettings,
    tx: mpsc::UnboundedSender<Control>,
    staging: Mutex<Staging>,
    /// Wakes the worker: a payload closed, or one started.
    wake: Notify,
    /// Wakes senders waiting for room.
    room: Notify,
    global: Arc<Semaphore>,
    state: AtomicU8,
    rejected_status: AtomicU16,
    counters: Counters,
    urls: [Url; 4],
    hook: Option<KeyRejectedHook>,
    pub(crate) worker: Mutex<Option<JoinHandle<()>>>,
    span: tracing::Span,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("installation", &self.id)
            .field("domain", &self.domain)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Counters {
    delivered: [AtomicU64; 4],
    undelivered: [AtomicU64; 4],
    requests: AtomicU64,
    retries: AtomicU64,
    splits: AtomicU64,
    wire_bytes: AtomicU64,
    raw_bytes: AtomicU64,
}

fn slot(kind: DataKind) -> usize {
    match kind {
        DataKind::Metrics => 0,
        DataKind::Logs => 1,
        DataKind::Events => 2,
        DataKind::ServiceChecks => 3,
    }
}

fn counts(a: &[AtomicU64; 4]) -> KindCounts {
    let get = |i: usize| a[i].load(Ordering::Relaxed);
    KindCounts {
        points: get(0),
        logs: get(1),
        events: get(2),
        service_checks: get(3),
    }
}

impl Queue {
    /// A queue for one installation, and its worker started.
    pub(crate) fn start(
        id: InstallationId,
        domain: Domain,
        key: ApiKey,
        transport: Arc<Transport>,
        settings: TelemetrySettings,
        global: Arc<Semaphore>,
        hook: Option<KeyRejectedHook>,
    ) -> Arc<Queue> {
        let (tx, rx) = mpsc::unbounded_channel();
        let api = domain.api_host();
        let urls = [
            transport.endpoints.url(&api, "/api/v2/series"),
            transport
                .endpoints
                .url(&domain.logs_intake_host(), "/api/v2/logs"),
            transport.endpoints.url(&api, "/api/v1/events"),
            transport.endpoints.url(&api, "/api/v1/check_run"),
        ];
        let span = tracing::info_span!("datadog.intake", installation = %id, %domain);
        let staging = Staging {
            series: SeriesBatch::default(),
            logs: ArrayBatch::logs(),
            checks: ArrayBatch::checks(),
            closed: VecDeque::new(),
            next_seq: 0,
            deadline: None,
            held: 0,
            reserve: 0,
            accepting: true,
            series_target: series_target(Codec::from(settings.series_compression), None),
            accepted: [0; 4],
        };
        let queue = Arc::new(Queue {
            id,
            domain,
            key,
            transport,
            settings,
            tx,
            staging: Mutex::new(staging),
            wake: Notify::new(),
            room: Notify::new(),
            global,
            state: AtomicU8::new(OPEN),
            rejected_status: AtomicU16::new(0),
            counters: Counters::default(),
            urls,
            hook,
            worker: Mutex::new(None),
            span,
        });
        let worker = Worker::new(Arc::clone(&queue), rx);
        let handle = tokio::spawn(worker.run().instrument(queue.span.clone()));
        *queue.worker.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        queue
    }

    #[inline]
    fn staging(&self) -> MutexGuard<'_, Staging> {
        self.staging.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[inline]
    fn check_open(&self) -> Result<(), TelemetryError> {
        match self.state.load(Ordering::Acquire) {
            OPEN => Ok(()),
            REJECTED => Err(self.key_rejected_error()),
            _ => Err(TelemetryError::Closed {
                installation: self.id.clone(),
            }),
        }
    }

    pub(crate) fn key_rejected_error(&self) -> TelemetryError {
        TelemetryError::KeyRejected {
            installation: self.id.clone(),
            domain: self.domain,
            masked_key: self.key.masked(),
            status: self.rejected_status.load(Ordering::Acquire),
        }
    }

    pub(crate) fn is_rejected(&self) -> bool {
        self.state.load(Ordering::Acquire) == REJECTED
    }

    #[inline]
    fn too_large(&self, cost: usize) -> Option<TelemetryError> {
        let capacity = self
            .settings
            .queue_bytes
            .min(self.settings.total_queue_bytes);
        (cost > capacity).then_some(TelemetryError::TooLargeForQueue {
            size: cost,
            capacity,
        })
    }

    fn closed(&self) -> TelemetryError {
        if self.is_rejected() {
            self.key_rejected_error()
        } else {
            TelemetryError::Closed {
                installation: self.id.clone(),
            }
        }
    }

    /// The error of a sender that does not wait: which budget is full.
    pub(crate) fn full_error(&self, globally: bool) -> TelemetryError {
        TelemetryError::Full {
            installation: self.id.clone(),
            capacity: if globally {
                self.settings.total_queue_bytes
            } else {
                self.settings.queue_bytes
            },
        }
    }

    /// Waits for room, then queues `item`.
    pub(crate) async fn send(&self, mut item: Item<'static>) -> Result<(), TelemetryError> {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            // Registered before looking, so that room made after the look is not missed.
            room.as_mut().enable();
            match self.offer(item, true) {
                Offer::Queued => return Ok(()),
                Offer::Refused(e) => return Err(*e),
                Offer::Full(back) => {
                    item = *back;
                    room.await;
                }
                Offer::FullGlobally(back, lacking) => {
                    item = *back;
                    // In line with the other installations' senders, first come first served.
                    let permits = self
                        .global
                        .acquire_many(permits(lacking))
                        .await
                        .map_err(|_| self.closed())?;
                    permits.forget();
                    self.give_reserve(lacking);
                }
            }
        }
    }

    /// Queues `item` if there is room now.
    pub(crate) fn try_send(&self, item: Item<'_>) -> Result<(), TelemetryError> {
        match self.offer(item, false) {
            Offer::Queued => Ok(()),
            Offer::Full(_) => Err(self.full_error(false)),
            Offer::FullGlobally(..) => Err(self.full_error(true)),
            Offer::Refused(e) => Err(*e),
        }
    }

    /// Queues `item` if there is room now; else the item comes back, to wait with. A sender
    /// that waits (`waits`) also finds no room while a closed payload waits for a delivery slot
    /// (every one of `max_in_flight` busy, or the worker not yet run): memory stays the payloads
    /// in flight and the one being filled, not the whole budget, when the sender outruns the
    /// deliveries (on the same core, it always can).
    #[inline]
    pub(crate) fn offer(&self, item: Item<'_>, waits: bool) -> Offer {
        if let Err(e) = self.check_open() {
            return Offer::Refused(Box::new(e));
        }
        let cost = item.cost();
        if let Some(e) = self.too_large(cost) {
            return Offer::Refused(Box::new(e));
        }
        let (kind, count) = (item.kind(), item.count());
        let mut s = self.staging();
        // Not after a close, nor once the worker is gone (its runtime dropped, say: the
        // worker's drop stops the queue accepting).
        if !s.accepting {
            drop(s);
            return Offer::Refused(Box::new(self.closed()));
        }
        if s.held + cost > self.settings.queue_bytes || (waits && !s.closed.is_empty()) {
            return Offer::Full(Box::new(item.into_owned()));
        }
        if s.reserve < cost {
            let lacking = cost - s.reserve;
            let chunk = lacking.max(self.reserve_chunk());
            let taken = match self.global.try_acquire_many(permits(chunk)) {
                Ok(p) => {
                    p.forget();
                    chunk
                }
                Err(TryAcquireError::NoPermits) => {
                    match self.global.try_acquire_many(permits(lacking)) {
                        Ok(p) => {
                            p.forget();
                            lacking
                        }
                        Err(TryAcquireError::NoPermits) => {
                            return Offer::FullGlobally(Box::new(item.into_owned()), lacking);
                        }
                        Err(TryAcquireError::Closed) => {
                            drop(s);
                            return Offer::Refused(Box::new(self.closed()));
                        }
                    }
                }
                Err(TryAcquireError::Closed) => {
                    drop(s);
                    return Offer::Refused(Box::new(self.closed()));
                }
            };
            s.reserve += taken;
        }
        s.reserve -= cost;
        s.held += cost;
        let wake = s.add(item, cost, &self.settings);
        s.accepted[slot(kind)] += count as u64;
        drop(s);
        if wake {
            self.wake.notify_one();
        }
        Offer::Queued
    }

    /// How much of the process-wide budget a queue takes at a time, and keeps while busy.
    fn reserve_chunk(&self) -> usize {
        RESERVE_CHUNK.min(self.settings.total_queue_bytes / 64)
    }

    /// Process-wide budget taken by a waiting sender: kept for its next try, or given back
    /// when the queue no longer takes anything (closed, or its key refused).
    fn give_reserve(&self, bytes: usize) {
        let mut s = self.staging();
        if s.accepting && self.state.load(Ordering::Acquire) == OPEN {
            s.reserve += bytes;
        } else {
            drop(s);
            self.global.add_permits(bytes);
        }
    }

    /// `cost` bytes delivered or dropped: back to the budgets, and waiting senders woken.
    fn release(&self, cost: usize) {
        let mut s = self.staging();
        s.held -= cost.min(s.held);
        s.reserve += cost;
        // An idle queue keeps none of the process-wide budget, a busy one at most a chunk.
        let keep = if s.held == 0 || !s.accepting {
            0
        } else {
            self.reserve_chunk()
        };
        let give = s.reserve.saturating_sub(keep);
        s.reserve -= give;
        drop(s);
        if give > 0 {
            self.global.add_permits(give);
        }
        self.room.notify_waiters();
    }

    /// Takes nothing more: senders after this (or waiting) are refused.
    fn stop_accepting(&self) {
        let mut s = self.staging();
        s.accepting = false;
        // What it holds gives its share back as it is delivered (`release` keeps none once the
        // queue stops accepting); an idle queue gives it back now.
        let give = if s.held == 0 {
            std::mem::take(&mut s.reserve)
        } else {
            0
        };
        drop(s);
        if give > 0 {
            self.global.add_permits(give);
        }
        self.room.notify_waiters();
    }

    /// Everything accepted so far delivered (or failed): the failures since the last answer.
    pub(crate) async fn flush(&self) -> Vec<TelemetryError> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Control::Flush(tx)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Stops accepting, delivers everything, stops the worker: the failures not yet reported.
    pub(crate) async fn close(&self) -> Vec<TelemetryError> {
        if self.state.load(Ordering::Acquire) == OPEN {
            let _ = self
                .state
                .compare_exchange(OPEN, CLOSED, Ordering::AcqRel, Ordering::Acquire);
        }
        self.stop_accepting();
        let (tx, rx) = oneshot::channel();
        let failures = if self.tx.send(Control::Close(Some(tx))).is_ok() {
            rx.await.unwrap_or_default()
        } else {
            Vec::new()
        };
        let worker = self
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        failures
    }

    /// Tells the worker to stop without waiting (the telemetry was dropped).
    pub(crate) fn close_in_background(&self) {
        let _ = self
            .state
            .compare_exchange(OPEN, CLOSED, Ordering::AcqRel, Ordering::Acquire);
        self.stop_accepting();
        let _ = self.tx.send(Control::Close(None));
    }

    pub(crate) fn stats(&self) -> IntakeStats {
        let c = &self.counters;
        let (accepted, queued_bytes) = {
            let s = self.staging();
            (s.accepted, s.held)
        };
        IntakeStats {
            accepted: KindCounts {
                points: accepted[0],
                logs: accepted[1],
                events: accepted[2],
                service_checks: accepted[3],
            },
            delivered: counts(&c.delivered),
            undelivered: counts(&c.undelivered),
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            splits: c.splits.load(Ordering::Relaxed),
            wire_bytes: c.wire_bytes.load(Ordering::Relaxed),
            raw_bytes: c.raw_bytes.load(Ordering::Relaxed),
            queued_bytes,
        }
    }

    fn reject(&self, status: u16) {
        self.rejected_status.store(status, Ordering::Release);
        let was = self.state.swap(REJECTED, Ordering::AcqRel);
        if was != REJECTED {
            tracing::error!(
                status,
                key = %self.key.masked(),
                "Datadog refused the installation's API key; nothing more is sent for it: the customer must connect the integration again"
            );
            // Senders waiting for room learn it now.
            self.room.notify_waiters();
            if let Some(hooks) = &self.hook {
                let (hooks, id, domain) = (Arc::clone(hooks), self.id.clone(), self.domain);
                // The hook may take its time (a database write, an e-mail): not on the queue's.
                tokio::spawn(async move { hooks.key_rejected(&id, domain).await });
            }
        }
    }
}

fn permits(cost: usize) -> u32 {
    u32::try_from(cost).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------
// The worker

/// What a delivery task reports.
struct Outcome {
    delivered: usize,
    failures: Vec<(usize, DeliveryFailure)>,
    /// What the payload measured as first encoded.
    measured: Option<Measured>,
}

/// What the worker knows of a delivery task.
struct Flight {
    seq: u64,
    cost: usize,
    kind: DataKind,
    count: usize,
}

struct Worker {
    queue: Arc<Queue>,
    rx: mpsc::UnboundedReceiver<Control>,
    inflight: JoinSet<Outcome>,
    flights: HashMap<tokio::task::Id, Flight>,
    waiters: Vec<(u64, oneshot::Sender<Vec<TelemetryError>>)>,
    closers: Vec<oneshot::Sender<Vec<TelemetryError>>>,
    failures: Vec<TelemetryError>,
    series_codec: Codec,
    logs_codec: Codec,
    /// A close was asked (or every handle dropped): deliver everything, then stop.
    closing: bool,
    rx_done: bool,
}

/// At most this many distinct failures are kept between two flushes.
const MAX_FAILURES: usize = 64;

impl Drop for Worker {
    /// However the worker ends (closed, or its runtime dropped with it), its queue takes
    /// nothing more: a sender hears `Closed` rather than an Ok for data nobody will deliver.
    fn drop(&mut self) {
        let _ =
            self.queue
                .state
                .compare_exchange(OPEN, CLOSED, Ordering::AcqRel, Ordering::Acquire);
        self.queue.stop_accepting();
    }
}

impl Worker {
    fn new(queue: Arc<Queue>, rx: mpsc::UnboundedReceiver<Control>) -> Worker {
        Worker {
            rx,
            inflight: JoinSet::new(),
            flights: HashMap::new(),
            waiters: Vec::new(),
            closers: Vec::new(),
            failures: Vec::new(),
            series_codec: Codec::from(queue.settings.series_compression),
            logs_codec: Codec::from(queue.settings.logs_compression),
            closing: false,
            rx_done: false,
            queue,
        }
    }

    fn max_in_flight(&self) -> usize {
        self.queue.settings.max_in_flight.max(1)
    }

    async fn run(mut self) {
        loop {
            let (deadline, idle) = self.step();
            self.answer_waiters();
            if self.closing && idle {
                break;
            }
            let queue = Arc::clone(&self.queue);
            let linger = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                done = self.inflight.join_next_with_id(), if !self.inflight.is_empty() => {
                    if let Some(done) = done {
                        self.finished(done);
                    }
                }
                msg = self.rx.recv(), if !self.rx_done => self.handle(msg),
                () = queue.wake.notified() => {}
                () = linger, if deadline.is_some() => {}
            }
        }
        let failures = std::mem::take(&mut self.failures);
        for (_, waiter) in self.waiters.drain(..) {
            let _ = waiter.send(Vec::new());
        }
        let mut closers = std::mem::take(&mut self.closers).into_iter();
        if let Some(first) = closers.next() {
            let _ = first.send(failures);
        }
        for other in closers {
            let _ = other.send(Vec::new());
        }
        tracing::debug!("telemetry worker stopped");
    }

    /// Closes what lingered long enough (everything when closing), drops everything once the
    /// key is refused, and starts deliveries while there are free slots: when the open batches
    /// must close, and whether nothing is left.
    fn step(&mut self) -> (Option<Instant>, bool) {
        let queue = Arc::clone(&self.queue);
        let mut s = queue.staging();
        if self.closing || s.deadline.is_some_and(|at| at <= Instant::now()) {
            s.close_batches();
        }
        let mut abandoned = Vec::new();
        // Datadog refused the key (a delivery marked the queue): nothing more is sent.
        if queue.is_rejected() {
            s.close_batches();
            abandoned.extend(s.closed.drain(..));
        }
        let free = self.max_in_flight().saturating_sub(self.inflight.len());
        let take = free.min(s.closed.len());
        let starting: Vec<Ready> = s.closed.drain(..take).collect();
        let deadline = s.deadline;
        let idle = s.closed.is_empty() && s.is_empty() && self.inflight.is_empty() && take == 0;
        drop(s);
        // Spawned outside the lock, which senders take at each point.
        let started = !starting.is_empty();
        for ready in starting {
            self.start(ready);
        }
        for r in abandoned {
            self.abandon(r.body.kind(), r.body.count(), r.cost);
        }
        if started {
            // Senders waiting for fewer closed payloads.
            queue.room.notify_waiters();
        }
        (deadline, idle)
    }

    fn handle(&mut self, msg: Option<Control>) {
        match msg {
            Some(Control::Flush(tx)) => {
                let mut s = self.queue.staging();
                s.close_batches();
                let boundary = s.next_seq;
                drop(s);
                self.waiters.push((boundary, tx));
            }
            Some(Control::Close(tx)) => {
                self.closing = true;
                // Buffered messages are still received, then `None`.
                self.rx.close();
                self.closers.extend(tx);
            }
            None => {
                self.rx_done = true;
                self.closing = true;
            }
        }
    }

    /// Starts delivering one payload.
    fn start(&mut self, Ready { seq, body, cost }: Ready) {
        let (kind, count) = (body.kind(), body.count());
        let codec = match kind {
            DataKind::Metrics => self.series_codec,
            DataKind::Logs => self.logs_codec,
            // Datadog documents no compression for events and service checks.
            DataKind::Events | DataKind::ServiceChecks => Codec::Identity,
        };
        let queue = Arc::clone(&self.queue);
        let span = tracing::debug_span!("datadog.intake.deliver", kind = kind.as_str(), count);
        let handle = self
            .inflight
            .spawn(deliver(queue, codec, body).instrument(span));
        self.flights.insert(
            handle.id(),
            Flight {
                seq,
                cost,
                kind,
                count,
            },
        );
    }

    fn finished(&mut self, done: Result<(tokio::task::Id, Outcome), tokio::task::JoinError>) {
        let (id, outcome) = match done {
            Ok((id, outcome)) => (id, Some(outcome)),
            Err(e) => (e.id(), None),
        };
        let Some(flight) = self.flights.remove(&id) else {
            return;
        };
        if let Some(Outcome {
            measured: Some(measured),
            ..
        }) = &outcome
            && flight.kind == DataKind::Metrics
        {
            let target = series_target(self.series_codec, Some(*measured));
            self.queue.staging().series_target = target;
        }
        self.queue.release(flight.cost);
        let c = &self.queue.counters;
        let outcome = outcome.unwrap_or_else(|| Outcome {
            delivered: 0,
            failures: vec![(
                flight.count,
                DeliveryFailure::Exhausted {
                    attempts: 0,
                    last: "the delivery task panicked".into(),
                },
            )],
            measured: None,
        });
        c.delivered[slot(flight.kind)].fetch_add(outcome.delivered as u64, Ordering::Relaxed);
        // A refused key marked the queue rejected: everything not yet sent is dropped at the
        // next step.
        for (count, failure) in outcome.failures {
            self.fail(flight.kind, count, failure);
        }
    }

    fn fail(&mut self, kind: DataKind, count: usize, failure: DeliveryFailure) {
        self.queue.counters.undelivered[slot(kind)].fetch_add(count as u64, Ordering::Relaxed);
        tracing::error!(kind = kind.as_str(), count, %failure, "telemetry not delivered");
        // One entry per kind and failure: counts add up.
        for existing in &mut self.failures {
            if let TelemetryError::Undelivered {
                kind: k,
                count: c,
                failure: f,
                ..
            } = existing
                && *k == kind
                && *f == failure
            {
                *c += count;
                return;
            }
        }
        if self.failures.len() < MAX_FAILURES {
            self.failures.push(TelemetryError::Undelivered {
                installation: self.queue.id.clone(),
                kind,
                count,
                failure,
            });
        }
    }

    fn abandon(&mut self, kind: DataKind, count: usize, cost: usize) {
        self.queue.release(cost);
        self.fail(kind, count, DeliveryFailure::Abandoned);
    }

    fn answer_waiters(&mut self) {
        if self.waiters.is_empty() {
            return;
        }
        // The oldest payload not yet finished: in flight, or closed and waiting for a slot.
        let waiting = self.queue.staging().closed.front().map(|r| r.seq);
        let in_flight = self.flights.values().map(|f| f.seq).min();
        let oldest = match (in_flight, waiting) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut i = 0;
        while i < self.waiters.len() {
            let boundary = self.waiters[i].0;
            if oldest.is_none_or(|o| o >= boundary) {
                let (_, tx) = self.waiters.swap_remove(i);
                let _ = tx.send(std::mem::take(&mut self.failures));
            } else {
                i += 1;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Delivery

/// Payloads this large are compressed on the blocking pool rather than on a runtime thread.
const BLOCKING_ENCODE: usize = 256 * 1024;

/// Delivers one payload, splitting it when it is too large compressed or answered 413.
async fn deliver(queue: Arc<Queue>, codec: Codec, body: Body) -> Outcome {
    let mut outcome = Outcome {
        delivered: 0,
        failures: Vec::new(),
        measured: None,
    };
    let mut stack = vec![body];
    while let Some(body) = stack.pop() {
        if queue.is_rejected() {
            outcome
                .failures
                .push((body.count(), DeliveryFailure::Abandoned));
            continue;
        }
        let kind = body.kind();
        let counted = body.raw_len();
        let (body, raw_len, wire) = encode(codec, body).await;
        if outcome.measured.is_none() && !wire.is_empty() {
            outcome.measured = Some(Measured {
                ratio: raw_len as f64 / wire.len() as f64,
                fill: counted as f64 / raw_len.max(1) as f64,
            });
        }
        let over = kind == DataKind::Metrics
            && (wire.len() > limits::SERIES_MAX_WIRE_BYTES
                || raw_len >= limits::SERIES_DECOMPRESSED_LIMIT);
        let posted = if over {
            Posted::TooLarge
        } else {
            post(&queue, kind, codec, raw_len, wire).await
        };
        match posted {
            Posted::Sent { at } => {
                // Datadog drops, with a 202, points older than an hour when it takes them.
                let expired = body.older_than(at.saturating_sub(limits::POINT_MAX_BEHIND_SECS));
                if expired > 0 {
                    tracing::warn!(expired, "metric points were over an hour old when sent");
                    outcome.failures.push((expired, DeliveryFailure::Expired));
                }
                outcome.delivered += body.count().saturating_sub(expired);
            }
            Posted::TooLarge => match body.split() {
                Ok((left, right)) => {
                    queue.counters.splits.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(bytes = raw_len, "payload split in halves");
                    stack.push(right);
                    stack.push(left);
                }
                Err(single) => outcome
                    .failures
                    .push((single.count(), DeliveryFailure::TooLarge)),
            },
            Posted::Failed(failure) => outcome.failures.push((body.count(), failure)),
        }
    }
    outcome
}

async fn encode(codec: Codec, body: Body) -> (Body, usize, Bytes) {
    if body.raw_len() < BLOCKING_ENCODE {
        let (len, wire) = codec.encode_body(&body);
        return (body, len, wire);
    }
    // CPU-bound: on the blocking pool, no more at once than there are cores.
    let _slot = ENCODERS.acquire().await;
    let work = move || {
        let (len, wire) = codec.encode_body(&body);
        (body, len, wire)
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Large payloads compressed at once, process-wide: one per core.
static ENCODERS: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

enum Posted {
    /// Accepted; `at` (Unix seconds): when the answer came, the latest Datadog can have judged
    /// the points' age.
    Sent {
        at: i64,
    },
    TooLarge,
    Failed(DeliveryFailure),
}

/// POSTs one encoded payload, retrying 408, 429 (after `X-RateLimit-Reset`), 5xx and transport
/// failures with jittered exponential backoff.
async fn post(queue: &Queue, kind: DataKind, codec: Codec, raw_len: usize, wire: Bytes) -> Posted {
    let settings = &queue.settings;
    let attempts = settings.attempts.max(1);
    let url = &queue.urls[slot(kind)];
    let c = &queue.counters;
    let mut last = String::new();
    for attempt in 1..=attempts {
        let mut request = queue
            .transport
            .client
            .post(url.clone())
            .header("DD-API-KEY", queue.key.expose_secret())
            .header(CONTENT_TYPE, "application/json")
            .body(wire.clone());
        if let Some(encoding) = codec.header() {
            request = request.header(CONTENT_ENCODING, encoding);
        }
        // Held for the request and its answer, not for the backoff after it. The semaphore is
        // never closed.
        let slot = queue.transport.slots.acquire().await.ok();
        c.requests.fetch_add(1, Ordering::Relaxed);
        let backoff = Backoff {
            first: settings.backoff,
            max: settings.max_backoff,
        };
        let wait = match exchange(request, BodyLimit::Truncate(16 * 1024)).await {
            Ok(Reply {
                status,
                headers,
                body,
            }) => {
                tracing::debug!(
                    status = status.as_u16(),
                    wire = wire.len(),
                    raw = raw_len,
                    "intake answered"
                );
                if status.is_success() {
                    let at = super::data::unix_now();
                    c.wire_bytes.fetch_add(wire.len() as u64, Ordering::Relaxed);
                    c.raw_bytes.fetch_add(raw_len as u64, Ordering::Relaxed);
                    return Posted::Sent { at };
                }
                match status {
                    StatusCode::PAYLOAD_TOO_LARGE => return Posted::TooLarge,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                        queue.reject(status.as_u16());
                        return Posted::Failed(DeliveryFailure::KeyRejected {
                            status: status.as_u16(),
                        });
                    }
                    StatusCode::TOO_MANY_REQUESTS => {
                        let rate_limit = RateLimit::from_headers(&headers);
                        last = format!("HTTP 429: {rate_limit}");
                        match rate_limit.reset {
                            Some(reset) => match backoff.after_rate_limit(
                                attempt,
                                reset,
                                settings.max_rate_limit_wait,
                            ) {
                                Some(wait) => wait,
                                None => {
                                    return Posted::Failed(DeliveryFailure::RateLimited {
                                        rate_limit,
                                    });
                                }
                            },
                            None => backoff.delay(attempt),
                        }
                    }
                    StatusCode::REQUEST_TIMEOUT => {
                        last = "HTTP 408".into();
                        backoff.delay(attempt)
                    }
                    s if s.is_server_error() => {
                        last = format!("HTTP {}", s.as_u16());
                        backoff.delay(attempt)
                    }
                    s => {
                        return Posted::Failed(DeliveryFailure::Refused {
                            status: s.as_u16(),
                            detail: error_detail(&body),
                        });
                    }
                }
            }
            Err(failure) => {
                last = failure.describe();
                backoff.delay(attempt)
            }
        };
        drop(slot);
        if attempt == attempts {
            break;
        }
        c.retries.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, failure = %last, "intake failed transiently; retrying");
        tokio::time::sleep(wait).await;
    }
    Posted::Failed(DeliveryFailure::Exhausted { attempts, last })
}

/// Datadog's error messages (`{"errors":["..."]}` or the logs intake's
/// `{"errors":[{"detail":"..."}]}`), escaped and shortened.
fn error_detail(body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let messages: Vec<String> = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.as_array())
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| {
                    e.as_str()
                        .or_else(|| e.get("detail").and_then(|d| d.as_str()))
                        .or_else(|| e.get("title").and_then(|d| d.as_str()))
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    if messages.is_empty() {
        quoted_answer(&String::from_utf8_lossy(body))
    } else {
        quoted_answer(&messages.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A metric payload is filled to the wire limit uncompressed; compressed, to what the last
    /// payload's ratio and fill say fits the wire limit with a margin, never past the
    /// decompressed limit nor under half the wire limit.
    #[test]
    fn a_metric_payload_is_planned_from_the_last_one_within_datadogs_limits() {
        let wire = limits::SERIES_MAX_WIRE_BYTES;
        let measured = |ratio, fill| Some(Measured { ratio, fill });
        assert_eq!(series_target(Codec::Identity, None), wire);
        assert_eq!(series_target(Codec::Identity, measured(8.0, 2.0)), wire);
        let gzip = Codec::Gzip(6);
        // Before any payload: the codec's usual ratio, 4.
        assert_eq!(series_target(gzip, None), wire * 4 * 85 / 100);
        // 512,000 × 10 × 0.85 × 1.2.
        assert_eq!(series_target(gzip, measured(10.0, 1.2)), 5_222_400);
        // A ratio or fill under 1 counts as 1; a payload never plans past the decompressed
        // limit.
        assert_eq!(series_target(gzip, measured(0.5, 0.5)), wire * 85 / 100);
        assert_eq!(
            series_target(gzip, measured(1000.0, 1.0)),
            limits::SERIES_DECOMPRESSED_LIMIT - 1
        );
        assert_eq!(series_target(gzip, measured(f64::NAN, 1.0)), wire / 2);
    }

    /// The settings are public fields: a backoff of `Duration::MAX` waits long, it does not
    /// overflow.
    #[test]
    fn a_backoff_of_duration_max_saturates_instead_of_overflowing() {
        let settings = TelemetrySettings::default()
            .backoff(Duration::MAX)
            .max_backoff(Duration::MAX);
        let backoff = Backoff {
            first: settings.backoff,
            max: settings.max_backoff,
        };
        for attempt in [1, 2, 30, u32::MAX] {
            assert!(backoff.delay(attempt) >= Duration::MAX / 2);
        }
    }
}
