//! Users and roles: scoping (own, supervised, self), role rules, audit.

use serde_json::json;

use crate::both;
use crate::support::{Backend, spawn_park};

both!(
    a_removed_role_stops_working_on_the_next_request,
    vendor_ops_supervise_equity_partners_but_not_subcontractors,
    organisation_admins_manage_their_own_people_only,
    an_organisation_keeps_its_administrator,
    role_changes_are_audited_and_readable_by_ops_only,
    another_tenants_user_is_not_found_and_not_changed,
    user_lists_page_with_cursors,
);

async fn a_removed_role_stops_working_on_the_next_request(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    ops.get("/api/v1/audit-events").await.expect(200);
    admin.put(&format!("/api/v1/users/{}/roles", ops.id), json!({"roles": ["vendor_finance"]})).await.expect(200);
    // Same token, next request: the role is gone.
    let r = ops.get("/api/v1/audit-events").await;
    r.problem(403, "forbidden");
    assert!(r.body["message"].as_str().unwrap_or_default().contains("vendor_finance"), "{}", r.body);
    admin.put(&format!("/api/v1/users/{}/roles", ops.id), json!({"roles": ["vendor_ops"]})).await.expect(200);
    ops.get("/api/v1/audit-events").await.expect(200);
    park.stop().await;
}

