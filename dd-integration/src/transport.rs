//! The one HTTP layer every call to Datadog goes through: OAuth (token, revoke, the marketplace
//! key, the org), the API client and telemetry.
//!
//! - [`DatadogHttp`]: the client (rustls, connect and total time-outs, no redirects: Datadog's
//!   token, revoke and key endpoints never redirect, and following one would hand a client
//!   secret or a bearer token to wherever it points).
//! - [`exchange`]: one send, the body read within a [`BodyLimit`], and every transport failure
//!   mapped to one [`Failure`]; each caller turns it into its own typed error.
//! - [`Backoff`]: one retry policy, exponential with jitter, and the wait a rate limit asks for.
//!
//! Each caller says only what differs: which statuses it retries, how many times, and what an
//! answer means.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use url::Url;

use crate::endpoint::Endpoints;
use crate::error::{Error, Operation};
use crate::site::Domain;

/// Limits of the HTTP client.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Time to establish a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Time for a whole request and response (default 30 s).
    pub timeout: Duration,
    /// The largest response body read (default 1 MiB; Datadog's OAuth and key responses are
    /// under 2 KB).
    pub max_response_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            max_response_bytes: 1 << 20,
        }
    }
}

impl HttpConfig {
    /// Sets the connect time-out.
    pub fn connect_timeout(mut self, value: Duration) -> HttpConfig {
        self.connect_timeout = value;
        self
    }

    /// Sets the total time-out.
    pub fn timeout(mut self, value: Duration) -> HttpConfig {
        self.timeout = value;
        self
    }

    /// Sets the response body cap.
    pub fn max_response_bytes(mut self, value: usize) -> HttpConfig {
        self.max_response_bytes = value;
        self
    }
}

/// How much of a response body to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyLimit {
    /// Read it whole, and fail with [`Failure::TooLarge`] past this many bytes (answers that are
    /// parsed: a token, a key, an API response).
    Refuse(usize),
    /// Read at most this many bytes and keep the status whatever follows (the intake's
    /// answers, read only for an error's detail: a 2xx must never become a failure).
    Truncate(usize),
}

/// What went wrong between sending a request and reading its answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No answer in time (connect or total time-out).
    Timeout,
    /// The connection failed or was cut; the URL is stripped (it may carry a query).
    Transport(reqwest::Error),
    /// The body was longer than [`BodyLimit::Refuse`] allows.
    TooLarge { limit: usize },
}

impl Failure {
    fn of(e: reqwest::Error) -> Failure {
        if e.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Transport(e.without_url())
        }
    }

    /// One line for a log or a retry's "last failure".
    pub(crate) fn describe(&self) -> String {
        match self {
            Failure::Timeout => "no answer in time".to_owned(),
            Failure::Transport(e) => format!("transport: {e}"),
            Failure::TooLarge { limit } => format!("an answer over {limit} bytes"),
        }
    }

    /// As the OAuth and key calls report it.
    pub(crate) fn into_error(self, operation: Operation, domain: Domain) -> Error {
        match self {
            Failure::Timeout => Error::Timeout { operation, domain },
            Failure::Transport(source) => Error::Transport {
                operation,
                domain,
                source,
            },
            Failure::TooLarge { limit } => Error::ResponseTooLarge { operation, limit },
        }
    }
}

