//! The concurrency suite: every pair of operations that can conflict on one record, fired
//! together for several rounds — on PostgreSQL from two `vpark serve` processes on one
//! database, one request to each; on SQLite against the one process. Each round checks that
//! the answers and the end state are what some serial order of the two requests gives (one
//! success and one 409 naming what it found, or two successes where doing both in turn is
//! legal), and at the end the invariants the park keeps whatever the interleaving:
//!
//! - every ledger transaction balances;
//! - an order has at most one open subcontract, and an open subcontract's order is published;
//! - held money of a disputed or cancelled order never became payable to its executor;
//! - the deliverer counters equal a fresh count (what `vpark check-counters` compares);
//! - no request answered 5xx.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::money::{pay, payment};
use crate::support::replica::{Replica, replica};
use crate::support::{Backend, TestPark, User, http::Resp, spawn_park};

both!(
    publish_and_publish,
    publish_and_dispatch,
    dispatch_and_dispatch,
    accept_and_dispute,
    accept_and_cancel,
    deliver_and_cancel,
    rate_and_rate,
    claim_and_cancel,
    claim_and_claim_at_capacity,
    bid_and_bid,
    award_and_award,
    verify_and_reject_evidence,
    verify_and_reject_an_outcome,
    approve_and_approve_a_payout,
);

const ROUNDS: usize = 4;

/// A park and the two servers the racing requests go to (two replicas on PostgreSQL).
struct Arena {
    park: TestPark,
    bases: [String; 2],
    _replicas: Vec<Replica>,
}

async fn arena(b: Backend) -> Arena {
    let park = spawn_park(b).await;
    let (bases, replicas) = if b == Backend::Postgres {
        let url = park.park.settings.database.url.clone();
        let replicas = vec![replica(&url).await, replica(&url).await];
        ([replicas[0].base.clone(), replicas[1].base.clone()], replicas)
    } else {
        ([park.base.clone(), park.base.clone()], Vec::new())
    };
    Arena { park, bases, _replicas: replicas }
}

/// One request of a race.
struct Shot {
    user: User,
    method: Method,
    path: String,
    body: Option<Value>,
}

fn post(user: &User, path: String, body: Value) -> Shot {
    Shot { user: user.clone(), method: Method::POST, path, body: Some(body) }
}

impl Arena {
    /// Fires two requests at the same moment, the first to one server, the second to the other.
    async fn race(&self, a: Shot, b: Shot) -> [Resp; 2] {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let fire = |shot: Shot, base: &str| {
            let user = shot.user.at(base);
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                user.send(shot.method, &shot.path, shot.body).await
            }
        };
        let (x, y) = tokio::join!(fire(a, &self.bases[0]), fire(b, &self.bases[1]));
        for r in [&x, &y] {
            assert!(r.status < 500, "a racing request failed on the server: {} {}", r.status, r.body);
        }
        [x, y]
    }

    async fn login(&self, email: &str) -> User {
        self.park.login(email).await
    }

    /// The invariants that hold whatever the interleaving (see the module's doc).
    async fn assert_invariants(&self) {
        let p = &self.park;
        let unbalanced = p
            .scalar(
                "SELECT COUNT(*) FROM (SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING SUM(amount_fen) <> 0) t",
                vec![],
            )
            .await;
        assert_eq!(unbalanced, 0, "every ledger transaction balances");
        let doubled = p
            .scalar(
                "SELECT COUNT(*) FROM (SELECT order_id FROM subcontracts WHERE status = 'open' GROUP BY order_id \
                 HAVING COUNT(*) > 1) t",
                vec![],
            )
            .await;
        assert_eq!(doubled, 0, "an order has at most one open subcontract");
        let stray = p
            .scalar(
                "SELECT COUNT(*) FROM subcontracts s JOIN orders o ON o.id = s.order_id \
                 WHERE s.status = 'open' AND o.status <> 'published'",
                vec![],
            )
            .await;
        assert_eq!(stray, 0, "an open subcontract's order is in the pool");
        let leaked = p
            .scalar(
                "SELECT COUNT(*) FROM orders o WHERE o.status IN ('disputed', 'cancelled') \
                 AND o.deliverer_id IS NOT NULL AND o.deliverer_id <> o.signer_id \
                 AND (SELECT COALESCE(SUM(e.amount_fen), 0) FROM ledger_entries e WHERE e.line_id = o.line_id \
                      AND e.party_id = o.deliverer_id AND e.account = 'payable' AND e.stream = 'first_year') <> 0",
                vec![],
            )
            .await;
        assert_eq!(leaked, 0, "held money of a disputed or cancelled order is never payable to its executor");
        p.assert_deliverer_counters_hold().await;
    }
}

