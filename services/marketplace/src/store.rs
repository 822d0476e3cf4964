//! The marketplace tables and the queries over them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use kernel::{Cursor, Page, PageRequest};
use platform::Scope;
use platform::db::sql;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    QueryFilter, QueryOrder, QuerySelect, Value,
};

use crate::domain::Quality;

macro_rules! entity {
    ($module:ident, $table:literal, { $($field:ident : $ty:ty),* $(,)? }) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                $(pub $field: $ty,)*
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(contract, "contracts", {
    contract_no: String,
    client_id: i64,
    signer_id: i64,
    account_manager_id: Option<i64>,
    signed_on: Date,
    term_years: i32,
    first_year_fen: i64,
    maintenance_fen: i64,
    agreement: Json,
    status: String,
    created_by: Option<i64>,
    created_at: DateTimeUtc,
    updated_at: DateTimeUtc,
});

entity!(line, "contract_lines", {
    contract_id: i64,
    line_no: i32,
    service_id: i64,
    amount_fen: i64,
});

entity!(order, "orders", {
    order_no: String,
    contract_id: i64,
    line_id: i64,
    client_id: i64,
    signer_id: i64,
    service_id: i64,
    category: String,
    region: String,
    industry: Option<String>,
    status: String,
    deliverer_id: Option<i64>,
    due_on: Date,
    assign_by: Option<DateTimeUtc>,
    dispatched_at: Option<DateTimeUtc>,
    delivered_at: Option<DateTimeUtc>,
    on_time: Option<bool>,
    accepted_at: Option<DateTimeUtc>,
    note: Option<String>,
    created_at: DateTimeUtc,
    updated_at: DateTimeUtc,
    exec_share_bp: Option<i32>,
    exec_fee_fen: Option<i64>,
});

entity!(milestone, "order_milestones", {
    order_id: i64,
    seq: i32,
    code: String,
    name_zh: String,
    name_en: String,
    due_on: Date,
    status: String,
    done_at: Option<DateTimeUtc>,
    done_by: Option<i64>,
    overdue_notified_at: Option<DateTimeUtc>,
});

entity!(subcontract, "subcontracts", {
    order_id: i64,
    signer_id: i64,
    service_id: i64,
    category: String,
    region: String,
    industry: Option<String>,
    reason: String,
    mode: String,
    min_quality_centi: Option<i32>,
    share_bp: Option<i32>,
    fixed_fee_fen: Option<i64>,
    claim_deadline: DateTimeUtc,
    status: String,
    winner_id: Option<i64>,
    awarded_at: Option<DateTimeUtc>,
    published_by: Option<i64>,
    created_at: DateTimeUtc,
});

entity!(bid, "bids", {
    subcontract_id: i64,
    org_id: i64,
    share_bp: Option<i32>,
    fee_fen: Option<i64>,
    plan: String,
    implementer_ids: Json,
    status: String,
    submitted_by: Option<i64>,
    created_at: DateTimeUtc,
    updated_at: DateTimeUtc,
});

entity!(rating, "ratings", {
    order_id: i64,
    client_id: i64,
    deliverer_id: i64,
    overall: i16,
    professionalism: i16,
    timeliness: i16,
    communication: i16,
    outcome: i16,
    comment: Option<String>,
    reply: Option<String>,
    replied_at: Option<DateTimeUtc>,
    rated_by: Option<i64>,
    created_at: DateTimeUtc,
    updated_at: DateTimeUtc,
});

pub mod assignment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_assignments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub order_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub assigned_at: DateTimeUtc,
        pub assigned_by: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn supervised_orgs(vendor: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column("id")
        .from("organisations")
        .and_where(Expr::col("parent_id").eq(vendor))
        .and_where(Expr::col("kind").is_in(["direct_team", "equity_partner"]))
        .to_owned()
}

/// The orders a scope reaches: those the caller's organisation signed, delivers or bought, those
/// of organisations it supervises, and (for `self`) those the caller is assigned to.
pub fn order_scope(scope: &Scope) -> Option<Condition> {
    use order::Column as O;
    let Scope::Limited { own_org, supervised_by, user } = scope else {
        return None;
    };
    let mut any = Condition::any();
    if let Some(org) = own_org {
        any = any.add(O::SignerId.eq(*org)).add(O::DelivererId.eq(*org)).add(O::ClientId.eq(*org));
    }
    if let Some(vendor) = supervised_by {
        any = any.add(O::SignerId.in_subquery(supervised_orgs(*vendor)));
        any = any.add(O::DelivererId.in_subquery(supervised_orgs(*vendor)));
    }
    if let Some(u) = user {
        any = any.add(
            O::Id.in_subquery(
                Query::select()
                    .column("order_id")
                    .from("order_assignments")
                    .and_where(Expr::col("user_id").eq(*u))
                    .to_owned(),
            ),
        );
    }
    if any.is_empty() {
        any = any.add(Expr::val(1).eq(0));
    }
    Some(any)
}

/// The contracts a scope reaches: signed by the caller's organisation or bought by it, or signed
/// by an organisation it supervises.
pub fn contract_scope(scope: &Scope) -> Option<Condition> {
    use contract::Column as C;
    let Scope::Limited { own_org, supervised_by, .. } = scope else {
        return None;
    };
    let mut any = Condition::any();
    if let Some(org) = own_org {
        any = any.add(C::SignerId.eq(*org)).add(C::ClientId.eq(*org));
    }
    if let Some(vendor) = supervised_by {
        any = any.add(C::SignerId.in_subquery(supervised_orgs(*vendor)));
    }
    if any.is_empty() {
        any = any.add(Expr::val(1).eq(0));
    }
    Some(any)
}

fn after_id<E: EntityTrait>(q: sea_orm::Select<E>, col: impl ColumnTrait, page: &PageRequest) -> sea_orm::Select<E> {
    match page.after_id() {
        Some(id) => q.filter(col.lt(id)),
        None => q,
    }
}

#[derive(Debug, Default, Clone)]
pub struct ContractFilter {
    pub client_id: Option<i64>,
    pub signer_id: Option<i64>,
    /// Contracts with an order in this state.
    pub order_status: Option<String>,
    /// Contracts with a line of this service.
    pub service_id: Option<i64>,
    /// Contracts with an order delivered by this organisation.
    pub deliverer_id: Option<i64>,
    /// Contracts with an order in this region.
    pub region: Option<String>,
    pub signed_from: Option<NaiveDate>,
    pub signed_to: Option<NaiveDate>,
    /// Text in the client's name or the contract number.
    pub q: Option<String>,
}

/// `LIKE` pattern for a text search: the text anywhere, lower-cased, its wildcards escaped.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// `column` holds `text` (case-insensitive for Latin letters, on both databases).
fn holds(column: impl sea_orm::sea_query::IntoColumnRef, text: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Func, LikeExpr};
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(contains_pattern(text)).escape('\\'))
}

/// The ids of the organisations whose name holds `text`.
fn orgs_named(text: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column("id")
        .from("organisations")
        .cond_where(Condition::any().add(holds("name_zh", text)).add(holds("name_en", text)))
        .to_owned()
}

/// The contract ids of the orders matching `cond` (a condition over `orders`' columns).
fn contracts_with_orders(cond: sea_orm::sea_query::SimpleExpr) -> sea_orm::sea_query::SelectStatement {
    Query::select().column("contract_id").from("orders").and_where(cond).to_owned()
}

