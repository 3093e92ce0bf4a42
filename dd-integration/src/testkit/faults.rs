//! Routes of the sandbox and the faults a test can inject into them.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One of the Datadog endpoints the sandbox serves, for counting calls and injecting faults.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum Route {
    /// `GET /oauth2/v1/authorize` on a UI host (and the consent page's decision `POST`).
    Authorize,
    /// `POST /oauth2/v1/token` on `api.<domain>`.
    Token,
    /// `POST /oauth2/v1/revoke` on `api.<domain>`.
    Revoke,
    /// `POST /api/v2/api_keys/marketplace` on `api.<domain>`.
    MarketplaceKey,
    /// `GET /api/v1/validate` on `api.<domain>`.
    Validate,
    /// `GET /api/v1/monitor` on `api.<domain>`.
    Monitor,
    /// `POST /api/v2/series` on `api.<domain>`.
    Series,
    /// `POST /api/v2/logs` on `http-intake.logs.<domain>`.
    Logs,
    /// `POST /api/v1/events` on `api.<domain>`.
    Events,
    /// `POST /api/v1/check_run` on `api.<domain>`.
    CheckRun,
    /// `GET /api/v2/users` on `api.<domain>` (the SDK reads the token's org there).
    Users,
}

impl Route {
    /// The name Datadog would put in `X-RateLimit-Name` for this route.
    fn rate_limit_name(self) -> &'static str {
        match self {
            Route::Authorize => "oauth_authorize",
            Route::Token => "oauth_token",
            Route::Revoke => "oauth_revoke",
            Route::MarketplaceKey => "api_keys_marketplace",
            Route::Validate => "validate_api_key",
            Route::Monitor => "get_all_monitors",
            Route::Series => "submit_metrics",
            Route::Logs => "submit_logs",
            Route::Events => "post_event",
            Route::CheckRun => "submit_service_check",
            Route::Users => "list_users",
        }
    }
}

/// Something going wrong on a route, for the next call (or the next N calls, or every call).
///
/// ```
/// # use dd_integration::testkit::{Fault, Route};
/// # use std::time::Duration;
/// let outage = Fault::status(503).times(2);
/// let slow = Fault::latency(Duration::from_millis(200)).always();
/// let lost = Fault::drop_response();
/// # let _ = (outage, slow, lost);
/// ```
#[derive(Clone, Debug)]
pub struct Fault {
    kind: FaultKind,
    /// How many calls are left; `None` for every call.
    remaining: Option<u32>,
}

#[derive(Clone, Debug)]
enum FaultKind {
    /// `reset`: the 429's `X-RateLimit-Reset`; `None` for a 429 without rate-limit headers.
    Status {
        status: u16,
        reset: Option<Duration>,
    },
    Latency(Duration),
    Drop,
    Rewrite {
        field: String,
        value: serde_json::Value,
    },
}

impl Fault {
    /// Answer with this HTTP status instead of processing the request (which has no effect).
    ///
    /// The body is Datadog's `{"errors":["<reason>"]}`. A `429` also carries Datadog's rate-limit
    /// headers (`X-RateLimit-Limit`, `-Period`, `-Remaining`, `-Reset`, `-Name`), with a reset of
    /// one second unless [`Fault::reset_after`] says otherwise.
    ///
    /// # Panics
    /// If `status` is not in `400..=599`.
    pub fn status(status: u16) -> Fault {
        assert!(
            (400..=599).contains(&status),
            "a fault status must be an error status (400..=599), not {status}"
        );
        Fault {
            kind: FaultKind::Status {
                status,
                reset: Some(Duration::from_secs(1)),
            },
            remaining: Some(1),
        }
    }

    /// Wait this long before processing the request (then answer normally).
    pub fn latency(delay: Duration) -> Fault {
        Fault {
            kind: FaultKind::Latency(delay),
            remaining: Some(1),
        }
    }

    /// Process the request (it takes effect: a refresh rotates the token, a key is created), then
    /// cut the connection before any byte of the response is sent.
    pub fn drop_response() -> Fault {
        Fault {
            kind: FaultKind::Drop,
            remaining: Some(1),
        }
    }

    /// Process the request (it takes effect), then answer with its JSON body's top-level
    /// `field` set to `value` (or removed, for `Value::Null`): an answer that is odd in one
    /// field, such as a refresh answer whose `expires_in` is `-5`, whose `token_type` is not
    /// Bearer, or that has no `access_token`. Only JSON-object answers are rewritten.
    pub fn rewrite_answer(field: impl Into<String>, value: serde_json::Value) -> Fault {
        Fault {
            kind: FaultKind::Rewrite {
                field: field.into(),
                value,
            },
            remaining: Some(1),
        }
    }

