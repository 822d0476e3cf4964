//! `vpark bench settle`: loads contracts with payments (first-year money on two lines, a third of
//! the implementation lines subcontracted — half of those accepted, half holding their share —,
//! maintenance, refunds) into a fresh database, all unsettled, then settles them all the way
//! `vpark settle` does and prints the throughput, the peak memory of the process and the time
//! of a second run that finds nothing to post.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::Utc;
use kernel::agreement::{snapshot, standard_rules};
use kernel::{OrgKind, SystemClock};
use platform::db::sql;
use sea_orm::ConnectionTrait;

use crate::bench::{after_load, insert_rows, max_id};
use crate::config::Settings;
use crate::park::Park;

#[derive(clap::Args, Debug, Clone)]
pub struct SettleBench {
    /// Contracts to load (two lines each).
    #[arg(long, default_value_t = 100_000)]
    pub contracts: usize,
    /// Payments per contract (every tenth contract's last one a refund).
    #[arg(long, default_value_t = 10)]
    pub payments_per_contract: usize,
    /// Load the data and stop, leaving it unsettled (to run and measure `vpark settle` itself).
    #[arg(long)]
    pub load_only: bool,
}

/// The peak resident memory of this process (Linux), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn ids_of<C: ConnectionTrait>(conn: &C, query: &str) -> anyhow::Result<Vec<i64>> {
    Ok(conn
        .query_all_raw(sql(conn.get_database_backend(), query, []))
        .await?
        .iter()
        .filter_map(|r| r.try_get::<i64>("", "id").ok())
        .collect())
}

pub async fn run(settings: Settings, b: SettleBench) -> anyhow::Result<()> {
    let mut settings = settings;
    settings.mail.worker = false;
    let backend_name = if settings.database.url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let park = Arc::new(Park::open(settings, Arc::new(SystemClock)).await?);
    if !park.directory.is_empty().await.map_err(|e| e.0)? {
        anyhow::bail!("the benchmark needs an empty database (point DATABASE_URL at a fresh one)");
    }
    let payments = b.contracts * b.payments_per_contract;
    println!("vpark bench settle on {backend_name}: {} contracts, {payments} payments", b.contracts);
    let t = Instant::now();
    crate::seed::seed_demo(&park).await?;
    // The demo's own contracts are settled first, so that the run below measures the load only.
    park.ledger.settle_all(None, &|_| {}).await.map_err(|e| e.0)?;
    load(&park, &b).await?;
    println!("  loaded in {:.1} s", t.elapsed().as_secs_f64());
    if b.load_only {
        return Ok(());
    }
    let t = Instant::now();
    let done = park.ledger.settle_all(None, &|_| {}).await.map_err(|e| e.0)?;
    let first = t.elapsed();
    println!(
        "  settle: {} contracts, {} payments, {} transactions, {} entries in {:.2} s — {:.0} payments/s",
        done.contracts,
        done.payments,
        done.transactions,
        done.entries,
        first.as_secs_f64(),
        done.payments as f64 / first.as_secs_f64()
    );
    let t = Instant::now();
    let again = park.ledger.settle_all(None, &|_| {}).await.map_err(|e| e.0)?;
    let second = t.elapsed();
    println!(
        "  second run: {} transactions in {:.3} s ({:.1}% of the first)",
        again.transactions,
        second.as_secs_f64(),
        100.0 * second.as_secs_f64() / first.as_secs_f64()
    );
    let unbalanced = park.ledger.unbalanced().await.map_err(|e| e.0)?;
    println!("  unbalanced transactions: {}", unbalanced.len());
    if let Some(mib) = peak_rss_mib() {
        println!("  peak memory of the process (VmHWM, loading included): {mib:.0} MiB");
    }
    Ok(())
}

const CHUNK: usize = 1_000;

