//! The console (contract §8) over real HTTP: sessions, form tokens, tenancy, and the
//! tenant-access rules. Every change it makes is checked over the API.

use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, Response};
use spcm::auth::Permission;
use spcm::config::Settings;

use crate::helpers::{backend_tests, backend_tests_with, expect_json, wait_until, TestApp, ADMIN_PASSWORD, PROFILES};

/// A browser signed in to the console: its session cookie, no redirects followed.
struct Console<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookie: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// Posts the sign-in form and returns the response as it is.
async fn post_sign_in(app: &TestApp, tenant: &str, username: &str, password: &str) -> Response {
    client()
        .post(app.url("/console/sign-in"))
        .form(&[("tenant", tenant), ("username", username), ("password", password)])
        .send()
        .await
        .expect("sign-in sent")
}

async fn sign_in<'a>(app: &'a TestApp, tenant: &str, username: &str, password: &str) -> Console<'a> {
    let response = post_sign_in(app, tenant, username, password).await;
    assert_eq!(response.status(), 303, "signing in as {username}: {}", response.text().await.unwrap_or_default());
    let set_cookie = response.headers().get(SET_COOKIE).expect("a session cookie").to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set_cookie.contains(attribute), "{attribute} in {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("spcm_session=") && cookie.len() > "spcm_session=".len() + 40, "{cookie}");
    Console { app, http: client(), cookie }
}

async fn sign_in_admin(app: &TestApp) -> Console<'_> {
    sign_in(app, "default", "admin", ADMIN_PASSWORD).await
}

impl Console<'_> {
    async fn get(&self, path: &str) -> Response {
        self.http.get(self.app.url(path)).header(COOKIE, &self.cookie).send().await.expect("request sent")
    }

    async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The form token of this session, read off a page as a browser would.
    async fn token(&self) -> String {
        let home = self.get("/console/").await;
        let path = match home.headers().get(LOCATION) {
            Some(location) => location.to_str().unwrap().to_owned(),
            None => "/console/".to_owned(),
        };
        let page = self.page(&path).await;
        field_value(&page, "csrf").expect("a form token on the page")
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.http.post(self.app.url(path)).header(COOKIE, &self.cookie).form(fields).send().await.expect("request sent")
    }

    /// Opens `page` and posts its form to `action` with `fields`, as a browser would:
    /// with the page's form token and hidden revision.
    async fn submit_from(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let body = self.page(page).await;
        let token = field_value(&body, "csrf").expect("a form token on the page");
        let revision = field_value(&body, "revision").expect("the profile's revision on the page");
        let mut all = vec![("csrf", token.as_str()), ("revision", revision.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Posts `fields` with the session's form token.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.token().await;
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }
}

/// The `value` of the input named `name` in `page`.
fn field_value(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\""))?;
    let tag_start = page[..at].rfind('<')?;
    let tag = &page[tag_start..tag_start + page[tag_start..].find('>')?];
    let value = tag.split("value=\"").nth(1)?;
    Some(value[..value.find('"')?].to_owned())
}

