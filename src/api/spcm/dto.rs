//! The SPCM face's JSON: the profile as clients know it, and the parsing of request
//! bodies into domain types, collecting every failing field for one 412.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::FieldError;
use crate::domain::{Locale, NewProfile, ProfileName, ProfilePatch, ProvisioningProfile, ShortText, SubscriberType};

/// A provisioning profile: the template a new subscriber is provisioned with.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(xml(name = "provisioningProfile"))]
#[schema(as = ProvisioningProfile, example = json!({
    "id": 39, "name": "turkeySauce", "defaultProfile": false, "locale": "en",
    "initialCorePlanName": "turkey", "subscriberClass": "gold", "subscriberType": "POSTPAID",
    "dpsEnabled": false, "dpsNotification": false, "eosNotification": false, "paygNotification": false,
    "_links": {"self": {"href": "/pcc/spcm/provisionProfile/39"}}
}))]
pub struct ProfileDto {
    /// Assigned by the service; unique across tenants.
    pub id: i64,
    /// Unique within the tenant.
    pub name: String,
    /// `true` for the tenant's default profile; a tenant has at most one.
    pub default_profile: bool,
    #[schema(required = true)]
    pub locale: Option<String>,
    #[schema(required = true)]
    pub initial_core_plan_name: Option<String>,
    #[schema(required = true)]
    pub subscriber_class: Option<String>,
    #[schema(required = true)]
    pub subscriber_type: Option<String>,
    pub dps_enabled: bool,
    pub dps_notification: bool,
    pub eos_notification: bool,
    pub payg_notification: bool,
    /// HAL links; left out of XML.
    #[serde(rename = "_links")]
    pub links: ProfileLinks,
}

impl ProfileDto {
    /// The profile with its `self` link under `link_base` (empty, or the public URL).
    pub fn new(p: ProvisioningProfile, link_base: &str) -> Self {
        let links = ProfileLinks { this: Link { href: format!("{link_base}{}/{}", super::BASE_PATH, p.id) } };
        ProfileDto {
            id: p.id,
            name: p.name,
            default_profile: p.default_profile,
            locale: p.locale,
            initial_core_plan_name: p.initial_core_plan_name,
            subscriber_class: p.subscriber_class,
            subscriber_type: p.subscriber_type,
            dps_enabled: p.dps_enabled,
            dps_notification: p.dps_notification,
            eos_notification: p.eos_notification,
            payg_notification: p.payg_notification,
            links,
        }
    }
}

/// A profile's HAL links.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileLinks {
    /// The profile itself.
    #[serde(rename = "self")]
    pub this: Link,
}

/// A profile to create: `name` and `defaultProfile` are mandatory, `id` is ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "name": "example-prepaid", "defaultProfile": false, "locale": "en", "initialCorePlanName": "prepaidCORE",
    "subscriberClass": "Standard", "subscriberType": "PREPAID"
}))]
#[allow(dead_code)] // documents the body; handlers parse it field by field
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
    pub name: String,
    /// Mandatory. `true` makes the new profile the tenant's default: the profile that was
    /// the default stops being it, in the same transaction. Send `false` to leave the
    /// default where it is.
    pub default_profile: bool,
    /// Ignored: the service assigns the id.
    pub id: Option<i64>,
    /// A language tag such as `en` or `es-ES`.
    #[schema(max_length = 35, pattern = r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")]
    pub locale: Option<String>,
    /// At most 100 characters, no control characters or Unicode noncharacters.
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    pub initial_core_plan_name: Option<String>,
    /// At most 100 characters, no control characters or Unicode noncharacters.
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    pub subscriber_class: Option<String>,
    /// `PREPAID` or `POSTPAID`, in any case.
    #[schema(pattern = r"^([Pp][Rr][Ee]|[Pp][Oo][Ss][Tt])[Pp][Aa][Ii][Dd]$")]
    pub subscriber_type: Option<String>,
    /// The subscriber's `dpsEnabled` flag; `false` when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    pub dps_enabled: Option<bool>,
    /// The subscriber's `dpsNotification` flag; `false` when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    pub dps_notification: Option<bool>,
    /// The subscriber's `eosNotification` flag; `false` when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    pub eos_notification: Option<bool>,
    /// The subscriber's `paygNotification` flag; `false` when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    pub payg_notification: Option<bool>,
}

