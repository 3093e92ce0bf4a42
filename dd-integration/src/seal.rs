//! Authenticated encryption of the SDK's state: the OAuth flow cookie, and secrets at rest.
//!
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`): a random 192-bit nonce per message is
//! safe for any number of messages under one key. Every sealed value names the key that sealed
//! it, so the key can be rotated while values sealed under older keys still open. The purpose of
//! a value (for example the cookie's name) is bound in as associated data, so a value sealed
//! for one purpose does not open for another.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const NONCE_LEN: usize = 24;
const FORMAT: &str = "v1";

/// A 256-bit sealing key with an id. Make one with the `dd-sealing-key` command (`cargo run -p
/// dd-integration --bin dd-sealing-key -- k1`, or `cargo install dd-integration --bin
/// dd-sealing-key`) or [`SealingKey::generate`], keep it in the partner's secret manager, and
/// give it to the SDK as base64 (for example in an environment variable).
///
/// One [`Sealer`] serves the whole installer: the flow cookie and every secret the store keeps
/// (tokens, API keys) are sealed with it, each value bound to its purpose (the cookie's name;
/// the installation and column), so that none opens in another place. Every replica needs the
/// same key. To rotate: make a new key, run with `Sealer::new(new).with_older_key(old)`, call
/// the store's `reseal()`, and drop the old key once it reports nothing left under it and the
/// flow lifetime (10 minutes) has passed, so that no flow cookie sealed under it is pending.
#[derive(Clone)]
pub struct SealingKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl SealingKey {
    /// A key from 32 bytes. The id (1 to 32 characters of `[A-Za-z0-9_-]`) is stored beside
    /// every value it seals.
    pub fn from_bytes(id: &str, bytes: &[u8]) -> Result<SealingKey, SealError> {
        let id_ok = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(SealError::KeyId);
        }
        let cipher = XChaCha20Poly1305::new_from_slice(bytes)
            .map_err(|_| SealError::KeyLength { got: bytes.len() })?;
        Ok(SealingKey {
            id: id.to_owned(),
            cipher,
        })
    }

    /// A key from its base64 form (standard or URL-safe alphabet, padding optional), as
    /// [`SealingKey::generate`] returns it and the `dd-sealing-key` command prints it.
    pub fn from_base64(id: &str, text: &str) -> Result<SealingKey, SealError> {
        let text = text.trim().trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD
            .decode(text.replace('+', "-").replace('/', "_"))
            .map_err(|_| SealError::KeyEncoding)?;
        SealingKey::from_bytes(id, &bytes)
    }

    /// The key in the environment variable `var` (its base64 form, as the `dd-sealing-key`
    /// command prints it). The error names the variable, never its value.
    pub fn from_env(id: &str, var: &str) -> Result<SealingKey, SealError> {
        let text = std::env::var(var).map_err(|_| SealError::KeyMissing {
            source_name: format!("environment variable {var}"),
        })?;
        SealingKey::from_base64(id, &text)
    }

    /// The key in the file at `path` (its base64 form; surrounding whitespace ignored), such as
    /// a mounted secret. The error names the file, never its content.
    pub fn from_file(id: &str, path: impl AsRef<std::path::Path>) -> Result<SealingKey, SealError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| SealError::KeyMissing {
            source_name: format!("file {} ({e})", path.display()),
        })?;
        SealingKey::from_base64(id, &text)
    }

    /// A fresh random key and its base64 form, to store in the partner's secret manager.
    ///
    /// # Panics
    /// If the OS random source fails.
    pub fn generate(id: &str) -> Result<(SealingKey, String), SealError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random source failed");
        let key = SealingKey::from_bytes(id, &bytes)?;
        Ok((key, URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealingKey({}, <redacted>)", self.id)
    }
}

/// Seals under the current key; opens under the current key or any older one still listed.
#[derive(Clone, Debug)]
pub struct Sealer {
    current: SealingKey,
    older: Vec<SealingKey>,
}

impl Sealer {
    /// A sealer with one key.
    pub fn new(current: SealingKey) -> Sealer {
        Sealer {
            current,
            older: Vec::new(),
        }
    }

    /// Also opens values sealed under `key` (a key being rotated out). New values are sealed
    /// under the current key only; a SQL store's `reseal` seals the old ones again, after which
    /// `key` can be dropped.
    #[must_use]
    pub fn with_older_key(mut self, key: SealingKey) -> Sealer {
        self.older.push(key);
        self
    }

    /// The id of the key new values are sealed under.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plaintext` for `purpose`: `v1.<key id>.<base64url(nonce ‖ ciphertext)>`.
    ///
    /// # Panics
    /// If the OS random source fails.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS random source failed");
        let nonce = XNonce::from(nonce);
        let aad = aad(purpose, &self.current.id);
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message that fits in memory");
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        format!(
            "{FORMAT}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(out)
        )
    }

    /// The id of the key `sealed` was sealed under, if it has this crate's format: to find
    /// the values an older key still protects.
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        let mut parts = sealed.splitn(3, '.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(FORMAT), Some(id), Some(_)) => Some(id),
            _ => None,
        }
    }

    /// Opens a value sealed for `purpose` under any known key.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(FORMAT), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SealError::Malformed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
            .ok_or_else(|| SealError::UnknownKey {
                id: id.chars().take(32).flat_map(char::escape_default).collect(),
            })?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| SealError::Malformed)?;
        let aad = aad(purpose, id);
        key.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Tampered)
    }
}

fn aad(purpose: &str, key_id: &str) -> Vec<u8> {
    format!("dd-integration/{FORMAT}/{key_id}/{purpose}").into_bytes()
}

