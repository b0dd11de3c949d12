//! `Idempotency-Key` on the writes a client may retry after a timeout (contract §2.2): a
//! `POST` of one profile or a batch, and a catalogue import. The first request with a key
//! is processed and its answer kept; a retry from the same caller with the same key and
//! the same request, within a day, gets the same status, headers and body, and writes
//! nothing. The same key with another request is 422; while the first still runs, 409.

use actix_web::body::MessageBody;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::AppState;
use crate::store::idempotency::{self, Begun};
use crate::store::{run_db, StoreError};

pub const HEADER: &str = "idempotency-key";

/// The headers of an answer that a retry gets again.
const KEPT_HEADERS: [HeaderName; 4] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG, header::RETRY_AFTER];

/// Who sends the key: keys of different callers never meet.
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    User(i64),
    Token(i64),
}

/// Why a keyed request is not processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The header is not 1 to 255 visible ASCII characters: 400.
    Malformed,
    /// The first request with the key is still being processed: 409.
    Running,
    /// The key came with another request: 422.
    OtherRequest,
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Malformed => StatusCode::BAD_REQUEST,
            Refusal::Running => StatusCode::CONFLICT,
            Refusal::OtherRequest => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            Refusal::Malformed => "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
            Refusal::Running => "a request with this Idempotency-Key is still being processed; retry later",
            Refusal::OtherRequest => {
                "this Idempotency-Key was used with another request; use a new key for a new request"
            }
        }
    }
}

/// A keyed request: where its key is kept and what it asks.
pub struct Keyed {
    tenant_id: i64,
    scope_hash: String,
    request_hash: String,
}

impl Keyed {
    /// The request's key, `None` without the header.
    pub fn of(req: &HttpRequest, tenant_id: i64, caller: Caller, body: &[u8]) -> Result<Option<Keyed>, Refusal> {
        let mut keys = req.headers().get_all(HEADER);
        let Some(key) = keys.next() else { return Ok(None) };
        let key = key.as_bytes();
        if keys.next().is_some() || key.is_empty() || key.len() > 255 || !key.iter().all(|b| b.is_ascii_graphic()) {
            return Err(Refusal::Malformed);
        }
        let (kind, id) = match caller {
            Caller::User(id) => ("user", id),
            Caller::Token(id) => ("token", id),
        };
        let scope_hash = hex(Sha256::new().chain_update(format!("{tenant_id}\n{kind}\n{id}\n")).chain_update(key));
        let request_hash = hex(Sha256::new()
            .chain_update(req.method().as_str())
            .chain_update(b"\n")
            .chain_update(req.uri().path_and_query().map_or(req.path(), |p| p.as_str()))
            .chain_update(b"\n")
            .chain_update(body));
        Ok(Some(Keyed { tenant_id, scope_hash, request_hash }))
    }
}

fn hex(hasher: Sha256) -> String {
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A kept answer, as stored.
#[derive(Serialize, Deserialize)]
struct Kept {
    headers: Vec<(String, String)>,
    body: String,
}

/// Processes `run` once per key: without a key, it simply runs.
pub async fn once<E, F>(state: &AppState, keyed: Option<Keyed>, run: F) -> Result<HttpResponse, E>
where
    F: std::future::Future<Output = Result<HttpResponse, E>>,
    E: ResponseError + From<StoreError> + From<Refusal>,
{
    let Some(keyed) = keyed else { return run.await };
    let (tenant_id, scope, request) = (keyed.tenant_id, keyed.scope_hash.clone(), keyed.request_hash);
    let begun = run_db(&state.pool, move |conn| {
        idempotency::begin(conn, tenant_id, &scope, &request, crate::clock::unix_ms().unwrap_or(0))
    })
    .await?;
    match begun {
        Begun::First => {}
        Begun::Answered { status, answer } => return Ok(replay(status, &answer)),
        Begun::Running => return Err(Refusal::Running.into()),
        Begun::OtherRequest => return Err(Refusal::OtherRequest.into()),
    }
    let response = run.await.unwrap_or_else(|err| err.error_response());
    let status = response.status();
    let scope = keyed.scope_hash;
    // A server failure, a timeout or a 429 asks for a retry: that retry is processed.
    if status.is_server_error() || matches!(status, StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS) {
        return forget_then(state, scope, response).await;
    }
    let (head, body) = response.into_parts();
    let body = match body.try_into_bytes() {
        Ok(bytes) if std::str::from_utf8(&bytes).is_ok() => bytes,
        // Not a whole text body (no answer of these writes is): not kept, and its retry
        // is processed.
        Ok(bytes) => return forget_then(state, scope, head.set_body(bytes).map_into_boxed_body()).await,
        Err(body) => return forget_then(state, scope, head.set_body(body)).await,
    };
    let kept = Kept {
        headers: KEPT_HEADERS
            .iter()
            .filter_map(|name| Some((name.as_str().to_owned(), head.headers().get(name)?.to_str().ok()?.to_owned())))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let stored =
        serde_json::to_string(&kept).map_err(|e| StoreError::Internal(format!("cannot keep an answer: {e}")))?;
    run_db(&state.pool, move |conn| {
        idempotency::answer(conn, tenant_id, &scope, status.as_u16(), &stored, idempotency::BYTES_PER_TENANT)
    })
    .await?;
    Ok(head.set_body(body).map_into_boxed_body())
}

async fn forget_then<E: From<StoreError>>(
    state: &AppState,
    scope: String,
    response: HttpResponse,
) -> Result<HttpResponse, E> {
    run_db(&state.pool, move |conn| idempotency::forget(conn, &scope)).await?;
    Ok(response)
}

fn replay(status: u16, stored: &str) -> HttpResponse {
    let Ok(kept) = serde_json::from_str::<Kept>(stored) else {
        return HttpResponse::InternalServerError().finish();
    };
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in &kept.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
            response.insert_header((name, value));
        }
    }
    response.body(kept.body)
}
