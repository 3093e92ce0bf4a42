//! Datadog's API as the customer authorized it: one installation's bearer token, on its
//! region's API host, for the operations its integration declared the scopes of.
//!
//! [`ApiClient<I>`] calls any [`Operation`] `O` for which `O: Authorized<I>`: an operation whose
//! scope the integration `I` did not declare does not compile. Each call:
//!
//! - takes a valid access token from the token lifecycle ([`InstallationHandle::access_token`]:
//!   cached, refreshed before it expires, single-flight across callers and replicas);
//! - sends it as `Authorization: Bearer` to the operation's host derived from the installation's
//!   region (`api.<domain>`), never a vanity subdomain and never with an application key;
//! - fills the path parameters, percent-encoded, and sends the body as JSON;
//! - on 401, tells the lifecycle the token was refused, takes a fresh one and retries once;
//! - on 429, waits for `X-RateLimit-Reset` (at most [`ApiSettings::max_rate_limit_wait`]) and
//!   retries;
//! - on 403, compares the operation's scopes with the installation's grant: a declared scope the
//!   customer did not grant is named in [`ApiError::ScopeNotGranted`], with what to do.
//!
//! ```
//! use dd_integration::api::v1;
//! use dd_integration::client::ApiClient;
//! use dd_integration::{Installer, datadog_integration};
//!
//! #[datadog_integration(
//!     name = "Acme On-Call",
//!     scopes = [monitors_read],
//!     redirect = "https://acme.example/datadog/callback",
//!     onboarding = "https://acme.example/datadog/connect",
//! )]
//! struct AcmeOnCall;
//!
//! async fn monitors(
//!     installer: &Installer<AcmeOnCall>,
//!     installation: &dd_integration::Installation,
//! ) -> Result<serde_json::Value, dd_integration::client::ApiError> {
//!     let api: ApiClient<AcmeOnCall> = installer.api(installation);
//!     api.call::<v1::ListMonitors>().query("page_size", "100").json().await
//! }
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method as HttpMethod, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::api::{Authorized, Method, Operation};
use crate::endpoint::Endpoints;
use crate::error::{RateLimit, quoted_answer};
use crate::installation::{Installation, InstallationId};
use crate::integration::DatadogIntegration;
use crate::scope::{Scope, ScopeSet};
use crate::secret::AccessToken;
use crate::site::Domain;
use crate::store::InstallationStore;
use crate::tokens::{InstallationHandle, TokenError};
use crate::transport::{Backoff, BodyLimit, DatadogHttp, Failure, exchange};

/// How the API client waits out a rate limit: past the reset, with a little jitter.
const RATE_LIMIT_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    max: Duration::from_secs(10),
};

/// Where an [`ApiClient`] gets access tokens: the token lifecycle
/// ([`InstallationHandle`]), or a stand-in in tests.
#[async_trait]
pub trait AccessTokenSource: Send + Sync + 'static {
    /// A token valid for at least a few minutes.
    async fn access_token(&self) -> Result<AccessToken, TokenError>;

    /// Datadog answered 401 to `token`: do not hand it out again.
    fn invalidate(&self, token: &AccessToken);
}

#[async_trait]
impl AccessTokenSource for InstallationHandle {
    async fn access_token(&self) -> Result<AccessToken, TokenError> {
        InstallationHandle::access_token(self).await
    }

    fn invalidate(&self, token: &AccessToken) {
        InstallationHandle::invalidate(self, token);
    }
}

/// How API calls wait and read.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ApiSettings {
    /// The longest `X-RateLimit-Reset` a call waits for before retrying; a longer one is returned
    /// as [`ApiError::RateLimited`] at once (default 60 s).
    pub max_rate_limit_wait: Duration,
    /// How many times one call waits out a 429 (default 2).
    pub rate_limit_retries: u32,
    /// The largest response body read (default 64 MiB: some list endpoints answer large).
    pub max_response_bytes: usize,
}

