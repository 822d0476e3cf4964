//! Payouts and statements through the HTTP API: a period's payout run, two-person approval,
//! statements that add up from one period to the next, CSV with a BOM, who reads what, the
//! vendor's report on equity partners, the e-mails — and the demo park's own payout period.

use chrono::Duration;
use ledger::Period;
use serde_json::{Value, json};

use crate::both;
use crate::money::{deliver_and_accept, fen, pay, payment, worked_example_contract};
use crate::support::{Backend, Options, User, spawn_park_with};

both!(a_period_is_paid_out_by_two_people_and_its_statements_add_up);
both!(the_demo_park_has_an_approved_payout_and_real_statements);

const Y: i64 = 100; // fen per yuan

async fn csv(user: &User, path: &str) -> (u16, String, Vec<u8>) {
    let resp = user
        .http()
        .get(user.url(path))
        .bearer_auth(user.token.clone().unwrap_or_default())
        .send()
        .await
        .expect("the request reaches the server");
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let bytes = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    (status, ct, bytes)
}

fn rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a CSV for Excel starts with the UTF-8 BOM");
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[3..]);
    r.records().map(|rec| rec.expect("a CSV record").iter().map(str::to_owned).collect()).collect()
}

fn statement_of(list: &[Value], party: i64) -> Value {
    list.iter().find(|s| s["party_id"] == party).cloned().unwrap_or(Value::Null)
}

