//! The stored catalogue document of each tenant and the profiles it uses.

use std::collections::HashMap;

use diesel::prelude::*;

use super::changes::{self, Action, Change, Entity};
use super::schema::{catalogue_profile_refs as refs, catalogues, provisioning_profiles as profiles};
use super::{write_transaction, DbConnection, StoreError, Transient, WriteScope};

/// A catalogue as its change records show it: its version and what it holds, never
/// the document itself.
fn snapshot(version: i64, counts: &CatalogueCounts) -> Result<serde_json::Value, StoreError> {
    let mut view = serde_json::to_value(counts)
        .map_err(|e| StoreError::Internal(format!("cannot encode the catalogue's counts: {e}")))?;
    if let Some(fields) = view.as_object_mut() {
        fields.insert("version".into(), version.into());
    }
    Ok(view)
}
use crate::domain::catalogue::{validate, CatalogueCounts, CatalogueDocument, Problem};

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the catalogue document is invalid")]
    Invalid(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(err: diesel::result::Error) -> Self {
        ImportError::Store(err.into())
    }
}

impl Transient for ImportError {
    fn is_transient(&self) -> bool {
        matches!(self, ImportError::Store(err) if err.is_transient())
    }
}

/// The version of the tenant's catalogue, `None` before the first import.
pub fn version(conn: &mut DbConnection, tenant_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(catalogues::table
        .select(catalogues::version)
        .filter(catalogues::tenant_id.eq(tenant_id))
        .first(conn)
        .optional()?)
}

/// A tenant's stored document (links by profile id), its version and its stored length.
pub struct StoredCatalogue {
    pub version: i64,
    pub document: CatalogueDocument,
    pub bytes: usize,
}

/// The stored document, its version and length.
pub fn load(conn: &mut DbConnection, tenant_id: i64) -> Result<Option<StoredCatalogue>, StoreError> {
    let stored: Option<(i64, String)> = catalogues::table
        .select((catalogues::version, catalogues::document))
        .filter(catalogues::tenant_id.eq(tenant_id))
        .first(conn)
        .optional()?;
    stored
        .map(|(version, json)| {
            serde_json::from_str(&json)
                .map(|document| StoredCatalogue { version, document, bytes: json.len() })
                .map_err(|e| StoreError::Internal(format!("stored catalogue of tenant {tenant_id} is unreadable: {e}")))
        })
        .transpose()
}

