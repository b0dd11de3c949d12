//! Handlers of `/pcc/spcm/provisionProfile`. Each checks in the contract's order:
//! 401, 400, 403, then 413/415/400 for the body, 412, and the store's 404/409/422.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;

use super::caller::{cached_read, with_caller, Credentials};
use super::conditional::{if_match, EntityTags, IfMatchHeader, IfNoneMatchHeader};
use super::dto::{Link, ListLinks, MultiStatus, MultiStatusItem, ProfileDto, ProfileList};
use super::error::{SpcmErrorBody, SpcmErrors};
use super::queries::{DeleteParams, ListParams};
use super::reads::Answer;
use super::requests::{parse_new, parse_patch, CreateProfiles, ProfileChangeRequest, ProfileUpdates};
use super::{SpcmError, BASE_PATH};
use crate::api::body::{read_json, read_json_keeping};
use crate::api::failure::ServerFailure;
use crate::api::fair_share::Expensive;
use crate::api::idempotency::{self, Caller as IdempotentCaller, Keyed};
use crate::api::query;
use crate::api::AppState;
use crate::auth::{Permission, Principal};
use crate::domain::ProvisioningProfile;
use crate::store::profiles::{self, Page, ProfileFilter};
use crate::store::{run_db, DbConnection};
use crate::telemetry::current_request_id;

pub(crate) const HAL_JSON: &str = "application/hal+json";
const MAX_BATCH: usize = 1000;

pub(super) fn encode(body: &impl Serialize) -> Result<Vec<u8>, SpcmError> {
    serde_json::to_vec(body).map_err(|err| {
        SpcmError::Server(ServerFailure::Internal { reason: "cannot encode the response", cause: err.to_string() })
    })
}

pub(super) fn hal_json_response(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    match encode(body) {
        Ok(bytes) => HttpResponse::build(status).content_type(HAL_JSON).body(bytes),
        Err(err) => err.error_response(),
    }
}

/// An id in a path or query: an integer, also written with a zero fraction (`5.0`), which
/// JSON Schema counts as an integer and generated clients may send.
pub(super) fn parse_id(raw: &str) -> Result<i64, SpcmError> {
    let whole = match raw.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b == b'0') => whole,
        _ => raw,
    };
    whole.parse().map_err(|_| SpcmError::BadRequest(format!("id '{}' is not an integer", truncate(raw))))
}

fn truncate(raw: &str) -> String {
    raw.chars().take(40).collect()
}

fn check_batch(len: usize) -> Result<(), SpcmError> {
    if (1..=MAX_BATCH).contains(&len) {
        Ok(())
    } else {
        Err(SpcmError::BadRequest(format!("a batch holds 1 to {MAX_BATCH} items, not {len}")))
    }
}

/// Splits a parse result into the value to use and the 400 to report after the 401 check.
fn defer<T: Default>(parsed: Result<T, SpcmError>) -> (T, Option<SpcmError>) {
    match parsed {
        Ok(value) => (value, None),
        Err(err) => (T::default(), Some(err)),
    }
}

/// Authenticates and authorizes a request that carries a body, before the body is read.
async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    permission: Permission,
    malformed: Option<SpcmError>,
) -> Result<Principal, SpcmError> {
    let credentials = Credentials::from_request(req, state)?;
    with_caller(state, credentials, permission, malformed, |_, principal| Ok(principal.clone())).await
}

// ---- listing ------------------------------------------------------------------------

/// The listing's query string; unknown parameters are ignored.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    filter: ProfileFilter,
    pub(crate) page: Page,
}

impl ListQuery {
    pub(crate) fn parse(query: &str) -> Result<ListQuery, SpcmError> {
        let params = query::parse::<ListParams>(query).map_err(|bad| SpcmError::BadRequest(bad.to_string()))?;
        Ok(ListQuery {
            filter: ProfileFilter {
                name: params.name,
                subscriber_type: params.subscriber_type,
                default_profile: params.default_profile,
            },
            page: Page { offset: params.offset.unwrap_or(0), limit: params.limit },
        })
    }