impl Default for ApiSettings {
    fn default() -> ApiSettings {
        ApiSettings {
            max_rate_limit_wait: Duration::from_secs(60),
            rate_limit_retries: 2,
            max_response_bytes: 64 << 20,
        }
    }
}

impl ApiSettings {
    /// Sets [`ApiSettings::max_rate_limit_wait`].
    pub fn max_rate_limit_wait(mut self, wait: Duration) -> ApiSettings {
        self.max_rate_limit_wait = wait;
        self
    }

    /// Sets [`ApiSettings::rate_limit_retries`].
    pub fn rate_limit_retries(mut self, n: u32) -> ApiSettings {
        self.rate_limit_retries = n;
        self
    }

    /// Sets [`ApiSettings::max_response_bytes`].
    pub fn max_response_bytes(mut self, n: usize) -> ApiSettings {
        self.max_response_bytes = n;
        self
    }
}

/// A failed API call. No message carries a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No access token could be had (revoked installation, token endpoint down, ...).
    #[error("no access token for installation {installation}: {source}")]
    Token {
        /// The installation.
        installation: InstallationId,
        /// The lifecycle's error, which says what to do.
        #[source]
        source: TokenError,
    },
    /// 403 for an operation whose scopes the customer did not all grant.
    #[error(
        "Datadog refused {operation} (HTTP 403): it needs the scope(s) {missing}, which the \
         integration declares but the customer did not grant to installation {installation} \
         (an admin narrowed the grant, or the declaration grew after the install). The customer \
         must connect the integration again from its tile and approve them \
         (Installer::reauthorize_url gives the link)"
    )]
    ScopeNotGranted {
        /// The operation (`ListMonitors (GET /api/v1/monitor)`).
        operation: String,
        /// The installation.
        installation: InstallationId,
        /// The scopes needed and not granted.
        missing: ScopeSet,
    },
    /// 403 although every scope was granted.
    #[error(
        "Datadog refused {operation} (HTTP 403) although installation {installation} was granted \
         its scopes ({scopes}): the user who authorized lacks the permission in Datadog, the \
         endpoint does not take OAuth tokens for this org, or the token was revoked a moment \
         ago{}",
        detail.as_deref().map(|d| format!(" (Datadog: {d})")).unwrap_or_default()
    )]
    Forbidden {
        /// The operation.
        operation: String,
        /// The installation.
        installation: InstallationId,
        /// The operation's scopes.
        scopes: ScopeSet,
        /// Datadog's message, escaped and shortened.
        detail: Option<String>,
    },
    /// 401 twice: with the token held, and with a fresh one.
    #[error(
        "Datadog refused the access token of installation {installation} for {operation} \
         (HTTP 401) even after a refresh: the grant was revoked; the customer must connect the \
         integration again from its tile"
    )]
    Unauthorized {
        /// The operation.
        operation: String,
        /// The installation.
        installation: InstallationId,
    },
    /// 429, and the reset is further away than the SDK waits (or it was waited out already).
    #[error("Datadog rate-limited {operation} (HTTP 429): {rate_limit}")]
    RateLimited {
        /// The operation.
        operation: String,
        /// Datadog's rate-limit headers.
        rate_limit: RateLimit,
    },
    /// 404.
    #[error("Datadog found nothing at {operation} (HTTP 404): check the path parameters{}",
        detail.as_deref().map(|d| format!(" (Datadog: {d})")).unwrap_or_default())]
    NotFound {
        /// The operation.
        operation: String,
        /// Datadog's message.
        detail: Option<String>,
    },
    /// Another 4xx: Datadog refused the request as made.
    #[error("Datadog refused {operation} (HTTP {status}): {detail}")]
    Refused {
        /// The operation.
        operation: String,
        /// The status.
        status: u16,
        /// Datadog's messages, escaped and shortened.
        detail: String,
    },
    /// 5xx.
    #[error(
        "Datadog failed at {operation} (HTTP {status}); transient on Datadog's side: retry with \
         backoff"
    )]
    Server {
        /// The operation.
        operation: String,
        /// The status.
        status: u16,
    },
    /// A path parameter missing, unknown or given twice.
    #[error("{operation}: {problem}")]
    PathParameter {
        /// The operation.
        operation: String,
        /// What is wrong.
        problem: String,
    },
    /// The request body could not be serialized.
    #[error("the body of {operation} could not be serialized: {source}")]
    Body {
        /// The operation.
        operation: String,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// The response was not the JSON expected.
    #[error("the response of {operation} (HTTP {status}) is not the JSON expected: {detail}")]
    Decode {
        /// The operation.
        operation: String,
        /// The status.
        status: u16,
        /// serde's error.
        detail: String,
    },
    /// The response exceeded [`ApiSettings::max_response_bytes`].
    #[error(
        "the response of {operation} exceeded {limit} bytes; raise ApiSettings::max_response_bytes or page the listing"
    )]
    ResponseTooLarge {
        /// The operation.
        operation: String,
        /// The cap.
        limit: usize,
    },
    /// No answer in time.
    #[error(
        "no answer from Datadog ({domain}) to {operation} in time; it may or may not have been processed"
    )]
    Timeout {
        /// The operation.
        operation: String,
        /// The region.
        domain: Domain,
    },
    /// The connection failed.
    #[error("could not reach Datadog ({domain}) for {operation}: {source}")]
    Transport {
        /// The operation.
        operation: String,
        /// The region.
        domain: Domain,
        /// The error, without its URL.
        #[source]
        source: reqwest::Error,
    },
}

