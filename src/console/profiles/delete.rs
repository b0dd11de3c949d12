//! Deleting a profile: a page that asks first, and its form.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::html;

use super::{confirm_form, ProfileChange, ProfilePage};
use crate::api::AppState;
use crate::console::error::ConsoleError;
use crate::console::layout::page;
use crate::console::signed::ProfileDelete;
use crate::console::{html_page, see_other};
use crate::store::{profiles, run_db};

pub async fn confirm_delete(viewed: ProfilePage<ProfileDelete>) -> Result<HttpResponse, ConsoleError> {
    let ProfilePage { session, profile, .. } = viewed;
    let body = html! {
        p { "Delete the profile “" (profile.name) "”? This cannot be undone; its history stays readable." }
        @if profile.default_profile {
            p.notice { "It is the default profile: it can only be deleted when it is the tenant's last profile." }
        }
        (confirm_form(&session, &profile, "delete", html! { button.danger type="submit" { "Delete “" (profile.name) "”" } }))
    };
    Ok(html_page(StatusCode::OK, page("Delete profile?", Some(&session), body)))
}

pub async fn delete(
    change: ProfileChange<ProfileDelete>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, revision, scope) = (change.id, change.revision, change.scope(&state.pool));
    run_db(&state.pool, move |conn| Ok::<_, ConsoleError>(profiles::delete(conn, &scope, id, Some(&revision))?))
        .await?;
    Ok(see_other("/console/profiles?done=deleted"))
}
