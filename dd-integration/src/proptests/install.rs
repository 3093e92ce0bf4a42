//! The install flow's two entry points, which anyone can load with any query and any cookies:
//! `Installer::onboarding` and `Installer::callback`.
//!
//! Datadog's hosts are a loopback peer (nothing leaves the machine) that refuses every code
//! (`invalid_grant`) and counts the token requests, so no flow can ever be completed here:
//! nothing panics; no page says "connected"; no page carries markup from the input; no token
//! request is made unless the browser holds a cookie sealed with the installer's key, and with
//! one only when every field the callback checks is sound; a reload spends nothing more; the
//! only cookies set are a fresh flow's (at onboarding: sealed, `__Host-`, `HttpOnly`,
//! `Secure`), an ended flow's (sealed, finished, without the verifier) or a deletion; and
//! nothing is ever stored.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, Uri};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestRunner;
use serde_json::json;

use super::site::{site_input, valid_site};
use super::{
    Answer, Peer, Tally, any_text, config, foreign_markup, hostile_text, runtime,
    short_hostile_text,
};
use crate::integration::IntegrationSpec;
use crate::scope::Scope;
use crate::seal::{Sealer, SealingKey};
use crate::secret::ClientSecret;
use crate::site::{Domain, Site};
use crate::store::{InstallationStore, MemoryStore};
use crate::transport::HttpConfig;
use crate::{Endpoints, Installer};

/// The integration whose declaration is [`FLOW`].
struct FlowIntegration;

impl crate::DatadogIntegration for FlowIntegration {
    const SPEC: &'static IntegrationSpec = &FLOW;
}

static FLOW: IntegrationSpec = IntegrationSpec {
    environments: &[],
    listing: crate::integration::Listing::DEFAULT,
    name: "Fuzz Flow",
    app_id: "fuzz-flow",
    scopes: &[
        Scope::MONITORS_READ,
        Scope::API_KEYS_WRITE,
        Scope::USER_ACCESS_READ,
    ],
    redirect_uris: &["https://flow.fuzz.example/datadog/callback"],
    onboarding_url: "https://flow.fuzz.example/datadog/connect",
    ..*crate::__private::INVALID_SPEC
};

const CONNECTED: &str = "Fuzz Flow is connected";
const ONBOARDING: &str = "/datadog/connect";
const CALLBACK: &str = "/datadog/callback";
/// `Params`' limit in install.rs.
const MAX_QUERY: usize = 8 * 1024;

/// An installer whose Datadog is a loopback peer that refuses every code, with its store, and
/// a sealer holding the installer's key (to forge flows the test knows to be sealed).
struct Flow {
    rt: tokio::runtime::Runtime,
    installer: Installer<FlowIntegration>,
    store: Arc<MemoryStore>,
    peer: Peer,
    sealer: Sealer,
}

impl Flow {
    fn new() -> Flow {
        let rt = runtime();
        let (key, _) = SealingKey::generate("fuzz").unwrap();
        let sealer = Sealer::new(key.clone());
        let (installer, store, peer) = rt.block_on(async {
            let peer = Peer::start(Answer::new(
                400,
                r#"{"error":"invalid_grant","error_description":"the code is unknown"}"#,
            ))
            .await;
            let store = Arc::new(MemoryStore::new());
            let installer = Installer::<FlowIntegration>::builder()
                .client("fuzz-client", ClientSecret::new("fuzz-secret"))
                .sealer(Sealer::new(key))
                .endpoints(Endpoints::override_base(&peer.base).unwrap())
                .http_config(
                    HttpConfig::default()
                        .connect_timeout(Duration::from_secs(2))
                        .timeout(Duration::from_secs(5)),
                )
                .store(Arc::clone(&store) as Arc<dyn InstallationStore>)
                .exchange_limit(1_000_000, 1_000_000)
                .build()
                .unwrap();
            (installer, store, peer)
        });
        Flow {
            rt,
            installer,
            store,
            peer,
            sealer,
        }
    }

    fn onboarding(&self, uri: &Uri, headers: &HeaderMap) -> Response<String> {
        self.rt.block_on(self.installer.onboarding(uri, headers))
    }

