//! Tenant access, for holders of `SPCM_TENANT_ADMIN_PERMISSION` (contract §8): the
//! tenant's users and catalogue tokens. Every change goes through `store::users` /
//! `store::tokens` with the signed-in user as actor, where `domain::authority` decides
//! who may do what to whom (contract §1.2); the pages only show what it will allow.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use secrecy::{ExposeSecret, SecretString};

use super::error::ConsoleError;
use super::form::{self, Form};
use super::layout::{notice, page, text_field, time, token_field};
use super::session::{self, ConsoleConfig, Session};
use crate::api::AppState;
use crate::auth::{self, Permission, PermissionSet};
use crate::domain::authority::Denied;
use crate::domain::{forbidden_character, Username};
use crate::store::{self, run_db, StoreError};
/// The longest a token made here may live, in days.
const MAX_TOKEN_DAYS: i64 = 3650;

fn html_page(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(markup.into_string())
}

fn describe(permission: Permission) -> &'static str {
    match permission {
        Permission::ProfileRead => "see profiles",
        Permission::ProfileCreate => "create profiles",
        Permission::ProfileUpdate => "edit profiles and move the default",
        Permission::ProfileDelete => "delete profiles",
        Permission::CatalogueRead => "read the catalogue",
        Permission::CatalogueWrite => "import the catalogue",
        Permission::AuditRead => "read the change history",
        Permission::TenantAdmin => "manage users and tokens",
    }
}

async fn admin_session(req: &HttpRequest, state: &AppState, config: &ConsoleConfig) -> Result<Session, ConsoleError> {
    let session = session::current(req, state, config).await?;
    session.require(Permission::TenantAdmin)?;
    Ok(session)
}

async fn admin_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    config: &ConsoleConfig,
) -> Result<(Session, Form), ConsoleError> {
    let (session, form) = session::signed_form(req, payload, state, config).await?;
    session.require(Permission::TenantAdmin)?;
    Ok((session, form))
}

/// The permissions ticked in `form`; 403 when one is unknown. Whether the user may
/// grant them is decided when the change is written.
fn ticked_permissions(form: &Form) -> Result<PermissionSet, ConsoleError> {
    form.all("permission")
        .into_iter()
        .map(|name| {
            Permission::parse(name).map_err(|_| ConsoleError::Forbidden("The form named an unknown permission.".into()))
        })
        .collect()
}

/// The page for a write that the store refused.
fn refusal(err: StoreError) -> ConsoleError {
    match err {
        StoreError::Unauthorized => ConsoleError::SignedOut,
        StoreError::Denied(Denied::NoSuchUser(name)) => {
            ConsoleError::NotFound(format!("The tenant has no user '{}'.", name.chars().take(64).collect::<String>()))
        }
        StoreError::Denied(Denied::LastAdministrator) => ConsoleError::refused(
            StatusCode::CONFLICT,
            "The tenant needs an administrator",
            format!(
                "This would leave the tenant without an administrator: it keeps its last user holding {}. Give another user that permission first. Nothing was changed.",
                Permission::TenantAdmin
            ),
        ),
        StoreError::Denied(denied) => {
            ConsoleError::Forbidden(format!("You cannot do this: {denied}. Nothing was changed."))
        }
        err => err.into(),
    }
}

/// Checkboxes for `permissions`; those the user lacks are shown but cannot be changed.
fn permission_boxes(session: &Session, permissions: PermissionSet, checked: PermissionSet, legend: &str) -> Markup {
    html! {
        fieldset {
            legend { (legend) }
            @for permission in permissions.iter() {
                @let id = format!("permission-{}", permission.as_str());
                @let held = session.can(permission);
                div.check {
                    input type="checkbox" id=(id) name="permission" value=(permission.as_str())
                        checked[checked.contains(permission)] disabled[!held];
                    label for=(id) {
                        code { (permission.as_str()) } " — " (describe(permission))
                        @if !held { " (you do not hold it, so you cannot grant it)" }
                    }
                }
            }
        }
    }
}

async fn hash(password: SecretString) -> Result<String, ConsoleError> {
    actix_web::rt::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| StoreError::Internal("password hashing failed".into()))?
        .map_err(|why| ConsoleError::Store(StoreError::Internal(why.to_string())))
}

fn user_path(username: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(username.as_bytes()).collect();
    format!("/console/users/{encoded}")
}

// ---- users --------------------------------------------------------------------------

#[derive(Default)]
struct NewUserErrors {
    username: Option<String>,
    password: Option<String>,
}

