//! Queries of provisioning profiles. Every write runs in its own transaction that
//! starts by taking the tenant's write lock (`lock_tenant`).

use diesel::prelude::*;

#[cfg(feature = "postgres")]
mod single_statement;

use super::changes::{self, Change, Entity};
use super::schema::provisioning_profiles::dsl as p;
use super::{on_backend, write_transaction, DbConnection, StoreError, Transient, WriteScope};
use crate::domain::profile::{check_delete, check_update};
use crate::domain::{DefaultRuleViolation, NewProfile, ProfilePatch, ProvisioningProfile, SubscriberType};

/// Why a write of a profile did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ProfileWriteError {
    #[error("provisioning profile {0} not found")]
    NotFound(i64),
    #[error("name '{0}' already exists")]
    NameTaken(String),
    #[error("provisioning profile {0} is used by bundled product '{1}'")]
    Referenced(i64, String),
    /// The write's condition refused the profile's current revision (the second field).
    #[error("provisioning profile {0} is at revision {1}")]
    Stale(i64, i64),
    #[error("default-profile rule: {0:?}")]
    Rule(DefaultRuleViolation, i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Transient for ProfileWriteError {
    fn is_transient(&self) -> bool {
        matches!(self, ProfileWriteError::Store(err) if err.is_transient())
    }
}

impl From<diesel::result::Error> for ProfileWriteError {
    fn from(err: diesel::result::Error) -> Self {
        ProfileWriteError::Store(err.into())
    }
}

/// What a conditional write asks of the profile's current revision (the SPCM face's
/// `If-Match`, the console's form), checked inside the write's transaction.
pub trait RevisionCondition {
    fn accepts(&self, revision: i64) -> bool;
}

/// Exactly this revision.
impl RevisionCondition for i64 {
    fn accepts(&self, revision: i64) -> bool {
        *self == revision
    }
}

#[derive(Queryable)]
struct ProfileRow {
    id: i64,
    _tenant_id: i64,
    name: String,
    default_profile: bool,
    locale: Option<String>,
    initial_core_plan_name: Option<String>,
    subscriber_class: Option<String>,
    subscriber_type: Option<String>,
    dps_enabled: bool,
    dps_notification: bool,
    eos_notification: bool,
    payg_notification: bool,
    revision: i64,
}

impl From<ProfileRow> for ProvisioningProfile {
    fn from(row: ProfileRow) -> Self {
        ProvisioningProfile {
            id: row.id,
            name: row.name,
            default_profile: row.default_profile,
            locale: row.locale,
            initial_core_plan_name: row.initial_core_plan_name,
            subscriber_class: row.subscriber_class,
            subscriber_type: row.subscriber_type,
            dps_enabled: row.dps_enabled,
            dps_notification: row.dps_notification,
            eos_notification: row.eos_notification,
            payg_notification: row.payg_notification,
            revision: row.revision,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = super::schema::provisioning_profiles)]
struct NewProfileRow {
    tenant_id: i64,
    name: String,
    default_profile: bool,
    locale: Option<String>,
    initial_core_plan_name: Option<String>,
    subscriber_class: Option<String>,
    subscriber_type: Option<String>,
    dps_enabled: bool,
    dps_notification: bool,
    eos_notification: bool,
    payg_notification: bool,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = super::schema::provisioning_profiles)]
struct ProfileChanges {
    name: Option<String>,
    default_profile: Option<bool>,
    locale: Option<Option<String>>,
    initial_core_plan_name: Option<Option<String>>,
    subscriber_class: Option<Option<String>>,
    subscriber_type: Option<Option<String>>,
    dps_enabled: Option<bool>,
    dps_notification: Option<bool>,
    eos_notification: Option<bool>,
    payg_notification: Option<bool>,
}

impl ProfileChanges {
    fn from_patch(patch: ProfilePatch) -> Self {
        ProfileChanges {
            name: patch.name.map(|n| n.into_inner()),
            default_profile: patch.default_profile,
            locale: patch.locale.map(|v| v.map(|l| l.into_inner())),
            initial_core_plan_name: patch.initial_core_plan_name.map(|v| v.map(|t| t.into_inner())),
            subscriber_class: patch.subscriber_class.map(|v| v.map(|t| t.into_inner())),
            subscriber_type: patch.subscriber_type.map(|v| v.map(|t| t.as_str().to_owned())),
            dps_enabled: patch.dps_enabled,
            dps_notification: patch.dps_notification,
            eos_notification: patch.eos_notification,
            payg_notification: patch.payg_notification,
        }
    }

    /// Whether applying these changes to `current` changes anything.
    fn changes(&self, current: &ProvisioningProfile) -> bool {
        fn differs<T: PartialEq>(new: &Option<T>, old: &T) -> bool {
            new.as_ref().is_some_and(|new| new != old)
        }
        differs(&self.name, &current.name)
            || differs(&self.default_profile, &current.default_profile)
            || differs(&self.locale, &current.locale)
            || differs(&self.initial_core_plan_name, &current.initial_core_plan_name)
            || differs(&self.subscriber_class, &current.subscriber_class)
            || differs(&self.subscriber_type, &current.subscriber_type)
            || differs(&self.dps_enabled, &current.dps_enabled)
            || differs(&self.dps_notification, &current.dps_notification)
            || differs(&self.eos_notification, &current.eos_notification)
            || differs(&self.payg_notification, &current.payg_notification)
    }
}

/// Listing filters (contract §2); `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct ProfileFilter {
    pub name: Option<String>,
    pub subscriber_type: Option<SubscriberType>,
    pub default_profile: Option<bool>,
}

