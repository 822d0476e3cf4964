//! Requests that are repeated, and a database that goes away: a creation carrying an
//! `Idempotency-Key` happens once however often it is sent (one at a time or at the same
//! moment); a database that cannot be reached answers 503 with `Retry-After`, never 500; a
//! change whose commit may or may not have happened answers 503 `outcome_unknown`, and its
//! retry with the same key returns the original result instead of doing it twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::both;
use crate::money::{Setup, worked_example_contract};
use crate::support::http::Resp;
use crate::support::{Backend, TestPark, User, spawn_park};

both!(keyed_creations_happen_once);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_answers_503_and_keyed_retries_record_once() {
    if crate::support::db::postgres_or_skip() {
        payments_survive_terminated_backends().await
    }
}

/// POSTs `body` to `path` with an `Idempotency-Key`.
async fn keyed(user: &User, path: &str, key: &str, body: &Value) -> Resp {
    let req = user
        .http()
        .post(user.url(path))
        .bearer_auth(user.token.clone().unwrap_or_default())
        .header("Idempotency-Key", key)
        .json(body);
    User::finish(req).await
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("an id in {v}"))
}

async fn keyed_creations_happen_once(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let client = park.org_id_of("client@vpark.demo").await;
    let team = park.org_id_of("team@vpark.demo").await;

    // A contract: created once, replayed with its Location, a default written or left out is
    // the same request, a different body under the key is refused.
    let body = json!({"client_id": client, "signer_id": team, "signed_on": park.today().to_string(), "term_years": 2,
        "first_year_amount": "50000.00", "annual_maintenance_fee": "8000.00",
        "lines": [{"service": "TAX-PLAN", "amount": "50000.00"}]});
    let before = ops.get("/api/v1/contracts?limit=200").await.items().len();
    let first = keyed(&ops, "/api/v1/contracts", "ct-1", &body).await;
    let created = first.expect(201).clone();
    let location = first.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(location, format!("/api/v1/contracts/{}", id(&created)));
    let again = keyed(&ops, "/api/v1/contracts", "ct-1", &body).await;
    assert_eq!(id(again.expect(200)), id(&created), "the retry returns the first contract");
    let services = ops.get("/api/v1/services?limit=200").await.items();
    let tax = services.iter().find(|s| s["code"] == "TAX-PLAN").cloned().unwrap_or_default();
    let default = tax["agreement_template"].as_str().unwrap_or("standard").to_owned();
    let mut written = body.clone();
    written["agreement_template"] = json!(default);
    assert_eq!(id(keyed(&ops, "/api/v1/contracts", "ct-1", &written).await.expect(200)), id(&created));
    let mut other = body.clone();
    other["term_years"] = json!(3);
    keyed(&ops, "/api/v1/contracts", "ct-1", &other).await.problem(422, "idempotency_key_reused");
    // Two at the same moment with one key: one contract.
    let (x, y) =
        tokio::join!(keyed(&ops, "/api/v1/contracts", "ct-2", &body), keyed(&ops, "/api/v1/contracts", "ct-2", &body));
    let statuses = [x.status, y.status];
    assert!(statuses.contains(&201) && statuses.iter().all(|s| [200, 201].contains(s)), "{statuses:?}");
    assert_eq!(id(&x.body), id(&y.body), "both answer the one contract");
    assert_eq!(ops.get("/api/v1/contracts?limit=200").await.items().len(), before + 2, "two keys, two contracts");
    keyed(&ops, "/api/v1/contracts", "", &body).await.problem(400, "invalid_idempotency_key");

    // A bid, on an ERP tender sub@ may bid on.
    let mut erp = body.clone();
    erp["lines"] = json!([{"service": "ERP-IMPL", "amount": "50000.00"}]);
    let erp = ops.post("/api/v1/contracts", erp).await.expect(201).clone();
    let order = erp["lines"][0]["order_id"].as_i64().unwrap_or_default();
    let deadline = (kernel::Clock::now(&*park.clock) + chrono::Duration::hours(48)).to_rfc3339();
    let published = ops
        .post(
            &format!("/api/v1/orders/{order}/subcontract"),
            json!({"reason": "wont_do", "mode": "tender", "fixed_fee": "20000.00", "claim_deadline": deadline}),
        )
        .await
        .expect(200)
        .clone();
    let sid = published["subcontract"]["id"].as_i64().unwrap_or_default();
    let bidder = park.login("sub@vpark.demo").await;
    let bid = json!({"fee": "18000.00", "plan": "两周完成", "implementer_ids": []});
    let path = format!("/api/v1/subcontracts/{sid}/bids");
    let first = keyed(&bidder, &path, "bid-1", &bid).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(keyed(&bidder, &path, "bid-1", &bid).await.status, 200);
    let mut cheaper = bid.clone();
    cheaper["fee"] = json!("17000.00");
    keyed(&bidder, &path, "bid-1", &cheaper).await.problem(422, "idempotency_key_reused");
    let audit = ops.get(&format!("/api/v1/audit-events?resource_kind=subcontract&resource_id={sid}")).await.items();
    let submitted = audit.iter().filter(|e| e["action"] == "subcontract.bid_submitted").count();
    assert_eq!(submitted, 1, "the replay submitted nothing");

    // An outcome report.
    let kinds = ops.get("/api/v1/outcome-kinds").await.items();
    let mut reported = None;
    for k in kinds.iter().filter_map(|k| k["code"].as_str()) {
        let body = json!({"kind": k, "achieved_on": park.today().to_string(), "title": "证书", "attachments": ["dms://c.pdf"]});
        let r = keyed(&ops, &format!("/api/v1/clients/{client}/outcomes"), &format!("oc-{k}"), &body).await;
        if r.status == 201 {
            let again = keyed(&ops, &format!("/api/v1/clients/{client}/outcomes"), &format!("oc-{k}"), &body).await;
            assert_eq!(id(again.expect(200)), id(&r.body));
            reported = Some(k.to_owned());
            break;
        }
    }
    assert!(reported.is_some(), "an outcome milestone could be reported");

    // A payout run (in the month after the demo's).
    park.clock.advance(chrono::Duration::days(32));
    let finance = park.login("finance@vpark.demo").await;
    let period = ledger::statement::Period::containing(kernel::Clock::now(&*park.clock)).to_string();
    let run = json!({"period": period});
    let first = keyed(&finance, "/api/v1/payouts", "po-1", &run).await;
    let batch = id(first.expect(201));
    assert_eq!(id(keyed(&finance, "/api/v1/payouts", "po-1", &run).await.expect(200)), batch);
    // Without the key a second run is the conflict it always was.
    finance.post("/api/v1/payouts", run).await.problem(409, "payout_pending");
    park.stop().await;
}

