//! Reading a request body in the contract's order: time (408), size (413), type (415),
//! JSON (400).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde_json::Value;

use super::AppState;
use crate::api::json::{self, JsonError};

/// Why a body was refused; each face renders it in its own shape.
#[derive(Debug)]
pub enum BodyError {
    TooLarge(usize),
    UnsupportedType(String),
    /// Unreadable, empty or not JSON: the message says which.
    Malformed(String),
    /// JSON refused where it stands: a key twice in one object, or nested too deep.
    Refused {
        path: String,
        description: String,
    },
    /// The body did not arrive within the body timeout (contract §1.1: 408).
    TimedOut(Duration),
}

/// How long a body may take to arrive when the service sets no timeout of its own.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the whole body of the SPCM face, JSON or XML, as the JSON it stands for, on the
/// calling thread: for small bodies.
pub async fn read_json(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Value, BodyError> {
    Ok(read_json_keeping(req, payload, limit).await?.0)
}

/// As `read_json`, with the bytes as they came (an idempotency key names them).
pub async fn read_json_keeping(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<(Value, web::Bytes), BodyError> {
    let xml = content_type(req).is_some_and(super::negotiation::is_xml);
    let body = read_body_of(req, payload, limit, xml).await?;
    let value = if xml {
        super::xml::from_xml(&body).map_err(|refused| BodyError::Malformed(refused.to_string()))?
    } else {
        parse_json(&body)?
    };
    Ok((value, body))
}

fn content_type(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// Strict JSON (contract §1.1): a duplicate key or deep nesting is refused with its path.
pub fn parse_json(body: &[u8]) -> Result<Value, BodyError> {
    json::from_slice(body).map_err(|err| match err {
        JsonError::Syntax(why) => BodyError::Malformed(format!("the request body is not valid JSON: {why}")),
        JsonError::Refused { path, description } => BodyError::Refused { path, description },
    })
}

/// Reads the whole body, refusing more than `limit` bytes without buffering them, and
/// a body that has not arrived within the service's body timeout. JSON only.
pub async fn read_body(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<web::Bytes, BodyError> {
    read_body_of(req, payload, limit, false).await
}

async fn read_body_of(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    xml: bool,
) -> Result<web::Bytes, BodyError> {
    let timeout = req.app_data::<web::Data<AppState>>().map_or(DEFAULT_BODY_TIMEOUT, |state| state.body_timeout);
    let body = tokio::time::timeout(timeout, read_bytes(req, payload, limit))
        .await
        .map_err(|_| BodyError::TimedOut(timeout))??;
    if !xml {
        check_content_type(req)?;
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyError::Malformed("the request body is empty; send a JSON object or array (or its XML)".into()));
    }
    Ok(body.freeze())
}

async fn read_bytes(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, BodyError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| BodyError::Malformed(format!("cannot read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// JSON or HAL+JSON, with any parameters; a request without a content type is read as JSON.
fn check_content_type(req: &HttpRequest) -> Result<(), BodyError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let given = value.to_str().unwrap_or("(not text)");
    let essence = given.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") || essence.eq_ignore_ascii_case("application/hal+json") {
        Ok(())
    } else {
        Err(BodyError::UnsupportedType(given.chars().take(100).collect()))
    }
}
