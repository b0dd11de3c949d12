//! Parsed catalogues kept between requests. Each request reads the stored version
//! (one small query), so an import on any instance is seen at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::catalogue::CatalogueIndex;
use crate::store::{self, DbConnection, StoreError};

#[derive(Default)]
pub struct CatalogueCache {
    entries: RwLock<HashMap<i64, Arc<CatalogueIndex>>>,
}

impl CatalogueCache {
    /// The tenant's current catalogue, `None` before its first import.
    pub fn current(&self, conn: &mut DbConnection, tenant_id: i64) -> Result<Option<Arc<CatalogueIndex>>, StoreError> {
        let Some(version) = store::catalogue::version(conn, tenant_id)? else {
            return Ok(None);
        };
        let cached = self.entries.read().ok().and_then(|entries| entries.get(&tenant_id).cloned());
        if let Some(index) = cached.filter(|index| index.version == version) {
            return Ok(Some(index));
        }
        let Some((version, document)) = store::catalogue::load(conn, tenant_id)? else {
            return Ok(None);
        };
        let index = Arc::new(CatalogueIndex::new(version, document));
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(tenant_id, index.clone());
        }
        Ok(Some(index))
    }
}