    /// The listing's links for a page of `returned` of `total` profiles; `this` is the
    /// path and query as asked for.
    fn links(&self, link_base: &str, this: &str, returned: usize, total: i64) -> ListLinks {
        let mut links = ListLinks {
            this: Link { href: format!("{link_base}{this}") },
            first: None,
            prev: None,
            next: None,
            last: None,
        };
        let Some(limit) = self.page.limit else {
            return links;
        };
        let at = |offset: i64| Some(Link { href: format!("{link_base}{}", self.href(offset, limit)) });
        let offset = self.page.offset;
        let last = (total - 1).max(0) / limit * limit;
        links.first = at(0);
        if offset > 0 {
            // Past the end, the page before is the last one.
            links.prev = at(if offset > last { last } else { (offset - limit).max(0) });
        }
        if returned > 0 && offset + (returned as i64) < total {
            links.next = at(offset + returned as i64);
        }
        links.last = at(last);
        links
    }

    /// The path and query of the page at `offset`, with this listing's filters.
    fn href(&self, offset: i64, limit: i64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(name) = &self.filter.name {
            query.append_pair("name", name);
        }
        if let Some(kind) = self.filter.subscriber_type {
            query.append_pair("subscriberType", kind.as_str());
        }
        if let Some(default_profile) = self.filter.default_profile {
            query.append_pair("defaultProfile", if default_profile { "true" } else { "false" });
        }
        query.append_pair("offset", &offset.to_string());
        query.append_pair("limit", &limit.to_string());
        format!("{BASE_PATH}?{}", query.finish())
    }
}

/// List the tenant's provisioning profiles.
///
/// Returns the profiles of the tenant named by the `tenant` header, ordered by id. The
/// optional filters narrow the list: an exact `name`, a `subscriberType`, or only the
/// default profile (`defaultProfile=true`) or only the others. Without `limit` every
/// matching profile is returned; with `limit` (and `offset`) one page, and `_links.next`
/// names the next page while more remain. `X-Total-Count` always gives the number of
/// matching profiles. Needs `SPCM_PROVISION_PROFILE_READ_PERMISSION`.
#[utoipa::path(get, path = "/pcc/spcm/provisionProfile", tag = "provisioning profiles", params(ListParams, IfNoneMatchHeader),
    responses(
        (status = 200, description = "The matching profiles", body = ProfileList, content_type = "application/hal+json",
            headers(("X-Total-Count" = i64, description = "Profiles matching the filters, whatever the page"),
                ("Link" = String, description = "With a `limit`: the `first`, `prev`, `next` and `last` pages, as in `_links`"),
                ("ETag" = String, description = "Names this answer: the tenant's listing with these filters and page, as it is now, in this representation"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 403, description = "The user lacks SPCM_PROVISION_PROFILE_READ_PERMISSION", body = super::ErrorBody,
            example = json!({"message": "forbidden; missing SPCM_PROVISION_PROFILE_READ_PERMISSION", "errorCode": 403})),
        SpcmErrors),
    security(("basicAuth" = [], "tenant" = [])))]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, SpcmError> {
    let (query, malformed) = defer(ListQuery::parse(req.query_string()));
    let this = match req.query_string() {
        "" => BASE_PATH.to_owned(),
        query => format!("{BASE_PATH}?{query}"),
    };
    let link_base = state.link_base.clone();
    let fair_share = state.fair_share.clone();
    cached_read(&state, &req, malformed, move |conn, caller| {
        // Every matching profile, however many: a turn of the tenant's expensive work.
        let _turn = match query.page.limit {
            None => Some(fair_share.enter(caller.tenant_id, Expensive::FullListing)?),
            Some(_) => None,
        };
        let (found, total) = profiles::list(conn, caller.tenant_id, &query.filter, query.page)?;
        let links = query.links(&link_base, &this, found.len(), total);
        let items: Vec<_> = found.into_iter().map(|p| ProfileDto::new(p, &link_base)).collect();
        let header = links.link_header();
        let body = ProfileList { length: items.len(), profiles: items, links };
        let tags = EntityTags::listing(caller.tenant_id, &this, caller.tenant_version);
        Ok(Answer::new(encode(&body)?, tags, Some(total)).with_links(header))
    })
    .await
}

