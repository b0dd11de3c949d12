//! Reading a console form: `application/x-www-form-urlencoded`, small, in time, every
//! field bounded.

use actix_web::http::{header, StatusCode};
use actix_web::{dev, web, HttpRequest};
use futures_util::StreamExt;

use super::error::ConsoleError;
use crate::api::AppState;

/// No console form is larger.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// No field of a console form is longer, in characters; the domain bounds most of them
/// far below (a profile name, 100).
pub const MAX_FIELD_CHARS: usize = 1024;

/// The fields of a submitted form, in order.
#[derive(Debug, Default)]
pub struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Every value of `name` (checkboxes of one group).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str()).collect()
    }

    /// A checkbox: present means ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn token(&self) -> Option<&str> {
        self.get("csrf")
    }
}

fn too_large() -> ConsoleError {
    ConsoleError::refused(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Form too large",
        format!(
            "A console form holds at most {MAX_FORM_BYTES} bytes, and each field at most {MAX_FIELD_CHARS} characters."
        ),
    )
}

/// Whether the browser says the form was posted from another site (`Sec-Fetch-Site`):
/// such a form is refused whatever it carries, the sign-in form included, so that no
/// other site can sign a browser in to an account of its choosing.
fn from_another_site(req: &HttpRequest) -> bool {
    let site = req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok());
    site.is_some_and(|site| site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site"))
}

/// Reads the form, refusing one posted from another site (403), too large (413), late
/// (408) or not a form (415).
pub async fn read(req: &HttpRequest, mut payload: dev::Payload, state: &AppState) -> Result<Form, ConsoleError> {
    if from_another_site(req) {
        return Err(ConsoleError::refused(
            StatusCode::FORBIDDEN,
            "Form from another site",
            "This form was sent from another site. Use the console's own pages.",
        ));
    }
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    if essence.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(ConsoleError::refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Not a form",
            "The console takes forms sent as application/x-www-form-urlencoded.",
        ));
    }
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_FORM_BYTES) {
        return Err(too_large());
    }
    let reading = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| {
                ConsoleError::refused(StatusCode::BAD_REQUEST, "Form unreadable", "The form could not be read.")
            })?;
            if body.len() + chunk.len() > MAX_FORM_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    let body = tokio::time::timeout(state.body_timeout, reading).await.map_err(|_| {
        ConsoleError::refused(StatusCode::REQUEST_TIMEOUT, "Form too slow", "The form did not arrive in time.")
    })??;
    let fields: Vec<(String, String)> =
        form_urlencoded::parse(&body).map(|(key, value)| (key.into_owned(), value.into_owned())).collect();
    if fields.iter().any(|(key, value)| key.len() > 64 || value.chars().count() > MAX_FIELD_CHARS) {
        return Err(too_large());
    }
    Ok(Form { fields })
}

/// The query string's first value of `name`.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}
