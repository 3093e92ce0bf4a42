//! OAuth 2.0 as Datadog runs it for partner clients: the authorize page (with its error pages,
//! error redirects and consent page), the token endpoint (authorization code with PKCE S256,
//! refresh with rotation) and RFC 7009 revocation.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use super::ids;
use super::server::{Call, content_type, form_params, json_response, read_body};
use super::state::{
    Access, Approval, Client, Code, Consent, Grant, Pending, Refresh, Shared, State,
};

const INVALID_CLIENT_ID: &str = "invalid_request - Invalid client_id parameter value";
const MISMATCHING_REDIRECT: &str = "invalid_request - Mismatching redirect URI";
const BAD_CODE: &str = "Invalid code or code verifier";
const BAD_REFRESH: &str = "Invalid refresh token";
/// OAuth form bodies are small; anything near this is not a client talking OAuth.
const FORM_CAP: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Authorize

/// `GET /{ui host}/oauth2/v1/authorize`.
pub(super) fn authorize(shared: &Shared, call: Call) -> Response {
    let q = form_params(call.query.as_deref().unwrap_or("").as_bytes());
    let site = call
        .site
        .expect("the authorize endpoint is served on UI hosts only");
    let mut st = shared.lock();

    let Some(client) = q.get("client_id").and_then(|id| st.client(id)) else {
        tracing::info!("sandbox authorize: unknown client_id");
        return error_page(INVALID_CLIENT_ID);
    };
    let client_id = client.public.client_id.clone();
    // The org: the vanity host's; else the one the browser is logged in to (the sandbox's
    // session cookie, as Datadog's own session decides); else the one named by dd_oid; else the
    // first org of the region.
    let on_region = |id: &str| st.org(id).filter(|o| o.public.domain == site.domain());
    let org = match site.vanity() {
        Some(label) => st.vanity_org(site.domain(), label),
        None => session_org(&call.headers)
            .and_then(|id| on_region(&id))
            .or_else(|| q.get("dd_oid").and_then(|id| on_region(id)))
            .or_else(|| st.first_org_on(site.domain())),
    };
    let Some(org) = org else {
        return error_page(&format!(
            "No organization is logged in on {} ({}): add one with Sandbox::add_org.",
            site.domain().name(),
            site.domain()
        ));
    };
    if let Some(dev) = &client.developer_org
        && *dev != org.public.id
    {
        tracing::info!(client_id = %client_id, "sandbox authorize: unpublished client used outside its developer org");
        return error_page(INVALID_CLIENT_ID);
    }
    // Compared exactly, and kept as sent: the token request must repeat this very string.
    let registered = q
        .get("redirect_uri")
        .filter(|r| client.public.redirect_uris.iter().any(|u| u == *r))
        .cloned();
    let Some((redirect_uri, redirect)) =
        registered.and_then(|r| Url::parse(&r).ok().map(|u| (r, u)))
    else {
        tracing::info!(client_id = %client_id, "sandbox authorize: redirect URI not registered");
        return error_page(MISMATCHING_REDIRECT);
    };
    let state = q.get("state").cloned();
    let fail = |error: &str, description: &str| {
        tracing::info!(client_id = %client_id, error, "sandbox authorize: error redirect");
        error_redirect(&redirect, error, description, state.as_deref())
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return fail(
            "unsupported_response_type",
            "The authorization server supports only response_type=code",
        );
    }
    let challenge = match (q.get("code_challenge"), q.get("code_challenge_method")) {
        (Some(c), Some(m)) if m == "S256" && is_pkce_value(c) => c.clone(),
        _ => {
            return fail(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            );
        }
    };
    let mut scopes: Vec<String> = client
        .public
        .scopes
        .iter()
        .filter(|s| org.grantable.as_ref().is_none_or(|g| g.contains(s)))
        .cloned()
        .collect();
    if let Some(asked) = q.get("scope") {
        let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
        scopes.retain(|s| asked.contains(&s.as_str()));
        if scopes.is_empty() {
            return fail(
                "invalid_scope",
                "None of the requested scopes is configured on this client and grantable by this organization",
            );
        }
    }
    let approval = Approval {
        host: call.host.clone(),
        client_id: client_id.clone(),
        org_id: org.public.id.clone(),
        redirect_uri,
        state: state.clone(),
        challenge,
        scopes,
    };
    match st.settings.consent {
        Consent::Auto => approve(&mut st, approval, &redirect),
        Consent::Deny => fail(
            "access_denied",
            "The user denied access to this application",
        ),
        Consent::Page => {
            let id = ids::opaque();
            let page = consent_page(
                &call.host,
                &id,
                &client.public.name,
                &org.public.name,
                &approval.scopes,
            );
            let (now, ttl) = (st.now(), st.settings.code_ttl);
            st.pending.retain(|_, p| p.issued + ttl > now);
            st.pending.insert(
                id,
                Pending {
                    host: call.host,
                    issued: now,
                    approval,
                },
            );
            tracing::info!(client_id = %client_id, "sandbox authorize: consent page served");
            page
        }
    }
}

