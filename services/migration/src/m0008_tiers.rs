//! Partner tiers: the thresholds of each tier (data, edited by the platform admin) and the
//! assessment of every partner for every period — its scorecard and the tier it reached.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("tier_thresholds")
                .col(string_len("tier", 16).primary_key())
                .col(big_integer("min_revenue_fen"))
                .col(integer_null("min_success_bp"))
                .col(integer("min_valid_credentials"))
                .col(integer_null("min_quality_centi"))
                .col(integer_null("min_on_time_bp"))
                .col(integer_null("max_dispute_bp"))
                .col(big_integer_null("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("tier_assessments")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len("period", 7))
                .col(string_len("tier", 16))
                .col(string_len_null("previous_tier", 16))
                .col(json("scorecard"))
                .col(timestamp_with_time_zone("computed_at"))
                .foreign_key(
                    &mut ForeignKey::create().from("tier_assessments", "org_id").to("organisations", "id").to_owned(),
                )
                .to_owned(),
        )
        .await?;
        // One assessment per partner and period: of several replicas recomputing the same
        // period, exactly one records (and audits, and mails) each partner.
        m.create_index(
            Index::create()
                .name("ux_tier_assessments")
                .table("tier_assessments")
                .col("org_id")
                .col("period")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_tier_assessments_period").table("tier_assessments").col("period").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("tier_assessments").to_owned()).await?;
        m.drop_table(Table::drop().table("tier_thresholds").to_owned()).await?;
        Ok(())
    }
}
