//! The page every console view sits in, and the pieces forms are made of.

use maud::{html, Markup, DOCTYPE};

use super::session::Session;
use crate::auth::Permission;

/// A whole page: a header with the navigation the user's permissions allow, and `body`.
pub fn page(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · spcm console" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body {
                a.skip href="#main" { "Skip to the content" }
                header.top {
                    a.brand href="/console/" { "spcm console" }
                    @if let Some(session) = session {
                        nav aria-label="Console" {
                            ul {
                                @if session.can(Permission::ProfileRead) {
                                    li { a href="/console/profiles" { "Profiles" } }
                                }
                                @if session.can(Permission::AuditRead) {
                                    li { a href="/console/changes" { "Recent changes" } }
                                }
                                @if session.can(Permission::TenantAdmin) {
                                    li { a href="/console/users" { "Users" } }
                                    li { a href="/console/tokens" { "Tokens" } }
                                }
                            }
                        }
                        form.sign-out method="post" action="/console/sign-out" {
                            (token_field(session))
                            span.who { (session.username) " · " (session.tenant) }
                            button.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden field that binds a form to its session.
pub fn token_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// A labelled text input with its error, if any, right under it.
pub fn text_field(
    name: &str,
    label: &str,
    value: &str,
    error: Option<&str>,
    max_length: usize,
    hint: Option<&str>,
) -> Markup {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = match (error.is_some(), hint.is_some()) {
        (true, true) => Some(format!("{error_id} {hint_id}")),
        (true, false) => Some(error_id.clone()),
        (false, true) => Some(hint_id.clone()),
        (false, false) => None,
    };
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            input type="text" id=(id) name=(name) value=(value) maxlength=(max_length)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
            @if let Some(hint) = hint {
                p.hint id=(hint_id) { (hint) }
            }
            @if let Some(error) = error {
                p.error id=(error_id) { (error) }
            }
        }
    }
}

/// A labelled checkbox.
pub fn checkbox(name: &str, label: &str, checked: bool) -> Markup {
    let id = format!("field-{name}");
    html! {
        div.check {
            input type="checkbox" id=(id) name=(name) value="true" checked[checked];
            label for=(id) { (label) }
        }
    }
}

/// A notice above a page's content.
pub fn notice(text: &str) -> Markup {
    html! { p.notice role="status" { (text) } }
}

/// `2026-11-30 10:15:22 UTC` from milliseconds since the epoch.
pub fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "-".into())
}
