//! The demo park is alive: each demo account sees its part of the marketplace.

use std::collections::BTreeSet;

use crate::both;
use crate::support::{Backend, spawn_park};

both!(every_demo_account_sees_a_living_park);

async fn every_demo_account_sees_a_living_park(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let orders = ops.get("/api/v1/orders?limit=200").await.expect(200).clone();
    let states: BTreeSet<String> = orders["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["status"].as_str().map(str::to_owned))
        .collect();
    for s in
        ["new", "published", "dispatched", "in_progress", "delivered", "accepted", "closed", "cancelled", "disputed"]
    {
        assert!(states.contains(s), "no {s} order in the demo park: {states:?}");
    }
    let pool = ops.get("/api/v1/subcontracts?limit=200").await;
    let modes: BTreeSet<String> = pool.items().iter().filter_map(|s| s["mode"].as_str().map(str::to_owned)).collect();
    assert_eq!(modes, ["first_claim", "tender"].into_iter().map(String::from).collect());
    assert!(pool.items().iter().any(|s| s["bids"].as_array().is_some_and(|b| !b.is_empty())), "a tender has bids");

    // The subcontractor has a pool to claim from and work in progress; its implementer too.
    let sub = park.login("sub@vpark.demo").await;
    assert!(!sub.get("/api/v1/subcontracts").await.items().is_empty(), "sub@ has subcontracts to claim");
    assert!(sub.get("/api/v1/orders").await.items().len() >= 3);
    let imp = park.login("implementer@vpark.demo").await;
    assert!(!imp.get("/api/v1/orders").await.items().is_empty());
    // The client has something delivered and something to rate.
    let client = park.login("client@vpark.demo").await;
    let mine = client.get("/api/v1/orders").await.items();
    assert!(mine.iter().any(|o| o["status"] == "closed" && o["rating"]["overall"] == 5), "{mine:?}");
    assert!(mine.iter().any(|o| o["status"] == "accepted"));
    assert!(!client.get("/api/v1/contracts").await.items().is_empty());
    // The equity partner sees its contracts and the vendor supervises them.
    let equity = park.login("equity@vpark.demo").await;
    let theirs = equity.get("/api/v1/contracts").await.items();
    assert!(theirs.len() >= 2);
    for c in &theirs {
        ops.get(&format!("/api/v1/contracts/{}", c["id"])).await.expect(200);
    }
    // Ops see the overdue milestones of work in progress.
    assert!(!ops.get("/api/v1/milestones/overdue").await.items().is_empty(), "an overdue milestone");
    park.assert_deliverer_counters_hold().await;
    park.stop().await;
}
