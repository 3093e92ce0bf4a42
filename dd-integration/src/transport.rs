//! The HTTP client every call to Datadog goes through.
//!
//! rustls, connect and total time-outs, a cap on response bodies, and no redirects: Datadog's
//! token, revoke and key endpoints never redirect, and following one would hand a client secret
//! or a bearer token to wherever it points.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use url::Url;

use crate::endpoint::Endpoints;
use crate::error::{Error, Operation};
use crate::site::Domain;

/// Limits of the HTTP client.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Time to establish a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Time for a whole request and response (default 30 s).
    pub timeout: Duration,
    /// The largest response body read (default 1 MiB; Datadog's OAuth and key responses are
    /// under 2 KB).
    pub max_response_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            max_response_bytes: 1 << 20,
        }
    }
}

impl HttpConfig {
    /// Sets the connect time-out.
    pub fn connect_timeout(mut self, value: Duration) -> HttpConfig {
        self.connect_timeout = value;
        self
    }

    /// Sets the total time-out.
    pub fn timeout(mut self, value: Duration) -> HttpConfig {
        self.timeout = value;
        self
    }

    /// Sets the response body cap.
    pub fn max_response_bytes(mut self, value: usize) -> HttpConfig {
        self.max_response_bytes = value;
        self
    }
}

/// A response read whole, within the cap.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// The shared HTTP client and where it sends Datadog's hosts. Cheap to clone.
#[derive(Clone, Debug)]
pub struct DatadogHttp {
    client: reqwest::Client,
    endpoints: Endpoints,
    max_response_bytes: usize,
}

impl DatadogHttp {
    /// A client for `endpoints` with `config`'s limits.
    pub fn new(endpoints: Endpoints, config: &HttpConfig) -> Result<DatadogHttp, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            // Plain http only ever reaches a loopback override (checked in `Endpoints`).
            .https_only(!endpoints.is_overridden())
            .user_agent(concat!("dd-integration/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(DatadogHttp {
            client,
            endpoints,
            max_response_bytes: config.max_response_bytes,
        })
    }

    /// Where requests go.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub(crate) fn url(&self, host: &str, path: &str) -> Url {
        self.endpoints.url(host, path)
    }

    pub(crate) fn post(&self, url: Url) -> RequestBuilder {
        self.client.post(url)
    }

    pub(crate) fn get(&self, url: Url) -> RequestBuilder {
        self.client.get(url)
    }

    /// Sends `request` and reads the body, at most `max_response_bytes` of it.
    pub(crate) async fn send(
        &self,
        operation: Operation,
        domain: Domain,
        request: RequestBuilder,
    ) -> Result<Reply, Error> {
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                Error::Timeout { operation, domain }
            } else {
                Error::Transport {
                    operation,
                    domain,
                    source: e.without_url(),
                }
            }
        };
        let mut response = request.send().await.map_err(transport)?;
        let limit = self.max_response_bytes;
        let too_large = Error::ResponseTooLarge { operation, limit };
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large);
        }
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(
            status = status.as_u16(),
            bytes = body.len(),
            "datadog replied"
        );
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}
