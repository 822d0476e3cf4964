//! Certifications: the catalog of professional certifications implementers can hold, and the
//! credentials they hold — which certification, issued and expiry dates, status. A credential
//! counts for dispatch only while it is valid: earned (or expiring), not past its expiry date,
//! not revoked.

pub mod app;
pub mod domain;
pub mod earning;
pub mod earning_http;
pub mod http;
pub mod requirements;
pub mod store;

pub use app::Certifications;
