//! Payloads within Datadog's limits: series grouped by their identity, logs and service checks
//! as JSON arrays, the compression of each, and the split in halves that a payload too large
//! once compressed (or answered 413) gets.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

use super::data::{SeriesHeader, render_point, whole};
use super::limits;
use crate::integration::DataKind;

/// How metric payloads are compressed (`Content-Encoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeriesCompression {
    /// Uncompressed.
    None,
    /// `gzip`, at this level (0 to 9).
    Gzip(u32),
    /// `deflate` (zlib), at this level (0 to 9): the spec's default.
    Deflate(u32),
    /// `zstd1`, at this level (1 to 22; 3 is zstd's default). Needs the `zstd` feature.
    #[cfg(feature = "zstd")]
    Zstd(i32),
    /// `zstd1` at the level chosen on measurement (the default with the `zstd` feature): level
    /// 3, zstd's default and Datadog's official client's, for payloads up to 256 KiB rendered,
    /// so that they are the official client's bytes; level 2 for larger ones, which a busy
    /// queue sends, where it costs an eighth less CPU per point for a few tenths of a percent
    /// more bytes per payload (BENCHMARKS.md, "Telemetry: the client's own cost").
    #[cfg(feature = "zstd")]
    Recommended,
}

impl Default for SeriesCompression {
    /// [`SeriesCompression::Recommended`] with the `zstd` feature (the default), else `gzip` at
    /// level 6.
    fn default() -> SeriesCompression {
        #[cfg(feature = "zstd")]
        {
            SeriesCompression::Recommended
        }
        #[cfg(not(feature = "zstd"))]
        {
            SeriesCompression::Gzip(6)
        }
    }
}

/// How log payloads are compressed (`Content-Encoding`); Datadog does not take zstd for logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogsCompression {
    /// Uncompressed.
    None,
    /// `gzip` at this level (0 to 9): Datadog's recommendation; level 6 by default.
    Gzip(u32),
    /// `deflate` (zlib) at this level (0 to 9).
    Deflate(u32),
    /// `gzip` at level 6.
    #[default]
    Recommended,
}

/// A content encoding, as applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    Identity,
    Gzip(u32),
    Deflate(u32),
    /// At the first level for payloads up to [`ZSTD_ONE_PASS`], the second past it.
    #[cfg(feature = "zstd")]
    Zstd(i32, i32),
}

impl From<SeriesCompression> for Codec {
    fn from(c: SeriesCompression) -> Codec {
        match c {
            SeriesCompression::None => Codec::Identity,
            SeriesCompression::Gzip(l) => Codec::Gzip(l.min(9)),
            SeriesCompression::Deflate(l) => Codec::Deflate(l.min(9)),
            #[cfg(feature = "zstd")]
            SeriesCompression::Zstd(l) => Codec::Zstd(l.clamp(1, 22), l.clamp(1, 22)),
            #[cfg(feature = "zstd")]
            SeriesCompression::Recommended => Codec::Zstd(3, 2),
        }
    }
}

impl From<LogsCompression> for Codec {
    fn from(c: LogsCompression) -> Codec {
        match c {
            LogsCompression::None => Codec::Identity,
            LogsCompression::Gzip(l) => Codec::Gzip(l.min(9)),
            LogsCompression::Deflate(l) => Codec::Deflate(l.min(9)),
            LogsCompression::Recommended => Codec::Gzip(6),
        }
    }
}

