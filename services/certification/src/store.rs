//! The `certifications`, `credentials`, `certification_requirements` and `credential_evidence`
//! tables, and the reads of the marketplace's deliveries and ratings that earn credentials.

use std::collections::HashMap;

use chrono::NaiveDate;
use kernel::{Cursor, Page, PageRequest};
use platform::Scope;
use platform::db::sql;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    Value,
};

use crate::requirements::DeliveryRecord;

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

/// The certification of each credential, by credential id.
pub async fn certifications_of_credentials<C: ConnectionTrait>(
    conn: &C,
    credential_ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, certification::Model>, DbErr> {
    let creds = credential::Entity::find().filter(credential::Column::Id.is_in(credential_ids)).all(conn).await?;
    let certs: std::collections::HashMap<i64, certification::Model> = certification::Entity::find()
        .filter(certification::Column::Id.is_in(creds.iter().map(|c| c.certification_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    Ok(creds.into_iter().filter_map(|c| certs.get(&c.certification_id).map(|m| (c.id, m.clone()))).collect())
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
    credential_query(scope, id).one(conn).await
}

/// [`credential_in_scope`], its row locked until the end of the transaction (PostgreSQL): two
/// changes of one credential are one after the other, the second seeing the first.
pub async fn credential_in_scope_locked<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> Result<Option<credential::Model>, DbErr> {
    credential_query(scope, id).lock_exclusive().one(conn).await
}

fn credential_query(scope: &Scope, id: i64) -> sea_orm::Select<credential::Entity> {
    use credential::Column as C;
    let mut q = credential::Entity::find_by_id(id);
    if let Some(cond) = platform::scope::condition(scope, C::OrgId, Some(C::UserId)) {
        q = q.filter(cond);
    }
    q
}

pub mod requirement {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certification_requirements")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub certification_id: i64,
        pub version: i32,
        pub exam_min_score: Option<i32>,
        pub training_hours: Option<i32>,
        pub delivery_services: Json,
        pub delivery_count: i32,
        pub min_rating_centi: Option<i32>,
        pub validity_months: i32,
        pub note: Option<String>,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod evidence {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credential_evidence")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub credential_id: i64,
        pub user_id: i64,
        pub org_id: i64,
        pub kind: String,
        pub title: String,
        pub taken_on: Date,
        pub exam_score: Option<i32>,
        pub training_hours: Option<i32>,
        pub attachments: Json,
        pub status: String,
        pub submitted_by: Option<i64>,
        pub submitted_at: DateTimeUtc,
        pub reviewed_by: Option<i64>,
        pub reviewed_at: Option<DateTimeUtc>,
        pub review_note: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Every version of the requirements of these certifications, oldest first.
pub async fn requirements_of<C: ConnectionTrait>(conn: &C, cert_ids: &[i64]) -> Result<Vec<requirement::Model>, DbErr> {
    use requirement::Column as R;
    if cert_ids.is_empty() {
        return Ok(Vec::new());
    }
    requirement::Entity::find()
        .filter(R::CertificationId.is_in(cert_ids.iter().copied()))
        .order_by_asc(R::CertificationId)
        .order_by_asc(R::Version)
        .all(conn)
        .await
}

/// The newest version of the requirements of each certification that has any.
pub async fn current_requirements<C: ConnectionTrait>(
    conn: &C,
    cert_ids: Option<&[i64]>,
) -> Result<HashMap<i64, requirement::Model>, DbErr> {
    let rows = match cert_ids {
        Some(ids) => requirements_of(conn, ids).await?,
        None => requirement::Entity::find().order_by_asc(requirement::Column::Version).all(conn).await?,
    };
    let mut out = HashMap::new();
    for r in rows {
        out.insert(r.certification_id, r);
    }
    Ok(out)
}

#[derive(Debug, Default, Clone)]
pub struct EvidenceFilter {
    /// One piece of evidence (a read by id goes through the same scoped query).
    pub id: Option<i64>,
    pub credential_id: Option<i64>,
    pub status: Option<String>,
}

pub async fn list_evidence<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &EvidenceFilter,
    page: &PageRequest,
) -> Result<Page<evidence::Model>, DbErr> {
    use evidence::Column as E;
    let mut q = evidence::Entity::find();
    if let Some(cond) = platform::scope::condition(scope, E::OrgId, Some(E::UserId)) {
        q = q.filter(cond);
    }
    if let Some(id) = f.id {
        q = q.filter(E::Id.eq(id));
    }
    if let Some(c) = f.credential_id {
        q = q.filter(E::CredentialId.eq(c));
    }
    if let Some(s) = &f.status {
        q = q.filter(E::Status.eq(s.as_str()));
    }
    if let Some(after) = page.after_id() {
        q = q.filter(E::Id.gt(after));
    }
    let rows = q.order_by_asc(E::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |c| Cursor::after_id(c.id)))
}

/// A piece of evidence in the scope, its row locked until the end of the transaction
/// (PostgreSQL): of a verification and a rejection at the same moment, the second sees the
/// first's verdict.
pub async fn evidence_in_scope_locked<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> Result<Option<evidence::Model>, DbErr> {
    use evidence::Column as E;
    let mut q = evidence::Entity::find_by_id(id);
    if let Some(cond) = platform::scope::condition(scope, E::OrgId, Some(E::UserId)) {
        q = q.filter(cond);
    }
    q.lock_exclusive().one(conn).await
}

/// Which credentials an assessment reads.
#[derive(Debug, Clone, Copy)]
pub enum Assessed {
    One(i64),
    User(i64),
    /// Every credential in progress, expiring or expired (the daily sweep).
    Pending,
}

impl Assessed {
    fn condition(self, values: &mut Vec<Value>) -> String {
        match self {
            Assessed::One(id) => {
                values.push(id.into());
                format!("c.id = ${}", values.len())
            }
            Assessed::User(id) => {
                values.push(id.into());
                format!("c.user_id = ${}", values.len())
            }
            Assessed::Pending => "c.status IN ('in_progress', 'expiring', 'expired')".into(),
        }
    }
}

/// Verified evidence per credential: the best exam score and the training hours. A credential in
/// progress counts all of it; a held one what was taken since it was issued (its renewal).
pub async fn evidence_totals<C: ConnectionTrait>(
    conn: &C,
    which: Assessed,
) -> Result<HashMap<i64, (Option<i32>, i64)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        credential_id: i64,
        best_exam: Option<i32>,
        hours: Option<i64>,
    }
    let mut values = Vec::new();
    let cond = which.condition(&mut values);
    let b = conn.get_database_backend();
    let rows = Row::find_by_statement(sql(
        b,
        &format!(
            "SELECT e.credential_id AS credential_id, \
             MAX(CASE WHEN e.kind = 'exam' THEN e.exam_score END) AS best_exam, \
             SUM(CASE WHEN e.kind = 'training' THEN e.training_hours ELSE 0 END) AS hours \
             FROM credential_evidence e JOIN credentials c ON c.id = e.credential_id \
             WHERE e.status = 'verified' AND (c.status = 'in_progress' OR c.issued_on IS NULL OR e.taken_on >= c.issued_on) \
             AND {cond} GROUP BY e.credential_id"
        ),
        values,
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.credential_id, (r.best_exam, r.hours.unwrap_or(0)))).collect())
}

/// Accepted deliveries per credential and service, with their ratings, counted like evidence
/// (all of them while in progress, since the issue date for a held credential).
pub async fn delivery_totals<C: ConnectionTrait>(
    conn: &C,
    which: Assessed,
) -> Result<HashMap<i64, Vec<DeliveryRecord>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        credential_id: i64,
        code: String,
        accepted: i64,
        rated: i64,
        stars: Option<i64>,
    }
    let mut values = Vec::new();
    let cond = which.condition(&mut values);
    let b = conn.get_database_backend();
    let rows = Row::find_by_statement(sql(
        b,
        &format!(
            "SELECT c.id AS credential_id, s.code AS code, COUNT(*) AS accepted, COUNT(r.id) AS rated, \
             SUM(r.overall) AS stars \
             FROM credentials c JOIN order_assignments a ON a.user_id = c.user_id \
             JOIN orders o ON o.id = a.order_id JOIN services s ON s.id = o.service_id \
             LEFT JOIN ratings r ON r.order_id = o.id \
             WHERE o.accepted_at IS NOT NULL AND (c.status = 'in_progress' OR c.issued_on IS NULL OR o.accepted_at >= c.issued_on) \
             AND {cond} GROUP BY c.id, s.code"
        ),
        values,
    ))
    .all(conn)
    .await?;
    let mut out: HashMap<i64, Vec<DeliveryRecord>> = HashMap::new();
    for r in rows {
        out.entry(r.credential_id).or_default().push(DeliveryRecord {
            service_code: r.code,
            accepted: r.accepted,
            rated: r.rated,
            stars: r.stars.unwrap_or(0),
        });
    }
    Ok(out)
}