/// One page of a listing: `limit: None` returns everything from `offset` on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub offset: i64,
    pub limit: Option<i64>,
}

type BoxedProfiles<'a> = super::schema::provisioning_profiles::BoxedQuery<'a, super::connection::MultiBackend>;

fn filtered(tenant_id: i64, filter: &ProfileFilter) -> BoxedProfiles<'_> {
    let mut query = p::provisioning_profiles.filter(p::tenant_id.eq(tenant_id)).into_boxed();
    if let Some(name) = &filter.name {
        query = query.filter(p::name.eq(name));
    }
    if let Some(kind) = filter.subscriber_type {
        query = query.filter(p::subscriber_type.eq(kind.as_str()));
    }
    if let Some(default_profile) = filter.default_profile {
        query = query.filter(p::default_profile.eq(default_profile));
    }
    query
}

/// The page of matching profiles ordered by id, and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    tenant_id: i64,
    filter: &ProfileFilter,
    page: Page,
) -> Result<(Vec<ProvisioningProfile>, i64), StoreError> {
    let mut query = filtered(tenant_id, filter).order(p::id.asc());
    if page.offset > 0 || page.limit.is_some() {
        // SQLite and MySQL need a LIMIT before an OFFSET.
        query = query.limit(page.limit.unwrap_or(i64::MAX)).offset(page.offset);
    }
    let rows: Vec<ProfileRow> = query.load(conn)?;
    let unbounded = page.offset == 0 && page.limit.is_none_or(|limit| (rows.len() as i64) < limit);
    let total = if unbounded { rows.len() as i64 } else { filtered(tenant_id, filter).count().get_result(conn)? };
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

pub fn get(conn: &mut DbConnection, tenant_id: i64, id: i64) -> Result<Option<ProvisioningProfile>, StoreError> {
    Ok(find(conn, tenant_id, id)?)
}

fn find(conn: &mut DbConnection, tenant_id: i64, id: i64) -> QueryResult<Option<ProvisioningProfile>> {
    let query = p::provisioning_profiles.filter(p::tenant_id.eq(tenant_id)).filter(p::id.eq(id));
    on_backend!(conn, |c| query.first::<ProfileRow>(c).optional()).map(|row| row.map(Into::into))
}

fn name_taken(conn: &mut DbConnection, tenant_id: i64, name: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut query =
        p::provisioning_profiles.select(p::id).filter(p::tenant_id.eq(tenant_id)).filter(p::name.eq(name)).into_boxed();
    if let Some(id) = except {
        query = query.filter(p::id.ne(id));
    }
    Ok(query.first::<i64>(conn).optional()?.is_some())
}

/// Takes the default from the tenant's current default, if any, and returns that
/// profile as it was.
fn take_default(conn: &mut DbConnection, tenant_id: i64) -> QueryResult<Option<ProvisioningProfile>> {
    let current: Option<ProvisioningProfile> = p::provisioning_profiles
        .filter(p::tenant_id.eq(tenant_id))
        .filter(p::default_profile.eq(true))
        .first::<ProfileRow>(conn)
        .optional()?
        .map(Into::into);
    if let Some(current) = &current {
        diesel::update(p::provisioning_profiles.filter(p::id.eq(current.id)))
            .set((p::default_profile.eq(false), p::revision.eq(p::revision + 1)))
            .execute(conn)?;
    }
    Ok(current)
}

/// Records that `old` lost the default (after the new default's own record, contract §7).
fn record_lost_default(
    conn: &mut DbConnection,
    scope: &WriteScope,
    old: Option<ProvisioningProfile>,
) -> QueryResult<()> {
    match old {
        Some(old) => {
            let cleared = ProvisioningProfile { default_profile: false, ..old.clone() };
            record(conn, scope, Some(&old), Some(&cleared))
        }
        None => Ok(()),
    }
}

/// Records the change of one profile; nothing when nothing changed.
fn record(
    conn: &mut DbConnection,
    scope: &WriteScope,
    before: Option<&ProvisioningProfile>,
    after: Option<&ProvisioningProfile>,
) -> QueryResult<()> {
    let Some(id) = before.or(after).map(|p| p.id) else {
        return Ok(());
    };
    match Change::between(
        Entity::ProvisionProfile,
        id.to_string(),
        before.map(ProvisioningProfile::snapshot),
        after.map(ProvisioningProfile::snapshot),
    ) {
        Some(change) => changes::record(conn, scope, change),
        None => Ok(()),
    }
}

/// Creates a profile; `defaultProfile: true` takes the default from the old one.
pub fn create(
    conn: &mut DbConnection,
    scope: &WriteScope,
    new: NewProfile,
) -> Result<ProvisioningProfile, ProfileWriteError> {
    let row = NewProfileRow {
        tenant_id: scope.tenant_id,
        name: new.name.into_inner(),
        default_profile: new.default_profile,
        locale: new.locale.map(|l| l.into_inner()),
        initial_core_plan_name: new.initial_core_plan_name.map(|t| t.into_inner()),
        subscriber_class: new.subscriber_class.map(|t| t.into_inner()),
        subscriber_type: new.subscriber_type.map(|t| t.as_str().to_owned()),
        dps_enabled: new.dps_enabled,
        dps_notification: new.dps_notification,
        eos_notification: new.eos_notification,
        payg_notification: new.payg_notification,
    };
    #[cfg(feature = "postgres")]
    if let DbConnection::Postgres(c) = conn {
        if let Some(created) = single_statement::create(c, scope, &row)? {
            return Ok(created);
        }
    }
    write_transaction(conn, scope, |conn| {
        let old_default = if row.default_profile { take_default(conn, row.tenant_id)? } else { None };
        let created = insert(conn, &row)?;
        record(conn, scope, None, Some(&created))?;
        record_lost_default(conn, scope, old_default)?;
        Ok(created)
    })
}

/// Inserts `row` and returns the profile as stored; a name already used in the tenant
/// (the unique pair of tenant and name) is `NameTaken`, and the transaction is undone.
fn insert(conn: &mut DbConnection, row: &NewProfileRow) -> Result<ProvisioningProfile, ProfileWriteError> {
    let insert = diesel::insert_into(p::provisioning_profiles).values(row);
    let inserted: QueryResult<ProfileRow> = match conn {
        DbConnection::Sqlite(c) => insert.get_result(c),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(c) => insert.get_result(c),
        // No RETURNING on MySQL: the (tenant, name) pair is unique, so read it back.
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(c) => insert.execute(c).and_then(|_| {
            p::provisioning_profiles.filter(p::tenant_id.eq(row.tenant_id)).filter(p::name.eq(&row.name)).first(c)
        }),
    };
    match inserted {
        Ok(row) => Ok(row.into()),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ProfileWriteError::NameTaken(row.name.clone()))
        }
        Err(err) => Err(err.into()),
    }
}

