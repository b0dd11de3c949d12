//! Opaque bearer tokens: 32 random bytes, shown once, stored as a SHA-256 digest.
//! A fast digest is enough here because the secret has 256 bits of entropy.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub fn generate_token() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretString::from(format!("spcm_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The hex SHA-256 of the token, the only form that is stored.
pub fn token_digest(token: &SecretString) -> String {
    Sha256::digest(token.expose_secret().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