fn location(response: &Response) -> String {
    response.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn signed_out(response: &Response) -> bool {
    response.status() == 303 && location(response) == "/console/sign-in"
}

async fn profile_names(app: &TestApp) -> Vec<String> {
    let body = expect_json(app.list("").await, 200).await;
    body["provisioningProfileDTOList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    async fn a_form_without_the_session_token_changes_nothing(app) {
        let console = sign_in_admin(&app).await;
        let created = app.create_profile("turkeySauce", true).await;
        let id = created["id"].as_i64().unwrap();
        let without = console.post("/console/profiles", &[("name", "chaCha")]).await;
        assert_eq!(without.status(), 403);
        let wrong = console.post("/console/profiles", &[("csrf", "0".repeat(64).as_str()), ("name", "chaCha")]).await;
        assert_eq!(wrong.status(), 403);
        let delete = console.post(&format!("/console/profiles/{id}/delete"), &[]).await;
        assert_eq!(delete.status(), 403);
        let rename = console.post(&format!("/console/profiles/{id}"), &[("name", "renamed")]).await;
        assert_eq!(rename.status(), 403);
        let user = console.post("/console/users", &[("username", "intruder"), ("password", "long-enough-pw-1")]).await;
        assert_eq!(user.status(), 403);
        assert_eq!(profile_names(&app).await, ["turkeySauce"], "nothing was created, renamed or deleted");
        let users = expect_json(app.request(Method::GET, "/pcc/spcm/changes").send().await.unwrap(), 200).await;
        assert!(!users.to_string().contains("intruder"), "no user was added");

        // With the token the same form works, and the change is the API's, by this user.
        let created = console.submit("/console/profiles", &[("name", "chaCha"), ("locale", "es-ES")]).await;
        assert_eq!(created.status(), 303);
        assert!(location(&created).starts_with("/console/profiles/"), "{}", location(&created));
        assert_eq!(profile_names(&app).await, ["turkeySauce", "chaCha"]);
        let feed = expect_json(app.request(Method::GET, "/pcc/spcm/changes").send().await.unwrap(), 200).await;
        let last = feed["changes"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["actor"], serde_json::json!({"kind": "user", "name": "admin"}));
        assert_eq!(last["eventType"], "PROVISION_PROFILE_CREATED");
        assert_eq!(last["after"]["locale"], "es-ES");
    }

    async fn console_pages_send_the_security_headers(app) {
        let console = sign_in_admin(&app).await;
        for path in ["/console/sign-in", "/console/profiles", "/console/changes", "/console/users", "/console/tokens"] {
            let response = if path == "/console/sign-in" { client().get(app.url(path)).send().await.unwrap() } else { console.get(path).await };
            assert_eq!(response.status(), 200, "{path}");
            let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            let policy = header("content-security-policy");
            assert!(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
            assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(header("referrer-policy"), "same-origin", "{path}");
            assert_eq!(header("cache-control"), "no-store", "{path}");
        }
        let anonymous = client().get(app.url("/console/profiles")).send().await.unwrap();
        assert!(signed_out(&anonymous), "without a session the console sends to the sign-in form");
    }

    async fn a_session_sees_only_its_own_tenant(app) {
        app.add_tenant("other");
        app.add_user("other", "boss", "boss-password-1", &Permission::ALL);
        let theirs = app.request_as(Method::POST, PROFILES, "other", "boss", "boss-password-1")
            .json(&serde_json::json!({"name": "secret", "defaultProfile": true})).send().await.unwrap();
        let theirs = expect_json(theirs, 201).await;
        let id = theirs["id"].as_i64().unwrap();
        let console = sign_in_admin(&app).await;
        assert_eq!(console.get(&format!("/console/profiles/{id}")).await.status(), 404);
        assert_eq!(console.get(&format!("/console/profiles/{id}/edit")).await.status(), 404);
        let edit = console.submit(&format!("/console/profiles/{id}"), &[("revision", "1"), ("name", "stolen")]).await;
        assert_eq!(edit.status(), 404);
        let delete = console.submit(&format!("/console/profiles/{id}/delete"), &[("revision", "1")]).await;
        assert_eq!(delete.status(), 404);
        assert!(!console.page("/console/profiles").await.contains("secret"));
        let still = app.request_as(Method::GET, &format!("{PROFILES}/{id}"), "other", "boss", "boss-password-1").send().await.unwrap();
        assert_eq!(expect_json(still, 200).await["name"], "secret");
        // Their users are not ours either.
        assert_eq!(console.get("/console/users/boss").await.status(), 404);
    }

    async fn a_removed_user_or_changed_password_or_permissions_ends_the_session(app) {
        app.add_user("default", "ops", "ops-password-1", &[Permission::ProfileRead]);
        let console = sign_in(&app, "default", "ops", "ops-password-1").await;
        assert_eq!(console.get("/console/profiles").await.status(), 200);
        app.set_password("default", "ops", "ops-password-2");
        assert!(signed_out(&console.get("/console/profiles").await), "a changed password ends the session at once");

        let console = sign_in(&app, "default", "ops", "ops-password-2").await;
        assert_eq!(console.get("/console/profiles").await.status(), 200);
        let admin = sign_in_admin(&app).await;
        let changed = admin.submit("/console/users/ops/permissions", &[("permission", "SPCM_AUDIT_READ_PERMISSION")]).await;
        assert_eq!(changed.status(), 303);
        let feed = expect_json(app.request(Method::GET, "/pcc/spcm/changes").send().await.unwrap(), 200).await;
        let last = feed["changes"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["eventType"], "USER_UPDATED");
        assert_eq!(last["changedFields"], serde_json::json!(["permissions"]));
        assert_eq!(last["actor"], serde_json::json!({"kind": "user", "name": "admin"}));
        assert_eq!(last["after"]["permissions"], serde_json::json!(["SPCM_AUDIT_READ_PERMISSION"]));
        assert!(signed_out(&console.get("/console/changes").await), "changed permissions end the session at once");

        let console = sign_in(&app, "default", "ops", "ops-password-2").await;
        assert_eq!(console.get("/console/changes").await.status(), 200);
        assert_eq!(console.get("/console/profiles").await.status(), 403, "the permission was taken away");
        app.remove_user("default", "ops");
        assert!(signed_out(&console.get("/console/changes").await), "a removed user's session ends at once");
    }

    async fn sign_out_ends_the_session(app) {
        let console = sign_in_admin(&app).await;
        assert_eq!(console.get("/console/profiles").await.status(), 200);
        let out = console.submit("/console/sign-out", &[]).await;
        assert_eq!(out.status(), 303);
        assert!(out.headers().get(SET_COOKIE).unwrap().to_str().unwrap().contains("spcm_session=;"));
        assert!(signed_out(&console.get("/console/profiles").await), "the old cookie no longer works");

        // Signing in again from a browser that has a session ends that session.
        let first = sign_in_admin(&app).await;
        let again = client()
            .post(app.url("/console/sign-in"))
            .header(COOKIE, &first.cookie)
            .form(&[("tenant", "default"), ("username", "admin"), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 303);
        assert!(signed_out(&first.get("/console/profiles").await), "the earlier session ended");
    }

    async fn failed_sign_ins_are_limited_and_cost_the_same(app) {
        let wrong = post_sign_in(&app, "default", "admin", "not-the-password").await;
        assert_eq!(wrong.status(), 401);
        assert!(wrong.text().await.unwrap().contains("The tenant, username or password is wrong."));
        let unknown = post_sign_in(&app, "nowhere", "nobody", "not-the-password").await;
        assert_eq!(unknown.status(), 401, "an unknown tenant is answered like a wrong password");
        for _ in 1..10 {
            assert_eq!(post_sign_in(&app, "default", "admin", "not-the-password").await.status(), 401);
        }
        let throttled = post_sign_in(&app, "default", "admin", ADMIN_PASSWORD).await;
        assert_eq!(throttled.status(), 429, "the account reached its limit at this address; the right password, not yet known, waits");
        let retry: u64 = throttled.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        assert!((1..=300).contains(&retry), "{retry}");
        // The SPCM face shares the limit.
        let api = app.request(Method::GET, PROFILES).send().await.unwrap();
        assert_eq!(api.status(), 429);
        // From another address the right password works, and once verified it works here too.
        let elsewhere = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
            .build()
            .unwrap();
        let form = [("tenant", "default"), ("username", "admin"), ("password", ADMIN_PASSWORD)];
        let there = elsewhere.post(app.url("/console/sign-in")).form(&form).send().await.unwrap();
        assert_eq!(there.status(), 303);
        sign_in_admin(&app).await;
        assert_eq!(post_sign_in(&app, "default", "admin", "not-the-password").await.status(), 429, "guesses stay stopped");
    }

    async fn nobody_grants_a_permission_they_do_not_hold(app) {
        app.add_user("default", "keeper", "keeper-password-1", &[Permission::TenantAdmin, Permission::ProfileRead]);
        app.add_user("default", "ops", "ops-password-1", &[Permission::ProfileRead]);
        let console = sign_in(&app, "default", "keeper", "keeper-password-1").await;
        let added = console
            .submit("/console/users", &[("username", "new"), ("password", "new-password-12"), ("permission", "CATALOGUE_WRITE_PERMISSION")])
            .await;
        assert_eq!(added.status(), 403);
        let control = console
            .submit("/console/users", &[("username", "new"), ("password", "control\u{7}-password")])
            .await;
        assert_eq!(control.status(), 412, "control characters in a password are refused at the field");
        assert!(control.text().await.unwrap().contains("id=\"field-password-error\""));
        let granted = console
            .submit("/console/users/ops/permissions", &[("permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION"), ("permission", "SPCM_PROVISION_PROFILE_DELETE_PERMISSION")])
            .await;
        assert_eq!(granted.status(), 403);
        let token = console.submit("/console/tokens", &[("permission", "CATALOGUE_READ_PERMISSION")]).await;
        assert_eq!(token.status(), 403);
        let users = console.page("/console/users").await;
        assert!(!users.contains(">new<"), "no user was added");
        let ops = console.page("/console/users/ops").await;
        assert!(ops.contains("value=\"SPCM_PROVISION_PROFILE_DELETE_PERMISSION\" disabled>"), "ops gained nothing: {ops}");
        // What it holds, it may grant; what it does not hold stays as it was.
        let added = console
            .submit("/console/users", &[("username", "reader"), ("password", "reader-password-1"), ("permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION")])
            .await;
        assert_eq!(added.status(), 303);
        let reader = sign_in(&app, "default", "reader", "reader-password-1").await;
        assert_eq!(reader.get("/console/profiles").await.status(), 200);
        assert_eq!(reader.get("/console/users").await.status(), 403, "no tenant access without the permission");
        // The read-only user sees no control for what it lacks.
        app.create_profile("turkeySauce", true).await;
        let list = reader.page("/console/profiles").await;
        assert!(!list.contains("New profile"), "{list}");
        let id = expect_json(app.list("").await, 200).await["provisioningProfileDTOList"][0]["id"].as_i64().unwrap();
        let page = reader.page(&format!("/console/profiles/{id}")).await;
        assert!(!page.contains("/edit") && !page.contains("/delete") && !page.contains("Make default"), "{page}");
        assert_eq!(reader.get(&format!("/console/profiles/{id}/edit")).await.status(), 403);
        assert_eq!(reader.submit(&format!("/console/profiles/{id}/delete"), &[]).await.status(), 403);
        assert_eq!(profile_names(&app).await, ["turkeySauce"]);
    }

    async fn the_last_tenant_admin_cannot_be_removed_or_demoted(app) {
        let console = sign_in_admin(&app).await;
        let removed = console.submit("/console/users/admin/remove", &[]).await;
        assert_eq!(removed.status(), 409);
        let demoted = console.submit("/console/users/admin/permissions", &[("permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION")]).await;
        assert_eq!(demoted.status(), 409);
        assert!(demoted.text().await.unwrap().contains("last user holding SPCM_TENANT_ADMIN_PERMISSION"));
        assert_eq!(console.get("/console/users").await.status(), 200, "the admin is untouched and still signed in");
        // With a second admin, the first may go.
        let added = console
            .submit("/console/users", &[("username", "second"), ("password", "second-password-1"), ("permission", "SPCM_TENANT_ADMIN_PERMISSION"), ("permission", "SPCM_AUDIT_READ_PERMISSION")])
            .await;
        assert_eq!(added.status(), 303);
        let second = sign_in(&app, "default", "second", "second-password-1").await;
        assert_eq!(second.submit("/console/users/admin/remove", &[]).await.status(), 403, "admin holds more than second");
        let everything: Vec<(&str, &str)> = spcm::auth::Permission::names().into_iter().map(|p| ("permission", p)).collect();
        assert_eq!(console.submit("/console/users/second/permissions", &everything).await.status(), 303);
        let second = sign_in(&app, "default", "second", "second-password-1").await;
        assert_eq!(second.submit("/console/users/admin/remove", &[]).await.status(), 303);
        assert!(signed_out(&console.get("/console/users").await), "the removed admin's session ended");
        assert_eq!(second.submit("/console/users/second/remove", &[]).await.status(), 409);
        let feed = expect_json(app.request_as(Method::GET, "/pcc/spcm/changes", "default", "second", "second-password-1").send().await.unwrap(), 200).await;
        assert!(!feed.to_string().contains("second-password-1"), "no password in the history");
    }

    async fn a_tenant_administrator_cannot_act_on_a_user_who_holds_more(app) {
        app.add_user("default", "helpdesk", "helpdesk-password-1", &[Permission::TenantAdmin, Permission::ProfileRead]);
        app.add_user("default", "reader", "reader-password-1", &[Permission::ProfileRead]);
        let helpdesk = sign_in(&app, "default", "helpdesk", "helpdesk-password-1").await;
        let admin_page = helpdesk.page("/console/users/admin").await;
        assert!(!admin_page.contains("/console/users/admin/password"), "no form it could not use: {admin_page}");

        let reset = helpdesk.submit("/console/users/admin/password", &[("password", "taken-over-password-1")]).await;
        assert_eq!(reset.status(), 403, "resetting the password of a user who holds more");
        let stripped = helpdesk.submit("/console/users/admin/permissions", &[("permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION")]).await;
        assert_eq!(stripped.status(), 403, "changing the permissions of a user who holds more");
        assert_eq!(helpdesk.submit("/console/users/admin/remove", &[]).await.status(), 403, "removing a user who holds more");
        let escalate = helpdesk.submit("/console/users/helpdesk/permissions", &[("permission", "SPCM_TENANT_ADMIN_PERMISSION"), ("permission", "SPCM_AUDIT_READ_PERMISSION")]).await;
        assert_eq!(escalate.status(), 403, "granting itself what it does not hold");

        let taken_over = app.request_as(Method::GET, "/pcc/spcm/changes", "default", "admin", "taken-over-password-1").send().await.unwrap();
        assert_eq!(taken_over.status(), 401, "the admin's password is unchanged");
        let feed = expect_json(app.request(Method::GET, "/pcc/spcm/changes").send().await.unwrap(), 200).await;
        let of_admin = feed["changes"].as_array().unwrap().iter().filter(|c| c["entity"] == "user" && c["entityId"] == "admin").count();
        assert_eq!(of_admin, 1, "admin's creation, and nothing since: {feed}");

        // The users it covers, itself included, it manages.
        assert_eq!(helpdesk.submit("/console/users/reader/password", &[("password", "reader-password-2")]).await.status(), 303);
        assert_eq!(helpdesk.submit("/console/users/helpdesk/password", &[("password", "helpdesk-password-2")]).await.status(), 303);
    }

    async fn a_token_carries_one_or_more_catalogue_permissions(app) {
        let console = sign_in_admin(&app).await;
        let empty = console.submit("/console/tokens", &[("expiresInDays", "")]).await;
        assert_eq!(empty.status(), 403, "a token without a permission");
        let spcm_permission = console.submit("/console/tokens", &[("permission", "SPCM_PROVISION_PROFILE_READ_PERMISSION")]).await;
        assert_eq!(spcm_permission.status(), 403, "a token with a permission no token can use");
        assert!(console.page("/console/tokens").await.contains("The tenant has no catalogue tokens."));
    }

    async fn a_console_token_works_at_once_and_stops_when_revoked(app) {
        let console = sign_in_admin(&app).await;
        let created = console.submit("/console/tokens", &[("permission", "CATALOGUE_READ_PERMISSION"), ("expiresInDays", "30")]).await;
        assert_eq!(created.status(), 200);
        let page = created.text().await.unwrap();
        let secret = {
            let at = page.find("id=\"token-secret\"").expect("the secret's field");
            let value = page[at..].split("value=\"").nth(1).expect("its value");
            value[..value.find('"').unwrap()].to_owned()
        };
        assert!(secret.starts_with("spcm_"), "{secret}");
        let path = "/v2/orgs/default/base_profiles";
        assert_eq!(app.get_with_token(path, &secret).await.status(), 200, "the token works at once");
        assert!(!console.page("/console/tokens").await.contains(&secret), "the secret is shown once only");
        let id = {
            let tokens = console.page("/console/tokens").await;
            let at = tokens.find("/console/tokens/").unwrap() + "/console/tokens/".len();
            tokens[at..].split('/').next().unwrap().to_owned()
        };
        let revoked = console.submit(&format!("/console/tokens/{id}/revoke"), &[]).await;
        assert_eq!(revoked.status(), 303);
        assert_eq!(app.get_with_token(path, &secret).await.status(), 401, "revoked: refused on the next request");
        let feed = expect_json(app.request(Method::GET, "/pcc/spcm/changes").send().await.unwrap(), 200).await;
        let text = feed.to_string();
        assert!(text.contains("TOKEN_CREATED") && text.contains("TOKEN_UPDATED"), "{text}");
        assert!(!text.contains(&secret), "the secret is never recorded");
    }

    async fn validation_errors_show_at_their_field_and_rules_in_words(app) {
        let console = sign_in_admin(&app).await;
        let refused = console.submit("/console/profiles", &[("name", "   "), ("locale", "english!")]).await;
        assert_eq!(refused.status(), 412);
        let page = refused.text().await.unwrap();
        assert!(page.contains("id=\"field-name-error\">name must not be blank"), "{page}");
        assert!(page.contains("id=\"field-locale-error\">locale 'english!' is not a language tag"), "{page}");
        assert!(profile_names(&app).await.is_empty());
        let first = app.create_profile("turkeySauce", true).await["id"].as_i64().unwrap();
        let taken = console.submit("/console/profiles", &[("name", "turkeySauce")]).await;
        assert_eq!(taken.status(), 409);
        assert!(taken.text().await.unwrap().contains("already named 'turkeySauce'"));
        let other = app.create_profile("chaCha", false).await["id"].as_i64().unwrap();
        let delete_default = console
            .submit_from(&format!("/console/profiles/{first}/delete"), &format!("/console/profiles/{first}/delete"), &[])
            .await;
        assert_eq!(delete_default.status(), 422);
        assert!(delete_default.text().await.unwrap().contains("make another profile the default before deleting it"));
        // Make default: the confirmation names the current default, then the default moves.
        let confirm = console.page(&format!("/console/profiles/{other}/default")).await;
        assert!(confirm.contains("The default profile now is “"), "{confirm}");
        assert!(confirm.contains(">turkeySauce</a>"), "{confirm}");
        let moved = console
            .submit_from(&format!("/console/profiles/{other}/default"), &format!("/console/profiles/{other}/default"), &[])
            .await;
        assert_eq!(moved.status(), 303);
        assert_eq!(app.default_names().await, ["chaCha"]);
        let list = console.page("/console/profiles?name=cha").await;
        assert!(list.contains(">chaCha</a>") && !list.contains(">turkeySauce</a></td>"), "{list}");
        let history = console.page(&format!("/console/profiles/{other}")).await;
        assert!(history.contains("defaultProfile</code>: false → true"), "{history}");
    }
}

backend_tests! {
    async fn an_edit_from_a_page_changed_since_is_refused_not_applied(app) {
        let id = app.create_profile("turkeySauce", true).await["id"].as_i64().unwrap();
        app.create_profile("chaCha", false).await;
        let console = sign_in_admin(&app).await;
        let edit_page = format!("/console/profiles/{id}/edit");
        let opened = console.page(&edit_page).await;
        // Someone else changes the profile over the API meanwhile.
        let theirs = app.put_profile(id, &serde_json::json!({"locale": "es-ES"})).await;
        assert_eq!(theirs.status(), 200);
        let token = field_value(&opened, "csrf").unwrap();
        let revision = field_value(&opened, "revision").unwrap();
        let stale = console
            .post(&format!("/console/profiles/{id}"), &[("csrf", &token), ("revision", &revision), ("name", "turkeySauce"), ("locale", "en")])
            .await;
        assert_eq!(stale.status(), 409);
        let page = stale.text().await.unwrap();
        assert!(page.contains("Changed by someone else") && page.contains("was not applied"), "{page}");
        let now = expect_json(app.get_profile(id).await, 200).await;
        assert_eq!(now["locale"], "es-ES", "their change stands");
        // A delete or a make-default confirmed on a page changed since is refused too.
        let other = expect_json(app.list("name=chaCha").await, 200).await["provisioningProfileDTOList"][0]["id"].as_i64().unwrap();
        let confirm = console.page(&format!("/console/profiles/{other}/default")).await;
        assert_eq!(app.put_profile(other, &serde_json::json!({"subscriberClass": "gold"})).await.status(), 200);
        let fields = [("csrf", field_value(&confirm, "csrf").unwrap()), ("revision", field_value(&confirm, "revision").unwrap())];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(console.post(&format!("/console/profiles/{other}/default"), &fields).await.status(), 409);
        assert_eq!(app.default_names().await, ["turkeySauce"]);
        // From a fresh page the edit applies.
        let saved = console.submit_from(&edit_page, &format!("/console/profiles/{id}"), &[("name", "turkeySauce"), ("locale", "en")]).await;
        assert_eq!(saved.status(), 303);
        assert_eq!(expect_json(app.get_profile(id).await, 200).await["locale"], "en");
    }
}

backend_tests! {
    async fn a_profile_page_shows_its_catalogue_uses_and_the_list_pages(app) {
        let id = app.create_profile("turkeySauce", true).await["id"].as_i64().unwrap();
        let token = app.create_token("default", &[Permission::CatalogueWrite], None);
        let document = serde_json::json!({"bundled_products": [{"id": "BP1", "name": "Fibra + Movil", "provisioning_profiles": [
            {"profile_name": "turkeySauce", "territory_owners": ["FIBMM02", "MASMOVIL"],
             "activation_work_order_type_id": "WO_ACT", "cancellation_work_order_type_id": "WO_CANCEL"}]}]});
        let imported = app.import_catalogue("default", &token, &document).await;
        assert_eq!(imported.status(), 200, "{}", imported.text().await.unwrap());
        let console = sign_in_admin(&app).await;
        let page = console.page(&format!("/console/profiles/{id}")).await;
        for shown in ["BP1 · Fibra + Movil", "FIBMM02, MASMOVIL", "<td>WO_ACT</td>", "<td>WO_CANCEL</td>"] {
            assert!(page.contains(shown), "{shown} on the profile page: {page}");
        }
        let refused = console.submit_from(&format!("/console/profiles/{id}/delete"), &format!("/console/profiles/{id}/delete"), &[]).await;
        assert_eq!(refused.status(), 409);
        assert!(refused.text().await.unwrap().contains("bundled product 'BP1' provisions with it"));

        // 25 more profiles: pages of 20, a filter by subscriber type, the default marked.
        for n in 0..25 {
            let kind = if n % 5 == 0 { "POSTPAID" } else { "PREPAID" };
            let body = serde_json::json!({"name": format!("p{n:02}"), "defaultProfile": false, "subscriberType": kind});
            assert_eq!(app.post_profile(&body).await.status(), 201);
        }
        let first = console.page("/console/profiles").await;
        assert!(first.contains("26 matching profiles") && first.contains("Page 1 of 2") && first.contains("rel=\"next\""), "{first}");
        assert_eq!(first.matches("<span class=\"badge\">Default</span>").count(), 1);
        let second = console.page("/console/profiles?page=2").await;
        assert!(second.contains(">p24</a>") && !second.contains(">p00</a>") && second.contains("rel=\"prev\""), "{second}");
        let postpaid = console.page("/console/profiles?subscriberType=POSTPAID&name=P").await;
        assert!(postpaid.contains("5 matching profiles") && postpaid.contains(">p05</a>") && !postpaid.contains(">p01</a>"), "{postpaid}");
        assert_eq!(console.get("/console/profiles?name=a%07b").await.status(), 400);
    }
}

backend_tests_with! {
    Settings { console_idle_secs: 1, ..Settings::default() };
    async fn an_idle_session_ends(app) {
        let console = sign_in_admin(&app).await;
        assert_eq!(console.get("/console/profiles").await.status(), 200);
        // Idleness cannot be polled for (each look is a use); one look after the limit.
        tokio::time::sleep(Duration::from_millis(1300)).await;
        assert!(signed_out(&console.get("/console/profiles").await), "idle past the limit: signed out");
    }
}

backend_tests_with! {
    Settings { public_url: Some("https://spcm.example.com".into()), ..Settings::default() };
    async fn the_cookie_is_secure_behind_https(app) {
        let response = post_sign_in(&app, "default", "admin", ADMIN_PASSWORD).await;
        assert_eq!(response.status(), 303);
        let cookie = response.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_owned();
        assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
        let plain = sign_in_admin(&app).await;
        assert_eq!(plain.get("/console/profiles").await.status(), 200);
    }
}

backend_tests_with! {
    Settings { console_absolute_secs: 2, ..Settings::default() };
    async fn a_busy_session_still_ends_at_its_absolute_limit(app) {
        // Taken before the sign-in: the session cannot have started earlier.
        let signed_in = std::time::Instant::now();
        let console = sign_in_admin(&app).await;
        assert_eq!(console.get("/console/profiles").await.status(), 200);
        wait_until("the session's absolute limit", Duration::from_secs(10), async || {
            signed_out(&console.get("/console/profiles").await)
        })
        .await;
        assert!(signed_in.elapsed() >= Duration::from_millis(1900), "it lasted its 2 s: {:?}", signed_in.elapsed());
        let again = sign_in_admin(&app).await;
        assert_eq!(again.get("/console/profiles").await.status(), 200, "a new sign-in starts a new session");
    }
}

/// The console sessions of the tenant's user `username`, straight from the database.
fn sessions_of(app: &TestApp, username: &str) -> i64 {
    use diesel::prelude::*;
    use spcm::store::schema::{console_sessions as s, users as u};
    let mut conn = app.pool.get().expect("connection");
    s::table
        .inner_join(u::table.on(u::id.eq(s::user_id)))
        .filter(u::username.eq(username))
        .count()
        .get_result(&mut *conn)
        .expect("count")
}

backend_tests! {
    async fn the_eleventh_sign_in_ends_the_oldest_session_of_that_user_alone(app) {
        app.add_user("default", "clerk", "clerk-password-1", &[Permission::ProfileRead]);
        let admin = sign_in_admin(&app).await;
        let mut sessions = Vec::new();
        for _ in 0..11 {
            sessions.push(sign_in(&app, "default", "clerk", "clerk-password-1").await);
        }
        assert_eq!(sessions_of(&app, "clerk"), 10, "ten sessions at most");
        assert!(signed_out(&sessions[0].get("/console/profiles").await), "the oldest session ended");
        for (n, session) in sessions.iter().enumerate().skip(1) {
            assert_eq!(session.get("/console/profiles").await.status(), 200, "session {} still works", n + 1);
        }
        assert_eq!(admin.get("/console/profiles").await.status(), 200, "another user's session is not touched");
        assert_eq!(sessions_of(&app, "admin"), 1);
    }

    async fn sign_ins_of_one_user_at_the_same_moment_leave_ten_sessions(app) {
        app.add_user("default", "clerk", "clerk-password-1", &[Permission::ProfileRead]);
        // Verified once, so that the others skip argon2 and truly meet in the database.
        sign_in(&app, "default", "clerk", "clerk-password-1").await;
        let statuses = futures_util::future::join_all(
            (0..24).map(|_| async { post_sign_in(&app, "default", "clerk", "clerk-password-1").await.status() }),
        )
        .await;
        assert!(statuses.iter().all(|status| *status == 303), "every sign-in succeeds: {statuses:?}");
        assert_eq!(sessions_of(&app, "clerk"), 10);
    }
}

backend_tests_with! {
    Settings { console_idle_secs: 1, ..Settings::default() };
    async fn sessions_idle_past_their_limit_are_removed_by_the_next_sign_in(app) {
        app.add_user("default", "clerk", "clerk-password-1", &[Permission::ProfileRead]);
        sign_in(&app, "default", "clerk", "clerk-password-1").await;
        assert_eq!(sessions_of(&app, "clerk"), 1);
        // Never used again: only the clean-up at another user's sign-in can remove it.
        wait_until("the idle session's removal", Duration::from_secs(10), async || {
            sign_in_admin(&app).await;
            sessions_of(&app, "clerk") == 0
        })
        .await;
    }
}

backend_tests_with! {
    Settings { console_absolute_secs: 1, ..Settings::default() };
    async fn sessions_past_their_absolute_limit_are_removed_by_the_next_sign_in(app) {
        app.add_user("default", "clerk", "clerk-password-1", &[Permission::ProfileRead]);
        sign_in(&app, "default", "clerk", "clerk-password-1").await;
        assert_eq!(sessions_of(&app, "clerk"), 1);
        wait_until("the old session's removal", Duration::from_secs(10), async || {
            sign_in_admin(&app).await;
            sessions_of(&app, "clerk") == 0
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_the_browser_says_came_from_another_site_changes_nothing() {
    let app = crate::helpers::spawn_with(Settings::default()).await;
    for site in ["cross-site", "same-site"] {
        let response = client()
            .post(app.url("/console/sign-in"))
            .header("sec-fetch-site", site)
            .form(&[("tenant", "default"), ("username", "admin"), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{site}");
        assert!(response.headers().get(SET_COOKIE).is_none(), "{site}: no session");
    }
    let own = client()
        .post(app.url("/console/sign-in"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("tenant", "default"), ("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 303, "the console's own form");
    assert!(own.headers().get(SET_COOKIE).is_some());
}