// ---- single profile -----------------------------------------------------------------

/// Read one provisioning profile.
///
/// Returns the profile with this id, alone (without the listing's `length` and list).
/// A profile of another tenant is not found. Needs
/// `SPCM_PROVISION_PROFILE_READ_PERMISSION`.
#[utoipa::path(get, path = "/pcc/spcm/provisionProfile/{id}", tag = "provisioning profiles",
    params(("id" = i64, Path, description = "The profile's id"), IfNoneMatchHeader),
    responses((status = 200, description = "The profile", body = ProfileDto, content_type = "application/hal+json",
            headers(("ETag" = String, description = "Names the profile's current state in this representation"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current ETag",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 403, description = "The user lacks SPCM_PROVISION_PROFILE_READ_PERMISSION", body = super::ErrorBody,
            example = json!({"message": "forbidden; missing SPCM_PROVISION_PROFILE_READ_PERMISSION", "errorCode": 403})),
        SpcmErrors, super::error::ProfileNotFound),
    security(("basicAuth" = [], "tenant" = [])))]
pub async fn get_one(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, SpcmError> {
    let (id, malformed) = defer(parse_id(&path));
    let link_base = state.link_base.clone();
    cached_read(&state, &req, malformed, move |conn, caller| {
        let profile = profiles::get(conn, caller.tenant_id, id)?.ok_or(SpcmError::NotFound(id))?;
        let tags = EntityTags::profile(caller.tenant_id, profile.id, profile.revision);
        Ok(Answer::new(encode(&ProfileDto::new(profile, &link_base))?, tags, None))
    })
    .await
}

/// Create a provisioning profile, or a batch of them.
///
/// A JSON object creates one profile: the answer is 201 with the profile and its new
/// `id`, and `Location` names it. `name` and `defaultProfile` are mandatory; an `id` in
/// the body is ignored. `defaultProfile: true` makes the new profile the tenant's
/// default, and the former default stops being it.
///
/// An array of 1 to 1000 objects (in XML, `<provisioningProfiles>`) creates each in
/// turn, on its own: the answer is 207 with one result per item, in order, and one
/// item's failure does not undo another. Needs `SPCM_PROVISION_PROFILE_CREATE_PERMISSION`.
#[utoipa::path(post, path = "/pcc/spcm/provisionProfile", tag = "provisioning profiles",
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
        description = "Makes a retry safe: a later request of the same user with the same key and the same body, \
        within 24 hours, gets the first one's status, headers and body again and writes nothing. The same key with \
        another body is 422; while the first request still runs, 409.")),
    request_body(description = "One profile, or an array of 1 to 1000. The body may be XML instead (`application/xml` \
        or `text/xml`): `<provisioningProfile>` with one element per field is one profile, `<provisioningProfiles>` \
        holding `<provisioningProfile>` elements a batch; an empty element is null.",
        content = CreateProfiles, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = ProfileDto, content_type = "application/hal+json",
            headers(("Location" = String, description = "The new profile's address"),
                ("ETag" = String, description = "Names the new profile's state in this representation"))),
        (status = 207, description = "Each item of the batch", body = MultiStatus, content_type = "application/hal+json"),
        (status = 403, description = "The user lacks SPCM_PROVISION_PROFILE_CREATE_PERMISSION", body = super::ErrorBody,
            example = json!({"message": "forbidden; missing SPCM_PROVISION_PROFILE_CREATE_PERMISSION", "errorCode": 403})),
        (status = 409, description = "The name is already used in the tenant, or a request with this \
            `Idempotency-Key` is still being processed", body = super::ErrorBody,
            example = json!({"message": "name 'chaCha' already exists", "errorCode": 409})),
        (status = 412, description = "Validation failed: every failing field is listed", body = super::ValidationFailed,
            example = json!({"errors": [{"field": "name", "description": "name is mandatory"}]})),
        (status = 422, description = "This `Idempotency-Key` was used with another request", body = super::ErrorBody,
            example = json!({"message": "this Idempotency-Key was used with another request; use a new key for a new request", "errorCode": 422})),
        SpcmErrors, super::error::BodyErrors),
    security(("basicAuth" = [], "tenant" = [])))]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, SpcmError> {
    let caller = authorize(&state, &req, Permission::ProfileCreate, None).await?;
    let (document, raw) = read_json_keeping(&req, payload, state.body_limit).await?;
    let keyed = Keyed::of(&req, caller.tenant_id, IdempotentCaller::User(caller.user_id), &raw)?;
    idempotency::once(&state, keyed, create_from(&req, &state, caller, document)).await
}

