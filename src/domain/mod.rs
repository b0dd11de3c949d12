//! Parsed types and business rules. A value of these types has passed validation;
//! handlers and the store take nothing else.

pub mod authority;
pub mod catalogue;
pub mod names;
mod permissions;
pub mod profile;

pub use names::{TenantName, Username};
pub use permissions::{Permission, PermissionSet};
pub use profile::{
    DefaultRuleViolation, Locale, NewProfile, ProfileName, ProfilePatch, ProvisioningProfile, ShortText, SubscriberType,
};

/// True when `text` holds a control character (U+0000–U+001F, U+007F–U+009F), which no
/// text a client sends may hold (contract §1.1).
pub fn has_control_characters(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Text a client sends never holds a control character (contract §1.1): general
/// category Cc, that is U+0000–U+001F and U+007F–U+009F.
pub fn reject_control_characters(field: &str, value: &str) -> Result<(), String> {
    if has_control_characters(value) {
        return Err(format!("{field} must not contain control characters (U+0000 to U+001F, U+007F to U+009F)"));
    }
    Ok(())
}
