//! The marketplace through the HTTP API: contracts, dispatch, the pool and what a
//! subcontractor may see in it, claims (also under concurrency, on two server processes),
//! tenders, the certification gate, delivery, acceptance, disputes and ratings.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::both;
use crate::support::replica::replica;
use crate::support::{Backend, TestPark, User, spawn_park};

both!(an_order_goes_from_contract_to_rating);
both!(the_pool_shows_a_subcontractor_only_what_delivery_needs);
both!(the_certification_gate_names_what_is_missing);
both!(illegal_transitions_are_409_with_the_current_state);
both!(contracts_must_add_up_and_stay_with_their_parties);
both!(tenders_take_bids_and_award_one);
both!(a_winner_that_assigns_nobody_loses_the_order_back_to_the_pool);
both!(disputes_are_resolved_by_ops);
both!(recommendations_rank_eligible_deliverers_with_reasons);
both!(sixty_four_simultaneous_claims_have_exactly_one_winner);
both!(a_claim_needs_every_certification_the_subcontract_requires);
both!(a_claim_counts_the_orders_the_claimant_has_in_hand);
both!(claim_batches_are_written_on_the_writers_thread_and_survive_its_connection);
both!(deliverer_counters_are_filled_in_for_an_existing_park);
both!(drifted_deliverer_counters_are_found_and_rebuilt);

fn deadline(park: &TestPark, hours: i64) -> String {
    (kernel::Clock::now(&*park.clock) + chrono::Duration::hours(hours)).to_rfc3339()
}

/// Ops register an ERP contract of the Hangzhou team with the first demo client; returns
/// (contract, order id).
async fn erp_contract(park: &TestPark, ops: &User) -> (Value, i64) {
    let client = park.org_id_of("client@vpark.demo").await;
    let team = park.org_id_of("team@vpark.demo").await;
    let manager = park.user_id("team@vpark.demo").await;
    let r = ops
        .post(
            "/api/v1/contracts",
            json!({"client_id": client, "signer_id": team, "account_manager_id": manager,
                "signed_on": park.today().to_string(), "term_years": 3,
                "first_year_amount": "120000.00", "annual_maintenance_fee": "24000.00",
                "lines": [{"service": "ERP-IMPL", "amount": "80000.00"}, {"service": "TAX-PLAN", "amount": "40000.00"}]}),
        )
        .await;
    let c = r.expect(201).clone();
    let order = c["lines"][0]["order_id"].as_i64().expect("an order per line");
    (c, order)
}

async fn publish(ops: &User, order: i64, mode: &str, deadline: &str) -> Value {
    ops.post(
        &format!("/api/v1/orders/{order}/subcontract"),
        json!({"reason": "cant_do", "mode": mode, "execution_share": "0.35", "min_quality": "3.50",
            "claim_deadline": deadline}),
    )
    .await
    .expect(200)
    .clone()
}

fn sub_id(order: &Value) -> i64 {
    order["subcontract"]["id"].as_i64().expect("a subcontract")
}

