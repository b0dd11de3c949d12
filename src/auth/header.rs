//! The `Authorization` header, parsed by actix-web-httpauth once its scheme is matched
//! without regard to case (contract §1.1: `basic`, `BEARER`).

use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::HttpRequest;
use actix_web_httpauth::headers::authorization::{Basic, Bearer, Scheme};
use secrecy::SecretString;

/// The header with its scheme spelt as `canonical` when it names that scheme in any case
/// (borrowed as sent when it is spelt so already, as it almost always is).
fn with_scheme<'a>(req: &'a HttpRequest, canonical: &str) -> Option<std::borrow::Cow<'a, HeaderValue>> {
    let header = req.headers().get(AUTHORIZATION)?;
    let value = header.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if scheme == canonical {
        return Some(std::borrow::Cow::Borrowed(header));
    }
    if !scheme.eq_ignore_ascii_case(canonical) {
        return None;
    }
    HeaderValue::from_str(&format!("{canonical} {}", rest.trim_start())).ok().map(std::borrow::Cow::Owned)
}

/// Username and password of `Authorization: Basic …`; `None` when absent or malformed.
pub fn basic_credentials(req: &HttpRequest) -> Option<(String, SecretString)> {
    let basic = Basic::parse(with_scheme(req, "Basic")?.as_ref()).ok()?;
    let password = SecretString::from(basic.password().unwrap_or_default().to_owned());
    Some((basic.user_id().to_owned(), password))
}

/// The secret of `Authorization: Bearer …`; `None` when absent or malformed.
pub fn bearer_token(req: &HttpRequest) -> Option<SecretString> {
    let bearer = Bearer::parse(with_scheme(req, "Bearer")?.as_ref()).ok()?;
    Some(SecretString::from(bearer.token().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use secrecy::ExposeSecret;

    #[test]
    fn schemes_match_in_any_case() {
        for scheme in ["Basic", "basic", "BASIC"] {
            let req = TestRequest::default()
                .insert_header((AUTHORIZATION, format!("{scheme} YWRtaW46cHc=")))
                .to_http_request();
            let (user, password) = basic_credentials(&req).expect(scheme);
            assert_eq!((user.as_str(), password.expose_secret()), ("admin", "pw"));
        }
        let req = TestRequest::default().insert_header((AUTHORIZATION, "BEARER abc")).to_http_request();
        assert_eq!(bearer_token(&req).expect("bearer").expose_secret(), "abc");
        let req = TestRequest::default().insert_header((AUTHORIZATION, "Basicx YWRtaW46cHc=")).to_http_request();
        assert!(basic_credentials(&req).is_none());
    }
}
