//! Who is calling the SPCM face: Basic credentials and the `tenant` header.
//!
//! A login verified before (same tenant, username and password, same stored hash) is
//! checked in the same database round trip as the operation. Any other login costs one
//! argon2 run on the bounded pool of password checks, with no database connection held,
//! then the operation's trip. Unknown tenants and users cost the same argon2 run, and
//! failures count against the sign-in limits (contract §1.1), which a known-good login
//! meets only through its address's limit.

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse};
use secrecy::{ExposeSecret, SecretString};

use super::reads::Answer;
use super::{conditional, SpcmError};
use crate::api::{negotiation, AppState};
use crate::auth::{self, LoginKey, Permission, Principal, VerifiedLogin};
use crate::domain::{forbidden_character, TenantName, Username};
use crate::store::users::LoginRecord;
use crate::store::{self, run_db, DbConnection};

/// Credentials as sent; nothing is verified yet.
pub struct Credentials {
    tenant: String,
    username: String,
    password: SecretString,
    login: LoginKey,
    address: Option<IpAddr>,
    /// Whether `Accept` names a representation the face has (406 after 403 otherwise).
    acceptable: bool,
}

impl Credentials {
    /// 401 without usable Basic credentials; 400 with credentials but no `tenant` header.
    pub fn from_request(req: &HttpRequest, state: &AppState) -> Result<Credentials, SpcmError> {
        let (username, password) = auth::basic_credentials(req).ok_or(SpcmError::Unauthorized)?;
        let tenant =
            req.headers().get("tenant").ok_or_else(|| SpcmError::BadRequest("the tenant header is required".into()))?;
        // A tenant name that cannot exist is an unknown tenant: 401, as the contract says.
        let tenant = tenant.to_str().map_err(|_| SpcmError::Unauthorized)?.to_owned();
        let login = state.logins.key(&tenant, &username, &password);
        let acceptable = negotiation::of_request(req).is_some();
        Ok(Credentials { tenant, username, password, login, address: req.peer_addr().map(|a| a.ip()), acceptable })
    }

    /// False for names no tenant or user can have and for passwords with control
    /// characters or noncharacters: such a login is an unknown one, and costs the same.
    fn plausible(&self) -> bool {
        TenantName::parse(&self.tenant).is_ok()
            && Username::parse(&self.username).is_ok()
            && forbidden_character(self.password.expose_secret()).is_none()
    }

    /// 429 when the sign-in limits refuse this login (`SignInGuard::admit`); an
    /// unverified login of an account that failed lately first waits for its turn.
    async fn admit(&self, state: &AppState, known_good: bool) -> Result<(), SpcmError> {
        let admitted = state.sign_ins.admit(&self.tenant, &self.username, self.address, known_good).await;
        admitted.map_err(SpcmError::TooManySignIns)
    }
}

/// One round trip: the operation ran, or the password still needs checking.
enum Trip<T, F> {
    Done(T),
    CheckPassword(Option<LoginRecord>, F, Option<SpcmError>),
}

/// Reads the user; when this login was verified against its current hash, checks the
/// contract's order (401, then the request's own 400, then 403) and runs `op`.
async fn trip<T, F>(
    state: &AppState,
    credentials: &Credentials,
    permission: Permission,
    malformed: Option<SpcmError>,
    op: F,
) -> Result<Trip<T, F>, SpcmError>
where
    F: FnOnce(&mut DbConnection, &Principal) -> Result<T, SpcmError> + Send + 'static,
    T: Send + 'static,
{
    let logins = state.logins.clone();
    let (tenant, username, login) = (credentials.tenant.clone(), credentials.username.clone(), credentials.login);
    let plausible = credentials.plausible();
    let acceptable = credentials.acceptable;
    run_db(&state.pool, move |conn| {
        let record = if plausible { store::users::find_login(conn, &tenant, &username)? } else { None };
        match record {
            Some(record) if logins.verifies(&login, &record) => {
                let principal = Principal::from_login(&VerifiedLogin::from_record(&record));
                if let Some(err) = malformed {
                    return Err(err);
                }
                if !principal.permissions.contains(permission) {
                    return Err(SpcmError::Forbidden(permission));
                }
                if !acceptable {
                    return Err(SpcmError::NotAcceptable);
                }
                op(conn, &principal).map(Trip::Done)
            }
            record => Ok(Trip::CheckPassword(record, op, malformed)),
        }
    })
    .await
}

/// Authenticates and authorizes, then runs `op` with the same connection.
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
    // Verified before, perhaps against a hash changed since: the trip tells, and then the
    // rules for an unverified login apply before the password check.
    let known_good = state.logins.get(&credentials.login).is_some();
    credentials.admit(state, known_good).await?;
    let (record, op, malformed) = match trip(state, &credentials, permission, malformed, op).await? {
        Trip::Done(value) => return Ok(value),
        Trip::CheckPassword(record, op, malformed) => (record, op, malformed),
    };
    if known_good {
        credentials.admit(state, false).await?;
    }
    let hash = record.as_ref().map(|r| r.password_hash.clone());
    let matched = state.passwords.verify_login(credentials.login, hash, credentials.password.clone()).await?;
    let Some(record) = record.filter(|_| matched) else {
        state.sign_ins.failed(&credentials.tenant, &credentials.username, credentials.address);
        return Err(SpcmError::Unauthorized);
    };
    state.logins.remember(credentials.login, &record);
    match trip(state, &credentials, permission, malformed, op).await? {
        Trip::Done(value) => Ok(value),
        // The password changed between the check and now: the new one decides.
        Trip::CheckPassword(..) => Err(SpcmError::Unauthorized),
    }
}

/// A GET of the SPCM face: answered from memory when this login and this path and
/// query were read before at the tenant's current version (`reads`); otherwise
/// `load` runs with the verified caller and its answer is remembered. A malformed
/// `If-None-Match` is the request's 400, reported after the credentials are checked.
pub async fn cached_read<F>(
    state: &AppState,
    req: &HttpRequest,
    malformed: Option<SpcmError>,
    load: F,
) -> Result<HttpResponse, SpcmError>
where
    F: FnOnce(&mut DbConnection, &Principal) -> Result<Answer, SpcmError> + Send + 'static,
{
    let credentials = Credentials::from_request(req, state)?;
    let (if_none_match, malformed) = match conditional::if_none_match(req) {
        Ok(condition) => (condition, malformed),
        Err(err) => (None, malformed.or(Some(err))),
    };
    let path = req.uri().path_and_query().map_or(req.path(), |p| p.as_str());
    if malformed.is_none() && credentials.acceptable {
        if let Some(login) = state.logins.get(&credentials.login) {
            let remembered = login
                .permissions
                .contains(Permission::ProfileRead)
                .then(|| state.reads.lookup(login.tenant_id, login.tenant_version, path))
                .flatten();
            if let Some(answer) = remembered {
                if state.versions.current(login.tenant_id).await == Some(login.tenant_version) {
                    credentials.admit(state, true).await?;
                    state.reads.count(true);
                    return Ok(answer.response(req, if_none_match.as_ref()));
                }
            }
        }
    }
    state.reads.count(false);
    let (caller, answer) = with_caller(state, credentials, Permission::ProfileRead, malformed, move |conn, caller| {
        Ok((caller.clone(), Arc::new(load(conn, caller)?)))
    })
    .await?;
    state.reads.remember(caller.tenant_id, caller.tenant_version, path, answer.clone());
    Ok(answer.response(req, if_none_match.as_ref()))
}
