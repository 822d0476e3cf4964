//! `vpark bench marketplace`: loads a large marketplace into a fresh database and measures, over
//! the full HTTP stack (routing, authentication, policy, JSON, database; an in-process client,
//! so without the loopback socket), the pool listing of a partner, recommendations for an order
//! and the throughput of first-claim claims from many partners.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use kernel::{Email, Locale, OrgKind, Password, Role, SystemClock};
use platform::db::sql;
use poem::test::TestClient;
use rand::seq::IndexedRandom;
use sea_orm::{ConnectionTrait, Value};

use crate::config::Settings;
use crate::park::Park;

#[derive(clap::Args, Debug, Clone)]
pub struct MarketplaceBench {
    /// Orders to load.
    #[arg(long, default_value_t = 100_000)]
    pub orders: usize,
    /// Of which open first-claim subcontracts in the pool.
    #[arg(long, default_value_t = 5_000)]
    pub subcontracts: usize,
    /// Subcontract partners.
    #[arg(long, default_value_t = 50)]
    pub partners: usize,
    /// Requests per latency measurement.
    #[arg(long, default_value_t = 2_000)]
    pub requests: usize,
    /// Concurrent claimers in the throughput run.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
}

const REGIONS: [&str; 3] = ["zhejiang", "jiangsu", "shanghai"];
const INDUSTRIES: [&str; 4] = ["manufacturing", "software", "retail", "electronics"];
/// (service, its category, the certification it needs)
const SERVICES: [(&str, &str, &str); 3] =
    [("ERP-IMPL", "erp", "ERP-L2"), ("TAX-PLAN", "finance_tax", "TAX-ADV"), ("CONS-MGMT", "consulting", "PMP")];
pub(crate) const PASSWORD: &str = "bench-password-1";

/// The regions partner `i` serves (the loader's pattern).
fn regions_of(i: usize) -> Vec<&'static str> {
    match i % 3 {
        0 => REGIONS.to_vec(),
        1 => vec![REGIONS[0], REGIONS[1]],
        _ => vec![REGIONS[1], REGIONS[2]],
    }
}

fn serves(i: usize, region: &str) -> bool {
    regions_of(i).contains(&region)
}

pub(crate) fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) async fn insert_rows<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<Value>>,
) -> anyhow::Result<()> {
    let per = (30_000 / cols.len()).min(1000);
    for chunk in rows.chunks(per) {
        let mut values = Vec::with_capacity(chunk.len() * cols.len());
        let mut groups = Vec::with_capacity(chunk.len());
        for row in chunk {
            let start = values.len();
            values.extend(row.iter().cloned());
            // Plain `?` on SQLite: its lookup of numbered parameters is linear per parameter.
            let marks: Vec<String> = match conn.get_database_backend() {
                sea_orm::DbBackend::Postgres => (start + 1..=start + row.len()).map(|i| format!("${i}")).collect(),
                _ => vec!["?".to_owned(); row.len()],
            };
            groups.push(format!("({})", marks.join(", ")));
        }
        let text = format!("INSERT INTO {table} ({}) VALUES {}", cols.join(", "), groups.join(", "));
        conn.execute_raw(sql(conn.get_database_backend(), &text, values)).await.with_context(|| table.to_owned())?;
    }
    Ok(())
}

/// The columns the benchmarks load of a contract and of a rating.
pub(crate) const CONTRACT_COLS: [&str; 12] = [
    "id",
    "contract_no",
    "client_id",
    "signer_id",
    "signed_on",
    "term_years",
    "first_year_fen",
    "maintenance_fen",
    "agreement",
    "status",
    "created_at",
    "updated_at",
];
pub(crate) const RATING_COLS: [&str; 10] = [
    "order_id",
    "client_id",
    "deliverer_id",
    "overall",
    "professionalism",
    "timeliness",
    "communication",
    "outcome",
    "created_at",
    "updated_at",
];

