//! The `vpark` command line.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use identity::app::{InitialPassword, NewUser};
use kernel::{Email, Locale, Password, Role, SystemClock};
use tracing::{info, warn};

use crate::config::Settings;
use crate::park::{self, Park};
use crate::seed;

/// vpark — the virtual industrial park (虚拟产业园) for enterprise services.
///
/// With no configuration, vpark keeps its data in ./var/vpark.db (SQLite), writes e-mails as
/// files into ./var/mail and serves on http://127.0.0.1:8080. Set DATABASE_URL=postgres://… to
/// run on PostgreSQL. Every setting can come from a TOML file (--config) or an environment
/// variable VPARK__SECTION__KEY; see the README.
#[derive(Parser, Debug)]
#[command(name = "vpark", version, about, long_about)]
pub struct Cli {
    /// A TOML configuration file (also: VPARK_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the park: migrate, load the demo park into an empty database, serve API, docs and
    /// console until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo park into an empty database (does nothing if the park has data).
    Seed,
    /// Start a real park: create the vendor organisation and its first platform admin (password
    /// read from standard input, or prompted for). Only on a database without a vendor.
    Init {
        /// The vendor's Chinese name.
        #[arg(long)]
        vendor: String,
        /// The vendor's English name.
        #[arg(long)]
        vendor_en: Option<String>,
        /// Regions the vendor serves, e.g. --region zhejiang (repeat for several).
        #[arg(long = "region", required = true)]
        regions: Vec<String>,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_name: String,
    },
    /// Settle every contract whose money moved: post the shares of new payments, releases on
    /// acceptance and re-splits on cancellation to the ledger. Idempotent and safe to
    /// interrupt: each batch of contracts commits on its own, and a second run posts nothing.
    Settle,
    /// Payout runs: put the period's payable balances into a batch, list and export batches.
    #[command(subcommand)]
    Payout(crate::money_cli::PayoutCommand),
    /// Statements of a period: every party's figures, or one party's statement (--csv for
    /// Excel: UTF-8 with BOM).
    Statement {
        /// The month, e.g. 2026-10 (park time, UTC+8).
        #[arg(long)]
        period: String,
        /// The party (organisation id); without it, every party's figures.
        #[arg(long, value_name = "ORG_ID")]
        party: Option<i64>,
        /// Write the party's statement as CSV to this file (`-` for standard output).
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
    },
    /// The daily credential sweep, now: credentials within 30 days of expiry become expiring,
    /// past it expired (holders and their administrators are mailed), and every credential whose
    /// requirements are met is earned or renewed. Safe beside running servers.
    SweepCredentials,
    /// Recompute partner tiers for a month that has ended (default: the month just ended): each
    /// partner's scorecard over its trailing twelve months, tier changes audited and mailed.
    /// Partners already assessed for the period are left as they are.
    RecomputeTiers {
        /// The month, YYYY-MM.
        #[arg(long)]
        period: Option<String>,
    },
    /// Compare the deliverer counters the database keeps (busy orders, deliveries, on time,
    /// ratings, stars: what ranking and eligibility read) with a fresh count of the orders and
    /// ratings. Exits non-zero when they differ; --repair rebuilds them (audited). Safe beside
    /// running servers.
    CheckCounters {
        /// Rebuild the counters when they differ.
        #[arg(long)]
        repair: bool,
    },
    /// Print the OpenAPI specification (JSON) of this build.
    ExportOpenapi {
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Manage user accounts from the machine (as the operator, audited as `system:cli`).
    #[command(subcommand)]
    User(UserCommand),
    /// Benchmarks that load a large park into a fresh database and print their figures.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Pool listing and recommendation latency (p50/p99) and claim throughput, over the HTTP
    /// stack, with 100,000 orders and 5,000 open subcontracts over 50 partners by default.
    /// Needs an empty database: DATABASE_URL=sqlite:///tmp/bench.db?mode=rwc or a fresh
    /// PostgreSQL database.
    Marketplace(crate::bench::MarketplaceBench),
    /// Settlement throughput and memory: loads unsettled payments over contracts (100,000
    /// contracts × 10 payments by default) into an empty database, settles them, settles again.
    Settle(crate::bench_settle::SettleBench),
    /// Success metrics by partner for twelve months (p50/p99), a full tier recomputation and the
    /// daily credential sweep, with 100,000 orders, 20,000 clients, 5,000 implementers and 200 partners by default.
    Success(crate::bench_success::SuccessBench),
    /// The console's reads side by side: requests per second, p50 and p99 at 16 connections
    /// for /healthz, /me, an order, a page of orders (ops and a partner), the pool and a
    /// contract's ledger entries, with 100,000 orders by default. Needs an empty database.
    Reads(crate::bench_reads::ReadsBench),
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080 (overrides server.listen).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Do not load the demo park, even into an empty database.
    #[arg(long)]
    no_seed: bool,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user with a password read from standard input (or prompted for).
    Add {
        #[arg(long)]
        email: String,
        /// The id of the user's organisation.
        #[arg(long, value_name = "ORG_ID")]
        org: i64,
        /// The display name.
        #[arg(long)]
        name: String,
        /// A role (repeat for several), e.g. --role vendor_ops.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// zh-CN or en.
        #[arg(long, default_value = "zh-CN")]
        locale: String,
        /// Send an invitation e-mail instead of setting a password.
        #[arg(long)]
        invite: bool,
    },
    /// Set a user's password (read from standard input, or prompted for); ends their sessions.
    Passwd {
        #[arg(long)]
        email: String,
    },
    /// Replace a user's roles.
    Roles {
        #[arg(long)]
        email: String,
        /// A role (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(&settings.log);
    match cli.command {
        Command::Serve(args) => {
            if let Some(listen) = args.listen {
                settings.server.listen = listen;
                settings.validate()?;
            }
            if args.no_seed {
                settings.demo.seed_on_empty = false;
            }
            serve(settings).await
        }
        Command::Bench(BenchCommand::Marketplace(b)) => crate::bench::run(settings, b).await,
        Command::Bench(BenchCommand::Settle(b)) => crate::bench_settle::run(settings, b).await,
        Command::Bench(BenchCommand::Success(b)) => crate::bench_success::run(settings, b).await,
        Command::Bench(BenchCommand::Reads(b)) => crate::bench_reads::run(settings, b).await,
        Command::Settle => {
            let park = Park::open(settings, Arc::new(SystemClock)).await?;
            settle(&park).await
        }
        Command::SweepCredentials => {
            let park = Park::open(settings, Arc::new(SystemClock)).await?;
            let r = park.certifications.sweep().await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
            println!(
                "credential sweep: {} now expiring, {} expired, {} back to earned, {} earned or renewed",
                r.expiring, r.expired, r.back_to_earned, r.earned
            );
            park.db.clone().close().await;
            Ok(())
        }
        Command::RecomputeTiers { period } => {
            let park = Park::open(settings, Arc::new(SystemClock)).await?;
            let r = park
                .success
                .recompute_system("cli", period.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.0))?;
            println!(
                "tiers of {}: {} partners assessed, {} changed tier, {} already assessed",
                r.period, r.assessed, r.changed, r.already_assessed
            );
            park.db.clone().close().await;
            Ok(())
        }
        Command::CheckCounters { repair } => {
            let park = Park::open(settings, Arc::new(SystemClock)).await?;
            let drift =
                park.marketplace.check_deliverer_counters(repair).await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
            park.db.clone().close().await;
            for d in &drift {
                let figures = |s: &marketplace::store::DelivererStats| {
                    [
                        ("busy", s.busy),
                        ("delivered", s.delivered),
                        ("on time", s.on_time),
                        ("ratings", s.quality.ratings),
                        ("stars", s.quality.stars),
                    ]
                };
                let differing: Vec<String> = figures(&d.kept)
                    .into_iter()
                    .zip(figures(&d.counted))
                    .filter(|((_, kept), (_, counted))| kept != counted)
                    .map(|((name, kept), (_, counted))| format!("{name} {kept} kept, {counted} counted"))
                    .collect();
                println!("organisation {}: {}", d.org_id, differing.join("; "));
            }
            match (drift.len(), repair) {
                (0, _) => {
                    println!("deliverer counters: every organisation matches a fresh count");
                    Ok(())
                }
                (n, true) => {
                    println!("deliverer counters: {n} organisation(s) differed; rebuilt from the orders and ratings");
                    Ok(())
                }
                (n, false) => anyhow::bail!("deliverer counters: {n} organisation(s) differ; run with --repair"),
            }
        }
        Command::Payout(cmd) => {
            let park = Park::open(settings, Arc::new(SystemClock)).await?;
            let done = crate::money_cli::payout(&park, cmd).await;
            park.db.clone().close().await;
            done
        }
        Command::Statement { period, party, csv } => {
            let park = Park::open(settings, Arc::new(SystemClock)).await?;
            let done = crate::money_cli::statement(&park, &period, party, csv).await;
            park.db.clone().close().await;
            done
        }
        Command::Migrate => {
            Park::open(settings, Arc::new(SystemClock)).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed => {
            let park = Park::open(settings, Arc::new(SystemClock)).await?;
            match seed::seed_demo(&park).await? {
                Some(r) => println!(
                    "demo park loaded: {} organisations, {} users, {} certifications, {} services, {} credentials, \
                     {} contracts with {} orders, {} payments, {} approved payout in {} ms",
                    r.organisations,
                    r.users,
                    r.certifications,
                    r.services,
                    r.credentials,
                    r.contracts,
                    r.orders,
                    r.payments,
                    r.payouts,
                    r.millis
                ),
                None => println!("the park already has data; the demo park is only loaded into an empty database"),
            }
            Ok(())
        }
        Command::Init { vendor, vendor_en, regions, admin_email, admin_name } => {
            let park = Park::open(settings, Arc::new(SystemClock)).await?;
            if park.directory.vendor().await.map_err(|e| anyhow::anyhow!("{}", e.0))?.is_some() {
                anyhow::bail!("this park already has its vendor; use `vpark user add` for more users");
            }
            let email = Email::parse(&admin_email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = read_password()?;
            let profile = directory::domain::Profile {
                kind: kernel::OrgKind::Vendor,
                name_zh: vendor,
                name_en: vendor_en,
                credit_code: None,
                parent_id: None,
                equity_stake: None,
                regions,
                industries: Vec::new(),
                categories: Vec::new(),
                capacity: None,
                tier: None,
                status: directory::domain::OrgStatus::Active,
                contact_name: None,
                contact_phone: None,
                contact_email: None,
            };
            let org = park.directory.create_org_system("cli", profile).await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
            let new = NewUser {
                org_id: Some(org.id),
                email,
                display_name: admin_name,
                phone: None,
                locale: Locale::ZhCn,
                roles: vec![Role::PlatformAdmin],
                password: InitialPassword::Plain(password),
            };
            let d =
                park.identity.create_user_system("cli", org.id, new).await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
            println!(
                "the park is ready: vendor {} (organisation {}), platform admin {}",
                org.profile.name_zh, org.id, d.user.email
            );
            park.db.clone().close().await;
            Ok(())
        }
        Command::ExportOpenapi { out } => {
            let spec = export_openapi().await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, spec).with_context(|| format!("cannot write {}", path.display()))?
                }
                None => println!("{spec}"),
            }
            Ok(())
        }
        Command::User(cmd) => user(settings, cmd).await,
    }
}

