//! The redirect and onboarding URLs: what Datadog's Developer Platform accepts.
//!
//! Deliberately narrower than RFC 3986: a declared URL is a constant the partner controls, so
//! anything unusual (user info, IP literals other than loopback, templates, non-ASCII hosts) is
//! refused with a message saying what to write instead.

/// A URL that passed [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUrl {
    /// The host, lowercase (`acme.example`, `localhost`, `[::1]`).
    pub host: String,
    /// Whether the host is loopback (plain http allowed, for development).
    pub loopback: bool,
}

/// Checks a redirect URI: absolute, https (http only on loopback), a lowercase DNS host with no
/// placeholder, no user info, no fragment (RFC 6749 §3.1.2), no template or unencoded special
/// character. The error completes "`<url>` ...".
pub fn check(url: &str) -> Result<CheckedUrl, String> {
    check_url(url, false)
}

/// Checks an onboarding URL: as [`check`], but a fragment is allowed. Datadog sends the
/// customer's browser there from the tile, and a single-page app may route on the fragment
/// (merged integrations do); RFC 6749 forbids a fragment only in a redirect URI.
pub fn check_onboarding(url: &str) -> Result<CheckedUrl, String> {
    check_url(url, true)
}

fn check_url(url: &str, fragment_allowed: bool) -> Result<CheckedUrl, String> {
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "contains {}: a URL has no whitespace or control characters",
            c.escape_debug()
        ));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("is not an absolute URL: write `https://<host>/<path>`".into());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let tail = match tail.split_once('#') {
        Some(_) if !fragment_allowed => {
            return Err(
                "has a fragment (`#...`): a redirect URI has none (RFC 6749 §3.1.2)".into(),
            );
        }
        Some((before, _)) => before,
        None => tail,
    };
    if let Some(c) = tail.chars().find(|c| "{}<>\"\\`^|".contains(*c)) {
        return Err(if c == '{' || c == '}' {
            "holds a template (`{...}`): declare the exact URL Datadog will call".into()
        } else {
            format!("contains `{c}`: percent-encode it")
        });
    }
    if !url.is_ascii() {
        return Err("holds non-ASCII characters: percent-encode them (punycode for a host)".into());
    }
    if authority.contains('@') {
        return Err("carries user info (`user@`): remove it".into());
    }
    let (host, port) = split_port(authority)?;
    if let Some(port) = port {
        let digits = port.chars().all(|c| c.is_ascii_digit());
        if !digits || !matches!(port.parse::<u16>(), Ok(1..)) {
            return Err(format!("has an invalid port `{port}`"));
        }
    }
    check_host(host)?;
    let loopback = is_loopback(host);
    match scheme {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(
                "uses http: Datadog requires https (plain http only on loopback, for development)"
                    .into(),
            );
        }
        other => return Err(format!("uses `{other}`: Datadog requires https")),
    }
    Ok(CheckedUrl {
        host: host.to_owned(),
        loopback,
    })
}

/// For a redirect URI, which Datadog compares byte for byte with the one the SDK sends: refuses
/// what a URL parser rewrites (a default port, `.` or `..` segments, a query after an empty
/// path), so that the URL registered from the declaration is the URL sent. An empty path alone
/// is kept: the SDK sends such a URI exactly as written (merged integrations register them,
/// blink's `https://sso-app.blinkops.com`) and serves its callback at `/`. Run after
/// [`check`].
pub fn sent_as_written(url: &str) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let default_port = match scheme {
        "https" => ":443",
        _ => ":80",
    };
    if authority.ends_with(default_port) {
        return Err(format!(
            "has the default port `{default_port}`: write it without (the URL is sent without \
             it, and Datadog compares the redirect URI byte for byte)"
        ));
    }
    if !tail.starts_with('/') && !tail.is_empty() {
        return Err(format!(
            "has a query but no path: write `{scheme}://{authority}/{tail}` (it is sent with \
             the `/`, and Datadog compares the redirect URI byte for byte)"
        ));
    }
    let path = tail.split('?').next().unwrap_or_default();
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(
            "has a `.` or `..` path segment: write the path it resolves to (it is sent \
             resolved, and Datadog compares the redirect URI byte for byte)"
                .into(),
        );
    }
    Ok(())
}

