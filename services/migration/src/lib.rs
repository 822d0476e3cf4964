//! One linear migration history for every area of vpark, on SQLite and PostgreSQL.
//!
//! Migrations only shape the schema: demo data never goes here (it is loaded by `vpark seed`
//! through the same services a user calls). Money columns are integer fen (`BIGINT`), rates are
//! integer basis points, timestamps are UTC.

pub use sea_orm_migration::prelude::*;

mod m0001_platform;
mod m0002_marketplace;
mod m0003_order_statistics;
mod m0004_ledger;
mod m0005_payouts;
mod m0006_credentials;
mod m0007_success;
mod m0008_tiers;
mod m0009_contract_facts;
mod m0010_metrics_indexes;
mod m0011_live_contract_indexes;
mod m0012_deliverer_stats;
mod m0013_settlement_marks;
mod m0014_execution_terms;

/// An index of `table` over `cols`, in order.
fn index(name: &'static str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create().name(name).table(table).to_owned();
    for c in cols {
        stmt.col(*c);
    }
    stmt
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_platform::Migration),
            Box::new(m0002_marketplace::Migration),
            Box::new(m0003_order_statistics::Migration),
            Box::new(m0004_ledger::Migration),
            Box::new(m0005_payouts::Migration),
            Box::new(m0006_credentials::Migration),
            Box::new(m0007_success::Migration),
            Box::new(m0008_tiers::Migration),
            Box::new(m0009_contract_facts::Migration),
            Box::new(m0010_metrics_indexes::Migration),
            Box::new(m0011_live_contract_indexes::Migration),
            Box::new(m0012_deliverer_stats::Migration),
            Box::new(m0013_settlement_marks::Migration),
            Box::new(m0014_execution_terms::Migration),
        ]
    }
}