/// Newest first.
pub async fn list_contracts<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &ContractFilter,
    page: &PageRequest,
) -> Result<Page<contract::Model>, DbErr> {
    use contract::Column as K;
    let mut q = contract::Entity::find();
    if let Some(c) = contract_scope(scope) {
        q = q.filter(c);
    }
    if let Some(id) = f.client_id {
        q = q.filter(K::ClientId.eq(id));
    }
    if let Some(id) = f.signer_id {
        q = q.filter(K::SignerId.eq(id));
    }
    if let Some(s) = &f.order_status {
        q = q.filter(K::Id.in_subquery(contracts_with_orders(Expr::col("status").eq(s.as_str()))));
    }
    if let Some(id) = f.service_id {
        let lines = Query::select()
            .column("contract_id")
            .from("contract_lines")
            .and_where(Expr::col("service_id").eq(id))
            .to_owned();
        q = q.filter(K::Id.in_subquery(lines));
    }
    if let Some(id) = f.deliverer_id {
        q = q.filter(K::Id.in_subquery(contracts_with_orders(Expr::col("deliverer_id").eq(id))));
    }
    if let Some(r) = &f.region {
        q = q.filter(K::Id.in_subquery(contracts_with_orders(Expr::col("region").eq(r.as_str()))));
    }
    if let Some(d) = f.signed_from {
        q = q.filter(K::SignedOn.gte(d));
    }
    if let Some(d) = f.signed_to {
        q = q.filter(K::SignedOn.lte(d));
    }
    if let Some(text) = &f.q {
        q = q.filter(Condition::any().add(holds(K::ContractNo, text)).add(K::ClientId.in_subquery(orgs_named(text))));
    }
    let rows = after_id(q, K::Id, page).order_by_desc(K::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |m| Cursor::after_id(m.id)))
}

pub async fn contract_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> Result<Option<contract::Model>, DbErr> {
    let mut q = contract::Entity::find_by_id(id);
    if let Some(c) = contract_scope(scope) {
        q = q.filter(c);
    }
    q.one(conn).await
}

pub async fn lines_of<C: ConnectionTrait>(conn: &C, contract_id: i64) -> Result<Vec<line::Model>, DbErr> {
    line::Entity::find()
        .filter(line::Column::ContractId.eq(contract_id))
        .order_by_asc(line::Column::LineNo)
        .all(conn)
        .await
}

/// Puts an implementer on an order; false when they were on it already (a concurrent request
/// put them there).
pub async fn assign<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
    user_id: i64,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = conn
        .execute_raw(sql(
            conn.get_database_backend(),
            "INSERT INTO order_assignments (order_id, user_id, assigned_at, assigned_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (order_id, user_id) DO NOTHING",
            [order_id.into(), user_id.into(), now.into(), by.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// One contract line.
pub async fn line_of<C: ConnectionTrait>(conn: &C, id: i64) -> Result<line::Model, DbErr> {
    line::Entity::find_by_id(id).one(conn).await?.ok_or_else(|| DbErr::RecordNotFound(format!("contract line {id}")))
}

pub async fn orders_of_contract<C: ConnectionTrait>(conn: &C, contract_id: i64) -> Result<Vec<order::Model>, DbErr> {
    order::Entity::find()
        .filter(order::Column::ContractId.eq(contract_id))
        .order_by_asc(order::Column::Id)
        .all(conn)
        .await
}

#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    pub status: Option<String>,
    pub region: Option<String>,
    pub service_id: Option<i64>,
    pub deliverer_id: Option<i64>,
    pub client_id: Option<i64>,
    pub signer_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    /// Text in the client's name, the order number or the contract number.
    pub q: Option<String>,
}

/// Newest first.
pub async fn list_orders<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &OrderFilter,
    page: &PageRequest,
) -> Result<Page<order::Model>, DbErr> {
    use order::Column as O;
    let mut q = order::Entity::find();
    if let Some(c) = order_scope(scope) {
        q = q.filter(c);
    }
    if let Some(s) = &f.status {
        q = q.filter(O::Status.eq(s.as_str()));
    }
    if let Some(r) = &f.region {
        q = q.filter(O::Region.eq(r.as_str()));
    }
    if let Some(id) = f.service_id {
        q = q.filter(O::ServiceId.eq(id));
    }
    if let Some(id) = f.deliverer_id {
        q = q.filter(O::DelivererId.eq(id));
    }
    if let Some(id) = f.client_id {
        q = q.filter(O::ClientId.eq(id));
    }
    if let Some(id) = f.signer_id {
        q = q.filter(O::SignerId.eq(id));
    }
    if let Some(id) = f.contract_id {
        q = q.filter(O::ContractId.eq(id));
    }
    if let Some(d) = f.due_from {
        q = q.filter(O::DueOn.gte(d));
    }
    if let Some(d) = f.due_to {
        q = q.filter(O::DueOn.lte(d));
    }
    if let Some(text) = &f.q {
        let contracts = Query::select().column("id").from("contracts").and_where(holds("contract_no", text)).to_owned();
        q = q.filter(
            Condition::any()
                .add(holds(O::OrderNo, text))
                .add(O::ContractId.in_subquery(contracts))
                .add(O::ClientId.in_subquery(orgs_named(text))),
        );
    }
    let rows = after_id(q, O::Id, page).order_by_desc(O::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |m| Cursor::after_id(m.id)))
}

pub async fn order_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> Result<Option<order::Model>, DbErr> {
    let mut q = order::Entity::find_by_id(id);
    if let Some(c) = order_scope(scope) {
        q = q.filter(c);
    }
    q.one(conn).await
}

pub async fn milestones_of<C: ConnectionTrait>(conn: &C, order_id: i64) -> Result<Vec<milestone::Model>, DbErr> {
    milestone::Entity::find()
        .filter(milestone::Column::OrderId.eq(order_id))
        .order_by_asc(milestone::Column::Seq)
        .all(conn)
        .await
}

pub async fn milestones_of_many<C: ConnectionTrait>(
    conn: &C,
    order_ids: &[i64],
) -> Result<Vec<milestone::Model>, DbErr> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    milestone::Entity::find()
        .filter(milestone::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(milestone::Column::OrderId)
        .order_by_asc(milestone::Column::Seq)
        .all(conn)
        .await
}

pub async fn assignments_of<C: ConnectionTrait>(conn: &C, order_id: i64) -> Result<Vec<assignment::Model>, DbErr> {
    assignment::Entity::find()
        .filter(assignment::Column::OrderId.eq(order_id))
        .order_by_asc(assignment::Column::AssignedAt)
        .all(conn)
        .await
}

/// The latest subcontract of an order (its current or last round in the pool).
pub async fn current_subcontract<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
) -> Result<Option<subcontract::Model>, DbErr> {
    subcontract::Entity::find()
        .filter(subcontract::Column::OrderId.eq(order_id))
        .order_by_desc(subcontract::Column::Id)
        .one(conn)
        .await
}

/// What a claim is about and who claims it: the subcontract, its order, the order's service and
/// the certifications the subcontract requires; the client, the signer and the claimant's
/// organisation; the claimant's counters and valid certifications; its administrators.
#[derive(Debug, Clone)]
pub struct ClaimSubject {
    pub subcontract: subcontract::Model,
    pub order: order::Model,
    pub service: directory::store::service::Model,
    pub requirements: Vec<String>,
    /// The client's, the signer's and (when it exists) the claimant's organisation.
    pub orgs: Vec<directory::store::organisation::Model>,
    pub stats: DelivererStats,
    /// The claimant's active administrators, by id.
    pub admins: Vec<Person>,
    /// The order's milestones, in order.
    pub milestones: Vec<milestone::Model>,
    /// Whether money was recorded on the contract: if so, the claim re-splits it at once.
    pub has_money: bool,
}

