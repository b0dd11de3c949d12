//! A profile form's fields as the SPCM face's parser reads them, so that the console
//! accepts and refuses exactly what that face does, field by field.

use serde_json::{json, Map, Value};

use crate::api::spcm::dto::{parse_new, parse_patch};
pub use crate::api::spcm::FieldError;
use crate::domain::{NewProfile, ProfilePatch};

use super::form::ProfileFields;

const TEXTS: [&str; 4] = ["locale", "initialCorePlanName", "subscriberClass", "subscriberType"];
const FLAGS: [&str; 4] = ["dpsEnabled", "dpsNotification", "eosNotification", "paygNotification"];

impl ProfileFields {
    fn texts(&self) -> [&str; 4] {
        [&self.locale, &self.initial_core_plan_name, &self.subscriber_class, &self.subscriber_type]
    }

    fn flags(&self) -> [bool; 4] {
        [self.dps_enabled, self.dps_notification, self.eos_notification, self.payg_notification]
    }

    /// The request body the SPCM face would get: a POST's, or a PUT's where an empty
    /// field clears the value.
    fn to_json(&self, creating: bool) -> Value {
        let mut body = Map::new();
        body.insert("name".into(), json!(self.name));
        if creating {
            body.insert("defaultProfile".into(), json!(self.default_profile));
        }
        for (key, value) in TEXTS.into_iter().zip(self.texts()) {
            if !value.is_empty() {
                body.insert(key.into(), json!(value));
            } else if !creating {
                body.insert(key.into(), Value::Null);
            }
        }
        for (key, value) in FLAGS.into_iter().zip(self.flags()) {
            body.insert(key.into(), json!(value));
        }
        Value::Object(body)
    }

    /// The new profile the fields describe, or every field's error.
    pub fn parse_new(&self) -> Result<NewProfile, Vec<FieldError>> {
        parse_new(&self.to_json(true))
    }

    /// The change of profile `id` the fields describe, or every field's error.
    pub fn parse_patch(&self, id: i64) -> Result<ProfilePatch, Vec<FieldError>> {
        parse_patch(&self.to_json(false), Some(id)).map(|(_, patch)| patch)
    }
}
