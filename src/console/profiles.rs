//! The tenant's provisioning profiles: list, one profile with its catalogue uses and
//! history, create, edit, delete and make default; and the tenant's recent changes.
//! Every write is the SPCM face's: the same parsing (`api::spcm::dto`), the same store
//! call, the same change record with the signed-in user as actor.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use unicode_normalization::UnicodeNormalization;

use super::error::ConsoleError;
use super::form::{self, Form};
use super::layout::{checkbox, notice, page, text_field, time, token_field};
use super::session::{self, ConsoleConfig, Session};
use crate::api::spcm::dto::{parse_new, parse_patch};
use crate::api::spcm::FieldError;
use crate::api::AppState;
use crate::auth::Permission;
use crate::domain::catalogue::ProvisioningProfileLink;
use crate::domain::{forbidden_character, ProfilePatch, ProvisioningProfile, SubscriberType};
use crate::store::changes::{self, ChangeRecord, Entity};
use crate::store::profiles::{self, Page, ProfileFilter};
use crate::store::{self, run_db};

/// Profiles on one page of the list.
const PAGE_SIZE: usize = 20;
/// Changes on the recent-changes page and in a profile's history.
const CHANGES_SHOWN: i64 = 50;

fn html_page(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(markup.into_string())
}

fn ok(markup: Markup) -> Result<HttpResponse, ConsoleError> {
    Ok(html_page(StatusCode::OK, markup))
}

fn profile_path(id: i64) -> String {
    format!("/console/profiles/{id}")
}

fn parse_id(raw: &str) -> Result<i64, ConsoleError> {
    raw.parse().map_err(|_| {
        ConsoleError::NotFound(format!("There is no profile '{}'.", raw.chars().take(40).collect::<String>()))
    })
}

/// The profile of the session's tenant, or 404 (another tenant's id too).
async fn load_profile(state: &AppState, session: &Session, id: i64) -> Result<ProvisioningProfile, ConsoleError> {
    let tenant_id = session.tenant_id;
    run_db(&state.pool, move |conn| profiles::get(conn, tenant_id, id))
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("Provisioning profile {id} does not exist in this tenant.")))
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

fn revision_field(revision: i64) -> Markup {
    html! { input type="hidden" name="revision" value=(revision); }
}

// ---- home ---------------------------------------------------------------------------

/// `/console/`: the first page the user's permissions allow.
pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = session::current(&req, &state, &config).await?;
    let first = [
        (Permission::ProfileRead, "/console/profiles"),
        (Permission::AuditRead, "/console/changes"),
        (Permission::TenantAdmin, "/console/users"),
    ]
    .into_iter()
    .find(|(permission, _)| session.can(*permission));
    match first {
        Some((_, path)) => Ok(super::see_other(path)),
        None => ok(page(
            "Nothing to show",
            Some(&session),
            html! { p { "Your account holds no permission that the console serves. Ask a tenant administrator." } },
        )),
    }
}

// ---- list ---------------------------------------------------------------------------

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = session::current(&req, &state, &config).await?;
    session.require(Permission::ProfileRead)?;
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
        let filter = ProfileFilter { default_profile: Some(true), ..Default::default() };
        let (default, _) = profiles::list(conn, tenant_id, &filter, Page::default())?;
        Ok::<_, ConsoleError>((shown, ids.len(), default.into_iter().next()))
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
    ok(page("Provisioning profiles", Some(&session), body))
}

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

