//! Operational endpoints without auth (contract §5).

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde_json::json;

use super::{AppState, Endpoint};
use crate::store::{run_db, StoreError};
use actix_web::http::Method;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/health/live", web::get().to(live)),
        Endpoint::new(Method::GET, "/health/ready", web::get().to(ready)),
    ]
}

/// The process answers.
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

/// The database answers.
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

/// A method that the path does not serve.
pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed().json(json!({"message": "method not allowed", "errorCode": 405}))
}

/// Any path that no face serves.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"message": "no such resource", "errorCode": 404}))
}
