//! The HTTP faces. Each face owns its DTOs and error shapes; all of them share the
//! application state and the store.

pub mod admission;
pub(crate) mod body;
pub mod catalogue;
pub mod cors;
pub mod envelope;
pub mod failure;
pub mod fair_share;
pub mod idempotency;
pub mod json;
pub mod negotiation;
pub mod openapi;
pub mod ops;
pub mod query;
pub mod spcm;
pub mod xml;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::{guard, web, Route};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::catalogue::CatalogueCache;
use crate::api::spcm::ReadCache;
use crate::auth::{LoginCache, PasswordChecks, SignInGuard};
use crate::store::{DbPool, VersionChecker};

/// What every handler can reach, built once in `startup`.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// Logins whose password passed argon2 (bounded).
    pub logins: Arc<LoginCache>,
    /// Argon2 runs, on a bounded number of threads.
    pub passwords: Arc<PasswordChecks>,
    /// Failed sign-ins per account and per address.
    pub sign_ins: Arc<SignInGuard>,
    /// Repeated SPCM reads answered from memory while the tenant's version stands.
    pub reads: Arc<ReadCache>,
    pub versions: Arc<VersionChecker>,
    pub catalogues: Arc<CatalogueCache>,
    /// Encoded catalogue views, per catalogue version.
    pub view_answers: Arc<catalogue::ViewAnswers>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Requests being handled now, and the bound beyond which they are shed.
    pub admission: Arc<admission::Admission>,
    /// How long a request body may take to arrive (408 beyond).
    pub body_timeout: Duration,
    /// Largest accepted request body, in bytes (413 beyond).
    pub body_limit: usize,
    /// Largest accepted catalogue document, in bytes.
    pub catalogue_limit: usize,
    /// How many expensive requests each tenant runs at once.
    pub fair_share: Arc<fair_share::FairShare>,
    /// What links in answers start with: empty, or the public URL (`SPCM_PUBLIC_URL`).
    pub link_base: Arc<str>,
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

/// The route of a GET endpoint: HEAD is served by the same handler, and actix-web
/// sends its status and headers without the body.
pub fn get() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// Registers every endpoint, one resource per path, with a JSON 405 carrying `Allow`
/// for the methods the path does not serve.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut resources: BTreeMap<&'static str, (actix_web::Resource, Vec<Method>)> = BTreeMap::new();
    for endpoint in endpoints() {
        let (resource, mut methods) = resources.remove(endpoint.path).unwrap_or_else(|| {
            let resource = web::resource(endpoint.path).app_data(crate::telemetry::RouteTemplate(endpoint.path));
            (resource, Vec::new())
        });
        let is_get = endpoint.method == Method::GET;
        methods.push(endpoint.method);
        if is_get {
            methods.push(Method::HEAD);
        }
        resources.insert(endpoint.path, (resource.route(endpoint.route), methods));
    }
    for (_, (resource, methods)) in resources {
        let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        cfg.service(resource.default_service(web::to(move || ops::method_not_allowed(allow.clone()))));
    }
}

/// The 412 body: every failing field, with what is wrong with it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(xml(name = "errors"), example = json!({"errors": [{"field": "name", "description": "name is mandatory"}]}))]
pub struct ValidationFailed {
    pub errors: Vec<crate::domain::FieldError>,
}

/// The 500 and 503 body of both APIs: what went wrong, and `status` `error`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(xml(name = "error"), example = json!({"message": "request rejected due to overload", "status": "error"}))]
pub struct ServerError {
    pub message: String,
    pub status: String,
}

pub(crate) fn server_error_body(message: &str) -> ServerError {
    ServerError { message: message.to_owned(), status: "error".to_owned() }
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
pub(crate) fn retry_after_seconds(wait: Duration) -> String {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1).to_string()
}

/// The message of every 503.
pub(crate) const OVERLOAD_MESSAGE: &str = "request rejected due to overload";
