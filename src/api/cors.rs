//! Browsers on other origins (contract §2.2): the origins of `SPCM_CORS_ORIGINS` may call
//! both faces. A preflight from one of them is 204 with the methods and request headers
//! the API takes; answers expose the headers clients read. Any other origin gets no CORS
//! header at all, so its browser keeps the answer from its page. Credentials travel in
//! `Authorization`, never in cookies, so no origin is allowed credentials mode.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::{Condition, Next};

/// What a browser may send besides the safelisted headers.
const REQUEST_HEADERS: [&str; 8] = [
    "authorization",
    "tenant",
    "content-type",
    "accept",
    "if-match",
    "if-none-match",
    "idempotency-key",
    "x-request-id",
];

/// What a page may read of an answer besides the safelisted headers.
const EXPOSED_HEADERS: [&str; 6] = ["etag", "location", "x-total-count", "x-request-id", "retry-after", "link"];

/// How long a browser may keep a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: usize = 600;

/// The CORS layer: on when `origins` names at least one origin (as browsers send it).
pub fn layer(origins: &[String]) -> Condition<Cors> {
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allowed_headers(REQUEST_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(PREFLIGHT_MAX_AGE)
        // Another origin's request is served as if it had no `Origin`, without CORS headers.
        .block_on_origin_mismatch(false);
    Condition::new(!origins.is_empty(), cors)
}

/// What the CORS layer leaves to be done: a granted preflight is answered 204 No Content
/// (the layer says 200), and an answer to a request from no allowed origin carries no
/// CORS header (the layer adds `Access-Control-Expose-Headers` to every answer).
pub async fn finish(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = next.call(req).await?;
    if res.headers().contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        if preflight && res.status() == StatusCode::OK {
            *res.response_mut().status_mut() = StatusCode::NO_CONTENT;
        }
    } else {
        res.headers_mut().remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    Ok(res)
}