/// Payments while every connection of the park is terminated again and again
/// (`pg_terminate_backend`): each answer is 201, 200 (a replay) or 503 with `Retry-After`, never
/// 500; retrying each 503 with the same key ends in exactly one payment per key.
async fn payments_survive_terminated_backends() {
    let park = spawn_park(Backend::Postgres).await;
    let Setup { contract, .. } = worked_example_contract(&park, false).await;
    let finance = park.login("finance@vpark.demo").await;
    let stop = Arc::new(AtomicBool::new(false));
    let killer = {
        let (stop, url) = (stop.clone(), park.db_url().to_owned());
        tokio::spawn(async move {
            use sea_orm::ConnectionTrait;
            let conn = sea_orm::Database::connect(url).await.expect("the killer's connection");
            let mut kills = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let r = conn
                    .execute_unprepared(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = current_database() AND application_name = 'vpark'",
                    )
                    .await;
                kills += u64::from(r.is_ok());
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            kills
        })
    };
    let body = |on: chrono::NaiveDate| {
        json!({"contract_id": contract, "line_no": 1, "stream": "first_year", "amount": "100.00",
            "received_on": on.to_string()})
    };
    let mut unavailable = 0;
    let mut chaos = tokio::time::Instant::now() + Duration::from_secs(4);
    for k in 0..12 {
        let key = format!("chaos-{k}");
        let mut attempts = 0;
        loop {
            attempts += 1;
            assert!(attempts < 400, "payment {key} never went through");
            if tokio::time::Instant::now() > chaos {
                stop.store(true, Ordering::Relaxed);
                chaos += Duration::from_secs(3600);
            }
            let r = keyed(&finance, "/api/v1/payments", &key, &body(park.today())).await;
            match r.status {
                200 | 201 => break,
                503 => {
                    let code = r.body["code"].as_str().unwrap_or_default();
                    assert!(["unavailable", "outcome_unknown"].contains(&code), "{}", r.body);
                    assert!(r.headers.get("retry-after").is_some(), "503 says when to retry");
                    unavailable += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                // The session read itself can fail while the database is away: that is a 503 too,
                // but a login lost with a killed pool may need doing again.
                401 => panic!("authentication failed while the database was away: {}", r.body),
                other => panic!("payment {key}: {other} {}", r.body),
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let kills = killer.await.expect("the killer");
    assert!(kills > 0 && unavailable > 0, "the database did go away ({kills} rounds, {unavailable} × 503)");
    // Caught up: one payment per key, every transaction balanced.
    wait_ready(&park).await;
    finance.post("/api/v1/settlements", json!({})).await.expect(200);
    let paid = finance.get(&format!("/api/v1/payments?contract_id={contract}&limit=200")).await.items();
    assert_eq!(paid.len(), 12, "one payment per key, whatever was retried");
    let unbalanced = park
        .scalar(
            "SELECT COUNT(*) FROM (SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING SUM(amount_fen) <> 0) t",
            vec![],
        )
        .await;
    assert_eq!(unbalanced, 0);
    park.stop().await;
}

/// Until the park reads its database again.
async fn wait_ready(park: &TestPark) {
    for _ in 0..100 {
        if park.anon().get("/readyz").await.status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the park did not become ready again");
}
