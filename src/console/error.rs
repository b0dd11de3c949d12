//! Why a console request was refused, each case a page of its own (or, signed out, a
//! redirect to the sign-in form).

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use maud::html;

use super::layout;
use crate::store::profiles::ProfileWriteError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No session, or it ended (expired, signed out, user changed or removed).
    #[error("not signed in")]
    SignedOut,
    /// The user lacks the permission, or the form lacked its session's token.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A rule refused the change: 409, 422, 408, 413, 415; the message says it in words.
    #[error("{title}: {message}")]
    Refused { status: StatusCode, title: &'static str, message: String },
    /// The profile changed since the page that sent the form was made (contract §8).
    #[error("profile {id} changed since")]
    Stale { id: i64, revision: i64 },
    /// Too many failed sign-ins from the address, for the account or in all (contract §1.1).
    #[error("too many failed sign-ins")]
    TooManySignIns(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConsoleError {
    pub fn refused(status: StatusCode, title: &'static str, message: impl Into<String>) -> ConsoleError {
        ConsoleError::Refused { status, title, message: message.into() }
    }
}

impl From<ProfileWriteError> for ConsoleError {
    fn from(err: ProfileWriteError) -> Self {
        match err {
            ProfileWriteError::NotFound(id) => ConsoleError::NotFound(format!("Provisioning profile {id} does not exist.")),
            ProfileWriteError::NameTaken(name) => ConsoleError::refused(
                StatusCode::CONFLICT,
                "Name already used",
                format!("Another profile of this tenant is already named '{name}'. Profile names are unique within a tenant."),
            ),
            ProfileWriteError::Referenced(id, bundled_product) => ConsoleError::refused(
                StatusCode::CONFLICT,
                "Profile still in use",
                format!(
                    "Provisioning profile {id} cannot be deleted: the catalogue's bundled product '{bundled_product}' \
                     provisions with it. Change the catalogue first."
                ),
            ),
            ProfileWriteError::Rule(rule, id) => ConsoleError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The default profile must stay",
                format!("{} (rule {}).", rule.message(id), rule.code()),
            ),
            ProfileWriteError::Stale(id, revision) => ConsoleError::Stale { id, revision },
            ProfileWriteError::Store(StoreError::Unauthorized) => ConsoleError::SignedOut,
            ProfileWriteError::Store(err) => ConsoleError::Store(err),
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignedOut => StatusCode::SEE_OTHER,
            ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Refused { status, .. } => *status,
            ConsoleError::Stale { .. } => StatusCode::CONFLICT,
            ConsoleError::TooManySignIns(_) => StatusCode::TOO_MANY_REQUESTS,
            ConsoleError::Store(StoreError::Unauthorized) => StatusCode::SEE_OTHER,
            ConsoleError::Store(err) if err.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            ConsoleError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status == StatusCode::SEE_OTHER {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/console/sign-in"))
                .cookie(super::session::removal_cookie())
                .finish();
        }
        let (title, message) = match self {
            ConsoleError::Forbidden(message) => ("Not allowed", message.clone()),
            ConsoleError::NotFound(message) => ("Not found", message.clone()),
            ConsoleError::Refused { title, message, .. } => (*title, message.clone()),
            ConsoleError::Stale { id, revision } => (
                "Changed by someone else",
                format!(
                    "Provisioning profile {id} was changed after you opened the page (it is now at revision \
                     {revision}), so your change was not applied over theirs. Open the profile again to see its \
                     current values and history, then make your change again if it is still needed."
                ),
            ),
            ConsoleError::TooManySignIns(wait) => (
                "Too many failed sign-ins",
                format!(
                    "Too many failed sign-ins came from your address, for this account or in all. Try again in {} \
                     seconds.",
                    crate::api::retry_after_seconds(*wait)
                ),
            ),
            ConsoleError::Store(err) if err.is_unavailable() => {
                ("Service busy", "The service is overloaded or its database is unavailable. Try again shortly.".into())
            }
            ConsoleError::Store(err) => {
                tracing::error!(cause = %err.cause_chain(), "console request failed");
                ("Something went wrong", format!("The request failed ({}).", err.public_reason()))
            }
            ConsoleError::SignedOut => ("Signed out", String::new()),
        };
        let current = match self {
            ConsoleError::Stale { id, .. } => Some(format!("/console/profiles/{id}")),
            _ => None,
        };
        let body = layout::page(
            title,
            None,
            html! {
                p.notice role="alert" { (message) }
                @if let Some(current) = &current {
                    p { a href=(current) { "Open the profile as it is now" } }
                }
                p { a href="/console/" { "Back to the console" } }
            },
        );
        let mut response = HttpResponse::build(status);
        if let ConsoleError::TooManySignIns(wait) = self {
            response.insert_header((header::RETRY_AFTER, crate::api::retry_after_seconds(*wait)));
        }
        if let ConsoleError::Store(err) = self {
            if err.is_unavailable() {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
        }
        response.content_type("text/html; charset=utf-8").body(body.into_string())
    }
}