async fn an_order_goes_from_contract_to_rating(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let (contract, order) = erp_contract(&park, &ops).await;
    assert_eq!(contract["lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(contract["first_year_amount"], "120000.00");

    let o = ops.get(&format!("/api/v1/orders/{order}")).await.expect(200).clone();
    assert_eq!(o["status"], "new");
    assert_eq!(o["service"]["code"], "ERP-IMPL");
    assert_eq!(o["milestones"].as_array().map(Vec::len), Some(4), "the service's SOP becomes the milestones");

    let o = publish(&ops, order, "first_claim", &deadline(&park, 72)).await;
    assert_eq!(o["status"], "published");
    let sub_id = sub_id(&o);

    // Eligible partners were told.
    let outbox = ops.get("/api/v1/notifications?template=subcontract_published").await;
    assert!(
        outbox.items().iter().any(|n| n["recipient_email"] == "sub@vpark.demo"),
        "sub@ is eligible and is told: {}",
        outbox.body
    );

    let sub = park.login("sub@vpark.demo").await;
    let pool = sub.get("/api/v1/subcontracts").await.expect(200).clone();
    assert!(pool["items"].as_array().is_some_and(|i| i.iter().any(|s| s["id"] == sub_id)), "{pool}");
    let o = sub.post_empty(&format!("/api/v1/subcontracts/{sub_id}/claim")).await.expect(200).clone();
    assert_eq!(o["status"], "dispatched");
    assert_eq!(o["deliverer"]["id"], sub.org_id);
    assert!(o["assign_by"].is_string(), "the winner has a deadline to assign: {o}");
    // The claim answers from what it read before writing: the same as reading the order after.
    assert_eq!(sub.get(&format!("/api/v1/orders/{order}")).await.expect(200), &o);
    assert_eq!(o["milestones"].as_array().map(Vec::len), Some(4), "{o}");

    let implementer = park.user_id("implementer@vpark.demo").await;
    let o = sub.post(&format!("/api/v1/orders/{order}/assignments"), json!({"user_ids": [implementer]})).await;
    let o = o.expect(200).clone();
    assert_eq!(o["status"], "in_progress");
    assert!(o["assign_by"].is_null());

    // The implementer sees the order and completes the milestones.
    let imp = park.login("implementer@vpark.demo").await;
    let mine = imp.get("/api/v1/orders?limit=200").await;
    assert!(mine.items().iter().any(|o| o["id"] == order), "{}", mine.body);
    // ...and only orders they are assigned to.
    for o in mine.items() {
        assert!(o["implementers"].as_array().is_some_and(|i| i.iter().any(|p| p["name"] == "李明")), "{o}");
    }
    let ms: Vec<i64> = o["milestones"].as_array().into_iter().flatten().filter_map(|m| m["id"].as_i64()).collect();
    // Not yet: delivering with pending milestones is refused.
    sub.post_empty(&format!("/api/v1/orders/{order}/deliver")).await.problem(409, "milestones_pending");
    for m in &ms {
        imp.post_empty(&format!("/api/v1/orders/{order}/milestones/{m}/complete")).await.expect(200);
    }
    let o = sub.post_empty(&format!("/api/v1/orders/{order}/deliver")).await.expect(200).clone();
    assert_eq!(o["status"], "delivered");
    assert_eq!(o["on_time"], true);

    // The client accepts and rates; 2 stars alerts ops.
    let client = park.login("client@vpark.demo").await;
    let o = client.post_empty(&format!("/api/v1/orders/{order}/accept")).await.expect(200).clone();
    assert_eq!(o["status"], "accepted");
    assert!(o["milestones"].as_array().into_iter().flatten().all(|m| m["status"] == "accepted"));
    let stars = json!({"overall": 2, "professionalism": 3, "timeliness": 2, "communication": 3, "outcome": 2, "comment": "上线延期"});
    let o = client.post(&format!("/api/v1/orders/{order}/rating"), stars.clone()).await.expect(200).clone();
    assert_eq!(o["status"], "closed");
    assert_eq!(o["rating"]["overall"], 2);
    client.post(&format!("/api/v1/orders/{order}/rating"), stars).await.problem(409, "already_rated");
    let alerts = ops.get("/api/v1/notifications?template=low_rating_alert").await;
    assert!(alerts.items().iter().any(|n| n["recipient_email"] == "ops@vpark.demo"), "{}", alerts.body);
    let rated = ops.get("/api/v1/notifications?template=order_rated").await;
    assert!(rated.items().iter().any(|n| n["recipient_email"] == "sub@vpark.demo"), "{}", rated.body);

    // Edit within 7 days; the deliverer replies once.
    let better = json!({"overall": 4, "professionalism": 4, "timeliness": 3, "communication": 4, "outcome": 4});
    let o = client.put(&format!("/api/v1/orders/{order}/rating"), better.clone()).await.expect(200).clone();
    assert_eq!(o["rating"]["overall"], 4);
    let o = sub.post(&format!("/api/v1/orders/{order}/rating/reply"), json!({"reply": "感谢反馈"})).await;
    assert_eq!(o.expect(200)["rating"]["reply"], "感谢反馈");
    sub.post(&format!("/api/v1/orders/{order}/rating/reply"), json!({"reply": "again"}))
        .await
        .problem(409, "already_replied");
    park.clock.advance(chrono::Duration::days(8));
    let client = park.login("client@vpark.demo").await;
    client.put(&format!("/api/v1/orders/{order}/rating"), better).await.problem(409, "edit_window_closed");

    // The quality score counts the rating (Bayesian: (5·4 + rated) / 6).
    let ops = park.login("ops@vpark.demo").await;
    let q = ops.get(&format!("/api/v1/organisations/{}/quality", sub.org_id)).await.expect(200).clone();
    assert!(q["ratings"].as_i64().unwrap_or_default() >= 1, "{q}");
    assert_eq!(q["prior_mean"], "4.00");

    // Every transition is in the audit trail.
    let audit = ops.get(&format!("/api/v1/audit-events?resource_kind=order&resource_id={order}&limit=100")).await;
    let actions: BTreeSet<String> =
        audit.items().iter().filter_map(|e| e["action"].as_str().map(str::to_owned)).collect();
    for a in
        ["order.created", "order.publish", "order.award", "order.start", "order.deliver", "order.accept", "order.close"]
    {
        assert!(actions.contains(a), "missing audit {a}: {actions:?}");
    }
    park.assert_deliverer_counters_hold().await;
    park.stop().await;
}

async fn the_pool_shows_a_subcontractor_only_what_delivery_needs(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let (contract, order) = erp_contract(&park, &ops).await;
    let sid = sub_id(&publish(&ops, order, "first_claim", &deadline(&park, 48)).await);

    let sub = park.login("sub@vpark.demo").await;
    let view = sub.get(&format!("/api/v1/subcontracts/{sid}")).await.expect(200).clone();
    // Exactly these fields, and nothing of the contract's money or the client's contacts.
    let keys: BTreeSet<&str> = view.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    let expected: BTreeSet<&str> = [
        "id",
        "order_id",
        "order_no",
        "status",
        "mode",
        "reason",
        "service",
        "region",
        "industry",
        "client_name",
        "signer_name",
        "account_manager",
        "execution_share",
        "fixed_fee",
        "min_quality",
        "required_certifications",
        "claim_deadline",
        "order_due_on",
        "milestones",
        "winner_id",
        "my_bid",
        "bids",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected, "{view}");
    assert_eq!(view["client_name"], "浙江德清精密机械股份有限公司");
    assert_eq!(view["region"], "zhejiang");
    assert_eq!(view["industry"], "manufacturing");
    assert_eq!(view["account_manager"]["email"], "team@vpark.demo");
    assert_eq!(view["execution_share"], "0.35");
    let text = view.to_string();
    for secret in ["120000", "80000", "40000", "24000", "TAX-PLAN", "contact@client-1.example.cn", "842 1001", "沈国强"]
    {
        assert!(!text.contains(secret), "the pool leaks {secret}: {text}");
    }
    // The listing shows the same view.
    let listed = sub.get("/api/v1/subcontracts").await;
    let item = listed.items().into_iter().find(|s| s["id"] == sid).expect("listed");
    assert_eq!(item, view);
    // The contract itself is not for subcontractors.
    sub.get(&format!("/api/v1/contracts/{}", contract["id"])).await.problem(403, "forbidden");

    // A partner that does not serve the region or category neither lists nor reads it.
    let sub2 = park.login("sub2@vpark.demo").await;
    assert!(sub2.get("/api/v1/subcontracts").await.items().iter().all(|s| s["id"] != sid));
    sub2.get(&format!("/api/v1/subcontracts/{sid}")).await.problem(404, "not_found");
    // Nor learns by claiming or bidding that it exists: the same 404, not its shortfalls.
    sub2.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await.problem(404, "not_found");
    let bid = json!({"execution_share": "0.60", "plan": "我们来做"});
    sub2.post(&format!("/api/v1/subcontracts/{sid}/bids"), bid).await.problem(404, "not_found");

    // Filters and cursor pagination over the pool.
    let already = sub.get("/api/v1/subcontracts?category=erp&limit=200").await.items().len();
    for _ in 0..3 {
        let (_, o) = erp_contract(&park, &ops).await;
        publish(&ops, o, "first_claim", &deadline(&park, 24)).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/api/v1/subcontracts?category=erp&limit=2&cursor={c}"),
            None => "/api/v1/subcontracts?category=erp&limit=2".into(),
        };
        let page = sub.get(&q).await.expect(200).clone();
        for s in page["items"].as_array().into_iter().flatten() {
            seen.push((
                s["claim_deadline"].as_str().unwrap_or_default().to_owned(),
                s["id"].as_i64().unwrap_or_default(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), already + 3, "{seen:?}");
    assert_eq!(seen.iter().map(|(_, id)| *id).collect::<BTreeSet<_>>().len(), seen.len(), "no page repeats");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "soonest deadline first");
    assert!(sub.get("/api/v1/subcontracts?category=ip").await.items().is_empty());
    park.stop().await;
}

async fn the_certification_gate_names_what_is_missing(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let (_, order) = erp_contract(&park, &ops).await;
    let sid = sub_id(&publish(&ops, order, "first_claim", &deadline(&park, 48)).await);
    let sub = park.login("sub@vpark.demo").await;
    sub.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await.expect(200);

    // Staff without ERP-L2: refused, naming who lacks what.
    let staff = park.user_id("sub.staff@vpark.demo").await;
    let r = sub.post(&format!("/api/v1/orders/{order}/assignments"), json!({"user_ids": [staff]})).await;
    let p = r.problem(422, "certification_missing").clone();
    assert!(p["message"].as_str().is_some_and(|m| m.contains("ERP-L2") && m.contains("徐丹")), "{p}");
    assert_eq!(p["details"]["implementers"][0]["missing"], json!(["ERP-L2"]));
    // Someone of another organisation: refused.
    let other = park.user_id("equity.staff@vpark.demo").await;
    sub.post(&format!("/api/v1/orders/{order}/assignments"), json!({"user_ids": [other]}))
        .await
        .problem(422, "invalid_field");

    // Revoking the implementer's credential stops it counting at once.
    let admin = park.login("admin@vpark.demo").await;
    let imp = park.user_id("implementer@vpark.demo").await;
    let creds = admin.get(&format!("/api/v1/credentials?user_id={imp}")).await;
    let erp = creds.items().into_iter().find(|c| c["certification_code"] == "ERP-L2").expect("ERP-L2 credential");
    let cid = erp["id"].as_i64().unwrap_or_default();
    admin
        .patch(&format!("/api/v1/credentials/{cid}"), json!({"status": "revoked", "revoked_reason": "证书造假"}))
        .await
        .expect(200);
    sub.post(&format!("/api/v1/orders/{order}/assignments"), json!({"user_ids": [imp]}))
        .await
        .problem(422, "certification_missing");
    let o = ops.get(&format!("/api/v1/orders/{order}")).await;
    assert_eq!(o.body["status"], "dispatched", "nothing changed");
    assert!(o.body["implementers"].as_array().is_some_and(Vec::is_empty));
    park.stop().await;
}

async fn illegal_transitions_are_409_with_the_current_state(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let (_, order) = erp_contract(&park, &ops).await;
    let client = park.login("client@vpark.demo").await;
    let p =
        client.post_empty(&format!("/api/v1/orders/{order}/accept")).await.problem(409, "illegal_transition").clone();
    assert_eq!(p["details"]["current_state"], "new");
    assert!(p["message"].as_str().is_some_and(|m| m.contains("new")), "{p}");

    let team = park.org_id_of("team@vpark.demo").await;
    let o = ops.post(&format!("/api/v1/orders/{order}/dispatch"), json!({"deliverer_id": team})).await;
    assert_eq!(o.expect(200)["status"], "dispatched");
    let t = park.login("team@vpark.demo").await;
    t.post_empty(&format!("/api/v1/orders/{order}/deliver")).await.problem(409, "illegal_transition");
    let r = ops.post(&format!("/api/v1/orders/{order}/cancel"), json!({"reason": "客户撤单"})).await;
    assert_eq!(r.expect(200)["status"], "cancelled");
    for (path, body) in [
        ("dispatch", json!({"deliverer_id": team})),
        ("cancel", json!({"reason": "again"})),
        (
            "subcontract",
            json!({"reason": "cant_do", "mode": "tender", "fixed_fee": "100.00", "claim_deadline": deadline(&park, 5)}),
        ),
    ] {
        let p =
            ops.post(&format!("/api/v1/orders/{order}/{path}"), body).await.problem(409, "illegal_transition").clone();
        assert_eq!(p["details"]["current_state"], "cancelled", "{path}: {p}");
    }
    let audit = ops.get(&format!("/api/v1/audit-events?resource_kind=order&resource_id={order}")).await;
    assert_eq!(audit.items().iter().filter(|e| e["action"] == "order.cancel").count(), 1);
    park.stop().await;
}

async fn contracts_must_add_up_and_stay_with_their_parties(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let client = park.org_id_of("client@vpark.demo").await;
    let team = park.org_id_of("team@vpark.demo").await;
    let before = ops.get("/api/v1/contracts").await.items().len();
    let body = |first: &str| {
        json!({"client_id": client, "signer_id": team, "signed_on": "2026-11-01", "term_years": 3,
            "first_year_amount": first, "annual_maintenance_fee": "1000.00",
            "lines": [{"service": "ERP-IMPL", "amount": "600.00"}, {"service": "TAX-PLAN", "amount": "400.01"}]})
    };
    let p = ops.post("/api/v1/contracts", body("1000.00")).await.problem(422, "lines_do_not_add_up").clone();
    assert_eq!(p["details"]["lines_total"], "1000.01");
    ops.post(
        "/api/v1/contracts",
        json!({"client_id": client, "signer_id": team, "signed_on": "2026-11-01",
        "term_years": 3, "first_year_amount": 1000, "annual_maintenance_fee": "0.00", "lines": []}),
    )
    .await
    .problem(400, "malformed_body");
    assert_eq!(ops.get("/api/v1/contracts").await.items().len(), before, "nothing stored");
    let c = ops.post("/api/v1/contracts", body("1000.01")).await.expect(201).clone();
    let id = c["id"].as_i64().unwrap_or_default();
    assert!(c["agreement"].is_object(), "ops see the agreement snapshot");

    // An equity partner registers only for itself.
    let equity = park.login("equity@vpark.demo").await;
    equity.post("/api/v1/contracts", body("1000.01")).await.problem(403, "forbidden");
    // The client reads its contract without the shares; another client does not see it.
    let cl = park.login("client@vpark.demo").await;
    let seen = cl.get(&format!("/api/v1/contracts/{id}")).await.expect(200).clone();
    assert!(seen["agreement"].is_null(), "{seen}");
    assert_eq!(seen["first_year_amount"], "1000.01");
    equity.get(&format!("/api/v1/contracts/{id}")).await.problem(404, "not_found");
    let audit = ops.get(&format!("/api/v1/audit-events?resource_kind=contract&resource_id={id}")).await;
    assert_eq!(audit.items()[0]["action"], "contract.created");
    park.stop().await;
}

async fn tenders_take_bids_and_award_one(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let (_, order) = erp_contract(&park, &ops).await;
    let sid = sub_id(&publish(&ops, order, "tender", &deadline(&park, 48)).await);
    let sub = park.login("sub@vpark.demo").await;
    sub.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await.problem(409, "tender_only");
    let imp = park.user_id("implementer@vpark.demo").await;
    let v = sub
        .post(
            &format!("/api/v1/subcontracts/{sid}/bids"),
            json!({"fee": "30000.00", "plan": "六周上线", "implementer_ids": [imp]}),
        )
        .await
        .expect(201)
        .clone();
    assert_eq!(v["my_bid"]["fee"], "30000.00");
    assert!(v["bids"].as_array().is_some_and(Vec::is_empty), "a bidder does not see the other bids");
    // A second bid replaces the first.
    let v = sub
        .post(
            &format!("/api/v1/subcontracts/{sid}/bids"),
            json!({"fee": "28000.00", "plan": "五周上线", "implementer_ids": [imp]}),
        )
        .await
        .expect(201)
        .clone();
    let bid = v["my_bid"]["id"].as_i64().unwrap_or_default();
    let seen = ops.get(&format!("/api/v1/subcontracts/{sid}")).await.expect(200).clone();
    assert_eq!(seen["bids"].as_array().map(Vec::len), Some(1));
    assert_eq!(seen["bids"][0]["fee"], "28000.00");

    let o = ops.post(&format!("/api/v1/subcontracts/{sid}/award"), json!({"bid_id": bid})).await.expect(200).clone();
    assert_eq!(o["status"], "dispatched");
    assert_eq!(o["deliverer"]["id"], sub.org_id);
    ops.post(&format!("/api/v1/subcontracts/{sid}/award"), json!({"bid_id": bid}))
        .await
        .problem(409, "illegal_transition");
    let won = ops.get("/api/v1/notifications?template=bid_awarded").await;
    assert!(won.items().iter().any(|n| n["recipient_email"] == "sub@vpark.demo"));
    park.assert_deliverer_counters_hold().await;
    park.stop().await;
}

async fn a_winner_that_assigns_nobody_loses_the_order_back_to_the_pool(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let (_, order) = erp_contract(&park, &ops).await;
    let sid = sub_id(&publish(&ops, order, "first_claim", &deadline(&park, 24)).await);
    let sub = park.login("sub@vpark.demo").await;
    sub.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await.expect(200);
    // Before the deadline the sweep leaves it alone.
    assert_eq!(park.park.marketplace.sweep_lapsed().await.expect("sweep"), 0);
    park.clock.advance(chrono::Duration::hours(49));
    assert_eq!(park.park.marketplace.sweep_lapsed().await.expect("sweep"), 1);
    assert_eq!(park.park.marketplace.sweep_lapsed().await.expect("sweep"), 0, "once");
    // (Sessions expire after 12 hours: sign in again.)
    let ops = park.login("ops@vpark.demo").await;
    let sub = park.login("sub@vpark.demo").await;
    let o = ops.get(&format!("/api/v1/orders/{order}")).await.expect(200).clone();
    assert_eq!(o["status"], "published");
    assert!(o["deliverer"].is_null());
    let fresh = sub_id(&o);
    assert_ne!(fresh, sid);
    assert_eq!(o["subcontract"]["status"], "open");
    // The new round can be claimed again.
    sub.post_empty(&format!("/api/v1/subcontracts/{fresh}/claim")).await.expect(200);
    let audit = ops.get(&format!("/api/v1/audit-events?resource_kind=subcontract&resource_id={sid}")).await;
    assert!(audit.items().iter().any(|e| e["action"] == "subcontract.lapsed"));
    park.assert_deliverer_counters_hold().await;
    park.stop().await;
}

async fn disputes_are_resolved_by_ops(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let (_, order) = erp_contract(&park, &ops).await;
    let team_org = park.org_id_of("team@vpark.demo").await;
    ops.post(&format!("/api/v1/orders/{order}/dispatch"), json!({"deliverer_id": team_org})).await.expect(200);
    let team = park.login("team@vpark.demo").await;
    // The team's certified implementer (seeded).
    let people = team.get("/api/v1/users?limit=200").await;
    let creds = ops.get(&format!("/api/v1/credentials?org_id={team_org}&limit=200")).await;
    let certified = creds
        .items()
        .into_iter()
        .find(|c| c["certification_code"] == "ERP-L2" && c["valid"] == true)
        .and_then(|c| c["user_id"].as_i64())
        .unwrap_or_else(|| panic!("the Hangzhou team has an ERP-L2 implementer: {}", people.body));
    let o = team.post(&format!("/api/v1/orders/{order}/assignments"), json!({"user_ids": [certified]})).await;
    let o = o.expect(200).clone();
    for m in o["milestones"].as_array().into_iter().flatten() {
        team.post_empty(&format!("/api/v1/orders/{order}/milestones/{}/complete", m["id"])).await.expect(200);
    }
    team.post_empty(&format!("/api/v1/orders/{order}/deliver")).await.expect(200);
    let client = park.login("client@vpark.demo").await;
    client
        .post(&format!("/api/v1/orders/{order}/dispute"), json!({"reason": "  "}))
        .await
        .problem(422, "invalid_field");
    let o = client.post(&format!("/api/v1/orders/{order}/dispute"), json!({"reason": "报表口径不对"})).await;
    assert_eq!(o.expect(200)["status"], "disputed");
    team.post(&format!("/api/v1/orders/{order}/resolve"), json!({"resolution": "accept", "note": "x"}))
        .await
        .problem(403, "forbidden");
    let o =
        ops.post(&format!("/api/v1/orders/{order}/resolve"), json!({"resolution": "rework", "note": "补充报表"})).await;
    assert_eq!(o.expect(200)["status"], "in_progress");
    team.post_empty(&format!("/api/v1/orders/{order}/deliver")).await.expect(200);
    client.post(&format!("/api/v1/orders/{order}/dispute"), json!({"reason": "仍不对"})).await.expect(200);
    let o = ops
        .post(&format!("/api/v1/orders/{order}/resolve"), json!({"resolution": "accept", "note": "已核实交付完整"}))
        .await;
    assert_eq!(o.expect(200)["status"], "accepted");
    park.assert_deliverer_counters_hold().await;
    park.stop().await;
}

async fn recommendations_rank_eligible_deliverers_with_reasons(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let (_, order) = erp_contract(&park, &ops).await;
    let r = ops.get(&format!("/api/v1/orders/{order}/recommendations")).await.expect(200).clone();
    let ranked = r["ranked"].as_array().cloned().unwrap_or_default();
    assert!(!ranked.is_empty(), "{r}");
    let sub_org = park.org_id_of("sub@vpark.demo").await;
    let sub2_org = park.org_id_of("sub2@vpark.demo").await;
    assert!(ranked.iter().any(|x| x["organisation"]["id"] == sub_org), "sub-1 is eligible: {r}");
    let scores: Vec<f64> = ranked.iter().filter_map(|x| x["score"].as_str().and_then(|s| s.parse().ok())).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");
    for x in &ranked {
        let reasons = x["reasons"].as_array().cloned().unwrap_or_default();
        assert!(reasons.iter().any(|t| t.as_str().is_some_and(|t| t.contains("valid ERP-L2"))), "{x}");
    }
    let out = r["ineligible"].as_array().cloned().unwrap_or_default();
    let sub2 = out.iter().find(|x| x["organisation"]["id"] == sub2_org).expect("sub-2 is out");
    let codes: Vec<&str> =
        sub2["reasons"].as_array().into_iter().flatten().filter_map(|w| w["code"].as_str()).collect();
    assert!(codes.contains(&"region_not_served") && codes.contains(&"category_not_offered"), "{sub2}");
    // Dispatching to an ineligible deliverer is refused with the same reasons.
    ops.post(&format!("/api/v1/orders/{order}/dispatch"), json!({"deliverer_id": sub2_org}))
        .await
        .problem(422, "not_eligible");
    park.stop().await;
}

/// Partners created for the race: each serves Zhejiang in ERP with an administrator who is
/// also a certified ERP-L2 implementer.
async fn race_partners(park: &TestPark, n: usize) -> Vec<(String, String)> {
    let admin = park.login("admin@vpark.demo").await;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let org = admin
            .post(
                "/api/v1/organisations",
                json!({"kind": "subcontract_partner", "name_zh": format!("抢单测试伙伴{i:02}"), "regions": ["zhejiang"],
                    "industries": ["manufacturing"], "categories": ["erp"], "capacity": 5}),
            )
            .await
            .expect(201)
            .clone();
        let email = format!("race{i:02}@example.cn");
        let user = admin
            .post(
                "/api/v1/users",
                json!({"org_id": org["id"], "email": email, "display_name": format!("抢单{i:02}"),
                    "roles": ["sub_admin", "implementer"], "password": "race-password-1"}),
            )
            .await
            .expect(201)
            .clone();
        admin
            .post(
                "/api/v1/credentials",
                json!({"user_id": user["id"], "certification": "ERP-L2", "issued_on": park.today().to_string()}),
            )
            .await
            .expect(201);
        out.push((email, "race-password-1".to_owned()));
    }
    out
}

async fn claim_race(tokens: &[String], bases: &[String], sid: i64) -> Vec<u16> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(tokens.len()));
    let mut tasks = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let url = format!("{}/api/v1/subcontracts/{sid}/claim", bases[i % bases.len()]);
        let (http, token, barrier) = (http.clone(), token.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            http.post(url).bearer_auth(token).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap_or(0));
    }
    statuses
}