/// Everything a claim reads, in one statement: a claim is the park's busiest write, and every
/// statement is a round trip to the database. One row per milestone of the order (the rest
/// repeated on each); the other lists come back aggregated into one column each:
/// the requirements and the valid certifications as `code` and `code:holders` separated by
/// commas (certification codes are A-Z, 0-9, '-' and '_', see `kernel::text::code`), the
/// administrators as a JSON array.
pub async fn claim_subject<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    claimant: i64,
    today: NaiveDate,
) -> Result<Option<ClaimSubject>, DbErr> {
    use directory::store::{organisation, service};
    let b = conn.get_database_backend();
    let mut values: Vec<Value> = vec![id.into(), claimant.into(), today.into()];
    values.extend(ADMIN_ROLES.iter().map(|r| Value::from((*r).to_owned())));
    let statement = claim_subject_sql(b);
    let rows = conn.query_all_raw(sql(b, statement, values)).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let mut milestones = Vec::with_capacity(rows.len());
    for r in &rows {
        if r.try_get::<Option<i64>>("", "ms_id")?.is_some() {
            milestones.push(milestone::Model::from_query_result(r, "ms_")?);
        }
    }
    let codes = |column: &str| -> Result<Vec<String>, DbErr> {
        let text: Option<String> = row.try_get("", column)?;
        let mut out: Vec<String> =
            text.iter().flat_map(|c| c.split(',')).filter(|c| !c.is_empty()).map(str::to_owned).collect();
        out.sort();
        Ok(out)
    };
    let requirements = codes("requirements")?;
    let mut stats = DelivererStats::default();
    for entry in codes("ds_certs")? {
        let holders = entry.rsplit_once(':').and_then(|(code, n)| Some((code, n.parse::<i64>().ok()?)));
        let (code, n) = holders.ok_or_else(|| DbErr::Type(format!("valid certifications: {entry}")))?;
        stats.valid_certs.insert(code.to_owned(), n);
    }
    let counter = |c: &str| -> Result<i64, DbErr> { Ok(row.try_get::<Option<i64>>("", c)?.unwrap_or(0)) };
    stats.busy = counter("ds_busy")?;
    stats.delivered = counter("ds_delivered")?;
    stats.on_time = counter("ds_on_time")?;
    stats.quality = Quality { ratings: counter("ds_ratings")?, stars: counter("ds_stars")? };
    let mut orgs =
        vec![organisation::Model::from_query_result(row, "cl_")?, organisation::Model::from_query_result(row, "sg_")?];
    if row.try_get::<Option<i64>>("", "me_id")?.is_some() {
        orgs.push(organisation::Model::from_query_result(row, "me_")?);
    }
    let admins: Option<String> = row.try_get("", "admins")?;
    let mut admins: Vec<Person> = match admins {
        Some(json) => serde_json::from_str(&json).map_err(|e| DbErr::Json(e.to_string()))?,
        None => Vec::new(),
    };
    admins.sort_by_key(|p| p.id);
    Ok(Some(ClaimSubject {
        subcontract: subcontract::Model::from_query_result(row, "sc_")?,
        order: order::Model::from_query_result(row, "od_")?,
        service: service::Model::from_query_result(row, "sv_")?,
        requirements,
        orgs,
        stats,
        admins,
        milestones,
        has_money: row.try_get::<Option<i64>>("", "has_money")?.unwrap_or(0) > 0,
    }))
}

/// The text of `claim_subject`'s statement: the same for every claim, so built once per
/// backend. Its values are the subcontract, the claimant, today and the `ADMIN_ROLES`.
fn claim_subject_sql(b: DbBackend) -> &'static str {
    use directory::store::{organisation, service};
    static POSTGRES: OnceLock<String> = OnceLock::new();
    static SQLITE: OnceLock<String> = OnceLock::new();
    let cell = if b == DbBackend::Postgres { &POSTGRES } else { &SQLITE };
    cell.get_or_init(|| {
        let (list, (open, close)) = match b {
            DbBackend::Postgres => ("string_agg", ("CAST(json_agg(json_build_object(", ")) AS TEXT)")),
            _ => ("group_concat", ("json_group_array(json_object(", "))")),
        };
        let mut cols = Vec::new();
        let mut columns = |alias: &str, names: Vec<&'static str>| {
            cols.extend(names.into_iter().map(|c| format!("{alias}.{c} AS {alias}_{c}")));
        };
        columns("sc", subcontract::Column::iter().map(|c| c.as_str()).collect());
        columns("od", order::Column::iter().map(|c| c.as_str()).collect());
        columns("sv", service::Column::iter().map(|c| c.as_str()).collect());
        for alias in ["cl", "sg", "me"] {
            columns(alias, organisation::Column::iter().map(|c| c.as_str()).collect());
        }
        columns("ms", milestone::Column::iter().map(|c| c.as_str()).collect());
        let roles: Vec<String> = (0..ADMIN_ROLES.len()).map(|i| format!("${}", i + 4)).collect();
        format!(
            "SELECT {cols}, \
               (SELECT {list}(r.certification, ',') FROM subcontract_requirements r WHERE r.subcontract_id = sc.id) \
                 AS requirements, \
               ds.busy AS ds_busy, ds.delivered AS ds_delivered, ds.on_time AS ds_on_time, ds.ratings AS ds_ratings, \
               ds.stars AS ds_stars, \
               (SELECT {list}(t.code || ':' || CAST(t.n AS TEXT), ',') FROM \
                  (SELECT k.code AS code, COUNT(DISTINCT c.user_id) AS n \
                   FROM credentials c JOIN certifications k ON k.id = c.certification_id \
                   WHERE c.org_id = $2 AND c.status IN ('earned', 'expiring') AND c.expires_on >= $3 GROUP BY k.code) t) \
                 AS ds_certs, \
               (SELECT {open}'id', u.id, 'org_id', u.org_id, 'email', u.email, 'display_name', u.display_name, \
                       'locale', u.locale{close} \
                FROM users u WHERE u.org_id = $2 AND u.status = 'active' \
                  AND EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role IN ({roles}))) AS admins, \
               (SELECT COUNT(*) FROM (SELECT 1 FROM payments p WHERE p.contract_id = od.contract_id LIMIT 1) m) \
                 AS has_money \
             FROM subcontracts sc \
             JOIN orders od ON od.id = sc.order_id \
             JOIN services sv ON sv.id = od.service_id \
             JOIN organisations cl ON cl.id = od.client_id \
             JOIN organisations sg ON sg.id = od.signer_id \
             LEFT JOIN organisations me ON me.id = $2 \
             LEFT JOIN deliverer_stats ds ON ds.org_id = $2 \
             LEFT JOIN order_milestones ms ON ms.order_id = od.id \
             WHERE sc.id = $1 ORDER BY ms.seq",
            cols = cols.join(", "),
            roles = roles.join(", "),
        )
    })
}

pub async fn requirements_of<C: ConnectionTrait>(conn: &C, subcontract_id: i64) -> Result<Vec<String>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        certification: String,
    }
    let b = conn.get_database_backend();
    let rows = Row::find_by_statement(sql(
        b,
        "SELECT certification FROM subcontract_requirements WHERE subcontract_id = $1 ORDER BY certification",
        [subcontract_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.certification).collect())
}

