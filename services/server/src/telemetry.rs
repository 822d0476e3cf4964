//! Structured logs with `tracing`: human-readable text by default, JSON lines for log shippers.
//! `RUST_LOG` overrides the configured level. Request logs carry the request id; nothing logs
//! passwords, tokens or request bodies.

use tracing_subscriber::EnvFilter;

use crate::config::LogSettings;

pub fn init(log: &LogSettings) {
    // The database driver's own notices ("relation already exists, skipping") are noise at info.
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(format!("{},sqlx=warn,sea_orm_migration=warn", log.level)))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = if log.format == "json" {
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.try_init()
    };
}
