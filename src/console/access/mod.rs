//! Tenant access, for holders of `SPCM_TENANT_ADMIN_PERMISSION` (contract §8): the
//! tenant's users and catalogue tokens. Every change goes through `store::users` /
//! `store::tokens` with the signed-in user as actor, where `domain::authority` decides
//! who may do what to whom (contract §1.2); the pages only show what it will allow.

mod tokens;
mod users;

pub use tokens::{create_token, revoke_token, tokens};
pub use users::{add_user, remove_user, reset_password, set_permissions, user, users};

use actix_web::http::StatusCode;
use maud::{html, Markup};

use super::error::ConsoleError;
use super::form::Form;
use super::session::Session;
use crate::auth::{Permission, PermissionSet};
use crate::domain::authority::Denied;
use crate::store::StoreError;

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

/// The permissions ticked in `form`; 403 when one is unknown. Whether the user may
/// grant them is decided when the change is written.
pub fn ticked_permissions(form: &Form) -> Result<PermissionSet, ConsoleError> {
    form.all("permission")
        .into_iter()
        .map(|name| {
            Permission::parse(name).map_err(|_| ConsoleError::Forbidden("The form named an unknown permission.".into()))
        })
        .collect()
}

/// The page for a write that the store refused.
pub fn refusal(err: StoreError) -> ConsoleError {
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
pub fn permission_boxes(session: &Session, permissions: PermissionSet, checked: PermissionSet, legend: &str) -> Markup {
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