/// (subcontract id, certification) for many subcontracts.
pub async fn requirements_of_many<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<Vec<(i64, String)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        subcontract_id: i64,
        certification: String,
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let b = conn.get_database_backend();
    let ph: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let rows = Row::find_by_statement(sql(
        b,
        &format!(
            "SELECT subcontract_id, certification FROM subcontract_requirements WHERE subcontract_id IN ({}) \
             ORDER BY subcontract_id, certification",
            ph.join(", ")
        ),
        ids.iter().map(|i| Value::from(*i)),
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.subcontract_id, r.certification)).collect())
}

pub async fn bids_of_many<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<Vec<bid::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    bid::Entity::find()
        .filter(bid::Column::SubcontractId.is_in(ids.iter().copied()))
        .order_by_asc(bid::Column::Id)
        .all(conn)
        .await
}

pub async fn insert_requirements<C: ConnectionTrait>(
    conn: &C,
    subcontract_id: i64,
    certs: &[String],
) -> Result<(), DbErr> {
    let b = conn.get_database_backend();
    for c in certs {
        conn.execute_raw(sql(
            b,
            "INSERT INTO subcontract_requirements (subcontract_id, certification) VALUES ($1, $2)",
            [subcontract_id.into(), c.clone().into()],
        ))
        .await?;
    }
    Ok(())
}

/// The claims of a batch, one per subcontract: `(subcontract, claimant, when)`.
pub struct Take {
    pub subcontract_id: i64,
    pub org_id: i64,
    pub at: DateTime<Utc>,
}

/// `CASE id WHEN … THEN … END` over `rows`, binding what `value` gives for each.
fn case_by_id<T>(rows: &[T], id: impl Fn(&T) -> i64, value: impl Fn(&T) -> Value, values: &mut Vec<Value>) -> String {
    let mut text = String::from("CASE id");
    for r in rows {
        values.push(id(r).into());
        values.push(value(r));
        text.push_str(&format!(" WHEN ${} THEN ${}", values.len() - 1, values.len()));
    }
    text.push_str(" END");
    text
}

/// `col IN (…)` over `ids` (`1 = 0` when there are none).
fn ids_in(col: &str, ids: impl IntoIterator<Item = i64>, values: &mut Vec<Value>) -> String {
    let ph: Vec<String> = ids
        .into_iter()
        .map(|id| {
            values.push(id.into());
            format!("${}", values.len())
        })
        .collect();
    if ph.is_empty() { "1 = 0".into() } else { format!("{col} IN ({})", ph.join(", ")) }
}

/// The guarded take of first-claim subcontracts, many in one statement: each still open,
/// first-claim and before its deadline at its claim's time goes to its claimant. Of any number
/// of concurrent takes of one subcontract (in batches of any replica) exactly one changes its
/// row. Returns the subcontracts taken, as stored. Each subcontract appears at most once in
/// `takes`.
pub async fn take_subcontracts<C: ConnectionTrait>(conn: &C, takes: &[Take]) -> Result<Vec<subcontract::Model>, DbErr> {
    if takes.is_empty() {
        return Ok(Vec::new());
    }
    let b = conn.get_database_backend();
    let mut values = Vec::with_capacity(takes.len() * 7);
    let winner = case_by_id(takes, |t| t.subcontract_id, |t| t.org_id.into(), &mut values);
    let at = case_by_id(takes, |t| t.subcontract_id, |t| t.at.into(), &mut values);
    let ids = ids_in("id", takes.iter().map(|t| t.subcontract_id), &mut values);
    // The deadline is compared with the time of each claim: the CASE of `awarded_at`.
    let text = format!(
        "UPDATE subcontracts SET status = 'awarded', winner_id = {winner}, awarded_at = {at} \
         WHERE {ids} AND status = 'open' AND mode = 'first_claim' AND claim_deadline > {at} RETURNING *"
    );
    subcontract::Entity::find().from_raw_sql(sql(b, &text, values)).all(conn).await
}

/// The status of each of `ids`.
pub async fn subcontract_statuses<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, String>, DbErr> {
    let b = conn.get_database_backend();
    let mut values = Vec::new();
    let text = format!("SELECT id, status FROM subcontracts WHERE {}", ids_in("id", ids, &mut values));
    let rows = conn.query_all_raw(sql(b, &text, values)).await?;
    rows.iter().map(|r| Ok((r.try_get::<i64>("", "id")?, r.try_get::<String>("", "status")?))).collect()
}

/// A claim attempt to record.
pub struct ClaimRow<'a> {
    pub subcontract_id: i64,
    pub org_id: i64,
    pub user_id: i64,
    pub outcome: &'a str,
    pub at: DateTime<Utc>,
}

