//! ETags and conditional requests of the SPCM face (contract §2.1 "ETags").
//!
//! A tag is a digest of what the answer shows: the tenant, the representation, the
//! entity (one profile, or the listing with its query) and its state (the profile's
//! revision, the tenant's data version). So two answers that can differ never share a
//! tag, a client cannot read a revision out of one, and every instance sharing the
//! database gives the same tag for the same answer.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use super::SpcmError;
use crate::api::negotiation::Representation;
use crate::store::profiles::RevisionCondition;

/// Names what the digest covers; a change of that (say, a field added to every answer)
/// changes it, so that tags of the old answers stop matching.
const TAG_FORMAT: &[u8] = b"spcm-etag-1\0";

/// Bytes of the digest a tag keeps: 128 bits, so that no two answers share one.
const TAG_BYTES: usize = 16;

/// The strong ETags of one state of one entity, one per representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTags([HeaderValue; Representation::ALL.len()]);

impl EntityTags {
    /// Profile `id` at `revision`.
    pub fn profile(tenant_id: i64, id: i64, revision: i64) -> EntityTags {
        EntityTags::of(tenant_id, b'p', id.to_string().as_bytes(), revision)
    }

    /// A listing at the tenant's data `version`; `path_and_query` names its filters and
    /// page as asked for (the same content asked for another way gets another tag).
    pub fn listing(tenant_id: i64, path_and_query: &str, version: i64) -> EntityTags {
        EntityTags::of(tenant_id, b'l', path_and_query.as_bytes(), version)
    }

    fn of(tenant_id: i64, kind: u8, entity: &[u8], state: i64) -> EntityTags {
        EntityTags(Representation::ALL.map(|representation| {
            let mut digest = Sha256::new();
            digest.update(TAG_FORMAT);
            digest.update(tenant_id.to_be_bytes());
            digest.update(representation.name().as_bytes());
            digest.update([0, kind]);
            // Length first: no two (entity, state) pairs feed the same bytes.
            digest.update((entity.len() as u64).to_be_bytes());
            digest.update(entity);
            digest.update(state.to_be_bytes());
            let text = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest.finalize()[..TAG_BYTES]));
            // Quotes around base64url are always a valid header value.
            HeaderValue::try_from(text).unwrap_or(HeaderValue::from_static("\"\""))
        }))
    }

    /// The tag of the answer in `representation`.
    pub fn get(&self, representation: Representation) -> &HeaderValue {
        &self.0[representation.index()]
    }

    /// The tag of the answer to `req`, in the representation it negotiated.
    pub fn answering(&self, req: &HttpRequest) -> &HeaderValue {
        self.get(crate::api::negotiation::answered_in(req))
    }

    /// Whether `quoted` is, byte for byte, the tag of one of the representations.
    fn contains(&self, quoted: &[u8]) -> bool {
        self.0.iter().any(|tag| tag.as_bytes() == quoted)
    }
}

/// `If-None-Match` of a GET, as the OpenAPI document names it.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfNoneMatchHeader {
    /// ETags the client holds (`*`, or a list; weak ones count too). When one is the
    /// current ETag of the representation asked for, the answer is 304 without a body.
    /// A malformed list is 400.
    #[param(
        rename = "If-None-Match",
        value_type = Option<String>,
        nullable = false,
        pattern = r#"^(\*|[ \t,]*((W/)?"[!#-~\u0080-\u00ff]*"([ \t]*,[ \t,]*(W/)?"[!#-~\u0080-\u00ff]*")*)?[ \t,]*)$"#
    )]
    if_none_match: Option<Condition>,
}

/// `If-Match` of a write of one profile, as the OpenAPI document names it.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// Only if the profile is still in the state that this strong ETag names (from a GET,
    /// POST or PUT of it, in JSON or in XML: both name the same state); `*` for any
    /// existing profile. Otherwise 412, and nothing changes. A weak ETag never matches; a
    /// malformed list is 400.
    #[param(
        rename = "If-Match",
        value_type = Option<String>,
        nullable = false,
        pattern = r#"^(\*|[ \t,]*((W/)?"[!#-~\u0080-\u00ff]*"([ \t]*,[ \t,]*(W/)?"[!#-~\u0080-\u00ff]*")*)?[ \t,]*)$"#
    )]
    if_match: Option<Condition>,
}

/// One entity tag of a request: weak or strong, and its opaque part, quotes included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    weak: bool,
    quoted: Box<[u8]>,
}

/// A well-formed `If-Match` or `If-None-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `*`.
    Any,
    /// The listed tags (each list as long as the request's header allows, no longer).
    Tags(Vec<EntityTag>),
}

