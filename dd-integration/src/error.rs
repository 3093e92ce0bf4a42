//! Datadog's failures as typed errors that say what to do.
//!
//! Every documented failure of the OAuth and marketplace-key endpoints has its own variant, and
//! its message names the fix. No message quotes a secret, a token or a response body that could
//! carry one.

use std::fmt;
use std::time::Duration;

use crate::site::Domain;

/// A call the SDK makes to Datadog, named in errors and tracing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Operation {
    /// `POST /oauth2/v1/token` with `grant_type=authorization_code`.
    ExchangeCode,
    /// `POST /oauth2/v1/token` with `grant_type=refresh_token`.
    Refresh,
    /// `POST /oauth2/v1/revoke`.
    Revoke,
    /// `POST /api/v2/api_keys/marketplace`.
    CreateMarketplaceKey,
    /// `GET /api/v1/validate`.
    ValidateApiKey,
    /// `GET /api/v2/users`, read for the org the token belongs to.
    ConfirmOrg,
    /// A bearer call to Datadog's API.
    Api,
}

impl Operation {
    /// The endpoint, as Datadog documents it.
    pub const fn endpoint(self) -> &'static str {
        match self {
            Operation::ExchangeCode => "token exchange (POST /oauth2/v1/token)",
            Operation::Refresh => "token refresh (POST /oauth2/v1/token)",
            Operation::Revoke => "revocation (POST /oauth2/v1/revoke)",
            Operation::CreateMarketplaceKey => {
                "marketplace API key creation (POST /api/v2/api_keys/marketplace)"
            }
            Operation::ValidateApiKey => "API key validation (GET /api/v1/validate)",
            Operation::ConfirmOrg => "org confirmation (GET /api/v2/users)",
            Operation::Api => "API call",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.endpoint())
    }
}

/// Datadog's rate-limit headers (`X-RateLimit-*`), as far as they were sent.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: requests allowed per period.
    pub limit: Option<u64>,
    /// `X-RateLimit-Period`: the period, in seconds.
    pub period: Option<u64>,
    /// `X-RateLimit-Remaining`: requests left in this period.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`: time until the period resets.
    pub reset: Option<Duration>,
    /// `X-RateLimit-Name`: the limit's name, to quote when asking Datadog support to raise it.
    pub name: Option<String>,
}

