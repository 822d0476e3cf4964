//! The money: agreement templates, payments, the double-entry ledger and the settlement state.

use crate::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn ts(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("agreement_templates")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 32))
                .col(string_len("name_zh", 200))
                .col(string_len("name_en", 200))
                .col(json("rules"))
                .col(json("tiers"))
                .col(integer("version"))
                .col(big_integer_null("updated_by"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        // Bumped in the transaction of every change that can move money on a contract (a
        // payment, an award, an acceptance, a cancellation); settlement catches up to it.
        m.alter_table(Table::alter().table("contracts").add_column(big_integer("settle_rev").default(0)).to_owned())
            .await?;
        m.create_index(index("ix_contracts_settle_rev", "contracts", &["settle_rev", "id"])).await?;

        m.create_table(
            Table::create()
                .table("payments")
                .col(big_pk_auto("id"))
                .col(big_integer("contract_id"))
                .col(big_integer("line_id"))
                .col(string_len("stream", 16))
                .col(integer("year"))
                .col(big_integer("amount_fen"))
                .col(date("received_on"))
                .col(string_len_uniq("idempotency_key", 128))
                .col(string_len("request_hash", 64))
                .col(text_null("note"))
                .col(big_integer_null("recorded_by"))
                .col(ts("created_at"))
                .col(timestamp_with_time_zone_null("settled_at"))
                .foreign_key(&mut ForeignKey::create().from("payments", "contract_id").to("contracts", "id").to_owned())
                .foreign_key(
                    &mut ForeignKey::create().from("payments", "line_id").to("contract_lines", "id").to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_payments_contract", "payments", &["contract_id", "id"])).await?;
        m.create_index(index("ix_payments_line", "payments", &["line_id", "stream"])).await?;

        // Immutable: never updated, never deleted. `amount_fen` is signed, debit positive; every
        // transaction (`txn_id`) sums to zero.
        m.create_table(
            Table::create()
                .table("ledger_entries")
                .col(big_pk_auto("id"))
                .col(big_integer("txn_id"))
                .col(big_integer_null("contract_id"))
                .col(big_integer_null("line_id"))
                .col(string_len_null("stream", 16))
                .col(big_integer_null("payment_id"))
                .col(big_integer_null("payout_id"))
                .col(big_integer("party_id"))
                .col(string_len("account", 16))
                .col(big_integer("amount_fen"))
                .col(string_len("kind", 16))
                .col(integer_null("rule"))
                .col(integer_null("rate_bp"))
                .col(big_integer_null("fee_fen"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_entries_position",
            "ledger_entries",
            &["contract_id", "line_id", "stream", "party_id", "account", "amount_fen"],
        ))
        .await?;
        m.create_index(index("ix_entries_party", "ledger_entries", &["party_id", "account", "id"])).await?;
        m.create_index(index("ix_entries_txn", "ledger_entries", &["txn_id"])).await?;

        m.create_table(
            Table::create()
                .table("ledger_counters")
                .col(string_len("name", 32).primary_key())
                .col(big_integer("value"))
                .to_owned(),
        )
        .await?;
        let mut counter = Query::insert();
        counter.into_table("ledger_counters").columns(["name", "value"]);
        counter.values(["txn".into(), 0i64.into()]).map_err(|e| DbErr::Custom(e.to_string()))?;
        m.exec_stmt(counter).await?;

        m.create_table(
            Table::create()
                .table("settlement_state")
                .col(big_integer("contract_id").primary_key())
                .col(big_integer("settled_rev"))
                .col(ts("settled_at"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["settlement_state", "ledger_counters", "ledger_entries", "payments", "agreement_templates"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.drop_index(Index::drop().name("ix_contracts_settle_rev").table("contracts").to_owned()).await?;
        m.alter_table(Table::alter().table("contracts").drop_column("settle_rev").to_owned()).await?;
        Ok(())
    }
}
