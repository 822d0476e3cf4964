//! The money (DESIGN §5): payments received from clients and refunded to them, the settlement
//! that splits them among the vendor, the signing channel partner and the subcontractor, and the
//! double-entry ledger it posts to.
//!
//! `domain` holds the settlement calculation and `statement` periods, payout batches and
//! statements, as plain functions over plain types (no I/O); `store`
//! the tables and set-based queries; `app` the use cases, each one transaction with its audit
//! events and notifications; `http` the API.

pub mod app;
pub mod contract_money;
pub mod domain;
pub mod http;
pub mod payouts;
pub mod payouts_http;
pub mod statement;
pub mod store;

pub use app::Ledger;
pub use statement::{PayoutRules, Period};
