//! Runtime plumbing shared by every area of vpark.
//!
//! - `db`: the database handle — a reader pool and a writer pool (one connection on SQLite, so
//!   writers queue fairly instead of spinning on `SQLITE_BUSY`), write transactions that start
//!   `IMMEDIATE` on SQLite, portable constraint-violation checks.
//! - `access`: who is calling (`Principal`), what the policy granted (`Permit`) and how a record
//!   relates to the caller — the inputs of every authorization decision.
//! - `http`: the one error shape of the API and the one mapping from outcomes to statuses, the
//!   bearer-token security scheme, request ids, pagination parameters.
//! - `audit`: the append-only audit trail, written in the transaction of the change it records.
//! - `group_commit` and `batch`: on SQLite, write work waiting at the same moment shares one
//!   transaction; requests of one hot kind are written with one statement per table.

pub mod access;
pub mod api_types;
pub mod audit;
pub mod batch;
pub mod db;
pub mod error;
pub mod group_commit;
pub mod http;
pub mod idempotency;
pub mod json;
pub mod scope;

pub use access::{Actor, Owner, Permit, PolicyTable, Principal, Scope};
pub use db::Db;
pub use error::{AppError, AppResult, finish};