/// The profile, when it exists and `condition` (`None`: any revision) accepts its revision.
fn find_matching(
    conn: &mut DbConnection,
    tenant_id: i64,
    id: i64,
    condition: Option<&dyn RevisionCondition>,
) -> Result<ProvisioningProfile, ProfileWriteError> {
    let current = find(conn, tenant_id, id)?.ok_or(ProfileWriteError::NotFound(id))?;
    match condition {
        Some(condition) if !condition.accepts(current.revision) => Err(ProfileWriteError::Stale(id, current.revision)),
        _ => Ok(current),
    }
}

/// Applies the fields present in `patch`; `defaultProfile: true` moves the default here.
/// With a `condition`, only while it accepts the profile's revision.
pub fn update(
    conn: &mut DbConnection,
    scope: &WriteScope,
    id: i64,
    patch: ProfilePatch,
    condition: Option<&dyn RevisionCondition>,
) -> Result<ProvisioningProfile, ProfileWriteError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let current = find_matching(conn, tenant_id, id, condition)?;
        check_update(&current, &patch).map_err(|rule| ProfileWriteError::Rule(rule, id))?;
        if let Some(name) = &patch.name {
            if name_taken(conn, tenant_id, name.as_str(), Some(id))? {
                return Err(ProfileWriteError::NameTaken(name.to_string()));
            }
        }
        let old_default = if patch.default_profile == Some(true) && !current.default_profile {
            take_default(conn, tenant_id)?
        } else {
            None
        };
        let changes = ProfileChanges::from_patch(patch.clone());
        if !changes.changes(&current) {
            return Ok(current);
        }
        diesel::update(p::provisioning_profiles.filter(p::id.eq(id)))
            .set((&changes, p::revision.eq(p::revision + 1)))
            .execute(conn)?;
        let updated = find(conn, tenant_id, id)?.ok_or(ProfileWriteError::NotFound(id))?;
        record(conn, scope, Some(&current), Some(&updated))?;
        record_lost_default(conn, scope, old_default)?;
        Ok(updated)
    })
}

