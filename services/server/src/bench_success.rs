//! `vpark bench success`: loads a large park (orders, clients, implementers with credentials,
//! partners) into a fresh database and measures, over the full HTTP stack, the success metrics
//! grouped by partner for twelve months (p50/p99), the other groupings once each, and the daily
//! credential sweep over every credential.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use kernel::SystemClock;
use platform::db::sql;
use poem::test::TestClient;
use sea_orm::{ConnectionTrait, Value};

use crate::bench::{CONTRACT_COLS, RATING_COLS, after_load, insert_rows, max_id};
use crate::config::Settings;
use crate::park::Park;

#[derive(clap::Args, Debug, Clone)]
pub struct SuccessBench {
    /// Orders to load (one contract each, signed over the last three years).
    #[arg(long, default_value_t = 100_000)]
    pub orders: usize,
    /// Client organisations.
    #[arg(long, default_value_t = 20_000)]
    pub clients: usize,
    /// Implementers (each holding two credentials in every state of their lifecycle).
    #[arg(long, default_value_t = 5_000)]
    pub implementers: usize,
    /// Partners: one in ten an equity partner (a signer), the rest subcontract partners.
    #[arg(long, default_value_t = 200)]
    pub partners: usize,
    /// Requests per latency measurement.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
}

const REGIONS: [&str; 4] = ["zhejiang", "jiangsu", "shanghai", "anhui"];
const INDUSTRIES: [&str; 4] = ["manufacturing", "software", "retail", "electronics"];
const SERVICES: [&str; 3] = ["ERP-IMPL", "TAX-PLAN", "CONS-MGMT"];

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub async fn run(settings: Settings, b: SuccessBench) -> anyhow::Result<()> {
    let mut settings = settings;
    settings.mail.worker = false;
    let backend_name = if settings.database.url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let park = Arc::new(Park::open(settings, Arc::new(SystemClock)).await?);
    if !park.directory.is_empty().await.map_err(|e| e.0)? {
        anyhow::bail!("the benchmark needs an empty database (point DATABASE_URL at a fresh one)");
    }
    println!(
        "vpark bench success on {backend_name}: {} orders, {} clients, {} implementers, {} partners",
        b.orders, b.clients, b.implementers, b.partners
    );
    let t = Instant::now();
    crate::seed::seed_demo(&park).await?;
    load(&park, &b).await?;
    println!("  loaded in {:.1} s", t.elapsed().as_secs_f64());

    let client = TestClient::new(park.endpoint());
    let ops = park
        .identity
        .login("ops@vpark.demo", crate::seed::DEMO_PASSWORD)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.0))?
        .token;
    let today = Utc::now().date_naive();
    let (from, to) = success::app::trailing_twelve_months(today);
    let get = |path: String| {
        let client = &client;
        let ops = ops.clone();
        async move {
            let started = Instant::now();
            let resp = client.get(&path).header("authorization", format!("Bearer {ops}")).send().await;
            resp.assert_status_is_ok();
            let body = resp.0.into_body().into_string().await?;
            Ok::<_, anyhow::Error>((started.elapsed(), body))
        }
    };
    let partner_path = format!("/api/v1/success-metrics?group_by=partner&from={from}&to={to}");
    let (_, body) = get(partner_path.clone()).await?;
    let rows = serde_json::from_str::<serde_json::Value>(&body)?["rows"].as_array().map(Vec::len).unwrap_or(0);
    let mut times = Vec::with_capacity(b.requests);
    for _ in 0..b.requests {
        times.push(get(partner_path.clone()).await?.0);
    }
    times.sort();
    println!(
        "  metrics by partner, 12 months ({rows} rows, {} requests): p50 {}, p99 {}   (target p99 < 200 ms)",
        b.requests,
        ms(pct(&times, 0.5)),
        ms(pct(&times, 0.99))
    );
    for g in ["region", "industry", "period"] {
        let (d, _) = get(format!("/api/v1/success-metrics?group_by={g}&from={from}&to={to}")).await?;
        println!("  metrics by {g}, 12 months: {}", ms(d));
    }
    let (d, _) = get(format!("/api/v1/cash-flow?group_by=region&from={from}&to={to}")).await?;
    println!("  cash flow by region, 12 months: {}", ms(d));

    // The seed assessed last month already: recompute the month before, as a fresh period.
    let period = success::scorecards::previous_period(success::scorecards::previous_period(today).first_day());
    let started = Instant::now();
    let tiers = park
        .success
        .recompute_system("bench", Some(&period.bucket(success::metrics::Granularity::Month)))
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.0))?;
    let tier_time = started.elapsed();
    println!(
        "  tier recomputation of {} ({} partners assessed, {} changed): {}",
        tiers.period,
        tiers.assessed,
        tiers.changed,
        ms(tier_time)
    );
    let started = Instant::now();
    let report = park.certifications.sweep().await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
    let sweep_time = started.elapsed();
    println!("  credential sweep over {} credentials: {}   ({report:?})", b.implementers * 2, ms(sweep_time));
    println!("  tiers + sweep: {}   (target < 10 s)", ms(tier_time + sweep_time));
    let started = Instant::now();
    let again = park.certifications.sweep().await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
    println!("  the same sweep again: {}   ({again:?})", ms(started.elapsed()));
    Ok(())
}

