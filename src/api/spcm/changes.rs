//! The change history of a profile and the tenant's change feed (contract §7), both
//! behind `SPCM_AUDIT_READ_PERMISSION`, which suffices alone.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::caller::{with_caller, Credentials};
use super::dto::{Link, ListLinks};
use super::error::{ErrorBody, ProfileNotFound};
use super::handlers::{encode, parse_id, HAL_JSON};
use super::{SpcmError, SpcmErrors, BASE_PATH};
use crate::api::fair_share::{Expensive, Turn};
use crate::api::AppState;
use crate::auth::Permission;
use crate::store::changes::{self, Entity};

pub const FEED_PATH: &str = "/pcc/spcm/changes";
const DEFAULT_FEED_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)] // documents the record; it is built as JSON
pub struct Actor {
    /// `user` (Basic credentials), `token` (a catalogue bearer token) or `cli`.
    pub kind: String,
    /// The username, the token's id, or `cli`.
    pub name: String,
}

/// One change of one entity, as recorded in the transaction that made it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Change, xml(name = "change"), example = json!({
    "id": 1234, "at": "2026-11-30T10:15:22.120Z", "tenant": "acme",
    "actor": {"kind": "user", "name": "boss"}, "requestId": "5f0c6d2e-8c1a-4f0e-9a51-3c2f7b7e1d10",
    "eventType": "PROVISION_PROFILE_UPDATED", "entity": "provisionProfile", "entityId": "39",
    "action": "updated", "changedFields": ["defaultProfile"],
    "before": {"id": 39, "name": "turkeySauce", "defaultProfile": false},
    "after": {"id": 39, "name": "turkeySauce", "defaultProfile": true}
}))]
#[allow(dead_code)] // documents the record; it is built as JSON
pub struct ChangeDto {
    /// Increases in commit order within a tenant.
    pub id: i64,
    /// When the change was made, RFC 3339 UTC with milliseconds.
    #[schema(format = DateTime)]
    pub at: String,
    pub tenant: String,
    pub actor: Actor,
    /// The `X-Request-Id` of the request that made the change; null for the command line.
    pub request_id: Option<String>,
    /// `<ENTITY>_<ACTION>` in upper snake case, such as `PROVISION_PROFILE_DELETED`.
    pub event_type: String,
    /// `provisionProfile`, `catalogue`, `user`, `token` or `tenant`.
    pub entity: String,
    /// The profile's or token's id, the username, or the tenant's name (catalogue, tenant).
    pub entity_id: String,
    /// `created`, `updated`, `deleted` or `imported`.
    pub action: String,
    /// The fields whose value changed.
    #[schema(xml(name = "field", wrapped))]
    pub changed_fields: Vec<String>,
    /// The entity before the change; null where it did not exist.
    pub before: Option<Value>,
    /// The entity after the change; null where it no longer exists.
    pub after: Option<Value>,
}

/// A page of changes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(xml(name = "changes"))]
pub struct ChangeList {
    /// Changes in this response.
    pub length: usize,
    #[schema(value_type = Vec<ChangeDto>, xml(wrapped))]
    pub changes: Vec<Value>,
    #[serde(rename = "_links")]
    pub links: ListLinks,
}

/// Query of a profile's history.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct HistoryParams {
    /// Changes to skip, newest first (≥ 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Most changes to return (1–1000); without it, all of them.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// Query of the tenant's feed.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FeedParams {
    /// Only changes with a greater id (≥ 0; default 0: from the oldest kept).
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Most changes to return (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// `offset`, `limit` and `after`, each at most once; other parameters are ignored.
#[derive(Debug, Default)]
struct PageQuery {
    offset: Option<i64>,
    limit: Option<i64>,
    after: Option<i64>,
}

impl PageQuery {
    fn parse(query: &str, accepted: &[&str]) -> Result<PageQuery, SpcmError> {
        let mut parsed = PageQuery::default();
        let mut seen = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if !accepted.contains(&key.as_ref()) {
                continue;
            }
            let bad = |what: &str| SpcmError::BadRequest(format!("query parameter {key}: {what}"));
            if seen.contains(&key) {
                return Err(bad("given more than once"));
            }
            match key.as_ref() {
                "offset" => {
                    parsed.offset =
                        Some(value.parse().ok().filter(|o| *o >= 0).ok_or_else(|| bad("must be an integer ≥ 0"))?)
                }
                "after" => {
                    parsed.after =
                        Some(value.parse().ok().filter(|a| *a >= 0).ok_or_else(|| bad("must be an integer ≥ 0"))?)
                }
                _ => {
                    let limit = value.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l));
                    parsed.limit = Some(limit.ok_or_else(|| bad("must be an integer from 1 to 1000"))?)
                }
            }
            seen.push(key);
        }
        Ok(parsed)
    }
}

fn this_link(link_base: &str, path: &str, query: &str) -> Link {
    Link { href: if query.is_empty() { format!("{link_base}{path}") } else { format!("{link_base}{path}?{query}") } }
}

