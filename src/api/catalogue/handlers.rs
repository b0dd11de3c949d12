//! Handlers of `/v2/orgs/{org_id}/…`: authorize the token, fetch the tenant's current
//! catalogue (cached per version), build the view. A fixed number of queries per call,
//! whatever the catalogue holds.

use std::sync::Arc;

use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::caller::{authorize, authorize_grant, bearer};
use super::error::{codes, CatalogueError, CatalogueErrors, FilterErrors, ImportErrors, JsonString, TenantBusyErrors};
use super::views::{self, BaseProfileView, ProvisioningProfileView, ServiceView, ValueAddedServiceView, VasParams};
use crate::api::body::{parse_json, read_body};
use crate::api::failure::ServerFailure;
use crate::api::fair_share::{Expensive, Turn};
use crate::api::idempotency::{self, Caller as IdempotentCaller, Keyed};
use crate::api::AppState;
use crate::auth::Permission;
use crate::domain::catalogue::{CatalogueCounts, CatalogueDocument, CatalogueIndex, SaleTypeName};
use crate::store::catalogue::SwapError;
use crate::store::{self, run_db};

/// Authorizes and finds the tenant's current catalogue on one pooled connection; then
/// answers from the encoded answers of that catalogue version, or, as a turn of the
/// tenant's expensive work, builds and encodes the view at low priority with the
/// connection back in the pool. `malformed` (a bad query value) is reported after the
/// token is checked.
async fn view<T, F>(
    req: &HttpRequest,
    state: &AppState,
    org_id: String,
    malformed: Option<CatalogueError>,
    build: F,
) -> Result<HttpResponse, CatalogueError>
where
    F: FnOnce(Option<&CatalogueIndex>) -> Result<T, CatalogueError> + Send + 'static,
    T: Serialize,
{
    let token = bearer(req)?;
    let catalogues = state.catalogues.clone();
    let (tenant_id, index) = run_db(&state.pool, move |conn| {
        let tenant_id = authorize(conn, &token, &org_id, Permission::CatalogueRead)?;
        if let Some(err) = malformed {
            return Err(err);
        }
        Ok((tenant_id, catalogues.current(conn, tenant_id)?))
    })
    .await?;
    let version = index.as_ref().map_or(0, |index| index.version);
    let request = req.uri().path_and_query().map_or(req.path(), |p| p.as_str());
    if let Some(body) = state.view_answers.get(tenant_id, version, request) {
        return Ok(json_response(body));
    }
    let turn = state.fair_share.enter(tenant_id, Expensive::CatalogueView)?;
    let body = heavy(&turn, move || encode(&build(index.as_deref())?)).await?;
    let body = Bytes::from(body);
    state.view_answers.remember(tenant_id, version, request, body.clone());
    Ok(json_response(body))
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CatalogueError> {
    serde_json::to_vec(value).map_err(|e| {
        CatalogueError::Server(ServerFailure::Internal { reason: "cannot encode the answer", cause: e.to_string() })
    })
}

fn json_response(body: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(body)
}

/// Runs the heavy part of an expensive request (parsing, validating, encoding a whole
/// catalogue) on the low-priority threads, as the tenant's `turn`.
async fn heavy<T, F>(turn: &Turn, f: F) -> Result<T, CatalogueError>
where
    F: FnOnce() -> Result<T, CatalogueError> + Send + 'static,
    T: Send + 'static,
{
    turn.run(f).await.unwrap_or_else(|e| {
        Err(CatalogueError::Server(ServerFailure::Internal { reason: "catalogue task failed", cause: e.to_string() }))
    })
}

fn found<T>(value: Option<T>, code: &'static str) -> Result<T, CatalogueError> {
    value.ok_or(CatalogueError::NotFound(code))
}

/// `sale_type_name` (one of the five sale types) and `mysim_service_id`; others are ignored.
fn vas_filter(query: &str) -> Result<VasParams, CatalogueError> {
    let mut filter = VasParams::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "sale_type_name" => match SaleTypeName::parse(&value) {
                Some(sale_type) => filter.sale_type_name = Some(sale_type),
                None => return Err(CatalogueError::BadRequest(format!("unknown sale_type_name '{value}'"))),
            },
            "mysim_service_id" if !value.is_empty() => filter.mysim_service_id = Some(value.into_owned()),
            "mysim_service_id" => return Err(CatalogueError::BadRequest("empty mysim_service_id".into())),
            _ => {}
        }
    }
    Ok(filter)
}