fn org_row(id: i64, kind: &str, name: String, parent: Option<i64>, i: usize, now: chrono::DateTime<Utc>) -> Vec<Value> {
    let region = REGIONS[i % REGIONS.len()];
    vec![
        id.into(),
        kind.into(),
        name.into(),
        parent.into(),
        serde_json::json!([region]).into(),
        serde_json::json!([INDUSTRIES[i % INDUSTRIES.len()]]).into(),
        serde_json::json!(["erp", "finance_tax", "consulting"]).into(),
        Some(1_000i32).into(),
        "active".into(),
        now.into(),
        now.into(),
    ]
}

async fn load(park: &Park, b: &SuccessBench) -> anyhow::Result<()> {
    let conn = park.db.write();
    let db = conn.get_database_backend();
    let one = |q: &str| sql(db, q, []);
    let id_of = |q: &'static str| async move {
        conn.query_one_raw(sql(db, q, [])).await?.context(q)?.try_get::<i64>("", "id").map_err(anyhow::Error::from)
    };
    let vendor = id_of("SELECT id FROM organisations WHERE kind = 'vendor'").await?;
    let team = id_of("SELECT id FROM organisations WHERE kind = 'direct_team' ORDER BY id LIMIT 1").await?;
    let mut service_ids = Vec::new();
    for code in SERVICES {
        let row =
            conn.query_one_raw(sql(db, "SELECT id, category FROM services WHERE code = $1", [code.into()])).await?;
        let row = row.context("a service")?;
        service_ids.push((row.try_get::<i64>("", "id")?, row.try_get::<String>("", "category")?));
    }
    let certs: Vec<i64> = conn
        .query_all_raw(one("SELECT id FROM certifications ORDER BY id LIMIT 2"))
        .await?
        .iter()
        .filter_map(|r| r.try_get::<i64>("", "id").ok())
        .collect();
    let now = Utc::now();
    let today = now.date_naive();
    let o0 = max_id(conn, "organisations").await?;
    let cols = [
        "id",
        "kind",
        "name_zh",
        "parent_id",
        "regions",
        "industries",
        "categories",
        "capacity",
        "status",
        "created_at",
        "updated_at",
    ];
    let mut orgs = Vec::new();
    let mut signers = vec![team];
    let mut deliverers = Vec::new();
    for i in 0..b.partners {
        let id = o0 + 1 + i as i64;
        if i % 10 == 0 {
            orgs.push(org_row(id, "equity_partner", format!("压测渠道{i:03}"), Some(vendor), i, now));
            signers.push(id);
        } else {
            orgs.push(org_row(id, "subcontract_partner", format!("压测分包{i:03}"), Some(vendor), i, now));
        }
        deliverers.push(id);
    }
    let c0 = o0 + b.partners as i64;
    for i in 0..b.clients {
        orgs.push(org_row(c0 + 1 + i as i64, "client", format!("压测客户{i:05}"), None, i, now));
    }
    let u0 = max_id(conn, "users").await?;
    let k0 = max_id(conn, "credentials").await?;
    let (mut users, mut creds) = (Vec::new(), Vec::new());
    for i in 0..b.implementers {
        let uid = u0 + 1 + i as i64;
        let org = deliverers[i % deliverers.len()];
        users.push(vec![
            uid.into(),
            org.into(),
            format!("imp{i:05}@bench.example.cn").into(),
            format!("实施{i:05}").into(),
            "zh-CN".into(),
            "active".into(),
            0i32.into(),
            now.into(),
            now.into(),
        ]);
        for (j, cert) in certs.iter().enumerate() {
            // Expiry spread over ±400 days: some expired, some expiring, most earned.
            let offset = ((i * 7 + j * 131) % 800) as i64 - 400;
            let expires = today + chrono::Duration::days(offset);
            let status = if offset < 0 { "earned" } else { ["earned", "earned", "in_progress"][i % 3] };
            creds.push(vec![
                (k0 + 1 + (i * certs.len() + j) as i64).into(),
                uid.into(),
                org.into(),
                (*cert).into(),
                status.into(),
                (status != "in_progress").then(|| expires - chrono::Duration::days(730)).into(),
                (status != "in_progress").then_some(expires).into(),
                now.into(),
                now.into(),
            ]);
        }
    }
    let (k0c, l0, d0) =
        (max_id(conn, "contracts").await?, max_id(conn, "contract_lines").await?, max_id(conn, "orders").await?);
    let (mut contracts, mut lines, mut orders, mut ratings) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..b.orders {
        let (cid, lid, oid) = (k0c + 1 + i as i64, l0 + 1 + i as i64, d0 + 1 + i as i64);
        let client = c0 + 1 + ((i * 7919) % b.clients.max(1)) as i64;
        let signer = signers[i % signers.len()];
        let svc = i % SERVICES.len();
        let signed = today - chrono::Duration::days((i % 1095) as i64);
        let amount: i64 = 1_000_000 + (i as i64 % 50) * 100_000;
        contracts.push(vec![
            cid.into(),
            format!("BS{cid:08}").into(),
            client.into(),
            signer.into(),
            signed.into(),
            3i32.into(),
            amount.into(),
            (amount / 5).into(),
            serde_json::json!({"template": "standard"}).into(),
            "active".into(),
            now.into(),
            now.into(),
        ]);
        lines.push(vec![lid.into(), cid.into(), 1i32.into(), service_ids[svc].0.into(), amount.into()]);
        let delivered = i % 10 >= 3;
        let deliverer = deliverers[(i * 31) % deliverers.len()];
        let delivered_at = signed.and_hms_opt(0, 0, 0).map(|t| t.and_utc() + chrono::Duration::days(50));
        orders.push(vec![
            oid.into(),
            format!("BS{cid:08}-1").into(),
            cid.into(),
            lid.into(),
            client.into(),
            signer.into(),
            service_ids[svc].0.into(),
            service_ids[svc].1.clone().into(),
            REGIONS[(client as usize) % REGIONS.len()].into(),
            INDUSTRIES[(client as usize) % INDUSTRIES.len()].into(),
            if delivered { "closed" } else { "in_progress" }.into(),
            Some(deliverer).into(),
            (signed + chrono::Duration::days(60)).into(),
            if delivered { delivered_at } else { None }.into(),
            if delivered { Some(i % 7 != 0) } else { None }.into(),
            if delivered { delivered_at } else { None }.into(),
            now.into(),
            now.into(),
        ]);
        if delivered {
            let stars: i16 = [5, 5, 4, 4, 4, 3, 5, 2][i % 8];
            let at = delivered_at.map(|t| t + chrono::Duration::days(2));
            ratings.push(vec![
                oid.into(),
                client.into(),
                deliverer.into(),
                stars.into(),
                stars.into(),
                stars.into(),
                stars.into(),
                stars.into(),
                at.into(),
                at.into(),
            ]);
        }
    }
    let txn = park.db.begin().await?;
    insert_rows(&txn, "organisations", &cols, orgs).await?;
    insert_rows(
        &txn,
        "users",
        &["id", "org_id", "email", "display_name", "locale", "status", "failed_logins", "created_at", "updated_at"],
        users,
    )
    .await?;
    insert_rows(
        &txn,
        "credentials",
        &[
            "id",
            "user_id",
            "org_id",
            "certification_id",
            "status",
            "issued_on",
            "expires_on",
            "created_at",
            "updated_at",
        ],
        creds,
    )
    .await?;
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
            "accepted_at",
            "created_at",
            "updated_at",
        ],
        orders,
    )
    .await?;
    insert_rows(&txn, "ratings", &RATING_COLS, ratings).await?;
    txn.commit().await?;
    after_load(conn, &["organisations", "users", "credentials", "contracts", "contract_lines", "orders"]).await?;
    Ok(())
}
