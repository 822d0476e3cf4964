//! Customer success: outcome milestones reported with evidence, verified or rejected by vendor
//! ops and credited to the client, its signers and their deliverers; the success metrics and the
//! cash flow, checked against what the rest of the API says happened.

use std::collections::HashSet;

use chrono::Duration;
use serde_json::{Value, json};

use crate::both;
use crate::support::http::User;
use crate::support::{Backend, TestPark, spawn_park};

both!(
    outcome_milestones_are_reported_with_evidence_and_verified_once,
    a_verified_success_is_credited_and_counted,
    metrics_match_the_contracts_orders_and_ratings_behind_them,
    maintenance_renewal_counts_the_years_due_and_those_paid,
    cash_flow_matches_payments_and_payouts,
    the_outcome_catalog_is_kept_by_the_platform_admin,
);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_default()
}

/// "1234.50" → 123450.
fn fen(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a money string: {v}"));
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (yuan, cents) = s.split_once('.').unwrap_or((s, "00"));
    let n = yuan.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap();
    if neg { -n } else { n }
}

async fn outcomes(user: &User, query: &str) -> Vec<Value> {
    user.get(&format!("/api/v1/outcomes?limit=200{query}")).await.items()
}

async fn audit_actions(ops: &User, rid: i64) -> Vec<String> {
    ops.get(&format!("/api/v1/audit-events?resource_kind=outcome&resource_id={rid}&limit=200"))
        .await
        .items()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn mails(park: &TestPark, template: &str) -> Vec<String> {
    let admin = park.login("admin@vpark.demo").await;
    let r = admin.get(&format!("/api/v1/notifications?template={template}&limit=200")).await;
    r.items().iter().map(|n| n["recipient_email"].as_str().unwrap_or("").to_owned()).collect()
}

fn report(kind: &str, achieved_on: chrono::NaiveDate) -> Value {
    json!({
        "kind": kind,
        "achieved_on": achieved_on.to_string(),
        "title": "上市公告 603999",
        "attachments": ["dms://listing/announcement.pdf"],
    })
}

async fn outcome_milestones_are_reported_with_evidence_and_verified_once(b: Backend) {
    let park = spawn_park(b).await;
    let today = park.today();
    let client = park.login("client@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    let sub = park.login("sub@vpark.demo").await;
    let implementer = park.login("implementer@vpark.demo").await;
    let client1 = park.org_id_of("client@vpark.demo").await;
    let client2 = park.org_id_of("admin@client-2.example.cn").await;

    // The client sees its own milestones only: the demo's verified HNTE and the reported REV-30.
    let mine = outcomes(&client, "").await;
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert!(mine.iter().all(|o| o["client_id"] == client1));
    // A subcontract partner that delivered for client 1 reads its milestones, not client 2's.
    let seen_by_sub: HashSet<i64> = outcomes(&sub, "").await.iter().map(|o| o["client_id"].as_i64().unwrap()).collect();
    assert!(seen_by_sub.contains(&client1));
    assert!(!seen_by_sub.contains(&client2));
    implementer.get("/api/v1/outcomes").await.problem(403, "forbidden");

    // Bad reports are refused and store nothing.
    let path = format!("/api/v1/clients/{client1}/outcomes");
    client.post(&path, report("LISTING", today + Duration::days(1))).await.problem(422, "invalid_field");
    client.post(&path, report("NOPE", today)).await.problem(422, "invalid_field");
    let mut bare = report("LISTING", today);
    bare["attachments"] = json!([]);
    client.post(&path, bare).await.problem(422, "invalid_field");
    client.post(&path, json!({"kind": "LISTING"})).await.problem(400, "malformed_body");
    assert_eq!(outcomes(&client, "").await.len(), 2);
    // Another client's milestone is not the client's to report; a deliverer does not report.
    client
        .post(&format!("/api/v1/clients/{client2}/outcomes"), report("LISTING", today))
        .await
        .problem(404, "not_found");
    sub.post(&path, report("LISTING", today)).await.problem(403, "forbidden");
    // A client without a contract has no window yet.
    let client7 = park.org_id_of("admin@client-7.example.cn").await;
    ops.post(&format!("/api/v1/clients/{client7}/outcomes"), report("LISTING", today))
        .await
        .problem(422, "no_contract");

    // Reported once; the same milestone again is a conflict.
    let listed = client.post(&path, report("LISTING", today - Duration::days(3))).await.expect(201).clone();
    assert_eq!(listed["status"], "reported");
    assert_eq!(listed["in_window"], true);
    assert_eq!(listed["credits"], json!([]));
    client.post(&path, report("LISTING", today)).await.problem(409, "already_reported");
    assert!(mails(&park, "outcome_reported").await.contains(&"ops@vpark.demo".to_owned()));

    // Only vendor ops review; a rejection says why; a rejected milestone may be reported again.
    let lid = id(&listed);
    client.post(&format!("/api/v1/outcomes/{lid}/verify"), json!({})).await.problem(403, "forbidden");
    ops.post(&format!("/api/v1/outcomes/{lid}/reject"), json!({})).await.problem(400, "malformed_body");
    ops.post(&format!("/api/v1/outcomes/{lid}/reject"), json!({"note": " "})).await.problem(422, "invalid_field");
    let rejected = ops.post(&format!("/api/v1/outcomes/{lid}/reject"), json!({"note": "公告编号与交易所不符"})).await;
    assert_eq!(rejected.expect(200)["status"], "rejected");
    ops.post(&format!("/api/v1/outcomes/{lid}/verify"), json!({})).await.problem(409, "illegal_transition");
    assert!(mails(&park, "outcome_rejected").await.contains(&"client@vpark.demo".to_owned()));
    let again = client.post(&path, report("LISTING", today - Duration::days(2))).await.expect(201).clone();
    assert_ne!(id(&again), lid);
    let queue = outcomes(&ops, "&status=reported").await;
    assert!(queue.iter().any(|o| id(o) == id(&again)));
    assert!(!queue.iter().any(|o| id(o) == lid));

    let verified = ops.post(&format!("/api/v1/outcomes/{}/verify", id(&again)), json!({})).await.expect(200).clone();
    assert_eq!(verified["status"], "verified");
    ops.post(&format!("/api/v1/outcomes/{}/verify", id(&again)), json!({})).await.problem(409, "illegal_transition");
    assert_eq!(audit_actions(&ops, lid).await, ["outcome.rejected", "outcome.reported"]);
    assert_eq!(audit_actions(&ops, id(&again)).await, ["outcome.verified", "outcome.reported"]);
    // A client reads one of its milestones; another party's is not found.
    client.get(&format!("/api/v1/outcomes/{}", id(&again))).await.expect(200);
    let other = outcomes(&ops, &format!("&client_id={client2}")).await;
    client.get(&format!("/api/v1/outcomes/{}", id(&other[0]))).await.problem(404, "not_found");
    park.stop().await;
}

async fn a_verified_success_is_credited_and_counted(b: Backend) {
    let park = spawn_park(b).await;
    let today = park.today();
    let ops = park.login("ops@vpark.demo").await;
    let client2 = park.org_id_of("admin@client-2.example.cn").await;
    let team = park.org_id_of("team@vpark.demo").await;
    let equity = park.org_id_of("equity@vpark.demo").await;
    let client1 = park.org_id_of("client@vpark.demo").await;
    let sub1 = park.org_id_of("sub@vpark.demo").await;

    // The demo's verified HNTE of client 1 is credited to its signers and their deliverers.
    let hnte = outcomes(&ops, &format!("&client_id={client1}&status=verified")).await;
    let credited: HashSet<(i64, String)> = hnte[0]["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["org_id"].as_i64().unwrap(), c["role"].as_str().unwrap().to_owned()))
        .collect();
    for want in [(client1, "client"), (team, "signer"), (equity, "signer"), (sub1, "deliverer")] {
        assert!(credited.contains(&(want.0, want.1.to_owned())), "{want:?} not in {credited:?}");
    }

    let from = today - Duration::days(364);
    let q = format!("/api/v1/success-metrics?group_by=partner&from={from}&to={today}");
    let row = |m: &Value, org: i64| m["rows"].as_array().unwrap().iter().find(|r| r["org_id"] == org).cloned();
    let before = ops.get(&q).await.expect(200).clone();
    let team_before = row(&before, team).expect("the direct team signed in the period");
    // Client 2 (signed with the direct team 100 days ago and with equity partner 1 six days ago)
    // reported HNTE ten days ago: verifying it credits the team, not the later signer.
    let reported = outcomes(&ops, &format!("&client_id={client2}&status=reported")).await;
    assert_eq!(reported.len(), 1);
    let v = ops.post(&format!("/api/v1/outcomes/{}/verify", id(&reported[0])), json!({})).await.expect(200).clone();
    let roles: Vec<(i64, String)> = v["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["org_id"].as_i64().unwrap(), c["role"].as_str().unwrap().to_owned()))
        .collect();
    assert!(roles.contains(&(team, "signer".into())), "{roles:?}");
    assert!(!roles.iter().any(|(o, _)| *o == equity), "equity partner 1 signed after the milestone: {roles:?}");
    assert!(mails(&park, "outcome_verified").await.contains(&"team@vpark.demo".to_owned()));

    let after = ops.get(&q).await.expect(200).clone();
    let team_after = row(&after, team).unwrap();
    assert_eq!(team_after["success"]["numerator"], team_before["success"]["numerator"].as_i64().unwrap() + 1);
    assert_eq!(team_after["success"]["denominator"], team_before["success"]["denominator"]);
    let equity_before = row(&before, equity).unwrap();
    let equity_after = row(&after, equity).unwrap();
    assert_eq!(equity_after["success"], equity_before["success"]);
    // The total counts client 2 as a success now, once.
    assert_eq!(after["total"]["success"]["numerator"], before["total"]["success"]["numerator"].as_i64().unwrap() + 1);
    // A verified milestone reached before the first contract is outside its window: no success.
    let client5 = park.org_id_of("admin@client-5.example.cn").await;
    let tsme = outcomes(&ops, &format!("&client_id={client5}")).await;
    assert_eq!((tsme[0]["status"].as_str(), tsme[0]["in_window"].as_bool()), (Some("verified"), Some(false)));
    let by_region = ops.get(&format!("/api/v1/success-metrics?group_by=region&from={from}&to={today}")).await;
    let zj =
        by_region.expect(200)["rows"].as_array().unwrap().iter().find(|r| r["label"] == "zhejiang").cloned().unwrap();
    let clients_with_success = 2; // client 1 (demo) and client 2 (verified above); not client 5
    assert_eq!(zj["success"]["numerator"], clients_with_success);
    park.stop().await;
}

async fn metrics_match_the_contracts_orders_and_ratings_behind_them(b: Backend) {
    let park = spawn_park(b).await;
    let today = park.today();
    let ops = park.login("ops@vpark.demo").await;
    let from = today - Duration::days(364);
    let base = format!("/api/v1/success-metrics?from={from}&to={today}");
    let many = contract_with_three_other_deliverers(&park, &ops).await;

    let contracts = ops.get("/api/v1/contracts?limit=200").await.items();
    let clients: HashSet<i64> = contracts.iter().map(|c| c["client"]["id"].as_i64().unwrap()).collect();
    let orders = ops.get("/api/v1/orders?limit=200").await.items();
    let delivered: Vec<&Value> = orders.iter().filter(|o| !o["delivered_at"].is_null()).collect();
    let ratings: Vec<&Value> = orders.iter().filter(|o| !o["rating"].is_null()).map(|o| &o["rating"]).collect();
    assert!(!ratings.is_empty(), "the demo park has rated orders");
    let stars: i64 = ratings.iter().map(|r| r["overall"].as_i64().unwrap()).sum();

    let by_period = ops.get(&format!("{base}&group_by=period&granularity=year")).await.expect(200).clone();
    let total = &by_period["total"];
    assert_eq!(total["clients"], clients.len() as i64);
    assert_eq!(total["on_time"]["denominator"], delivered.len() as i64);
    assert_eq!(total["average_rating"]["count"], ratings.len() as i64);
    let avg = format!("{:.2}", stars as f64 / ratings.len() as f64);
    assert_eq!(total["average_rating"]["average"], avg.as_str());
    // Repeat-sign: clients with two or more contracts.
    let mut per_client = std::collections::HashMap::<i64, usize>::new();
    for c in &contracts {
        *per_client.entry(c["client"]["id"].as_i64().unwrap()).or_default() += 1;
    }
    let repeat = per_client.values().filter(|n| **n >= 2).count() as i64;
    assert_eq!(total["repeat_sign"]["numerator"], repeat);
    // Period rows add up to the total of additive counts.
    let rows = by_period["rows"].as_array().unwrap();
    let delivered_in_rows: i64 = rows.iter().map(|r| r["on_time"]["denominator"].as_i64().unwrap()).sum();
    assert_eq!(delivered_in_rows, delivered.len() as i64);
    let rate = total["repeat_sign"]["rate"].as_str().unwrap();
    assert_eq!(rate.split_once('.').map(|(_, d)| d.len()), Some(4), "rates have four decimals: {rate}");
    // Deep-sign: clients whose live orders span two service categories or more; days to first
    // acceptance: over the contracts with an accepted order. Both are read from what each
    // contract keeps of its orders, which must follow them.
    let deep = |orders: &[Value], except: Option<i64>| -> i64 {
        let mut categories = std::collections::HashMap::<i64, HashSet<String>>::new();
        for o in orders.iter().filter(|o| o["status"] != "cancelled" && Some(o["id"].as_i64().unwrap()) != except) {
            let category = o["service"]["category"].as_str().unwrap().to_owned();
            categories.entry(o["client"]["id"].as_i64().unwrap()).or_default().insert(category);
        }
        categories.values().filter(|c| c.len() >= 2).count() as i64
    };
    assert_eq!(total["deep_sign"]["numerator"], deep(&orders, None));
    let accepted: HashSet<i64> =
        orders.iter().filter(|o| !o["accepted_at"].is_null()).map(|o| o["contract_id"].as_i64().unwrap()).collect();
    assert_eq!(total["days_to_first_acceptance"]["count"], accepted.len() as i64);
    // …and its average: from signing to the first acceptance (UTC days) of each such contract.
    let mut first = std::collections::HashMap::<i64, chrono::NaiveDate>::new();
    for o in orders.iter().filter(|o| !o["accepted_at"].is_null()) {
        let at = chrono::DateTime::parse_from_rfc3339(o["accepted_at"].as_str().unwrap()).unwrap();
        let day = at.with_timezone(&chrono::Utc).date_naive();
        let e = first.entry(o["contract_id"].as_i64().unwrap()).or_insert(day);
        *e = (*e).min(day);
    }
    let days: i64 = contracts
        .iter()
        .filter_map(|c| {
            let signed = chrono::NaiveDate::parse_from_str(c["signed_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
            first.get(&c["id"].as_i64().unwrap()).map(|f| (*f - signed).num_days().max(0))
        })
        .sum();
    let average = rust_decimal::Decimal::from(days) / rust_decimal::Decimal::from(first.len() as i64);
    let average = average.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    assert_eq!(total["days_to_first_acceptance"]["average"], format!("{average:.2}"));
    // Grouped by partner: each client once per partner that signed or delivers one of its
    // contracts; days to first acceptance over those contracts with an accepted order.
    let live: HashSet<i64> =
        contracts.iter().filter(|c| c["status"] != "cancelled").map(|c| c["id"].as_i64().unwrap()).collect();
    let by_partner = ops.get(&format!("{base}&group_by=partner")).await.expect(200).clone();
    let partner_rows = by_partner["rows"].as_array().unwrap();
    assert!(partner_rows.len() >= 3, "{by_partner}");
    for row in partner_rows {
        let p = row["org_id"].as_i64().unwrap();
        let mine: Vec<&Value> = orders
            .iter()
            .filter(|o| live.contains(&o["contract_id"].as_i64().unwrap()))
            .filter(|o| o["signer"]["id"] == p || o["deliverer"]["id"] == p)
            .collect();
        let mine_contracts: HashSet<i64> = mine.iter().map(|o| o["contract_id"].as_i64().unwrap()).collect();
        let clients: HashSet<i64> = mine.iter().map(|o| o["client"]["id"].as_i64().unwrap()).collect();
        assert_eq!(row["clients"], clients.len() as i64, "partner {p}: {row}");
        let accepted_here = mine_contracts.intersection(&accepted).count() as i64;
        assert_eq!(row["days_to_first_acceptance"]["count"], accepted_here, "partner {p}: {row}");
    }
    // The contract delivered by three organisations besides its signer counts for each of them.
    let many_deliverers: HashSet<i64> =
        orders.iter().filter(|o| o["contract_id"] == many).map(|o| o["deliverer"]["id"].as_i64().unwrap()).collect();
    assert_eq!(many_deliverers.len(), 3, "{many_deliverers:?}");
    for d in &many_deliverers {
        assert!(partner_rows.iter().any(|r| r["org_id"] == *d), "deliverer {d} has a row");
    }
    // Grouped by quarter: each client once per quarter it signed in.
    let by_quarter = ops.get(&format!("{base}&group_by=period&granularity=quarter")).await.expect(200).clone();
    let mut per_quarter = std::collections::BTreeMap::<String, HashSet<i64>>::new();
    for c in contracts.iter().filter(|c| c["status"] != "cancelled") {
        let day = chrono::NaiveDate::parse_from_str(c["signed_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        let label = format!("{}-Q{}", chrono::Datelike::year(&day), (chrono::Datelike::month(&day) - 1) / 3 + 1);
        per_quarter.entry(label).or_default().insert(c["client"]["id"].as_i64().unwrap());
    }
    let quarters: Vec<(String, i64)> = by_quarter["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["clients"].as_i64().unwrap() > 0)
        .map(|r| (r["label"].as_str().unwrap().to_owned(), r["clients"].as_i64().unwrap()))
        .collect();
    let expected: Vec<(String, i64)> = per_quarter.into_iter().map(|(q, c)| (q, c.len() as i64)).collect();
    assert_eq!(quarters, expected);
    // Cancelling the order that made a client deep-signed takes it out of the numerator.
    let order = orders
        .iter()
        .filter(|o| o["status"] == "new" || o["status"] == "published")
        .find(|o| deep(&orders, o["id"].as_i64()) < deep(&orders, None))
        .expect("the demo park has a new order whose category makes its client deep-signed");
    let oid = order["id"].as_i64().unwrap();
    ops.post(&format!("/api/v1/orders/{oid}/cancel"), json!({"reason": "client withdrew"})).await.expect(200);
    let after = ops.get(&format!("{base}&group_by=period&granularity=year")).await.expect(200).clone();
    assert_eq!(after["total"]["deep_sign"]["numerator"], deep(&orders, Some(oid)));

    // A partner sees only its own row; a client its own business; implementers nothing.
    let sub = park.login("sub@vpark.demo").await;
    let sub1 = park.org_id_of("sub@vpark.demo").await;
    let mine = sub.get(&format!("{base}&group_by=partner")).await.expect(200).clone();
    assert_eq!(mine["restricted_to_org"], sub1);
    let ids: Vec<i64> = mine["rows"].as_array().unwrap().iter().map(|r| r["org_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [sub1]);
    let client = park.login("client@vpark.demo").await;
    let theirs = client.get(&format!("{base}&group_by=industry")).await.expect(200).clone();
    assert_eq!(theirs["total"]["clients"], 1);
    park.login("implementer@vpark.demo").await.get(&base).await.problem(403, "forbidden");

    // Bad periods and groupings are 4xx with the one error shape.
    ops.get(&format!("/api/v1/success-metrics?from={today}&to={from}")).await.problem(422, "invalid_field");
    let long_ago = today - Duration::days(365 * 6);
    ops.get(&format!("/api/v1/success-metrics?from={long_ago}&to={today}")).await.problem(422, "invalid_field");
    let bad = ops.get("/api/v1/success-metrics?group_by=planet").await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    park.stop().await;
}

/// Ops register a three-line contract of the Hangzhou team with a Shanghai client (where most
/// partners serve) and dispatch each line to a different eligible organisation other than the
/// team, chosen from each order's recommendations; returns its id.
async fn contract_with_three_other_deliverers(park: &TestPark, ops: &User) -> i64 {
    let clients = ops.get("/api/v1/organisations?kind=client&region=shanghai&limit=1").await.items();
    let client = id(clients.first().expect("a demo client in Shanghai"));
    let team = park.org_id_of("team@vpark.demo").await;
    let manager = park.user_id("team@vpark.demo").await;
    let c = ops
        .post(
            "/api/v1/contracts",
            json!({"client_id": client, "signer_id": team, "account_manager_id": manager,
                "signed_on": park.today().to_string(), "term_years": 1,
                "first_year_amount": "90000.00", "annual_maintenance_fee": "0.00",
                "lines": [{"service": "ERP-IMPL", "amount": "30000.00"}, {"service": "TAX-PLAN", "amount": "30000.00"},
                    {"service": "ERP-SUB", "amount": "30000.00"}]}),
        )
        .await
        .expect(201)
        .clone();
    let mut choices = Vec::new();
    for line in c["lines"].as_array().unwrap() {
        let order = line["order_id"].as_i64().unwrap();
        let r = ops.get(&format!("/api/v1/orders/{order}/recommendations")).await.expect(200).clone();
        let eligible: Vec<i64> = r["ranked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["organisation"]["id"].as_i64().unwrap())
            .filter(|d| *d != team)
            .collect();
        choices.push((order, eligible));
    }
    let [(o1, e1), (o2, e2), (o3, e3)] = &choices[..] else { panic!("three lines: {c}") };
    let (d1, d2, d3) = e1
        .iter()
        .flat_map(|a| e2.iter().map(move |b| (*a, *b)))
        .flat_map(|(a, b)| e3.iter().map(move |c| (a, b, *c)))
        .find(|(a, b, c)| a != b && b != c && a != c)
        .unwrap_or_else(|| panic!("three different eligible deliverers: {choices:?}"));
    for (order, deliverer) in [(o1, d1), (o2, d2), (o3, d3)] {
        // Anyone but the signing team and the vendor's direct teams executes on terms.
        let kind = ops.get(&format!("/api/v1/organisations/{deliverer}")).await.expect(200)["kind"].clone();
        let body = if kind == "direct_team" {
            json!({"deliverer_id": deliverer})
        } else {
            json!({"deliverer_id": deliverer, "execution_share": "0.60"})
        };
        ops.post(&format!("/api/v1/orders/{order}/dispatch"), body).await.expect(200);
    }
    id(&c)
}

/// Ops register a one-line contract of the Hangzhou team with the first demo client, signed
/// `days_ago`, for `term` years; returns its id.
async fn past_contract(park: &TestPark, ops: &User, days_ago: i64, term: i32) -> i64 {
    let client = park.org_id_of("client@vpark.demo").await;
    let team = park.org_id_of("team@vpark.demo").await;
    let manager = park.user_id("team@vpark.demo").await;
    let signed = park.today() - Duration::days(days_ago);
    let c = ops
        .post(
            "/api/v1/contracts",
            json!({"client_id": client, "signer_id": team, "account_manager_id": manager,
                "signed_on": signed.to_string(), "term_years": term,
                "first_year_amount": "50000.00", "annual_maintenance_fee": "10000.00",
                "lines": [{"service": "TAX-PLAN", "amount": "50000.00"}]}),
        )
        .await;
    id(c.expect(201))
}

async fn maintenance_renewal_counts_the_years_due_and_those_paid(b: Backend) {
    use crate::money::{pay, payment};
    let park = spawn_park(b).await;
    let today = park.today();
    let ops = park.login("ops@vpark.demo").await;
    let finance = park.login("finance@vpark.demo").await;
    let team = park.org_id_of("team@vpark.demo").await;
    let from = today - Duration::days(364);
    let base = format!("/api/v1/success-metrics?from={from}&to={today}");
    let renewal = |v: &Value| (v["numerator"].as_i64().unwrap(), v["denominator"].as_i64().unwrap());
    let before = ops.get(&format!("{base}&group_by=period&granularity=year")).await.expect(200).clone();
    assert_eq!(renewal(&before["total"]["maintenance_renewal"]), (0, 0), "no maintenance year of the demo is due yet");

    // Year 2 of `paid` and `refunded` and year 3 of `third` fall due in the period; `refunded` is
    // paid and refunded in full, so not renewed; year 2 of `third` fell due before the period,
    // and a one-year contract has no maintenance at all.
    let paid = past_contract(&park, &ops, 400, 3).await;
    let refunded = past_contract(&park, &ops, 500, 2).await;
    let third = past_contract(&park, &ops, 800, 3).await;
    past_contract(&park, &ops, 400, 1).await;
    pay(&finance, "m-1", payment(paid, 1, "maintenance", 2, "10000.00")).await.expect(201);
    pay(&finance, "m-2", payment(refunded, 1, "maintenance", 2, "10000.00")).await.expect(201);
    pay(&finance, "m-3", payment(refunded, 1, "maintenance", 2, "-10000.00")).await.expect(201);
    pay(&finance, "m-4", payment(third, 1, "maintenance", 3, "4000.00")).await.expect(201);
    pay(&finance, "m-5", payment(third, 1, "maintenance", 2, "10000.00")).await.expect(201);

    let after = ops.get(&format!("{base}&group_by=period&granularity=month")).await.expect(200).clone();
    let (n, d) = renewal(&after["total"]["maintenance_renewal"]);
    assert_eq!((n, d), (2, 3), "{}", after["total"]);
    // Each in the month its year fell due.
    let due = |days_ago: i64, k: u32| {
        let signed = today - Duration::days(days_ago);
        let day = signed.checked_add_months(chrono::Months::new(12 * (k - 1))).unwrap();
        day.format("%Y-%m").to_string()
    };
    let mut expected = std::collections::BTreeMap::<String, (i64, i64)>::new();
    for (month, hit) in [(due(400, 2), 1), (due(500, 2), 0), (due(800, 3), 1)] {
        let e = expected.entry(month).or_default();
        e.0 += hit;
        e.1 += 1;
    }
    let months: std::collections::BTreeMap<String, (i64, i64)> = after["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["label"].as_str().unwrap().to_owned(), renewal(&r["maintenance_renewal"])))
        .filter(|(_, (_, d))| *d > 0)
        .collect();
    assert_eq!(months, expected);
    // Grouped by partner, the years count for the signer.
    let by_partner = ops.get(&format!("{base}&group_by=partner")).await.expect(200).clone();
    let row = by_partner["rows"].as_array().unwrap().iter().find(|r| r["org_id"] == team).expect("the team's row");
    assert_eq!(renewal(&row["maintenance_renewal"]), (2, 3), "{row}");
    park.stop().await;
}

async fn cash_flow_matches_payments_and_payouts(b: Backend) {
    let park = spawn_park(b).await;
    let today = park.today();
    let finance = park.login("finance@vpark.demo").await;
    let from = today - Duration::days(364);
    let payments = finance.get("/api/v1/payments?limit=200").await.items();
    let received: i64 = payments.iter().map(|p| fen(&p["amount"])).filter(|a| *a > 0).sum();
    let refunded: i64 = -payments.iter().map(|p| fen(&p["amount"])).filter(|a| *a < 0).sum::<i64>();
    let payouts = finance.get("/api/v1/payouts?limit=200").await.items();
    let paid_out: i64 = payouts.iter().filter(|p| p["status"] == "approved").map(|p| fen(&p["total"])).sum();
    assert!(received > 0 && refunded > 0 && paid_out > 0, "the demo park has payments, a refund and a payout");

    let by_period = finance.get(&format!("/api/v1/cash-flow?group_by=period&from={from}&to={today}")).await;
    let t = &by_period.expect(200)["total"];
    assert_eq!(fen(&t["received"]), received);
    assert_eq!(fen(&t["refunded"]), refunded);
    assert_eq!(fen(&t["net_received"]), received - refunded);
    assert_eq!(fen(&t["paid_out"]), paid_out);
    let shares = fen(&t["partner_shares"]);
    assert!(shares > 0 && shares < received, "partners' shares are part of what was received: {shares}");
    let by_region = finance.get(&format!("/api/v1/cash-flow?group_by=region&from={from}&to={today}")).await;
    let rows = by_region.expect(200)["rows"].as_array().unwrap().clone();
    assert_eq!(rows.iter().map(|r| fen(&r["received"])).sum::<i64>(), received);
    assert_eq!(rows.iter().map(|r| fen(&r["partner_shares"])).sum::<i64>(), shares);

    park.login("ops@vpark.demo").await.get("/api/v1/cash-flow").await.expect(200);
    park.login("equity@vpark.demo").await.get("/api/v1/cash-flow").await.problem(403, "forbidden");
    park.stop().await;
}

async fn the_outcome_catalog_is_kept_by_the_platform_admin(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let client = park.login("client@vpark.demo").await;
    let kinds = client.get("/api/v1/outcome-kinds").await.expect(200)["items"].as_array().unwrap().clone();
    let codes: Vec<&str> = kinds.iter().map(|k| k["code"].as_str().unwrap()).collect();
    for want in ["HNTE", "SRDI", "TECH-GIANT", "UNICORN", "LISTING", "REV-30"] {
        assert!(codes.contains(&want), "{want} missing from {codes:?}");
    }
    let new = json!({"code": "IPO-READY", "name_zh": "完成股改", "name_en": "Joint-stock reform completed"});
    client.post("/api/v1/outcome-kinds", new.clone()).await.problem(403, "forbidden");
    let k = admin.post("/api/v1/outcome-kinds", new.clone()).await.expect(201).clone();
    assert_eq!(k["window_months"], 36);
    admin.post("/api/v1/outcome-kinds", new).await.problem(409, "duplicate");
    admin.patch("/api/v1/outcome-kinds/IPO-READY", json!({"window_months": 0})).await.problem(422, "invalid_field");
    let retired = admin.patch("/api/v1/outcome-kinds/IPO-READY", json!({"status": "retired"})).await;
    assert_eq!(retired.expect(200)["status"], "retired");
    // Retired: out of the list and no longer reported.
    let active = client.get("/api/v1/outcome-kinds").await.items();
    assert!(!active.iter().any(|k| k["code"] == "IPO-READY"));
    let client1 = park.org_id_of("client@vpark.demo").await;
    client
        .post(&format!("/api/v1/clients/{client1}/outcomes"), report("IPO-READY", park.today()))
        .await
        .problem(422, "invalid_field");
    let ops = park.login("ops@vpark.demo").await;
    let events = ops.get("/api/v1/audit-events?resource_kind=outcome_kind&limit=200").await.items();
    assert!(events.iter().any(|e| e["action"] == "outcome_kind.updated"));
    park.stop().await;
}