impl Codec {
    /// The `Content-Encoding` value, as Datadog's spec names it.
    pub(crate) fn header(self) -> Option<&'static str> {
        match self {
            Codec::Identity => None,
            Codec::Gzip(_) => Some("gzip"),
            Codec::Deflate(_) => Some("deflate"),
            #[cfg(feature = "zstd")]
            Codec::Zstd(..) => Some("zstd1"),
        }
    }

    /// The compression ratio to plan the first payload with, before one was measured.
    pub(crate) fn initial_ratio(self) -> f64 {
        match self {
            Codec::Identity => 1.0,
            _ => 4.0,
        }
    }

    /// `raw` encoded.
    #[cfg(test)]
    pub(crate) fn encode(self, raw: &[u8]) -> Vec<u8> {
        self.encode_into(raw, &mut Scratch::default()).to_vec()
    }

    /// `body` rendered and encoded, with buffers and compression contexts reused from a small
    /// pool: a payload is megabytes, and allocating them afresh each time costs more than
    /// compressing them. The rendered size and the bytes to send.
    pub(crate) fn encode_body(self, body: &Body) -> (usize, Bytes) {
        let mut scratch = Scratch::take();
        let (raw_len, wire) = match body.rendered() {
            Some(raw) => (raw.len(), self.encode_into(raw, &mut scratch)),
            None => {
                let mut raw = std::mem::take(&mut scratch.raw);
                raw.clear();
                body.render_into(&mut raw, &mut scratch.series);
                let wire = self.encode_into(&raw, &mut scratch);
                let len = raw.len();
                scratch.raw = raw;
                (len, wire)
            }
        };
        scratch.give_back();
        (raw_len, wire)
    }

    fn encode_into(self, raw: &[u8], scratch: &mut Scratch) -> Bytes {
        // Writing to a Vec cannot fail, nor can these encoders on valid levels.
        let out = &mut scratch.out;
        out.clear();
        match self {
            Codec::Identity => return Bytes::copy_from_slice(raw),
            Codec::Gzip(level) | Codec::Deflate(level) => {
                let gzip = matches!(self, Codec::Gzip(_));
                let state = match &mut scratch.deflate {
                    Some((c, d)) if *c == self => {
                        d.reset();
                        d
                    }
                    slot => {
                        let level = flate2::Compression::new(level);
                        // zlib-rs writes the gzip header and trailer itself.
                        let d = if gzip {
                            flate2::Compress::new_gzip(level, 15)
                        } else {
                            flate2::Compress::new(level, true)
                        };
                        &mut slot.insert((self, d)).1
                    }
                };
                out.reserve(raw.len() + raw.len() / 64 + 1024);
                let mut input = raw;
                loop {
                    let before = state.total_in();
                    let status = state
                        .compress_vec(input, out, flate2::FlushCompress::Finish)
                        .expect("deflate into memory");
                    let used = usize::try_from(state.total_in() - before).unwrap_or(input.len());
                    input = &input[used..];
                    if status == flate2::Status::StreamEnd {
                        break;
                    }
                    out.reserve(out.capacity().max(4096));
                }
            }
            #[cfg(feature = "zstd")]
            Codec::Zstd(_, level) if raw.len() > ZSTD_ONE_PASS => {
                // In one pass over the whole payload: a stream copies its input into its window
                // and matches across the copies, a fifth more of zstd's time on the payloads of
                // megabytes a busy queue sends. Past 256 KiB zstd picks the level's own tables
                // either way, so the bytes are the stream's.
                let compressor = match &mut scratch.zstd_bulk {
                    Some((l, c)) if *l == level => c,
                    slot => {
                        let mut c = zstd::bulk::Compressor::new(level).expect("a zstd context");
                        // No content size in the frame's header, as a stream writes it: the
                        // same bytes, not 3 more.
                        c.set_parameter(zstd::zstd_safe::CParameter::ContentSizeFlag(false))
                            .expect("a zstd parameter");
                        &mut slot.insert((level, c)).1
                    }
                };
                out.reserve(zstd::zstd_safe::compress_bound(raw.len()));
                compressor
                    .compress_to_buffer(raw, out)
                    .expect("zstd into memory");
            }
            #[cfg(feature = "zstd")]
            Codec::Zstd(level, _) => {
                use zstd::stream::raw::{Encoder, InBuffer, Operation as _, OutBuffer};
                let encoder = match &mut scratch.zstd {
                    Some((l, e)) if *l == level => {
                        e.reinit().expect("resetting a zstd context");
                        e
                    }
                    slot => {
                        let e = Encoder::new(level).expect("a zstd context");
                        &mut slot.insert((level, e)).1
                    }
                };
                // As a stream, its size not told in advance: zstd then uses the level's own
                // tables, as Datadog's official client does, not the smaller ones it picks for
                // an input it knows is small (about 1 % more bytes on a payload of 10 KB).
                out.reserve(zstd::zstd_safe::compress_bound(raw.len()));
                let mut input = InBuffer::around(raw);
                loop {
                    let at = out.len();
                    let mut output = OutBuffer::around_pos(out, at);
                    let done = if input.pos() < raw.len() {
                        encoder
                            .run(&mut input, &mut output)
                            .expect("zstd into memory");
                        false
                    } else {
                        encoder.finish(&mut output, true).expect("zstd into memory") == 0
                    };
                    // The output's end of use: `out` is free again below.
                    let written = output.pos();
                    debug_assert_eq!(out.len(), written);
                    if done {
                        break;
                    }
                    if out.len() == out.capacity() {
                        out.reserve(64 << 10);
                    }
                }
            }
        }
        Bytes::copy_from_slice(out)
    }
}