impl Condition {
    /// `If-None-Match` on a GET: true when it names `current` (weak comparison) or is
    /// `*`, and the answer is 304.
    pub fn names(&self, current: &HeaderValue) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags.iter().any(|tag| *tag.quoted == *current.as_bytes()),
        }
    }

    /// `If-Match` on a write of profile `id`: `None` for `*` (any existing profile will
    /// do), otherwise the revisions whose tags it names.
    pub fn for_profile(self, tenant_id: i64, id: i64) -> Option<ProfileMatch> {
        match self {
            Condition::Any => None,
            Condition::Tags(tags) => Some(ProfileMatch {
                tenant_id,
                id,
                // A weak tag never matches `If-Match` (strong comparison).
                strong: tags.into_iter().filter(|tag| !tag.weak).map(|tag| tag.quoted).collect(),
            }),
        }
    }
}

/// The strong tags an `If-Match` names for one profile: a revision is accepted when one
/// of them is the tag of that revision in any representation, since `If-Match` guards the
/// profile's state, whichever representation the client read it in.
#[derive(Debug)]
pub struct ProfileMatch {
    tenant_id: i64,
    id: i64,
    strong: Vec<Box<[u8]>>,
}

impl RevisionCondition for ProfileMatch {
    fn accepts(&self, revision: i64) -> bool {
        let current = EntityTags::profile(self.tenant_id, self.id, revision);
        self.strong.iter().any(|quoted| current.contains(quoted))
    }
}

/// `If-Match`: `None` without the header; 400 when it is not `*` or a list of tags.
pub fn if_match(req: &HttpRequest) -> Result<Option<Condition>, SpcmError> {
    let header = IfMatchHeader { if_match: read(req, &header::IF_MATCH)? };
    Ok(header.if_match)
}

/// `If-None-Match`: `None` without the header; 400 when it is not `*` or a list of tags.
pub fn if_none_match(req: &HttpRequest) -> Result<Option<Condition>, SpcmError> {
    let header = IfNoneMatchHeader { if_none_match: read(req, &header::IF_NONE_MATCH)? };
    Ok(header.if_none_match)
}

/// The header's lines read as one list (RFC 9110 §5.3); `*` only alone.
fn read(req: &HttpRequest, name: &HeaderName) -> Result<Option<Condition>, SpcmError> {
    let malformed = || {
        SpcmError::BadRequest(format!(
            "the {} header must be * or a comma-separated list of entity tags (\"…\" or W/\"…\")",
            if *name == header::IF_MATCH { "If-Match" } else { "If-None-Match" }
        ))
    };
    let lines: Vec<&[u8]> = req.headers().get_all(name).map(HeaderValue::as_bytes).collect();
    match lines.as_slice() {
        [] => Ok(None),
        [line] if line.trim_ascii() == b"*" => Ok(Some(Condition::Any)),
        _ => {
            let mut tags = Vec::new();
            for line in lines {
                parse_list(line, &mut tags).ok_or_else(malformed)?;
            }
            Ok(Some(Condition::Tags(tags)))
        }
    }
}

