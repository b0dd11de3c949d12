//! Answers that say the server, not the request, is at fault or busy: the same on both
//! faces in status, `Retry-After`, connection handling and logging. A face renders the
//! body: the 500 and 503 bodies are shared ([`ServerError`]), the 408 and 429 are the
//! face's own.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponseBuilder;

use super::fair_share::{self, Busy};
use super::ServerError;
use crate::store::StoreError;

/// A failure of the server, or a request turned away until it has room.
#[derive(Debug, thiserror::Error)]
pub enum ServerFailure {
    /// The reason is shown to the client: it must hold no SQL, path or secret.
    #[error("internal error: {reason}")]
    Internal {
        /// Shown to the client: no SQL, path or secret.
        reason: &'static str,
        /// Logged with the request id, never shown.
        cause: String,
    },
    #[error("overloaded")]
    Overloaded,
    /// The tenant already runs as many expensive requests as allowed (contract §1.1).
    #[error("too many expensive requests of the tenant at once")]
    TenantBusy,
    #[error("the request body did not arrive in time")]
    RequestTimeout(Duration),
}

impl ServerFailure {
    /// The failure of a store error that is not the caller's: 503 when the database is
    /// out of reach or out of connections, 500 otherwise.
    pub fn of_store(err: StoreError) -> ServerFailure {
        if err.is_unavailable() {
            ServerFailure::Overloaded
        } else {
            ServerFailure::Internal { reason: err.public_reason(), cause: err.cause_chain() }
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ServerFailure::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ServerFailure::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            ServerFailure::TenantBusy => StatusCode::TOO_MANY_REQUESTS,
            ServerFailure::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The shared body of a 500 or 503; `None` for the answers each face words itself.
    pub fn server_error(&self) -> Option<ServerError> {
        match self {
            ServerFailure::Internal { reason, .. } => {
                Some(super::server_error_body(&format!("Internal server error - [{reason}]")))
            }
            ServerFailure::Overloaded => Some(super::server_error_body(super::OVERLOAD_MESSAGE)),
            ServerFailure::TenantBusy | ServerFailure::RequestTimeout(_) => None,
        }
    }

    /// Sets the answer's headers and connection handling, and logs an internal error.
    pub fn prepare(&self, response: &mut HttpResponseBuilder) {
        match self {
            ServerFailure::Overloaded => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            ServerFailure::TenantBusy => {
                response.insert_header((header::RETRY_AFTER, super::retry_after_seconds(fair_share::RETRY_AFTER)));
            }
            // The rest of the body may never come: the connection is not reused.
            ServerFailure::RequestTimeout(_) => {
                response.force_close();
            }
            // Logged here, inside the request's span, so the line carries the request id.
            ServerFailure::Internal { cause, .. } => {
                tracing::error!(request_id = %crate::telemetry::current_request_id(), %cause, "internal server error")
            }
        }
    }
}

impl From<Busy> for ServerFailure {
    fn from(_: Busy) -> Self {
        ServerFailure::TenantBusy
    }
}
