//! A change of a tenant's data as the change feed, the history, the CLI and the events
//! show it (contract §7).

use serde::Serialize;
use serde_json::Value;

/// What was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    ProvisionProfile,
    Catalogue,
    User,
    Token,
    Tenant,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::ProvisionProfile => "provisionProfile",
            Entity::Catalogue => "catalogue",
            Entity::User => "user",
            Entity::Token => "token",
            Entity::Tenant => "tenant",
        }
    }
}

/// What happened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
    Imported,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
            Action::Imported => "imported",
        }
    }
}

/// `PROVISION_PROFILE_UPDATED` from `provisionProfile` and `updated`.
pub fn event_type(entity: &str, action: &str) -> String {
    let mut snake = String::with_capacity(entity.len() + action.len() + 4);
    for ch in entity.chars() {
        if ch.is_ascii_uppercase() {
            snake.push('_');
        }
        snake.push(ch.to_ascii_uppercase());
    }
    snake.push('_');
    snake.push_str(&action.to_ascii_uppercase());
    snake
}

/// One recorded change, in the shape every reader of changes gets; the fields in the
/// order they are written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEvent {
    pub id: i64,
    /// RFC 3339 in UTC, with milliseconds.
    pub at: String,
    pub tenant: String,
    pub actor: ChangeActor,
    pub request_id: Option<String>,
    /// `event_type` of the entity and the action.
    pub event_type: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    /// The names of the fields whose value changed (null if the stored list is unreadable).
    pub changed_fields: Value,
    /// The entity before and after the change; null where it did not exist.
    pub before: Value,
    pub after: Value,
}

/// Who made a change: `cli`, a `user` by name, or a `token` by id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeActor {
    pub kind: String,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_upper_snake_case() {
        assert_eq!(event_type("provisionProfile", "deleted"), "PROVISION_PROFILE_DELETED");
        assert_eq!(event_type("catalogue", "imported"), "CATALOGUE_IMPORTED");
        assert_eq!(event_type("user", "created"), "USER_CREATED");
    }
}