/// A claim checks the subcontract's requirements — the service's certification and those ops
/// added when publishing — against the claimant's valid credentials. Until it holds them all the
/// subcontract is outside the partner's scope: not listed, not readable, and a claim is the same
/// 404 (it does not learn that the subcontract exists, or what it lacks for it).
async fn a_claim_needs_every_certification_the_subcontract_requires(b: Backend) {
    let park = spawn_park(b).await;
    let (email, password) = race_partners(&park, 1).await.remove(0);
    let partner = park.login_with(&email, &password).await;
    let ops = park.login("ops@vpark.demo").await;
    let admin = park.login("admin@vpark.demo").await;
    let (_, order) = erp_contract(&park, &ops).await;
    let published = ops
        .post(
            &format!("/api/v1/orders/{order}/subcontract"),
            json!({"reason": "cant_do", "mode": "first_claim", "execution_share": "0.35",
                "required_certifications": ["pmp", "TAX-ADV"], "claim_deadline": deadline(&park, 24)}),
        )
        .await
        .expect(200)
        .clone();
    let sid = sub_id(&published);
    let claim = format!("/api/v1/subcontracts/{sid}/claim");
    let unseen = |partner: &User| {
        let (partner, claim) = (partner.clone(), claim.clone());
        async move {
            partner.get(&format!("/api/v1/subcontracts/{sid}")).await.problem(404, "not_found");
            assert!(partner.get("/api/v1/subcontracts?limit=200").await.items().iter().all(|s| s["id"] != sid));
            let refused = partner.post_empty(&claim).await.problem(404, "not_found").clone();
            let text = refused.to_string();
            assert!(!text.contains("PMP") && !text.contains("TAX-ADV"), "the refusal tells nothing: {text}");
        }
    };

    // It holds ERP-L2 (the service's) but neither of the two added.
    unseen(&partner).await;
    // With one of them it still lacks the other.
    let user = park.user_id(&email).await;
    let issue = |code: &str| json!({"user_id": user, "certification": code, "issued_on": park.today().to_string()});
    admin.post("/api/v1/credentials", issue("PMP")).await.expect(201);
    unseen(&partner).await;
    let org = park.org_id_of(&email).await;

    // With all three it sees the subcontract and wins the order.
    admin.post("/api/v1/credentials", issue("TAX-ADV")).await.expect(201);
    partner.get(&format!("/api/v1/subcontracts/{sid}")).await.expect(200);
    let won = partner.post_empty(&claim).await.expect(200).clone();
    assert_eq!(won["status"], "dispatched", "{won}");
    assert_eq!(won["deliverer"]["id"], org, "{won}");
    park.stop().await;
}

