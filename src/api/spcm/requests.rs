//! The SPCM face's request bodies: the types the OpenAPI document shows are the ones a
//! body is read into. Each field is read leniently, as what the client gave (absent,
//! null, a value or a value of another type), and the domain's one parse names every
//! failing field for the 412.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;
use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{FieldError, Given, NewProfile, ProfileInput, ProfilePatch};

/// One field as the client gave it; never fails, so every field gets its own verdict.
fn given<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<Given<T>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => Given::Null,
        value => serde_json::from_value(value).map_or(Given::Mistyped, Given::Value),
    })
}

/// A profile to create: `name` and `defaultProfile` are mandatory, `id` is ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "name": "example-prepaid", "defaultProfile": false, "locale": "en", "initialCorePlanName": "prepaidCORE",
    "subscriberClass": "Standard", "subscriberType": "PREPAID"
}))]
pub struct NewProfileRequest {
    /// Normalised to Unicode NFC, then trimmed: 1–100 characters, no control characters or
    /// Unicode noncharacters (U+FDD0–U+FDEF, and U+FFFE and U+FFFF of every plane), no
    /// bidirectional controls, at least one visible character (not only zero-width or
    /// format characters); unique within the tenant, compared exactly and case-sensitively.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF][^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF\u202A-\u202E\u2066-\u2069]*$"
    )]
    #[schema(value_type = String, required = true)]
    #[serde(default, deserialize_with = "given")]
    pub name: Given<String>,
    /// Mandatory. `true` makes the new profile the tenant's default: the profile that was
    /// the default stops being it, in the same transaction. Send `false` to leave the
    /// default where it is.
    #[schema(value_type = bool, required = true)]
    #[serde(default, deserialize_with = "given")]
    pub default_profile: Given<bool>,
    /// Ignored: the service assigns the id.
    #[schema(value_type = Option<i64>, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub id: Given<i64>,
    /// A language tag such as `en` or `es-ES`.
    #[schema(value_type = Option<String>, required = false, max_length = 35, pattern = r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")]
    #[serde(default, deserialize_with = "given")]
    pub locale: Given<String>,
    /// At most 100 characters, no control characters or Unicode noncharacters.
    #[schema(value_type = Option<String>, required = false, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    #[serde(default, deserialize_with = "given")]
    pub initial_core_plan_name: Given<String>,
    /// At most 100 characters, no control characters or Unicode noncharacters.
    #[schema(value_type = Option<String>, required = false, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    #[serde(default, deserialize_with = "given")]
    pub subscriber_class: Given<String>,
    /// `PREPAID` or `POSTPAID`, in any case.
    #[schema(value_type = Option<String>, required = false, pattern = r"^([Pp][Rr][Ee]|[Pp][Oo][Ss][Tt])[Pp][Aa][Ii][Dd]$")]
    #[serde(default, deserialize_with = "given")]
    pub subscriber_type: Given<String>,
    /// The subscriber's `dpsEnabled` flag; `false` when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub dps_enabled: Given<bool>,
    /// The subscriber's `dpsNotification` flag; `false` when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub dps_notification: Given<bool>,
    /// The subscriber's `eosNotification` flag; `false` when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub eos_notification: Given<bool>,
    /// The subscriber's `paygNotification` flag; `false` when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub payg_notification: Given<bool>,
}

/// A change (`PUT …/{id}`): the fields present replace, the others keep their value;
/// `null` clears an optional text field. An `id` may be sent but must equal the path's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"subscriberClass": "platinum", "paygNotification": true}))]
pub struct ProfileChangeRequest {
    /// Never `null` (412). The same rules as on creation: NFC, trimmed, 1–100 characters,
    /// no control characters, noncharacters or bidirectional controls, at least one visible
    /// character.
    #[schema(value_type = String, required = false, min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF][^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF\u202A-\u202E\u2066-\u2069]*$")]
    #[serde(default, deserialize_with = "given")]
    pub name: Given<String>,
    /// `true` moves the tenant's default to this profile: the profile that was the default
    /// stops being it, in the same transaction. `false` on the default profile is refused
    /// (422, errorCode 1002): make another profile the default instead. Never `null` (412).
    #[schema(value_type = bool, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub default_profile: Given<bool>,
    /// A language tag such as `en` or `es-ES`; `null` clears it.
    #[schema(value_type = Option<String>, required = false, max_length = 35, pattern = r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")]
    #[serde(default, deserialize_with = "given")]
    pub locale: Given<String>,
    /// At most 100 characters, no control characters or Unicode noncharacters.
    #[schema(value_type = Option<String>, required = false, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    #[serde(default, deserialize_with = "given")]
    pub initial_core_plan_name: Given<String>,
    /// At most 100 characters, no control characters or Unicode noncharacters.
    #[schema(value_type = Option<String>, required = false, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    #[serde(default, deserialize_with = "given")]
    pub subscriber_class: Given<String>,
    /// `PREPAID` or `POSTPAID`, in any case; `null` clears it.
    #[schema(value_type = Option<String>, required = false, pattern = r"^([Pp][Rr][Ee]|[Pp][Oo][Ss][Tt])[Pp][Aa][Ii][Dd]$")]
    #[serde(default, deserialize_with = "given")]
    pub subscriber_type: Given<String>,
    /// The subscriber's `dpsEnabled` flag; unchanged when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub dps_enabled: Given<bool>,
    /// The subscriber's `dpsNotification` flag; unchanged when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub dps_notification: Given<bool>,
    /// The subscriber's `eosNotification` flag; unchanged when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub eos_notification: Given<bool>,
    /// The subscriber's `paygNotification` flag; unchanged when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    #[serde(default, deserialize_with = "given")]
    pub payg_notification: Given<bool>,
}

