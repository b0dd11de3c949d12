//! The HTTP faces. Each face owns its DTOs and error shapes; all of them share the
//! application state and the store.

pub(crate) mod body;
pub mod catalogue;
#[cfg(test)]
mod fuzz;
pub mod json;
pub mod openapi;
pub mod ops;
pub mod spcm;

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{web, Route};

use crate::api::catalogue::CatalogueCache;
use crate::api::spcm::ReadCache;
use crate::auth::CredentialCache;
use crate::store::{DbPool, VersionChecker};

/// What every handler can reach, built once in `startup`.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub credentials: Arc<CredentialCache>,
    /// Repeated SPCM reads answered from memory while the tenant's version stands.
    pub reads: Arc<ReadCache>,
    pub versions: Arc<VersionChecker>,
    pub catalogues: Arc<CatalogueCache>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Requests being handled now, and the bound beyond which they are shed.
    pub in_flight: Arc<std::sync::atomic::AtomicUsize>,
    pub max_in_flight: usize,
    /// Largest accepted request body, in bytes (413 beyond).
    pub body_limit: usize,
    /// Largest accepted catalogue document, in bytes.
    pub catalogue_limit: usize,
}

/// One operation the service serves: method, path pattern and handler.
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub route: Route,
}

impl Endpoint {
    pub fn new(method: Method, path: &'static str, route: Route) -> Endpoint {
        Endpoint { method, path, route }
    }
}

/// Every documented operation of every face: the single list that both the server
/// and the route-versus-document test read.
pub fn endpoints() -> Vec<Endpoint> {
    let mut all = ops::endpoints();
    all.extend(spcm::endpoints());
    all.extend(catalogue::endpoints());
    all
}

/// (method, path) of every endpoint, in a stable order.
pub fn route_table() -> Vec<(Method, &'static str)> {
    let mut table: Vec<_> = endpoints().into_iter().map(|e| (e.method, e.path)).collect();
    table.sort_by(|a, b| (a.1, a.0.as_str()).cmp(&(b.1, b.0.as_str())));
    table
}

/// Registers every endpoint, one resource per path, with a JSON 405 carrying `Allow`
/// for the methods the path does not serve.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut resources: BTreeMap<&'static str, (actix_web::Resource, Vec<Method>)> = BTreeMap::new();
    for endpoint in endpoints() {
        let (resource, mut methods) =
            resources.remove(endpoint.path).unwrap_or_else(|| (web::resource(endpoint.path), Vec::new()));
        methods.push(endpoint.method);
        resources.insert(endpoint.path, (resource.route(endpoint.route), methods));
    }
    for (_, (resource, methods)) in resources {
        let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        cfg.service(resource.default_service(web::to(move || ops::method_not_allowed(allow.clone()))));
    }
}

/// The 500/503 body both faces share (contract §2): `{"message", "status": "error"}`.
pub(crate) fn server_error_body(message: &str) -> serde_json::Value {
    serde_json::json!({"message": message, "status": "error"})
}

/// The message of every 503.
pub(crate) const OVERLOAD_MESSAGE: &str = "request rejected due to overload";