/// A claim reads what the claimant already has: its orders in hand against its capacity, and its
/// administrators for the e-mail that it won.
async fn a_claim_counts_the_orders_the_claimant_has_in_hand(b: Backend) {
    let park = spawn_park(b).await;
    let (email, password) = race_partners(&park, 1).await.remove(0);
    let partner = park.login_with(&email, &password).await;
    let ops = park.login("ops@vpark.demo").await;
    let admin = park.login("admin@vpark.demo").await;
    let org = park.org_id_of(&email).await;
    admin.patch(&format!("/api/v1/organisations/{org}"), json!({"capacity": 1})).await.expect(200);

    let (_, first) = erp_contract(&park, &ops).await;
    let sid = sub_id(&publish(&ops, first, "first_claim", &deadline(&park, 24)).await);
    partner.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await.expect(200);
    let won = ops.get("/api/v1/notifications?template=claim_won&limit=200").await.items();
    let told: Vec<&str> = won.iter().filter_map(|n| n["recipient_email"].as_str()).collect();
    assert_eq!(told, vec![email.as_str()], "the winner's administrator is told");

    // One order in hand and a capacity of one: the next claim is refused, naming both.
    let (_, second) = erp_contract(&park, &ops).await;
    let sid = sub_id(&publish(&ops, second, "first_claim", &deadline(&park, 24)).await);
    let refused = partner.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await;
    let refused = refused.problem(422, "not_eligible");
    let reasons = refused["details"]["reasons"].as_array().cloned().unwrap_or_default();
    assert_eq!(reasons, vec![json!({"code": "at_capacity", "busy": 1, "capacity": 1})], "{refused}");

    // Room again: it takes the second order.
    admin.patch(&format!("/api/v1/organisations/{org}"), json!({"capacity": 2})).await.expect(200);
    let o = partner.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await.expect(200).clone();
    assert_eq!(o["deliverer"]["id"], org, "{o}");
    park.stop().await;
}