/// The changes as a table: when, who, what.
fn change_table(records: &[ChangeRecord], caption: &str) -> Markup {
    html! {
        @if records.is_empty() {
            p { "No changes recorded." }
        } @else {
            div.table-wrap {
                table.changes {
                    caption { (caption) }
                    thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Changed fields" } } }
                    tbody {
                        @for record in records {
                            tr {
                                td { (time(record.at_ms)) }
                                td { (record.actor_name) " (" (record.actor_kind) ")" }
                                td {
                                    @if record.entity == Entity::ProvisionProfile.as_str() {
                                        "profile " a href=(format!("/console/profiles/{}", record.entity_id)) { (record.entity_id) }
                                    } @else {
                                        (record.entity) " " (record.entity_id)
                                    }
                                    " " (record.action)
                                }
                                td {
                                    @match record.action.as_str() {
                                        "created" => "(all fields set)",
                                        "deleted" => "(removed)",
                                        _ => (changed_fields(record)),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The changed fields, each with its old and new value where the record has them.
fn changed_fields(record: &ChangeRecord) -> Markup {
    let fields: Vec<String> = serde_json::from_str(&record.changed_fields).unwrap_or_default();
    let state = |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok());
    let (before, after) = (state(&record.before), state(&record.after));
    let value = |side: &Option<Value>, field: &str| -> String {
        match side.as_ref().and_then(|v| v.get(field)) {
            None | Some(Value::Null) => "—".into(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        }
    };
    let both = before.is_some() && after.is_some();
    html! {
        ul.fields {
            @for field in &fields {
                li {
                    code { (field) }
                    @if both && field != "password" {
                        ": " (value(&before, field)) " → " (value(&after, field))
                    }
                }
            }
        }
    }
}

pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = session::current(&req, &state, &config).await?;
    session.require(Permission::ProfileRead)?;
    let id = parse_id(&path)?;
    let profile = load_profile(&state, &session, id).await?;
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
    ok(page(&format!("Profile {}", profile.name), Some(&session), body))
}

// ---- create and edit ----------------------------------------------------------------

/// What a profile form shows and sends back.
#[derive(Debug, Default)]
struct ProfileFields {
    name: String,
    locale: String,
    initial_core_plan_name: String,
    subscriber_class: String,
    subscriber_type: String,
    default_profile: bool,
    dps_enabled: bool,
    dps_notification: bool,
    eos_notification: bool,
    payg_notification: bool,
}

const TEXTS: [&str; 4] = ["locale", "initialCorePlanName", "subscriberClass", "subscriberType"];
const FLAGS: [&str; 4] = ["dpsEnabled", "dpsNotification", "eosNotification", "paygNotification"];

impl ProfileFields {
    fn of(profile: &ProvisioningProfile) -> ProfileFields {
        ProfileFields {
            name: profile.name.clone(),
            locale: profile.locale.clone().unwrap_or_default(),
            initial_core_plan_name: profile.initial_core_plan_name.clone().unwrap_or_default(),
            subscriber_class: profile.subscriber_class.clone().unwrap_or_default(),
            subscriber_type: profile.subscriber_type.clone().unwrap_or_default(),
            default_profile: profile.default_profile,
            dps_enabled: profile.dps_enabled,
            dps_notification: profile.dps_notification,
            eos_notification: profile.eos_notification,
            payg_notification: profile.payg_notification,
        }
    }

    fn from_form(form: &Form) -> ProfileFields {
        let text = |name: &str| form.get(name).unwrap_or_default().to_owned();
        ProfileFields {
            name: text("name"),
            locale: text("locale"),
            initial_core_plan_name: text("initialCorePlanName"),
            subscriber_class: text("subscriberClass"),
            subscriber_type: text("subscriberType"),
            default_profile: form.ticked("defaultProfile"),
            dps_enabled: form.ticked("dpsEnabled"),
            dps_notification: form.ticked("dpsNotification"),
            eos_notification: form.ticked("eosNotification"),
            payg_notification: form.ticked("paygNotification"),
        }
    }

    fn texts(&self) -> [&str; 4] {
        [&self.locale, &self.initial_core_plan_name, &self.subscriber_class, &self.subscriber_type]
    }

    fn flags(&self) -> [bool; 4] {
        [self.dps_enabled, self.dps_notification, self.eos_notification, self.payg_notification]
    }

    /// The request body the SPCM face would get: a POST's, or a PUT's where an empty
    /// field clears the value.
    fn to_json(&self, creating: bool) -> Value {
        let mut body = Map::new();
        body.insert("name".into(), json!(self.name));
        if creating {
            body.insert("defaultProfile".into(), json!(self.default_profile));
        }
        for (key, value) in TEXTS.into_iter().zip(self.texts()) {
            if !value.is_empty() {
                body.insert(key.into(), json!(value));
            } else if !creating {
                body.insert(key.into(), Value::Null);
            }
        }
        for (key, value) in FLAGS.into_iter().zip(self.flags()) {
            body.insert(key.into(), json!(value));
        }
        Value::Object(body)
    }
}

fn error_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors.iter().find(|e| e.field == field).map(|e| e.description.as_str())
}

fn profile_form(
    session: &Session,
    action: &str,
    fields: &ProfileFields,
    errors: &[FieldError],
    revision: Option<i64>,
) -> Markup {
    let creating = revision.is_none();
    let known = ["name", "locale", "initialCorePlanName", "subscriberClass", "subscriberType"];
    let others: Vec<&FieldError> = errors.iter().filter(|e| !known.contains(&e.field.as_str())).collect();
    let type_error = error_for(errors, "subscriberType");
    html! {
        @if !errors.is_empty() {
            p.notice.error role="alert" { "Some fields need attention; each is marked below." }
        }
        @for error in &others {
            p.error { (error.description) }
        }
        form.card method="post" action=(action) novalidate {
            (token_field(session))
            @if let Some(revision) = revision {
                (revision_field(revision))
            }
            (text_field("name", "Name", &fields.name, error_for(errors, "name"), 400, Some("1 to 100 characters, unique in the tenant.")))
            (text_field("locale", "Locale", &fields.locale, error_for(errors, "locale"), 35, Some("A language tag such as en or es-ES; empty for none.")))
            (text_field("initialCorePlanName", "Initial core plan", &fields.initial_core_plan_name, error_for(errors, "initialCorePlanName"), 400, None))
            (text_field("subscriberClass", "Subscriber class", &fields.subscriber_class, error_for(errors, "subscriberClass"), 400, None))
            div.field.invalid[type_error.is_some()] {
                label for="field-subscriberType" { "Subscriber type" }
                select id="field-subscriberType" name="subscriberType"
                    aria-invalid=[type_error.map(|_| "true")] aria-describedby=[type_error.map(|_| "field-subscriberType-error")] {
                    option value="" selected[fields.subscriber_type.is_empty()] { "None" }
                    option value="PREPAID" selected[fields.subscriber_type.eq_ignore_ascii_case("PREPAID")] { "Prepaid" }
                    option value="POSTPAID" selected[fields.subscriber_type.eq_ignore_ascii_case("POSTPAID")] { "Postpaid" }
                }
                @if let Some(error) = type_error {
                    p.error id="field-subscriberType-error" { (error) }
                }
            }
            fieldset {
                legend { "Options" }
                @if creating {
                    (checkbox("defaultProfile", "Default profile (takes the default from the current one)", fields.default_profile))
                }
                (checkbox("dpsEnabled", "DPS enabled", fields.dps_enabled))
                (checkbox("dpsNotification", "DPS notification", fields.dps_notification))
                (checkbox("eosNotification", "EOS notification", fields.eos_notification))
                (checkbox("paygNotification", "PAYG notification", fields.payg_notification))
            }
            div.actions {
                button type="submit" { @if creating { "Create profile" } @else { "Save changes" } }
                a href=(if creating { "/console/profiles".to_owned() } else { action.to_owned() }) { "Cancel" }
            }
        }
    }
}

pub async fn new_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = session::current(&req, &state, &config).await?;
    session.require(Permission::ProfileCreate)?;
    let form = profile_form(&session, "/console/profiles", &ProfileFields::default(), &[], None);
    ok(page("New profile", Some(&session), form))
}

pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, form) = session::signed_form(&req, payload, &state, &config).await?;
    session.require(Permission::ProfileCreate)?;
    let fields = ProfileFields::from_form(&form);
    let refused = |errors: Vec<FieldError>, status: StatusCode| {
        let markup = profile_form(&session, "/console/profiles", &fields, &errors, None);
        Ok(html_page(status, page("New profile", Some(&session), markup)))
    };
    let new = match parse_new(&fields.to_json(true)) {
        Ok(new) => new,
        Err(errors) => return refused(errors, StatusCode::PRECONDITION_FAILED),
    };
    let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::ProfileCreate));
    let created = run_db(&state.pool, move |conn| Ok::<_, ConsoleError>(profiles::create(conn, &scope, new))).await?;
    match created {
        Ok(created) => Ok(super::see_other(&format!("{}?done=created", profile_path(created.id)))),
        Err(profiles::ProfileWriteError::NameTaken(name)) => refused(
            vec![FieldError::new("name", format!("another profile of this tenant is already named '{name}'"))],
            StatusCode::CONFLICT,
        ),
        Err(err) => Err(err.into()),
    }
}

pub async fn edit_form(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = session::current(&req, &state, &config).await?;
    session.require(Permission::ProfileUpdate)?;
    let id = parse_id(&path)?;
    let profile = load_profile(&state, &session, id).await?;
    let form = profile_form(&session, &profile_path(id), &ProfileFields::of(&profile), &[], Some(profile.revision));
    ok(page(&format!("Edit {}", profile.name), Some(&session), form))
}

pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, form) = session::signed_form(&req, payload, &state, &config).await?;
    session.require(Permission::ProfileUpdate)?;
    let id = parse_id(&path)?;
    let revision = form_revision(&form)?;
    let fields = ProfileFields::from_form(&form);
    let action = profile_path(id);
    let refused = |errors: Vec<FieldError>, status: StatusCode| {
        let markup = profile_form(&session, &action, &fields, &errors, Some(revision));
        Ok(html_page(status, page("Edit profile", Some(&session), markup)))
    };
    let patch = match parse_patch(&fields.to_json(false), Some(id)) {
        Ok((_, patch)) => patch,
        Err(errors) => return refused(errors, StatusCode::PRECONDITION_FAILED),
    };
    let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::ProfileUpdate));
    let updated = run_db(&state.pool, move |conn| {
        Ok::<_, ConsoleError>(profiles::update(conn, &scope, id, patch, Some(&revision)))
    })
    .await?;
    match updated {
        Ok(_) => Ok(super::see_other(&format!("{action}?done=updated"))),
        Err(profiles::ProfileWriteError::NameTaken(name)) => refused(
            vec![FieldError::new("name", format!("another profile of this tenant is already named '{name}'"))],
            StatusCode::CONFLICT,
        ),
        Err(err) => Err(err.into()),
    }
}

