//! Parsed types and business rules. A value of these types has passed validation;
//! handlers and the store take nothing else.

pub mod authority;
pub mod catalogue;
pub mod change;
pub mod names;
mod permissions;
pub mod profile;
mod profile_input;

pub use names::{TenantName, Username};
pub use permissions::{Permission, PermissionSet};
pub use profile::{
    DefaultRuleViolation, Locale, NewProfile, ProfileName, ProfilePatch, ProvisioningProfile, ShortText, SubscriberType,
};
pub use profile_input::{FieldError, Given, ProfileInput};

/// Why a value a client gave is refused: a sentence that names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(String);

impl InvalidValue {
    pub fn new(description: impl Into<String>) -> Self {
        InvalidValue(description.into())
    }

    pub fn into_description(self) -> String {
        self.0
    }
}

/// The first character of `text` that no text a client sends may hold (contract §1.1):
/// see [`is_forbidden_character`].
pub fn forbidden_character(text: &str) -> Option<char> {
    text.chars().find(|&c| is_forbidden_character(c))
}

/// A control character (general category Cc: U+0000–U+001F, U+007F–U+009F) or a Unicode
/// noncharacter (U+FDD0–U+FDEF, and the last two code points of every plane: U+FFFE,
/// U+FFFF, U+1FFFE, …, U+10FFFF). None belongs in a name, and XML cannot carry most.
pub fn is_forbidden_character(c: char) -> bool {
    c.is_control() || ('\u{FDD0}'..='\u{FDEF}').contains(&c) || (c as u32) & 0xFFFE == 0xFFFE
}

/// What is wrong with a text that holds `c`, for its field's error.
pub fn forbidden_character_problem(c: char) -> String {
    format!("must not contain control characters or Unicode noncharacters (U+{:04X} found)", c as u32)
}

/// `Err` naming `field` when `value` holds a forbidden character (contract §1.1).
pub fn reject_forbidden_characters(field: &str, value: &str) -> Result<(), InvalidValue> {
    match forbidden_character(value) {
        Some(c) => Err(InvalidValue(format!("{field} {}", forbidden_character_problem(c)))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_every_noncharacter_are_forbidden() {
        let controls = ['\u{0}', '\u{1F}', '\u{7F}', '\u{85}', '\u{9F}'];
        let mut noncharacters: Vec<char> = ('\u{FDD0}'..='\u{FDEF}').collect();
        for plane in 0..=0x10u32 {
            for last in [0xFFFE, 0xFFFF] {
                noncharacters.push(char::from_u32(plane << 16 | last).unwrap());
            }
        }
        assert_eq!(noncharacters.len(), 66, "Unicode has 66 noncharacters");
        for c in controls.into_iter().chain(noncharacters) {
            assert!(is_forbidden_character(c), "U+{:04X}", c as u32);
            assert_eq!(forbidden_character(&format!("a{c}b")), Some(c));
        }
        for c in [' ', 'é', '\u{A0}', '\u{FDCF}', '\u{FDF0}', '\u{FFFD}', '\u{1FFFD}', '\u{10000}', '\u{E000}', '🎁']
        {
            assert!(!is_forbidden_character(c), "U+{:04X}", c as u32);
        }
        let refused = reject_forbidden_characters("name", "nc\u{FFFE}").unwrap_err().into_description();
        assert!(
            refused.starts_with("name must not contain control characters") && refused.contains("U+FFFE"),
            "{refused}"
        );
    }
}