/// Which of the two succeeded (2xx); each that did not answered 409 with one of `codes`, and
/// at least one succeeded.
#[track_caller]
fn succeeded(rs: &[Resp; 2], codes: &[&str]) -> [bool; 2] {
    let ok = [0, 1].map(|i| (200..300).contains(&rs[i].status));
    assert!(ok[0] || ok[1], "one of them succeeds: {} {} / {} {}", rs[0].status, rs[0].body, rs[1].status, rs[1].body);
    for (r, ok) in rs.iter().zip(ok) {
        if !ok {
            assert_eq!(r.status, 409, "a loser conflicts: {}", r.body);
            let code = r.body["code"].as_str().unwrap_or_default();
            assert!(codes.contains(&code), "the loser's code {code} is one of {codes:?}: {}", r.body);
        }
    }
    ok
}

/// Exactly one of the two succeeded — the pair has no serial order in which both do — and the
/// other answered 409 with one of `codes`; returns the index of the one that succeeded.
#[track_caller]
fn one_won(rs: &[Resp; 2], codes: &[&str]) -> usize {
    let ok = succeeded(rs, codes);
    assert!(!(ok[0] && ok[1]), "not both: {} / {}", rs[0].body, rs[1].body);
    usize::from(ok[1])
}

fn deadline(park: &TestPark, hours: i64) -> String {
    (kernel::Clock::now(&*park.clock) + chrono::Duration::hours(hours)).to_rfc3339()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("an id in {v}"))
}

/// A contract of the Hangzhou team with the first demo client: its id and its two orders
/// (ERP implementation for 80,000.00, tax planning for 40,000.00).
async fn contract(park: &TestPark, ops: &User) -> (i64, i64, i64) {
    let client = park.org_id_of("client@vpark.demo").await;
    let team = park.org_id_of("team@vpark.demo").await;
    let c = ops
        .post(
            "/api/v1/contracts",
            json!({"client_id": client, "signer_id": team, "signed_on": park.today().to_string(), "term_years": 3,
                "first_year_amount": "120000.00", "annual_maintenance_fee": "24000.00",
                "lines": [{"service": "ERP-IMPL", "amount": "80000.00"}, {"service": "TAX-PLAN", "amount": "40000.00"}]}),
        )
        .await
        .expect(201)
        .clone();
    let order = |i: usize| c["lines"][i]["order_id"].as_i64().expect("an order per line");
    (id(&c), order(0), order(1))
}

fn publish_body(park: &TestPark, mode: &str) -> Value {
    json!({"reason": "cant_do", "mode": mode, "execution_share": "0.35", "claim_deadline": deadline(park, 72)})
}

async fn publish(park: &TestPark, ops: &User, order: i64, mode: &str) -> i64 {
    let o = ops.post(&format!("/api/v1/orders/{order}/subcontract"), publish_body(park, mode)).await;
    o.expect(200)["subcontract"]["id"].as_i64().expect("a subcontract")
}

/// The people of one round of delivery: ops, the subcontract partner, its implementer, the
/// client, finance.
struct Cast {
    ops: User,
    sub: User,
    implementer: User,
    implementer_id: i64,
    client: User,
    finance: User,
}

async fn cast(a: &Arena) -> Cast {
    Cast {
        ops: a.login("ops@vpark.demo").await,
        sub: a.login("sub@vpark.demo").await,
        implementer: a.login("implementer@vpark.demo").await,
        implementer_id: a.park.user_id("implementer@vpark.demo").await,
        client: a.login("client@vpark.demo").await,
        finance: a.login("finance@vpark.demo").await,
    }
}

