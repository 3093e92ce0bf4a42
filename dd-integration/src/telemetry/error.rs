//! What can go wrong when sending telemetry, each with what to do about it.

use std::time::Duration;

use crate::error::RateLimit;
use crate::installation::InstallationId;
use crate::integration::DataKind;
use crate::site::Domain;

/// Why telemetry was refused or not delivered. No message quotes an API key.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The metric is not in the integration's `metric(...)` declarations.
    #[error(
        "the metric `{metric}` is not declared by the integration `{integration}`: add \
         `metric(name = \"{metric}\", type = ...)` to its `#[datadog_integration(...)]`, so that \
         metadata.csv lists what is sent"
    )]
    UndeclaredMetric {
        /// The integration's name.
        integration: &'static str,
        /// The name as given.
        metric: String,
    },
    /// The service check is not in the integration's `service_check(...)` declarations.
    #[error(
        "the service check `{check}` is not declared by the integration `{integration}`: add \
         `service_check(name = \"{check}\", ...)` to its `#[datadog_integration(...)]`, so that \
         service_checks.json lists what is sent"
    )]
    UndeclaredServiceCheck {
        /// The integration's name.
        integration: &'static str,
        /// The name as given.
        check: String,
    },
    /// The integration's `submits = [...]` does not list this kind of data.
    #[error(
        "the integration `{integration}` does not declare `{}` in `submits = [...]`: add it to \
         its `#[datadog_integration(...)]` (the manifest and the submission review read it)",
        kind.as_str()
    )]
    NotDeclared {
        /// The integration's name.
        integration: &'static str,
        /// What was sent.
        kind: DataKind,
    },
    /// A distribution metric: `/api/v2/series` does not take them.
    #[error(
        "the metric `{metric}` is declared as a distribution; Datadog takes distributions only at \
         /api/v1/distribution_points, which this SDK does not send: declare it as a gauge, \
         count or rate"
    )]
    Distribution {
        /// The metric.
        metric: &'static str,
    },
    /// A point's timestamp is outside what Datadog keeps (10 minutes ahead, 1 hour behind).
    #[error(
        "a point of `{metric}` is timestamped {timestamp}, {}: Datadog silently drops points more \
         than 10 minutes ahead or 1 hour behind its clock; check the source's clock (and this \
         host's)",
        offset_text(*offset_secs)
    )]
    PointOutOfWindow {
        /// The metric.
        metric: &'static str,
        /// The point's timestamp (Unix seconds).
        timestamp: i64,
        /// The timestamp minus this host's clock, in seconds.
        offset_secs: i64,
    },
    /// A value that JSON cannot carry (NaN or infinite).
    #[error("a point of `{metric}` is not a finite number; Datadog takes only finite values")]
    NotFinite {
        /// The metric.
        metric: &'static str,
    },
    /// Data that Datadog's documented limits refuse, before anything is sent.
    #[error("{what} is over Datadog's limit: {size} > {limit}; {fix}")]
    OverLimit {
        /// What is too large.
        what: &'static str,
        /// Its size (bytes or characters, as the limit counts).
        size: usize,
        /// The limit.
        limit: usize,
        /// What to do.
        fix: &'static str,
    },
    /// A log attribute nested deeper than [`limits::LOG_ENTRY_MAX_DEPTH`](super::limits::LOG_ENTRY_MAX_DEPTH):
    /// the intake's JSON parser would refuse the whole payload holding the entry, its other
    /// entries with it, so the entry is refused alone when sent.
    #[error(
        "the log attribute `{attribute}` nests JSON objects and arrays more than {limit} levels \
         deep (the entry's own object counted): the intake's JSON parser would refuse the whole \
         payload holding it, with every other entry in it, so it is not sent; flatten the \
         attribute (Datadog indexes far shallower attributes anyway) or send its deep part as \
         a string"
    )]
    TooDeep {
        /// The attribute's name (its first 64 characters).
        attribute: String,
        /// The deepest an entry may nest.
        limit: usize,
    },
    /// A field Datadog would refuse.
    #[error("{field} is not valid: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// [`Intake::try_send`](super::Intake::try_send) found the installation's queue full.
    #[error(
        "the telemetry queue of installation {installation} is full ({capacity} bytes): Datadog \
         is slower than the data arrives; retry later, use `send` (which waits), or raise \
         `TelemetrySettings::queue_bytes`"
    )]
    Full {
        /// The installation.
        installation: InstallationId,
        /// The queue's capacity in bytes.
        capacity: usize,
    },
    /// One item larger than the whole queue could ever hold.
    #[error(
        "one item of {size} bytes is larger than the telemetry queue ({capacity} bytes); raise \
         `TelemetrySettings::queue_bytes` or send it in parts"
    )]
    TooLargeForQueue {
        /// The item's size.
        size: usize,
        /// The queue's capacity.
        capacity: usize,
    },
    /// The installation has no marketplace API key, the only way to send data.
    #[error(
        "installation {installation} has no marketplace API key: the integration must declare \
         `api_keys_write` and `submits`, and the key is created at install; have the customer \
         connect the integration again from its tile"
    )]
    NoApiKey {
        /// The installation.
        installation: InstallationId,
    },
    /// The installation is not active (revoked, disconnected or replaced).
    #[error(
        "installation {installation} is not active ({status}); nothing is sent for it: the \
         customer must connect the integration again from its tile"
    )]
    Inactive {
        /// The installation.
        installation: InstallationId,
        /// Its status, as text.
        status: String,
    },
    /// Datadog refused the installation's API key (403 from the intake).
    #[error(
        "Datadog refused the marketplace API key of installation {installation} ({domain}, key \
         {masked_key}) with HTTP {status}: it was revoked in Organization Settings > API Keys, \
         or the integration was removed. Nothing more is sent for this installation. The \
         customer must connect the integration again from its tile in Datadog, which creates a \
         new key; if Datadog answers that a key already exists, they first revoke the key named \
         \"... OAuth Client API Key ...\" in Organization Settings > API Keys"
    )]
    KeyRejected {
        /// The installation.
        installation: InstallationId,
        /// Its region.
        domain: Domain,
        /// The key as Datadog shows it (`…abcd`).
        masked_key: String,
        /// 403 (or 401 from the logs intake).
        status: u16,
    },
    /// The telemetry was shut down (or the installation removed from it).
    #[error("telemetry for installation {installation} is shut down; nothing more is accepted")]
    Closed {
        /// The installation.
        installation: InstallationId,
    },
    /// Some accepted data could not be delivered (reported by `flush` and `shutdown`).
    #[error(
        "{count} {} of installation {installation} could not be delivered: {failure}",
        kind_plural(*kind)
    )]
    Undelivered {
        /// The installation.
        installation: InstallationId,
        /// The kind of data.
        kind: DataKind,
        /// How many points, log entries, events or service checks.
        count: usize,
        /// Why.
        failure: DeliveryFailure,
    },
}

