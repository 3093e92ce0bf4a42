//! A minimal browser for tests: follows an authorize URL to the callback Datadog redirects to.

use reqwest::redirect::Policy;
use url::Url;

/// Why [`Sandbox::authorize`](super::Sandbox::authorize) did not reach a callback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizeError {
    /// Datadog showed an error page instead of redirecting (unknown client, unregistered
    /// redirect URI, unpublished client, no org on the region, a host with no authorize page).
    #[error("Datadog showed an error page ({status}): {text}")]
    Page {
        /// The HTTP status of the page.
        status: u16,
        /// The page's text (HTML).
        text: String,
    },
    /// The request could not be made or the answer could not be read.
    #[error("the authorize request failed: {0}")]
    Transport(String),
}

/// Where an authorize URL really goes: URLs already on the sandbox stay as they are; a
/// `https://<datadog host>/...` URL is sent to `<base>/<datadog host>/...`.
pub(super) fn on_sandbox(base: &Url, url: &Url) -> Url {
    if url.origin() == base.origin() {
        return url.clone();
    }
    let mut text = format!(
        "{}/{}{}",
        base.as_str().trim_end_matches('/'),
        url.host_str().unwrap_or(""),
        url.path()
    );
    if let Some(q) = url.query() {
        text.push('?');
        text.push_str(q);
    }
    Url::parse(&text).unwrap_or_else(|_| url.clone())
}

/// GETs `url` without following redirects; on a consent page, clicks **Authorize**.
pub(super) async fn follow(base: &Url, url: Url) -> Result<Url, AuthorizeError> {
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .map_err(|e| AuthorizeError::Transport(e.to_string()))?;
    let transport = |e: reqwest::Error| AuthorizeError::Transport(e.to_string());
    let mut resp = http.get(url).send().await.map_err(transport)?;
    if resp.status() == reqwest::StatusCode::OK {
        let text = resp.text().await.map_err(transport)?;
        let (Some(action), Some(pending)) = (
            attribute_after(&text, "<form method=\"post\" action=\""),
            attribute_after(&text, "name=\"pending\" value=\""),
        ) else {
            return Err(AuthorizeError::Page { status: 200, text });
        };
        let target = base
            .join(&action)
            .map_err(|e| AuthorizeError::Transport(e.to_string()))?;
        resp = http
            .post(target)
            .form(&[("pending", pending.as_str()), ("decision", "authorize")])
            .send()
            .await
            .map_err(transport)?;
    }
    let status = resp.status();
    if status.is_redirection() {
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| AuthorizeError::Transport("a redirect without Location".into()))?;
        return Url::parse(location).map_err(|e| AuthorizeError::Transport(e.to_string()));
    }
    let text = resp.text().await.map_err(transport)?;
    Err(AuthorizeError::Page {
        status: status.as_u16(),
        text,
    })
}

/// The attribute value that follows `marker` (up to the closing quote), HTML entities for
/// `&amp;` undone (the only one the sandbox's own values can contain).
fn attribute_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// Where a Test Authorization ended: the last page the browser showed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TestAuthorization {
    /// The URL of the last page (the partner's callback, when the flow got there).
    pub url: Url,
    /// Its HTTP status.
    pub status: u16,
    /// Its body.
    pub body: String,
    /// Every URL the browser requested, in order.
    pub visited: Vec<Url>,
}

/// Opens `onboarding` with the org's `site` and `domain` like the tile's Connect Accounts (or
/// the Developer Platform's Test Authorization) button, then follows the flow like a browser:
/// cookies kept per host, redirects followed, Authorize clicked on a consent page.
pub(super) async fn test_authorization(
    base: &Url,
    onboarding: &Url,
    org: &super::SandboxOrg,
) -> Result<TestAuthorization, AuthorizeError> {
    let site = &org.site;
    // The browser is logged in to Datadog as a user of `org`.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(
        &format!("{}={}; Path=/", super::oauth::SESSION_COOKIE, org.id),
        base,
    );
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_provider(jar)
        .build()
        .map_err(|e| AuthorizeError::Transport(e.to_string()))?;
    let transport = |e: reqwest::Error| AuthorizeError::Transport(e.to_string());
    let mut url = onboarding.clone();
    url.query_pairs_mut()
        .append_pair("site", &site.origin())
        .append_pair("domain", site.domain().as_str());
    let mut visited = Vec::new();
    let mut resp = http.get(url.clone()).send().await.map_err(transport)?;
    visited.push(url.clone());
    for _ in 0..10 {
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| AuthorizeError::Transport("a redirect without Location".into()))?;
            url = url
                .join(location)
                .map_err(|e| AuthorizeError::Transport(e.to_string()))?;
            // Everything under test runs on this machine; a redirect elsewhere (to the real
            // Datadog, say) means the integration was not pointed at the sandbox.
            if !is_loopback(&url) {
                return Err(AuthorizeError::Transport(format!(
                    "the flow left this machine for {}: build the integration with Sandbox::endpoints()",
                    url.host_str().unwrap_or("?")
                )));
            }
            resp = http.get(url.clone()).send().await.map_err(transport)?;
            visited.push(url.clone());
            continue;
        }
        let body = resp.text().await.map_err(transport)?;
        let consent = (url.origin() == base.origin())
            .then(|| {
                Some((
                    attribute_after(&body, "<form method=\"post\" action=\"")?,
                    attribute_after(&body, "name=\"pending\" value=\"")?,
                ))
            })
            .flatten();
        if let Some((action, pending)) = consent {
            let target = base
                .join(&action)
                .map_err(|e| AuthorizeError::Transport(e.to_string()))?;
            resp = http
                .post(target.clone())
                .form(&[("pending", pending.as_str()), ("decision", "authorize")])
                .send()
                .await
                .map_err(transport)?;
            visited.push(target);
            continue;
        }
        return Ok(TestAuthorization {
            url,
            status: status.as_u16(),
            body,
            visited,
        });
    }
    Err(AuthorizeError::Transport("more than 10 redirects".into()))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
