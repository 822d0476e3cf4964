//! What the console's screens read: lists that filter by what a desk asks, views that name what
//! they point at, and money shown as people think of it — each figure traceable to its entries.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::both;
use crate::money::{fen, pay, payment};
use crate::support::{Backend, spawn_park};

both!(
    orders_and_contracts_filter_by_what_a_desk_asks,
    partners_find_the_clients_they_work_for,
    views_name_what_they_point_at,
    a_payment_answers_with_its_split_and_a_contract_shows_its_money
);

fn ids(items: &[Value]) -> BTreeSet<i64> {
    items.iter().filter_map(|v| v["id"].as_i64()).collect()
}

async fn orders_and_contracts_filter_by_what_a_desk_asks(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let all = ops.get("/api/v1/orders?limit=200").await.items();
    assert!(all.len() > 5, "the demo park has orders");
    let q = |path: String| {
        let ops = ops.clone();
        async move { ids(&ops.get(&path).await.expect(200)["items"].as_array().cloned().unwrap_or_default()) }
    };
    let expect = |pred: &dyn Fn(&Value) -> bool| -> BTreeSet<i64> {
        ids(&all.iter().filter(|o| pred(o)).cloned().collect::<Vec<_>>())
    };

    // A page shows each order as reading it alone does (the page is read in a few queries for
    // all its orders, the order alone in its own).
    for o in &all {
        let one = ops.get(&format!("/api/v1/orders/{}", o["id"])).await.expect(200).clone();
        assert_eq!(&one, o, "order {}", o["id"]);
    }

    // By signer, client, deliverer, service, region, status: each the same set as the full list says.
    let o = &all[0];
    for (param, pick) in [("signer_id", "/signer/id"), ("client_id", "/client/id"), ("service_id", "/service/id")] {
        let want = o.pointer(pick).cloned().unwrap_or_default();
        let got = q(format!("/api/v1/orders?{param}={want}&limit=200")).await;
        assert_eq!(got, expect(&|x| x.pointer(pick) == Some(&want)), "{param}={want}");
        assert!(!got.is_empty());
    }
    let delivered = all.iter().find(|x| x["deliverer"].is_object()).cloned().unwrap_or_default();
    let d = delivered["deliverer"]["id"].clone();
    assert_eq!(q(format!("/api/v1/orders?deliverer_id={d}&limit=200")).await, expect(&|x| x["deliverer"]["id"] == d));
    let region = o["region"].as_str().unwrap_or_default();
    assert_eq!(q(format!("/api/v1/orders?region={region}&limit=200")).await, expect(&|x| x["region"] == region));
    assert_eq!(
        q("/api/v1/orders?status=in_progress&limit=200".into()).await,
        expect(&|x| x["status"] == "in_progress")
    );
    // By due date, inclusive.
    let mut dues: Vec<&str> = all.iter().filter_map(|x| x["due_on"].as_str()).collect();
    dues.sort_unstable();
    let (from, to) = (dues[dues.len() / 4], dues[dues.len() * 3 / 4]);
    let got = q(format!("/api/v1/orders?due_from={from}&due_to={to}&limit=200")).await;
    assert_eq!(got, expect(&|x| x["due_on"].as_str().is_some_and(|d| d >= from && d <= to)));
    assert!(!got.is_empty() && got.len() < all.len());

    // Text search over the client's name and the order and contract numbers.
    let name: String = o["client"]["name"].as_str().unwrap_or_default().chars().take(2).collect();
    let got = q(format!("/api/v1/orders?q={name}&limit=200")).await;
    assert_eq!(got, expect(&|x| x["client"]["name"].as_str().is_some_and(|n| n.contains(&name))), "q={name}");
    let number = o["order_no"].as_str().unwrap_or_default().to_owned();
    assert!(q(format!("/api/v1/orders?q={number}&limit=200")).await.contains(&o["id"].as_i64().unwrap_or_default()));
    assert!(q("/api/v1/orders?q=%25&limit=200".into()).await.is_empty(), "a % is a character, not a wildcard");
    assert!(q("/api/v1/orders?q=no-such-client&limit=200".into()).await.is_empty());

    // Contracts: by signer, client, a line's service, an order's deliverer, signing dates, text.
    let contracts = ops.get("/api/v1/contracts?limit=200").await.items();
    let c = &contracts[0];
    let cexpect = |pred: &dyn Fn(&Value) -> bool| -> BTreeSet<i64> {
        ids(&contracts.iter().filter(|x| pred(x)).cloned().collect::<Vec<_>>())
    };
    let signer = c["signer"]["id"].clone();
    assert_eq!(
        q(format!("/api/v1/contracts?signer_id={signer}&limit=200")).await,
        cexpect(&|x| x["signer"]["id"] == signer)
    );
    let no = c["contract_no"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        q(format!("/api/v1/contracts?q={}&limit=200", no.to_lowercase())).await,
        cexpect(&|x| x["contract_no"] == no.as_str())
    );
    let signed_on = c["signed_on"].as_str().unwrap_or_default().to_owned();
    let got = q(format!("/api/v1/contracts?signed_from={signed_on}&signed_to={signed_on}&limit=200")).await;
    assert_eq!(got, cexpect(&|x| x["signed_on"] == signed_on.as_str()));
    // A contract is found by a deliverer of its orders and by a service of its lines.
    let by_deliverer = q(format!("/api/v1/contracts?deliverer_id={d}&limit=200")).await;
    assert!(by_deliverer.contains(&delivered["contract_id"].as_i64().unwrap_or_default()), "{by_deliverer:?}");
    let want: BTreeSet<i64> =
        all.iter().filter(|x| x["deliverer"]["id"] == d).filter_map(|x| x["contract_id"].as_i64()).collect();
    assert_eq!(by_deliverer, want);
    let service = o["service"]["id"].clone();
    let want: BTreeSet<i64> =
        all.iter().filter(|x| x["service"]["id"] == service).filter_map(|x| x["contract_id"].as_i64()).collect();
    assert_eq!(q(format!("/api/v1/contracts?service_id={service}&limit=200")).await, want);
    let want: BTreeSet<i64> =
        all.iter().filter(|x| x["status"] == "disputed").filter_map(|x| x["contract_id"].as_i64()).collect();
    assert_eq!(q("/api/v1/contracts?order_status=disputed&limit=200".into()).await, want);
    park.stop().await;
}

