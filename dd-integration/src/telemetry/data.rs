//! What an integration sends: declared metrics and their series, logs, events and service
//! checks, validated against the declaration and Datadog's documented limits when they are
//! built, and rendered to Datadog's JSON once.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::error::TelemetryError;
use super::limits;
use crate::integration::{
    DataKind, DatadogIntegration, MetricSpec, MetricType, ServiceCheckSpec, Submits, kinds,
};

// ---------------------------------------------------------------------------------------------
// Declared names

/// A metric the integration `I` declares (`metric(name = ...)` in `#[datadog_integration]`).
///
/// Made in a `const`, a name the declaration does not list does not compile, so metadata.csv and
/// the data cannot disagree:
///
/// ```
/// use dd_integration::datadog_integration;
/// use dd_integration::telemetry::Metric;
///
/// #[datadog_integration(
///     name = "Acme Pager",
///     scopes = [api_keys_write],
///     redirect = "https://acme.example/datadog/callback",
///     onboarding = "https://acme.example/datadog/connect",
///     submits = [metrics],
///     metric_prefix = "acme.",
///     metric(name = "acme.pages.sent", type = count, unit = "page"),
/// )]
/// struct AcmePager;
///
/// const PAGES: Metric<AcmePager> = Metric::declared("acme.pages.sent");
/// assert_eq!(PAGES.name(), "acme.pages.sent");
/// ```
///
/// ```compile_fail,E0080
/// # use dd_integration::datadog_integration;
/// # use dd_integration::telemetry::Metric;
/// # #[datadog_integration(
/// #     name = "Acme Pager",
/// #     scopes = [api_keys_write],
/// #     redirect = "https://acme.example/datadog/callback",
/// #     onboarding = "https://acme.example/datadog/connect",
/// #     submits = [metrics],
/// #     metric_prefix = "acme.",
/// #     metric(name = "acme.pages.sent", type = count, unit = "page"),
/// # )]
/// # struct AcmePager;
/// // error: this metric is not declared by the integration
/// const TYPO: Metric<AcmePager> = Metric::declared("acme.page.sent");
/// ```
///
/// A name known only at run time goes through [`Metric::named`], which returns
/// [`TelemetryError::UndeclaredMetric`] instead.
pub struct Metric<I> {
    spec: &'static MetricSpec,
    integration: PhantomData<fn() -> I>,
}

impl<I> Clone for Metric<I> {
    fn clone(&self) -> Metric<I> {
        *self
    }
}

impl<I> Copy for Metric<I> {}

impl<I> fmt::Debug for Metric<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Metric").field(&self.spec.name).finish()
    }
}

impl<I: DatadogIntegration> Metric<I> {
    /// The declared metric `name`. In a `const` (or `const { }` block), an undeclared name or a
    /// distribution fails to compile; at run time it panics, so use [`Metric::named`] there.
    ///
    /// # Panics
    /// If `I` does not declare `name`, or declares it as a distribution.
    pub const fn declared(name: &str) -> Metric<I> {
        let metrics = I::SPEC.metrics;
        let mut i = 0;
        while i < metrics.len() {
            if const_eq(metrics[i].name, name) {
                if matches!(metrics[i].metric_type, MetricType::Distribution) {
                    panic!("{}", DISTRIBUTION);
                }
                return Metric {
                    spec: &metrics[i],
                    integration: PhantomData,
                };
            }
            i += 1;
        }
        let (names, n) = declared_names!(metrics);
        undeclared(
            "metric",
            name,
            I::SPEC.name,
            names.split_at(n).0,
            "add `metric(name = \"...\", type = ...)` to its #[datadog_integration(...)] so that metadata.csv lists it",
        )
    }

    /// The declared metric `name`, checked at run time.
    ///
    /// # Errors
    /// [`TelemetryError::UndeclaredMetric`] when `I` does not declare it, and
    /// [`TelemetryError::Distribution`] for a distribution.
    pub fn named(name: &str) -> Result<Metric<I>, TelemetryError> {
        let spec = I::SPEC
            .metric(name)
            .ok_or_else(|| TelemetryError::UndeclaredMetric {
                integration: I::SPEC.name,
                metric: name.to_owned(),
            })?;
        if spec.metric_type == MetricType::Distribution {
            return Err(TelemetryError::Distribution { metric: spec.name });
        }
        Ok(Metric {
            spec,
            integration: PhantomData,
        })
    }

    /// The metric's name.
    pub const fn name(&self) -> &'static str {
        self.spec.name
    }

    /// Its declaration (type, unit, description).
    pub const fn spec(&self) -> &'static MetricSpec {
        self.spec
    }

    /// A series of this metric: add tags and resources, then [`build`](SeriesBuilder::build) it.
    pub fn series(self) -> SeriesBuilder<I> {
        SeriesBuilder {
            metric: self,
            tags: Vec::new(),
            resources: Vec::new(),
            interval: None,
        }
    }
}

/// A service check the integration `I` declares (`service_check(name = ...)`); like
/// [`Metric`], an undeclared name made in a `const` does not compile.
pub struct Check<I> {
    spec: &'static ServiceCheckSpec,
    integration: PhantomData<fn() -> I>,
}

impl<I> Clone for Check<I> {
    fn clone(&self) -> Check<I> {
        *self
    }
}

impl<I> Copy for Check<I> {}

impl<I> fmt::Debug for Check<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Check").field(&self.spec.name).finish()
    }
}

impl<I: DatadogIntegration> Check<I> {
    /// The declared service check `name`; in a `const`, an undeclared name does not compile.
    ///
    /// # Panics
    /// If `I` does not declare `name` (at compile time in a `const`).
    pub const fn declared(name: &str) -> Check<I> {
        let checks = I::SPEC.service_checks;
        let mut i = 0;
        while i < checks.len() {
            if const_eq(checks[i].name, name) {
                return Check {
                    spec: &checks[i],
                    integration: PhantomData,
                };
            }
            i += 1;
        }
        let (names, n) = declared_names!(checks);
        undeclared(
            "service check",
            name,
            I::SPEC.name,
            names.split_at(n).0,
            "add `service_check(name = \"...\", ...)` to its #[datadog_integration(...)] so that service_checks.json lists it",
        )
    }

    /// The declared service check `name`, checked at run time.
    ///
    /// # Errors
    /// [`TelemetryError::UndeclaredServiceCheck`] when `I` does not declare it.
    pub fn named(name: &str) -> Result<Check<I>, TelemetryError> {
        I::SPEC
            .service_checks
            .iter()
            .find(|c| c.name == name)
            .map(|spec| Check {
                spec,
                integration: PhantomData,
            })
            .ok_or_else(|| TelemetryError::UndeclaredServiceCheck {
                integration: I::SPEC.name,
                check: name.to_owned(),
            })
    }

    /// The check's name.
    pub const fn name(&self) -> &'static str {
        self.spec.name
    }
}

// The compile errors of `declared`. A const panic prints a single `&str` argument, so the
// message naming the undeclared name and the nearest declared one is written into a buffer in
// the same `const fn` that panics with it.
const DISTRIBUTION: &str =
    "this metric is declared as a distribution: /api/v2/series takes gauges, counts and rates only";

