//! The few HTML pages the install flow shows a person, and the headers every flow response
//! carries.

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use crate::site::Domain;

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A page: `title` and `body` (already escaped HTML).
pub(crate) fn html(status: StatusCode, title: &str, body: &str) -> Response<String> {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;line-height:1.5}}\
         li{{margin:.3em 0}}</style></head>\n<body><h1>{t}</h1>\n{body}\n</body></html>\n",
        t = escape(title)
    );
    let mut response = Response::new(page);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    with_flow_headers(response)
}

/// A redirect to `location` (already checked by the caller).
pub(crate) fn redirect(location: &str) -> Response<String> {
    let mut response = Response::new(String::new());
    *response.status_mut() = StatusCode::FOUND;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    with_flow_headers(response)
}

/// No caching anywhere (the pages are per person and per flow), no Referer leaving them (the
/// callback URL holds a code), no framing, no scripts.
pub(crate) fn with_flow_headers(mut response: Response<String>) -> Response<String> {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    response
}

/// The page that lets a person pick their Datadog site when the flow did not start on the tile.
pub(crate) fn site_picker(integration: &str, onboarding_path: &str) -> Response<String> {
    let mut items = String::new();
    for domain in Domain::ALL {
        let href = format!(
            "{onboarding_path}?site={}&domain={}",
            url_encode(&format!("https://{}", domain.ui_host())),
            url_encode(domain.as_str())
        );
        items.push_str(&format!(
            "<li><a href=\"{}\">{} <small>({})</small></a></li>",
            escape(&href),
            escape(domain.name()),
            escape(domain.ui_host())
        ));
    }
    let body = format!(
        "<p>Which Datadog site is your organization on? It is the address you use to reach Datadog.</p>\
         <ul>{items}</ul><p>Connecting from the {} tile in Datadog's Integrations page chooses the site for you.</p>",
        escape(integration)
    );
    html(
        StatusCode::OK,
        &format!("Connect {integration} to Datadog"),
        &body,
    )
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralizes_markup() {
        assert_eq!(
            escape("<script>\"x\"&'y'</script>\u{7}"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn every_page_carries_the_flow_headers() {
        for response in [
            html(StatusCode::OK, "t", "b"),
            redirect("/x"),
            site_picker("Acme", "/connect"),
        ] {
            let h = response.headers();
            assert_eq!(h[header::CACHE_CONTROL], "no-store");
            assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        }
    }

    #[test]
    fn site_picker_lists_all_nine_regions() {
        let page = site_picker("Acme", "/connect").into_body();
        for domain in Domain::ALL {
            assert!(page.contains(domain.name()), "{}", domain.name());
        }
        assert!(
            page.contains("/connect?site=https%3A%2F%2Fapp.datadoghq.eu&amp;domain=datadoghq.eu")
        );
    }
}
