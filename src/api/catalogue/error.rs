//! The catalogue face's own error shapes (contract §3, seeds `000_*`–`003_*`).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::api::body::BodyError;
use crate::api::failure::ServerFailure;
use crate::api::idempotency::Refusal;
use crate::api::{ServerError, ValidationFailed};
use crate::auth::AuthError;
use crate::domain::catalogue::Problem;
use crate::domain::FieldError;
use crate::store::catalogue::ImportError;
use crate::store::StoreError;

/// Stable codes of the 404 body, one per kind of item.
pub mod codes {
    pub const ORG: &str = "020001";
    pub const BUNDLED_PRODUCT: &str = "020002";
    pub const COMMERCIAL_PRODUCT: &str = "020003";
    pub const BASE_PROFILE: &str = "020004";
    pub const BUNDLED_COMMERCIAL_PRODUCT: &str = "020005";
    pub const SUBSCRIPTION_TYPE: &str = "020006";
    /// A path under `/v2/` that names no operation.
    pub const PATH: &str = "020000";
}

/// The catalogue's 404 body: which kind of item was not found.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = KOGenericResponse, example = json!({"error": "Item not found", "message": "Item not found", "code": "020002"}))]
pub struct ItemNotFound {
    /// `Item not found`.
    pub error: String,
    /// `Item not found`.
    pub message: String,
    /// What was not found: `020001` the org, `020002` a bundled product, `020003` a
    /// commercial product, `020004` a base profile, `020005` a bundled commercial
    /// product, `020006` a subscription type, `020000` no such operation.
    pub code: String,
}

/// A body that is a JSON string: the catalogue's 400 and 401 answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!("Origin authentication failed."))]
pub struct JsonString(pub String);

/// The error answers every catalogue operation can give.
#[derive(IntoResponses)]
pub enum CatalogueErrors {
    /// Missing, unknown, expired or revoked token, a token of another org or one without
    /// the operation's permission.
    #[response(
        status = 401,
        headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"spcm\"`")),
        example = json!("Origin authentication failed.")
    )]
    Unauthorized(JsonString),
    /// Unknown org or item; `code` says which.
    #[response(status = 404, example = json!({"error": "Item not found", "message": "Item not found", "code": "020001"}))]
    NotFound(ItemNotFound),
    /// `Accept` does not take `application/json`, the only representation of this API.
    #[response(status = 406, example = json!("Not Acceptable"))]
    NotAcceptable(JsonString),
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

/// The answer of a view with filters to a bad filter value.
#[derive(IntoResponses)]
pub enum FilterErrors {
    /// An unknown `sale_type_name` or an empty `mysim_service_id`.
    #[response(status = 400, example = json!("Bad Request"))]
    BadRequest(JsonString),
}

/// The answer of the whole-catalogue import and export when the org already runs as
/// many of those at once as allowed.
#[derive(IntoResponses)]
pub enum TenantBusyErrors {
    /// The org already runs as many expensive requests at once as allowed (catalogue
    /// imports, exports and views not answered from memory); retry after the time given.
    #[response(
        status = 429,
        headers(("Retry-After" = String, description = "Seconds to wait before retrying")),
        example = json!("Too Many Requests")
    )]
    TooManyRequests(JsonString),
}

/// The error answers of the catalogue import, besides those of every operation.
#[derive(IntoResponses)]
pub enum ImportErrors {
    /// The body is empty or not JSON.
    #[response(status = 400, example = json!("Bad Request"))]
    BadRequest(JsonString),
    /// The document did not arrive within the body timeout; the connection is closed.
    #[response(status = 408, example = json!("Request Timeout"))]
    RequestTimeout(JsonString),
    /// The document, whole: every problem with its JSON path.
    #[response(status = 412, example = json!({"errors": [{"field": "$.bundled_products[0].provisioning_profiles[1].profile_name",
        "description": "no provisioning profile named 'ghost' in this tenant"}]}))]
    Invalid(ValidationFailed),
    /// The document is larger than the catalogue limit (64 MiB unless configured otherwise).
    #[response(status = 413, example = json!("Payload Too Large"))]
    PayloadTooLarge(JsonString),
    /// The body's content type is not JSON.
    #[response(status = 415, example = json!("Unsupported Media Type"))]
    UnsupportedMediaType(JsonString),
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("origin authentication failed")]
    Unauthorized,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("item not found ({0})")]
    NotFound(&'static str),
    #[error("request body over {0} bytes")]
    PayloadTooLarge(usize),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("invalid catalogue")]
    Invalid(Vec<Problem>),
    #[error("no acceptable representation")]
    NotAcceptable,
    #[error(transparent)]
    Server(#[from] ServerFailure),
    /// The key is being used by a request still running (409), or by another request (422).
    #[error("idempotency key: {}", .0.message())]
    Idempotency(Refusal),
}