/// `POST /{ui host}/oauth2/v1/authorize/decision`: the consent page's buttons.
pub(super) async fn decision(shared: &Shared, call: Call) -> Response {
    let Some(bytes) = read_body(call.body, FORM_CAP).await else {
        return error_page("invalid_request - Malformed consent form");
    };
    if content_type(&call.headers).as_deref() != Some("application/x-www-form-urlencoded") {
        return error_page("invalid_request - Malformed consent form");
    }
    let form = form_params(&bytes);
    let mut st = shared.lock();
    // The pending id is single-use, unguessable and bound to the host that served the page: it
    // doubles as the form's CSRF token.
    let pending = form.get("pending").and_then(|id| st.pending.remove(id));
    let ttl = st.settings.code_ttl;
    let now = st.now();
    let Some(pending) = pending.filter(|p| p.host == call.host && p.issued + ttl > now) else {
        return error_page(
            "invalid_request - This authorization request has expired or was already answered",
        );
    };
    let Ok(redirect) = Url::parse(&pending.approval.redirect_uri) else {
        return error_page(MISMATCHING_REDIRECT);
    };
    match form.get("decision").map(String::as_str) {
        Some("authorize") => approve(&mut st, pending.approval, &redirect),
        _ => {
            tracing::info!(client_id = %pending.approval.client_id, "sandbox authorize: user denied");
            error_redirect(
                &redirect,
                "access_denied",
                "The user denied access to this application",
                pending.approval.state.as_deref(),
            )
        }
    }
}

/// Issues a code and redirects to the callback with what Datadog adds to it.
fn approve(st: &mut State, approval: Approval, redirect: &Url) -> Response {
    let org = st
        .org(&approval.org_id)
        .expect("approvals name an existing org");
    let (domain, org_id, org_name) = (
        org.public.domain,
        org.public.id.clone(),
        org.public.name.clone(),
    );
    let code = ids::opaque();
    let mut target = redirect.clone();
    {
        let mut pairs = target.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(s) = &approval.state {
            pairs.append_pair("state", s);
        }
        pairs
            .append_pair("domain", domain.as_str())
            .append_pair("site", &format!("https://{}", approval.host))
            .append_pair("dd_oid", &org_id)
            .append_pair("dd_org_name", &org_name);
    }
    tracing::info!(client_id = %approval.client_id, org_id = %org_id, "sandbox authorize: code issued");
    let issued = st.now();
    st.codes.insert(
        code,
        Code {
            approval,
            issued,
            used: false,
            grant: None,
        },
    );
    found(&target)
}

fn error_redirect(redirect: &Url, error: &str, description: &str, state: Option<&str>) -> Response {
    let mut target = redirect.clone();
    {
        let mut pairs = target.query_pairs_mut();
        pairs
            .append_pair("error", error)
            .append_pair("error_description", description);
        if let Some(s) = state {
            pairs.append_pair("state", s);
        }
    }
    found(&target)
}

fn found(target: &Url) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(target.as_str()) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

fn error_page(message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Datadog - Authorization error</title></head>\n\
         <body><h1>Authorization error</h1>\n<p class=\"error\">{}</p>\n</body></html>\n",
        escape(message)
    );
    html(StatusCode::BAD_REQUEST, body)
}