/// The most declared names searched for a suggestion.
const MAX_NAMED: usize = 512;

/// The `name`s of a declared list (metrics, service checks), in a const context: an array of
/// [`MAX_NAMED`] and how many are filled.
macro_rules! declared_names {
    ($list:expr) => {{
        let list = $list;
        let mut names = [""; MAX_NAMED];
        let mut n = 0;
        while n < list.len() && n < MAX_NAMED {
            names[n] = list[n].name;
            n += 1;
        }
        (names, n)
    }};
}
use declared_names;
/// The longest name compared (Datadog's metric names are at most 200 characters).
const MAX_COMPARED: usize = 256;
/// The message buffer.
const MESSAGE: usize = 1024;

/// Panics (at compile time in a `const`) with: ``metric `acme.page.sent` is not declared by
/// Acme Pager; did you mean `acme.pages.sent`? Otherwise, add ...``.
const fn undeclared(kind: &str, name: &str, integration: &str, declared: &[&str], fix: &str) -> ! {
    let mut buf = [0u8; MESSAGE];
    let mut len = 0;
    len = push(&mut buf, len, kind);
    len = push(&mut buf, len, " `");
    len = push(&mut buf, len, name);
    len = push(&mut buf, len, "` is not declared by ");
    len = push(&mut buf, len, integration);
    match nearest(name, declared) {
        Some(near) => {
            len = push(&mut buf, len, "; did you mean `");
            len = push(&mut buf, len, near);
            len = push(&mut buf, len, "`? Otherwise, ");
        }
        None => len = push(&mut buf, len, ": "),
    }
    len = push(&mut buf, len, fix);
    let message = match core::str::from_utf8(buf.split_at(len).0) {
        Ok(text) => text,
        // Cut inside a character: the fixed part alone.
        Err(_) => "a name is not declared by the integration",
    };
    panic!("{}", message)
}

/// `text` appended at `len`, as much as fits on a character boundary; the new length.
const fn push(buf: &mut [u8; MESSAGE], len: usize, text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    if len + end > MESSAGE {
        end = MESSAGE - len;
        // Back to a character boundary.
        while end > 0 && (bytes[end] & 0xC0) == 0x80 {
            end -= 1;
        }
    }
    let mut i = 0;
    while i < end {
        buf[len + i] = bytes[i];
        i += 1;
    }
    len + end
}

/// The declared name closest to `name`: at most a third of its length in edits (and 3), the
/// first of equally close ones.
const fn nearest<'a>(name: &str, declared: &[&'a str]) -> Option<&'a str> {
    let limit = {
        let third = name.len() / 3;
        if third < 3 {
            if third == 0 { 1 } else { third }
        } else {
            3
        }
    };
    let mut best: Option<&'a str> = None;
    let mut best_distance = usize::MAX;
    let mut i = 0;
    while i < declared.len() {
        let distance = edit_distance(name.as_bytes(), declared[i].as_bytes());
        if distance <= limit && distance < best_distance {
            best = Some(declared[i]);
            best_distance = distance;
        }
        i += 1;
    }
    best
}