/// Records claim attempts in one statement; returns the `(subcontract, organisation)` pairs
/// recorded now — not those that had already tried (nor a second attempt within `rows`).
pub async fn record_claims<C: ConnectionTrait>(
    conn: &C,
    rows: &[ClaimRow<'_>],
) -> Result<std::collections::BTreeSet<(i64, i64)>, DbErr> {
    if rows.is_empty() {
        return Ok(Default::default());
    }
    let b = conn.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 5);
    let tuples: Vec<String> = rows
        .iter()
        .map(|r| {
            let n = values.len();
            values.extend([r.subcontract_id.into(), r.org_id.into(), r.user_id.into(), r.outcome.into(), r.at.into()]);
            format!("(${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5)
        })
        .collect();
    let text = format!(
        "INSERT INTO subcontract_claims (subcontract_id, org_id, user_id, outcome, at) VALUES {} \
         ON CONFLICT (subcontract_id, org_id) DO NOTHING RETURNING subcontract_id, org_id",
        tuples.join(", ")
    );
    let rows = conn.query_all_raw(sql(b, &text, values)).await?;
    rows.iter().map(|r| Ok((r.try_get::<i64>("", "subcontract_id")?, r.try_get::<i64>("", "org_id")?))).collect()
}

/// An order going to the winner of its subcontract, on the subcontract's terms.
pub struct Award {
    pub order_id: i64,
    pub status: &'static str,
    pub deliverer_id: i64,
    pub at: DateTime<Utc>,
    pub assign_by: DateTime<Utc>,
    pub exec_share_bp: Option<i32>,
    pub exec_fee_fen: Option<i64>,
}

/// Moves published orders to the winners of their subcontracts, in one statement; returns
/// those moved, as stored (an order no longer published is not moved: the caller compares).
/// It writes only the columns it sets.
pub async fn award_orders<C: ConnectionTrait>(conn: &C, awards: &[Award]) -> Result<Vec<order::Model>, DbErr> {
    if awards.is_empty() {
        return Ok(Vec::new());
    }
    let b = conn.get_database_backend();
    let mut values = Vec::with_capacity(awards.len() * 13);
    let status = case_by_id(awards, |a| a.order_id, |a| a.status.into(), &mut values);
    let deliverer = case_by_id(awards, |a| a.order_id, |a| a.deliverer_id.into(), &mut values);
    let at = case_by_id(awards, |a| a.order_id, |a| a.at.into(), &mut values);
    let assign_by = case_by_id(awards, |a| a.order_id, |a| a.assign_by.into(), &mut values);
    let share = case_by_id(awards, |a| a.order_id, |a| a.exec_share_bp.into(), &mut values);
    let fee = case_by_id(awards, |a| a.order_id, |a| a.exec_fee_fen.into(), &mut values);
    let ids = ids_in("id", awards.iter().map(|a| a.order_id), &mut values);
    let text = format!(
        "UPDATE orders SET status = {status}, deliverer_id = {deliverer}, dispatched_at = {at}, \
         assign_by = {assign_by}, updated_at = {at}, exec_share_bp = {share}, exec_fee_fen = {fee} \
         WHERE {ids} AND status = 'published' RETURNING *"
    );
    order::Entity::find().from_raw_sql(sql(b, &text, values)).all(conn).await
}

/// Deliverers among `org_ids` holding more orders than their capacity allows, with their busy
/// count and capacity. Read after the writes of a claim, an award or a dispatch in their own
/// transaction: the counters (`deliverer_stats`) are moved by triggers in that transaction,
/// and on PostgreSQL a concurrent transaction moving the same deliverer's row waits for this
/// one — so of two takes racing for the last free slot, the second sees the first's count.
pub async fn over_capacity<C: ConnectionTrait>(
    conn: &C,
    org_ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<(i64, i64, i32)>, DbErr> {
    let b = conn.get_database_backend();
    let mut values = Vec::new();
    let ids = ids_in("s.org_id", org_ids, &mut values);
    let text = format!(
        "SELECT s.org_id, s.busy, g.capacity FROM deliverer_stats s JOIN organisations g ON g.id = s.org_id \
         WHERE {ids} AND g.capacity IS NOT NULL AND s.busy > g.capacity"
    );
    let rows = conn.query_all_raw(sql(b, &text, values)).await?;
    rows.iter()
        .map(|r| {
            Ok((r.try_get::<i64>("", "org_id")?, r.try_get::<i64>("", "busy")?, r.try_get::<i32>("", "capacity")?))
        })
        .collect()
}

/// A subcontract, its row locked until the end of the transaction on PostgreSQL (SQLite's
/// write transactions exclude each other anyway): bids and awards of one tender are one after
/// the other, so an award sees every bid made before it and no bid lands after it.
pub async fn lock_subcontract<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<subcontract::Model>, DbErr> {
    subcontract::Entity::find_by_id(id).lock_exclusive().one(conn).await
}

/// Withdraws a subcontract that is still open; false when it is not open any more (taken or
/// closed by a concurrent request).
pub async fn withdraw_subcontract<C: ConnectionTrait>(conn: &C, id: i64) -> Result<bool, DbErr> {
    let res = conn
        .execute_raw(sql(
            conn.get_database_backend(),
            "UPDATE subcontracts SET status = 'withdrawn' WHERE id = $1 AND status = 'open'",
            [id.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Submits a partner's bid on a tender, or replaces its earlier one, in one statement: two
/// bids of one organisation at the same moment both land, the later one replacing the other.
#[allow(clippy::too_many_arguments)]
pub async fn upsert_bid<C: ConnectionTrait>(
    conn: &C,
    subcontract_id: i64,
    org_id: i64,
    share_bp: Option<i32>,
    fee_fen: Option<i64>,
    plan: &str,
    implementer_ids: &serde_json::Value,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bid::Model, DbErr> {
    let b = conn.get_database_backend();
    let text = "INSERT INTO bids (subcontract_id, org_id, share_bp, fee_fen, plan, implementer_ids, status, \
         submitted_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'submitted', $7, $8, $8) \
         ON CONFLICT (subcontract_id, org_id) DO UPDATE SET share_bp = excluded.share_bp, fee_fen = excluded.fee_fen, \
         plan = excluded.plan, implementer_ids = excluded.implementer_ids, submitted_by = excluded.submitted_by, \
         updated_at = excluded.updated_at RETURNING *";
    let values: Vec<Value> = vec![
        subcontract_id.into(),
        org_id.into(),
        share_bp.into(),
        fee_fen.into(),
        plan.into(),
        implementer_ids.clone().into(),
        by.into(),
        now.into(),
    ];
    bid::Entity::find().from_raw_sql(sql(b, text, values)).one(conn).await?.ok_or_else(|| DbErr::RecordNotInserted)
}

pub async fn bids_of<C: ConnectionTrait>(conn: &C, subcontract_id: i64) -> Result<Vec<bid::Model>, DbErr> {
    bid::Entity::find()
        .filter(bid::Column::SubcontractId.eq(subcontract_id))
        .order_by_asc(bid::Column::Id)
        .all(conn)
        .await
}

pub async fn ratings_of_many<C: ConnectionTrait>(conn: &C, order_ids: &[i64]) -> Result<Vec<rating::Model>, DbErr> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    rating::Entity::find().filter(rating::Column::OrderId.is_in(order_ids.iter().copied())).all(conn).await
}

pub async fn assignments_of_many<C: ConnectionTrait>(
    conn: &C,
    order_ids: &[i64],
) -> Result<Vec<assignment::Model>, DbErr> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    assignment::Entity::find()
        .filter(assignment::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(assignment::Column::AssignedAt)
        .all(conn)
        .await
}

/// The latest subcontract of each order that has one.
pub async fn current_subcontracts<C: ConnectionTrait>(
    conn: &C,
    order_ids: &[i64],
) -> Result<BTreeMap<i64, subcontract::Model>, DbErr> {
    if order_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = subcontract::Entity::find()
        .filter(subcontract::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(subcontract::Column::Id)
        .all(conn)
        .await?;
    // Ascending ids: the last one of each order stays.
    Ok(rows.into_iter().map(|s| (s.order_id, s)).collect())
}

pub async fn rating_of<C: ConnectionTrait>(conn: &C, order_id: i64) -> Result<Option<rating::Model>, DbErr> {
    rating::Entity::find().filter(rating::Column::OrderId.eq(order_id)).one(conn).await
}

// ---- facts about deliverers ---------------------------------------------------------------

#[derive(Debug, Clone, FromQueryResult)]
struct OrgCount {
    org_id: i64,
    n: i64,
}

#[derive(Debug, Clone, FromQueryResult)]
struct OrgCertCount {
    org_id: i64,
    code: String,
    n: i64,
}

#[derive(Debug, Clone, FromQueryResult)]
struct OrgSums {
    org_id: i64,
    n: i64,
    s: i64,
}

/// What the ranking and eligibility need to know of deliverers, beyond their profiles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelivererStats {
    pub busy: i64,
    pub valid_certs: BTreeMap<String, i64>,
    pub quality: Quality,
    pub delivered: i64,
    pub on_time: i64,
}

fn org_filter(col: &str, org: Option<i64>, next: usize) -> (String, Vec<Value>) {
    match org {
        Some(id) => (format!(" AND {col} = ${next}"), vec![id.into()]),
        None => (String::new(), vec![]),
    }
}

/// Stats of every deliverer (or of one): the counters kept by the database (migration
/// `m0012_deliverer_stats`), one row per organisation, and the valid credentials — in one
/// statement (a claim reads them on its hot path: each statement is a round trip).
pub async fn deliverer_stats<C: ConnectionTrait>(
    conn: &C,
    org: Option<i64>,
    today: NaiveDate,
) -> Result<BTreeMap<i64, DelivererStats>, DbErr> {
    /// A counters row (`code` is null) or one certification's valid holders (`n`).
    #[derive(FromQueryResult)]
    struct Row {
        org_id: i64,
        busy: i64,
        delivered: i64,
        on_time: i64,
        ratings: i64,
        stars: i64,
        code: Option<String>,
        n: i64,
    }
    let b = conn.get_database_backend();
    let (counters, _) = org_filter("org_id", org, 2);
    let (holders, v) = org_filter("c.org_id", org, 2);
    let mut values: Vec<Value> = vec![today.into()];
    values.extend(v);
    let rows = Row::find_by_statement(sql(
        b,
        &format!(
            "SELECT org_id, busy, delivered, on_time, ratings, stars, CAST(NULL AS TEXT) AS code, 0 AS n \
             FROM deliverer_stats WHERE 1 = 1{counters} \
             UNION ALL \
             SELECT c.org_id, 0, 0, 0, 0, 0, k.code, COUNT(DISTINCT c.user_id) \
             FROM credentials c JOIN certifications k ON k.id = c.certification_id \
             WHERE c.status IN ('earned', 'expiring') AND c.expires_on >= $1{holders} GROUP BY c.org_id, k.code"
        ),
        values,
    ))
    .all(conn)
    .await?;
    let mut out: BTreeMap<i64, DelivererStats> = BTreeMap::new();
    for r in rows {
        let e = out.entry(r.org_id).or_default();
        match r.code {
            Some(code) => {
                e.valid_certs.insert(code, r.n);
            }
            None => {
                e.busy = r.busy;
                e.delivered = r.delivered;
                e.on_time = r.on_time;
                e.quality = Quality { ratings: r.ratings, stars: r.stars };
            }
        }
    }
    Ok(out)
}

/// How many of each organisation's people hold each certification validly today.
async fn valid_certs_by_org<C: ConnectionTrait>(
    conn: &C,
    org: Option<i64>,
    today: NaiveDate,
) -> Result<BTreeMap<i64, DelivererStats>, DbErr> {
    let b = conn.get_database_backend();
    let mut out: BTreeMap<i64, DelivererStats> = BTreeMap::new();
    let (f, mut v) = org_filter("c.org_id", org, 2);
    v.insert(0, today.into());
    let certs = OrgCertCount::find_by_statement(sql(
        b,
        &format!(
            "SELECT c.org_id AS org_id, k.code AS code, COUNT(DISTINCT c.user_id) AS n \
             FROM credentials c JOIN certifications k ON k.id = c.certification_id \
             WHERE c.status IN ('earned', 'expiring') AND c.expires_on >= $1{f} GROUP BY c.org_id, k.code"
        ),
        v,
    ))
    .all(conn)
    .await?;
    for r in certs {
        out.entry(r.org_id).or_default().valid_certs.insert(r.code, r.n);
    }
    Ok(out)
}

/// The same stats counted afresh over every order and rating, in grouped queries: what the
/// counters of `deliverer_stats` must always equal (the tests compare the two).
pub async fn recount_deliverer_stats<C: ConnectionTrait>(
    conn: &C,
    today: NaiveDate,
) -> Result<BTreeMap<i64, DelivererStats>, DbErr> {
    let b = conn.get_database_backend();
    let mut out = valid_certs_by_org(conn, None, today).await?;

    let busy = OrgCount::find_by_statement(sql(
        b,
        "SELECT deliverer_id AS org_id, COUNT(*) AS n FROM orders \
             WHERE status IN ('dispatched', 'in_progress') AND deliverer_id IS NOT NULL GROUP BY deliverer_id",
        [],
    ))
    .all(conn)
    .await?;
    for r in busy {
        out.entry(r.org_id).or_default().busy = r.n;
    }

    let ratings = OrgSums::find_by_statement(sql(
        b,
        "SELECT deliverer_id AS org_id, COUNT(*) AS n, COALESCE(SUM(overall), 0) AS s FROM ratings \
             GROUP BY deliverer_id",
        [],
    ))
    .all(conn)
    .await?;
    for r in ratings {
        out.entry(r.org_id).or_default().quality = Quality { ratings: r.n, stars: r.s };
    }

    let delivered = OrgSums::find_by_statement(sql(
        b,
        "SELECT deliverer_id AS org_id, COUNT(*) AS n, COALESCE(SUM(CASE WHEN on_time THEN 1 ELSE 0 END), 0) AS s \
             FROM orders WHERE delivered_at IS NOT NULL AND deliverer_id IS NOT NULL GROUP BY deliverer_id",
        [],
    ))
    .all(conn)
    .await?;
    for r in delivered {
        let e = out.entry(r.org_id).or_default();
        e.delivered = r.n;
        e.on_time = r.s;
    }
    Ok(out)
}

/// Rebuilds every deliverer's counters from a fresh count of the orders and ratings
/// ([`recount_deliverer_stats`]). On PostgreSQL both tables are locked against writers first,
/// so no change slips between the count and the rows it replaces; on SQLite the write
/// transaction already excludes them.
pub async fn rebuild_deliverer_stats<C: ConnectionTrait>(conn: &C, today: NaiveDate) -> Result<(), DbErr> {
    /// Rows per INSERT: 6 parameters each, well under SQLite's 32,766 bound parameters.
    const CHUNK: usize = 1_000;
    let b = conn.get_database_backend();
    if b == DbBackend::Postgres {
        conn.execute_unprepared("LOCK TABLE orders, ratings IN SHARE MODE").await?;
    }
    conn.execute_unprepared("DELETE FROM deliverer_stats").await?;
    let counted: Vec<(i64, DelivererStats)> = recount_deliverer_stats(conn, today).await?.into_iter().collect();
    for chunk in counted.chunks(CHUNK) {
        let groups: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=6).map(|k| format!("${}", i * 6 + k)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let values = chunk.iter().flat_map(|(org, s)| {
            [*org, s.busy, s.delivered, s.on_time, s.quality.ratings, s.quality.stars].map(Value::from)
        });
        let text = format!(
            "INSERT INTO deliverer_stats (org_id, busy, delivered, on_time, ratings, stars) VALUES {}",
            groups.join(", ")
        );
        conn.execute_raw(sql(b, &text, values)).await?;
    }
    Ok(())
}

/// The certification codes a user holds validly today.
pub async fn valid_certs_of_users<C: ConnectionTrait>(
    conn: &C,
    user_ids: &[i64],
    today: NaiveDate,
) -> Result<Vec<(i64, String)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        user_id: i64,
        code: String,
    }
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let b = conn.get_database_backend();
    let placeholders: Vec<String> = (0..user_ids.len()).map(|i| format!("${}", i + 2)).collect();
    let mut values: Vec<Value> = vec![today.into()];
    values.extend(user_ids.iter().map(|id| Value::from(*id)));
    let rows = Row::find_by_statement(sql(
        b,
        &format!(
            "SELECT c.user_id AS user_id, k.code AS code FROM credentials c JOIN certifications k ON k.id = c.certification_id \
             WHERE c.status IN ('earned', 'expiring') AND c.expires_on >= $1 AND c.user_id IN ({})",
            placeholders.join(", ")
        ),
        values,
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.code)).collect())
}

/// Quality of implementers: ratings of the orders they were assigned to.
pub async fn implementer_quality<C: ConnectionTrait>(conn: &C, org_id: i64) -> Result<Vec<(i64, Quality)>, DbErr> {
    let b = conn.get_database_backend();
    let rows = OrgSums::find_by_statement(sql(
        b,
        "SELECT a.user_id AS org_id, COUNT(*) AS n, COALESCE(SUM(r.overall), 0) AS s \
         FROM order_assignments a JOIN ratings r ON r.order_id = a.order_id JOIN users u ON u.id = a.user_id \
         WHERE u.org_id = $1 GROUP BY a.user_id ORDER BY a.user_id",
        [org_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.org_id, Quality { ratings: r.n, stars: r.s })).collect())
}

// ---- the pool -----------------------------------------------------------------------------

/// What decides the pool of one partner.
#[derive(Debug, Clone)]
pub struct PoolAccess {
    pub regions: Vec<String>,
    pub categories: Vec<String>,
    pub certs: Vec<String>,
    pub quality_centi: i32,
}

#[derive(Debug, Clone, Default)]
pub struct PoolFilter {
    pub region: Option<String>,
    pub category: Option<String>,
    pub service_id: Option<i64>,
    pub mode: Option<String>,
    /// `deadline` (soonest first, the default) or `newest`.
    pub newest_first: bool,
}

fn in_list(col: &str, items: &[String], values: &mut Vec<Value>) -> String {
    if items.is_empty() {
        return "1 = 0".into();
    }
    let mut ph = Vec::with_capacity(items.len());
    for it in items {
        values.push(it.clone().into());
        ph.push(format!("${}", values.len()));
    }
    format!("{col} IN ({})", ph.join(", "))
}

/// The open subcontracts a partner is eligible for, in one query: region, category, quality
/// floor and every required certification are checked in SQL, so pages are exact.
pub async fn pool<C: ConnectionTrait>(
    conn: &C,
    access: &PoolAccess,
    f: &PoolFilter,
    now: DateTime<Utc>,
    page: &PageRequest,
) -> Result<Page<subcontract::Model>, DbErr> {
    let b = conn.get_database_backend();
    let mut values: Vec<Value> = vec![now.into(), i64::from(access.quality_centi).into()];
    let mut wh = vec![
        "s.status = 'open'".to_owned(),
        "s.claim_deadline > $1".to_owned(),
        "(s.min_quality_centi IS NULL OR s.min_quality_centi <= $2)".to_owned(),
    ];
    wh.push(in_list("s.region", &access.regions, &mut values));
    wh.push(in_list("s.category", &access.categories, &mut values));
    let certs = if access.certs.is_empty() {
        "1 = 1".to_owned()
    } else {
        in_list("r.certification", &access.certs, &mut values)
    };
    let certs_clause = if access.certs.is_empty() {
        "NOT EXISTS (SELECT 1 FROM subcontract_requirements r WHERE r.subcontract_id = s.id)".to_owned()
    } else {
        format!("NOT EXISTS (SELECT 1 FROM subcontract_requirements r WHERE r.subcontract_id = s.id AND NOT ({certs}))")
    };
    wh.push(certs_clause);
    if let Some(r) = &f.region {
        values.push(r.clone().into());
        wh.push(format!("s.region = ${}", values.len()));
    }
    if let Some(c) = &f.category {
        values.push(c.clone().into());
        wh.push(format!("s.category = ${}", values.len()));
    }
    if let Some(id) = f.service_id {
        values.push(id.into());
        wh.push(format!("s.service_id = ${}", values.len()));
    }
    if let Some(m) = &f.mode {
        values.push(m.clone().into());
        wh.push(format!("s.mode = ${}", values.len()));
    }
    let order = if f.newest_first {
        if let Some(id) = page.after_id() {
            values.push(id.into());
            wh.push(format!("s.id < ${}", values.len()));
        }
        "s.id DESC"
    } else {
        if let Some(c) = &page.after {
            let key =
                c.key.as_deref().and_then(|k| DateTime::parse_from_rfc3339(k).ok()).map(|d| d.with_timezone(&Utc));
            if let Some(key) = key {
                values.push(key.into());
                let k = values.len();
                values.push(c.id.into());
                let i = values.len();
                wh.push(format!("(s.claim_deadline > ${k} OR (s.claim_deadline = ${k} AND s.id > ${i}))"));
            }
        }
        "s.claim_deadline ASC, s.id ASC"
    };
    let text =
        format!("SELECT s.* FROM subcontracts s WHERE {} ORDER BY {order} LIMIT {}", wh.join(" AND "), page.limit + 1);
    let rows = subcontract::Model::find_by_statement(sql(b, &text, values)).all(conn).await?;
    let newest = f.newest_first;
    Ok(Page::from_rows(rows, page.limit, move |m| {
        if newest { Cursor::after_id(m.id) } else { Cursor { key: Some(m.claim_deadline.to_rfc3339()), id: m.id } }
    }))
}

// ---- people to tell -----------------------------------------------------------------------

pub use identity::people::{ADMIN_ROLES, Person, people, people_with_roles};

// ---- sweeps -------------------------------------------------------------------------------

/// Orders whose winner assigned nobody by the deadline, locked for this replica.
pub async fn lapsed_orders<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<order::Model>, DbErr> {
    let b = conn.get_database_backend();
    order::Model::find_by_statement(sql(
        b,
        &format!(
            "SELECT * FROM orders WHERE status = 'dispatched' AND assign_by IS NOT NULL AND assign_by <= $1 \
             ORDER BY id LIMIT {limit}{}",
            platform::db::skip_locked(b)
        ),
        [now.into()],
    ))
    .all(conn)
    .await
}

/// Pending milestones past their due date not yet announced, locked for this replica.
pub async fn overdue_unannounced<C: ConnectionTrait>(
    conn: &C,
    today: NaiveDate,
    limit: u64,
) -> Result<Vec<milestone::Model>, DbErr> {
    let b = conn.get_database_backend();
    milestone::Model::find_by_statement(sql(
        b,
        &format!(
            "SELECT * FROM order_milestones WHERE status = 'pending' AND due_on < $1 AND overdue_notified_at IS NULL \
             ORDER BY id LIMIT {limit}{}",
            platform::db::skip_locked(b)
        ),
        [today.into()],
    ))
    .all(conn)
    .await
}

/// Overdue milestones of orders still being delivered, oldest due first.
pub async fn overdue<C: ConnectionTrait>(
    conn: &C,
    today: NaiveDate,
    page: &PageRequest,
) -> Result<Page<milestone::Model>, DbErr> {
    use milestone::Column as M;
    let mut q = milestone::Entity::find().filter(M::Status.eq("pending")).filter(M::DueOn.lt(today)).filter(
        M::OrderId.in_subquery(
            Query::select()
                .column("id")
                .from("orders")
                .and_where(Expr::col("status").is_in(["dispatched", "in_progress", "disputed"]))
                .to_owned(),
        ),
    );
    if let Some(id) = page.after_id() {
        q = q.filter(M::Id.gt(id));
    }
    let rows = q.order_by_asc(M::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |m| Cursor::after_id(m.id)))
}

/// Open subcontracts published by organisations in scope (vendor ops: all), soonest deadline
/// first.
pub async fn published<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &PoolFilter,
    page: &PageRequest,
) -> Result<Page<subcontract::Model>, DbErr> {
    use subcontract::Column as S;
    let mut q = subcontract::Entity::find().filter(S::Status.eq("open"));
    if let Some(c) = platform::scope::condition(scope, S::SignerId, None::<S>) {
        q = q.filter(c);
    }
    if let Some(r) = &f.region {
        q = q.filter(S::Region.eq(r.as_str()));
    }
    if let Some(c) = &f.category {
        q = q.filter(S::Category.eq(c.as_str()));
    }
    if let Some(id) = f.service_id {
        q = q.filter(S::ServiceId.eq(id));
    }
    if let Some(m) = &f.mode {
        q = q.filter(S::Mode.eq(m.as_str()));
    }
    if let Some(id) = page.after_id() {
        q = q.filter(S::Id.lt(id));
    }
    let rows = q.order_by_desc(S::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |m| Cursor::after_id(m.id)))
}

