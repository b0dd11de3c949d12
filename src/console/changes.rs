//! The tenant's recent changes, and the table of changes a profile's page shows too.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use serde_json::Value;

use super::error::ConsoleError;
use super::html_page;
use super::layout::{page, time};
use super::signed::{AuditRead, Signed};
use crate::api::AppState;
use crate::store::changes::{self, ChangeRecord, Entity};
use crate::store::run_db;

/// Changes on the recent-changes page and in a profile's history.
pub const CHANGES_SHOWN: i64 = 50;

/// The changes as a table: when, who, what.
pub fn change_table(records: &[ChangeRecord], caption: &str) -> Markup {
    html! {
        @if records.is_empty() {
            p { "No changes recorded." }
        } @else {
            div.table-wrap {
                table.changes {
                    caption { (caption) }
                    thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Changed fields" } } }
                    tbody {
                        @for record in records {
                            tr {
                                td { (time(record.at_ms)) }
                                td { (record.actor_name) " (" (record.actor_kind) ")" }
                                td {
                                    @if record.entity == Entity::ProvisionProfile.as_str() {
                                        "profile " a href=(format!("/console/profiles/{}", record.entity_id)) { (record.entity_id) }
                                    } @else {
                                        (record.entity) " " (record.entity_id)
                                    }
                                    " " (record.action)
                                }
                                td {
                                    @match record.action.as_str() {
                                        "created" => "(all fields set)",
                                        "deleted" => "(removed)",
                                        _ => (changed_fields(record)),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The changed fields, each with its old and new value where the record has them.
fn changed_fields(record: &ChangeRecord) -> Markup {
    let fields: Vec<String> = serde_json::from_str(&record.changed_fields).unwrap_or_default();
    let state = |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok());
    let (before, after) = (state(&record.before), state(&record.after));
    let value = |side: &Option<Value>, field: &str| -> String {
        match side.as_ref().and_then(|v| v.get(field)) {
            None | Some(Value::Null) => "—".into(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        }
    };
    let both = before.is_some() && after.is_some();
    html! {
        ul.fields {
            @for field in &fields {
                li {
                    code { (field) }
                    @if both && field != "password" {
                        ": " (value(&before, field)) " → " (value(&after, field))
                    }
                }
            }
        }
    }
}

pub async fn changes(signed: Signed<AuditRead>, state: web::Data<AppState>) -> Result<HttpResponse, ConsoleError> {
    let session = signed.session;
    let tenant_id = session.tenant_id;
    let records = run_db(&state.pool, move |conn| changes::recent(conn, tenant_id, CHANGES_SHOWN)).await?;
    let body = change_table(&records, "The tenant's latest changes, newest first");
    Ok(html_page(StatusCode::OK, page("Recent changes", Some(&session), body)))
}
