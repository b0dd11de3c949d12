//! The HTTP faces. Each face owns its DTOs and error shapes; all of them share the
//! application state and the store.

pub(crate) mod body;
pub mod catalogue;
pub mod ops;
pub mod spcm;

use std::sync::Arc;

use crate::api::catalogue::CatalogueCache;
use crate::auth::CredentialCache;
use crate::store::DbPool;

/// What every handler can reach, built once in `startup`.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub credentials: Arc<CredentialCache>,
    pub catalogues: Arc<CatalogueCache>,
    /// Largest accepted request body, in bytes (413 beyond).
    pub body_limit: usize,
    /// Largest accepted catalogue document, in bytes.
    pub catalogue_limit: usize,
}
