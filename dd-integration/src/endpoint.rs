//! Where requests for Datadog's hosts actually go.
//!
//! By default every request goes to `https://<datadog host>/...`. One explicit configuration
//! value, [`Endpoints::override_base`], sends every Datadog host (authorize, API, intake) to
//! another base URL instead: the Datadog sandbox, a test peer, a recording proxy. It is never
//! taken from a request.
//!
//! Under an override, `https://api.datadoghq.eu/oauth2/v1/token` becomes
//! `<base>/api.datadoghq.eu/oauth2/v1/token`: the Datadog host stays visible as the first path
//! segment, so the peer knows which region and which service was meant, and a test can assert
//! that the SDK never sent a token request to a vanity subdomain.

use url::Url;

/// The base of every URL the SDK builds for Datadog.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Endpoints {
    base: Option<Url>,
}

impl Endpoints {
    /// Datadog itself: `https://<host>`.
    pub const fn datadog() -> Endpoints {
        Endpoints { base: None }
    }

    /// Sends every Datadog host to `base` instead (`<base>/<datadog host>/<path>`).
    ///
    /// `base` must be an absolute `https` URL, or `http` on a loopback address (`127.0.0.0/8`,
    /// `[::1]`, `localhost`); it may carry a path prefix but no query, fragment or userinfo.
    pub fn override_base(base: &str) -> Result<Endpoints, EndpointError> {
        let url = Url::parse(base).map_err(|e| EndpointError::Invalid {
            reason: e.to_string(),
        })?;
        if url.cannot_be_a_base() || url.host().is_none() {
            return Err(EndpointError::Invalid {
                reason: "not an absolute URL with a host".into(),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EndpointError::Invalid {
                reason: "userinfo is not allowed (put credentials nowhere in a URL)".into(),
            });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(EndpointError::Invalid {
                reason: "a query or fragment is not allowed".into(),
            });
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(EndpointError::PlainHttp {
                    base: url.to_string(),
                });
            }
            other => {
                return Err(EndpointError::Invalid {
                    reason: format!("scheme `{other}` is not http or https"),
                });
            }
        }
        Ok(Endpoints { base: Some(url) })
    }

    /// Whether an override is in force.
    pub fn is_overridden(&self) -> bool {
        self.base.is_some()
    }

    /// The URL for `path` (absolute, starting with `/`) on the Datadog host `host`.
    pub fn url(&self, host: &str, path: &str) -> Url {
        debug_assert!(path.starts_with('/'), "path must be absolute: {path}");
        let text = match &self.base {
            None => format!("https://{host}{path}"),
            Some(base) => {
                let base = base.as_str().trim_end_matches('/');
                format!("{base}/{host}{path}")
            }
        };
        // Hosts come from the region allowlist and paths are ours: this cannot fail.
        Url::parse(&text).expect("a URL built from an allowlisted host and a fixed path")
    }
}

/// Whether `url`'s host is loopback, where plain http is allowed: the one rule, in
/// `dd_integration_facts::url::is_loopback`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    url.host_str()
        .is_some_and(dd_integration_facts::url::is_loopback)
}

/// Why an endpoint override was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// The base is not a usable absolute URL.
    #[error("the endpoint override is not a usable base URL: {reason}")]
    Invalid {
        /// What is wrong with it.
        reason: String,
    },
    /// Plain http to a host that is not loopback.
    #[error(
        "the endpoint override `{base}` uses plain http on a non-loopback host; use https (plain http is allowed only on 127.0.0.0/8, [::1] and localhost)"
    )]
    PlainHttp {
        /// The refused base.
        base: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_datadog() {
        let e = Endpoints::datadog();
        assert_eq!(
            e.url("api.datadoghq.eu", "/oauth2/v1/token").as_str(),
            "https://api.datadoghq.eu/oauth2/v1/token"
        );
    }

    #[test]
    fn override_keeps_the_host_as_first_segment() {
        for base in ["http://127.0.0.1:8080", "http://127.0.0.1:8080/"] {
            let e = Endpoints::override_base(base).unwrap();
            assert_eq!(
                e.url("api.datadoghq.com", "/api/v2/series").as_str(),
                "http://127.0.0.1:8080/api.datadoghq.com/api/v2/series"
            );
        }
        let e = Endpoints::override_base("https://proxy.example/dd/").unwrap();
        assert_eq!(
            e.url("api.us3.datadoghq.com", "/oauth2/v1/revoke").as_str(),
            "https://proxy.example/dd/api.us3.datadoghq.com/oauth2/v1/revoke"
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "http://127.0.0.1:1",
            "http://127.9.9.9:1",
            "http://[::1]:1",
            "http://localhost:1",
            "https://sandbox.example",
        ] {
            assert!(Endpoints::override_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:80",
            "http://example.com",
            "http://127.0.0.1.nip.io",
        ] {
            assert!(
                matches!(
                    Endpoints::override_base(bad),
                    Err(EndpointError::PlainHttp { .. })
                ),
                "{bad}"
            );
        }
        for bad in [
            "ftp://127.0.0.1",
            "127.0.0.1:8080",
            "https://u:p@proxy.example",
            "https://proxy.example/?x=1",
            "https://proxy.example/#f",
            "data:text/plain,hi",
        ] {
            assert!(
                matches!(
                    Endpoints::override_base(bad),
                    Err(EndpointError::Invalid { .. })
                ),
                "{bad}"
            );
        }
    }
}
