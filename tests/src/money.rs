//! The money through the HTTP API: the worked example and the rounding example of DESIGN §5,
//! idempotent payments, refunds, cancellation re-splits, the ledger's balance and who may read
//! it.

use std::collections::BTreeMap;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::both;
use crate::support::http::Resp;
use crate::support::{Backend, TestPark, User, spawn_park};

both!(the_worked_example_splits_every_payment_to_the_cent);
both!(the_rounding_example_and_idempotent_payments);
both!(a_cancelled_subcontract_is_re_split_and_refunds_claw_back);
both!(agreement_templates_are_versioned_and_refuse_more_than_100_percent);
both!(a_settlement_planned_before_its_contracts_moved_is_planned_again);
both!(payments_are_settled_up_to_their_contracts_mark);
both!(a_direct_dispatch_pays_the_executor_its_share);
both!(a_claim_re_splits_what_was_paid_at_once);
both!(payments_stay_within_their_contract);
both!(balances_sum_exactly_beyond_64_bit_running_totals);

pub(crate) fn fen(v: &Value) -> i64 {
    kernel::Fen::parse_yuan(v.as_str().unwrap_or("x")).map(kernel::Fen::get).unwrap_or(i64::MIN)
}

/// Records a payment with an idempotency key. Money is received on the day its contract was
/// signed (a payment before signing, or in the future, is refused), unless the contract is
/// not one the caller can read.
pub(crate) async fn pay(finance: &User, key: &str, mut body: Value) -> Resp {
    if let Some(contract) = body["contract_id"].as_i64() {
        let c = finance.get(&format!("/api/v1/contracts/{contract}")).await;
        if c.status == 200 {
            body["received_on"] = c.body["signed_on"].clone();
        }
    }
    let req = finance
        .http()
        .post(finance.url("/api/v1/payments"))
        .bearer_auth(finance.token.clone().unwrap_or_default())
        .header("Idempotency-Key", key)
        .json(&body);
    User::finish(req).await
}

pub(crate) fn payment(contract: i64, line_no: i32, stream: &str, year: i32, amount: &str) -> Value {
    json!({"contract_id": contract, "line_no": line_no, "stream": stream, "year": year, "amount": amount,
        "received_on": "2026-11-20"})
}

/// Every entry of a contract, oldest first.
async fn entries(finance: &User, contract: i64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = finance.get(&format!("/api/v1/ledger/entries?contract_id={contract}&limit=200{cursor}")).await;
        let body = r.expect(200).clone();
        all.extend(r.items());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    all.reverse();
    all
}

/// What the ledger holds of a contract per (party, account), credit-positive, in fen.
async fn shares(finance: &User, contract: i64) -> BTreeMap<(i64, String), i64> {
    let mut out = BTreeMap::new();
    for e in entries(finance, contract).await {
        let key = (e["party_id"].as_i64().unwrap_or_default(), e["account"].as_str().unwrap_or_default().to_owned());
        *out.entry(key).or_default() += fen(&e["credit"]) - fen(&e["debit"]);
    }
    out
}

fn share(s: &BTreeMap<(i64, String), i64>, party: i64, account: &str) -> i64 {
    s.get(&(party, account.to_owned())).copied().unwrap_or_default()
}

/// Every transaction balances: debits equal credits.
async fn assert_balanced(finance: &User, contract: i64) {
    let mut by_txn: BTreeMap<i64, i64> = BTreeMap::new();
    for e in entries(finance, contract).await {
        *by_txn.entry(e["txn_id"].as_i64().unwrap_or_default()).or_default() += fen(&e["debit"]) - fen(&e["credit"]);
    }
    assert!(!by_txn.is_empty());
    assert!(by_txn.values().all(|v| *v == 0), "unbalanced transactions: {by_txn:?}");
}

pub(crate) struct Setup {
    pub contract: i64,
    pub signer: i64,
    pub vendor: i64,
    pub impl_order: i64,
}

