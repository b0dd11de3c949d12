//! Creating a profile and editing one: the form, and what its submission does.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::form::{profile_form, ProfileFields};
use super::input::FieldError;
use super::{profile_path, ProfileChange, ProfilePage};
use crate::api::AppState;
use crate::console::error::ConsoleError;
use crate::console::layout::page;
use crate::console::signed::{ProfileCreate, ProfileUpdate, Signed, SignedForm};
use crate::console::{html_page, see_other};
use crate::store::profiles::{self, ProfileWriteError};
use crate::store::run_db;

/// The field errors of a write the store refused for a name another profile holds, to
/// show on the form again; any other refusal is a page of its own.
fn name_taken(err: ProfileWriteError) -> Result<Vec<FieldError>, ConsoleError> {
    match err {
        ProfileWriteError::NameTaken(name) => {
            Ok(vec![FieldError::new("name", format!("another profile of this tenant is already named '{name}'"))])
        }
        err => Err(err.into()),
    }
}

pub async fn new_form(signed: Signed<ProfileCreate>) -> Result<HttpResponse, ConsoleError> {
    let session = signed.session;
    let form = profile_form(&session, "/console/profiles", &ProfileFields::default(), &[], None);
    Ok(html_page(StatusCode::OK, page("New profile", Some(&session), form)))
}

pub async fn create(
    signed: SignedForm<ProfileCreate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let fields = ProfileFields::from_form(&signed.form);
    let refused = |errors: Vec<FieldError>, status: StatusCode| {
        let markup = profile_form(&signed.session, "/console/profiles", &fields, &errors, None);
        html_page(status, page("New profile", Some(&signed.session), markup))
    };
    let new = match fields.parse_new() {
        Ok(new) => new,
        Err(errors) => return Ok(refused(errors, StatusCode::PRECONDITION_FAILED)),
    };
    let scope = signed.scope(&state.pool);
    let created = run_db(&state.pool, move |conn| Ok::<_, ConsoleError>(profiles::create(conn, &scope, new))).await?;
    match created {
        Ok(created) => Ok(see_other(&format!("{}?done=created", profile_path(created.id)))),
        Err(err) => Ok(refused(name_taken(err)?, StatusCode::CONFLICT)),
    }
}

pub async fn edit_form(viewed: ProfilePage<ProfileUpdate>) -> Result<HttpResponse, ConsoleError> {
    let ProfilePage { session, profile, .. } = viewed;
    let fields = ProfileFields::of(&profile);
    let form = profile_form(&session, &profile_path(profile.id), &fields, &[], Some(profile.revision));
    Ok(html_page(StatusCode::OK, page(&format!("Edit {}", profile.name), Some(&session), form)))
}

pub async fn update(
    change: ProfileChange<ProfileUpdate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, revision) = (change.id, change.revision);
    let fields = ProfileFields::from_form(&change.form);
    let action = profile_path(id);
    let refused = |errors: Vec<FieldError>, status: StatusCode| {
        let markup = profile_form(&change.session, &action, &fields, &errors, Some(revision));
        html_page(status, page("Edit profile", Some(&change.session), markup))
    };
    let patch = match fields.parse_patch(id) {
        Ok(patch) => patch,
        Err(errors) => return Ok(refused(errors, StatusCode::PRECONDITION_FAILED)),
    };
    let scope = change.scope(&state.pool);
    let updated = run_db(&state.pool, move |conn| {
        Ok::<_, ConsoleError>(profiles::update(conn, &scope, id, patch, Some(&revision)))
    })
    .await?;
    match updated {
        Ok(_) => Ok(see_other(&format!("{action}?done=updated"))),
        Err(err) => Ok(refused(name_taken(err)?, StatusCode::CONFLICT)),
    }
}
