//! One profile: its fields, the bundled products of the catalogue that provision with
//! it, its history, and links to what the user may do with it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::{profile_path, ProfilePage};
use crate::api::AppState;
use crate::auth::Permission;
use crate::console::changes::{change_table, CHANGES_SHOWN};
use crate::console::error::ConsoleError;
use crate::console::form;
use crate::console::html_page;
use crate::console::layout::{notice, page};
use crate::console::signed::ProfileRead;
use crate::domain::catalogue::ProvisioningProfileLink;
use crate::domain::ProvisioningProfile;
use crate::store::changes::{self, Entity};
use crate::store::{self, run_db};

// ---- one profile --------------------------------------------------------------------

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

fn details(profile: &ProvisioningProfile) -> Markup {
    let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".into());
    html! {
        dl.details {
            dt { "Id" } dd { (profile.id) }
            dt { "Name" } dd { (profile.name) }
            dt { "Default profile" } dd { (yes_no(profile.default_profile)) }
            dt { "Locale" } dd { (optional(&profile.locale)) }
            dt { "Initial core plan" } dd { (optional(&profile.initial_core_plan_name)) }
            dt { "Subscriber class" } dd { (optional(&profile.subscriber_class)) }
            dt { "Subscriber type" } dd { (optional(&profile.subscriber_type)) }
            dt { "DPS enabled" } dd { (yes_no(profile.dps_enabled)) }
            dt { "DPS notification" } dd { (yes_no(profile.dps_notification)) }
            dt { "EOS notification" } dd { (yes_no(profile.eos_notification)) }
            dt { "PAYG notification" } dd { (yes_no(profile.payg_notification)) }
            dt { "Revision" } dd { (profile.revision) }
        }
    }
}

/// A bundled product that provisions with the profile, as the catalogue stores it.
struct CatalogueUse {
    bundled_product_id: String,
    bundled_product_name: Option<String>,
    link: ProvisioningProfileLink,
}

fn catalogue_uses(uses: &[CatalogueUse]) -> Markup {
    let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".into());
    html! {
        @if uses.is_empty() {
            p { "No bundled product of the catalogue provisions with this profile." }
        } @else {
            div.table-wrap {
                table {
                    caption { "Bundled products that provision with this profile, and their work-order types" }
                    thead { tr {
                        th scope="col" { "Bundled product" } th scope="col" { "Territory owners" }
                        th scope="col" { "Activation" } th scope="col" { "Deactivation" } th scope="col" { "Suspension" }
                        th scope="col" { "Resume" } th scope="col" { "Cancellation" } th scope="col" { "Partial cancellation" }
                    } }
                    tbody {
                        @for used in uses {
                            tr {
                                td { (used.bundled_product_id) @if let Some(name) = &used.bundled_product_name { " · " (name) } }
                                td { (used.link.territory_owners.as_ref().map_or_else(|| "all others".to_owned(), |o| o.join(", "))) }
                                td { (shown(&used.link.activation_work_order_type_id)) }
                                td { (shown(&used.link.deactivation_work_order_type_id)) }
                                td { (shown(&used.link.suspension_work_order_type_id)) }
                                td { (shown(&used.link.resume_work_order_type_id)) }
                                td { (shown(&used.link.cancellation_work_order_type_id)) }
                                td { (shown(&used.link.partial_cancellation_work_order_type_id)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn show(
    viewed: ProfilePage<ProfileRead>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let ProfilePage { session, profile, .. } = viewed;
    let id = profile.id;
    let tenant_id = session.tenant_id;
    let (with_catalogue, with_history) = (session.can(Permission::CatalogueRead), session.can(Permission::AuditRead));
    let (uses, history) = run_db(&state.pool, move |conn| {
        let mut uses = Vec::new();
        if with_catalogue {
            if let Some(stored) = store::catalogue::load(conn, tenant_id)? {
                for product in stored.document.bundled_products {
                    for link in product.provisioning_profiles {
                        if link.profile_id == Some(id) {
                            uses.push(CatalogueUse {
                                bundled_product_id: product.id.clone(),
                                bundled_product_name: product.name.clone(),
                                link,
                            });
                        }
                    }
                }
            }
        }
        let history = if with_history {
            changes::history(conn, tenant_id, Entity::ProvisionProfile, &id.to_string(), 0, Some(CHANGES_SHOWN))?.0
        } else {
            Vec::new()
        };
        Ok::<_, ConsoleError>((uses, history))
    })
    .await?;
    let done = form::query_value(req.query_string(), "done");
    let body = html! {
        @match done.as_deref() {
            Some("created") => (notice("The profile was created.")),
            Some("updated") => (notice("The profile was saved.")),
            Some("default") => (notice("This profile is now the default.")),
            _ => {},
        }
        (details(&profile))
        div.actions {
            @if session.can(Permission::ProfileUpdate) {
                a.button href=(format!("{}/edit", profile_path(id))) { "Edit" }
                @if !profile.default_profile {
                    a.button.secondary href=(format!("{}/default", profile_path(id))) { "Make default" }
                }
            }
            @if session.can(Permission::ProfileDelete) {
                a.button.danger href=(format!("{}/delete", profile_path(id))) { "Delete" }
            }
        }
        @if with_catalogue {
            section aria-labelledby="uses-heading" {
                h2 #uses-heading { "Catalogue uses" }
                (catalogue_uses(&uses))
            }
        }
        @if with_history {
            section aria-labelledby="history-heading" {
                h2 #history-heading { "History" }
                (change_table(&history, "Changes of this profile, newest first"))
            }
        }
        p { a href="/console/profiles" { "All profiles" } }
    };
    Ok(html_page(StatusCode::OK, page(&format!("Profile {}", profile.name), Some(&session), body)))
}