/// Buffers and a zstd context, reused from payload to payload.
#[derive(Default)]
struct Scratch {
    raw: Vec<u8>,
    out: Vec<u8>,
    /// A deflate state (gzip or zlib framing), reset between payloads.
    deflate: Option<(Codec, flate2::Compress)>,
    /// A buffer per series, for rendering staged metric payloads.
    series: Vec<Vec<u8>>,
    #[cfg(feature = "zstd")]
    zstd: Option<(i32, zstd::stream::raw::Encoder<'static>)>,
    /// For payloads past [`ZSTD_ONE_PASS`].
    #[cfg(feature = "zstd")]
    zstd_bulk: Option<(i32, zstd::bulk::Compressor<'static>)>,
}

/// Metric payloads larger than this are compressed in one pass rather than as a stream.
#[cfg(feature = "zstd")]
const ZSTD_ONE_PASS: usize = 256 << 10;

/// At most this many scratch sets are kept, and none whose buffers grew past `SCRATCH_KEEP`.
const SCRATCH_POOL: usize = 4;
const SCRATCH_KEEP: usize = 12 << 20;
static SCRATCH: Mutex<Vec<Scratch>> = Mutex::new(Vec::new());

impl Scratch {
    fn take() -> Scratch {
        SCRATCH
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    fn give_back(self) {
        if self.raw.capacity() > SCRATCH_KEEP || self.out.capacity() > SCRATCH_KEEP {
            return;
        }
        let mut pool = SCRATCH.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < SCRATCH_POOL {
            pool.push(self);
        }
    }
}

/// Hashes a pointer (already unique and well spread) as itself.
#[derive(Default)]
pub(crate) struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        // Allocations are 16-byte aligned: drop the zero bits, mix the rest.
        (self.0 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = n as u64;
    }
}

/// `{"series":[` and `]}`.
const ENVELOPE: usize = 13;

/// One series in a payload: its header and its points rendered, comma-separated.
#[derive(Debug)]
struct Chunk {
    header: Arc<SeriesHeader>,
    points: Vec<u8>,
    count: usize,
}

impl Chunk {
    /// The header's prefix + points + its suffix.
    fn len(&self) -> usize {
        self.header.len() + self.points.len()
    }
}

/// A staged point: its series (in the payload's `headers`), timestamp and value.
type Staged = (u32, i64, f64);

/// The most bytes `render_point` writes for a point: exact but for a fractional value,
/// counted at its longest (24 bytes: `-1.2345678901234567e-308`).
#[inline]
pub(crate) fn point_bound(timestamp: i64, value: f64) -> usize {
    fn digits(n: i64) -> usize {
        usize::from(n < 0)
            + n.unsigned_abs()
                .checked_ilog10()
                .map_or(1, |d| d as usize + 1)
    }
    let value = whole(value).map_or(24, digits);
    // Timestamps from 2001-09-09 to 2286 have 10 digits.
    let timestamp = if (1_000_000_000..10_000_000_000).contains(&timestamp) {
        10
    } else {
        digits(timestamp)
    };
    // `{"timestamp":` `,"value":` `}`.
    13 + timestamp + 9 + value + 1
}

/// The metric payload being filled.
///
/// Its points are kept as they come, each with its series, in one buffer; they are rendered,
/// grouped by series, only when the payload is, by the delivery. A sender's work under the
/// queue's lock is finding the point's series (the series' slot hint, else a hash lookup) and
/// 24 bytes written where the last point's ended, in cache.
/// The payload's size is counted from each point's longest rendering (exact but for a
/// fractional value), so a payload never passes the size it is filled to.
#[derive(Debug)]
pub(crate) struct SeriesBatch {
    headers: Vec<Arc<SeriesHeader>>,
    index: HashMap<usize, u32, BuildHasherDefault<PtrHasher>>,
    points: Vec<Staged>,
    /// The payload's rendered size, at most.
    bound: usize,
    /// The oldest timestamp in it (`i64::MAX` when empty).
    oldest: i64,
    /// The queue budget its items hold.
    pub(crate) cost: usize,
    /// Points to reserve room for in the next payload, from the last one.
    capacity: usize,
}

impl Default for SeriesBatch {
    fn default() -> SeriesBatch {
        SeriesBatch {
            headers: Vec::new(),
            index: HashMap::default(),
            points: Vec::new(),
            bound: 0,
            oldest: i64::MAX,
            cost: 0,
            capacity: 256,
        }
    }
}

impl SeriesBatch {
    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Adds a point unless the payload could then exceed `target` bytes rendered; an empty
    /// payload takes any point.
    #[inline]
    pub(crate) fn push(
        &mut self,
        header: &Arc<SeriesHeader>,
        timestamp: i64,
        value: f64,
        target: usize,
    ) -> bool {
        let empty = self.points.is_empty();
        let bound = if empty { ENVELOPE } else { self.bound };
        let len = point_bound(timestamp, value);
        // Where the series last went in a payload, if this one: no hash lookup at each point.
        let hint = header.slot.load(Ordering::Relaxed);
        let known = match self.headers.get(hint as usize) {
            Some(h) if Arc::ptr_eq(h, header) => Some(hint),
            _ => self.index.get(&(Arc::as_ptr(header) as usize)).copied(),
        };
        let grown = match known {
            // A comma before it.
            Some(_) => bound + 1 + len,
            // A comma before the series, unless first.
            None => bound + usize::from(!self.headers.is_empty()) + header.len() + len,
        };
        if grown > target && !empty {
            return false;
        }
        let series = match known {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.headers.len()).expect("under 4 billion series");
                self.index.insert(Arc::as_ptr(header) as usize, i);
                self.headers.push(Arc::clone(header));
                header.slot.store(i, Ordering::Relaxed);
                i
            }
        };
        if self.points.capacity() == 0 {
            // The buffer of a payload already delivered, or a new one sized from the last.
            if let Some(spare) = STAGED.lock().unwrap_or_else(PoisonError::into_inner).pop() {
                self.points = spare;
            }
            self.points.reserve(self.capacity);
        }
        self.points.push((series, timestamp, value));
        self.bound = grown;
        self.oldest = self.oldest.min(timestamp);
        true
    }