async fn a_period_is_paid_out_by_two_people_and_its_statements_add_up(b: Backend) {
    let park = spawn_park_with(
        b,
        Options {
            tweak: Box::new(|s| {
                s.ledger.dual_approval_above = "30000.00".into();
                // The test moves the clock across two months; sessions outlive that.
                s.auth.session_ttl_minutes = 120 * 24 * 60;
            }),
            ..Default::default()
        },
    )
    .await;
    let finance = park.login("finance@vpark.demo").await;
    let finance2 = park.login("finance2@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    let equity = park.login("equity@vpark.demo").await;
    let sub = park.login("sub@vpark.demo").await;
    let client = park.login("client@vpark.demo").await;
    let sub_org = park.org_id_of("sub@vpark.demo").await;

    // The demo paid out the current period; the test works in the next one.
    let p1 = Period::containing(kernel::Clock::now(&*park.clock));
    let (p2, p3) = (p1.next(), p1.next().next());
    let before = finance.get(&format!("/api/v1/statements?period={p1}")).await.items();
    park.clock.set(p2.start() + Duration::days(5));

    let s = worked_example_contract(&park, true).await;
    let signer_p1 = statement_of(&before, s.signer);
    let c1 = fen(&signer_p1["payable"]["closing"]);
    let sub_held_p1 = fen(&statement_of(&before, sub_org)["held"]["closing"]);
    pay(&finance, "po-1", payment(s.contract, 1, "first_year", 1, "60000.00")).await.expect(201);
    pay(&finance, "po-2", payment(s.contract, 2, "first_year", 1, "20000.00")).await.expect(201);
    pay(&finance, "po-3", payment(s.contract, 1, "first_year", 1, "-5000.00")).await.expect(201);

    // Runs: not for a period that has not begun, not twice, and the period must be a month.
    finance.post("/api/v1/payouts", json!({"period": p3.to_string()})).await.problem(422, "period_not_started");
    finance.post("/api/v1/payouts", json!({"period": p1.to_string()})).await.problem(409, "payout_exists");
    finance.post("/api/v1/payouts", json!({"period": "2026-13"})).await.problem(422, "invalid_field");
    finance
        .post("/api/v1/payouts", json!({"period": p2.to_string(), "minimum": "-1.00"}))
        .await
        .problem(422, "invalid_field");
    equity.post("/api/v1/payouts", json!({"period": p2.to_string()})).await.problem(403, "forbidden");

    // Statements of the open period: each party reads its own; ops the equity partner's only.
    let mine = equity.get(&format!("/api/v1/statements?period={p2}")).await.items();
    assert_eq!(mine.len(), 1, "{mine:?}");
    let st = &mine[0];
    assert_eq!(st["party_id"], s.signer);
    assert_eq!(st["closed"], false);
    assert_eq!(fen(&st["payable"]["opening"]), c1, "the opening balance is the last period's closing balance");
    assert_eq!(fen(&st["payable"]["allocations"]), 26_400 * Y);
    assert_eq!(fen(&st["payable"]["clawbacks"]), -2_000 * Y);
    assert_eq!(fen(&st["payable"]["closing"]), c1 + 24_400 * Y);
    let theirs = sub.get(&format!("/api/v1/statements?period={p2}")).await.items();
    assert_eq!(theirs.len(), 1);
    assert_eq!(fen(&theirs[0]["held"]["opening"]), sub_held_p1);
    assert_eq!(fen(&theirs[0]["held"]["allocations"]), 14_000 * Y);
    let supervised = ops.get(&format!("/api/v1/statements?period={p2}")).await.items();
    assert!(supervised.iter().any(|x| x["party_id"] == s.signer), "{supervised:?}");
    assert!(supervised.iter().all(|x| x["party_id"] != sub_org), "ops do not read a subcontract partner's statement");
    ops.get(&format!("/api/v1/statements/{sub_org}/{p2}")).await.problem(404, "not_found");
    equity.get(&format!("/api/v1/statements/{sub_org}/{p2}")).await.problem(404, "not_found");
    sub.get(&format!("/api/v1/statements/{}/{p2}", s.signer)).await.problem(404, "not_found");
    client.get(&format!("/api/v1/statements?period={p2}")).await.problem(403, "forbidden");
    finance.get(&format!("/api/v1/statements/{}/2026-1", s.signer)).await.problem(422, "invalid_field");

    // The client accepts: the held share is released to the subcontractor.
    deliver_and_accept(&park, s.impl_order).await;

    // The period ends; vendor finance runs its payout.
    park.clock.set(p3.start() + Duration::days(1));
    let run = finance.post("/api/v1/payouts", json!({"period": p2.to_string()})).await;
    let batch = run.expect(201).clone();
    let id = batch["id"].as_i64().unwrap_or_default();
    assert_eq!(batch["status"], "pending_approval");
    assert_eq!(batch["dual_approval"], true, "{batch}");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(batch["cutoff"].as_str().unwrap_or_default()).map(|t| t.to_utc()).ok(),
        Some(p2.end())
    );
    let payees = batch["payees"].as_array().cloned().unwrap_or_default();
    let amount_of = |party: i64| payees.iter().find(|p| p["party_id"] == party).map(|p| fen(&p["amount"]));
    assert_eq!(amount_of(s.signer), Some(c1 + 24_400 * Y), "{batch}");
    assert_eq!(amount_of(sub_org), Some(14_000 * Y), "the released share is paid; {batch}");
    assert_eq!(fen(&batch["total"]), c1 + 38_400 * Y);
    assert!(payees.iter().all(|p| fen(&p["amount"]) >= 100 * Y), "nothing under the minimum");
    finance.post("/api/v1/payouts", json!({"period": p3.to_string()})).await.problem(409, "payout_pending");

    // Two different people approve; the first alone posts nothing.
    equity.post_empty(&format!("/api/v1/payouts/{id}/approve")).await.problem(403, "forbidden");
    let first = finance.post_empty(&format!("/api/v1/payouts/{id}/approve")).await.expect(200).clone();
    assert_eq!(first["status"], "pending_approval");
    assert_eq!(first["first_approved_by"], park.user_id("finance@vpark.demo").await);
    let bal = finance.get(&format!("/api/v1/ledger/balances?party_id={}", s.signer)).await.items();
    assert_eq!(fen(&bal[0]["payable"]), c1 + 24_400 * Y, "nothing is paid before the second approval");
    finance.post_empty(&format!("/api/v1/payouts/{id}/approve")).await.problem(409, "second_approver_required");
    let done = finance2.post_empty(&format!("/api/v1/payouts/{id}/approve")).await.expect(200).clone();
    assert_eq!(done["status"], "approved");
    assert_eq!(done["approved_by"], park.user_id("finance2@vpark.demo").await);
    finance2.post_empty(&format!("/api/v1/payouts/{id}/approve")).await.problem(409, "illegal_transition");
    let bal = finance.get(&format!("/api/v1/ledger/balances?party_id={}", s.signer)).await.items();
    assert_eq!(fen(&bal[0]["payable"]), 0, "paid out: {bal:?}");
    let bal = finance.get(&format!("/api/v1/ledger/balances?party_id={sub_org}")).await.items();
    assert_eq!(fen(&bal[0]["payable"]), 0);
    let listed = finance.get("/api/v1/payouts").await.items();
    assert_eq!(listed[0]["id"], id);

    // The closed period's statement: every entry, and closing = opening + movements.
    let full = equity.get(&format!("/api/v1/statements/{}/{p2}", s.signer)).await.expect(200).clone();
    assert_eq!(full["closed"], true);
    let lines = full["lines"].as_array().cloned().unwrap_or_default();
    assert_eq!(lines.len(), 3, "two allocations and a clawback: {full}");
    assert!(lines.iter().all(|l| l["contract_no"].is_string() && l["payment_id"].is_i64() && l["rate"] == "0.40"));
    let sum: i64 = lines.iter().map(|l| fen(&l["amount"])).sum();
    assert_eq!(fen(&full["payable"]["opening"]) + sum, fen(&full["payable"]["closing"]));
    // The payout falls in the period it was made in.
    let next = equity.get(&format!("/api/v1/statements/{}/{p3}", s.signer)).await.expect(200).clone();
    assert_eq!(fen(&next["payable"]["payouts"]), -(c1 + 24_400 * Y));
    assert_eq!(fen(&next["payable"]["closing"]), 0);
    assert_eq!(next["lines"][0]["payout_id"], id);
    let sub_next = sub.get(&format!("/api/v1/statements/{sub_org}/{p3}")).await.expect(200).clone();
    assert_eq!(fen(&sub_next["payable"]["releases"]), 0, "released in the period before");
    assert_eq!(fen(&sub_next["payable"]["payouts"]), -14_000 * Y);

    // CSV, as Excel wants it: UTF-8 with BOM, opening row, one row per entry, closing row.
    let (status, ct, bytes) = csv(&equity, &format!("/api/v1/statements/{}/{p2}/csv", s.signer)).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let table = rows(&bytes);
    assert_eq!(table.len(), 1 + 1 + 3 + 1, "header, opening, entries, closing");
    assert_eq!(table[0][0], "日期 date");
    assert_eq!(table[1][1], "期初余额 opening balance");
    assert_eq!(fen(&json!(table[1][12])), c1);
    let last = table.last().cloned().unwrap_or_default();
    assert_eq!(last[1], "期末余额 closing balance");
    assert_eq!(fen(&json!(last[12])), c1 + 24_400 * Y);
    assert_eq!(fen(&json!(table[4][12])), c1 + 24_400 * Y, "running balance");
    let (status, _, _) = csv(&sub, &format!("/api/v1/statements/{}/{p2}/csv", s.signer)).await;
    assert_eq!(status, 404, "another party's CSV is not found");
    let (status, _, bytes) = csv(&finance, &format!("/api/v1/payouts/{id}/csv")).await;
    assert_eq!(status, 200);
    let bank = rows(&bytes);
    assert_eq!(bank.len(), 3, "header and two payees: {bank:?}");
    assert!(bank.iter().any(|r| r.get(3).is_some_and(|n| n.contains("有限公司"))), "Chinese names survive");
    let (status, _, _) = csv(&equity, &format!("/api/v1/payouts/{id}/csv")).await;
    assert_eq!(status, 403);

    // The vendor's attributable share of the equity partner's earnings in the period.
    let report = ops.get(&format!("/api/v1/reports/equity-earnings?period={p2}")).await.expect(200).clone();
    let row = report["items"].as_array().into_iter().flatten().find(|r| r["party_id"] == s.signer).cloned();
    let row = row.unwrap_or(Value::Null);
    assert_eq!(fen(&row["net_earnings"]), 24_400 * Y, "{report}");
    let stake = kernel::Rate::parse(row["stake"].as_str().unwrap_or("x")).expect("a stake");
    let expected = kernel::Fen::new(24_400 * Y).share(stake).map(kernel::Fen::get).unwrap_or(-1);
    assert_eq!(fen(&row["attributable"]), expected);
    assert!(expected > 0, "the demo's equity partner has a stake");
    let subs = report["items"].as_array().into_iter().flatten().any(|r| r["party_id"] == sub_org);
    assert!(!subs, "only equity partners");
    equity.get(&format!("/api/v1/reports/equity-earnings?period={p2}")).await.problem(403, "forbidden");

    // E-mails: the payees hear of their payout, the parties of their statement.
    let in_p3 = |n: &Value| {
        chrono::DateTime::parse_from_rfc3339(n["created_at"].as_str().unwrap_or_default())
            .is_ok_and(|t| t.to_utc() >= p3.start())
    };
    let approved = ops.get("/api/v1/notifications?template=payout_approved&limit=200").await.items();
    for who in ["equity@vpark.demo", "sub@vpark.demo"] {
        let n = approved.iter().filter(|n| n["recipient_email"] == who && in_p3(n)).count();
        assert_eq!(n, 1, "{who}: {approved:?}");
    }
    let ready = ops.get("/api/v1/notifications?template=statement_ready&limit=200").await.items();
    for who in ["equity@vpark.demo", "sub@vpark.demo"] {
        assert_eq!(ready.iter().filter(|n| n["recipient_email"] == who && in_p3(n)).count(), 1, "{who}: {ready:?}");
    }

    // Audited: the run and both approvals.
    let audit = ops.get("/api/v1/audit-events?resource_kind=payout&limit=100").await.items();
    let id_text = id.to_string();
    let verbs: Vec<String> = audit
        .iter()
        .filter(|e| e["resource_id"].as_str() == Some(id_text.as_str()))
        .filter_map(|e| e["action"].as_str().map(String::from))
        .collect();
    for v in ["payout.run", "payout.approved_first", "payout.approved"] {
        assert!(verbs.iter().any(|x| x == v), "no {v} in {verbs:?}");
    }
    park.stop().await;
}