/// An ERP order claimed by sub@ at 35 %, its implementer at work and every milestone done; with
/// `paid`, 20,000.00 of the line paid (7,000.00 of it held for sub@). Returns (contract, order).
async fn order_ready_to_deliver(a: &Arena, c: &Cast, paid: bool) -> (i64, i64) {
    let (contract, order, _) = contract(&a.park, &c.ops).await;
    let sid = publish(&a.park, &c.ops, order, "first_claim").await;
    c.sub.post_empty(&format!("/api/v1/subcontracts/{sid}/claim")).await.expect(200);
    let o = c
        .sub
        .post(&format!("/api/v1/orders/{order}/assignments"), json!({"user_ids": [c.implementer_id]}))
        .await
        .expect(200)
        .clone();
    for m in o["milestones"].as_array().cloned().unwrap_or_default() {
        c.implementer.post_empty(&format!("/api/v1/orders/{order}/milestones/{}/complete", id(&m))).await.expect(200);
    }
    if paid {
        let key = format!("race-pay-{order}");
        pay(&c.finance, &key, payment(contract, 1, "first_year", 1, "20000.00")).await.expect(201);
    }
    (contract, order)
}

async fn status_of(ops: &User, order: i64) -> Value {
    ops.get(&format!("/api/v1/orders/{order}")).await.expect(200).clone()
}

/// The executor's payable and held on the order's line (what the ledger owes it), in fen.
async fn owed(park: &TestPark, order: i64, party: i64) -> (i64, i64) {
    let sum = |account: &'static str| {
        park.scalar(
            "SELECT CAST(-COALESCE(SUM(e.amount_fen), 0) AS BIGINT) FROM ledger_entries e \
             WHERE e.line_id = (SELECT line_id FROM orders WHERE id = $1) AND e.party_id = $2 AND e.account = $3",
            vec![order.into(), party.into(), account.into()],
        )
    };
    (sum("payable").await, sum("held").await)
}

async fn mails_about(park: &TestPark, template: &str, needle: &str) -> i64 {
    park.scalar(
        "SELECT COUNT(*) FROM notifications WHERE template = $1 AND CAST(payload AS TEXT) LIKE $2",
        vec![template.into(), format!("%{needle}%").into()],
    )
    .await
}

