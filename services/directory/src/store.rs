//! The directory's tables: `organisations` and `services`.

use kernel::{Cursor, OrgKind, Page, PageRequest};
use platform::Scope;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

pub mod organisation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "organisations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub kind: String,
        pub name_zh: String,
        pub name_en: Option<String>,
        pub credit_code: Option<String>,
        pub parent_id: Option<i64>,
        pub equity_stake_bp: Option<i32>,
        pub regions: Json,
        pub industries: Json,
        pub categories: Json,
        pub capacity: Option<i32>,
        pub tier: Option<String>,
        pub status: String,
        pub contact_name: Option<String>,
        pub contact_phone: Option<String>,
        pub contact_email: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod service {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "services")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub code: String,
        pub name_zh: String,
        pub name_en: String,
        pub category: String,
        pub description: Option<String>,
        pub required_certifications: Json,
        pub milestones: Json,
        pub agreement_template: Option<String>,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Debug, Default, Clone)]
pub struct OrgFilter {
    pub kind: Option<OrgKind>,
    pub status: Option<String>,
    pub region: Option<String>,
    pub category: Option<String>,
    pub query: Option<String>,
}

/// Membership of a code in a JSON list column, portable across SQLite and PostgreSQL. Codes are
/// checked against the reference lists before they get here, so they hold no quotes or wildcards.
fn json_list_contains(column: &'static str, code: &str) -> sea_orm::sea_query::SimpleExpr {
    let safe: String = code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    Expr::cust(format!("CAST({column} AS TEXT)")).like(format!("%\"{safe}\"%"))
}

fn like(text: &str) -> String {
    format!("%{}%", text.trim().replace(['%', '_'], ""))
}

/// The organisations a scope reaches: its own (and those it supervises), and the clients of the
/// contracts it signed and of the orders it delivers — a partner works for them and must be
/// able to find them.
fn org_scope(scope: &Scope) -> Option<Condition> {
    use organisation::Column as C;
    let cond = platform::scope::condition(scope, C::Id, None::<C>)?;
    let Scope::Limited { own_org: Some(org), .. } = scope else {
        return Some(cond);
    };
    let clients = |table: &str, party: &str| {
        Query::select()
            .column("client_id")
            .from(table.to_owned())
            .and_where(Expr::col(party.to_owned()).eq(*org))
            .to_owned()
    };
    Some(
        Condition::any()
            .add(cond)
            .add(C::Id.in_subquery(clients("contracts", "signer_id")))
            .add(C::Id.in_subquery(clients("orders", "deliverer_id"))),
    )
}

pub async fn list_orgs<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &OrgFilter,
    page: &PageRequest,
) -> Result<Page<organisation::Model>, DbErr> {
    use organisation::Column as C;
    let mut q = organisation::Entity::find();
    if let Some(cond) = org_scope(scope) {
        q = q.filter(cond);
    }
    if let Some(kind) = f.kind {
        q = q.filter(C::Kind.eq(kind.as_str()));
    }
    if let Some(status) = &f.status {
        q = q.filter(C::Status.eq(status.as_str()));
    }
    if let Some(region) = &f.region {
        q = q.filter(json_list_contains("regions", region));
    }
    if let Some(cat) = &f.category {
        q = q.filter(json_list_contains("categories", cat));
    }
    if let Some(text) = f.query.as_deref().filter(|t| !t.trim().is_empty()) {
        q = q.filter(Condition::any().add(C::NameZh.like(like(text))).add(C::NameEn.like(like(text))));
    }
    if let Some(after) = page.after_id() {
        q = q.filter(C::Id.gt(after));
    }
    let rows = q.order_by_asc(C::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |o| Cursor::after_id(o.id)))
}

pub async fn org_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> Result<Option<organisation::Model>, DbErr> {
    let mut q = organisation::Entity::find_by_id(id);
    if let Some(cond) = org_scope(scope) {
        q = q.filter(cond);
    }
    q.one(conn).await
}

pub async fn vendor<C: ConnectionTrait>(conn: &C) -> Result<Option<organisation::Model>, DbErr> {
    use organisation::Column as C;
    organisation::Entity::find().filter(C::Kind.eq(OrgKind::Vendor.as_str())).order_by_asc(C::Id).one(conn).await
}

pub async fn org_count<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    organisation::Entity::find().count(conn).await
}

#[derive(Debug, Default, Clone)]
pub struct ServiceFilter {
    pub category: Option<String>,
    pub status: Option<String>,
    pub query: Option<String>,
}

pub async fn list_services<C: ConnectionTrait>(
    conn: &C,
    f: &ServiceFilter,
    page: &PageRequest,
) -> Result<Page<service::Model>, DbErr> {
    use service::Column as C;
    let mut q = service::Entity::find();
    if let Some(cat) = &f.category {
        q = q.filter(C::Category.eq(cat.as_str()));
    }
    if let Some(status) = &f.status {
        q = q.filter(C::Status.eq(status.as_str()));
    }
    if let Some(text) = f.query.as_deref().filter(|t| !t.trim().is_empty()) {
        q = q.filter(
            Condition::any()
                .add(C::NameZh.like(like(text)))
                .add(C::NameEn.like(like(text)))
                .add(C::Code.like(like(&text.to_uppercase()))),
        );
    }
    if let Some(after) = page.after_id() {
        q = q.filter(C::Id.gt(after));
    }
    let rows = q.order_by_asc(C::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |s| Cursor::after_id(s.id)))
}

pub async fn service_by_id<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<service::Model>, DbErr> {
    service::Entity::find_by_id(id).one(conn).await
}

pub async fn service_by_code<C: ConnectionTrait>(conn: &C, code: &str) -> Result<Option<service::Model>, DbErr> {
    service::Entity::find().filter(service::Column::Code.eq(code)).one(conn).await
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct CodeRow {
    code: String,
}

/// Which of `codes` are not in the certification catalog.
pub async fn unknown_certifications<C: ConnectionTrait>(conn: &C, codes: &[String]) -> Result<Vec<String>, DbErr> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    use sea_orm::FromQueryResult;
    use sea_orm::sea_query::{Alias, Query};
    let stmt = Query::select()
        .column(Alias::new("code"))
        .from(Alias::new("certifications"))
        .and_where(Expr::col(Alias::new("code")).is_in(codes.iter().cloned()))
        .to_owned();
    let known: Vec<String> = CodeRow::find_by_statement(conn.get_database_backend().build(&stmt))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.code)
        .collect();
    Ok(codes.iter().filter(|c| !known.contains(c)).cloned().collect())
}

pub mod agreement_template {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "agreement_templates")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub code: String,
        pub name_zh: String,
        pub name_en: String,
        pub rules: Json,
        pub tiers: Json,
        pub version: i32,
        pub updated_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn agreement_template_by_code<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Option<agreement_template::Model>, DbErr> {
    agreement_template::Entity::find().filter(agreement_template::Column::Code.eq(code)).one(conn).await
}

pub async fn agreement_templates<C: ConnectionTrait>(conn: &C) -> Result<Vec<agreement_template::Model>, DbErr> {
    agreement_template::Entity::find().order_by_asc(agreement_template::Column::Code).all(conn).await
}

/// The Chinese name of an organisation (for e-mails).
pub async fn org_name<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<String>, DbErr> {
    Ok(organisation::Entity::find_by_id(id).one(conn).await?.map(|o| o.name_zh))
}
