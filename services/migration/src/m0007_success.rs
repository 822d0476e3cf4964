//! Customer success: the catalog of outcome milestones (高新技术企业, 专精特新, listing …), the
//! milestones clients reach with evidence and vendor verification, and the organisations each
//! verified success is credited to (the client, its signers, the deliverers involved).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, col).to(to, "id").to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("outcome_kinds")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 32))
                .col(string_len("name_zh", 200))
                .col(string_len("name_en", 200))
                .col(text_null("description"))
                .col(integer("window_months"))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("outcome_milestones")
                .col(big_pk_auto("id"))
                .col(big_integer("client_id"))
                .col(big_integer("kind_id"))
                .col(date("achieved_on"))
                .col(string_len("title", 200))
                .col(text_null("details"))
                .col(json("attachments"))
                .col(string_len("status", 16))
                .col(date("window_start"))
                .col(date("window_end"))
                .col(boolean("in_window"))
                .col(big_integer_null("reported_by"))
                .col(big_integer_null("reporter_org_id"))
                .col(timestamp_with_time_zone("reported_at"))
                .col(big_integer_null("reviewed_by"))
                .col(timestamp_with_time_zone_null("reviewed_at"))
                .col(text_null("review_note"))
                .foreign_key(&mut fk("outcome_milestones", "client_id", "organisations"))
                .foreign_key(&mut fk("outcome_milestones", "kind_id", "outcome_kinds"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outcomes_client")
                .table("outcome_milestones")
                .col("client_id")
                .col("id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_outcomes_status").table("outcome_milestones").col("status").col("id").to_owned(),
        )
        .await?;
        // One live report (reported or verified) per client and kind: a second report of the
        // same milestone is a conflict, a rejected one may be reported again. Partial unique
        // indexes exist on both SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_outcomes_live ON outcome_milestones (client_id, kind_id) \
                 WHERE status <> 'rejected'",
            )
            .await?;

        m.create_table(
            Table::create()
                .table("outcome_credits")
                .col(big_integer("outcome_id"))
                .col(big_integer("org_id"))
                .col(string_len("role", 16))
                .primary_key(Index::create().col("outcome_id").col("org_id").col("role"))
                .foreign_key(&mut fk("outcome_credits", "outcome_id", "outcome_milestones"))
                .foreign_key(&mut fk("outcome_credits", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_outcome_credits_org").table("outcome_credits").col("org_id").to_owned(),
        )
        .await?;
        // Metrics group contracts by signing date and orders by delivery and rating dates.
        m.create_index(
            Index::create().name("ix_contracts_signed").table("contracts").col("signed_on").col("client_id").to_owned(),
        )
        .await?;
        // Covering: the metrics read these columns of a contract's orders without the rows.
        m.create_index(
            Index::create()
                .name("ix_orders_contract")
                .table("orders")
                .col("contract_id")
                .col("status")
                .col("category")
                .col("deliverer_id")
                .col("region")
                .col("industry")
                .col("accepted_at")
                .to_owned(),
        )
        .await?;
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
        m.create_index(Index::create().name("ix_orders_delivered_at").table("orders").col("delivered_at").to_owned())
            .await?;
        m.create_index(Index::create().name("ix_ratings_created").table("ratings").col("created_at").to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_ratings_created").table("ratings").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_orders_delivered_at").table("orders").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_contracts_client_signed").table("contracts").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_orders_contract").table("orders").to_owned()).await?;
        m.drop_index(Index::drop().name("ix_contracts_signed").table("contracts").to_owned()).await?;
        m.drop_table(Table::drop().table("outcome_credits").to_owned()).await?;
        m.drop_table(Table::drop().table("outcome_milestones").to_owned()).await?;
        m.drop_table(Table::drop().table("outcome_kinds").to_owned()).await?;
        Ok(())
    }
}
