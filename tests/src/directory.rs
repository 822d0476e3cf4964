//! Organisations and the service catalog through the API.

use serde_json::{Value, json};

use crate::both;
use crate::support::{Backend, spawn_park};

both!(
    the_platform_admin_registers_and_updates_organisations,
    the_rules_of_each_kind_of_organisation,
    partners_see_only_their_own_organisation,
    organisation_lists_filter_and_page,
    the_service_catalog,
    reference_lists_are_public,
);

fn subcontractor(name: &str) -> Value {
    json!({
        "kind": "subcontract_partner",
        "name_zh": name,
        "name_en": "Suzhou Jinggong ERP Services",
        "regions": ["jiangsu", "shanghai"],
        "industries": ["manufacturing"],
        "categories": ["erp"],
        "capacity": 6,
        "contact_email": "BD@jinggong-erp.cn"
    })
}

async fn the_platform_admin_registers_and_updates_organisations(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let created = admin.post("/api/v1/organisations", subcontractor("苏州精工 ERP 实施服务有限公司")).await;
    let org = created.created().clone();
    assert_eq!(org["kind"], "subcontract_partner");
    assert_eq!(org["tier"], "registered", "partners start registered");
    assert_eq!(org["status"], "active");
    assert_eq!(org["parent_id"], Value::Null);
    assert_eq!(org["contact_email"], "bd@jinggong-erp.cn");
    let id = org["id"].as_i64().unwrap_or_default();

    let r = admin.get(&format!("/api/v1/organisations/{id}")).await;
    assert_eq!(r.expect(200)["name_zh"], "苏州精工 ERP 实施服务有限公司");

    let r = admin
        .patch(&format!("/api/v1/organisations/{id}"), json!({"capacity": 9, "contact_phone": null, "tier": "silver"}))
        .await;
    let updated = r.expect(200);
    assert_eq!(updated["capacity"], 9);
    assert_eq!(updated["tier"], "silver");

    let ops = park.login("ops@vpark.demo").await;
    let events = ops.get(&format!("/api/v1/audit-events?resource_kind=organisation&resource_id={id}")).await.items();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["action"], "organisation.updated");
    assert_eq!(events[0]["before"]["capacity"], 6);
    assert_eq!(events[0]["after"]["capacity"], 9);
    assert_eq!(events[1]["action"], "organisation.created");

    // Ops read every organisation but do not change them.
    ops.patch(&format!("/api/v1/organisations/{id}"), json!({"capacity": 1})).await.problem(403, "forbidden");
    park.stop().await;
}

async fn the_rules_of_each_kind_of_organisation(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let equity = |stake: Value| json!({"kind": "equity_partner", "name_zh": "宁波甬商企业服务有限公司", "regions": ["zhejiang"], "equity_stake": stake});
    admin.post("/api/v1/organisations", equity(json!("0.50"))).await.problem(422, "invalid_field");
    admin.post("/api/v1/organisations", equity(json!("0"))).await.problem(422, "invalid_field");
    admin.post("/api/v1/organisations", equity(json!("abc"))).await.problem(422, "invalid_field");
    // A number where a decimal string belongs is a type error.
    admin.post("/api/v1/organisations", equity(json!(0.3))).await.problem(400, "malformed_body");
    let ok = admin.post("/api/v1/organisations", equity(json!("0.35"))).await;
    let body = ok.created();
    assert_eq!(body["equity_stake"], "0.35");
    let vendor = admin.get("/api/v1/me").await.body["organisation"]["id"].clone();
    assert_eq!(body["parent_id"], vendor, "equity partners belong to the vendor");

    let r = admin
        .post(
            "/api/v1/organisations",
            json!({"kind": "client", "name_zh": "测试客户", "regions": ["atlantis"], "industries": ["software"]}),
        )
        .await;
    r.problem(422, "invalid_field");
    assert!(r.body["message"].as_str().unwrap_or_default().contains("atlantis"));
    assert_eq!(r.body["details"]["field"], "regions");
    admin
        .post(
            "/api/v1/organisations",
            json!({"kind": "client", "name_zh": "测试客户", "regions": ["zhejiang"], "industries": ["software"], "capacity": 3}),
        )
        .await
        .problem(422, "invalid_field");
    admin
        .post("/api/v1/organisations", json!({"kind": "vendor", "name_zh": "第二个厂商"}))
        .await
        .problem(409, "vendor_exists");
    let mut bad_code = subcontractor("代码错误有限公司");
    bad_code["credit_code"] = json!("91330106MA2H3K4L5X");
    admin.post("/api/v1/organisations", bad_code).await.problem(422, "invalid_field");
    // Credit codes are unique.
    let taken = admin.get("/api/v1/organisations?kind=client&limit=1").await.items()[0]["credit_code"].clone();
    let mut dup = subcontractor("重复代码有限公司");
    dup["credit_code"] = taken;
    admin.post("/api/v1/organisations", dup).await.problem(409, "credit_code_taken");
    // Kind and parent never change through an update.
    let id = admin.get("/api/v1/organisations?kind=client&limit=1").await.items()[0]["id"].as_i64().unwrap_or_default();
    admin.patch(&format!("/api/v1/organisations/{id}"), json!({"kind": "vendor"})).await.problem(400, "malformed_body");
    park.stop().await;
}