/// Current names of the given profiles of the tenant.
pub fn profile_names(conn: &mut DbConnection, tenant_id: i64, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
    let rows: Vec<(i64, String)> = profiles::table
        .select((profiles::id, profiles::name))
        .filter(profiles::tenant_id.eq(tenant_id))
        .filter(profiles::id.eq_any(ids))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The document as a client imports it: profile links by current name.
pub fn export(conn: &mut DbConnection, tenant_id: i64) -> Result<CatalogueDocument, StoreError> {
    let Some(StoredCatalogue { mut document, .. }) = load(conn, tenant_id)? else {
        return Ok(CatalogueDocument::default());
    };
    let ids: Vec<i64> = links(&mut document).filter_map(|link| link.profile_id).collect();
    let names = profile_names(conn, tenant_id, &ids)?;
    for link in links(&mut document) {
        link.profile_name = link.profile_id.take().and_then(|id| names.get(&id).cloned());
    }
    Ok(document)
}

fn links(
    document: &mut CatalogueDocument,
) -> impl Iterator<Item = &mut crate::domain::catalogue::ProvisioningProfileLink> {
    document.bundled_products.iter_mut().flat_map(|bp| bp.provisioning_profiles.iter_mut())
}

/// Longest a profile name can be in a JSON document, in bytes: 100 characters (the
/// SPCM face's bound), each at most 4 bytes (control characters are refused).
const LONGEST_PROFILE_NAME_BYTES: usize = 100 * 4;

/// Counts what serde_json writes, without keeping it.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The most bytes the export of a validated document can take: as exported now (links
/// by profile name), plus room for every linked profile to be renamed to the longest name.
fn longest_export(document: &mut CatalogueDocument, names: &HashMap<String, i64>) -> Result<usize, StoreError> {
    let by_id: HashMap<i64, &str> = names.iter().map(|(name, id)| (*id, name.as_str())).collect();
    let mut growth = 0usize;
    for link in links(document) {
        if let Some(name) = link.profile_id.take().and_then(|id| by_id.get(&id)) {
            growth += LONGEST_PROFILE_NAME_BYTES.saturating_sub(name.len());
            link.profile_name = Some((*name).to_owned());
        }
    }
    let mut counter = ByteCounter(0);
    let encoded = serde_json::to_writer(&mut counter, document);
    for link in links(document) {
        link.profile_id = link.profile_name.take().and_then(|name| names.get(&name).copied());
    }
    encoded.map_err(|e| StoreError::Internal(format!("cannot encode the catalogue: {e}")))?;
    Ok(counter.0.saturating_add(growth))
}

/// Tries of an import whose validation ran outside the tenant's lock, when the tenant's
/// profile names or catalogue changed before its swap; then 503, try again later.
pub const UNLOCKED_ATTEMPTS: u32 = 5;

/// A document validated against the tenant's profile names and stored catalogue as they
/// were, with everything its write needs.
pub struct Prepared {
    /// The profile names (with their ids) the document was validated against.
    names: HashMap<String, i64>,
    pub counts: CatalogueCounts,
    json: String,
    /// The stored catalogue's version and what its change record shows, if there is one.
    previous: Option<(i64, serde_json::Value)>,
    /// The stored document is this one: nothing to write.
    pub unchanged: bool,
    /// (profile id, bundled product id) pairs, sorted, without repeats.
    used: Vec<(i64, String)>,
}

/// What an import is validated against: the tenant's profiles by name and its stored
/// catalogue, read in one short call so that the validation holds no connection.
pub struct ImportBasis {
    tenant_id: i64,
    names: HashMap<String, i64>,
    stored: Option<(i64, String)>,
}

pub fn import_basis(conn: &mut DbConnection, tenant_id: i64) -> Result<ImportBasis, StoreError> {
    let names = profile_ids_by_name(conn, tenant_id)?;
    let stored = catalogues::table
        .select((catalogues::version, catalogues::document))
        .filter(catalogues::tenant_id.eq(tenant_id))
        .first(conn)
        .optional()?;
    Ok(ImportBasis { tenant_id, names, stored })
}

/// Validates and encodes `document` against `basis`: the long part of an import, which
/// needs no connection.
pub fn prepare(basis: ImportBasis, document: CatalogueDocument, limit: usize) -> Result<Prepared, ImportError> {
    let ImportBasis { tenant_id, names, stored } = basis;
    let mut valid = validate(document, &names).map_err(ImportError::Invalid)?;
    let longest = longest_export(&mut valid.document, &names)?;
    if longest > limit {
        return Err(ImportError::Invalid(vec![(
            "$".to_owned(),
            format!(
                "exported, this catalogue could take {longest} bytes (its provisioning profiles renamed to \
                 the longest names), over the limit of {limit} bytes for a catalogue document, so it \
                 could not be imported again: make it smaller"
            ),
        )]));
    }
    let counts = valid.document.counts();
    let json = serde_json::to_string(&valid.document)
        .map_err(|e| StoreError::Internal(format!("cannot encode the catalogue: {e}")))?;
    let unchanged = stored.as_ref().is_some_and(|(_, current)| *current == json);
    let previous = match stored {
        Some((version, current)) if !unchanged => {
            let previous: CatalogueDocument = serde_json::from_str(&current).map_err(|e| {
                StoreError::Internal(format!("stored catalogue of tenant {tenant_id} is unreadable: {e}"))
            })?;
            Some((version, snapshot(version, &previous.counts())?))
        }
        Some((version, _)) => Some((version, serde_json::Value::Null)),
        None => None,
    };
    let mut used: Vec<(i64, String)> = valid
        .document
        .bundled_products
        .iter()
        .flat_map(|bp| bp.provisioning_profiles.iter().filter_map(move |l| l.profile_id.map(|id| (id, bp.id.clone()))))
        .collect();
    used.sort_unstable();
    used.dedup();
    Ok(Prepared { names, counts, json, previous, unchanged, used })
}

fn profile_ids_by_name(conn: &mut DbConnection, tenant_id: i64) -> QueryResult<HashMap<String, i64>> {
    Ok(profiles::table
        .select((profiles::name, profiles::id))
        .filter(profiles::tenant_id.eq(tenant_id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// Why a write of a prepared import did not happen.
#[derive(Debug)]
pub enum SwapError {
    /// The tenant's profile names or catalogue changed after `prepare` read them:
    /// prepare again.
    TenantChanged,
    Import(ImportError),
}

impl<E: Into<ImportError>> From<E> for SwapError {
    fn from(err: E) -> Self {
        SwapError::Import(err.into())
    }
}

impl Transient for SwapError {
    fn is_transient(&self) -> bool {
        matches!(self, SwapError::Import(err) if err.is_transient())
    }
}

/// Writes a prepared import under the tenant's lock: the document, the profiles it
/// uses and one change record; refused (rolled back) unless the tenant's profile names
/// and stored catalogue are still those `prepare` validated against. Other changes of
/// the tenant (a profile's other fields, users, tokens) do not matter to the import.
pub fn swap(conn: &mut DbConnection, scope: &WriteScope, prepared: &Prepared) -> Result<(), SwapError> {
    let tenant_id = scope.tenant_id;
    write_transaction(conn, scope, |conn| {
        let stored = version(conn, tenant_id)?;
        if stored != prepared.previous.as_ref().map(|(v, _)| *v)
            || profile_ids_by_name(conn, tenant_id)? != prepared.names
        {
            return Err(SwapError::TenantChanged);
        }
        write_prepared(conn, scope, prepared).map_err(SwapError::Import)
    })
}

fn write_prepared(conn: &mut DbConnection, scope: &WriteScope, prepared: &Prepared) -> Result<(), ImportError> {
    let tenant_id = scope.tenant_id;
    let before = prepared.previous.as_ref().map(|(_, view)| view.clone());
    let version = prepared.previous.as_ref().map_or(1, |(version, _)| version + 1);
    let after = snapshot(version, &prepared.counts)?;
    let tenant: String =
        super::schema::tenants::table.select(super::schema::tenants::name).find(tenant_id).first(conn)?;
    changes::record(
        conn,
        scope,
        Change {
            entity: Entity::Catalogue,
            entity_id: tenant,
            action: Action::Imported,
            changed_fields: changes::changed_fields(before.as_ref(), Some(&after)),
            before,
            after: Some(after),
        },
    )?;
    match prepared.previous {
        Some(_) => {
            diesel::update(catalogues::table.filter(catalogues::tenant_id.eq(tenant_id)))
                .set((catalogues::version.eq(version), catalogues::document.eq(&prepared.json)))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(catalogues::table)
                .values((
                    catalogues::tenant_id.eq(tenant_id),
                    catalogues::version.eq(1),
                    catalogues::document.eq(&prepared.json),
                ))
                .execute(conn)?;
        }
    }
    diesel::delete(refs::table.filter(refs::tenant_id.eq(tenant_id))).execute(conn)?;
    for batch in prepared.used.chunks(REFS_PER_INSERT) {
        let rows: Vec<_> = batch
            .iter()
            .map(|(profile_id, bundled_product_id)| {
                (
                    refs::tenant_id.eq(tenant_id),
                    refs::profile_id.eq(*profile_id),
                    refs::bundled_product_id.eq(bundled_product_id.as_str()),
                )
            })
            .collect();
        super::on_backend!(conn, |c| diesel::insert_into(refs::table).values(&rows).execute(c))?;
    }
    Ok(())
}

/// Rows of one multi-row insert of the profiles a catalogue uses (well under every
/// backend's limit on bound parameters).
const REFS_PER_INSERT: usize = 500;

/// Validates `document` against the tenant's profiles and replaces the tenant's
/// catalogue with it, atomically, with one change record; importing the stored content
/// again writes nothing. A document whose export could exceed `limit` bytes is refused,
/// so that whatever is imported can be exported and imported again (contract §3.1).
///
/// Validation and encoding, the long part, run outside the tenant's lock; the locked
/// part is the swap, refused when the tenant's profile names or catalogue changed
/// meanwhile (then the import is prepared again, and after `UNLOCKED_ATTEMPTS` it is
/// answered as a transient conflict: 503). So a large import never holds the
/// database's write lock for long, and SQLite's is every tenant's (contract §1.1: one
/// tenant's work cannot stall another's).
pub fn import(
    conn: &mut DbConnection,
    scope: &WriteScope,
    document: CatalogueDocument,
    limit: usize,
) -> Result<CatalogueCounts, ImportError> {
    let tenant_id = scope.tenant_id;
    for _ in 0..UNLOCKED_ATTEMPTS {
        let prepared = prepare(import_basis(conn, tenant_id)?, document.clone(), limit)?;
        if prepared.unchanged {
            return Ok(prepared.counts);
        }
        match swap(conn, scope, &prepared) {
            Ok(()) => return Ok(prepared.counts),
            Err(SwapError::TenantChanged) => continue,
            Err(SwapError::Import(err)) => return Err(err),
        }
    }
    Err(kept_changing())
}

/// The answer when every try's swap found the tenant changed.
pub fn kept_changing() -> ImportError {
    ImportError::Store(StoreError::Transient(
        "the tenant's profile names or catalogue kept changing during the import".into(),
    ))
}

/// A bundled product that uses the profile, if any.
pub fn used_by(conn: &mut DbConnection, profile_id: i64) -> QueryResult<Option<String>> {
    refs::table
        .select(refs::bundled_product_id)
        .filter(refs::profile_id.eq(profile_id))
        .order(refs::bundled_product_id.asc())
        .first(conn)
        .optional()
}