/// `host` and the port after `:`, if any; IPv6 literals in brackets.
fn split_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if authority.starts_with('[') {
        let Some(close) = authority.find(']') else {
            return Err("has an unclosed `[` in its host".into());
        };
        let (host, after) = authority.split_at(close + 1);
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(format!("has `{after}` after its host")),
        };
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("has no host".into());
    }
    if host.contains(['*', '{', '}', '%', '$', '<']) {
        return Err(
            "has a placeholder in its host: Datadog does not support per-customer subdomains, \
             so every customer must use the same host"
                .into(),
        );
    }
    if host.starts_with('[') {
        return if host == "[::1]" {
            Ok(())
        } else {
            Err("has an IPv6 host: only `[::1]` (loopback) is accepted".into())
        };
    }
    if host.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "has the host `{host}`: write it in lowercase (`{}`), as Datadog compares URLs \
             exactly",
            host.to_ascii_lowercase()
        ));
    }
    if let Some(c) = host
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(format!("has `{c}` in its host `{host}`"));
    }
    if host
        .split('.')
        .any(|label| label.is_empty() || label.starts_with('-') || label.ends_with('-'))
    {
        return Err(format!("has the malformed host `{host}`"));
    }
    if !host.contains('.') && host != "localhost" {
        return Err(format!(
            "has the host `{host}`, which is not a public host name"
        ));
    }
    Ok(())
}

/// Whether `host` (a URL's host, IPv6 in brackets) is loopback, the only place plain http is
/// allowed (development, the sandbox): `localhost` in any case, `127.0.0.0/8` and `[::1]`. A
/// subdomain of `localhost` is not: not every resolver keeps it on the machine. The macro, the
/// runtime's endpoint override, OAuth client and installer, and the validator all ask this.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> CheckedUrl {
        check(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn err(url: &str) -> String {
        check(url).expect_err(url)
    }

    #[test]
    fn accepts_https_and_loopback_http() {
        assert!(!ok("https://acme.example/datadog/callback").loopback);
        assert!(!ok("https://acme.example").loopback);
        assert!(!ok("https://acme.example:8443/cb?x=1").loopback);
        assert!(ok("http://localhost:3000/cb").loopback);
        assert!(ok("http://127.0.0.1/cb").loopback);
        assert!(ok("http://[::1]:8080/cb").loopback);
        assert!(ok("http://127.0.0.2:8080/cb").loopback);
        assert!(err("http://app.localhost/cb").contains("requires https"));
        assert!(is_loopback("LOCALHOST") && is_loopback("[::1]") && is_loopback("127.9.9.9"));
        assert!(!is_loopback("localhost.acme.example") && !is_loopback("[::2]"));
        assert!(!is_loopback("128.0.0.1") && !is_loopback("app.localhost"));
        assert!(ok("https://localhost/cb").loopback);
    }

    #[test]
    fn refuses_what_datadog_refuses() {
        assert!(err("acme.example/cb").contains("not an absolute URL"));
        assert!(err("/callback").contains("not an absolute URL"));
        assert!(err("http://acme.example/cb").contains("requires https"));
        assert!(err("ftp://acme.example/cb").contains("`ftp`"));
        assert!(err("https://acme.example/cb#done").contains("fragment"));
        assert!(err("https://acme.example#x").contains("fragment"));
        assert!(check_onboarding("https://acme.example/app#/datadog").is_ok());
        assert!(check_onboarding("https://acme.example/{x}#/datadog").is_err());
        assert!(err("https://{customer}.acme.example/cb").contains("per-customer subdomains"));
        assert!(err("https://*.acme.example/cb").contains("per-customer subdomains"));
        assert!(err("https://acme.example/{tenant}/cb").contains("template"));
        assert!(err("https://user:pw@acme.example/cb").contains("user info"));
        assert!(err("https://Acme.example/cb").contains("lowercase"));
        assert!(err("https://acme.example:0/cb").contains("port"));
        assert!(err("https://acme.example:99999/cb").contains("port"));
        assert!(err("https://acme.example:/cb").contains("port"));
        assert!(err("https://[2001:db8::1]/cb").contains("IPv6"));
        assert!(err("https://intranet/cb").contains("not a public host"));
        assert!(err("https://acme..example/cb").contains("malformed"));
        assert!(err("https://acme.example/a b").contains("whitespace"));
        assert!(err("https://acme.example/é").contains("non-ASCII"));
        assert!(err("https://acme.example/a\"b").contains("percent-encode"));
        assert!(err("https:///cb").contains("no host"));
    }

    #[test]
    fn a_redirect_is_sent_as_written_or_refused() {
        for url in [
            "https://acme.example/cb",
            "https://acme.example:8443/cb?x=1",
            "http://localhost:3000/",
            "https://acme.example/a.b/..c",
        ] {
            sent_as_written(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        let refused = |url: &str| sent_as_written(url).expect_err(url);
        assert!(refused("https://acme.example:443/cb").contains("default port `:443`"));
        assert!(refused("http://localhost:80/cb").contains("default port `:80`"));
        sent_as_written("https://acme.example").unwrap();
        sent_as_written("https://sso-app.acme.example").unwrap();
        assert!(refused("https://acme.example?x=1").contains("write `https://acme.example/?x=1`"));
        assert!(refused("https://acme.example/a/../cb").contains("`..`"));
        assert!(refused("https://acme.example/./cb").contains("`.`"));
        assert!(refused("https://acme.example/cb/..?x=1").contains("`..`"));
    }
}
