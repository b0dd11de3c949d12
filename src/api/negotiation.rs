//! Content negotiation of the SPCM face (contract §2.1): JSON (HAL) or XML, chosen by
//! `Accept` with its quality values; a header that accepts neither is 406.

use actix_web::body::{self, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpRequest;

/// The representations the face has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    Json,
    Xml,
}

impl Representation {
    /// Every representation, in the order of `index`.
    pub const ALL: [Representation; 2] = [Representation::Json, Representation::Xml];

    /// Its position in `ALL`.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// A name that stays the same across versions (ETags are digests of it).
    pub const fn name(self) -> &'static str {
        match self {
            Representation::Json => "json",
            Representation::Xml => "xml",
        }
    }
}

/// What the service offers, in its order of preference on a tie.
const OFFERED: [(&str, &str, Representation); 4] = [
    ("application", "hal+json", Representation::Json),
    ("application", "json", Representation::Json),
    ("application", "xml", Representation::Xml),
    ("text", "xml", Representation::Xml),
];

/// Media ranges longer than this are not read: a header is at most a few of them.
const MAX_RANGES: usize = 32;

/// The representation `accept` prefers; JSON without the header; `None` when it accepts
/// neither (406). A range's quality is that of the most specific range matching it.
pub fn negotiate(accept: Option<&str>) -> Option<Representation> {
    if accept == Some("application/hal+json") {
        return Some(Representation::Json);
    }
    best_of(accept, &OFFERED)
}

/// Whether `accept` takes `application/json`, the catalogue face's only representation.
pub fn accepts_plain_json(accept: Option<&str>) -> bool {
    best_of(accept, &OFFERED[1..2]).is_some()
}

fn best_of(accept: Option<&str>, offers: &[(&str, &str, Representation)]) -> Option<Representation> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Representation::Json);
    };
    // What nearly every JSON client sends, without parsing.
    if matches!(accept, "*/*" | "application/json") {
        return Some(Representation::Json);
    }
    let ranges: Vec<(String, String, f32)> = accept.split(',').take(MAX_RANGES).filter_map(parse_range).collect();
    let mut best: Option<(f32, Representation)> = None;
    for &(kind, subtype, offered) in offers {
        let quality = ranges
            .iter()
            .filter(|(k, s, _)| (k == "*" || k == kind) && (s == "*" || s == subtype))
            .max_by_key(|(k, s, _)| (k != "*") as u8 + (s != "*") as u8)
            .map(|(_, _, q)| *q);
        if let Some(q) = quality.filter(|q| *q > 0.0) {
            if best.is_none_or(|(b, _)| q > b) {
                best = Some((q, offered));
            }
        }
    }
    best.map(|(_, representation)| representation)
}

/// `type/subtype;q=0.5` → (type, subtype, 0.5), lower-cased; `None` when malformed.
fn parse_range(range: &str) -> Option<(String, String, f32)> {
    let mut parts = range.split(';');
    let (kind, subtype) = parts.next()?.trim().split_once('/')?;
    let mut quality = 1.0;
    for parameter in parts {
        if let Some((name, value)) = parameter.split_once('=') {
            if name.trim().eq_ignore_ascii_case("q") {
                quality = value.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q))?;
            }
        }
    }
    Some((kind.trim().to_ascii_lowercase(), subtype.trim().to_ascii_lowercase(), quality))
}

/// The representation this request asked for (`None`: none the face has).
pub fn of_request(req: &HttpRequest) -> Option<Representation> {
    negotiate(req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()))
}

/// The representation an answer to this request is sent in: JSON when `Accept` names
/// none, since that answer is the 406, in JSON.
pub fn answered_in(req: &HttpRequest) -> Representation {
    of_request(req).unwrap_or(Representation::Json)
}

/// True for a request body in XML.
pub fn is_xml(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/xml") || essence.eq_ignore_ascii_case("text/xml")
}

/// The paths whose answers are negotiated: the SPCM face.
pub const NEGOTIATED_PREFIX: &str = "/pcc/spcm";

/// An answer of the SPCM face, its body sent as XML when the client asked for XML (the
/// handlers write JSON; the 406 itself stays JSON). `envelope` names `Accept` in `Vary`.
pub async fn represent<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let is_json =
        res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("json"));
    if !is_json || of_request(res.request()) != Some(Representation::Xml) {
        return Ok(res.map_into_left_body());
    }
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = body::to_bytes(body).await.map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let mut res = head.set_body(());
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    let xml = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(value) => super::xml::to_xml(&value),
        Err(_) => bytes.to_vec(),
    };
    Ok(ServiceResponse::new(req, res.set_body(xml).map_into_boxed_body()).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_quality_wins_and_json_wins_ties() {
        use Representation::{Json, Xml};
        let cases = [
            (None, Some(Json)),
            (Some(""), Some(Json)),
            (Some("*/*"), Some(Json)),
            (Some("application/json"), Some(Json)),
            (Some("application/hal+json"), Some(Json)),
            (Some("application/xml"), Some(Xml)),
            (Some("text/xml"), Some(Xml)),
            (Some("application/json;q=0.5, application/xml"), Some(Xml)),
            (Some("application/xml;q=0.4, application/*;q=0.9"), Some(Json)),
            (Some("application/xml, */*;q=0.1"), Some(Xml)),
            (Some("text/html"), None),
            (Some("image/png, text/*;q=0"), None),
            (Some("application/json;q=0"), None),
            (Some("APPLICATION/XML"), Some(Xml)),
            (Some("*/*;q=0.5, application/json;q=0"), Some(Json)),
            (Some("*/*;q=0.5, application/*json;q=0, application/json;q=0, application/hal+json;q=0"), Some(Xml)),
        ];
        for (accept, expected) in cases {
            assert_eq!(negotiate(accept), expected, "{accept:?}");
        }
    }
}