/// Deletes a profile unless the default-profile rule forbids it; with a `condition`, only
/// while it accepts the profile's revision.
pub fn delete(
    conn: &mut DbConnection,
    scope: &WriteScope,
    id: i64,
    condition: Option<&dyn RevisionCondition>,
) -> Result<(), ProfileWriteError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let target = find_matching(conn, tenant_id, id, condition)?;
        if let Some(bundled_product) = super::catalogue::used_by(conn, id)? {
            return Err(ProfileWriteError::Referenced(id, bundled_product));
        }
        if target.default_profile {
            let others: i64 = p::provisioning_profiles
                .filter(p::tenant_id.eq(tenant_id))
                .filter(p::id.ne(id))
                .count()
                .get_result(conn)?;
            check_delete(&target, others).map_err(|rule| ProfileWriteError::Rule(rule, id))?;
        }
        diesel::delete(p::provisioning_profiles.filter(p::id.eq(id))).execute(conn)?;
        record(conn, scope, Some(&target), None)?;
        Ok(())
    })
}

/// Ids and names of the tenant's profiles, of one subscriber type when given, by id:
/// what the console searches by name.
pub fn names(
    conn: &mut DbConnection,
    tenant_id: i64,
    subscriber_type: Option<SubscriberType>,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut query = p::provisioning_profiles.filter(p::tenant_id.eq(tenant_id)).select((p::id, p::name)).into_boxed();
    if let Some(kind) = subscriber_type {
        query = query.filter(p::subscriber_type.eq(kind.as_str()));
    }
    Ok(query.order(p::id.asc()).load(conn)?)
}

/// The tenant's profiles among `ids`, by id.
pub fn by_ids(conn: &mut DbConnection, tenant_id: i64, ids: &[i64]) -> Result<Vec<ProvisioningProfile>, StoreError> {
    let rows: Vec<ProfileRow> = p::provisioning_profiles
        .filter(p::tenant_id.eq(tenant_id))
        .filter(p::id.eq_any(ids))
        .order(p::id.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