/// Why a payload could not be delivered after the SDK's retries.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryFailure {
    /// Datadog refused the API key (see [`TelemetryError::KeyRejected`]).
    #[error(
        "Datadog refused the API key (HTTP {status}); the customer must connect the integration \
         again from its tile"
    )]
    KeyRejected {
        /// The HTTP status.
        status: u16,
    },
    /// Datadog refused the payload itself (400 and other 4xx that retrying cannot fix).
    #[error("Datadog refused the payload (HTTP {status}): {detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Datadog's error messages, escaped and shortened.
        detail: String,
    },
    /// One item is too large even alone (413 for a single entry).
    #[error("Datadog answered 413 to a single item; it is too large to send")]
    TooLarge,
    /// Every attempt failed transiently (408, 429, 5xx, time-outs, cut connections).
    #[error("{attempts} attempts failed; the last: {last}")]
    Exhausted {
        /// Requests made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// Datadog rate-limited the intake for longer than the SDK waits.
    #[error("Datadog rate-limited the intake: {rate_limit}")]
    RateLimited {
        /// The rate-limit headers.
        rate_limit: RateLimit,
    },
    /// The data was discarded because the installation's key had been refused before.
    #[error("not sent: the installation's API key had already been refused")]
    Abandoned,
    /// Metric points more than an hour old when Datadog took the payload: Datadog accepts
    /// them and drops them. They waited too long in the queue or in retries (the intake was
    /// failing or slow, or they were sent close to the hour).
    #[error(
        "points more than an hour old when Datadog received them, which it drops: they waited \
         too long in the queue or in retries; send points well within the hour"
    )]
    Expired,
}

impl TelemetryError {
    /// True for the errors that only the customer can fix by connecting the integration again.
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            TelemetryError::KeyRejected { .. }
                | TelemetryError::NoApiKey { .. }
                | TelemetryError::Inactive { .. }
                | TelemetryError::Undelivered {
                    failure: DeliveryFailure::KeyRejected { .. } | DeliveryFailure::Abandoned,
                    ..
                }
        )
    }
}

fn offset_text(offset: i64) -> String {
    let d = Duration::from_secs(offset.unsigned_abs());
    if offset >= 0 {
        format!("{}s ahead of this host's clock", d.as_secs())
    } else {
        format!("{}s behind this host's clock", d.as_secs())
    }
}

fn kind_plural(kind: DataKind) -> &'static str {
    match kind {
        DataKind::Metrics => "metric points",
        DataKind::Logs => "log entries",
        DataKind::Events => "events",
        DataKind::ServiceChecks => "service checks",
    }
}
