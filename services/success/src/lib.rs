//! Customer success: the outcome milestones clients reach (高新技术企业, 专精特新, listing …)
//! with evidence and vendor verification, the organisations each success is credited to, and
//! the metrics a chain operation lives by — success, repeat-sign, deep-sign and renewal rates,
//! ratings, time to first acceptance, on-time delivery, cash flow.

pub mod app;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod scorecards;
pub mod store;
pub mod tiers;
pub mod tiers_http;

pub use app::Success;