    /// Closes the payload, leaving this batch empty.
    pub(crate) fn take(&mut self) -> SeriesPayload {
        self.index.clear();
        self.capacity = (self.points.len() + self.points.len() / 8).clamp(256, 1 << 20);
        let payload = SeriesPayload {
            form: Form::Staged {
                headers: std::mem::take(&mut self.headers),
                points: std::mem::take(&mut self.points),
            },
            raw: self.bound,
            oldest: self.oldest,
        };
        self.bound = 0;
        self.oldest = i64::MAX;
        payload
    }
}

/// Point buffers of delivered payloads, for the next ones (process-wide, shared by every
/// queue): a busy queue's are megabytes, and fresh ones cost their page faults again. At most
/// four are kept, of at most 256 Ki points (6 MiB) each.
static STAGED: Mutex<Vec<Vec<Staged>>> = Mutex::new(Vec::new());

impl Drop for SeriesPayload {
    fn drop(&mut self) {
        if let Form::Staged { points, .. } = &mut self.form
            && points.capacity() <= (256 << 10)
        {
            let mut points = std::mem::take(points);
            points.clear();
            let mut pool = STAGED.lock().unwrap_or_else(PoisonError::into_inner);
            if pool.len() < 4 {
                pool.push(points);
            }
        }
    }
}

/// A closed metric payload.
#[derive(Debug)]
pub(crate) struct SeriesPayload {
    form: Form,
    /// Its rendered size: at most this (staged), exactly this (grouped into chunks).
    raw: usize,
    /// The oldest timestamp in it, or one older (never younger).
    oldest: i64,
}

/// At most this many series buffers are kept with a scratch set, holding at most this many
/// bytes together.
const KEPT_SERIES_BUFFERS: usize = 16 << 10;
const KEPT_SERIES_BYTES: usize = 6 << 20;

/// A metric payload's points: as a batch staged them, or grouped by series (once split).
#[derive(Debug)]
enum Form {
    Staged {
        headers: Vec<Arc<SeriesHeader>>,
        points: Vec<Staged>,
    },
    Chunks(Vec<Chunk>),
}

impl SeriesPayload {
    pub(crate) fn points(&self) -> usize {
        match &self.form {
            Form::Staged { points, .. } => points.len(),
            Form::Chunks(chunks) => chunks.iter().map(|c| c.count).sum(),
        }
    }

