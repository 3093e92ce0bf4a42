//! Datadog's API endpoints the partner flow touches: the marketplace API key (Bearer),
//! API key validation, a monitor listing (a scope-gated OAuth call), and every other operation
//! that accepts an OAuth token ([`ALL_OPERATIONS`]), answered generically.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::clock::rfc3339;
use super::ids;
use super::server::{Call, api_error, header_text, json_response};
use super::state::{Grant, Shared, State};
use crate::api::{ALL_OPERATIONS, Method as ApiMethod, OperationSpec};
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
    if st.api_keys.of(&org_id, &client_id).is_some() {
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
    st.api_keys.insert(&org_id, &client_id, key);
    tracing::info!(client_id = %client_id, org_id = %org_id, key_id = %id, "sandbox marketplace key: created");
    json_response(StatusCode::CREATED, body)
}

/// The org an API key belongs to, if the key exists on this region.
pub(super) fn key_org(st: &State, headers: &HeaderMap, domain: Domain) -> Option<String> {
    let key = header_text(headers, "dd-api-key")?;
    let org = st.org(st.api_keys.org_of(key)?)?;
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

/// `GET /{api host}/api/v2/users`: needs `user_access_read`. Lists the token's org's user, with
/// `relationships.org` naming the org as Datadog's users API does (its id is the org's UUID,
/// the `dd_oid` the callback carries).
pub(super) fn users(shared: &Shared, call: Call) -> Response {
    let st = shared.lock();
    let Some(grant) = bearer(&st, &call.headers, call.domain) else {
        tracing::info!("sandbox users: no valid bearer token");
        return unauthorized();
    };
    if has_app_key(&call.headers) || !grant.scopes.iter().any(|s| s == "user_access_read") {
        tracing::info!(client_id = %grant.client_id, "sandbox users: forbidden");
        return api_error(StatusCode::FORBIDDEN, "Forbidden");
    }
    let Some(org) = st.org(&grant.org_id) else {
        return api_error(StatusCode::NOT_FOUND, "Not found");
    };
    let body = json!({
        "data": [{
            "type": "users",
            "id": org.user_id,
            "attributes": { "status": "Active", "disabled": false },
            "relationships": {
                "org": { "data": { "type": "orgs", "id": org.public.id } },
                "roles": { "data": [] },
            },
        }],
        "meta": { "page": { "total_count": 1, "total_filtered_count": 1 } },
    });
    tracing::info!(client_id = %grant.client_id, org_id = %grant.org_id, "sandbox users: listed");
    json_response(StatusCode::OK, body)
}

impl super::Sandbox {
    /// Issues a marketplace API key for `org_id` as if the OAuth client `client_id` had created
    /// it at install (`POST /api/v2/api_keys/marketplace`), without the OAuth flow: for tests of
    /// the intake alone. Returns the key.
    ///
    /// # Panics
    /// If the org does not exist, or the client already has a key in it (Datadog makes one per
    /// org and client).
    pub fn issue_api_key(&self, org_id: &str, client_id: &str) -> String {
        let mut st = self.shared().lock();
        assert!(st.org(org_id).is_some(), "no sandbox org {org_id}");
        assert!(
            st.api_keys.of(org_id, client_id).is_none(),
            "the client {client_id} already has a key in org {org_id}"
        );
        let key = ids::api_key();
        st.api_keys.insert(org_id, client_id, key.clone());
        key
    }
}

/// The served operation for `method` and `path` (as received, percent-encoded), with its path
/// parameters (raw).
///
/// Every operation of [`ALL_OPERATIONS`] is served generically (the paths with a handler of
/// their own, `GET /api/v1/monitor`, are routed before): Datadog's checks of the bearer token,
/// its region, the absence of an application key and the operation's scopes, then an echo of
/// what was received: `{"operation", "org_id", "path": {param: decoded value}, "query": {..},
/// "body": <JSON or null>}`. Where several templates match (`/incidents/search` and
/// `/incidents/{incident_id}`), the one with the fewest parameters wins, as in Datadog's router.
pub(super) fn served_operation(
    method: &http::Method,
    path: &str,
) -> Option<(OperationSpec, Vec<(&'static str, String)>)> {
    ALL_OPERATIONS
        .iter()
        .filter(|spec| http_method(spec.method) == method)
        .filter_map(|spec| {
            let mut template = spec.path.split('/');
            let mut segments = path.split('/');
            let mut params = Vec::new();
            loop {
                match (template.next(), segments.next()) {
                    (None, None) => return Some((*spec, params)),
                    (Some(t), Some(s)) => {
                        match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                            Some(name) if !s.is_empty() => params.push((name, s.to_owned())),
                            Some(_) => return None,
                            None if t == s => {}
                            None => return None,
                        }
                    }
                    _ => return None,
                }
            }
        })
        .min_by_key(|(_, params)| params.len())
}

fn http_method(method: ApiMethod) -> http::Method {
    match method {
        ApiMethod::Get => http::Method::GET,
        ApiMethod::Post => http::Method::POST,
        ApiMethod::Put => http::Method::PUT,
        ApiMethod::Patch => http::Method::PATCH,
        ApiMethod::Delete => http::Method::DELETE,
    }
}

/// A served operation: Datadog's checks, then an echo of the request.
pub(super) async fn operation(
    shared: &Shared,
    call: Call,
    spec: OperationSpec,
    params: Vec<(&'static str, String)>,
) -> Response {
    let org = {
        let st = shared.lock();
        let Some(grant) = bearer(&st, &call.headers, call.domain) else {
            tracing::info!(operation = spec.id, "sandbox API: no valid bearer token");
            return unauthorized();
        };
        let granted =
            |scope: &crate::scope::Scope| grant.scopes.iter().any(|s| s == scope.as_str());
        if has_app_key(&call.headers) || !spec.scopes.iter().all(granted) {
            tracing::info!(operation = spec.id, client_id = %grant.client_id, "sandbox API: forbidden");
            return api_error(StatusCode::FORBIDDEN, "Forbidden");
        }
        grant.org_id.clone()
    };
    let Some(bytes) = super::server::read_body(call.body, 1 << 20).await else {
        return api_error(StatusCode::PAYLOAD_TOO_LARGE, "Payload too large");
    };
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return api_error(StatusCode::BAD_REQUEST, &format!("Malformed JSON: {e}")),
        }
    };
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let path: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String(decode(v))))
        .collect();
    let query: serde_json::Map<String, Value> = call
        .query
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect()
        })
        .unwrap_or_default();
    tracing::info!(operation = spec.id, org_id = %org, "sandbox API: served");
    json_response(
        StatusCode::OK,
        json!({ "operation": spec.id, "org_id": org, "path": path, "query": query, "body": body }),
    )
}