impl ApiError {
    /// True when the same call may succeed later unchanged.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Token { source, .. } => source.is_transient(),
            ApiError::RateLimited { .. }
            | ApiError::Server { .. }
            | ApiError::Timeout { .. }
            | ApiError::Transport { .. } => true,
            _ => false,
        }
    }

    /// True when only the customer can fix it, by connecting the integration again.
    pub fn needs_reauthorization(&self) -> bool {
        match self {
            ApiError::Token { source, .. } => source.needs_reauthorization(),
            ApiError::ScopeNotGranted { .. } | ApiError::Unauthorized { .. } => true,
            _ => false,
        }
    }
}

/// An API response, read whole.
#[derive(Clone)]
pub struct ApiResponse {
    status: u16,
    rate_limit: RateLimit,
    body: bytes::Bytes,
    operation: &'static str,
}

impl fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiResponse")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("bytes", &self.body.len())
            .finish()
    }
}

impl ApiResponse {
    /// The HTTP status (2xx).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The rate-limit headers Datadog sent, to slow down before a 429.
    pub fn rate_limit(&self) -> &RateLimit {
        &self.rate_limit
    }

    /// The body.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as `T` (`serde_json::Value` or the partner's own type).
    ///
    /// # Errors
    /// [`ApiError::Decode`] when it is not.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let body: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        // serde_json's message can quote a value of the answer (`invalid type: string
        // "<value>"`), which may be a secret of the customer's: its category and position only.
        serde_json::from_slice(body).map_err(|e| ApiError::Decode {
            operation: self.operation.to_owned(),
            status: self.status,
            detail: format!(
                "{:?} error at line {}, column {} (the body is not quoted: it may hold a secret)",
                e.classify(),
                e.line(),
                e.column()
            ),
        })
    }
}

struct Inner {
    client: reqwest::Client,
    endpoints: Endpoints,
    installation: InstallationId,
    domain: Domain,
    granted: RwLock<ScopeSet>,
    tokens: Arc<dyn AccessTokenSource>,
    store: Option<Arc<dyn InstallationStore>>,
    settings: ApiSettings,
}

/// Datadog's API for one installation of the integration `I`. Cheap to clone.
pub struct ApiClient<I> {
    inner: Arc<Inner>,
    integration: PhantomData<fn() -> I>,
}

impl<I> Clone for ApiClient<I> {
    fn clone(&self) -> ApiClient<I> {
        ApiClient {
            inner: Arc::clone(&self.inner),
            integration: PhantomData,
        }
    }
}

