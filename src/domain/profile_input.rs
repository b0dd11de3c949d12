//! A profile as a client gives it, before parsing: the same raw fields whether they come
//! from a JSON body, an XML body or a console form, and the one parse that turns them into
//! a [`NewProfile`] or a [`ProfilePatch`], noting every failing field (contract §2: one
//! 412 lists them all).

use serde::Serialize;
use utoipa::ToSchema;

use super::{InvalidValue, Locale, NewProfile, ProfileName, ProfilePatch, ShortText, SubscriberType};

/// One failing field of a 412.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(xml(name = "error"), example = json!({"field": "name", "description": "name is mandatory"}))]
pub struct FieldError {
    pub field: String,
    pub description: String,
}

impl FieldError {
    pub fn new(field: &str, description: impl Into<String>) -> Self {
        FieldError { field: field.to_owned(), description: description.into() }
    }
}

/// What a client gave for one field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Given<T> {
    /// The field is not there.
    #[default]
    Absent,
    /// The field is there, empty (`null`, or an empty XML element).
    Null,
    Value(T),
    /// The field holds a value of another type (a number for a text, a text for a flag).
    Mistyped,
}

/// A profile's fields as given, unparsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileInput {
    pub id: Given<i64>,
    pub name: Given<String>,
    pub default_profile: Given<bool>,
    pub locale: Given<String>,
    pub initial_core_plan_name: Given<String>,
    pub subscriber_class: Given<String>,
    pub subscriber_type: Given<String>,
    pub dps_enabled: Given<bool>,
    pub dps_notification: Given<bool>,
    pub eos_notification: Given<bool>,
    pub payg_notification: Given<bool>,
}

/// The optional text fields, each `None` when absent and `Some(None)` when cleared.
struct OptionalTexts {
    locale: Option<Option<Locale>>,
    initial_core_plan_name: Option<Option<ShortText>>,
    subscriber_class: Option<Option<ShortText>>,
    subscriber_type: Option<Option<SubscriberType>>,
}

/// Notes every problem instead of stopping at the first.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn fail(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldError::new(field, description));
    }

    /// `None` when absent. Flags are never `null`.
    fn flag(&mut self, field: &str, given: Given<bool>) -> Option<bool> {
        match given {
            Given::Absent => None,
            Given::Value(value) => Some(value),
            Given::Null => {
                self.fail(field, format!("{field} must not be null"));
                None
            }
            Given::Mistyped => {
                self.fail(field, format!("{field} must be a boolean"));
                None
            }
        }
    }

    /// `None` when absent or failing, `Some(None)` when cleared.
    fn text<T>(
        &mut self,
        field: &str,
        given: Given<String>,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Option<Option<T>> {
        match given {
            Given::Absent => None,
            Given::Null => Some(None),
            Given::Mistyped => {
                self.fail(field, format!("{field} must be a string"));
                None
            }
            Given::Value(raw) => match parse(&raw) {
                Ok(value) => Some(Some(value)),
                Err(invalid) => {
                    self.fail(field, invalid.into_description());
                    None
                }
            },
        }
    }

    fn optional_texts(&mut self, input: &mut ProfileInput) -> OptionalTexts {
        OptionalTexts {
            locale: self.text("locale", std::mem::take(&mut input.locale), Locale::parse),
            initial_core_plan_name: self.text(
                "initialCorePlanName",
                std::mem::take(&mut input.initial_core_plan_name),
                |v| ShortText::parse("initialCorePlanName", v),
            ),
            subscriber_class: self.text("subscriberClass", std::mem::take(&mut input.subscriber_class), |v| {
                ShortText::parse("subscriberClass", v)
            }),
            subscriber_type: self.text(
                "subscriberType",
                std::mem::take(&mut input.subscriber_type),
                SubscriberType::parse,
            ),
        }
    }

    /// `dpsEnabled`, `dpsNotification`, `eosNotification`, `paygNotification`.
    fn flags(&mut self, input: &mut ProfileInput) -> [Option<bool>; 4] {
        [
            self.flag("dpsEnabled", std::mem::take(&mut input.dps_enabled)),
            self.flag("dpsNotification", std::mem::take(&mut input.dps_notification)),
            self.flag("eosNotification", std::mem::take(&mut input.eos_notification)),
            self.flag("paygNotification", std::mem::take(&mut input.payg_notification)),
        ]
    }
}

impl ProfileInput {
    /// A profile to create: `name` and `defaultProfile` mandatory, `id` ignored, absent
    /// flags `false`.
    pub fn parse_new(mut self) -> Result<NewProfile, Vec<FieldError>> {
        let mut problems = Problems::default();
        let name = match std::mem::take(&mut self.name) {
            Given::Absent | Given::Null => {
                problems.fail("name", "name is mandatory");
                None
            }
            given => problems.text("name", given, ProfileName::parse).flatten(),
        };
        let default_profile = match std::mem::take(&mut self.default_profile) {
            Given::Absent | Given::Null => {
                problems.fail("defaultProfile", "defaultProfile is mandatory");
                None
            }
            given => problems.flag("defaultProfile", given),
        };
        let texts = problems.optional_texts(&mut self);
        let [dps_enabled, dps_notification, eos_notification, payg_notification] = problems.flags(&mut self);
        let (Some(name), Some(default_profile), true) = (name, default_profile, problems.0.is_empty()) else {
            return Err(problems.0);
        };
        Ok(NewProfile {
            name,
            default_profile,
            locale: texts.locale.flatten(),
            initial_core_plan_name: texts.initial_core_plan_name.flatten(),
            subscriber_class: texts.subscriber_class.flatten(),
            subscriber_type: texts.subscriber_type.flatten(),
            dps_enabled: dps_enabled.unwrap_or(false),
            dps_notification: dps_notification.unwrap_or(false),
            eos_notification: eos_notification.unwrap_or(false),
            payg_notification: payg_notification.unwrap_or(false),
        })
    }

