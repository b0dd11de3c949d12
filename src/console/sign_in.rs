//! Signing in and out. The same users, password checks, login cache and sign-in limits
//! as the SPCM face (contract §1.1): an unknown tenant or user costs the same argon2 run
//! as a wrong password, each failure counts, and a known-good login meets only its
//! address's limit.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use secrecy::{ExposeSecret, SecretString};

use super::error::ConsoleError;
use super::form::{self, Form};
use super::html_page;
use super::layout::{page, text_field};
use super::session::{self, ConsoleConfig};
use super::signed::{Anyone, Signed, SignedForm};
use crate::api::AppState;
use crate::auth::VerifiedLogin;
use crate::domain::{forbidden_character, TenantName, Username};
use crate::store::{self, run_db};

fn sign_in_page(tenant: &str, username: &str, problem: Option<&str>) -> Markup {
    page(
        "Sign in",
        None,
        html! {
            @if let Some(problem) = problem {
                p.notice.error role="alert" { (problem) }
            }
            form.card method="post" action="/console/sign-in" {
                (text_field("tenant", "Tenant", tenant, None, 64, None))
                (text_field("username", "Username", username, None, 64, None))
                div.field {
                    label for="field-password" { "Password" }
                    input type="password" id="field-password" name="password" maxlength="1024"
                        autocomplete="current-password" required;
                }
                div.actions { button type="submit" { "Sign in" } }
            }
        },
    )
}

pub async fn form(signed: Option<Signed<Anyone>>, req: HttpRequest) -> HttpResponse {
    // Already signed in: straight to the console.
    if signed.is_some() {
        return super::see_other("/console/");
    }
    let tenant = form::query_value(req.query_string(), "tenant").unwrap_or_default();
    let tenant: String = tenant.chars().take(64).collect();
    html_page(StatusCode::OK, sign_in_page(&tenant, "", None))
}

pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let form: Form = form::read(&req, payload.into_inner(), &state).await?;
    let tenant = form.get("tenant").unwrap_or_default().trim().to_owned();
    let username = form.get("username").unwrap_or_default().trim().to_owned();
    let password = SecretString::from(form.get("password").unwrap_or_default().to_owned());
    let address = req.peer_addr().map(|a| a.ip());
    let login = state.logins.key(&tenant, &username, &password);
    // Verified before, perhaps against a hash changed since: the stored hash tells, and
    // then the rules for an unverified login apply before the password check.
    let known_good = state.logins.get(&login).is_some();
    state.sign_ins.admit(&tenant, &username, address, known_good).await.map_err(ConsoleError::TooManySignIns)?;

    let plausible = TenantName::parse(&tenant).is_ok()
        && Username::parse(&username).is_ok()
        && forbidden_character(password.expose_secret()).is_none();
    let (lookup_tenant, lookup_user) = (tenant.clone(), username.clone());
    let record = if plausible {
        run_db(&state.pool, move |conn| store::users::find_login(conn, &lookup_tenant, &lookup_user)).await?
    } else {
        None
    };
    let verified = match &record {
        Some(record) if state.logins.verifies(&login, record) => true,
        // Unknown tenant or user: the same argon2 run, against a hash nothing matches.
        _ => {
            if known_good {
                state.sign_ins.admit(&tenant, &username, address, false).await.map_err(ConsoleError::TooManySignIns)?;
            }
            state.passwords.verify(record.as_ref().map(|r| r.password_hash.clone()), password).await?
        }
    };
    let Some(record) = record.filter(|_| verified) else {
        state.sign_ins.failed(&tenant, &username, address);
        let problem = "The tenant, username or password is wrong.";
        let tenant_shown: String = tenant.chars().take(64).collect();
        let user_shown: String = username.chars().take(64).collect();
        return Ok(html_page(StatusCode::UNAUTHORIZED, sign_in_page(&tenant_shown, &user_shown, Some(problem))));
    };
    state.logins.remember(login, &record);
    let user = VerifiedLogin::from_record(&record);
    let secret = session::new_secret();
    let secret_hash = session::secret_digest(&secret);
    let fingerprint = session::fingerprint(&record.password_hash, &record.permissions);
    let (idle, absolute) = (config.idle.as_millis() as i64, config.absolute.as_millis() as i64);
    // A session this browser had before ends: a sign-in always starts a new one.
    let previous = session::cookie_secret(&req).map(|secret| session::secret_digest(&secret));
    let pool = state.pool.clone();
    run_db(&state.pool, move |conn| {
        let now = session::now_ms();
        if let Some(previous) = previous {
            store::console_sessions::end(conn, &previous)?;
        }
        store::console_sessions::prune(conn, now - idle, now - absolute)?;
        let new = store::console_sessions::NewSession {
            secret_hash: &secret_hash,
            tenant_id: user.tenant_id,
            user_id: user.user_id,
            fingerprint: &fingerprint,
        };
        store::console_sessions::start(conn, new, session::MAX_SESSIONS_PER_USER, now)?;
        pool.commit_durably()
    })
    .await?;
    tracing::info!(tenant = %tenant, username = %username, "console sign-in");
    let mut response = super::see_other("/console/");
    response
        .add_cookie(&session::session_cookie(&secret, &config))
        .map_err(|e| ConsoleError::Store(store::StoreError::Internal(format!("cannot set the cookie: {e}"))))?;
    Ok(response)
}

pub async fn sign_out(signed: SignedForm<Anyone>, state: web::Data<AppState>) -> Result<HttpResponse, ConsoleError> {
    let session = signed.session;
    let secret_hash = session.secret_hash().to_owned();
    let pool = state.pool.clone();
    run_db(&state.pool, move |conn| {
        store::console_sessions::end(conn, &secret_hash)?;
        pool.commit_durably()
    })
    .await?;
    let mut response = super::see_other("/console/sign-in");
    response
        .add_cookie(&session::removal_cookie())
        .map_err(|e| ConsoleError::Store(store::StoreError::Internal(format!("cannot clear the cookie: {e}"))))?;
    Ok(response)
}