async fn partners_find_the_clients_they_work_for(b: Backend) {
    let park = spawn_park(b).await;
    for email in ["equity@vpark.demo", "sub@vpark.demo"] {
        let partner = park.login(email).await;
        let orders = partner.get("/api/v1/orders?limit=200").await.items();
        let contracts = partner.get("/api/v1/contracts?limit=200").await.items();
        let mut want: BTreeSet<i64> = orders
            .iter()
            .filter(|o| o["signer"]["id"] == partner.org_id || o["deliverer"]["id"] == partner.org_id)
            .filter_map(|o| o["client"]["id"].as_i64())
            .collect();
        want.extend(
            contracts.iter().filter(|c| c["signer"]["id"] == partner.org_id).filter_map(|c| c["client"]["id"].as_i64()),
        );
        assert!(!want.is_empty(), "{email} works for clients");
        let clients = ids(&partner.get("/api/v1/organisations?kind=client&limit=200").await.items());
        assert_eq!(clients, want, "{email}");
        for id in &want {
            partner.get(&format!("/api/v1/organisations/{id}")).await.expect(200);
        }
    }
    // Not every client of the park.
    let ops = park.login("ops@vpark.demo").await;
    let every = ops.get("/api/v1/organisations?kind=client&limit=200").await.items().len();
    let sub = park.login("sub@vpark.demo").await;
    assert!(sub.get("/api/v1/organisations?kind=client&limit=200").await.items().len() < every);
    park.stop().await;
}