/// Marks a contract's money split as changed; settlement catches up to it.
pub async fn bump_settle_rev<C: ConnectionTrait>(conn: &C, contract_id: i64) -> Result<(), DbErr> {
    conn.execute_raw(sql(
        conn.get_database_backend(),
        "UPDATE contracts SET settle_rev = settle_rev + 1 WHERE id = $1",
        [contract_id.into()],
    ))
    .await?;
    Ok(())
}

/// What the success metrics read of a contract without joining its orders (migrations
/// `m0009_contract_facts`, `m0010_metrics_indexes`): region and industry as on its orders, the
/// lowest and highest category of its live orders, its first acceptance (and the days to it from
/// signing, see [`first_acceptance_days`]), and the other organisations delivering its orders
/// (how many, the lowest and highest id). Kept current in every transaction that creates a
/// contract or moves one of its orders to another deliverer, acceptance or cancellation.
const CONTRACT_FACTS: &str = "region = (SELECT MIN(o.region) FROM orders o WHERE o.contract_id = contracts.id), \
    industry = (SELECT MIN(o.industry) FROM orders o WHERE o.contract_id = contracts.id), \
    min_category = (SELECT MIN(o.category) FROM orders o WHERE o.contract_id = contracts.id AND o.status <> 'cancelled'), \
    max_category = (SELECT MAX(o.category) FROM orders o WHERE o.contract_id = contracts.id AND o.status <> 'cancelled'), \
    first_accepted_at = (SELECT MIN(o.accepted_at) FROM orders o WHERE o.contract_id = contracts.id), \
    other_deliverers = (SELECT COUNT(DISTINCT o.deliverer_id) FROM orders o WHERE o.contract_id = contracts.id AND o.deliverer_id <> contracts.signer_id), \
    min_other_deliverer_id = (SELECT MIN(o.deliverer_id) FROM orders o WHERE o.contract_id = contracts.id AND o.deliverer_id <> contracts.signer_id), \
    max_other_deliverer_id = (SELECT MAX(o.deliverer_id) FROM orders o WHERE o.contract_id = contracts.id AND o.deliverer_id <> contracts.signer_id)";

