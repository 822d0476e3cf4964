//! The certification catalog and implementers' credentials.

use chrono::Duration;
use serde_json::json;

use crate::both;
use crate::support::{Backend, spawn_park};

both!(
    the_catalog_is_managed_by_the_platform_admin,
    ops_record_and_revoke_credentials,
    credentials_are_scoped_to_their_holders,
    expiry_counts_at_once,
);

async fn the_catalog_is_managed_by_the_platform_admin(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let body = json!({"code": "SME-ADV", "name_zh": "专精特新辅导师", "name_en": "Specialised SME advisor", "category": "high_tech", "validity_months": 24});
    let c = admin.post("/api/v1/certifications", body.clone()).await;
    let id = c.created()["id"].as_i64().unwrap_or_default();
    admin.post("/api/v1/certifications", body).await.problem(409, "code_taken");
    admin
        .post(
            "/api/v1/certifications",
            json!({"code": "X1", "name_zh": "x", "name_en": "x", "category": "erp", "validity_months": 0}),
        )
        .await
        .problem(422, "invalid_field");
    let r = admin.patch(&format!("/api/v1/certifications/{id}"), json!({"validity_months": 36})).await;
    assert_eq!(r.expect(200)["validity_months"], 36);
    let ops = park.login("ops@vpark.demo").await;
    ops.patch(&format!("/api/v1/certifications/{id}"), json!({"validity_months": 12})).await.problem(403, "forbidden");
    assert_eq!(ops.get("/api/v1/certifications?limit=200").await.items().len(), 10);
    park.stop().await;
}

async fn ops_record_and_revoke_credentials(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let implementer = park.login("implementer@vpark.demo").await;
    let today = park.today();
    let r = ops
        .post(
            "/api/v1/credentials",
            json!({"user_id": implementer.id, "certification": "ERP-L1", "issued_on": today.to_string()}),
        )
        .await;
    let c = r.created().clone();
    assert_eq!(c["status"], "earned");
    assert_eq!(c["valid"], true);
    assert_eq!(c["holder_name"], "李明");
    // Expiry defaults to the certification's validity (24 months).
    let expires = c["expires_on"].as_str().unwrap_or_default().to_owned();
    assert!(
        expires.starts_with(&(today.format("%Y").to_string().parse::<i32>().unwrap_or(0) + 2).to_string()),
        "{expires}"
    );

    ops.post("/api/v1/credentials", json!({"user_id": implementer.id, "certification": "ERP-L1"}))
        .await
        .problem(409, "credential_exists");
    // Only implementers hold credentials.
    let client = park.login("client@vpark.demo").await;
    ops.post("/api/v1/credentials", json!({"user_id": client.id, "certification": "ERP-L1"}))
        .await
        .problem(422, "invalid_field");
    ops.post("/api/v1/credentials", json!({"user_id": implementer.id, "certification": "NOPE"}))
        .await
        .problem(422, "invalid_field");

    let id = c["id"].as_i64().unwrap_or_default();
    ops.patch(&format!("/api/v1/credentials/{id}"), json!({"status": "revoked"})).await.problem(422, "invalid_field");
    let r = ops
        .patch(&format!("/api/v1/credentials/{id}"), json!({"status": "revoked", "revoked_reason": "考试成绩无效"}))
        .await;
    let revoked = r.expect(200);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["valid"], false);
    let events = ops.get(&format!("/api/v1/audit-events?resource_kind=credential&resource_id={id}")).await.items();
    assert_eq!(events[0]["action"], "credential.revoked");
    assert_eq!(events[0]["before"]["status"], "earned");
    assert_eq!(events[0]["after"]["revoked_reason"], "考试成绩无效");
    park.stop().await;
}

async fn credentials_are_scoped_to_their_holders(b: Backend) {
    let park = spawn_park(b).await;
    let implementer = park.login("implementer@vpark.demo").await;
    let mine = implementer.get("/api/v1/credentials").await.items();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|c| c["user_id"] == implementer.id));

    let sub = park.login("sub@vpark.demo").await;
    let org = sub.get("/api/v1/credentials?limit=200").await.items();
    assert_eq!(org.len(), 6, "the credentials of sub-1's implementers");
    assert!(org.iter().all(|c| c["org_id"] == sub.org_id));

    let client = park.login("client@vpark.demo").await;
    assert!(client.get("/api/v1/credentials").await.items().is_empty());
    let equity = park.login("equity@vpark.demo").await;
    let id = mine[0]["id"].as_i64().unwrap_or_default();
    equity.get(&format!("/api/v1/credentials/{id}")).await.problem(404, "not_found");
    equity.patch(&format!("/api/v1/credentials/{id}"), json!({"status": "expired"})).await.problem(403, "forbidden");

    let ops = park.login("ops@vpark.demo").await;
    let all = ops.get("/api/v1/credentials?limit=200").await.items();
    assert_eq!(all.len(), 34);
    let expiring = ops.get("/api/v1/credentials?status=expiring&limit=200").await.items();
    assert!(expiring.len() >= 5, "the demo park has credentials expiring within 30 days");
    assert_eq!(ops.get("/api/v1/credentials?status=revoked").await.items().len(), 1);
    park.stop().await;
}

async fn expiry_counts_at_once(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let id = park.user_id("chen.yu@shulian-erp.cn").await;
    let creds = ops.get(&format!("/api/v1/credentials?user_id={id}")).await.items();
    assert_eq!(creds[0]["status"], "expiring");
    assert_eq!(creds[0]["valid"], true);
    // Thirteen days later it is past its expiry date: no longer valid, whatever the status says.
    park.clock.advance(Duration::days(13));
    let ops = park.login("ops@vpark.demo").await;
    let creds = ops.get(&format!("/api/v1/credentials?user_id={id}")).await.items();
    assert_eq!(creds[0]["valid"], false);
    park.stop().await;
}