fn users_page(
    session: &Session,
    users: &[(String, PermissionSet)],
    username: &str,
    errors: &NewUserErrors,
    done: Option<&str>,
) -> Markup {
    let body = html! {
        @match done {
            Some("added") => (notice("The user was added.")),
            Some("removed") => (notice("The user was removed.")),
            _ => {},
        }
        div.table-wrap {
            table {
                caption { "The tenant's users" }
                thead { tr { th scope="col" { "Username" } th scope="col" { "Permissions" } } }
                tbody {
                    @for (name, granted) in users {
                        tr {
                            td { a href=(user_path(name)) { (name) } }
                            td { ul.fields { @for p in granted.names() { li { code { (p) } } } } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="add-heading" {
            h2 #add-heading { "Add a user" }
            form.card method="post" action="/console/users" novalidate {
                (token_field(session))
                (text_field("username", "Username", username, errors.username.as_deref(), 64, Some("1 to 64 letters, digits, '_', '.', '-' or '@'.")))
                div.field.invalid[errors.password.is_some()] {
                    label for="field-password" { "Password" }
                    input type="password" id="field-password" name="password" maxlength="1024" autocomplete="new-password"
                        aria-invalid=[errors.password.as_ref().map(|_| "true")]
                        aria-describedby=[errors.password.as_ref().map(|_| "field-password-error")];
                    @if let Some(error) = &errors.password {
                        p.error id="field-password-error" { (error) }
                    }
                }
                (permission_boxes(session, PermissionSet::all(), PermissionSet::default(), "Permissions"))
                div.actions { button type="submit" { "Add user" } }
            }
        }
    };
    page("Users", Some(session), body)
}

async fn list_users(state: &AppState, tenant_id: i64) -> Result<Vec<(String, PermissionSet)>, ConsoleError> {
    Ok(run_db(&state.pool, move |conn| store::users::list(conn, tenant_id)).await?)
}

pub async fn users(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = admin_session(&req, &state, &config).await?;
    let users = list_users(&state, session.tenant_id).await?;
    let done = form::query_value(req.query_string(), "done");
    Ok(html_page(StatusCode::OK, users_page(&session, &users, "", &NewUserErrors::default(), done.as_deref())))
}

pub async fn add_user(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, form) = admin_form(&req, payload, &state, &config).await?;
    let granted = ticked_permissions(&form)?;
    let username = form.get("username").unwrap_or_default().trim().to_owned();
    let password = SecretString::from(form.get("password").unwrap_or_default().to_owned());
    let mut errors = NewUserErrors {
        username: Username::parse(&username).err(),
        password: auth::check_new_password(&password).err().map(|why| why.to_string()).or_else(|| {
            forbidden_character(password.expose_secret())
                .map(|_| "the password must not contain control characters or Unicode noncharacters".to_owned())
        }),
    };
    if errors.username.is_none() && errors.password.is_none() {
        let hash = hash(password).await?;
        let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::TenantAdmin));
        let name = username.clone();
        let added = run_db(&state.pool, move |conn| {
            Ok::<_, ConsoleError>(store::users::add(conn, &scope, &name, &hash, granted))
        })
        .await?;
        match added {
            Ok(()) => return Ok(super::see_other("/console/users?done=added")),
            Err(StoreError::UniqueViolation(_)) => {
                errors.username = Some(format!("the tenant already has a user named '{username}'"))
            }
            Err(err) => return Err(refusal(err)),
        }
    }
    let users = list_users(&state, session.tenant_id).await?;
    let shown: String = username.chars().take(64).collect();
    Ok(html_page(StatusCode::PRECONDITION_FAILED, users_page(&session, &users, &shown, &errors, None)))
}

fn user_page(
    session: &Session,
    username: &str,
    granted: PermissionSet,
    password_error: Option<&str>,
    done: Option<&str>,
) -> Markup {
    let path = user_path(username);
    let lacking = granted.without(session.permissions);
    let body = html! {
        @match done {
            Some("permissions") => (notice("The permissions were saved.")),
            Some("password") => (notice("The password was reset; the user's console sessions have ended.")),
            _ => {},
        }
        @if !lacking.is_empty() {
            p.notice role="status" {
                "This user holds " (lacking) ", which your account does not, so you cannot change its permissions, reset its password or remove it."
            }
            ul.fields { @for p in granted.names() { li { code { (p) } } } }
        } @else {
        section aria-labelledby="permissions-heading" {
            h2 #permissions-heading { "Permissions" }
            form.card method="post" action=(format!("{path}/permissions")) {
                (token_field(session))
                (permission_boxes(session, PermissionSet::all(), granted, "Permissions of this user"))
                div.actions { button type="submit" { "Save permissions" } }
            }
        }
        section aria-labelledby="password-heading" {
            h2 #password-heading { "Reset the password" }
            form.card method="post" action=(format!("{path}/password")) novalidate {
                (token_field(session))
                div.field.invalid[password_error.is_some()] {
                    label for="field-password" { "New password" }
                    input type="password" id="field-password" name="password" maxlength="1024" autocomplete="new-password"
                        aria-invalid=[password_error.map(|_| "true")]
                        aria-describedby=[password_error.map(|_| "field-password-error")];
                    @if let Some(error) = password_error {
                        p.error id="field-password-error" { (error) }
                    }
                }
                div.actions { button type="submit" { "Reset password" } }
            }
        }
        section aria-labelledby="remove-heading" {
            h2 #remove-heading { "Remove the user" }
            form method="post" action=(format!("{path}/remove")) {
                (token_field(session))
                p { "The user can no longer sign in, on either face, from the next request on." }
                div.actions { button.danger type="submit" { "Remove " (username) } }
            }
        }
        }
        p { a href="/console/users" { "All users" } }
    };
    page(&format!("User {username}"), Some(session), body)
}

async fn permissions_of(state: &AppState, tenant_id: i64, username: &str) -> Result<PermissionSet, ConsoleError> {
    let users = list_users(state, tenant_id).await?;
    users.iter().find(|(name, _)| name == username).map(|(_, granted)| *granted).ok_or_else(|| {
        ConsoleError::NotFound(format!("The tenant has no user '{}'.", username.chars().take(64).collect::<String>()))
    })
}

pub async fn user(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = admin_session(&req, &state, &config).await?;
    let granted = permissions_of(&state, session.tenant_id, &path).await?;
    let done = form::query_value(req.query_string(), "done");
    Ok(html_page(StatusCode::OK, user_page(&session, &path, granted, None, done.as_deref())))
}

pub async fn set_permissions(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, form) = admin_form(&req, payload, &state, &config).await?;
    let username = path.into_inner();
    let granted = ticked_permissions(&form)?;
    let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::TenantAdmin));
    let name = username.clone();
    run_db(&state.pool, move |conn| store::users::set_permissions(conn, &scope, &name, granted, false))
        .await
        .map_err(refusal)?;
    Ok(super::see_other(&format!("{}?done=permissions", user_path(&username))))
}

