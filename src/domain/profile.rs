//! Provisioning profiles: their parsed fields and the default-profile rule (contract §2).

use std::fmt;

/// A profile as stored, with its server-assigned id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningProfile {
    pub id: i64,
    pub name: String,
    pub default_profile: bool,
    pub locale: Option<String>,
    pub initial_core_plan_name: Option<String>,
    pub subscriber_class: Option<String>,
    pub subscriber_type: Option<String>,
    pub dps_enabled: bool,
    pub dps_notification: bool,
    pub eos_notification: bool,
    pub payg_notification: bool,
}

/// A profile name: 1–100 characters once trimmed, no control characters. Stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileName(String);

impl ProfileName {
    pub fn parse(value: &str) -> Result<Self, String> {
        let trimmed = value.trim();
        let length = trimmed.chars().count();
        if length == 0 {
            return Err("name must not be blank".into());
        }
        if length > 100 {
            return Err("name must be at most 100 characters".into());
        }
        if trimmed.chars().any(char::is_control) {
            return Err("name must not contain control characters".into());
        }
        Ok(ProfileName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free text field such as `initialCorePlanName`: at most 100 characters, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortText(String);

impl ShortText {
    pub fn parse(field: &str, value: &str) -> Result<Self, String> {
        if value.chars().count() > 100 {
            return Err(format!("{field} must be at most 100 characters"));
        }
        Ok(ShortText(value.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A language tag such as `en`, `es-ES` or `zh-Hant-TW` (`_` is accepted as separator too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale(String);

impl Locale {
    pub fn parse(value: &str) -> Result<Self, String> {
        let invalid = || format!("locale '{value}' is not a language tag such as 'en' or 'es-ES'");
        if value.len() > 35 {
            return Err(invalid());
        }
        let mut subtags = value.split(['-', '_']);
        let language = subtags.next().unwrap_or_default();
        let language_ok = (2..=8).contains(&language.len()) && language.chars().all(|c| c.is_ascii_alphabetic());
        let rest_ok = subtags.all(|tag| (1..=8).contains(&tag.len()) && tag.chars().all(|c| c.is_ascii_alphanumeric()));
        if language_ok && rest_ok {
            Ok(Locale(value.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// `PREPAID` or `POSTPAID`; accepted in any case, stored upper-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriberType {
    Prepaid,
    Postpaid,
}

impl SubscriberType {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.eq_ignore_ascii_case("PREPAID") {
            Ok(SubscriberType::Prepaid)
        } else if value.eq_ignore_ascii_case("POSTPAID") {
            Ok(SubscriberType::Postpaid)
        } else {
            Err(format!("subscriberType must be PREPAID or POSTPAID, not '{value}'"))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberType::Prepaid => "PREPAID",
            SubscriberType::Postpaid => "POSTPAID",
        }
    }
}

/// A profile to create: every field parsed, defaults applied.
#[derive(Debug, Clone)]
pub struct NewProfile {
    pub name: ProfileName,
    pub default_profile: bool,
    pub locale: Option<Locale>,
    pub initial_core_plan_name: Option<ShortText>,
    pub subscriber_class: Option<ShortText>,
    pub subscriber_type: Option<SubscriberType>,
    pub dps_enabled: bool,
    pub dps_notification: bool,
    pub eos_notification: bool,
    pub payg_notification: bool,
}

/// A change to a profile: `None` keeps the field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub name: Option<ProfileName>,
    pub default_profile: Option<bool>,
    pub locale: Option<Option<Locale>>,
    pub initial_core_plan_name: Option<Option<ShortText>>,
    pub subscriber_class: Option<Option<ShortText>>,
    pub subscriber_type: Option<Option<SubscriberType>>,
    pub dps_enabled: Option<bool>,
    pub dps_notification: Option<bool>,
    pub eos_notification: Option<bool>,
    pub payg_notification: Option<bool>,
}

/// The default-profile rule refused a change (422, with the rule's own error code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultRuleViolation {
    /// Deleting the default while the tenant has other profiles.
    DeleteDefault,
    /// Setting `defaultProfile: false` on the current default.
    UnsetDefault,
}

impl DefaultRuleViolation {
    pub fn code(self) -> u32 {
        match self {
            DefaultRuleViolation::DeleteDefault => 1001,
            DefaultRuleViolation::UnsetDefault => 1002,
        }
    }

    pub fn message(self, id: i64) -> String {
        match self {
            DefaultRuleViolation::DeleteDefault => format!(
                "provisioning profile {id} is the default profile; make another profile the default before deleting it"
            ),
            DefaultRuleViolation::UnsetDefault => format!(
                "provisioning profile {id} is the default profile; make another profile the default instead of unsetting it"
            ),
        }
    }
}

/// The default can move but not vanish: a PUT cannot unset the current default.
pub fn check_update(current: &ProvisioningProfile, patch: &ProfilePatch) -> Result<(), DefaultRuleViolation> {
    if current.default_profile && patch.default_profile == Some(false) {
        return Err(DefaultRuleViolation::UnsetDefault);
    }
    Ok(())
}

/// The default may only be deleted when it is the tenant's last profile.
pub fn check_delete(target: &ProvisioningProfile, other_profiles: i64) -> Result<(), DefaultRuleViolation> {
    if target.default_profile && other_profiles > 0 {
        return Err(DefaultRuleViolation::DeleteDefault);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(default_profile: bool) -> ProvisioningProfile {
        ProvisioningProfile {
            id: 1,
            name: "chaCha".into(),
            default_profile,
            locale: None,
            initial_core_plan_name: None,
            subscriber_class: None,
            subscriber_type: None,
            dps_enabled: false,
            dps_notification: false,
            eos_notification: false,
            payg_notification: false,
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(ProfileName::parse("  chaCha ").unwrap().as_str(), "chaCha");
        assert!(ProfileName::parse(&"x".repeat(100)).is_ok());
        let cases = [("", "blank"), ("   ", "blank"), ("a\u{7}b", "control"), (&"x".repeat(101), "100")];
        for (value, why) in cases {
            let err = ProfileName::parse(value).unwrap_err();
            assert!(err.contains(why), "{value:?}: {err}");
        }
    }

    #[test]
    fn locales_are_language_tags() {
        for good in ["en", "es-ES", "zh-Hant-TW", "pt_BR"] {
            assert!(Locale::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "e", "english!", "en-", "12", "en--US"] {
            assert!(Locale::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subscriber_type_is_case_insensitive_and_stored_upper_case() {
        assert_eq!(SubscriberType::parse("prepaid").unwrap().as_str(), "PREPAID");
        assert_eq!(SubscriberType::parse("PostPaid").unwrap().as_str(), "POSTPAID");
        assert!(SubscriberType::parse("hybrid").is_err());
    }

    #[test]
    fn the_default_can_move_but_not_vanish() {
        let unset = ProfilePatch { default_profile: Some(false), ..Default::default() };
        assert_eq!(check_update(&profile(true), &unset), Err(DefaultRuleViolation::UnsetDefault));
        assert_eq!(check_update(&profile(false), &unset), Ok(()));
        assert_eq!(check_delete(&profile(true), 2), Err(DefaultRuleViolation::DeleteDefault));
        assert_eq!(check_delete(&profile(true), 0), Ok(()));
        assert_eq!(check_delete(&profile(false), 5), Ok(()));
    }
}
