//! Datadog's OAuth 2.0 endpoints for a confidential partner client with PKCE.
//!
//! - authorize: `https://<site's authorize host>/oauth2/v1/authorize` (the only place a vanity
//!   subdomain is used);
//! - token exchange, refresh and revocation: `https://api.<domain>/oauth2/v1/{token,revoke}`,
//!   form posts with the client secret in the body (`client_secret_post`).

mod api_key;
mod org;

#[cfg(test)]
pub(crate) use org::org_of_users;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use crate::endpoint::Endpoints;
use crate::error::{ConfigError, Error, Operation, RateLimit, quoted, quoted_answer};
use crate::pkce::{PkceChallenge, PkceVerifier};
use crate::scope::{Scope, ScopeSet};
use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::site::{Domain, Site};
use crate::transport::{DatadogHttp, HttpConfig, Reply};

/// Datadog documents a one-hour access token; used when a response omits `expires_in`.
const DEFAULT_ACCESS_TOKEN_LIFE: Duration = Duration::from_secs(3600);

/// The OAuth client of one integration: its id, secret and redirect URI, and the HTTP client.
/// Cheap to clone.
#[derive(Clone)]
pub struct OAuthClient {
    inner: Arc<Inner>,
}

struct Inner {
    client_id: String,
    client_secret: ClientSecret,
    redirect_uri: String,
    http: DatadogHttp,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &self.inner.client_secret)
            .field("redirect_uri", &self.inner.redirect_uri)
            .field("endpoints", self.inner.http.endpoints())
            .finish()
    }
}

/// Builds an [`OAuthClient`].
#[derive(Debug)]
#[must_use]
pub struct OAuthClientBuilder {
    client_id: String,
    client_secret: ClientSecret,
    redirect_uri: String,
    endpoints: Endpoints,
    http: HttpConfig,
}

impl OAuthClientBuilder {
    /// Sends every Datadog host elsewhere (the sandbox, a test peer). See [`Endpoints`].
    pub fn endpoints(mut self, endpoints: Endpoints) -> OAuthClientBuilder {
        self.endpoints = endpoints;
        self
    }

    /// Time-outs and the response cap.
    pub fn http_config(mut self, config: HttpConfig) -> OAuthClientBuilder {
        self.http = config;
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<OAuthClient, ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::EmptyClientId);
        }
        if self.client_secret.expose_secret().trim().is_empty() {
            return Err(ConfigError::EmptyClientSecret);
        }
        let redirect = Url::parse(&self.redirect_uri).map_err(|e| ConfigError::RedirectUri {
            reason: e.to_string(),
        })?;
        let loopback = crate::endpoint::is_loopback(&redirect);
        if !(redirect.scheme() == "https" || (redirect.scheme() == "http" && loopback)) {
            return Err(ConfigError::RedirectUri {
                reason: "it must be https (plain http only on loopback, for development)".into(),
            });
        }
        if redirect.fragment().is_some() {
            return Err(ConfigError::RedirectUri {
                reason: "it must not have a fragment".into(),
            });
        }
        let http = DatadogHttp::new(self.endpoints, &self.http).map_err(ConfigError::Http)?;
        Ok(OAuthClient {
            inner: Arc::new(Inner {
                client_id: self.client_id,
                client_secret: self.client_secret,
                // Sent byte for byte as registered: Datadog compares it exactly.
                redirect_uri: self.redirect_uri,
                http,
            }),
        })
    }
}