/// A user's accepted deliveries per service, all time (progress towards certifications they
/// have not started).
pub async fn user_deliveries<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<Vec<DeliveryRecord>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        code: String,
        accepted: i64,
        rated: i64,
        stars: Option<i64>,
    }
    let b = conn.get_database_backend();
    let rows = Row::find_by_statement(sql(
        b,
        "SELECT s.code AS code, COUNT(*) AS accepted, COUNT(r.id) AS rated, SUM(r.overall) AS stars \
         FROM order_assignments a JOIN orders o ON o.id = a.order_id JOIN services s ON s.id = o.service_id \
         LEFT JOIN ratings r ON r.order_id = o.id \
         WHERE a.user_id = $1 AND o.accepted_at IS NOT NULL GROUP BY s.code",
        [user_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DeliveryRecord {
            service_code: r.code,
            accepted: r.accepted,
            rated: r.rated,
            stars: r.stars.unwrap_or(0),
        })
        .collect())
}

/// The credentials an assessment reads.
pub async fn assessed_credentials<C: ConnectionTrait>(
    conn: &C,
    which: Assessed,
) -> Result<Vec<credential::Model>, DbErr> {
    use credential::Column as C;
    let q = credential::Entity::find();
    let q = match which {
        Assessed::One(id) => q.filter(C::Id.eq(id)),
        Assessed::User(id) => q.filter(C::UserId.eq(id)),
        Assessed::Pending => q.filter(C::Status.is_in(["in_progress", "expiring", "expired"])),
    };
    q.order_by_asc(C::Id).all(conn).await
}

