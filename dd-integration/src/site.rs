//! Datadog sites and the hosts derived from them.
//!
//! Two values arrive from Datadog's tile and must never be confused:
//! - [`Site`]: the UI origin the user is on, possibly a customer's vanity subdomain
//!   (`acme.datadoghq.com`). It is used for one thing only: the authorize redirect.
//! - [`Domain`]: the region (`datadoghq.eu`, `us3.datadoghq.com`, ...). The token, API and intake
//!   hosts are derived from it alone, never from a vanity subdomain (which has no API
//!   certificate).
//!
//! Both are parsed strictly against the allowlist of Datadog regions: nothing that is not a
//! Datadog host can come out of them, whatever a request carries.

use std::fmt;

/// A Datadog region ("site" in Datadog's docs), identified by its base domain.
///
/// The set is closed: a region Datadog opens later is added here in a release, because the
/// SDK must never contact a host it does not know to be Datadog's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[non_exhaustive]
pub enum Domain {
    /// US1, `datadoghq.com`.
    Us1,
    /// US3, `us3.datadoghq.com`.
    Us3,
    /// US5, `us5.datadoghq.com`.
    Us5,
    /// EU1, `datadoghq.eu`.
    Eu1,
    /// AP1 (Japan), `ap1.datadoghq.com`.
    Ap1,
    /// AP2 (Australia), `ap2.datadoghq.com`.
    Ap2,
    /// US1-FED (GovCloud), `ddog-gov.com`.
    Us1Fed,
    /// US2-FED, `us2.ddog-gov.com`.
    Us2Fed,
    /// UK1, `uk1.datadoghq.com`.
    Uk1,
}

/// Longest base domains first, so that `us3.datadoghq.com` is matched before `datadoghq.com`.
const BY_SUFFIX: [Domain; 9] = [
    Domain::Us3,
    Domain::Us5,
    Domain::Ap1,
    Domain::Ap2,
    Domain::Uk1,
    Domain::Us2Fed,
    Domain::Eu1,
    Domain::Us1,
    Domain::Us1Fed,
];

/// Labels that name Datadog's own service hosts; a site such as `api.datadoghq.com` is not a UI
/// origin and would send the user's browser to the wrong place.
pub(crate) const RESERVED_LABELS: [&str; 12] = [
    "api",
    "http-intake",
    "event-management-intake",
    "intake",
    "trace",
    "metrics",
    "process",
    "otlp",
    "browser-intake",
    "agent",
    "logs",
    "www",
];

/// The longest host name DNS allows.
const MAX_HOST_LEN: usize = 253;
/// The longest label DNS allows.
const MAX_LABEL_LEN: usize = 63;

impl Domain {
    /// Every region, in Datadog's documentation order.
    pub const ALL: [Domain; 9] = [
        Domain::Us1,
        Domain::Us3,
        Domain::Us5,
        Domain::Eu1,
        Domain::Ap1,
        Domain::Ap2,
        Domain::Us1Fed,
        Domain::Us2Fed,
        Domain::Uk1,
    ];

