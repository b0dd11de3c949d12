//! The list of the tenant's profiles: searched by name and subscriber type, a page at a
//! time, with the default profile named above it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use unicode_normalization::UnicodeNormalization;

use super::{default_profile, profile_path};
use crate::api::AppState;
use crate::auth::Permission;
use crate::console::error::ConsoleError;
use crate::console::form;
use crate::console::html_page;
use crate::console::layout::{notice, page};
use crate::console::signed::{ProfileRead, Signed};
use crate::domain::{forbidden_character, SubscriberType};
use crate::store::profiles;
use crate::store::run_db;

/// Profiles on one page of the list.
const PAGE_SIZE: usize = 20;

pub async fn list(
    signed: Signed<ProfileRead>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed.session;
    let query = req.query_string();
    let search: String = form::query_value(query, "name").unwrap_or_default().nfc().take(100).collect();
    if forbidden_character(&search).is_some() {
        return Err(ConsoleError::refused(
            StatusCode::BAD_REQUEST,
            "Bad search",
            "A name to search for must not contain control characters or Unicode noncharacters.",
        ));
    }
    let kind = form::query_value(query, "subscriberType").and_then(|t| SubscriberType::parse(&t).ok());
    let page_number = form::query_value(query, "page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let tenant_id = session.tenant_id;
    let wanted = search.to_lowercase();
    let (shown, matching, default) = run_db(&state.pool, move |conn| {
        let names = profiles::names(conn, tenant_id, kind)?;
        let ids: Vec<i64> =
            names.into_iter().filter(|(_, name)| name.to_lowercase().contains(&wanted)).map(|(id, _)| id).collect();
        let start = (page_number - 1).saturating_mul(PAGE_SIZE).min(ids.len());
        let end = (start + PAGE_SIZE).min(ids.len());
        let shown = profiles::by_ids(conn, tenant_id, &ids[start..end])?;
        Ok::<_, ConsoleError>((shown, ids.len(), default_profile(conn, tenant_id)?))
    })
    .await?;
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let link = |number: usize| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if !search.is_empty() {
            query.append_pair("name", &search);
        }
        if let Some(kind) = kind {
            query.append_pair("subscriberType", kind.as_str());
        }
        query.append_pair("page", &number.to_string());
        format!("/console/profiles?{}", query.finish())
    };
    let done = form::query_value(query, "done");
    let body = html! {
        @if done.as_deref() == Some("deleted") {
            (notice("The profile was deleted."))
        }
        @if let Some(default) = &default {
            p { "Default profile: " a href=(profile_path(default.id)) { (default.name) } }
        } @else {
            p { "This tenant has no default profile." }
        }
        form.filters method="get" action="/console/profiles" role="search" {
            div.field {
                label for="search-name" { "Name contains" }
                input type="search" id="search-name" name="name" value=(search) maxlength="100";
            }
            div.field {
                label for="search-type" { "Subscriber type" }
                select id="search-type" name="subscriberType" {
                    option value="" selected[kind.is_none()] { "Any" }
                    option value="PREPAID" selected[kind == Some(SubscriberType::Prepaid)] { "Prepaid" }
                    option value="POSTPAID" selected[kind == Some(SubscriberType::Postpaid)] { "Postpaid" }
                }
            }
            div.actions { button type="submit" { "Search" } }
        }
        @if session.can(Permission::ProfileCreate) {
            p { a.button href="/console/profiles/new" { "New profile" } }
        }
        @if shown.is_empty() {
            p { "No profile matches." }
        } @else {
            div.table-wrap {
                table {
                    caption { (matching) " matching profiles" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Default" } th scope="col" { "Subscriber type" } th scope="col" { "Locale" } } }
                    tbody {
                        @for profile in &shown {
                            tr {
                                td { a href=(profile_path(profile.id)) { (profile.name) } }
                                td { @if profile.default_profile { span.badge { "Default" } } }
                                td { (profile.subscriber_type.as_deref().unwrap_or("")) }
                                td { (profile.locale.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if page_number > 1 {
                    a href=(link(page_number - 1)) rel="prev" { "Previous" }
                }
                span { "Page " (page_number.min(pages)) " of " (pages) }
                @if page_number < pages {
                    a href=(link(page_number + 1)) rel="next" { "Next" }
                }
            }
        }
    };
    Ok(html_page(StatusCode::OK, page("Provisioning profiles", Some(&session), body)))
}