/// After a bulk load with explicit ids: fills in the facts of the loaded contracts (as the
/// marketplace would have), moves PostgreSQL's sequences past the ids and refreshes the planner's
/// statistics (VACUUM also sets the visibility map, so statistics queries run as index-only
/// scans, as they would on tables autovacuum has visited).
pub(crate) async fn after_load<C: ConnectionTrait>(conn: &C, tables: &[&str]) -> anyhow::Result<()> {
    let b = conn.get_database_backend();
    if tables.contains(&"orders") {
        // Statistics first: without them PostgreSQL plans the per-contract subqueries of a
        // freshly loaded table so badly that the refresh takes tens of minutes instead of seconds.
        conn.execute_raw(sql(b, "ANALYZE", [])).await?;
        marketplace::store::refresh_all_contract_facts(conn).await?;
    }
    if b == sea_orm::DbBackend::Postgres {
        for t in tables {
            conn.execute_raw(sql(
                b,
                &format!("SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"),
                [],
            ))
            .await?;
        }
        conn.execute_raw(sql(b, "VACUUM ANALYZE", [])).await?;
    } else {
        conn.execute_raw(sql(b, "ANALYZE", [])).await?;
    }
    Ok(())
}

pub(crate) async fn max_id<C: ConnectionTrait>(conn: &C, table: &str) -> anyhow::Result<i64> {
    let row = conn
        .query_one_raw(sql(conn.get_database_backend(), &format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}"), []))
        .await?
        .context("max id")?;
    Ok(row.try_get::<i64>("", "m")?)
}

pub async fn run(settings: Settings, b: MarketplaceBench) -> anyhow::Result<()> {
    let mut settings = settings;
    settings.mail.worker = false;
    settings.database.max_connections = settings.database.max_connections.max(16);
    let backend_name = if settings.database.url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let park = Arc::new(Park::open(settings, Arc::new(SystemClock)).await?);
    if !park.directory.is_empty().await.map_err(|e| e.0)? {
        anyhow::bail!("the benchmark needs an empty database (point DATABASE_URL at a fresh one)");
    }
    println!(
        "vpark bench marketplace on {backend_name}: {} orders, {} open subcontracts, {} partners",
        b.orders, b.subcontracts, b.partners
    );
    let t = Instant::now();
    crate::seed::seed_demo(&park).await?;
    let first_bench_order = max_id(park.db.read(), "orders").await?;
    let partners = load(&park, &b).await?;
    println!("  loaded in {:.1} s", t.elapsed().as_secs_f64());

    let client = Arc::new(TestClient::new(park.endpoint()));
    let mut tokens = Vec::new();
    for email in &partners {
        tokens.push(park.identity.login(email, PASSWORD).await.map_err(|e| anyhow::anyhow!("{}", e.0))?.token);
    }
    let ops = park
        .identity
        .login("ops@vpark.demo", crate::seed::DEMO_PASSWORD)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.0))?
        .token;

    // Pool listing, one partner at a time.
    let mut lat = Vec::with_capacity(b.requests);
    let mut rng = rand::rng();
    let mut listed = 0usize;
    for _ in 0..b.requests {
        let token = tokens.choose(&mut rng).context("a partner")?;
        let t = Instant::now();
        let resp =
            client.get("/api/v1/subcontracts?limit=50").header("authorization", format!("Bearer {token}")).send().await;
        resp.assert_status_is_ok();
        lat.push(t.elapsed());
        listed += 1;
    }
    lat.sort();
    println!(
        "  pool listing (50 per page)   p50 {}  p99 {}  ({listed} requests)",
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.99))
    );

    // Recommendations for new orders.
    let conn = park.db.read();
    let rows = conn
        .query_all_raw(sql(
            conn.get_database_backend(),
            "SELECT id FROM orders WHERE status = 'new' ORDER BY id LIMIT 1000",
            [],
        ))
        .await?;
    let new_orders: Vec<i64> = rows.iter().filter_map(|r| r.try_get::<i64>("", "id").ok()).collect();
    let mut lat = Vec::with_capacity(b.requests);
    for _ in 0..b.requests {
        let id = new_orders.choose(&mut rng).context("a new order")?;
        let t = Instant::now();
        let resp = client
            .get(format!("/api/v1/orders/{id}/recommendations"))
            .header("authorization", format!("Bearer {ops}"))
            .send()
            .await;
        resp.assert_status_is_ok();
        lat.push(t.elapsed());
    }
    lat.sort();
    println!(
        "  recommendations              p50 {}  p99 {}  ({} requests)",
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.99)),
        b.requests
    );

    // Claims: every open subcontract claimed by two partners at once, by `concurrency` workers.
    let rows = conn
        .query_all_raw(sql(
            conn.get_database_backend(),
            "SELECT id, region FROM subcontracts WHERE status = 'open' AND mode = 'first_claim' AND order_id > $1 ORDER BY id",
            [first_bench_order.into()],
        ))
        .await?;
    let subs: Vec<(i64, String)> = rows
        .iter()
        .filter_map(|r| Some((r.try_get::<i64>("", "id").ok()?, r.try_get::<String>("", "region").ok()?)))
        .collect();
    let mut jobs: Vec<(i64, String)> = Vec::with_capacity(subs.len() * 2);
    for (s, region) in &subs {
        // Two partners that serve the region race for each subcontract.
        let eligible: Vec<usize> = (0..tokens.len()).filter(|i| serves(*i, region)).collect();
        let two: Vec<&usize> = eligible.choose_multiple(&mut rng, 2).collect();
        for i in two {
            jobs.push((*s, tokens[*i].clone()));
        }
    }
    let jobs = Arc::new(jobs);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..b.concurrency.max(1) {
        let (jobs, next, client) = (jobs.clone(), next.clone(), client.clone());
        workers.push(tokio::spawn(async move {
            let (mut won, mut lost, mut other) = (0usize, 0usize, 0usize);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((sid, token)) = jobs.get(i) else { break };
                let resp = client
                    .post(format!("/api/v1/subcontracts/{sid}/claim"))
                    .header("authorization", format!("Bearer {token}"))
                    .send()
                    .await;
                match resp.0.status().as_u16() {
                    200 => won += 1,
                    409 => lost += 1,
                    _ => other += 1,
                }
            }
            (won, lost, other)
        }));
    }
    let (mut won, mut lost, mut other) = (0, 0, 0);
    for w in workers {
        let (a, l, o) = w.await?;
        won += a;
        lost += l;
        other += o;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "  claims (first_claim)         {:.0} claims/s  ({} claims in {:.1} s: {won} won, {lost} already claimed, {other} other; {} workers)",
        (won + lost + other) as f64 / secs,
        won + lost + other,
        secs,
        b.concurrency
    );
    if won != subs.len() || other != 0 {
        anyhow::bail!(
            "expected exactly one winner per subcontract ({} subcontracts, {won} won, {other} other)",
            subs.len()
        );
    }
    Ok(())
}

