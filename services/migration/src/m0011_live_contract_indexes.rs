//! The success metrics read only live contracts by signing date (`status <> 'cancelled'`): the
//! covering index by signing date becomes partial over them — no status to filter on, and the
//! fixed-width columns before the labels, so a row of the index is cheaper to take apart
//! — and a narrow partial index counts the maintenance years due (day, signer, term, region,
//! industry), a fifth of the size of the covering one. The index of ratings by day also carries
//! the order, so tallies by region or industry find the order without reading the rating.

use crate::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An index of the live contracts.
fn live(name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = index(name, "contracts", cols);
    stmt.and_where(Expr::col("status").ne("cancelled"));
    stmt
}

/// The status closes each list: SQLite reads an index as covering only when it holds every
/// column the query names, the one of the partial condition too.
const SIGNED: [&str; 14] = [
    "signed_on",
    "signer_id",
    "client_id",
    "term_years",
    "first_acceptance_days",
    "other_deliverers",
    "min_other_deliverer_id",
    "max_other_deliverer_id",
    "client_repeat_on",
    "client_deep_on",
    "id",
    "region",
    "industry",
    "status",
];
const RATED: [&str; 4] = ["created_at", "deliverer_id", "overall", "order_id"];
const DUE: [&str; 6] = ["signed_on", "signer_id", "term_years", "region", "industry", "status"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_contracts_signed").table("contracts").to_owned()).await?;
        m.create_index(live("ix_contracts_signed", &SIGNED)).await?;
        m.create_index(live("ix_contracts_due", &DUE)).await?;
        m.drop_index(Index::drop().name("ix_ratings_created").table("ratings").to_owned()).await?;
        m.create_index(index("ix_ratings_created", "ratings", &RATED)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_ratings_created").table("ratings").to_owned()).await?;
        m.create_index(index("ix_ratings_created", "ratings", &RATED[..3])).await?;
        m.drop_index(Index::drop().name("ix_contracts_due").table("contracts").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_contracts_signed").table("contracts").to_owned()).await?;
        m.create_index(index("ix_contracts_signed", "contracts", &crate::m0010_metrics_indexes::SIGNED)).await?;
        Ok(())
    }
}