    /// Apply to the next `n` calls of the route (the default is 1).
    pub fn times(mut self, n: u32) -> Fault {
        self.remaining = Some(n);
        self
    }

    /// Apply to every call of the route until [`Sandbox::clear_faults`](super::Sandbox::clear_faults).
    pub fn always(mut self) -> Fault {
        self.remaining = None;
        self
    }

    /// For a `429`: the `X-RateLimit-Reset` value (whole seconds, at least 1).
    pub fn reset_after(mut self, reset: Duration) -> Fault {
        if let FaultKind::Status { reset: r, .. } = &mut self.kind {
            *r = Some(reset);
        }
        self
    }

    /// For a `429`: no rate-limit headers at all, as the logs intake may answer under load
    /// (Datadog documents no rate limit there, yet returns `429`).
    pub fn without_rate_limit_headers(mut self) -> Fault {
        if let FaultKind::Status { reset: r, .. } = &mut self.kind {
            *r = None;
        }
        self
    }
}

/// What the dispatcher must do for one call.
pub(super) enum Action {
    /// Answer with this response without processing.
    Respond(Response),
    /// Sleep, then process.
    Delay(Duration),
    /// Process, then cut the connection.
    Drop,
    /// Process, then set (or, for null, remove) a top-level field of the JSON answer.
    Rewrite(String, serde_json::Value),
}

/// The faults waiting on each route, applied first in, first out.
#[derive(Default, Debug)]
pub(super) struct Faults {
    queues: HashMap<Route, VecDeque<Fault>>,
}

impl Faults {
    pub(super) fn inject(&mut self, route: Route, fault: Fault) {
        if fault.remaining != Some(0) {
            self.queues.entry(route).or_default().push_back(fault);
        }
    }

    pub(super) fn clear(&mut self) {
        self.queues.clear();
    }

    /// Consumes one use of the first fault waiting on `route`.
    pub(super) fn take(&mut self, route: Route) -> Option<Action> {
        let queue = self.queues.get_mut(&route)?;
        let fault = queue.front_mut()?;
        let kind = fault.kind.clone();
        if let Some(n) = &mut fault.remaining {
            *n -= 1;
            if *n == 0 {
                queue.pop_front();
            }
        }
        Some(match kind {
            FaultKind::Status { status, reset } => {
                Action::Respond(status_response(route, status, reset))
            }
            FaultKind::Latency(d) => Action::Delay(d),
            FaultKind::Drop => Action::Drop,
            FaultKind::Rewrite { field, value } => Action::Rewrite(field, value),
        })
    }
}

fn status_response(route: Route, status: u16, reset: Option<Duration>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let reason = code.canonical_reason().unwrap_or("Error");
    let reason = if status == 429 {
        "Rate limit exceeded"
    } else {
        reason
    };
    let mut resp = (code, axum::Json(serde_json::json!({ "errors": [reason] }))).into_response();
    if let (429, Some(reset)) = (status, reset) {
        let h = resp.headers_mut();
        let reset = reset.as_secs().max(1);
        h.insert("x-ratelimit-limit", HeaderValue::from_static("100"));
        h.insert("x-ratelimit-period", HeaderValue::from_static("60"));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from(reset));
        h.insert(
            "x-ratelimit-name",
            HeaderValue::from_static(route.rate_limit_name()),
        );
    }
    resp
}

/// The response (status and headers included) is discarded and replaced by a body that fails
/// at its first poll: hyper then closes the connection without having flushed the head, so the
/// client sees the connection cut before any response.
pub(super) fn cut(_processed: Response) -> Response {
    Response::new(Body::new(FailingBody))
}

struct FailingBody;

impl http_body::Body for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: response dropped",
        ))))
    }
}

/// `resp` with its JSON object body's `field` set to `value` (removed for null).
pub(super) async fn rewrite(resp: Response, field: &str, value: serde_json::Value) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 << 20).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "unreadable answer").into_response();
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            if value.is_null() {
                map.remove(field);
            } else {
                map.insert(field.to_owned(), value);
            }
            serde_json::to_vec(&map).unwrap_or_default()
        }
        _ => bytes.to_vec(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}
