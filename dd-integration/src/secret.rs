//! Secrets in redacting types.
//!
//! The client secret, access and refresh tokens and API keys never appear in `Debug`,
//! `Display`, errors, logs or URLs. Each has its own type so that one cannot be passed where
//! another is expected, and reading the value takes an explicit `expose_secret()`.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A string that is zeroized on drop and never printed.
#[derive(Clone)]
pub(crate) struct Redacted(SecretString);

impl Redacted {
    pub(crate) fn new(value: String) -> Redacted {
        Redacted(SecretString::from(value))
    }

    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident, shows_last4 = $last4:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Redacted);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> $name {
                $name(Redacted::new(value.into()))
            }

            /// The secret itself, for the one place that must send it to Datadog.
            pub fn expose_secret(&self) -> &str {
                self.0.expose()
            }

            /// A form safe to show a person: the last four characters where Datadog itself shows
            /// them (API keys), nothing otherwise.
            pub fn masked(&self) -> String {
                let value = self.0.expose();
                if $last4 && value.len() >= 12 && value.is_ascii() {
                    format!("…{}", &value[value.len() - 4..])
                } else {
                    "<redacted>".to_owned()
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.masked())
            }
        }

        impl PartialEq for $name {
            /// Constant-time, so comparing secrets leaks no timing.
            fn eq(&self, other: &$name) -> bool {
                use subtle::ConstantTimeEq as _;
                self.0.expose().as_bytes().ct_eq(other.0.expose().as_bytes()).into()
            }
        }

        impl Eq for $name {}
    };
}

secret_type!(
    /// The OAuth client secret, shown once in Datadog's Developer Platform.
    ClientSecret,
    shows_last4 = false
);
secret_type!(
    /// An OAuth access token (one hour).
    AccessToken,
    shows_last4 = false
);
secret_type!(
    /// An OAuth refresh token. For partner clients it never expires but rotates on every refresh.
    RefreshToken,
    shows_last4 = false
);
secret_type!(
    /// A Datadog API key, such as the marketplace key created for an installation. Datadog itself
    /// shows its last four characters, and so does [`ApiKey::masked`].
    ApiKey,
    shows_last4 = true
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let value = "s3cr3t-value-0123456789abcdef";
        let shown = [
            format!("{:?}", ClientSecret::new(value)),
            format!("{:?}", AccessToken::new(value)),
            format!("{:?}", RefreshToken::new(value)),
            format!("{:?}", ApiKey::new(value)),
        ];
        for s in &shown {
            assert!(!s.contains(value), "{s}");
            assert!(!s.contains("s3cr3t"), "{s}");
        }
        assert_eq!(shown[1], "AccessToken(<redacted>)");
        assert_eq!(shown[3], "ApiKey(…cdef)");
    }

    #[test]
    fn short_api_keys_show_nothing() {
        assert_eq!(ApiKey::new("abcd").masked(), "<redacted>");
    }

    #[test]
    fn equality_is_by_value() {
        assert_eq!(AccessToken::new("a"), AccessToken::new("a"));
        assert_ne!(AccessToken::new("a"), AccessToken::new("b"));
    }
}
