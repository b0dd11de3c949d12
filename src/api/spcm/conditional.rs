//! ETags and conditional requests of the SPCM face: a profile's ETag is its revision,
//! a listing's is the tenant's data version (it changes whenever the listing can).

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpRequest;

/// Entity tags read from one request header, at most; the rest are ignored.
const MAX_TAGS: usize = 64;

/// `"<revision>"`.
pub fn profile_etag(revision: i64) -> HeaderValue {
    quoted(revision.to_string())
}

/// `"v<version>"`: a listing's ETag, from the tenant's data version.
pub fn listing_etag(version: i64) -> HeaderValue {
    quoted(format!("v{version}"))
}

/// `"<text>"`; the texts above are letters and digits, always a valid header value.
fn quoted(text: String) -> HeaderValue {
    HeaderValue::try_from(format!("\"{text}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// The entity tags of every `name` header line, `*` included, in order.
fn tags<'a>(req: &'a HttpRequest, name: &header::HeaderName) -> impl Iterator<Item = &'a str> {
    req.headers()
        .get_all(name)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .take(MAX_TAGS)
}

/// Whether `If-None-Match` names `etag` (weak comparison) or is `*`: the GET is a 304.
pub fn not_modified(req: &HttpRequest, etag: &HeaderValue) -> bool {
    let etag = etag.as_bytes();
    tags(req, &header::IF_NONE_MATCH).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == etag)
}

/// The revisions `If-Match` allows: `None` without the header or with `*` (any existing
/// profile); otherwise the revisions of its strong tags, so that a weak or foreign tag
/// matches nothing (an empty list).
pub fn if_match(req: &HttpRequest) -> Option<Vec<i64>> {
    let mut revisions = Vec::new();
    let mut present = false;
    for tag in tags(req, &header::IF_MATCH) {
        present = true;
        if tag == "*" {
            return None;
        }
        let revision = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).and_then(|t| t.parse::<i64>().ok());
        revisions.extend(revision);
    }
    present.then_some(revisions)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn if_match_reads_strong_revision_tags() {
        let cases: [(&[&str], Option<Vec<i64>>); 7] = [
            (&[], None),
            (&["*"], None),
            (&["\"3\""], Some(vec![3])),
            (&["\"3\", \"5\""], Some(vec![3, 5])),
            (&["\"3\"", "\"4\""], Some(vec![3, 4])),
            (&["W/\"3\""], Some(vec![])),
            (&["3, \"x\""], Some(vec![])),
        ];
        for (lines, expected) in cases {
            let mut req = TestRequest::default();
            for line in lines {
                req = req.append_header((header::IF_MATCH, *line));
            }
            assert_eq!(if_match(&req.to_http_request()), expected, "{lines:?}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = profile_etag(7);
        assert_eq!(etag, "\"7\"");
        for (line, expected) in
            [("\"7\"", true), ("W/\"7\"", true), ("\"6\", \"7\"", true), ("*", true), ("\"8\"", false)]
        {
            let req = TestRequest::default().insert_header((header::IF_NONE_MATCH, line)).to_http_request();
            assert_eq!(not_modified(&req, &etag), expected, "{line}");
        }
        let req = TestRequest::default().to_http_request();
        assert!(!not_modified(&req, &etag), "no header, no 304");
    }
}