async fn partners_see_only_their_own_organisation(b: Backend) {
    let park = spawn_park(b).await;
    let sub = park.login("sub@vpark.demo").await;
    let r = sub.get("/api/v1/organisations?limit=200").await;
    let items = r.items();
    // Its own, and the clients of the orders it delivers (views.rs tests which); no other
    // partner, no other client.
    assert!(items.iter().any(|o| o["id"] == sub.org_id));
    assert!(items.iter().all(|o| o["id"] == sub.org_id || o["kind"] == "client"), "{items:?}");
    let ops = park.login("ops@vpark.demo").await;
    let clients = ops.get("/api/v1/organisations?kind=client&limit=200").await.items();
    let stranger = clients.iter().find(|c| !items.iter().any(|o| o["id"] == c["id"])).cloned().unwrap_or_default();
    sub.get(&format!("/api/v1/organisations/{}", stranger["id"])).await.problem(404, "not_found");
    let other_partner = park.org_id_of("sub2@vpark.demo").await;
    sub.get(&format!("/api/v1/organisations/{other_partner}")).await.problem(404, "not_found");
    sub.patch(&format!("/api/v1/organisations/{}", sub.org_id), json!({"capacity": 99}))
        .await
        .problem(403, "forbidden");
    let own = sub.get(&format!("/api/v1/organisations/{}", sub.org_id)).await;
    assert_eq!(own.expect(200)["capacity"], 8, "unchanged");
    park.stop().await;
}

async fn organisation_lists_filter_and_page(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = ops.get(&format!("/api/v1/organisations?limit=10{cursor}")).await;
        ids.extend(r.items().iter().filter_map(|o| o["id"].as_i64()));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), 42);
    let subs = ops.get("/api/v1/organisations?kind=subcontract_partner").await.items();
    assert_eq!(subs.len(), 6);
    let erp_in_jiangsu =
        ops.get("/api/v1/organisations?kind=subcontract_partner&region=jiangsu&category=erp").await.items();
    let names: Vec<&str> = erp_in_jiangsu.iter().filter_map(|o| o["name_zh"].as_str()).collect();
    assert_eq!(names, vec!["上海数联 ERP 实施服务有限公司"]);
    let clients_in_zhejiang = ops.get("/api/v1/organisations?kind=client&region=zhejiang").await.items();
    assert_eq!(clients_in_zhejiang.len(), 5);
    let by_name = ops.get("/api/v1/organisations?q=云帆").await.items();
    assert_eq!(by_name.len(), 1);
    park.stop().await;
}

async fn the_service_catalog(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let service = |code: &str, certs: Value| {
        json!({
            "code": code,
            "name_zh": "专精特新申报辅导",
            "name_en": "Specialised SME application",
            "category": "high_tech",
            "required_certifications": certs,
            "milestones": [
                {"code": "diagnosis", "name_zh": "诊断", "name_en": "Diagnosis", "due_days": 10},
                {"code": "submission", "name_zh": "申报", "name_en": "Submission", "due_days": 45}
            ]
        })
    };
    admin.post("/api/v1/services", service("SME-SPEC", json!(["NOPE-1"]))).await.problem(422, "invalid_field");
    let created = admin.post("/api/v1/services", service("SME-SPEC", json!(["HT-ADV"]))).await;
    let s = created.created().clone();
    assert_eq!(s["status"], "active");
    assert_eq!(s["milestones"][1]["due_days"], 45);
    admin.post("/api/v1/services", service("SME-SPEC", json!([]))).await.problem(409, "code_taken");
    let mut bad = service("SME-2", json!([]));
    bad["milestones"][1]["due_days"] = json!(5);
    admin.post("/api/v1/services", bad).await.problem(422, "invalid_field");

    let id = s["id"].as_i64().unwrap_or_default();
    let r =
        admin.patch(&format!("/api/v1/services/{id}"), json!({"status": "retired", "description": "停止销售"})).await;
    assert_eq!(r.expect(200)["status"], "retired");
    // Everyone reads the catalog; only the platform admin changes it.
    let client = park.login("client.user@vpark.demo").await;
    let list = client.get("/api/v1/services?category=high_tech").await.items();
    assert_eq!(list.len(), 2);
    client.patch(&format!("/api/v1/services/{id}"), json!({"status": "active"})).await.problem(403, "forbidden");
    park.stop().await;
}

async fn reference_lists_are_public(b: Backend) {
    let park = spawn_park(b).await;
    let r = park.anon().get("/api/v1/reference").await;
    let body = r.expect(200);
    assert_eq!(body["regions"].as_array().map(Vec::len), Some(34));
    assert!(
        body["service_categories"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x["code"] == "high_tech" && x["name_zh"] == "高企认定"))
    );
    park.stop().await;
}
