//! The installation stores: the conformance battery on the memory, SQLite and PostgreSQL
//! backends (PostgreSQL is a real server: see `support/postgres.rs`), and what only a look at
//! the raw database shows: no secret is stored in the clear, and a sealed value does not open
//! in another row.

#[path = "support/postgres.rs"]
mod postgres_support;

use std::path::Path;

use async_trait::async_trait;
use dd_integration::store::conformance::{
    StoreFactory, sample_api_key, sample_installation, sample_tokens,
};
use dd_integration::store::{
    InstallationStore, PostgresStore, ResealReport, SqliteStore, StoreError,
};
use dd_integration::{Installation, Sealer, SealingKey};
use dd_integration_tests::scratch::TempDir;
use sqlx::Connection as _;

/// A connection of the test's own to a store's SQLite file, behind the store's back.
async fn raw_sqlite(file: &Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap()
}

/// Runs `statements` in order on `raw`.
async fn execute_each(raw: &mut sqlx::SqliteConnection, statements: &[&str]) {
    for statement in statements {
        sqlx::query(statement).execute(&mut *raw).await.unwrap();
    }
}

fn sealer() -> Sealer {
    Sealer::new(SealingKey::from_bytes("test-key", &[0x5A; 32]).unwrap())
}

struct SqliteFactory;

#[async_trait]
impl StoreFactory for SqliteFactory {
    type Store = SqliteStore;
    type Storage = TempDir;

    async fn storage(&self) -> Option<TempDir> {
        Some(TempDir::new("store-test"))
    }

    async fn open(&self, storage: &TempDir, sealer: Sealer) -> SqliteStore {
        SqliteStore::open(storage.file(), sealer).await.unwrap()
    }
}

struct PostgresFactory;

#[async_trait]
impl StoreFactory for PostgresFactory {
    type Store = PostgresStore;
    type Storage = String;

    async fn storage(&self) -> Option<String> {
        Some(postgres_support::server()?.database().await)
    }

    async fn open(&self, url: &String, sealer: Sealer) -> PostgresStore {
        PostgresStore::connect(url, sealer).await.unwrap()
    }
}

mod memory {
    dd_integration::installation_store_conformance!(
        dd_integration::store::conformance::MemoryFactory
    );
}

mod sqlite {
    dd_integration::installation_store_conformance!(super::SqliteFactory);
}

mod postgres {
    dd_integration::installation_store_conformance!(super::PostgresFactory);
}

/// An installation with a key and a token update behind it, and every secret it ever held.
async fn store_secrets(store: &dyn InstallationStore) -> (Installation, Vec<String>) {
    let installation = sample_installation("org-raw");
    store.insert(&installation).await.unwrap();
    let key = sample_api_key();
    store.set_api_key(&installation.id, &key).await.unwrap();
    let tokens = sample_tokens();
    store
        .update_tokens(&installation.id, 2, &tokens)
        .await
        .unwrap();
    let secrets = vec![
        installation.access_token.expose_secret().to_owned(),
        installation.refresh_token.expose_secret().to_owned(),
        key.key.expose_secret().to_owned(),
        tokens.access_token.expose_secret().to_owned(),
        tokens.refresh_token.expose_secret().to_owned(),
    ];
    (installation, secrets)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Every byte of the database: the file, its write-ahead log and shared-memory index.
fn sqlite_bytes(file: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        if let Ok(more) = std::fs::read(&path) {
            bytes.extend(more);
        }
    }
    bytes
}

#[tokio::test]
async fn the_sqlite_file_holds_no_secret() {
    let dir = TempDir::new("store-test");
    let store = SqliteStore::open(dir.file(), sealer()).await.unwrap();
    let (installation, secrets) = store_secrets(&store).await;

    // Read while open (the rows are in the write-ahead log) and after closing (checkpointed).
    let live = sqlite_bytes(&dir.file());
    assert!(
        contains(&live, installation.id.as_str()),
        "the installation is not in the files read: the test reads the wrong files"
    );
    for secret in &secrets {
        assert!(!contains(&live, secret), "a secret is in the SQLite files");
    }
    store.close().await;
    drop(store);
    let closed = sqlite_bytes(&dir.file());
    assert!(contains(&closed, installation.id.as_str()));
    for secret in &secrets {
        assert!(
            !contains(&closed, secret),
            "a secret is in the SQLite file after a checkpoint"
        );
    }
}

#[tokio::test]
async fn the_postgres_rows_hold_no_secret() {
    let Some(server) = postgres_support::server() else {
        return;
    };
    let url = server.database().await;
    let store = PostgresStore::connect(&url, sealer()).await.unwrap();
    let (installation, secrets) = store_secrets(&store).await;

    let mut raw = sqlx::PgConnection::connect(&url).await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar("SELECT t::text FROM dd_installations t")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    let text = rows.join("\n");
    assert!(
        text.contains(installation.id.as_str()),
        "the installation is not in the rows read"
    );
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret is in the database"
        );
    }
    // Sealed values name the key they were sealed under.
    assert!(text.contains("v1.test-key."), "{text}");
}

