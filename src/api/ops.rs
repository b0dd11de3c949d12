//! Operational endpoints without auth (contract §5).

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde_json::json;

use super::{AppState, Endpoint};
use crate::store::{run_db, StoreError};
use actix_web::http::Method;

pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/health/live", super::get().to(live)),
        Endpoint::new(Method::GET, "/health/ready", super::get().to(ready)),
        Endpoint::new(Method::GET, "/metrics", super::get().to(metrics)),
    ]
}

/// Health of the process or its database.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Health {
    /// `up` or `down`.
    status: String,
    /// `up` or `down` (readiness only).
    database: Option<String>,
}

/// The process answers.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "The process answers", body = Health)))]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

/// The database answers.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses((status = 200, description = "The database answers", body = Health),
        (status = 503, description = "The database does not answer", body = Health)))]
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let checked = run_db(&state.pool, |conn| conn.batch_execute("SELECT 1").map_err(StoreError::from)).await;
    match checked {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "up", "database": "up"})),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({"status": "down", "database": "down"}))
        }
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
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
        .json(json!({"message": "method not allowed", "errorCode": 405}))
}

/// Any path that no face serves.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"message": "no such resource", "errorCode": 404}))
}
