//! The tenant's users: the list and a form to add one; one user's permissions, password
//! and removal.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use secrecy::{ExposeSecret, SecretString};

use super::{permission_boxes, refusal, ticked_permissions};
use crate::api::AppState;
use crate::auth::{self, PermissionSet};
use crate::console::error::ConsoleError;
use crate::console::form::{self, Form};
use crate::console::layout::{notice, page, text_field, token_field};
use crate::console::session::Session;
use crate::console::signed::{Signed, SignedForm, TenantAdmin};
use crate::console::{html_page, see_other};
use crate::domain::{forbidden_character, InvalidValue, Username};
use crate::store::{self, run_db, StoreError};

async fn hash(password: SecretString) -> Result<String, ConsoleError> {
    actix_web::rt::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| StoreError::Internal("password hashing failed".into()))?
        .map_err(|why| ConsoleError::Store(StoreError::Internal(why.to_string())))
}

/// The new password a form carries.
fn new_password(form: &Form) -> SecretString {
    SecretString::from(form.get("password").unwrap_or_default().to_owned())
}

/// Why a new password is refused, if it is.
fn password_problem(password: &SecretString) -> Option<String> {
    auth::check_new_password(password).err().map(|why| why.to_string()).or_else(|| {
        forbidden_character(password.expose_secret())
            .map(|_| "the password must not contain control characters or Unicode noncharacters".to_owned())
    })
}

fn user_path(username: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(username.as_bytes()).collect();
    format!("/console/users/{encoded}")
}

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
    signed: Signed<TenantAdmin>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed.session;
    let users = list_users(&state, session.tenant_id).await?;
    let done = form::query_value(req.query_string(), "done");
    Ok(html_page(StatusCode::OK, users_page(&session, &users, "", &NewUserErrors::default(), done.as_deref())))
}

pub async fn add_user(
    signed: SignedForm<TenantAdmin>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let form = &signed.form;
    let granted = ticked_permissions(form)?;
    let username = form.get("username").unwrap_or_default().trim().to_owned();
    let password = new_password(form);
    let mut errors = NewUserErrors {
        username: Username::parse(&username).err().map(InvalidValue::into_description),
        password: password_problem(&password),
    };
    if errors.username.is_none() && errors.password.is_none() {
        let hash = hash(password).await?;
        let scope = signed.scope(&state.pool);
        let name = username.clone();
        let added = run_db(&state.pool, move |conn| {
            Ok::<_, ConsoleError>(store::users::add(conn, &scope, &name, &hash, granted))
        })
        .await?;
        match added {
            Ok(()) => return Ok(see_other("/console/users?done=added")),
            Err(StoreError::UniqueViolation(_)) => {
                errors.username = Some(format!("the tenant already has a user named '{username}'"))
            }
            Err(err) => return Err(refusal(err)),
        }
    }
    let users = list_users(&state, signed.session.tenant_id).await?;
    let shown: String = username.chars().take(64).collect();
    Ok(html_page(StatusCode::PRECONDITION_FAILED, users_page(&signed.session, &users, &shown, &errors, None)))
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
    signed: Signed<TenantAdmin>,
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed.session;
    let granted = permissions_of(&state, session.tenant_id, &path).await?;
    let done = form::query_value(req.query_string(), "done");
    Ok(html_page(StatusCode::OK, user_page(&session, &path, granted, None, done.as_deref())))
}

pub async fn set_permissions(
    signed: SignedForm<TenantAdmin>,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let username = path.into_inner();
    let granted = ticked_permissions(&signed.form)?;
    let scope = signed.scope(&state.pool);
    let name = username.clone();
    run_db(&state.pool, move |conn| store::users::set_permissions(conn, &scope, &name, granted, false))
        .await
        .map_err(refusal)?;
    Ok(see_other(&format!("{}?done=permissions", user_path(&username))))
}

pub async fn reset_password(
    signed: SignedForm<TenantAdmin>,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let username = path.into_inner();
    let password = new_password(&signed.form);
    if let Some(why) = password_problem(&password) {
        let granted = permissions_of(&state, signed.session.tenant_id, &username).await?;
        let markup = user_page(&signed.session, &username, granted, Some(&why), None);
        return Ok(html_page(StatusCode::PRECONDITION_FAILED, markup));
    }
    let hash = hash(password).await?;
    let scope = signed.scope(&state.pool);
    let name = username.clone();
    run_db(&state.pool, move |conn| store::users::set_password(conn, &scope, &name, &hash)).await.map_err(refusal)?;
    Ok(see_other(&format!("{}?done=password", user_path(&username))))
}

pub async fn remove_user(
    signed: SignedForm<TenantAdmin>,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let username = path.into_inner();
    let scope = signed.scope(&state.pool);
    let name = username.clone();
    run_db(&state.pool, move |conn| store::users::remove(conn, &scope, &name, false)).await.map_err(refusal)?;
    Ok(see_other("/console/users?done=removed"))
}
