//! The HTTP front: `/{datadog host}/{path}` routing, the host checks Datadog's DNS and TLS would
//! make, fault injection, and the response shapes shared by the handlers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tracing::Instrument as _;

use super::faults::{self, Action, Route};
use super::state::{Shared, State};
use super::{api, intake, oauth};
use crate::site::{Domain, Site};

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{host}/{*path}", axum::routing::any(dispatch))
        .fallback(|| async { not_found() })
        .with_state(shared)
}

/// The endpoints served, one step finer than [`Route`] (the consent decision is its own).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Endpoint {
    Authorize,
    Decision,
    Token,
    Revoke,
    MarketplaceKey,
    Validate,
    Monitor,
    Series,
    Logs,
    Events,
    CheckRun,
    Users,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    Ui,
    Api,
    Logs,
}

impl Endpoint {
    fn from_path(path: &str) -> Option<Endpoint> {
        Some(match path {
            "/oauth2/v1/authorize" => Endpoint::Authorize,
            "/oauth2/v1/authorize/decision" => Endpoint::Decision,
            "/oauth2/v1/token" => Endpoint::Token,
            "/oauth2/v1/revoke" => Endpoint::Revoke,
            "/api/v2/api_keys/marketplace" => Endpoint::MarketplaceKey,
            "/api/v1/validate" => Endpoint::Validate,
            "/api/v1/monitor" => Endpoint::Monitor,
            "/api/v2/series" => Endpoint::Series,
            "/api/v2/logs" => Endpoint::Logs,
            "/api/v1/events" => Endpoint::Events,
            "/api/v1/check_run" => Endpoint::CheckRun,
            "/api/v2/users" => Endpoint::Users,
            _ => return None,
        })
    }

    fn route(self) -> Route {
        match self {
            Endpoint::Authorize | Endpoint::Decision => Route::Authorize,
            Endpoint::Token => Route::Token,
            Endpoint::Revoke => Route::Revoke,
            Endpoint::MarketplaceKey => Route::MarketplaceKey,
            Endpoint::Validate => Route::Validate,
            Endpoint::Monitor => Route::Monitor,
            Endpoint::Series => Route::Series,
            Endpoint::Logs => Route::Logs,
            Endpoint::Events => Route::Events,
            Endpoint::CheckRun => Route::CheckRun,
            Endpoint::Users => Route::Users,
        }
    }

    fn method(self) -> Method {
        match self {
            Endpoint::Authorize | Endpoint::Validate | Endpoint::Monitor | Endpoint::Users => {
                Method::GET
            }
            _ => Method::POST,
        }
    }

    fn service(self) -> Service {
        match self {
            Endpoint::Authorize | Endpoint::Decision => Service::Ui,
            Endpoint::Logs => Service::Logs,
            _ => Service::Api,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Endpoint::Authorize => "OAuth authorize page (GET /oauth2/v1/authorize)",
            Endpoint::Decision => "OAuth consent form (POST /oauth2/v1/authorize/decision)",
            Endpoint::Token => "OAuth token endpoint (POST /oauth2/v1/token)",
            Endpoint::Revoke => "OAuth revocation endpoint (POST /oauth2/v1/revoke)",
            Endpoint::MarketplaceKey => {
                "marketplace API key endpoint (POST /api/v2/api_keys/marketplace)"
            }
            Endpoint::Validate => "API key validation (GET /api/v1/validate)",
            Endpoint::Monitor => "monitor API (GET /api/v1/monitor)",
            Endpoint::Series => "metrics intake (POST /api/v2/series)",
            Endpoint::Logs => "logs intake (POST /api/v2/logs)",
            Endpoint::Events => "events API (POST /api/v1/events)",
            Endpoint::CheckRun => "service check intake (POST /api/v1/check_run)",
            Endpoint::Users => "users API (GET /api/v2/users)",
        }
    }
}

/// What a Datadog host name is, as far as the sandbox serves it.
#[derive(Clone, Debug)]
pub(super) enum Host {
    /// A UI host: a region's standard UI host or a registered org's vanity subdomain.
    Ui(Site),
    /// `api.<domain>`.
    Api(Domain),
    /// `http-intake.logs.<domain>`.
    Logs(Domain),
    /// Anything else: in reality no such host, or no certificate for it.
    Unknown,
}