async fn views_name_what_they_point_at(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let named = |v: &Value, what: &str| {
        assert!(v.as_str().is_some_and(|s| !s.trim().is_empty()), "{what} has no name: {v}");
    };
    // Bids: the bidder and the implementers it proposes, by name.
    let tenders = ops.get("/api/v1/subcontracts?limit=200").await.items();
    let bids: Vec<Value> = tenders.iter().flat_map(|t| t["bids"].as_array().cloned().unwrap_or_default()).collect();
    assert!(!bids.is_empty(), "the demo park has bids");
    for b in &bids {
        named(&b["organisation"]["name"], "a bidder");
        assert_eq!(b["organisation"]["id"], b["org_id"]);
        let people = b["implementers"].as_array().cloned().unwrap_or_default();
        assert_eq!(people.len(), b["implementer_ids"].as_array().map(Vec::len).unwrap_or_default());
        people.iter().for_each(|p| named(&p["name"], "a proposed implementer"));
    }
    // The evidence queue: whose, from which organisation, towards what.
    let queue = ops.get("/api/v1/evidence?status=submitted&limit=200").await.items();
    assert!(!queue.is_empty());
    for e in &queue {
        for f in ["user_name", "org_name", "certification_code", "certification_name_zh", "certification_name_en"] {
            named(&e[f], f);
        }
        let one = ops.get(&format!("/api/v1/evidence/{}", e["id"])).await.expect(200).clone();
        assert_eq!(&one, e);
    }
    // Overdue milestones: the client and the deliverer.
    let overdue = ops.get("/api/v1/milestones/overdue?limit=200").await.items();
    assert!(!overdue.is_empty(), "the demo park has overdue milestones");
    for m in &overdue {
        named(&m["client"]["name"], "a client");
        if m["deliverer_id"].is_i64() {
            named(&m["deliverer"]["name"], "a deliverer");
        }
    }
    // Tier assessments: the partner.
    let today = park.today();
    let last_month = today - chrono::Duration::days(i64::from(chrono::Datelike::day(&today)));
    let period = last_month.format("%Y-%m").to_string();
    ops.post("/api/v1/tier-assessments", serde_json::json!({"period": period})).await.expect(200);
    let assessed = ops.get(&format!("/api/v1/tier-assessments?period={period}&limit=200")).await.items();
    assert!(!assessed.is_empty());
    assessed.iter().for_each(|a| named(&a["org_name"], "an assessed partner"));

    // Ledger entries: the party, the contract's number, the line's number, rules from 1.
    let finance = park.login("finance@vpark.demo").await;
    let entries = finance.get("/api/v1/ledger/entries?limit=200").await.items();
    assert!(!entries.is_empty());
    for e in &entries {
        named(&e["party_name"], "a party");
        if e["contract_id"].is_i64() {
            named(&e["contract_no"], "a contract");
        }
        if e["line_id"].is_i64() {
            assert!(e["line_no"].as_i64().is_some_and(|n| n >= 1), "{e}");
        }
        if let Some(rule) = e["rule"].as_i64() {
            assert!(rule >= 1, "rules count from 1: {e}");
        }
    }
    // Entries by period: those of this month, none of a month long past.
    let period = park.today().format("%Y-%m").to_string();
    let this_month = finance.get(&format!("/api/v1/ledger/entries?period={period}&limit=200")).await.items();
    assert!(!this_month.is_empty());
    assert!(finance.get("/api/v1/ledger/entries?period=2001-01&limit=200").await.items().is_empty());
    park.stop().await;
}

