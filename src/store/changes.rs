//! The change history (contract §7); its unpublished records are the outbox of change
//! events, which `events::outbox` reads.
//!
//! Every write records its changes with `record`, inside the write's own transaction:
//! a write that rolls back leaves no record, and no committed write lacks one. The
//! row's id comes from the database inside that transaction, which holds the tenant's
//! lock (`lock_tenant`), so ids increase in commit order within a tenant.

use diesel::prelude::*;
use serde_json::{Map, Value};

pub use crate::domain::change::{event_type, Action, Entity};
use crate::domain::change::{ChangeActor, ChangeEvent};

use super::schema::changes::dsl as c;
use super::schema::tenants;
use super::{Authority, DbConnection, StoreError, WriteScope};

/// One change of one entity, as the write knows it.
#[derive(Debug, Clone)]
pub struct Change {
    pub entity: Entity,
    pub entity_id: String,
    pub action: Action,
    pub changed_fields: Vec<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    /// The change from `before` to `after` (`None` where the entity did not exist):
    /// created, updated or deleted, with the fields whose value differs. `None` when
    /// nothing changed.
    pub fn between(
        entity: Entity,
        entity_id: impl Into<String>,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Option<Change> {
        let action = match (&before, &after) {
            (None, Some(_)) => Action::Created,
            (Some(_), None) => Action::Deleted,
            (Some(_), Some(_)) => Action::Updated,
            (None, None) => return None,
        };
        let changed_fields = changed_fields(before.as_ref(), after.as_ref());
        if changed_fields.is_empty() {
            return None;
        }
        Some(Change { entity, entity_id: entity_id.into(), action, changed_fields, before, after })
    }
}

/// The keys whose value differs between two JSON objects, in the order of `after`
/// then `before`. A missing object has no keys.
pub fn changed_fields(before: Option<&Value>, after: Option<&Value>) -> Vec<String> {
    let empty = Map::new();
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let after = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut fields: Vec<String> =
        after.iter().filter(|(key, value)| before.get(*key) != Some(*value)).map(|(key, _)| key.clone()).collect();
    fields.extend(before.keys().filter(|key| !after.contains_key(*key)).cloned());
    fields
}

/// `actor.kind` and `actor.name` of a write.
fn actor(authority: &Authority) -> (&'static str, String) {
    match authority {
        Authority::Cli => ("cli", "cli".to_owned()),
        Authority::User { username, .. } => ("user", username.clone()),
        Authority::Token { token_id, .. } => ("token", token_id.to_string()),
    }
}

fn encode(value: &Option<Value>) -> Option<String> {
    value.as_ref().map(Value::to_string)
}

/// Records `change` of the scope's tenant. Call it inside the write's transaction.
pub fn record(conn: &mut DbConnection, scope: &WriteScope, change: Change) -> QueryResult<()> {
    record_for(conn, scope.tenant_id, &scope.authority, scope.request_id.as_deref(), change)
}

/// As `record`, for a write that has no scope (a tenant being created).
pub fn record_for(
    conn: &mut DbConnection,
    tenant_id: i64,
    authority: &Authority,
    request_id: Option<&str>,
    change: Change,
) -> QueryResult<()> {
    let insert = diesel::insert_into(c::changes).values(ChangeRow::new(tenant_id, authority, request_id, change));
    super::on_backend!(conn, |c| insert.execute(c)).map(|_| ())
}

/// The columns of a new change record.
#[derive(Debug, Insertable)]
#[diesel(table_name = super::schema::changes)]
pub(super) struct ChangeRow {
    pub tenant_id: i64,
    pub at_ms: i64,
    pub actor_kind: &'static str,
    pub actor_name: String,
    pub request_id: Option<String>,
    pub entity: &'static str,
    pub entity_id: String,
    pub action: &'static str,
    pub changed_fields: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub published: bool,
}

impl ChangeRow {
    /// `change` of `tenant_id`, made now by `authority`, not yet published.
    pub fn new(tenant_id: i64, authority: &Authority, request_id: Option<&str>, change: Change) -> ChangeRow {
        let (actor_kind, actor_name) = actor(authority);
        ChangeRow {
            tenant_id,
            at_ms: crate::clock::unix_ms().unwrap_or(0),
            actor_kind,
            actor_name,
            request_id: request_id.map(str::to_owned),
            entity: change.entity.as_str(),
            entity_id: change.entity_id,
            action: change.action.as_str(),
            changed_fields: Value::from(change.changed_fields).to_string(),
            before_state: encode(&change.before),
            after_state: encode(&change.after),
            published: false,
        }
    }
}

/// A change as read back, with its tenant's name.
#[derive(Debug, Clone, Queryable)]
pub struct ChangeRecord {
    pub id: i64,
    pub tenant: String,
    pub at_ms: i64,
    pub actor_kind: String,
    pub actor_name: String,
    pub request_id: Option<String>,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub changed_fields: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

impl ChangeRecord {
    /// The change as the API, the CLI and the events show it (contract §7).
    pub fn to_event(&self) -> ChangeEvent {
        let at = chrono::DateTime::from_timestamp_millis(self.at_ms)
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        ChangeEvent {
            id: self.id,
            at,
            tenant: self.tenant.clone(),
            actor: ChangeActor { kind: self.actor_kind.clone(), name: self.actor_name.clone() },
            request_id: self.request_id.clone(),
            event_type: event_type(&self.entity, &self.action),
            entity: self.entity.clone(),
            entity_id: self.entity_id.clone(),
            action: self.action.clone(),
            changed_fields: parse(&self.changed_fields),
            before: self.before.as_deref().map_or(Value::Null, parse),
            after: self.after.as_deref().map_or(Value::Null, parse),
        }
    }

