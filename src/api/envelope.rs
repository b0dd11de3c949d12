//! What every request goes through, in one middleware: its id, access log line and
//! metrics (`telemetry`), the bound on requests handled at once (`admission`) and, on
//! the SPCM face, the representation the client asked for (`negotiation`). One layer
//! instead of three saves each request two boxed futures and two service calls.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use super::{admission, negotiation, AppState};
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
    context.finish(state.as_deref(), &mut response);
    Ok(response)
}

/// The answer, once admitted (a 503 beyond the bound), in the representation asked for.
async fn answer<B: MessageBody + 'static>(
    state: Option<&AppState>,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<Body<B>>, actix_web::Error> {
    let negotiated = req.path().starts_with(negotiation::NEGOTIATED_PREFIX);
    let bounded = state.filter(|_| !admission::is_exempt(req.path()));
    let slot = bounded.map(|state| state.admission.enter());
    let response = match slot {
        Some(None) => req.into_response(admission::shed()).map_into_right_body(),
        _ => next.call(req).await?.map_into_left_body(),
    };
    drop(slot);
    if negotiated {
        negotiation::represent(response).await
    } else {
        Ok(response.map_into_left_body())
    }
}
