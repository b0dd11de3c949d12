//! Parsed types and business rules. A value of these types has passed validation;
//! handlers and the store take nothing else.

pub mod catalogue;
pub mod names;
pub mod profile;

pub use names::{TenantName, Username};
pub use profile::{
    DefaultRuleViolation, Locale, NewProfile, ProfileName, ProfilePatch, ProvisioningProfile, ShortText, SubscriberType,
};
