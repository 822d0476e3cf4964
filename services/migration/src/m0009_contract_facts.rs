//! What the success metrics read of a contract without joining its orders: the client's region
//! and industry (as stamped on its orders), the lowest and highest service category of its live
//! orders (two categories or more when they differ, across contracts too) and the first acceptance
//! of any of its orders. The marketplace keeps them current in the transaction that changes an
//! order; this migration fills them in for the contracts that exist.
//!
//! Two covering indexes let the metrics scan contracts by signing date, and a client's contracts
//! in order, without reading the rows (which carry the agreement snapshot).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The same statement as `marketplace::store::refresh_contract_facts`, for every contract.
const BACKFILL: &str = "UPDATE contracts SET \
    region = (SELECT MIN(o.region) FROM orders o WHERE o.contract_id = contracts.id), \
    industry = (SELECT MIN(o.industry) FROM orders o WHERE o.contract_id = contracts.id), \
    min_category = (SELECT MIN(o.category) FROM orders o WHERE o.contract_id = contracts.id AND o.status <> 'cancelled'), \
    max_category = (SELECT MAX(o.category) FROM orders o WHERE o.contract_id = contracts.id AND o.status <> 'cancelled'), \
    first_accepted_at = (SELECT MIN(o.accepted_at) FROM orders o WHERE o.contract_id = contracts.id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            string_len_null("region", 32),
            string_len_null("industry", 32),
            string_len_null("min_category", 32),
            string_len_null("max_category", 32),
            timestamp_with_time_zone_null("first_accepted_at"),
        ] {
            let mut col = col;
            m.alter_table(Table::alter().table("contracts").add_column(&mut col).to_owned()).await?;
        }
        m.get_connection().execute_unprepared(BACKFILL).await?;
        m.drop_index(Index::drop().name("ix_contracts_signed").table("contracts").to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_contracts_signed")
                .table("contracts")
                .col("signed_on")
                .col("status")
                .col("client_id")
                .col("signer_id")
                .col("term_years")
                .col("region")
                .col("industry")
                .col("first_accepted_at")
                .col("id")
                .to_owned(),
        )
        .await?;
        m.drop_index(Index::drop().name("ix_contracts_client_signed").table("contracts").to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_contracts_client_facts")
                .table("contracts")
                .col("client_id")
                .col("signed_on")
                .col("status")
                .col("min_category")
                .col("max_category")
                .col("id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_contracts_client_facts").table("contracts").to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ix_contracts_client_signed")
                .table("contracts")
                .col("client_id")
                .col("signed_on")
                .col("status")
                .to_owned(),
        )
        .await?;
        m.drop_index(Index::drop().name("ix_contracts_signed").table("contracts").to_owned()).await?;
        m.create_index(
            Index::create().name("ix_contracts_signed").table("contracts").col("signed_on").col("client_id").to_owned(),
        )
        .await?;
        for col in ["first_accepted_at", "max_category", "min_category", "industry", "region"] {
            m.alter_table(Table::alter().table("contracts").drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
