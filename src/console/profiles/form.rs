//! The form that creates or edits a profile: what it shows, and what it sends back.

use maud::{html, Markup};

use super::input::FieldError;
use super::revision_field;
use crate::console::form::Form;
use crate::console::layout::{checkbox, text_field, token_field};
use crate::console::session::Session;
use crate::domain::ProvisioningProfile;

/// What a profile form shows and sends back.
#[derive(Debug, Default)]
pub struct ProfileFields {
    pub(super) name: String,
    pub(super) locale: String,
    pub(super) initial_core_plan_name: String,
    pub(super) subscriber_class: String,
    pub(super) subscriber_type: String,
    pub(super) default_profile: bool,
    pub(super) dps_enabled: bool,
    pub(super) dps_notification: bool,
    pub(super) eos_notification: bool,
    pub(super) payg_notification: bool,
}

impl ProfileFields {
    pub fn of(profile: &ProvisioningProfile) -> ProfileFields {
        ProfileFields {
            name: profile.name.clone(),
            locale: profile.locale.clone().unwrap_or_default(),
            initial_core_plan_name: profile.initial_core_plan_name.clone().unwrap_or_default(),
            subscriber_class: profile.subscriber_class.clone().unwrap_or_default(),
            subscriber_type: profile.subscriber_type.clone().unwrap_or_default(),
            default_profile: profile.default_profile,
            dps_enabled: profile.dps_enabled,
            dps_notification: profile.dps_notification,
            eos_notification: profile.eos_notification,
            payg_notification: profile.payg_notification,
        }
    }

    pub fn from_form(form: &Form) -> ProfileFields {
        let text = |name: &str| form.get(name).unwrap_or_default().to_owned();
        ProfileFields {
            name: text("name"),
            locale: text("locale"),
            initial_core_plan_name: text("initialCorePlanName"),
            subscriber_class: text("subscriberClass"),
            subscriber_type: text("subscriberType"),
            default_profile: form.ticked("defaultProfile"),
            dps_enabled: form.ticked("dpsEnabled"),
            dps_notification: form.ticked("dpsNotification"),
            eos_notification: form.ticked("eosNotification"),
            payg_notification: form.ticked("paygNotification"),
        }
    }
}

fn error_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors.iter().find(|e| e.field == field).map(|e| e.description.as_str())
}

pub fn profile_form(
    session: &Session,
    action: &str,
    fields: &ProfileFields,
    errors: &[FieldError],
    revision: Option<i64>,
) -> Markup {
    let creating = revision.is_none();
    let known = ["name", "locale", "initialCorePlanName", "subscriberClass", "subscriberType"];
    let others: Vec<&FieldError> = errors.iter().filter(|e| !known.contains(&e.field.as_str())).collect();
    let type_error = error_for(errors, "subscriberType");
    html! {
        @if !errors.is_empty() {
            p.notice.error role="alert" { "Some fields need attention; each is marked below." }
        }
        @for error in &others {
            p.error { (error.description) }
        }
        form.card method="post" action=(action) novalidate {
            (token_field(session))
            @if let Some(revision) = revision {
                (revision_field(revision))
            }
            (text_field("name", "Name", &fields.name, error_for(errors, "name"), 400, Some("1 to 100 characters, unique in the tenant.")))
            (text_field("locale", "Locale", &fields.locale, error_for(errors, "locale"), 35, Some("A language tag such as en or es-ES; empty for none.")))
            (text_field("initialCorePlanName", "Initial core plan", &fields.initial_core_plan_name, error_for(errors, "initialCorePlanName"), 400, None))
            (text_field("subscriberClass", "Subscriber class", &fields.subscriber_class, error_for(errors, "subscriberClass"), 400, None))
            div.field.invalid[type_error.is_some()] {
                label for="field-subscriberType" { "Subscriber type" }
                select id="field-subscriberType" name="subscriberType"
                    aria-invalid=[type_error.map(|_| "true")] aria-describedby=[type_error.map(|_| "field-subscriberType-error")] {
                    option value="" selected[fields.subscriber_type.is_empty()] { "None" }
                    option value="PREPAID" selected[fields.subscriber_type.eq_ignore_ascii_case("PREPAID")] { "Prepaid" }
                    option value="POSTPAID" selected[fields.subscriber_type.eq_ignore_ascii_case("POSTPAID")] { "Postpaid" }
                }
                @if let Some(error) = type_error {
                    p.error id="field-subscriberType-error" { (error) }
                }
            }
            fieldset {
                legend { "Options" }
                @if creating {
                    (checkbox("defaultProfile", "Default profile (takes the default from the current one)", fields.default_profile))
                }
                (checkbox("dpsEnabled", "DPS enabled", fields.dps_enabled))
                (checkbox("dpsNotification", "DPS notification", fields.dps_notification))
                (checkbox("eosNotification", "EOS notification", fields.eos_notification))
                (checkbox("paygNotification", "PAYG notification", fields.payg_notification))
            }
            div.actions {
                button type="submit" { @if creating { "Create profile" } @else { "Save changes" } }
                a href=(if creating { "/console/profiles".to_owned() } else { action.to_owned() }) { "Cancel" }
            }
        }
    }
}
