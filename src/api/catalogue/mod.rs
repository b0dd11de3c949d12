//! The catalogue face, `/v2/orgs/{org_id}/…` (contract §3): read views over the
//! tenant's catalogue document, its import and export, with bearer tokens.

mod answers;
mod cache;
mod caller;
mod error;
pub(crate) mod handlers;
mod views;

pub use answers::ViewAnswers;
pub use cache::{CatalogueCache, CatalogueCacheStats};
// The answer sets are public: the OpenAPI document is built from them.
pub use error::{
    CatalogueError, CatalogueErrors, FilterErrors, ImportErrors, ItemNotFound, JsonString, TenantBusyErrors,
};

use actix_web::http::Method;
use actix_web::{web, HttpResponse, ResponseError};

use super::Endpoint;

/// True for a path of the catalogue face, served or not.
pub fn owns(path: &str) -> bool {
    path == "/v2" || path.starts_with("/v2/")
}

/// The answer to a path of the face that no operation serves: the face's own 404
/// (`KOGenericResponse`), so that its clients read every 404 the same way.
pub fn unknown_path() -> HttpResponse {
    CatalogueError::NotFound(error::codes::PATH).error_response()
}

/// The answer to an `Accept` that does not take JSON, the face's only representation.
pub fn not_acceptable() -> HttpResponse {
    CatalogueError::NotAcceptable.error_response()
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::GET,
            "/v2/orgs/{org_id}/bundled_products/{id}/provisioning_profiles",
            super::get().to(handlers::provisioning_profiles),
        ),
        Endpoint::new(Method::GET, "/v2/orgs/{org_id}/base_profiles", super::get().to(handlers::base_profiles)),
        Endpoint::new(
            Method::GET,
            "/v2/orgs/{org_id}/base_profiles/{id}/services",
            super::get().to(handlers::base_profile_services),
        ),
        Endpoint::new(
            Method::GET,
            "/v2/orgs/{org_id}/commercial_products/{id}/base_profiles",
            super::get().to(handlers::commercial_product_base_profiles),
        ),
        Endpoint::new(
            Method::GET,
            "/v2/orgs/{org_id}/commercial_products/{id}/value_added_services",
            super::get().to(handlers::commercial_product_value_added_services),
        ),
        Endpoint::new(
            Method::GET,
            "/v2/orgs/{org_id}/bundled_commercial_products/{id}/value_added_services",
            super::get().to(handlers::bundled_commercial_product_value_added_services),
        ),
        Endpoint::new(
            Method::GET,
            "/v2/orgs/{org_id}/bundled_products/{bp_id}/bundled_product_subs_types/{bpst_id}/bundled_commercial_products/{bcp_id}/value_added_services",
            super::get().to(handlers::nested_value_added_services),
        ),
        Endpoint::new(Method::GET, "/v2/orgs/{org_id}/catalogue", super::get().to(handlers::export)),
        Endpoint::new(Method::PUT, "/v2/orgs/{org_id}/catalogue", web::put().to(handlers::import)),
    ]
}