/// Read a provisioning profile's change history.
///
/// Lists who changed the profile, when, and what it was before and after each change,
/// newest first. The history stays readable once the profile is deleted. With `limit`
/// (and `offset`) one page, and `_links.next` names the next page while more remain.
/// Needs `SPCM_AUDIT_READ_PERMISSION`, which suffices alone.
#[utoipa::path(get, path = "/pcc/spcm/provisionProfile/{id}/history", tag = "change history",
    params(("id" = i64, Path, description = "The profile's id"), HistoryParams),
    responses(
        (status = 200, description = "The profile's changes, newest first", body = ChangeList,
            content_type = "application/hal+json"),
        (status = 403, description = "The user lacks SPCM_AUDIT_READ_PERMISSION", body = ErrorBody,
            example = json!({"message": "forbidden; missing SPCM_AUDIT_READ_PERMISSION", "errorCode": 403})),
        SpcmErrors, ProfileNotFound),
    security(("basicAuth" = [], "tenant" = [])))]
pub async fn history(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, SpcmError> {
    let credentials = Credentials::from_request(&req, &state)?;
    let parsed = parse_id(&path).and_then(|id| Ok((id, PageQuery::parse(req.query_string(), &["offset", "limit"])?)));
    let (id, query, malformed) = match parsed {
        Ok((id, query)) => (id, query, None),
        Err(err) => (0, PageQuery::default(), Some(err)),
    };
    let link_base = state.link_base.clone();
    let this = this_link(&link_base, &format!("{BASE_PATH}/{id}/history"), req.query_string());
    let fair_share = state.fair_share.clone();
    let (body, turn) = with_caller(&state, credentials, Permission::AuditRead, malformed, move |conn, caller| {
        // Held until the page is encoded, which runs at low priority.
        let turn = fair_share.enter(caller.tenant_id, Expensive::ChangePage)?;
        let offset = query.offset.unwrap_or(0);
        let (found, total) =
            changes::history(conn, caller.tenant_id, Entity::ProvisionProfile, &id.to_string(), offset, query.limit)?;
        if total == 0 && crate::store::profiles::get(conn, caller.tenant_id, id)?.is_none() {
            return Err(SpcmError::NotFound(id));
        }
        let next_offset = offset + found.len() as i64;
        let next = query.limit.filter(|_| !found.is_empty() && next_offset < total).map(|limit| Link {
            href: format!("{link_base}{BASE_PATH}/{id}/history?offset={next_offset}&limit={limit}"),
        });
        let page = ChangeList {
            length: found.len(),
            changes: found.iter().map(changes::ChangeRecord::to_json).collect(),
            links: ListLinks::next_only(this, next),
        };
        Ok((page, turn))
    })
    .await?;
    hal_page(&turn, body).await
}

/// A page of changes (up to 1,000 records), encoded on the turn's low-priority threads.
async fn hal_page(turn: &Turn, page: ChangeList) -> Result<HttpResponse, SpcmError> {
    let body = turn
        .run(move || encode(&page))
        .await
        .map_err(|err| SpcmError::Internal { reason: "cannot encode the response", cause: err.to_string() })??;
    Ok(HttpResponse::Ok().content_type(HAL_JSON).body(body))
}

/// Follow the tenant's change feed.
///
/// Lists the tenant's changes (to profiles, the catalogue, users and tokens) with an id
/// greater than `after`, oldest first, at most `limit` of them. Every page that holds
/// changes, the last one included, links in `_links.next` to the next page to poll, so
/// a client that keeps the last id it has seen never misses a change. Needs
/// `SPCM_AUDIT_READ_PERMISSION`, which suffices alone.
#[utoipa::path(get, path = "/pcc/spcm/changes", tag = "change history", params(FeedParams),
    responses(
        (status = 200, description = "The tenant's changes after `after`, oldest first", body = ChangeList,
            content_type = "application/hal+json"),
        (status = 403, description = "The user lacks SPCM_AUDIT_READ_PERMISSION", body = ErrorBody,
            example = json!({"message": "forbidden; missing SPCM_AUDIT_READ_PERMISSION", "errorCode": 403})),
        SpcmErrors),
    security(("basicAuth" = [], "tenant" = [])))]
pub async fn feed(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, SpcmError> {
    let credentials = Credentials::from_request(&req, &state)?;
    let (query, malformed) = match PageQuery::parse(req.query_string(), &["after", "limit"]) {
        Ok(query) => (query, None),
        Err(err) => (PageQuery::default(), Some(err)),
    };
    let link_base = state.link_base.clone();
    let this = this_link(&link_base, FEED_PATH, req.query_string());
    let fair_share = state.fair_share.clone();
    let (body, turn) = with_caller(&state, credentials, Permission::AuditRead, malformed, move |conn, caller| {
        // Held until the page is encoded, which runs at low priority.
        let turn = fair_share.enter(caller.tenant_id, Expensive::ChangePage)?;
        let limit = query.limit.unwrap_or(DEFAULT_FEED_LIMIT);
        let found = changes::feed(conn, caller.tenant_id, query.after.unwrap_or(0), limit)?;
        let next =
            found.last().map(|last| Link { href: format!("{link_base}{FEED_PATH}?after={}&limit={limit}", last.id) });
        let page = ChangeList {
            length: found.len(),
            changes: found.iter().map(changes::ChangeRecord::to_json).collect(),
            links: ListLinks::next_only(this, next),
        };
        Ok((page, turn))
    })
    .await?;
    hal_page(&turn, body).await
}
