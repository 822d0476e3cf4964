//! Logging in and out, sessions, throttling, invitations and password resets.

use chrono::Duration;
use serde_json::json;

use crate::both;
use crate::support::{Backend, spawn_park};

both!(
    login_me_logout,
    failures_read_the_same_for_known_and_unknown_addresses,
    repeated_failures_lock_the_account_then_release_it,
    unknown_addresses_are_throttled_too,
    sessions_expire,
    password_reset_by_email_link,
    invited_users_choose_their_password,
    changing_my_password_ends_my_other_sessions,
    disabled_users_and_suspended_organisations_cannot_sign_in,
    my_profile_is_mine_to_edit,
);

async fn login_me_logout(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let token = ops.token.clone().unwrap_or_default();
    assert!(token.starts_with("vps_") && token.len() > 60);

    let me = ops.get("/api/v1/me").await;
    let body = me.expect(200);
    assert_eq!(body["email"], "ops@vpark.demo");
    assert_eq!(body["roles"], json!(["vendor_ops"]));
    assert_eq!(body["organisation"]["kind"], "vendor");
    let perms = body["permissions"].as_array().cloned().unwrap_or_default();
    assert!(perms.iter().any(|p| p["resource"] == "organisation"
        && p["action"] == "read"
        && p["domains"].as_array().is_some_and(|d| d.contains(&json!("any")))));
    assert!(!perms.iter().any(|p| p["resource"] == "organisation" && p["action"] == "create"));

    ops.post_empty("/api/v1/auth/logout").await.expect(204);
    ops.get("/api/v1/me").await.problem(401, "unauthenticated");
    park.stop().await;
}

async fn failures_read_the_same_for_known_and_unknown_addresses(b: Backend) {
    let park = spawn_park(b).await;
    let anon = park.anon();
    let known = anon.post("/api/v1/auth/login", json!({"email": "ops@vpark.demo", "password": "wrong-password"})).await;
    let unknown =
        anon.post("/api/v1/auth/login", json!({"email": "nobody@vpark.demo", "password": "wrong-password"})).await;
    let malformed = anon.post("/api/v1/auth/login", json!({"email": "not-an-address", "password": "x"})).await;
    for r in [&known, &unknown, &malformed] {
        r.problem(401, "unauthenticated");
        assert_eq!(r.body["message"], "invalid e-mail or password");
    }
    park.stop().await;
}

async fn repeated_failures_lock_the_account_then_release_it(b: Backend) {
    let park = spawn_park(b).await;
    let anon = park.anon();
    let wrong = json!({"email": "sub@vpark.demo", "password": "wrong-password"});
    for _ in 0..5 {
        anon.post("/api/v1/auth/login", wrong.clone()).await.problem(401, "unauthenticated");
    }
    // Locked: even the right password is refused, with a time to wait.
    let right = json!({"email": "sub@vpark.demo", "password": "vpark-demo"});
    let locked = anon.post("/api/v1/auth/login", right.clone()).await;
    locked.problem(429, "too_many_requests");
    let retry_after: i64 =
        locked.headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");

    // The lock is audited.
    let ops = park.login("ops@vpark.demo").await;
    let events = ops.get("/api/v1/audit-events?action=user.locked").await;
    assert_eq!(events.items().len(), 1, "{}", events.body);

    park.clock.advance(Duration::seconds(61));
    anon.post("/api/v1/auth/login", right.clone()).await.expect(200);
    // A success resets the count: one more failure does not lock again.
    anon.post("/api/v1/auth/login", wrong).await.problem(401, "unauthenticated");
    anon.post("/api/v1/auth/login", right).await.expect(200);
    park.stop().await;
}

async fn unknown_addresses_are_throttled_too(b: Backend) {
    let park = spawn_park(b).await;
    let anon = park.anon();
    let body = json!({"email": "ghost@example.cn", "password": "guess"});
    for _ in 0..5 {
        anon.post("/api/v1/auth/login", body.clone()).await.problem(401, "unauthenticated");
    }
    anon.post("/api/v1/auth/login", body).await.problem(429, "too_many_requests");
    park.stop().await;
}

async fn sessions_expire(b: Backend) {
    let park = spawn_park(b).await;
    let user = park.login("client@vpark.demo").await;
    user.get("/api/v1/me").await.expect(200);
    park.clock.advance(Duration::hours(12) + Duration::minutes(1));
    let r = user.get("/api/v1/me").await;
    r.problem(401, "unauthenticated");
    assert!(r.body["message"].as_str().unwrap_or_default().contains("expired"), "{}", r.body);
    park.stop().await;
}