    /// Appends `{"series":[...]}` (`buffers`: a buffer per series, reused).
    fn render_into(&self, out: &mut Vec<u8>, buffers: &mut Vec<Vec<u8>>) {
        let start = out.len();
        out.reserve(self.raw);
        out.extend_from_slice(b"{\"series\":[");
        match &self.form {
            Form::Chunks(chunks) => {
                for (i, c) in chunks.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&c.header.prefix);
                    out.extend_from_slice(&c.points);
                    out.extend_from_slice(&c.header.suffix);
                }
            }
            Form::Staged { headers, points } => {
                // Grouped by series, in the order each came first, each series' points in the
                // order they came: each point rendered into its series' buffer as it comes,
                // then the series one after the other.
                if buffers.len() < headers.len() {
                    buffers.resize_with(headers.len(), Vec::new);
                }
                for &(series, t, v) in points {
                    let buffer = &mut buffers[series as usize];
                    if !buffer.is_empty() {
                        buffer.push(b',');
                    }
                    render_point(buffer, t, v);
                }
                for (i, header) in headers.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&header.prefix);
                    out.extend_from_slice(&buffers[i]);
                    out.extend_from_slice(&header.suffix);
                    buffers[i].clear();
                }
                // What is kept for the next payload stays at most one large payload's worth.
                buffers.truncate(KEPT_SERIES_BUFFERS);
                let mut kept = 0;
                for buffer in buffers.iter_mut() {
                    kept += buffer.capacity();
                    if kept > KEPT_SERIES_BYTES {
                        *buffer = Vec::new();
                    }
                }
            }
        }
        out.extend_from_slice(b"]}");
        debug_assert!(out.len() - start <= self.raw);
    }

    /// Its points grouped by series, in the order `render_into` writes them.
    fn into_chunks(mut self) -> Vec<Chunk> {
        match std::mem::replace(&mut self.form, Form::Chunks(Vec::new())) {
            Form::Chunks(chunks) => chunks,
            Form::Staged { headers, points } => {
                let mut chunks: Vec<Chunk> = headers
                    .into_iter()
                    .map(|header| Chunk {
                        header,
                        points: Vec::new(),
                        count: 0,
                    })
                    .collect();
                for &(series, t, v) in &points {
                    let c = &mut chunks[series as usize];
                    if c.count > 0 {
                        c.points.push(b',');
                    }
                    render_point(&mut c.points, t, v);
                    c.count += 1;
                }
                chunks
            }
        }
    }

    fn from_chunks(chunks: Vec<Chunk>) -> SeriesPayload {
        let raw = ENVELOPE + chunks.iter().map(Chunk::len).sum::<usize>() + chunks.len()
            - usize::from(!chunks.is_empty());
        let oldest = chunks
            .iter()
            .flat_map(|c| timestamps(&c.points))
            .min()
            .unwrap_or(i64::MAX);
        SeriesPayload {
            form: Form::Chunks(chunks),
            raw,
            oldest,
        }
    }

    pub(crate) fn older_than(&self, cutoff: i64) -> usize {
        if self.oldest >= cutoff {
            return 0;
        }
        match &self.form {
            Form::Chunks(chunks) => chunks
                .iter()
                .flat_map(|c| timestamps(&c.points))
                .filter(|&t| t < cutoff)
                .count(),
            Form::Staged { points, .. } => points.iter().filter(|p| p.1 < cutoff).count(),
        }
    }

    /// Two payloads of about half the size each, or itself if it holds a single point.
    fn split(self) -> Result<(SeriesPayload, SeriesPayload), SeriesPayload> {
        let mut chunks = self.into_chunks();
        if chunks.len() >= 2 {
            // Halves of the rendered size.
            let half = (ENVELOPE + chunks.iter().map(|c| c.len() + 1).sum::<usize>()) / 2;
            let mut acc = ENVELOPE;
            let mut at = 1;
            for (i, c) in chunks.iter().enumerate() {
                acc += c.len() + 1;
                if acc >= half {
                    at = (i + 1).clamp(1, chunks.len() - 1);
                    break;
                }
            }
            let right = chunks.split_off(at);
            return Ok((
                SeriesPayload::from_chunks(chunks),
                SeriesPayload::from_chunks(right),
            ));
        }
        let Some(chunk) = chunks.pop() else {
            return Err(SeriesPayload::from_chunks(chunks));
        };
        if chunk.count < 2 {
            chunks.push(chunk);
            return Err(SeriesPayload::from_chunks(chunks));
        }
        // Points are `{...}` joined by commas and hold no other brace: cut at the `},{`
        // nearest the middle.
        let p = &chunk.points;
        let mid = p.len() / 2;
        let Some(cut) = p
            .windows(3)
            .enumerate()
            .filter(|(_, w)| *w == b"},{")
            .map(|(i, _)| i)
            .min_by_key(|&i| i.abs_diff(mid))
        else {
            chunks.push(chunk);
            return Err(SeriesPayload::from_chunks(chunks));
        };
        let left = p[..=cut].to_vec();
        let right = p[cut + 2..].to_vec();
        let count = |b: &[u8]| b.iter().filter(|&&c| c == b'{').count();
        let (lc, rc) = (count(&left), count(&right));
        let make = |points, count| Chunk {
            header: Arc::clone(&chunk.header),
            points,
            count,
        };
        Ok((
            SeriesPayload::from_chunks(vec![make(left, lc)]),
            SeriesPayload::from_chunks(vec![make(right, rc)]),
        ))
    }
}

/// The timestamps of points rendered by `render_point`, in order.
fn timestamps(points: &[u8]) -> impl Iterator<Item = i64> + '_ {
    const KEY: &[u8] = b"{\"timestamp\":";
    points.split(|&b| b == b'}').filter_map(|point| {
        let rest = point
            .strip_prefix(b",")
            .unwrap_or(point)
            .strip_prefix(KEY)?;
        let end = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
    })
}

/// A JSON array payload being filled (logs, service checks).
#[derive(Debug)]
pub(crate) struct ArrayBatch {
    buf: Vec<u8>,
    offsets: Vec<u32>,
    max_bytes: usize,
    max_entries: usize,
    /// The queue budget its items hold.
    pub(crate) cost: usize,
}

impl ArrayBatch {
    pub(crate) fn logs() -> ArrayBatch {
        ArrayBatch::new(limits::LOGS_MAX_BYTES, limits::LOGS_MAX_ENTRIES)
    }

    pub(crate) fn checks() -> ArrayBatch {
        ArrayBatch::new(limits::CHECKS_MAX_BYTES, limits::CHECKS_MAX_ENTRIES)
    }

