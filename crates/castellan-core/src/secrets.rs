//! Secrets at rest: client secrets are stored as salted HMAC-SHA-256 digests (they are
//! 384-bit random strings, so a slow password hash buys nothing and would cap token
//! throughput), and private keys are sealed with AES-256-GCM under the server's master key.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{constant_time, hkdf, hmac};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

const HASH_SCHEME: &str = "hmac-sha256";

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .expect("the system random source is available");
    buf
}

/// A new client secret: 48 random bytes, base64url (64 characters), like Auth0's.
pub fn generate_client_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<48>())
}

/// An opaque bearer secret (refresh token, authorization code, session id): 32 random
/// bytes, base64url.
pub fn opaque_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// How opaque secrets are stored and looked up: SHA-256, hex. They carry 256 bits of
/// randomness, so a plain digest is enough to make a stolen table useless.
pub fn token_digest(token: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equality of two secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// `hmac-sha256$<salt>$<digest>`, both base64.
pub fn hash_client_secret(secret: &str) -> String {
    let salt = random_bytes::<16>();
    let digest = digest_with_salt(&salt, secret);
    format!(
        "{HASH_SCHEME}${}${}",
        STANDARD.encode(salt),
        STANDARD.encode(digest)
    )
}

fn digest_with_salt(salt: &[u8], secret: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, salt);
    hmac::sign(&key, secret.as_bytes()).as_ref().to_vec()
}

/// Constant-time in the secret: the digest comparison does not stop at the first
/// differing byte, and a malformed stored hash simply never matches.
pub fn verify_client_secret(secret: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some(HASH_SCHEME), Some(salt), Some(digest), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(salt), Ok(expected)) = (STANDARD.decode(salt), STANDARD.decode(digest)) else {
        return false;
    };
    constant_time::verify_slices_are_equal(&digest_with_salt(&salt, secret), &expected).is_ok()
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("the secret key must be 32 bytes, given as 64 hex digits or base64")]
    BadLength,
    #[error(
        "a sealed value could not be opened: it was sealed with another secret key, or it is damaged"
    )]
    CannotOpen,
}

/// The server's key-encryption key (from `CASTELLAN_SECRET_KEY` or its file).
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        Self(random_bytes())
    }

    /// Accepts 64 hex digits or base64 (standard or url-safe) of exactly 32 bytes.
    pub fn parse(text: &str) -> Result<Self, MasterKeyError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| MasterKeyError::BadLength)?
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
                .map_err(|_| MasterKeyError::BadLength)?
        };
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| MasterKeyError::BadLength)
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A secret only this key can produce again, for a record whose secret must be shown
    /// at every start without being stored in clear (the demo application's): 32 bytes of
    /// HKDF-SHA-256 for `label`, base64url. HKDF keeps it independent of the sealing key.
    pub fn derive_secret(&self, label: &str) -> String {
        let mut out = [0u8; 32];
        hkdf::Salt::new(hkdf::HKDF_SHA256, b"castellan derived secret")
            .extract(&self.0)
            .expand(&[label.as_bytes()], hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut out))
            .expect("32 bytes are within HKDF-SHA-256's output limit");
        URL_SAFE_NO_PAD.encode(out)
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).expect("32-byte AES-256 key"))
    }

    /// base64(nonce || ciphertext || tag). `context` is bound as associated data so a
    /// sealed value cannot be moved to another record.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let nonce = random_bytes::<NONCE_LEN>();
        let mut buf = plaintext.to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .expect("AES-GCM sealing of an in-memory buffer");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, MasterKeyError> {
        let raw = STANDARD
            .decode(sealed)
            .map_err(|_| MasterKeyError::CannotOpen)?;
        if raw.len() < NONCE_LEN {
            return Err(MasterKeyError::CannotOpen);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| MasterKeyError::CannotOpen)?;
        let mut buf = rest.to_vec();
        let plain = self
            .aead()
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| MasterKeyError::CannotOpen)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secret_round_trip() {
        let secret = generate_client_secret();
        assert_eq!(secret.len(), 64);
        let stored = hash_client_secret(&secret);
        assert!(!stored.contains(&secret));
        assert!(verify_client_secret(&secret, &stored));
        assert!(!verify_client_secret("wrong", &stored));
        assert!(!verify_client_secret(&secret, "garbage"));
        assert_ne!(stored, hash_client_secret(&secret), "salted");
    }

    #[test]
    fn sealing_binds_key_and_context() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"private", "kid-1");
        assert_eq!(key.open(&sealed, "kid-1").unwrap(), b"private");
        assert!(key.open(&sealed, "kid-2").is_err());
        assert!(MasterKey::generate().open(&sealed, "kid-1").is_err());
    }

    #[test]
    fn derived_secrets_depend_on_key_and_label() {
        let key = MasterKey::generate();
        assert_eq!(key.derive_secret("a"), key.derive_secret("a"));
        assert_ne!(key.derive_secret("a"), key.derive_secret("b"));
        assert_ne!(
            key.derive_secret("a"),
            MasterKey::generate().derive_secret("a")
        );
        assert_eq!(key.derive_secret("a").len(), 43);
    }

    #[test]
    fn master_key_formats() {
        let key = MasterKey::generate();
        let again = MasterKey::parse(&key.to_hex()).unwrap();
        assert_eq!(again.0, key.0);
        assert!(MasterKey::parse(&STANDARD.encode(key.0)).is_ok());
        assert!(MasterKey::parse("short").is_err());
    }
}
