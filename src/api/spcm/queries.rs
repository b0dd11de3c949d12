//! The SPCM face's query strings: the listing's filters and page, the bulk delete's ids.

use utoipa::IntoParams;

use crate::api::query::{self, QueryParams};
use crate::domain::{forbidden_character, forbidden_character_problem, InvalidValue, ProfileName, SubscriberType};

/// Query of the listing, as read.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ListParams {
    /// Exact name, case-sensitive, trailing spaces included; normalised to Unicode NFC like
    /// the names themselves. No control characters or Unicode noncharacters (400).
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F\uFDD0-\uFDEF\uFFFE\uFFFF]*$")]
    pub name: Option<String>,
    /// `PREPAID` or `POSTPAID`, any case (400 otherwise).
    #[param(value_type = Option<String>, pattern = r"^([Pp][Rr][Ee]|[Pp][Oo][Ss][Tt])[Pp][Aa][Ii][Dd]$")]
    pub subscriber_type: Option<SubscriberType>,
    /// `true`: only the default profile; `false`: every other profile.
    pub default_profile: Option<bool>,
    /// Profiles to skip, in id order (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Most profiles in the page (1–1000); without it, every match. `_links.next` names the
    /// next page while more remain.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

impl QueryParams for ListParams {
    const NAMES: &'static [&'static str] = &["name", "subscriberType", "defaultProfile", "offset", "limit"];

    fn read(&mut self, name: &str, value: &str) -> Result<(), InvalidValue> {
        // Contract §1.1: no control characters or noncharacters in a filter.
        if let Some(c) = forbidden_character(value).filter(|_| matches!(name, "name" | "subscriberType")) {
            return Err(InvalidValue::new(forbidden_character_problem(c)));
        }
        match name {
            // Compared as names are stored (NFC).
            "name" => self.name = Some(ProfileName::filter(value)?),
            "subscriberType" => {
                self.subscriber_type =
                    Some(SubscriberType::parse(value).map_err(|_| InvalidValue::new("must be PREPAID or POSTPAID"))?)
            }
            "defaultProfile" => {
                self.default_profile = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(InvalidValue::new("must be true or false")),
                })
            }
            "offset" => self.offset = Some(query::at_least_zero(value)?),
            _ => self.limit = Some(query::limit(value)?),
        }
        Ok(())
    }
}

/// Query of the bulk DELETE: the ids, in order.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// `?id=1&id=2…`, 1 to 1000 ids.
    #[param(explode = true, style = Form, min_items = 1, max_items = 1000)]
    pub id: Vec<i64>,
}
