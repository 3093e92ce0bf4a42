//! `Site::parse` and `Domain::parse`: the `site` and `domain` parameters of the tile's
//! onboarding URL and of the callback, which anyone can edit.
//!
//! Whatever the input, nothing panics, errors quote it escaped and bounded, and what is accepted
//! names a host under one of Datadog's regions, the same host a URL parser (a browser) reads out
//! of it, and parses back to itself.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestRunner;

use super::{Tally, any_text, config};
use crate::site::{Domain, Site, SiteError};

/// The labels `Site::parse` refuses as a vanity subdomain (Datadog's service hosts).
const RESERVED: &[&str] = &crate::site::RESERVED_LABELS;

/// Bases that look like a region's domain and are not.
const LOOKALIKES: &[&str] = &[
    "datadoghq.co",
    "datadoghq.comm",
    "datadoghq.com.evil.example",
    "datadoghq.eu.com",
    "evil-datadoghq.com",
    "evildatadoghq.com",
    "datad0ghq.com",
    "datadoghq.c0m",
    "ddog-gov.co",
    "ddog_gov.com",
    "ddoggov.com",
    "gov.com",
    "com",
    "eu",
    "datadoghq",
    "datadoghq\u{3002}com",
    "datadoghq\u{ff0e}com",
    "d\u{0430}tadoghq.com",
    "datadoghq.c\u{043e}m",
    "xn--datadoghq-9ya.com",
    "datadoghq.com\u{0}",
    "datadoghq.com%00.evil.example",
    "datadoghq.com%2eevil.example",
    "us4.datadoghq.com.attacker.io",
    "datadoghq.com..",
];

/// IP literals and hosts numeric in some parser's reading.
const IPS: &[&str] = &[
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0x7f.0.0.1",
    "017700000001",
    "169.254.169.254",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[2001:db8::1]",
    "::1",
    "1.2.3.4.datadoghq.com",
    "0",
];

const SCHEMES: &[&str] = &[
    "",
    "",
    "",
    "https://",
    "HTTPS://",
    "Https://",
    "http://",
    "javascript://",
    "//",
    "https:/",
    "https:///",
    "https:\\\\",
    "ftp://",
    "https://https://",
    "https://:@",
    " https://",
];

const USERINFO: &[&str] = &[
    "",
    "",
    "",
    "",
    "user@",
    "user:pw@",
    "app.datadoghq.com@",
    "@",
    "%40",
    "datadoghq.com:443@",
];

const SUFFIXES: &[&str] = &[
    "",
    "",
    "",
    "",
    "/",
    "//",
    ":443",
    ":8443",
    ":",
    "/oauth2/v1/authorize",
    "/.",
    "?x=1",
    "#frag",
    "\\",
    "\\@evil.example",
    ".",
    "..",
    "%2e",
    " ",
    "\n",
    "\t",
    "\r\n",
    "\u{0}",
    ".evil.example",
    "@evil.example",
    "/@evil.example",
    "%00",
    "%2f",
    ";",
    "\u{200b}",
];

/// One label in front of a base: a plausible vanity label, a reserved or otherwise refused one,
/// an over-long one, or anything.
fn label() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?",
        2 => select(RESERVED).prop_map(str::to_owned),
        2 => select(&[
            "app", "APP", "xn--80ak6aa92e", "xn--", "XN--abc", "-acme", "acme-", "a_b", "ACME",
            "\u{0430}pp", "app\u{200b}", "\u{ff41}pp", "127", "1", "a--b", "", " ", "*", "%61pp",
            "app%2e", "us3", "us5", "eu", "ap1", "uk1", "us2",
        ][..])
        .prop_map(str::to_owned),
        1 => "[a-z]{60,70}",
        1 => any_text(8),
    ]
}

/// A host made of up to three labels, then a region's domain, a look-alike or an IP literal.
fn host() -> impl Strategy<Value = String> + Clone {
    let domains: Vec<&'static str> = Domain::ALL.iter().map(|d| d.as_str()).collect();
    let base = prop_oneof![
        5 => select(domains),
        3 => select(LOOKALIKES),
        1 => select(IPS),
    ];
    (vec(label(), 0..3), base).prop_map(|(labels, base)| {
        let mut host = labels.join(".");
        if !host.is_empty() {
            host.push('.');
        }
        host.push_str(base);
        host
    })
}