/// Creates the profile or the batch of `document`.
async fn create_from(
    req: &HttpRequest,
    state: &AppState,
    caller: Principal,
    document: Value,
) -> Result<HttpResponse, SpcmError> {
    // Checked again when the write commits: the caller may have lost the right meanwhile.
    let scope = state.pool.write_scope(caller.tenant_id, caller.authority(Permission::ProfileCreate));
    let items = match document {
        Value::Array(items) => items,
        single @ Value::Object(_) => {
            let new = parse_new(&single).map_err(SpcmError::Validation)?;
            let created =
                run_db(&state.pool, move |conn| Ok::<_, SpcmError>(profiles::create(conn, &scope, new)?)).await?;
            let tags = EntityTags::profile(caller.tenant_id, created.id, created.revision);
            let etag = tags.answering(req).clone();
            let profile = ProfileDto::new(created, &state.link_base);
            let mut response = hal_json_response(StatusCode::CREATED, &profile);
            if let Ok(value) = header::HeaderValue::from_str(&profile.links.this.href) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response.headers_mut().insert(header::ETAG, etag);
            return Ok(response);
        }
        _ => return Err(SpcmError::BadRequest("the request body must be a JSON object or an array of objects".into())),
    };
    check_batch(items.len())?;
    bulk(state, caller.tenant_id, items, move |conn, item| {
        let new = parse_new(item).map_err(SpcmError::Validation)?;
        Ok((StatusCode::CREATED, Some(profiles::create(conn, &scope, new)?)))
    })
    .await
}

/// Change a provisioning profile.
///
/// Send only the fields to change: the fields present replace the profile's values, the
/// absent ones keep theirs, and `null` clears an optional text field. An `id` in the body
/// must equal the one in the path. `defaultProfile: true` moves the tenant's default to
/// this profile; `false` on the current default is refused (make another profile the
/// default instead). Needs `SPCM_PROVISION_PROFILE_UPDATE_PERMISSION`.
#[utoipa::path(put, path = "/pcc/spcm/provisionProfile/{id}", tag = "provisioning profiles",
    params(("id" = i64, Path, description = "The profile's id"), IfMatchHeader),
    request_body(description = "Only the fields to change. The body may be XML instead (`application/xml` or \
        `text/xml`): `<provisioningProfile>` with one element per field to change; an empty element is null.",
        content = ProfileChangeRequest, content_type = "application/json"),
    responses((status = 200, description = "The updated profile", body = ProfileDto, content_type = "application/hal+json",
            headers(("ETag" = String, description = "Names the profile's new state in this representation"))),
        (status = 403, description = "The user lacks SPCM_PROVISION_PROFILE_UPDATE_PERMISSION", body = super::ErrorBody,
            example = json!({"message": "forbidden; missing SPCM_PROVISION_PROFILE_UPDATE_PERMISSION", "errorCode": 403})),
        (status = 409, description = "The new name is already used in the tenant", body = super::ErrorBody,
            example = json!({"message": "name 'chaCha' already exists", "errorCode": 409})),
        (status = 412, description = "Validation failed: every failing field is listed; or `If-Match` names no \
            current ETag of the profile (field `If-Match`)", body = super::ValidationFailed,
            example = json!({"errors": [{"field": "defaultProfile", "description": "defaultProfile must not be null"}]})),
        (status = 422, description = "`defaultProfile: false` on the tenant's default profile (errorCode 1002)",
            body = super::ErrorBody,
            example = json!({"message": "provisioning profile 55 is the default profile; make another profile the default instead of unsetting it", "errorCode": 1002})),
        SpcmErrors, super::error::ProfileNotFound, super::error::BodyErrors),
    security(("basicAuth" = [], "tenant" = [])))]