/// A change (`PUT …/{id}`): the fields present replace, the others keep their value;
/// `null` clears an optional text field. An `id` may be sent but must equal the path's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"subscriberClass": "platinum", "paygNotification": true}))]
#[allow(dead_code)] // documents the body; handlers parse it field by field
pub struct ProfileChangeRequest {
    /// Never `null` (412). The same rules as on creation: NFC, trimmed, 1–100 characters,
    /// no control characters, noncharacters or bidirectional controls, at least one visible
    /// character.
    #[schema(value_type = String, required = false, min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF][^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF\u202A-\u202E\u2066-\u2069]*$")]
    pub name: Option<String>,
    /// `true` moves the tenant's default to this profile: the profile that was the default
    /// stops being it, in the same transaction. `false` on the default profile is refused
    /// (422, errorCode 1002): make another profile the default instead. Never `null` (412).
    #[schema(value_type = bool, required = false)]
    pub default_profile: Option<bool>,
    /// A language tag such as `en` or `es-ES`; `null` clears it.
    #[schema(max_length = 35, pattern = r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")]
    pub locale: Option<String>,
    /// At most 100 characters, no control characters or Unicode noncharacters.
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    pub initial_core_plan_name: Option<String>,
    /// At most 100 characters, no control characters or Unicode noncharacters.
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    pub subscriber_class: Option<String>,
    /// `PREPAID` or `POSTPAID`, in any case; `null` clears it.
    #[schema(pattern = r"^([Pp][Rr][Ee]|[Pp][Oo][Ss][Tt])[Pp][Aa][Ii][Dd]$")]
    pub subscriber_type: Option<String>,
    /// The subscriber's `dpsEnabled` flag; unchanged when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    pub dps_enabled: Option<bool>,
    /// The subscriber's `dpsNotification` flag; unchanged when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    pub dps_notification: Option<bool>,
    /// The subscriber's `eosNotification` flag; unchanged when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    pub eos_notification: Option<bool>,
    /// The subscriber's `paygNotification` flag; unchanged when absent, never `null` (412).
    #[schema(value_type = bool, required = false)]
    pub payg_notification: Option<bool>,
}

/// One item of a bulk PUT: the profile's `id` and the change.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // documents the body; handlers parse it field by field
pub struct ProfileUpdateRequest {
    pub id: i64,
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

/// A HAL link.
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    pub href: String,
}

/// The listing's HAL links, each keeping the filters. With a `limit`: `first` and `last`,
/// `prev` after the first page, `next` while more profiles remain.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListLinks {
    /// This page, as asked for.
    #[serde(rename = "self")]
    pub this: Link,
    /// The first page; with a `limit` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Link, required = false)]
    pub first: Option<Link>,
    /// The page before; with a `limit`, after the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Link, required = false)]
    pub prev: Option<Link>,
    /// The page after; with a `limit`, while more remain.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Link, required = false)]
    pub next: Option<Link>,
    /// The last page; with a `limit` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Link, required = false)]
    pub last: Option<Link>,
}

impl ListLinks {
    /// `self`, and `next` when there is one.
    pub fn next_only(this: Link, next: Option<Link>) -> ListLinks {
        ListLinks { this, first: None, prev: None, next, last: None }
    }
}

/// A page of the tenant's profiles (`GET /pcc/spcm/provisionProfile`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(xml(name = "provisioningProfiles"))]
pub struct ProfileList {
    /// Profiles in this response.
    pub length: usize,
    #[serde(rename = "provisioningProfileDTOList")]
    #[schema(xml(wrapped))]
    pub profiles: Vec<ProfileDto>,
    #[serde(rename = "_links")]
    pub links: ListLinks,
}

