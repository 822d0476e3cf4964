//! The directory of the park: organisations of every kind — the vendor, its direct teams, equity
//! partners (with the vendor's stake), subcontract partners and clients — with the regions,
//! industries and service categories they serve, their capacity, tier and status; and the
//! service catalog (bilingual names, category, required certifications, default delivery
//! milestones).

pub mod app;
pub mod domain;
pub mod http;
pub mod store;

pub use app::{Directory, Organisation, Service};