/// Levenshtein distance over bytes, with the first [`MAX_COMPARED`] bytes of each; `usize::MAX`
/// past that (no suggestion for names that long).
const fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    if a.len() > MAX_COMPARED || b.len() > MAX_COMPARED {
        return usize::MAX;
    }
    let mut previous = [0usize; MAX_COMPARED + 1];
    let mut current = [0usize; MAX_COMPARED + 1];
    let mut j = 0;
    while j <= b.len() {
        previous[j] = j;
        j += 1;
    }
    let mut i = 1;
    while i <= a.len() {
        current[0] = i;
        let mut j = 1;
        while j <= b.len() {
            let cost = if a[i - 1] == b[j - 1] { 0 } else { 1 };
            let mut d = previous[j] + 1;
            if current[j - 1] + 1 < d {
                d = current[j - 1] + 1;
            }
            if previous[j - 1] + cost < d {
                d = previous[j - 1] + cost;
            }
            current[j] = d;
            j += 1;
        }
        let mut k = 0;
        while k <= b.len() {
            previous[k] = current[k];
            k += 1;
        }
        i += 1;
    }
    previous[b.len()]
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[inline]
pub(crate) fn require_kind<I: DatadogIntegration>(kind: DataKind) -> Result<(), TelemetryError> {
    if I::SPEC.submits.contains(&kind) {
        Ok(())
    } else {
        Err(TelemetryError::NotDeclared {
            integration: I::SPEC.name,
            kind,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Series and points

/// Builds a [`Series`]: one timeseries of a declared metric, identified by its tags and
/// resources.
#[derive(Debug)]
#[must_use]
pub struct SeriesBuilder<I> {
    metric: Metric<I>,
    tags: Vec<String>,
    resources: Vec<(String, String)>,
    interval: Option<u64>,
}

impl<I: DatadogIntegration> SeriesBuilder<I> {
    /// Adds a tag (`key:value`).
    pub fn tag(mut self, tag: impl Into<String>) -> SeriesBuilder<I> {
        self.tags.push(tag.into());
        self
    }

    /// Adds tags.
    pub fn tags<T: Into<String>>(mut self, tags: impl IntoIterator<Item = T>) -> SeriesBuilder<I> {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// The host the series is about (a `host` resource, as Datadog's v2 series takes it).
    pub fn host(self, host: impl Into<String>) -> SeriesBuilder<I> {
        self.resource("host", host)
    }

    /// Adds a resource (`{"type": kind, "name": name}`).
    pub fn resource(
        mut self,
        kind: impl Into<String>,
        name: impl Into<String>,
    ) -> SeriesBuilder<I> {
        self.resources.push((kind.into(), name.into()));
        self
    }

    /// The interval of a count or rate, in seconds (at most `i64::MAX`, Datadog's `int64`).
    pub fn interval(mut self, seconds: u64) -> SeriesBuilder<I> {
        self.interval = Some(seconds);
        self
    }

    /// The series, its JSON header rendered once for every point sent with it.
    ///
    /// # Errors
    /// [`TelemetryError::Invalid`] for an empty tag or resource or an interval past `i64::MAX`,
    /// and [`TelemetryError::OverLimit`] when tags and resources together exceed 64 KiB.
    pub fn build(self) -> Result<Series<I>, TelemetryError> {
        // Datadog reads `interval` as an int64: a larger one makes it refuse the whole payload,
        // every other series in it too.
        if let Some(interval) = self.interval
            && i64::try_from(interval).is_err()
        {
            return Err(TelemetryError::Invalid {
                field: "interval",
                reason: format!(
                    "{interval} is past {} seconds, the largest Datadog reads (an int64), and \
                     would make it refuse the whole payload; give the count's or rate's \
                     interval in seconds (60 for one flushed each minute)",
                    i64::MAX
                ),
            });
        }
        if self.tags.iter().any(String::is_empty) {
            return Err(TelemetryError::Invalid {
                field: "tag",
                reason: "a tag is empty".into(),
            });
        }
        if self
            .resources
            .iter()
            .any(|(k, n)| k.is_empty() || n.is_empty())
        {
            return Err(TelemetryError::Invalid {
                field: "resource",
                reason: "a resource type or name is empty".into(),
            });
        }
        let spec = self.metric.spec;
        // In the order Datadog's official client writes the fields (its serde order), with the
        // points in the middle: the same JSON compresses the same, so no payload costs more
        // bytes on the wire than the official client's. `prefix` ends with `"points":[`,
        // `suffix` begins with `]`.
        let mut prefix = Vec::with_capacity(64);
        prefix.push(b'{');
        if let Some(interval) = self.interval {
            prefix.extend_from_slice(b"\"interval\":");
            prefix.extend_from_slice(itoa::Buffer::new().format(interval).as_bytes());
            prefix.push(b',');
        }
        prefix.extend_from_slice(b"\"metric\":");
        json_str(&mut prefix, spec.name);
        prefix.extend_from_slice(b",\"points\":[");
        let mut suffix = Vec::with_capacity(128);
        suffix.push(b']');
        if !self.resources.is_empty() {
            suffix.extend_from_slice(b",\"resources\":[");
            for (i, (kind, name)) in self.resources.iter().enumerate() {
                if i > 0 {
                    suffix.push(b',');
                }
                suffix.extend_from_slice(b"{\"name\":");
                json_str(&mut suffix, name);
                suffix.extend_from_slice(b",\"type\":");
                json_str(&mut suffix, kind);
                suffix.push(b'}');
            }
            suffix.push(b']');
        }
        if !self.tags.is_empty() {
            suffix.extend_from_slice(b",\"tags\":[");
            for (i, tag) in self.tags.iter().enumerate() {
                if i > 0 {
                    suffix.push(b',');
                }
                json_str(&mut suffix, tag);
            }
            suffix.push(b']');
        }
        suffix.extend_from_slice(b",\"type\":");
        suffix.push(match spec.metric_type {
            MetricType::Count => b'1',
            MetricType::Rate => b'2',
            // Refused when the `Metric` was made.
            MetricType::Gauge | MetricType::Distribution => b'3',
        });
        if let Some(unit) = spec.unit {
            suffix.extend_from_slice(b",\"unit\":");
            json_str(&mut suffix, unit);
        }
        suffix.push(b'}');
        let size = prefix.len() + suffix.len();
        if size > limits::SERIES_HEADER_MAX_BYTES {
            return Err(TelemetryError::OverLimit {
                what: "a series' name, tags and resources",
                size,
                limit: limits::SERIES_HEADER_MAX_BYTES,
                fix: "send fewer or shorter tags",
            });
        }
        Ok(Series {
            header: Arc::new(SeriesHeader {
                metric: spec.name,
                prefix: prefix.into_boxed_slice(),
                suffix: suffix.into_boxed_slice(),
                slot: Default::default(),
            }),
            integration: PhantomData,
        })
    }
}

/// One timeseries: a declared metric with its tags and resources. Cheap to clone; keep it and
/// send its points with [`Series::point`] or [`Series::points`].
pub struct Series<I> {
    header: Arc<SeriesHeader>,
    integration: PhantomData<fn() -> I>,
}

impl<I> Clone for Series<I> {
    fn clone(&self) -> Series<I> {
        Series {
            header: Arc::clone(&self.header),
            integration: PhantomData,
        }
    }
}

impl<I> fmt::Debug for Series<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Series")
            .field("metric", &self.header.metric)
            .finish_non_exhaustive()
    }
}

/// A series' identity as JSON, around its points: `{..,"metric":..,"points":[` and
/// `],"resources":..,"tags":..,"type":..,"unit":..}`.
#[derive(Debug)]
pub(crate) struct SeriesHeader {
    pub(crate) metric: &'static str,
    pub(crate) prefix: Box<[u8]>,
    pub(crate) suffix: Box<[u8]>,
    /// Where the series went in the last payload that took it: a hint a payload checks (the
    /// series at that place is this one, or not), so that a point finds its series without a
    /// hash lookup. Written only when a payload first takes the series.
    pub(crate) slot: std::sync::atomic::AtomicU32,
}

impl SeriesHeader {
    /// The bytes around the points.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.prefix.len() + self.suffix.len()
    }
}

impl<I> Points<'_, I> {
    /// The error for the first point out of Datadog's limits (there is one): not finite, or
    /// out of `window` (Unix seconds around `now`).
    #[cold]
    #[inline(never)]
    fn first_bad_point(&self, now: i64, window: &std::ops::RangeInclusive<i64>) -> TelemetryError {
        let mut bad = None;
        self.points.for_each(|t, v| {
            if bad.is_some() {
                return;
            }
            if !v.is_finite() {
                bad = Some(TelemetryError::NotFinite {
                    metric: self.header.metric,
                });
            } else if !window.contains(&t) {
                bad = Some(TelemetryError::PointOutOfWindow {
                    metric: self.header.metric,
                    timestamp: t,
                    // Saturating: a timestamp of `i64::MIN` is the caller's, and must not
                    // overflow.
                    offset_secs: t.saturating_sub(now),
                });
            }
        });
        // The caller found one; should the two checks ever disagree, the send is still refused.
        bad.unwrap_or(TelemetryError::Invalid {
            field: "points",
            reason: "a point out of Datadog's limits".into(),
        })
    }
}

impl<I> Series<I> {
    /// One point at `timestamp` (Unix seconds).
    pub fn point(&self, timestamp: i64, value: f64) -> Points<'_, I> {
        Points {
            header: &self.header,
            points: PointBuf::One(timestamp, value),
            integration: PhantomData,
        }
    }

    /// One point now.
    pub fn now(&self, value: f64) -> Points<'_, I> {
        self.point(unix_now(), value)
    }

    /// One point at `time`.
    pub fn point_at(&self, time: SystemTime, value: f64) -> Points<'_, I> {
        self.point(unix(time), value)
    }

    /// Several points (timestamp in Unix seconds, value), sent together.
    pub fn points(&self, points: impl IntoIterator<Item = (i64, f64)>) -> Points<'_, I> {
        Points {
            header: &self.header,
            points: PointBuf::Many(points.into_iter().collect()),
            integration: PhantomData,
        }
    }

    /// The metric's name.
    pub fn metric(&self) -> &'static str {
        self.header.metric
    }
}

/// Points of one [`Series`], ready to send. It borrows its series: the series' identity is
/// copied into the queue only when a payload first takes it, not at each point.
pub struct Points<'a, I> {
    header: &'a Arc<SeriesHeader>,
    points: PointBuf,
    integration: PhantomData<fn() -> I>,
}

impl<I> fmt::Debug for Points<'_, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Points")
            .field("metric", &self.header.metric)
            .field("count", &self.points.len())
            .finish()
    }
}

#[derive(Debug)]
pub(crate) enum PointBuf {
    One(i64, f64),
    Many(Vec<(i64, f64)>),
}

