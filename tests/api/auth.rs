//! Credentials: changes count on the very next request; verified credentials are
//! cached so that known-good requests compute no argon2.

use reqwest::Method;
use spcm::auth::Permission;

use crate::helpers::{backend_tests, PROFILES};

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
}
