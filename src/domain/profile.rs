//! Provisioning profiles: their parsed fields and the default-profile rule (contract §2).

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use super::InvalidValue;

/// A profile as stored, with its server-assigned id. Serialised as the SPCM face shows
/// it (the change history records it so).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
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
    /// Raised by each change of the profile; its ETags are made from it. Not part of its state.
    #[serde(skip)]
    pub revision: i64,
}

impl ProvisioningProfile {
    /// The profile as a JSON object, for its change records.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// A profile name (contract §1.1, §2): normalised to Unicode NFC, then trimmed; 1–100
/// characters, no control characters or noncharacters, no bidirectional controls, and at
/// least one visible character. Stored as parsed, so equal-looking names are equal names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileName(String);

impl ProfileName {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        super::reject_forbidden_characters("name", value)?;
        let normalised: String = value.nfc().collect();
        let name = normalised.trim();
        let length = name.chars().count();
        if length == 0 {
            return Err(InvalidValue::new("name must not be blank"));
        }
        if length > 100 {
            return Err(InvalidValue::new("name must be at most 100 characters"));
        }
        if name.chars().any(is_bidi_control) {
            return Err(InvalidValue::new(
                "name must not contain bidirectional control characters (U+202A to U+202E, U+2066 to U+2069)",
            ));
        }
        if name.chars().all(is_invisible) {
            return Err(InvalidValue::new(
                "name must contain a visible character, not only spaces, zero-width or format characters",
            ));
        }
        Ok(ProfileName(name.to_owned()))
    }