    fn new(max_bytes: usize, max_entries: usize) -> ArrayBatch {
        ArrayBatch {
            buf: vec![b'['],
            offsets: Vec::new(),
            max_bytes,
            max_entries,
            cost: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Whether `entry` fits (an empty batch takes any entry that fits the byte limit alone).
    pub(crate) fn fits(&self, entry: &[u8]) -> bool {
        self.offsets.is_empty()
            || (self.offsets.len() < self.max_entries
                && self.buf.len() + 1 + entry.len() < self.max_bytes)
    }

    /// Whether no entry can be added any more.
    pub(crate) fn full(&self) -> bool {
        self.offsets.len() >= self.max_entries || self.buf.len() + 4 > self.max_bytes
    }

    pub(crate) fn push(&mut self, entry: &[u8]) {
        if !self.offsets.is_empty() {
            self.buf.push(b',');
        }
        self.offsets
            .push(u32::try_from(self.buf.len()).expect("a payload under 4 GiB"));
        self.buf.extend_from_slice(entry);
    }

    pub(crate) fn take(&mut self) -> ArrayPayload {
        let mut buf = std::mem::replace(&mut self.buf, vec![b'[']);
        buf.push(b']');
        ArrayPayload {
            buf,
            offsets: std::mem::take(&mut self.offsets),
        }
    }
}

/// A closed JSON array payload: `[e1,e2,...]`.
#[derive(Debug)]
pub(crate) struct ArrayPayload {
    buf: Vec<u8>,
    offsets: Vec<u32>,
}

impl ArrayPayload {
    fn split(self) -> Result<(ArrayPayload, ArrayPayload), ArrayPayload> {
        let n = self.offsets.len();
        if n < 2 {
            return Err(self);
        }
        let at = n / 2;
        let cut = self.offsets[at] as usize; // start of the right half's first entry
        let part = |entries: &[u8], offsets: Vec<u32>| {
            let mut buf = Vec::with_capacity(entries.len() + 2);
            buf.push(b'[');
            buf.extend_from_slice(entries);
            buf.push(b']');
            ArrayPayload { buf, offsets }
        };
        let base = self.offsets[0] as usize;
        // The left half ends before the comma preceding `cut`; the right ends before `]`.
        let left = part(
            &self.buf[base..cut - 1],
            self.offsets[..at]
                .iter()
                .map(|o| o - self.offsets[0] + 1)
                .collect(),
        );
        let right = part(
            &self.buf[cut..self.buf.len() - 1],
            self.offsets[at..]
                .iter()
                .map(|o| o - self.offsets[at] + 1)
                .collect(),
        );
        Ok((left, right))
    }
}

/// A payload to deliver.
#[derive(Debug)]
pub(crate) enum Body {
    Series(SeriesPayload),
    Logs(ArrayPayload),
    Checks(ArrayPayload),
    Event(Vec<u8>),
}

impl Body {
    pub(crate) fn kind(&self) -> DataKind {
        match self {
            Body::Series(_) => DataKind::Metrics,
            Body::Logs(_) => DataKind::Logs,
            Body::Checks(_) => DataKind::ServiceChecks,
            Body::Event(_) => DataKind::Events,
        }
    }

    /// Metric points in it older than `cutoff` (Unix seconds); none for other kinds.
    pub(crate) fn older_than(&self, cutoff: i64) -> usize {
        match self {
            Body::Series(s) => s.older_than(cutoff),
            _ => 0,
        }
    }

    /// Points, log entries, service checks or events in it.
    pub(crate) fn count(&self) -> usize {
        match self {
            Body::Series(s) => s.points(),
            Body::Logs(a) | Body::Checks(a) => a.offsets.len(),
            Body::Event(_) => 1,
        }
    }

    /// The size of the JSON body.
    pub(crate) fn raw_len(&self) -> usize {
        match self {
            Body::Series(s) => s.raw,
            Body::Logs(a) | Body::Checks(a) => a.buf.len(),
            Body::Event(e) => e.len(),
        }
    }

    /// The JSON body.
    #[cfg(test)]
    pub(crate) fn render(&self) -> std::borrow::Cow<'_, [u8]> {
        use std::borrow::Cow;
        match self.rendered() {
            Some(raw) => Cow::Borrowed(raw),
            None => {
                let mut out = Vec::new();
                self.render_into(&mut out, &mut Vec::new());
                Cow::Owned(out)
            }
        }
    }

    /// The JSON body, when it is held whole (arrays and events are).
    fn rendered(&self) -> Option<&[u8]> {
        match self {
            Body::Series(_) => None,
            Body::Logs(a) | Body::Checks(a) => Some(&a.buf),
            Body::Event(e) => Some(e),
        }
    }

    /// Appends the JSON body (`series`: a buffer per series, reused).
    fn render_into(&self, out: &mut Vec<u8>, series: &mut Vec<Vec<u8>>) {
        match self {
            Body::Series(s) => s.render_into(out, series),
            other => out.extend_from_slice(other.rendered().unwrap_or_default()),
        }
    }

    /// Two halves, or itself when it holds a single item.
    pub(crate) fn split(self) -> Result<(Body, Body), Body> {
        match self {
            Body::Series(s) => s
                .split()
                .map(|(a, b)| (Body::Series(a), Body::Series(b)))
                .map_err(Body::Series),
            Body::Logs(a) => a
                .split()
                .map(|(a, b)| (Body::Logs(a), Body::Logs(b)))
                .map_err(Body::Logs),
            Body::Checks(a) => a
                .split()
                .map(|(a, b)| (Body::Checks(a), Body::Checks(b)))
                .map_err(Body::Checks),
            event @ Body::Event(_) => Err(event),
        }
    }
}

#[cfg(test)]
mod tests {

