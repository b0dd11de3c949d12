//! `/console/`: the first page the user's permissions allow.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::html;

use super::error::ConsoleError;
use super::layout::page;
use super::signed::{Anyone, Signed};
use super::{html_page, see_other};
use crate::auth::Permission;

pub async fn home(signed: Signed<Anyone>) -> Result<HttpResponse, ConsoleError> {
    let session = signed.session;
    let first = [
        (Permission::ProfileRead, "/console/profiles"),
        (Permission::AuditRead, "/console/changes"),
        (Permission::TenantAdmin, "/console/users"),
    ]
    .into_iter()
    .find(|(permission, _)| session.can(*permission));
    match first {
        Some((_, path)) => Ok(see_other(path)),
        None => Ok(html_page(
            StatusCode::OK,
            page(
                "Nothing to show",
                Some(&session),
                html! { p { "Your account holds no permission that the console serves. Ask a tenant administrator." } },
            ),
        )),
    }
}