impl PointBuf {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            PointBuf::One(..) => 1,
            PointBuf::Many(v) => v.len(),
        }
    }

    #[inline]
    pub(crate) fn for_each(&self, mut f: impl FnMut(i64, f64)) {
        match self {
            PointBuf::One(t, v) => f(*t, *v),
            PointBuf::Many(v) => v.iter().for_each(|&(t, x)| f(t, x)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Logs

/// A log entry for Datadog's logs intake (`/api/v2/logs`).
///
/// `ddsource` defaults to the declaration's `logs_source` (its `app_id` unless declared), so
/// that the integration's log pipeline applies (Datadog requires one for an integration that
/// sends logs).
///
/// It borrows the text it is given as `&str` (or takes a `String`): built and sent at once, as
/// `intake.send(Log::new(line).service("api"))` does, it copies nothing before it is rendered
/// (but a second tag, which joins the tags into one string).
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Log<'a> {
    message: Cow<'a, str>,
    service: Option<Cow<'a, str>>,
    hostname: Option<Cow<'a, str>>,
    source: Option<Cow<'a, str>>,
    status: Option<Cow<'a, str>>,
    /// Unix milliseconds.
    timestamp: Option<i64>,
    /// The tags, joined by commas as `ddtags` carries them (`None`: no tag).
    tags: Option<Cow<'a, str>>,
    attributes: serde_json::Map<String, serde_json::Value>,
}

/// The deepest an attribute's value may nest: the entry's own object is one level.
const ATTRIBUTE_MAX_DEPTH: usize = limits::LOG_ENTRY_MAX_DEPTH - 1;

/// How deeply `value` nests JSON objects and arrays (a scalar: 0), counted up to `limit + 1`
/// at most. Without recursion: a value nested a million levels deep is measured, and refused,
/// without overflowing the stack.
fn nesting(value: &serde_json::Value, limit: usize) -> usize {
    use serde_json::Value;
    if !(value.is_array() || value.is_object()) {
        // Most attributes: no allocation.
        return 0;
    }
    let mut deepest = 0;
    // Each value with the number of containers around it.
    let mut stack = vec![(value, 0usize)];
    while let Some((v, around)) = stack.pop() {
        let depth = around + 1;
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, depth))),
            Value::Object(o) => stack.extend(o.values().map(|c| (c, depth))),
            _ => continue,
        }
        deepest = deepest.max(depth);
        if deepest > limit {
            break;
        }
    }
    deepest
}

/// Drops JSON values without recursion: the derived drop of a value nested a hundred thousand
/// levels deep overflows the stack.
fn drop_flat(values: impl IntoIterator<Item = serde_json::Value>) {
    use serde_json::Value;
    let mut stack: Vec<Value> = values
        .into_iter()
        .filter(|v| v.is_array() || v.is_object())
        .collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => {
                stack.extend(a.into_iter().filter(|c| c.is_array() || c.is_object()))
            }
            Value::Object(o) => stack.extend(
                o.into_iter()
                    .map(|(_, c)| c)
                    .filter(|c| c.is_array() || c.is_object()),
            ),
            _ => {}
        }
    }
}

/// Field names the SDK writes itself; attributes by these names are ignored.
const LOG_RESERVED: [&str; 6] = [
    "message", "service", "hostname", "ddsource", "ddtags", "status",
];