/// Loads partners (through the services) and the bulk of contracts, orders, milestones,
/// subcontracts and ratings (with multi-row INSERTs). Returns the partners' admin e-mails.
pub(crate) async fn load(park: &Park, b: &MarketplaceBench) -> anyhow::Result<Vec<String>> {
    use certification::app::NewCredential;
    use certification::domain::{CredentialFacts, CredentialStatus};
    use directory::domain::{OrgStatus, Profile};
    use identity::app::{InitialPassword, NewUser};

    let mut rng = rand::rng();
    let today = Utc::now().date_naive();
    let hash = identity::app::hash_password(Password::new_chosen(PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?)
        .await
        .map_err(|e| e.0)?;
    let mut partner_ids = Vec::new();
    let mut emails = Vec::new();
    for i in 0..b.partners {
        let regions: Vec<String> = regions_of(i).into_iter().map(str::to_owned).collect();
        let org = park
            .directory
            .create_org_system(
                "bench",
                Profile {
                    kind: OrgKind::SubcontractPartner,
                    name_zh: format!("压测伙伴{i:03}"),
                    name_en: None,
                    credit_code: None,
                    parent_id: None,
                    equity_stake: None,
                    regions,
                    industries: INDUSTRIES.iter().map(|x| (*x).to_owned()).collect(),
                    categories: SERVICES.iter().map(|s| s.1.to_owned()).collect(),
                    capacity: Some(100_000),
                    tier: None,
                    status: OrgStatus::Active,
                    contact_name: None,
                    contact_phone: None,
                    contact_email: None,
                },
            )
            .await
            .map_err(|e| e.0)?;
        let email = format!("bench{i:03}@bench.example.cn");
        let user = park
            .identity
            .create_user_system(
                "bench",
                org.id,
                NewUser {
                    org_id: Some(org.id),
                    email: Email::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?,
                    display_name: format!("压测{i:03}"),
                    phone: None,
                    locale: Locale::ZhCn,
                    roles: vec![Role::SubAdmin, Role::Implementer],
                    password: InitialPassword::Hashed(hash.clone()),
                },
            )
            .await
            .map_err(|e| e.0)?;
        for (_, _, cert) in SERVICES {
            park.certifications
                .create_credential_system(
                    "bench",
                    NewCredential {
                        user_id: user.user.id,
                        certification_code: cert.into(),
                        facts: CredentialFacts {
                            status: CredentialStatus::Earned,
                            issued_on: Some(today - chrono::Duration::days(100)),
                            expires_on: Some(today + chrono::Duration::days(600)),
                            revoked_reason: None,
                        },
                    },
                )
                .await
                .map_err(|e| e.0)?;
        }
        partner_ids.push(org.id);
        emails.push(email);
    }

    let conn = park.db.write();
    let b_ = conn.get_database_backend();
    let one = |q: &str| sql(b_, q, []);
    let team: i64 = conn
        .query_one_raw(one("SELECT id FROM organisations WHERE kind = 'direct_team' ORDER BY id LIMIT 1"))
        .await?
        .context("a direct team")?
        .try_get("", "id")?;
    let clients: Vec<i64> = conn
        .query_all_raw(one("SELECT id FROM organisations WHERE kind = 'client' ORDER BY id"))
        .await?
        .iter()
        .filter_map(|r| r.try_get::<i64>("", "id").ok())
        .collect();
    let mut service_ids = Vec::new();
    for (code, _, _) in SERVICES {
        let id: i64 = conn
            .query_one_raw(sql(b_, "SELECT id FROM services WHERE code = $1", [code.into()]))
            .await?
            .context("a service")?
            .try_get("", "id")?;
        service_ids.push(id);
    }

    let now = Utc::now();
    let (c0, l0, o0, s0) = (
        max_id(conn, "contracts").await?,
        max_id(conn, "contract_lines").await?,
        max_id(conn, "orders").await?,
        max_id(conn, "subcontracts").await?,
    );
    let n = b.orders;
    let (mut contracts, mut lines, mut orders, mut milestones, mut subs, mut reqs, mut ratings) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let cid = c0 + 1 + i as i64;
        let lid = l0 + 1 + i as i64;
        let oid = o0 + 1 + i as i64;
        let client = *clients.choose(&mut rng).context("a client")?;
        let svc = i % SERVICES.len();
        let region = REGIONS[i % REGIONS.len()];
        let industry = INDUSTRIES[i % INDUSTRIES.len()];
        let signed = today - chrono::Duration::days((i % 300) as i64);
        let amount: i64 = 1_000_000 + (i as i64 % 50) * 100_000;
        contracts.push(vec![
            cid.into(),
            format!("BH{cid:08}").into(),
            client.into(),
            team.into(),
            signed.into(),
            3i32.into(),
            amount.into(),
            (amount / 5).into(),
            serde_json::json!({"template": "standard"}).into(),
            "active".into(),
            now.into(),
            now.into(),
        ]);
        lines.push(vec![lid.into(), cid.into(), 1i32.into(), service_ids[svc].into(), amount.into()]);
        let (status, deliverer): (&str, Option<i64>) = if i < b.subcontracts {
            ("published", None)
        } else {
            match i % 10 {
                0 => ("new", None),
                1 | 2 => ("in_progress", Some(*partner_ids.choose(&mut rng).context("a partner")?)),
                _ => ("closed", Some(*partner_ids.choose(&mut rng).context("a partner")?)),
            }
        };
        let delivered = status == "closed";
        orders.push(vec![
            oid.into(),
            format!("BH{cid:08}-1").into(),
            cid.into(),
            lid.into(),
            client.into(),
            team.into(),
            service_ids[svc].into(),
            SERVICES[svc].1.into(),
            region.into(),
            industry.into(),
            status.into(),
            deliverer.into(),
            (signed + chrono::Duration::days(60)).into(),
            if delivered { Some(now) } else { None }.into(),
            if delivered { Some(i % 7 != 0) } else { None }.into(),
            now.into(),
            now.into(),
        ]);
        for (seq, (code, days)) in [("kickoff", 7i64), ("go_live", 60)].into_iter().enumerate() {
            let st = if delivered { "accepted" } else { "pending" };
            milestones.push(vec![
                oid.into(),
                (seq as i32 + 1).into(),
                code.into(),
                code.into(),
                code.into(),
                (signed + chrono::Duration::days(days)).into(),
                st.into(),
            ]);
        }
        if i < b.subcontracts {
            let sid = s0 + 1 + i as i64;
            subs.push(vec![
                sid.into(),
                oid.into(),
                team.into(),
                service_ids[svc].into(),
                SERVICES[svc].1.into(),
                region.into(),
                industry.into(),
                "cant_do".into(),
                "first_claim".into(),
                Some(350i32).into(),
                Some(3500i32).into(),
                (now + chrono::Duration::days(3) + chrono::Duration::seconds(i as i64)).into(),
                "open".into(),
                now.into(),
            ]);
            reqs.push(vec![sid.into(), SERVICES[svc].2.into()]);
        }
        if let (true, Some(d)) = (delivered, deliverer) {
            let stars: i16 = [5, 5, 4, 4, 4, 3, 5, 2][i % 8];
            ratings.push(vec![
                oid.into(),
                client.into(),
                d.into(),
                stars.into(),
                stars.into(),
                stars.into(),
                stars.into(),
                stars.into(),
                now.into(),
                now.into(),
            ]);
        }
    }
    let txn = park.db.begin().await?;
    insert_rows(&txn, "contracts", &CONTRACT_COLS, contracts).await?;
    insert_rows(&txn, "contract_lines", &["id", "contract_id", "line_no", "service_id", "amount_fen"], lines).await?;
    insert_rows(
        &txn,
        "orders",
        &[
            "id",
            "order_no",
            "contract_id",
            "line_id",
            "client_id",
            "signer_id",
            "service_id",
            "category",
            "region",
            "industry",
            "status",
            "deliverer_id",
            "due_on",
            "delivered_at",
            "on_time",
            "created_at",
            "updated_at",
        ],
        orders,
    )
    .await?;
    insert_rows(
        &txn,
        "order_milestones",
        &["order_id", "seq", "code", "name_zh", "name_en", "due_on", "status"],
        milestones,
    )
    .await?;
    insert_rows(
        &txn,
        "subcontracts",
        &[
            "id",
            "order_id",
            "signer_id",
            "service_id",
            "category",
            "region",
            "industry",
            "reason",
            "mode",
            "min_quality_centi",
            "share_bp",
            "claim_deadline",
            "status",
            "created_at",
        ],
        subs,
    )
    .await?;
    insert_rows(&txn, "subcontract_requirements", &["subcontract_id", "certification"], reqs).await?;
    insert_rows(&txn, "ratings", &RATING_COLS, ratings).await?;
    txn.commit().await?;
    after_load(conn, &["contracts", "contract_lines", "orders", "subcontracts"]).await?;
    Ok(emails)
}