pub async fn update_one(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, SpcmError> {
    let (id, malformed) = defer(parse_id(&path));
    let (expected, bad_condition) = defer(if_match(&req));
    let caller = authorize(&state, &req, Permission::ProfileUpdate, malformed.or(bad_condition)).await?;
    let scope = state.pool.write_scope(caller.tenant_id, caller.authority(Permission::ProfileUpdate));
    let body = read_json(&req, payload, state.body_limit).await?;
    if !body.is_object() {
        return Err(SpcmError::BadRequest(
            "the request body must be a JSON object; send an array to PUT without an id".into(),
        ));
    }
    let (id, patch) = parse_patch(&body, Some(id)).map_err(SpcmError::Validation)?;
    let condition = expected.and_then(|expected| expected.for_profile(caller.tenant_id, id));
    let updated = run_db(&state.pool, move |conn| {
        Ok::<_, SpcmError>(profiles::update(conn, &scope, id, patch, condition.as_ref().map(|c| c as _))?)
    })
    .await?;
    let tags = EntityTags::profile(caller.tenant_id, updated.id, updated.revision);
    let etag = tags.answering(&req).clone();
    let mut response = hal_json_response(StatusCode::OK, &ProfileDto::new(updated, &state.link_base));
    response.headers_mut().insert(header::ETAG, etag);
    Ok(response)
}

/// Change a batch of provisioning profiles.
///
/// Takes an array of 1 to 1000 changes, each naming the profile's `id` and carrying only
/// the fields to change, as a change of one profile does. Each item is applied in turn,
/// on its own: the answer is 207 with one result per item, in order (200 with the
/// updated profile, or the error that a change of that one profile would get), and one
/// item's failure does not undo another. Needs `SPCM_PROVISION_PROFILE_UPDATE_PERMISSION`.
#[utoipa::path(put, path = "/pcc/spcm/provisionProfile", tag = "provisioning profiles",
    request_body(description = "1 to 1000 changes, each with the profile's `id`. The body may be XML instead \
        (`application/xml` or `text/xml`): `<provisioningProfiles>` holding one `<provisioningProfile>` per change, \
        with its `<id>`; an empty element is null.",
        content = ProfileUpdates, content_type = "application/json"),
    responses((status = 207, description = "Each item of the batch", body = MultiStatus, content_type = "application/hal+json"),
        (status = 403, description = "The user lacks SPCM_PROVISION_PROFILE_UPDATE_PERMISSION", body = super::ErrorBody,
            example = json!({"message": "forbidden; missing SPCM_PROVISION_PROFILE_UPDATE_PERMISSION", "errorCode": 403})),
        SpcmErrors, super::error::BodyErrors),
    security(("basicAuth" = [], "tenant" = [])))]
