//! What settlement has taken in of a contract's payments is one number per contract, not a
//! mark on every payment: `settlement_state.settled_payment_id`, the highest payment id
//! settled. A payment is settled when its id is at or below its contract's mark.
//!
//! This holds because a payment's id is taken with its contract locked (recording a payment
//! locks the contract before it inserts), and settlement locks the contracts it settles: no
//! payment of a contract can take an id below the mark after settlement has read past it.
//!
//! Marking every payment settled was an update of each payment row, and with it a new entry in
//! each of the payments' four indexes: about a fifth of the time of a bulk settlement on
//! PostgreSQL (docs/money.md). When a payment was settled is still told by the ledger: the
//! time of the first entry its settlement posted (`ledger::store::settled_at`).
//!
//! The migration sets each contract's mark to its highest settled payment, then drops
//! `payments.settled_at`.
//!
//! On PostgreSQL, ledger transaction numbers come from the sequence `ledger_txn_ids` from now
//! on, started after the counter row (`ledger::store::reserve_txns` says why); SQLite keeps the
//! counter.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BACKFILL: &str = "UPDATE settlement_state SET settled_payment_id = COALESCE((SELECT MAX(p.id) FROM payments p \
     WHERE p.contract_id = settlement_state.contract_id AND p.settled_at IS NOT NULL), 0)";

const RESTORE: &str = "UPDATE payments SET settled_at = (SELECT MIN(e.created_at) FROM ledger_entries e \
     WHERE e.contract_id = payments.contract_id AND e.line_id = payments.line_id AND e.stream = payments.stream \
     AND e.payment_id = payments.id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("settlement_state")
                .add_column(ColumnDef::new("settled_payment_id").big_integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared(BACKFILL).await?;
        m.alter_table(Table::alter().table("payments").drop_column("settled_at").to_owned()).await?;
        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            conn.execute_unprepared("CREATE SEQUENCE ledger_txn_ids AS BIGINT").await?;
            conn.execute_unprepared(
                "SELECT setval('ledger_txn_ids', (SELECT value FROM ledger_counters WHERE name = 'txn') + 1, false)",
            )
            .await?;
        }
        Ok(())
    }

    /// Back to a mark on each payment, from the ledger, and to the counter row.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            conn.execute_unprepared(
                "UPDATE ledger_counters SET value = GREATEST(value, (SELECT last_value FROM ledger_txn_ids)) \
                 WHERE name = 'txn'",
            )
            .await?;
            conn.execute_unprepared("DROP SEQUENCE ledger_txn_ids").await?;
        }
        m.alter_table(
            Table::alter()
                .table("payments")
                .add_column(ColumnDef::new("settled_at").timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared(RESTORE).await?;
        m.alter_table(Table::alter().table("settlement_state").drop_column("settled_payment_id").to_owned()).await?;
        Ok(())
    }
}
