//! `dd_integration::web::serve` against slow clients: a connection that trickles its request
//! line or headers (slowloris), that sends nothing, or that trickles a body is cut off within
//! the configured time-outs, while other requests are served. `axum::serve` keeps each of these
//! connections open for as long as the client likes.
//!
//! The time-outs here are short (300 ms); each test allows a generous 5 s before it calls a
//! connection held, so a loaded machine does not make it flaky.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use dd_integration::web::Server;
use dd_integration::{ClientSecret, Installer, Sealer, SealingKey};
use dd_integration_tests::integration::AcmePager;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The time-outs the tests configure.
const SHORT: Duration = Duration::from_millis(300);
/// How long a test waits before it calls a connection held: far above `SHORT`.
const HELD: Duration = Duration::from_secs(5);

/// A served app: a partner's routes beside the SDK's, behind `web::Server` with short
/// time-outs.
struct App {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<std::io::Result<()>>,
}

impl App {
    async fn start(server: Server) -> App {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://localhost:{}", addr.port());
        let installer = Installer::<AcmePager>::builder()
            .client("client-id", ClientSecret::new("client-secret"))
            .sealer(Sealer::new(SealingKey::generate("slow").unwrap().0))
            .redirect_uri(format!("{base}/datadog/oauth/callback"))
            .onboarding_url(format!("{base}/datadog/connect"))
            .memory_store_for_tests()
            .build()
            .unwrap();
        let router = Router::new()
            .route("/", get(|| async { "hello" }))
            .route("/echo", post(|body: String| async move { body }))
            .route(
                "/whoami",
                get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
            )
            .merge(dd_integration::web::router(installer));
        let (stop, stopped) = oneshot::channel();
        let served = tokio::spawn(server.serve_with_shutdown(listener, router, async move {
            let _ = stopped.await;
        }));
        App {
            addr,
            stop: Some(stop),
            served,
        }
    }

    async fn short() -> App {
        App::start(
            Server::new()
                .header_read_timeout(SHORT)
                .request_timeout(SHORT),
        )
        .await
    }

    /// Stops the server; it must return once its connections are done.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(HELD, self.served)
            .await
            .expect("the server stops within the time-outs")
            .unwrap()
            .unwrap();
    }
}

/// Writes `head` at once, then `trickle` one byte each 50 ms (over and over; if it is empty,
/// nothing, the connection kept open), and reads whatever the server
/// answers until it closes the connection. Returns the answer and when the connection was
/// closed; panics if it is still open after [`HELD`].
async fn trickle(addr: SocketAddr, head: &[u8], trickle: &'static [u8]) -> (String, Duration) {
    let started = Instant::now();
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(head).await.unwrap();
    let writer = tokio::spawn(async move {
        for byte in trickle.iter().cycle() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
        }
        // Nothing to trickle: keep the connection open without a byte (dropping `write` would
        // end the request with a FIN, which the server answers by closing).
        std::future::pending::<()>().await;
        drop(write);
    });
    let mut answer = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(HELD, read_all).await;
    writer.abort();
    assert!(
        closed.is_ok(),
        "the server still held the trickling connection after {HELD:?}"
    );
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// One plain request on its own connection: the status line and the body.
async fn get_once(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(HELD, stream.read_to_end(&mut answer))
        .await
        .expect("a plain request is answered")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_trickling_the_request_line_is_cut_off() {
    let app = App::short().await;
    let (answer, after) = trickle(app.addr, b"GET /datadog/con", b"nect?site=x").await;
    assert_eq!(
        answer, "",
        "a request that never arrived is not answered, only disconnected"
    );
    eprintln!("cut off after {after:?}, answered {answer:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_trickling_headers_is_cut_off() {
    let app = App::short().await;
    let (answer, after) = trickle(
        app.addr,
        b"GET /datadog/connect HTTP/1.1\r\nHost: localhost\r\n",
        b"X-Padding: aaaaaaaa\r\n",
    )
    .await;
    assert_eq!(answer, "");
    eprintln!("cut off after {after:?}, answered {answer:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connecting_and_sending_nothing_is_cut_off() {
    let app = App::short().await;
    let (answer, _) = trickle(app.addr, b"", b"").await;
    assert_eq!(answer, "");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_idling_on_a_kept_alive_connection_is_cut_off() {
    let app = App::short().await;
    let (answer, _) = trickle(app.addr, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", b"").await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_with_a_hundred_connections_holds_none_and_blocks_no_one() {
    let app = App::short().await;
    let attackers: Vec<_> = (0..100)
        .map(|_| {
            let addr = app.addr;
            tokio::spawn(async move {
                trickle(
                    addr,
                    b"GET / HTTP/1.1\r\nHost: localhost\r\n",
                    b"X-a: b\r\n",
                )
                .await
            })
        })
        .collect();
    // Meanwhile, a customer's browser is served.
    let page = get_once(app.addr, "/datadog/connect").await;
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    for attacker in attackers {
        let (answer, _) = attacker.await.unwrap();
        assert_eq!(answer, "");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_cut_off_by_the_request_timeout() {
    let app = App::start(
        Server::new()
            .header_read_timeout(HELD)
            .request_timeout(SHORT),
    )
    .await;
    let (answer, _) = trickle(
        app.addr,
        b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n",
        b"a",
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable"),
        "{answer}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_to_the_sdk_routes_is_cut_off() {
    let app = App::start(
        Server::new()
            .header_read_timeout(HELD)
            .request_timeout(None),
    )
    .await;
    // The SDK's handlers read no body: the connection is closed after the answer.
    let (answer, _) = trickle(
        app.addr,
        b"GET /datadog/connect HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n",
        b"a",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_server_serves_the_sdk_and_partner_routes() {
    let app = App::start(Server::new()).await;
    let page = get_once(app.addr, "/datadog/connect").await;
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(page.contains("<!doctype html>"), "{page}");
    let hello = get_once(app.addr, "/").await;
    assert!(hello.ends_with("hello"), "{hello}");
    // The handlers may extract the client's address, as with
    // `axum::serve(.., router.into_make_service_with_connect_info::<SocketAddr>())`.
    let peer = get_once(app.addr, "/whoami").await;
    assert!(peer.starts_with("HTTP/1.1 200 OK"), "{peer}");
    assert!(peer.contains("\r\n\r\n127.0.0.1:"), "{peer}");
    // Keep-alive: two requests on one connection.
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(HELD, stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer.matches("HTTP/1.1 200 OK").count(), 2, "{answer}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_idle_connections_and_returns() {
    let app = App::start(Server::new()).await;
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
    // The connection is kept alive, idle; the shutdown closes it rather than waiting 10 s for
    // its next request.
    let started = Instant::now();
    app.stop().await;
    assert!(
        started.elapsed() < Server::DEFAULT_HEADER_READ_TIMEOUT,
        "{:?}",
        started.elapsed()
    );
}
