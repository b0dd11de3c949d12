//! Structured logs and the per-request context: request id, access log line.

mod sink;

pub use sink::LogGuard;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::api::AppState;
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the JSON log subscriber on stderr (`RUST_LOG` filters, default `info`).
/// The returned guard flushes the log writer when dropped: keep it alive.
pub fn init(default_level: &str) -> std::io::Result<LogGuard> {
    let (writer, guard) = sink::LogSink::start(std::io::stderr())?;
    // actix-http reports every malformed request from a client at ERROR ("stream
    // error"); it answers them 400 itself, and anyone could fill the log with them.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},actix_http::h1::dispatcher=off")));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init();
    Ok(guard)
}

/// The caller's request id when it is sane (printable ASCII, at most 128 bytes), else a new one.
fn request_id(req: &ServiceRequest) -> HeaderValue {
    req.headers()
        .get(&REQUEST_ID)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.as_bytes().iter().all(|b| b.is_ascii_graphic()))
        .cloned()
        .unwrap_or_else(|| {
            // A v4 UUID from the thread's CSPRNG: no system call per request.
            let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
            let mut text = uuid::Uuid::encode_buffer();
            HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut text)).unwrap_or(HeaderValue::from_static("-"))
        })
}

tokio::task_local! {
    /// The id of the request this task serves, for log lines written while serving it.
    static CURRENT_REQUEST_ID: HeaderValue;
}

/// The request id of the request being served, or `-` outside one.
pub fn current_request_id() -> String {
    CURRENT_REQUEST_ID.try_with(|id| id.to_str().unwrap_or("-").to_owned()).unwrap_or_else(|_| "-".to_owned())
}

/// Gives every request a request id (echoed in `X-Request-Id`, and in every log line
/// written while serving it: see `current_request_id`) and one access log line.
/// Credentials are never logged: only method, path, status and timing.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let started = Instant::now();
    let mut response = CURRENT_REQUEST_ID.scope(id.clone(), next.call(req)).await?;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let request = response.request();
    if let Some(state) = request.app_data::<web::Data<AppState>>() {
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        let method = crate::metrics::method_label(request.method());
        state.metrics.observe(method, &route, status, elapsed.as_secs_f64());
    }
    let (method, path, micros) = (request.method().as_str(), request.path(), elapsed.as_micros() as u64);
    let request_id = id.to_str().unwrap_or("-");
    if status >= 500 {
        tracing::warn!(request_id, method, path, status, micros, "request failed");
    } else {
        tracing::info!(request_id, method, path, status, micros, "request");
    }
    response.headers_mut().insert(REQUEST_ID, id);
    Ok(response)
}