    /// The base domain, as Datadog sends it in the `domain` parameter (`datadoghq.eu`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Domain::Us1 => "datadoghq.com",
            Domain::Us3 => "us3.datadoghq.com",
            Domain::Us5 => "us5.datadoghq.com",
            Domain::Eu1 => "datadoghq.eu",
            Domain::Ap1 => "ap1.datadoghq.com",
            Domain::Ap2 => "ap2.datadoghq.com",
            Domain::Us1Fed => "ddog-gov.com",
            Domain::Us2Fed => "us2.ddog-gov.com",
            Domain::Uk1 => "uk1.datadoghq.com",
        }
    }

    /// Datadog's short name for the region (`US1`, `EU1`, `US1-FED`).
    pub const fn name(self) -> &'static str {
        match self {
            Domain::Us1 => "US1",
            Domain::Us3 => "US3",
            Domain::Us5 => "US5",
            Domain::Eu1 => "EU1",
            Domain::Ap1 => "AP1",
            Domain::Ap2 => "AP2",
            Domain::Us1Fed => "US1-FED",
            Domain::Us2Fed => "US2-FED",
            Domain::Uk1 => "UK1",
        }
    }

    /// The region's standard UI host, where the authorize page lives when no vanity subdomain
    /// is in play. US1, EU1 and US1-FED use `app.<domain>`; the others serve the UI on the bare
    /// domain (`https://datadoghq.com/oauth2/v1/authorize` would be wrong).
    pub const fn ui_host(self) -> &'static str {
        match self {
            Domain::Us1 => "app.datadoghq.com",
            Domain::Eu1 => "app.datadoghq.eu",
            Domain::Us1Fed => "app.ddog-gov.com",
            other => other.as_str(),
        }
    }

    /// The API host (`api.<domain>`): OAuth token and revoke, the marketplace key, the REST API,
    /// metrics, v1 events and service checks.
    pub fn api_host(self) -> String {
        format!("api.{}", self.as_str())
    }

    /// The logs HTTP intake host (`http-intake.logs.<domain>`).
    pub fn logs_intake_host(self) -> String {
        format!("http-intake.logs.{}", self.as_str())
    }

    /// The Event Management intake host (`event-management-intake.<domain>`), for v2 events.
    /// For US2-FED and UK1 it follows the pattern of the other regions; Datadog has not
    /// published it for them.
    pub fn event_intake_host(self) -> String {
        format!("event-management-intake.{}", self.as_str())
    }

    /// Parses the `domain` parameter: exactly one of the nine base domains, any ASCII case.
    ///
    /// A scheme, a prefix such as `app.` or `api.`, a port or a path are all refused: Datadog
    /// sends the bare domain, and anything else is not what Datadog sent.
    pub fn parse(input: &str) -> Result<Domain, SiteError> {
        if input.is_empty() {
            return Err(SiteError::Empty);
        }
        if input.len() > MAX_HOST_LEN {
            return Err(SiteError::TooLong { len: input.len() });
        }
        if !input.is_ascii() {
            return Err(SiteError::NonAscii);
        }
        Domain::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(input))
            .ok_or_else(|| SiteError::UnknownDomain {
                input: shown(input),
            })
    }

    /// The region whose base domain `host` is or ends with (at a label boundary).
    fn matching_suffix(host: &str) -> Option<(Domain, &str)> {
        BY_SUFFIX.into_iter().find_map(|d| {
            let base = d.as_str();
            if host == base {
                return Some((d, ""));
            }
            let prefix = host.strip_suffix(base)?.strip_suffix('.')?;
            Some((d, prefix))
        })
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Domain {
    type Err = SiteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Domain::parse(s)
    }
}

/// The Datadog UI origin a user is on: a region's standard UI host, or a customer's vanity
/// subdomain of it (`acme.datadoghq.com`, `bigcorp.datadoghq.eu`).
///
/// Only the authorize redirect uses the site's host; everything else goes to hosts of
/// [`Site::domain`].
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Site {
    domain: Domain,
    /// The customer's own label, lowercase, when the site is a vanity subdomain.
    vanity: Option<Box<str>>,
}

impl Site {
    /// The standard UI origin of a region.
    pub const fn of(domain: Domain) -> Site {
        Site {
            domain,
            vanity: None,
        }
    }