/// Closes, on the server, every connection the stores hold to the database at `url` (as a
/// restart or a fail-over does), and waits until the server has let them go; the pids closed.
async fn close_the_stores_connections(url: &str) -> Vec<i32> {
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    let closed: Vec<(i32, bool)> = sqlx::query_as(
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'dd-integration' AND datname = current_database() \
         AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(closed.iter().all(|(_, c)| *c), "{closed:?}");
    // Terminating is asynchronous: wait until the server has let them go.
    for _ in 0..100 {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE application_name = 'dd-integration' AND datname = current_database()",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    closed.into_iter().map(|(pid, _)| pid).collect()
}

/// The store checks a connection that sat idle before it uses it (not one in steady use: that
/// would add a round trip to every statement), so connections the server closed meanwhile (a
/// restart, a fail-over, an idle timeout) are replaced without failing a call.
#[tokio::test]
async fn connections_the_server_closed_while_idle_are_replaced_without_a_failed_call() {
    let Some(server) = postgres_support::server() else {
        return;
    };
    let url = server.database().await;
    let store = PostgresStore::connect_with_pool(&url, sealer(), 2)
        .await
        .unwrap();
    let installation = sample_installation("org-idle");
    store.insert(&installation).await.unwrap();
    // Both of the pool's connections in use at once, so both exist.
    let (a, b) = tokio::join!(store.get(&installation.id), store.list());
    a.unwrap().unwrap();
    b.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let closed = close_the_stores_connections(&url).await;
    assert!(!closed.is_empty(), "the pool held no connection");
    for _ in 0..3 {
        let found = store.get(&installation.id).await;
        assert_eq!(found.unwrap().unwrap().id, installation.id);
    }
    store
        .insert(&sample_installation("org-idle-2"))
        .await
        .unwrap();
}

/// The install's statements keep their connection between them rather than give it back to
/// the pool (see `connections_kept_by_the_installs_statements_...` below): one the server
/// closed while it sat kept and idle is replaced without failing a call.
#[tokio::test]
async fn a_kept_connection_the_server_closed_while_idle_is_replaced_without_a_failed_call() {
    let Some(server) = postgres_support::server() else {
        return;
    };
    let url = server.database().await;
    let store = PostgresStore::connect_with_pool(&url, sealer(), 2)
        .await
        .unwrap();
    let installation = sample_installation("org-kept-idle");
    store.insert(&installation).await.unwrap();
    // Kept after it.
    store
        .set_api_key(&installation.id, &sample_api_key())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let closed = close_the_stores_connections(&url).await;
    assert!(!closed.is_empty(), "the store held no connection");
    for _ in 0..3 {
        store
            .set_api_key(&installation.id, &sample_api_key())
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .claim_flow("flow-kept-idle", std::time::SystemTime::now())
            .await
            .unwrap(),
        dd_integration::store::FlowClaim::Claimed
    );
}

/// A proxy to the database at `url` that counts the requests the server answers with one
/// `ReadyForQuery` each (a `Sync`, a simple `Query`), over all its connections: round trips.
/// The plain protocol only, as `losing_the_installs_answer`.
async fn counting_round_trips(url: &str) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    proxy(
        url,
        AtomicU64::new(0),
        move |mut client_r, mut client_w, mut server_r, mut server_w, trips| {
            async move {
                let to_client = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_r, &mut client_w).await;
                });
                let mut from_client = Vec::new();
                let mut buf = vec![0u8; 64 << 10];
                // The client's first message (startup) has no type byte.
                let mut started = false;
                while let Ok(n @ 1..) = client_r.read(&mut buf).await {
                    from_client.extend_from_slice(&buf[..n]);
                    if !started {
                        started = took_startup(&mut from_client);
                    }
                    if started {
                        for (kind, _) in complete_messages(&mut from_client) {
                            if matches!(kind, b'S' | b'Q') {
                                trips.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                    if server_w.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                to_client.abort();
            }
        },
    )
    .await
}

/// The callback's three statements (the claim, the installation, the key) make one round trip
/// each on PostgreSQL: their connection is kept between them, not given back to sqlx's pool,
/// which pings every connection given back (a second round trip each).
#[tokio::test]
async fn connections_kept_by_the_installs_statements_make_one_round_trip_each() {
    let Some(server) = postgres_support::server() else {
        return;
    };
    let (url, trips) = counting_round_trips(&server.database().await).await;
    // No connection is checked for having sat idle, however slow the machine.
    let store = PostgresStore::connect_checking_idle_after(
        &url,
        sealer(),
        10,
        std::time::Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let install = |n: usize| {
        let store = &store;
        async move {
            let flow = format!("flow-round-trips-{n}");
            let claimed = store
                .claim_flow(&flow, std::time::SystemTime::now())
                .await
                .unwrap();
            assert_eq!(claimed, dd_integration::store::FlowClaim::Claimed);
            let mut installation = sample_installation(&format!("org-round-trips-{n}"));
            store
                .insert_for_flow(&mut installation, &flow)
                .await
                .unwrap();
            store
                .set_api_key(&installation.id, &sample_api_key())
                .await
                .unwrap();
        }
    };
    // The first install prepares the statements on the connection (a round trip more each).
    install(0).await;
    for n in 1..=3 {
        let before = trips.load(std::sync::atomic::Ordering::SeqCst);
        install(n).await;
        let made = trips.load(std::sync::atomic::Ordering::SeqCst) - before;
        assert_eq!(made, 3, "install {n} made {made} round trips");
    }
}

/// With a pool of one connection, none is kept: the install's statements and every other call
/// share it.
#[tokio::test]
async fn a_pool_of_one_serves_the_installs_statements_and_other_calls() {
    let Some(server) = postgres_support::server() else {
        return;
    };
    let url = server.database().await;
    let store = PostgresStore::connect_with_pool(&url, sealer(), 1)
        .await
        .unwrap();
    // A bound on a hang (a connection kept from a pool of one would leave the other calls
    // none), not a measure.
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        for n in 0..3 {
            let flow = format!("flow-pool-of-one-{n}");
            assert_eq!(
                store
                    .claim_flow(&flow, std::time::SystemTime::now())
                    .await
                    .unwrap(),
                dd_integration::store::FlowClaim::Claimed
            );
            let mut installation = sample_installation(&format!("org-pool-of-one-{n}"));
            store
                .insert_for_flow(&mut installation, &flow)
                .await
                .unwrap();
            let key = sample_api_key();
            let (key, found, all) = tokio::join!(
                store.set_api_key(&installation.id, &key),
                store.get(&installation.id),
                store.list(),
            );
            key.unwrap();
            assert!(found.unwrap().is_some());
            assert_eq!(all.unwrap().len(), n + 1);
        }
    })
    .await
    .expect("a pool of one hung");
}

/// A PostgreSQL store whose pool holds several connections that the server has just closed,
/// none of them idle long enough to be checked before use: a fail-over under load.
async fn connections_closed_just_after_use(
    tag: &str,
) -> Option<(std::sync::Arc<PostgresStore>, Installation)> {
    let server = postgres_support::server()?;
    let url = server.database().await;
    // Connections in use are never checked here, however long they sat idle.
    let store = std::sync::Arc::new(
        PostgresStore::connect_checking_idle_after(
            &url,
            sealer(),
            3,
            std::time::Duration::from_secs(3600),
        )
        .await
        .unwrap(),
    );
    let installation = sample_installation(tag);
    store.insert(&installation).await.unwrap();
    // Several calls at once, so that the pool holds more than one connection.
    let calls = futures_join_all((0..9).map(|_| {
        let store = std::sync::Arc::clone(&store);
        async move { store.list().await.map(|_| ()) }
    }))
    .await;
    assert!(calls.iter().all(Result::is_ok), "{calls:?}");
    let closed = close_the_stores_connections(&url).await;
    assert!(
        closed.len() >= 2,
        "the pool should hold several connections: {closed:?}"
    );
    Some((store, installation))
}

/// A connection the server closes just after its last use (a fail-over under load) fails the
/// one call made on it; from then on the store checks every connection it hands out for a
/// while, so the next calls (a marketplace key's store is retried) meet live ones, not the
/// pool's other closed connections.
#[tokio::test]
async fn after_a_call_meets_a_closed_connection_the_next_calls_get_live_ones() {
    let Some((store, installation)) = connections_closed_just_after_use("org-failover").await
    else {
        return;
    };
    // The event this test is about: a call made on a closed connection, unchecked.
    assert!(
        store.get(&installation.id).await.is_err(),
        "the first call after the server closed the connections did not meet one"
    );
    // Then every call meets a live connection: the others the server closed are checked and
    // left.
    store
        .set_api_key(&installation.id, &sample_api_key())
        .await
        .unwrap();
    for _ in 0..4 {
        assert!(store.get(&installation.id).await.unwrap().is_some());
    }
}

/// The install's write, after the code exchange, holds the customer's new tokens: when its
/// connection turns out closed, it is written again on a checked one rather than lost.
#[tokio::test]
async fn an_installs_write_that_meets_a_closed_connection_is_written_again() {
    let Some((store, current)) = connections_closed_just_after_use("org-failover-install").await
    else {
        return;
    };
    // The write is the first call after the server closed the connections: it meets one.
    let mut installation = sample_installation("org-failover-install");
    let replaced = store
        .insert_for_flow(&mut installation, "flow-failover")
        .await
        .unwrap();
    assert_eq!(replaced.map(|r| r.id), Some(current.id.clone()));
    assert_eq!(installation.previous.as_ref(), Some(&current.id));
    assert!(store.get(&installation.id).await.unwrap().is_some());
}

/// Where a proxy finds the database at `url`: its Unix socket (a throwaway cluster's URL names
/// the socket's directory as `host`) or its TCP address.
enum Upstream {
    Socket(String),
    Tcp(String),
}

impl Upstream {
    fn of(url: &str) -> Upstream {
        let parsed = url::Url::parse(url).unwrap();
        let port = parsed.port().unwrap_or(5432);
        match parsed.query_pairs().find(|(k, _)| k == "host") {
            Some((_, dir)) => Upstream::Socket(format!("{dir}/.s.PGSQL.{port}")),
            None => Upstream::Tcp(format!("{}:{port}", parsed.host_str().unwrap())),
        }
    }

    async fn connect(
        &self,
    ) -> (
        Box<dyn tokio::io::AsyncRead + Send + Unpin>,
        Box<dyn tokio::io::AsyncWrite + Send + Unpin>,
    ) {
        match self {
            Upstream::Socket(path) => {
                let (r, w) = tokio::net::UnixStream::connect(path)
                    .await
                    .unwrap()
                    .into_split();
                (Box::new(r), Box::new(w))
            }
            Upstream::Tcp(addr) => {
                let (r, w) = tokio::net::TcpStream::connect(addr)
                    .await
                    .unwrap()
                    .into_split();
                (Box::new(r), Box::new(w))
            }
        }
    }
}

/// The messages complete in `buffer` (PostgreSQL's framing: a type byte, then a length that
/// counts itself), taken out of it; an incomplete one stays.
fn complete_messages(buffer: &mut Vec<u8>) -> Vec<(u8, Vec<u8>)> {
    let mut messages = Vec::new();
    while buffer.len() >= 5 {
        let len = u32::from_be_bytes(buffer[1..5].try_into().unwrap()) as usize;
        if buffer.len() < 1 + len {
            break;
        }
        let message: Vec<u8> = buffer.drain(..1 + len).collect();
        messages.push((message[0], message));
    }
    messages
}

/// A proxy on the loopback to the database at `url`: each connection it accepts is handed to
/// `relay` with a new connection to the database (the client's read and write halves, then
/// the server's) and `seen`, shared by every connection and returned for the test to read.
/// The database's URL through the proxy ([`through_proxy`]).
async fn proxy<S, R, F>(url: &str, seen: S, relay: R) -> (String, std::sync::Arc<S>)
where
    S: Send + Sync + 'static,
    R: Fn(
            tokio::net::tcp::OwnedReadHalf,
            tokio::net::tcp::OwnedWriteHalf,
            Box<dyn tokio::io::AsyncRead + Send + Unpin>,
            Box<dyn tokio::io::AsyncWrite + Send + Unpin>,
            std::sync::Arc<S>,
        ) -> F
        + Send
        + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let seen = std::sync::Arc::new(seen);
    let shared = std::sync::Arc::clone(&seen);
    let upstream = Upstream::of(url);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            client.set_nodelay(true).unwrap();
            let (client_r, client_w) = client.into_split();
            let (server_r, server_w) = upstream.connect().await;
            let seen = std::sync::Arc::clone(&shared);
            tokio::spawn(relay(client_r, client_w, server_r, server_w, seen));
        }
    });
    (through_proxy(url, port), seen)
}