impl<I> fmt::Debug for ApiClient<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("installation", &self.inner.installation)
            .field("domain", &self.inner.domain)
            .finish_non_exhaustive()
    }
}

impl<I: DatadogIntegration> ApiClient<I> {
    /// The API client of `installation`, with tokens from `tokens` and `http`'s connection pool.
    pub fn new(
        http: &DatadogHttp,
        installation: &Installation,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> ApiClient<I> {
        // The pool of the given client, whatever host the probe names.
        let (client, _) = http.get(http.url("api.datadoghq.com", "/")).build_split();
        ApiClient {
            inner: Arc::new(Inner {
                client,
                endpoints: http.endpoints().clone(),
                installation: installation.id.clone(),
                domain: installation.domain,
                granted: RwLock::new(installation.granted_scopes.clone()),
                tokens,
                store: None,
                settings: ApiSettings::default(),
            }),
            integration: PhantomData,
        }
    }

    /// Reads the installation's granted scopes again from `store` when Datadog answers 403, so
    /// that the error names what is missing now.
    pub fn with_store(self, store: Arc<dyn InstallationStore>) -> ApiClient<I> {
        self.changed(|inner| inner.store = Some(store))
    }

    /// Other waits and caps (for this client; its clones made before keep theirs).
    pub fn with_settings(self, settings: ApiSettings) -> ApiClient<I> {
        self.changed(|inner| inner.settings = settings)
    }

    fn changed(self, change: impl FnOnce(&mut Inner)) -> ApiClient<I> {
        let old = &self.inner;
        let mut inner = Inner {
            client: old.client.clone(),
            endpoints: old.endpoints.clone(),
            installation: old.installation.clone(),
            domain: old.domain,
            granted: RwLock::new(self.granted_scopes()),
            tokens: Arc::clone(&old.tokens),
            store: old.store.clone(),
            settings: old.settings.clone(),
        };
        change(&mut inner);
        ApiClient {
            inner: Arc::new(inner),
            integration: PhantomData,
        }
    }

    /// The installation.
    pub fn installation(&self) -> &InstallationId {
        &self.inner.installation
    }

    /// Its region.
    pub fn domain(&self) -> Domain {
        self.inner.domain
    }

    /// A call of the operation `O`, which compiles only if `I` declares every scope `O` needs.
    pub fn call<O: Authorized<I>>(&self) -> ApiCall<'_, I, O> {
        ApiCall {
            client: self,
            params: Vec::new(),
            query: Vec::new(),
            body: None,
            operation: PhantomData,
        }
    }
}

/// One call being prepared: path parameters, query, body; then [`send`](ApiCall::send).
#[must_use]
pub struct ApiCall<'c, I, O> {
    client: &'c ApiClient<I>,
    params: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Result<Vec<u8>, serde_json::Error>>,
    operation: PhantomData<O>,
}

impl<I, O: Operation> fmt::Debug for ApiCall<'_, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiCall")
            .field("operation", &O::ID)
            .field("params", &self.params)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

fn describe<O: Operation>() -> String {
    format!("{} ({} {})", O::ID, O::METHOD, O::PATH)
}

