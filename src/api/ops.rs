//! Operational endpoints without auth (contract §5).

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde_json::json;

use super::AppState;
use crate::store::{run_db, StoreError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live)).route("/health/ready", web::get().to(ready));
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

/// Any path that no face serves.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"message": "no such resource", "errorCode": 404}))
}
