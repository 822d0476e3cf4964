//! The HTTP-level and cross-area tests of vpark, in one test binary.
//!
//! Every test that touches a database runs twice: on SQLite and on PostgreSQL (a fresh database
//! per test, cloned from a seeded template). Without a reachable PostgreSQL the PostgreSQL half
//! says so loudly and is skipped — except under `CI=true`, where it fails.

#[cfg(test)]
mod support;

#[cfg(test)]
mod auth;
#[cfg(test)]
mod certification;
#[cfg(test)]
mod console;
#[cfg(test)]
mod credentials;
#[cfg(test)]
mod demo;
#[cfg(test)]
mod directory;
#[cfg(test)]
mod errors;
#[cfg(test)]
mod failures;
#[cfg(test)]
mod marketplace;
#[cfg(test)]
mod matrix;
#[cfg(test)]
mod money;
#[cfg(test)]
mod openapi;
#[cfg(test)]
mod outbox;
#[cfg(test)]
mod payouts;
#[cfg(test)]
mod process;
#[cfg(test)]
mod races;
#[cfg(test)]
mod success;
#[cfg(test)]
mod tiers;
#[cfg(test)]
mod users;
#[cfg(test)]
mod views;