async fn a_payment_answers_with_its_split_and_a_contract_shows_its_money(b: Backend) {
    let park = spawn_park(b).await;
    let finance = park.login("finance@vpark.demo").await;
    let paid = finance.get("/api/v1/payments?limit=200").await.items();
    let contract = paid[0]["contract_id"].as_i64().unwrap_or_default();
    let line_no = paid[0]["line_no"].as_i64().unwrap_or_default() as i32;

    // A payment answers with the entries it posted: balanced, each party named.
    let r = pay(&finance, "views-1", payment(contract, line_no, "first_year", 1, "1000.00")).await;
    let created = r.created().clone();
    let split = created["split"].as_array().cloned().unwrap_or_default();
    assert!(split.len() >= 3, "cash, a share and the vendor's rest: {created}");
    let debits: i64 = split.iter().map(|e| fen(&e["debit"])).sum();
    let credits: i64 = split.iter().map(|e| fen(&e["credit"])).sum();
    assert_eq!((debits, credits), (100_000, 100_000), "{split:?}");
    assert!(
        split
            .iter()
            .all(|e| e["payment_id"] == created["id"] && e["party_name"].as_str().is_some_and(|n| !n.is_empty()))
    );
    let read = finance.get(&format!("/api/v1/payments/{}", created["id"])).await.expect(200).clone();
    assert_eq!(read["split"], created["split"]);

    // The contract's money: per line and stream, paid and each party's share, each figure the
    // sum of the entries it names.
    let money = finance.get(&format!("/api/v1/contracts/{contract}/money")).await.expect(200).clone();
    let entries: BTreeMap<i64, Value> = {
        let all = finance.get(&format!("/api/v1/ledger/entries?contract_id={contract}&limit=200")).await.items();
        all.into_iter().filter_map(|e| e["id"].as_i64().map(|id| (id, e))).collect()
    };
    let payments = finance.get(&format!("/api/v1/payments?contract_id={contract}&limit=200")).await.items();
    for line in money["lines"].as_array().into_iter().flatten() {
        for stream in line["streams"].as_array().into_iter().flatten() {
            let paid: i64 = payments
                .iter()
                .filter(|p| p["line_no"] == line["line_no"] && p["stream"] == stream["stream"])
                .map(|p| fen(&p["amount"]))
                .sum();
            assert_eq!(fen(&stream["paid"]), paid, "{stream}");
            let mut shares = 0;
            for s in stream["shares"].as_array().into_iter().flatten() {
                let standing = fen(&s["payable"]) + fen(&s["held"]) + fen(&s["revenue"]);
                let from_entries: i64 = s["entry_ids"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|id| id.as_i64().and_then(|id| entries.get(&id)))
                    .map(|e| fen(&e["credit"]) - fen(&e["debit"]))
                    .sum();
                assert_eq!(standing, from_entries, "{s}");
                assert!(s["party_name"].as_str().is_some_and(|n| !n.is_empty()));
                shares += standing;
            }
            assert_eq!(shares, paid, "the shares add up to what was paid: {stream}");
        }
    }
    // A partner sees its own share only, and a contract it has no part in not at all.
    let equity = park.login("equity@vpark.demo").await;
    let mine = equity.get("/api/v1/contracts?limit=200").await.items();
    let theirs = finance.get("/api/v1/contracts?limit=200").await.items();
    let other = theirs.iter().find(|c| !mine.iter().any(|m| m["id"] == c["id"])).cloned().unwrap_or_default();
    equity.get(&format!("/api/v1/contracts/{}/money", other["id"])).await.problem(404, "not_found");
    if let Some(own) = mine.first() {
        let m = equity.get(&format!("/api/v1/contracts/{}/money", own["id"])).await.expect(200).clone();
        let parties: BTreeSet<i64> = m["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|l| l["streams"].as_array().cloned().unwrap_or_default())
            .flat_map(|s| s["shares"].as_array().cloned().unwrap_or_default())
            .filter_map(|s| s["party_id"].as_i64())
            .collect();
        assert!(parties.iter().all(|p| *p == equity.org_id), "{parties:?}");
    }
    finance.get("/api/v1/contracts/999999/money").await.problem(404, "not_found");
    park.stop().await;
}
