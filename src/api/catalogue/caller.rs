//! Bearer tokens of the catalogue face (parsed by actix-web-httpauth, the scheme in any case).

use actix_web::HttpRequest;
use secrecy::SecretString;

use super::error::{codes, CatalogueError};
use crate::auth::{self, Permission, TokenGrant};
use crate::domain::TenantName;
use crate::store::{self, DbConnection};

/// The token as sent; 401 without a usable `Authorization: Bearer`.
pub fn bearer(req: &HttpRequest) -> Result<SecretString, CatalogueError> {
    auth::bearer_token(req).ok_or(CatalogueError::Unauthorized)
}

fn now() -> i64 {
    crate::clock::unix_secs().unwrap_or(i64::MAX)
}

/// The tenant id of `org_id` when the token may use `permission` there. Blocking.
///
/// A token of another org is 401, as the contract says; an org that does not exist at
/// all is 404.
pub fn authorize(
    conn: &mut DbConnection,
    token: &SecretString,
    org_id: &str,
    permission: Permission,
) -> Result<i64, CatalogueError> {
    authorize_grant(conn, token, org_id, permission).map(|grant| grant.tenant_id)
}

/// As `authorize`, with the whole grant (a write carries it as its authority).
pub fn authorize_grant(
    conn: &mut DbConnection,
    token: &SecretString,
    org_id: &str,
    permission: Permission,
) -> Result<TokenGrant, CatalogueError> {
    let grant = auth::verify_token(conn, token, now())?;
    if grant.tenant_name != org_id {
        let exists = match TenantName::parse(org_id) {
            Ok(name) => store::tenants::find_id(conn, &name)?.is_some(),
            Err(_) => false,
        };
        return Err(if exists { CatalogueError::Unauthorized } else { CatalogueError::NotFound(codes::ORG) });
    }
    if !grant.permissions.contains(permission) {
        return Err(CatalogueError::Unauthorized);
    }
    Ok(grant)
}