    /// The listing's exact-name filter: normalised like a name, so that either form of
    /// `café` finds it, but not trimmed (trailing spaces are significant).
    pub fn filter(value: &str) -> Result<String, InvalidValue> {
        super::reject_forbidden_characters("name", value)?;
        Ok(value.nfc().collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder
/// the text around them, so a name could display as another.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: white space, format characters (general category Cf)
/// and the other default-ignorable code points (Unicode 15.1), and the blank-looking
/// Hangul fillers and braille blank that are used to fake an empty name.
fn is_invisible(c: char) -> bool {
    const INVISIBLE: &[(char, char)] = &[
        ('\u{00AD}', '\u{00AD}'),
        ('\u{034F}', '\u{034F}'),
        ('\u{0600}', '\u{0605}'),
        ('\u{061C}', '\u{061C}'),
        ('\u{06DD}', '\u{06DD}'),
        ('\u{070F}', '\u{070F}'),
        ('\u{0890}', '\u{0891}'),
        ('\u{08E2}', '\u{08E2}'),
        ('\u{115F}', '\u{1160}'),
        ('\u{17B4}', '\u{17B5}'),
        ('\u{180B}', '\u{180F}'),
        ('\u{200B}', '\u{200F}'),
        ('\u{202A}', '\u{202E}'),
        ('\u{2060}', '\u{206F}'),
        ('\u{2800}', '\u{2800}'),
        ('\u{3164}', '\u{3164}'),
        ('\u{FE00}', '\u{FE0F}'),
        ('\u{FEFF}', '\u{FEFF}'),
        ('\u{FFA0}', '\u{FFA0}'),
        ('\u{FFF0}', '\u{FFFB}'),
        ('\u{110BD}', '\u{110BD}'),
        ('\u{110CD}', '\u{110CD}'),
        ('\u{13430}', '\u{1343F}'),
        ('\u{1BCA0}', '\u{1BCA3}'),
        ('\u{1D173}', '\u{1D17A}'),
        ('\u{E0000}', '\u{E0FFF}'),
    ];
    c.is_whitespace() || INVISIBLE.iter().any(|&(first, last)| (first..=last).contains(&c))
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free text field such as `initialCorePlanName`: at most 100 characters, no control
/// characters or noncharacters, otherwise kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortText(String);

impl ShortText {
    pub fn parse(field: &str, value: &str) -> Result<Self, InvalidValue> {
        super::reject_forbidden_characters(field, value)?;
        if value.chars().count() > 100 {
            return Err(InvalidValue::new(format!("{field} must be at most 100 characters")));
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
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        super::reject_forbidden_characters("locale", value)?;
        let invalid = || InvalidValue::new(format!("locale '{value}' is not a language tag such as 'en' or 'es-ES'"));
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
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        super::reject_forbidden_characters("subscriberType", value)?;
        if value.eq_ignore_ascii_case("PREPAID") {
            Ok(SubscriberType::Prepaid)
        } else if value.eq_ignore_ascii_case("POSTPAID") {
            Ok(SubscriberType::Postpaid)
        } else {
            Err(InvalidValue::new(format!("subscriberType must be PREPAID or POSTPAID, not '{value}'")))
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
            revision: 1,
        }
    }

    /// The description of the refusal of `value`, which must be refused.
    fn refusal(value: &str) -> String {
        match ProfileName::parse(value) {
            Ok(name) => panic!("{value:?} should be refused, parsed as {:?}", name.as_str()),
            Err(description) => description.into_description(),
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(ProfileName::parse("  chaCha ").unwrap().as_str(), "chaCha");
        assert!(ProfileName::parse(&"x".repeat(100)).is_ok());
        let cases = [("", "blank"), ("   ", "blank"), (&"x".repeat(101), "at most 100")];
        for (value, why) in cases {
            let description = refusal(value);
            assert!(description.contains(why), "{value:?}: {description}");
        }
    }

    #[test]
    fn names_with_control_characters_are_refused_even_at_the_ends() {
        for value in
            ["a\u{0}b", "\u{0}", "a\u{7}b", "tab\there", "name\n", "\r\nname", "a\u{7F}", "a\u{9F}b", "\u{85}x"]
        {
            let description = refusal(value);
            assert!(description.contains("control characters"), "{value:?}: {description}");
        }
        // The neighbours of the control ranges are ordinary characters.
        for value in ["a b", "~", "a\u{A0}b", "\u{A1}"] {
            assert!(ProfileName::parse(value).is_ok(), "{value:?}");
        }
    }

    #[test]
    fn names_are_normalised_to_nfc() {
        let composed = ProfileName::parse("caf\u{E9}").unwrap();
        let decomposed = ProfileName::parse("cafe\u{301}").unwrap();
        assert_eq!(decomposed.as_str(), "caf\u{E9}");
        assert_eq!(composed, decomposed);
        // Hangul syllables compose too: two jamo become one character.
        assert_eq!(ProfileName::parse("\u{1100}\u{1161}").unwrap().as_str(), "\u{AC00}");
        // The bound counts characters after normalisation: 100 decomposed é are 200 code points.
        assert_eq!(ProfileName::parse(&"e\u{301}".repeat(100)).unwrap().as_str().chars().count(), 100);
        assert!(refusal(&"e\u{301}".repeat(101)).contains("at most 100"));
    }

    #[test]
    fn names_of_invisible_characters_only_are_refused() {
        let cases = [
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}",
            "\u{2060}",
            "\u{FEFF}",
            " \u{200B} \u{FEFF} ",
            "\u{00AD}",
            "\u{180E}",
            "\u{FE0F}",
            "\u{E0041}",
            "\u{3164}",
            "\u{2800}",
            "\u{200E}\u{200F}",
        ];
        for value in cases {
            let description = refusal(value);
            assert!(description.contains("visible character"), "{value:?}: {description}");
        }
        // Visible text with a joiner or a soft hyphen inside is a name.
        for value in ["a\u{200D}b", "\u{1F469}\u{200D}\u{1F4BB}", "co\u{00AD}op", "\u{200B}x"] {
            assert!(ProfileName::parse(value).is_ok(), "{value:?}");
        }
    }

    #[test]
    fn names_with_bidirectional_controls_are_refused() {
        for control in
            ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}']
        {
            for value in
                [format!("{control}abc"), format!("abc{control}"), format!("a{control}bc"), control.to_string()]
            {
                let description = refusal(&value);
                assert!(description.contains("bidirectional"), "{value:?}: {description}");
            }
        }
        assert!(ProfileName::parse("\u{5E9}\u{5DC}\u{5D5}\u{5DD}").is_ok(), "right-to-left text itself is fine");
    }

    #[test]
    fn the_name_filter_is_normalised_but_not_trimmed() {
        assert_eq!(ProfileName::filter("cafe\u{301}").unwrap(), "caf\u{E9}");
        assert_eq!(ProfileName::filter("pad ").unwrap(), "pad ");
        assert_eq!(ProfileName::filter("").unwrap(), "");
        assert!(ProfileName::filter("a\u{0}").unwrap_err().to_string().contains("control characters"));
    }

    #[test]
    fn other_text_fields_refuse_control_characters_naming_the_field() {
        let description = ShortText::parse("subscriberClass", "gold\u{0}").unwrap_err().into_description();
        assert!(description.starts_with("subscriberClass ") && description.contains("control"), "{description}");
        assert!(ShortText::parse("subscriberClass", "").is_ok());
        assert!(Locale::parse("en\u{0}").unwrap_err().to_string().contains("control"));
        assert!(SubscriberType::parse("PREPAID\u{0}").unwrap_err().to_string().contains("control"));
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
