//! What earns a certification (versioned requirements) and the evidence implementers submit
//! towards it (exam results, training hours), verified or rejected by vendor ops.

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
                .table("certification_requirements")
                .col(big_pk_auto("id"))
                .col(big_integer("certification_id"))
                .col(integer("version"))
                .col(integer_null("exam_min_score"))
                .col(integer_null("training_hours"))
                .col(json("delivery_services"))
                .col(integer("delivery_count"))
                .col(integer_null("min_rating_centi"))
                .col(integer("validity_months"))
                .col(text_null("note"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("certification_requirements", "certification_id", "certifications"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_requirements_version")
                .table("certification_requirements")
                .col("certification_id")
                .col("version")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("credential_evidence")
                .col(big_pk_auto("id"))
                .col(big_integer("credential_id"))
                .col(big_integer("user_id"))
                .col(big_integer("org_id"))
                .col(string_len("kind", 16))
                .col(string_len("title", 200))
                .col(date("taken_on"))
                .col(integer_null("exam_score"))
                .col(integer_null("training_hours"))
                .col(json("attachments"))
                .col(string_len("status", 16))
                .col(big_integer_null("submitted_by"))
                .col(timestamp_with_time_zone("submitted_at"))
                .col(big_integer_null("reviewed_by"))
                .col(timestamp_with_time_zone_null("reviewed_at"))
                .col(text_null("review_note"))
                .foreign_key(&mut fk("credential_evidence", "credential_id", "credentials"))
                .foreign_key(&mut fk("credential_evidence", "user_id", "users"))
                .foreign_key(&mut fk("credential_evidence", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_evidence_credential")
                .table("credential_evidence")
                .col("credential_id")
                .col("id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_evidence_status").table("credential_evidence").col("status").col("id").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("credential_evidence").to_owned()).await?;
        m.drop_table(Table::drop().table("certification_requirements").to_owned()).await?;
        Ok(())
    }
}
