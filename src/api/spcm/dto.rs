//! The SPCM face's answers: the profile as clients know it, the listing and the 207
//! multi-status.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{FieldError, ProvisioningProfile};

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
    /// The paging links as an RFC 8288 `Link` header (`first`, `prev`, `next`, `last`);
    /// `None` without them (a listing without `limit`).
    pub fn link_header(&self) -> Option<String> {
        let named = [("first", &self.first), ("prev", &self.prev), ("next", &self.next), ("last", &self.last)];
        let links: Vec<String> = named
            .iter()
            .filter_map(|(rel, link)| link.as_ref().map(|link| format!("<{}>; rel=\"{rel}\"", link.href)))
            .collect();
        (!links.is_empty()).then(|| links.join(", "))
    }
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
