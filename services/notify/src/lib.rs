//! E-mail notifications through a transactional outbox.
//!
//! A notification is a row in `notifications`, written in the same transaction as the change
//! that causes it (`enqueue_in`): no e-mail for a change that rolled back, no change without its
//! e-mail. A worker (`Outbox`) takes due rows — `FOR UPDATE SKIP LOCKED` on PostgreSQL, inside
//! an `IMMEDIATE` transaction on SQLite — marks them `sending` with a lease, renders the
//! template in the recipient's locale, and sends through lettre (SMTP, or files in a folder).
//! Failures are retried with exponential backoff until `max_attempts`, then the row is `dead`.
//! Several replicas never take the same row; a crash mid-send lets the lease expire and the row
//! is retried (at-least-once, with a stable `Message-ID` so a duplicate is recognisable).

pub mod app;
pub mod domain;
pub mod http;
pub mod mailer;
pub mod store;
pub mod templates;
pub mod worker;

pub use domain::{Notification, Recipient, Template};
pub use mailer::{Mailer, MailerConfig};
pub use store::{enqueue_in, enqueue_many_in};
pub use templates::Templates;
pub use worker::{Outbox, OutboxConfig};
