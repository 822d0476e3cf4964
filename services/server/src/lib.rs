//! The `vpark` server: configuration, telemetry, the composition of every area into one HTTP
//! endpoint, the demo park, and the command line.

pub mod bench;
pub mod bench_reads;
pub mod bench_settle;
pub mod bench_success;
pub mod cli;
pub mod config;
pub mod console;
pub mod edge;
pub mod metrics;
pub mod money_cli;
pub mod ops;
pub mod park;
pub mod routes;
pub mod seed;
pub mod spec;
pub mod telemetry;

pub use config::Settings;
pub use park::Park;
