//! Who is calling and what they may do: Basic credentials checked against argon2id
//! hashes (with a cache of verified logins and a bounded pool of password checks),
//! failed sign-ins limited, bearer tokens, permissions.

mod header;
mod logins;
mod password;
mod sign_in;
mod tokens;

pub use crate::domain::{Permission, PermissionSet};
pub use header::{basic_credentials, bearer_token};
pub use logins::{process_key, LoginCache, LoginKey, VerifiedLogin};
pub use password::{
    check_new_password, generate_password, hash_password, PasswordChecks, PasswordError, ShortPassword,
    MIN_PASSWORD_CHARS,
};
pub use sign_in::{SignInGuard, SignInLimits};
pub use tokens::{generate_token, token_digest};

use secrecy::SecretString;

use crate::store::{self, Authority, DbConnection, StoreError};

/// A caller whose credentials were verified.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: i64,
    pub user_id: i64,
    pub permissions: PermissionSet,
    /// The tenant's data version when the credentials were read (`store::versions`).
    pub tenant_version: i64,
    /// The hash the password was verified against: a write checks it is still the user's.
    pub password_hash: String,
    pub username: String,
}

impl Principal {
    pub fn from_login(login: &VerifiedLogin) -> Principal {
        Principal {
            tenant_id: login.tenant_id,
            user_id: login.user_id,
            permissions: login.permissions,
            tenant_version: login.tenant_version,
            password_hash: login.password_hash.clone(),
            username: login.username.clone(),
        }
    }

    /// The authority a write of this caller carries, checked again when it commits.
    pub fn authority(&self, permission: Permission) -> Authority {
        Authority::User {
            user_id: self.user_id,
            username: self.username.clone(),
            password_hash: self.password_hash.clone(),
            permission,
        }
    }
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
    pub token_id: i64,
    pub tenant_id: i64,
    pub tenant_name: String,
    pub permissions: PermissionSet,
}

impl TokenGrant {
    /// The authority a write with this token carries, checked again when it commits.
    pub fn authority(&self, permission: Permission) -> Authority {
        Authority::Token { token_id: self.token_id, permission }
    }
}

/// Looks the token up by its digest; unknown, revoked and expired tokens are refused.
/// Blocking: call it inside `run_db`.
pub fn verify_token(conn: &mut DbConnection, token: &SecretString, now: i64) -> Result<TokenGrant, AuthError> {
    let grant = store::tokens::find_by_hash(conn, &token_digest(token), now)?
        .filter(|grant| grant.status.is_active())
        .ok_or(AuthError::BadCredentials)?;
    Ok(TokenGrant {
        token_id: grant.id,
        tenant_id: grant.tenant_id,
        tenant_name: grant.tenant_name,
        permissions: grant.permissions,
    })
}
