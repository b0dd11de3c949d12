//! argon2id password hashes as PHC strings.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::distributions::{Alphanumeric, DistString};
use secrecy::{ExposeSecret, SecretString};

/// Hashes with argon2id and the crate's recommended cost (19 MiB, 2 passes).
pub fn hash_password(password: &SecretString) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("cannot hash password: {e}"))
}

/// True when `password` matches the PHC string; a malformed hash never matches.
pub fn verify(phc: &str, password: &[u8]) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default().verify_password(password, &hash).is_ok(),
        Err(_) => {
            tracing::error!("stored password hash is not a PHC string");
            false
        }
    }
}

/// A random password of 24 letters and digits, for the bootstrap admin.
pub fn generate_password() -> SecretString {
    SecretString::from(Alphanumeric.sample_string(&mut rand::rngs::OsRng, 24))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let phc = hash_password(&SecretString::from("s3cret")).unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify(&phc, b"s3cret"));
        assert!(!verify(&phc, b"s3cret "));
        assert!(!verify("not a hash", b"s3cret"));
    }
}