/// Query of the listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(non_snake_case, dead_code)]
pub struct ListParams {
    /// Exact name, case-sensitive, trailing spaces included; normalised to Unicode NFC like
    /// the names themselves. No control characters or Unicode noncharacters (400).
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    name: Option<String>,
    /// `PREPAID` or `POSTPAID`, any case (400 otherwise).
    #[param(pattern = r"^([Pp][Rr][Ee]|[Pp][Oo][Ss][Tt])[Pp][Aa][Ii][Dd]$")]
    subscriberType: Option<String>,
    /// `true`: only the default profile; `false`: every other profile.
    defaultProfile: Option<bool>,
    /// Profiles to skip, in id order (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Most profiles in the page (1–1000); without it, every match. `_links.next` names the
    /// next page while more remain.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// Query of the bulk DELETE: the ids, in order.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DeleteParams {
    /// `?id=1&id=2…`, 1 to 1000 ids.
    #[param(explode = true, style = Form, min_items = 1, max_items = 1000)]
    id: Vec<i64>,
}

/// One item of a 207: its status and its profile, or the single call's error body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(xml(name = "result"))]
pub struct MultiStatusItem {
    pub index: usize,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ProfileDto, required = false)]
    pub provisioning_profile: Option<ProfileDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = u32, required = false)]
    pub error_code: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<FieldError>, required = false, xml(wrapped))]
    pub errors: Option<Vec<FieldError>>,
}

/// The 207 multi-status body: one result per item, in the request's order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(xml(name = "multiStatus"))]
#[schema(example = json!({"length": 2, "results": [
    {"index": 0, "status": 201, "provisioningProfile": {"id": 7, "name": "a", "defaultProfile": false, "locale": null,
        "initialCorePlanName": null, "subscriberClass": null, "subscriberType": null, "dpsEnabled": false,
        "dpsNotification": false, "eosNotification": false, "paygNotification": false,
        "_links": {"self": {"href": "/pcc/spcm/provisionProfile/7"}}}},
    {"index": 1, "status": 409, "message": "name 'b' already exists", "errorCode": 409}
]}))]
pub struct MultiStatus {
    pub length: usize,
    #[schema(xml(wrapped))]
    pub results: Vec<MultiStatusItem>,
}

/// The boolean flags besides `defaultProfile`, in the order clients send them.
const FLAGS: [&str; 4] = ["dpsEnabled", "dpsNotification", "eosNotification", "paygNotification"];

/// Reads fields of one JSON object, noting every problem instead of stopping at the first.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    fn new(object: &'a Map<String, Value>) -> Self {
        Fields { object, errors: Vec::new() }
    }

    fn fail(&mut self, field: &str, description: impl Into<String>) {
        self.errors.push(FieldError::new(field, description));
    }

    /// `None` when absent. Booleans are never `null`.
    fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.object.get(field)? {
            Value::Bool(value) => Some(*value),
            Value::Null => {
                self.fail(field, format!("{field} must not be null"));
                None
            }
            _ => {
                self.fail(field, format!("{field} must be a boolean"));
                None
            }
        }
    }

    /// `None` when absent, `Some(None)` for `null`.
    fn text(&mut self, field: &str) -> Option<Option<&'a str>> {
        match self.object.get(field)? {
            Value::String(value) => Some(Some(value.as_str())),
            Value::Null => Some(None),
            _ => {
                self.fail(field, format!("{field} must be a string"));
                None
            }
        }
    }

    /// Parses a present, non-null text with `parse`; a failure is noted on `field`.
    fn parsed<T>(&mut self, field: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<Option<T>> {
        match self.text(field)? {
            None => Some(None),
            Some(raw) => match parse(raw) {
                Ok(value) => Some(Some(value)),
                Err(description) => {
                    self.fail(field, description);
                    None
                }
            },
        }
    }

    fn id(&mut self) -> Option<i64> {
        match self.object.get("id")? {
            Value::Number(n) => match n.as_i64() {
                Some(id) => Some(id),
                None => {
                    self.fail("id", "id must be an integer");
                    None
                }
            },
            Value::Null => None,
            _ => {
                self.fail("id", "id must be an integer");
                None
            }
        }
    }

    /// The optional text fields common to POST and PUT.
    fn optional_texts(&mut self) -> OptionalTexts {
        OptionalTexts {
            locale: self.parsed("locale", Locale::parse),
            initial_core_plan_name: self.parsed("initialCorePlanName", |v| ShortText::parse("initialCorePlanName", v)),
            subscriber_class: self.parsed("subscriberClass", |v| ShortText::parse("subscriberClass", v)),
            subscriber_type: self.parsed("subscriberType", SubscriberType::parse),
        }
    }

    fn flags(&mut self) -> [Option<bool>; 4] {
        FLAGS.map(|flag| self.boolean(flag))
    }
}