/// Takes the client's startup message (it has no type byte) out of `buffer` once it is
/// complete there; whether it was.
fn took_startup(buffer: &mut Vec<u8>) -> bool {
    if buffer.len() < 4 {
        return false;
    }
    let len = u32::from_be_bytes(buffer[..4].try_into().unwrap()) as usize;
    if buffer.len() < len {
        return false;
    }
    buffer.drain(..len);
    true
}

/// The URL of the database at `url` through a proxy on `port` of the loopback, asking for plain
/// messages for the proxy to read (`sslmode=disable`, every other query parameter dropped).
fn through_proxy(url: &str, port: u16) -> String {
    let parsed = url::Url::parse(url).unwrap();
    let mut proxied = url::Url::parse(&format!("postgres://127.0.0.1:{port}")).unwrap();
    proxied.set_username(parsed.username()).unwrap();
    proxied.set_password(parsed.password()).unwrap();
    proxied.set_path(parsed.path());
    proxied.set_query(Some("sslmode=disable"));
    proxied.to_string()
}

/// The `n`th NUL-terminated string of a message's body.
fn nth_cstr(message: &[u8], n: usize) -> &[u8] {
    message[5..].split(|&b| b == 0).nth(n).unwrap_or_default()
}

/// A proxy to the database at `url` that loses the answer to the first run of the PostgreSQL
/// install statement, once the statement has committed: it reads the protocol in both
/// directions, and when the server has answered the `Sync` that follows the statement's
/// `Bind` (`ReadyForQuery`, idle: its transaction is over), it closes the client's connection
/// rather than pass the answer on. What a fail-over just after a commit does. Returns the URL
/// through it and a flag set when it lost the answer of a statement that completed without an
/// error.
///
/// It speaks the plain protocol only: the URL it returns asks for no TLS (`sslmode=disable`,
/// every other query parameter of `url` dropped), so a server that accepts only TLS is not one
/// this test can run against.
async fn losing_the_installs_answer(
    url: &str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    proxy(
        url,
        AtomicBool::new(false),
        move |mut client_r, mut client_w, mut server_r, mut server_w, lost| async move {
            let (mut from_client, mut from_server) = (Vec::new(), Vec::new());
            let (mut cbuf, mut sbuf) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
            // The client's first message (startup) has no type byte.
            let mut started = false;
            // The client's requests that the server answers with one `ReadyForQuery` each
            // (the startup, a `Sync`, a simple `Query`), and the server's answers, counted.
            let mut install_statements: Vec<Vec<u8>> = Vec::new();
            let (mut bound, mut syncs, mut answers) = (false, 0u64, 0u64);
            let mut lose: Option<u64> = None;
            // What the lost answer held: the statement completed, and no error.
            let (mut completed, mut failed) = (false, false);
            loop {
                tokio::select! {
                    read = client_r.read(&mut cbuf) => {
                        let Ok(n @ 1..) = read else { return };
                        from_client.extend_from_slice(&cbuf[..n]);
                        if !started && took_startup(&mut from_client) {
                            started = true;
                            // The server ends the startup with a `ReadyForQuery`.
                            syncs += 1;
                        }
                        // Read before it is passed on, so that the answer it asks for is
                        // known to be the one to lose before the server can send it.
                        if started {
                            for (kind, message) in complete_messages(&mut from_client) {
                                match kind {
                                    b'P' if nth_cstr(&message, 1)
                                        .windows(19)
                                        .any(|w| w == b"WITH current_of_org") =>
                                    {
                                        install_statements.push(nth_cstr(&message, 0).to_vec());
                                    }
                                    b'B' => {
                                        bound = !lost.load(Ordering::SeqCst)
                                            && lose.is_none()
                                            && install_statements
                                                .iter()
                                                .any(|s| s == nth_cstr(&message, 1));
                                    }
                                    // A simple query is answered by a
                                    // `ReadyForQuery` too.
                                    b'Q' => syncs += 1,
                                    b'S' => {
                                        syncs += 1;
                                        if bound {
                                            lose = Some(syncs);
                                            bound = false;
                                        }
                                    }
                                    _ => {}
                                }
                            }
                        }
                        if server_w.write_all(&cbuf[..n]).await.is_err() {
                            return;
                        }
                    }
                    read = server_r.read(&mut sbuf) => {
                        let Ok(n @ 1..) = read else { return };
                        from_server.extend_from_slice(&sbuf[..n]);
                        let mut passed = Vec::new();
                        for (kind, message) in complete_messages(&mut from_server) {
                            // Every message answers the next request not yet answered.
                            if lose == Some(answers + 1) {
                                match kind {
                                    b'C' => completed = true,
                                    b'E' => failed = true,
                                    // Idle: the statement's transaction is over.
                                    b'Z' => {
                                        lost.store(
                                            completed && !failed && message.get(5) == Some(&b'I'),
                                            Ordering::SeqCst,
                                        );
                                        // The answers before it go on; both connections
                                        // close as this task ends.
                                        let _ = client_w.write_all(&passed).await;
                                        return;
                                    }
                                    _ => {}
                                }
                                continue;
                            }
                            if kind == b'Z' {
                                answers += 1;
                            }
                            passed.extend_from_slice(&message);
                        }
                        if client_w.write_all(&passed).await.is_err() {
                            return;
                        }
                    }
                }
            }
        },
    )
    .await
}

