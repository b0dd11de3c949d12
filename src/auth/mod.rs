//! Who is calling and what they may do: Basic credentials checked against argon2id
//! hashes (with a cache of verified credentials), bearer tokens, permissions.

mod cache;
mod password;
mod permissions;
mod tokens;

pub use cache::{process_key, CredentialCache};
pub use password::{generate_password, hash_password};
pub use permissions::{Permission, PermissionSet};
pub use tokens::{generate_token, token_digest};

use secrecy::{ExposeSecret, SecretString};

use crate::store::{self, DbConnection, StoreError};

/// A caller whose credentials were verified.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: i64,
    pub user_id: i64,
    pub permissions: PermissionSet,
    /// The tenant's data version when the credentials were read (`store::versions`).
    pub tenant_version: i64,
}

/// Why credentials were refused; every case answers the same 401.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("bad credentials")]
    BadCredentials,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a verified bearer token grants.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub tenant_id: i64,
    pub tenant_name: String,
    pub permissions: PermissionSet,
}

/// Looks the token up by its digest; unknown, revoked and expired tokens are refused.
/// Blocking: call it inside `run_db`.
pub fn verify_token(conn: &mut DbConnection, token: &SecretString, now: i64) -> Result<TokenGrant, AuthError> {
    let grant = store::tokens::find_by_hash(conn, &token_digest(token))?.ok_or(AuthError::BadCredentials)?;
    if grant.revoked || grant.expires_at.is_some_and(|at| at <= now) {
        return Err(AuthError::BadCredentials);
    }
    Ok(TokenGrant {
        tenant_id: grant.tenant_id,
        tenant_name: grant.tenant_name,
        permissions: PermissionSet::parse_stored(&grant.permissions),
    })
}

/// Checks `username`/`password` in `tenant`. Blocking: call it inside `run_db`.
///
/// The user row is read on every call, so a removed user or a changed password counts
/// at once on every instance; argon2 runs only when this password was not verified
/// against this very hash before.
pub fn verify_basic(
    conn: &mut DbConnection,
    cache: &CredentialCache,
    tenant: &str,
    username: &str,
    password: &SecretString,
) -> Result<Principal, AuthError> {
    let record = store::users::find_login(conn, tenant, username)?.ok_or(AuthError::BadCredentials)?;
    let secret = password.expose_secret().as_bytes();
    if !cache.is_verified(record.user_id, &record.password_hash, secret) {
        if !password::verify(&record.password_hash, secret) {
            return Err(AuthError::BadCredentials);
        }
        cache.remember(record.user_id, &record.password_hash, secret);
    }
    Ok(Principal {
        tenant_id: record.tenant_id,
        user_id: record.user_id,
        permissions: PermissionSet::parse_stored(&record.permissions),
        tenant_version: record.tenant_version,
    })
}
