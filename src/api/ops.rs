//! Operational endpoints without auth: the index, health, metrics.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::connection::SimpleConnection;

use super::spcm::ErrorBody;
use super::{AppState, Endpoint};
use crate::store::{run_db, StoreError};
use actix_web::http::Method;

pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/", super::get().to(index)),
        Endpoint::new(Method::GET, "/health/live", super::get().to(live)),
        Endpoint::new(Method::GET, "/health/ready", super::get().to(ready)),
        Endpoint::new(Method::GET, "/metrics", super::get().to(metrics)),
    ]
}

/// The service's documents and health checks, by path.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// `spcm`.
    service: String,
    /// The running version.
    version: String,
    /// Swagger UI: try every operation from a browser.
    swagger_ui: String,
    /// The OpenAPI 3.1 document of both faces.
    openapi: String,
    /// 200 while the process answers.
    health_live: String,
    /// 200 while the database answers, 503 otherwise.
    health_ready: String,
    /// Prometheus metrics.
    metrics: String,
}

const SWAGGER_UI: &str = "/swagger-ui/";
const OPENAPI: &str = "/api-docs/openapi.json";
const HEALTH_LIVE: &str = "/health/live";
const HEALTH_READY: &str = "/health/ready";
const METRICS: &str = "/metrics";

/// The index's links, as the HTML page lists them.
const LINKS: [(&str, &str); 5] = [
    (SWAGGER_UI, "Swagger UI"),
    (OPENAPI, "OpenAPI document"),
    (HEALTH_LIVE, "liveness"),
    (HEALTH_READY, "readiness (the database answers)"),
    (METRICS, "Prometheus metrics"),
];

impl Index {
    fn of_this_build() -> Index {
        Index {
            service: "spcm".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            swagger_ui: SWAGGER_UI.into(),
            openapi: OPENAPI.into(),
            health_live: HEALTH_LIVE.into(),
            health_ready: HEALTH_READY.into(),
            metrics: METRICS.into(),
        }
    }
}

/// Find the API documents and the health checks.
///
/// Returns the paths of Swagger UI, the OpenAPI document, the health checks and the
/// metrics, with the running version. A browser (a client that accepts `text/html`)
/// gets a small HTML page with the same links. No credentials needed.
#[utoipa::path(get, path = "/", tag = "operations",
    responses((status = 200, description = "Links to Swagger UI, the OpenAPI document, health and metrics",
        content((Index = "application/json", example = json!({
            "service": "spcm", "version": "0.1.0", "swaggerUi": "/swagger-ui/", "openapi": "/api-docs/openapi.json",
            "healthLive": "/health/live", "healthReady": "/health/ready", "metrics": "/metrics"})),
            (String = "text/html"))),
        (status = 503, description = "Overload: too many requests are being handled; retry later",
            body = super::ServerError, headers(("Retry-After" = String, description = "Seconds to wait before retrying")),
            example = json!({"message": "request rejected due to overload", "status": "error"}))),
    security())]
async fn index(req: HttpRequest) -> HttpResponse {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        let items: String =
            LINKS.iter().map(|(path, what)| format!("<li><a href=\"{path}\">{path}</a>: {what}</li>")).collect();
        let page = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>spcm</title></head>\
             <body><h1>spcm {}</h1><ul>{items}</ul></body></html>\n",
            env!("CARGO_PKG_VERSION")
        );
        return HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page);
    }
    HttpResponse::Ok().json(Index::of_this_build())
}

/// Health of the process or its database.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `up` or `down`.
    status: String,
    /// `up` or `down` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    database: Option<String>,
}

impl Health {
    fn of_process() -> Health {
        Health { status: "up".into(), database: None }
    }

    fn of_database(up: bool) -> Health {
        let state = if up { "up" } else { "down" };
        Health { status: state.into(), database: Some(state.into()) }
    }
}

/// Check that the service is alive.
///
/// Answers 200 as long as the process serves requests, whatever the state of its
/// database: a liveness probe. Never refused for overload; no credentials needed.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "The process answers", body = Health,
        example = json!({"status": "up"}))),
    security())]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health::of_process())
}

/// Check that the service is ready to serve.
///
/// Answers 200 when the database answers, 503 when it does not: a readiness probe, for a
/// load balancer to send requests only to instances that can serve them. Never refused
/// for overload; no credentials needed.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses((status = 200, description = "The database answers", body = Health,
            example = json!({"status": "up", "database": "up"})),
        (status = 503, description = "The database does not answer", body = Health,
            example = json!({"status": "down", "database": "down"}))),
    security())]
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let checked = run_db(&state.pool, |conn| conn.batch_execute("SELECT 1").map_err(StoreError::from)).await;
    match checked {
        Ok(()) => HttpResponse::Ok().json(Health::of_database(true)),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(Health::of_database(false))
        }
    }
}

/// Read the service's metrics.
///
/// Returns the metrics in the Prometheus text format: requests by route, method and
/// status, their latency, the database pool's use, caches and sign-in failures. Never
/// refused for overload; no credentials needed.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        (status = 500, description = "The metrics could not be rendered")),
    security())]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    match state.metrics.render() {
        Ok(text) => HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// A method that the path does not serve; `allow` lists the ones it does.
pub async fn method_not_allowed(allow: String) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((actix_web::http::header::ALLOW, allow))
        .json(ErrorBody { message: "method not allowed".into(), error_code: 405 })
}

/// Any path that no operation serves: the catalogue face's 404 under `/v2/`, the
/// SPCM-style one elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if super::catalogue::owns(req.path()) {
        return super::catalogue::unknown_path();
    }
    HttpResponse::NotFound().json(ErrorBody { message: "no such resource".into(), error_code: 404 })
}
