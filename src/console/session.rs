//! Console sessions (contract §8): a random secret in the `spcm_session` cookie, its
//! SHA-256 in the database. A session ends on sign-out, when idle or old, when it is the
//! oldest of its user's and the user signs in again holding ten (contract §1.1), and at
//! once when its user is removed or the user's password or permissions change (the
//! stored fingerprint no longer matches the user's row).

use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::error::ConsoleError;
use crate::api::AppState;
use crate::auth::{Permission, PermissionSet};
use crate::store::{self, run_db, Authority};

pub const COOKIE: &str = "spcm_session";
/// Sessions one user holds at once (contract §1.1): a new sign-in ends the oldest.
pub const MAX_SESSIONS_PER_USER: usize = 10;
/// A cookie value longer than this is no secret of ours.
const MAX_SECRET_CHARS: usize = 128;

/// The console's settings.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Unused this long, a session ends.
    pub idle: Duration,
    /// This long after sign-in, a session ends however busy.
    pub absolute: Duration,
    /// `Secure` on the cookie: the service is reached over https (`SPCM_PUBLIC_URL`).
    pub secure_cookie: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new session secret: 256 random bits.
pub fn new_secret() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretString::from(URL_SAFE_NO_PAD.encode(bytes))
}

/// The only form of the secret that is stored.
pub fn secret_digest(secret: &SecretString) -> String {
    hex(&Sha256::digest(secret.expose_secret().as_bytes()))
}

/// The token every changing form carries: derived from the session's secret, so it is
/// bound to the session and needs no storage, and it reveals nothing of the secret.
fn csrf_token(secret: &SecretString) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"spcm console form token\0");
    hasher.update(secret.expose_secret().as_bytes());
    hex(&hasher.finalize())
}

/// What a session remembers of its user: the hash and permissions at sign-in.
pub fn fingerprint(password_hash: &str, permissions: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [password_hash, permissions] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex(&hasher.finalize())
}

pub fn now_ms() -> i64 {
    crate::clock::unix_ms().unwrap_or(0)
}

/// The cookie that carries a new session's secret.
pub fn session_cookie(secret: &SecretString, config: &ConsoleConfig) -> Cookie<'static> {
    Cookie::build(COOKIE, secret.expose_secret().to_owned())
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(config.secure_cookie)
        .finish()
}

/// The cookie that makes the browser forget the session.
pub fn removal_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(COOKIE, "").path("/console").http_only(true).same_site(SameSite::Strict).finish();
    cookie.make_removal();
    cookie
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Session {
    pub tenant_id: i64,
    pub tenant: String,
    pub user_id: i64,
    pub username: String,
    pub permissions: PermissionSet,
    /// The token the session's forms carry.
    pub csrf: String,
    password_hash: String,
    secret_hash: String,
}

impl Session {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// 403 unless the user holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ConsoleError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(format!("Your account lacks {permission}, which this needs.")))
        }
    }

    /// The authority of a write by this user, checked again in the write's transaction.
    pub fn authority(&self, permission: Permission) -> Authority {
        Authority::User {
            user_id: self.user_id,
            username: self.username.clone(),
            password_hash: self.password_hash.clone(),
            permission,
        }
    }

    /// 403 unless `sent` is this session's form token.
    pub fn check_form_token(&self, sent: Option<&str>) -> Result<(), ConsoleError> {
        let matches = sent.is_some_and(|sent| {
            sent.len() == self.csrf.len() && sent.bytes().zip(self.csrf.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
        });
        if matches {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(
                "The form was not sent from this session's page, so nothing was changed. Reload the page and try again."
                    .into(),
            ))
        }
    }

    pub fn secret_hash(&self) -> &str {
        &self.secret_hash
    }
}

/// The secret in the request's cookie, if it could be one.
pub fn cookie_secret(req: &HttpRequest) -> Option<SecretString> {
    let cookie = req.cookie(COOKIE)?;
    let value = cookie.value();
    (!value.is_empty() && value.len() <= MAX_SECRET_CHARS && value.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| SecretString::from(value.to_owned()))
}

/// The request's session, still valid; it counts as used now. Signed out otherwise.
pub async fn current(req: &HttpRequest, state: &AppState, config: &ConsoleConfig) -> Result<Session, ConsoleError> {
    let secret = cookie_secret(req).ok_or(ConsoleError::SignedOut)?;
    let secret_hash = secret_digest(&secret);
    let csrf = csrf_token(&secret);
    let (idle, absolute) = (config.idle.as_millis() as i64, config.absolute.as_millis() as i64);
    run_db(&state.pool, move |conn| {
        let record = store::console_sessions::find(conn, &secret_hash)?.ok_or(ConsoleError::SignedOut)?;
        let now = now_ms();
        let expired = now - record.last_seen_at_ms >= idle || now - record.created_at_ms >= absolute;
        if expired || record.fingerprint != fingerprint(&record.password_hash, &record.permissions) {
            store::console_sessions::end(conn, &secret_hash)?;
            return Err(ConsoleError::SignedOut);
        }
        // One write per session per minute at most (a thirtieth of the idle time when
        // that is shorter): a session then ends at most that much before its idle time.
        if now - record.last_seen_at_ms >= (idle / 30).clamp(1, 60_000) {
            store::console_sessions::touch(conn, &secret_hash, now)?;
        }
        Ok(Session {
            tenant_id: record.tenant_id,
            tenant: record.tenant_name,
            user_id: record.user_id,
            username: record.username,
            permissions: PermissionSet::parse_stored(&record.permissions),
            csrf,
            password_hash: record.password_hash,
            secret_hash,
        })
    })
    .await
}
