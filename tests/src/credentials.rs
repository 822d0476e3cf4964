//! Earning credentials: versioned requirements, evidence and its review, automatic earning from
//! evidence and from the marketplace, progress, renewal and the daily sweep.

use chrono::Duration;
use serde_json::{Value, json};

use crate::both;
use crate::support::http::User;
use crate::support::{Backend, Options, TestPark, spawn_park, spawn_park_with};

both!(
    requirements_are_versioned_data,
    verified_evidence_earns_a_credential,
    accepted_and_rated_deliveries_earn_a_credential,
    renewal_counts_what_was_achieved_since_issue,
    the_sweep_expires_and_mails_once_across_replicas,
    progress_is_for_the_implementer_their_admins_and_vendor_roles,
);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_default()
}

async fn cert_id(user: &User, code: &str) -> i64 {
    let certs = user.get(&format!("/api/v1/certifications?q={code}")).await.items();
    certs.iter().find(|c| c["code"] == code).map(id).unwrap_or_else(|| panic!("no certification {code}"))
}

async fn credential_of(user: &User, holder: i64, code: &str) -> Value {
    let creds = user.get(&format!("/api/v1/credentials?user_id={holder}&limit=200")).await.items();
    creds
        .into_iter()
        .find(|c| c["certification_code"] == code)
        .unwrap_or_else(|| panic!("user {holder} has no {code} credential"))
}

fn texts(progress: &Value) -> Vec<String> {
    progress["items"].as_array().into_iter().flatten().map(|i| i["text_en"].as_str().unwrap_or("").to_owned()).collect()
}

async fn audit_actions(ops: &User, kind: &str, rid: i64) -> Vec<String> {
    ops.get(&format!("/api/v1/audit-events?resource_kind={kind}&resource_id={rid}&limit=200"))
        .await
        .items()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn mails_to(park: &TestPark, template: &str, email: &str) -> usize {
    let admin = park.login("admin@vpark.demo").await;
    let r = admin.get(&format!("/api/v1/notifications?template={template}&limit=200")).await;
    r.items().iter().filter(|n| n["recipient_email"] == email).count()
}

async fn requirements_are_versioned_data(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    let erp = cert_id(&admin, "ERP-L2").await;
    let r = ops.get(&format!("/api/v1/certifications/{erp}/requirements")).await;
    let h = r.expect(200);
    assert_eq!(h["current"]["version"], 2);
    assert_eq!(h["current"]["training_hours"], 16);
    assert_eq!(h["current"]["min_average_rating"], "4.00");
    assert_eq!(h["versions"].as_array().map(Vec::len), Some(2));
    assert_eq!(h["versions"][1]["version"], 1);

    let next = json!({"exam_min_score": 75, "training_hours": 16, "delivery_services": ["ERP-IMPL"], "delivery_count": 4, "min_average_rating": "4.2", "validity_months": 36});
    let path = format!("/api/v1/certifications/{erp}/requirements");
    ops.put(&path, next.clone()).await.problem(403, "forbidden");
    admin.put(&path, json!({"validity_months": 24})).await.problem(422, "invalid_field");
    admin
        .put(&path, json!({"delivery_services": ["NOPE"], "delivery_count": 1, "validity_months": 24}))
        .await
        .problem(422, "invalid_field");
    admin
        .put(&path, json!({"exam_min_score": 70, "min_average_rating": "4.0", "validity_months": 24}))
        .await
        .problem(422, "invalid_field");
    admin
        .put(&path, json!({"exam_min_score": 70, "validity_months": 24, "surprise": 1}))
        .await
        .problem(400, "malformed_body");
    let v3 = admin.put(&path, next).await.expect(200).clone();
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["min_average_rating"], "4.20");
    // The catalog's validity follows the requirements in force.
    assert_eq!(admin.get(&format!("/api/v1/certifications/{erp}")).await.expect(200)["validity_months"], 36);
    assert!(audit_actions(&ops, "certification", erp).await.contains(&"certification.requirements_published".into()));

    // A credential keeps the version it was earned under.
    let implementer = park.login("implementer@vpark.demo").await;
    let held = credential_of(&implementer, implementer.id, "ERP-L2").await;
    assert_eq!(held["requirements_version"], 2);
    // Progress is judged by the version in force.
    let p = implementer.get(&format!("/api/v1/credentials/{}/progress", id(&held))).await.expect(200).clone();
    assert_eq!(p["progress"]["version"], 3);
    park.stop().await;
}