/// Where `Db::grouped` writes: the thread of its name, over (on PostgreSQL) its own connection.
/// That connection killed, the next write runs over the pool, and the one after is back.
async fn claim_batches_are_written_on_the_writers_thread_and_survive_its_connection(b: Backend) {
    use sea_orm::ConnectionTrait;

    let park = spawn_park(b).await;
    let db = park.park.db.clone();
    // The thread it ran on, and its connection's server process (0 on SQLite).
    let write = || {
        db.grouped(|txn| {
            Box::pin(async move {
                let pid = match txn.get_database_backend() {
                    sea_orm::DbBackend::Postgres => {
                        let row = txn.query_one_raw(sea_orm::Statement::from_string(
                            sea_orm::DbBackend::Postgres,
                            "SELECT CAST(pg_backend_pid() AS BIGINT) AS pid",
                        ));
                        row.await?.map(|r| r.try_get::<i64>("", "pid")).transpose()?.unwrap_or_default()
                    }
                    _ => 0,
                };
                Ok((std::thread::current().name().map(str::to_owned), pid))
            })
        })
    };
    let (thread, pid) = write().await.expect("a grouped write");
    if b == Backend::Sqlite {
        assert_eq!(thread.as_deref(), Some("vpark-sqlite-writer"));
        park.stop().await;
        return;
    }
    assert_eq!(thread.as_deref(), Some("vpark-pg-writer"));
    let (_, again) = write().await.expect("a grouped write");
    assert_eq!(again, pid, "the writer keeps its one connection");

    let killed = db
        .read()
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_terminate_backend(CAST($1 AS INT)) AS done",
            [pid.into()],
        ))
        .await
        .expect("terminate")
        .map(|r| r.try_get::<bool>("", "done"))
        .transpose()
        .expect("an answer");
    assert_eq!(killed, Some(true));
    // The writer's connection is gone: this write runs over the pool, and is written.
    let (thread, other) = write().await.expect("a write while the writer's connection is gone");
    assert_ne!(other, pid, "not over the dead connection (ran on {thread:?})");
    // A claim goes through too.
    let ops = park.login("ops@vpark.demo").await;
    let (_, order) = erp_contract(&park, &ops).await;
    let sid = sub_id(&publish(&ops, order, "first_claim", &deadline(&park, 24)).await);
    park.login("sub@vpark.demo").await.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await.expect(200);
    // And the writer opens a new connection of its own.
    let mut back = None;
    for _ in 0..50 {
        let (thread, now) = write().await.expect("a grouped write");
        if thread.as_deref() == Some("vpark-pg-writer") && now != pid {
            back = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back.is_some(), "the writer's thread writes again over a new connection");
    park.stop().await;
}

