//! The marketplace: contracts and their lines, orders with milestones and assigned implementers,
//! the subcontract pool with its requirements, claims and bids, and ratings.

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
                .table("contracts")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("contract_no", 32))
                .col(big_integer("client_id"))
                .col(big_integer("signer_id"))
                .col(big_integer_null("account_manager_id"))
                .col(date("signed_on"))
                .col(integer("term_years"))
                .col(big_integer("first_year_fen"))
                .col(big_integer("maintenance_fen"))
                .col(json("agreement"))
                .col(string_len("status", 16))
                .col(big_integer_null("created_by"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("contracts", "client_id", "organisations"))
                .foreign_key(&mut fk("contracts", "signer_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_contracts_signer", "contracts", &["signer_id", "id"])).await?;
        m.create_index(index("ix_contracts_client", "contracts", &["client_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("contract_lines")
                .col(big_pk_auto("id"))
                .col(big_integer("contract_id"))
                .col(integer("line_no"))
                .col(big_integer("service_id"))
                .col(big_integer("amount_fen"))
                .foreign_key(&mut fk("contract_lines", "contract_id", "contracts"))
                .foreign_key(&mut fk("contract_lines", "service_id", "services"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ux_contract_lines_no", "contract_lines", &["contract_id", "line_no"]).unique().to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("orders")
                .col(big_pk_auto("id"))
                .col(string_len_uniq("order_no", 40))
                .col(big_integer("contract_id"))
                .col(big_integer("line_id"))
                .col(big_integer("client_id"))
                .col(big_integer("signer_id"))
                .col(big_integer("service_id"))
                .col(string_len("category", 32))
                .col(string_len("region", 32))
                .col(string_len_null("industry", 32))
                .col(string_len("status", 16))
                .col(big_integer_null("deliverer_id"))
                .col(date("due_on"))
                .col(ts_null("assign_by"))
                .col(ts_null("dispatched_at"))
                .col(ts_null("delivered_at"))
                .col(boolean_null("on_time"))
                .col(ts_null("accepted_at"))
                .col(text_null("note"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("orders", "contract_id", "contracts"))
                .foreign_key(&mut fk("orders", "line_id", "contract_lines"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_orders_signer", "orders", &["signer_id", "id"])).await?;
        m.create_index(index("ix_orders_client", "orders", &["client_id", "id"])).await?;
        m.create_index(index("ix_orders_deliverer", "orders", &["deliverer_id", "status"])).await?;
        m.create_index(index("ix_orders_status", "orders", &["status", "id"])).await?;
        m.create_index(index("ix_orders_assign_by", "orders", &["assign_by"])).await?;

        m.create_table(
            Table::create()
                .table("order_milestones")
                .col(big_pk_auto("id"))
                .col(big_integer("order_id"))
                .col(integer("seq"))
                .col(string_len("code", 32))
                .col(string_len("name_zh", 200))
                .col(string_len("name_en", 200))
                .col(date("due_on"))
                .col(string_len("status", 16))
                .col(ts_null("done_at"))
                .col(big_integer_null("done_by"))
                .col(ts_null("overdue_notified_at"))
                .foreign_key(&mut fk("order_milestones", "order_id", "orders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_milestones_order", "order_milestones", &["order_id", "seq"])).await?;
        m.create_index(index("ix_milestones_due", "order_milestones", &["status", "due_on"])).await?;

        m.create_table(
            Table::create()
                .table("order_assignments")
                .col(big_integer("order_id"))
                .col(big_integer("user_id"))
                .col(ts("assigned_at"))
                .col(big_integer_null("assigned_by"))
                .primary_key(Index::create().col("order_id").col("user_id"))
                .foreign_key(&mut fk("order_assignments", "order_id", "orders"))
                .foreign_key(&mut fk("order_assignments", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_assignments_user", "order_assignments", &["user_id", "order_id"])).await?;

        m.create_table(
            Table::create()
                .table("subcontracts")
                .col(big_pk_auto("id"))
                .col(big_integer("order_id"))
                .col(big_integer("signer_id"))
                .col(big_integer("service_id"))
                .col(string_len("category", 32))
                .col(string_len("region", 32))
                .col(string_len_null("industry", 32))
                .col(string_len("reason", 16))
                .col(string_len("mode", 16))
                .col(integer_null("min_quality_centi"))
                .col(integer_null("share_bp"))
                .col(big_integer_null("fixed_fee_fen"))
                .col(ts("claim_deadline"))
                .col(string_len("status", 16))
                .col(big_integer_null("winner_id"))
                .col(ts_null("awarded_at"))
                .col(big_integer_null("published_by"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("subcontracts", "order_id", "orders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_subcontracts_pool", "subcontracts", &["status", "region", "category", "id"])).await?;
        m.create_index(index("ix_subcontracts_order", "subcontracts", &["order_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("subcontract_requirements")
                .col(big_integer("subcontract_id"))
                .col(string_len("certification", 32))
                .primary_key(Index::create().col("subcontract_id").col("certification"))
                .foreign_key(&mut fk("subcontract_requirements", "subcontract_id", "subcontracts"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("subcontract_claims")
                .col(big_pk_auto("id"))
                .col(big_integer("subcontract_id"))
                .col(big_integer("org_id"))
                .col(big_integer("user_id"))
                .col(string_len("outcome", 16))
                .col(ts("at"))
                .foreign_key(&mut fk("subcontract_claims", "subcontract_id", "subcontracts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_claims_org", "subcontract_claims", &["subcontract_id", "org_id"]).unique().to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("bids")
                .col(big_pk_auto("id"))
                .col(big_integer("subcontract_id"))
                .col(big_integer("org_id"))
                .col(integer_null("share_bp"))
                .col(big_integer_null("fee_fen"))
                .col(text("plan"))
                .col(json("implementer_ids"))
                .col(string_len("status", 16))
                .col(big_integer_null("submitted_by"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("bids", "subcontract_id", "subcontracts"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_bids_org", "bids", &["subcontract_id", "org_id"]).unique().to_owned()).await?;

        m.create_table(
            Table::create()
                .table("ratings")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("order_id"))
                .col(big_integer("client_id"))
                .col(big_integer("deliverer_id"))
                .col(small_integer("overall"))
                .col(small_integer("professionalism"))
                .col(small_integer("timeliness"))
                .col(small_integer("communication"))
                .col(small_integer("outcome"))
                .col(text_null("comment"))
                .col(text_null("reply"))
                .col(ts_null("replied_at"))
                .col(big_integer_null("rated_by"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("ratings", "order_id", "orders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_ratings_deliverer", "ratings", &["deliverer_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "ratings",
            "bids",
            "subcontract_claims",
            "subcontract_requirements",
            "subcontracts",
            "order_assignments",
            "order_milestones",
            "orders",
            "contract_lines",
            "contracts",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