impl OAuthClient {
    /// Starts a client with its id, secret and the redirect URI registered on it in Datadog's
    /// Developer Platform. Test (unpublished) and published clients differ in all three.
    pub fn builder(
        client_id: impl Into<String>,
        client_secret: ClientSecret,
        redirect_uri: impl Into<String>,
    ) -> OAuthClientBuilder {
        OAuthClientBuilder {
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            endpoints: Endpoints::datadog(),
            http: HttpConfig::default(),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The redirect URI sent at authorize and at exchange.
    pub fn redirect_uri(&self) -> &str {
        &self.inner.redirect_uri
    }

    /// The HTTP client, for the other calls to Datadog made on this client's behalf.
    pub fn http(&self) -> &DatadogHttp {
        &self.inner.http
    }

    /// The URL to send the user's browser to: the authorize page on the site the user came
    /// from (their vanity subdomain kept), with the PKCE challenge and `state`.
    ///
    /// No `scope` is sent: Datadog applies the scopes configured on the client.
    pub fn authorize_url(&self, site: &Site, challenge: &PkceChallenge, state: &str) -> Url {
        let mut url = self
            .inner
            .http
            .url(&site.authorize_host(), "/oauth2/v1/authorize");
        url.query_pairs_mut()
            .append_pair("redirect_uri", &self.inner.redirect_uri)
            .append_pair("client_id", &self.inner.client_id)
            .append_pair("response_type", "code")
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", PkceChallenge::METHOD)
            .append_pair("state", state);
        url
    }

    /// Exchanges the callback's `code` at `https://api.<domain>/oauth2/v1/token`.
    ///
    /// `domain` must be the one Datadog returned on the callback (checked against the site the
    /// flow began on by the caller), never a vanity subdomain.
    pub async fn exchange_code(
        &self,
        domain: Domain,
        code: &str,
        verifier: &PkceVerifier,
    ) -> Result<TokenGrant, Error> {
        let span = tracing::info_span!("datadog.oauth.exchange", %domain);
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", &self.inner.client_id),
            ("client_secret", self.inner.client_secret.expose_secret()),
            ("redirect_uri", &self.inner.redirect_uri),
            ("code_verifier", verifier.secret()),
            ("code", code),
        ];
        tracing::Instrument::instrument(
            self.token_request(Operation::ExchangeCode, domain, &form),
            span,
        )
        .await
    }

    /// Trades a refresh token for a new access token, and (Datadog rotates them) a new refresh
    /// token. Persist the new refresh token before using the access token: the old one may be
    /// dead already.
    pub async fn refresh(
        &self,
        domain: Domain,
        refresh_token: &RefreshToken,
    ) -> Result<TokenGrant, Error> {
        let span = tracing::info_span!("datadog.oauth.refresh", %domain);
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", &self.inner.client_id),
            ("client_secret", self.inner.client_secret.expose_secret()),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        tracing::Instrument::instrument(self.token_request(Operation::Refresh, domain, &form), span)
            .await
    }

    /// Checks the client id and secret with Datadog before any customer connects: a refresh
    /// with a refresh token Datadog never issued. `Ok(())` when Datadog authenticated the client
    /// and refused only the token (`invalid_grant`); the error otherwise:
    /// [`Error::ClientAuthentication`] (a wrong or missing secret),
    /// [`Error::InvalidClientId`] or [`Error::InvalidClient`] (an unknown client id), or a
    /// transient failure that proves nothing.
    ///
    /// What it relies on: RFC 6749 §6, under which the token endpoint authenticates a
    /// confidential client before it validates the refresh token, and Datadog's token endpoint
    /// documentation (401 for a missing or wrong secret, `Invalid client_id parameter value` for
    /// an unknown client). Run it at start-up against the region the partner's OAuth client was
    /// created on, or on each region served. It spends nothing: no token is issued or revoked.
    pub async fn check_credentials(&self, domain: Domain) -> Result<(), Error> {
        let probe = format!("dd-integration-credential-check-{}", random_hex());
        match self.refresh(domain, &RefreshToken::new(probe)).await {
            Err(e) if e.is_invalid_grant() => {
                tracing::info!(%domain, "the OAuth client's credentials are accepted");
                Ok(())
            }
            // A grant for a token Datadog never issued: nothing to fear from the credentials.
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!(%domain, error = %e, "the OAuth client's credentials were not accepted");
                Err(e)
            }
        }
    }

    /// Revokes a refresh token (RFC 7009): the grant ends, and the customer must authorize again
    /// from the tile. Succeeds also when the token was already invalid, as RFC 7009 specifies.
    pub async fn revoke_refresh_token(
        &self,
        domain: Domain,
        token: &RefreshToken,
    ) -> Result<(), Error> {
        self.revoke(domain, token.expose_secret(), "refresh_token")
            .await
    }