fn consent_page(host: &str, pending: &str, client: &str, org: &str, scopes: &[String]) -> Response {
    let items: String = scopes
        .iter()
        .map(|s| format!("<li class=\"scope\">{}</li>", escape(s)))
        .collect();
    let body = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Datadog - Authorize {client}</title></head>\n\
         <body><h1>Authorize {client}</h1>\n<p>{client} is requesting access to the Datadog organization \
         <strong>{org}</strong> with these scopes:</p>\n<ul>{items}</ul>\n\
         <form method=\"post\" action=\"/{host}/oauth2/v1/authorize/decision\">\n\
         <input type=\"hidden\" name=\"pending\" value=\"{pending}\">\n\
         <button type=\"submit\" name=\"decision\" value=\"authorize\">Authorize</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n\
         </form></body></html>\n",
        client = escape(client),
        org = escape(org),
        host = escape(host),
        pending = escape(pending),
    );
    let mut resp = html(StatusCode::OK, body);
    let h = resp.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    resp
}

fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]` (verifiers and S256 challenges).
fn is_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

// ---------------------------------------------------------------------------------------------
// Token

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = json_response(
        status,
        json!({ "error": error, "error_description": description }),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// Why client authentication failed.
enum Refusal {
    UnknownClient,
    BadSecret,
}

impl Refusal {
    fn response(self) -> Response {
        match self {
            Refusal::UnknownClient => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Invalid client_id parameter value",
            ),
            Refusal::BadSecret => oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            ),
        }
    }
}

/// `client_secret_post`: the client id and secret in the body.
fn authenticate_client(st: &State, p: &HashMap<String, String>) -> Result<Client, Refusal> {
    let Some(client) = p.get("client_id").and_then(|id| st.client(id)) else {
        tracing::info!("sandbox oauth: unknown client_id");
        return Err(Refusal::UnknownClient);
    };
    let ok = p
        .get("client_secret")
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(client.public.client_secret.as_bytes())));
    if !ok {
        tracing::info!(client_id = %client.public.client_id, "sandbox oauth: client authentication failed");
        return Err(Refusal::BadSecret);
    }
    Ok(Client {
        public: client.public.clone(),
        developer_org: client.developer_org.clone(),
    })
}

/// `POST /{api host}/oauth2/v1/token`.
pub(super) async fn token(shared: &Shared, call: Call) -> Response {
    let Some(bytes) = read_body(call.body, FORM_CAP).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Request body too large",
        );
    };
    let params = match content_type(&call.headers).as_deref() {
        Some("application/x-www-form-urlencoded") => form_params(&bytes),
        Some("application/json") => match json_params(&bytes) {
            Some(p) => p,
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Malformed JSON body",
                );
            }
        },
        // Datadog's troubleshooting notes: a wrong content type surfaces as this error.
        _ => return invalid_grant(BAD_CODE),
    };
    let mut st = shared.lock();
    let client = match authenticate_client(&st, &params) {
        Ok(c) => c,
        Err(refusal) => return refusal.response(),
    };
    let resp = match params.get("grant_type").map(String::as_str) {
        Some("authorization_code") => code_grant(&mut st, &client, call.domain, &params),
        Some("refresh_token") => refresh_grant(&mut st, &client, call.domain, &params),
        Some(_) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Supported grant types: authorization_code, refresh_token",
        ),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing grant_type parameter",
        ),
    };
    tracing::info!(client_id = %client.public.client_id, status = resp.status().as_u16(), "sandbox token");
    resp
}

fn json_params(bytes: &[u8]) -> Option<HashMap<String, String>> {
    let Value::Object(map) = serde_json::from_slice(bytes).ok()? else {
        return None;
    };
    Some(
        map.into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                Value::Number(n) => Some((k, n.to_string())),
                Value::Bool(b) => Some((k, b.to_string())),
                _ => None,
            })
            .collect(),
    )
}

fn code_grant(
    st: &mut State,
    client: &Client,
    host_domain: crate::site::Domain,
    p: &HashMap<String, String>,
) -> Response {
    let now = st.now();
    let ttl = st.settings.code_ttl;
    let Some(code) = p.get("code").and_then(|c| st.codes.get_mut(c)) else {
        return invalid_grant(BAD_CODE);
    };
    if code.used {
        // RFC 6749 §4.1.2: a code presented twice revokes what was issued from it.
        let grant = code.grant;
        if let Some(g) = grant {
            st.revoke_grant(g);
        }
        tracing::info!(client_id = %client.public.client_id, "sandbox token: authorization code re-used, grant revoked");
        return invalid_grant(BAD_CODE);
    }
    // Every exchange attempt spends the code, successful or not.
    code.used = true;
    let approval = code.approval.clone();
    if code.issued + ttl <= now {
        return invalid_grant(BAD_CODE);
    }
    if approval.client_id != client.public.client_id {
        return invalid_grant(BAD_CODE);
    }
    let Some(org) = st.org(&approval.org_id) else {
        return invalid_grant(BAD_CODE);
    };
    let domain = org.public.domain;
    if domain != host_domain {
        return invalid_grant(BAD_CODE);
    }
    if p.get("redirect_uri") != Some(&approval.redirect_uri) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Mismatching redirect URI",
        );
    }
    let verified = p.get("code_verifier").is_some_and(|v| {
        is_pkce_value(v) && {
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
            bool::from(computed.as_bytes().ct_eq(approval.challenge.as_bytes()))
        }
    });
    if !verified {
        return invalid_grant(BAD_CODE);
    }
    let grant = st.grants.len();
    st.grants.push(Grant {
        org_id: approval.org_id.clone(),
        domain,
        client_id: approval.client_id.clone(),
        scopes: approval.scopes.clone(),
        revoked: false,
    });
    if let Some(c) = p.get("code").and_then(|c| st.codes.get_mut(c)) {
        c.grant = Some(grant);
    }
    issue(st, grant, None)
}

fn refresh_grant(
    st: &mut State,
    client: &Client,
    host_domain: crate::site::Domain,
    p: &HashMap<String, String>,
) -> Response {
    let Some(token) = p.get("refresh_token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing refresh_token parameter",
        );
    };
    let strict = st.settings.strict_rotation;
    let Some(record) = st.refresh.get(token) else {
        return invalid_grant(BAD_REFRESH);
    };
    let grant_id = record.grant;
    let usable = !record.used || (!strict && !record.superseded);
    let parent = record.parent.clone();
    let Some(grant) = st.grants.get(grant_id) else {
        return invalid_grant(BAD_REFRESH);
    };
    if grant.revoked
        || !usable
        || grant.client_id != client.public.client_id
        || grant.domain != host_domain
    {
        return invalid_grant(BAD_REFRESH);
    }
    if let Some(r) = st.refresh.get_mut(token) {
        r.used = true;
    }
    // The token this one replaced dies now that its successor has been used.
    if let Some(r) = parent.and_then(|p| st.refresh.get_mut(&p)) {
        r.superseded = true;
    }
    issue(st, grant_id, Some(token.clone()))
}

fn issue(st: &mut State, grant: usize, parent: Option<String>) -> Response {
    let access = ids::opaque();
    let refresh = ids::opaque();
    let ttl = st.settings.access_token_ttl;
    let expires = st.now() + ttl;
    st.access.insert(access.clone(), Access { grant, expires });
    st.refresh.insert(
        refresh.clone(),
        Refresh {
            grant,
            used: false,
            parent,
            superseded: false,
        },
    );
    let scope = st.grants[grant].scopes.join(" ");
    let mut resp = json_response(
        StatusCode::OK,
        json!({
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
            "scope": scope,
        }),
    );
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

// ---------------------------------------------------------------------------------------------
// Revoke

/// `POST /{api host}/oauth2/v1/revoke` (RFC 7009).
pub(super) async fn revoke(shared: &Shared, call: Call) -> Response {
    let Some(bytes) = read_body(call.body, FORM_CAP).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Request body too large",
        );
    };
    if content_type(&call.headers).as_deref() != Some("application/x-www-form-urlencoded") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be application/x-www-form-urlencoded",
        );
    }
    let p = form_params(&bytes);
    let mut st = shared.lock();
    let client = match authenticate_client(&st, &p) {
        Ok(c) => c,
        Err(refusal) => return refusal.response(),
    };
    let Some(token) = p.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing token parameter",
        );
    };
    let grant = st
        .access
        .get(token)
        .map(|a| a.grant)
        .or_else(|| st.refresh.get(token).map(|r| r.grant));
    // A token of another client or another region is "unknown" here: 200, nothing revoked.
    let owned = grant.filter(|g| {
        st.grants
            .get(*g)
            .is_some_and(|g| g.client_id == client.public.client_id && g.domain == call.domain)
    });
    if let Some(g) = owned {
        st.revoke_grant(g);
    }
    tracing::info!(client_id = %client.public.client_id, revoked = owned.is_some(), "sandbox revoke");
    let mut resp = StatusCode::OK.into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The name of the sandbox's login-session cookie: its value is the id of the org the browser
/// is logged in to.
pub const SESSION_COOKIE: &str = "dd_sandbox_session";

fn session_org(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}
