//! PKCE (RFC 7636) with the S256 method, the only one Datadog supports.
//!
//! A verifier is 32 bytes from the operating system's CSPRNG, base64url without padding: 43
//! characters of the unreserved set. The challenge is `BASE64URL(SHA-256(verifier))`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::secret::Redacted;

/// A PKCE code verifier: secret until the token exchange, then useless.
#[derive(Clone)]
pub struct PkceVerifier(Redacted);

impl PkceVerifier {
    /// A fresh verifier from 32 bytes of the OS CSPRNG.
    ///
    /// # Panics
    /// If the operating system has no working random source, which no supported platform lacks;
    /// continuing without one would make the flow guessable.
    pub fn generate() -> PkceVerifier {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .expect("the OS random source failed; refusing to mint a guessable PKCE verifier");
        PkceVerifier(Redacted::new(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A verifier kept from an earlier leg of the flow (for example opened from the sealed flow
    /// cookie). RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
    pub fn from_string(verifier: String) -> Result<PkceVerifier, PkceError> {
        let ok_len = (43..=128).contains(&verifier.len());
        let ok_chars = verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if ok_len && ok_chars {
            Ok(PkceVerifier(Redacted::new(verifier)))
        } else {
            Err(PkceError::InvalidVerifier)
        }
    }

    /// The S256 challenge for this verifier.
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge(URL_SAFE_NO_PAD.encode(Sha256::digest(self.secret().as_bytes())))
    }

    /// The verifier itself, for the token request and for sealing into flow state.
    pub fn secret(&self) -> &str {
        self.0.expose()
    }
}

impl std::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

/// The S256 code challenge sent on the authorize URL. Public by design.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// The challenge, base64url without padding.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The method Datadog requires.
    pub const METHOD: &'static str = "S256";
}

/// A verifier that is not RFC 7636's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkceError {
    /// Wrong length or characters.
    #[error(
        "the PKCE verifier is not 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1); the flow state was corrupted or forged, start the authorization again"
    )]
    InvalidVerifier,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let v = PkceVerifier::from_string("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into())
            .unwrap();
        assert_eq!(
            v.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_43_unreserved_chars_and_distinct() {
        let a = PkceVerifier::generate();
        let b = PkceVerifier::generate();
        assert_eq!(a.secret().len(), 43);
        assert!(PkceVerifier::from_string(a.secret().to_owned()).is_ok());
        assert_ne!(a.secret(), b.secret());
        assert_eq!(a.challenge().as_str().len(), 43);
    }

    #[test]
    fn bad_verifiers_are_refused() {
        for bad in [
            "short",
            &"a".repeat(129),
            &format!("{}+", "a".repeat(42)),
            &format!("{} ", "a".repeat(43)),
        ] {
            assert_eq!(
                PkceVerifier::from_string(bad.to_string()).unwrap_err(),
                PkceError::InvalidVerifier
            );
        }
        assert!(PkceVerifier::from_string("a".repeat(128)).is_ok());
    }

    #[test]
    fn debug_hides_the_verifier() {
        let v = PkceVerifier::generate();
        assert!(!format!("{v:?}").contains(v.secret()));
    }
}