fn defer(filter: Result<VasParams, CatalogueError>) -> (VasParams, Option<CatalogueError>) {
    match filter {
        Ok(filter) => (filter, None),
        Err(err) => (VasParams::default(), Some(err)),
    }
}

/// List the provisioning profiles of a bundled product.
///
/// Returns the provisioning profiles the bundled product provisions with, each with its
/// SPCM id and current name, the work-order type of each lifecycle action (activation,
/// deactivation, suspension, resume, cancellation, partial cancellation) and the
/// territory owners it serves, joined by commas (null: every other owner). Needs a
/// bearer token of the org with `CATALOGUE_READ_PERMISSION`.
#[utoipa::path(get, path = "/v2/orgs/{org_id}/bundled_products/{id}/provisioning_profiles", tag = "catalogue",
    params(("org_id" = String, Path, description = "The organization (tenant) name"), ("id" = String, Path, description = "Bundled product id")),
    responses((status = 200, description = "The provisioning profiles", body = Vec<ProvisioningProfileView>), CatalogueErrors),
    security(("bearerAuth" = [])))]
pub async fn provisioning_profiles(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CatalogueError> {
    let (org_id, bundled_product_id) = path.into_inner();
    let token = bearer(&req)?;
    let catalogues = state.catalogues.clone();
    // Not kept with the other views' answers: it shows the profiles' current names.
    // A bundled product names few profiles, so it is built on its connection.
    let body = run_db(&state.pool, move |conn| {
        let tenant_id = authorize(conn, &token, &org_id, Permission::CatalogueRead)?;
        let index = found(catalogues.current(conn, tenant_id)?, codes::BUNDLED_PRODUCT)?;
        let position = *found(index.bundled_products.get(&bundled_product_id), codes::BUNDLED_PRODUCT)?;
        let ids: Vec<i64> = index.document.bundled_products[position]
            .provisioning_profiles
            .iter()
            .filter_map(|l| l.profile_id)
            .collect();
        let names = store::catalogue::profile_names(conn, tenant_id, &ids)?;
        encode(&views::provisioning_profiles(&index, position, &names))
    })
    .await?;
    Ok(json_response(body))
}

/// List the org's base profiles.
///
/// Returns every base profile of the org's catalogue, without their services; an org
/// that has not imported a catalogue has none. Needs a bearer token of the org with
/// `CATALOGUE_READ_PERMISSION`.
#[utoipa::path(get, path = "/v2/orgs/{org_id}/base_profiles", tag = "catalogue", params(("org_id" = String, Path, description = "The organization (tenant) name")),
    responses((status = 200, description = "The base profiles", body = Vec<BaseProfileView>), CatalogueErrors, TenantBusyErrors),
    security(("bearerAuth" = [])))]
pub async fn base_profiles(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CatalogueError> {
    view(&req, &state, path.into_inner(), None, |index| {
        Ok(index
            .map(|index| {
                index.document.base_profiles.iter().map(|base| views::base_profile(index, base, false)).collect()
            })
            .unwrap_or_else(Vec::new))
    })
    .await
}

/// List the services of a base profile.
///
/// Returns the services the base profile holds, each with the `from` and `to` of its
/// place in the profile. Needs a bearer token of the org with
/// `CATALOGUE_READ_PERMISSION`.
#[utoipa::path(get, path = "/v2/orgs/{org_id}/base_profiles/{id}/services", tag = "catalogue",
    params(("org_id" = String, Path, description = "The organization (tenant) name"), ("id" = String, Path, description = "Base profile id")),
    responses((status = 200, description = "The services", body = Vec<ServiceView>), CatalogueErrors, TenantBusyErrors),
    security(("bearerAuth" = [])))]