/// Recomputes a contract's facts from its orders; with `settle`, also marks its money split as
/// changed (see [`bump_settle_rev`]), in the same statement.
pub async fn refresh_contract_facts<C: ConnectionTrait>(conn: &C, contract_id: i64, settle: bool) -> Result<(), DbErr> {
    refresh_contracts_facts(conn, [contract_id], settle).await
}

/// [`refresh_contract_facts`] of several contracts, in one statement.
pub async fn refresh_contracts_facts<C: ConnectionTrait>(
    conn: &C,
    contract_ids: impl IntoIterator<Item = i64>,
    settle: bool,
) -> Result<(), DbErr> {
    let b = conn.get_database_backend();
    let bump = if settle { "settle_rev = settle_rev + 1, " } else { "" };
    let days = first_acceptance_days(b);
    let mut values = Vec::new();
    let ids = ids_in("id", contract_ids, &mut values);
    let text = format!("UPDATE contracts SET {bump}{CONTRACT_FACTS}, {days} WHERE {ids}");
    conn.execute_raw(sql(b, &text, values)).await?;
    Ok(())
}

/// [`refresh_contracts_facts`] (marking the money split as changed), answering in the same
/// statement whether one of `orgs` now holds more orders than its capacity — the check of
/// [`over_capacity`] without a round trip of its own, for the claims' batches. Returns an
/// organisation over its capacity, if any.
pub async fn refresh_facts_checking_capacity<C: ConnectionTrait>(
    conn: &C,
    contract_ids: impl IntoIterator<Item = i64>,
    orgs: impl IntoIterator<Item = i64>,
) -> Result<Option<i64>, DbErr> {
    let b = conn.get_database_backend();
    let days = first_acceptance_days(b);
    let contract_ids: Vec<i64> = contract_ids.into_iter().collect();
    let mut values = Vec::new();
    let ids = ids_in("id", contract_ids.iter().copied(), &mut values);
    let orgs = ids_in("s.org_id", orgs, &mut values);
    values.push(contract_ids.iter().copied().min().unwrap_or_default().into());
    // The check is answered on one row only (a `CASE` evaluates its subquery only when chosen).
    let text = format!(
        "UPDATE contracts SET settle_rev = settle_rev + 1, {CONTRACT_FACTS}, {days} WHERE {ids} \
         RETURNING CASE WHEN id = ${first} THEN (SELECT MIN(s.org_id) FROM deliverer_stats s \
           JOIN organisations g ON g.id = s.org_id WHERE {orgs} AND g.capacity IS NOT NULL AND s.busy > g.capacity) \
         END AS over_org",
        first = values.len()
    );
    let rows = conn.query_all_raw(sql(b, &text, values)).await?;
    let mut over = None;
    for r in &rows {
        over = over.or(r.try_get::<Option<i64>>("", "over_org")?);
    }
    Ok(over)
}