/// Why a key was refused or a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The key is not 32 bytes.
    #[error(
        "the sealing key is {got} bytes; it must be 32 (generate one with SealingKey::generate)"
    )]
    KeyLength {
        /// The length given.
        got: usize,
    },
    /// The key's environment variable or file could not be read.
    #[error(
        "the sealing key could not be read from the {source_name}; set it to the base64 key SealingKey::generate printed"
    )]
    KeyMissing {
        /// Where it was looked for.
        source_name: String,
    },
    /// The key's base64 does not decode.
    #[error("the sealing key is not valid base64 (generate one with SealingKey::generate)")]
    KeyEncoding,
    /// The key id is empty, too long or has other characters.
    #[error("the sealing key id must be 1 to 32 characters of [A-Za-z0-9_-]")]
    KeyId,
    /// Not a sealed value.
    #[error("the sealed value is malformed")]
    Malformed,
    /// Sealed under a key this sealer does not have.
    #[error(
        "the value was sealed under key `{id}`, which is not configured; add it as an older key while rotating"
    )]
    UnknownKey {
        /// The key id named in the value, escaped and shortened.
        id: String,
    },
    /// The value was altered, or sealed for another purpose.
    #[error(
        "the sealed value does not authenticate: it was altered, or sealed for another purpose"
    )]
    Tampered,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(id: &str, byte: u8) -> Sealer {
        Sealer::new(SealingKey::from_bytes(id, &[byte; 32]).unwrap())
    }

    #[test]
    fn the_key_a_value_was_sealed_under_is_read_without_opening_it() {
        let sealed = sealer("k-2026", 7).seal("p", b"x");
        assert_eq!(Sealer::key_id_of(&sealed), Some("k-2026"));
        for malformed in ["", "v1", "v1.k", "v2.k.body", "plain text"] {
            assert_eq!(Sealer::key_id_of(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn round_trip_and_purpose_binding() {
        let s = sealer("k1", 1);
        let sealed = s.seal("cookie-a", b"secret flow");
        assert!(sealed.starts_with("v1.k1."));
        assert!(!sealed.contains("secret"));
        assert_eq!(s.open("cookie-a", &sealed).unwrap(), b"secret flow");
        assert_eq!(s.open("cookie-b", &sealed), Err(SealError::Tampered));
        assert_ne!(
            s.seal("cookie-a", b"x"),
            s.seal("cookie-a", b"x"),
            "fresh nonce each time"
        );
    }

    #[test]
    fn tampering_is_detected() {
        let s = sealer("k1", 1);
        let sealed = s.seal("p", b"payload");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(s.open("p", &tampered), Err(SealError::Tampered));
        for junk in [
            "",
            "v1",
            "v1.k1",
            "v1.k1.",
            "v2.k1.AAAA",
            "v1.k1.!!!!",
            "v1.k1.AAAA",
        ] {
            assert!(s.open("p", junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn rotation_opens_old_values_and_seals_new_ones_under_the_new_key() {
        let old = sealer("old", 1);
        let sealed = old.seal("p", b"v");
        let rotated = Sealer::new(SealingKey::from_bytes("new", &[2; 32]).unwrap())
            .with_older_key(SealingKey::from_bytes("old", &[1; 32]).unwrap());
        assert_eq!(rotated.open("p", &sealed).unwrap(), b"v");
        assert!(rotated.seal("p", b"v").starts_with("v1.new."));
        let other = sealer("new", 2);
        assert!(matches!(
            other.open("p", &sealed),
            Err(SealError::UnknownKey { .. })
        ));
        // A key with the right id but the wrong bytes does not open it.
        assert_eq!(
            sealer("old", 9).open("p", &sealed),
            Err(SealError::Tampered)
        );
    }

    #[test]
    fn keys_load_from_a_file_or_the_environment() {
        let (_, text) = SealingKey::generate("k").unwrap();
        let path = std::env::temp_dir().join(format!("dd-seal-{}", std::process::id()));
        std::fs::write(&path, format!("  {text}\n")).unwrap();
        let from_file = SealingKey::from_file("k", &path).unwrap();
        let sealed = Sealer::new(from_file).seal("p", b"x");
        std::fs::remove_file(&path).unwrap();
        let again = SealingKey::from_base64("k", &text).unwrap();
        assert_eq!(Sealer::new(again).open("p", &sealed).unwrap(), b"x");
        let missing = SealingKey::from_file("k", &path).unwrap_err();
        assert!(matches!(missing, SealError::KeyMissing { .. }), "{missing}");
        let unset = SealingKey::from_env("k", "DD_INTEGRATION_TEST_UNSET_SEALING_KEY").unwrap_err();
        assert!(
            unset
                .to_string()
                .contains("DD_INTEGRATION_TEST_UNSET_SEALING_KEY")
        );
    }

    #[test]
    fn keys_are_checked_and_never_shown() {
        assert_eq!(
            SealingKey::from_bytes("k", &[0; 16]).unwrap_err(),
            SealError::KeyLength { got: 16 }
        );
        assert_eq!(
            SealingKey::from_bytes("", &[0; 32]).unwrap_err(),
            SealError::KeyId
        );
        assert_eq!(
            SealingKey::from_bytes("a.b", &[0; 32]).unwrap_err(),
            SealError::KeyId
        );
        let (key, text) = SealingKey::generate("main").unwrap();
        assert!(!format!("{key:?}").contains(&text));
        let again = SealingKey::from_base64("main", &text).unwrap();
        let s = Sealer::new(key);
        assert_eq!(
            Sealer::new(again).open("p", &s.seal("p", b"x")).unwrap(),
            b"x"
        );
        assert_eq!(
            SealingKey::from_base64("k", "not base64!").unwrap_err(),
            SealError::KeyEncoding
        );
    }
}