    /// `to_event` as a JSON value, for answers built as values.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_event()).unwrap_or(Value::Null)
    }

    /// `<tenant>.<entity>.<action>`.
    pub fn routing_key(&self) -> String {
        format!("{}.{}.{}", self.tenant, self.entity, self.action)
    }
}

pub(crate) type Selection = (
    c::id,
    tenants::name,
    c::at_ms,
    c::actor_kind,
    c::actor_name,
    c::request_id,
    c::entity,
    c::entity_id,
    c::action,
    c::changed_fields,
    c::before_state,
    c::after_state,
);

pub(crate) const SELECTION: Selection = (
    c::id,
    tenants::name,
    c::at_ms,
    c::actor_kind,
    c::actor_name,
    c::request_id,
    c::entity,
    c::entity_id,
    c::action,
    c::changed_fields,
    c::before_state,
    c::after_state,
);

/// The tenant's changes after `after`, oldest first, at most `limit`.
pub fn feed(conn: &mut DbConnection, tenant_id: i64, after: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
    Ok(c::changes
        .inner_join(tenants::table)
        .filter(c::tenant_id.eq(tenant_id))
        .filter(c::id.gt(after))
        .order(c::id.asc())
        .limit(limit)
        .select(SELECTION)
        .load(conn)?)
}

/// The tenant's latest changes, newest first, at most `limit`.
pub fn recent(conn: &mut DbConnection, tenant_id: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
    Ok(c::changes
        .inner_join(tenants::table)
        .filter(c::tenant_id.eq(tenant_id))
        .order(c::id.desc())
        .limit(limit)
        .select(SELECTION)
        .load(conn)?)
}

/// One entity's changes, newest first, from `offset` on (`limit: None`: all), and how
/// many there are in all.
pub fn history(
    conn: &mut DbConnection,
    tenant_id: i64,
    entity: Entity,
    entity_id: &str,
    offset: i64,
    limit: Option<i64>,
) -> Result<(Vec<ChangeRecord>, i64), StoreError> {
    let of_entity = || {
        c::changes
            .filter(c::tenant_id.eq(tenant_id))
            .filter(c::entity.eq(entity.as_str()))
            .filter(c::entity_id.eq(entity_id.to_owned()))
    };
    let records = of_entity()
        .inner_join(tenants::table)
        .order(c::id.desc())
        .limit(limit.unwrap_or(i64::MAX))
        .offset(offset)
        .select(SELECTION)
        .load(conn)?;
    let total = of_entity().count().get_result(conn)?;
    Ok((records, total))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The typed record writes what the hand-built JSON of earlier versions wrote, byte for byte.
    #[test]
    fn a_change_event_is_written_field_for_field_in_order() {
        let record = ChangeRecord {
            id: 7,
            tenant: "acme".into(),
            at_ms: 1_764_000_000_123,
            actor_kind: "user".into(),
            actor_name: "ann".into(),
            request_id: None,
            entity: "provisionProfile".into(),
            entity_id: "42".into(),
            action: "updated".into(),
            changed_fields: r#"["name"]"#.into(),
            before: Some(r#"{"name":"a","z":1,"b":[1.5,null]}"#.into()),
            after: None,
        };
        let expected = json!({
            "id": 7,
            "at": "2025-11-24T16:00:00.123Z",
            "tenant": "acme",
            "actor": {"kind": "user", "name": "ann"},
            "requestId": null,
            "eventType": "PROVISION_PROFILE_UPDATED",
            "entity": "provisionProfile",
            "entityId": "42",
            "action": "updated",
            "changedFields": ["name"],
            "before": {"name": "a", "z": 1, "b": [1.5, null]},
            "after": null,
        });
        assert_eq!(serde_json::to_string(&record.to_event()).unwrap(), expected.to_string());
        assert_eq!(record.to_json(), expected);
    }

    #[test]
    fn changed_fields_are_the_keys_whose_value_differs() {
        let before = json!({"a": 1, "b": 2, "gone": true});
        let after = json!({"a": 1, "b": 3, "new": null});
        assert_eq!(changed_fields(Some(&before), Some(&after)), ["b", "new", "gone"]);
        assert_eq!(changed_fields(None, Some(&after)), ["a", "b", "new"]);
        assert!(Change::between(Entity::User, "u", Some(before.clone()), Some(before)).is_none());
    }
}