/// `text` with the ASCII letters that `mask` selects (bit `i % 64` for the `i`th) in upper
/// case.
fn recase(text: &str, mask: u64) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// What a `site` parameter can carry: near misses of a real site (scheme, userinfo, host,
/// port, path, case), anything at all, and long hosts around the DNS limits.
pub(crate) fn site_input() -> impl Strategy<Value = String> + Clone {
    let composed = (
        select(SCHEMES),
        select(USERINFO),
        host(),
        select(SUFFIXES),
        prop_oneof![3 => Just(0u64), 1 => any::<u64>()],
    )
        .prop_map(|(scheme, userinfo, host, suffix, mask)| {
            recase(&format!("{scheme}{userinfo}{host}{suffix}"), mask)
        });
    prop_oneof![
        12 => composed,
        4 => valid_site(),
        3 => any_text(40),
        1 => (0usize..600, select(Domain::ALL.to_vec())).prop_map(|(n, d)| {
            format!("{}.{}", "a".repeat(n.max(1)), d.as_str())
        }),
        1 => (1usize..40, select(Domain::ALL.to_vec()))
            .prop_map(|(n, d)| format!("{}{}", "abcdefg.".repeat(n), d.as_str())),
    ]
}

/// A site Datadog could send: a region's UI host, its bare domain, `app.` or a vanity label in
/// front, with or without `https://` and a trailing `/`, in any case.
pub(crate) fn valid_site() -> impl Strategy<Value = String> + Clone {
    let prefix = prop_oneof![
        Just(String::new()),
        Just("app.".to_owned()),
        "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\\.".prop_filter("not reserved", |l| {
            let label = &l[..l.len() - 1];
            !label.starts_with("xn--") && !RESERVED.contains(&label)
        }),
    ];
    (
        any::<bool>(),
        prefix,
        select(Domain::ALL.to_vec()),
        any::<bool>(),
        prop_oneof![3 => Just(0u64), 1 => any::<u64>()],
    )
        .prop_map(|(scheme, prefix, domain, slash, mask)| {
            let text = format!(
                "{}{prefix}{}{}",
                if scheme { "https://" } else { "" },
                domain.as_str(),
                if slash { "/" } else { "" }
            );
            recase(&text, mask)
        })
}

/// An error's message is bounded and carries no control character from the input.
fn check_error(input: &str, e: &SiteError) -> Result<(), TestCaseError> {
    let text = e.to_string();
    prop_assert!(
        !text.chars().any(char::is_control),
        "{input:?}: control character in {text:?}"
    );
    prop_assert!(
        text.len() <= 1_200,
        "{input:?}: {} bytes of error",
        text.len()
    );
    Ok(())
}

