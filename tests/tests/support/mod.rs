//! Shared set-up for the protocol tests: a sandbox with one org and one OAuth client, and the
//! SDK's client pointed at it.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;

use dd_integration::oauth::TokenGrant;
use dd_integration::pkce::PkceVerifier;
use dd_integration::testkit::{ClientSpec, OrgSpec, Sandbox, SandboxClient, SandboxOrg};
use dd_integration::{ClientSecret, Domain, HttpConfig, OAuthClient, Site};
use url::Url;

pub const REDIRECT: &str = "https://acme.example/datadog/oauth/callback";
pub const OTHER_REDIRECT: &str = "https://acme.example/datadog/oauth/callback-test";

pub struct World {
    pub sandbox: Sandbox,
    pub client: SandboxClient,
    pub oauth: OAuthClient,
}

impl World {
    pub async fn new(scopes: &[&str]) -> World {
        World::with_http(scopes, HttpConfig::default()).await
    }

    pub async fn with_http(scopes: &[&str], http: HttpConfig) -> World {
        let sandbox = Sandbox::start().await;
        let client = sandbox.add_client(
            ClientSpec::new("Acme Pager")
                .redirect_uri(REDIRECT)
                .redirect_uri(OTHER_REDIRECT)
                .scopes(scopes.iter().copied()),
        );
        let oauth = oauth_client(&sandbox, &client, REDIRECT, http);
        World {
            sandbox,
            client,
            oauth,
        }
    }

    pub fn org(&self, name: &str, domain: Domain) -> SandboxOrg {
        self.sandbox.add_org(OrgSpec::new(name, domain))
    }

    /// Authorize as a browser would on `site`, and return the callback's query parameters.
    pub async fn authorize(&self, site: &Site) -> (Callback, PkceVerifier) {
        let verifier = PkceVerifier::generate();
        let url = self
            .oauth
            .authorize_url(site, &verifier.challenge(), "state-123");
        let callback = self
            .sandbox
            .authorize(&url)
            .await
            .expect("the sandbox redirects back");
        (Callback::from(&callback), verifier)
    }

    /// Authorize on `site` and exchange the code.
    pub async fn grant(&self, site: &Site) -> (Callback, TokenGrant) {
        let (callback, verifier) = self.authorize(site).await;
        let domain = callback.domain();
        let grant = self
            .oauth
            .exchange_code(domain, callback.get("code"), &verifier)
            .await
            .expect("exchange succeeds");
        (callback, grant)
    }
}

pub fn oauth_client(
    sandbox: &Sandbox,
    client: &SandboxClient,
    redirect: &str,
    http: HttpConfig,
) -> OAuthClient {
    OAuthClient::builder(
        client.client_id.clone(),
        ClientSecret::new(client.client_secret.clone()),
        redirect,
    )
    .endpoints(sandbox.endpoints())
    .http_config(http)
    .build()
    .unwrap()
}

/// The query of the URL Datadog redirected the browser to.
pub struct Callback {
    pub url: Url,
    pub params: HashMap<String, String>,
}

impl Callback {
    pub fn get(&self, key: &str) -> &str {
        self.params
            .get(key)
            .unwrap_or_else(|| panic!("callback lacks `{key}`: {}", self.url))
    }

    pub fn domain(&self) -> Domain {
        Domain::parse(self.get("domain")).unwrap()
    }
}

impl From<&Url> for Callback {
    fn from(url: &Url) -> Callback {
        Callback {
            url: url.clone(),
            params: url.query_pairs().into_owned().collect(),
        }
    }
}
