//! The HTTP faces. Each face owns its DTOs and error shapes; all of them share the
//! application state and the store.

pub mod ops;
pub mod spcm;

use std::sync::Arc;

use crate::auth::CredentialCache;
use crate::store::DbPool;

/// What every handler can reach, built once in `startup`.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub credentials: Arc<CredentialCache>,
    /// Largest accepted request body, in bytes (413 beyond).
    pub body_limit: usize,
}
