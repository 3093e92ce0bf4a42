//! The install flow's handlers as an axum router, and a server with time-outs to serve them.
//!
//! ```no_run
//! # async fn run<I: dd_integration::DatadogIntegration>(installer: dd_integration::Installer<I>) -> std::io::Result<()> {
//! let app = axum::Router::new().merge(dd_integration::web::router(installer));
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! dd_integration::web::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`serve`] is `axum::serve` with time-outs: `axum::serve` waits for a request's headers for
//! as long as the client takes, so a few hundred connections that each send a byte now and then
//! ("slowloris") hold the server. [`serve`] closes a connection whose request headers have not
//! all arrived within 10 s, and answers `503 Service Unavailable` to a request not answered
//! within 60 s (a body trickled in, a handler stuck); [`Server`] sets both.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::DatadogIntegration;
use crate::install::Installer;

/// A router serving the onboarding URL and the redirect URI of `installer` at their paths.
///
/// Serve it with [`serve`] (or [`Server`]), which bounds how long a client may take to send a
/// request; another server must set such time-outs itself. Merge it into the partner's own
/// router; its paths are the declared URLs' paths.
///
/// ```
/// use dd_integration::{ClientSecret, Installer, Sealer, SealingKey, datadog_integration};
///
/// #[datadog_integration(
///     name = "Acme Pager",
///     scopes = [monitors_read],
///     redirect = "https://acme.example/datadog/callback",
///     onboarding = "https://acme.example/datadog/connect",
/// )]
/// struct AcmePager;
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let installer = Installer::<AcmePager>::builder()
///     .client("client-id", ClientSecret::new("client-secret"))
///     .sealer(Sealer::new(SealingKey::generate("k1")?.0))
///     .memory_store_for_tests()
///     .build()?;
/// let app = axum::Router::new()
///     .route("/health", axum::routing::get(|| async { "ok" }))
///     .merge(dd_integration::web::router(installer));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let address = listener.local_addr()?;
/// tokio::spawn(dd_integration::web::serve(listener, app));
/// // The tile's request without a site: the site picker, with the flow's headers.
/// let page = reqwest::get(format!("http://{address}/datadog/connect")).await?;
/// assert_eq!(page.status(), 200);
/// assert_eq!(page.headers()["cache-control"], "no-store");
/// # Ok(())
/// # }
/// ```
pub fn router<I: DatadogIntegration>(installer: Installer<I>) -> Router {
    let onboarding = installer.onboarding_path().to_owned();
    let callback = installer.callback_path().to_owned();
    Router::new()
        .route(&onboarding, get(onboarding_handler::<I>))
        .route(&callback, get(callback_handler::<I>))
        .with_state(installer)
}

async fn onboarding_handler<I: DatadogIntegration>(
    State(installer): State<Installer<I>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    installer.onboarding(&uri, &headers).await.into_response()
}

async fn callback_handler<I: DatadogIntegration>(
    State(installer): State<Installer<I>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    installer
        .callback(&method, &uri, &headers)
        .await
        .into_response()
}

/// Serves `router` on `listener` over HTTP/1.1 until the process ends, with the default
/// time-outs of [`Server`]: a connection whose request headers have not all arrived within
/// 10 s is closed, and a request not answered within 60 s is answered
/// `503 Service Unavailable`.
///
/// A drop-in replacement for `axum::serve(listener, router)`; the handlers may also extract
/// the client's address as `ConnectInfo<SocketAddr>`. To change the time-outs, or to stop on a
/// signal, use [`Server`].
///
/// # Errors
/// None today: a failed `accept` (too many open files, say) is logged and retried after a
/// second, as `axum::serve` does. The `io::Result` keeps `serve(..).await?` compiling.
pub async fn serve(listener: TcpListener, router: Router) -> io::Result<()> {
    Server::new().serve(listener, router).await
}