    /// Revokes an access token (RFC 7009).
    pub async fn revoke_access_token(
        &self,
        domain: Domain,
        token: &AccessToken,
    ) -> Result<(), Error> {
        self.revoke(domain, token.expose_secret(), "access_token")
            .await
    }

    async fn revoke(&self, domain: Domain, token: &str, hint: &str) -> Result<(), Error> {
        let span = tracing::info_span!("datadog.oauth.revoke", %domain, token_type_hint = hint);
        let http = &self.inner.http;
        let url = http.url(&domain.api_host(), "/oauth2/v1/revoke");
        let form = [
            ("client_id", self.inner.client_id.as_str()),
            ("client_secret", self.inner.client_secret.expose_secret()),
            ("token", token),
            ("token_type_hint", hint),
        ];
        let reply = tracing::Instrument::instrument(
            http.send(Operation::Revoke, domain, http.post(url).form(&form)),
            span,
        )
        .await?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(error_from_reply(Operation::Revoke, &reply))
        }
    }

    async fn token_request(
        &self,
        operation: Operation,
        domain: Domain,
        form: &[(&str, &str)],
    ) -> Result<TokenGrant, Error> {
        let http = &self.inner.http;
        let url = http.url(&domain.api_host(), "/oauth2/v1/token");
        // The token's life is counted from before the request, so that latency shortens it
        // rather than lengthening it.
        let sent_at = SystemTime::now();
        let reply = http
            .send(operation, domain, http.post(url).form(form))
            .await?;
        // Any 2xx with a token in it is taken: a grant thrown away here may hold the only copy
        // of a rotated refresh token.
        if !reply.status.is_success() {
            let error = error_from_reply(operation, &reply);
            tracing::warn!(status = reply.status.as_u16(), %error, "token request refused");
            return Err(error);
        }
        let grant = TokenGrant::parse(&reply.body, sent_at).map_err(|detail| {
            Error::UnexpectedResponse {
                operation,
                status: reply.status.as_u16(),
                detail,
            }
        })?;
        tracing::info!(
            scopes = grant.scopes.as_ref().map(|s| s.to_string()),
            rotated = grant.refresh_token.is_some(),
            "token granted"
        );
        Ok(grant)
    }
}

/// Tokens from Datadog's token endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenGrant {
    /// The bearer token for Datadog's API.
    pub access_token: AccessToken,
    /// The new refresh token. Datadog returns one on every exchange and refresh; `None` only if
    /// a response left it out, in which case the previous one stays in use.
    pub refresh_token: Option<RefreshToken>,
    /// When the access token expires (counted from when the request was sent).
    pub expires_at: SystemTime,
    /// The scopes granted, when Datadog said (the grant can be narrower than the request).
    pub scopes: Option<ScopeSet>,
}

