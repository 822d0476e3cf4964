//! The marketplace: contracts, orders and their dispatch, recommendations, the subcontract pool
//! with claims and tenders, delivery, acceptance and ratings (DESIGN §4).
//!
//! `domain` holds the rules as plain functions (the lifecycle, eligibility, ranking, quality
//! scores); `store` the tables and queries; `app` the use cases, each one transaction with its
//! audit events and notifications; `http` the API.

pub mod app;
mod claims;
pub mod domain;
pub mod http;
pub mod store;

pub use app::{MarketConfig, Marketplace};