// ---- make default and delete --------------------------------------------------------

pub async fn confirm_default(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = session::current(&req, &state, &config).await?;
    session.require(Permission::ProfileUpdate)?;
    let id = parse_id(&path)?;
    let profile = load_profile(&state, &session, id).await?;
    let tenant_id = session.tenant_id;
    let current = run_db(&state.pool, move |conn| {
        let filter = ProfileFilter { default_profile: Some(true), ..Default::default() };
        Ok::<_, ConsoleError>(profiles::list(conn, tenant_id, &filter, Page::default())?.0.into_iter().next())
    })
    .await?;
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
            form method="post" action=(format!("{}/default", profile_path(id))) {
                (token_field(&session))
                (revision_field(profile.revision))
                div.actions {
                    button type="submit" { "Make “" (profile.name) "” the default" }
                    a href=(profile_path(id)) { "Cancel" }
                }
            }
        }
    };
    ok(page("Make default?", Some(&session), body))
}

pub async fn make_default(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, form) = session::signed_form(&req, payload, &state, &config).await?;
    session.require(Permission::ProfileUpdate)?;
    let id = parse_id(&path)?;
    let revision = form_revision(&form)?;
    let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::ProfileUpdate));
    let patch = ProfilePatch { default_profile: Some(true), ..Default::default() };
    run_db(&state.pool, move |conn| Ok::<_, ConsoleError>(profiles::update(conn, &scope, id, patch, Some(&revision))?))
        .await?;
    Ok(super::see_other(&format!("{}?done=default", profile_path(id))))
}

