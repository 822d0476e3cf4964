//! Covering indexes for the per-deliverer statistics (busy orders, deliveries on time, ratings)
//! that recommendations and claims compute on every call.

use crate::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("ix_orders_busy", "orders", &["status", "deliverer_id"])).await?;
        m.create_index(index("ix_orders_delivered", "orders", &["deliverer_id", "delivered_at", "on_time"])).await?;
        m.drop_index(Index::drop().name("ix_ratings_deliverer").table("ratings").to_owned()).await?;
        m.create_index(index("ix_ratings_deliverer", "ratings", &["deliverer_id", "overall"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_ratings_deliverer").table("ratings").to_owned()).await?;
        m.create_index(index("ix_ratings_deliverer", "ratings", &["deliverer_id"])).await?;
        m.drop_index(Index::drop().name("ix_orders_delivered").table("orders").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_orders_busy").table("orders").to_owned()).await?;
        Ok(())
    }
}
