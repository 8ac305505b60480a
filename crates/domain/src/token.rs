//! Invitation and verification tokens.
//!
//! A token is 256 random bits from a CSPRNG, written base64url without
//! padding (43 characters). It is sent only in an email and stored only as its
//! SHA-256 hash; a presented token is checked by hashing it and comparing the
//! hashes in constant time.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// A freshly generated secret token. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// Number of random bytes (256 bits).
    pub const BYTES: usize = 32;
    /// Length of the encoded token.
    pub const ENCODED_LEN: usize = 43;

    /// 256 bits from the thread-local CSPRNG (ChaCha, seeded and periodically
    /// reseeded from the operating system), encoded base64url without padding.
    pub fn generate() -> Self {
        let mut bytes = [0_u8; Self::BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The token text, to be put in an email link and nowhere else.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash to store.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(***)")
    }
}

/// The stored form of a token: SHA-256, lower-case hex (64 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    pub const HEX_LEN: usize = 64;

    /// Hashes a token as presented (generated or received in a request body).
    pub fn of(token: &str) -> Self {
        let digest = Sha256::digest(token.as_bytes());
        let mut hex = String::with_capacity(Self::HEX_LEN);
        for byte in digest {
            hex.push(hex_digit(byte >> 4));
            hex.push(hex_digit(byte & 0x0f));
        }
        Self(hex)
    }

    /// Wraps a hash read back from storage.
    pub fn from_stored(hash: String) -> Self {
        Self(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// Whether `token` hashes to this hash; the hashes are compared in
    /// constant time.
    pub fn matches(&self, token: &str) -> bool {
        let presented = Self::of(token);
        presented.0.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn token_is_43_base64url_chars_of_256_bits() {
        let t = SecretToken::generate();
        assert_eq!(t.as_str().len(), SecretToken::ENCODED_LEN);
        assert!(t.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let decoded = URL_SAFE_NO_PAD.decode(t.as_str()).expect("base64url");
        assert_eq!(decoded.len(), 32);
    }

    #[test]
    fn tokens_are_unique() {
        let set: HashSet<String> =
            (0..1000).map(|_| SecretToken::generate().as_str().to_owned()).collect();
        assert_eq!(set.len(), 1000);
    }

    #[test]
    fn hash_matches_its_token_only() {
        let t = SecretToken::generate();
        let h = t.hash();
        assert_eq!(h.as_str().len(), 64);
        assert!(h.as_str().chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert!(h.matches(t.as_str()));
        let other = SecretToken::generate();
        assert!(!h.matches(other.as_str()));
        assert_ne!(h, other.hash());
        assert!(!h.matches(""));
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            TokenHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let stored = TokenHash::from_stored(TokenHash::of("abc").into_inner());
        assert!(stored.matches("abc"));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = SecretToken::generate();
        let shown = format!("{t:?}");
        assert_eq!(shown, "SecretToken(***)");
        assert!(!shown.contains(t.as_str()));
    }
}