/// An HTTP/1.1 server for a [`Router`] with time-outs against slow clients: what [`serve`]
/// uses, with its time-outs changeable and a graceful shutdown.
///
/// ```no_run
/// use std::time::Duration;
/// # async fn run(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
///
/// dd_integration::web::Server::new()
///     .header_read_timeout(Duration::from_secs(5))
///     .request_timeout(Duration::from_secs(30))
///     .serve_with_shutdown(listener, app, async {
///         // Your shutdown signal (Ctrl-C, SIGTERM, an orchestrator's stop).
///         tokio::time::sleep(Duration::from_secs(3600)).await;
///     })
///     .await?;
/// # Ok(())
/// # }
/// ```
///
/// - **Header-read time-out** (default 10 s): from a connection's accept, or from the end of
///   its previous response (keep-alive), to the end of its request's headers. A client slower than that
///   (or one that connects and sends nothing) is disconnected without an answer. This is what
///   stops slowloris: a connection holds the server for at most this long before it has sent
///   a whole request head.
/// - **Request time-out** (default 60 s, `None` to disable): from a request's head to its
///   response's head, which covers reading the body and the handler. A request over it is
///   answered `503 Service Unavailable` (`Retry-After: 5`) and its connection closed. The
///   callback of the install flow calls Datadog (tokens, the API key), each call bounded by
///   [`HttpConfig`](crate::HttpConfig)'s 30 s, so keep this above that. It does not bound the
///   sending of a response's body.
///
/// HTTP/2 is not served: put it behind the TLS proxy or load balancer that serves HTTPS.
#[derive(Clone, Debug)]
pub struct Server {
    header_read_timeout: Duration,
    request_timeout: Option<Duration>,
}

impl Default for Server {
    fn default() -> Server {
        Server::new()
    }
}

impl Server {
    /// How long a client has, by default, to send a request's headers.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// How long a request may take, by default, from its headers to its response.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

    /// A server with the default time-outs (10 s for the headers, 60 s for a request).
    pub fn new() -> Server {
        Server {
            header_read_timeout: Server::DEFAULT_HEADER_READ_TIMEOUT,
            request_timeout: Some(Server::DEFAULT_REQUEST_TIMEOUT),
        }
    }

    /// How long a client has to send a request's headers (the request line included) before
    /// its connection is closed.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Server {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a request may take from its headers to its response (reading the body and the
    /// handler) before it is answered `503 Service Unavailable`; `None` for no limit.
    pub fn request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Server {
        self.request_timeout = timeout.into();
        self
    }

    /// Serves `router` on `listener` until the process ends.
    ///
    /// # Errors
    /// None today (see [`serve`]).
    pub async fn serve(self, listener: TcpListener, router: Router) -> io::Result<()> {
        self.serve_with_shutdown(listener, router, std::future::pending())
            .await
    }

    /// Serves `router` on `listener` until `signal` completes; then stops accepting, lets the
    /// requests in progress finish (each bounded by the time-outs), closes idle connections,
    /// and returns.
    ///
    /// # Errors
    /// None today (see [`serve`]).
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        router: Router,
        signal: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let router = match self.request_timeout {
            Some(timeout) => {
                router.layer(middleware::from_fn(move |request: Request, next: Next| {
                    within(timeout, request, next)
                }))
            }
            None => router,
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        let graceful = GracefulShutdown::new();
        let mut signal = pin!(signal);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut signal => break,
            };
            let (stream, remote) = match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "accept failed; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let router = router.clone();
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(remote));
                    let mut router = router.clone();
                    tower_service::Service::call(&mut router, request.map(Body::new))
                });
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(%remote, error = %e, "connection closed with an error");
                }
            });
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
    }
}

/// The request time-out: `503 Service Unavailable` once `timeout` has passed.
async fn within(timeout: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                timeout_ms = timeout.as_millis() as u64,
                "a request was not answered within the request time-out: answered 503"
            );
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                "The request took too long. Try again.\n",
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    }
}

/// Errors of one connection, not of the listener: `accept` again at once.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
