//! Identity: who is calling, and what they may do.
//!
//! Users belong to one organisation and hold roles in it. They log in with e-mail and password
//! (argon2id) and get an opaque bearer token that expires and can be revoked. The Casbin policy
//! (`policy`) decides what each role may do; this crate also serves the audit trail.

pub mod app;
pub mod audit;
pub mod domain;
pub mod http;
pub mod people;
pub mod policy;
pub mod store;