pub async fn confirm_delete(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = session::current(&req, &state, &config).await?;
    session.require(Permission::ProfileDelete)?;
    let id = parse_id(&path)?;
    let profile = load_profile(&state, &session, id).await?;
    let body = html! {
        p { "Delete the profile “" (profile.name) "”? This cannot be undone; its history stays readable." }
        @if profile.default_profile {
            p.notice { "It is the default profile: it can only be deleted when it is the tenant's last profile." }
        }
        form method="post" action=(format!("{}/delete", profile_path(id))) {
            (token_field(&session))
            (revision_field(profile.revision))
            div.actions {
                button.danger type="submit" { "Delete “" (profile.name) "”" }
                a href=(profile_path(id)) { "Cancel" }
            }
        }
    };
    ok(page("Delete profile?", Some(&session), body))
}

pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let (session, form) = session::signed_form(&req, payload, &state, &config).await?;
    session.require(Permission::ProfileDelete)?;
    let id = parse_id(&path)?;
    let revision = form_revision(&form)?;
    let scope = state.pool.write_scope(session.tenant_id, session.authority(Permission::ProfileDelete));
    run_db(&state.pool, move |conn| Ok::<_, ConsoleError>(profiles::delete(conn, &scope, id, Some(&revision))?))
        .await?;
    Ok(super::see_other("/console/profiles?done=deleted"))
}

// ---- recent changes -----------------------------------------------------------------

pub async fn changes(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> Result<HttpResponse, ConsoleError> {
    let session = session::current(&req, &state, &config).await?;
    session.require(Permission::AuditRead)?;
    let tenant_id = session.tenant_id;
    let records = run_db(&state.pool, move |conn| changes::recent(conn, tenant_id, CHANGES_SHOWN)).await?;
    let body = change_table(&records, "The tenant's latest changes, newest first");
    ok(page("Recent changes", Some(&session), body))
}
