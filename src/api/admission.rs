//! Admission control: a bound on the requests handled at once. Beyond it the answer is
//! an immediate 503 with `Retry-After`, so that admitted requests keep their latency;
//! health checks and metrics are never shed. A request body that does not arrive in
//! time is cut by the body timeout (`body::read_json`), which frees its slot.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::header;
use actix_web::HttpResponse;

/// Requests being handled now, and the bound beyond which they are shed.
#[derive(Debug)]
pub struct Admission {
    in_flight: AtomicUsize,
    max_in_flight: usize,
}

impl Admission {
    pub fn new(max_in_flight: usize) -> Admission {
        Admission { in_flight: AtomicUsize::new(0), max_in_flight: max_in_flight.max(1) }
    }

    /// Requests being handled now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// A slot, or `None` when the bound is reached.
    pub fn enter(&self) -> Option<Slot<'_>> {
        let previous = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(self);
        (previous < self.max_in_flight).then_some(slot)
    }
}

/// Holds one of the in-flight slots until dropped (also when the request is cancelled).
pub struct Slot<'a>(&'a Admission);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Health checks and metrics are never shed.
pub fn is_exempt(path: &str) -> bool {
    path.starts_with("/health/") || path == "/metrics"
}

/// The answer to a request beyond the bound.
pub fn shed() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, "1"))
        .json(super::server_error_body(super::OVERLOAD_MESSAGE))
}