/// `#entity-tag` (RFC 9110 §8.8.3, §5.6.1): tags separated by commas, with optional
/// spaces and empty elements; `None` when malformed.
fn parse_list(mut rest: &[u8], into: &mut Vec<EntityTag>) -> Option<()> {
    loop {
        rest = rest.trim_ascii_start();
        let Some(&first) = rest.first() else {
            return Some(());
        };
        if first == b',' {
            rest = &rest[1..];
            continue;
        }
        // `W/` is case-sensitive.
        let (weak, tag) = match rest.strip_prefix(b"W/") {
            Some(tag) => (true, tag),
            None => (false, rest),
        };
        let opaque = tag.strip_prefix(b"\"")?;
        let end = opaque.iter().position(|&b| b == b'"')?;
        if !opaque[..end].iter().all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80) {
            return None;
        }
        into.push(EntityTag { weak, quoted: tag[..end + 2].into() });
        rest = opaque[end + 1..].trim_ascii_start();
        match rest.first() {
            None => return Some(()),
            Some(b',') => rest = &rest[1..],
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(name: HeaderName, lines: &[&str]) -> HttpRequest {
        let mut req = TestRequest::default();
        for line in lines {
            req = req.append_header((name.clone(), *line));
        }
        req.to_http_request()
    }

    fn strong(tag: &str) -> EntityTag {
        EntityTag { weak: false, quoted: tag.as_bytes().into() }
    }

    #[test]
    fn lists_of_tags_are_read_as_rfc_9110_writes_them() {
        let weak = EntityTag { weak: true, quoted: b"\"b\"".as_slice().into() };
        let cases: [(&[&str], Option<Condition>); 10] = [
            (&[], None),
            (&["*"], Some(Condition::Any)),
            (&[" * "], Some(Condition::Any)),
            (&["\"a\""], Some(Condition::Tags(vec![strong("\"a\"")]))),
            (&["\"a\" , W/\"b\""], Some(Condition::Tags(vec![strong("\"a\""), weak.clone()]))),
            (&["\"a\"\t,\tW/\"b\""], Some(Condition::Tags(vec![strong("\"a\""), weak.clone()]))),
            (&["\"a\"", "W/\"b\""], Some(Condition::Tags(vec![strong("\"a\""), weak]))),
            (&[", \"a,b\",,"], Some(Condition::Tags(vec![strong("\"a,b\"")]))),
            (&["\"\""], Some(Condition::Tags(vec![strong("\"\"")]))),
            (&[""], Some(Condition::Tags(vec![]))),
        ];
        for (lines, expected) in cases {
            assert_eq!(if_match(&request(header::IF_MATCH, lines)).ok(), Some(expected), "{lines:?}");
        }
    }

    #[test]
    fn a_malformed_list_is_refused() {
        let cases: [&[&str]; 10] = [
            &["3"],
            &["\"3\" \"4\""],
            &["\"3"],
            &["w/\"3\""],
            &["W/ \"3\""],
            &["\"a\"b\""],
            &["\"a b\""],
            &["*, \"a\""],
            &["*", "*"],
            &["*", "\"a\""],
        ];
        for lines in cases {
            for name in [header::IF_MATCH, header::IF_NONE_MATCH] {
                assert!(
                    matches!(read(&request(name.clone(), lines), &name), Err(SpcmError::BadRequest(_))),
                    "{name}: {lines:?}"
                );
            }
        }
    }

    #[test]
    fn tags_differ_by_tenant_representation_entity_and_state_and_show_none_of_them() {
        let tags = EntityTags::profile(1, 7, 3);
        let json = tags.get(Representation::Json);
        assert_ne!(json, tags.get(Representation::Xml));
        for other in [
            EntityTags::profile(2, 7, 3),
            EntityTags::profile(1, 8, 3),
            EntityTags::profile(1, 7, 4),
            EntityTags::listing(1, "7", 3),
        ] {
            assert!(!other.contains(json.as_bytes()), "{other:?}");
        }
        assert_eq!(EntityTags::profile(1, 7, 3), tags, "the same on every instance: no random key");
        let text = json.to_str().unwrap();
        assert_eq!(text.len(), 24, "{text}");
        assert!(text.starts_with('"') && text.ends_with('"'), "a strong tag: {text}");
        let listing = EntityTags::listing(1, "/pcc/spcm/provisionProfile?limit=1", 5);
        assert_ne!(listing, EntityTags::listing(2, "/pcc/spcm/provisionProfile?limit=1", 5), "tenants differ");
        assert_ne!(listing, EntityTags::listing(1, "/pcc/spcm/provisionProfile?limit=2", 5), "pages differ");
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let tags = EntityTags::profile(1, 7, 3);
        let json = tags.get(Representation::Json).to_str().unwrap().to_owned();
        let xml = tags.get(Representation::Xml).to_str().unwrap().to_owned();
        for (line, expected) in [
            (json.clone(), true),
            (format!("W/{json}"), true),
            (format!("\"x\", {json}"), true),
            ("*".to_owned(), true),
            (xml, false),
            ("\"x\"".to_owned(), false),
        ] {
            let condition = if_none_match(&request(header::IF_NONE_MATCH, &[&line])).unwrap().unwrap();
            assert_eq!(condition.names(tags.get(Representation::Json)), expected, "{line}");
        }
    }

    #[test]
    fn if_match_compares_strongly_and_byte_for_byte_with_any_representation() {
        let tags = EntityTags::profile(1, 7, 3);
        let json = tags.get(Representation::Json).to_str().unwrap().to_owned();
        let xml = tags.get(Representation::Xml).to_str().unwrap().to_owned();
        let accepts = |line: &str, revision: i64| {
            let condition = if_match(&request(header::IF_MATCH, &[line])).unwrap().unwrap();
            condition.for_profile(1, 7).is_none_or(|m| m.accepts(revision))
        };
        assert!(accepts(&json, 3));
        assert!(accepts(&xml, 3), "the XML representation's tag guards the same state");
        assert!(accepts(&format!("\"x\", {xml}"), 3));
        assert!(accepts("*", 3));
        assert!(!accepts(&json, 4), "another revision");
        assert!(!accepts(&format!("W/{json}"), 3), "a weak tag never matches");
        let mut flipped = json.clone().into_bytes();
        let letter = flipped.iter().position(u8::is_ascii_alphabetic).unwrap();
        flipped[letter] ^= 0x20;
        assert!(!accepts(std::str::from_utf8(&flipped).unwrap(), 3), "compared byte for byte");
        assert!(!accepts("\"3\"", 3) && !accepts("\"03\"", 3), "a revision is no tag");
        let other_profile = if_match(&request(header::IF_MATCH, &[&json])).unwrap().unwrap();
        assert!(!other_profile.for_profile(1, 8).is_none_or(|m| m.accepts(3)), "another profile's tag");
    }
}