    fn callback(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response<String> {
        self.rt
            .block_on(self.installer.callback(method, uri, headers))
    }

    /// Begins a flow on `site` as the tile would: its state and its cookie.
    fn begin(&self, site: &str) -> Begun {
        let query = format!("site={}", encode(site));
        let response = self.onboarding(&uri(ONBOARDING, &query).unwrap(), &HeaderMap::new());
        assert_eq!(response.status(), 302, "{}", response.body());
        let location = url::Url::parse(response.headers()[header::LOCATION].to_str().unwrap())
            .expect("an absolute authorize URL");
        let state = location
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("a state");
        let cookie = set_cookies(&response).pop().expect("a flow cookie");
        Begun {
            state,
            cookie: (cookie.name().to_owned(), cookie.value().to_owned()),
        }
    }

    fn assert_nothing_stored(&self) {
        let stored = self.rt.block_on(self.store.list()).unwrap();
        assert!(stored.is_empty(), "{stored:?}");
    }
}

struct Begun {
    state: String,
    cookie: (String, String),
}

/// The flow cookie's name for `state`, as the installer derives it.
fn cookie_name(state: &str) -> String {
    let tag: String = state
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect();
    format!("__Host-ddflow-{tag}")
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `path?query` as a request target: bytes a query cannot carry (RFC 3986) are percent-encoded,
/// the rest (`%` garbage included) kept as generated; past 20,000 bytes (far past the
/// installer's limit) the query is cut, so that the target stays within what `http` takes.
/// `None` if `http` still refuses it.
fn uri(path: &str, query: &str) -> Option<Uri> {
    let mut end = query.len().min(20_000);
    while !query.is_char_boundary(end) {
        end -= 1;
    }
    let mut target = format!("{path}?");
    for b in query[..end].bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
            target.push(char::from(b));
        } else {
            target.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::try_from(target).ok()
}

fn set_cookies(response: &Response<String>) -> Vec<cookie::Cookie<'static>> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| cookie::Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
        .collect()
}

/// What every response of the flow must be, whatever the request.
fn check_page(response: &Response<String>) -> Result<(), TestCaseError> {
    let body = response.body();
    prop_assert!(!body.contains(CONNECTED), "{body}");
    let foreign = foreign_markup(body);
    prop_assert!(foreign.is_empty(), "markup from input: {foreign:?}");
    prop_assert!(!body.to_ascii_lowercase().contains("<script"), "{body}");
    let headers = response.headers();
    prop_assert_eq!(&headers[header::CACHE_CONTROL], "no-store");
    prop_assert_eq!(&headers[header::REFERRER_POLICY], "no-referrer");
    prop_assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Query strings

/// How one parameter is written into the query.
#[derive(Clone, Debug)]
enum Written {
    /// `key=value`, both form-encoded.
    Encoded,
    /// `key=value` as generated: `&`, `=`, `%` and `+` in them change the query's shape.
    Raw,
    /// `key` alone.
    Bare,
    /// `key=value` encoded, then percent-encoding garbage.
    Garbled(&'static str),
}

#[derive(Clone, Debug)]
struct Param {
    key: String,
    value: String,
    written: Written,
}

fn written() -> impl Strategy<Value = Written> + Clone {
    prop_oneof![
        6 => Just(Written::Encoded),
        2 => Just(Written::Raw),
        1 => Just(Written::Bare),
        1 => select(&["%", "%z", "%zz", "%0", "%e2%82", "%ff%fe", "%00", "%%41"][..])
            .prop_map(Written::Garbled),
    ]
}

fn query_text(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| match p.written {
            Written::Encoded => format!("{}={}", encode(&p.key), encode(&p.value)),
            Written::Raw => format!("{}={}", p.key, p.value),
            Written::Bare => encode(&p.key),
            Written::Garbled(garbage) => {
                format!("{}={}{garbage}", encode(&p.key), encode(&p.value))
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A value for `key`: what Datadog would send there, what an attacker would, or anything.
fn value_for(key: &str) -> BoxedStrategy<String> {
    let domains: Vec<&'static str> = Domain::ALL.iter().map(|d| d.as_str()).collect();
    // Mostly short, so that most queries stay under the installer's limit and are read.
    let hostile = prop_oneof![
        40 => short_hostile_text(),
        1 => hostile_text(),
        1 => (9_000usize..9_200).prop_map(|n| "v".repeat(n)),
    ];
    match key {
        "site" => prop_oneof![2 => valid_site(), 3 => site_input(), 1 => hostile].boxed(),
        "domain" => prop_oneof![2 => select(domains).prop_map(str::to_owned), 1 => site_input(), 1 => hostile]
            .boxed(),
        "error" => prop_oneof![
            2 => select(&["access_denied", "server_error", "invalid_scope", ""][..]).prop_map(str::to_owned),
            1 => hostile,
        ]
        .boxed(),
        "state" => prop_oneof![2 => "[A-Za-z0-9_-]{43}", 1 => hostile].boxed(),
        _ => hostile.boxed(),
    }
}

/// Parameters named from `names` (or anything), each with a value that suits its name;
/// usually a few, sometimes past 64.
fn params(names: &'static [&'static str]) -> impl Strategy<Value = Vec<Param>> {
    let key = prop_oneof![
        6 => select(names).prop_map(str::to_owned),
        1 => hostile_text(),
        1 => select(&["Code", "STATE", "code ", " state", "code\u{0}", "state[]", "c%6fde"][..])
            .prop_map(str::to_owned),
    ];
    let param = (key, written()).prop_flat_map(|(key, written)| {
        value_for(&key).prop_map(move |value| Param {
            key: key.clone(),
            value,
            written: written.clone(),
        })
    });
    prop_oneof![
        8 => vec(param.clone(), 0..8),
        1 => vec(param, 60..90),
    ]
}

/// The first non-empty value of `key`, as the installer reads it (a repeat is ignored here).
fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn pairs_of(uri: &Uri) -> Vec<(String, String)> {
    let query = uri.query().unwrap_or("");
    if query.len() > MAX_QUERY {
        return Vec::new();
    }
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Cookies

/// A flow state as the installer seals it, with fields an attacker who held the key could set.
#[derive(Clone, Debug)]
struct ForgedFlow {
    /// Whether its state is the callback's.
    matching_state: bool,
    other_state: String,
    verifier: String,
    site: String,
    expires_in: i64,
    /// Marked as the ended form of a flow.
    finished: bool,
    /// A JSON body that is not a flow state at all.
    junk: Option<String>,
}

/// A forged flow state; the larger `sound`, the likelier each field is what the installer
/// would have sealed.
fn forged_flow(sound: u32) -> impl Strategy<Value = ForgedFlow> {
    (
        prop_oneof![sound => Just(true), 1 => Just(false)],
        "[A-Za-z0-9_-]{0,43}",
        prop_oneof![sound => "[A-Za-z0-9._~-]{43,128}", 1 => any_text(20)],
        prop_oneof![
            sound => select(&["app.datadoghq.com", "acme.datadoghq.eu", "us3.datadoghq.com"][..])
                .prop_map(str::to_owned),
            1 => site_input(),
        ],
        prop_oneof![
            3 * sound => 60i64..600,
            1 => -100_000i64..0,
            1 => any::<i64>(),
        ],
        prop_oneof![sound => Just(false), 1 => Just(true)],
        proptest::option::weighted(
            1.0 / f64::from(sound + 4),
            prop_oneof![
                Just("[]".to_owned()),
                Just("{}".to_owned()),
                Just("null".to_owned()),
                Just(r#"{"state":1,"verifier":[],"site":{},"expires":-1}"#.to_owned()),
                any_text(30),
            ],
        ),
    )
        .prop_map(
            |(matching_state, other_state, verifier, site, expires_in, finished, junk)| {
                ForgedFlow {
                    matching_state,
                    other_state,
                    verifier,
                    site,
                    expires_in,
                    finished,
                    junk,
                }
            },
        )
}

/// A cookie's value.
#[derive(Clone, Debug)]
enum Value {
    Text(String),
    /// Sealed under a key the installer does not have (same id).
    SealedByStranger(ForgedFlow),
    /// Sealed with the installer's key: the one case where a token request may be made.
    SealedWithTheKey(ForgedFlow),
}

/// A cookie's name.
#[derive(Clone, Debug)]
enum Name {
    /// The one the installer derives from the callback's `state`.
    OfState,
    /// The same without the `__Host-` prefix.
    Unprefixed,
    Text(String),
}

#[derive(Clone, Debug)]
struct Cookies {
    pairs: Vec<(Name, Value)>,
    /// A whole `Cookie` header of anything.
    raw: Option<String>,
}

fn cookies() -> impl Strategy<Value = Cookies> {
    let name = prop_oneof![
        3 => Just(Name::OfState),
        1 => Just(Name::Unprefixed),
        1 => prop_oneof!["[A-Za-z0-9_-]{1,20}", hostile_text()].prop_map(Name::Text),
    ];
    let value = prop_oneof![
        3 => prop_oneof![
            Just("not-a-sealed-flow".to_owned()),
            "v1\\.fuzz\\.[A-Za-z0-9_-]{0,80}",
            hostile_text(),
        ]
        .prop_map(Value::Text),
        1 => forged_flow(1).prop_map(Value::SealedByStranger),
        1 => forged_flow(1).prop_map(Value::SealedWithTheKey),
    ];
    (
        vec((name, value), 0..3),
        proptest::option::weighted(0.2, any_text(80)),
    )
        .prop_map(|(pairs, raw)| Cookies { pairs, raw })
}

impl Cookies {
    fn sealed_with_the_key(&self) -> bool {
        self.pairs
            .iter()
            .any(|(_, v)| matches!(v, Value::SealedWithTheKey(_)))
    }

    /// The `Cookie` headers for a callback whose `state` is `state`.
    fn headers(&self, state: Option<&str>, flow: &Flow, stranger: &Sealer) -> HeaderMap {
        let of_state = cookie_name(state.unwrap_or(""));
        let mut parts = Vec::new();
        for (name, value) in &self.pairs {
            let name = match name {
                Name::OfState => of_state.clone(),
                Name::Unprefixed => of_state.trim_start_matches("__Host-").to_owned(),
                Name::Text(text) => text.clone(),
            };
            let value = match value {
                Value::Text(text) => text.clone(),
                Value::SealedByStranger(f) => stranger.seal(&name, &f.plaintext(state)),
                Value::SealedWithTheKey(f) => flow.sealer.seal(&name, &f.plaintext(state)),
            };
            parts.push(format!("{name}={value}"));
        }
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&parts.join("; ")) {
            headers.append(header::COOKIE, value);
        }
        if let Some(raw) = &self.raw
            && let Ok(value) = HeaderValue::from_bytes(raw.as_bytes())
        {
            headers.append(header::COOKIE, value);
        }
        headers
    }
}

impl ForgedFlow {
    fn plaintext(&self, state: Option<&str>) -> Vec<u8> {
        if let Some(junk) = &self.junk {
            return junk.clone().into_bytes();
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let expires = now.saturating_add_signed(self.expires_in);
        let state = match (self.matching_state, state) {
            (true, Some(state)) => state.to_owned(),
            _ => self.other_state.clone(),
        };
        serde_json::to_vec(&json!({
            "state": state,
            "verifier": self.verifier,
            "site": self.site,
            "account": null,
            "expires": expires,
            "finished": self.finished,
        }))
        .unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Properties

#[test]
fn arbitrary_onboarding_requests_never_panic_and_begin_only_flows_to_datadog() {
    let flow = Flow::new();
    let (stranger_key, _) = SealingKey::generate("fuzz").unwrap();
    let stranger = Sealer::new(stranger_key);
    let strategy = (params(&["site", "domain", "x"]), cookies());
    let tally = Tally::default();
    TestRunner::new(config(256))
        .run(&strategy, |(params, cookies)| {
            let Some(uri) = uri(ONBOARDING, &query_text(&params)) else {
                tally.add("not a request target");
                return Ok(());
            };
            let headers = cookies.headers(None, &flow, &stranger);
            let requests = flow.peer.requests();
            let response = flow.onboarding(&uri, &headers);
            check_page(&response)?;
            prop_assert_eq!(flow.peer.requests(), requests, "onboarding calls nobody");

            let pairs = pairs_of(&uri);
            let expected = match (first(&pairs, "site"), first(&pairs, "domain")) {
                (None, None) => None,
                (Some(site), domain) => match Site::parse(site) {
                    Ok(parsed)
                        if domain
                            .is_none_or(|d| Domain::parse(d).ok() == Some(parsed.domain())) =>
                    {
                        Some(Some(parsed))
                    }
                    _ => Some(None),
                },
                (None, Some(domain)) => Some(Domain::parse(domain).ok().map(Site::of)),
            };
            match expected {
                // Neither parameter: the site picker.
                None => {
                    tally.add("site picker");
                    prop_assert_eq!(response.status(), 200);
                    prop_assert!(response.body().contains("Which Datadog site"));
                    prop_assert!(set_cookies(&response).is_empty());
                }
                // Refused.
                Some(None) => {
                    tally.add("refused");
                    prop_assert_eq!(response.status(), 400, "{}", response.body());
                    prop_assert!(set_cookies(&response).is_empty());
                }
                // A flow, to the site's authorize page, with a sealed cookie.
                Some(Some(site)) => {
                    tally.add("flow begun");
                    let host = site.authorize_host();
                    prop_assert_eq!(response.status(), 302, "{}", response.body());
                    let location = response.headers()[header::LOCATION].to_str().unwrap();
                    let location = url::Url::parse(location).unwrap();
                    let mut segments = location.path_segments().unwrap();
                    prop_assert_eq!(segments.next(), Some(host.as_str()));
                    prop_assert_eq!(
                        segments.collect::<Vec<_>>(),
                        vec!["oauth2", "v1", "authorize"]
                    );
                    prop_assert!(location.as_str().starts_with(&flow.peer.base));
                    let query: Vec<(String, String)> = location
                        .query_pairs()
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    prop_assert_eq!(first(&query, "client_id"), Some("fuzz-client"));
                    prop_assert_eq!(first(&query, "redirect_uri"), Some(FLOW.redirect_uris[0]));
                    let state = first(&query, "state").unwrap();
                    let cookies = set_cookies(&response);
                    prop_assert_eq!(cookies.len(), 1);
                    let cookie = &cookies[0];
                    prop_assert_eq!(cookie.name(), cookie_name(state));
                    prop_assert_eq!(cookie.http_only(), Some(true));
                    prop_assert_eq!(cookie.secure(), Some(true));
                    prop_assert_eq!(cookie.same_site(), Some(cookie::SameSite::Lax));
                    prop_assert_eq!(cookie.path(), Some("/"));
                    let opened = flow.sealer.open(cookie.name(), cookie.value()).unwrap();
                    let sealed: serde_json::Value = serde_json::from_slice(&opened).unwrap();
                    prop_assert_eq!(sealed["state"].as_str(), Some(state));
                    prop_assert_eq!(sealed["site"].as_str(), Some(host.as_str()));
                }
            }
            Ok(())
        })
        .unwrap();
    flow.assert_nothing_stored();
    tally.assert_reached("onboarding", &["site picker", "refused", "flow begun"]);
    assert!(tally.get("not a request target") < 64);
}

/// Which method the callback is loaded with.
fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        8 => Just(Method::GET),
        1 => Just(Method::HEAD),
        1 => Just(Method::POST),
    ]
}

/// What every callback response must be: besides [`check_page`], a failure page (or the
/// "declined" page); and the only cookies set are a flow's deletion, or its ended form (sealed,
/// marked finished, without the verifier), `HttpOnly` and `Secure`.
fn check_callback(
    flow: &Flow,
    method: &Method,
    response: &Response<String>,
) -> Result<(), TestCaseError> {
    check_page(response)?;
    let status = response.status().as_u16();
    if method == Method::HEAD {
        prop_assert_eq!(status, 200);
        prop_assert!(response.body().is_empty());
        return Ok(());
    }
    prop_assert!(
        [200, 400, 502, 503].contains(&status),
        "{status}: {}",
        response.body()
    );
    if status == 200 {
        prop_assert!(
            response.body().contains("Fuzz Flow was not connected"),
            "{}",
            response.body()
        );
    }
    for cookie in set_cookies(response) {
        prop_assert!(cookie.name().starts_with("__Host-ddflow-"), "{cookie}");
        prop_assert_eq!(cookie.http_only(), Some(true));
        prop_assert_eq!(cookie.secure(), Some(true));
        if cookie.value().is_empty() {
            prop_assert_eq!(cookie.max_age(), Some(cookie::time::Duration::ZERO));
            continue;
        }
        let opened = flow.sealer.open(cookie.name(), cookie.value());
        prop_assert!(opened.is_ok(), "a cookie that does not open: {cookie}");
        let ended: serde_json::Value = serde_json::from_slice(&opened.unwrap()).unwrap();
        prop_assert_eq!(&ended["finished"], &json!(true), "{}", ended);
        prop_assert_eq!(&ended["verifier"], &json!(""), "{}", ended);
    }
    Ok(())
}

#[test]
fn arbitrary_callbacks_never_panic_never_connect_and_exchange_only_a_sealed_flow() {
    let flow = Flow::new();
    let (stranger_key, _) = SealingKey::generate("fuzz").unwrap();
    let stranger = Sealer::new(stranger_key);
    let strategy = (
        method(),
        params(&[
            "code",
            "state",
            "domain",
            "error",
            "error_description",
            "dd_oid",
            "dd_org_name",
            "site",
        ]),
        cookies(),
    );
    let tally = Tally::default();
    TestRunner::new(config(256))
        .run(&strategy, |(method, params, cookies)| {
            let Some(uri) = uri(CALLBACK, &query_text(&params)) else {
                tally.add("not a request target");
                return Ok(());
            };
            let pairs = pairs_of(&uri);
            let headers = cookies.headers(first(&pairs, "state"), &flow, &stranger);
            let requests = flow.peer.requests();
            let response = flow.callback(&method, &uri, &headers);
            check_callback(&flow, &method, &response)?;
            let made = flow.peer.requests() - requests;
            prop_assert!(made <= 1, "{made} token requests");
            if made == 1 {
                tally.add("token request");
                prop_assert!(
                    cookies.sealed_with_the_key(),
                    "a token request without a sealed flow: {uri}"
                );
            }
            tally.add(match response.status().as_u16() {
                200 => "200",
                400 => "400",
                502 => "502",
                503 => "503",
                _ => "other",
            });
            Ok(())
        })
        .unwrap();
    flow.assert_nothing_stored();
    tally.assert_reached("callback", &["200", "400"]);
    assert!(tally.get("not a request target") < 64);
}

/// A flow sealed with the installer's key (as only the installer can) but holding anything: it
/// reaches the token endpoint exactly when every field the callback checks is sound.
#[test]
fn flows_sealed_with_the_key_reach_datadog_only_when_sound() {
    let flow = Flow::new();
    let domains: Vec<&'static str> = Domain::ALL.iter().map(|d| d.as_str()).collect();
    let strategy = (
        "[A-Za-z0-9_-]{20,43}",
        prop_oneof![4 => "[A-Za-z0-9_-]{1,20}", 1 => short_hostile_text()],
        proptest::option::of(prop_oneof![
            select(domains).prop_map(str::to_owned),
            site_input(),
        ]),
        forged_flow(4),
    );
    let tally = Tally::default();
    // Each case's flow is new to the store (a shrunk case repeats its state otherwise).
    let cases = std::cell::Cell::new(0usize);
    TestRunner::new(config(192))
        .run(&strategy, |(state, code, domain, forged)| {
            cases.set(cases.get() + 1);
            let state = format!("{state}{}", cases.get());
            let mut query = format!("state={}&code={}", encode(&state), encode(&code));
            if let Some(domain) = &domain {
                query.push_str(&format!("&domain={}", encode(domain)));
            }
            let uri = uri(CALLBACK, &query).unwrap();
            let name = cookie_name(&state);
            let sealed = flow.sealer.seal(&name, &forged.plaintext(Some(&state)));
            let requests = flow.peer.requests();
            let response = flow.callback(&Method::GET, &uri, &with_cookie(&name, &sealed));
            check_callback(&flow, &Method::GET, &response)?;
            let made = flow.peer.requests() - requests;
            let site = Site::parse(&forged.site).ok();
            let sound = !code.is_empty()
                && forged.junk.is_none()
                && !forged.finished
                && (forged.matching_state || forged.other_state == state)
                && forged.expires_in > 0
                && crate::pkce::PkceVerifier::from_string(forged.verifier.clone()).is_ok()
                && site.as_ref().is_some_and(|site| {
                    domain
                        .as_deref()
                        .filter(|d| !d.is_empty())
                        .is_none_or(|d| Domain::parse(d).ok() == Some(site.domain()))
                });
            tally.add(if sound { "sound" } else { "unsound" });
            prop_assert_eq!(made, usize::from(sound), "{:?} {}", forged, response.body());
            if sound {
                prop_assert_eq!(response.status(), 502, "{}", response.body());
            }
            Ok(())
        })
        .unwrap();
    flow.assert_nothing_stored();
    tally.assert_reached("sealed flows", &["sound", "unsound"]);
}

/// How the callback of a real flow is tampered with.
#[derive(Clone, Debug)]
enum StateIs {
    Real,
    Missing,
    Other(String),
    /// The real one, then another (a repeat).
    Repeated(String),
}

#[derive(Clone, Debug)]
enum CookieIs {
    Real,
    Missing,
    /// The real value under the unprefixed name.
    Unprefixed,
    /// The real value, beside junk cookies of the same name.
    AmongJunk(Vec<String>),
}

#[derive(Clone, Debug)]
struct Tampered {
    method: Method,
    site: &'static str,
    state: StateIs,
    code: Option<String>,
    domain: Option<String>,
    extra: Vec<Param>,
    cookie: CookieIs,
}

fn tampered() -> impl Strategy<Value = Tampered> {
    let domains: Vec<&'static str> = Domain::ALL.iter().map(|d| d.as_str()).collect();
    (
        method(),
        select(
            &[
                "app.datadoghq.com",
                "https://acme.datadoghq.eu",
                "us3.datadoghq.com",
                "ddog-gov.com",
            ][..],
        ),
        prop_oneof![
            4 => Just(StateIs::Real),
            1 => Just(StateIs::Missing),
            1 => prop_oneof!["[A-Za-z0-9_-]{43}", hostile_text()].prop_map(StateIs::Other),
            1 => "[A-Za-z0-9_-]{0,43}".prop_map(StateIs::Repeated),
        ],
        proptest::option::weighted(0.9, hostile_text()),
        proptest::option::of(prop_oneof![
            select(domains).prop_map(str::to_owned),
            site_input(),
        ]),
        prop_oneof![
            4 => Just(Vec::new()),
            1 => params(&["dd_oid", "dd_org_name", "error", "error_description", "code", "x"]),
        ],
        prop_oneof![
            4 => Just(CookieIs::Real),
            1 => Just(CookieIs::Missing),
            1 => Just(CookieIs::Unprefixed),
            1 => vec(prop_oneof![Just("not-a-sealed-flow".to_owned()), hostile_text()], 1..3)
                .prop_map(CookieIs::AmongJunk),
        ],
    )
        .prop_map(
            |(method, site, state, code, domain, extra, cookie)| Tampered {
                method,
                site,
                state,
                code,
                domain,
                extra,
                cookie,
            },
        )
}

#[test]
fn tampered_callbacks_of_real_flows_never_panic_or_connect() {
    let flow = Flow::new();
    let tally = Tally::default();
    TestRunner::new(config(192))
        .run(&tampered(), |case| {
            let begun = flow.begin(case.site);
            let mut params = Vec::new();
            let mut push = |key: &str, value: &str| {
                params.push(Param {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    written: Written::Encoded,
                });
            };
            match &case.state {
                StateIs::Real => push("state", &begun.state),
                StateIs::Missing => {}
                StateIs::Other(s) => push("state", s),
                StateIs::Repeated(s) => {
                    push("state", &begun.state);
                    push("state", s);
                }
            }
            if let Some(code) = &case.code {
                push("code", code);
            }
            if let Some(domain) = &case.domain {
                push("domain", domain);
            }
            params.extend(case.extra.iter().cloned());
            let Some(uri) = uri(CALLBACK, &query_text(&params)) else {
                return Ok(());
            };
            let (name, value) = &begun.cookie;
            let header = match &case.cookie {
                CookieIs::Real => Some(format!("{name}={value}")),
                CookieIs::Missing => None,
                CookieIs::Unprefixed => {
                    Some(format!("{}={value}", name.trim_start_matches("__Host-")))
                }
                CookieIs::AmongJunk(junk) => {
                    let mut parts: Vec<String> =
                        junk.iter().map(|j| format!("{name}={j}")).collect();
                    parts.push(format!("{name}={value}"));
                    Some(parts.join("; "))
                }
            };
            let mut headers = HeaderMap::new();
            if let Some(value) = header.and_then(|h| HeaderValue::from_str(&h).ok()) {
                headers.insert(header::COOKIE, value);
            }
            let requests = flow.peer.requests();
            let response = flow.callback(&case.method, &uri, &headers);
            check_callback(&flow, &case.method, &response)?;
            let made = flow.peer.requests() - requests;
            prop_assert!(made <= 1);
            tally.add(if made == 1 {
                "token request"
            } else {
                "refused before"
            });
            if made == 1 {
                // Only the real state with the real cookie reaches the token endpoint.
                prop_assert!(matches!(case.state, StateIs::Real), "{case:?}");
                prop_assert!(matches!(case.cookie, CookieIs::Real), "{case:?}");
            }
            // A reload with whatever cookie the callback left (an ended flow's) spends nothing
            // more.
            for cookie in set_cookies(&response) {
                if cookie.value().is_empty() {
                    continue;
                }
                tally.add("reload");
                let requests = flow.peer.requests();
                let again = flow.callback(
                    &case.method,
                    &uri,
                    &with_cookie(cookie.name(), cookie.value()),
                );
                check_callback(&flow, &case.method, &again)?;
                prop_assert_eq!(flow.peer.requests(), requests, "a reload spent a code");
            }
            Ok(())
        })
        .unwrap();
    flow.assert_nothing_stored();
    tally.assert_reached("tampered callback", &["token request", "refused before"]);
}

// ---------------------------------------------------------------------------------------------
// Regression seeds

fn with_cookie(name: &str, value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::COOKIE,
        HeaderValue::from_str(&format!("{name}={value}")).unwrap(),
    );
    headers
}

/// The review's finding: parameters past the 64th were not read, so a second `code` after 70
/// junk parameters was not seen as a repeat.
#[test]
fn a_second_code_after_seventy_parameters_is_a_repeat() {
    let flow = Flow::new();
    let begun = flow.begin("app.datadoghq.com");
    let mut query = format!("code=first&state={}", encode(&begun.state));
    for i in 0..70 {
        query.push_str(&format!("&pad{i}=x"));
    }
    query.push_str("&code=second");
    let (name, value) = &begun.cookie;
    let response = flow.callback(
        &Method::GET,
        &uri(CALLBACK, &query).unwrap(),
        &with_cookie(name, value),
    );
    assert_eq!(response.status(), 400, "{}", response.body());
    assert!(response.body().contains("repeated"), "{}", response.body());
    assert_eq!(flow.peer.requests(), 0, "no token request for it");
    // The flow was not consumed: the callback without the repeat still reaches Datadog.
    let query = format!("code=first&state={}", encode(&begun.state));
    let response = flow.callback(
        &Method::GET,
        &uri(CALLBACK, &query).unwrap(),
        &with_cookie(name, value),
    );
    assert_eq!(flow.peer.requests(), 1);
    assert_eq!(response.status(), 502, "the peer refuses every code");
    assert!(!response.body().contains(CONNECTED));
}

/// The review's finding: a junk cookie under the flow's name was a reason to report a failure.
#[test]
fn a_cookie_that_is_not_a_sealed_flow_is_refused_quietly() {
    let flow = Flow::new();
    let state = "AAAAAAAAAAAAAAAAAAAA";
    let response = flow.callback(
        &Method::GET,
        &uri(CALLBACK, &format!("code=x&state={state}")).unwrap(),
        &with_cookie(&cookie_name(state), "not-a-sealed-flow"),
    );
    assert_eq!(response.status(), 400, "{}", response.body());
    assert!(set_cookies(&response).is_empty(), "the flow is not ended");
    assert_eq!(flow.peer.requests(), 0);
}

#[test]
fn a_query_past_the_limit_is_refused_whole() {
    let flow = Flow::new();
    let begun = flow.begin("app.datadoghq.com");
    let query = format!(
        "code=x&state={}&pad={}",
        encode(&begun.state),
        "x".repeat(MAX_QUERY)
    );
    let (name, value) = &begun.cookie;
    let response = flow.callback(
        &Method::GET,
        &uri(CALLBACK, &query).unwrap(),
        &with_cookie(name, value),
    );
    assert_eq!(response.status(), 400);
    assert!(response.body().contains("too long"), "{}", response.body());
    assert_eq!(flow.peer.requests(), 0);
}

/// Markup in every parameter a page can quote comes back escaped.
#[test]
fn markup_in_parameters_is_escaped_on_every_page() {
    let flow = Flow::new();
    let begun = flow.begin("app.datadoghq.com");
    let (name, value) = &begun.cookie;
    let script = "<script>alert(1)</script>";
    for (path, query, cookie) in [
        (ONBOARDING, format!("site={}", encode(script)), false),
        (
            ONBOARDING,
            format!("site=app.datadoghq.com&domain={}", encode(script)),
            false,
        ),
        (CALLBACK, format!("error={}", encode(script)), false),
        (
            CALLBACK,
            format!(
                "error={}&error_description={}&state={}",
                encode(script),
                encode(script),
                encode(&begun.state)
            ),
            true,
        ),
        (
            CALLBACK,
            format!(
                "code=x&state={}&domain={}",
                encode(&begun.state),
                encode(script)
            ),
            true,
        ),
    ] {
        let headers = if cookie {
            with_cookie(name, value)
        } else {
            HeaderMap::new()
        };
        let uri = uri(path, &query).unwrap();
        let response = if path == ONBOARDING {
            flow.onboarding(&uri, &headers)
        } else {
            flow.callback(&Method::GET, &uri, &headers)
        };
        assert_eq!(response.status(), 400, "{query}: {}", response.body());
        assert!(
            foreign_markup(response.body()).is_empty(),
            "{query}: {}",
            response.body()
        );
        assert!(response.body().contains("&lt;script&gt;"), "{query}");
    }
}