pub async fn base_profile_services(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CatalogueError> {
    let (org_id, base_profile_id) = path.into_inner();
    view(&req, &state, org_id, None, move |index| {
        let index = found(index, codes::BASE_PROFILE)?;
        let position = *found(index.base_profiles.get(&base_profile_id), codes::BASE_PROFILE)?;
        Ok(views::services_of(index, &index.document.base_profiles[position]))
    })
    .await
}

/// List the base profiles of a commercial product.
///
/// Returns the base profiles of the commercial product, each with its services. Needs a
/// bearer token of the org with `CATALOGUE_READ_PERMISSION`.
#[utoipa::path(get, path = "/v2/orgs/{org_id}/commercial_products/{id}/base_profiles", tag = "catalogue",
    params(("org_id" = String, Path, description = "The organization (tenant) name"), ("id" = String, Path, description = "Commercial product id")),
    responses((status = 200, description = "The base profiles", body = Vec<BaseProfileView>), CatalogueErrors, TenantBusyErrors),
    security(("bearerAuth" = [])))]
pub async fn commercial_product_base_profiles(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CatalogueError> {
    let (org_id, product_id) = path.into_inner();
    view(&req, &state, org_id, None, move |index| {
        let index = found(index, codes::COMMERCIAL_PRODUCT)?;
        let position = *found(index.commercial_products.get(&product_id), codes::COMMERCIAL_PRODUCT)?;
        Ok(views::base_profiles_of(index, &index.document.commercial_products[position]))
    })
    .await
}

/// List the value-added services of a commercial product.
///
/// Returns the value-added services that can be hired with the commercial product, each
/// with the services it requires nested under it. `sale_type_name` keeps the services
/// offered for that sale type, `mysim_service_id` the service with that mySim id.
/// `related_bundled_product_id` is null here. Needs a bearer token of the org with
/// `CATALOGUE_READ_PERMISSION`.
#[utoipa::path(get, path = "/v2/orgs/{org_id}/commercial_products/{id}/value_added_services", tag = "catalogue",
    params(("org_id" = String, Path, description = "The organization (tenant) name"), ("id" = String, Path, description = "Commercial product id"), VasParams),
    responses((status = 200, description = "The value-added services", body = Vec<ValueAddedServiceView>), CatalogueErrors, FilterErrors, TenantBusyErrors),
    security(("bearerAuth" = [])))]
pub async fn commercial_product_value_added_services(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CatalogueError> {
    let (org_id, product_id) = path.into_inner();
    let (filter, malformed) = defer(vas_filter(req.query_string()));
    view(&req, &state, org_id, malformed, move |index| {
        let index = found(index, codes::COMMERCIAL_PRODUCT)?;
        let position = *found(index.commercial_products.get(&product_id), codes::COMMERCIAL_PRODUCT)?;
        let product = &index.document.commercial_products[position];
        Ok(views::value_added_services(index, &product.value_added_services, None, &filter))
    })
    .await
}

/// List the value-added services of a bundled commercial product.
///
/// Returns the value-added services that can be hired with the bundled commercial
/// product, each with the services it requires nested under it and with its bundled
/// product's id as `related_bundled_product_id`. `sale_type_name` keeps the services
/// offered for that sale type, `mysim_service_id` the service with that mySim id. Needs a
/// bearer token of the org with `CATALOGUE_READ_PERMISSION`.
#[utoipa::path(get, path = "/v2/orgs/{org_id}/bundled_commercial_products/{id}/value_added_services", tag = "catalogue",
    params(("org_id" = String, Path, description = "The organization (tenant) name"), ("id" = String, Path, description = "Bundled commercial product id"), VasParams),
    responses((status = 200, description = "The value-added services", body = Vec<ValueAddedServiceView>), CatalogueErrors, FilterErrors, TenantBusyErrors),
    security(("bearerAuth" = [])))]