async fn vendor_ops_supervise_equity_partners_but_not_subcontractors(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let equity_staff = park.login("equity.staff@vpark.demo").await;
    let sub_staff = park.login("sub.staff@vpark.demo").await;
    let team = park.login("team.member@vpark.demo").await;

    // Supervised: the equity partner's and the direct team's people.
    ops.get(&format!("/api/v1/users/{}", equity_staff.id)).await.expect(200);
    ops.get(&format!("/api/v1/users/{}", team.id)).await.expect(200);
    // Not supervised: a subcontract partner's people.
    ops.get(&format!("/api/v1/users/{}", sub_staff.id)).await.problem(404, "not_found");

    let mut seen_orgs = std::collections::HashSet::new();
    let mut cursor = String::new();
    loop {
        let r = ops.get(&format!("/api/v1/users?limit=50{cursor}")).await;
        for u in r.items() {
            seen_orgs.insert(u["org_id"].as_i64().unwrap_or_default());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert!(
        seen_orgs.contains(&ops.org_id) && seen_orgs.contains(&equity_staff.org_id) && seen_orgs.contains(&team.org_id)
    );
    assert!(!seen_orgs.contains(&sub_staff.org_id), "ops must not list a subcontract partner's people");

    // The other way round: an equity partner does not see the vendor's people.
    let equity = park.login("equity@vpark.demo").await;
    equity.get(&format!("/api/v1/users/{}", ops.id)).await.problem(404, "not_found");
    park.stop().await;
}

async fn organisation_admins_manage_their_own_people_only(b: Backend) {
    let park = spawn_park(b).await;
    let sub = park.login("sub@vpark.demo").await;
    let new = |email: &str, roles: serde_json::Value| json!({"email": email, "display_name": "测试", "roles": roles, "password": "a-passphrase-1"});
    let r = sub.post("/api/v1/users", new("new.one@shulian-erp.cn", json!(["sub_staff", "implementer"]))).await;
    assert_eq!(r.created()["org_id"], sub.org_id);
    let location = r.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(sub.get(&location).await.expect(200)["email"], "new.one@shulian-erp.cn");
    // Roles of another kind of organisation: refused.
    sub.post("/api/v1/users", new("new.two@shulian-erp.cn", json!(["vendor_ops"]))).await.problem(422, "invalid_field");
    sub.post("/api/v1/users", new("new.two@shulian-erp.cn", json!([]))).await.problem(422, "invalid_field");
    // Another organisation in the body (mass assignment): not found, nothing created.
    let equity = park.login("equity@vpark.demo").await;
    let mut body = new("intruder@shulian-erp.cn", json!(["sub_staff"]));
    body["org_id"] = json!(equity.org_id);
    sub.post("/api/v1/users", body).await.problem(404, "not_found");
    let admin = park.login("admin@vpark.demo").await;
    assert!(admin.get("/api/v1/users?q=intruder").await.items().is_empty());
    // Duplicates and bad addresses.
    sub.post("/api/v1/users", new("New.One@shulian-erp.cn", json!(["sub_staff"]))).await.problem(409, "email_taken");
    sub.post("/api/v1/users", new("not an address", json!(["sub_staff"]))).await.problem(422, "invalid_field");
    // Staff may read their colleagues but not create them.
    let staff = park.login("sub.staff@vpark.demo").await;
    staff.get(&format!("/api/v1/users/{}", sub.id)).await.expect(200);
    staff.post("/api/v1/users", new("new.three@shulian-erp.cn", json!(["sub_staff"]))).await.problem(403, "forbidden");
    park.stop().await;
}

async fn an_organisation_keeps_its_administrator(b: Backend) {
    let park = spawn_park(b).await;
    let equity = park.login("equity@vpark.demo").await;
    equity
        .put(&format!("/api/v1/users/{}/roles", equity.id), json!({"roles": ["equity_staff"]}))
        .await
        .problem(409, "last_admin");
    // With a second admin, the first may step down.
    let staff = park.login("equity.staff@vpark.demo").await;
    equity.put(&format!("/api/v1/users/{}/roles", staff.id), json!({"roles": ["equity_admin"]})).await.expect(200);
    let r = equity.put(&format!("/api/v1/users/{}/roles", equity.id), json!({"roles": ["equity_staff"]})).await;
    assert_eq!(r.expect(200)["roles"], json!(["equity_staff"]));
    // An unknown role name is a 400 (not a silently ignored value).
    staff
        .put(&format!("/api/v1/users/{}/roles", staff.id), json!({"roles": ["overlord"]}))
        .await
        .problem(400, "malformed_body");
    park.stop().await;
}

async fn role_changes_are_audited_and_readable_by_ops_only(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let staff = park.login("sub.staff@vpark.demo").await;
    admin
        .put(&format!("/api/v1/users/{}/roles", staff.id), json!({"roles": ["sub_staff", "implementer"]}))
        .await
        .expect(200);
    let ops = park.login("ops@vpark.demo").await;
    let r = ops.get(&format!("/api/v1/audit-events?resource_kind=user_role&resource_id={}", staff.id)).await;
    let events = r.items();
    assert_eq!(events.len(), 1, "{}", r.body);
    let e = &events[0];
    assert_eq!(e["action"], "user_role.changed");
    assert_eq!(e["actor"], "admin@vpark.demo");
    assert_eq!(e["actor_user_id"], admin.id);
    assert_eq!(e["before"], json!(["sub_staff"]));
    assert_eq!(e["after"], json!(["sub_staff", "implementer"]));
    assert!(e["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    // Partners do not read the audit trail.
    let sub = park.login("sub@vpark.demo").await;
    sub.get("/api/v1/audit-events").await.problem(403, "forbidden");
    park.stop().await;
}

async fn another_tenants_user_is_not_found_and_not_changed(b: Backend) {
    let park = spawn_park(b).await;
    let sub = park.login("sub@vpark.demo").await;
    let equity_staff = park.login("equity.staff@vpark.demo").await;
    let target = format!("/api/v1/users/{}", equity_staff.id);
    sub.get(&target).await.problem(404, "not_found");
    sub.patch(&target, json!({"display_name": "hijacked"})).await.problem(404, "not_found");
    sub.put(&format!("{target}/roles"), json!({"roles": ["sub_staff"]})).await.problem(404, "not_found");
    let me = equity_staff.get("/api/v1/me").await;
    assert_eq!(me.body["display_name"], "王丽");
    assert_eq!(me.body["roles"], json!(["equity_staff"]));
    park.stop().await;
}

async fn user_lists_page_with_cursors(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let mut ids = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let r = admin.get(&format!("/api/v1/users?limit=7{cursor}")).await;
        let items = r.items();
        assert!(items.len() <= 7);
        ids.extend(items.iter().filter_map(|u| u["id"].as_i64()));
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "ordered by id without repeats");
    assert_eq!(ids.len(), server::seed::PEOPLE.matches("[[user]]").count(), "every demo user once");
    assert_eq!(pages, 11);
    // Filters.
    let r = admin.get("/api/v1/users?role=implementer&limit=200").await;
    assert_eq!(r.items().len(), 25);
    assert!(r.items().iter().all(|u| u["roles"].as_array().is_some_and(|rs| rs.contains(&json!("implementer")))));
    park.stop().await;
}
