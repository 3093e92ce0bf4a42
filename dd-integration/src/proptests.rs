//! Property tests of every parser of outside input but the telemetry items (which
//! `telemetry::proptests` covers): the `site` and `domain` parameters, the install flow's
//! onboarding and callback requests, sealed cookies, Datadog's token, key, org and API answers
//! and its error bodies, scope names and lists, and the submission folder's files.
//!
//! Each property runs a bounded number of cases (`PROPTEST_CASES` raises it for a deeper local
//! run); the inputs that found bugs in the security review are kept as plain unit tests beside
//! the properties, so they run on every `cargo test` whatever the random seed.

mod answers;
mod install;
mod scope;
mod seal;
mod site;

pub(crate) use crate::testkit::strategies::{
    SEED, any_text, config, hostile_text, replace_at, short_hostile_text,
};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream};

/// A current-thread runtime, built once per test and shared by its cases.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

/// How many cases ended which way, so that a property that stopped reaching its interesting
/// branch fails rather than passing vacuously.
#[derive(Default)]
pub(crate) struct Tally(std::cell::RefCell<std::collections::BTreeMap<&'static str, usize>>);

impl Tally {
    pub(crate) fn add(&self, what: &'static str) {
        *self.0.borrow_mut().entry(what).or_default() += 1;
    }

    pub(crate) fn get(&self, what: &str) -> usize {
        self.0.borrow().get(what).copied().unwrap_or(0)
    }

    /// Fails unless each of `wanted` happened at least once (only at the default case count:
    /// a run with fewer `PROPTEST_CASES` may miss one).
    pub(crate) fn assert_reached(&self, test: &str, wanted: &[&str]) {
        eprintln!("{test}: {:?}", self.0.borrow());
        if std::env::var_os("PROPTEST_CASES").is_some() {
            return;
        }
        for what in wanted {
            assert!(self.get(what) > 0, "{test}: no case reached `{what}`");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTML checks

/// The tags the flow's pages are made of: any other tag came from input.
const PAGE_TAGS: &[&str] = &[
    "!doctype", "html", "head", "meta", "title", "style", "body", "h1", "p", "ul", "li", "a",
    "small", "strong",
];

/// Every `<` in `body` that does not open or close one of the pages' own tags: markup that came
/// from input unescaped. Empty for a safe page.
pub(crate) fn foreign_markup(body: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in body.match_indices('<') {
        let rest = &body[i + 1..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect::<String>()
            .to_ascii_lowercase();
        if !PAGE_TAGS.contains(&name.as_str()) {
            found.push(body[i..].chars().take(40).collect());
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// A loopback peer that answers every request the same way

/// What the peer answers.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn new(status: u16, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

/// A plain-HTTP server on a loopback port standing in for every Datadog host (through
/// [`crate::Endpoints::override_base`]): each request gets the current [`Answer`], and the
/// requests are counted. Nothing leaves the machine.
pub(crate) struct Peer {
    pub(crate) base: String,
    answer: Arc<Mutex<Answer>>,
    requests: Arc<AtomicUsize>,
}

impl Peer {
    /// Starts the peer on the current runtime.
    pub(crate) async fn start(answer: Answer) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new(answer));
        let requests = Arc::new(AtomicUsize::new(0));
        let (shared, counted) = (Arc::clone(&answer), Arc::clone(&requests));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let answer = shared
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let counted = Arc::clone(&counted);
                tokio::spawn(serve(socket, answer, counted));
            }
        });
        Peer {
            base,
            answer,
            requests,
        }
    }

    /// The answer to every request from now on.
    pub(crate) fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap_or_else(PoisonError::into_inner) = answer;
    }

    /// How many requests the peer has read.
    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one request (its head and `Content-Length` bytes of body) and writes `answer`.
async fn serve(socket: TcpStream, answer: Answer, requests: Arc<AtomicUsize>) {
    let mut request = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut wanted = None;
    loop {
        if wanted.is_some_and(|n| request.len() >= n) {
            break;
        }
        if socket.readable().await.is_err() {
            return;
        }
        match socket.try_read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
        if wanted.is_none()
            && let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n")
        {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            wanted = Some(end + 4 + length);
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let mut response = format!(
        "HTTP/1.1 {} Peer\r\ncontent-length: {}\r\nconnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    let mut out = response.into_bytes();
    out.extend_from_slice(&answer.body);
    let mut written = 0;
    while written < out.len() {
        if socket.writable().await.is_err() {
            return;
        }
        match socket.try_write(&out[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}

#[test]
fn foreign_markup_finds_tags_that_are_not_the_pages_own() {
    assert!(foreign_markup("<!doctype html>\n<html><p>a &lt;script&gt;</p></html>").is_empty());
    assert_eq!(foreign_markup("<p><script>x</script></p>").len(), 2);
    assert_eq!(foreign_markup("<p>< 3</p>").len(), 1);
    assert_eq!(foreign_markup("<img src=x>").len(), 1);
}