/// Two publications of one order: one subcontract, one 409.
async fn publish_and_publish(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    for round in 0..ROUNDS {
        // publish × publish: one subcontract, one 409.
        let (_, order, _) = contract(park, &c.ops).await;
        let path = format!("/api/v1/orders/{order}/subcontract");
        let rs = a
            .race(
                post(&c.ops, path.clone(), publish_body(park, "first_claim")),
                post(&c.ops, path, publish_body(park, "tender")),
            )
            .await;
        let w = one_won(&rs, &["illegal_transition", "state_changed"]);
        let o = status_of(&c.ops, order).await;
        assert_eq!(o["status"], "published", "round {round}");
        assert_eq!(o["subcontract"]["mode"], if w == 0 { "first_claim" } else { "tender" }, "the winner's subcontract");
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// A publication and a dispatch of one order: in the pool or with its deliverer, never both.
async fn publish_and_dispatch(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    let sub_org = park.org_id_of("sub@vpark.demo").await;
    for _round in 0..ROUNDS {
        // publish × dispatch: the order ends in the pool or with sub@, never both. (Both succeed
        // when the dispatch commits first: a dispatched order may be published.)
        let (_, order, _) = contract(park, &c.ops).await;
        let rs = a
            .race(
                post(&c.ops, format!("/api/v1/orders/{order}/subcontract"), publish_body(park, "first_claim")),
                post(
                    &c.ops,
                    format!("/api/v1/orders/{order}/dispatch"),
                    json!({"deliverer_id": sub_org, "execution_share": "0.70"}),
                ),
            )
            .await;
        let ok = succeeded(&rs, &["illegal_transition", "state_changed"]);
        let o = status_of(&c.ops, order).await;
        if ok[0] {
            assert_eq!((o["status"].as_str(), o["deliverer"].is_null()), (Some("published"), true), "{o}");
            assert!(o["execution"].is_null() && o["subcontract"]["status"] == "open", "{o}");
        } else {
            assert_eq!((o["status"].as_str(), &o["deliverer"]["id"]), (Some("dispatched"), &json!(sub_org)), "{o}");
            assert_eq!(o["execution"]["share"], "0.70", "dispatched on its terms: {o}");
        }
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// Two dispatches of one order to different executors: one holds it, on its own terms.
async fn dispatch_and_dispatch(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    for _round in 0..ROUNDS {
        // dispatch × dispatch: two executors for one order; the last to commit keeps it, on its
        // own terms (both succeed when the second reads the order after the first committed).
        let (_, order, _) = contract(park, &c.ops).await;
        let ranked = c.ops.get(&format!("/api/v1/orders/{order}/recommendations")).await.expect(200)["ranked"].clone();
        let executors: Vec<i64> = ranked
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["organisation"]["kind"] != "direct_team")
            .map(|r| r["organisation"]["id"].as_i64().unwrap_or_default())
            .collect();
        assert!(executors.len() >= 2, "two eligible executors (partners, not the signer's own team): {ranked}");
        let share = |to: i64| if to == executors[0] { "0.60" } else { "0.65" };
        let dispatch = |to: i64| json!({"deliverer_id": to, "execution_share": share(to)});
        let path = format!("/api/v1/orders/{order}/dispatch");
        let rs = a
            .race(post(&c.ops, path.clone(), dispatch(executors[0])), post(&c.ops, path, dispatch(executors[1])))
            .await;
        let ok = succeeded(&rs, &["state_changed"]);
        let o = status_of(&c.ops, order).await;
        let holder = o["deliverer"]["id"].as_i64().unwrap_or_default();
        assert!((0..2).any(|i| ok[i] && executors[i] == holder), "a winner delivers: {o}");
        assert_eq!(o["execution"]["share"], share(holder), "on its own terms: {o}");
        let no = o["order_no"].as_str().unwrap_or_default().to_owned();
        let told = mails_about(park, "order_dispatched", &no).await;
        assert!(told >= 1, "the winner's people are told");
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// The client accepts and disputes one delivery: one of them; held money is released only by the acceptance.
async fn accept_and_dispute(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    let sub_org = park.org_id_of("sub@vpark.demo").await;
    for _round in 0..ROUNDS {
        // accept × dispute: one of them; the held share is released only if accepted.
        let (_, order) = order_ready_to_deliver(&a, &c, true).await;
        c.sub.post_empty(&format!("/api/v1/orders/{order}/deliver")).await.expect(200);
        let rs = a
            .race(
                post(&c.client, format!("/api/v1/orders/{order}/accept"), json!({})),
                post(&c.client, format!("/api/v1/orders/{order}/dispute"), json!({"reason": "上线数据不完整"})),
            )
            .await;
        let w = one_won(&rs, &["illegal_transition", "state_changed"]);
        let o = status_of(&c.ops, order).await;
        let (payable, held) = owed(park, order, sub_org).await;
        let no = o["order_no"].as_str().unwrap_or_default().to_owned();
        if w == 0 {
            assert_eq!((o["status"].as_str(), payable, held), (Some("accepted"), 700_000, 0), "released: {o}");
            assert_eq!(mails_about(park, "order_accepted", &no).await, 2, "deliverer and signer are told once");
        } else {
            assert_eq!((o["status"].as_str(), payable, held), (Some("disputed"), 0, 700_000), "still held: {o}");
            assert!(o["accepted_at"].is_null(), "{o}");
            assert_eq!(mails_about(park, "order_accepted", &no).await, 0, "nobody is told of an acceptance");
        }
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// A delivery accepted by the client and cancelled by ops at once: one of them.
async fn accept_and_cancel(b: Backend) {
    let a = arena(b).await;
    let c = cast(&a).await;
    for _round in 0..ROUNDS {
        // accept × cancel: a delivered order is accepted, or cancelled; never both.
        let (_, order) = order_ready_to_deliver(&a, &c, false).await;
        c.sub.post_empty(&format!("/api/v1/orders/{order}/deliver")).await.expect(200);
        let rs = a
            .race(
                post(&c.client, format!("/api/v1/orders/{order}/accept"), json!({})),
                post(&c.ops, format!("/api/v1/orders/{order}/cancel"), json!({"reason": "客户撤单"})),
            )
            .await;
        let w = one_won(&rs, &["illegal_transition", "state_changed"]);
        let o = status_of(&c.ops, order).await;
        assert_eq!(o["status"], if w == 0 { "accepted" } else { "cancelled" }, "{o}");
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// A delivery and a cancellation at once, with money held: a cancelled order re-splits it away from the executor.
async fn deliver_and_cancel(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    let sub_org = park.org_id_of("sub@vpark.demo").await;
    for _round in 0..ROUNDS {
        // deliver × cancel: with money held; a cancelled order re-splits it away from sub@.
        let (_, order) = order_ready_to_deliver(&a, &c, true).await;
        let rs = a
            .race(
                post(&c.sub, format!("/api/v1/orders/{order}/deliver"), json!({})),
                post(&c.ops, format!("/api/v1/orders/{order}/cancel"), json!({"reason": "客户撤单"})),
            )
            .await;
        let w = one_won(&rs, &["illegal_transition", "state_changed"]);
        let o = status_of(&c.ops, order).await;
        let (payable, held) = owed(park, order, sub_org).await;
        if w == 0 {
            assert_eq!((o["status"].as_str(), payable, held), (Some("delivered"), 0, 700_000), "{o}");
        } else {
            assert_eq!((o["status"].as_str(), payable, held), (Some("cancelled"), 0, 0), "re-split away: {o}");
        }
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// Two ratings of one order: one rating, one e-mail.
async fn rate_and_rate(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    for _round in 0..ROUNDS {
        // rate × rate: one rating, the order closed once.
        let (_, order) = order_ready_to_deliver(&a, &c, false).await;
        c.sub.post_empty(&format!("/api/v1/orders/{order}/deliver")).await.expect(200);
        c.client.post_empty(&format!("/api/v1/orders/{order}/accept")).await.expect(200);
        let stars =
            |n: i64| json!({"overall": n, "professionalism": n, "timeliness": n, "communication": n, "outcome": n});
        let path = format!("/api/v1/orders/{order}/rating");
        let rs = a.race(post(&c.client, path.clone(), stars(5)), post(&c.client, path, stars(4))).await;
        let w = one_won(&rs, &["illegal_transition", "state_changed", "already_rated", "duplicate"]);
        let o = status_of(&c.ops, order).await;
        assert_eq!((o["status"].as_str(), o["rating"]["overall"].as_i64()), (Some("closed"), Some(5 - w as i64)));
        let no = o["order_no"].as_str().unwrap_or_default().to_owned();
        assert_eq!(mails_about(park, "order_rated", &no).await, 1, "the deliverer is told once");
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// A subcontract partner with an administrator who is a certified ERP-L2 implementer, of the
/// given capacity; returns it signed in.
async fn partner(a: &Arena, name: &str, capacity: i64) -> User {
    let admin = a.login("admin@vpark.demo").await;
    let org = admin
        .post(
            "/api/v1/organisations",
            json!({"kind": "subcontract_partner", "name_zh": name, "regions": ["zhejiang"],
                "industries": ["manufacturing"], "categories": ["erp"], "capacity": capacity}),
        )
        .await
        .expect(201)
        .clone();
    let email = format!("{}@example.cn", id(&org));
    let user = admin
        .post(
            "/api/v1/users",
            json!({"org_id": org["id"], "email": email, "display_name": name,
                "roles": ["sub_admin", "implementer"], "password": "race-password-1"}),
        )
        .await
        .expect(201)
        .clone();
    admin
        .post(
            "/api/v1/credentials",
            json!({"user_id": user["id"], "certification": "ERP-L2", "issued_on": a.park.today().to_string()}),
        )
        .await
        .expect(201);
    a.park.login_with(&email, "race-password-1").await
}

/// A claim and a cancellation at once: the subcontract follows the order.
async fn claim_and_cancel(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    for _round in 0..ROUNDS {
        // claim × cancel: cancelled first, the claim loses; claimed first, the cancellation
        // still cancels the dispatched order. Either way the subcontract follows the order.
        let (_, order, _) = contract(park, &c.ops).await;
        let sid = publish(park, &c.ops, order, "first_claim").await;
        let rs = a
            .race(
                post(&c.sub, format!("/api/v1/subcontracts/{sid}/claim"), json!({})),
                post(&c.ops, format!("/api/v1/orders/{order}/cancel"), json!({"reason": "客户撤单"})),
            )
            .await;
        let ok = succeeded(&rs, &["already_claimed", "illegal_transition", "state_changed"]);
        let o = status_of(&c.ops, order).await;
        let no = o["order_no"].as_str().unwrap_or_default().to_owned();
        let expected = match ok {
            [true, true] => ("cancelled", "awarded"),
            [true, false] => ("dispatched", "awarded"),
            _ => ("cancelled", "withdrawn"),
        };
        assert_eq!((o["status"].as_str(), o["subcontract"]["status"].as_str()), (Some(expected.0), Some(expected.1)));
        assert_eq!(mails_about(park, "claim_won", &no).await, i64::from(ok[0]), "claim_won only to a real winner");
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// A partner with one free slot claims two subcontracts at once: one of them.
async fn claim_and_claim_at_capacity(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    let solo = partner(&a, "单槽伙伴", 1).await;
    for round in 0..ROUNDS {
        // claim × claim by a partner with one free slot, over two subcontracts: one of them.
        let (_, o1, _) = contract(park, &c.ops).await;
        let (_, o2, _) = contract(park, &c.ops).await;
        let (s1, s2) = (publish(park, &c.ops, o1, "first_claim").await, publish(park, &c.ops, o2, "first_claim").await);
        let rs = a
            .race(
                post(&solo, format!("/api/v1/subcontracts/{s1}/claim"), json!({})),
                post(&solo, format!("/api/v1/subcontracts/{s2}/claim"), json!({})),
            )
            .await;
        let w = one_won(&rs, &["at_capacity", "not_eligible"]);
        let (won, lost) = if w == 0 { (o1, o2) } else { (o2, o1) };
        assert_eq!(status_of(&c.ops, won).await["deliverer"]["id"], solo.org_id, "round {round}");
        assert_eq!(status_of(&c.ops, lost).await["status"], "published", "the other stays in the pool");
        let busy = park.scalar("SELECT busy FROM deliverer_stats WHERE org_id = $1", vec![solo.org_id.into()]).await;
        assert_eq!(busy, 1, "capacity 1 holds");
        // Free the slot for the next round.
        c.ops.post(&format!("/api/v1/orders/{won}/cancel"), json!({"reason": "下一轮"})).await.expect(200);
        c.ops.post(&format!("/api/v1/orders/{lost}/cancel"), json!({"reason": "下一轮"})).await.expect(200);
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// Two bids of one organisation on one tender at once: one bid, never a 500.
async fn bid_and_bid(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    for _round in 0..ROUNDS {
        // bid × bid from one organisation: both land as one bid, the later one standing.
        let (_, order, _) = contract(park, &c.ops).await;
        let sid = publish(park, &c.ops, order, "tender").await;
        let bid = |fee: &str| json!({"fee": fee, "plan": "六周上线", "implementer_ids": [c.implementer_id]});
        let path = format!("/api/v1/subcontracts/{sid}/bids");
        let rs = a.race(post(&c.sub, path.clone(), bid("30000.00")), post(&c.sub, path, bid("29000.00"))).await;
        assert!(rs.iter().all(|r| r.status == 201), "both bids land: {} / {}", rs[0].body, rs[1].body);
        let seen = c.ops.get(&format!("/api/v1/subcontracts/{sid}")).await.expect(200).clone();
        let bids = seen["bids"].as_array().cloned().unwrap_or_default();
        assert_eq!(bids.len(), 1, "one bid per organisation: {seen}");
        assert!(["30000.00", "29000.00"].contains(&bids[0]["fee"].as_str().unwrap_or_default()));
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// Two awards of one tender at once: one stands.
async fn award_and_award(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    let rival = partner(&a, "竞标伙伴", 10).await;
    for _round in 0..ROUNDS {
        let (_, order, _) = contract(park, &c.ops).await;
        let sid = publish(park, &c.ops, order, "tender").await;
        c.sub
            .post(
                &format!("/api/v1/subcontracts/{sid}/bids"),
                json!({"fee": "30000.00", "plan": "六周上线", "implementer_ids": [c.implementer_id]}),
            )
            .await
            .expect(201);
        // award × award: two bids, two awards at once; one stands.
        let rival_imp = rival.id;
        rival
            .post(
                &format!("/api/v1/subcontracts/{sid}/bids"),
                json!({"execution_share": "0.30", "plan": "四周上线", "implementer_ids": [rival_imp]}),
            )
            .await
            .expect(201);
        let seen = c.ops.get(&format!("/api/v1/subcontracts/{sid}")).await.expect(200).clone();
        let ids: Vec<(i64, i64)> = seen["bids"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| (id(b), b["org_id"].as_i64().unwrap_or_default()))
            .collect();
        assert_eq!(ids.len(), 2, "{seen}");
        let path = format!("/api/v1/subcontracts/{sid}/award");
        let rs = a
            .race(
                post(&c.ops, path.clone(), json!({"bid_id": ids[0].0})),
                post(&c.ops, path, json!({"bid_id": ids[1].0})),
            )
            .await;
        let w = one_won(&rs, &["already_awarded", "illegal_transition", "state_changed"]);
        let o = status_of(&c.ops, order).await;
        assert_eq!(o["deliverer"]["id"], ids[w].1, "the awarded bidder delivers: {o}");
        let no = o["order_no"].as_str().unwrap_or_default().to_owned();
        assert_eq!(mails_about(park, "bid_awarded", &no).await, 1, "one bid_awarded");
    }
    a.assert_invariants().await;
    a.park.stop().await;
}

/// Ops verify and reject one piece of evidence at once: one verdict.
async fn verify_and_reject_evidence(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    let creds = c.implementer.get(&format!("/api/v1/credentials?user_id={}&limit=200", c.implementer_id)).await;
    let cred = creds
        .items()
        .into_iter()
        .find(|x| x["status"] == "in_progress" || x["status"] == "expiring")
        .unwrap_or_else(|| panic!("a credential to work on: {}", creds.body));
    for round in 0..ROUNDS {
        let ev = c
            .implementer
            .post(
                &format!("/api/v1/credentials/{}/evidence", id(&cred)),
                json!({"kind": "training", "title": format!("培训第{round}期"), "taken_on": park.today().to_string(),
                    "training_hours": 2}),
            )
            .await;
        assert!(ev.status == 200 || ev.status == 201, "{}", ev.body);
        let eid = id(&ev.body);
        let rs = a
            .race(
                post(&c.ops, format!("/api/v1/evidence/{eid}/verify"), json!({})),
                post(&c.ops, format!("/api/v1/evidence/{eid}/reject"), json!({"note": "证明不清晰"})),
            )
            .await;
        let w = one_won(&rs, &["illegal_transition", "state_changed"]);
        let after = c.ops.get(&format!("/api/v1/evidence?credential_id={}&limit=200", id(&cred))).await;
        let mine = after.items().into_iter().find(|e| id(e) == eid).expect("the evidence");
        assert_eq!(mine["status"], if w == 0 { "verified" } else { "rejected" });
    }

    a.assert_invariants().await;
    a.park.stop().await;
}

/// Ops verify and reject one outcome milestone at once: one verdict, credits only for a verification.
async fn verify_and_reject_an_outcome(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let c = cast(&a).await;
    // On different clients and kinds (a verified milestone is not reported again).
    let kinds: Vec<String> = c
        .ops
        .get("/api/v1/outcome-kinds")
        .await
        .items()
        .into_iter()
        .filter_map(|k| k["code"].as_str().map(str::to_owned))
        .collect();
    let contracts = c.ops.get("/api/v1/contracts?limit=200").await.items();
    let mut clients: Vec<i64> = contracts.iter().filter_map(|x| x["client"]["id"].as_i64()).collect();
    clients.sort_unstable();
    clients.dedup();
    let mut tried = 0;
    'outcomes: for client in &clients {
        for kind in &kinds {
            if tried == ROUNDS {
                break 'outcomes;
            }
            let r = c
                .ops
                .post(
                    &format!("/api/v1/clients/{client}/outcomes"),
                    json!({"kind": kind, "achieved_on": park.today().to_string(), "title": "证书 GR2026",
                        "attachments": ["dms://cert.pdf"]}),
                )
                .await;
            if r.status != 201 {
                continue; // reported already in the demo park
            }
            tried += 1;
            let oid = id(&r.body);
            let rs = a
                .race(
                    post(&c.ops, format!("/api/v1/outcomes/{oid}/verify"), json!({})),
                    post(&c.ops, format!("/api/v1/outcomes/{oid}/reject"), json!({"note": "证书编号不符"})),
                )
                .await;
            let w = one_won(&rs, &["illegal_transition", "state_changed"]);
            let o = c.ops.get(&format!("/api/v1/outcomes/{oid}")).await.expect(200).clone();
            assert_eq!(o["status"], if w == 0 { "verified" } else { "rejected" }, "{o}");
            let credits =
                park.scalar("SELECT COUNT(*) FROM outcome_credits WHERE outcome_id = $1", vec![oid.into()]).await;
            assert_eq!(credits > 0, w == 0, "credits only for a verified milestone");
        }
    }
    assert_eq!(tried, ROUNDS, "enough outcome milestones to race on");

    a.assert_invariants().await;
    a.park.stop().await;
}

/// Two approvals of one payout batch at once: by one person, one approval; by two people above
/// the limit, the first approval and the final one; posted once.
async fn approve_and_approve_a_payout(b: Backend) {
    let a = arena(b).await;
    let park = &a.park;
    let finance2 = a.login("finance2@vpark.demo").await;
    for round in 0..ROUNDS {
        park.clock.advance(chrono::Duration::days(32));
        let finance = a.login("finance@vpark.demo").await;
        let finance2 = if round == 0 { finance2.clone() } else { a.login("finance2@vpark.demo").await };
        let period = ledger::statement::Period::containing(kernel::Clock::now(&*park.clock));
        let run = finance.post("/api/v1/payouts", json!({"period": period.to_string(), "minimum": "0.01"})).await;
        let batch = run.expect(201).clone();
        let pid = id(&batch);
        let path = format!("/api/v1/payouts/{pid}/approve");
        let by_two = round % 2 == 1;
        let second = if by_two { &finance2 } else { &finance };
        let rs = a.race(post(&finance, path.clone(), json!({})), post(second, path, json!({}))).await;
        let after = finance.get(&format!("/api/v1/payouts/{pid}")).await.expect(200).clone();
        let dual = batch["dual_approval"] == true;
        match (dual, by_two) {
            (true, true) => {
                assert!(
                    rs.iter().all(|r| r.status == 200),
                    "first and final approval: {} / {}",
                    rs[0].body,
                    rs[1].body
                );
                assert_eq!(after["status"], "approved");
            }
            (true, false) => {
                one_won(&rs, &["second_approver_required", "illegal_transition", "state_changed"]);
                assert_eq!(after["status"], "pending_approval", "one person approves once: {after}");
            }
            (false, _) => {
                one_won(&rs, &["illegal_transition", "state_changed", "already_approved"]);
                assert_eq!(after["status"], "approved");
            }
        }
        if after["status"] != "approved" {
            finance2.post(&format!("/api/v1/payouts/{pid}/approve"), json!({})).await.expect(200);
        }
        let posted = park
            .scalar("SELECT COUNT(DISTINCT txn_id) FROM ledger_entries WHERE payout_id = $1", vec![pid.into()])
            .await;
        assert!(posted <= 1, "a payout is posted once");
    }
    a.assert_invariants().await;
    a.park.stop().await;
}
