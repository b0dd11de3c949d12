//! Making a profile the tenant's default: a page that says what moves, and its form.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::html;

use super::{confirm_form, default_profile, profile_path, ProfileChange, ProfilePage};
use crate::api::AppState;
use crate::console::error::ConsoleError;
use crate::console::layout::page;
use crate::console::signed::ProfileUpdate;
use crate::console::{html_page, see_other};
use crate::domain::ProfilePatch;
use crate::store::{profiles, run_db};

pub async fn confirm_default(
    viewed: ProfilePage<ProfileUpdate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let ProfilePage { session, profile, .. } = viewed;
    let tenant_id = session.tenant_id;
    let current = run_db(&state.pool, move |conn| Ok::<_, ConsoleError>(default_profile(conn, tenant_id)?)).await?;
    let body = html! {
        @if profile.default_profile {
            p { "“" (profile.name) "” is already the default profile." }
        } @else {
            @if let Some(current) = &current {
                p { "The default profile now is “" a href=(profile_path(current.id)) { (current.name) } "”. "
                    "Making “" (profile.name) "” the default takes the default from “" (current.name) "”." }
            } @else {
                p { "The tenant has no default profile now. “" (profile.name) "” will become the default." }
            }
            (confirm_form(&session, &profile, "default", html! { button type="submit" { "Make “" (profile.name) "” the default" } }))
        }
    };
    Ok(html_page(StatusCode::OK, page("Make default?", Some(&session), body)))
}

pub async fn make_default(
    change: ProfileChange<ProfileUpdate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, revision, scope) = (change.id, change.revision, change.scope(&state.pool));
    let patch = ProfilePatch { default_profile: Some(true), ..Default::default() };
    run_db(&state.pool, move |conn| Ok::<_, ConsoleError>(profiles::update(conn, &scope, id, patch, Some(&revision))?))
        .await?;
    Ok(see_other(&format!("{}?done=default", profile_path(id))))
}