/// The implementers assigned to an order.
pub async fn assigned_users<C: ConnectionTrait>(conn: &C, order_id: i64) -> Result<Vec<i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        user_id: i64,
    }
    let rows = Row::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT user_id FROM order_assignments WHERE order_id = $1 ORDER BY user_id",
        [order_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

/// Held credentials whose status the sweep may have to change on `today`: earned ones within the
/// expiring window, and every expiring one.
pub async fn sweep_candidates<C: ConnectionTrait>(
    conn: &C,
    window_end: NaiveDate,
) -> Result<Vec<credential::Model>, DbErr> {
    use credential::Column as C;
    credential::Entity::find()
        .filter(
            Condition::any()
                .add(Condition::all().add(C::Status.eq("earned")).add(C::ExpiresOn.lte(window_end)))
                .add(C::Status.eq("expiring")),
        )
        .order_by_asc(C::Id)
        .all(conn)
        .await
}

/// Moves a credential from `from` to new facts only if it still has status `from`: of several
/// replicas or requests doing the same, exactly one succeeds.
pub async fn compare_and_set<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    from: &str,
    to: &crate::domain::CredentialFacts,
    requirements_version: Option<Option<i32>>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    use credential::Column as C;
    use sea_orm::sea_query::Expr;
    let mut q = credential::Entity::update_many()
        .col_expr(C::Status, Expr::value(to.status.as_str()))
        .col_expr(C::IssuedOn, Expr::value(to.issued_on))
        .col_expr(C::ExpiresOn, Expr::value(to.expires_on))
        .col_expr(C::RevokedReason, Expr::value(to.revoked_reason.clone()))
        .col_expr(C::UpdatedAt, Expr::value(now));
    if let Some(v) = requirements_version {
        q = q.col_expr(C::RequirementsVersion, Expr::value(v));
    }
    let res = q.filter(C::Id.eq(id)).filter(C::Status.eq(from)).exec(conn).await?;
    Ok(res.rows_affected == 1)
}