    /// zstd as Datadog's official client runs it (a stream at the default level, its size not
    /// told in advance) gives the same bytes: payloads never cost more on the wire than there.
    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_payloads_are_no_larger_than_a_streamed_default_level() {
        // The last two pass `ZSTD_ONE_PASS` (compressed in one pass, not as a stream).
        for (series, points) in [
            (1usize, 1usize),
            (10, 20),
            (100, 20),
            (1000, 50),
            (1000, 240),
        ] {
            let mut batch = SeriesBatch::default();
            let headers: Vec<_> = (0..series)
                .map(|j| {
                    let name: &'static str = Box::leak(format!("acme.q{j}").into_boxed_str());
                    header(name)
                })
                .collect();
            for p in 0..points {
                for h in &headers {
                    let v = ((p * 13) % 10_000) as f64 / 100.0;
                    assert!(batch.push(h, 1_700_000_000 + 10 * p as i64, v, usize::MAX));
                }
            }
            let body = Body::Series(batch.take());
            let raw = body.render().into_owned();
            let (len, wire) = Codec::Zstd(3, 3).encode_body(&body);
            assert_eq!(len, raw.len());
            let official = zstd::stream::encode_all(&raw[..], 0).unwrap();
            assert!(
                wire.len() <= official.len(),
                "{series}x{points}: {} bytes, streamed default level {}",
                wire.len(),
                official.len()
            );
            assert_eq!(zstd::stream::decode_all(&wire[..]).unwrap(), raw);
            // The default: the official client's bytes up to 256 KiB, level 2 past it.
            let (_, recommended) = Codec::from(SeriesCompression::Recommended).encode_body(&body);
            let level = if raw.len() <= ZSTD_ONE_PASS { 3 } else { 2 };
            assert_eq!(
                recommended,
                Codec::Zstd(level, level).encode_body(&body).1,
                "{series}x{points}: the recommended codec is not zstd level {level}"
            );
            assert_eq!(zstd::stream::decode_all(&recommended[..]).unwrap(), raw);
        }
    }

    #[test]
    fn rendered_timestamps_are_read_back_and_counted_past_a_cutoff() {
        let header = header("acme.a");
        let mut batch = SeriesBatch::default();
        for (t, v) in [(100, 1.5), (-5, 3.0), (250, 1e300), (99, 0.0)] {
            assert!(batch.push(&header, t, v, usize::MAX));
        }
        let payload = batch.take();
        let chunks_of = |p: SeriesPayload| -> Vec<i64> {
            p.into_chunks()
                .iter()
                .flat_map(|c| timestamps(&c.points).collect::<Vec<_>>())
                .collect()
        };
        let mut again = SeriesBatch::default();
        for (t, v) in [(100, 1.5), (-5, 3.0), (250, 1e300), (99, 0.0)] {
            assert!(again.push(&header, t, v, usize::MAX));
        }
        assert_eq!(chunks_of(again.take()), [100, -5, 250, 99]);
        assert_eq!(payload.older_than(-5), 0);
        assert_eq!(payload.older_than(100), 2);
        assert_eq!(payload.older_than(1_000), 4);
        // Each half of a split knows its own oldest point.
        let (left, right) = payload.split().unwrap();
        assert_eq!(left.older_than(100) + right.older_than(100), 2);
    }
    use super::*;

    fn header(name: &'static str) -> Arc<SeriesHeader> {
        let prefix = format!("{{\"metric\":\"{name}\",\"points\":[");
        Arc::new(SeriesHeader {
            metric: name,
            prefix: prefix.into_bytes().into_boxed_slice(),
            suffix: b"],\"type\":3}".to_vec().into_boxed_slice(),
            slot: Default::default(),
        })
    }

    fn parse(body: &Body) -> serde_json::Value {
        serde_json::from_slice(&body.render()).unwrap()
    }

    #[test]
    fn series_group_by_identity_and_count_their_bytes_exactly() {
        let (a, b) = (header("acme.a"), header("acme.b"));
        let mut batch = SeriesBatch::default();
        for i in 0..10 {
            assert!(batch.push(&a, 1_700_000_000 + i, i as f64, usize::MAX));
            assert!(batch.push(&b, 1_700_000_000 + i, 0.5, usize::MAX));
        }
        let payload = batch.take();
        assert!(batch.is_empty());
        let bound = payload.raw;
        let body = Body::Series(payload);
        // Counted exactly but for the fractional values, at their longest.
        let fractional = 10 * (24 - "0.5".len());
        assert_eq!(body.render().len() + fractional, bound);
        let v = parse(&body);
        assert_eq!(v["series"].as_array().unwrap().len(), 2);
        assert_eq!(v["series"][0]["points"].as_array().unwrap().len(), 10);
        assert_eq!(v["series"][1]["points"][3]["value"], 0.5);
    }