/// The days from signing to the first acceptance of one of the contract's orders (its UTC day).
fn first_acceptance_days(b: DbBackend) -> &'static str {
    match b {
        DbBackend::Postgres => {
            "first_acceptance_days = CAST((SELECT MIN(o.accepted_at) FROM orders o WHERE o.contract_id = contracts.id) \
             AT TIME ZONE 'UTC' AS DATE) - contracts.signed_on"
        }
        _ => {
            "first_acceptance_days = CAST(julianday(substr((SELECT MIN(o.accepted_at) FROM orders o \
             WHERE o.contract_id = contracts.id), 1, 10)) - julianday(contracts.signed_on) AS INTEGER)"
        }
    }
}

/// What every contract of a client keeps of the client (migration `m0009_contract_facts`): the
/// day it signed its second contract and the day its contracts first spanned two service
/// categories — live orders only. Kept current when a contract is created or an order cancelled.
///
/// One ordered pass over each client's contracts: a running count and running category bounds
/// (a window), then the first day each fact holds. `filter` narrows the clients (`WHERE …` on
/// `contracts`, or nothing for all). Contracts signed on the same day as the one that makes a
/// fact true count the same as in a day-by-day reading: the bounds only widen.
pub fn client_facts_statement(filter: &str) -> String {
    format!(
        "WITH w AS (SELECT client_id, signed_on, \
             CASE WHEN status <> 'cancelled' AND max_category IS NOT NULL THEN 1 ELSE 0 END AS live, \
             ROW_NUMBER() OVER running AS n, \
             MIN(min_category) OVER running AS lo, MAX(max_category) OVER running AS hi \
           FROM contracts {filter} \
           WINDOW running AS (PARTITION BY client_id, \
             CASE WHEN status <> 'cancelled' AND max_category IS NOT NULL THEN 1 ELSE 0 END \
             ORDER BY signed_on, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)), \
         f AS (SELECT client_id, \
             MIN(CASE WHEN live = 1 AND n = 2 THEN signed_on END) AS repeat_on, \
             MIN(CASE WHEN live = 1 AND lo < hi THEN signed_on END) AS deep_on \
           FROM w GROUP BY client_id) \
         UPDATE contracts SET client_repeat_on = f.repeat_on, client_deep_on = f.deep_on \
         FROM f WHERE f.client_id = contracts.client_id"
    )
}

/// Recomputes what a client's contracts keep of the client (after its contract facts).
pub async fn refresh_client_facts<C: ConnectionTrait>(conn: &C, client_id: i64) -> Result<(), DbErr> {
    conn.execute_raw(sql(
        conn.get_database_backend(),
        &client_facts_statement("WHERE client_id = $1"),
        [client_id.into()],
    ))
    .await?;
    Ok(())
}

/// Recomputes every contract's and client's facts (after loading contracts and orders in bulk).
pub async fn refresh_all_contract_facts<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    let days = first_acceptance_days(conn.get_database_backend());
    conn.execute_unprepared(&format!("UPDATE contracts SET {CONTRACT_FACTS}, {days}")).await?;
    conn.execute_unprepared(&client_facts_statement("")).await?;
    Ok(())
}