pub async fn reset_password(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, form) = admin_form(&req, payload, &state, &config).await?;
    let username = path.into_inner();
    let password = SecretString::from(form.get("password").unwrap_or_default().to_owned());
    if let Err(why) = auth::check_new_password(&password).map_err(|why| why.to_string()) {
        let granted = permissions_of(&state, session.tenant_id, &username).await?;
        return Ok(html_page(
            StatusCode::PRECONDITION_FAILED,
            user_page(&session, &username, granted, Some(&why), None),
        ));
    }
    if forbidden_character(password.expose_secret()).is_some() {
        let granted = permissions_of(&state, session.tenant_id, &username).await?;
        let why = "the password must not contain control characters or Unicode noncharacters";
        return Ok(html_page(
            StatusCode::PRECONDITION_FAILED,
            user_page(&session, &username, granted, Some(why), None),
        ));
    }
    let hash = hash(password).await?;
    let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::TenantAdmin));
    let name = username.clone();
    run_db(&state.pool, move |conn| store::users::set_password(conn, &scope, &name, &hash)).await.map_err(refusal)?;
    Ok(super::see_other(&format!("{}?done=password", user_path(&username))))
}

pub async fn remove_user(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, _form) = admin_form(&req, payload, &state, &config).await?;
    let username = path.into_inner();
    let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::TenantAdmin));
    let name = username.clone();
    run_db(&state.pool, move |conn| store::users::remove(conn, &scope, &name, false)).await.map_err(refusal)?;
    Ok(super::see_other("/console/users?done=removed"))
}

// ---- tokens -------------------------------------------------------------------------

fn unix_now() -> i64 {
    crate::clock::unix_secs().unwrap_or(0)
}