pub async fn update_many(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, SpcmError> {
    let caller = authorize(&state, &req, Permission::ProfileUpdate, None).await?;
    let scope = state.pool.write_scope(caller.tenant_id, caller.authority(Permission::ProfileUpdate));
    let Value::Array(items) = read_json(&req, payload, state.body_limit).await? else {
        return Err(SpcmError::BadRequest(
            "PUT without an id in the path takes a JSON array of profiles, each with its id".into(),
        ));
    };
    check_batch(items.len())?;
    bulk(&state, caller.tenant_id, items, move |conn, item| {
        let (id, patch) = parse_patch(item, None).map_err(SpcmError::Validation)?;
        Ok((StatusCode::OK, Some(profiles::update(conn, &scope, id, patch, None)?)))
    })
    .await
}

/// Delete a provisioning profile.
///
/// The tenant's default profile cannot be deleted while the tenant has other profiles
/// (make another one the default first); the tenant's last profile can. A profile that a
/// bundled product of the catalogue provisions with cannot be deleted either. Needs
/// `SPCM_PROVISION_PROFILE_DELETE_PERMISSION`.
#[utoipa::path(delete, path = "/pcc/spcm/provisionProfile/{id}", tag = "provisioning profiles",
    params(("id" = i64, Path, description = "The profile's id"), IfMatchHeader),
    responses((status = 204, description = "Deleted"),
        (status = 412, description = "`If-Match` names no current ETag of the profile", body = super::ValidationFailed,
            example = json!({"errors": [{"field": "If-Match", "description": "provisioning profile 39 has changed since; read it again for its current ETag"}]})),
        (status = 403, description = "The user lacks SPCM_PROVISION_PROFILE_DELETE_PERMISSION", body = super::ErrorBody,
            example = json!({"message": "forbidden; missing SPCM_PROVISION_PROFILE_DELETE_PERMISSION", "errorCode": 403})),
        (status = 409, description = "A bundled product of the catalogue provisions with this profile",
            body = super::ErrorBody,
            example = json!({"message": "provisioning profile 39 is used by bundled product 'BP1' of the catalogue", "errorCode": 409})),
        (status = 422, description = "The profile is the tenant's default and the tenant has other profiles (errorCode 1001)",
            body = super::ErrorBody,
            example = json!({"message": "provisioning profile 55 is the default profile; make another profile the default before deleting it", "errorCode": 1001})),
        SpcmErrors, super::error::ProfileNotFound),
    security(("basicAuth" = [], "tenant" = [])))]