impl TokenGrant {
    /// Parses a 2xx token response. Every token in it is kept: a grant thrown away here may
    /// hold the only copy of a rotated refresh token, already spent at Datadog. Odd fields are
    /// defaulted and logged, never a reason to refuse the grant: `expires_in` missing, negative
    /// or not a number of seconds gives Datadog's documented hour; a `token_type` other than
    /// Bearer is logged; a `scope` that is not a string is read as "not said". An answer with
    /// a refresh token and no access token keeps the refresh token with an access token that
    /// has already expired (the next use refreshes). Only an answer with neither token, or not
    /// a JSON object, is refused; the error never quotes the body (it may hold tokens).
    fn parse(body: &[u8], sent_at: SystemTime) -> Result<TokenGrant, String> {
        use serde_json::Value;
        let Ok(Value::Object(mut raw)) = serde_json::from_slice::<Value>(body) else {
            return Err(
                "the token response is not a JSON object (its body is not shown: it may hold a token)"
                    .into(),
            );
        };
        let mut text = |field: &str| match raw.remove(field) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            None | Some(Value::Null) => None,
            Some(_) => {
                tracing::warn!(field, "a token response field is not a string: ignored");
                None
            }
        };
        let access_token = text("access_token");
        let refresh_token = text("refresh_token");
        let token_type = text("token_type");
        let scope = text("scope");
        if access_token.is_none() && refresh_token.is_none() {
            return Err("the token response has no access_token".into());
        }
        if let Some(kind) = token_type.as_deref()
            && !kind.eq_ignore_ascii_case("bearer")
        {
            tracing::warn!(token_type = %quoted(kind), "the token type is not Bearer; the token is kept and sent as a bearer token");
        }
        let life = match raw.remove("expires_in") {
            None | Some(Value::Null) => Some(DEFAULT_ACCESS_TOKEN_LIFE),
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.is_finite() && *f >= 0.0)
                        .map(|f| f as u64)
                })
                .map(Duration::from_secs),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok().map(Duration::from_secs),
            Some(_) => None,
        };
        let life = life.unwrap_or_else(|| {
            tracing::warn!(
                "expires_in is not a number of seconds: the access token is taken to last Datadog's documented hour"
            );
            DEFAULT_ACCESS_TOKEN_LIFE
        });
        // Past a day the token is refreshed early rather than trusted: a huge `expires_in`
        // would otherwise overflow the clock.
        let life = life.min(MAX_ACCESS_TOKEN_LIFE);
        let (access_token, expires_at) = match access_token {
            Some(token) => (token, sent_at + life),
            None => {
                tracing::warn!(
                    "the token response has a refresh token but no access token: the refresh token is kept, the next use refreshes"
                );
                (String::new(), sent_at)
            }
        };
        Ok(TokenGrant {
            access_token: AccessToken::new(access_token),
            refresh_token: refresh_token.map(RefreshToken::new),
            expires_at,
            scopes: scope.as_deref().map(granted_scopes),
        })
    }
}

/// 16 random bytes in hex.
fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The longest an access token is trusted for, whatever `expires_in` says.
const MAX_ACCESS_TOKEN_LIFE: Duration = Duration::from_secs(24 * 3600);

/// The most scope names read from one token answer: Datadog's catalog has a few hundred; a
/// longer list is cut (and logged) rather than read at any length.
const MAX_GRANTED_NAMES: usize = 1024;

/// The granted scopes as the token response lists them, read leniently: space- or
/// comma-separated, any case. A name that is not a scope name is skipped and logged (a grant
/// holding a rotated refresh token is never refused over its scope list); a declared scope
/// skipped that way shows as missing, which is the safe side. No suggestion is looked for, and
/// at most [`MAX_GRANTED_NAMES`] names are read, so a hostile answer costs linear time.
fn granted_scopes(text: &str) -> ScopeSet {
    let mut names = text
        .split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|name| !name.is_empty());
    let mut set = ScopeSet::new();
    let mut skipped = 0usize;
    for name in names.by_ref().take(MAX_GRANTED_NAMES) {
        match Scope::parse_quietly(name)
            .or_else(|| Scope::parse_quietly(&name.to_ascii_lowercase()))
        {
            Some(scope) => {
                set.insert(scope);
            }
            None => {
                if skipped < 8 {
                    tracing::warn!(scope = %quoted(name), "a granted scope that is not a scope name: skipped");
                }
                skipped += 1;
            }
        }
    }
    if names.next().is_some() {
        tracing::warn!(
            read = MAX_GRANTED_NAMES,
            "the granted scope list is longer than any Datadog grants: the rest is not read"
        );
    }
    set
}

