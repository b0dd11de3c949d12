//! Who is calling the SPCM face: Basic credentials (parsed by actix-web-httpauth) and
//! the `tenant` header, verified in the same database round trip as the operation.

use std::sync::Arc;

use actix_web::http::header::Header;
use actix_web::{HttpRequest, HttpResponse};
use actix_web_httpauth::headers::authorization::{Authorization, Basic};
use secrecy::SecretString;

use super::reads::Answer;
use super::SpcmError;
use crate::api::AppState;
use crate::auth::{self, Permission, Principal};
use crate::store::{run_db, DbConnection};

/// Credentials as sent; nothing is verified yet.
pub struct Credentials {
    tenant: String,
    username: String,
    password: SecretString,
}

impl Credentials {
    /// 401 without usable Basic credentials; 400 with credentials but no `tenant` header.
    pub fn from_request(req: &HttpRequest) -> Result<Credentials, SpcmError> {
        let basic = Authorization::<Basic>::parse(req).map_err(|_| SpcmError::Unauthorized)?.into_scheme();
        let tenant =
            req.headers().get("tenant").ok_or_else(|| SpcmError::BadRequest("the tenant header is required".into()))?;
        // A tenant name that cannot exist is an unknown tenant: 401, as the contract says.
        let tenant = tenant.to_str().map_err(|_| SpcmError::Unauthorized)?.to_owned();
        Ok(Credentials {
            tenant,
            username: basic.user_id().to_string(),
            password: SecretString::from(basic.password().map(|p| p.to_string()).unwrap_or_default()),
        })
    }

    /// Verifies the credentials and the permission, in the order of the contract's table:
    /// 401, then the request's own 400 (`malformed`), then 403. Blocking.
    pub fn authorize(
        &self,
        conn: &mut DbConnection,
        state: &AppState,
        permission: Permission,
        malformed: Option<SpcmError>,
    ) -> Result<Principal, SpcmError> {
        let principal = auth::verify_basic(conn, &state.credentials, &self.tenant, &self.username, &self.password)?;
        if let Some(err) = malformed {
            return Err(err);
        }
        if !principal.permissions.contains(permission) {
            return Err(SpcmError::Forbidden(permission));
        }
        Ok(principal)
    }
}

/// Authenticates and authorizes, then runs `op` with the same connection: one trip to
/// the blocking pool for a request without a body.
pub async fn with_caller<T, F>(
    state: &AppState,
    credentials: Credentials,
    permission: Permission,
    malformed: Option<SpcmError>,
    op: F,
) -> Result<T, SpcmError>
where
    F: FnOnce(&mut DbConnection, &Principal) -> Result<T, SpcmError> + Send + 'static,
    T: Send + 'static,
{
    let state_for_db = state.clone();
    run_db(&state.pool, move |conn| {
        let principal = credentials.authorize(conn, &state_for_db, permission, malformed)?;
        op(conn, &principal)
    })
    .await
}

/// A GET of the SPCM face: answered from memory when this login and this path and
/// query were read before at the tenant's current version (`reads`); otherwise
/// `load` runs with the verified caller and its answer is remembered.
pub async fn cached_read<F>(
    state: &AppState,
    req: &HttpRequest,
    malformed: Option<SpcmError>,
    load: F,
) -> Result<HttpResponse, SpcmError>
where
    F: FnOnce(&mut DbConnection, &Principal) -> Result<Answer, SpcmError> + Send + 'static,
{
    let credentials = Credentials::from_request(req)?;
    let path = req.uri().path_and_query().map_or(req.path(), |p| p.as_str());
    let login = state.reads.login_key(&credentials.tenant, &credentials.username, &credentials.password);
    if malformed.is_none() {
        if let Some((caller, version, answer)) = state.reads.lookup(&login, path) {
            if caller.permissions.contains(Permission::ProfileRead)
                && state.versions.current(caller.tenant_id).await == Some(version)
            {
                state.reads.count(true);
                return Ok(answer.response());
            }
        }
    }
    state.reads.count(false);
    let state_for_db = state.clone();
    let (caller, answer) = run_db(&state.pool, move |conn| {
        let caller = credentials.authorize(conn, &state_for_db, Permission::ProfileRead, malformed)?;
        let answer = load(conn, &caller)?;
        Ok::<_, SpcmError>((caller, Arc::new(answer)))
    })
    .await?;
    state.reads.remember_login(login, &caller);
    state.reads.remember_answer(caller.tenant_id, caller.tenant_version, path, answer.clone());
    Ok(answer.response())
}
