//! Datadog's OAuth 2.0 endpoints for a confidential partner client with PKCE.
//!
//! - authorize: `https://<site's authorize host>/oauth2/v1/authorize` (the only place a vanity
//!   subdomain is used);
//! - token exchange, refresh and revocation: `https://api.<domain>/oauth2/v1/{token,revoke}`,
//!   form posts with the client secret in the body (`client_secret_post`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use crate::endpoint::Endpoints;
use crate::error::{Error, Operation, RateLimit, quoted};
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
        let loopback = matches!(redirect.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(redirect.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
            || redirect.host_str() == Some("localhost");
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
    /// Parses a token response tolerantly: `expires_in` as a number or a string, `scope`
    /// missing, `token_type` in any case. The error never quotes the body (it holds tokens).
    fn parse(body: &[u8], sent_at: SystemTime) -> Result<TokenGrant, String> {
        #[derive(Deserialize)]
        struct Raw {
            access_token: String,
            refresh_token: Option<String>,
            token_type: Option<String>,
            expires_in: Option<serde_json::Value>,
            scope: Option<String>,
        }
        let raw: Raw = serde_json::from_slice(body).map_err(|e| {
            // serde_json's message names the field and position, never the value.
            format!("the token response is not the JSON Datadog documents ({e})")
        })?;
        if raw.access_token.is_empty() {
            return Err("the token response has an empty access_token".into());
        }
        if let Some(kind) = raw.token_type.as_deref()
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(format!("the token type is `{}`, not Bearer", quoted(kind)));
        }
        let life = match raw.expires_in {
            None | Some(serde_json::Value::Null) => DEFAULT_ACCESS_TOKEN_LIFE,
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                .map(Duration::from_secs)
                .ok_or("expires_in is negative")?,
            Some(serde_json::Value::String(s)) => s
                .trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| "expires_in is a string that is not a number of seconds")?,
            Some(_) => return Err("expires_in is neither a number nor a string".into()),
        };
        // Past a day the token is refreshed early rather than trusted: a huge `expires_in`
        // would otherwise overflow the clock.
        let life = life.min(MAX_ACCESS_TOKEN_LIFE);
        let scopes = raw.scope.as_deref().map(granted_scopes);
        Ok(TokenGrant {
            access_token: AccessToken::new(raw.access_token),
            refresh_token: raw
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(RefreshToken::new),
            expires_at: sent_at + life,
            scopes,
        })
    }
}

/// The longest an access token is trusted for, whatever `expires_in` says.
const MAX_ACCESS_TOKEN_LIFE: Duration = Duration::from_secs(24 * 3600);

/// The granted scopes as the token response lists them, read leniently: space- or
/// comma-separated, any case. A name that is not a scope name is skipped and logged (a grant
/// holding a rotated refresh token is never refused over its scope list); a declared scope
/// skipped that way shows as missing, which is the safe side.
fn granted_scopes(text: &str) -> ScopeSet {
    text.split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|name| !name.is_empty())
        .filter_map(|name| {
            let scope = Scope::parse(name).or_else(|_| Scope::parse(&name.to_ascii_lowercase()));
            if scope.is_err() {
                tracing::warn!(scope = %quoted(name), "a granted scope that is not a scope name: skipped");
            }
            scope.ok()
        })
        .collect()
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
            description: body.error_description.as_deref().map(quoted),
        },
        Some(body) if body.error == "invalid_client" => Error::ClientAuthentication { operation },
        Some(body) => Error::OAuth {
            operation,
            status,
            error: quoted(&body.error),
            description: body.error_description.as_deref().map(quoted),
        },
        None => Error::UnexpectedResponse {
            operation,
            status,
            detail: format!("body: {}", quoted(&text)),
        },
    }
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

/// A configuration Datadog would refuse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No client id.
    #[error(
        "the OAuth client id is empty: copy it from the integration's OAuth client in Datadog's Developer Platform"
    )]
    EmptyClientId,
    /// No client secret.
    #[error(
        "the OAuth client secret is empty: Datadog answers 401 without it; use the secret generated for the client in the Developer Platform"
    )]
    EmptyClientSecret,
    /// A redirect URI Datadog would not accept.
    #[error("the redirect URI is not usable: {reason}")]
    RedirectUri {
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client could not be built (the TLS backend failed to start).
    #[error("the HTTP client could not be built: {0}")]
    Http(#[source] reqwest::Error),
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

    #[test]
    fn bad_token_responses_never_quote_the_body() {
        for body in [
            r#"{"refresh_token":"SECRET-R"}"#,
            r#"{"access_token":"SECRET-A","token_type":"mac"}"#,
            r#"{"access_token":"SECRET-A","expires_in":"soon"}"#,
            r#"{"access_token":"SECRET-A","expires_in":-5}"#,
            r#"{"access_token":"SECRET-A","expires_in":[1]}"#,
            r#"<html>SECRET-A</html>"#,
            r#"{"access_token":""}"#,
        ] {
            let e = at(body).unwrap_err();
            assert!(!e.contains("SECRET"), "{body} -> {e}");
        }
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
}
