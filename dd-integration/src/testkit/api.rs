//! Datadog's API endpoints the partner flow touches: the marketplace API key (Bearer),
//! API key validation, and a monitor listing (a scope-gated OAuth call).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::clock::rfc3339;
use super::ids;
use super::server::{Call, api_error, header_text, json_response};
use super::state::{ApiKey, Grant, Shared, State};
use crate::site::Domain;

/// The grant behind the request's Bearer token, if it is live and belongs to this region.
fn bearer<'s>(st: &'s State, headers: &HeaderMap, domain: Domain) -> Option<&'s Grant> {
    let token = header_text(headers, header::AUTHORIZATION.as_str())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())?;
    st.live_access(token).filter(|g| g.domain == domain)
}

fn unauthorized() -> Response {
    api_error(StatusCode::UNAUTHORIZED, "Unauthorized")
}

/// Datadog refuses OAuth calls that also carry an application key.
fn has_app_key(headers: &HeaderMap) -> bool {
    headers.contains_key("dd-application-key")
}

/// `POST /{api host}/api/v2/api_keys/marketplace`.
pub(super) fn marketplace_key(shared: &Shared, call: Call) -> Response {
    let mut st = shared.lock();
    let Some(grant) = bearer(&st, &call.headers, call.domain) else {
        tracing::info!("sandbox marketplace key: no valid bearer token");
        return unauthorized();
    };
    if has_app_key(&call.headers) || !grant.scopes.iter().any(|s| s == "api_keys_write") {
        tracing::info!(client_id = %grant.client_id, "sandbox marketplace key: forbidden");
        return api_error(StatusCode::FORBIDDEN, "Forbidden");
    }
    let (org_id, client_id) = (grant.org_id.clone(), grant.client_id.clone());
    if st
        .api_keys
        .iter()
        .any(|k| k.org_id == org_id && k.client_id == client_id)
    {
        tracing::info!(client_id = %client_id, org_id = %org_id, "sandbox marketplace key: 409, a key exists");
        return api_error(
            StatusCode::CONFLICT,
            "An API key with this name already exists",
        );
    }
    let client_name = st
        .client(&client_id)
        .map(|c| c.public.name.clone())
        .unwrap_or_default();
    let user = st
        .org(&org_id)
        .map(|o| o.user_id.clone())
        .unwrap_or_default();
    let key = ids::api_key();
    let id = ids::uuid();
    let now = rfc3339(st.now());
    let body = json!({
        "data": {
            "type": "api_keys",
            "id": id,
            "attributes": {
                "created_at": now,
                "key": key,
                "last4": &key[key.len() - 4..],
                "modified_at": now,
                "name": format!("{client_name} OAuth Client API Key {client_id}"),
            },
            "relationships": {
                "created_by": { "data": { "type": "users", "id": user } },
                "modified_by": { "data": { "type": "users", "id": user } },
            },
        }
    });
    st.api_keys.push(ApiKey {
        org_id: org_id.clone(),
        client_id: client_id.clone(),
        key,
    });
    tracing::info!(client_id = %client_id, org_id = %org_id, key_id = %id, "sandbox marketplace key: created");
    json_response(StatusCode::CREATED, body)
}

/// The org an API key belongs to, if the key exists on this region.
pub(super) fn key_org(st: &State, headers: &HeaderMap, domain: Domain) -> Option<String> {
    let key = header_text(headers, "dd-api-key")?;
    let record = st.api_keys.iter().find(|k| k.key == key)?;
    let org = st.org(&record.org_id)?;
    (org.public.domain == domain).then(|| org.public.id.clone())
}

/// `GET /{api host}/api/v1/validate`.
pub(super) fn validate(shared: &Shared, call: Call) -> Response {
    let st = shared.lock();
    match key_org(&st, &call.headers, call.domain) {
        Some(org) => {
            tracing::info!(org_id = %org, "sandbox validate: valid");
            json_response(StatusCode::OK, json!({ "valid": true }))
        }
        None => {
            tracing::info!("sandbox validate: invalid key");
            api_error(StatusCode::FORBIDDEN, "Forbidden")
        }
    }
}

/// `GET /{api host}/api/v1/monitor`: needs `monitors_read`.
pub(super) fn monitors(shared: &Shared, call: Call) -> Response {
    let st = shared.lock();
    let Some(grant) = bearer(&st, &call.headers, call.domain) else {
        tracing::info!("sandbox monitor: no valid bearer token");
        return unauthorized();
    };
    if has_app_key(&call.headers) || !grant.scopes.iter().any(|s| s == "monitors_read") {
        tracing::info!(client_id = %grant.client_id, "sandbox monitor: forbidden");
        return api_error(StatusCode::FORBIDDEN, "Forbidden");
    }
    let list: Vec<Value> = st
        .monitors
        .iter()
        .filter(|(org, _)| *org == grant.org_id)
        .map(|(_, m)| m.clone())
        .collect();
    tracing::info!(client_id = %grant.client_id, count = list.len(), "sandbox monitor: listed");
    json_response(StatusCode::OK, Value::Array(list))
}