/// P (the first equity partner, at the registered tier's standard rates) signs the first demo
/// client: subscription 60,000.00 (TAX-PLAN) + implementation 40,000.00 (ERP-IMPL),
/// maintenance 18,000.00 a year; implementation is subcontracted to sub@'s firm at 70 %.
pub(crate) async fn worked_example_contract(park: &TestPark, subcontract: bool) -> Setup {
    let admin = park.login("admin@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    let signer = park.org_id_of("equity@vpark.demo").await;
    let vendor = park.org_id_of("ops@vpark.demo").await;
    admin.patch(&format!("/api/v1/organisations/{signer}"), json!({"tier": "registered"})).await.expect(200);
    let client = park.org_id_of("client@vpark.demo").await;
    let c = ops
        .post(
            "/api/v1/contracts",
            json!({"client_id": client, "signer_id": signer, "signed_on": park.today().to_string(), "term_years": 3,
                "first_year_amount": "100000.00", "annual_maintenance_fee": "18000.00",
                "lines": [{"service": "TAX-PLAN", "amount": "60000.00"}, {"service": "ERP-IMPL", "amount": "40000.00"}]}),
        )
        .await
        .expect(201)
        .clone();
    let rules = &c["agreement"]["rules"];
    assert_eq!(rules[1]["rate"], "0.40", "the snapshot holds the signer's rates: {c}");
    assert_eq!(rules[2]["rate"], "0.20");
    let contract = c["id"].as_i64().unwrap_or_default();
    let impl_order = c["lines"][1]["order_id"].as_i64().unwrap_or_default();
    if subcontract {
        let deadline = (kernel::Clock::now(&*park.clock) + chrono::Duration::hours(72)).to_rfc3339();
        let o = ops
            .post(
                &format!("/api/v1/orders/{impl_order}/subcontract"),
                json!({"reason": "cant_do", "mode": "first_claim", "execution_share": "0.70", "claim_deadline": deadline}),
            )
            .await
            .expect(200)
            .clone();
        let sub_id = o["subcontract"]["id"].as_i64().unwrap_or_default();
        let sub = park.login("sub@vpark.demo").await;
        sub.post_empty(&format!("/api/v1/subcontracts/{sub_id}/claim")).await.expect(200);
    }
    Setup { contract, signer, vendor, impl_order }
}

pub(crate) async fn deliver_and_accept(park: &TestPark, order: i64) {
    let sub = park.login("sub@vpark.demo").await;
    let implementer = park.user_id("implementer@vpark.demo").await;
    let o = sub.post(&format!("/api/v1/orders/{order}/assignments"), json!({"user_ids": [implementer]})).await;
    let o = o.expect(200).clone();
    let imp = park.login("implementer@vpark.demo").await;
    for m in o["milestones"].as_array().into_iter().flatten().filter_map(|m| m["id"].as_i64()) {
        imp.post_empty(&format!("/api/v1/orders/{order}/milestones/{m}/complete")).await.expect(200);
    }
    sub.post_empty(&format!("/api/v1/orders/{order}/deliver")).await.expect(200);
    let client = park.login("client@vpark.demo").await;
    client.post_empty(&format!("/api/v1/orders/{order}/accept")).await.expect(200);
}

const Y: i64 = 100; // fen per yuan

async fn the_worked_example_splits_every_payment_to_the_cent(b: Backend) {
    let park = spawn_park(b).await;
    let Setup { contract, signer: p, vendor, impl_order } = worked_example_contract(&park, true).await;
    let s = park.org_id_of("sub@vpark.demo").await;
    let finance = park.login("finance@vpark.demo").await;

    // C pays subscription 60,000.00: P 24,000.00, vendor 36,000.00.
    let r = pay(&finance, "bank-0001", payment(contract, 1, "first_year", 1, "60000.00")).await;
    assert!(r.expect(201)["settled_at"].is_string(), "settled at once: {}", r.body);
    let got = shares(&finance, contract).await;
    assert_eq!(share(&got, p, "payable"), 24_000 * Y);
    assert_eq!(share(&got, vendor, "vendor_revenue"), 36_000 * Y);

    // C pays implementation 20,000.00: S 14,000.00 held, P 2,400.00, vendor 3,600.00.
    pay(&finance, "bank-0002", payment(contract, 2, "first_year", 1, "20000.00")).await.expect(201);
    let got = shares(&finance, contract).await;
    assert_eq!(share(&got, s, "held"), 14_000 * Y);
    assert_eq!(share(&got, s, "payable"), 0);
    assert_eq!(share(&got, p, "payable"), 26_400 * Y);
    assert_eq!(share(&got, vendor, "vendor_revenue"), 39_600 * Y);

    // C accepts the implementation: 14,000.00 released.
    deliver_and_accept(&park, impl_order).await;
    let got = shares(&finance, contract).await;
    assert_eq!(share(&got, s, "held"), 0);
    assert_eq!(share(&got, s, "payable"), 14_000 * Y);
    let releases: Vec<Value> =
        entries(&finance, contract).await.into_iter().filter(|e| e["kind"] == "release").collect();
    assert_eq!(releases.len(), 2, "a held debit and a payable credit: {releases:?}");
    assert!(releases.iter().all(|e| e["payment_id"].is_null()));

    // C pays implementation 20,000.00: S 14,000.00, P 2,400.00, vendor 3,600.00.
    pay(&finance, "bank-0003", payment(contract, 2, "first_year", 1, "20000.00")).await.expect(201);
    // C pays year-2 maintenance 18,000.00: P 3,600.00, vendor 14,400.00.
    pay(&finance, "bank-0004", payment(contract, 1, "maintenance", 2, "18000.00")).await.expect(201);

    // Totals (118,000.00): S 28,000.00, P 32,400.00, vendor 57,600.00.
    let got = shares(&finance, contract).await;
    assert_eq!(share(&got, s, "payable"), 28_000 * Y);
    assert_eq!(share(&got, p, "payable"), 32_400 * Y);
    assert_eq!(share(&got, vendor, "vendor_revenue"), 57_600 * Y);
    assert_eq!(share(&got, vendor, "cash"), -118_000 * Y, "cash is the debit side");
    assert_balanced(&finance, contract).await;

    // Every cent is explained: the subcontractor's entries name the rule and the rate.
    let mine: Vec<Value> = entries(&finance, contract)
        .await
        .into_iter()
        .filter(|e| e["party_id"] == s && e["kind"] == "allocation")
        .collect();
    assert!(!mine.is_empty() && mine.iter().all(|e| e["rule"] == 1 && e["rate"] == "0.70" && e["payment_id"].is_i64()));

    // Nothing left to post.
    let again = finance.post_empty("/api/v1/settlements").await.expect(200).clone();
    assert_eq!(again["transactions"], 0, "{again}");

    // Each party reads its own balances and entries only.
    let sub = park.login("sub@vpark.demo").await;
    let bal = sub.get("/api/v1/ledger/balances").await.expect(200).clone();
    let items = bal["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{bal}");
    assert_eq!(items[0]["party_id"], s);
    assert_eq!(items[0]["payable"], "28000.00");
    sub.get(&format!("/api/v1/ledger/entries?party_id={p}")).await.problem(403, "forbidden");
    assert!(sub.get("/api/v1/ledger/entries").await.items().iter().all(|e| e["party_id"] == s));
    park.login("client@vpark.demo").await.get("/api/v1/ledger/balances").await.problem(403, "forbidden");

    // The signer heard of each payment, the subcontractor of the release.
    let ops = park.login("ops@vpark.demo").await;
    let told = ops.get("/api/v1/notifications?template=payment_recorded&limit=200").await;
    assert!(told.items().iter().filter(|n| n["recipient_email"] == "equity@vpark.demo").count() >= 4, "{}", told.body);
    let released = ops.get("/api/v1/notifications?template=share_released").await;
    assert!(released.items().iter().any(|n| n["recipient_email"] == "sub@vpark.demo"), "{}", released.body);

    // Payments are audited.
    let audit = ops.get("/api/v1/audit-events?resource_kind=payment&limit=100").await;
    assert!(audit.items().len() >= 4, "{}", audit.body);
    // So is every posting: four payments and one release, each naming its transactions.
    let posted = ops.get(&format!("/api/v1/audit-events?resource_kind=settlement&resource_id={contract}")).await;
    let posted = posted.items();
    assert_eq!(posted.len(), 5, "{posted:?}");
    assert!(
        posted.iter().all(|e| e["action"] == "settlement.posted" && e["after"]["transactions"].as_i64() >= Some(1))
    );
    park.stop().await;
}

async fn the_rounding_example_and_idempotent_payments(b: Backend) {
    let park = spawn_park(b).await;
    let Setup { contract, signer: p, vendor, .. } = worked_example_contract(&park, false).await;
    let finance = park.login("finance@vpark.demo").await;

    // Three payments of 0.01: P gets 0.00, 0.01, 0.00; the vendor 0.01, 0.00, 0.01.
    let mut ids = Vec::new();
    for k in 1..=3 {
        let r = pay(&finance, &format!("cent-{k}"), payment(contract, 1, "first_year", 1, "0.01")).await;
        ids.push(r.expect(201)["id"].as_i64().unwrap_or_default());
    }
    let all = entries(&finance, contract).await;
    let per = |party: i64, pid: i64| -> i64 {
        all.iter()
            .filter(|e| e["party_id"] == party && e["payment_id"] == pid && e["account"] != "cash")
            .map(|e| fen(&e["credit"]) - fen(&e["debit"]))
            .sum()
    };
    assert_eq!(ids.iter().map(|id| per(p, *id)).collect::<Vec<_>>(), vec![0, 1, 0]);
    assert_eq!(ids.iter().map(|id| per(vendor, *id)).collect::<Vec<_>>(), vec![1, 0, 1]);

    // The same key and body: the first result, nothing posted twice.
    let first = pay(&finance, "cent-1", payment(contract, 1, "first_year", 1, "0.01")).await;
    assert_eq!(first.expect(200)["id"], ids[0]);
    assert_eq!(entries(&finance, contract).await.len(), all.len());
    // The same key with another body is refused.
    pay(&finance, "cent-1", payment(contract, 1, "first_year", 1, "0.02")).await.problem(422, "idempotency_key_reused");
    // No key, a line that does not exist, a missing contract, a zero amount, a bad year.
    let no_key = finance.post("/api/v1/payments", payment(contract, 1, "first_year", 1, "1.00")).await;
    no_key.problem(400, "invalid_idempotency_key");
    pay(&finance, "bad-1", payment(contract, 9, "first_year", 1, "1.00")).await.problem(422, "invalid_field");
    pay(&finance, "bad-2", payment(999_999, 1, "first_year", 1, "1.00")).await.problem(404, "not_found");
    pay(&finance, "bad-3", payment(contract, 1, "first_year", 1, "0.00")).await.problem(422, "invalid_field");
    pay(&finance, "bad-4", payment(contract, 1, "maintenance", 1, "1.00")).await.problem(422, "invalid_field");
    pay(&finance, "bad-5", payment(contract, 1, "maintenance", 4, "1.00")).await.problem(422, "invalid_field");
    pay(&finance, "bad-6", payment(contract, 1, "first_year", 1, "1.001")).await.problem(422, "invalid_field");
    // A refund above what was paid on the line and stream.
    pay(&finance, "bad-7", payment(contract, 1, "first_year", 1, "-0.04")).await.problem(422, "refund_exceeds_paid");
    pay(&finance, "bad-8", payment(contract, 1, "maintenance", 2, "-0.01")).await.problem(422, "refund_exceeds_paid");
    // None of it changed the ledger or the payments.
    assert_eq!(entries(&finance, contract).await.len(), all.len());
    let listed = finance.get(&format!("/api/v1/payments?contract_id={contract}")).await;
    assert_eq!(listed.items().len(), 3);
    // Only vendor finance records payments.
    let ops = park.login("ops@vpark.demo").await;
    let req = ops
        .http()
        .post(ops.url("/api/v1/payments"))
        .bearer_auth(ops.token.clone().unwrap_or_default())
        .header("Idempotency-Key", "ops-1")
        .json(&payment(contract, 1, "first_year", 1, "1.00"));
    User::finish(req).await.problem(403, "forbidden");
    park.stop().await;
}

async fn a_cancelled_subcontract_is_re_split_and_refunds_claw_back(b: Backend) {
    let park = spawn_park(b).await;
    let Setup { contract, signer: p, vendor, impl_order } = worked_example_contract(&park, true).await;
    let s = park.org_id_of("sub@vpark.demo").await;
    let finance = park.login("finance@vpark.demo").await;
    pay(&finance, "c-1", payment(contract, 2, "first_year", 1, "10000.00")).await.expect(201);
    let got = shares(&finance, contract).await;
    assert_eq!(share(&got, s, "held"), 7_000 * Y);

    // Cancelled before acceptance: the subcontract rule drops out, the held money is re-split
    // as if the line had never been subcontracted (P 40 %, the vendor the rest).
    let ops = park.login("ops@vpark.demo").await;
    ops.post(&format!("/api/v1/orders/{impl_order}/cancel"), json!({"reason": "客户取消实施"})).await.expect(200);
    let got = shares(&finance, contract).await;
    assert_eq!(share(&got, s, "held"), 0);
    assert_eq!(share(&got, s, "payable"), 0);
    assert_eq!(share(&got, p, "payable"), 4_000 * Y);
    assert_eq!(share(&got, vendor, "vendor_revenue"), 6_000 * Y);

    // A refund claws back by the same rule; paying X then refunding X leaves everyone at zero.
    pay(&finance, "c-2", payment(contract, 2, "first_year", 1, "-10000.00")).await.expect(201);
    let got = shares(&finance, contract).await;
    assert!(got.values().all(|v| *v == 0), "{got:?}");
    let kinds: Vec<String> =
        entries(&finance, contract).await.iter().filter_map(|e| e["kind"].as_str().map(str::to_owned)).collect();
    assert!(kinds.iter().any(|k| k == "clawback"));
    assert_balanced(&finance, contract).await;

    // Once every order is cancelled, the contract takes refunds only.
    let c = ops.get(&format!("/api/v1/contracts/{contract}")).await.expect(200).clone();
    let other = c["lines"][0]["order_id"].as_i64().unwrap_or_default();
    ops.post(&format!("/api/v1/orders/{other}/cancel"), json!({"reason": "合同终止"})).await.expect(200);
    pay(&finance, "c-3", payment(contract, 1, "first_year", 1, "100.00")).await.problem(409, "contract_cancelled");
    park.stop().await;
}

async fn agreement_templates_are_versioned_and_refuse_more_than_100_percent(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let t = admin.get("/api/v1/agreement-templates/standard").await.expect(200).clone();
    assert_eq!(t["rules"][1]["rate"], "0.40");
    let version = t["version"].as_i64().unwrap_or_default();

    // Rates that could share out more than 100 % of a stream are refused, naming it.
    let mut rules = t["rules"].as_array().cloned().unwrap_or_default();
    rules.push(json!({"beneficiary": "signer", "stream": "maintenance", "basis": "gross", "rate": "0.90"}));
    rules.push(json!({"beneficiary": "signer", "stream": "maintenance", "basis": "gross", "rate": "0.20"}));
    let r = admin
        .put("/api/v1/agreement-templates/standard", json!({"name_zh": "标准", "name_en": "Standard", "rules": rules}))
        .await;
    let p = r.problem(422, "agreement_exceeds_100_percent").clone();
    assert!(p["message"].as_str().unwrap_or_default().contains("maintenance"), "{p}");
    let unchanged = admin.get("/api/v1/agreement-templates/standard").await.expect(200).clone();
    assert_eq!(unchanged["version"], version);

    // A contract signed now keeps its snapshot when the template changes later.
    let Setup { contract, .. } = worked_example_contract(&park, false).await;
    let mut raised = t["rules"].as_array().cloned().unwrap_or_default();
    raised[1]["rate"] = json!("0.50");
    let r = admin
        .put("/api/v1/agreement-templates/standard", json!({"name_zh": "标准", "name_en": "Standard", "rules": raised}))
        .await;
    assert_eq!(r.expect(200)["version"], version + 1);
    let ops = park.login("ops@vpark.demo").await;
    let c = ops.get(&format!("/api/v1/contracts/{contract}")).await.expect(200).clone();
    assert_eq!(c["agreement"]["rules"][1]["rate"], "0.40", "{c}");
    assert_eq!(c["agreement"]["version"], version);
    // The client never sees the agreement.
    let client = park.login("client@vpark.demo").await;
    assert!(client.get(&format!("/api/v1/contracts/{contract}")).await.expect(200)["agreement"].is_null());
    park.stop().await;
}

/// `vpark settle` on SQLite reads and calculates the next batch outside the write transaction,
/// and posts that plan only if none of its contracts moved in between. Here a waiting payment is
/// planned, then another payment lands and is settled together with it: the stale plan must not
/// post the waiting payment a second time.
async fn a_settlement_planned_before_its_contracts_moved_is_planned_again(b: Backend) {
    let park = spawn_park(b).await;
    let Setup { contract, signer: p, vendor, .. } = worked_example_contract(&park, false).await;
    let finance = park.login("finance@vpark.demo").await;
    pay(&finance, "bank-0101", payment(contract, 1, "first_year", 1, "10000.00")).await.expect(201);

    // A payment recorded whose settlement has not run yet (as after a crash between the two).
    let db = park.park.db.write();
    use marketplace::store::line;
    let line_id = line::Entity::find()
        .filter(line::Column::ContractId.eq(contract))
        .filter(line::Column::LineNo.eq(1))
        .one(db)
        .await
        .expect("read the line")
        .expect("line 1")
        .id;
    let now = kernel::Clock::now(&*park.clock);
    let waiting = ledger::store::payment::ActiveModel {
        contract_id: Set(contract),
        line_id: Set(line_id),
        stream: Set("first_year".into()),
        year: Set(1),
        amount_fen: Set(20_000 * Y),
        received_on: Set(park.today()),
        idempotency_key: Set("imported-0102".into()),
        request_hash: Set("imported".into()),
        created_at: Set(now),
        ..Default::default()
    };
    waiting.insert(db).await.expect("insert the waiting payment");
    marketplace::store::bump_settle_rev(db, contract).await.expect("mark the contract changed");

    let ledger = &park.park.ledger;
    let stale = ledger.plan_batch(&[contract]).await.expect("plan");
    // Meanwhile another payment is recorded, and its settlement posts the waiting one too.
    pay(&finance, "bank-0103", payment(contract, 1, "first_year", 1, "30000.00")).await.expect(201);
    let posted = ledger.post_planned(stale).await.expect("post the stale plan");
    assert_eq!(posted.transactions, 0, "planned again: nothing was left to post ({posted:?})");

    // 10,000.00 + 20,000.00 + 30,000.00 of subscription: P 40 %, the vendor the rest, once.
    let got = shares(&finance, contract).await;
    assert_eq!(share(&got, p, "payable"), 24_000 * Y);
    assert_eq!(share(&got, vendor, "vendor_revenue"), 36_000 * Y);
    assert_eq!(share(&got, vendor, "cash"), -60_000 * Y);
    assert_balanced(&finance, contract).await;

    // A plan read after the last change posts what it planned: here, nothing.
    let fresh = ledger.plan_batch(&[contract]).await.expect("plan");
    assert_eq!(ledger.post_planned(fresh).await.expect("post").transactions, 0);
    // And a plan of no contracts is nothing to post, on either database.
    let none = ledger.plan_batch(&[]).await.expect("plan nothing");
    assert_eq!(ledger.post_planned(none).await.expect("post nothing"), ledger::app::SettleSummary::default());
    park.stop().await;
}

/// Settlement keeps one mark per contract — the highest payment id it has taken in — instead
/// of marking each payment (migration `m0013_settlement_marks`). Payments recorded while bulk
/// settlements run are none of them lost or posted twice (a payment takes its id with its
/// contract locked); a payment's `settled_at` is when the ledger took it in; the migration
/// goes back to a mark on each payment and forward again to the same marks.
async fn payments_are_settled_up_to_their_contracts_mark(b: Backend) {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let park = spawn_park(b).await;
    let Setup { contract, vendor, .. } = worked_example_contract(&park, false).await;
    let finance = park.login("finance@vpark.demo").await;
    let ledger = park.park.ledger.clone();

    // Twenty payments at once, while bulk settlements run over and over beside them.
    let paying = futures_util::future::join_all((0..20).map(|k| {
        let finance = &finance;
        async move { pay(finance, &format!("race-{k}"), payment(contract, 1, "first_year", 1, "100.00")).await }
    }));
    let settling = async {
        for _ in 0..10 {
            ledger.settle_all(None, &|_| {}).await.expect("a bulk settlement");
        }
    };
    let (paid, ()) = futures_util::future::join(paying, settling).await;
    for r in &paid {
        assert!(r.expect(201)["settled_at"].is_string(), "settled at once: {}", r.body);
    }
    ledger.settle_all(None, &|_| {}).await.expect("settle");
    let got = shares(&finance, contract).await;
    assert_eq!(share(&got, vendor, "cash"), -2_000 * Y, "every payment in the ledger once: {got:?}");
    assert_balanced(&finance, contract).await;

    // A payment's settled_at is the time of the ledger's first entry for it.
    let listed = finance.get(&format!("/api/v1/payments?contract_id={contract}&limit=50")).await;
    let listed = listed.items();
    assert_eq!(listed.len(), 20);
    let all = entries(&finance, contract).await;
    for p in &listed {
        let first = all.iter().filter(|e| e["payment_id"] == p["id"]).map(|e| e["at"].clone()).next();
        let at = |v: &Value| v.as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        assert!(first.is_some(), "payment {} has entries", p["id"]);
        assert_eq!(at(&p["settled_at"]), first.as_ref().and_then(at), "payment {}", p["id"]);
    }

    // The migration back marks each settled payment from the ledger, and forward again gives
    // the same marks.
    let conn = sea_orm::Database::connect(park.db_url()).await.expect("connect");
    let marks = "SELECT CAST(COALESCE(SUM(settled_payment_id), 0) AS BIGINT) AS n FROM settlement_state";
    let one = |text: &'static str| {
        let conn = &conn;
        async move {
            let row = conn.query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), text)).await;
            row.expect("query").expect("a row").try_get::<i64>("", "n").expect("n")
        }
    };
    let before = one(marks).await;
    assert!(before > 0, "contracts have marks");
    Migrator::down(&conn, Some(2)).await.expect("the settlement marks (and the migrations after them) go back");
    let unmarked = one("SELECT COUNT(*) AS n FROM payments WHERE settled_at IS NULL").await;
    assert_eq!(unmarked, 0, "every payment of the demo park and of this test is settled");
    Migrator::up(&conn, None).await.expect("and come again");
    assert_eq!(one(marks).await, before);
    let _ = conn.close().await;
    park.stop().await;
}

