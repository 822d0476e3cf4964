//! Settings, in layers: built-in defaults, then an optional TOML file (`--config FILE` or
//! `VPARK_CONFIG`), then environment variables `VPARK__SECTION__KEY` (and the conventional
//! `DATABASE_URL`). Validated at start-up: a bad setting stops the process with a message that
//! names it. Secrets (database and SMTP passwords) are redacted whenever settings are printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub mail: MailSettings,
    pub auth: AuthSettings,
    pub policy: PolicySettings,
    pub demo: DemoSettings,
    pub log: LogSettings,
    pub marketplace: MarketplaceSettings,
    pub ledger: LedgerSettings,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on (API, docs, console).
    pub listen: String,
    /// The URL users reach the park at (links in e-mails). Defaults to http://<listen>.
    pub public_url: Option<String>,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Longest time a graceful shutdown waits for requests in flight.
    pub shutdown_grace_s: u64,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH?mode=rwc` or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    pub url: String,
    /// PostgreSQL pool size / SQLite reader connections.
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
    pub busy_timeout_ms: u64,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// SMTP server: `smtp://host:25`, `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://user:pass@host:465`. Unset: e-mails are written as .eml files into `dir`.
    pub smtp_url: Option<String>,
    pub dir: PathBuf,
    pub from: String,
    pub timeout_ms: u64,
    pub poll_interval_ms: u64,
    pub max_attempts: i32,
    pub backoff_base_ms: u64,
    pub backoff_max_s: u64,
    /// Messages a worker leases per round.
    pub batch_size: u64,
    /// Run the outbox worker in this process.
    pub worker: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub session_ttl_minutes: i64,
    pub invite_ttl_hours: i64,
    pub reset_ttl_minutes: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySettings {
    /// Use these files instead of the model and policy built into the binary.
    pub model_file: Option<PathBuf>,
    pub policy_file: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Load the demo park when the database has no organisation.
    pub seed_on_empty: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketplaceSettings {
    /// Weights of the recommendation score (non-negative integers; the score is their
    /// weighted mean).
    pub weights: marketplace::domain::Weights,
    /// Hours the winner of a subcontract has to assign a certified implementer before the
    /// order goes back to the pool.
    pub assign_within_hours: i64,
    /// Seconds between two runs of the marketplace sweeps (lapsed winners, overdue milestones).
    pub sweep_interval_s: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSettings {
    /// The smallest payable balance a payout run pays out (yuan, a decimal string); smaller
    /// balances wait for the next period.
    pub payout_minimum: String,
    /// A payout batch above this total (yuan) needs the approval of two different people.
    pub dual_approval_above: String,
    /// Batches `vpark settle` posts at the same time on PostgreSQL (SQLite has one writer).
    pub settle_workers: usize,
}

impl LedgerSettings {
    pub fn rules(&self) -> anyhow::Result<ledger::PayoutRules> {
        let amount = |name: &str, v: &str| {
            kernel::Fen::parse_yuan(v)
                .ok()
                .filter(|f| !f.is_negative())
                .ok_or_else(|| anyhow::anyhow!("ledger.{name} must be a non-negative amount in yuan (got {v:?})"))
        };
        Ok(ledger::PayoutRules {
            minimum: amount("payout_minimum", &self.payout_minimum)?,
            dual_approval_above: amount("dual_approval_above", &self.dual_approval_above)?,
        })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter (`info`, `vpark=debug,sqlx=warn`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings {
                listen: "127.0.0.1:8080".into(),
                public_url: None,
                body_limit_bytes: 1024 * 1024,
                shutdown_grace_s: 20,
            },
            database: DatabaseSettings {
                url: "sqlite://var/vpark.db?mode=rwc".into(),
                max_connections: 8,
                acquire_timeout_ms: 10_000,
                busy_timeout_ms: 5_000,
            },
            mail: MailSettings {
                smtp_url: None,
                dir: PathBuf::from("var/mail"),
                from: "vpark <noreply@vpark.local>".into(),
                timeout_ms: 30_000,
                poll_interval_ms: 2_000,
                max_attempts: 8,
                backoff_base_ms: 30_000,
                backoff_max_s: 3_600,
                batch_size: 20,
                worker: true,
            },
            auth: AuthSettings { session_ttl_minutes: 12 * 60, invite_ttl_hours: 7 * 24, reset_ttl_minutes: 60 },
            policy: PolicySettings { model_file: None, policy_file: None },
            demo: DemoSettings { seed_on_empty: true },
            log: LogSettings { format: "text".into(), level: "info".into() },
            marketplace: MarketplaceSettings {
                weights: marketplace::domain::Weights::default(),
                assign_within_hours: 48,
                sweep_interval_s: 60,
            },
            ledger: LedgerSettings {
                payout_minimum: "100.00".into(),
                dual_approval_above: "50000.00".into(),
                settle_workers: 3,
            },
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("server", &self.server)
            .field("database.url", &platform::db::redact_url(&self.database.url))
            .field("database.max_connections", &self.database.max_connections)
            .field("mail.smtp_url", &self.mail.smtp_url.as_deref().map(platform::db::redact_url))
            .field("mail.dir", &self.mail.dir)
            .field("mail.from", &self.mail.from)
            .field("auth", &self.auth)
            .field("policy", &self.policy)
            .field("demo", &self.demo)
            .field("log", &self.log)
            .field("marketplace", &self.marketplace)
            .field("ledger", &self.ledger)
            .finish()
    }
}

impl Settings {
    /// Loads the layers. `file` is the `--config` argument, if any.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        let file = file.map(Path::to_path_buf).or_else(|| std::env::var_os("VPARK_CONFIG").map(PathBuf::from));
        if let Some(path) = &file {
            if !path.exists() {
                anyhow::bail!("configuration file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(Env::prefixed("VPARK__").split("__").lowercase(true));
        if let Ok(url) = std::env::var("DATABASE_URL") {
            fig = fig.merge(Serialized::default("database.url", url));
        }
        let settings: Settings = fig.extract().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        if self.marketplace.weights.total() == 0 {
            anyhow::bail!("marketplace.weights: at least one weight must be above zero");
        }
        if !(1..=24 * 30).contains(&self.marketplace.assign_within_hours) {
            anyhow::bail!("marketplace.assign_within_hours must be between 1 and 720");
        }
        self.ledger.rules()?;
        if !(1..=16).contains(&self.ledger.settle_workers) {
            anyhow::bail!("ledger.settle_workers must be between 1 and 16");
        }
        if self.marketplace.sweep_interval_s == 0 {
            anyhow::bail!("marketplace.sweep_interval_s must be above zero");
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            anyhow::bail!(
                "database.url must start with sqlite:// or postgres:// (got {:?})",
                platform::db::redact_url(url)
            );
        }
        if self.database.max_connections == 0 {
            anyhow::bail!("database.max_connections must be at least 1");
        }
        if self.server.body_limit_bytes < 1024 {
            anyhow::bail!("server.body_limit_bytes must be at least 1024");
        }
        if !(1..=1000).contains(&self.mail.batch_size) {
            anyhow::bail!("mail.batch_size must be between 1 and 1000");
        }
        if !(1..=100).contains(&self.mail.max_attempts) {
            anyhow::bail!("mail.max_attempts must be between 1 and 100");
        }
        if self.auth.session_ttl_minutes < 1 || self.auth.invite_ttl_hours < 1 || self.auth.reset_ttl_minutes < 1 {
            anyhow::bail!("auth lifetimes must be positive");
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            anyhow::bail!("log.format must be \"text\" or \"json\"");
        }
        if let Some(u) = &self.server.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            anyhow::bail!("server.public_url must start with http:// or https://");
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.server.listen.parse().map_err(|_| {
            anyhow::anyhow!("server.listen {:?} is not an address like 127.0.0.1:8080", self.server.listen)
        })
    }

    pub fn public_url(&self) -> String {
        self.server.public_url.clone().unwrap_or_else(|| format!("http://{}", self.server.listen))
    }

    pub fn db_config(&self) -> platform::db::DbConfig {
        platform::db::DbConfig {
            url: self.database.url.clone(),
            max_connections: self.database.max_connections,
            acquire_timeout: Duration::from_millis(self.database.acquire_timeout_ms),
            busy_timeout: Duration::from_millis(self.database.busy_timeout_ms),
        }
    }

    /// Creates the folder of a SQLite file if it does not exist yet.
    pub fn prepare_sqlite_dir(&self) -> anyhow::Result<()> {
        if let Some(rest) = self.database.url.strip_prefix("sqlite://") {
            let path = rest.split('?').next().unwrap_or_default();
            if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| anyhow::anyhow!("cannot create the database folder {}: {e}", parent.display()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().unwrap();
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let mut s = Settings::default();
        s.database.url = "postgres://vpark:hunter2@db/vpark".into();
        s.mail.smtp_url = Some("smtps://mailer:s3cret@smtp.example.com:465".into());
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://vpark:***@db/vpark"));
    }

    #[test]
    fn bad_settings_are_named() {
        let mut s = Settings::default();
        s.server.listen = "localhost".into();
        assert!(s.validate().unwrap_err().to_string().contains("server.listen"));
        let mut s = Settings::default();
        s.database.url = "mysql://x".into();
        assert!(s.validate().unwrap_err().to_string().contains("database.url"));
        for workers in [0, 17] {
            let mut s = Settings::default();
            s.ledger.settle_workers = workers;
            assert!(s.validate().unwrap_err().to_string().contains("ledger.settle_workers"));
        }
    }
}