async fn link_token(park: &crate::support::TestPark, template: &str, email: &str) -> String {
    link_token_or_none(park, template, email).await.unwrap_or_else(|| panic!("no link in the {template} notification"))
}

/// The link token of the newest notification of a template sent to an address, if it holds one.
async fn link_token_or_none(park: &crate::support::TestPark, template: &str, email: &str) -> Option<String> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let row = notify::store::entity::Entity::find()
        .filter(notify::store::entity::Column::Template.eq(template))
        .filter(notify::store::entity::Column::RecipientEmail.eq(email))
        .order_by_desc(notify::store::entity::Column::Id)
        .one(park.park.db.read())
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no {template} notification for {email}"));
    let link = row.payload["link"].as_str().unwrap_or_default().to_owned();
    link.split("token=").nth(1).map(str::to_owned)
}

async fn outbox_count(park: &crate::support::TestPark, template: &str) -> usize {
    let ops = park.login("admin@vpark.demo").await;
    ops.get(&format!("/api/v1/notifications?template={template}")).await.items().len()
}

async fn password_reset_by_email_link(b: Backend) {
    let park = spawn_park(b).await;
    let anon = park.anon();
    // Unknown addresses get the same answer and no e-mail.
    anon.post("/api/v1/auth/password-reset", json!({"email": "nobody@example.cn"})).await.expect(202);
    assert_eq!(outbox_count(&park, "password_reset").await, 0);

    anon.post("/api/v1/auth/password-reset", json!({"email": "sub@vpark.demo"})).await.expect(202);
    // A second request within a minute sends nothing more.
    anon.post("/api/v1/auth/password-reset", json!({"email": "sub@vpark.demo"})).await.expect(202);
    assert_eq!(outbox_count(&park, "password_reset").await, 1);

    let token = link_token(&park, "password_reset", "sub@vpark.demo").await;
    assert!(token.starts_with("vpt_"));
    let before = park.login("sub@vpark.demo").await;

    // The e-mail goes out (file transport) with the link; afterwards the stored payload no
    // longer holds the link.
    let round = park.drain_outbox().await;
    assert_eq!(round.sent, 1);
    let files: Vec<_> = std::fs::read_dir(park.mail_dir.path()).expect("mail dir").flatten().collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(files[0].path()).expect("eml");
    assert!(eml.contains("multipart/alternative") && eml.contains("text/html"));

    // Too short a password is refused and the token still works afterwards.
    anon.post("/api/v1/auth/password", json!({"token": token, "password": "short"}))
        .await
        .problem(422, "invalid_field");
    anon.post("/api/v1/auth/password", json!({"token": token, "password": "a-new-passphrase"})).await.expect(204);
    // Once only.
    anon.post("/api/v1/auth/password", json!({"token": token, "password": "another-passphrase"}))
        .await
        .problem(422, "invalid_token");
    // Old sessions end; the old password no longer works; the new one does.
    before.get("/api/v1/me").await.problem(401, "unauthenticated");
    anon.post("/api/v1/auth/login", json!({"email": "sub@vpark.demo", "password": "vpark-demo"}))
        .await
        .problem(401, "unauthenticated");
    park.login_with("sub@vpark.demo", "a-new-passphrase").await;
    park.stop().await;
}

