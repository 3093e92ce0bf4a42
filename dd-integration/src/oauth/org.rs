//! Which Datadog org an access token belongs to, as Datadog's API says.
//!
//! The callback's `dd_oid` reaches the partner through the customer's browser, which can edit
//! it: it is a hint. The org an installation belongs to is read instead with the installation's
//! own access token: `GET https://api.<domain>/api/v2/users` lists the users of the token's
//! org, and each user's `relationships.org.data.id` names that org (Datadog's API reference,
//! "List all users", the `UserResponseRelationships` schema). The call needs the scope
//! `user_access_read`; an integration that does not declare it has no confirmed org identity,
//! and the SDK then links no installation to another and carries no API key over.

use serde::Deserialize;

use super::{OAuthClient, error_from_reply};
use crate::error::{Error, Operation};
use crate::installation::OrgId;
use crate::secret::AccessToken;
use crate::site::Domain;

/// How many users are read: every one of them must name the same org.
const USERS_READ: usize = 10;

impl OAuthClient {
    /// The id of the Datadog org `access_token` belongs to, as Datadog's users API names it
    /// (`relationships.org.data.id` of the org's users). `Ok(None)` when the answer names no
    /// org, or names several (nothing is then confirmed). Needs `user_access_read`: without it
    /// Datadog answers 403 ([`Error::Forbidden`]).
    pub async fn confirmed_org(
        &self,
        domain: Domain,
        access_token: &AccessToken,
    ) -> Result<Option<OrgId>, Error> {
        let operation = Operation::ConfirmOrg;
        let span = tracing::info_span!("datadog.org.confirm", %domain);
        let http = self.http();
        let mut url = http.url(&domain.api_host(), "/api/v2/users");
        url.query_pairs_mut()
            .append_pair("page[size]", &USERS_READ.to_string());
        let request = http.get(url).bearer_auth(access_token.expose_secret());
        let reply =
            tracing::Instrument::instrument(http.send(operation, domain, request), span).await?;
        if !reply.status.is_success() {
            return Err(error_from_reply(operation, &reply));
        }
        Ok(org_of_users(&reply.body).map(OrgId::from_confirmed))
    }
}

/// The one org every listed user names, if they agree.
pub(crate) fn org_of_users(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        data: Vec<User>,
    }
    #[derive(Deserialize)]
    struct User {
        relationships: Option<Relationships>,
    }
    #[derive(Deserialize)]
    struct Relationships {
        org: Option<Related>,
    }
    #[derive(Deserialize)]
    struct Related {
        data: Option<Ref>,
    }
    #[derive(Deserialize)]
    struct Ref {
        id: String,
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    let Ok(body) = serde_json::from_slice::<Body>(body) else {
        tracing::warn!("the users answer is not the JSON Datadog documents: no org confirmed");
        return None;
    };
    let mut org: Option<String> = None;
    for user in body.data {
        let Some(id) = user
            .relationships
            .and_then(|r| r.org)
            .and_then(|o| o.data)
            .filter(|d| d.kind.as_deref().is_none_or(|k| k == "orgs"))
            .map(|d| d.id)
            .filter(|id| !id.is_empty() && id.len() <= 256 && !id.chars().any(char::is_control))
        else {
            continue;
        };
        match &org {
            None => org = Some(id),
            Some(seen) if *seen == id => {}
            Some(_) => {
                tracing::warn!("the users answer names more than one org: no org confirmed");
                return None;
            }
        }
    }
    org
}

#[cfg(test)]
mod tests {
    use super::org_of_users;

    #[test]
    fn the_org_is_the_one_every_user_names() {
        let body = br#"{"data":[
            {"type":"users","id":"u1","relationships":{"org":{"data":{"id":"o-1","type":"orgs"}}}},
            {"type":"users","id":"u2","relationships":{"org":{"data":{"id":"o-1","type":"orgs"}},"roles":{"data":[]}}}
        ],"meta":{"page":{"total_count":2}}}"#;
        assert_eq!(org_of_users(body).as_deref(), Some("o-1"));
    }

    #[test]
    fn users_naming_two_orgs_confirm_none() {
        let body = br#"{"data":[
            {"relationships":{"org":{"data":{"id":"o-1","type":"orgs"}}}},
            {"relationships":{"org":{"data":{"id":"o-2","type":"orgs"}}}}
        ]}"#;
        assert_eq!(org_of_users(body), None);
    }

    #[test]
    fn odd_answers_confirm_none_and_never_panic() {
        for body in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"data\":[]}",
            b"{\"data\":[{}]}",
            b"{\"data\":[{\"relationships\":{\"org\":{\"data\":null}}}]}",
            b"{\"data\":[{\"relationships\":{\"org\":{\"data\":{\"id\":\"\"}}}}]}",
            b"{\"data\":[{\"relationships\":{\"org\":{\"data\":{\"id\":\"o\",\"type\":\"users\"}}}}]}",
            b"{\"data\":\"x\"}",
        ] {
            assert_eq!(org_of_users(body), None, "{}", String::from_utf8_lossy(body));
        }
    }
}