struct OptionalTexts {
    locale: Option<Option<Locale>>,
    initial_core_plan_name: Option<Option<ShortText>>,
    subscriber_class: Option<Option<ShortText>>,
    subscriber_type: Option<Option<SubscriberType>>,
}

fn object(value: &Value) -> Result<&Map<String, Value>, Vec<FieldError>> {
    value.as_object().ok_or_else(|| vec![FieldError::new("$", "each provisioning profile must be a JSON object")])
}

/// A POST body: `name` and `defaultProfile` mandatory, `id` ignored.
pub fn parse_new(value: &Value) -> Result<NewProfile, Vec<FieldError>> {
    let mut fields = Fields::new(object(value)?);
    let name = match fields.object.get("name") {
        None | Some(Value::Null) => {
            fields.fail("name", "name is mandatory");
            None
        }
        Some(_) => fields.parsed("name", ProfileName::parse).flatten(),
    };
    let default_profile = match fields.object.get("defaultProfile") {
        None | Some(Value::Null) => {
            fields.fail("defaultProfile", "defaultProfile is mandatory");
            None
        }
        Some(_) => fields.boolean("defaultProfile"),
    };
    let texts = fields.optional_texts();
    let [dps_enabled, dps_notification, eos_notification, payg_notification] = fields.flags();
    let (Some(name), Some(default_profile), true) = (name, default_profile, fields.errors.is_empty()) else {
        return Err(fields.errors);
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

/// A PUT body: only the fields present change. `path_id` is the id of `PUT …/{id}`;
/// without it (a bulk item) the body's `id` is mandatory. Returns the target id.
pub fn parse_patch(value: &Value, path_id: Option<i64>) -> Result<(i64, ProfilePatch), Vec<FieldError>> {
    let mut fields = Fields::new(object(value)?);
    let body_id = fields.id();
    let id = match (path_id, body_id) {
        (Some(path), Some(body)) if path != body => {
            fields.fail("id", format!("id {body} does not match the id {path} in the path"));
            None
        }
        (Some(path), _) => Some(path),
        (None, Some(body)) => Some(body),
        (None, None) => {
            if !fields.errors.iter().any(|e| e.field == "id") {
                fields.fail("id", "id is mandatory");
            }
            None
        }
    };
    let name = match fields.object.get("name") {
        None => None,
        Some(Value::Null) => {
            fields.fail("name", "name must not be null");
            None
        }
        Some(_) => fields.parsed("name", ProfileName::parse).flatten(),
    };
    let default_profile = fields.boolean("defaultProfile");
    let texts = fields.optional_texts();
    let [dps_enabled, dps_notification, eos_notification, payg_notification] = fields.flags();
    let (Some(id), true) = (id, fields.errors.is_empty()) else {
        return Err(fields.errors);
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

#[cfg(test)]
mod tests {
    use super::*;
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
