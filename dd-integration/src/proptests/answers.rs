//! Datadog's answers: token responses, the marketplace key and its validation, the users list
//! an org is confirmed from, API responses and every error body, and the text helpers that make
//! them safe to show (`redact_tokens`, `quoted`).
//!
//! `TokenGrant::parse` is private to `oauth`; it is reached here the way Datadog reaches it,
//! through `OAuthClient::refresh` and `exchange_code` against a loopback peer that answers with
//! the generated body. Nothing panics; what is accepted is what the answer said; and no error,
//! in its message or its `Debug`, shows a secret the answer carried.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};

use super::{Answer, Peer, Tally, any_text, config, hostile_text, replace_at, runtime};
use crate::api::v1;
use crate::client::{AccessTokenSource, ApiClient, ApiError, ApiSettings};
use crate::error::{Operation, quoted, redact_tokens};
use crate::installation::{Installation, InstallationId, InstallationStatus};
use crate::integration::{DatadogIntegration, IntegrationSpec};
use crate::oauth::org_of_users;
use crate::oauth::{OAuthClient, error_from_reply};
use crate::pkce::PkceVerifier;
use crate::scope::{HasScope, Scope, ScopeSet, markers};
use crate::secret::{AccessToken, ApiKey, ClientSecret, RefreshToken};
use crate::site::{Domain, Site};
use crate::tokens::TokenError;
use crate::transport::{DatadogHttp, HttpConfig, Reply};
use crate::{Endpoints, Error};

/// A secret an answer may carry (a token, a code, a key): token-shaped, and recognizable.
fn secret() -> impl Strategy<Value = String> + Clone {
    "SECRET[A-Za-z0-9]{20,30}"
}

/// Whether `shown` carries any of `secrets`.
fn leaks(shown: &str, secrets: &[String]) -> Option<String> {
    secrets.iter().find(|s| shown.contains(s.as_str())).cloned()
}

/// An error as a person or a log would see it: its message and its `Debug`.
fn shown(error: &impl std::fmt::Debug, display: &impl std::fmt::Display) -> String {
    format!("{display} {error:?}")
}

fn json_leaf() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any_text(16).prop_map(Value::from),
    ]
}