/// DESIGN §5 rule 1: the executor's share holds however the order reached it. Dispatched
/// straight to a subcontract partner at 70 %, the implementation line splits as if the partner
/// had claimed it; its share is held until acceptance.
async fn a_direct_dispatch_pays_the_executor_its_share(b: Backend) {
    let park = spawn_park(b).await;
    let Setup { contract, signer: p, vendor, impl_order } = worked_example_contract(&park, false).await;
    let s = park.org_id_of("sub@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    let finance = park.login("finance@vpark.demo").await;
    let dispatch = format!("/api/v1/orders/{impl_order}/dispatch");
    // An executor is dispatched on terms: without them 422, with a fee above the line 422.
    ops.post(&dispatch, json!({"deliverer_id": s})).await.problem(422, "terms_required");
    let p422 = ops.post(&dispatch, json!({"deliverer_id": s, "fixed_fee": "40000.01"})).await;
    assert_eq!(p422.problem(422, "fee_exceeds_line")["details"]["line_amount"], "40000.00");
    let o = ops.post(&dispatch, json!({"deliverer_id": s, "execution_share": "0.70"})).await.expect(200).clone();
    assert_eq!(o["execution"]["share"], "0.70", "the terms are on the order: {o}");
    let sub = park.login("sub@vpark.demo").await;
    let seen = sub.get(&format!("/api/v1/orders/{impl_order}")).await.expect(200).clone();
    assert_eq!(seen["execution"]["share"], "0.70", "and shown to the partner");
    let client = park.login("client@vpark.demo").await;
    assert!(client.get(&format!("/api/v1/orders/{impl_order}")).await.expect(200)["execution"].is_null());

    pay(&finance, "direct-1", payment(contract, 2, "first_year", 1, "20000.00")).await.expect(201);
    let sh = shares(&finance, contract).await;
    assert_eq!(
        (share(&sh, s, "held"), share(&sh, p, "payable"), share(&sh, vendor, "vendor_revenue")),
        (1_400_000, 240_000, 360_000),
        "the worked example's second row: {sh:?}"
    );
    assert_balanced(&finance, contract).await;
    park.stop().await;
}

/// A claim, an award or a dispatch changes who is owed what was already paid: the split follows
/// at once, as it does after a payment.
async fn a_claim_re_splits_what_was_paid_at_once(b: Backend) {
    let park = spawn_park(b).await;
    let Setup { contract, signer: p, vendor, impl_order } = worked_example_contract(&park, false).await;
    let s = park.org_id_of("sub@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    let finance = park.login("finance@vpark.demo").await;
    pay(&finance, "early-1", payment(contract, 2, "first_year", 1, "4000.00")).await.expect(201);
    let sh = shares(&finance, contract).await;
    assert_eq!((share(&sh, p, "payable"), share(&sh, vendor, "vendor_revenue")), (160_000, 240_000));

    let deadline = (kernel::Clock::now(&*park.clock) + chrono::Duration::hours(72)).to_rfc3339();
    let o = ops
        .post(
            &format!("/api/v1/orders/{impl_order}/subcontract"),
            json!({"reason": "cant_do", "mode": "first_claim", "execution_share": "0.70", "claim_deadline": deadline}),
        )
        .await
        .expect(200)
        .clone();
    let sid = o["subcontract"]["id"].as_i64().unwrap_or_default();
    park.login("sub@vpark.demo").await.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await.expect(200);
    // No settlement run in between: the claim re-split the 4,000.00 itself.
    let sh = shares(&finance, contract).await;
    assert_eq!(
        (share(&sh, s, "held"), share(&sh, p, "payable"), share(&sh, vendor, "vendor_revenue")),
        (280_000, 48_000, 72_000),
        "{sh:?}"
    );
    assert_balanced(&finance, contract).await;
    park.stop().await;
}

/// What a payment may be: within the ceiling, within its line or the year's fee, received
/// between the signing and today — each refusal a 422 naming the figures, nothing stored.
async fn payments_stay_within_their_contract(b: Backend) {
    let park = spawn_park(b).await;
    let Setup { contract, .. } = worked_example_contract(&park, false).await;
    let finance = park.login("finance@vpark.demo").await;
    let p = pay(&finance, "big-1", payment(contract, 1, "first_year", 1, "60000.01")).await;
    let d = &p.problem(422, "exceeds_line_amount")["details"];
    assert_eq!((d["line_amount"].as_str(), d["paid"].as_str()), (Some("60000.00"), Some("0.00")), "{d}");
    pay(&finance, "big-2", payment(contract, 1, "first_year", 1, "59000.00")).await.expect(201);
    let p = pay(&finance, "big-3", payment(contract, 1, "first_year", 1, "1000.01")).await;
    assert!(p.problem(422, "exceeds_line_amount")["message"].as_str().unwrap_or_default().contains("at most 1000.00"));
    pay(&finance, "big-4", payment(contract, 1, "first_year", 1, "1000.00")).await.expect(201);
    // Maintenance: at most the annual fee per year, over all lines.
    pay(&finance, "mt-1", payment(contract, 1, "maintenance", 2, "10000.00")).await.expect(201);
    pay(&finance, "mt-2", payment(contract, 2, "maintenance", 2, "8000.01"))
        .await
        .problem(422, "exceeds_maintenance_fee");
    pay(&finance, "mt-3", payment(contract, 2, "maintenance", 2, "8000.00")).await.expect(201);
    // The ceiling of any amount: one billion yuan.
    let p = pay(&finance, "huge", payment(contract, 1, "first_year", 1, "10000000000000.00")).await;
    p.problem(422, "invalid_field");
    // Received before signing, or in the future.
    let raw = |key: &str, on: chrono::NaiveDate| {
        let body = json!({"contract_id": contract, "line_no": 2, "stream": "first_year", "amount": "1.00",
            "received_on": on.to_string()});
        let req = finance
            .http()
            .post(finance.url("/api/v1/payments"))
            .bearer_auth(finance.token.clone().unwrap_or_default())
            .header("Idempotency-Key", key)
            .json(&body);
        User::finish(req)
    };
    let early = raw("early", park.today() - chrono::Duration::days(1)).await;
    assert_eq!(early.problem(422, "invalid_field")["details"]["field"], "received_on");
    let late = raw("late", park.today() + chrono::Duration::days(1)).await;
    assert_eq!(late.problem(422, "invalid_field")["details"]["field"], "received_on");
    let listed = finance.get(&format!("/api/v1/payments?contract_id={contract}")).await.items();
    assert_eq!(listed.len(), 4, "nothing refused was stored");

    // A retry that leaves the default year out is the same payment as one that wrote it.
    let mut with_year = payment(contract, 2, "first_year", 1, "100.00");
    let first = pay(&finance, "same-year", with_year.clone()).await.expect(201).clone();
    with_year.as_object_mut().map(|o| o.remove("year"));
    let again = pay(&finance, "same-year", with_year).await;
    assert_eq!(again.expect(200)["id"], first["id"], "a replay, not a refusal");
    park.stop().await;
}

/// Every sum the park keeps is exact: a party's balance over entries whose running total passes
/// what 64 bits hold still comes out right (SQLite's SUM would fail with "integer overflow").
async fn balances_sum_exactly_beyond_64_bit_running_totals(b: Backend) {
    let park = spawn_park(b).await;
    let finance = park.login("finance@vpark.demo").await;
    let party = park.org_id_of("sub2@vpark.demo").await;
    let big: i64 = 9_000_000_000_000_000_000;
    for (k, amount) in [(1, -big), (2, -big), (3, big)] {
        park.execute(
            "INSERT INTO ledger_entries (txn_id, party_id, account, amount_fen, kind, created_at) \
             VALUES ($1, $2, 'payable', $3, 'adjustment', $4)",
            vec![(9_000_000 + k).into(), party.into(), amount.into(), chrono::Utc::now().into()],
        )
        .await;
    }
    let b = finance.get(&format!("/api/v1/ledger/balances?party_id={party}")).await.expect(200).clone();
    let mine =
        b["items"].as_array().into_iter().flatten().find(|x| x["party_id"] == party).cloned().unwrap_or_default();
    let expected = kernel::Fen::new(big).to_yuan();
    assert_eq!(mine["payable"], expected.as_str(), "{b}");
    park.stop().await;
}
