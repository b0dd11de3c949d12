//! The tenant's provisioning profiles: the list, one profile with its catalogue uses and
//! history, the forms that create and edit one, making one the default and deleting
//! one. Every write is the SPCM face's: the same parsing, the same store call, the same
//! change record with the signed-in user as actor.

mod default;
mod delete;
mod edit;
mod form;
mod input;
mod list;
mod show;

pub use default::{confirm_default, make_default};
pub use delete::{confirm_delete, delete};
pub use edit::{create, edit_form, new_form, update};
pub use list::list;
pub use show::show;

use std::marker::PhantomData;

use actix_web::http::StatusCode;
use actix_web::{dev, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use maud::{html, Markup};

use super::error::ConsoleError;
use super::form::Form;
use super::layout::token_field;
use super::session::Session;
use super::signed::{self, Need, Permitted};
use crate::api::AppState;
use crate::domain::ProvisioningProfile;
use crate::store::profiles::{self, Page, ProfileFilter};
use crate::store::{run_db, DbConnection, DbPool, StoreError, WriteScope};

fn profile_path(id: i64) -> String {
    format!("/console/profiles/{id}")
}

/// The id in the path: one that is no number names no profile.
async fn path_id(req: &HttpRequest) -> Result<i64, ConsoleError> {
    let raw = web::Path::<String>::extract(req)
        .await
        .map_err(|_| ConsoleError::NotFound("There is no such profile.".into()))?
        .into_inner();
    raw.parse().map_err(|_| {
        ConsoleError::NotFound(format!("There is no profile '{}'.", raw.chars().take(40).collect::<String>()))
    })
}

/// The revision the form's page showed: a change applies only while the profile is
/// still at it, so that nobody's change is overwritten unseen (contract §8).
fn form_revision(form: &Form) -> Result<i64, ConsoleError> {
    form.get("revision").and_then(|r| r.parse().ok()).ok_or_else(|| {
        ConsoleError::refused(
            StatusCode::BAD_REQUEST,
            "Incomplete form",
            "The form lacks the revision of the profile it was made from. Open the profile again.",
        )
    })
}

/// The form that confirms a change to `profile`, bound to its session and to the
/// revision the page shows, posted to `/console/profiles/{id}/{action}`.
fn confirm_form(session: &Session, profile: &ProvisioningProfile, action: &str, button: Markup) -> Markup {
    html! {
        form method="post" action=(format!("{}/{action}", profile_path(profile.id))) {
            (token_field(session))
            (revision_field(profile.revision))
            div.actions {
                (button)
                a href=(profile_path(profile.id)) { "Cancel" }
            }
        }
    }
}

fn revision_field(revision: i64) -> Markup {
    html! { input type="hidden" name="revision" value=(revision); }
}

/// The tenant's default profile, if it has one.
fn default_profile(conn: &mut DbConnection, tenant_id: i64) -> Result<Option<ProvisioningProfile>, StoreError> {
    let filter = ProfileFilter { default_profile: Some(true), ..Default::default() };
    Ok(profiles::list(conn, tenant_id, &filter, Page::default())?.0.into_iter().next())
}

/// A page about one profile: a signed-in user holding what `N` needs, and the profile of
/// the session's tenant that the path names (404 otherwise, another tenant's id too).
pub struct ProfilePage<N: Need> {
    session: Session,
    profile: ProvisioningProfile,
    need: PhantomData<N>,
}

impl<N: Need + 'static> FromRequest for ProfilePage<N> {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = signed::signed_in::<N>(&req).await?;
            let id = path_id(&req).await?;
            let state = signed::data::<AppState>(&req)?;
            let tenant_id = session.tenant_id;
            let profile =
                run_db(&state.pool, move |conn| profiles::get(conn, tenant_id, id)).await?.ok_or_else(|| {
                    ConsoleError::NotFound(format!("Provisioning profile {id} does not exist in this tenant."))
                })?;
            Ok(ProfilePage { session, profile, need: PhantomData })
        })
    }
}

/// A form that changes one profile, sent from a page of the session of a user holding
/// `P`: the profile's id from the path and the revision the page showed.
pub struct ProfileChange<P: Permitted> {
    session: Session,
    form: Form,
    id: i64,
    revision: i64,
    need: PhantomData<P>,
}

impl<P: Permitted> ProfileChange<P> {
    fn scope(&self, pool: &DbPool) -> WriteScope {
        signed::write_scope::<P>(pool, &self.session)
    }
}

impl<P: Permitted + 'static> FromRequest for ProfileChange<P> {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let (session, form) = signed::signed_form::<P>(&req, payload).await?;
            let id = path_id(&req).await?;
            let revision = form_revision(&form)?;
            Ok(ProfileChange { session, form, id, revision, need: PhantomData })
        })
    }
}