fn json_tree() -> impl Strategy<Value = Value> + Clone {
    json_leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((any_text(8), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A body that is not what the endpoint documents: anything, or JSON of another shape.
fn junk_body() -> impl Strategy<Value = Vec<u8>> + Clone {
    prop_oneof![
        vec(any::<u8>(), 0..64),
        hostile_text().prop_map(String::into_bytes),
        json_tree().prop_map(|v| v.to_string().into_bytes()),
        select(
            &[
                "",
                "null",
                "[]",
                "{}",
                "\"x\"",
                "{\"data\":null}",
                "<html></html>"
            ][..]
        )
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

// ---------------------------------------------------------------------------------------------
// redact_tokens and quoted

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~+/=".contains(c)
}

/// The longest run of token characters in `text`.
fn longest_run(text: &str) -> usize {
    text.split(|c: char| !is_token_char(c))
        .map(str::len)
        .max()
        .unwrap_or(0)
}

fn text_with_tokens() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => any_text(8),
        2 => "[A-Za-z0-9._~+/=-]{1,40}",
        1 => secret(),
        1 => select(&[" ", ": ", "\n", "\"", "é", "[redacted]", "_", "\u{0}"][..])
            .prop_map(str::to_owned),
    ];
    vec(piece, 0..10).prop_map(|p| p.concat())
}

#[test]
fn redact_tokens_leaves_no_token_shaped_run_and_changes_nothing_else() {
    TestRunner::new(config(1024))
        .run(&text_with_tokens(), |text| {
            let redacted = redact_tokens(&text);
            prop_assert!(longest_run(&redacted) < 20, "{text:?} -> {redacted:?}");
            if longest_run(&text) < 20 {
                prop_assert_eq!(&redacted, &text);
            }
            // Only runs are replaced: the rest is kept, in order.
            let others = |s: &str| s.chars().filter(|c| !is_token_char(*c)).collect::<String>();
            prop_assert_eq!(
                others(&redacted).replace("[]", ""),
                others(&text).replace("[]", "")
            );
            prop_assert_eq!(redact_tokens(&redacted), redacted.clone(), "idempotent");
            Ok(())
        })
        .unwrap();
}

/// The text `quoted` escaped, read back.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'n' => out.push('\n'),
            c @ ('\\' | '\'' | '"') => out.push(c),
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[test]
fn quoted_is_printable_bounded_and_reads_back_as_the_input() {
    let strategy = prop_oneof![
        4 => any_text(40),
        1 => hostile_text(),
        1 => (195usize..210).prop_map(|n| "é\u{1b}".repeat(n / 2)),
    ];
    TestRunner::new(config(1024))
        .run(&strategy, |text| {
            let q = quoted(&text);
            prop_assert!(!q.chars().any(char::is_control), "{q:?}");
            let long = text.chars().count() > 200;
            let cut = q.ends_with('…');
            prop_assert!(cut || !long, "{q:?}");
            let body = q.strip_suffix('…').filter(|_| cut).unwrap_or(&q);
            prop_assert!(body.is_ascii(), "{q:?}");
            // Bounded whatever the escapes cost (the soak found 200 U+FFFD quoted in 1,600).
            prop_assert!(body.len() <= 400, "{}", body.len());
            let head: String = text.chars().take(200).collect();
            let back = unescape(body);
            prop_assert!(back.is_some(), "{q:?}");
            let back = back.unwrap_or_default();
            if cut {
                prop_assert!(head.starts_with(&back), "{q:?}");
            } else {
                prop_assert_eq!(back, head);
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The users list an org is confirmed from

#[derive(Clone, Debug)]
enum OrgRef {
    Missing,
    NullRelationships,
    NullOrg,
    NullData,
    Id {
        id: String,
        kind: Option<&'static str>,
    },
}

fn org_id() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => select(&["o-1", "o-2", "00000000-0000-0000-0000-000000000001"][..]).prop_map(str::to_owned),
        1 => Just(String::new()),
        1 => (250usize..262).prop_map(|n| "o".repeat(n)),
        1 => Just("o-1\n".to_owned()),
        1 => any_text(8),
    ]
}

fn org_ref() -> impl Strategy<Value = OrgRef> {
    prop_oneof![
        1 => Just(OrgRef::Missing),
        1 => Just(OrgRef::NullRelationships),
        1 => Just(OrgRef::NullOrg),
        1 => Just(OrgRef::NullData),
        8 => (
            org_id(),
            select(&[None, Some("orgs"), Some("orgs"), Some("users"), Some("")][..]),
        )
            .prop_map(|(id, kind)| OrgRef::Id { id, kind }),
    ]
}

impl OrgRef {
    fn json(&self) -> Value {
        match self {
            OrgRef::Missing => json!({"type": "users", "id": "u"}),
            OrgRef::NullRelationships => json!({"relationships": null}),
            OrgRef::NullOrg => json!({"relationships": {"org": null}}),
            OrgRef::NullData => json!({"relationships": {"org": {"data": null}}}),
            OrgRef::Id { id, kind } => {
                let mut data = json!({ "id": id });
                if let Some(kind) = kind {
                    data["type"] = json!(kind);
                }
                json!({"type": "users", "relationships": {"org": {"data": data}, "roles": {"data": []}}})
            }
        }
    }

    /// The org this user names, as the documented rule reads it.
    fn names(&self) -> Option<&str> {
        match self {
            OrgRef::Id { id, kind }
                if kind.is_none_or(|k| k == "orgs")
                    && !id.is_empty()
                    && id.len() <= 256
                    && !id.chars().any(char::is_control) =>
            {
                Some(id)
            }
            _ => None,
        }
    }
}

#[test]
fn the_confirmed_org_is_the_one_every_user_names_whatever_else_the_answer_holds() {
    TestRunner::new(config(512))
        .run(&vec(org_ref(), 0..6), |users| {
            let body = json!({
                "data": users.iter().map(OrgRef::json).collect::<Vec<_>>(),
                "meta": {"page": {"total_count": users.len()}},
            });
            let named: std::collections::BTreeSet<&str> =
                users.iter().filter_map(OrgRef::names).collect();
            let expected = (named.len() == 1).then(|| named.first().unwrap().to_string());
            prop_assert_eq!(org_of_users(body.to_string().as_bytes()), expected);
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_users_answers_never_panic_and_confirm_only_a_named_org() {
    let mutated = (vec(org_ref(), 0..4), json_tree(), 0usize..7, any::<usize>()).prop_map(
        |(users, junk, depth, at)| {
            // A well-formed answer with one value replaced by junk.
            let mut body = json!({"data": users.iter().map(OrgRef::json).collect::<Vec<_>>()});
            replace_at(&mut body, depth, at, junk);
            body.to_string().into_bytes()
        },
    );
    let strategy = prop_oneof![2 => mutated, 1 => junk_body()];
    TestRunner::new(config(512))
        .run(&strategy, |body| {
            if let Some(org) = org_of_users(&body) {
                prop_assert!(!org.is_empty() && org.len() <= 256);
                prop_assert!(!org.chars().any(char::is_control));
                let text = String::from_utf8_lossy(&body);
                prop_assert!(text.contains(&serde_json::to_string(&org).unwrap()));
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Error bodies (`error_from_reply`)

const OPERATIONS: &[Operation] = &[
    Operation::ExchangeCode,
    Operation::Refresh,
    Operation::Revoke,
    Operation::CreateMarketplaceKey,
    Operation::ValidateApiKey,
    Operation::ConfirmOrg,
    Operation::Api,
];

/// An OAuth `error` code: what Datadog sends, and words (never token-shaped: see
/// `an_oauth_error_code_that_is_a_token_is_shown_whole`).
fn error_code() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        select(
            &[
                "invalid_grant",
                "invalid_client",
                "invalid_request",
                "unauthorized_client",
                "server_error",
                "",
            ][..]
        )
        .prop_map(str::to_owned),
        "[a-z_ ]{1,19}",
    ]
}

/// Free text around planted secrets, with Datadog's documented messages now and then.
fn text_around(secrets: Vec<String>) -> impl Strategy<Value = String> + Clone {
    let piece = prop_oneof![
        3 => hostile_text(),
        1 => select(secrets),
        1 => select(
            &[
                "Invalid client_id parameter value",
                "Mismatching redirect URI",
                "Invalid code or code verifier",
                "redirect_uri",
                "the redirection URI",
            ][..]
        )
        .prop_map(str::to_owned),
    ];
    vec(piece, 0..5).prop_map(|p| p.join(" "))
}

/// An error body carrying `secrets`: an OAuth error, Datadog's `errors` list, or text.
fn error_body(secrets: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
    let text = text_around(secrets);
    prop_oneof![
        3 => (error_code(), proptest::option::of(text.clone())).prop_map(|(error, description)| {
            let mut body = json!({ "error": error });
            if let Some(d) = description {
                body["error_description"] = json!(d);
            }
            body.to_string().into_bytes()
        }),
        2 => vec(text.clone(), 0..3).prop_map(|errors| json!({ "errors": errors }).to_string().into_bytes()),
        2 => text.prop_map(String::into_bytes),
        1 => junk_body(),
    ]
}

fn statuses() -> impl Strategy<Value = u16> + Clone {
    prop_oneof![
        4 => select(&[200u16, 201, 204, 301, 302, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503][..]),
        1 => 100u16..600,
    ]
}

/// The statuses the loopback peer can answer with a body (not 1xx, 204, 205 or 304).
fn peer_statuses() -> impl Strategy<Value = u16> + Clone {
    statuses().prop_filter("a status with a body", |s| {
        *s >= 200 && ![204, 205, 304].contains(s)
    })
}

/// Rate-limit headers: numbers, junk and names (never token-shaped: the name is shown).
fn rate_limit_headers() -> impl Strategy<Value = Vec<(String, String)>> + Clone {
    let value = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        "[0-9]{1,3}",
        "[ -~]{0,12}",
        Just("-1".to_owned()),
    ];
    vec(
        (
            select(
                &[
                    "x-ratelimit-limit",
                    "x-ratelimit-period",
                    "x-ratelimit-remaining",
                    "x-ratelimit-reset",
                    "x-ratelimit-name",
                ][..],
            ),
            value,
        )
            .prop_map(|(name, value)| (name.to_owned(), value.trim().to_owned())),
        0..4,
    )
}

#[test]
fn no_error_from_an_answer_shows_a_secret_the_answer_carried() {
    let strategy = vec(secret(), 1..3).prop_flat_map(|secrets| {
        (
            Just(secrets.clone()),
            select(OPERATIONS),
            statuses(),
            rate_limit_headers(),
            error_body(secrets),
        )
    });
    TestRunner::new(config(1024))
        .run(&strategy, |(secrets, operation, status, headers, body)| {
            let mut map = reqwest::header::HeaderMap::new();
            for (name, value) in &headers {
                if let Ok(value) = reqwest::header::HeaderValue::from_str(value) {
                    let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
                    map.append(name, value);
                }
            }
            let reply = Reply {
                status: reqwest::StatusCode::from_u16(status).unwrap(),
                headers: map,
                body,
            };
            let error = error_from_reply(operation, &reply);
            let text = shown(&error, &error);
            prop_assert!(leaks(&text, &secrets).is_none(), "{status}: {text}");
            prop_assert!(!error.to_string().chars().any(char::is_control), "{error}");
            prop_assert!(error.to_string().len() < 2_000);
            if (200..300).contains(&status) {
                prop_assert!(
                    matches!(error, Error::UnexpectedResponse { .. }),
                    "{error:?}"
                );
            }
            Ok(())
        })
        .unwrap();
}

/// The `error` field of an OAuth error body is quoted, not redacted: an answer that echoes a
/// token there has it shown whole in the message (and so in logs and on the failure page).
#[test]
fn an_oauth_error_code_that_is_a_token_is_shown_whole() {
    let token = "tok_0123456789abcdefABCDEF";
    let reply = Reply {
        status: reqwest::StatusCode::BAD_REQUEST,
        headers: reqwest::header::HeaderMap::new(),
        body: format!(r#"{{"error":"{token}"}}"#).into_bytes(),
    };
    let error = error_from_reply(Operation::Refresh, &reply);
    assert!(!error.to_string().contains(token), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Through a loopback peer: token, key and API answers

/// An OAuth client, an HTTP client and an API client of one installation, all sending
/// Datadog's hosts to `peer`.
struct Clients {
    oauth: OAuthClient,
    api: ApiClient<Reader>,
}

struct Reader;

impl DatadogIntegration for Reader {
    const SPEC: &'static IntegrationSpec = &IntegrationSpec {
        environments: &[],
        listing: crate::integration::Listing::DEFAULT,
        name: "Reader",
        app_id: "reader",
        scopes: &[Scope::MONITORS_READ],
        ..*crate::__private::INVALID_SPEC
    };
}

impl HasScope<markers::monitors_read> for Reader {}

struct FixedToken;

#[async_trait]
impl AccessTokenSource for FixedToken {
    async fn access_token(&self) -> Result<AccessToken, TokenError> {
        Ok(AccessToken::new("fuzz-access-token"))
    }

    fn invalidate(&self, _: &AccessToken) {}
}

impl Clients {
    fn new(peer: &Peer) -> Clients {
        let endpoints = Endpoints::override_base(&peer.base).unwrap();
        // Past the review's 1 MiB scope list, so that it is parsed rather than refused.
        let http = HttpConfig::default()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .max_response_bytes(4 << 20);
        let oauth = OAuthClient::builder(
            "fuzz-client",
            ClientSecret::new("fuzz-secret"),
            "https://fuzz.example/callback",
        )
        .endpoints(endpoints.clone())
        .http_config(http.clone())
        .build()
        .unwrap();
        let now = SystemTime::now();
        let installation = Installation {
            id: InstallationId::from_stored("inst_fuzz"),
            org_id: None,
            org_hint: None,
            org_name: None,
            site: Site::of(Domain::Eu1),
            domain: Domain::Eu1,
            granted_scopes: ScopeSet::from([Scope::MONITORS_READ]),
            access_token: AccessToken::new("fuzz-access-token"),
            access_token_expires_at: now + Duration::from_secs(3600),
            refresh_token: RefreshToken::new("fuzz-refresh-token"),
            api_key: None,
            api_key_requested_at: None,
            refresh_started_at: None,
            partner_account: None,
            status: InstallationStatus::Active,
            previous: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let api = ApiClient::<Reader>::new(
            &DatadogHttp::new(endpoints, &http).unwrap(),
            &installation,
            Arc::new(FixedToken),
        )
        .with_settings(
            ApiSettings::default()
                .rate_limit_retries(0)
                .max_rate_limit_wait(Duration::ZERO)
                .max_response_bytes(4 << 20),
        );
        Clients { oauth, api }
    }
}

/// One field of a token answer.
fn token_field(secrets: Vec<String>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => select(secrets.clone()).prop_map(|s| Some(json!(s))),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => Just(Some(json!(""))),
        1 => select(secrets.clone()).prop_map(|s| Some(json!([s]))),
        1 => select(secrets).prop_map(|s| Some(json!({ "value": s }))),
        1 => json_leaf().prop_map(Some),
    ]
}

fn expires_in() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => Just(None),
        2 => (0u64..100_000).prop_map(|n| Some(json!(n))),
        1 => any::<u64>().prop_map(|n| Some(json!(n))),
        1 => any::<i64>().prop_map(|n| Some(json!(n))),
        1 => any::<f64>().prop_map(|f| Some(json!(f))),
        1 => select(&["120", " 60 ", "soon", "-5", "18446744073709551615", "1e3", ""][..])
            .prop_map(|s| Some(json!(s))),
        1 => prop_oneof![Just(Value::Null), Just(json!([1])), Just(json!({"s": 1})), Just(json!(true))]
            .prop_map(Some),
    ]
}

/// A `scope` list: catalog names and near misses, separated by spaces or commas, in any case.
fn scope_list() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        3 => select(Scope::catalog().iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>()),
        1 => "[a-z_]{1,20}",
        1 => "[A-Za-z_]{1,20}",
        1 => hostile_text(),
        1 => (129usize..140).prop_map(|n| "a".repeat(n)),
    ];
    let separator = select(&[" ", " ", ",", "  ", "\t", ", ", "\n"][..]);
    vec((name, separator), 0..12).prop_map(|names| {
        names
            .into_iter()
            .map(|(n, s)| format!("{n}{s}"))
            .collect::<String>()
    })
}

fn scope_field() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => Just(None),
        4 => scope_list().prop_map(|s| Some(json!(s))),
        1 => (1usize..1_200).prop_map(|n| Some(json!("monitors_read ".repeat(n)))),
        1 => json_leaf().prop_map(Some),
        1 => Just(Some(json!(["monitors_read"]))),
    ]
}

#[derive(Clone, Debug)]
struct TokenAnswer {
    status: u16,
    secrets: Vec<String>,
    /// The object's fields; `None` for a body that is not one.
    fields: Option<Map<String, Value>>,
    body: Vec<u8>,
}

fn token_answer() -> impl Strategy<Value = TokenAnswer> {
    vec(secret(), 2..4).prop_flat_map(|secrets| {
        let object = (
            token_field(secrets.clone()),
            token_field(secrets.clone()),
            proptest::option::of(prop_oneof![
                select(&["Bearer", "bearer", "mac", ""][..]).prop_map(|s| json!(s)),
                json_leaf(),
            ]),
            expires_in(),
            scope_field(),
            vec((any_text(8), json_tree()), 0..3),
        )
            .prop_map(|(access, refresh, kind, expires, scope, extra)| {
                let mut fields = Map::new();
                for (key, value) in extra {
                    fields.insert(key, value);
                }
                for (key, value) in [
                    ("access_token", access),
                    ("refresh_token", refresh),
                    ("token_type", kind),
                    ("expires_in", expires),
                    ("scope", scope),
                ] {
                    if let Some(value) = value {
                        fields.insert(key.to_owned(), value);
                    } else {
                        fields.remove(key);
                    }
                }
                Some(fields)
            });
        let body = prop_oneof![
            6 => object,
            1 => Just(None),
        ];
        (
            Just(secrets.clone()),
            prop_oneof![8 => Just(200u16), 1 => select(&[201u16, 203, 400, 401, 500][..])],
            body,
            error_body(secrets),
        )
            .prop_map(|(secrets, status, fields, other)| TokenAnswer {
                status,
                body: match &fields {
                    Some(f) => serde_json::to_vec(f).unwrap(),
                    None => other,
                },
                fields,
                secrets,
            })
    })
}

/// A non-empty string field, as the parser takes a token.
fn token_in(fields: &Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The access token's documented life for an `expires_in` value.
fn life_of(value: Option<&Value>) -> Duration {
    let secs = match value {
        Some(Value::Number(n)) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    Duration::from_secs(secs.unwrap_or(3600).min(24 * 3600))
}

/// The scopes a `scope` string grants: its first 1024 names, lowercased, that are scope names.
fn granted_in(list: &str) -> ScopeSet {
    list.split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|n| !n.is_empty())
        .take(1024)
        .filter_map(|n| Scope::parse(&n.to_ascii_lowercase()).ok())
        .collect()
}

#[test]
fn token_answers_never_panic_keep_every_token_and_never_show_one_in_an_error() {
    let rt = runtime();
    let (peer, clients) = rt.block_on(async {
        let peer = Peer::start(Answer::new(500, "")).await;
        let clients = Clients::new(&peer);
        (peer, clients)
    });
    let strategy = (token_answer(), any::<bool>());
    let tally = Tally::default();
    TestRunner::new(config(192))
        .run(&strategy, |(answer, exchange)| {
            peer.answer(Answer::new(answer.status, answer.body.clone()));
            let before = SystemTime::now();
            let result = rt.block_on(async {
                if exchange {
                    let verifier = PkceVerifier::generate();
                    clients
                        .oauth
                        .exchange_code(Domain::Eu1, "fuzz-code", &verifier)
                        .await
                } else {
                    let token = RefreshToken::new("fuzz-refresh-token");
                    clients.oauth.refresh(Domain::Eu1, &token).await
                }
            });
            let after = SystemTime::now();
            let success = (200..300).contains(&answer.status);
            match (&answer.fields, result) {
                (Some(fields), Ok(grant)) => {
                    tally.add(if grant.scopes.as_ref().is_some_and(|s| !s.is_empty()) {
                        "grant with scopes"
                    } else {
                        "grant"
                    });
                    prop_assert!(success);
                    let access = token_in(fields, "access_token");
                    let refresh = token_in(fields, "refresh_token");
                    prop_assert!(access.is_some() || refresh.is_some());
                    prop_assert_eq!(
                        grant.access_token.expose_secret(),
                        access.as_deref().unwrap_or("")
                    );
                    prop_assert_eq!(
                        grant
                            .refresh_token
                            .as_ref()
                            .map(RefreshToken::expose_secret),
                        refresh.as_deref()
                    );
                    let life = if access.is_some() {
                        life_of(fields.get("expires_in"))
                    } else {
                        Duration::ZERO
                    };
                    prop_assert!(grant.expires_at >= before + life);
                    prop_assert!(grant.expires_at <= after + life);
                    match fields.get("scope") {
                        Some(Value::String(list)) if !list.is_empty() => {
                            prop_assert_eq!(grant.scopes, Some(granted_in(list)));
                        }
                        _ => prop_assert_eq!(grant.scopes, None),
                    }
                }
                (None, Ok(grant)) => {
                    // A body that is not an object is never a grant.
                    return Err(TestCaseError::fail(format!(
                        "{:?} from {:?}",
                        grant,
                        String::from_utf8_lossy(&answer.body)
                    )));
                }
                (fields, Err(error)) => {
                    tally.add(if success {
                        "refused 2xx"
                    } else {
                        "error status"
                    });
                    let text = shown(&error, &error);
                    if success {
                        prop_assert!(!text.contains("SECRET"), "{text}");
                        if let Some(fields) = fields {
                            prop_assert!(
                                token_in(fields, "access_token").is_none()
                                    && token_in(fields, "refresh_token").is_none(),
                                "a grant was refused: {text}"
                            );
                        }
                    } else {
                        prop_assert!(leaks(&text, &answer.secrets).is_none(), "{text}");
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    tally.assert_reached(
        "token answers",
        &["grant", "grant with scopes", "refused 2xx", "error status"],
    );
}

#[derive(Clone, Debug)]
struct KeyAnswer {
    status: u16,
    key: String,
    body: Vec<u8>,
    /// Whether the body has Datadog's documented shape with a non-empty key and an id.
    well_formed: bool,
}

fn key_answer() -> impl Strategy<Value = KeyAnswer> {
    (secret(), "[a-z0-9-]{1,36}", any_text(12)).prop_flat_map(|(key, id, name)| {
        let documented = json!({"data": {
            "type": "api_keys",
            "id": id,
            "attributes": {"key": key, "name": name, "created_at": "2026-01-01T00:00:00Z"},
        }});
        let shapes: Vec<(Value, bool)> = vec![
            (documented.clone(), true),
            (json!({ "data": key }), false),
            (json!({ "data": [documented["data"].clone()] }), false),
            (
                json!({ "data": { "id": id, "attributes": { "key": "" } } }),
                false,
            ),
            (
                json!({ "data": { "id": id, "attributes": { "key": 5 } } }),
                false,
            ),
            (json!({ "data": { "attributes": { "key": key } } }), false),
            (
                json!({ "data": { "id": 7, "attributes": { "key": key } } }),
                false,
            ),
            (json!({ "data": { "id": id, "attributes": key } }), false),
            (
                json!({ "data": { "id": id, "attributes": { "key": key, "name": 1 } } }),
                false,
            ),
            (json!({ "key": key }), false),
            (json!([key]), false),
            (json!(key), false),
        ];
        (
            Just(key),
            prop_oneof![6 => select(&[200u16, 201, 202][..]), 1 => peer_statuses()],
            select(shapes),
            any::<bool>(),
        )
            .prop_map(|(key, status, (body, well_formed), pretty)| KeyAnswer {
                status,
                body: if pretty {
                    serde_json::to_vec_pretty(&body).unwrap()
                } else {
                    serde_json::to_vec(&body).unwrap()
                },
                key,
                well_formed,
            })
    })
}

#[test]
fn key_answers_never_panic_and_no_error_shows_the_key() {
    let rt = runtime();
    let (peer, clients) = rt.block_on(async {
        let peer = Peer::start(Answer::new(500, "")).await;
        let clients = Clients::new(&peer);
        (peer, clients)
    });
    let tally = Tally::default();
    TestRunner::new(config(192))
        .run(&key_answer(), |answer| {
            peer.answer(Answer::new(answer.status, answer.body.clone()));
            let token = AccessToken::new("fuzz-access-token");
            let created = rt.block_on(
                clients
                    .oauth
                    .create_marketplace_api_key(Domain::Eu1, &token),
            );
            let success = (200..300).contains(&answer.status);
            match created {
                Ok(key) => {
                    tally.add("created");
                    prop_assert!(success && answer.well_formed, "{answer:?}");
                    prop_assert_eq!(key.key.expose_secret(), answer.key.as_str());
                    let debug = format!("{key:?}");
                    prop_assert!(!debug.contains(&answer.key), "{}", debug);
                }
                Err(error) => {
                    tally.add("refused");
                    prop_assert!(!(success && answer.well_formed), "{error}");
                    let text = shown(&error, &error);
                    prop_assert!(!text.contains(&answer.key), "{text}");
                    if answer.status == 409 {
                        prop_assert!(matches!(error, Error::ApiKeyAlreadyExists));
                    }
                }
            }
            // The same answer to a key validation.
            let key = ApiKey::new(answer.key.clone());
            match rt.block_on(clients.oauth.validate_api_key(Domain::Eu1, &key)) {
                Ok(valid) => {
                    if answer.status == 200 {
                        let body: Value = serde_json::from_slice(&answer.body).unwrap();
                        prop_assert_eq!(body.get("valid").and_then(Value::as_bool), Some(valid));
                    } else {
                        prop_assert_eq!(answer.status, 403);
                        prop_assert!(!valid);
                    }
                }
                Err(error) => {
                    let text = shown(&error, &error);
                    prop_assert!(!text.contains(&answer.key), "{text}");
                }
            }
            Ok(())
        })
        .unwrap();
    tally.assert_reached("key answers", &["created", "refused"]);
}

#[test]
fn key_validation_reads_only_a_boolean_valid() {
    let rt = runtime();
    let (peer, clients) = rt.block_on(async {
        let peer = Peer::start(Answer::new(500, "")).await;
        let clients = Clients::new(&peer);
        (peer, clients)
    });
    let body = prop_oneof![
        2 => (any::<bool>(), vec((any_text(6), json_leaf()), 0..3)).prop_map(|(valid, extra)| {
            let mut object: Map<String, Value> = extra.into_iter().collect();
            object.insert("valid".into(), json!(valid));
            serde_json::to_vec(&Value::Object(object)).unwrap()
        }),
        1 => json_leaf().prop_map(|v| json!({ "valid": v }).to_string().into_bytes()),
        1 => junk_body(),
    ];
    TestRunner::new(config(128))
        .run(&body, |body| {
            peer.answer(Answer::new(200, body.clone()));
            let key = ApiKey::new("fuzz-key");
            let result = rt.block_on(clients.oauth.validate_api_key(Domain::Eu1, &key));
            // serde reads a struct from an object, or from an array in field order.
            let expected = match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(o)) => o.get("valid").and_then(Value::as_bool),
                Ok(Value::Array(a)) if a.len() == 1 => a[0].as_bool(),
                _ => None,
            };
            prop_assert_eq!(result.ok(), expected);
            Ok(())
        })
        .unwrap();
}

#[test]
fn api_answers_never_panic_and_no_error_shows_a_secret_the_answer_carried() {
    let rt = runtime();
    let (peer, clients) = rt.block_on(async {
        let peer = Peer::start(Answer::new(500, "")).await;
        let clients = Clients::new(&peer);
        (peer, clients)
    });
    let strategy = vec(secret(), 1..3).prop_flat_map(|secrets| {
        (
            Just(secrets.clone()),
            peer_statuses(),
            rate_limit_headers(),
            error_body(secrets),
        )
    });
    let tally = Tally::default();
    TestRunner::new(config(192))
        .run(&strategy, |(secrets, status, headers, body)| {
            let mut answer = Answer::new(status, body.clone());
            answer.headers = headers;
            peer.answer(answer);
            let result = rt.block_on(clients.api.call::<v1::ListMonitors>().send());
            match result {
                Ok(response) => {
                    tally.add("answered");
                    prop_assert!((200..300).contains(&status));
                    prop_assert_eq!(response.bytes(), &body[..]);
                    let parsed = response.json::<Value>();
                    let expected = if body.is_empty() {
                        Some(Value::Null)
                    } else {
                        serde_json::from_slice::<Value>(&body).ok()
                    };
                    prop_assert_eq!(parsed.ok(), expected);
                }
                Err(error) => {
                    tally.add("error");
                    prop_assert!(!(200..300).contains(&status), "{error}");
                    prop_assert!(
                        !matches!(error, ApiError::Transport { .. } | ApiError::Timeout { .. }),
                        "{error}"
                    );
                    let text = shown(&error, &error);
                    prop_assert!(leaks(&text, &secrets).is_none(), "{status}: {text}");
                }
            }
            Ok(())
        })
        .unwrap();
    tally.assert_reached("API answers", &["answered", "error"]);
}

/// `ApiResponse::json` into the partner's type puts serde's message in `ApiError::Decode`, and
/// serde's message for a value of the wrong type quotes the value: a key or token in the
/// answer is then shown whole (the marketplace key's parser avoids exactly this).
#[test]
fn decoding_an_answer_into_the_wrong_type_never_shows_its_values() {
    let rt = runtime();
    let secret = "SECRETabcdefghijklmnopqrstuvwxyz";
    let result = rt.block_on(async {
        let peer = Peer::start(Answer::new(200, format!(r#"{{"data":["{secret}"]}}"#))).await;
        let clients = Clients::new(&peer);
        #[derive(serde::Deserialize, Debug)]
        struct Numbers {
            #[allow(dead_code)]
            data: Vec<u64>,
        }
        clients
            .api
            .call::<v1::ListMonitors>()
            .json::<Numbers>()
            .await
    });
    let error = result.unwrap_err();
    assert!(!format!("{error} {error:?}").contains(secret), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Regression seeds

/// The review's seed: a key answer whose `data` is the key itself; serde's message would quote
/// it.
#[test]
fn a_key_answer_that_is_the_key_itself_is_refused_without_showing_it() {
    let rt = runtime();
    let key = "0123456789abcdef0123456789abcdef";
    let error = rt.block_on(async {
        let peer = Peer::start(Answer::new(201, format!(r#"{{"data":"{key}"}}"#))).await;
        let clients = Clients::new(&peer);
        clients
            .oauth
            .create_marketplace_api_key(Domain::Eu1, &AccessToken::new("t"))
            .await
            .unwrap_err()
    });
    assert!(
        matches!(error, Error::UnexpectedResponse { .. }),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains(key), "{error}");
}

/// The review's seed: a megabyte of near-miss scope names in a token answer is read in linear
/// time, through the client as Datadog would send it.
#[test]
fn a_token_answer_with_a_megabyte_of_near_miss_scopes_is_read_in_linear_time() {
    let rt = runtime();
    let names = "monitors_raed! dashbaords_read? Monitors_Read,".repeat(1 << 15);
    let body =
        format!(r#"{{"access_token":"a","refresh_token":"r","scope":"monitors_read {names}"}}"#);
    assert!(body.len() > 1 << 20);
    let started = std::time::Instant::now();
    let grant = rt.block_on(async {
        let peer = Peer::start(Answer::new(200, body)).await;
        let clients = Clients::new(&peer);
        clients
            .oauth
            .refresh(Domain::Eu1, &RefreshToken::new("r"))
            .await
            .unwrap()
    });
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(grant.refresh_token.unwrap().expose_secret(), "r");
    assert_eq!(
        grant.scopes.unwrap(),
        ScopeSet::from([Scope::MONITORS_READ])
    );
}