impl Host {
    fn classify(state: &State, host: &str) -> Host {
        if let Some(d) = host
            .strip_prefix("api.")
            .and_then(|d| Domain::parse(d).ok())
        {
            return Host::Api(d);
        }
        if let Some(d) = host
            .strip_prefix("http-intake.logs.")
            .and_then(|d| Domain::parse(d).ok())
        {
            return Host::Logs(d);
        }
        let Ok(site) = Site::parse(host) else {
            return Host::Unknown;
        };
        let served = match site.vanity() {
            None => host == site.domain().ui_host(),
            Some(label) => state.vanity_org(site.domain(), label).is_some(),
        };
        if served {
            Host::Ui(site)
        } else {
            Host::Unknown
        }
    }

    fn service(&self) -> Option<Service> {
        match self {
            Host::Ui(_) => Some(Service::Ui),
            Host::Api(_) => Some(Service::Api),
            Host::Logs(_) => Some(Service::Logs),
            Host::Unknown => None,
        }
    }

    fn domain(&self) -> Option<Domain> {
        match self {
            Host::Ui(s) => Some(s.domain()),
            Host::Api(d) | Host::Logs(d) => Some(*d),
            Host::Unknown => None,
        }
    }
}

/// One request, routed: what the handlers get.
pub(super) struct Call {
    /// The Datadog host the request was meant for (lowercase).
    pub(super) host: String,
    /// The region of that host.
    pub(super) domain: Domain,
    /// The site, for UI hosts.
    pub(super) site: Option<Site>,
    pub(super) query: Option<String>,
    pub(super) headers: HeaderMap,
    pub(super) body: Body,
}

async fn dispatch(AxumState(shared): AxumState<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let full = parts.uri.path();
    let (host, path) = match full[1..].split_once('/') {
        Some((h, p)) => (h.to_ascii_lowercase(), format!("/{p}")),
        None => return not_found(),
    };
    let endpoint = Endpoint::from_path(&path);
    let kind = Host::classify(&shared.lock(), &host);
    // A path with a handler of its own (`GET /api/v1/monitor`, the intake, OAuth) goes there.
    if let Host::Api(domain) = kind
        && endpoint.is_none_or(|e| e.method() != parts.method)
        && let Some((spec, params)) = api::served_operation(&parts.method, &path)
    {
        let span = tracing::info_span!("dd_sandbox", operation = spec.id, host = %host);
        let call = Call {
            domain,
            site: None,
            host,
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers,
            body,
        };
        return api::operation(&shared, call, spec, params)
            .instrument(span)
            .await;
    }
    let Some(endpoint) = endpoint else {
        return match kind.service() {
            Some(_) => not_found(),
            None => misdirected(&host, None),
        };
    };
    if kind.service() != Some(endpoint.service()) {
        tracing::info!(host = %host, path = %path, "sandbox: 421 for a host that does not serve this endpoint");
        return misdirected(&host, Some(endpoint));
    }
    let route = endpoint.route();
    let span =
        tracing::info_span!("dd_sandbox", route = ?route, host = %host, method = %parts.method);
    async move {
        if parts.method != endpoint.method() {
            let mut resp = json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({ "errors": ["Method Not Allowed"] }),
            );
            resp.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static(if endpoint.method() == Method::GET {
                    "GET"
                } else {
                    "POST"
                }),
            );
            return resp;
        }
        let action = {
            let mut st = shared.lock();
            *st.calls.entry(route).or_default() += 1;
            let active = st.active.entry(route).or_default();
            *active += 1;
            let now = *active;
            let peak = st.peak.entry(route).or_default();
            *peak = (*peak).max(now);
            st.faults.take(route)
        };
        // Counted out when the request is answered, or when the client goes away mid-way.
        let _active = Active {
            shared: &shared,
            route,
        };
        let mut drop = false;
        let mut rewrite = None;
        match action {
            Some(Action::Respond(resp)) => {
                tracing::info!(status = resp.status().as_u16(), "sandbox: injected status");
                return resp;
            }
            Some(Action::Delay(d)) => {
                tracing::info!(delay_ms = d.as_millis() as u64, "sandbox: injected latency");
                tokio::time::sleep(d).await;
            }
            Some(Action::Drop) => drop = true,
            Some(Action::Rewrite(field, value)) => rewrite = Some((field, value)),
            None => {}
        }
        let call = Call {
            domain: kind.domain().expect("a served host has a region"),
            site: match &kind {
                Host::Ui(s) => Some(s.clone()),
                _ => None,
            },
            host,
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers,
            body,
        };
        let resp = match endpoint {
            Endpoint::Authorize => oauth::authorize(&shared, call),
            Endpoint::Decision => oauth::decision(&shared, call).await,
            Endpoint::Token => oauth::token(&shared, call).await,
            Endpoint::Revoke => oauth::revoke(&shared, call).await,
            Endpoint::MarketplaceKey => api::marketplace_key(&shared, call),
            Endpoint::Validate => api::validate(&shared, call),
            Endpoint::Monitor => api::monitors(&shared, call),
            Endpoint::Series => intake::series(&shared, call).await,
            Endpoint::Logs => intake::logs(&shared, call).await,
            Endpoint::Events => intake::events(&shared, call).await,
            Endpoint::CheckRun => intake::check_run(&shared, call).await,
            Endpoint::Users => api::users(&shared, call),
        };
        tracing::info!(
            status = resp.status().as_u16(),
            dropped = drop,
            "sandbox: handled"
        );
        let resp = match rewrite {
            Some((field, value)) => {
                tracing::info!(field = %field, "sandbox: answer rewritten");
                faults::rewrite(resp, &field, value).await
            }
            None => resp,
        };
        if drop { faults::cut(resp) } else { resp }
    }
    .instrument(span)
    .await
}

