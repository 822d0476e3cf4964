//! The outbox worker: lease due rows, render, send, record the outcome.

use std::sync::Arc;
use std::time::Duration;

use kernel::{Clock, Locale};
use platform::Db;
use tracing::{debug, info, warn};

use crate::domain::{AfterFailure, Template, after_failure};
use crate::mailer::{Mailer, SendError, build_message};
use crate::store::{self, Leased};
use crate::templates::Templates;

#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// How often the worker looks for due rows when the queue is idle.
    pub poll_interval: Duration,
    /// Rows leased per round.
    pub batch_size: u64,
    /// Attempts before a message is `dead`.
    pub max_attempts: i32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long a leased row stays with its worker; after that another worker may retry it.
    pub lease: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            poll_interval: Duration::from_secs(2),
            batch_size: 20,
            max_attempts: 8,
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            lease: Duration::from_secs(600),
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
}

impl Round {
    pub fn leased(&self) -> usize {
        self.sent + self.retrying + self.dead
    }
}

pub struct Outbox {
    db: Db,
    mailer: Mailer,
    templates: Arc<Templates>,
    clock: Arc<dyn Clock>,
    config: OutboxConfig,
}

impl Outbox {
    pub fn new(db: Db, mailer: Mailer, templates: Arc<Templates>, clock: Arc<dyn Clock>, config: OutboxConfig) -> Self {
        Outbox { db, mailer, templates, clock, config }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Runs until `shutdown` resolves: rounds back to back while there is work, otherwise one
    /// round per poll interval. A database outage is logged and retried, never fatal.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        info!(mailer = %self.mailer.describe(), "outbox worker started");
        tokio::pin!(shutdown);
        loop {
            let busy = match self.round().await {
                Ok(round) => round.leased() as u64 >= self.config.batch_size,
                Err(e) => {
                    warn!(error = %e, "outbox round failed; retrying after the poll interval");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        info!("outbox worker stopped");
    }

    /// Leases one batch of due rows and processes it.
    pub async fn round(&self) -> Result<Round, sea_orm::DbErr> {
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::minutes(10));
        let rows = store::lease_due(&self.db, now, now + lease, self.config.batch_size).await?;
        let mut round = Round::default();
        for row in rows {
            match self.deliver(&row).await {
                Ok(()) => {
                    let scrubbed = scrub(&row);
                    store::mark_sent(&self.db, row.id, self.clock.now(), scrubbed).await?;
                    debug!(id = row.id, template = %row.template, "notification sent");
                    round.sent += 1;
                }
                Err(err) => {
                    let decision = after_failure(
                        row.attempts,
                        self.config.max_attempts,
                        err.is_permanent(),
                        self.config.backoff_base,
                        self.config.backoff_max,
                    );
                    let retry_at = match decision {
                        AfterFailure::RetryIn(d) => {
                            round.retrying += 1;
                            Some(self.clock.now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1)))
                        }
                        AfterFailure::GiveUp => {
                            round.dead += 1;
                            None
                        }
                    };
                    warn!(
                        id = row.id,
                        attempts = row.attempts,
                        dead = retry_at.is_none(),
                        error = err.message(),
                        "notification not sent"
                    );
                    store::mark_failed(&self.db, row.id, retry_at, err.message()).await?;
                }
            }
        }
        Ok(round)
    }

    async fn deliver(&self, row: &Leased) -> Result<(), SendError> {
        let template: Template =
            row.template.parse().map_err(|_| SendError::Permanent(format!("unknown template {:?}", row.template)))?;
        let locale = Locale::parse(&row.locale).unwrap_or_default();
        let rendered = self
            .templates
            .render(template, locale, &row.recipient_name, &row.payload)
            .map_err(|e| SendError::Permanent(format!("template {} does not render: {e}", row.template)))?;
        let message = build_message(
            self.mailer.from_mailbox(),
            &row.recipient_email,
            &row.recipient_name,
            &row.message_id,
            &rendered.subject,
            rendered.text,
            rendered.html,
        )?;
        self.mailer.send(message).await
    }
}

/// The payload without its secrets, kept once the message has gone.
fn scrub(row: &Leased) -> serde_json::Value {
    let mut payload = row.payload.clone();
    if let (Ok(template), Some(map)) = (row.template.parse::<Template>(), payload.as_object_mut()) {
        for key in template.secret_keys() {
            if map.contains_key(*key) {
                map.insert((*key).to_owned(), serde_json::Value::String("(sent)".into()));
            }
        }
    }
    payload
}
