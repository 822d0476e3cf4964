//! `vpark bench reads`: the reads a console makes, side by side in one run. Loads the demo park
//! and the marketplace benchmark's bulk (100,000 orders by default) into a fresh database, then
//! fires each read from `connections` concurrent clients for a fixed time over the full HTTP
//! stack (edge, routing, authentication, policy, JSON, database; an in-process client, so
//! without the loopback socket) and prints requests per second, p50 and p99, and each read's
//! rate as a share of `/healthz`'s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use kernel::SystemClock;
use platform::db::sql;
use poem::test::TestClient;
use sea_orm::ConnectionTrait;

use crate::bench::{MarketplaceBench, load, max_id, ms, pct};
use crate::config::Settings;
use crate::park::Park;

#[derive(clap::Args, Debug, Clone)]
pub struct ReadsBench {
    /// Orders to load.
    #[arg(long, default_value_t = 100_000)]
    pub orders: usize,
    /// Concurrent clients per read.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Seconds each read is fired for.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
}

/// One read: its label, its path and whose token it carries.
struct Read {
    label: &'static str,
    paths: Vec<String>,
    token: Option<String>,
}

struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
    failed: usize,
}

async fn fire<E: poem::Endpoint + 'static>(
    client: Arc<TestClient<E>>,
    read: &Read,
    connections: usize,
    seconds: u64,
) -> Figures {
    let paths = Arc::new(read.paths.clone());
    let token = read.token.clone();
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..connections.max(1) {
        let (client, paths, token) = (client.clone(), paths.clone(), token.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0usize;
            let mut i = w;
            while Instant::now() < until {
                let path = &paths[i % paths.len()];
                i += connections;
                let mut req = client.get(path);
                if let Some(t) = &token {
                    req = req.header("authorization", format!("Bearer {t}"));
                }
                let t = Instant::now();
                let resp = req.send().await;
                let ok = resp.0.status().is_success();
                // The body is read, as a client would.
                let _ = resp.0.into_body().into_bytes().await;
                lat.push(t.elapsed());
                if !ok {
                    failed += 1;
                }
            }
            (lat, failed)
        }));
    }
    let mut lat = Vec::new();
    let mut failed = 0;
    for w in workers {
        if let Ok((l, f)) = w.await {
            lat.extend(l);
            failed += f;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    Figures { rate: lat.len() as f64 / secs, p50: pct(&lat, 0.5), p99: pct(&lat, 0.99), failed }
}

async fn ids<C: ConnectionTrait>(conn: &C, text: &str) -> anyhow::Result<Vec<i64>> {
    let rows = conn.query_all_raw(sql(conn.get_database_backend(), text, [])).await?;
    Ok(rows.iter().filter_map(|r| r.try_get::<i64>("", "id").ok()).collect())
}

pub async fn run(settings: Settings, b: ReadsBench) -> anyhow::Result<()> {
    let mut settings = settings;
    settings.mail.worker = false;
    settings.database.max_connections = settings.database.max_connections.max(b.connections as u32);
    let backend_name = if settings.database.url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let park = Arc::new(Park::open(settings, Arc::new(SystemClock)).await?);
    if !park.directory.is_empty().await.map_err(|e| e.0)? {
        anyhow::bail!("the benchmark needs an empty database (point DATABASE_URL at a fresh one)");
    }
    println!(
        "vpark bench reads on {backend_name}: {} orders, {} connections, {} s per read",
        b.orders, b.connections, b.seconds
    );
    let t = Instant::now();
    crate::seed::seed_demo(&park).await?;
    let first_bench_order = max_id(park.db.read(), "orders").await?;
    let load_spec = MarketplaceBench {
        orders: b.orders,
        subcontracts: (b.orders / 20).max(1),
        partners: 50,
        requests: 0,
        concurrency: 1,
    };
    let partners = load(&park, &load_spec).await?;
    println!("  loaded in {:.1} s", t.elapsed().as_secs_f64());

    let login = |email: String, password: &'static str| {
        let park = park.clone();
        async move { park.identity.login(&email, password).await.map(|s| s.token).map_err(|e| anyhow::anyhow!("{}", e.0)) }
    };
    let ops = login("ops@vpark.demo".into(), crate::seed::DEMO_PASSWORD).await?;
    let finance = login("finance@vpark.demo".into(), crate::seed::DEMO_PASSWORD).await?;
    let partner_email = partners.first().cloned().context("a partner")?;
    let partner = login(partner_email, crate::bench::PASSWORD).await?;
    let partner_org: i64 = {
        let conn = park.db.read();
        let row = conn
            .query_one_raw(sql(
                conn.get_database_backend(),
                "SELECT org_id FROM users WHERE email = $1",
                [partners[0].clone().into()],
            ))
            .await?
            .context("the partner")?;
        row.try_get("", "org_id")?
    };

    let conn = park.db.read();
    let orders =
        ids(conn, &format!("SELECT id FROM orders WHERE id > {first_bench_order} ORDER BY id LIMIT 2000")).await?;
    let paid = ids(conn, "SELECT DISTINCT contract_id AS id FROM ledger_entries WHERE contract_id IS NOT NULL").await?;
    let delivers = ids(conn, &format!("SELECT COUNT(*) AS id FROM orders WHERE deliverer_id = {partner_org}")).await?;
    println!(
        "  the partner delivers {} orders; {} contracts have ledger entries",
        delivers.first().copied().unwrap_or(0),
        paid.len()
    );

    let reads = vec![
        Read { label: "GET /healthz", paths: vec!["/healthz".into()], token: None },
        Read { label: "GET /me", paths: vec!["/api/v1/me".into()], token: Some(ops.clone()) },
        Read {
            label: "GET /orders/{id}",
            paths: orders.iter().map(|id| format!("/api/v1/orders/{id}")).collect(),
            token: Some(ops.clone()),
        },
        Read {
            label: "GET /orders?limit=50 (ops)",
            paths: vec!["/api/v1/orders?limit=50".into()],
            token: Some(ops.clone()),
        },
        Read {
            label: "GET /orders?limit=50 (partner)",
            paths: vec!["/api/v1/orders?limit=50".into()],
            token: Some(partner.clone()),
        },
        Read {
            label: "GET /subcontracts?limit=50 (partner)",
            paths: vec!["/api/v1/subcontracts?limit=50".into()],
            token: Some(partner.clone()),
        },
        Read {
            label: "GET /ledger/entries?contract_id=",
            paths: paid.iter().map(|id| format!("/api/v1/ledger/entries?contract_id={id}&limit=50")).collect(),
            token: Some(finance.clone()),
        },
    ];
    let client = Arc::new(TestClient::new(park.endpoint()));
    let mut healthz = 0.0;
    let mut worst_p99 = Duration::ZERO;
    println!("  {:<38} {:>10} {:>10} {:>10} {:>11}", "read", "req/s", "p50", "p99", "of /healthz");
    for read in &reads {
        if read.paths.is_empty() {
            println!("  {:<38} (nothing to read)", read.label);
            continue;
        }
        let f = fire(client.clone(), read, b.connections, b.seconds).await;
        if read.label == "GET /healthz" {
            healthz = f.rate;
        }
        worst_p99 = worst_p99.max(f.p99);
        let share = if healthz > 0.0 { format!("{:.1}%", 100.0 * f.rate / healthz) } else { "-".into() };
        println!("  {:<38} {:>10.0} {:>10} {:>10} {:>11}", read.label, f.rate, ms(f.p50), ms(f.p99), share);
        if f.failed > 0 {
            anyhow::bail!("{}: {} requests failed", read.label, f.failed);
        }
    }
    println!("  worst p99: {}", ms(worst_p99));
    Ok(())
}