async fn the_demo_park_has_an_approved_payout_and_real_statements(b: Backend) {
    let park = spawn_park_with(b, Options::default()).await;
    let period = Period::containing(kernel::Clock::now(&*park.clock));
    let finance = park.login("finance@vpark.demo").await;
    let payouts = finance.get("/api/v1/payouts").await.items();
    assert!(payouts.iter().any(|p| p["status"] == "approved" && p["period"] == period.to_string()), "{payouts:?}");
    let all = finance.get(&format!("/api/v1/statements?period={period}")).await.items();
    assert!(all.len() >= 2, "{all:?}");
    for who in ["equity@vpark.demo", "sub@vpark.demo"] {
        let u = park.login(who).await;
        let mine = u.get(&format!("/api/v1/statements?period={period}")).await.items();
        assert_eq!(mine.len(), 1, "{who}: {mine:?}");
        let org = park.org_id_of(who).await;
        let st = u.get(&format!("/api/v1/statements/{org}/{period}")).await.expect(200).clone();
        let kinds: Vec<&str> =
            st["lines"].as_array().into_iter().flatten().filter_map(|l| l["kind"].as_str()).collect();
        assert!(kinds.contains(&"allocation") && kinds.contains(&"payout"), "{who}: {kinds:?}");
    }
    // The equity partner's refund shows as a clawback, and money after the payout waits.
    let org = park.org_id_of("equity@vpark.demo").await;
    let st = finance.get(&format!("/api/v1/statements/{org}/{period}")).await.expect(200).clone();
    assert!(fen(&st["payable"]["clawbacks"]) < 0, "{st}");
    assert!(fen(&st["payable"]["closing"]) > 0, "{st}");
    park.stop().await;
}
