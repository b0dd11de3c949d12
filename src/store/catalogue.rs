//! The stored catalogue document of each tenant and the profiles it uses.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::{catalogue_profile_refs as refs, catalogues, provisioning_profiles as profiles};
use super::{write_transaction, DbConnection, StoreError, Transient};
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

/// Validates `document` against the tenant's profiles and replaces the tenant's
/// catalogue with it, all in one transaction. Importing the stored content again
/// writes nothing.
pub fn import(
    conn: &mut DbConnection,
    tenant_id: i64,
    document: CatalogueDocument,
) -> Result<CatalogueCounts, ImportError> {
    write_transaction(conn, tenant_id, |conn| {
        let names: HashMap<String, i64> = profiles::table
            .select((profiles::name, profiles::id))
            .filter(profiles::tenant_id.eq(tenant_id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        let valid = validate(document.clone(), &names).map_err(ImportError::Invalid)?;
        let counts = valid.document.counts();
        let json = serde_json::to_string(&valid.document)
            .map_err(|e| StoreError::Internal(format!("cannot encode the catalogue: {e}")))?;

        let stored: Option<(i64, String)> = catalogues::table
            .select((catalogues::version, catalogues::document))
            .filter(catalogues::tenant_id.eq(tenant_id))
            .first(conn)
            .optional()?;
        match stored {
            Some((_, current)) if current == json => return Ok(counts),
            Some((version, _)) => {
                diesel::update(catalogues::table.filter(catalogues::tenant_id.eq(tenant_id)))
                    .set((catalogues::version.eq(version + 1), catalogues::document.eq(&json)))
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(catalogues::table)
                    .values((
                        catalogues::tenant_id.eq(tenant_id),
                        catalogues::version.eq(1),
                        catalogues::document.eq(&json),
                    ))
                    .execute(conn)?;
            }
        }

        diesel::delete(refs::table.filter(refs::tenant_id.eq(tenant_id))).execute(conn)?;
        let mut used: Vec<(i64, &str)> = valid
            .document
            .bundled_products
            .iter()
            .flat_map(|bp| {
                bp.provisioning_profiles.iter().filter_map(move |l| l.profile_id.map(|id| (id, bp.id.as_str())))
            })
            .collect();
        used.sort_unstable();
        used.dedup();
        for (profile_id, bundled_product_id) in used {
            diesel::insert_into(refs::table)
                .values((
                    refs::tenant_id.eq(tenant_id),
                    refs::profile_id.eq(profile_id),
                    refs::bundled_product_id.eq(bundled_product_id),
                ))
                .execute(conn)?;
        }
        Ok(counts)
    })
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