async fn invited_users_choose_their_password(b: Backend) {
    let park = spawn_park(b).await;
    let equity = park.login("equity@vpark.demo").await;
    let created = equity
        .post(
            "/api/v1/users",
            json!({"email": "Zhao.Lei@Yunfan-Tax.cn", "display_name": "赵磊", "roles": ["equity_staff"], "locale": "en"}),
        )
        .await;
    let body = created.created();
    assert_eq!(body["email"], "zhao.lei@yunfan-tax.cn", "addresses are lower-cased");
    assert_eq!(body["status"], "invited");
    assert_eq!(body["org_id"], equity.org_id);
    assert!(body.get("password_hash").is_none() && body.get("password").is_none());

    // Not before choosing a password.
    park.anon()
        .post("/api/v1/auth/login", json!({"email": "zhao.lei@yunfan-tax.cn", "password": "anything"}))
        .await
        .problem(401, "unauthenticated");

    let token = link_token(&park, "user_invited", "zhao.lei@yunfan-tax.cn").await;
    // The invitation is in English, for an English-speaking user.
    let round = park.drain_outbox().await;
    assert_eq!(round.sent, 1);
    let files: Vec<_> = std::fs::read_dir(park.mail_dir.path()).expect("mail dir").flatten().collect();
    let eml = std::fs::read_to_string(files[0].path()).expect("eml");
    assert!(eml.contains("Subject: You are invited to the vpark virtual industrial park"), "{eml}");

    // The HTML part is quoted-printable: its soft line breaks may fall inside the link.
    let unwrapped = eml.replace("=\r\n", "").replace("=\n", "");
    // (and its `=` is written `=3D`).
    assert!(
        unwrapped.contains(&format!("/set-password?token=3D{token}")),
        "the e-mail carries the console link: {unwrapped}"
    );
    // Once sent, the stored payload no longer holds the link.
    let stored = link_token_or_none(&park, "user_invited", "zhao.lei@yunfan-tax.cn").await;
    assert_eq!(stored, None);
    park.anon().post("/api/v1/auth/password", json!({"token": token, "password": "zhao-lei-2026"})).await.expect(204);
    let zhao = park.login_with("zhao.lei@yunfan-tax.cn", "zhao-lei-2026").await;
    zhao.get("/api/v1/me").await.expect(200);
    let user = equity.get(&format!("/api/v1/users/{}", zhao.id)).await;
    assert_eq!(user.body["status"], "active");
    park.stop().await;
}

async fn changing_my_password_ends_my_other_sessions(b: Backend) {
    let park = spawn_park(b).await;
    let first = park.login("implementer@vpark.demo").await;
    let second = park.login("implementer@vpark.demo").await;
    first
        .post("/api/v1/me/password", json!({"current_password": "not-it", "new_password": "new-passphrase-1"}))
        .await
        .problem(422, "invalid_field");
    first
        .post("/api/v1/me/password", json!({"current_password": "vpark-demo", "new_password": "new-passphrase-1"}))
        .await
        .expect(204);
    first.get("/api/v1/me").await.expect(200);
    second.get("/api/v1/me").await.problem(401, "unauthenticated");
    park.login_with("implementer@vpark.demo", "new-passphrase-1").await;
    park.stop().await;
}

async fn disabled_users_and_suspended_organisations_cannot_sign_in(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let staff = park.login("sub.staff@vpark.demo").await;
    admin.patch(&format!("/api/v1/users/{}", staff.id), json!({"status": "disabled"})).await.expect(200);
    staff.get("/api/v1/me").await.problem(401, "unauthenticated");
    park.anon()
        .post("/api/v1/auth/login", json!({"email": "sub.staff@vpark.demo", "password": "vpark-demo"}))
        .await
        .problem(403, "forbidden");

    let sub2 = park.login("sub2@vpark.demo").await;
    admin.patch(&format!("/api/v1/organisations/{}", sub2.org_id), json!({"status": "suspended"})).await.expect(200);
    sub2.get("/api/v1/me").await.problem(401, "unauthenticated");
    let r = park.anon().post("/api/v1/auth/login", json!({"email": "sub2@vpark.demo", "password": "vpark-demo"})).await;
    r.problem(403, "forbidden");
    assert!(r.body["message"].as_str().unwrap_or_default().contains("suspended"));
    // Nobody changes the status of their own account.
    admin.patch(&format!("/api/v1/users/{}", admin.id), json!({"status": "disabled"})).await.problem(403, "forbidden");
    park.stop().await;
}

async fn my_profile_is_mine_to_edit(b: Backend) {
    let park = spawn_park(b).await;
    let client = park.login("client.user@vpark.demo").await;
    let r = client
        .patch("/api/v1/me", json!({"display_name": "沈佳佳", "locale": "en", "phone": "+86 572 842 2002"}))
        .await;
    let body = r.expect(200);
    assert_eq!(body["display_name"], "沈佳佳");
    assert_eq!(body["locale"], "en");
    // `status` is not a field of my profile: refused as unknown, not silently applied.
    client.patch("/api/v1/me", json!({"status": "disabled"})).await.problem(400, "malformed_body");
    let r = client.patch("/api/v1/me", json!({"phone": null})).await;
    assert_eq!(r.expect(200)["phone"], serde_json::Value::Null);
    park.stop().await;
}
