//! What the success metrics read, without computing it per request:
//!
//! - each contract keeps the days from its signing to the first acceptance of one of its orders
//!   (`first_acceptance_days`, next to `first_accepted_at`; the marketplace keeps both current),
//!   and the covering index by signing date carries it instead of the timestamp, with the signer
//!   right after the day;
//! - covering indexes for the tallies by month: deliveries by the time they were delivered and
//!   ratings by the time they were given, each with what the tally groups and adds (deliverer,
//!   region, industry, on time; deliverer, stars), so a twelve-month tally reads the index alone.

use crate::index;
use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const DELIVERED: [&str; 5] = ["delivered_at", "deliverer_id", "on_time", "region", "industry"];
const RATED: [&str; 3] = ["created_at", "deliverer_id", "overall"];

/// The covering index by signing date: m0009's carried the first acceptance's time and had the
/// signer fourth; this one carries the days to it, and the signer right after the day, so counts
/// by day and signer follow the index without sorting.
pub(crate) const SIGNED: [&str; 14] = [
    "signed_on",
    "signer_id",
    "status",
    "client_id",
    "term_years",
    "region",
    "industry",
    "first_acceptance_days",
    "other_deliverers",
    "min_other_deliverer_id",
    "max_other_deliverer_id",
    "client_repeat_on",
    "client_deep_on",
    "id",
];
const SIGNED_M0009: [&str; 14] = [
    "signed_on",
    "status",
    "client_id",
    "signer_id",
    "term_years",
    "region",
    "industry",
    "first_accepted_at",
    "other_deliverers",
    "min_other_deliverer_id",
    "max_other_deliverer_id",
    "client_repeat_on",
    "client_deep_on",
    "id",
];

/// The days from signing to the first acceptance (UTC day), as `marketplace::store` computes them.
fn backfill(b: DbBackend) -> &'static str {
    match b {
        DbBackend::Postgres => {
            "UPDATE contracts SET first_acceptance_days = \
             CAST(first_accepted_at AT TIME ZONE 'UTC' AS DATE) - signed_on WHERE first_accepted_at IS NOT NULL"
        }
        _ => {
            "UPDATE contracts SET first_acceptance_days = \
             CAST(julianday(substr(first_accepted_at, 1, 10)) - julianday(signed_on) AS INTEGER) \
             WHERE first_accepted_at IS NOT NULL"
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut col = integer_null("first_acceptance_days");
        m.alter_table(Table::alter().table("contracts").add_column(&mut col).to_owned()).await?;
        let conn = m.get_connection();
        conn.execute_unprepared(backfill(conn.get_database_backend())).await?;
        m.drop_index(Index::drop().name("ix_contracts_signed").table("contracts").to_owned()).await?;
        m.create_index(index("ix_contracts_signed", "contracts", &SIGNED)).await?;
        m.drop_index(Index::drop().name("ix_orders_delivered_at").table("orders").to_owned()).await?;
        m.create_index(index("ix_orders_delivered_at", "orders", &DELIVERED)).await?;
        m.drop_index(Index::drop().name("ix_ratings_created").table("ratings").to_owned()).await?;
        m.create_index(index("ix_ratings_created", "ratings", &RATED)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_ratings_created").table("ratings").to_owned()).await?;
        m.create_index(index("ix_ratings_created", "ratings", &RATED[..1])).await?;
        m.drop_index(Index::drop().name("ix_orders_delivered_at").table("orders").to_owned()).await?;
        m.create_index(index("ix_orders_delivered_at", "orders", &DELIVERED[..1])).await?;
        m.drop_index(Index::drop().name("ix_contracts_signed").table("contracts").to_owned()).await?;
        m.create_index(index("ix_contracts_signed", "contracts", &SIGNED_M0009)).await?;
        m.alter_table(Table::alter().table("contracts").drop_column("first_acceptance_days").to_owned()).await?;
        Ok(())
    }
}
