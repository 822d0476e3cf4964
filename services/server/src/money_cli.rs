//! `vpark payout` and `vpark statement`: payout runs and statements from the machine (as the
//! operator, audited as `system:cli`). Approval stays with two people in the console or API.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use kernel::{Fen, PageRequest};
use ledger::Period;
use ledger::statement::{self, AccountSummary};

use crate::park::Park;

#[derive(Subcommand, Debug)]
pub enum PayoutCommand {
    /// Put every payable balance at or above the minimum into the period's batch (it waits for
    /// approval by vendor finance in the console or the API).
    Run {
        /// The month, e.g. 2026-10 (park time, UTC+8).
        #[arg(long)]
        period: String,
        /// The smallest balance to pay, in yuan (default: ledger.payout_minimum).
        #[arg(long)]
        minimum: Option<String>,
    },
    /// List payout batches, newest first.
    List,
    /// Show a batch and its payees; --csv writes the bank file (UTF-8 with BOM).
    Show {
        id: i64,
        /// Write the batch as CSV to this file (`-` for standard output).
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
    },
}

fn app_err(e: platform::AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.0)
}

fn write_out(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        std::io::stdout().write_all(bytes)?;
    } else {
        std::fs::write(path, bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

pub async fn payout(park: &Park, cmd: PayoutCommand) -> anyhow::Result<()> {
    match cmd {
        PayoutCommand::Run { period, minimum } => {
            let period: Period = period.parse().map_err(|e: kernel::Error| anyhow::anyhow!("{e}"))?;
            let minimum =
                minimum.as_deref().map(Fen::parse_yuan).transpose().map_err(|e| anyhow::anyhow!("--minimum: {e}"))?;
            let b = park.ledger.run_payout(None, period, minimum, None).await.map_err(app_err)?.value;
            println!(
                "payout batch {} for {}: {} payees, {} CNY (cut-off {}); waiting for approval{}",
                b.payout.id,
                b.payout.period,
                b.payout.items,
                Fen::new(b.payout.total_fen).to_yuan(),
                b.payout.cutoff.with_timezone(&statement::park_offset()).format("%Y-%m-%d %H:%M"),
                if b.payout.dual_approval { " by two people" } else { "" }
            );
            for l in &b.lines {
                println!("  {:>6}  {:>14}  {}", l.party_id, l.amount.to_yuan(), l.party_name);
            }
        }
        PayoutCommand::List => {
            let page = PageRequest { limit: 200, ..Default::default() };
            let found = park.ledger.payouts(None, &page).await.map_err(app_err)?;
            println!("{:>5}  {:7}  {:16}  {:>6}  {:>14}", "id", "period", "status", "payees", "total");
            for p in found.items {
                println!(
                    "{:>5}  {:7}  {:16}  {:>6}  {:>14}",
                    p.id,
                    p.period,
                    p.status,
                    p.items,
                    Fen::new(p.total_fen).to_yuan()
                );
            }
        }
        PayoutCommand::Show { id, csv } => {
            let b = park.ledger.payout(None, id).await.map_err(app_err)?;
            match csv {
                Some(path) => {
                    let period: Period = b.payout.period.parse().map_err(|e: kernel::Error| anyhow::anyhow!("{e}"))?;
                    write_out(&path, &statement::payout_csv(b.payout.id, period, &b.lines)?)?;
                }
                None => {
                    println!(
                        "payout batch {} for {}: {}, {} CNY",
                        b.payout.id,
                        b.payout.period,
                        b.payout.status,
                        Fen::new(b.payout.total_fen).to_yuan()
                    );
                    for l in &b.lines {
                        println!("  {:>6}  {:>14}  {}", l.party_id, l.amount.to_yuan(), l.party_name);
                    }
                }
            }
        }
    }
    Ok(())
}

fn summary_line(s: &AccountSummary) -> String {
    format!(
        "opening {} · allocations {} · clawbacks {} · adjustments {} · releases {} · payouts {} · closing {}",
        s.opening.to_yuan(),
        s.allocations.to_yuan(),
        s.clawbacks.to_yuan(),
        s.adjustments.to_yuan(),
        s.releases.to_yuan(),
        s.payouts.to_yuan(),
        s.closing.to_yuan()
    )
}

/// `vpark statement`: every party's statement figures of a period, or one party's statement
/// (printed, or as CSV).
pub async fn statement(park: &Park, period: &str, party: Option<i64>, csv: Option<PathBuf>) -> anyhow::Result<()> {
    let period: Period = period.parse().map_err(|e: kernel::Error| anyhow::anyhow!("{e}"))?;
    match party {
        None => {
            if csv.is_some() {
                anyhow::bail!("--csv needs --party: a CSV holds one party's statement");
            }
            for s in park.ledger.statements(None, period).await.map_err(app_err)? {
                println!("{} {} ({}, {})", s.party_id, s.party_name, s.party_kind, s.period);
                println!("  payable: {}", summary_line(&s.payable));
                if !s.held.is_empty() {
                    println!("  held:    {}", summary_line(&s.held));
                }
            }
        }
        Some(id) => {
            let statement = park.ledger.statement(None, id, period).await.map_err(app_err)?;
            match csv {
                Some(path) => write_out(&path, &statement::statement_csv(&statement)?)?,
                None => {
                    let s = &statement.summary;
                    println!(
                        "statement of {} {} for {}{}",
                        s.party_id,
                        s.party_name,
                        s.period,
                        if s.closed { "" } else { " (the period is still open)" }
                    );
                    println!("  payable: {}", summary_line(&s.payable));
                    println!("  held:    {}", summary_line(&s.held));
                    for l in &statement.lines {
                        println!(
                            "  {}  {:10}  {:8}  {:>14}  {} {}",
                            l.at.with_timezone(&statement::park_offset()).format("%Y-%m-%d %H:%M"),
                            l.kind.as_str(),
                            l.account.as_str(),
                            l.amount.to_yuan(),
                            l.contract_no.as_deref().unwrap_or(""),
                            l.line_no.map(|n| format!("line {n}")).unwrap_or_default()
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
