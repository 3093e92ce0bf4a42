//! Datadog's documented intake limits, as the SDK applies them (reference: Datadog's v1 and v2
//! OpenAPI specs and the logs intake documentation).

/// Metrics (`/api/v2/series`): the most bytes a payload may have as sent (compressed or not).
pub const SERIES_MAX_WIRE_BYTES: usize = 512_000;
/// Metrics: a payload must decompress to fewer bytes than this (5 MiB).
pub const SERIES_DECOMPRESSED_LIMIT: usize = 5_242_880;
/// Metrics: points more than this far ahead of the clock are dropped by Datadog (10 minutes).
pub const POINT_MAX_AHEAD_SECS: i64 = 600;
/// Metrics: points more than this far behind the clock are dropped by Datadog (1 hour).
pub const POINT_MAX_BEHIND_SECS: i64 = 3600;
/// The SDK's own cap on a series' rendered name, type, unit, tags and resources, so that one
/// point of any series fits a payload with room to spare.
pub const SERIES_HEADER_MAX_BYTES: usize = 64 * 1024;

/// Logs (`/api/v2/logs`): the most bytes a request may have uncompressed (5 MiB).
pub const LOGS_MAX_BYTES: usize = 5_242_880;
/// Logs: the most entries a request may carry.
pub const LOGS_MAX_ENTRIES: usize = 1000;
/// Logs: the most bytes one entry may have (1 MiB); Datadog truncates larger ones, the SDK
/// refuses them.
pub const LOG_ENTRY_MAX_BYTES: usize = 1_048_576;
/// Logs: the deepest an entry may nest JSON objects and arrays, its own object counted as one.
/// The payload, an array of entries, adds a level, and must still be read whole by the intake's
/// JSON parser: serde_json (the sandbox's) reads at most 127 levels (its recursion limit of
/// 128), and a payload that cannot be read is refused with every entry in it. Datadog documents
/// no nesting limit of its own (it advises attributes far shallower); the SDK refuses a deeper
/// entry alone, when it is sent.
pub const LOG_ENTRY_MAX_DEPTH: usize = 126;
/// Logs: the oldest `timestamp` Datadog takes (18 hours; Datadog's log date remapper
/// documentation).
pub const LOG_MAX_AGE_SECS: i64 = 18 * 3600;
/// Logs: the furthest ahead a `timestamp` may be (2 hours; the same documentation).
pub const LOG_MAX_AHEAD_SECS: i64 = 2 * 3600;

/// Events (`/api/v1/events`): the most characters `text` may have.
pub const EVENT_TEXT_MAX_CHARS: usize = 4000;
/// Events: the most characters `aggregation_key` may have.
pub const EVENT_AGGREGATION_KEY_MAX_CHARS: usize = 100;
/// Events: the oldest `date_happened` Datadog takes (18 hours).
pub const EVENT_MAX_AGE_SECS: i64 = 18 * 3600;

/// Service checks (`/api/v1/check_run`): the oldest timestamp Datadog takes (10 minutes).
pub const CHECK_MAX_AGE_SECS: i64 = 600;
/// Service checks: Datadog documents no payload limit; the SDK sends at most this many bytes
/// per request, the metrics intake's limit.
pub const CHECKS_MAX_BYTES: usize = 512_000;
/// Service checks: at most this many per request (the SDK's choice, as for logs).
pub const CHECKS_MAX_ENTRIES: usize = 1000;