async fn verified_evidence_earns_a_credential(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let implementer = park.login("implementer@vpark.demo").await;
    let today = park.today();

    // An implementer starts a credential, in progress only.
    implementer
        .post(
            "/api/v1/credentials",
            json!({"user_id": implementer.id, "certification": "TAX-ADV", "issued_on": today.to_string()}),
        )
        .await
        .problem(403, "forbidden");
    let other = park.user_id("chen.yu@shulian-erp.cn").await;
    implementer
        .post("/api/v1/credentials", json!({"user_id": other, "certification": "TAX-ADV"}))
        .await
        .problem(403, "forbidden");
    let c = implementer
        .post("/api/v1/credentials", json!({"user_id": implementer.id, "certification": "TAX-ADV"}))
        .await
        .expect(201)
        .clone();
    assert_eq!(c["status"], "in_progress");
    let cid = id(&c);

    // Evidence: an exam result. It counts only once verified.
    let ev = implementer
        .post(
            &format!("/api/v1/credentials/{cid}/evidence"),
            json!({"kind": "exam", "title": "税务筹划师资格考试", "taken_on": (today - Duration::days(3)).to_string(), "exam_score": 81, "attachments": ["doc:EXAM-81"]}),
        )
        .await
        .expect(201)
        .clone();
    assert_eq!(ev["status"], "submitted");
    implementer
        .post(
            &format!("/api/v1/credentials/{cid}/evidence"),
            json!({"kind": "exam", "title": "x", "taken_on": (today + Duration::days(1)).to_string(), "exam_score": 81}),
        )
        .await
        .problem(422, "invalid_field");
    implementer
        .post(
            &format!("/api/v1/credentials/{cid}/evidence"),
            json!({"kind": "training", "title": "x", "taken_on": today.to_string(), "exam_score": 81}),
        )
        .await
        .problem(422, "invalid_field");
    let p = implementer.get(&format!("/api/v1/credentials/{cid}/progress")).await.expect(200).clone();
    assert_eq!(texts(&p["progress"]), ["exam not passed yet (pass mark 75)", "0 of 24 training hours"]);

    // Ops' queue holds it; only ops review it.
    let queue = ops.get("/api/v1/evidence?status=submitted&limit=200").await.items();
    assert!(queue.iter().any(|e| id(e) == id(&ev)));
    let eid = id(&ev);
    implementer.post(&format!("/api/v1/evidence/{eid}/verify"), json!({})).await.problem(403, "forbidden");
    // A rejection says why: without a note it is refused (a missing field is a malformed body),
    // with a blank one too (a field that breaks its rule).
    let refused = ops.post(&format!("/api/v1/evidence/{eid}/reject"), json!({})).await;
    assert!(refused.problem(400, "malformed_body")["message"].as_str().is_some_and(|m| m.contains("missing")));
    ops.post(&format!("/api/v1/evidence/{eid}/reject"), json!({"note": "  "})).await.problem(422, "invalid_field");
    let r = ops.post(&format!("/api/v1/evidence/{eid}/verify"), json!({})).await.expect(200).clone();
    assert_eq!(r["evidence"]["status"], "verified");
    assert_eq!(r["credential"]["status"], "in_progress");
    ops.post(&format!("/api/v1/evidence/{eid}/verify"), json!({})).await.problem(409, "illegal_transition");

    // Training: a rejected piece never counts; the verified one completes the requirements and
    // the credential is earned in the same call.
    let post_training = |hours: i64, title: &'static str| {
        let implementer = &implementer;
        async move {
            let path = format!("/api/v1/credentials/{cid}/evidence");
            let body =
                json!({"kind": "training", "title": title, "taken_on": today.to_string(), "training_hours": hours});
            id(implementer.post(&path, body).await.created())
        }
    };
    let bad = post_training(24, "未盖章的培训证明").await;
    let r =
        ops.post(&format!("/api/v1/evidence/{bad}/reject"), json!({"note": "证明未盖章"})).await.expect(200).clone();
    assert_eq!(r["evidence"]["review_note"], "证明未盖章");
    assert_eq!(r["credential"]["status"], "in_progress");
    let good = post_training(24, "企业所得税实务（盖章）").await;
    let r = ops.post(&format!("/api/v1/evidence/{good}/verify"), json!({"note": "ok"})).await.expect(200).clone();
    let earned = &r["credential"];
    assert_eq!(earned["status"], "earned");
    assert_eq!(earned["valid"], true);
    assert_eq!(earned["issued_on"], today.to_string());
    assert_eq!(earned["requirements_version"], 1);
    assert_eq!(earned["expires_on"], (today + chrono::Months::new(36)).to_string());
    let actions = audit_actions(&ops, "credential", cid).await;
    assert!(actions.contains(&"credential.earned".to_owned()), "{actions:?}");
    assert!(audit_actions(&ops, "evidence", bad).await.contains(&"evidence.rejected".to_owned()));
    assert_eq!(mails_to(&park, "credential_earned", "implementer@vpark.demo").await, 1);
    assert_eq!(mails_to(&park, "credential_earned", "sub@vpark.demo").await, 1, "the partner admin is told");

    // Other partners see neither the credential nor its evidence.
    let sub2 = park.login("sub2@vpark.demo").await;
    sub2.get(&format!("/api/v1/credentials/{cid}/progress")).await.problem(404, "not_found");
    assert!(sub2.get(&format!("/api/v1/evidence?credential_id={cid}")).await.items().is_empty());
    sub2.post(
        &format!("/api/v1/credentials/{cid}/evidence"),
        json!({"kind": "training", "title": "x", "taken_on": today.to_string(), "training_hours": 1}),
    )
    .await
    .problem(404, "not_found");
    park.stop().await;
}