    /// Parses the `site` parameter, with or without `https://`.
    ///
    /// Accepted: a region's UI host (`app.datadoghq.com`, `us3.datadoghq.com`), a bare region
    /// domain (`datadoghq.eu`, read as that region's UI host), `app.<domain>` for any region, and
    /// one vanity label in front of a region domain (`acme.datadoghq.com`). A lone trailing `/`
    /// is tolerated. Everything else is refused with the reason: other schemes, userinfo, ports,
    /// paths, queries, IP literals, non-ASCII and punycode labels, empty or over-long labels,
    /// look-alike domains, and hosts of Datadog's own services (`api.datadoghq.com`).
    pub fn parse(input: &str) -> Result<Site, SiteError> {
        if input.is_empty() {
            return Err(SiteError::Empty);
        }
        // Checked before any other work so that hostile input costs nothing.
        if input.len() > MAX_HOST_LEN + "https://".len() + 1 {
            return Err(SiteError::TooLong { len: input.len() });
        }
        if !input.is_ascii() {
            return Err(SiteError::NonAscii);
        }
        let rest = match input.find("://") {
            Some(i) if input[..i].eq_ignore_ascii_case("https") => &input[i + 3..],
            Some(_) => {
                return Err(SiteError::Scheme {
                    input: shown(input),
                });
            }
            None => input,
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if let Some(c) = host.chars().find(|c| matches!(c, '/' | '?' | '#' | '\\')) {
            return Err(SiteError::NotAHost {
                input: shown(input),
                found: c,
            });
        }
        if host.contains('@') {
            return Err(SiteError::Userinfo {
                input: shown(input),
            });
        }
        if host.starts_with('[') || host.contains(':') {
            return Err(if host.starts_with('[') {
                SiteError::IpLiteral {
                    input: shown(input),
                }
            } else {
                SiteError::Port {
                    input: shown(input),
                }
            });
        }
        let host = host.to_ascii_lowercase();
        check_labels(&host, input)?;
        if host
            .split('.')
            .all(|l| l.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(SiteError::IpLiteral {
                input: shown(input),
            });
        }
        let (domain, prefix) =
            Domain::matching_suffix(&host).ok_or_else(|| SiteError::NotDatadog {
                input: shown(input),
            })?;
        match prefix {
            "" | "app" => Ok(Site::of(domain)),
            label if label.contains('.') => Err(SiteError::NotDatadog {
                input: shown(input),
            }),
            label if RESERVED_LABELS.contains(&label) => Err(SiteError::ServiceHost {
                input: shown(input),
            }),
            label => Ok(Site {
                domain,
                vanity: Some(label.into()),
            }),
        }
    }

    /// The region of this site: where tokens, API calls and intake go.
    pub const fn domain(&self) -> Domain {
        self.domain
    }

    /// The customer's vanity label (`acme` of `acme.datadoghq.com`), if any.
    pub fn vanity(&self) -> Option<&str> {
        self.vanity.as_deref()
    }

    /// The host of the authorize page: the vanity subdomain when there is one (it routes the
    /// customer's SSO), the region's UI host otherwise.
    pub fn authorize_host(&self) -> String {
        match &self.vanity {
            Some(label) => format!("{label}.{}", self.domain.as_str()),
            None => self.domain.ui_host().to_owned(),
        }
    }

    /// The UI origin with its scheme (`https://acme.datadoghq.com`).
    pub fn origin(&self) -> String {
        format!("https://{}", self.authorize_host())
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.authorize_host())
    }
}

impl std::str::FromStr for Site {
    type Err = SiteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Site::parse(s)
    }
}

impl From<Domain> for Site {
    fn from(domain: Domain) -> Site {
        Site::of(domain)
    }
}

fn check_labels(host: &str, input: &str) -> Result<(), SiteError> {
    if host.len() > MAX_HOST_LEN {
        return Err(SiteError::TooLong { len: host.len() });
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err(SiteError::EmptyLabel {
                input: shown(input),
            });
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(SiteError::TooLong { len: label.len() });
        }
        if label.starts_with("xn--") {
            return Err(SiteError::Punycode {
                input: shown(input),
            });
        }
        let valid = label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid || label.starts_with('-') || label.ends_with('-') {
            return Err(SiteError::BadLabel {
                input: shown(input),
            });
        }
    }
    Ok(())
}

/// Quotes at most 80 characters of untrusted input in an error message, escaped, so that error
/// text cannot be flooded or carry control characters into logs.
fn shown(input: &str) -> String {
    let mut s: String = input
        .chars()
        .take(80)
        .flat_map(char::escape_default)
        .collect();
    if input.chars().count() > 80 {
        s.push('…');
    }
    s
}