/// The install's write commits, then its answer is lost with its connection (a fail-over just
/// after the commit). It is written again, finds its installation stored, and reads back what
/// that one replaced: the customer's tokens are kept once, and the flow ends installed.
#[tokio::test]
async fn an_installs_write_whose_answer_is_lost_after_its_commit_reads_back_what_it_stored() {
    let Some(server) = postgres_support::server() else {
        return;
    };
    let (url, lost) = losing_the_installs_answer(&server.database().await).await;
    let store = PostgresStore::connect(&url, sealer()).await.unwrap();
    let current = sample_installation("org-lost-answer");
    store.insert(&current).await.unwrap();
    let mut installation = sample_installation("org-lost-answer");
    let replaced = store
        .insert_for_flow(&mut installation, "flow-lost-answer")
        .await
        .unwrap();
    // The event this test is about: the statement committed and its answer never came.
    assert!(
        lost.load(std::sync::atomic::Ordering::SeqCst),
        "the proxy did not lose the answer of an install statement that committed"
    );
    let replaced = replaced.expect("the org's earlier installation is replaced");
    assert_eq!(replaced.id, current.id);
    assert_eq!(
        replaced.status,
        dd_integration::installation::InstallationStatus::Replaced {
            by: installation.id.clone()
        }
    );
    assert_eq!(installation.previous.as_ref(), Some(&current.id));
    let stored = store.get(&installation.id).await.unwrap().unwrap();
    assert_eq!(stored.previous.as_ref(), Some(&current.id));
    assert_eq!(stored.refresh_token, installation.refresh_token);
    let of_org = store
        .list_by_org(current.org_id.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(of_org.len(), 2, "written once: {of_org:?}");
    assert_eq!(
        store
            .claim_flow("flow-lost-answer", std::time::SystemTime::now())
            .await
            .unwrap(),
        dd_integration::store::FlowClaim::Installed(installation.id.clone())
    );
}

/// Copies the sealed refresh token of `from` into `to` behind the store's back.
async fn move_sealed_value<'c, C>(conn: C, from: &str, to: &str)
where
    C: sqlx::Executor<'c>,
    for<'q> <C::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, C::Database>,
    for<'q> String: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
{
    sqlx::query(
        "UPDATE dd_installations SET refresh_token = \
         (SELECT refresh_token FROM dd_installations WHERE id = $1) WHERE id = $2",
    )
    .bind(from.to_owned())
    .bind(to.to_owned())
    .execute(conn)
    .await
    .unwrap();
}

fn assert_does_not_open(result: Result<Option<Installation>, StoreError>) {
    match result {
        Err(StoreError::Sealed { secret, .. }) => assert_eq!(secret, "refresh_token"),
        Err(other) => panic!("a moved sealed value gave {other}, not StoreError::Sealed"),
        Ok(_) => panic!("a sealed value moved to another row opened there"),
    }
}

#[tokio::test]
async fn a_sealed_value_moved_to_another_row_does_not_open() {
    let dir = TempDir::new("store-test");
    let store = SqliteStore::open(dir.file(), sealer()).await.unwrap();
    let a = sample_installation("org-a");
    let b = sample_installation("org-b");
    store.insert(&a).await.unwrap();
    store.insert(&b).await.unwrap();
    let mut raw = raw_sqlite(&dir.file()).await;
    move_sealed_value(&mut raw, a.id.as_str(), b.id.as_str()).await;
    assert_does_not_open(store.get(&b.id).await);
    assert!(store.get(&a.id).await.unwrap().is_some());

    let Some(server) = postgres_support::server() else {
        return;
    };
    let url = server.database().await;
    let store = PostgresStore::connect(&url, sealer()).await.unwrap();
    store.insert(&a).await.unwrap();
    store.insert(&b).await.unwrap();
    let mut raw = sqlx::PgConnection::connect(&url).await.unwrap();
    move_sealed_value(&mut raw, a.id.as_str(), b.id.as_str()).await;
    assert_does_not_open(store.get(&b.id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_opened_at_once_on_a_new_database_migrate_it_once() {
    let dir = TempDir::new("store-test");
    let file = dir.file();
    let opened = futures_join_all((0..6).map(|_| SqliteStore::open(file.clone(), sealer()))).await;
    for store in &opened {
        assert!(store.as_ref().is_ok(), "{:?}", store.as_ref().err());
    }
    let mut raw = raw_sqlite(&file).await;
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM dd_schema_version")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    assert_eq!(versions, vec![1, 2, 3, 4]);

    let Some(server) = postgres_support::server() else {
        return;
    };
    let url = server.database().await;
    let opened = futures_join_all((0..6).map(|_| {
        let url = url.clone();
        async move { PostgresStore::connect(&url, sealer()).await }
    }))
    .await;
    for store in &opened {
        assert!(store.as_ref().is_ok(), "{:?}", store.as_ref().err());
    }
    let mut raw = sqlx::PgConnection::connect(&url).await.unwrap();
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM dd_schema_version")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    assert_eq!(versions, vec![1, 2, 3, 4]);
}

/// An org id stored before the SDK confirmed org ids with Datadog came from the browser's
/// `dd_oid`: the migration keeps it as a hint only, so no reinstall is linked through it (an
/// edited `dd_oid` once took another org's installation and key).
#[tokio::test]
async fn an_org_id_stored_unconfirmed_becomes_a_hint_on_migration() {
    let dir = TempDir::new("store-test");
    let file = dir.file();
    let store = SqliteStore::open(file.clone(), sealer()).await.unwrap();
    let mut old = sample_installation("org-from-the-browser");
    old.org_hint = None;
    store.insert(&old).await.unwrap();
    drop(store);
    // Back to the first schema, as a database written by an earlier release.
    let mut raw = raw_sqlite(&file).await;
    execute_each(
        &mut raw,
        &[
            "ALTER TABLE dd_installations DROP COLUMN org_hint",
            "ALTER TABLE dd_installations DROP COLUMN api_key_requested_at",
            "ALTER TABLE dd_installations DROP COLUMN refresh_started_at",
            "DELETE FROM dd_schema_version WHERE version >= 2",
        ],
    )
    .await;
    raw.close().await.unwrap();

    let store = SqliteStore::open(file.clone(), sealer()).await.unwrap();
    let migrated = store.get(&old.id).await.unwrap().unwrap();
    assert_eq!(
        migrated.org_id, None,
        "an unconfirmed id is no org identity"
    );
    assert_eq!(migrated.org_hint.as_deref(), Some("org-from-the-browser"));
    assert!(
        store
            .find_by_org(&dd_integration::OrgId::from_confirmed(
                "org-from-the-browser"
            ))
            .await
            .unwrap()
            .is_none(),
        "nothing is found, and so linked, through it"
    );
}

#[tokio::test]
async fn a_refresh_journal_stored_as_a_zero_expiry_becomes_the_journal_on_migration() {
    let dir = TempDir::new("store-test");
    let file = dir.file();
    let store = SqliteStore::open(file.clone(), sealer()).await.unwrap();
    let interrupted = sample_installation("org-interrupted");
    let idle = sample_installation("org-idle");
    store.insert(&interrupted).await.unwrap();
    store.insert(&idle).await.unwrap();
    drop(store);
    // Back to schema 2, where a refresh under way was an access-token expiry of 0.
    let mut raw = raw_sqlite(&file).await;
    execute_each(
        &mut raw,
        &[
            "ALTER TABLE dd_installations DROP COLUMN refresh_started_at",
            "DELETE FROM dd_schema_version WHERE version >= 3",
        ],
    )
    .await;
    sqlx::query("UPDATE dd_installations SET access_token_expires_at = 0 WHERE id = $1")
        .bind(interrupted.id.as_str())
        .execute(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();

    let store = SqliteStore::open(file.clone(), sealer()).await.unwrap();
    let migrated = store.get(&interrupted.id).await.unwrap().unwrap();
    assert!(
        migrated.refresh_interrupted(),
        "the old mark is the journal now"
    );
    assert_eq!(migrated.refresh_started_at, Some(migrated.updated_at));
    let untouched = store.get(&idle.id).await.unwrap().unwrap();
    assert!(!untouched.refresh_interrupted());
    assert_eq!(
        untouched.access_token_expires_at,
        idle.access_token_expires_at
    );
}

/// Before schema 4, two installs of one org at once could both replace its installation; the
/// migration keeps the link on the newer one only, so that the unique index can hold.
#[tokio::test]
async fn an_installation_replaced_twice_keeps_its_newest_successor_on_migration() {
    let dir = TempDir::new("store-test");
    let file = dir.file();
    let store = SqliteStore::open(file.clone(), sealer()).await.unwrap();
    let old = sample_installation("org-twice");
    store.insert(&old).await.unwrap();
    let mut older = sample_installation("org-twice");
    older.previous = Some(old.id.clone());
    store.insert(&older).await.unwrap();
    let newer = sample_installation("org-twice");
    store.insert(&newer).await.unwrap();
    drop(store);
    // Back to schema 3, and the race's result: both name `old` as their previous one.
    let mut raw = raw_sqlite(&file).await;
    execute_each(
        &mut raw,
        &[
            "DROP INDEX dd_installations_previous",
            "DELETE FROM dd_schema_version WHERE version = 4",
        ],
    )
    .await;
    sqlx::query("UPDATE dd_installations SET previous_id = $1 WHERE id = $2")
        .bind(old.id.as_str())
        .bind(newer.id.as_str())
        .execute(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();

    let store = SqliteStore::open(file.clone(), sealer()).await.unwrap();
    assert_eq!(store.get(&older.id).await.unwrap().unwrap().previous, None);
    assert_eq!(
        store.get(&newer.id).await.unwrap().unwrap().previous,
        Some(old.id.clone())
    );
    // The index holds from now on.
    let mut again = sample_installation("org-twice");
    again.previous = Some(old.id.clone());
    assert!(store.insert(&again).await.is_err());
}

/// Runs futures at once (each on its own task) and collects their outputs in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

#[tokio::test]
async fn a_schema_newer_than_the_sdk_is_refused_with_what_to_do() {
    let dir = TempDir::new("store-test");
    drop(SqliteStore::open(dir.file(), sealer()).await.unwrap());
    let mut raw = raw_sqlite(&dir.file()).await;
    sqlx::query("INSERT INTO dd_schema_version (version, applied_at) VALUES (99, 0)")
        .execute(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();
    let error = SqliteStore::open(dir.file(), sealer()).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::SchemaTooNew {
                found: 99,
                supported: 4
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("upgrade dd-integration"),
        "{error}"
    );
}

#[tokio::test]
async fn opening_in_a_missing_directory_says_what_to_do() {
    let dir = TempDir::new("store-test");
    let error = SqliteStore::open(dir.path().join("no/such/dir/db.sqlite"), sealer())
        .await
        .unwrap_err();
    let shown = error.to_string();
    assert!(shown.contains("no/such/dir/db.sqlite"), "{shown}");
    assert!(shown.contains("check that the directory exists"), "{shown}");
}

#[tokio::test]
async fn a_refused_postgres_connection_says_what_to_do_and_hides_the_password() {
    // Nothing listens on port 1 of loopback.
    let error = PostgresStore::connect("postgres://app:hunter2-secret@127.0.0.1:1/db", sealer())
        .await
        .unwrap_err();
    let shown = format!("{error} / {error:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("postgres://app@127.0.0.1:1/db"), "{shown}");
    assert!(shown.contains("reachable"), "{shown}");
}

/// What a worker process is told: `<sqlite|postgres>|<path or URL>|<start, unix ms>|<CAS
/// installation>|<lease installations, comma-separated>`.
const WORKER_ENV: &str = "DD_STORE_TEST_WORKER";
const FLOWS: usize = 40;
const LEASES: usize = 20;

/// Races several OS processes on one store: flow claims, leases and compare-and-swap must hold
/// across processes, not only across connections of one.
async fn race_processes(
    backend: &str,
    location: &str,
    store: &dyn InstallationStore,
    processes: usize,
) {
    let cas = sample_installation("org-processes");
    store.insert(&cas).await.unwrap();
    let mut leases = Vec::new();
    for n in 0..LEASES {
        let installation = sample_installation(&format!("org-lease-{n}"));
        store.insert(&installation).await.unwrap();
        leases.push(installation.id.to_string());
    }
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 1500;
    let spec = format!(
        "{backend}|{location}|{start}|{}|{}",
        cas.id,
        leases.join(",")
    );
    let workers: Vec<_> = (0..processes)
        .map(|_| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "store_worker_process",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(WORKER_ENV, &spec)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let (mut flows, mut wins, mut leased) = (0, 0, 0);
    for worker in workers {
        let output = worker.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "a worker process failed:\n{stdout}"
        );
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("STORE-WORKER ").map(|(_, counts)| counts))
            .unwrap_or_else(|| panic!("a worker reported nothing:\n{stdout}"));
        let counts: Vec<u64> = line
            .split_whitespace()
            .take(3)
            .map(|n| n.parse().unwrap())
            .collect();
        flows += counts[0];
        wins += counts[1];
        leased += counts[2];
    }
    assert_eq!(
        flows, FLOWS as u64,
        "flows claimed across {processes} processes (one each)"
    );
    assert_eq!(
        leased, LEASES as u64,
        "leases taken across {processes} processes (one each)"
    );
    let version = store.get(&cas.id).await.unwrap().unwrap().version;
    assert_eq!(
        version,
        1 + wins,
        "every compare-and-swap win across {processes} processes is one version: none lost"
    );
    assert!(wins > 0);
}

/// The worker side of [`race_processes`]; without its variable it does nothing.
#[test]
fn store_worker_process() {
    let Ok(spec) = std::env::var(WORKER_ENV) else {
        return;
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(worker(spec));
}

async fn worker(spec: String) {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use dd_integration::InstallationId;
    use dd_integration::store::FlowClaim;

    let parts: Vec<&str> = spec.split('|').collect();
    let store: Arc<dyn InstallationStore> = match parts[0] {
        "sqlite" => Arc::new(SqliteStore::open(parts[1], sealer()).await.unwrap()),
        _ => Arc::new(PostgresStore::connect(parts[1], sealer()).await.unwrap()),
    };
    let start = UNIX_EPOCH + Duration::from_millis(parts[2].parse().unwrap());
    let cas = InstallationId::from_stored(parts[3]);
    let leases: Vec<InstallationId> = parts[4]
        .split(',')
        .map(InstallationId::from_stored)
        .collect();
    if let Ok(wait) = start.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
    let holder = format!("process-{}", std::process::id());
    let mut tasks = Vec::new();
    for n in 0..FLOWS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let claim = store
                .claim_flow(
                    &format!("flow-{n}"),
                    SystemTime::now() + Duration::from_secs(600),
                )
                .await
                .unwrap();
            (u64::from(claim == FlowClaim::Claimed), 0, 0)
        }));
    }
    for id in leases {
        let (store, holder) = (Arc::clone(&store), holder.clone());
        tasks.push(tokio::spawn(async move {
            let until = SystemTime::now() + Duration::from_secs(600);
            let taken = store
                .acquire_refresh_lease(&id, &holder, until)
                .await
                .unwrap();
            (0, 0, u64::from(taken))
        }));
    }
    for _ in 0..4 {
        let (store, cas) = (Arc::clone(&store), cas.clone());
        tasks.push(tokio::spawn(async move {
            let mut wins = 0;
            for _ in 0..25 {
                let version = store.get(&cas).await.unwrap().unwrap().version;
                match store.update_tokens(&cas, version, &sample_tokens()).await {
                    Ok(_) => wins += 1,
                    Err(StoreError::Conflict { .. }) => {}
                    Err(e) => panic!("update_tokens failed: {e}"),
                }
            }
            (0, wins, 0)
        }));
    }
    let (mut flows, mut wins, mut leased) = (0, 0, 0);
    for task in tasks {
        let (f, w, l) = task.await.unwrap();
        flows += f;
        wins += w;
        leased += l;
    }
    println!("\nSTORE-WORKER {flows} {wins} {leased}");
}

/// A write whose transaction fails at COMMIT (as a full disk does on SQLite, which writes a
/// transaction's pages to its log then) answers with the database's own error, its code kept
/// through the group commit, not a bare message; nothing of it is stored, and the store goes on.
/// The failure here: a deferred foreign key, checked only at COMMIT, through a trigger this test
/// adds to the file.
#[tokio::test]
async fn a_write_whose_commit_fails_answers_with_the_databases_error() {
    let dir = TempDir::new("dd-commit-fails");
    let path = dir.path().join("installations.sqlite");
    let store = SqliteStore::open(&path, sealer()).await.unwrap();
    let mut raw = raw_sqlite(&path).await;
    execute_each(
        &mut raw,
        &[
            "CREATE TABLE test_parent (id INTEGER PRIMARY KEY)",
            "CREATE TABLE test_child (parent INTEGER REFERENCES test_parent (id) \
             DEFERRABLE INITIALLY DEFERRED)",
            "CREATE TRIGGER test_fail_at_commit AFTER INSERT ON dd_installations \
             WHEN NEW.org_id = 'org-commit-fails' BEGIN INSERT INTO test_child VALUES (42); END",
        ],
    )
    .await;
    raw.close().await.unwrap();

    let mut failing = sample_installation("org-commit-fails");
    let error = store
        .insert_for_flow(&mut failing, "flow-commit-fails")
        .await
        .unwrap_err();
    let StoreError::Database { source, .. } = &error else {
        panic!("not a database error: {error:?}");
    };
    let Some(sqlx::Error::Database(db)) = source.downcast_ref::<sqlx::Error>() else {
        panic!("the database's error was not kept: {source:?}");
    };
    // SQLITE_CONSTRAINT_FOREIGNKEY.
    assert_eq!(db.code().as_deref(), Some("787"), "{error}");
    assert!(error.to_string().contains("FOREIGN KEY"), "{error}");
    assert!(store.get(&failing.id).await.unwrap().is_none());
    // The store goes on: the next writes commit.
    let mut next = sample_installation("org-after");
    store
        .insert_for_flow(&mut next, "flow-after")
        .await
        .unwrap();
    store
        .set_api_key(&next.id, &sample_api_key())
        .await
        .unwrap();
    assert!(
        store
            .get(&next.id)
            .await
            .unwrap()
            .unwrap()
            .api_key
            .is_some()
    );
}

#[tokio::test]
async fn two_processes_share_one_sqlite_file() {
    let dir = TempDir::new("store-test");
    let store = SqliteStore::open(dir.file(), sealer()).await.unwrap();
    race_processes("sqlite", &dir.file().to_string_lossy(), &store, 2).await;
}

#[tokio::test]
async fn four_processes_share_one_postgres_database() {
    let Some(server) = postgres_support::server() else {
        return;
    };
    let url = server.database().await;
    let store = PostgresStore::connect(&url, sealer()).await.unwrap();
    race_processes("postgres", &url, &store, 4).await;
}

/// `reseal`, on the SQL backends that have it.
#[async_trait]
trait Reseal {
    async fn reseal(&self) -> Result<ResealReport, StoreError>;
}

#[async_trait]
impl Reseal for SqliteStore {
    async fn reseal(&self) -> Result<ResealReport, StoreError> {
        SqliteStore::reseal(self).await
    }
}

#[async_trait]
impl Reseal for PostgresStore {
    async fn reseal(&self) -> Result<ResealReport, StoreError> {
        PostgresStore::reseal(self).await
    }
}

/// A key rotated out: while both keys are configured, `reseal` seals every secret still under
/// the old key again under the new one, after which the old key can go and nothing is lost.
async fn rotate_then_reseal<F>(factory: &F)
where
    F: StoreFactory,
    F::Store: Reseal,
{
    let Some(storage) = factory.storage().await else {
        return;
    };
    let key = |id: &str, byte: u8| SealingKey::from_bytes(id, &[byte; 32]).unwrap();
    let mut old = Vec::new();
    {
        let store = factory
            .open(&storage, Sealer::new(key("key-a", 0xA1)))
            .await;
        for i in 0..3 {
            let mut installation = sample_installation(&format!("org-reseal-{i}"));
            if i < 2 {
                installation.api_key = Some(sample_api_key());
            }
            store.insert(&installation).await.unwrap();
            old.push(installation);
        }
    }
    // Rotating: B seals, A still opens. A new installation and one refresh are written under B.
    let store = factory
        .open(
            &storage,
            Sealer::new(key("key-b", 0xB2)).with_older_key(key("key-a", 0xA1)),
        )
        .await;
    let fresh = sample_installation("org-reseal-new");
    store.insert(&fresh).await.unwrap();
    let tokens = sample_tokens();
    store
        .update_tokens(&old[2].id, old[2].version, &tokens)
        .await
        .unwrap();
    // Still under A: both tokens and the API key of the first two rows.
    let report = store.reseal().await.unwrap();
    assert_eq!(
        (report.rows, report.values, report.raced, report.remaining),
        (2, 6, 0, 0)
    );
    let again = store.reseal().await.unwrap();
    assert_eq!((again.rows, again.values), (0, 0), "nothing left under A");
    drop(store);

    // A dropped: every installation opens under B alone, secrets and versions unchanged.
    let store = factory
        .open(&storage, Sealer::new(key("key-b", 0xB2)))
        .await;
    for installation in &old[..2] {
        let got = store.get(&installation.id).await.unwrap().unwrap();
        assert_eq!(
            got.refresh_token.expose_secret(),
            installation.refresh_token.expose_secret()
        );
        assert_eq!(
            got.access_token.expose_secret(),
            installation.access_token.expose_secret()
        );
        assert_eq!(
            got.api_key
                .as_ref()
                .map(|k| k.key.expose_secret().to_owned()),
            installation
                .api_key
                .as_ref()
                .map(|k| k.key.expose_secret().to_owned())
        );
        assert_eq!(
            got.version, installation.version,
            "the plaintext did not change"
        );
    }
    let third = store.get(&old[2].id).await.unwrap().unwrap();
    assert_eq!(
        third.refresh_token.expose_secret(),
        tokens.refresh_token.expose_secret()
    );
    assert_eq!(store.list().await.unwrap().len(), 4);
    drop(store);

    // Resealing with a sealer that has lost the key of what is stored changes nothing and says
    // which key is missing.
    let store = factory
        .open(&storage, Sealer::new(key("key-c", 0xC3)))
        .await;
    let error = store.reseal().await.unwrap_err();
    assert!(matches!(error, StoreError::Sealed { .. }), "{error:?}");
    assert!(error.to_string().contains("key-b"), "{error}");
}

#[tokio::test]
async fn sqlite_secrets_are_sealed_again_under_the_new_key() {
    rotate_then_reseal(&SqliteFactory).await;
}

#[tokio::test]
async fn postgres_secrets_are_sealed_again_under_the_new_key() {
    rotate_then_reseal(&PostgresFactory).await;
}

/// A managed PostgreSQL asks for TLS: with `sslmode=verify-full` the store's connections are
/// encrypted and the server's certificate checked (against `sslrootcert`, else the Mozilla
/// roots), and a certificate no root vouches for is refused.
#[tokio::test]
async fn postgres_over_tls_verifies_the_server() {
    let (server, ca) = match postgres_support::PostgresServer::start_tls() {
        Ok(found) => found,
        Err(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs PostgreSQL and openssl for the TLS store test: {why}"
            );
            eprintln!("!!! SKIPPED: PostgreSQL over TLS. {why}");
            return;
        }
    };
    let database = server.database().await;
    assert!(
        database.starts_with("postgres://postgres@localhost:"),
        "{database}"
    );
    let verified = format!(
        "{database}?sslmode=verify-full&sslrootcert={}",
        ca.display()
    );
    let store = PostgresStore::connect(&verified, sealer()).await.unwrap();
    let (installation, _) = store_secrets(&store).await;
    assert!(store.get(&installation.id).await.unwrap().is_some());

    // Every connection of the store's pool is encrypted.
    let mut raw = sqlx::PgConnection::connect(&verified).await.unwrap();
    let (connections, encrypted): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a \
         JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'dd-integration'",
    )
    .fetch_one(&mut raw)
    .await
    .unwrap();
    assert!(connections >= 1);
    assert_eq!(
        encrypted, connections,
        "a store connection is not encrypted"
    );

    // The test CA is no public root: without `sslrootcert`, verification fails, and says so.
    let error =
        match PostgresStore::connect(&format!("{database}?sslmode=verify-full"), sealer()).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a certificate no root vouches for was accepted"),
        };
    assert!(
        error.to_lowercase().contains("certificate"),
        "the error does not say what failed: {error}"
    );
    store.close().await;
}

/// Writers that keep writing (the marketplace key, as installs store it) until a call fails;
/// the writes that succeeded.
fn keep_writing(
    store: &std::sync::Arc<impl InstallationStore + 'static>,
    ids: &[dd_integration::InstallationId],
) -> tokio::task::JoinSet<u64> {
    let mut writers = tokio::task::JoinSet::new();
    for id in ids {
        let (store, id) = (std::sync::Arc::clone(store), id.clone());
        writers.spawn(async move {
            let mut writes = 0;
            while store.set_api_key(&id, &sample_api_key()).await.is_ok() {
                writes += 1;
            }
            writes
        });
    }
    writers
}

/// `close` while writes are under way: it returns (a connection in use when it was called is
/// not kept by the store afterwards, but given back), and the writes stop failing, not hanging.
async fn closes_while_writes_are_under_way<S: InstallationStore + 'static>(
    store: S,
    close: impl AsyncFnOnce(&S),
) {
    let store = std::sync::Arc::new(store);
    let mut ids = Vec::new();
    for n in 0..8 {
        let installation = sample_installation(&format!("org-closing-{n}"));
        store.insert(&installation).await.unwrap();
        ids.push(installation.id);
    }
    let mut writers = keep_writing(&store, &ids);
    // Under way: a few writes done, whatever the machine's speed.
    let first = ids[0].clone();
    for _ in 0..20 {
        store.set_api_key(&first, &sample_api_key()).await.unwrap();
    }
    // Bounds on a hang, not measures.
    tokio::time::timeout(std::time::Duration::from_secs(60), close(&store))
        .await
        .expect("close did not return while writes were under way");
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        let mut writes = 0;
        while let Some(done) = writers.join_next().await {
            writes += done.unwrap();
        }
        writes
    })
    .await
    .expect("the writes went on after the store closed");
    assert!(stopped > 0, "no write was under way when the store closed");
    assert!(
        store.get(&first).await.is_err(),
        "a call after close succeeded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_store_closes_while_writes_are_under_way() {
    let dir = TempDir::new("store-closing");
    let store = SqliteStore::open(dir.file(), sealer()).await.unwrap();
    closes_while_writes_are_under_way(store, async |s: &SqliteStore| s.close().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_store_closes_while_writes_are_under_way() {
    let Some(server) = postgres_support::server() else {
        return;
    };
    let store = PostgresStore::connect(&server.database().await, sealer())
        .await
        .unwrap();
    closes_while_writes_are_under_way(store, async |s: &PostgresStore| s.close().await).await;
}

/// A store dropped after its runtime ended, holding the connections it keeps between writes
/// (SQLite's group commit, PostgreSQL's install statements), does not panic: sqlx gives a
/// connection back to its pool on a task, which needs a runtime.
#[test]
fn stores_dropped_after_their_runtime_ended_do_not_panic() {
    let dir = TempDir::new("store-dropped");
    let postgres = postgres_support::server();
    let stores = {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut stores: Vec<Box<dyn InstallationStore>> = vec![Box::new(
                SqliteStore::open(dir.file(), sealer()).await.unwrap(),
            )];
            if let Some(server) = &postgres {
                stores.push(Box::new(
                    PostgresStore::connect(&server.database().await, sealer())
                        .await
                        .unwrap(),
                ));
            }
            for store in &stores {
                let installation = sample_installation("org-dropped");
                store.insert(&installation).await.unwrap();
                // Keeps its connection (both stores).
                store
                    .set_api_key(&installation.id, &sample_api_key())
                    .await
                    .unwrap();
            }
            stores
        })
    };
    drop(stores);
}