/// Maps a reply the call does not take to the documented error it stands for. A 2xx body is
/// never quoted (a token or key response may be in it), nor is any body but for Datadog's
/// error fields or a short text.
pub(crate) fn error_from_reply(operation: Operation, reply: &Reply) -> Error {
    let status = reply.status.as_u16();
    if reply.status.is_success() {
        return Error::UnexpectedResponse {
            operation,
            status,
            detail: "a success status this call does not take; its body is not shown, since it may hold a secret".into(),
        };
    }
    if reply.status == StatusCode::TOO_MANY_REQUESTS {
        return Error::RateLimited {
            operation,
            rate_limit: RateLimit::from_headers(&reply.headers),
        };
    }
    if reply.status.is_server_error() {
        return Error::Server { operation, status };
    }
    let oauth_endpoint = matches!(
        operation,
        Operation::ExchangeCode | Operation::Refresh | Operation::Revoke
    );
    #[derive(Deserialize)]
    struct OAuthBody {
        error: String,
        error_description: Option<String>,
    }
    let oauth: Option<OAuthBody> = serde_json::from_slice(&reply.body).ok();
    let text = match &oauth {
        Some(b) => format!(
            "{} {}",
            b.error,
            b.error_description.as_deref().unwrap_or("")
        ),
        None => String::from_utf8_lossy(&reply.body).into_owned(),
    };
    // Datadog's documented messages, wherever in the body they appear.
    if text.contains("Invalid client_id") {
        return Error::InvalidClientId;
    }
    if text.contains("Mismatching redirect URI") {
        return Error::MismatchingRedirectUri;
    }
    // RFC 6749 §4.1.3 and §5.2: a redirect URI that differs from the authorize request's is
    // refused at the exchange (as `invalid_grant` or `invalid_request`, by server): that is the
    // partner's configuration, not a grant the customer must renew.
    if operation == Operation::ExchangeCode && mentions_redirect_uri(&text) {
        return Error::MismatchingRedirectUri;
    }
    if text.contains("Invalid code or code verifier") {
        return Error::InvalidCodeOrVerifier;
    }
    match reply.status {
        StatusCode::UNAUTHORIZED if oauth_endpoint => {
            return Error::ClientAuthentication { operation };
        }
        StatusCode::UNAUTHORIZED => return Error::Unauthorized { operation },
        StatusCode::FORBIDDEN => {
            return Error::Forbidden {
                operation,
                hint: forbidden_hint(operation),
            };
        }
        StatusCode::CONFLICT if operation == Operation::CreateMarketplaceKey => {
            return Error::ApiKeyAlreadyExists;
        }
        _ => {}
    }
    match oauth {
        Some(body) if body.error == "invalid_grant" => Error::InvalidGrant {
            operation,
            description: body.error_description.as_deref().map(quoted_answer),
        },
        Some(body) if body.error == "invalid_client" => Error::InvalidClient { operation, status },
        Some(body) => Error::OAuth {
            operation,
            status,
            error: quoted_answer(&body.error),
            description: body.error_description.as_deref().map(quoted_answer),
        },
        None => Error::UnexpectedResponse {
            operation,
            status,
            detail: format!("body: {}", quoted_answer(&text)),
        },
    }
}

fn mentions_redirect_uri(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["redirect_uri", "redirect uri", "redirection uri"]
        .iter()
        .any(|needle| lower.contains(needle))
}