/// Why a `site` or `domain` value was refused. Each message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// The value was empty.
    #[error(
        "the Datadog site is empty: start the flow from the integration tile, or let the user pick a site"
    )]
    Empty,
    /// The value is longer than a host name can be.
    #[error("the Datadog site is {len} characters long, more than a host name can be")]
    TooLong {
        /// The offending length.
        len: usize,
    },
    /// The value contains non-ASCII characters.
    #[error(
        "the Datadog site contains non-ASCII characters; Datadog hosts are plain ASCII (internationalized look-alikes are refused)"
    )]
    NonAscii,
    /// A label is punycode (`xn--`).
    #[error("`{input}` contains a punycode label; Datadog hosts have none")]
    Punycode {
        /// The value, escaped and shortened.
        input: String,
    },
    /// A scheme other than `https://`.
    #[error("`{input}` has a scheme other than https://; Datadog sites are https only")]
    Scheme {
        /// The value, escaped and shortened.
        input: String,
    },
    /// A path, query or fragment follows the host.
    #[error(
        "`{input}` is not a bare host (found `{found}`): pass the site exactly as Datadog sent it"
    )]
    NotAHost {
        /// The value, escaped and shortened.
        input: String,
        /// The first character that cannot be part of a host.
        found: char,
    },
    /// The value has userinfo (`user@host`).
    #[error("`{input}` carries userinfo (`@`); a Datadog site never does")]
    Userinfo {
        /// The value, escaped and shortened.
        input: String,
    },
    /// The value has a port.
    #[error("`{input}` carries a port; Datadog sites use the default https port")]
    Port {
        /// The value, escaped and shortened.
        input: String,
    },
    /// The value is an IP literal.
    #[error("`{input}` is an IP address; a Datadog site is a host name")]
    IpLiteral {
        /// The value, escaped and shortened.
        input: String,
    },
    /// An empty label (`..`, a leading or trailing dot).
    #[error("`{input}` has an empty label")]
    EmptyLabel {
        /// The value, escaped and shortened.
        input: String,
    },
    /// A label with characters a host name cannot have.
    #[error("`{input}` has a label with characters a host name cannot have")]
    BadLabel {
        /// The value, escaped and shortened.
        input: String,
    },
    /// A host outside Datadog's regions.
    #[error(
        "`{input}` is not a Datadog site: expected a host of datadoghq.com, datadoghq.eu or ddog-gov.com such as app.datadoghq.com or acme.datadoghq.eu"
    )]
    NotDatadog {
        /// The value, escaped and shortened.
        input: String,
    },
    /// A host of one of Datadog's services rather than its UI.
    #[error(
        "`{input}` is a Datadog service host, not the UI origin Datadog sends as `site` (expected e.g. app.datadoghq.com)"
    )]
    ServiceHost {
        /// The value, escaped and shortened.
        input: String,
    },
    /// A `domain` value that is not one of the nine regions.
    #[error(
        "`{input}` is not a Datadog domain: expected one of datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu, ap1.datadoghq.com, ap2.datadoghq.com, ddog-gov.com, us2.ddog-gov.com, uk1.datadoghq.com"
    )]
    UnknownDomain {
        /// The value, escaped and shortened.
        input: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Want {
        Ok(Domain, &'static str),
        Err(fn(&SiteError) -> bool),
    }
    use Want::*;

    /// `site` values: what Datadog sends, and what an attacker would.
    const SITES: &[(&str, Want)] = &[
        // Friendly: every region, with and without a scheme, vanity subdomains.
        ("app.datadoghq.com", Ok(Domain::Us1, "app.datadoghq.com")),
        (
            "https://app.datadoghq.com",
            Ok(Domain::Us1, "app.datadoghq.com"),
        ),
        (
            "https://app.datadoghq.com/",
            Ok(Domain::Us1, "app.datadoghq.com"),
        ),
        ("datadoghq.com", Ok(Domain::Us1, "app.datadoghq.com")),
        ("us3.datadoghq.com", Ok(Domain::Us3, "us3.datadoghq.com")),
        (
            "https://us5.datadoghq.com",
            Ok(Domain::Us5, "us5.datadoghq.com"),
        ),
        ("app.datadoghq.eu", Ok(Domain::Eu1, "app.datadoghq.eu")),
        (
            "https://app.datadoghq.eu",
            Ok(Domain::Eu1, "app.datadoghq.eu"),
        ),
        ("datadoghq.eu", Ok(Domain::Eu1, "app.datadoghq.eu")),
        ("ap1.datadoghq.com", Ok(Domain::Ap1, "ap1.datadoghq.com")),
        ("ap2.datadoghq.com", Ok(Domain::Ap2, "ap2.datadoghq.com")),
        ("app.ddog-gov.com", Ok(Domain::Us1Fed, "app.ddog-gov.com")),
        (
            "https://us2.ddog-gov.com",
            Ok(Domain::Us2Fed, "us2.ddog-gov.com"),
        ),
        ("uk1.datadoghq.com", Ok(Domain::Uk1, "uk1.datadoghq.com")),
        (
            "app.us3.datadoghq.com",
            Ok(Domain::Us3, "us3.datadoghq.com"),
        ),
        ("acme.datadoghq.com", Ok(Domain::Us1, "acme.datadoghq.com")),
        (
            "https://acme.datadoghq.com",
            Ok(Domain::Us1, "acme.datadoghq.com"),
        ),
        (
            "bigcorp.datadoghq.eu",
            Ok(Domain::Eu1, "bigcorp.datadoghq.eu"),
        ),
        (
            "acme-prod.us5.datadoghq.com",
            Ok(Domain::Us5, "acme-prod.us5.datadoghq.com"),
        ),
        (
            "HTTPS://App.DatadogHQ.com",
            Ok(Domain::Us1, "app.datadoghq.com"),
        ),
        (
            "agency.ddog-gov.com",
            Ok(Domain::Us1Fed, "agency.ddog-gov.com"),
        ),
        // Hostile or wrong.
        ("", Err(|e| matches!(e, SiteError::Empty))),
        (
            "datadoghq.com.evil.example",
            Err(|e| matches!(e, SiteError::NotDatadog { .. })),
        ),
        (
            "evil-datadoghq.com",
            Err(|e| matches!(e, SiteError::NotDatadog { .. })),
        ),
        (
            "evildatadoghq.com",
            Err(|e| matches!(e, SiteError::NotDatadog { .. })),
        ),
        (
            "https://datadoghq.com@evil.example",
            Err(|e| matches!(e, SiteError::Userinfo { .. })),
        ),
        (
            "https://user:pw@app.datadoghq.com",
            Err(|e| matches!(e, SiteError::Userinfo { .. })),
        ),
        (
            "app.datadoghq.com:8443",
            Err(|e| matches!(e, SiteError::Port { .. })),
        ),
        (
            "https://app.datadoghq.com:443",
            Err(|e| matches!(e, SiteError::Port { .. })),
        ),
        (
            "https://app.datadoghq.com/oauth2/v1/authorize",
            Err(|e| matches!(e, SiteError::NotAHost { found: '/', .. })),
        ),
        (
            "app.datadoghq.com?x=1",
            Err(|e| matches!(e, SiteError::NotAHost { found: '?', .. })),
        ),
        (
            "app.datadoghq.com#frag",
            Err(|e| matches!(e, SiteError::NotAHost { found: '#', .. })),
        ),
        (
            "app.datadoghq.com\\@evil.example",
            Err(|e| matches!(e, SiteError::NotAHost { found: '\\', .. })),
        ),
        (
            "http://app.datadoghq.com",
            Err(|e| matches!(e, SiteError::Scheme { .. })),
        ),
        (
            "javascript://app.datadoghq.com",
            Err(|e| matches!(e, SiteError::Scheme { .. })),
        ),
        (
            "127.0.0.1",
            Err(|e| matches!(e, SiteError::IpLiteral { .. })),
        ),
        ("[::1]", Err(|e| matches!(e, SiteError::IpLiteral { .. }))),
        (
            "https://[2001:db8::1]",
            Err(|e| matches!(e, SiteError::IpLiteral { .. })),
        ),
        (
            "app.datadoghq.cоm",
            Err(|e| matches!(e, SiteError::NonAscii)),
        ),
        (
            "xn--datadoghq-9ya.com",
            Err(|e| matches!(e, SiteError::Punycode { .. })),
        ),
        (
            "xn--80ak6aa92e.datadoghq.com",
            Err(|e| matches!(e, SiteError::Punycode { .. })),
        ),
        (
            "app..datadoghq.com",
            Err(|e| matches!(e, SiteError::EmptyLabel { .. })),
        ),
        (
            ".datadoghq.com",
            Err(|e| matches!(e, SiteError::EmptyLabel { .. })),
        ),
        (
            "app.datadoghq.com.",
            Err(|e| matches!(e, SiteError::EmptyLabel { .. })),
        ),
        (
            "https://",
            Err(|e| matches!(e, SiteError::EmptyLabel { .. })),
        ),
        (
            "a_b.datadoghq.com",
            Err(|e| matches!(e, SiteError::BadLabel { .. })),
        ),
        (
            "-acme.datadoghq.com",
            Err(|e| matches!(e, SiteError::BadLabel { .. })),
        ),
        (
            "acme .datadoghq.com",
            Err(|e| matches!(e, SiteError::BadLabel { .. })),
        ),
        (
            "app.datadoghq.com\n",
            Err(|e| matches!(e, SiteError::BadLabel { .. })),
        ),
        (
            "a.b.datadoghq.com",
            Err(|e| matches!(e, SiteError::NotDatadog { .. })),
        ),
        (
            "api.datadoghq.com",
            Err(|e| matches!(e, SiteError::ServiceHost { .. })),
        ),
        (
            "https://api.datadoghq.eu",
            Err(|e| matches!(e, SiteError::ServiceHost { .. })),
        ),
        (
            "datadoghq.co",
            Err(|e| matches!(e, SiteError::NotDatadog { .. })),
        ),
        (
            "datad0g.com",
            Err(|e| matches!(e, SiteError::NotDatadog { .. })),
        ),
        (
            "us4.datadoghq.com.attacker.io",
            Err(|e| matches!(e, SiteError::NotDatadog { .. })),
        ),
        (
            "example.com",
            Err(|e| matches!(e, SiteError::NotDatadog { .. })),
        ),
        ("com", Err(|e| matches!(e, SiteError::NotDatadog { .. }))),
    ];

    #[test]
    fn site_table() {
        let long_label = format!("{}.datadoghq.com", "a".repeat(64));
        let long_host = format!("{}datadoghq.com", "abcdefghi.".repeat(30));
        let mut failures = Vec::new();
        for (input, want) in SITES {
            check(input, want, &mut failures);
        }
        check(
            &long_label,
            &Err(|e| matches!(e, SiteError::TooLong { .. })),
            &mut failures,
        );
        check(
            &long_host,
            &Err(|e| matches!(e, SiteError::TooLong { .. })),
            &mut failures,
        );
        assert!(SITES.len() >= 40);
        assert!(
            failures.is_empty(),
            "site table failures:\n{}",
            failures.join("\n")
        );
    }

    fn check(input: &str, want: &Want, failures: &mut Vec<String>) {
        match (Site::parse(input), want) {
            (Result::Ok(site), Ok(domain, host)) => {
                if site.domain() != *domain || site.authorize_host() != *host {
                    failures.push(format!(
                        "{input:?}: got {:?} {}",
                        site.domain(),
                        site.authorize_host()
                    ));
                }
            }
            (Result::Err(e), Err(pred)) => {
                if !pred(&e) {
                    failures.push(format!("{input:?}: wrong error {e:?}"));
                }
            }
            (got, _) => failures.push(format!("{input:?}: got {got:?}")),
        }
    }

    #[test]
    fn hosts_come_from_the_domain_never_the_vanity_subdomain() {
        let site = Site::parse("bigcorp.datadoghq.eu").unwrap();
        assert_eq!(site.authorize_host(), "bigcorp.datadoghq.eu");
        assert_eq!(site.vanity(), Some("bigcorp"));
        assert_eq!(site.domain().api_host(), "api.datadoghq.eu");
        assert_eq!(
            site.domain().logs_intake_host(),
            "http-intake.logs.datadoghq.eu"
        );
        assert_eq!(
            site.domain().event_intake_host(),
            "event-management-intake.datadoghq.eu"
        );
    }

    #[test]
    fn every_region_round_trips() {
        for d in Domain::ALL {
            assert_eq!(Domain::parse(d.as_str()), Result::Ok(d));
            assert_eq!(Site::parse(d.ui_host()).unwrap().domain(), d);
            assert_eq!(Site::parse(&Site::of(d).origin()).unwrap(), Site::of(d));
        }
    }

    #[test]
    fn domain_is_strict() {
        assert_eq!(Domain::parse("DatadogHQ.EU"), Result::Ok(Domain::Eu1));
        for bad in [
            "",
            "app.datadoghq.com",
            "api.datadoghq.com",
            "https://datadoghq.com",
            "datadoghq.com/",
            "datadoghq.com.evil.example",
            "acme.datadoghq.com",
            "us4.datadoghq.com",
            "datadoghq.com:443",
            "datadoghq.cöm",
        ] {
            assert!(Domain::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn errors_quote_input_escaped_and_bounded() {
        let e = Site::parse(&format!("evil\u{7}{}", "x".repeat(200))).unwrap_err();
        assert!(matches!(e, SiteError::TooLong { .. }));
        let e = Site::parse("https://x.example/\u{1b}[31m").unwrap_err();
        let text = e.to_string();
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