pub async fn bundled_commercial_product_value_added_services(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CatalogueError> {
    let (org_id, product_id) = path.into_inner();
    let (filter, malformed) = defer(vas_filter(req.query_string()));
    view(&req, &state, org_id, malformed, move |index| {
        let index = found(index, codes::BUNDLED_COMMERCIAL_PRODUCT)?;
        let (b, s, c) = *found(index.bundled_commercial_products.get(&product_id), codes::BUNDLED_COMMERCIAL_PRODUCT)?;
        let bundled = &index.document.bundled_products[b];
        let product = &bundled.bundled_product_subs_types[s].bundled_commercial_products[c];
        Ok(views::value_added_services(index, &product.value_added_services, Some(&bundled.id), &filter))
    })
    .await
}

/// List the value-added services of a bundled commercial product, by its full path.
///
/// The same as the list of a bundled commercial product's value-added services, with the
/// product named by its bundled product and subscription type too; each must contain the
/// next. Needs a bearer token of the org with `CATALOGUE_READ_PERMISSION`.
#[utoipa::path(get,
    path = "/v2/orgs/{org_id}/bundled_products/{bp_id}/bundled_product_subs_types/{bpst_id}/bundled_commercial_products/{bcp_id}/value_added_services",
    tag = "catalogue",
    params(("org_id" = String, Path, description = "The organization (tenant) name"), ("bp_id" = String, Path, description = "Bundled product id"),
        ("bpst_id" = String, Path, description = "Bundled product subscription type id"),
        ("bcp_id" = String, Path, description = "Bundled commercial product id"), VasParams),
    responses((status = 200, description = "The value-added services", body = Vec<ValueAddedServiceView>), CatalogueErrors, FilterErrors, TenantBusyErrors),
    security(("bearerAuth" = [])))]
pub async fn nested_value_added_services(
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CatalogueError> {
    let (org_id, bundled_id, subs_type_id, product_id) = path.into_inner();
    let (filter, malformed) = defer(vas_filter(req.query_string()));
    view(&req, &state, org_id, malformed, move |index| {
        let index = found(index, codes::BUNDLED_PRODUCT)?;
        let b = *found(index.bundled_products.get(&bundled_id), codes::BUNDLED_PRODUCT)?;
        let bundled = &index.document.bundled_products[b];
        let subs_type = found(
            bundled.bundled_product_subs_types.iter().find(|st| st.id == subs_type_id),
            codes::SUBSCRIPTION_TYPE,
        )?;
        let product = found(
            subs_type.bundled_commercial_products.iter().find(|p| p.id == product_id),
            codes::BUNDLED_COMMERCIAL_PRODUCT,
        )?;
        Ok(views::value_added_services(index, &product.value_added_services, Some(&bundled.id), &filter))
    })
    .await
}

/// Export the org's catalogue document.
///
/// Returns the whole catalogue as one document, in the form the import takes: bundled
/// products name their provisioning profiles by their current names. Importing the
/// export again changes nothing. An org that has not imported a catalogue exports an
/// empty one. Needs a bearer token of the org with `CATALOGUE_READ_PERMISSION`.
#[utoipa::path(get, path = "/v2/orgs/{org_id}/catalogue", tag = "catalogue", params(("org_id" = String, Path, description = "The organization (tenant) name")),
    responses((status = 200, description = "The catalogue document", body = CatalogueDocument), CatalogueErrors, TenantBusyErrors),
    security(("bearerAuth" = [])))]