/// The spec of this build, from a throwaway park (no configuration, no data).
pub async fn export_openapi() -> anyhow::Result<String> {
    let dir = std::env::temp_dir().join(format!("vpark-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut settings = Settings::default();
    settings.database.url = format!("sqlite://{}?mode=rwc", dir.join("spec.db").display());
    let park = Park::open(settings, Arc::new(SystemClock)).await?;
    let spec = park.spec_json();
    park.db.clone().close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(spec)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let started = Instant::now();
    info!(settings = ?settings, "starting vpark");
    let park = Park::open(settings, Arc::new(SystemClock)).await?;
    if park.settings.demo.seed_on_empty
        && let Some(r) = seed::seed_demo(&park).await?
    {
        info!(
            organisations = r.organisations,
            users = r.users,
            millis = r.millis,
            "demo park loaded into the empty database"
        );
    }
    if park.has_demo_accounts().await {
        warn!(
            "demo accounts (*{}, password `{}`) exist: never expose this park publicly",
            seed::DEMO_DOMAIN,
            seed::DEMO_PASSWORD
        );
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = if park.settings.mail.worker {
        let outbox = park.outbox()?;
        let mut rx = stop_rx.clone();
        Some(tokio::spawn(async move {
            outbox
                .run(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await;
        }))
    } else {
        None
    };
    let sweeps = tokio::spawn(park.sweeps(stop_rx.clone()));
    let acceptor = park::bind(park.settings.server.listen.clone()).await?;
    let url = park.settings.public_url();
    info!(
        ready_ms = started.elapsed().as_millis() as u64,
        "vpark is ready: {url}/ (API docs: {url}/docs, spec: {url}/openapi.json)"
    );
    let shutdown = async move {
        shutdown_signal().await;
        info!("shutting down: finishing requests in flight");
        let _ = stop_tx.send(true);
    };
    park::serve(&park, acceptor, shutdown).await?;
    if let Some(w) = worker {
        let _ = w.await;
    }
    let _ = sweeps.await;
    park.db.clone().close().await;
    info!("vpark stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

fn parse_roles(names: &[String]) -> anyhow::Result<Vec<Role>> {
    names.iter().map(|n| n.parse::<Role>().map_err(|_| anyhow::anyhow!("unknown role {n:?}"))).collect()
}

fn read_password() -> anyhow::Result<Password> {
    let text = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let second = rpassword::prompt_password("Repeat it: ")?;
        if first != second {
            anyhow::bail!("the passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    Password::new_chosen(&text).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn user(settings: Settings, cmd: UserCommand) -> anyhow::Result<()> {
    let park = Park::open(settings, Arc::new(SystemClock)).await?;
    match cmd {
        UserCommand::Add { email, org, name, roles, locale, invite } => {
            let password = if invite { InitialPassword::Invite } else { InitialPassword::Plain(read_password()?) };
            let new = NewUser {
                org_id: Some(org),
                email: Email::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?,
                display_name: name,
                phone: None,
                locale: Locale::parse(&locale).map_err(|e| anyhow::anyhow!("{e}"))?,
                roles: parse_roles(&roles)?,
                password,
            };
            let d = park.identity.create_user_system("cli", org, new).await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
            println!("created user {} ({}) in {} with roles {:?}", d.user.id, d.user.email, d.org.name_zh, d.roles);
            if invite {
                println!("an invitation e-mail is queued; it is sent while `vpark serve` runs");
            }
        }
        UserCommand::Passwd { email } => {
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = read_password()?;
            park.identity.set_password_system(&email, password).await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
            println!("password set for {email}; their sessions have ended");
        }
        UserCommand::Roles { email, roles } => {
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let d = park
                .identity
                .set_roles_system(&email, &parse_roles(&roles)?)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.0))?;
            println!("{} now has roles {:?}", d.user.email, d.roles);
        }
    }
    park.db.clone().close().await;
    Ok(())
}

async fn settle(park: &Park) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let waiting = park.ledger.unsettled_contracts().await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
    let bar = indicatif::ProgressBar::new(waiting);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} settling [{bar:40}] {pos}/{len} contracts ({per_sec}, {eta})",
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .progress_chars("=> "),
    );
    if std::env::var_os("CI").is_some() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let done = park.ledger.settle_all(None, &|n| bar.inc(n)).await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "settled {} contracts: {} payments, {} transactions, {} entries in {:.2} s",
        done.contracts, done.payments, done.transactions, done.entries, secs
    );
    let unbalanced = park.ledger.unbalanced().await.map_err(|e| anyhow::anyhow!("{}", e.0))?;
    if !unbalanced.is_empty() {
        anyhow::bail!("{} ledger transactions do not balance (first: {})", unbalanced.len(), unbalanced[0]);
    }
    Ok(())
}
