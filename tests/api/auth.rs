//! Credentials: changes count on the very next request; verified credentials are
//! cached so that known-good requests compute no argon2; failed sign-ins are limited
//! without ever locking out a caller that signs in correctly (contract §1.1).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use serde_json::json;
use spcm::auth::Permission;
use spcm::config::Settings;

use crate::hardening::metric;
use crate::helpers::{backend_tests, expect_json, spawn_with, wait_until, TestApp, ADMIN_PASSWORD, PROFILES};

/// A client whose connections come from `127.0.0.<last>`: on Linux all of 127/8 is
/// loopback, so each is another client address to the server.
fn client_from(last: u8) -> Client {
    Client::builder().local_address(IpAddr::from([127, 0, 0, last])).build().expect("client")
}

/// The status of `GET path` as `user:password` of tenant `default`, sent by `client`.
async fn status_at(app: &TestApp, client: &Client, path: &str, user: &str, password: &str) -> u16 {
    let request = client.get(app.url(path)).basic_auth(user, Some(password)).header("tenant", "default");
    request.send().await.expect("request sent").status().as_u16()
}

async fn status_from(app: &TestApp, client: &Client, user: &str, password: &str) -> u16 {
    status_at(app, client, PROFILES, user, password).await
}

/// `Retry-After` of a 429, in seconds.
fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"].to_str().unwrap().parse().expect("whole seconds")
}