fn forbidden_hint(operation: Operation) -> &'static str {
    match operation {
        Operation::CreateMarketplaceKey => {
            "the token lacks the private scope api_keys_write (enable it on the OAuth client; contact marketplace@datadog.com), or it expired; never send DD-APPLICATION-KEY together with OAuth"
        }
        Operation::ValidateApiKey => {
            "the API key is invalid or was revoked in Organization Settings > API Keys; the customer must reconnect the integration"
        }
        _ => {
            "the token lacks a scope this call needs, expired, or was sent together with DD-APPLICATION-KEY (never send an application key with OAuth)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(body: &str) -> Result<TokenGrant, String> {
        TokenGrant::parse(body.as_bytes(), SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn token_response_is_parsed_tolerantly() {
        let g = at(r#"{"access_token":"a","refresh_token":"r","token_type":"Bearer","expires_in":3600,"scope":"monitors_read  api_keys_write"}"#).unwrap();
        assert_eq!(
            g.expires_at,
            SystemTime::UNIX_EPOCH + Duration::from_secs(3600)
        );
        assert_eq!(g.scopes.unwrap().len(), 2);
        let g = at(r#"{"access_token":"a","expires_in":"120","token_type":"bearer"}"#).unwrap();
        assert_eq!(
            g.expires_at,
            SystemTime::UNIX_EPOCH + Duration::from_secs(120)
        );
        assert!(g.scopes.is_none() && g.refresh_token.is_none());
        let g = at(r#"{"access_token":"a","expires_in":59.9,"extra":{"x":1}}"#).unwrap();
        assert_eq!(
            g.expires_at,
            SystemTime::UNIX_EPOCH + Duration::from_secs(59)
        );
        let g = at(r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(
            g.expires_at,
            SystemTime::UNIX_EPOCH + DEFAULT_ACCESS_TOKEN_LIFE
        );
    }

    /// The security review's finding: a 200 refresh answer whose `expires_in` was `-5` or
    /// `"soon"` (or whose `token_type` was odd) was refused whole, dropping the rotated refresh
    /// token the old one had already been traded for.
    #[test]
    fn a_2xx_with_odd_fields_keeps_its_rotated_refresh_token() {
        for body in [
            r#"{"access_token":"A","refresh_token":"R","expires_in":-5}"#,
            r#"{"access_token":"A","refresh_token":"R","expires_in":"soon"}"#,
            r#"{"access_token":"A","refresh_token":"R","expires_in":[1]}"#,
            r#"{"access_token":"A","refresh_token":"R","expires_in":{"s":1}}"#,
            r#"{"access_token":"A","refresh_token":"R","expires_in":-1e300}"#,
            r#"{"access_token":"A","refresh_token":"R","token_type":"mac"}"#,
            r#"{"access_token":"A","refresh_token":"R","token_type":7,"scope":["x"]}"#,
        ] {
            let g = at(body).unwrap_or_else(|e| panic!("{body}: refused ({e})"));
            assert_eq!(
                g.refresh_token.as_ref().map(RefreshToken::expose_secret),
                Some("R"),
                "{body}"
            );
            assert_eq!(g.access_token.expose_secret(), "A", "{body}");
            assert_eq!(
                g.expires_at,
                SystemTime::UNIX_EPOCH + DEFAULT_ACCESS_TOKEN_LIFE,
                "{body}"
            );
        }
    }

    #[test]
    fn a_2xx_with_only_a_refresh_token_keeps_it_and_an_expired_access_token() {
        let g = at(r#"{"refresh_token":"R","access_token":null}"#).expect("kept");
        assert_eq!(
            g.refresh_token.as_ref().map(RefreshToken::expose_secret),
            Some("R")
        );
        assert!(g.access_token.expose_secret().is_empty());
        assert_eq!(g.expires_at, SystemTime::UNIX_EPOCH, "already expired");
    }

    #[test]
    fn answers_without_any_token_are_refused_without_quoting_the_body() {
        for body in [
            r#"<html>SECRET-A</html>"#,
            r#"{"access_token":""}"#,
            r#"{"access_token":["SECRET-A"]}"#,
            r#"["SECRET-A"]"#,
            r#""SECRET-A""#,
            r#"{"data":"SECRET-A"}"#,
        ] {
            let e = at(body).unwrap_err();
            assert!(!e.contains("SECRET"), "{body} -> {e}");
        }
    }

    /// The review's abuse case: a 1 MiB answer of near-miss scope names looked for a "did you
    /// mean" per name and held an executor thread for minutes.
    #[test]
    fn a_megabyte_of_near_miss_scope_names_is_read_in_linear_time() {
        let names = "monitors_raed! dashbaords_read? ".repeat(1 << 15);
        let body = format!(
            r#"{{"access_token":"a","refresh_token":"r","scope":"monitors_read {names}"}}"#
        );
        assert!(body.len() > 1 << 20);
        let g = at(&body).expect("kept");
        let scopes = g.scopes.expect("read");
        assert!(scopes.contains(&Scope::MONITORS_READ));
        assert_eq!(scopes.len(), 1);
        // Past the bound nothing is read, however valid.
        let long = format!(
            "{} dashboards_read",
            "monitors_read ".repeat(MAX_GRANTED_NAMES)
        );
        let g = at(&format!(r#"{{"access_token":"a","scope":"{long}"}}"#)).expect("kept");
        assert!(!g.scopes.unwrap().contains(&Scope::DASHBOARDS_READ));
    }

    #[test]
    fn a_huge_expires_in_is_capped_not_a_panic() {
        for life in ["1e20", "18446744073709551615", "\"18446744073709551615\""] {
            let g = at(&format!(r#"{{"access_token":"a","expires_in":{life}}}"#)).unwrap();
            assert_eq!(
                g.expires_at,
                SystemTime::UNIX_EPOCH + MAX_ACCESS_TOKEN_LIFE,
                "{life}"
            );
        }
    }

    #[test]
    fn an_odd_scope_list_never_costs_the_grant() {
        let g = at(r#"{"access_token":"a","refresh_token":"r","scope":"Monitors_Read,api_keys_write  new:scope! dashboards_read"}"#)
            .expect("the grant is kept");
        assert!(g.refresh_token.is_some());
        let scopes = g.scopes.unwrap();
        for name in ["monitors_read", "api_keys_write", "dashboards_read"] {
            assert!(
                scopes.contains(&Scope::parse(name).unwrap()),
                "{name}: {scopes}"
            );
        }
        assert_eq!(
            scopes.len(),
            3,
            "the name that is no scope name is skipped: {scopes}"
        );
    }

    #[test]
    fn a_success_status_the_call_does_not_take_never_quotes_its_body() {
        for status in [201, 202, 204] {
            let reply = Reply {
                status: StatusCode::from_u16(status).unwrap(),
                headers: reqwest::header::HeaderMap::new(),
                body: br#"{"access_token":"SECRET-A","refresh_token":"SECRET-R","data":{"attributes":{"key":"SECRET-K"}}}"#.to_vec(),
            };
            for operation in [Operation::ExchangeCode, Operation::CreateMarketplaceKey] {
                let e = error_from_reply(operation, &reply);
                let shown = format!("{e} {e:?}");
                assert!(!shown.contains("SECRET"), "{status}: {shown}");
            }
        }
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// The review's finding: an unknown client_id (400 `invalid_client`, as RFC 6749 §5.2
    /// allows) was reported as "HTTP 401 ... the client secret is wrong".
    #[test]
    fn a_400_invalid_client_names_the_client_not_a_401_secret() {
        let e = error_from_reply(
            Operation::ExchangeCode,
            &reply(400, r#"{"error":"invalid_client"}"#),
        );
        assert!(
            matches!(e, Error::InvalidClient { status: 400, .. }),
            "{e:?}"
        );
        assert!(!e.to_string().contains("401"), "{e}");
        let e = error_from_reply(
            Operation::Refresh,
            &reply(401, r#"{"error":"invalid_client"}"#),
        );
        assert!(matches!(e, Error::ClientAuthentication { .. }), "{e:?}");
    }

    /// The review's finding: a redirect-URI mismatch at the exchange (RFC 6749 §4.1.3) was
    /// reported as a grant the customer must renew; it is the partner's configuration.
    #[test]
    fn a_redirect_uri_mismatch_at_the_exchange_is_the_partners_configuration() {
        for body in [
            r#"{"error":"invalid_grant","error_description":"Invalid \"redirect_uri\" in request."}"#,
            r#"{"error":"invalid_request","error_description":"redirect_uri does not match"}"#,
            r#"{"error":"invalid_grant","error_description":"The redirection URI differs"}"#,
        ] {
            let e = error_from_reply(Operation::ExchangeCode, &reply(400, body));
            assert!(matches!(e, Error::MismatchingRedirectUri), "{body}: {e:?}");
            assert!(!e.is_invalid_grant(), "{body}");
        }
    }

    /// The review's finding: 3xx and 4xx bodies were quoted up to 200 characters, token-shaped
    /// values included.
    #[test]
    fn error_bodies_and_descriptions_never_show_a_token_shaped_value() {
        let token = "tok_0123456789abcdefABCDEF";
        for (status, body) in [
            (302, format!("moved to /callback?code={token}")),
            (
                400,
                format!(
                    r#"{{"error":"invalid_grant","error_description":"refresh token {token} is unknown"}}"#
                ),
            ),
            (
                418,
                format!(r#"{{"error":"odd","error_description":"{token}"}}"#),
            ),
            (404, format!("<html>{token}</html>")),
        ] {
            for operation in [Operation::Refresh, Operation::Revoke, Operation::Api] {
                let e = error_from_reply(operation, &reply(status, &body));
                let shown = format!("{e} {e:?}");
                assert!(!shown.contains(token), "{status} {operation}: {shown}");
            }
        }
    }
}