/// One request of `route` being handled.
struct Active<'a> {
    shared: &'a Shared,
    route: Route,
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        if let Some(n) = self.shared.lock().active.get_mut(&self.route) {
            *n = n.saturating_sub(1);
        }
    }
}

fn misdirected(host: &str, endpoint: Option<Endpoint>) -> Response {
    let region = Site::parse(host).ok().map(|s| s.domain()).or_else(|| {
        ["api.", "http-intake.logs."]
            .iter()
            .find_map(|p| host.strip_prefix(p).and_then(|d| Domain::parse(d).ok()))
    });
    let text = match endpoint {
        None => format!(
            "421 Misdirected Request: Datadog serves nothing at host `{host}` (in reality this \
             host does not exist or has no certificate for it).\n"
        ),
        Some(e) => {
            let hint = match (e.service(), region) {
                (Service::Api, Some(d)) => format!("It is served only on {}.", d.api_host()),
                (Service::Api, None) => "It is served only on api.<domain>.".to_owned(),
                (Service::Logs, Some(d)) => {
                    format!("It is served only on {}.", d.logs_intake_host())
                }
                (Service::Logs, None) => {
                    "It is served only on http-intake.logs.<domain>.".to_owned()
                }
                (Service::Ui, Some(d)) => format!(
                    "It is served only on a UI host: {} or an org's vanity subdomain.",
                    d.ui_host()
                ),
                (Service::Ui, None) => {
                    "It is served only on a region's UI host or an org's vanity subdomain."
                        .to_owned()
                }
            };
            format!(
                "421 Misdirected Request: Datadog serves no {} on host `{host}`. {hint} \
                 Vanity subdomains and UI hosts have no API certificate: in reality this \
                 request fails TLS.\n",
                e.describe()
            )
        }
    };
    (
        StatusCode::MISDIRECTED_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, json!({ "errors": ["Not found"] }))
}

pub(super) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// `{"errors":["<message>"]}`, Datadog's API error shape.
pub(super) fn api_error(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({ "errors": [message] }))
}

/// Reads a request body whole, up to `cap` bytes; `None` if it is larger or the read failed.
pub(super) async fn read_body(body: Body, cap: usize) -> Option<axum::body::Bytes> {
    axum::body::to_bytes(body, cap).await.ok()
}

/// The media type of a request, without parameters, lowercase.
pub(super) fn content_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

/// A header's value as text, if present and visible ASCII.
pub(super) fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `application/x-www-form-urlencoded` parameters; the first occurrence of a name wins.
pub(super) fn form_params(bytes: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(bytes) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}
