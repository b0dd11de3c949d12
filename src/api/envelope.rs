//! What every request goes through, in one middleware: its id, access log line and
//! metrics (`telemetry`), the bound on requests handled at once (`admission`), on the
//! SPCM face the representation the client asked for (`negotiation`), and on both faces
//! the headers that keep HTTP caches from mixing callers up. One layer instead of three
//! saves each request two boxed futures and two service calls.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use super::{admission, catalogue, negotiation, AppState};
use crate::telemetry::RequestContext;

/// The response body: the handler's, or one this layer wrote (a 503 when shed, XML).
type Body<B> = EitherBody<EitherBody<B>>;

pub async fn envelope<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<Body<B>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().map(|state| state.clone().into_inner());
    let context = RequestContext::start(&req);
    let mut response = context.scope(answer(state.as_deref(), req, next)).await?;
    context.finish(state.as_deref().map(|state| &*state.metrics), &mut response);
    Ok(response)
}

/// The answer, once admitted (a 503 beyond the bound), in the representation asked for.
async fn answer<B: MessageBody + 'static>(
    state: Option<&AppState>,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<Body<B>>, actix_web::Error> {
    let negotiated = req.path().starts_with(negotiation::NEGOTIATED_PREFIX);
    let vary = private_vary(req.path());
    let bounded = state.filter(|_| !admission::is_exempt(req.path()));
    let slot = bounded.map(|state| state.admission.enter());
    let response = match slot {
        Some(None) => req.into_response(admission::shed()).map_into_right_body(),
        _ if catalogue::owns(req.path()) && !negotiation::accepts_plain_json(accept(&req)) => {
            req.into_response(catalogue::not_acceptable()).map_into_right_body()
        }
        _ => next.call(req).await?.map_into_left_body(),
    };
    drop(slot);
    let mut response = if negotiated { negotiation::represent(response).await? } else { response.map_into_left_body() };
    if let Some(vary) = vary {
        keep_private(response.headers_mut(), vary);
    }
    Ok(response)
}

fn accept(req: &ServiceRequest) -> Option<&str> {
    req.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok())
}

/// The request headers an answer of a face depends on; `None` off the faces (health,
/// metrics, documents and the console, which sets its own `Cache-Control`).
fn private_vary(path: &str) -> Option<&'static str> {
    if path.starts_with(negotiation::NEGOTIATED_PREFIX) {
        Some("Accept, Authorization, tenant")
    } else if catalogue::owns(path) {
        Some("Accept, Authorization")
    } else {
        None
    }
}

/// Contract §2.1 "Caches": every answer of a face, errors and 304s included, depends on
/// the caller, so no cache may hand it to another caller, nor reuse it unchecked.
/// `Vary` is added to what the answer already names, never put in its place.
fn keep_private(headers: &mut HeaderMap, vary: &'static str) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.append(header::VARY, HeaderValue::from_static(vary));
}
