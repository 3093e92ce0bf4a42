//! The marketplace API key: the only way an OAuth integration sends data to Datadog.
//!
//! `POST https://api.<domain>/api/v2/api_keys/marketplace` with the installation's bearer token
//! creates it. Datadog returns the key once and never again, and allows one per org and client:
//! a second call answers 409. So the caller must make the key durable before it tells the user
//! the connection succeeded.

use reqwest::StatusCode;
use serde::Deserialize;

use super::{OAuthClient, error_from_reply};
use crate::error::{Error, Operation};
use crate::installation::MarketplaceApiKey;
use crate::secret::{AccessToken, ApiKey};
use crate::site::Domain;

impl OAuthClient {
    /// Creates the org's marketplace API key with an access token that holds `api_keys_write`.
    ///
    /// Errors: [`Error::ApiKeyAlreadyExists`] (409) when the org already has this client's key,
    /// with the manual recovery in its message; [`Error::Forbidden`] when the token lacks
    /// `api_keys_write`. The call is not idempotent: do not retry it blindly after a time-out or
    /// a cut connection, since Datadog may have created a key whose value is now lost.
    pub async fn create_marketplace_api_key(
        &self,
        domain: Domain,
        access_token: &AccessToken,
    ) -> Result<MarketplaceApiKey, Error> {
        let operation = Operation::CreateMarketplaceKey;
        let span = tracing::info_span!("datadog.api_key.create", %domain);
        let http = self.http();
        let url = http.url(&domain.api_host(), "/api/v2/api_keys/marketplace");
        let request = http.post(url).bearer_auth(access_token.expose_secret());
        let reply =
            tracing::Instrument::instrument(http.send(operation, domain, request), span).await?;
        // 201 is what Datadog was seen to return; any 2xx is taken, the docs do not say, and
        // a key in a body thrown away would be lost for good.
        if !reply.status.is_success() {
            let error = error_from_reply(operation, &reply);
            tracing::warn!(status = reply.status.as_u16(), %error, "marketplace key refused");
            return Err(error);
        }
        #[derive(Deserialize)]
        struct Body {
            data: Data,
        }
        #[derive(Deserialize)]
        struct Data {
            id: String,
            attributes: Attributes,
        }
        #[derive(Deserialize)]
        struct Attributes {
            key: String,
            name: Option<String>,
            created_at: Option<String>,
        }
        // serde_json's message can quote a value of the answer (`{"data":"<key>"}` gives
        // `invalid type: string "<key>"`): only its category and position are shown.
        let body: Body = serde_json::from_slice(&reply.body).map_err(|e| {
            Error::UnexpectedResponse {
                operation,
                status: reply.status.as_u16(),
                detail: format!(
                    "no key at data.attributes.key (the answer's JSON does not have Datadog's documented shape: {:?} at line {}, column {}; the body is not shown, it may hold the key); the key may have been created: see the recovery for a lost key in Organization Settings > API Keys",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            }
        })?;
        if body.data.attributes.key.is_empty() {
            return Err(Error::UnexpectedResponse {
                operation,
                status: reply.status.as_u16(),
                detail: "data.attributes.key is empty".into(),
            });
        }
        tracing::info!(key_id = %body.data.id, "marketplace key created");
        Ok(MarketplaceApiKey {
            id: body.data.id,
            key: ApiKey::new(body.data.attributes.key),
            name: body.data.attributes.name,
            created_at: body.data.attributes.created_at,
        })
    }

    /// Asks Datadog whether `key` is valid (`GET /api/v1/validate`): `Ok(true)` when it is,
    /// `Ok(false)` when Datadog refuses it (403: revoked or wrong), an error otherwise.
    pub async fn validate_api_key(&self, domain: Domain, key: &ApiKey) -> Result<bool, Error> {
        let operation = Operation::ValidateApiKey;
        let http = self.http();
        let url = http.url(&domain.api_host(), "/api/v1/validate");
        let request = http.get(url).header("DD-API-KEY", key.expose_secret());
        let reply = http.send(operation, domain, request).await?;
        match reply.status {
            StatusCode::OK => {
                #[derive(Deserialize)]
                struct Valid {
                    valid: bool,
                }
                let body: Valid =
                    serde_json::from_slice(&reply.body).map_err(|e| Error::UnexpectedResponse {
                        operation,
                        status: 200,
                        detail: format!(
                            "not {{\"valid\": bool}} ({:?} at line {}, column {})",
                            e.classify(),
                            e.line(),
                            e.column()
                        ),
                    })?;
                Ok(body.valid)
            }
            StatusCode::FORBIDDEN => Ok(false),
            _ => Err(error_from_reply(operation, &reply)),
        }
    }
}
