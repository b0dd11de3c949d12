//! A profile form's fields as the domain's profile input, so that the console accepts and
//! refuses exactly what the APIs do, field by field.

pub use crate::domain::FieldError;
use crate::domain::{Given, NewProfile, ProfileInput, ProfilePatch};

use super::form::ProfileFields;

impl ProfileFields {
    /// What the form gives: an empty text field is absent from a new profile and clears
    /// the value of an existing one.
    fn input(&self, creating: bool) -> ProfileInput {
        let text = |value: &str| match value {
            "" if creating => Given::Absent,
            "" => Given::Null,
            value => Given::Value(value.to_owned()),
        };
        ProfileInput {
            id: Given::Absent,
            name: Given::Value(self.name.clone()),
            default_profile: if creating { Given::Value(self.default_profile) } else { Given::Absent },
            locale: text(&self.locale),
            initial_core_plan_name: text(&self.initial_core_plan_name),
            subscriber_class: text(&self.subscriber_class),
            subscriber_type: text(&self.subscriber_type),
            dps_enabled: Given::Value(self.dps_enabled),
            dps_notification: Given::Value(self.dps_notification),
            eos_notification: Given::Value(self.eos_notification),
            payg_notification: Given::Value(self.payg_notification),
        }
    }

    /// The new profile the fields describe, or every field's error.
    pub fn parse_new(&self) -> Result<NewProfile, Vec<FieldError>> {
        self.input(true).parse_new()
    }

    /// The change of profile `id` the fields describe, or every field's error.
    pub fn parse_patch(&self, id: i64) -> Result<ProfilePatch, Vec<FieldError>> {
        self.input(false).parse_change(Some(id)).map(|(_, patch)| patch)
    }
}