/// Every error body of the face: one typed value that the error response renders and
/// whose parts the OpenAPI document describes.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum CatalogueErrorBody {
    Text(JsonString),
    NotFound(ItemNotFound),
    Invalid(ValidationFailed),
    Server(ServerError),
}

impl CatalogueError {
    pub fn body(&self) -> CatalogueErrorBody {
        let text = |text: &str| CatalogueErrorBody::Text(JsonString(text.to_owned()));
        match self {
            CatalogueError::Unauthorized => text("Origin authentication failed."),
            CatalogueError::BadRequest(_) => text("Bad Request"),
            CatalogueError::NotFound(code) => CatalogueErrorBody::NotFound(ItemNotFound {
                error: "Item not found".into(),
                message: "Item not found".into(),
                code: (*code).to_owned(),
            }),
            CatalogueError::PayloadTooLarge(_) => text("Payload Too Large"),
            CatalogueError::UnsupportedMediaType => text("Unsupported Media Type"),
            CatalogueError::NotAcceptable => text("Not Acceptable"),
            CatalogueError::Invalid(problems) => CatalogueErrorBody::Invalid(ValidationFailed {
                errors: problems
                    .iter()
                    .map(|(field, description)| FieldError::new(field, description.clone()))
                    .collect(),
            }),
            CatalogueError::Server(failure) => match (failure, failure.server_error()) {
                (_, Some(body)) => CatalogueErrorBody::Server(body),
                (ServerFailure::RequestTimeout(_), None) => text("Request Timeout"),
                (_, None) => text("Too Many Requests"),
            },
            CatalogueError::Idempotency(Refusal::Malformed) => text("Bad Request"),
            CatalogueError::Idempotency(Refusal::Running) => text("Conflict"),
            CatalogueError::Idempotency(Refusal::OtherRequest) => text("Unprocessable Entity"),
        }
    }
}

impl ResponseError for CatalogueError {
    fn status_code(&self) -> StatusCode {
        match self {
            CatalogueError::Unauthorized => StatusCode::UNAUTHORIZED,
            CatalogueError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CatalogueError::NotFound(_) => StatusCode::NOT_FOUND,
            CatalogueError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            CatalogueError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            CatalogueError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            CatalogueError::Invalid(_) => StatusCode::PRECONDITION_FAILED,
            CatalogueError::Server(failure) => failure.status(),
            CatalogueError::Idempotency(refusal) => refusal.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            CatalogueError::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="spcm""#));
            }
            CatalogueError::Server(failure) => failure.prepare(&mut response),
            CatalogueError::BadRequest(why) => tracing::debug!(%why, "bad catalogue request"),
            _ => {}
        }
        response.json(self.body())
    }
}

impl From<BodyError> for CatalogueError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge(limit) => CatalogueError::PayloadTooLarge(limit),
            BodyError::UnsupportedType(_) => CatalogueError::UnsupportedMediaType,
            BodyError::Malformed(why) => CatalogueError::BadRequest(why),
            BodyError::TimedOut(limit) => ServerFailure::RequestTimeout(limit).into(),
            BodyError::Refused { path, description } => CatalogueError::Invalid(vec![(path, description)]),
        }
    }
}

impl From<Refusal> for CatalogueError {
    fn from(refusal: Refusal) -> Self {
        CatalogueError::Idempotency(refusal)
    }
}

impl From<StoreError> for CatalogueError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unauthorized => CatalogueError::Unauthorized,
            err => ServerFailure::of_store(err).into(),
        }
    }
}

impl From<AuthError> for CatalogueError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::BadCredentials => CatalogueError::Unauthorized,
            AuthError::Store(store) => store.into(),
        }
    }
}

impl From<ImportError> for CatalogueError {
    fn from(err: ImportError) -> Self {
        match err {
            ImportError::Invalid(problems) => CatalogueError::Invalid(problems),
            ImportError::Store(store) => store.into(),
        }
    }
}

impl From<crate::api::fair_share::Busy> for CatalogueError {
    fn from(busy: crate::api::fair_share::Busy) -> Self {
        ServerFailure::from(busy).into()
    }
}
