//! The `certifications` and `credentials` tables.

use kernel::{Cursor, Page, PageRequest};
use platform::Scope;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

pub mod certification {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certifications")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub code: String,
        pub name_zh: String,
        pub name_en: String,
        pub category: String,
        pub description: Option<String>,
        pub validity_months: i32,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod credential {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credentials")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub org_id: i64,
        pub certification_id: i64,
        pub status: String,
        pub issued_on: Option<Date>,
        pub expires_on: Option<Date>,
        pub revoked_reason: Option<String>,
        pub requirements_version: Option<i32>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn like(text: &str) -> String {
    format!("%{}%", text.trim().replace(['%', '_'], ""))
}

pub async fn list_certs<C: ConnectionTrait>(
    conn: &C,
    category: Option<&str>,
    query: Option<&str>,
    page: &PageRequest,
) -> Result<Page<certification::Model>, DbErr> {
    use certification::Column as C;
    let mut q = certification::Entity::find();
    if let Some(cat) = category {
        q = q.filter(C::Category.eq(cat));
    }
    if let Some(text) = query.filter(|t| !t.trim().is_empty()) {
        q = q.filter(
            Condition::any()
                .add(C::Code.like(like(&text.to_uppercase())))
                .add(C::NameZh.like(like(text)))
                .add(C::NameEn.like(like(text))),
        );
    }
    if let Some(after) = page.after_id() {
        q = q.filter(C::Id.gt(after));
    }
    let rows = q.order_by_asc(C::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |c| Cursor::after_id(c.id)))
}

pub async fn cert<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<certification::Model>, DbErr> {
    certification::Entity::find_by_id(id).one(conn).await
}

pub async fn cert_by_code<C: ConnectionTrait>(conn: &C, code: &str) -> Result<Option<certification::Model>, DbErr> {
    certification::Entity::find().filter(certification::Column::Code.eq(code)).one(conn).await
}

pub async fn certs<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<Vec<certification::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    certification::Entity::find().filter(certification::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

#[derive(Debug, Default, Clone)]
pub struct CredentialFilter {
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub certification_id: Option<i64>,
    pub status: Option<String>,
}

pub async fn list_credentials<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &CredentialFilter,
    page: &PageRequest,
) -> Result<Page<credential::Model>, DbErr> {
    use credential::Column as C;
    let mut q = credential::Entity::find();
    if let Some(cond) = platform::scope::condition(scope, C::OrgId, Some(C::UserId)) {
        q = q.filter(cond);
    }
    if let Some(u) = f.user_id {
        q = q.filter(C::UserId.eq(u));
    }
    if let Some(o) = f.org_id {
        q = q.filter(C::OrgId.eq(o));
    }
    if let Some(c) = f.certification_id {
        q = q.filter(C::CertificationId.eq(c));
    }
    if let Some(s) = &f.status {
        q = q.filter(C::Status.eq(s.as_str()));
    }
    if let Some(after) = page.after_id() {
        q = q.filter(C::Id.gt(after));
    }
    let rows = q.order_by_asc(C::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |c| Cursor::after_id(c.id)))
}

pub async fn credential_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> Result<Option<credential::Model>, DbErr> {
    use credential::Column as C;
    let mut q = credential::Entity::find_by_id(id);
    if let Some(cond) = platform::scope::condition(scope, C::OrgId, Some(C::UserId)) {
        q = q.filter(cond);
    }
    q.one(conn).await
}