impl RateLimit {
    pub(crate) fn from_headers(headers: &reqwest::header::HeaderMap) -> RateLimit {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let number = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
        RateLimit {
            limit: number("x-ratelimit-limit"),
            period: number("x-ratelimit-period"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset").map(Duration::from_secs),
            // Bounded and printable: the name ends up in messages.
            name: text("x-ratelimit-name")
                .map(|n| n.chars().filter(|c| !c.is_control()).take(100).collect()),
        }
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reset {
            Some(reset) => write!(f, "retry in {}s", reset.as_secs())?,
            None => f.write_str("no reset time given; back off with jitter")?,
        }
        if let Some(name) = &self.name {
            write!(f, "; limit `{name}`")?;
        }
        if let (Some(limit), Some(period)) = (self.limit, self.period) {
            write!(f, " ({limit} requests per {period}s)")?;
        }
        Ok(())
    }
}

/// A failure talking to Datadog.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP 401 from the token or revoke endpoint: no or a wrong client secret.
    #[error(
        "Datadog rejected the OAuth client credentials at the {operation} (HTTP 401): the client secret is missing or wrong. Use the secret generated for this client in the Developer Platform (it is shown once; if it was rotated, the old one no longer works)"
    )]
    ClientAuthentication {
        /// The call that failed.
        operation: Operation,
    },
    /// `invalid_client` with another status than 401 (RFC 6749 §5.2 allows 400): the client id
    /// is unknown to Datadog, or its authentication failed.
    #[error(
        "Datadog does not recognize the OAuth client at the {operation} (invalid_client, HTTP {status}): the client id is unknown on this Datadog site, or the client secret does not belong to it. Configure the id and secret of the same OAuth client from the Developer Platform (test and published clients have their own)"
    )]
    InvalidClient {
        /// The call that failed.
        operation: Operation,
        /// The HTTP status.
        status: u16,
    },
    /// `invalid_request - Invalid client_id parameter value`.
    #[error(
        "Datadog does not accept this client_id (`Invalid client_id parameter value`): until the integration is published only users of your developer org can authorize it, and after publication the production client has its own id and secret. Test from the developer org, or configure the published client's id and secret"
    )]
    InvalidClientId,
    /// `Mismatching redirect URI`.
    #[error(
        "Datadog refused the redirect URI (`Mismatching redirect URI`): the redirect_uri must be exactly one registered on this OAuth client, and the same at authorize and token exchange. Test and published clients have separate redirect URIs: do not mix their ids, secrets and URIs"
    )]
    MismatchingRedirectUri,
    /// `Invalid code or code verifier`.
    #[error(
        "Datadog refused the code exchange (`Invalid code or code verifier`): the PKCE verifier does not match the challenge sent at authorize, the code was used or has expired, or the request was not form-encoded. Keep each flow's verifier with its state (never regenerate it) and start the authorization again"
    )]
    InvalidCodeOrVerifier,
    /// `invalid_grant`: the code or refresh token is not (or no longer) valid.
    #[error(
        "Datadog refused the grant at the {operation} (invalid_grant{}): the authorization code was used, expired or issued to another client, or the refresh token was revoked or already rotated. The customer must authorize again from the integration tile",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    InvalidGrant {
        /// The call that failed.
        operation: Operation,
        /// Datadog's `error_description`, escaped and shortened.
        description: Option<String>,
    },
    /// Another OAuth error (RFC 6749 §5.2) that Datadog does not document specially.
    #[error(
        "Datadog returned OAuth error `{error}` at the {operation} (HTTP {status}){}",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    OAuth {
        /// The call that failed.
        operation: Operation,
        /// The HTTP status.
        status: u16,
        /// The `error` code, escaped and shortened.
        error: String,
        /// The `error_description`, escaped and shortened.
        description: Option<String>,
    },
    /// HTTP 401 on a bearer call: the access token is expired, revoked or unknown.
    #[error(
        "Datadog rejected the access token at the {operation} (HTTP 401): it expired or was revoked. Refresh it; if the refresh is refused too, the customer must authorize again"
    )]
    Unauthorized {
        /// The call that failed.
        operation: Operation,
    },
    /// `{"errors":["Forbidden"]}`.
    #[error("Datadog answered Forbidden at the {operation} (HTTP 403): {hint}")]
    Forbidden {
        /// The call that failed.
        operation: Operation,
        /// What usually causes it for this call.
        hint: &'static str,
    },
    /// HTTP 409 from marketplace key creation: the org already has this client's key.
    #[error(
        "Datadog already created the marketplace API key for this org (HTTP 409) and shows a key only once, so it cannot be fetched again. Recovery: in Datadog, Organization Settings > API Keys, find the key named after this integration's OAuth client (\"... OAuth Client API Key ...\"), revoke it, then connect the integration again from its tile"
    )]
    ApiKeyAlreadyExists,
    /// HTTP 429.
    #[error("Datadog rate-limited the {operation} (HTTP 429): {rate_limit}")]
    RateLimited {
        /// The call that failed.
        operation: Operation,
        /// The rate-limit headers Datadog sent.
        rate_limit: RateLimit,
    },
    /// HTTP 5xx.
    #[error(
        "Datadog failed at the {operation} (HTTP {status}); this is transient on Datadog's side, retry with backoff"
    )]
    Server {
        /// The call that failed.
        operation: Operation,
        /// The HTTP status.
        status: u16,
    },
    /// A response this SDK does not understand.
    #[error("unexpected response from Datadog at the {operation} (HTTP {status}): {detail}")]
    UnexpectedResponse {
        /// The call that failed.
        operation: Operation,
        /// The HTTP status.
        status: u16,
        /// What was wrong; never the body of a successful token response.
        detail: String,
    },
    /// The response body exceeded the SDK's cap.
    #[error("Datadog's response to the {operation} exceeded {limit} bytes; refusing to read more")]
    ResponseTooLarge {
        /// The call that failed.
        operation: Operation,
        /// The cap, in bytes.
        limit: usize,
    },
    /// No response in time.
    #[error(
        "no response from Datadog ({domain}) to the {operation} in time; the request may or may not have been processed. Retry; check egress to Datadog if it persists"
    )]
    Timeout {
        /// The call that failed.
        operation: Operation,
        /// The region called.
        domain: Domain,
    },
    /// The connection failed or was cut.
    #[error(
        "could not reach Datadog ({domain}) for the {operation}: {source}. If the connection was cut after sending, Datadog may have processed the request"
    )]
    Transport {
        /// The call that failed.
        operation: Operation,
        /// The region called.
        domain: Domain,
        /// The transport error, without its URL.
        #[source]
        source: reqwest::Error,
    },
}

impl Error {
    /// True when the same request may succeed later unchanged: rate limits, Datadog's 5xx,
    /// time-outs and cut connections. Never true for a refused grant.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::Server { .. }
                | Error::Timeout { .. }
                | Error::Transport { .. }
        )
    }

    /// True when Datadog may have processed the request whose answer this is: no answer at all
    /// (a time-out, a connection cut after sending), a gateway's 502 or 504, or a success this
    /// SDK could not read. A refresh may then have rotated the refresh token, a key request may
    /// have created the org's key: the journals of both windows stay set.
    pub fn may_have_been_processed(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            // A connection that was never made sent nothing.
            Error::Transport { source, .. } => !source.is_connect(),
            Error::Server { status, .. } => matches!(status, 502 | 504),
            Error::UnexpectedResponse { status, .. } => (200..300).contains(status),
            Error::ResponseTooLarge { .. } => true,
            _ => false,
        }
    }

    /// True when Datadog refused the grant itself: the customer must authorize again (after the
    /// caller has ruled out a rotation by another replica).
    pub fn is_invalid_grant(&self) -> bool {
        matches!(
            self,
            Error::InvalidGrant { .. } | Error::InvalidCodeOrVerifier
        )
    }

    /// How long Datadog asked to wait, for a rate limit.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { rate_limit, .. } => rate_limit.reset,
            _ => None,
        }
    }
}