async fn load(park: &Park, b: &SettleBench) -> anyhow::Result<()> {
    let conn = park.db.write();
    let be = conn.get_database_backend();
    let one = |q: &str| sql(be, q, []);
    let signers =
        ids_of(conn, "SELECT id FROM organisations WHERE kind IN ('equity_partner', 'direct_team') ORDER BY id")
            .await?;
    let kinds: Vec<OrgKind> = {
        let mut out = Vec::new();
        for id in &signers {
            let row = conn
                .query_one_raw(sql(be, "SELECT kind FROM organisations WHERE id = $1", [(*id).into()]))
                .await?
                .context("a signer")?;
            let kind: String = row.try_get("", "kind")?;
            out.push(kind.parse().map_err(|_| anyhow::anyhow!("kind {kind}"))?);
        }
        out
    };
    let subs = ids_of(conn, "SELECT id FROM organisations WHERE kind = 'subcontract_partner' ORDER BY id").await?;
    let clients = ids_of(conn, "SELECT id FROM organisations WHERE kind = 'client' ORDER BY id").await?;
    let tax = ids_of(conn, "SELECT id FROM services WHERE code = 'TAX-PLAN'").await?;
    let erp = ids_of(conn, "SELECT id FROM services WHERE code = 'ERP-IMPL'").await?;
    let (Some(tax), Some(erp)) = (tax.first().copied(), erp.first().copied()) else {
        anyhow::bail!("the demo catalog lacks TAX-PLAN or ERP-IMPL");
    };
    if signers.is_empty() || subs.is_empty() || clients.is_empty() {
        anyhow::bail!("the demo park lacks signers, subcontract partners or clients");
    }
    let agreements: Vec<serde_json::Value> = kinds
        .iter()
        .map(|k| serde_json::to_value(snapshot("standard", 1, &standard_rules(), &Default::default(), *k, None)))
        .collect::<Result<_, _>>()?;

    let now = Utc::now();
    let today = now.date_naive();
    let (c0, l0, o0, s0, p0) = (
        max_id(conn, "contracts").await?,
        max_id(conn, "contract_lines").await?,
        max_id(conn, "orders").await?,
        max_id(conn, "subcontracts").await?,
        max_id(conn, "payments").await?,
    );
    let mut pid = p0;
    for start in (0..b.contracts).step_by(CHUNK) {
        let (mut contracts, mut lines, mut orders, mut subcontracts, mut payments) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in start..(start + CHUNK).min(b.contracts) {
            let cid = c0 + 1 + i as i64;
            let (l1, l2) = (l0 + 1 + 2 * i as i64, l0 + 2 + 2 * i as i64);
            let (o1, o2) = (o0 + 1 + 2 * i as i64, o0 + 2 + 2 * i as i64);
            let s = i % signers.len();
            let signer = signers[s];
            let client = clients[i % clients.len()];
            let first_year: i64 = 10_000_000 + (i as i64 % 50) * 100_000;
            let (a1, a2) = (first_year * 6 / 10, first_year - first_year * 6 / 10);
            let maintenance = first_year / 5 + 1;
            contracts.push(vec![
                cid.into(),
                format!("BS{cid:08}").into(),
                client.into(),
                signer.into(),
                today.into(),
                3i32.into(),
                first_year.into(),
                maintenance.into(),
                agreements[s].clone().into(),
                "active".into(),
                now.into(),
                now.into(),
                1i64.into(),
            ]);
            lines.push(vec![l1.into(), cid.into(), 1i32.into(), tax.into(), a1.into()]);
            lines.push(vec![l2.into(), cid.into(), 2i32.into(), erp.into(), a2.into()]);
            let subcontracted = i % 3 == 0;
            let winner = subs[i % subs.len()];
            let impl_status = match (subcontracted, i % 2 == 0) {
                (true, true) => "accepted",
                (true, false) => "in_progress",
                (false, _) => "new",
            };
            for (oid, lid, svc, cat, status, deliverer) in [
                (o1, l1, tax, "finance_tax", "new", None),
                (o2, l2, erp, "erp", impl_status, subcontracted.then_some(winner)),
            ] {
                orders.push(vec![
                    oid.into(),
                    format!("BS{cid:08}-{}", if oid == o1 { 1 } else { 2 }).into(),
                    cid.into(),
                    lid.into(),
                    client.into(),
                    signer.into(),
                    svc.into(),
                    cat.into(),
                    "zhejiang".into(),
                    "manufacturing".into(),
                    status.into(),
                    deliverer.into(),
                    (today + chrono::Duration::days(90)).into(),
                    if status == "accepted" { Some(now) } else { None }.into(),
                    now.into(),
                    now.into(),
                    deliverer.map(|_| 7000i32).into(),
                ]);
            }
            if subcontracted {
                subcontracts.push(vec![
                    (s0 + 1 + i as i64).into(),
                    o2.into(),
                    signer.into(),
                    erp.into(),
                    "erp".into(),
                    "zhejiang".into(),
                    "manufacturing".into(),
                    "cant_do".into(),
                    "first_claim".into(),
                    Some(7000i32).into(),
                    now.into(),
                    "awarded".into(),
                    winner.into(),
                    now.into(),
                    now.into(),
                ]);
            }
            // First-year money in quarters on each line, maintenance of years 2 and 3, and on
            // every tenth contract a refund of an eighth of the implementation line.
            for k in 0..b.payments_per_contract {
                let (line, stream, year, amount) = match k % 10 {
                    0..=3 => (l1, "first_year", 1, a1 / 4),
                    4..=7 => (l2, "first_year", 1, a2 / 4 + (k % 10 == 7) as i64 * (a2 % 4)),
                    8 => (l1, "maintenance", 2, maintenance),
                    _ if i % 10 == 0 => (l2, "first_year", 1, -(a2 / 8)),
                    _ => (l1, "maintenance", 3, maintenance / 3),
                };
                pid += 1;
                payments.push(vec![
                    pid.into(),
                    cid.into(),
                    line.into(),
                    stream.into(),
                    year.into(),
                    amount.into(),
                    today.into(),
                    format!("bench-{pid}").into(),
                    "bench".into(),
                    now.into(),
                ]);
            }
        }
        let txn = park.db.begin().await?;
        insert_rows(
            &txn,
            "contracts",
            &[
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
                "settle_rev",
            ],
            contracts,
        )
        .await?;
        insert_rows(&txn, "contract_lines", &["id", "contract_id", "line_no", "service_id", "amount_fen"], lines)
            .await?;
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
                "accepted_at",
                "created_at",
                "updated_at",
                "exec_share_bp",
            ],
            orders,
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
                "share_bp",
                "claim_deadline",
                "status",
                "winner_id",
                "awarded_at",
                "created_at",
            ],
            subcontracts,
        )
        .await?;
        insert_rows(
            &txn,
            "payments",
            &[
                "id",
                "contract_id",
                "line_id",
                "stream",
                "year",
                "amount_fen",
                "received_on",
                "idempotency_key",
                "request_hash",
                "created_at",
            ],
            payments,
        )
        .await?;
        txn.commit().await?;
    }
    after_load(conn, &["contracts", "contract_lines", "orders", "subcontracts", "payments"]).await?;
    if be != sea_orm::DbBackend::Postgres {
        conn.execute_raw(one("PRAGMA wal_checkpoint(TRUNCATE)")).await?;
    }
    Ok(())
}