pub async fn export(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CatalogueError> {
    let token = bearer(&req)?;
    let org_id = path.into_inner();
    let fair_share = state.fair_share.clone();
    let (document, turn) = run_db(&state.pool, move |conn| {
        let tenant_id = authorize(conn, &token, &org_id, Permission::CatalogueRead)?;
        let turn = fair_share.enter(tenant_id, Expensive::CatalogueExport)?;
        Ok::<_, CatalogueError>((store::catalogue::export(conn, tenant_id)?, turn))
    })
    .await?;
    // Encoded with the connection back in the pool, at low priority.
    let body = heavy(&turn, move || encode(&document)).await?;
    Ok(json_response(body))
}

/// Replace the org's catalogue.
///
/// The document replaces the org's whole catalogue. It is checked whole before anything
/// is written: every problem (an unknown reference, a duplicate id, a cycle in
/// `requires`, an unknown sale type, a bad date) is reported at once with its JSON path,
/// and nothing changes. A valid document is applied at once, in one transaction;
/// importing the same document again changes nothing. The answer counts what the
/// catalogue now holds. Needs a bearer token of the org with
/// `CATALOGUE_WRITE_PERMISSION`.
#[utoipa::path(put, path = "/v2/orgs/{org_id}/catalogue", tag = "catalogue",
    params(("org_id" = String, Path, description = "The organization (tenant) name"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
            description = "Makes a retry safe: a later import with the same token, key and document, within 24 hours, \
            gets the first one's answer again and writes nothing. The same key with another document is 422; while the \
            first import still runs, 409.")),
    request_body(content = CatalogueDocument, content_type = "application/json"),
    responses((status = 200, description = "What the catalogue now holds", body = CatalogueCounts), CatalogueErrors, ImportErrors, TenantBusyErrors,
        (status = 409, description = "An import with this `Idempotency-Key` is still being processed; retry later",
            body = JsonString, example = json!("Conflict")),
        (status = 422, description = "This `Idempotency-Key` was used with another document", body = JsonString,
            example = json!("Unprocessable Entity"))),
    security(("bearerAuth" = [])))]
pub async fn import(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, CatalogueError> {
    let token = bearer(&req)?;
    let org_id = path.into_inner();
    let grant =
        run_db(&state.pool, move |conn| authorize_grant(conn, &token, &org_id, Permission::CatalogueWrite)).await?;
    // From before the body is read until the import is done.
    let turn = state.fair_share.enter(grant.tenant_id, Expensive::CatalogueImport)?;
    // Checked again when the import commits: the token may be revoked meanwhile.
    let scope = state.pool.write_scope(grant.tenant_id, grant.authority(Permission::CatalogueWrite));
    let limit = state.catalogue_limit;
    let body = read_body(&req, payload, limit).await?;
    let keyed = Keyed::of(&req, grant.tenant_id, IdempotentCaller::Token(grant.token_id), &body)?;
    idempotency::once(&state, keyed, import_document(&state, turn, scope, body)).await
}

/// Parses, validates and swaps in the catalogue `body`, as the tenant's `turn`.
async fn import_document(
    state: &AppState,
    turn: Turn,
    scope: crate::store::WriteScope,
    body: Bytes,
) -> Result<HttpResponse, CatalogueError> {
    let limit = state.catalogue_limit;
    let tenant_id = scope.tenant_id;
    let document = Arc::new(
        heavy(&turn, move || {
            let json = parse_json(&body)?;
            CatalogueDocument::from_json(json).map_err(|problem| CatalogueError::Invalid(vec![problem]))
        })
        .await?,
    );
    // Validated and encoded without a connection, at low priority; the connection is
    // taken again only for the short swap, tried again if the tenant changed meanwhile.
    for _ in 0..store::catalogue::UNLOCKED_ATTEMPTS {
        let basis = run_db(&state.pool, move |conn| store::catalogue::import_basis(conn, tenant_id)).await?;
        let document = document.clone();
        let prepared =
            heavy(&turn, move || Ok(store::catalogue::prepare(basis, CatalogueDocument::clone(&document), limit)?))
                .await?;
        if prepared.unchanged {
            return Ok(HttpResponse::Ok().json(prepared.counts));
        }
        let scope = scope.clone();
        let swapped = run_db(&state.pool, move |conn| {
            Ok::<_, CatalogueError>(store::catalogue::swap(conn, &scope, &prepared).map(|()| prepared.counts))
        })
        .await?;
        match swapped {
            Ok(counts) => return Ok(HttpResponse::Ok().json(counts)),
            Err(SwapError::TenantChanged) => continue,
            Err(SwapError::Import(err)) => return Err(err.into()),
        }
    }
    Err(store::catalogue::kept_changing().into())
}