async fn accepted_and_rated_deliveries_earn_a_credential(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    // A certification earned by delivering: one accepted ERP implementation rated 4.5 or more.
    let cert = admin
        .post(
            "/api/v1/certifications",
            json!({"code": "ERP-PRO", "name_zh": "ERP 项目经理", "name_en": "ERP project manager", "category": "erp", "validity_months": 24}),
        )
        .await
        .expect(201)
        .clone();
    admin
        .put(
            &format!("/api/v1/certifications/{}/requirements", id(&cert)),
            json!({"delivery_services": ["ERP-IMPL"], "delivery_count": 1, "min_average_rating": "4.5", "validity_months": 24}),
        )
        .await
        .expect(200);
    let chen = park.user_id("chen.yu@shulian-erp.cn").await;
    let c =
        ops.post("/api/v1/credentials", json!({"user_id": chen, "certification": "ERP-PRO"})).await.expect(201).clone();
    assert_eq!(c["status"], "in_progress");
    let cid = id(&c);
    let p = ops.get(&format!("/api/v1/credentials/{cid}/progress")).await.expect(200).clone();
    assert_eq!(texts(&p["progress"]), ["0 of 1 accepted ERP-IMPL deliveries", "no rated deliveries yet (need ≥ 4.50)"]);

    // chen.yu delivered HT2026000004-1; the client accepts it, then rates it.
    let orders = ops.get("/api/v1/orders?limit=200").await.items();
    let order = orders.iter().find(|o| o["order_no"] == "HT2026000004-1").map(id).unwrap_or_default();
    let client = park.login("admin@client-4.example.cn").await;
    client.post_empty(&format!("/api/v1/orders/{order}/accept")).await.expect(200);
    let c = ops.get(&format!("/api/v1/credentials/{cid}")).await.expect(200).clone();
    assert_eq!(c["status"], "in_progress", "accepted but not rated yet");
    let p = ops.get(&format!("/api/v1/credentials/{cid}/progress")).await.expect(200).clone();
    assert_eq!(p["progress"]["items"][0]["met"], true);

    let stars = json!({"overall": 4, "professionalism": 4, "timeliness": 4, "communication": 4, "outcome": 4});
    client.post(&format!("/api/v1/orders/{order}/rating"), stars).await.expect(200);
    let c = ops.get(&format!("/api/v1/credentials/{cid}")).await.expect(200).clone();
    assert_eq!(c["status"], "in_progress", "4.0 is below 4.5");
    // Editing the rating to 5 stars completes the requirements at once.
    let better = json!({"overall": 5, "professionalism": 5, "timeliness": 5, "communication": 5, "outcome": 5});
    client.put(&format!("/api/v1/orders/{order}/rating"), better).await.expect(200);
    let c = ops.get(&format!("/api/v1/credentials/{cid}")).await.expect(200).clone();
    assert_eq!(c["status"], "earned");
    assert_eq!(c["requirements_version"], 1);
    assert_eq!(c["valid"], true);
    park.stop().await;
}