pub async fn delete_one(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, SpcmError> {
    let credentials = Credentials::from_request(&req, &state)?;
    let (id, malformed) = defer(parse_id(&path));
    let (expected, bad_condition) = defer(if_match(&req));
    let pool = state.pool.clone();
    // The closure runs on the blocking pool, outside the request's task.
    let request_id = current_request_id();
    with_caller(&state, credentials, Permission::ProfileDelete, malformed.or(bad_condition), move |conn, caller| {
        let scope =
            pool.write_scope(caller.tenant_id, caller.authority(Permission::ProfileDelete)).with_request_id(request_id);
        let condition = expected.and_then(|expected| expected.for_profile(caller.tenant_id, id));
        Ok(profiles::delete(conn, &scope, id, condition.as_ref().map(|c| c as _))?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE …?id=1&id=2`: the ids in request order.
pub(crate) fn parse_ids(query: &str) -> Result<DeleteParams, SpcmError> {
    let id = form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == "id")
        .map(|(_, value)| parse_id(&value))
        .collect::<Result<Vec<_>, _>>()?;
    if id.is_empty() {
        return Err(SpcmError::BadRequest(
            "DELETE without an id in the path needs one or more id query parameters".into(),
        ));
    }
    check_batch(id.len())?;
    Ok(DeleteParams { id })
}

/// Delete a batch of provisioning profiles.
///
/// Deletes the profiles named by the `id` query parameters (`?id=1&id=2`, 1 to 1000 of
/// them), in that order, each on its own: the answer is 207 with one result per id, in
/// order (204, or the error that deleting that one profile would get). Needs
/// `SPCM_PROVISION_PROFILE_DELETE_PERMISSION`.
#[utoipa::path(delete, path = "/pcc/spcm/provisionProfile", tag = "provisioning profiles", params(DeleteParams),
    responses((status = 207, description = "Each id", body = MultiStatus, content_type = "application/hal+json"),
        (status = 403, description = "The user lacks SPCM_PROVISION_PROFILE_DELETE_PERMISSION", body = super::ErrorBody,
            example = json!({"message": "forbidden; missing SPCM_PROVISION_PROFILE_DELETE_PERMISSION", "errorCode": 403})),
        SpcmErrors),
    security(("basicAuth" = [], "tenant" = [])))]
pub async fn delete_many(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, SpcmError> {
    let credentials = Credentials::from_request(&req, &state)?;
    let (DeleteParams { id: ids }, malformed) = defer(parse_ids(req.query_string()));
    let pool = state.pool.clone();
    let request_id = current_request_id();
    let link_base = state.link_base.clone();
    let fair_share = state.fair_share.clone();
    let results = with_caller(&state, credentials, Permission::ProfileDelete, malformed, move |conn, caller| {
        let _turn = fair_share.enter(caller.tenant_id, Expensive::Batch)?;
        let scope =
            pool.write_scope(caller.tenant_id, caller.authority(Permission::ProfileDelete)).with_request_id(request_id);
        Ok(ids
            .iter()
            .enumerate()
            .map(|(index, id)| {
                let outcome = profiles::delete(conn, &scope, *id, None)
                    .map(|()| (StatusCode::NO_CONTENT, None))
                    .map_err(SpcmError::from);
                item_result(&link_base, index, outcome)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(multi_status(results))
}

// ---- multi-status -------------------------------------------------------------------

type ItemOutcome = Result<(StatusCode, Option<ProvisioningProfile>), SpcmError>;

/// Applies `apply` to each item in order, each in its own transaction, on one connection,
/// as a turn of the tenant's expensive work.
async fn bulk<F>(state: &AppState, tenant_id: i64, items: Vec<Value>, apply: F) -> Result<HttpResponse, SpcmError>
where
    F: Fn(&mut DbConnection, &Value) -> ItemOutcome + Send + 'static,
{
    let _turn = state.fair_share.enter(tenant_id, Expensive::Batch)?;
    let link_base = state.link_base.clone();
    let results = run_db(&state.pool, move |conn| {
        Ok::<_, SpcmError>(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| item_result(&link_base, index, apply(conn, item)))
                .collect::<Vec<_>>(),
        )
    })
    .await?;
    Ok(multi_status(results))
}

/// One entry of a 207: the item's status and either its profile or its error body.
fn item_result(link_base: &str, index: usize, outcome: ItemOutcome) -> MultiStatusItem {
    let mut item =
        MultiStatusItem { index, status: 0, provisioning_profile: None, message: None, error_code: None, errors: None };
    match outcome {
        Ok((status, profile)) => {
            item.status = status.as_u16();
            item.provisioning_profile = profile.map(|p| ProfileDto::new(p, link_base));
        }
        Err(SpcmError::Validation(errors)) => {
            item.status = StatusCode::PRECONDITION_FAILED.as_u16();
            item.errors = Some(errors);
        }
        Err(err) => {
            item.status = err.status_code().as_u16();
            match err.body() {
                SpcmErrorBody::Message(body) => {
                    item.message = Some(body.message);
                    item.error_code = Some(body.error_code);
                }
                SpcmErrorBody::Validation(body) => item.errors = Some(body.errors),
                SpcmErrorBody::Server(body) => item.message = Some(body.message),
            }
        }
    }
    item
}

fn multi_status(results: Vec<MultiStatusItem>) -> HttpResponse {
    hal_json_response(StatusCode::MULTI_STATUS, &MultiStatus { length: results.len(), results })
}
