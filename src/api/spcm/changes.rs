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
use crate::api::failure::ServerFailure;
use crate::api::fair_share::{Expensive, Turn};
use crate::api::query::{self, QueryParams};
use crate::api::AppState;
use crate::auth::Permission;
use crate::domain::InvalidValue;
use crate::store::changes::{self, ChangeRecord, Entity};

pub const FEED_PATH: &str = "/pcc/spcm/changes";
const DEFAULT_FEED_LIMIT: i64 = 100;

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
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
    #[schema(value_type = Vec<String>, xml(name = "field", wrapped))]
    pub changed_fields: Value,
    /// The entity before the change; null where it did not exist.
    pub before: Option<Value>,
    /// The entity after the change; null where it no longer exists.
    pub after: Option<Value>,
}

impl From<&ChangeRecord> for ChangeDto {
    fn from(record: &ChangeRecord) -> Self {
        // A stored text that is not JSON shows as null, as the change's other readers show it.
        let parse = |text: &str| serde_json::from_str(text).unwrap_or(Value::Null);
        ChangeDto {
            id: record.id,
            at: chrono::DateTime::from_timestamp_millis(record.at_ms)
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default(),
            tenant: record.tenant.clone(),
            actor: Actor { kind: record.actor_kind.clone(), name: record.actor_name.clone() },
            request_id: record.request_id.clone(),
            event_type: changes::event_type(&record.entity, &record.action),
            entity: record.entity.clone(),
            entity_id: record.entity_id.clone(),
            action: record.action.clone(),
            changed_fields: parse(&record.changed_fields),
            before: record.before.as_deref().map(parse),
            after: record.after.as_deref().map(parse),
        }
    }
}

/// A page of changes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(xml(name = "changes"))]
pub struct ChangeList {
    /// Changes in this response.
    pub length: usize,
    #[schema(xml(wrapped))]
    pub changes: Vec<ChangeDto>,
    #[serde(rename = "_links")]
    pub links: ListLinks,
}

/// Query of a profile's history.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Changes to skip, newest first (≥ 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Most changes to return (1–1000); without it, all of them.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

impl QueryParams for HistoryParams {
    const NAMES: &'static [&'static str] = &["offset", "limit"];

    fn read(&mut self, name: &str, value: &str) -> Result<(), InvalidValue> {
        match name {
            "offset" => self.offset = Some(query::at_least_zero(value)?),
            _ => self.limit = Some(query::limit(value)?),
        }
        Ok(())
    }
}

/// Query of the tenant's feed.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Only changes with a greater id (≥ 0; default 0: from the oldest kept).
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Most changes to return (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

impl QueryParams for FeedParams {
    const NAMES: &'static [&'static str] = &["after", "limit"];

    fn read(&mut self, name: &str, value: &str) -> Result<(), InvalidValue> {
        match name {
            "after" => self.after = Some(query::at_least_zero(value)?),
            _ => self.limit = Some(query::limit(value)?),
        }
        Ok(())
    }
}

/// The query read as `Q`, or the 400.
fn read_query<Q: QueryParams>(query: &str) -> Result<Q, SpcmError> {
    query::parse(query).map_err(|bad| SpcmError::BadRequest(bad.to_string()))
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
    let parsed = parse_id(&path).and_then(|id| Ok((id, read_query::<HistoryParams>(req.query_string())?)));
    let (id, query, malformed) = match parsed {
        Ok((id, query)) => (id, query, None),
        Err(err) => (0, HistoryParams::default(), Some(err)),
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
            changes: found.iter().map(ChangeDto::from).collect(),
            links: ListLinks::next_only(this, next),
        };
        Ok((page, turn))
    })
    .await?;
    hal_page(&turn, body).await
}

/// A page of changes (up to 1,000 records), encoded on the turn's low-priority threads.
async fn hal_page(turn: &Turn, page: ChangeList) -> Result<HttpResponse, SpcmError> {
    let body = turn.run(move || encode(&page)).await.map_err(|err| {
        SpcmError::Server(ServerFailure::Internal { reason: "cannot encode the response", cause: err.to_string() })
    })??;
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
    let (query, malformed) = match read_query::<FeedParams>(req.query_string()) {
        Ok(query) => (query, None),
        Err(err) => (FeedParams::default(), Some(err)),
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
            changes: found.iter().map(ChangeDto::from).collect(),
            links: ListLinks::next_only(this, next),
        };
        Ok((page, turn))
    })
    .await?;
    hal_page(&turn, body).await
}