async fn renewal_counts_what_was_achieved_since_issue(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let implementer = park.login("implementer@vpark.demo").await;
    let today = park.today();
    // PMP expires in 20 days: its renewal exam is verified, its 35 training hours wait for review.
    let pmp = credential_of(&implementer, implementer.id, "PMP").await;
    assert_eq!(pmp["status"], "expiring");
    let pid = id(&pmp);
    let r = implementer.post_empty(&format!("/api/v1/credentials/{pid}/renew")).await;
    let problem = r.problem(422, "requirements_not_met");
    assert!(problem["message"].as_str().unwrap_or("").contains("0 of 35 training hours"), "{problem}");
    assert_eq!(problem["details"]["progress"]["items"][0]["met"], true);

    let pending = ops.get(&format!("/api/v1/evidence?credential_id={pid}&status=submitted")).await.items();
    assert_eq!(pending.len(), 1);
    let r = ops.post(&format!("/api/v1/evidence/{}/verify", id(&pending[0])), json!({})).await.expect(200).clone();
    // Renewed by itself the moment the requirements were met: re-issued today for 36 months.
    assert_eq!(r["credential"]["status"], "earned");
    assert_eq!(r["credential"]["issued_on"], today.to_string());
    assert_eq!(r["credential"]["expires_on"], (today + chrono::Months::new(36)).to_string());
    assert!(audit_actions(&ops, "credential", pid).await.contains(&"credential.renewed".to_owned()));
    implementer.post_empty(&format!("/api/v1/credentials/{pid}/renew")).await.problem(409, "not_due_for_renewal");
    // Evidence from before the new issue date no longer counts towards the next renewal.
    let p = implementer.get(&format!("/api/v1/credentials/{pid}/progress")).await.expect(200).clone();
    assert_eq!(p["counts_since"], today.to_string());
    assert_eq!(texts(&p["progress"]), ["exam not passed yet (pass mark 61)", "0 of 35 training hours"]);

    // A revoked credential is not renewed; an in-progress one has nothing to renew.
    let hu = park.user_id("hu.min@chucai-hr.cn").await;
    let revoked = credential_of(&ops, hu, "HR-PRO").await;
    ops.post_empty(&format!("/api/v1/credentials/{}/renew", id(&revoked))).await.problem(409, "illegal_transition");
    let sub = park.login("sub@vpark.demo").await;
    let other = park.login("sub2@vpark.demo").await;
    other.post_empty(&format!("/api/v1/credentials/{pid}/renew")).await.problem(404, "not_found");
    let tang = park.user_id("tang.xue@shulian-erp.cn").await;
    let erp = credential_of(&sub, tang, "ERP-L2").await;
    sub.post_empty(&format!("/api/v1/credentials/{}/renew", id(&erp))).await.problem(409, "illegal_transition");
    park.stop().await;
}