impl<'a> Log<'a> {
    /// A log entry with this message.
    pub fn new(message: impl Into<Cow<'a, str>>) -> Log<'a> {
        Log {
            message: message.into(),
            ..Log::default()
        }
    }

    /// The service it comes from.
    pub fn service(mut self, service: impl Into<Cow<'a, str>>) -> Log<'a> {
        self.service = Some(service.into());
        self
    }

    /// The host it comes from.
    pub fn hostname(mut self, hostname: impl Into<Cow<'a, str>>) -> Log<'a> {
        self.hostname = Some(hostname.into());
        self
    }

    /// `ddsource`, when not the integration's `app_id`.
    pub fn source(mut self, source: impl Into<Cow<'a, str>>) -> Log<'a> {
        self.source = Some(source.into());
        self
    }

    /// The log status (`info`, `warn`, `error`, ...).
    pub fn status(mut self, status: impl Into<Cow<'a, str>>) -> Log<'a> {
        self.status = Some(status.into());
        self
    }

    /// When it happened, if not when Datadog receives it: sent as `timestamp` in Unix
    /// milliseconds, one of the attributes Datadog reads the date from. Datadog takes entries at
    /// most 18 hours old and 2 hours ahead; one outside is refused by
    /// [`send`](crate::telemetry::Intake::send) with [`TelemetryError::Invalid`]. Once set, an
    /// attribute named `timestamp` is ignored.
    pub fn timestamp(mut self, time: SystemTime) -> Log<'a> {
        self.timestamp = Some(unix_ms(time));
        self
    }

    /// Adds a tag (`key:value`), sent in `ddtags`.
    pub fn tag(mut self, tag: impl Into<Cow<'a, str>>) -> Log<'a> {
        self.tags = Some(match self.tags {
            None => tag.into(),
            Some(tags) => {
                let mut joined = tags.into_owned();
                joined.push(',');
                joined.push_str(&tag.into());
                Cow::Owned(joined)
            }
        });
        self
    }

    /// Datadog drops an entry whose `timestamp` is over 18 hours old or 2 hours ahead: whether
    /// set by [`timestamp`](Self::timestamp) or as an integer attribute (which Datadog reads as
    /// Unix milliseconds, so that Unix seconds there would date the entry in January 1970).
    fn check_time(&self, now_ms: i64) -> Result<(), TelemetryError> {
        let (ms, by_attribute) = match self.timestamp {
            Some(ms) => (ms, false),
            // Any JSON number, as Datadog reads it: a float is cut to whole milliseconds,
            // saturating.
            None => match self
                .attributes
                .get("timestamp")
                .and_then(serde_json::Value::as_f64)
            {
                Some(ms) => (ms as i64, true),
                None => return Ok(()),
            },
        };
        let oldest = now_ms.saturating_sub(limits::LOG_MAX_AGE_SECS * 1000);
        let newest = now_ms.saturating_add(limits::LOG_MAX_AHEAD_SECS * 1000);
        let (off_by, bound) = if ms < oldest {
            (
                now_ms.saturating_sub(ms),
                "in the past; Datadog takes log entries at most 18 hours old",
            )
        } else if ms > newest {
            (
                ms.saturating_sub(now_ms),
                "in the future; Datadog takes log entries at most 2 hours ahead",
            )
        } else {
            return Ok(());
        };
        let hint = if by_attribute {
            " (Datadog reads an integer `timestamp` attribute as Unix milliseconds; \
             `Log::timestamp` takes a SystemTime)"
        } else {
            ""
        };
        Err(TelemetryError::Invalid {
            field: "log timestamp",
            reason: format!("{:.3}s {bound}{hint}", off_by as f64 / 1000.0),
        })
    }

    /// Adds an attribute (any JSON). Attributes named `message`, `service`, `hostname`,
    /// `ddsource`, `ddtags` or `status` are ignored (the methods above set those), and
    /// `timestamp` too once [`timestamp`](Self::timestamp) is set; a numeric `timestamp`
    /// attribute is checked against Datadog's window as Unix milliseconds. An attribute nesting
    /// objects and arrays deeper than [`limits::LOG_ENTRY_MAX_DEPTH`] (the entry counted) is
    /// refused by [`send`](crate::telemetry::Intake::send) with [`TelemetryError::TooDeep`], as
    /// the intake would refuse the whole payload holding it.
    pub fn attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Log<'a> {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// The entry as JSON; `now_ms` (Unix milliseconds) is when it is sent.
    pub(crate) fn render(
        &self,
        default_source: &str,
        now_ms: i64,
    ) -> Result<Vec<u8>, TelemetryError> {
        self.check_time(now_ms)?;
        let mut out = Vec::with_capacity(self.message.len() + 96);
        out.extend_from_slice(b"{\"ddsource\":");
        json_str(&mut out, self.source.as_deref().unwrap_or(default_source));
        if let Some(tags) = &self.tags {
            out.extend_from_slice(b",\"ddtags\":");
            json_str(&mut out, tags);
        }
        if let Some(h) = &self.hostname {
            out.extend_from_slice(b",\"hostname\":");
            json_str(&mut out, h);
        }
        // Datadog's field order (its clients' too): entries alike compress alike.
        out.extend_from_slice(b",\"message\":");
        json_str(&mut out, &self.message);
        if let Some(s) = &self.service {
            out.extend_from_slice(b",\"service\":");
            json_str(&mut out, s);
        }
        if let Some(s) = &self.status {
            out.extend_from_slice(b",\"status\":");
            json_str(&mut out, s);
        }
        if let Some(ms) = self.timestamp {
            out.extend_from_slice(b",\"timestamp\":");
            out.extend_from_slice(itoa::Buffer::new().format(ms).as_bytes());
        }
        for (k, v) in &self.attributes {
            if LOG_RESERVED.contains(&k.as_str()) || (self.timestamp.is_some() && k == "timestamp")
            {
                continue;
            }
            // Measured before it is serialized: serde_json's serializer recurses, and the intake's
            // parser refuses the whole payload past its depth, not just this entry.
            if nesting(v, ATTRIBUTE_MAX_DEPTH) > ATTRIBUTE_MAX_DEPTH {
                return Err(TelemetryError::TooDeep {
                    attribute: k.chars().take(64).collect(),
                    limit: limits::LOG_ENTRY_MAX_DEPTH,
                });
            }
            out.push(b',');
            json_str(&mut out, k);
            out.push(b':');
            serde_json::to_writer(&mut out, v).map_err(|e| TelemetryError::Invalid {
                field: "log attribute",
                reason: e.to_string(),
            })?;
        }
        out.push(b'}');
        if out.len() > limits::LOG_ENTRY_MAX_BYTES {
            return Err(TelemetryError::OverLimit {
                what: "a log entry",
                size: out.len(),
                limit: limits::LOG_ENTRY_MAX_BYTES,
                fix: "Datadog truncates larger entries: split the message into several entries",
            });
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Events

/// An event's `alert_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AlertType {
    /// `error`.
    Error,
    /// `warning`.
    Warning,
    /// `info` (Datadog's default).
    Info,
    /// `success`.
    Success,
    /// `user_update`.
    UserUpdate,
    /// `recommendation`.
    Recommendation,
    /// `snapshot`.
    Snapshot,
}

/// An event's `priority`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// `normal`.
    Normal,
    /// `low`.
    Low,
}

/// An event for `POST /api/v1/events`.
#[derive(Clone, Debug, Serialize)]
#[must_use]
pub struct Event {
    title: String,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregation_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alert_type: Option<AlertType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_happened: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<Priority>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_type_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    related_event_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_name: Option<String>,
}

impl Event {
    /// An event with a title and a text (at most 4000 characters; markdown if wrapped in
    /// `%%% \n ... \n %%%`).
    pub fn new(title: impl Into<String>, text: impl Into<String>) -> Event {
        Event {
            title: title.into(),
            text: text.into(),
            aggregation_key: None,
            alert_type: None,
            date_happened: None,
            priority: None,
            host: None,
            tags: Vec::new(),
            source_type_name: None,
            related_event_id: None,
            device_name: None,
        }
    }

    /// Groups events in Datadog's event stream (at most 100 characters).
    pub fn aggregation_key(mut self, key: impl Into<String>) -> Event {
        self.aggregation_key = Some(key.into());
        self
    }

    /// The alert type.
    pub fn alert_type(mut self, alert_type: AlertType) -> Event {
        self.alert_type = Some(alert_type);
        self
    }

    /// When it happened (at most 18 hours ago); default: when Datadog receives it.
    pub fn date_happened(mut self, time: SystemTime) -> Event {
        self.date_happened = Some(unix(time));
        self
    }

    /// The priority.
    pub fn priority(mut self, priority: Priority) -> Event {
        self.priority = Some(priority);
        self
    }

    /// The host it is about.
    pub fn host(mut self, host: impl Into<String>) -> Event {
        self.host = Some(host.into());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Event {
        self.tags.push(tag.into());
        self
    }

    /// `source_type_name`: the event's source. Without it, the event carries the integration's
    /// own (`IntegrationSpec::source_type_name`).
    pub fn source_type_name(mut self, name: impl Into<String>) -> Event {
        self.source_type_name = Some(name.into());
        self
    }

    /// The id of a related event.
    pub fn related_event_id(mut self, id: i64) -> Event {
        self.related_event_id = Some(id);
        self
    }

    /// The device it is about.
    pub fn device_name(mut self, name: impl Into<String>) -> Event {
        self.device_name = Some(name.into());
        self
    }

    pub(crate) fn render(&self, now: i64) -> Result<Vec<u8>, TelemetryError> {
        let chars = self.text.chars().count();
        if chars > limits::EVENT_TEXT_MAX_CHARS {
            return Err(TelemetryError::OverLimit {
                what: "an event's text",
                size: chars,
                limit: limits::EVENT_TEXT_MAX_CHARS,
                fix: "shorten the text (characters are counted) or link to the details",
            });
        }
        if let Some(key) = &self.aggregation_key {
            let chars = key.chars().count();
            if chars > limits::EVENT_AGGREGATION_KEY_MAX_CHARS {
                return Err(TelemetryError::OverLimit {
                    what: "an event's aggregation_key",
                    size: chars,
                    limit: limits::EVENT_AGGREGATION_KEY_MAX_CHARS,
                    fix: "use a shorter key (a hash of the long one, say)",
                });
            }
        }
        if let Some(at) = self.date_happened
            && at < now.saturating_sub(limits::EVENT_MAX_AGE_SECS)
        {
            return Err(TelemetryError::Invalid {
                field: "date_happened",
                reason: format!(
                    "{}s in the past; Datadog takes events at most 18 hours old",
                    now.saturating_sub(at)
                ),
            });
        }
        serde_json::to_vec(self).map_err(|e| TelemetryError::Invalid {
            field: "event",
            reason: e.to_string(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Service checks

/// A service check's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckStatus {
    /// 0.
    Ok,
    /// 1.
    Warning,
    /// 2.
    Critical,
    /// 3.
    Unknown,
}

/// A run of a declared service check, for `POST /api/v1/check_run`.
#[must_use]
pub struct ServiceCheck<I> {
    check: Check<I>,
    host_name: String,
    status: CheckStatus,
    tags: Vec<String>,
    message: Option<String>,
    timestamp: Option<i64>,
}

impl<I> fmt::Debug for ServiceCheck<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceCheck")
            .field("check", &self.check.spec.name)
            .field("host_name", &self.host_name)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl<I: DatadogIntegration> ServiceCheck<I> {
    /// A run of `check` on `host_name` with `status`.
    pub fn new(check: Check<I>, host_name: impl Into<String>, status: CheckStatus) -> Self {
        ServiceCheck {
            check,
            host_name: host_name.into(),
            status,
            tags: Vec::new(),
            message: None,
            timestamp: None,
        }
    }

    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// A message explaining the status.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// When the check ran (at most 10 minutes ago); default: when Datadog receives it.
    pub fn timestamp(mut self, time: SystemTime) -> Self {
        self.timestamp = Some(unix(time));
        self
    }

    pub(crate) fn render(&self, now: i64) -> Result<Vec<u8>, TelemetryError> {
        if let Some(at) = self.timestamp
            && at < now.saturating_sub(limits::CHECK_MAX_AGE_SECS)
        {
            return Err(TelemetryError::Invalid {
                field: "service check timestamp",
                reason: format!(
                    "{}s in the past; Datadog takes service checks at most 10 minutes old",
                    now.saturating_sub(at)
                ),
            });
        }
        #[derive(Serialize)]
        struct Wire<'a> {
            check: &'a str,
            host_name: &'a str,
            status: u8,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            tags: &'a [String],
            #[serde(skip_serializing_if = "Option::is_none")]
            message: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            timestamp: Option<i64>,
        }
        let wire = Wire {
            check: self.check.spec.name,
            host_name: &self.host_name,
            status: self.status as u8,
            tags: &self.tags,
            message: self.message.as_deref(),
            timestamp: self.timestamp,
        };
        serde_json::to_vec(&wire).map_err(|e| TelemetryError::Invalid {
            field: "service check",
            reason: e.to_string(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// What the queue carries

/// One accepted submission, rendered, as the queue carries it: points with their series
/// borrowed from the caller while `send` runs, owned once they wait for room.
#[derive(Debug)]
pub(crate) enum Item<'a> {
    Points {
        header: Header<'a>,
        points: PointBuf,
    },
    Log(Vec<u8>),
    Event(Vec<u8>),
    Check(Vec<u8>),
}

/// Bytes a point takes, rendered, on average (`{"timestamp":1700000000,"value":12.5}` and a
/// comma): what the queue's byte budget counts for it.
const POINT_COST: usize = 40;

/// A series' identity, as an item holds it: borrowed from the caller's series while `send`
/// runs, owned to wait for room beyond it.
pub(crate) type Header<'a> = Cow<'a, Arc<SeriesHeader>>;

impl Item<'_> {
    /// The item, owning its series' identity: to wait for room beyond the `send` call.
    pub(crate) fn into_owned(self) -> Item<'static> {
        match self {
            Item::Points { header, points } => Item::Points {
                header: Cow::Owned(header.into_owned()),
                points,
            },
            Item::Log(b) => Item::Log(b),
            Item::Event(b) => Item::Event(b),
            Item::Check(b) => Item::Check(b),
        }
    }

    /// Roughly the bytes it will take rendered: what the queue's budget counts.
    #[inline]
    pub(crate) fn cost(&self) -> usize {
        match self {
            Item::Points { points, .. } => {
                POINT_COST.saturating_mul(points.len()).saturating_add(16)
            }
            Item::Log(b) | Item::Event(b) | Item::Check(b) => b.len().saturating_add(1),
        }
    }

    #[inline]
    pub(crate) fn kind(&self) -> DataKind {
        match self {
            Item::Points { .. } => DataKind::Metrics,
            Item::Log(_) => DataKind::Logs,
            Item::Event(_) => DataKind::Events,
            Item::Check(_) => DataKind::ServiceChecks,
        }
    }

    #[inline]
    pub(crate) fn count(&self) -> usize {
        match self {
            Item::Points { points, .. } => points.len(),
            _ => 1,
        }
    }
}

/// Something [`Intake::send`](super::Intake::send) takes for the integration `I`: [`Points`],
/// [`Log`], [`Event`], [`ServiceCheck`], each only if `I` lists its kind in `submits = [...]`
/// (see [`Submits`](crate::integration::Submits)): sending a kind the declaration does not list does not
/// compile. Sealed.
pub trait Submission<I>: sealed::Sealed {
    /// Validated against the clock at `now_ms` (Unix milliseconds: a log's time is given to
    /// the millisecond, the others' to the second).
    #[doc(hidden)]
    fn prepare<'s>(self, now_ms: i64) -> Result<Prepared<'s>, TelemetryError>
    where
        Self: 's;
}

/// A submission validated and rendered (opaque).
#[doc(hidden)]
#[derive(Debug)]
pub struct Prepared<'a>(pub(crate) Item<'a>);

mod sealed {
    pub trait Sealed {}
    impl<I> Sealed for super::Points<'_, I> {}
    impl Sealed for super::Log<'_> {}
    impl Sealed for super::Event {}
    impl<I> Sealed for super::ServiceCheck<I> {}
}

impl<I: Submits<kinds::metrics>> Submission<I> for Points<'_, I> {
    // Inlined into `send`: a point's values stay in registers rather than cross the stack.
    #[inline(always)]
    fn prepare<'s>(self, now_ms: i64) -> Result<Prepared<'s>, TelemetryError>
    where
        Self: 's,
    {
        require_kind::<I>(DataKind::Metrics)?;
        let now = now_ms.div_euclid(1000);
        let window = now.saturating_sub(limits::POINT_MAX_BEHIND_SECS)
            ..=now.saturating_add(limits::POINT_MAX_AHEAD_SECS);
        // Checked first, the error built only for a bad point: nothing to build or drop at
        // each good one.
        let mut all_good = true;
        self.points.for_each(|t, v| {
            all_good &= v.is_finite() & window.contains(&t);
        });
        if !all_good {
            return Err(self.first_bad_point(now, &window));
        }
        if self.points.len() == 0 {
            return Err(TelemetryError::Invalid {
                field: "points",
                reason: "no point to send".into(),
            });
        }
        Ok(Prepared(Item::Points {
            header: Cow::Borrowed(self.header),
            points: self.points,
        }))
    }
}

impl<I: Submits<kinds::logs>> Submission<I> for Log<'_> {
    fn prepare<'s>(self, now_ms: i64) -> Result<Prepared<'s>, TelemetryError>
    where
        Self: 's,
    {
        require_kind::<I>(DataKind::Logs)?;
        let rendered = self.render(I::SPEC.logs_source(), now_ms);
        // The attributes are the caller's, however deep (a refused one included).
        drop_flat(self.attributes.into_iter().map(|(_, v)| v));
        Ok(Prepared(Item::Log(rendered?)))
    }
}

impl<I: Submits<kinds::events>> Submission<I> for Event {
    fn prepare<'s>(mut self, now_ms: i64) -> Result<Prepared<'s>, TelemetryError> {
        require_kind::<I>(DataKind::Events)?;
        // Attributed to the integration unless the caller names another source: the starter
        // dashboard's event stream, and the integration's tile, find its events by it.
        if self.source_type_name.is_none() {
            self.source_type_name = Some(I::SPEC.source_type_name().to_owned());
        }
        Ok(Prepared(Item::Event(self.render(now_ms.div_euclid(1000))?)))
    }
}

impl<I: Submits<kinds::service_checks>> Submission<I> for ServiceCheck<I> {
    fn prepare<'s>(self, now_ms: i64) -> Result<Prepared<'s>, TelemetryError>
    where
        Self: 's,
    {
        require_kind::<I>(DataKind::ServiceChecks)?;
        Ok(Prepared(Item::Check(self.render(now_ms.div_euclid(1000))?)))
    }
}

// ---------------------------------------------------------------------------------------------
// JSON and time

/// Appends `s` as a JSON string, escaped exactly as `serde_json` escapes it.
pub(crate) fn json_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    json_escaped(out, s);
    out.push(b'"');
}

/// Appends `s` escaped for the inside of a JSON string, as `serde_json` escapes it: eight
/// bytes are looked at a time, and runs of bytes needing no escape are copied whole.
pub(crate) fn json_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Whole words holding no `"`, `\` or control character are skipped at once.
        if let Some(word) = bytes.get(i..i + 8) {
            let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
            if !needs_escape(w) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
                i += 1;
                start = i;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(short);
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether any of the eight bytes of `w` is `"`, `\` or below 0x20.
#[inline]
fn needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of a byte of `zero(x)` is set where that byte of `x` is zero (the classic
    // `(x - 0x01..) & !x & 0x80..` test); `below_space` likewise where a byte is below 0x20.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    (zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\'))) | below_space) != 0
}

/// Appends `{"timestamp":T,"value":V}`.
#[inline]
pub(crate) fn render_point(out: &mut Vec<u8>, timestamp: i64, value: f64) {
    // The longest point: 13 + 20 + 9 + 24 + 1 bytes.
    out.reserve(72);
    out.extend_from_slice(b"{\"timestamp\":");
    put_i64(out, timestamp);
    out.extend_from_slice(b",\"value\":");
    // Whole values as integers (`3`, not `3.0`), as Datadog's own clients write them: JSON has
    // one number type, and a payload of counts is a fifth shorter. Finite: checked when the
    // points were prepared.
    if let Some(whole) = whole(value) {
        put_i64(out, whole);
    } else {
        put_short(out, ryu::Buffer::new().format_finite(value).as_bytes());
    }
    out.push(b'}');
}

/// `value` as the integer it is written as: a whole value under 1e15. Tested by a round trip
/// through `i64` rather than `fract()`, which is a call to libm's `trunc` on x86-64's baseline.
#[inline]
pub(crate) fn whole(value: f64) -> Option<i64> {
    let whole = value as i64;
    (value.abs() < 1e15 && whole as f64 == value).then_some(whole)
}

/// Appends an integer's digits, written in place: a point is a few dozen bytes, and a call to
/// `memcpy` for each of its numbers cost more than writing them.
#[inline]
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

/// Appends a short byte string (a formatted number: at most 24 bytes) without a call to
/// `memcpy`.
#[inline]
fn put_short(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.push(b);
    }
}

pub(crate) fn unix(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Unix milliseconds, negative before 1970.
fn unix_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn unix_now() -> i64 {
    unix(SystemTime::now())
}

/// Now, in Unix milliseconds, for checking data against Datadog's window at each `send`: the
/// kernel's coarse clock (a few nanoseconds to read, where the precise one costs tens) plus its
/// resolution, so that it is never behind the precise clock, and ahead of it by at most one
/// tick (a few milliseconds, against windows of minutes and hours).
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
pub(crate) fn send_now_ms() -> i64 {
    use rustix::time::{ClockId, Timespec, clock_getres, clock_gettime};
    use std::sync::LazyLock;
    fn ms(t: Timespec) -> i64 {
        t.tv_sec.saturating_mul(1000) + i64::from(t.tv_nsec as u32 / 1_000_000)
    }
    /// The tick, rounded up to whole milliseconds.
    static TICK_MS: LazyLock<i64> = LazyLock::new(|| {
        let r = clock_getres(ClockId::RealtimeCoarse);
        r.tv_sec.saturating_mul(1000) + i64::from((r.tv_nsec as u32).div_ceil(1_000_000))
    });
    ms(clock_gettime(ClockId::RealtimeCoarse)).saturating_add(*TICK_MS)
}

/// Now, in Unix milliseconds (the precise clock where no coarse one is at hand).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn send_now_ms() -> i64 {
    unix_ms(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock `send` checks data with is the precise one, give or take a kernel tick (at
    /// most 10 ms; rounded up here to 20): never off by more against Datadog's windows of
    /// minutes and hours.
    #[test]
    fn the_send_clock_agrees_with_the_precise_clock_within_a_tick() {
        for _ in 0..100_000 {
            let before = unix_ms(SystemTime::now());
            let send = send_now_ms();
            let after = unix_ms(SystemTime::now());
            assert!(send + 20 >= before, "{send} ms read after {before} ms");
            assert!(send <= after + 20, "{send} ms read before {after} ms");
        }
    }

    #[test]
    fn a_log_time_is_checked_to_the_millisecond_at_both_edges() {
        use std::time::Duration;
        let now_ms = 1_700_000_000_123;
        let at = |ms: i64| Log::new("m").timestamp(UNIX_EPOCH + Duration::from_millis(ms as u64));
        let oldest = now_ms - 18 * 3_600_000;
        let newest = now_ms + 2 * 3_600_000;
        for ok in [oldest, now_ms, newest] {
            let json = at(ok).render("acme", now_ms).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(v["timestamp"], ok);
        }
        for bad in [oldest - 1, newest + 1] {
            let e = at(bad).render("acme", now_ms).unwrap_err();
            assert!(
                matches!(
                    e,
                    TelemetryError::Invalid {
                        field: "log timestamp",
                        ..
                    }
                ),
                "{e}"
            );
        }
        // An integer attribute is read by Datadog as milliseconds: seconds there are refused.
        let seconds = Log::new("m").attribute("timestamp", now_ms / 1000);
        let e = seconds.render("acme", now_ms).unwrap_err().to_string();
        assert!(e.contains("Unix milliseconds"), "{e}");
        let ms = Log::new("m").attribute("timestamp", oldest);
        assert!(ms.render("acme", now_ms).is_ok());
        let float_seconds = Log::new("m").attribute("timestamp", 1_700_000_000.5);
        assert!(float_seconds.render("acme", now_ms).is_err());
        let huge = Log::new("m").attribute("timestamp", u64::MAX);
        assert!(
            huge.render("acme", now_ms).is_err(),
            "past i64 is far ahead"
        );
        // A text date is Datadog's to parse; `Log::timestamp` wins over the attribute.
        let text = Log::new("m").attribute("timestamp", "2020-01-01T00:00:00Z");
        assert!(text.render("acme", now_ms).is_ok());
        let both = at(now_ms)
            .attribute("timestamp", 5)
            .render("acme", now_ms)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&both).unwrap();
        assert_eq!(v["timestamp"], now_ms);
    }

    #[test]
    fn points_render_as_datadog_reads_them() {
        let mut out = Vec::new();
        render_point(&mut out, 1_700_000_000, 1.5);
        assert_eq!(out, br#"{"timestamp":1700000000,"value":1.5}"#);
        out.clear();
        render_point(&mut out, -1, 3.0);
        assert_eq!(out, br#"{"timestamp":-1,"value":3}"#);
        for v in [
            0.1,
            -2.5,
            1e15,
            1e300,
            f64::MIN_POSITIVE,
            -0.0,
            123_456_789_012.0,
        ] {
            out.clear();
            render_point(&mut out, 0, v);
            let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(back["value"].as_f64(), Some(v), "{v}");
        }
    }

    /// An integration written by hand, not by the macro, whose spec and `Submits` impls
    /// disagree: the run-time check still refuses what the spec does not list.
    struct HandWritten;

    impl DatadogIntegration for HandWritten {
        const SPEC: &'static crate::integration::IntegrationSpec =
            &crate::integration::IntegrationSpec {
                environments: &[],
                listing: crate::integration::Listing::DEFAULT,
                name: "Hand Written",
                scopes: &[crate::Scope::API_KEYS_WRITE],
                submits: &[DataKind::Metrics],
                ..*crate::__private::INVALID_SPEC
            };
    }

    impl Submits<kinds::logs> for HandWritten {}

    #[test]
    fn a_kind_the_spec_does_not_list_is_refused_at_run_time_too() {
        let error = <Log as Submission<HandWritten>>::prepare(Log::new("x"), 0).unwrap_err();
        assert!(matches!(
            error,
            TelemetryError::NotDeclared {
                kind: DataKind::Logs,
                ..
            }
        ));
        assert!(error.to_string().contains("`logs` in `submits"), "{error}");
    }

    struct Metered;

    impl DatadogIntegration for Metered {
        const SPEC: &'static crate::integration::IntegrationSpec =
            &crate::integration::IntegrationSpec {
                environments: &[],
                listing: crate::integration::Listing::DEFAULT,
                name: "Metered",
                submits: &[DataKind::Metrics],
                metrics: &[MetricSpec {
                    name: "acme.queue",
                    metric_type: MetricType::Count,
                    unit: Some("item"),
                    per_unit: None,
                    description: "",
                    orientation: crate::integration::Orientation::Neutral,
                    short_name: None,
                    interval: None,
                    sample_tags: &[],
                    curated_metric: &[],
                }],
                ..*crate::__private::INVALID_SPEC
            };
    }

    /// Fields in the order Datadog's official client serializes them, the points in the middle:
    /// the same series compresses to the same bytes there and here.
    #[test]
    fn a_series_renders_its_fields_in_the_official_clients_order() {
        let series = Metric::<Metered>::named("acme.queue")
            .unwrap()
            .series()
            .interval(10)
            .tag("env:prod")
            .tag("q:\"a\"")
            .host("web-1")
            .resource("service", "pager")
            .build()
            .unwrap();
        let header = &series.header;
        assert_eq!(
            std::str::from_utf8(&header.prefix).unwrap(),
            r#"{"interval":10,"metric":"acme.queue","points":["#
        );
        assert_eq!(
            std::str::from_utf8(&header.suffix).unwrap(),
            r#"],"resources":[{"name":"web-1","type":"host"},{"name":"pager","type":"service"}],"tags":["env:prod","q:\"a\""],"type":1,"unit":"item"}"#
        );
        let bare = Metric::<Metered>::named("acme.queue")
            .unwrap()
            .series()
            .build()
            .unwrap();
        assert_eq!(
            &*bare.header.prefix,
            br#"{"metric":"acme.queue","points":["#
        );
        assert_eq!(&*bare.header.suffix, br#"],"type":1,"unit":"item"}"#);
    }

    /// `depth` levels of arrays and objects, alternating, around a number.
    fn nested(depth: usize) -> serde_json::Value {
        let mut v = serde_json::Value::from(1);
        for i in 0..depth {
            // Moved in: `json!` would copy `v` recursively, and drop it so.
            v = if i % 2 == 0 {
                serde_json::Value::Array(vec![v])
            } else {
                serde_json::Value::Object([("k".to_owned(), v)].into_iter().collect())
            };
        }
        v
    }

    /// The limit is serde_json's own: a payload of one entry at the limit is read back, one
    /// level deeper is not. Were the SDK to send the deeper one, its whole payload would go.
    #[test]
    fn a_log_nested_one_level_past_what_the_intake_parser_reads_is_refused_alone() {
        let now_ms = 1_700_000_000_000;
        let at_limit = Log::new("m").attribute("deep", nested(ATTRIBUTE_MAX_DEPTH));
        let entry = at_limit.render("acme", now_ms).unwrap();
        let payload = [b"[".as_slice(), &entry, b"]"].concat();
        let back: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(nesting(&back, usize::MAX), limits::LOG_ENTRY_MAX_DEPTH + 1);

        let over = Log::new("m").attribute("deep", nested(ATTRIBUTE_MAX_DEPTH + 1));
        let error = over.render("acme", now_ms).unwrap_err();
        assert_eq!(
            error,
            TelemetryError::TooDeep {
                attribute: "deep".into(),
                limit: limits::LOG_ENTRY_MAX_DEPTH
            }
        );
        assert!(error.to_string().contains("flatten"), "{error}");
        // What it would have been: a payload serde_json refuses whole.
        let mut unchecked = over.clone();
        let value = unchecked.attributes.remove("deep").unwrap();
        let text = format!(r#"[{{"message":"m","deep":{value}}}]"#);
        let refused = serde_json::from_str::<serde_json::Value>(&text).unwrap_err();
        assert!(refused.to_string().contains("recursion limit"), "{refused}");
        // A reserved name is not sent, so not measured.
        let reserved = Log::new("m").attribute("status", nested(ATTRIBUTE_MAX_DEPTH + 1));
        assert!(reserved.render("acme", now_ms).is_ok());
    }

    struct Logger;

    impl DatadogIntegration for Logger {
        const SPEC: &'static crate::integration::IntegrationSpec =
            &crate::integration::IntegrationSpec {
                environments: &[],
                listing: crate::integration::Listing::DEFAULT,
                name: "Logger",
                app_id: "logger",
                submits: &[DataKind::Logs],
                ..*crate::__private::INVALID_SPEC
            };
    }

    impl Submits<kinds::logs> for Logger {}

    /// Measured and dropped without recursion: the derived drop of such a value, or
    /// serde_json's serializer, would overflow the stack and abort the process.
    #[test]
    fn a_log_attribute_nested_200000_levels_is_refused_without_overflowing_the_stack() {
        let log = Log::new("m")
            .attribute("deep", nested(200_000))
            .attribute("status", nested(200_000));
        let error = <Log as Submission<Logger>>::prepare(log, 1_700_000_000_000).unwrap_err();
        assert!(matches!(error, TelemetryError::TooDeep { .. }), "{error}");
        // Accepted with a deep value under a reserved name, which is not sent: dropped flat too.
        let log = Log::new("m").attribute("status", nested(200_000));
        assert!(<Log as Submission<Logger>>::prepare(log, 1_700_000_000_000).is_ok());
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = Vec::new();
        json_str(&mut out, "a\"b\\c\n\u{1}");
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "a\"b\\c\n\u{1}");
    }
}