/// Text from Datadog's answer (an error body, an `error_description`) made safe for a message:
/// every token-shaped run ([`redact_tokens`]) replaced, then [`quoted`]. An answer can echo a
/// token, a code or a key; a message shown on a page or in a log must not.
pub(crate) fn quoted_answer(text: &str) -> String {
    quoted(&redact_tokens(text))
}

/// The shortest run of token characters taken for a secret. Datadog's access and refresh
/// tokens, codes and API keys (32 hex characters) are all longer; the words of an error message
/// are shorter.
const TOKEN_SHAPED: usize = 20;

/// `text` with every run of at least [`TOKEN_SHAPED`] token characters (letters, digits and
/// `-._~+/=`) replaced by `[redacted]`.
pub(crate) fn redact_tokens(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    let mut out = String::with_capacity(text.len().min(4096));
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= TOKEN_SHAPED {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Untrusted text from a response, made safe to put into a message: control characters
/// escaped, at most 200 characters of it, and at most [`QUOTED_MAX`] characters once escaped
/// (an escape such as `\u{fffd}` is up to ten).
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::new();
    let mut cut = false;
    for (i, c) in text.chars().enumerate() {
        // Whole escapes only (they are ASCII), so that the quote reads back as a prefix.
        let escaped: String = c.escape_default().collect();
        if i == 200 || out.len() + escaped.len() > QUOTED_MAX {
            cut = true;
            break;
        }
        out.push_str(&escaped);
    }
    if cut {
        out.push('…');
    }
    out
}

/// The longest a quoted text gets, escapes included.
const QUOTED_MAX: usize = 400;

/// A configuration the SDK cannot run with, from any builder (the installer's, the OAuth
/// client's, telemetry's): what is wrong and what to do.
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

    /// Something required was not given.
    #[error("the installer needs a {0}")]
    Missing(&'static str),
    /// A URL is malformed or not https.
    #[error("the {what} is not usable: {reason}")]
    Url {
        /// Which URL.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A URL that the declaration does not list.
    #[error(
        "the {what} `{url}` is not declared in #[datadog_integration] (declared: {declared}); Datadog accepts only URIs registered on the client"
    )]
    Undeclared {
        /// Which URL.
        what: &'static str,
        /// The URL given.
        url: String,
        /// The declared ones.
        declared: String,
    },
    /// Onboarding and callback on different origins: the flow cookie would not reach the
    /// callback.
    #[error(
        "the onboarding URL ({onboarding}) and the redirect URI ({redirect}) must share one origin, so the flow cookie reaches the callback"
    )]
    Origins {
        /// The onboarding origin.
        onboarding: String,
        /// The redirect origin.
        redirect: String,
    },
    /// `InstallerBuilder::environment` names no declared environment.
    #[error(
        "no environment `{name}` is declared (declared: {declared}); add `environment(name = \"{name}\", onboarding = \"...\", redirect = \"...\")` to #[datadog_integration(...)]"
    )]
    UnknownEnvironment {
        /// The name given, escaped.
        name: String,
        /// The declared names.
        declared: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The soak's finding: a 301 body of 300 characters of plane 16 (bytes F4 80 80 80) quoted
    /// 200 of them, each escaped to `\u{100000}`, in a message of over 2,000 characters.
    #[test]
    fn quoting_text_whose_escapes_are_long_stays_short() {
        let body = [244u8, 128, 128, 128].repeat(300);
        let shown = quoted(&String::from_utf8_lossy(&body));
        assert!(shown.chars().count() <= QUOTED_MAX + 1, "{}", shown.len());
        assert!(shown.starts_with("\\u{100000}"), "{shown}");
        assert!(shown.ends_with('…'));
        // Invalid UTF-8 too.
        let shown = quoted(&String::from_utf8_lossy(&[0xffu8; 500]));
        assert!(shown.chars().count() <= QUOTED_MAX + 1, "{}", shown.len());
    }

    #[test]
    fn token_shaped_runs_are_redacted_and_words_kept() {
        let text = "invalid_grant: refresh token 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d is unknown (abc.def-ghi_jkl~mno+pqr/stu=)";
        let shown = redact_tokens(text);
        assert!(!shown.contains("1a2b3c4d5e6f"), "{shown}");
        assert!(!shown.contains("abc.def"), "{shown}");
        assert!(shown.starts_with("invalid_grant: refresh token [redacted] is unknown"));
        assert_eq!(
            redact_tokens("Mismatching redirect URI"),
            "Mismatching redirect URI"
        );
        assert_eq!(redact_tokens(""), "");
    }
}
