//! The SPCM face's error bodies, exactly as the contract's table (§2) shows them.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::api::body::BodyError;
use crate::api::failure::ServerFailure;
use crate::api::idempotency::Refusal;
use crate::auth::{AuthError, Permission};
use crate::domain::FieldError;
use crate::store::profiles::ProfileWriteError;
use crate::store::StoreError;

/// The SPCM API's error body: what is wrong, and a code (the HTTP status, or a business
/// rule's own code on a 422).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SpcmErrorBody, xml(name = "error"), example = json!({"message": "provisioning profile 42 not found", "errorCode": 404}))]
pub struct ErrorBody {
    pub message: String,
    pub error_code: u32,
}

pub use crate::api::{ServerError, ValidationFailed};

/// The error answers every SPCM operation can give. Each operation adds its own 403,
/// which names the permission it needs, and those of [`ProfileNotFound`] and
/// [`BodyErrors`] where they apply.
#[derive(IntoResponses)]
pub enum SpcmErrors {
    /// The request is malformed: credentials without a `tenant` header, an id that is not
    /// an integer, a bad query parameter, a malformed `If-Match` or `If-None-Match`, or a
    /// body that cannot be read. The message says which.
    #[response(status = 400, example = json!({"message": "the tenant header is required", "errorCode": 400}))]
    BadRequest(ErrorBody),
    /// No or malformed `Authorization`; an unknown tenant, a user not in it or a wrong password.
    #[response(
        status = 401,
        headers(("WWW-Authenticate" = String, description = "`Basic realm=\"spcm\"`")),
        example = json!({"message": "unauthorised; bad username or password", "errorCode": 401})
    )]
    Unauthorized(ErrorBody),
    /// `Accept` names no representation the service has (this answer is always JSON).
    #[response(status = 406, example = json!({"message": "no acceptable representation; accept application/hal+json, application/json, application/xml or text/xml", "errorCode": 406}))]
    NotAcceptable(ErrorBody),
    /// Too many failed sign-ins from this address, for this tenant and username or in all;
    /// or the tenant already runs as many expensive requests at once as allowed (listings
    /// without `limit`, batches, pages of changes), and this one must wait its turn.
    #[response(
        status = 429,
        headers(("Retry-After" = String, description = "Seconds until a retry may succeed")),
        example = json!({"message": "too many failed sign-ins; retry later", "errorCode": 429})
    )]
    TooManySignIns(ErrorBody),
    /// Unexpected failure; the reason names no internals.
    #[response(status = 500, example = json!({"message": "Internal server error - [database error]", "status": "error"}))]
    Internal(ServerError),
    /// Overload: the request could not get a database connection or a slot in time.
    #[response(
        status = 503,
        headers(("Retry-After" = String, description = "Seconds to wait before retrying")),
        example = json!({"message": "request rejected due to overload", "status": "error"})
    )]
    Overloaded(ServerError),
}

/// The answer of an operation on one profile that the tenant does not have.
#[derive(IntoResponses)]
pub enum ProfileNotFound {
    /// No such profile in this tenant.
    #[response(status = 404, example = json!({"message": "provisioning profile 42 not found", "errorCode": 404}))]
    NotFound(ErrorBody),
}

/// The answers of an operation that reads a request body, about the body itself.
#[derive(IntoResponses)]
pub enum BodyErrors {
    /// The body did not arrive within the body timeout; the connection is closed.
    #[response(status = 408, example = json!({"message": "the request body did not arrive within 10 seconds", "errorCode": 408}))]
    RequestTimeout(ErrorBody),
    /// The body is larger than the limit (1 MiB unless configured otherwise).
    #[response(status = 413, example = json!({"message": "request body is larger than the limit of 1048576 bytes", "errorCode": 413}))]
    PayloadTooLarge(ErrorBody),
    /// The body's content type is neither JSON nor XML.
    #[response(status = 415, example = json!({"message": "content type 'text/plain' is not supported; send application/json, application/hal+json or application/xml", "errorCode": 415}))]
    UnsupportedMediaType(ErrorBody),
}

#[derive(Debug, thiserror::Error)]
pub enum SpcmError {
    #[error("unauthorised")]
    Unauthorized,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("forbidden: {0}")]
    Forbidden(Permission),
    #[error("request body over {0} bytes")]
    PayloadTooLarge(usize),
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("provisioning profile {0} not found")]
    NotFound(i64),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("business rule {code}: {message}")]
    Rule { code: u32, message: String },
    #[error("too many failed sign-ins")]
    TooManySignIns(std::time::Duration),
    #[error("no acceptable representation")]
    NotAcceptable,
    #[error(transparent)]
    Server(#[from] ServerFailure),
}

/// Every error body of the face: one typed value that both the error response and a
/// 207 item render from.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SpcmErrorBody {
    Message(ErrorBody),
    Validation(ValidationFailed),
    Server(ServerError),
}