/// One item of a bulk PUT: the profile's `id` and the change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileUpdateRequest {
    #[schema(value_type = i64, required = true)]
    #[serde(default, deserialize_with = "given")]
    pub id: Given<i64>,
    #[serde(flatten)]
    pub change: ProfileChangeRequest,
}

/// A batch of 1–1000 items of `T`, answered with a multi-status.
fn batch_of<T: ToSchema>() -> RefOr<Schema> {
    ArrayBuilder::new().items(Ref::from_schema_name(T::name())).min_items(Some(1)).max_items(Some(1000)).into()
}

/// The body of a POST: one profile (201) or a batch of 1–1000 (207).
pub struct CreateProfiles;

impl PartialSchema for CreateProfiles {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name(NewProfileRequest::name()))
            .item(batch_of::<NewProfileRequest>())
            .into()
    }
}

impl ToSchema for CreateProfiles {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((NewProfileRequest::name().into(), NewProfileRequest::schema()));
    }
}

/// The body of a bulk PUT: 1–1000 changes, each naming its `id`.
pub struct ProfileUpdates;

impl PartialSchema for ProfileUpdates {
    fn schema() -> RefOr<Schema> {
        batch_of::<ProfileUpdateRequest>()
    }
}

impl ToSchema for ProfileUpdates {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ProfileUpdateRequest::name().into(), ProfileUpdateRequest::schema()));
    }
}

impl From<NewProfileRequest> for ProfileInput {
    fn from(body: NewProfileRequest) -> Self {
        ProfileInput {
            id: body.id,
            name: body.name,
            default_profile: body.default_profile,
            locale: body.locale,
            initial_core_plan_name: body.initial_core_plan_name,
            subscriber_class: body.subscriber_class,
            subscriber_type: body.subscriber_type,
            dps_enabled: body.dps_enabled,
            dps_notification: body.dps_notification,
            eos_notification: body.eos_notification,
            payg_notification: body.payg_notification,
        }
    }
}

impl From<ProfileUpdateRequest> for ProfileInput {
    fn from(body: ProfileUpdateRequest) -> Self {
        let change = body.change;
        ProfileInput {
            id: body.id,
            name: change.name,
            default_profile: change.default_profile,
            locale: change.locale,
            initial_core_plan_name: change.initial_core_plan_name,
            subscriber_class: change.subscriber_class,
            subscriber_type: change.subscriber_type,
            dps_enabled: change.dps_enabled,
            dps_notification: change.dps_notification,
            eos_notification: change.eos_notification,
            payg_notification: change.payg_notification,
        }
    }
}

/// `value` read as `T`, when it is an object.
fn read<T: DeserializeOwned>(value: &Value) -> Result<T, Vec<FieldError>> {
    let not_an_object = || vec![FieldError::new("$", "each provisioning profile must be a JSON object")];
    if !value.is_object() {
        return Err(not_an_object());
    }
    T::deserialize(value).map_err(|_| not_an_object())
}

/// A POST body, or one item of a batch: `name` and `defaultProfile` mandatory, `id` ignored.
pub fn parse_new(value: &Value) -> Result<NewProfile, Vec<FieldError>> {
    ProfileInput::from(read::<NewProfileRequest>(value)?).parse_new()
}

/// A PUT body: only the fields present change. `path_id` is the id of `PUT …/{id}`;
/// without it (a bulk item) the body's `id` is mandatory. Returns the target id.
pub fn parse_patch(value: &Value, path_id: Option<i64>) -> Result<(i64, ProfilePatch), Vec<FieldError>> {
    ProfileInput::from(read::<ProfileUpdateRequest>(value)?).parse_change(path_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SubscriberType;
    use serde_json::json;

    fn fields_of(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_seed_profile_parses() {
        let new = parse_new(&json!({
            "name": "turkeySauce", "defaultProfile": false, "locale": "en",
            "initialCorePlanName": "turkey", "subscriberClass": "gold", "subscriberType": "postpaid",
            "dpsEnabled": false, "dpsNotification": false, "eosNotification": false, "paygNotification": true
        }))
        .unwrap();
        assert_eq!(new.name.as_str(), "turkeySauce");
        assert_eq!(new.subscriber_type, Some(SubscriberType::Postpaid));
        assert!(new.payg_notification && !new.dps_enabled);
    }

    #[test]
    fn every_failing_field_is_reported_once() {
        let errors = parse_new(&json!({
            "name": 7, "locale": "!!", "subscriberType": "hybrid", "dpsEnabled": "yes", "eosNotification": null
        }))
        .unwrap_err();
        assert_eq!(
            fields_of(errors),
            ["name", "defaultProfile", "locale", "subscriberType", "dpsEnabled", "eosNotification"]
        );
    }

    #[test]
    fn a_patch_keeps_absent_fields_and_clears_null_texts() {
        let (id, patch) = parse_patch(&json!({"locale": null, "dpsEnabled": true}), Some(4)).unwrap();
        assert_eq!(id, 4);
        assert_eq!(patch.locale, Some(None));
        assert_eq!(patch.dps_enabled, Some(true));
        assert!(patch.name.is_none() && patch.default_profile.is_none() && patch.subscriber_class.is_none());
    }

    #[test]
    fn a_patch_refuses_null_for_name_and_booleans_and_a_foreign_id() {
        let errors = parse_patch(&json!({"id": 5, "name": null, "defaultProfile": null}), Some(4)).unwrap_err();
        assert_eq!(fields_of(errors), ["id", "name", "defaultProfile"]);
        let errors = parse_patch(&json!({"name": "x"}), None).unwrap_err();
        assert_eq!(fields_of(errors), ["id"]);
        let errors = parse_patch(&json!({"id": "x"}), None).unwrap_err();
        assert_eq!(fields_of(errors), ["id"]);
    }
}
