//! The tenant's catalogue tokens: the list, a form to create one (its secret shown
//! once), and revoking one.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use secrecy::ExposeSecret;

use super::{permission_boxes, refusal, ticked_permissions};
use crate::api::AppState;
use crate::auth::{self, Permission, PermissionSet};
use crate::console::error::ConsoleError;
use crate::console::form;
use crate::console::layout::{notice, page, text_field, time, token_field};
use crate::console::session::Session;
use crate::console::signed::{Signed, SignedForm, TenantAdmin};
use crate::console::{html_page, see_other};
use crate::store::{self, run_db};

/// The longest a token made here may live, in days.
const MAX_TOKEN_DAYS: i64 = 3650;

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
    signed: Signed<TenantAdmin>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed.session;
    let tokens = list_tokens(&state, session.tenant_id).await?;
    let done = form::query_value(req.query_string(), "done");
    Ok(html_page(StatusCode::OK, tokens_page(&session, &tokens, None, done.as_deref())))
}

pub async fn create_token(
    signed: SignedForm<TenantAdmin>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, form) = (&signed.session, &signed.form);
    let granted = ticked_permissions(form)?;
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
            return Ok(html_page(StatusCode::PRECONDITION_FAILED, tokens_page(session, &tokens, Some(&why), None)));
        }
    };
    let token = auth::generate_token();
    let digest = auth::token_digest(&token);
    let now = unix_now();
    let expires_at = expires_in.map(|days| now + days * 86_400);
    let scope = signed.scope(&state.pool);
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
    Ok(html_page(StatusCode::OK, page("Token created", Some(session), body)))
}

pub async fn revoke_token(
    signed: SignedForm<TenantAdmin>,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let id: i64 = path.parse().map_err(|_| ConsoleError::NotFound("There is no such token.".into()))?;
    let scope = signed.scope(&state.pool);
    let found = run_db(&state.pool, move |conn| store::tokens::revoke(conn, &scope, id)).await.map_err(refusal)?;
    if !found {
        return Err(ConsoleError::NotFound(format!("The tenant has no token {id}.")));
    }
    Ok(see_other("/console/tokens?done=revoked"))
}