    /// A change: only the fields given change, `null` clears an optional text. `path_id`
    /// is the id the change is addressed to; without it (an item of a batch) the input's
    /// `id` is mandatory. Returns the target id.
    pub fn parse_change(mut self, path_id: Option<i64>) -> Result<(i64, ProfilePatch), Vec<FieldError>> {
        let mut problems = Problems::default();
        let given_id = match self.id {
            Given::Value(id) => Some(id),
            Given::Absent | Given::Null => None,
            Given::Mistyped => {
                problems.fail("id", "id must be an integer");
                None
            }
        };
        let id = match (path_id, given_id) {
            (Some(path), Some(given)) if path != given => {
                problems.fail("id", format!("id {given} does not match the id {path} in the path"));
                None
            }
            (Some(path), _) => Some(path),
            (None, Some(given)) => Some(given),
            (None, None) => {
                if !problems.0.iter().any(|e| e.field == "id") {
                    problems.fail("id", "id is mandatory");
                }
                None
            }
        };
        let name = match std::mem::take(&mut self.name) {
            Given::Absent => None,
            Given::Null => {
                problems.fail("name", "name must not be null");
                None
            }
            given => problems.text("name", given, ProfileName::parse).flatten(),
        };
        let default_profile = problems.flag("defaultProfile", std::mem::take(&mut self.default_profile));
        let texts = problems.optional_texts(&mut self);
        let [dps_enabled, dps_notification, eos_notification, payg_notification] = problems.flags(&mut self);
        let (Some(id), true) = (id, problems.0.is_empty()) else {
            return Err(problems.0);
        };
        Ok((
            id,
            ProfilePatch {
                name,
                default_profile,
                locale: texts.locale,
                initial_core_plan_name: texts.initial_core_plan_name,
                subscriber_class: texts.subscriber_class,
                subscriber_type: texts.subscriber_type,
                dps_enabled,
                dps_notification,
                eos_notification,
                payg_notification,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    fn text(value: &str) -> Given<String> {
        Given::Value(value.to_owned())
    }

    #[test]
    fn a_form_without_optional_texts_parses() {
        let input = ProfileInput {
            name: text("turkeySauce"),
            default_profile: Given::Value(false),
            subscriber_type: text("postpaid"),
            payg_notification: Given::Value(true),
            ..ProfileInput::default()
        };
        let new = input.parse_new().unwrap();
        assert_eq!(new.name.as_str(), "turkeySauce");
        assert_eq!(new.subscriber_type, Some(SubscriberType::Postpaid));
        assert!(new.payg_notification && !new.dps_enabled && new.locale.is_none());
    }

    #[test]
    fn every_failing_field_is_reported_once_in_field_order() {
        let input = ProfileInput {
            id: Given::Mistyped,
            name: Given::Mistyped,
            locale: text("!!"),
            subscriber_type: text("hybrid"),
            dps_enabled: Given::Mistyped,
            eos_notification: Given::Null,
            ..ProfileInput::default()
        };
        assert_eq!(
            fields_of(input.parse_new().unwrap_err()),
            ["name", "defaultProfile", "locale", "subscriberType", "dpsEnabled", "eosNotification"]
        );
    }

    #[test]
    fn a_change_keeps_absent_fields_and_clears_null_texts() {
        let input = ProfileInput { locale: Given::Null, dps_enabled: Given::Value(true), ..ProfileInput::default() };
        let (id, patch) = input.parse_change(Some(4)).unwrap();
        assert_eq!(id, 4);
        assert_eq!(patch.locale, Some(None));
        assert_eq!(patch.dps_enabled, Some(true));
        assert!(patch.name.is_none() && patch.default_profile.is_none() && patch.subscriber_class.is_none());
    }

    #[test]
    fn a_change_refuses_null_for_name_and_flags_and_a_foreign_id() {
        let input = ProfileInput {
            id: Given::Value(5),
            name: Given::Null,
            default_profile: Given::Null,
            ..ProfileInput::default()
        };
        assert_eq!(fields_of(input.parse_change(Some(4)).unwrap_err()), ["id", "name", "defaultProfile"]);
        let input = ProfileInput { name: text("x"), ..ProfileInput::default() };
        assert_eq!(fields_of(input.parse_change(None).unwrap_err()), ["id"]);
        let input = ProfileInput { id: Given::Mistyped, ..ProfileInput::default() };
        assert_eq!(fields_of(input.parse_change(None).unwrap_err()), ["id"]);
    }
}