backend_tests! {
    async fn a_changed_password_counts_on_the_next_request(app) {
        app.add_user("default", "ops", "first-pw", &[Permission::ProfileRead]);
        let as_ops = |pw: &str| app.request_as(Method::GET, PROFILES, "default", "ops", pw).send();
        assert_eq!(as_ops("first-pw").await.unwrap().status(), 200);
        assert_eq!(as_ops("first-pw").await.unwrap().status(), 200, "cached credentials still work");
        app.set_password("default", "ops", "second-pw");
        assert_eq!(as_ops("first-pw").await.unwrap().status(), 401, "the old password is refused at once");
        assert_eq!(as_ops("second-pw").await.unwrap().status(), 200);
    }

    async fn a_removed_user_is_refused_on_the_next_request(app) {
        app.add_user("default", "ops", "ops-pw", &[Permission::ProfileRead]);
        let as_ops = || app.request_as(Method::GET, PROFILES, "default", "ops", "ops-pw").send();
        assert_eq!(as_ops().await.unwrap().status(), 200);
        app.remove_user("default", "ops");
        assert_eq!(as_ops().await.unwrap().status(), 401);
    }

    async fn known_good_credentials_skip_argon2(app) {
        app.add_user("default", "ops", "ops-pw", &[Permission::ProfileRead]);
        // Distinct queries, so that no answer comes from the read cache.
        for limit in 1..=3 {
            let path = format!("{PROFILES}?limit={limit}");
            assert_eq!(app.request_as(Method::GET, &path, "default", "ops", "ops-pw").send().await.unwrap().status(), 200);
        }
        let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let value = |name: &str| -> f64 {
            let line = text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {text}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert_eq!(value("spcm_credential_cache_misses_total"), 1.0, "one argon2 run");
        assert_eq!(value("spcm_credential_cache_hits_total"), 3.0, "then every request verified from memory");
        let wrong = app.request_as(Method::GET, PROFILES, "default", "ops", "nope").send().await.unwrap();
        assert_eq!(wrong.status(), 401);
        let elsewhere = app.request_as(Method::GET, PROFILES, "other", "ops", "ops-pw").send().await.unwrap();
        assert_eq!(elsewhere.status(), 401);
    }

    async fn a_known_good_login_keeps_working_while_others_fail_for_its_account_from_anywhere(app) {
        let integration = client_from(2);
        let stranger = client_from(3);
        assert_eq!(status_from(&app, &integration, "admin", ADMIN_PASSWORD).await, 200, "verified once");

        // A stranger guesses from another address while the integration keeps working.
        let guessing_done = AtomicBool::new(false);
        let guessing = async {
            let mut statuses = Vec::new();
            for n in 0..12 {
                statuses.push(status_from(&app, &stranger, "admin", &format!("wrong-{n}")).await);
            }
            guessing_done.store(true, Ordering::Release);
            statuses
        };
        let working = async {
            let mut calls = 0;
            while !guessing_done.load(Ordering::Acquire) {
                // Alternately answered from memory and read through the database.
                let path = if calls % 2 == 0 { PROFILES.to_owned() } else { format!("{PROFILES}?offset={calls}") };
                assert_eq!(status_at(&app, &integration, &path, "admin", ADMIN_PASSWORD).await, 200);
                calls += 1;
            }
            calls
        };
        let (statuses, calls) = tokio::join!(guessing, working);

        let mut expected = vec![401; 10];
        expected.extend([429, 429]);
        assert_eq!(statuses, expected, "the stranger's address reached its limit for the account");
        assert!(calls >= 3, "the integration kept calling: {calls} calls");
        assert_eq!(
            metric(&app, "spcm_sign_in_paced_total").await,
            9.0,
            "the stranger's guesses after the first waited for their turn; none of the integration's calls did"
        );

        // Ten wrong passwords from the integration's own address (a shared gateway).
        for n in 0..10 {
            assert_eq!(status_from(&app, &integration, "admin", &format!("other-{n}")).await, 401);
        }
        assert_eq!(status_from(&app, &integration, "admin", "other-10").await, 429, "the guesses are stopped");
        for path in [PROFILES.to_owned(), format!("{PROFILES}?offset=1000")] {
            let status = status_at(&app, &integration, &path, "admin", ADMIN_PASSWORD).await;
            assert_eq!(status, 200, "the integration signs in correctly from the same address: {path}");
        }
        assert_eq!(status_from(&app, &client_from(4), "admin", ADMIN_PASSWORD).await, 200, "and from any other");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_spread_over_many_addresses_pace_the_account_but_never_refuse_its_right_password() {
    let app = spawn_with(Settings { signin_suspect_checks_per_sec: 10, ..Settings::default() }).await;
    app.add_user("default", "ops", "ops-Secret-1", &[Permission::ProfileRead]);
    let fresh = client_from(41);
    assert_eq!(status_from(&app, &client_from(2), "admin", "wrong").await, 401, "the account failed once");

    // One guess from each of 39 addresses at once: no address, and no account from one
    // address, comes near a limit; only the account's pacing holds them back.
    let started = Instant::now();
    let app = &app;
    let guesses = (2..=40u8).map(|last| async move {
        let status = status_from(app, &client_from(last), "admin", &format!("wrong-{last}")).await;
        (status, started.elapsed())
    });
    let flood = futures_util::future::join_all(guesses);
    let sign_ins = async {
        wait_until("ten guesses queued for their turn", Duration::from_secs(10), async || {
            metric(app, "spcm_sign_in_paced_total").await >= 10.0
        })
        .await;
        let other = status_from(app, &fresh, "ops", "ops-Secret-1").await;
        let other_done = started.elapsed();
        let right = status_from(app, &fresh, "admin", ADMIN_PASSWORD).await;
        (other, other_done, right)
    };
    let (outcomes, (other, other_done, right)) = tokio::join!(flood, sign_ins);

    let statuses: Vec<u16> = outcomes.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, vec![401; 39], "spread guesses are paced, never refused");
    let last = outcomes.iter().map(|(_, took)| *took).max().unwrap();
    assert!(last >= Duration::from_millis(3500), "39 paced checks at 10 per second took only {last:?}");
    assert_eq!(right, 200, "the right password, not yet known, from a fresh address");
    assert_eq!(other, 200);
    // Queued behind the 39 guesses it would have been answered after the last of them.
    assert!(
        other_done < last,
        "another account's sign-in is not paced: done at {other_done:?}, the last guess at {last:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_its_limit_is_refused_even_for_a_known_good_login_until_the_window_passes() {
    let app = spawn_with(Settings { signin_address_limit: 4, signin_window_secs: 2, ..Settings::default() }).await;
    app.add_user("default", "ops", "ops-Secret-1", &[Permission::ProfileRead]);
    let token = app.create_token("default", &[Permission::CatalogueRead], None);
    let gateway = client_from(2);
    assert_eq!(status_from(&app, &gateway, "admin", ADMIN_PASSWORD).await, 200, "known-good from now on");
    for user in ["a", "b", "c", "d"] {
        assert_eq!(status_from(&app, &gateway, user, "wrong").await, 401, "{user}");
    }
    let checks = metric(&app, "spcm_password_checks_total").await;

    let refused = gateway.get(app.url(PROFILES)).basic_auth("admin", Some(ADMIN_PASSWORD)).header("tenant", "default");
    let refused = refused.send().await.unwrap();
    assert!((1..=2).contains(&retry_after(&refused)), "{:?}", refused.headers());
    let body = expect_json(refused, 429).await;
    assert_eq!(body, json!({"message": "too many failed sign-ins; retry later", "errorCode": 429}));
    assert_eq!(status_from(&app, &gateway, "ops", "ops-Secret-1").await, 429, "every sign-in from the address");
    assert_eq!(metric(&app, "spcm_password_checks_total").await, checks, "a 429 checks no password");
    assert_eq!(metric(&app, "spcm_sign_in_failures_total").await, 4.0, "nor counts as a failure");
    assert_eq!(status_from(&app, &client_from(3), "admin", ADMIN_PASSWORD).await, 200, "another address");
    let catalogue = gateway.get(app.url("/v2/orgs/default/base_profiles")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(catalogue.status(), 200, "bearer tokens are not sign-ins");

    wait_until("the window to pass", Duration::from_secs(10), async || {
        status_from(&app, &gateway, "admin", ADMIN_PASSWORD).await == 200
    })
    .await;
    assert_eq!(status_from(&app, &gateway, "ops", "ops-Secret-1").await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_at_its_limit_from_one_address_is_refused_there_only() {
    let app = spawn_with(Settings { signin_suspect_checks_per_sec: 50, ..Settings::default() }).await;
    app.add_user("default", "ops", "ops-Secret-1", &[Permission::ProfileRead]);
    let (here, there) = (client_from(2), client_from(3));
    for n in 0..10 {
        assert_eq!(status_from(&app, &here, "ops", &format!("wrong-{n}")).await, 401);
    }
    let checks = metric(&app, "spcm_password_checks_total").await;

    let refused = here.get(app.url(PROFILES)).basic_auth("ops", Some("wrong-10")).header("tenant", "default");
    let refused = refused.send().await.unwrap();
    assert!((1..=300).contains(&retry_after(&refused)), "{:?}", refused.headers());
    assert_eq!(refused.status(), 429);
    assert_eq!(status_from(&app, &here, "ops", "ops-Secret-1").await, 429, "the right password, not yet known");
    assert_eq!(metric(&app, "spcm_password_checks_total").await, checks, "a 429 checks no password");
    assert_eq!(status_from(&app, &here, "admin", ADMIN_PASSWORD).await, 200, "another account from the address");
    assert_eq!(status_from(&app, &there, "ops", "ops-Secret-1").await, 200, "the account from another address");

    // Verified now: the account's limit at that address no longer stops the right password.
    assert_eq!(status_from(&app, &here, "ops", "ops-Secret-1").await, 200, "known-good");
    assert_eq!(status_from(&app, &here, "ops", "wrong-11").await, 429, "while guesses stay stopped");
    assert_eq!(metric(&app, "spcm_sign_in_failures_total").await, 10.0);
}
