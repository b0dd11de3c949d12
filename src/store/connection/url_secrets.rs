//! A database URL may carry a password, which help texts, logs and errors never print,
//! whatever the URL looks like (contract §1.1). Drivers do quote what they were given:
//! libpq puts a malformed URL whole into its message, and names the host, port or
//! database it read. So a server URL is first checked to delimit its password the same
//! way for every reader, and every driver message is then stripped of the password.

#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::borrow::Cow;

#[cfg(any(feature = "postgres", feature = "mysql"))]
use percent_encoding::percent_decode_str;

use super::DatabaseUrlError;

/// Put where a secret was.
#[cfg(any(feature = "postgres", feature = "mysql"))]
const REDACTED: &str = "***";

/// Refuses a server URL whose user name or password could be read two ways. libpq takes
/// the first `@` before the first `/`, the `url` crate (MySQL) the last `@` before a
/// `/`, `?` or `#`: a password holding an unencoded `@`, `/`, `?` or `#` would be cut
/// in two, and a piece of it printed as a host, port or database name. The message
/// never quotes the URL.
pub(crate) fn check_credentials(url: &str) -> Result<(), DatabaseUrlError> {
    const AMBIGUOUS: DatabaseUrlError = DatabaseUrlError::AmbiguousCredentials;
    let Some((_, rest)) = url.split_once("://") else { return Ok(()) };
    let head_end = rest.find('/').unwrap_or(rest.len());
    let (head, tail) = rest.split_at(head_end);
    let path = tail.split(['?', '#']).next().unwrap_or_default();
    let userinfo = match head.matches('@').count() {
        0 if path.contains('@') => return Err(AMBIGUOUS),
        0 => return Ok(()),
        1 => head.split('@').next().unwrap_or_default(),
        _ => return Err(AMBIGUOUS),
    };
    if userinfo.chars().any(|c| matches!(c, '?' | '#' | '[' | ']') || c.is_whitespace() || c.is_control()) {
        return Err(AMBIGUOUS);
    }
    if !well_escaped(userinfo) {
        return Err(DatabaseUrlError::BadEscape);
    }
    Ok(())
}

/// Every `%` starts an escape of two hexadecimal digits, and none encodes NUL.
fn well_escaped(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let escape = bytes.get(i + 1..i + 3);
            if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) || escape == Some(b"00") {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// What of a database URL must never be printed: its password as written and
/// percent-decoded, and the value of any `password` query parameter (libpq reads one).
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[derive(Debug, Clone, Default)]
pub(crate) struct UrlSecrets(Vec<String>);

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl UrlSecrets {
    pub(crate) fn of(url: &str) -> UrlSecrets {
        let Some((_, rest)) = url.split_once("://") else { return UrlSecrets::default() };
        let head = &rest[..rest.find('/').unwrap_or(rest.len())];
        let mut written = Vec::new();
        // Up to the last `@`: whatever any reader may take for the password.
        if let Some((userinfo, _)) = head.rsplit_once('@') {
            written.extend(userinfo.split_once(':').map(|(_, password)| password));
        }
        if let Some((_, query)) = rest.split_once('?') {
            let query = query.split('#').next().unwrap_or_default();
            written.extend(query.split('&').filter_map(|pair| pair.strip_prefix("password=")));
        }
        let mut secrets: Vec<String> = Vec::new();
        for raw in written.into_iter().filter(|raw| !raw.is_empty()) {
            secrets.push(raw.to_owned());
            if let Cow::Owned(decoded) = percent_decode_str(raw).decode_utf8_lossy() {
                secrets.push(decoded);
            }
        }
        // The longest first, so that a secret inside another is not left half shown.
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        UrlSecrets(secrets)
    }

    /// `message` with every secret replaced, on one line.
    pub(crate) fn redact(&self, message: &str) -> String {
        let mut redacted = message.to_owned();
        for secret in &self.0 {
            redacted = redacted.replace(secret.as_str(), REDACTED);
        }
        redacted.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_delimited_alike_for_every_reader_or_refused() {
        for fine in [
            "postgres://u:secret@[::1/x",
            "postgres://u:secret@host:/db",
            "postgres://u:se%40cret@host/db?sslmode=disable&x=a@b",
            "postgres://u:p@h1:5432,h2:5433/spcm?target_session_attrs=read-write",
            "postgres://host/db",
            "postgres:///db?host=/run/postgresql",
            "mysql://u:sec%72et@127.0.0.1:3306/db",
        ] {
            assert_eq!(check_credentials(fine), Ok(()), "{fine}");
        }
        for ambiguous in [
            "postgres://u:se@cret@[::1/x",
            "postgres://u:se/cret@host/db",
            "postgres://u:se?cret@host/db",
            "postgres://u:se#cret@host/db",
            "postgres://u:se cret@host/db",
            "mysql://u:se@cret@host/db",
            "postgres://u:sec%zzret@host/db",
            "postgres://u:sec%2@host/db",
            "postgres://u:sec%00ret@host/db",
        ] {
            let refused = check_credentials(ambiguous).expect_err(ambiguous).to_string();
            assert!(!refused.contains("cret") && !refused.contains("host"), "{refused}");
        }
    }

    #[test]
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    fn the_password_is_redacted_as_written_and_decoded_and_messages_are_one_line() {
        let secrets = UrlSecrets::of("postgres://u:s%65cret@[::1/x?password=other%21&sslmode=x");
        let message = "in URI: \"postgres://u:s%65cret@[::1/x?password=other%21\"\n\tsecret other! other%21";
        assert_eq!(secrets.redact(message), "in URI: \"postgres://u:***@[::1/x?password=***\" *** *** ***",);
        assert_eq!(UrlSecrets::of("postgres://u@host/db").redact("role \"u\"\n  here"), "role \"u\" here");
    }
}
