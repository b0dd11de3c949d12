//! Credentials: changes count on the very next request; verified credentials are
//! cached so that known-good requests compute no argon2.

use reqwest::Method;
use secrecy::SecretString;
use spcm::auth::{verify_basic, AuthError, CredentialCache, Permission};

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
        let cache = CredentialCache::default();
        let mut conn = app.pool.get().unwrap();
        let password = SecretString::from("ops-pw");
        for _ in 0..3 {
            let principal = verify_basic(&mut conn, &cache, "default", "ops", &password).unwrap();
            assert!(principal.permissions.contains(Permission::ProfileRead));
        }
        assert_eq!(cache.stats(), (2, 1), "one argon2 run, then two cache hits");
        let wrong = verify_basic(&mut conn, &cache, "default", "ops", &SecretString::from("nope"));
        assert!(matches!(wrong, Err(AuthError::BadCredentials)), "a wrong password: {wrong:?}");
        let elsewhere = verify_basic(&mut conn, &cache, "other", "ops", &password);
        assert!(matches!(elsewhere, Err(AuthError::BadCredentials)), "an unknown tenant: {elsewhere:?}");
    }
}