impl<I: DatadogIntegration, O: Authorized<I>> ApiCall<'_, I, O> {
    /// Fills the path parameter `name` (`monitor_id` in `/api/v1/monitor/{monitor_id}`); the
    /// value is percent-encoded as one path segment.
    pub fn path(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.params.push((name.to_owned(), value.to_string()));
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    /// The JSON body: a `serde_json::Value` or any `Serialize` type of the partner's.
    pub fn body<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_vec(body));
        self
    }

    /// The path with its parameters filled.
    fn fill_path(&self) -> Result<String, ApiError> {
        let mut path = String::with_capacity(O::PATH.len() + 32);
        let mut used = vec![false; self.params.len()];
        for (i, segment) in O::PATH.split('/').enumerate() {
            if i > 0 {
                path.push('/');
            }
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                None => path.push_str(segment),
                Some(name) => {
                    let mut found = self
                        .params
                        .iter()
                        .enumerate()
                        .filter(|(_, (n, _))| n == name);
                    let Some((at, (_, value))) = found.next() else {
                        return Err(ApiError::PathParameter {
                            operation: describe::<O>(),
                            problem: format!(
                                "the path parameter `{name}` is missing: call .path(\"{name}\", ...)"
                            ),
                        });
                    };
                    if found.next().is_some() {
                        return Err(ApiError::PathParameter {
                            operation: describe::<O>(),
                            problem: format!("the path parameter `{name}` is given twice"),
                        });
                    }
                    // URLs resolve `.` and `..` segments, encoded or not: they cannot be sent.
                    if value.is_empty() || value == "." || value == ".." {
                        return Err(ApiError::PathParameter {
                            operation: describe::<O>(),
                            problem: format!(
                                "the path parameter `{name}` is `{value}`, which cannot be a path segment"
                            ),
                        });
                    }
                    used[at] = true;
                    path.extend(url::form_urlencoded::byte_serialize(value.as_bytes()).map(
                        // `byte_serialize` writes a space as `+`, which a path does not decode.
                        |s| if s == "+" { "%20" } else { s },
                    ));
                }
            }
        }
        if let Some((name, _)) = self
            .params
            .iter()
            .zip(&used)
            .find(|(_, u)| !**u)
            .map(|(p, _)| p)
        {
            return Err(ApiError::PathParameter {
                operation: describe::<O>(),
                problem: format!("`{name}` is not a parameter of the path {}", O::PATH),
            });
        }
        Ok(path)
    }

    /// Sends the call and returns the 2xx response.
    ///
    /// # Errors
    /// [`ApiError`], each variant saying what to do.
    pub async fn send(self) -> Result<ApiResponse, ApiError> {
        let inner = &self.client.inner;
        let span = tracing::info_span!(
            "datadog.api",
            installation = %inner.installation,
            domain = %inner.domain,
            operation = O::ID,
        );
        self.run().instrument(span).await
    }

    /// Sends the call and reads the response as `T`.
    ///
    /// # Errors
    /// As [`send`](Self::send), and [`ApiError::Decode`].
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        self.send().await?.json()
    }

    async fn run(self) -> Result<ApiResponse, ApiError> {
        let inner = &self.client.inner;
        let operation = describe::<O>;
        let path = self.fill_path()?;
        let body = match self.body {
            Some(Ok(b)) => Some(bytes::Bytes::from(b)),
            Some(Err(source)) => {
                return Err(ApiError::Body {
                    operation: operation(),
                    source,
                });
            }
            None => None,
        };
        let mut url = inner.endpoints.url(&O::HOST.host(inner.domain), &path);
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let method = match O::METHOD {
            Method::Get => HttpMethod::GET,
            Method::Post => HttpMethod::POST,
            Method::Put => HttpMethod::PUT,
            Method::Patch => HttpMethod::PATCH,
            Method::Delete => HttpMethod::DELETE,
        };
        let mut refreshed = false;
        let mut waited = 0;
        loop {
            let token = inner
                .tokens
                .access_token()
                .await
                .map_err(|source| ApiError::Token {
                    installation: inner.installation.clone(),
                    source,
                })?;
            let mut request = inner
                .client
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose_secret())
                .header(ACCEPT, "application/json");
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let reply = exchange(
                request,
                BodyLimit::Refuse(inner.settings.max_response_bytes),
            )
            .await
            .map_err(|failure| match failure {
                Failure::Timeout => ApiError::Timeout {
                    operation: operation(),
                    domain: inner.domain,
                },
                Failure::Transport(source) => ApiError::Transport {
                    operation: operation(),
                    domain: inner.domain,
                    source,
                },
                Failure::TooLarge { limit } => ApiError::ResponseTooLarge {
                    operation: operation(),
                    limit,
                },
            })?;
            let status = reply.status;
            let rate_limit = RateLimit::from_headers(&reply.headers);
            let body = bytes::Bytes::from(reply.body);
            tracing::debug!(
                status = status.as_u16(),
                bytes = body.len(),
                "datadog API answered"
            );
            if status.is_success() {
                return Ok(ApiResponse {
                    status: status.as_u16(),
                    rate_limit,
                    body,
                    operation: O::ID,
                });
            }
            match status {
                StatusCode::UNAUTHORIZED if !refreshed => {
                    tracing::info!("access token refused (401); refreshing and retrying once");
                    inner.tokens.invalidate(&token);
                    refreshed = true;
                }
                StatusCode::UNAUTHORIZED => {
                    // The token is fresh: what refuses it is this endpoint, not its age.
                    // Dropping it would make every later call refresh (and rotate) again.
                    return Err(ApiError::Unauthorized {
                        operation: operation(),
                        installation: inner.installation.clone(),
                    });
                }
                StatusCode::TOO_MANY_REQUESTS => match rate_limit.reset.and_then(|reset| {
                    RATE_LIMIT_BACKOFF.after_rate_limit(
                        waited + 1,
                        reset,
                        inner.settings.max_rate_limit_wait,
                    )
                }) {
                    Some(wait) if waited < inner.settings.rate_limit_retries => {
                        waited += 1;
                        tracing::warn!(wait_ms = wait.as_millis() as u64, %rate_limit, "rate-limited (429); waiting for the reset");
                        tokio::time::sleep(wait).await;
                    }
                    _ => {
                        return Err(ApiError::RateLimited {
                            operation: operation(),
                            rate_limit,
                        });
                    }
                },
                StatusCode::FORBIDDEN => return Err(self.client.forbidden::<O>(&body).await),
                StatusCode::NOT_FOUND => {
                    return Err(ApiError::NotFound {
                        operation: operation(),
                        detail: detail(&body),
                    });
                }
                s if s.is_server_error() => {
                    return Err(ApiError::Server {
                        operation: operation(),
                        status: s.as_u16(),
                    });
                }
                s => {
                    return Err(ApiError::Refused {
                        operation: operation(),
                        status: s.as_u16(),
                        detail: detail(&body).unwrap_or_else(|| "no detail".into()),
                    });
                }
            }
        }
    }
}

