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

/// How the install flow's pages look: the partner's brand. The SDK writes each page's text (a
/// title and a body of escaped HTML) and sets its headers, whatever the template returns: no
/// caching, no Referer, no framing, and a Content-Security-Policy of `default-src 'none'` with
/// inline styles only, so that no template can add a script, an outside font or image, or a
/// form posting elsewhere.
pub trait PageTemplate: Send + Sync + 'static {
    /// The whole HTML document of one page.
    fn render(&self, page: &PageContent<'_>) -> String;
}

/// What one page says, for a [`PageTemplate`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PageContent<'a> {
    /// The title, plain text: escape it ([`PageContent::escaped_title`]).
    pub title: &'a str,
    /// The body, HTML that the SDK escaped and composed: insert it as it is.
    pub body_html: &'a str,
    /// The HTTP status the page goes out with (200 for success, 4xx and 5xx for failures).
    pub status: u16,
}

impl PageContent<'_> {
    /// The title, escaped for HTML.
    pub fn escaped_title(&self) -> String {
        escape(self.title)
    }
}

/// The SDK's own pages, with the partner's CSS added after its own
/// ([`InstallerBuilder::page_style`](crate::install::InstallerBuilder::page_style)).
#[derive(Debug, Clone, Default)]
pub struct DefaultPages {
    css: String,
}

impl DefaultPages {
    /// The SDK's pages, styled further with `css` (inline: colours, fonts, spacing). A `<` in
    /// it is escaped, so that the stylesheet cannot end the `<style>` element.
    pub fn with_style(css: &str) -> DefaultPages {
        DefaultPages {
            css: css.replace('<', "\\3c "),
        }
    }
}

impl PageTemplate for DefaultPages {
    fn render(&self, page: &PageContent<'_>) -> String {
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;line-height:1.5}}\
             li{{margin:.3em 0}}{css}</style></head>\n<body><h1>{t}</h1>\n{body}\n</body></html>\n",
            t = page.escaped_title(),
            css = self.css,
            body = page.body_html,
        )
    }
}

/// A page: `title` and `body` (already escaped HTML), rendered by `template`.
pub(crate) fn html(
    template: &dyn PageTemplate,
    status: StatusCode,
    title: &str,
    body: &str,
) -> Response<String> {
    let page = template.render(&PageContent {
        title,
        body_html: body,
        status: status.as_u16(),
    });
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
pub(crate) fn site_picker(
    template: &dyn PageTemplate,
    integration: &str,
    onboarding_path: &str,
) -> Response<String> {
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
        template,
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
            html(&DefaultPages::default(), StatusCode::OK, "t", "b"),
            redirect("/x"),
            site_picker(&DefaultPages::default(), "Acme", "/connect"),
        ] {
            let h = response.headers();
            assert_eq!(h[header::CACHE_CONTROL], "no-store");
            assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        }
    }

    #[test]
    fn site_picker_lists_all_nine_regions() {
        let page = site_picker(&DefaultPages::default(), "Acme", "/connect").into_body();
        for domain in Domain::ALL {
            assert!(page.contains(domain.name()), "{}", domain.name());
        }
        assert!(
            page.contains("/connect?site=https%3A%2F%2Fapp.datadoghq.eu&amp;domain=datadoghq.eu")
        );
    }
}
