//! A tenant never sees, changes or learns of another tenant's profiles (contract §1).

use reqwest::Method;
use serde_json::{json, Value};
use spcm::auth::Permission;
use spcm::auth::PermissionSet;

use crate::helpers::{backend_tests, expect_json, PROFILES};

backend_tests! {
    async fn another_tenants_profiles_are_invisible_and_untouchable(app) {
        let id = app.create_profile("chaCha", true).await["id"].as_i64().unwrap();
        app.add_tenant("rival");
        let everything: Vec<Permission> = Permission::ALL.to_vec();
        app.add_user("rival", "boss", "boss-pw", &everything);
        let rival = |method: Method, path: &str| app.request_as(method, path, "rival", "boss", "boss-pw");
        let one = format!("{PROFILES}/{id}");

        let not_found = json!({"message": format!("provisioning profile {id} not found"), "errorCode": 404});
        assert_eq!(expect_json(rival(Method::GET, &one).send().await.unwrap(), 404).await, not_found);
        assert_eq!(expect_json(rival(Method::PUT, &one).json(&json!({"name": "stolen"})).send().await.unwrap(), 404).await, not_found);
        assert_eq!(expect_json(rival(Method::DELETE, &one).send().await.unwrap(), 404).await, not_found);
        let bulk = expect_json(rival(Method::DELETE, &format!("{PROFILES}?id={id}")).send().await.unwrap(), 207).await;
        assert_eq!(bulk["results"][0]["status"], 404);
        let bulk = expect_json(rival(Method::PUT, PROFILES).json(&json!([{"id": id, "name": "stolen"}])).send().await.unwrap(), 207).await;
        assert_eq!(bulk["results"][0]["status"], 404);
        let listing: Value = expect_json(rival(Method::GET, PROFILES).send().await.unwrap(), 200).await;
        assert_eq!(listing["length"], 0);

        // The same name and an own default in the other tenant are fine.
        let created = rival(Method::POST, PROFILES).json(&json!({"name": "chaCha", "defaultProfile": true})).send().await.unwrap();
        assert_eq!(created.status(), 201);
        let mine = expect_json(app.get_profile(id).await, 200).await;
        assert_eq!(mine["name"], "chaCha");
        assert_eq!(mine["defaultProfile"], true, "the rival's default did not take ours");
        assert_eq!(PermissionSet::all().to_stored().split(',').count(), everything.len());
    }
}