impl<I> ApiClient<I> {
    /// The error for a 403: the declared scopes not granted, if any, else a plain refusal.
    async fn forbidden<O: Operation>(&self, body: &[u8]) -> ApiError {
        let inner = &self.inner;
        if let Some(store) = &inner.store
            && let Ok(Some(now)) = store.get(&inner.installation).await
        {
            *inner
                .granted
                .write()
                .unwrap_or_else(PoisonError::into_inner) = now.granted_scopes;
        }
        let granted = inner
            .granted
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let needed: ScopeSet = O::SCOPES.iter().cloned().collect();
        let missing = needed.missing_from(&granted);
        tracing::warn!(missing = %missing, "forbidden (403)");
        if missing.is_empty() {
            ApiError::Forbidden {
                operation: describe::<O>(),
                installation: inner.installation.clone(),
                scopes: needed,
                detail: detail(body),
            }
        } else {
            ApiError::ScopeNotGranted {
                operation: describe::<O>(),
                installation: inner.installation.clone(),
                missing,
            }
        }
    }

    /// The scopes Datadog granted, as last read.
    pub fn granted_scopes(&self) -> ScopeSet {
        self.inner
            .granted
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the customer granted `scope`.
    pub fn is_granted(&self, scope: &Scope) -> bool {
        self.inner
            .granted
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(scope)
    }
}

/// Datadog's `{"errors":[...]}` messages, escaped and shortened.
fn detail(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let errors = value.get("errors")?.as_array()?;
    let text: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.as_str().or_else(|| e.get("detail")?.as_str()))
        .collect();
    (!text.is_empty()).then(|| quoted_answer(&text.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_quoted() {
        assert_eq!(
            detail(br#"{"errors":["Forbidden","a\nb"]}"#).as_deref(),
            Some("Forbidden; a\\nb")
        );
        assert_eq!(detail(b"not json"), None);
    }
}