async fn sixty_four_simultaneous_claims_have_exactly_one_winner(b: Backend) {
    const N: usize = 64;
    let park = spawn_park(b).await;
    let partners = race_partners(&park, N).await;
    let ops = park.login("ops@vpark.demo").await;

    // SQLite: one process (one writer by design). PostgreSQL: two `vpark serve` processes on
    // the same database, the claims split between them.
    let replicas = if b == Backend::Postgres {
        vec![
            replica(park.park.settings.database.url.as_str()).await,
            replica(park.park.settings.database.url.as_str()).await,
        ]
    } else {
        Vec::new()
    };
    let bases: Vec<String> =
        if replicas.is_empty() { vec![park.base.clone()] } else { replicas.iter().map(|r| r.base.clone()).collect() };
    let mut tokens = Vec::with_capacity(N);
    for (email, password) in &partners {
        tokens.push(park.login_with(email, password).await.token.clone().unwrap_or_default());
    }

    let mut told_before = std::collections::BTreeSet::new();
    for round in 0..2 {
        let (_, order) = erp_contract(&park, &ops).await;
        let sid = sub_id(&publish(&ops, order, "first_claim", &deadline(&park, 24)).await);
        let statuses = claim_race(&tokens, &bases, sid).await;
        let won = statuses.iter().filter(|s| **s == 200).count();
        let lost = statuses.iter().filter(|s| **s == 409).count();
        assert_eq!((won, lost), (1, N - 1), "round {round}: {statuses:?}");

        // The order is consistent: dispatched to the one winner, one claim event, one e-mail.
        let o = ops.get(&format!("/api/v1/orders/{order}")).await.expect(200).clone();
        assert_eq!(o["status"], "dispatched");
        let winner = o["deliverer"]["id"].as_i64().expect("a deliverer");
        assert_eq!(o["subcontract"]["winner_id"], winner);
        let audit = ops.get(&format!("/api/v1/audit-events?resource_kind=subcontract&resource_id={sid}")).await;
        let claimed: Vec<Value> = audit.items().into_iter().filter(|e| e["action"] == "subcontract.claimed").collect();
        assert_eq!(claimed.len(), 1);
        // Written in a batch with other claims, the event still names the request that won.
        let rid = claimed[0]["request_id"].as_str().unwrap_or_default();
        assert_eq!(rid.len(), 16, "the claim's audit event carries its request id: {}", claimed[0]);
        let won_mail = ops.get("/api/v1/notifications?template=claim_won&limit=200").await;
        assert_eq!(won_mail.items().len(), round + 1, "one claim_won e-mail per race: {}", won_mail.body);
        // A loser whose claim was written while the subcontract was open is told once; one that
        // arrived after it was taken got its 409 at once. Never twice, and never the winner.
        let lost_mail = ops.get("/api/v1/notifications?template=claim_lost&limit=200").await.items();
        let told: Vec<String> = lost_mail
            .iter()
            .filter(|m| !told_before.contains(&m["id"].as_i64().unwrap_or_default()))
            .map(|m| m["recipient_email"].as_str().unwrap_or_default().to_owned())
            .collect();
        told_before.extend(lost_mail.iter().filter_map(|m| m["id"].as_i64()));
        let distinct: std::collections::BTreeSet<&String> = told.iter().collect();
        assert!(told.len() < N && distinct.len() == told.len(), "round {round}: claim_lost to {told:?}");
        let winner_email = statuses.iter().position(|s| *s == 200).map(|i| partners[i].0.clone()).unwrap_or_default();
        assert!(!told.contains(&winner_email), "round {round}: the winner {winner_email} was told it lost");
    }
    drop(replicas);
    park.assert_deliverer_counters_hold().await;
    park.stop().await;
}