/// Sends `request` and reads the answer within `limit`.
pub(crate) async fn exchange(request: RequestBuilder, limit: BodyLimit) -> Result<Reply, Failure> {
    let mut response = request.send().await.map_err(Failure::of)?;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    match limit {
        BodyLimit::Refuse(limit) => {
            if response.content_length().is_some_and(|n| n > limit as u64) {
                return Err(Failure::TooLarge { limit });
            }
            while let Some(chunk) = response.chunk().await.map_err(Failure::of)? {
                if body.len() + chunk.len() > limit {
                    return Err(Failure::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
        }
        BodyLimit::Truncate(cap) => {
            // The status is the answer; a body cut short or unreadable only loses detail.
            while let Ok(Some(chunk)) = response.chunk().await {
                if body.len() + chunk.len() > cap {
                    break;
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// The retry policy of every caller: exponential backoff with jitter, and the wait a rate
/// limit's `X-RateLimit-Reset` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// The first wait, doubled each attempt.
    pub(crate) first: Duration,
    /// The longest exponential wait.
    pub(crate) max: Duration,
}

impl Backoff {
    /// The wait before attempt `attempt + 1` (`attempt` counts from 1): `first * 2^(attempt-1)`,
    /// at most `max`, jittered between half and all of it.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let base = self
            .first
            .saturating_mul(1 << (attempt.max(1) - 1).min(20))
            .min(self.max);
        jittered(base)
    }

    /// The wait after a 429 whose limit resets in `reset`: past the reset (and never shorter
    /// than [`Backoff::delay`]), with up to half of `first` of jitter so that many callers do
    /// not return at once; `None` when the reset is beyond `max_wait`, which ends the retries.
    pub(crate) fn after_rate_limit(
        &self,
        attempt: u32,
        reset: Duration,
        max_wait: Duration,
    ) -> Option<Duration> {
        if reset > max_wait {
            return None;
        }
        Some(
            reset
                .max(self.delay(attempt))
                .saturating_add(up_to(self.first / 2)),
        )
    }
}

/// `base` jittered between half and all of it.
pub(crate) fn jittered(base: Duration) -> Duration {
    let half = base / 2;
    half.saturating_add(up_to(base - half))
}

/// A random duration in `0..=max`. Without randomness the wait is still bounded and correct,
/// only less spread.
fn up_to(max: Duration) -> Duration {
    let r = getrandom::u64().unwrap_or(0x9E37_79B9_7F4A_7C15);
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    // `max` may be past u64::MAX nanoseconds (a `max_backoff` of `Duration::MAX`).
    Duration::from_nanos(nanos.checked_add(1).map_or(r, |n| r % n))
}

/// A response read whole, within the cap.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// The shared HTTP client and where it sends Datadog's hosts. Cheap to clone.
#[derive(Clone, Debug)]
pub struct DatadogHttp {
    client: reqwest::Client,
    endpoints: Endpoints,
    max_response_bytes: usize,
}

impl DatadogHttp {
    /// A client for `endpoints` with `config`'s limits.
    pub fn new(endpoints: Endpoints, config: &HttpConfig) -> Result<DatadogHttp, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            // Plain http only ever reaches a loopback override (checked in `Endpoints`).
            .https_only(!endpoints.is_overridden())
            .user_agent(concat!("dd-integration/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(DatadogHttp {
            client,
            endpoints,
            max_response_bytes: config.max_response_bytes,
        })
    }

    /// Where requests go.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub(crate) fn url(&self, host: &str, path: &str) -> Url {
        self.endpoints.url(host, path)
    }

    pub(crate) fn post(&self, url: Url) -> RequestBuilder {
        self.client.post(url)
    }

    pub(crate) fn get(&self, url: Url) -> RequestBuilder {
        self.client.get(url)
    }

    /// Sends `request` and reads the body, at most `max_response_bytes` of it.
    pub(crate) async fn send(
        &self,
        operation: Operation,
        domain: Domain,
        request: RequestBuilder,
    ) -> Result<Reply, Error> {
        let reply = exchange(request, BodyLimit::Refuse(self.max_response_bytes))
            .await
            .map_err(|failure| failure.into_error(operation, domain))?;
        let (status, body) = (reply.status, &reply.body);
        tracing::debug!(
            status = status.as_u16(),
            bytes = body.len(),
            "datadog replied"
        );
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_between_half_and_all() {
        let base = Duration::from_millis(100);
        for _ in 0..1000 {
            let j = jittered(base);
            assert!(j >= base / 2 && j <= base, "{j:?}");
        }
        assert_eq!(jittered(Duration::ZERO), Duration::ZERO);
        assert!(jittered(Duration::MAX) >= Duration::MAX / 2);
        assert!(up_to(Duration::MAX) <= Duration::MAX);
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap_and_a_rate_limit_waits_past_its_reset() {
        let backoff = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for _ in 0..100 {
            let d1 = backoff.delay(1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = backoff.delay(3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            assert!(backoff.delay(30) <= Duration::from_secs(1));
            let reset = Duration::from_secs(2);
            let wait = backoff
                .after_rate_limit(1, reset, Duration::from_secs(5))
                .unwrap();
            assert!(
                wait >= reset && wait <= reset + Duration::from_millis(50),
                "{wait:?}"
            );
        }
        assert_eq!(
            backoff.after_rate_limit(1, Duration::from_secs(6), Duration::from_secs(5)),
            None
        );
        let huge = Backoff {
            first: Duration::MAX,
            max: Duration::MAX,
        };
        assert!(huge.delay(40) >= Duration::MAX / 2);
    }
}