/// Everything an accepted site must be.
fn check_site(input: &str, site: &Site) -> Result<(), TestCaseError> {
    let domain = site.domain();
    prop_assert!(Domain::ALL.contains(&domain));
    let base = domain.as_str();
    let host = site.authorize_host();
    // Under the region's domain, and a host name a browser reads the same way.
    prop_assert!(
        host == base || host.ends_with(&format!(".{base}")) || host == domain.ui_host(),
        "{input:?} gave {host} on {base}"
    );
    prop_assert!(host.len() <= 253, "{input:?}: {host}");
    prop_assert!(
        host.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'),
        "{input:?}: {host}"
    );
    let url = url::Url::parse(&site.origin()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(url.host_str(), Some(host.as_str()), "{:?}", input);
    prop_assert_eq!(url.port(), None);
    prop_assert_eq!(url.path(), "/");
    // The API, token and intake hosts come from the region alone.
    prop_assert_eq!(domain.api_host(), format!("api.{base}"));
    // Nothing of the input was dropped: without `https://` and one trailing `/`, it is the
    // host, the bare region domain or `app.<domain>`.
    let lower = input.to_ascii_lowercase();
    let bare = lower.strip_prefix("https://").unwrap_or(&lower);
    let bare = bare.strip_suffix('/').unwrap_or(bare);
    prop_assert!(
        bare == host || bare == base || bare == format!("app.{base}"),
        "{input:?} gave {host}"
    );
    if let Some(vanity) = site.vanity() {
        prop_assert!(!vanity.is_empty() && vanity.len() <= 63, "{vanity}");
        prop_assert!(!vanity.contains('.'), "{vanity}");
        prop_assert!(!vanity.starts_with("xn--"), "{vanity}");
        prop_assert!(vanity != "app" && !RESERVED.contains(&vanity), "{vanity}");
    }
    // Round trips, bare and as an origin.
    for text in [site.to_string(), site.origin(), host.clone()] {
        prop_assert_eq!(Site::parse(&text), Ok(site.clone()), "{}", text);
    }
    prop_assert_eq!(Domain::parse(&domain.to_string()), Ok(domain));
    Ok(())
}

#[test]
fn arbitrary_sites_never_panic_and_accepted_ones_are_datadog_hosts_that_round_trip() {
    let tally = Tally::default();
    TestRunner::new(config(1024))
        .run(&site_input(), |input| {
            match Site::parse(&input) {
                Ok(site) => {
                    tally.add(if site.vanity().is_some() {
                        "vanity"
                    } else {
                        "region"
                    });
                    check_site(&input, &site)?;
                    // ASCII case never matters.
                    prop_assert_eq!(Site::parse(&input.to_ascii_uppercase()), Ok(site.clone()));
                    prop_assert_eq!(input.parse::<Site>(), Ok(site));
                }
                Err(e) => {
                    tally.add("refused");
                    check_error(&input, &e)?;
                }
            }
            Ok(())
        })
        .unwrap();
    tally.assert_reached("site", &["vanity", "region", "refused"]);
}

#[test]
fn arbitrary_domains_never_panic_and_only_the_nine_regions_are_accepted() {
    let domains: Vec<&'static str> = Domain::ALL.iter().map(|d| d.as_str()).collect();
    let strategy = prop_oneof![
        3 => site_input(),
        1 => (select(domains), any::<u64>()).prop_map(|(d, mask)| recase(d, mask)),
    ];
    let tally = Tally::default();
    TestRunner::new(config(1024))
        .run(&strategy, |input| {
            match Domain::parse(&input) {
                Ok(domain) => {
                    tally.add("accepted");
                    prop_assert!(input.eq_ignore_ascii_case(domain.as_str()), "{input:?}");
                    prop_assert_eq!(Domain::parse(&domain.to_string()), Ok(domain));
                    prop_assert_eq!(input.parse::<Domain>(), Ok(domain));
                    let site = Site::of(domain);
                    check_site(domain.ui_host(), &site)?;
                    prop_assert_eq!(Site::parse(&input), Ok(site));
                }
                Err(e) => {
                    tally.add("refused");
                    check_error(&input, &e)?;
                }
            }
            Ok(())
        })
        .unwrap();
    tally.assert_reached("domain", &["accepted", "refused"]);
}

/// The positive side, so that the round trip above is not vacuous: every well-formed vanity
/// label in front of every region is accepted as that label, with or without `https://`, a
/// trailing `/` and upper case.
#[test]
fn every_well_formed_vanity_subdomain_is_accepted_as_written() {
    let vanity = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?".prop_filter("not reserved", |l| {
        l != "app" && !l.starts_with("xn--") && !RESERVED.contains(&l.as_str())
    });
    let strategy = (
        vanity,
        select(Domain::ALL.to_vec()),
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    );
    TestRunner::new(config(512))
        .run(&strategy, |(label, domain, scheme, slash, mask)| {
            let input = recase(
                &format!(
                    "{}{label}.{}{}",
                    if scheme { "https://" } else { "" },
                    domain.as_str(),
                    if slash { "/" } else { "" }
                ),
                mask,
            );
            let site = Site::parse(&input).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(site.domain(), domain);
            prop_assert_eq!(site.vanity(), Some(label.as_str()));
            check_site(&input, &site)
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Regression seeds

/// Hostile input far past any host's length costs nothing and is refused.
#[test]
fn a_megabyte_site_or_domain_is_refused_at_once() {
    for input in [
        "a".repeat(1 << 20),
        format!("{}.datadoghq.com", "a.".repeat(1 << 19)),
        format!("https://{}", "\u{0430}".repeat(1 << 18)),
    ] {
        let started = std::time::Instant::now();
        assert!(matches!(
            Site::parse(&input),
            Err(SiteError::TooLong { .. })
        ));
        assert!(matches!(
            Domain::parse(&input),
            Err(SiteError::TooLong { .. })
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}

/// Hosts that a URL parser reads differently from a plain string comparison.
#[test]
fn hosts_a_browser_reads_differently_are_refused() {
    for input in [
        "app.datadoghq.com\\@evil.example",
        "https://app.datadoghq.com%2f@evil.example",
        "https://evil.example%23.datadoghq.com",
        "https://app.datadoghq.com\u{3002}evil.example",
        "https://2130706433",
        "0x7f.0.0.1",
        "https://[::ffff:127.0.0.1]",
        "datadoghq.com%00.evil.example",
        "https://acme%2edatadoghq.com",
        "https://\u{ff41}pp.datadoghq.com",
        "app.datadoghq.com.",
        "https://app.datadoghq.com:",
    ] {
        assert!(Site::parse(input).is_err(), "{input:?} was accepted");
    }
}
