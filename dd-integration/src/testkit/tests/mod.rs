//! The sandbox, exercised over real HTTP with reqwest (not through the SDK's own client).

mod api;
mod faults;
mod intake;
mod oauth;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use super::{ClientSpec, OrgSpec, Sandbox, SandboxClient, SandboxOrg};
use crate::site::Domain;

const CALLBACK: &str = "https://pager.example/oauth/callback";

/// A sandbox with one EU org and one published client that has both scopes.
struct Fx {
    sb: Sandbox,
    org: SandboxOrg,
    client: SandboxClient,
    http: reqwest::Client,
}

struct Tokens {
    access: String,
    refresh: String,
    scope: String,
}

fn pkce() -> (String, String) {
    let verifier = super::ids::opaque();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn fx() -> Fx {
    fx_with(Sandbox::start().await).await
}

async fn fx_with(sb: Sandbox) -> Fx {
    let org = sb.add_org(OrgSpec::new("Acme", Domain::Eu1));
    let client = sb.add_client(
        ClientSpec::new("Acme Pager")
            .redirect_uri(CALLBACK)
            .scopes(["monitors_read", "api_keys_write"]),
    );
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    Fx {
        sb,
        org,
        client,
        http,
    }
}

impl Fx {
    fn url(&self, host: &str, path: &str) -> Url {
        self.sb.endpoints().url(host, path)
    }

    fn api(&self, path: &str) -> Url {
        self.url("api.datadoghq.eu", path)
    }

    /// An authorize URL on `host` for `client` with the given challenge and extra parameters.
    fn authorize_url_for(
        &self,
        host: &str,
        client: &SandboxClient,
        challenge: &str,
        extra: &[(&str, &str)],
    ) -> Url {
        let mut url = self.url(host, "/oauth2/v1/authorize");
        url.query_pairs_mut()
            .append_pair("redirect_uri", CALLBACK)
            .append_pair("client_id", &client.client_id)
            .append_pair("response_type", "code")
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "st-123")
            .extend_pairs(extra);
        url
    }

    /// A fresh authorization code (and its verifier) for the fixture's client.
    async fn code(&self) -> (String, String) {
        self.code_for(&self.client).await
    }

    async fn code_for(&self, client: &SandboxClient) -> (String, String) {
        let (verifier, challenge) = pkce();
        let url = self.authorize_url_for("app.datadoghq.eu", client, &challenge, &[]);
        let callback = self.sb.authorize(&url).await.unwrap();
        (query(&callback, "code").expect("a code"), verifier)
    }

    async fn token_form(&self, host: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(host, "/oauth2/v1/token"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.exchange_as(&self.client, code, verifier).await
    }

    async fn exchange_as(
        &self,
        client: &SandboxClient,
        code: &str,
        verifier: &str,
    ) -> reqwest::Response {
        self.token_form(
            "api.datadoghq.eu",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &client.client_id),
                ("client_secret", &client.client_secret),
                ("redirect_uri", CALLBACK),
                ("code_verifier", verifier),
                ("code", code),
            ],
        )
        .await
    }

    async fn tokens(&self) -> Tokens {
        let (code, verifier) = self.code().await;
        let resp = self.exchange(&code, &verifier).await;
        assert_eq!(resp.status(), 200);
        parse_tokens(resp).await
    }

    async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.token_form(
            "api.datadoghq.eu",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &self.client.client_id),
                ("client_secret", &self.client.client_secret),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    async fn create_key(&self, access: &str) -> reqwest::Response {
        self.http
            .post(self.api("/api/v2/api_keys/marketplace"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    /// Runs the whole flow and returns the org's marketplace API key.
    async fn key(&self) -> String {
        let t = self.tokens().await;
        let resp = self.create_key(&t.access).await;
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.unwrap();
        body["data"]["attributes"]["key"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn monitors(&self, access: &str) -> reqwest::Response {
        self.http
            .get(self.api("/api/v1/monitor"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }
}

async fn parse_tokens(resp: reqwest::Response) -> Tokens {
    let body: Value = resp.json().await.unwrap();
    Tokens {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        scope: body["scope"].as_str().unwrap().to_owned(),
    }
}

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}
