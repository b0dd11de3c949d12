//! PostgreSQL: a profile that does not take the default, created by a user, in one
//! statement that commits on its own.
//!
//! Every writer of a tenant holds the tenant's row lock until it commits. In a
//! transaction, that is five round trips (lock, authority, insert, change record,
//! commit), during which every other writer of the tenant waits. Here the lock, the
//! authority check, the insert and the change record are one statement: the lock is
//! held while the server runs it and flushes its commit, and no longer.
//!
//! The statement reads the database as it was when it started, but may take the lock
//! later, once the writer before it commits. So the user's row is read `FOR SHARE`,
//! after the lock: PostgreSQL then checks the row's newest version, and a password
//! changed, a permission taken or a user removed by a write that committed meanwhile is
//! seen (those writes hold the same lock). The statement then writes nothing, and the
//! general path decides, as it does for any caller that is not a user.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Nullable, Text};

use super::{NewProfileRow, ProfileWriteError};
use crate::domain::ProvisioningProfile;
use crate::store::changes::{Change, ChangeRow, Entity};
use crate::store::{Authority, StoreError, Transient, WriteScope};

diesel::define_sql_function!(fn nextval(sequence: Text) -> BigInt);

/// The profile as created, committed; `None` when this path cannot decide and nothing
/// was written (the caller then runs the general path).
pub(super) fn create(
    conn: &mut PgConnection,
    scope: &WriteScope,
    row: &NewProfileRow,
) -> Result<Option<ProvisioningProfile>, ProfileWriteError> {
    let Authority::User { user_id, password_hash, permission, .. } = &scope.authority else {
        return Ok(None);
    };
    let outside_transactions =
        matches!(AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth(), Ok(None));
    if row.default_profile || !outside_transactions {
        return Ok(None);
    }
    // Drawn before the statement so that the answer and the change record can name it.
    // When the statement then writes nothing, this value is skipped (ids have gaps, as
    // after any rolled-back insert); that happens only when the caller's rights changed
    // meanwhile or the lock was not taken in time.
    let id: i64 = diesel::select(nextval("provisioning_profiles_id_seq")).get_result(conn)?;
    let profile = ProvisioningProfile {
        id,
        name: row.name.clone(),
        default_profile: false,
        locale: row.locale.clone(),
        initial_core_plan_name: row.initial_core_plan_name.clone(),
        subscriber_class: row.subscriber_class.clone(),
        subscriber_type: row.subscriber_type.clone(),
        dps_enabled: row.dps_enabled,
        dps_notification: row.dps_notification,
        eos_notification: row.eos_notification,
        payg_notification: row.payg_notification,
        revision: 1,
    };
    let Some(change) = Change::between(Entity::ProvisionProfile, id.to_string(), None, Some(profile.snapshot())) else {
        return Ok(None);
    };
    let statement = CreateStatement {
        row,
        id,
        user_id: *user_id,
        password_hash,
        permission: permission.as_str(),
        change: ChangeRow::new(scope.tenant_id, &scope.authority, scope.request_id.as_deref(), change),
    };
    match statement.execute(conn) {
        Ok(1) => {
            scope.committed.ring();
            Ok(Some(profile))
        }
        Ok(_) => Ok(None),
        Err(err) => match StoreError::from(err) {
            // The only unique key this insert can meet is the tenant's names.
            StoreError::UniqueViolation(_) => Err(ProfileWriteError::NameTaken(row.name.clone())),
            // A lock not taken in time: the general path tries again.
            err if err.is_transient() => Ok(None),
            err => Err(err.into()),
        },
    }
}

/// Locks the tenant, checks the user, inserts the profile and its change record.
/// Affects one row when the profile was created, none when the user no longer matches.
struct CreateStatement<'a> {
    row: &'a NewProfileRow,
    id: i64,
    user_id: i64,
    password_hash: &'a str,
    permission: &'a str,
    change: ChangeRow,
}

/// Stands for `CreateStatement` in the prepared-statement cache.
struct CreateStatementId;

impl QueryId for CreateStatement<'_> {
    type QueryId = CreateStatementId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl RunQueryDsl<PgConnection> for CreateStatement<'_> {}

impl QueryFragment<Pg> for CreateStatement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let row = self.row;
        let change = &self.change;
        out.push_sql("WITH locked AS (UPDATE tenants SET version = version + 1 WHERE id = ");
        out.push_bind_param::<BigInt, _>(&row.tenant_id)?;
        out.push_sql(
            " RETURNING id), \
             allowed AS (SELECT users.tenant_id FROM users JOIN locked ON users.tenant_id = locked.id \
             WHERE users.id = ",
        );
        out.push_bind_param::<BigInt, _>(&self.user_id)?;
        out.push_sql(" AND users.password_hash = ");
        out.push_bind_param::<Text, _>(self.password_hash)?;
        // The stored list read as `PermissionSet::parse_stored` reads it: names split at
        // commas, spaces around them trimmed.
        out.push_sql(" AND EXISTS (SELECT 1 FROM unnest(string_to_array(users.permissions, ',')) AS granted(name) WHERE btrim(granted.name) = ");
        out.push_bind_param::<Text, _>(self.permission)?;
        out.push_sql(
            ") FOR SHARE OF users), \
             created AS (INSERT INTO provisioning_profiles (id, tenant_id, name, default_profile, locale, \
             initial_core_plan_name, subscriber_class, subscriber_type, dps_enabled, dps_notification, \
             eos_notification, payg_notification, revision) SELECT ",
        );
        out.push_bind_param::<BigInt, _>(&self.id)?;
        out.push_sql(", tenant_id, ");
        out.push_bind_param::<Text, _>(&row.name)?;
        out.push_sql(", FALSE, ");
        for text in [&row.locale, &row.initial_core_plan_name, &row.subscriber_class, &row.subscriber_type] {
            out.push_bind_param::<Nullable<Text>, _>(text)?;
            out.push_sql(", ");
        }
        for flag in [&row.dps_enabled, &row.dps_notification, &row.eos_notification, &row.payg_notification] {
            out.push_bind_param::<Bool, _>(flag)?;
            out.push_sql(", ");
        }
        out.push_sql(
            "1 FROM allowed RETURNING tenant_id) \
             INSERT INTO changes (tenant_id, at_ms, actor_kind, actor_name, request_id, entity, entity_id, action, \
             changed_fields, before_state, after_state, published) SELECT tenant_id, ",
        );
        out.push_bind_param::<BigInt, _>(&change.at_ms)?;
        for text in [change.actor_kind, change.actor_name.as_str()] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&change.request_id)?;
        for text in [change.entity, change.entity_id.as_str(), change.action, change.changed_fields.as_str()] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        for state in [&change.before_state, &change.after_state] {
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(state)?;
        }
        out.push_sql(", FALSE FROM created");
        Ok(())
    }
}
