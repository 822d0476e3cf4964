//! The platform: organisations, users and their roles, sessions, one-time tokens, the service
//! and certification catalogs, credentials, the audit trail and the e-mail outbox.

use crate::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from_table: &'static str, from_col: &'static str, to_table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from_table, from_col).to(to_table, "id").to_owned()
}

fn ts(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

fn ts_null(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(col)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organisations")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 32))
                .col(string_len("name_zh", 200))
                .col(string_len_null("name_en", 200))
                .col(string_len_null("credit_code", 32).unique_key().take())
                .col(big_integer_null("parent_id"))
                .col(integer_null("equity_stake_bp"))
                .col(json("regions"))
                .col(json("industries"))
                .col(json("categories"))
                .col(integer_null("capacity"))
                .col(string_len_null("tier", 32))
                .col(string_len("status", 32))
                .col(string_len_null("contact_name", 100))
                .col(string_len_null("contact_phone", 40))
                .col(string_len_null("contact_email", 254))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("organisations", "parent_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_organisations_kind", "organisations", &["kind", "id"])).await?;
        m.create_index(index("ix_organisations_parent", "organisations", &["parent_id"])).await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len_uniq("email", 254))
                .col(string_len("display_name", 100))
                .col(string_len_null("phone", 40))
                .col(string_len_null("password_hash", 200))
                .col(string_len("locale", 8))
                .col(string_len("status", 16))
                .col(integer("failed_logins").default(0).take())
                .col(ts_null("locked_until"))
                .col(ts_null("last_login_at"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("users", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_users_org", "users", &["org_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("user_roles")
                .col(big_integer("user_id"))
                .col(big_integer("org_id"))
                .col(string_len("role", 32))
                .col(ts("granted_at"))
                .primary_key(Index::create().col("user_id").col("role"))
                .foreign_key(&mut fk("user_roles", "user_id", "users"))
                .foreign_key(&mut fk("user_roles", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("token_hash", 64))
                .col(big_integer("user_id"))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(ts_null("revoked_at"))
                .foreign_key(&mut fk("sessions", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_sessions_user", "sessions", &["user_id"])).await?;

        m.create_table(
            Table::create()
                .table("one_time_tokens")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("purpose", 16))
                .col(string_len_uniq("token_hash", 64))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(ts_null("used_at"))
                .foreign_key(&mut fk("one_time_tokens", "user_id", "users"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("certifications")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 32))
                .col(string_len("name_zh", 200))
                .col(string_len("name_en", 200))
                .col(string_len("category", 32))
                .col(text_null("description"))
                .col(integer("validity_months"))
                .col(string_len("status", 16))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("services")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("code", 32))
                .col(string_len("name_zh", 200))
                .col(string_len("name_en", 200))
                .col(string_len("category", 32))
                .col(text_null("description"))
                .col(json("required_certifications"))
                .col(json("milestones"))
                .col(string_len_null("agreement_template", 32))
                .col(string_len("status", 16))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("credentials")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer("org_id"))
                .col(big_integer("certification_id"))
                .col(string_len("status", 16))
                .col(date_null("issued_on"))
                .col(date_null("expires_on"))
                .col(text_null("revoked_reason"))
                .col(integer_null("requirements_version"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("credentials", "user_id", "users"))
                .foreign_key(&mut fk("credentials", "org_id", "organisations"))
                .foreign_key(&mut fk("credentials", "certification_id", "certifications"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ux_credentials_holder", "credentials", &["user_id", "certification_id"]).unique().to_owned(),
        )
        .await?;
        m.create_index(index("ix_credentials_org", "credentials", &["org_id", "certification_id"])).await?;
        m.create_index(index("ix_credentials_expiry", "credentials", &["status", "expires_on"])).await?;

        m.create_table(
            Table::create()
                .table("audit_events")
                .col(big_pk_auto("id"))
                .col(ts("at"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_org_id"))
                .col(string_len("actor_label", 254))
                .col(string_len("action", 64))
                .col(string_len("resource_kind", 32))
                .col(string_len("resource_id", 64))
                .col(big_integer_null("org_id"))
                .col(json_null("before"))
                .col(json_null("after"))
                .col(string_len_null("request_id", 64))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_audit_resource", "audit_events", &["resource_kind", "resource_id", "id"])).await?;
        m.create_index(index("ix_audit_org", "audit_events", &["org_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("notifications")
                .col(big_pk_auto("id"))
                .col(ts("created_at"))
                .col(string_len("template", 64))
                .col(string_len("recipient_email", 254))
                .col(string_len("recipient_name", 100))
                .col(string_len("locale", 8))
                .col(json("payload"))
                .col(big_integer_null("org_id"))
                .col(string_len_null("dedupe_key", 200).unique_key().take())
                .col(string_len_uniq("message_id", 200))
                .col(string_len("status", 16))
                .col(integer("attempts").default(0).take())
                .col(ts("next_attempt_at"))
                .col(ts_null("lease_until"))
                .col(text_null("last_error"))
                .col(ts_null("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_notifications_due", "notifications", &["status", "next_attempt_at"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "notifications",
            "audit_events",
            "credentials",
            "services",
            "certifications",
            "one_time_tokens",
            "sessions",
            "user_roles",
            "users",
            "organisations",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