/// The migration that brings the deliverer counters fills them in from the orders and ratings
/// already there: taken back and applied again on the demo park, they equal a fresh count.
async fn deliverer_counters_are_filled_in_for_an_existing_park(b: Backend) {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let park = spawn_park(b).await;
    park.assert_deliverer_counters_hold().await;
    let conn = sea_orm::Database::connect(park.db_url()).await.expect("connect");
    // The migrations after the counters' go back with it.
    Migrator::down(&conn, Some(3)).await.expect("the counters' migration goes back");
    let gone = conn.execute_unprepared("SELECT COUNT(*) FROM deliverer_stats").await;
    assert!(gone.is_err(), "the counters' table is dropped with its migration");
    Migrator::up(&conn, None).await.expect("and comes again");
    let _ = conn.close().await;
    park.assert_deliverer_counters_hold().await;
    park.stop().await;
}

/// Counters changed behind the triggers' back are found by the check (`vpark check-counters`)
/// and rebuilt by its repair, which leaves an audit event.
async fn drifted_deliverer_counters_are_found_and_rebuilt(b: Backend) {
    use sea_orm::ConnectionTrait;
    let park = spawn_park(b).await;
    let market = &park.park.marketplace;
    assert!(market.check_deliverer_counters(false).await.expect("check").is_empty(), "the demo park is consistent");

    let conn = sea_orm::Database::connect(park.db_url()).await.expect("connect");
    let hit = conn
        .execute_unprepared(
            "UPDATE deliverer_stats SET busy = busy + 3, stars = stars + 1 \
             WHERE org_id = (SELECT MIN(org_id) FROM deliverer_stats WHERE delivered > 0)",
        )
        .await
        .expect("tamper");
    assert_eq!(hit.rows_affected(), 1);
    let _ = conn.close().await;

    let drift = market.check_deliverer_counters(false).await.expect("check");
    assert_eq!(drift.len(), 1, "one organisation drifted: {drift:?}");
    assert_eq!(drift[0].kept.busy, drift[0].counted.busy + 3);
    assert_eq!(drift[0].kept.quality.stars, drift[0].counted.quality.stars + 1);
    assert_eq!(market.check_deliverer_counters(false).await.expect("check").len(), 1, "a check repairs nothing");

    let repaired = market.check_deliverer_counters(true).await.expect("repair");
    assert_eq!(repaired.len(), 1, "the repair reports what it found");
    assert!(market.check_deliverer_counters(false).await.expect("check").is_empty(), "and rebuilt the counters");
    park.assert_deliverer_counters_hold().await;

    let admin = park.login("admin@vpark.demo").await;
    let events = admin.get("/api/v1/audit-events?action=organisation.deliverer_counters_rebuilt").await.items();
    assert_eq!(events.len(), 1, "the rebuild is audited: {events:?}");
    assert_eq!(events[0]["after"]["drifted"], json!([drift[0].org_id]));
    park.stop().await;
}
