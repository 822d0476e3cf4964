//! Payout batches: one per period, each with its items (a party and the amount paid to it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("payouts")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("period", 7))
                .col(string_len("status", 24))
                .col(timestamp_with_time_zone("cutoff"))
                .col(big_integer("minimum_fen"))
                .col(big_integer("total_fen"))
                .col(integer("items"))
                .col(boolean("dual_approval"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(big_integer_null("first_approved_by"))
                .col(timestamp_with_time_zone_null("first_approved_at"))
                .col(big_integer_null("approved_by"))
                .col(timestamp_with_time_zone_null("approved_at"))
                .col(big_integer_null("txn_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("payout_items")
                .col(big_pk_auto("id"))
                .col(big_integer("payout_id"))
                .col(big_integer("party_id"))
                .col(big_integer("amount_fen"))
                .foreign_key(&mut ForeignKey::create().from("payout_items", "payout_id").to("payouts", "id").to_owned())
                .foreign_key(
                    &mut ForeignKey::create().from("payout_items", "party_id").to("organisations", "id").to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_payout_items")
                .table("payout_items")
                .col("payout_id")
                .col("party_id")
                .unique()
                .to_owned(),
        )
        .await?;
        // Statements read a party's entries by time.
        m.create_index(
            Index::create()
                .name("ix_entries_party_time")
                .table("ledger_entries")
                .col("party_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        // Serialises payout runs and approvals (a row lock on PostgreSQL).
        let mut counter = Query::insert();
        counter.into_table("ledger_counters").columns(["name", "value"]);
        counter.values(["payout".into(), 0i64.into()]).map_err(|e| DbErr::Custom(e.to_string()))?;
        m.exec_stmt(counter).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_entries_party_time").table("ledger_entries").to_owned()).await?;
        m.drop_table(Table::drop().table("payout_items").to_owned()).await?;
        m.drop_table(Table::drop().table("payouts").to_owned()).await?;
        let mut del = Query::delete();
        del.from_table("ledger_counters").and_where(Expr::col("name").eq("payout"));
        m.exec_stmt(del).await?;
        Ok(())
    }
}
