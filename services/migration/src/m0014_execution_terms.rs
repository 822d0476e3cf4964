//! Who executes an order, and for what, is kept on the order itself: `orders.exec_share_bp`
//! (a share of the line's first-year money, in basis points) or `orders.exec_fee_fen` (a fixed
//! fee taken from it). They are set whenever an order goes to a deliverer that is paid for
//! executing it — a claim, an award, or a dispatch straight to a subcontract partner (DESIGN §5
//! rule 1: the execution share holds however the order reached it) — and cleared when it goes
//! to the signer, a direct team or back to the pool. Settlement reads them from the order
//! alone, instead of from the awarded subcontract and bid, which a direct dispatch never had.
//! The migration fills them in from the awarded subcontracts (and awarded bids) of the orders
//! their winners still deliver.
//!
//! It also brings `idempotency_keys`: the first result of every creation that carried an
//! `Idempotency-Key` (contracts, payouts, bids, outcome reports; payments keep theirs on the
//! payment), so that a retry returns it instead of creating a second record.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The terms of the awarded round of each order, as settlement read them before: the awarded
/// bid's if the round was a tender, else the subcontract's.
fn backfill(column: &str, sub: &str, bid: &str) -> String {
    format!(
        "UPDATE orders SET {column} = (SELECT CASE WHEN b.id IS NOT NULL THEN b.{bid} ELSE s.{sub} END \
         FROM subcontracts s LEFT JOIN bids b ON b.subcontract_id = s.id AND b.status = 'awarded' \
         WHERE s.order_id = orders.id AND s.status = 'awarded' AND s.winner_id = orders.deliverer_id \
         ORDER BY s.id DESC LIMIT 1) WHERE deliverer_id IS NOT NULL"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new("exec_share_bp").integer().null().to_owned(),
            ColumnDef::new("exec_fee_fen").big_integer().null().to_owned(),
        ];
        for col in columns {
            m.alter_table(Table::alter().table("orders").add_column(col).to_owned()).await?;
        }
        let conn = m.get_connection();
        conn.execute_unprepared(&backfill("exec_share_bp", "share_bp", "share_bp")).await?;
        conn.execute_unprepared(&backfill("exec_fee_fen", "fixed_fee_fen", "fee_fen")).await?;

        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(ColumnDef::new("id").big_integer().not_null().auto_increment().primary_key())
                .col(ColumnDef::new("operation").string_len(64).not_null())
                .col(ColumnDef::new("org_id").big_integer().not_null())
                .col(ColumnDef::new("key").string_len(128).not_null())
                .col(ColumnDef::new("request_hash").string_len(64).not_null())
                .col(ColumnDef::new("resource_id").big_integer().not_null())
                .col(ColumnDef::new("created_at").timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            crate::index("ux_idempotency_keys", "idempotency_keys", &["operation", "org_id", "key"])
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("idempotency_keys").to_owned()).await?;
        for col in ["exec_share_bp", "exec_fee_fen"] {
            m.alter_table(Table::alter().table("orders").drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
