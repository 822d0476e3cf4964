//! Partner scorecards and tiers: thresholds as data, live scorecards checked against the
//! contracts behind them, the per-period recomputation (once per partner and period, audited and
//! mailed) and its effect on the share rates of contracts signed afterwards — never on those
//! already signed.

use chrono::{Datelike, Duration};
use serde_json::{Value, json};

use crate::both;
use crate::support::http::User;
use crate::support::{Backend, Options, spawn_park, spawn_park_with};

both!(a_tier_change_applies_to_contracts_signed_afterwards, scorecards_are_for_vendor_roles_and_the_partner_itself);

/// "1234.50" → 123450.
fn fen(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a money string: {v}"));
    let (yuan, cents) = s.split_once('.').unwrap_or((s, "00"));
    yuan.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

fn yuan(f: i64) -> String {
    format!("{}.{:02}", f / 100, f % 100)
}

async fn scorecard(user: &User, org: i64) -> Value {
    let items = user.get(&format!("/api/v1/scorecards?org_id={org}")).await.items();
    assert_eq!(items.len(), 1, "{items:?}");
    items[0].clone()
}

async fn a_tier_change_applies_to_contracts_signed_afterwards(b: Backend) {
    let park = spawn_park_with(
        b,
        Options { tweak: Box::new(|s| s.auth.session_ttl_minutes = 60 * 24 * 90), ..Options::default() },
    )
    .await;
    let today = park.today();
    let admin = park.login("admin@vpark.demo").await;
    let ops = park.login("ops@vpark.demo").await;
    let equity = park.org_id_of("equity@vpark.demo").await;

    // The live scorecard's signed revenue is the first-year amounts of the partner's contracts
    // signed in its twelve months.
    let card = scorecard(&ops, equity).await;
    let from = card["from"].as_str().unwrap().to_owned();
    let signed: i64 = ops
        .get("/api/v1/contracts?limit=200")
        .await
        .items()
        .iter()
        .filter(|c| c["signer"]["id"] == equity && c["signed_on"].as_str().unwrap() >= from.as_str())
        .map(|c| fen(&c["first_year_amount"]))
        .sum();
    assert!(signed > 0);
    assert_eq!(fen(&card["figures"]["signed_revenue"]), signed);

    // Thresholds are data: a ladder whose gold the partner's revenue just meets.
    let revenue = fen(&card["figures"]["revenue"]);
    let ladder = json!({"items": [
        {"tier": "silver", "min_revenue": "0.01", "min_valid_credentials": 0},
        {"tier": "gold", "min_revenue": yuan(revenue), "min_valid_credentials": 0},
        {"tier": "platinum", "min_revenue": yuan(revenue + 1), "min_valid_credentials": 0},
    ]});
    ops.put("/api/v1/tier-thresholds", ladder.clone()).await.problem(403, "forbidden");
    let climbing_down = json!({"items": [
        {"tier": "silver", "min_revenue": "100.00", "min_valid_credentials": 0},
        {"tier": "gold", "min_revenue": "50.00", "min_valid_credentials": 0},
    ]});
    admin.put("/api/v1/tier-thresholds", climbing_down).await.problem(422, "invalid_field");
    admin.put("/api/v1/tier-thresholds", ladder).await.expect(200);
    let card = scorecard(&ops, equity).await;
    assert_eq!(card["reached_tier"], "gold");
    assert_eq!(card["next_tier"], "platinum");
    let misses = card["next_tier_misses"].as_array().unwrap();
    assert!(misses.iter().any(|m| m.as_str().unwrap().starts_with("revenue")), "{misses:?}");

    // Before the recomputation the partner signs at its tier in force.
    admin.patch(&format!("/api/v1/organisations/{equity}"), json!({"tier": "registered"})).await.expect(200);
    let client = park.org_id_of("client@vpark.demo").await;
    let sign = |on: chrono::NaiveDate| {
        json!({"client_id": client, "signer_id": equity, "signed_on": on.to_string(), "term_years": 3,
            "first_year_amount": "100.00", "annual_maintenance_fee": "10.00",
            "lines": [{"service": "TAX-PLAN", "amount": "100.00"}]})
    };
    let before = ops.post("/api/v1/contracts", sign(today)).await.expect(201).clone();
    assert_eq!(before["agreement"]["rules"][1]["rate"], "0.40", "{before}");
    // That contract raised its revenue: make gold reachable again for the coming period.
    let ladder = json!({"items": [
        {"tier": "silver", "min_revenue": "0.01", "min_valid_credentials": 0},
        {"tier": "gold", "min_revenue": yuan(revenue), "min_valid_credentials": 0},
        {"tier": "platinum", "min_revenue": "99999999.00", "min_valid_credentials": 0},
    ]});
    admin.put("/api/v1/tier-thresholds", ladder).await.expect(200);

    let tier_events = |ops: User| async move {
        ops.get(&format!("/api/v1/audit-events?resource_kind=organisation&resource_id={equity}&limit=200"))
            .await
            .items()
            .iter()
            .filter(|e| e["action"] == "organisation.tier_changed")
            .count()
    };
    let changes_before = tier_events(ops.clone()).await;

    // Only a month that has ended is recomputed; without thresholds tiers are kept by hand.
    let this_month = format!("{:04}-{:02}", today.year(), today.month());
    ops.post("/api/v1/tier-assessments", json!({"period": this_month})).await.problem(422, "invalid_field");
    ops.post("/api/v1/tier-assessments", json!({"period": "2026-13"})).await.problem(422, "invalid_field");
    let kept = admin.get("/api/v1/tier-thresholds").await.expect(200).clone();
    admin.put("/api/v1/tier-thresholds", json!({"items": []})).await.expect(200);
    ops.post("/api/v1/tier-assessments", json!({"period": "2020-01"})).await.problem(422, "no_tier_thresholds");
    admin.put("/api/v1/tier-thresholds", kept).await.expect(200);

    // Into the next month: the month of today has ended and is recomputed — twice at once, as
    // two replicas would; each partner is assessed once.
    let first_of_next = (today.with_day(1).unwrap() + Duration::days(32)).with_day(1).unwrap();
    park.clock.advance(Duration::days((first_of_next - today).num_days()));
    let (a, b2) = tokio::join!(
        ops.post("/api/v1/tier-assessments", json!({"period": this_month})),
        admin.post("/api/v1/tier-assessments", json!({"period": this_month})),
    );
    let (a, b2) = (a.expect(200).clone(), b2.expect(200).clone());
    let partners = a["assessed"].as_i64().unwrap() + a["already_assessed"].as_i64().unwrap();
    assert_eq!(a["assessed"].as_i64().unwrap() + b2["assessed"].as_i64().unwrap(), partners, "{a} {b2}");
    let again = ops.post("/api/v1/tier-assessments", json!({"period": this_month})).await.expect(200).clone();
    assert_eq!((again["assessed"].as_i64(), again["changed"].as_i64()), (Some(0), Some(0)));

    let org = ops.get(&format!("/api/v1/organisations/{equity}")).await.expect(200).clone();
    assert_eq!(org["tier"], "gold");
    let assessed = ops.get(&format!("/api/v1/tier-assessments?org_id={equity}&period={this_month}")).await.items();
    assert_eq!(assessed.len(), 1);
    assert_eq!(
        (assessed[0]["previous_tier"].as_str(), assessed[0]["tier"].as_str()),
        (Some("registered"), Some("gold"))
    );
    assert_eq!(tier_events(ops.clone()).await, changes_before + 1);
    let mails = admin.get("/api/v1/notifications?template=tier_changed&limit=200").await.items();
    let to_equity = mails.iter().filter(|n| n["recipient_email"] == "equity@vpark.demo").count();
    assert_eq!(to_equity, 1, "{mails:?}");

    // Contracts signed from now on take gold's rates; the one signed before keeps its own.
    let after = ops.post("/api/v1/contracts", sign(park.today())).await.expect(201).clone();
    assert_eq!(after["agreement"]["rules"][1]["rate"], "0.42", "{after}");
    assert_eq!(after["agreement"]["rules"][2]["rate"], "0.25");
    let kept = ops.get(&format!("/api/v1/contracts/{}", before["id"])).await.expect(200).clone();
    assert_eq!(kept["agreement"]["rules"][1]["rate"], "0.40");
    park.stop().await;
}

async fn scorecards_are_for_vendor_roles_and_the_partner_itself(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let sub = park.login("sub@vpark.demo").await;
    let sub1 = park.org_id_of("sub@vpark.demo").await;
    let equity = park.org_id_of("equity@vpark.demo").await;

    let all = ops.get("/api/v1/scorecards").await.items();
    assert!(all.len() >= 9, "every equity and subcontract partner: {}", all.len());
    assert!(all.iter().all(|c| c["org_kind"] == "equity_partner" || c["org_kind"] == "subcontract_partner"));
    let mine = sub.get("/api/v1/scorecards").await.items();
    assert_eq!(mine.iter().map(|c| c["org_id"].as_i64().unwrap()).collect::<Vec<_>>(), [sub1]);
    sub.get(&format!("/api/v1/scorecards?org_id={equity}")).await.problem(404, "not_found");
    // Valid credentials per certification: the partner's people's earned, unexpired ones.
    let creds = ops.get("/api/v1/credentials?limit=200").await.items();
    let valid = creds.iter().filter(|c| c["org_id"] == sub1 && c["valid"] == true).count() as i64;
    assert_eq!(mine[0]["figures"]["valid_credentials_total"], valid);
    // The demo's month-end assessment is there for every partner.
    let assessed = sub.get("/api/v1/tier-assessments").await.items();
    assert!(!assessed.is_empty());
    assert!(assessed.iter().all(|a| a["org_id"] == sub1));
    for who in ["client@vpark.demo", "implementer@vpark.demo", "team@vpark.demo"] {
        park.login(who).await.get("/api/v1/scorecards").await.problem(403, "forbidden");
    }
    park.login("sub@vpark.demo")
        .await
        .post("/api/v1/tier-assessments", json!({"period": "2026-01"}))
        .await
        .problem(403, "forbidden");
    park.stop().await;
}