async fn the_sweep_expires_and_mails_once_across_replicas(b: Backend) {
    // Sessions must outlive the 31 days the clock moves.
    let park = spawn_park_with(
        b,
        Options { tweak: Box::new(|s| s.auth.session_ttl_minutes = 60 * 24 * 90), ..Options::default() },
    )
    .await;
    let implementer = park.login("implementer@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    let pmp = id(&credential_of(&implementer, implementer.id, "PMP").await);
    let erp = credential_of(&implementer, implementer.id, "ERP-L2").await;
    assert_eq!(erp["status"], "earned");
    // PMP (expiring in 20 days) expires; nothing else moves yet.
    park.clock.advance(Duration::days(21));
    // Two replicas sweep at the same moment: every change is made, audited and mailed once.
    let (a, b2) = tokio::join!(park.park.certifications.sweep(), park.park.certifications.sweep());
    let (a, b2) = (a.expect("sweep a"), b2.expect("sweep b"));
    assert!(a.expired + b2.expired >= 2, "{a:?} {b2:?}");
    let again = park.park.certifications.sweep().await.expect("third sweep");
    assert_eq!((again.expired, again.expiring), (0, 0), "a second sweep changes nothing");
    let c = implementer.get(&format!("/api/v1/credentials/{pmp}")).await.expect(200).clone();
    assert_eq!(c["status"], "expired");
    assert_eq!(c["valid"], false);
    let expired_events =
        audit_actions(&ops, "credential", pmp).await.iter().filter(|a| *a == "credential.expired").count();
    assert_eq!(expired_events, 1);
    assert_eq!(mails_to(&park, "credential_expired", "implementer@vpark.demo").await, 1);
    assert!(mails_to(&park, "credential_expired", "sub@vpark.demo").await >= 2, "PMP and chen.yu's ERP-L2");

    // ERP-L2 of the implementer enters its last 30 days: expiring, mailed once.
    let expires = chrono::NaiveDate::parse_from_str(erp["expires_on"].as_str().unwrap_or(""), "%Y-%m-%d")
        .expect("an expiry date");
    let to_window = (expires - park.today()).num_days() - 30;
    park.clock.advance(Duration::days(to_window));
    let r = park.park.certifications.sweep().await.expect("sweep");
    assert!(r.expiring >= 1, "{r:?}");
    let implementer = park.login("implementer@vpark.demo").await;
    let c = implementer.get(&format!("/api/v1/credentials/{}", id(&erp))).await.expect(200).clone();
    assert_eq!(c["status"], "expiring");
    assert_eq!(c["valid"], true);
    assert_eq!(mails_to(&park, "credential_expiring", "implementer@vpark.demo").await, 1);
    park.stop().await;
}

async fn progress_is_for_the_implementer_their_admins_and_vendor_roles(b: Backend) {
    let park = spawn_park(b).await;
    let tang = park.user_id("tang.xue@shulian-erp.cn").await;
    let ops = park.login("ops@vpark.demo").await;
    let all = ops.get(&format!("/api/v1/users/{tang}/certification-progress")).await.expect(200).clone();
    let items = all["items"].as_array().cloned().unwrap_or_default();
    let erp = items.iter().find(|i| i["certification_code"] == "ERP-L2").expect("ERP-L2");
    assert_eq!(erp["credential"]["status"], "in_progress");
    // The rejected scan does not count; the verified exam and 12 verified hours do; the 4 hours
    // waiting for review do not yet.
    assert_eq!(
        texts(&erp["progress"]),
        [
            "exam passed (82 ≥ 70)",
            "12 of 16 training hours",
            "0 of 3 accepted ERP-IMPL deliveries",
            "no rated deliveries yet (need ≥ 4.00)"
        ]
    );
    assert_eq!(erp["progress"]["met"], false);
    // Certifications not started show their requirements, counted from the deliveries alone.
    let tax = items.iter().find(|i| i["certification_code"] == "TAX-ADV").expect("TAX-ADV");
    assert!(tax["credential"].is_null());
    assert_eq!(texts(&tax["progress"]), ["exam not passed yet (pass mark 75)", "0 of 24 training hours"]);
    // Certifications without requirements are not listed unless held.
    assert!(items.iter().all(|i| i["certification_code"] != "MKT-DIG"));

    // The implementer reads their own; their partner's admin reads theirs; nobody else.
    let implementer = park.login("implementer@vpark.demo").await;
    let mine = implementer.get(&format!("/api/v1/users/{}/certification-progress", implementer.id)).await;
    let mine = mine.expect(200)["items"].as_array().cloned().unwrap_or_default();
    assert!(mine.iter().any(|i| i["certification_code"] == "ERP-L2" && i["credential"]["status"] == "earned"));
    implementer.get(&format!("/api/v1/users/{tang}/certification-progress")).await.problem(404, "not_found");
    let sub = park.login("sub@vpark.demo").await;
    sub.get(&format!("/api/v1/users/{tang}/certification-progress")).await.expect(200);
    let sub2 = park.login("sub2@vpark.demo").await;
    sub2.get(&format!("/api/v1/users/{tang}/certification-progress")).await.problem(404, "not_found");
    let client = park.login("client@vpark.demo").await;
    client.get(&format!("/api/v1/users/{tang}/certification-progress")).await.problem(404, "not_found");
    // Evidence is read the same way.
    let ev = sub.get("/api/v1/evidence?limit=200").await.items();
    assert!(ev.iter().any(|e| e["user_id"] == tang));
    assert!(ev.iter().all(|e| e["org_id"] == sub.org_id));
    let own = implementer.get("/api/v1/evidence?limit=200").await.items();
    assert!(!own.is_empty() && own.iter().all(|e| e["user_id"] == implementer.id));
    park.stop().await;
}
