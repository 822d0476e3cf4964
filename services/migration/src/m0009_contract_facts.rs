//! What the success metrics read of a contract without joining its orders: the client's region
//! and industry (as stamped on its orders), the lowest and highest service category of its live
//! orders (two categories or more when they differ, across contracts too), the first acceptance
//! of any of its orders, and the organisations other than the signer delivering them (how many,
//! the lowest and the highest id — all of them when there are two at most). And, on each of a
//! client's contracts, the day the client signed its second contract and the day its contracts
//! first spanned two service categories (live orders only): repeat- and deep-signed as of any
//! day. The marketplace keeps them current in the transaction that changes an order; this
//! migration fills them in for the contracts that exist.
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
    first_accepted_at = (SELECT MIN(o.accepted_at) FROM orders o WHERE o.contract_id = contracts.id), \
    other_deliverers = (SELECT COUNT(DISTINCT o.deliverer_id) FROM orders o WHERE o.contract_id = contracts.id AND o.deliverer_id <> contracts.signer_id), \
    min_other_deliverer_id = (SELECT MIN(o.deliverer_id) FROM orders o WHERE o.contract_id = contracts.id AND o.deliverer_id <> contracts.signer_id), \
    max_other_deliverer_id = (SELECT MAX(o.deliverer_id) FROM orders o WHERE o.contract_id = contracts.id AND o.deliverer_id <> contracts.signer_id)";

/// The same statement as `marketplace::store::client_facts_statement("")`, for every client: one
/// ordered pass over each client's contracts.
const BACKFILL_CLIENTS: &str = "WITH w AS (SELECT client_id, signed_on, \
        CASE WHEN status <> 'cancelled' AND max_category IS NOT NULL THEN 1 ELSE 0 END AS live, \
        ROW_NUMBER() OVER running AS n, \
        MIN(min_category) OVER running AS lo, MAX(max_category) OVER running AS hi \
      FROM contracts \
      WINDOW running AS (PARTITION BY client_id, \
        CASE WHEN status <> 'cancelled' AND max_category IS NOT NULL THEN 1 ELSE 0 END \
        ORDER BY signed_on, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)), \
    f AS (SELECT client_id, \
        MIN(CASE WHEN live = 1 AND n = 2 THEN signed_on END) AS repeat_on, \
        MIN(CASE WHEN live = 1 AND lo < hi THEN signed_on END) AS deep_on \
      FROM w GROUP BY client_id) \
    UPDATE contracts SET client_repeat_on = f.repeat_on, client_deep_on = f.deep_on \
    FROM f WHERE f.client_id = contracts.client_id";

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
            integer("other_deliverers").default(0).to_owned(),
            big_integer_null("min_other_deliverer_id"),
            big_integer_null("max_other_deliverer_id"),
            date_null("client_repeat_on"),
            date_null("client_deep_on"),
        ] {
            let mut col = col;
            m.alter_table(Table::alter().table("contracts").add_column(&mut col).to_owned()).await?;
        }
        m.get_connection().execute_unprepared(BACKFILL).await?;
        m.get_connection().execute_unprepared(BACKFILL_CLIENTS).await?;
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
                .col("other_deliverers")
                .col("min_other_deliverer_id")
                .col("max_other_deliverer_id")
                .col("client_repeat_on")
                .col("client_deep_on")
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
        for col in [
            "client_deep_on",
            "client_repeat_on",
            "max_other_deliverer_id",
            "min_other_deliverer_id",
            "other_deliverers",
            "first_accepted_at",
            "max_category",
            "min_category",
            "industry",
            "region",
        ] {
            m.alter_table(Table::alter().table("contracts").drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