    /// Two points of one series split into one each, whatever their lengths (the separator
    /// may lie just before the middle).
    #[test]
    fn two_points_of_one_series_split_into_one_each() {
        let a = header("acme.a");
        for (first, second) in [(1.0, 2.0), (1.0, 22.5), (333.25, 4.0), (0.5, 1e300)] {
            let mut batch = SeriesBatch::default();
            assert!(batch.push(&a, 1_700_000_000, first, usize::MAX));
            assert!(batch.push(&a, 1_700_000_010, second, usize::MAX));
            let (left, right) = batch.take().split().unwrap();
            assert_eq!((left.points(), right.points()), (1, 1));
            for half in [left, right] {
                let v = parse(&Body::Series(half));
                assert_eq!(v["series"][0]["points"].as_array().unwrap().len(), 1);
            }
        }
    }

    #[test]
    fn a_full_series_batch_refuses_the_next_point() {
        let a = header("acme.a");
        let mut batch = SeriesBatch::default();
        assert!(batch.push(&a, 1, 1.0, 10)); // an empty batch takes any point
        assert!(!batch.push(&a, 2, 2.0, 10));
    }

    #[test]
    fn series_split_in_halves_keeps_every_point() {
        let (a, b) = (header("acme.a"), header("acme.b"));
        let mut batch = SeriesBatch::default();
        for i in 0..7 {
            batch.push(&a, i, i as f64, usize::MAX);
        }
        batch.push(&b, 1, 1.0, usize::MAX);
        let body = Body::Series(batch.take());
        let (l, r) = body.split().unwrap();
        assert_eq!(l.count() + r.count(), 8);
        // The single-series half splits again, inside its points.
        let (big, _) = if l.count() == 7 { (l, r) } else { (r, l) };
        let (x, y) = big.split().unwrap();
        assert_eq!((x.count(), y.count()), (4, 3));
        let (vx, vy) = (parse(&x), parse(&y));
        assert_eq!(vx["series"][0]["points"][3]["timestamp"], 3);
        assert_eq!(vy["series"][0]["points"][0]["timestamp"], 4);
        for part in [&x, &y] {
            let Body::Series(s) = part else {
                unreachable!()
            };
            assert_eq!(part.render().len(), s.raw);
        }
        let mut one = SeriesBatch::default();
        one.push(&a, 1, 1.0, usize::MAX);
        assert!(Body::Series(one.take()).split().is_err());
    }

    #[test]
    fn arrays_split_in_halves_and_keep_every_entry() {
        let mut batch = ArrayBatch::logs();
        for i in 0..5 {
            let e = format!("{{\"message\":\"m{i}\"}}");
            assert!(batch.fits(e.as_bytes()));
            batch.push(e.as_bytes());
        }
        let body = Body::Logs(batch.take());
        assert_eq!(parse(&body).as_array().unwrap().len(), 5);
        let (l, r) = body.split().unwrap();
        assert_eq!(
            parse(&l),
            serde_json::json!([{"message":"m0"},{"message":"m1"}])
        );
        assert_eq!(
            parse(&r),
            serde_json::json!([{"message":"m2"},{"message":"m3"},{"message":"m4"}])
        );
        let (rl, rr) = r.split().unwrap();
        assert_eq!(parse(&rl), serde_json::json!([{"message":"m2"}]));
        assert_eq!(rr.count(), 2);
        assert!(rl.split().is_err());
    }

    #[test]
    fn log_batches_stop_at_the_entry_limit() {
        let mut batch = ArrayBatch::logs();
        for _ in 0..limits::LOGS_MAX_ENTRIES {
            assert!(batch.fits(b"{}"));
            batch.push(b"{}");
        }
        assert!(batch.full());
        assert!(!batch.fits(b"{}"));
    }

    #[test]
    fn codecs_round_trip() {
        // Small, and past `ZSTD_ONE_PASS`, where zstd's two levels part.
        for raw in [
            br#"{"series":[]}"#.repeat(100),
            br#"{"series":[]}"#.repeat(25_000),
        ] {
            round_trip(&raw);
        }
    }

    fn round_trip(raw: &[u8]) {
        for codec in [
            Codec::Identity,
            Codec::Gzip(6),
            Codec::Deflate(1),
            #[cfg(feature = "zstd")]
            Codec::Zstd(3, 3),
            #[cfg(feature = "zstd")]
            Codec::Zstd(3, 2),
        ] {
            // Twice through the same scratch: the reused state starts clean.
            let mut scratch = Scratch::default();
            let _ = codec.encode_into(b"something else entirely", &mut scratch);
            let wire = codec.encode_into(raw, &mut scratch).to_vec();
            assert_eq!(wire, codec.encode(raw), "{codec:?}");
            let mut back = Vec::new();
            use std::io::Read as _;
            match codec {
                Codec::Identity => back = wire.clone(),
                Codec::Gzip(_) => {
                    flate2::read::GzDecoder::new(&wire[..])
                        .read_to_end(&mut back)
                        .unwrap();
                }
                Codec::Deflate(_) => {
                    flate2::read::ZlibDecoder::new(&wire[..])
                        .read_to_end(&mut back)
                        .unwrap();
                }
                #[cfg(feature = "zstd")]
                Codec::Zstd(..) => back = zstd::bulk::decompress(&wire, 1 << 20).unwrap(),
            }
            assert_eq!(back, raw, "{codec:?}");
        }
    }
}