impl SpcmError {
    /// The body, without the HTTP envelope; a 207 item embeds it.
    pub fn body(&self) -> SpcmErrorBody {
        let message = |message: String, error_code: u32| SpcmErrorBody::Message(ErrorBody { message, error_code });
        match self {
            SpcmError::Unauthorized => message("unauthorised; bad username or password".into(), 401),
            SpcmError::BadRequest(what) => message(what.clone(), 400),
            SpcmError::Forbidden(permission) => message(format!("forbidden; missing {permission}"), 403),
            SpcmError::PayloadTooLarge(limit) => {
                message(format!("request body is larger than the limit of {limit} bytes"), 413)
            }
            SpcmError::UnsupportedMediaType(given) => message(
                format!("content type '{given}' is not supported; send application/json, application/hal+json or application/xml"),
                415,
            ),
            SpcmError::Validation(errors) => SpcmErrorBody::Validation(ValidationFailed { errors: errors.clone() }),
            SpcmError::NotFound(id) => message(format!("provisioning profile {id} not found"), 404),
            SpcmError::Conflict(what) => message(what.clone(), 409),
            SpcmError::Rule { code, message: text } => message(text.clone(), *code),
            SpcmError::TooManySignIns(_) => message("too many failed sign-ins; retry later".into(), 429),
            SpcmError::NotAcceptable => message(
                "no acceptable representation; accept application/hal+json, application/json, application/xml or text/xml"
                    .into(),
                406,
            ),
            SpcmError::Server(failure) => match (failure, failure.server_error()) {
                (_, Some(body)) => SpcmErrorBody::Server(body),
                (ServerFailure::RequestTimeout(limit), None) => {
                    message(format!("the request body did not arrive within {} seconds", limit.as_secs().max(1)), 408)
                }
                (_, None) => message(
                    "this tenant already runs as many expensive requests (listings without limit, batches, pages of changes) as allowed at once; retry later".into(),
                    429,
                ),
            },
        }
    }
}

impl From<Refusal> for SpcmError {
    fn from(refusal: Refusal) -> Self {
        let message = refusal.message().to_owned();
        match refusal {
            Refusal::Malformed => SpcmError::BadRequest(message),
            Refusal::Running => SpcmError::Conflict(message),
            Refusal::OtherRequest => SpcmError::Rule { code: 422, message },
        }
    }
}

impl ResponseError for SpcmError {
    fn status_code(&self) -> StatusCode {
        match self {
            SpcmError::Unauthorized => StatusCode::UNAUTHORIZED,
            SpcmError::BadRequest(_) => StatusCode::BAD_REQUEST,
            SpcmError::Forbidden(_) => StatusCode::FORBIDDEN,
            SpcmError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            SpcmError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            SpcmError::Validation(_) => StatusCode::PRECONDITION_FAILED,
            SpcmError::NotFound(_) => StatusCode::NOT_FOUND,
            SpcmError::Conflict(_) => StatusCode::CONFLICT,
            SpcmError::Rule { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            SpcmError::TooManySignIns(_) => StatusCode::TOO_MANY_REQUESTS,
            SpcmError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            SpcmError::Server(failure) => failure.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            SpcmError::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="spcm""#));
            }
            SpcmError::TooManySignIns(wait) => {
                response.insert_header((header::RETRY_AFTER, crate::api::retry_after_seconds(*wait)));
            }
            SpcmError::Server(failure) => failure.prepare(&mut response),
            _ => {}
        }
        response.json(self.body())
    }
}

impl From<BodyError> for SpcmError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge(limit) => SpcmError::PayloadTooLarge(limit),
            BodyError::UnsupportedType(given) => SpcmError::UnsupportedMediaType(given),
            BodyError::Malformed(why) => SpcmError::BadRequest(why),
            BodyError::TimedOut(limit) => ServerFailure::RequestTimeout(limit).into(),
            BodyError::Refused { path, description } => SpcmError::BadRequest(format!("{description} (at {path})")),
        }
    }
}

impl From<StoreError> for SpcmError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unauthorized => SpcmError::Unauthorized,
            StoreError::UniqueViolation(_) => {
                SpcmError::Conflict("conflict with an existing provisioning profile".into())
            }
            err => ServerFailure::of_store(err).into(),
        }
    }
}

impl From<AuthError> for SpcmError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::BadCredentials => SpcmError::Unauthorized,
            AuthError::Store(store) => store.into(),
        }
    }
}

impl From<ProfileWriteError> for SpcmError {
    fn from(err: ProfileWriteError) -> Self {
        match err {
            ProfileWriteError::NotFound(id) => SpcmError::NotFound(id),
            ProfileWriteError::NameTaken(name) => SpcmError::Conflict(format!("name '{name}' already exists")),
            ProfileWriteError::Referenced(id, bundled_product) => SpcmError::Conflict(format!(
                "provisioning profile {id} is used by bundled product '{bundled_product}' of the catalogue"
            )),
            ProfileWriteError::Stale(id, _) => SpcmError::Validation(vec![FieldError::new(
                "If-Match",
                format!("provisioning profile {id} has changed since; read it again for its current ETag"),
            )]),
            ProfileWriteError::Rule(rule, id) => SpcmError::Rule { code: rule.code(), message: rule.message(id) },
            ProfileWriteError::Store(store) => store.into(),
        }
    }
}

impl From<crate::api::fair_share::Busy> for SpcmError {
    fn from(busy: crate::api::fair_share::Busy) -> Self {
        ServerFailure::from(busy).into()
    }
}