fn tokens_page(
    session: &Session,
    tokens: &[store::tokens::TokenRecord],
    expiry_error: Option<&str>,
    done: Option<&str>,
) -> Markup {
    let now = unix_now();
    let body = html! {
        @if done == Some("revoked") {
            (notice("The token was revoked; it stopped working at once."))
        }
        @if tokens.is_empty() {
            p { "The tenant has no catalogue tokens." }
        } @else {
            div.table-wrap {
                table {
                    caption { "The tenant's catalogue tokens (their secrets are never shown again)" }
                    thead { tr { th scope="col" { "Id" } th scope="col" { "Permissions" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "State" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for token in tokens {
                            @let status = token.status(now);
                            tr {
                                td { (token.id) }
                                td { ul.fields { @for p in token.permissions.names() { li { code { (p) } } } } }
                                td { (time(token.created_at * 1000)) }
                                td { (token.expires_at.map_or_else(|| "never".to_owned(), |at| time(at * 1000))) }
                                td { (status.as_str()) }
                                td {
                                    @if status.is_active() {
                                        form method="post" action=(format!("/console/tokens/{}/revoke", token.id)) {
                                            (token_field(session))
                                            button.danger.small type="submit" { "Revoke token " (token.id) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="create-heading" {
            h2 #create-heading { "Create a token" }
            form.card method="post" action="/console/tokens" novalidate {
                (token_field(session))
                (permission_boxes(session, PermissionSet::catalogue(), [Permission::CatalogueRead].into_iter().filter(|p| session.can(*p)).collect(), "Permissions of the token"))
                (text_field("expiresInDays", "Expires in (days)", "", expiry_error, 4, Some("Empty: never expires. At most 3650 days.")))
                div.actions { button type="submit" { "Create token" } }
            }
        }
    };
    page("Catalogue tokens", Some(session), body)
}

async fn list_tokens(state: &AppState, tenant_id: i64) -> Result<Vec<store::tokens::TokenRecord>, ConsoleError> {
    Ok(run_db(&state.pool, move |conn| store::tokens::list(conn, tenant_id)).await?)
}

pub async fn tokens(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = admin_session(&req, &state, &config).await?;
    let tokens = list_tokens(&state, session.tenant_id).await?;
    let done = form::query_value(req.query_string(), "done");
    Ok(html_page(StatusCode::OK, tokens_page(&session, &tokens, None, done.as_deref())))
}

pub async fn create_token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, form) = admin_form(&req, payload, &state, &config).await?;
    let granted = ticked_permissions(&form)?;
    let days = form.get("expiresInDays").unwrap_or_default().trim();
    let expires_in = if days.is_empty() {
        Ok(None)
    } else {
        match days.parse::<i64>() {
            Ok(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => Ok(Some(days)),
            _ => Err(format!("give a whole number of days from 1 to {MAX_TOKEN_DAYS}, or leave it empty")),
        }
    };
    let expires_in = match expires_in {
        Ok(days) => days,
        Err(why) => {
            let tokens = list_tokens(&state, session.tenant_id).await?;
            return Ok(html_page(StatusCode::PRECONDITION_FAILED, tokens_page(&session, &tokens, Some(&why), None)));
        }
    };
    let token = auth::generate_token();
    let digest = auth::token_digest(&token);
    let now = unix_now();
    let expires_at = expires_in.map(|days| now + days * 86_400);
    let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::TenantAdmin));
    let id = run_db(&state.pool, move |conn| store::tokens::create(conn, &scope, &digest, granted, now, expires_at))
        .await
        .map_err(refusal)?;
    let body = html! {
        p.notice role="status" { "Token " (id) " was created. Copy its secret now: it is not stored and will not be shown again." }
        div.field {
            label for="token-secret" { "Secret of token " (id) }
            input.secret type="text" id="token-secret" readonly value=(token.expose_secret());
        }
        p { "Use it as " code { "Authorization: Bearer <secret>" } " on " code { "/v2/orgs/" (session.tenant) "/…" } "." }
        p { a href="/console/tokens" { "Back to the tokens" } }
    };
    Ok(html_page(StatusCode::OK, page("Token created", Some(&session), body)))
}

pub async fn revoke_token(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, _form) = admin_form(&req, payload, &state, &config).await?;
    let id: i64 = path.parse().map_err(|_| ConsoleError::NotFound("There is no such token.".into()))?;
    let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::TenantAdmin));
    let found = run_db(&state.pool, move |conn| store::tokens::revoke(conn, &scope, id)).await.map_err(refusal)?;
    if !found {
        return Err(ConsoleError::NotFound(format!("The tenant has no token {id}.")));
    }
    Ok(super::see_other("/console/tokens?done=revoked"))
}
