//! Persistence of the success area: the outcome catalog, reported milestones and their credits,
//! and the read-only queries behind the metrics and the cash flow.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use kernel::{Cursor, Page, PageRequest};
use platform::Scope;
use platform::db::sql;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Value,
};

use crate::domain::Involvement;
use crate::metrics::{ClientOutcome, ClientOutcomes, GroupBy, Key, Month, Signing, Tally};

pub mod kind {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outcome_kinds")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub code: String,
        pub name_zh: String,
        pub name_en: String,
        pub description: Option<String>,
        pub window_months: i32,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outcome {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outcome_milestones")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub client_id: i64,
        pub kind_id: i64,
        pub achieved_on: Date,
        pub title: String,
        pub details: Option<String>,
        pub attachments: Json,
        pub status: String,
        pub window_start: Date,
        pub window_end: Date,
        pub in_window: bool,
        pub reported_by: Option<i64>,
        pub reporter_org_id: Option<i64>,
        pub reported_at: DateTimeUtc,
        pub reviewed_by: Option<i64>,
        pub reviewed_at: Option<DateTimeUtc>,
        pub review_note: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod credit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outcome_credits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub outcome_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub org_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub role: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

// ---- the catalog -------------------------------------------------------------------------

pub async fn kinds<C: ConnectionTrait>(conn: &C, active_only: bool) -> Result<Vec<kind::Model>, DbErr> {
    let mut q = kind::Entity::find();
    if active_only {
        q = q.filter(kind::Column::Status.eq("active"));
    }
    q.order_by_asc(kind::Column::Id).all(conn).await
}

pub async fn kind_by_code<C: ConnectionTrait>(conn: &C, code: &str) -> Result<Option<kind::Model>, DbErr> {
    kind::Entity::find().filter(kind::Column::Code.eq(code)).one(conn).await
}

// ---- milestones --------------------------------------------------------------------------

fn supervised_signers(vendor: i64) -> SelectStatement {
    Query::select()
        .column("id")
        .from("organisations")
        .and_where(Expr::col("parent_id").eq(vendor))
        .and_where(Expr::col("kind").is_in(["direct_team", "equity_partner"]))
        .to_owned()
}

fn clients_signed_by(orgs: Condition) -> SelectStatement {
    Query::select().column("client_id").from("contracts").cond_where(orgs).to_owned()
}

/// The clients whose milestones a scope reaches: the caller's own organisation when it is the
/// client, the clients it signed (`own`), or delivered to (`own`, unless `report_only`), and the
/// clients of organisations it supervises.
pub fn client_scope(scope: &Scope, report_only: bool) -> Option<Condition> {
    use outcome::Column as M;
    let Scope::Limited { own_org, supervised_by, .. } = scope else {
        return None;
    };
    let mut any = Condition::any();
    if let Some(org) = own_org {
        any = any.add(M::ClientId.eq(*org));
        any =
            any.add(M::ClientId.in_subquery(clients_signed_by(Condition::all().add(Expr::col("signer_id").eq(*org)))));
        if !report_only {
            any = any.add(
                M::ClientId.in_subquery(
                    Query::select()
                        .column("client_id")
                        .from("orders")
                        .and_where(Expr::col("deliverer_id").eq(*org))
                        .to_owned(),
                ),
            );
        }
    }
    if let Some(vendor) = supervised_by {
        any = any.add(M::ClientId.in_subquery(clients_signed_by(
            Condition::all().add(Expr::col("signer_id").in_subquery(supervised_signers(*vendor))),
        )));
    }
    if any.is_empty() {
        any = any.add(Expr::val(1).eq(0));
    }
    Some(any)
}

/// True when `client_id` is a client organisation the scope may report milestones for: the
/// client itself, an organisation that signed one of its contracts, or (supervised) the vendor
/// over such a signer. Deliverers read milestones but do not report them.
pub async fn may_report_for<C: ConnectionTrait>(conn: &C, scope: &Scope, client_id: i64) -> Result<bool, DbErr> {
    let mut values: Vec<Value> = vec![client_id.into()];
    let cond = match scope {
        Scope::All => "1 = 1".to_owned(),
        Scope::Limited { own_org, supervised_by, .. } => {
            let mut any = Vec::new();
            if let Some(org) = own_org {
                values.push((*org).into());
                let p = values.len();
                any.push(format!(
                    "k.id = ${p} OR EXISTS (SELECT 1 FROM contracts c WHERE c.client_id = k.id AND c.signer_id = ${p})"
                ));
            }
            if let Some(vendor) = supervised_by {
                values.push((*vendor).into());
                let p = values.len();
                any.push(format!(
                    "EXISTS (SELECT 1 FROM contracts c JOIN organisations s ON s.id = c.signer_id \
                     WHERE c.client_id = k.id AND s.parent_id = ${p} AND s.kind IN ('direct_team', 'equity_partner'))"
                ));
            }
            if any.is_empty() { "1 = 0".to_owned() } else { any.join(" OR ") }
        }
    };
    let text = format!("SELECT k.id FROM organisations k WHERE k.id = $1 AND k.kind = 'client' AND ({cond})");
    Ok(conn.query_one_raw(sql(conn.get_database_backend(), &text, values)).await?.is_some())
}

#[derive(Debug, Default, Clone)]
pub struct OutcomeFilter {
    pub client_id: Option<i64>,
    pub status: Option<String>,
    pub kind_id: Option<i64>,
}

/// Newest first.
pub async fn list_outcomes<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &OutcomeFilter,
    page: &PageRequest,
) -> Result<Page<outcome::Model>, DbErr> {
    use outcome::Column as M;
    let mut q = outcome::Entity::find();
    if let Some(c) = client_scope(scope, false) {
        q = q.filter(c);
    }
    if let Some(c) = f.client_id {
        q = q.filter(M::ClientId.eq(c));
    }
    if let Some(s) = &f.status {
        q = q.filter(M::Status.eq(s.as_str()));
    }
    if let Some(k) = f.kind_id {
        q = q.filter(M::KindId.eq(k));
    }
    if let Some(after) = page.after_id() {
        q = q.filter(M::Id.lt(after));
    }
    let rows = q.order_by_desc(M::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |m| Cursor::after_id(m.id)))
}

pub async fn outcome_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> Result<Option<outcome::Model>, DbErr> {
    outcome_query(scope, id).one(conn).await
}

/// [`outcome_in_scope`], its row locked until the end of the transaction (PostgreSQL): of a
/// verification and a rejection at the same moment, the second sees the first's verdict.
pub async fn outcome_in_scope_locked<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i64,
) -> Result<Option<outcome::Model>, DbErr> {
    outcome_query(scope, id).lock_exclusive().one(conn).await
}

fn outcome_query(scope: &Scope, id: i64) -> sea_orm::Select<outcome::Entity> {
    let mut q = outcome::Entity::find_by_id(id);
    if let Some(c) = client_scope(scope, false) {
        q = q.filter(c);
    }
    q
}

pub async fn credits_of<C: ConnectionTrait>(conn: &C, outcome_ids: &[i64]) -> Result<Vec<credit::Model>, DbErr> {
    if outcome_ids.is_empty() {
        return Ok(Vec::new());
    }
    credit::Entity::find()
        .filter(credit::Column::OutcomeId.is_in(outcome_ids.iter().copied()))
        .order_by_asc(credit::Column::OutcomeId)
        .order_by_asc(credit::Column::OrgId)
        .all(conn)
        .await
}

/// The day the client signed its first contract, if it has one.
pub async fn first_contract_on<C: ConnectionTrait>(conn: &C, client_id: i64) -> Result<Option<NaiveDate>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        signed_on: NaiveDate,
    }
    let row = Row::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT signed_on FROM contracts WHERE client_id = $1 AND status <> 'cancelled' ORDER BY signed_on LIMIT 1",
        [client_id.into()],
    ))
    .one(conn)
    .await?;
    Ok(row.map(|r| r.signed_on))
}

/// Every contract of the client with the organisations delivering its orders.
pub async fn involvement<C: ConnectionTrait>(conn: &C, client_id: i64) -> Result<Vec<Involvement>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        signer_id: i64,
        signed_on: NaiveDate,
        deliverer_id: Option<i64>,
    }
    let rows = Row::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT c.signer_id, c.signed_on, o.deliverer_id \
         FROM contracts c LEFT JOIN orders o ON o.contract_id = c.id AND o.status <> 'cancelled' \
         WHERE c.client_id = $1 AND c.status <> 'cancelled'",
        [client_id.into()],
    ))
    .all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Involvement { signer_id: r.signer_id, signed_on: r.signed_on, deliverer_id: r.deliverer_id })
        .collect())
}

// ---- metrics -----------------------------------------------------------------------------

/// A period of days, both included, and the part of the park a caller may count.
#[derive(Debug, Clone)]
pub struct Span {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only the business of this organisation (as client, signer or deliverer); None: all.
    pub org: Option<i64>,
}

impl Span {
    fn start(&self) -> DateTime<Utc> {
        self.from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
    }

    /// The first instant after the period.
    fn end(&self) -> DateTime<Utc> {
        self.to.succ_opt().unwrap_or(self.to).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
    }
}

/// The SQL expression of the "YYYY-MM" month of a timestamp (or, with `date`, a date) column.
fn month_of(b: DbBackend, col: &str, date: bool) -> String {
    match (b, date) {
        (DbBackend::Postgres, false) => format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM')"),
        (DbBackend::Postgres, true) => format!("to_char({col}, 'YYYY-MM')"),
        _ => format!("substr({col}, 1, 7)"),
    }
}

/// The month of a timestamp column for a tally grouped by month: what to select, and what to
/// group by. PostgreSQL groups by the truncated timestamp and formats each group once
/// (`to_char` on every row cost more than the rest of the tally).
fn month_group(b: DbBackend, col: &str) -> (String, String) {
    match b {
        DbBackend::Postgres => {
            let key = format!("date_trunc('month', {col} AT TIME ZONE 'UTC')");
            (format!("to_char({key}, 'YYYY-MM')"), key)
        }
        _ => {
            let m = month_of(b, col, false);
            (m.clone(), m)
        }
    }
}

fn month(text: &str) -> Result<Month, DbErr> {
    Month::parse(text).ok_or_else(|| DbErr::Custom(format!("not a month: {text}")))
}

/// An order-level restriction to one organisation's business (`o` is `orders`).
fn order_party(org: Option<i64>, param: usize) -> String {
    match org {
        Some(_) => format!(" AND (o.signer_id = ${param} OR o.deliverer_id = ${param} OR o.client_id = ${param})"),
        None => String::new(),
    }
}

fn with_org(mut values: Vec<Value>, org: Option<i64>) -> Vec<Value> {
    if let Some(o) = org {
        values.push(o.into());
    }
    values
}

/// Typed nulls: PostgreSQL takes a bare NULL for text.
const NO_ID: &str = "CAST(NULL AS BIGINT)";
const NO_TEXT: &str = "CAST(NULL AS TEXT)";

/// A GROUP BY list without the typed NULLs that stand for an absent key: a constant in it makes
/// SQLite sort into a temporary tree even when the index already has the rows in order.
fn grouping(cols: &[&str]) -> String {
    cols.iter().copied().filter(|c| *c != NO_ID && *c != NO_TEXT).collect::<Vec<_>>().join(", ")
}

/// The key expression of an order row (`o`) for a grouping, as (id column, text column).
fn order_key(group_by: GroupBy) -> (&'static str, &'static str) {
    match group_by {
        GroupBy::Partner => ("o.deliverer_id", NO_TEXT),
        GroupBy::Region => (NO_ID, "o.region"),
        GroupBy::Industry => (NO_ID, "o.industry"),
        GroupBy::Period => (NO_ID, NO_TEXT),
    }
}

/// The key expression of a contract row (`c`) for a grouping, as (id column, text column): the
/// signer, or the client's region or industry as on the contract's orders.
fn contract_key(group_by: GroupBy) -> (&'static str, &'static str) {
    match group_by {
        GroupBy::Partner => ("c.signer_id", NO_TEXT),
        GroupBy::Region => (NO_ID, "c.region"),
        GroupBy::Industry => (NO_ID, "c.industry"),
        GroupBy::Period => (NO_ID, NO_TEXT),
    }
}

fn key_of(id: Option<i64>, text: Option<String>) -> Key {
    match (id, text) {
        (Some(i), _) => Key::Org(i),
        (None, Some(t)) => Key::Text(t),
        (None, None) => Key::None,
    }
}

#[derive(FromQueryResult)]
struct TallyRow {
    key_id: Option<i64>,
    key_text: Option<String>,
    month: String,
    n: i64,
    s: Option<i64>,
}

fn tallies(rows: Vec<TallyRow>) -> Result<Vec<Tally>, DbErr> {
    rows.into_iter()
        .map(|r| {
            Ok(Tally { key: key_of(r.key_id, r.key_text), month: month(&r.month)?, count: r.n, sum: r.s.unwrap_or(0) })
        })
        .collect()
}

/// Ratings given in the period: count and sum of overall stars per group and month.
pub async fn rating_tallies<C: ConnectionTrait>(conn: &C, span: &Span, group_by: GroupBy) -> Result<Vec<Tally>, DbErr> {
    let b = conn.get_database_backend();
    // A rating keeps its order's deliverer (fixed once the order was accepted): by partner, or by
    // period, the ratings alone are read — their covering index by day; the order is joined for
    // its region or industry, or to restrict to one organisation's business.
    let (kid, ktext) = match group_by {
        GroupBy::Partner => ("r.deliverer_id", NO_TEXT),
        other => order_key(other),
    };
    let join = if span.org.is_some() || matches!(group_by, GroupBy::Region | GroupBy::Industry) {
        " JOIN orders o ON o.id = r.order_id"
    } else {
        ""
    };
    // With its sampled statistics (STAT4, in the SQLite vpark is built with) and a period that
    // holds a third of all ratings, SQLite preferred walking every rating in deliverer order and
    // fetching each row for its day — four times the work of the covering index by day.
    let indexed = if b == DbBackend::Sqlite { " INDEXED BY ix_ratings_created" } else { "" };
    let (m, by_month) = month_group(b, "r.created_at");
    let text = format!(
        "SELECT {kid} AS key_id, {ktext} AS key_text, {m} AS month, COUNT(*) AS n, SUM(r.overall) AS s \
         FROM ratings r{indexed}{join} WHERE r.created_at >= $1 AND r.created_at < $2{} GROUP BY {}",
        order_party(span.org, 3),
        grouping(&[kid, ktext, &by_month])
    );
    let rows =
        TallyRow::find_by_statement(sql(b, &text, with_org(vec![span.start().into(), span.end().into()], span.org)))
            .all(conn)
            .await?;
    tallies(rows)
}

/// Orders delivered in the period: count and how many on time, per group and month.
pub async fn delivery_tallies<C: ConnectionTrait>(
    conn: &C,
    span: &Span,
    group_by: GroupBy,
) -> Result<Vec<Tally>, DbErr> {
    let b = conn.get_database_backend();
    let (kid, ktext) = order_key(group_by);
    let (m, by_month) = month_group(b, "o.delivered_at");
    let text = format!(
        "SELECT {kid} AS key_id, {ktext} AS key_text, {m} AS month, COUNT(*) AS n, \
         SUM(CASE WHEN o.on_time THEN 1 ELSE 0 END) AS s \
         FROM orders o WHERE o.delivered_at >= $1 AND o.delivered_at < $2{} GROUP BY {}",
        order_party(span.org, 3),
        grouping(&[kid, ktext, &by_month])
    );
    let rows =
        TallyRow::find_by_statement(sql(b, &text, with_org(vec![span.start().into(), span.end().into()], span.org)))
            .all(conn)
            .await?;
    tallies(rows)
}

fn contract_party(org: Option<i64>, param: usize) -> String {
    match org {
        Some(_) => format!(
            " AND (c.signer_id = ${param} OR c.client_id = ${param} OR EXISTS \
             (SELECT 1 FROM orders x WHERE x.contract_id = c.id AND x.deliverer_id = ${param}))"
        ),
        None => String::new(),
    }
}

/// One contract of a cohort as the database hands it over, an array in a JSON array: id, client,
/// the key of the grouping (an organisation id, a region or industry, or null), signing day, days
/// to the first acceptance, flags (1: the client had signed two contracts by the period's end,
/// 2: it had bought two categories), and the lowest and highest id of the other deliverers
/// (grouped by partner).
#[derive(serde::Deserialize)]
struct CohortFact(i64, i64, Option<FactKey>, NaiveDate, Option<i64>, u8, Option<i64>, Option<i64>);

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum FactKey {
    Id(i64),
    Text(String),
}

/// A [`CohortFact`] from a row of the PostgreSQL cohort query, its columns read by position
/// (tens of thousands of rows: looking each column up by name cost more than decoding it).
fn fact_of(row: &sea_orm::QueryResult) -> Result<CohortFact, DbErr> {
    let key_id: Option<i64> = row.try_get_by_index(2)?;
    let key_text: Option<String> = row.try_get_by_index(3)?;
    let key = match (key_id, key_text) {
        (Some(i), _) => Some(FactKey::Id(i)),
        (None, Some(t)) => Some(FactKey::Text(t)),
        (None, None) => None,
    };
    let days: Option<i32> = row.try_get_by_index(5)?;
    let flags: i32 = row.try_get_by_index(6)?;
    Ok(CohortFact(
        row.try_get_by_index(0)?,
        row.try_get_by_index(1)?,
        key,
        row.try_get_by_index(4)?,
        days.map(i64::from),
        u8::try_from(flags).unwrap_or_default(),
        row.try_get_by_index(7)?,
        row.try_get_by_index(8)?,
    ))
}

/// The cohort of a period: the contracts signed in it (with their first acceptance, keyed for
/// the grouping) and what became of their clients — whether, by the period's end, each had signed
/// two contracts or more and bought two service categories or more (live orders only), and the
/// organisations credited with a verified in-window success of theirs.
///
/// Reads only what the contracts keep of their orders and clients (migrations
/// `m0009_contract_facts`, `m0010_metrics_indexes`) — through the covering index by signing date —
/// but for the deliverers of the rare contract with more than two other organisations delivering
/// it. On SQLite the contracts come back as one JSON array (see [`CohortFact`]): a twelve-month
/// cohort is tens of thousands of contracts, and SQLite's driver handing them over one row at a
/// time (a thread wake-up each) cost more than the database spent finding them.
pub async fn cohort<C: ConnectionTrait>(
    conn: &C,
    span: &Span,
    group_by: GroupBy,
) -> Result<(Vec<Signing>, ClientOutcomes), DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        facts: Option<String>,
    }
    #[derive(FromQueryResult)]
    struct Deliverer {
        contract_id: i64,
        deliverer_id: i64,
    }
    #[derive(FromQueryResult)]
    struct Credit {
        client_id: i64,
        org_id: i64,
    }
    let b = conn.get_database_backend();
    let key = match contract_key(group_by) {
        (NO_ID, text) => text,
        (id, _) => id,
    };
    let in_span =
        format!("c.signed_on >= $1 AND c.signed_on <= $2 AND c.status <> 'cancelled'{}", contract_party(span.org, 3));
    // Repeat- and deep-signed as of the period's end: the days the client signed its second
    // contract and first spanned two categories are on each of its contracts. Grouped by partner,
    // the other deliverers count too: the contract knows them when they are two at most (the
    // lowest and the highest id); the orders tell the rest.
    let others = if group_by == GroupBy::Partner {
        "c.min_other_deliverer_id, c.max_other_deliverer_id"
    } else {
        "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)"
    };
    let others_named = if group_by == GroupBy::Partner {
        "c.min_other_deliverer_id AS low, c.max_other_deliverer_id AS high"
    } else {
        "CAST(NULL AS BIGINT) AS low, CAST(NULL AS BIGINT) AS high"
    };
    let flags =
        "CASE WHEN c.client_repeat_on <= $2 THEN 1 ELSE 0 END + CASE WHEN c.client_deep_on <= $2 THEN 2 ELSE 0 END";
    let fact = format!("c.id, c.client_id, {key}, c.signed_on, c.first_acceptance_days, {flags}, {others}");
    let values = with_org(vec![span.from.into(), span.to.into()], span.org);
    let rows = async {
        if b == DbBackend::Postgres {
            // PostgreSQL's driver hands rows over cheaply; aggregating them into JSON costs more.
            let (kid, ktext) = contract_key(group_by);
            let text = format!(
                "SELECT c.id, c.client_id, {kid} AS key_id, {ktext} AS key_text, c.signed_on, \
                 c.first_acceptance_days AS days, {flags} AS flags, {others_named} FROM contracts c WHERE {in_span}"
            );
            let rows = conn.query_all_raw(sql(b, &text, values.clone())).await?;
            return rows.iter().map(fact_of).collect();
        }
        let text = format!("SELECT json_group_array(json_array({fact})) AS facts FROM contracts c WHERE {in_span}");
        match Row::find_by_statement(sql(b, &text, values.clone())).one(conn).await?.and_then(|r| r.facts) {
            Some(json) => serde_json::from_str(&json).map_err(|e| DbErr::Custom(format!("cohort facts: {e}"))),
            None => Ok(Vec::new()),
        }
    };
    let deliverers = async {
        if group_by != GroupBy::Partner {
            return Ok(Vec::new());
        }
        let text = format!(
            "SELECT DISTINCT o.contract_id, o.deliverer_id FROM orders o JOIN contracts c ON c.id = o.contract_id \
             WHERE {in_span} AND c.other_deliverers > 2 AND o.deliverer_id <> c.signer_id"
        );
        Deliverer::find_by_statement(sql(b, &text, values.clone())).all(conn).await
    };
    let text = format!(
        "SELECT m.client_id, cr.org_id FROM outcome_milestones m JOIN outcome_credits cr ON cr.outcome_id = m.id \
         WHERE m.status = 'verified' AND m.in_window = $3 \
         AND EXISTS (SELECT 1 FROM contracts c WHERE c.client_id = m.client_id AND {})",
        in_span.replace("$3", "$4")
    );
    let mut credit_values = vec![span.from.into(), span.to.into(), true.into()];
    if let Some(o) = span.org {
        credit_values.push(o.into());
    }
    let credits = Credit::find_by_statement(sql(b, &text, credit_values)).all(conn);
    let (facts, deliverer_rows, credits): (Vec<CohortFact>, _, _) = tokio::try_join!(rows, deliverers, credits)?;
    let mut deliverers: HashMap<i64, Vec<i64>> = HashMap::new();
    for d in deliverer_rows {
        deliverers.entry(d.contract_id).or_default().push(d.deliverer_id);
    }
    let mut clients = ClientOutcomes::default();
    let mut signings = Vec::with_capacity(facts.len());
    for CohortFact(id, client_id, key, signed_on, days, flags, low, high) in facts {
        clients.entry(client_id).or_insert_with(|| ClientOutcome {
            repeat_signed: flags & 1 != 0,
            deep_signed: flags & 2 != 0,
            credited: HashSet::new(),
        });
        let mut keys = vec![match key {
            Some(FactKey::Id(i)) => Key::Org(i),
            Some(FactKey::Text(t)) => Key::Text(t),
            None => Key::None,
        }];
        if let Some(all) = deliverers.remove(&id) {
            keys.extend(all.into_iter().map(Key::Org));
        } else {
            keys.extend(low.into_iter().chain(high.filter(|h| Some(*h) != low)).map(Key::Org));
        }
        signings.push(Signing {
            keys,
            month: Month::of(signed_on),
            client_id,
            days_to_first_acceptance: days.map(|d| Ord::max(d, 0)),
        });
    }
    for c in credits {
        clients.entry(c.client_id).or_default().credited.insert(c.org_id);
    }
    Ok((signings, clients))
}

/// The maintenance years that fell due in the period, and whether each was paid.
///
/// Year k ≥ 2 of a contract falls due on its (k−1)th anniversary, in the month it was signed k−1
/// years later; the contracts whose year k falls due in the period are those signed in one
/// interval of days ([`crate::metrics::signed_for_year`]). So the database counts them per key,
/// year and month of signing — and, of those, the ones paid for that year (net of refunds, more
/// than zero) — and no contract is read one by one.
pub async fn maintenance_due<C: ConnectionTrait>(
    conn: &C,
    span: &Span,
    group_by: GroupBy,
) -> Result<Vec<Tally>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        key_id: Option<i64>,
        key_text: Option<String>,
        year: i32,
        month: String,
        n: i64,
    }
    let b = conn.get_database_backend();
    let (kid, ktext) = contract_key(group_by);
    let signed_month = month_of(b, "c.signed_on", true);
    let by_day = grouping(&["c.signed_on", kid, ktext]);
    let by_contract = grouping(&["c.id", kid, ktext, &signed_month]);
    // Terms are at most ten years.
    let years: Vec<(i32, NaiveDate, NaiveDate)> = (2..=10)
        .filter_map(|k| crate::metrics::signed_for_year(k, span.from, span.to).map(|(a, z)| (k, a, z)))
        .collect();
    if years.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = Vec::new();
    let mut due_parts = Vec::new();
    let mut paid_parts = Vec::new();
    for (k, first, last) in &years {
        let n = values.len();
        values.extend([(*first).into(), (*last).into()]);
        let filter = format!(
            "c.term_years >= {k} AND c.signed_on >= ${} AND c.signed_on <= ${} AND c.status <> 'cancelled'{}",
            n + 1,
            n + 2,
            contract_party(span.org, n + 3)
        );
        if let Some(o) = span.org {
            values.push(o.into());
        }
        // By day first, as the index by signing date has them (and, next, the signer): no sort.
        due_parts.push(format!(
            "SELECT key_id, key_text, {k} AS year, month, CAST(SUM(n) AS BIGINT) AS n FROM \
             (SELECT {kid} AS key_id, {ktext} AS key_text, {signed_month} AS month, COUNT(*) AS n \
              FROM contracts c WHERE {filter} GROUP BY {by_day}) d \
             GROUP BY key_id, key_text, month"
        ));
        paid_parts.push(format!(
            "SELECT key_id, key_text, {k} AS year, month, COUNT(*) AS n FROM \
             (SELECT {kid} AS key_id, {ktext} AS key_text, {signed_month} AS month \
              FROM payments p JOIN contracts c ON c.id = p.contract_id \
              WHERE p.stream = 'maintenance' AND p.year = {k} AND {filter} \
              GROUP BY {by_contract} HAVING SUM(p.amount_fen) > 0) y \
             GROUP BY key_id, key_text, month"
        ));
    }
    let due = Row::find_by_statement(sql(b, &due_parts.join(" UNION ALL "), values.clone())).all(conn);
    let paid = Row::find_by_statement(sql(b, &paid_parts.join(" UNION ALL "), values)).all(conn);
    let (due, paid) = tokio::try_join!(due, paid)?;
    // The month a year falls due: the month of signing, k − 1 years on.
    let due_month = |r: &Row| -> Result<Month, DbErr> {
        let signed = month(&r.month)?;
        Ok(Month { year: signed.year + r.year - 1, month: signed.month })
    };
    let mut renewed: HashMap<(Key, i32, String), i64> = HashMap::new();
    for p in paid {
        renewed.insert((key_of(p.key_id, p.key_text), p.year, p.month), p.n);
    }
    due.into_iter()
        .map(|r| {
            let month = due_month(&r)?;
            let key = key_of(r.key_id, r.key_text);
            let sum = renewed.get(&(key.clone(), r.year, r.month)).copied().unwrap_or(0);
            Ok(Tally { key, month, count: r.n, sum })
        })
        .collect()
}

// ---- cash flow ---------------------------------------------------------------------------

/// Money of one region (or none) and month, in fen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CashRow {
    pub region: Option<String>,
    pub month: Option<Month>,
    pub received_fen: i64,
    pub refunded_fen: i64,
    pub partner_shares_fen: i64,
    pub paid_out_fen: i64,
}

/// Money received and refunded (by the region of the order of the line paid, and the month it
/// was received), the partners' shares posted for it, and payouts (by month only: a payout is
/// per party, not per region).
pub async fn cash_flow<C: ConnectionTrait>(
    conn: &C,
    span: &Span,
    by_region: bool,
) -> Result<Vec<(Option<String>, Month, CashRow)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        region: Option<String>,
        month: String,
        amount_fen: i64,
    }
    let b = conn.get_database_backend();
    let region = if by_region { "o.region" } else { NO_TEXT };
    let m = month_of(b, "p.received_on", true);
    let text = format!(
        "SELECT {region} AS region, {m} AS month, p.amount_fen FROM payments p JOIN orders o ON o.line_id = p.line_id \
         WHERE p.received_on >= $1 AND p.received_on <= $2"
    );
    let mut rows: HashMap<(Option<String>, Month), CashRow> = HashMap::new();
    for r in Row::find_by_statement(sql(b, &text, [span.from.into(), span.to.into()])).all(conn).await? {
        let mo = month(&r.month)?;
        let row = rows.entry((r.region.clone(), mo)).or_default();
        if r.amount_fen >= 0 {
            row.received_fen = row.received_fen.saturating_add(r.amount_fen);
        } else {
            row.refunded_fen = row.refunded_fen.saturating_add(r.amount_fen.saturating_neg());
        }
    }
    let m = month_of(b, "e.created_at", false);
    let text = format!(
        "SELECT {region} AS region, {m} AS month, e.amount_fen FROM ledger_entries e JOIN orders o ON o.line_id = e.line_id \
         WHERE e.created_at >= $1 AND e.created_at < $2 AND e.account IN ('payable', 'held') \
         AND e.kind IN ('allocation', 'clawback', 'adjustment')"
    );
    for r in Row::find_by_statement(sql(b, &text, [span.start().into(), span.end().into()])).all(conn).await? {
        let row = rows.entry((r.region.clone(), month(&r.month)?)).or_default();
        // Entries are debit-positive: a share credited to a party is negative.
        row.partner_shares_fen = row.partner_shares_fen.saturating_sub(r.amount_fen);
    }
    if !by_region {
        let text = format!(
            "SELECT {NO_TEXT} AS region, {m} AS month, e.amount_fen FROM ledger_entries e \
             WHERE e.created_at >= $1 AND e.created_at < $2 AND e.kind = 'payout' AND e.account = 'cash'"
        );
        for r in Row::find_by_statement(sql(b, &text, [span.start().into(), span.end().into()])).all(conn).await? {
            let row = rows.entry((None, month(&r.month)?)).or_default();
            row.paid_out_fen = row.paid_out_fen.saturating_add(r.amount_fen.saturating_neg());
        }
    }
    let mut out: Vec<_> = rows.into_iter().map(|((r, m), row)| (r, m, row)).collect();
    out.sort_by(|a, b| (a.0.as_deref(), a.1).cmp(&(b.0.as_deref(), b.1)));
    Ok(out)
}

// ---- scorecards and tiers ----------------------------------------------------------------

pub mod threshold {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tier_thresholds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tier: String,
        pub min_revenue_fen: i64,
        pub min_success_bp: Option<i32>,
        pub min_valid_credentials: i32,
        pub min_quality_centi: Option<i32>,
        pub min_on_time_bp: Option<i32>,
        pub max_dispute_bp: Option<i32>,
        pub updated_by: Option<i64>,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod assessment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tier_assessments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_id: i64,
        pub period: String,
        pub tier: String,
        pub previous_tier: Option<String>,
        pub scorecard: Json,
        pub computed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A partner as the scorecards see it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct PartnerRow {
    pub id: i64,
    pub name_zh: String,
    pub kind: String,
    pub tier: Option<String>,
}

/// Equity and subcontract partners (all, or those of `scope`), by id.
pub async fn partners<C: ConnectionTrait>(conn: &C, only: Option<i64>) -> Result<Vec<PartnerRow>, DbErr> {
    let mut text = "SELECT id, name_zh, kind, tier FROM organisations \
                    WHERE kind IN ('equity_partner', 'subcontract_partner')"
        .to_owned();
    let mut values: Vec<Value> = Vec::new();
    if let Some(o) = only {
        text.push_str(" AND id = $1");
        values.push(o.into());
    }
    text.push_str(" ORDER BY id");
    PartnerRow::find_by_statement(sql(conn.get_database_backend(), &text, values)).all(conn).await
}

#[derive(FromQueryResult)]
struct OrgAmount {
    org_id: Option<i64>,
    amount: i64,
}

fn sum_by_org(rows: Vec<OrgAmount>) -> HashMap<i64, i64> {
    let mut out: HashMap<i64, i64> = HashMap::new();
    for r in rows {
        if let Some(o) = r.org_id {
            let slot = out.entry(o).or_default();
            *slot = slot.saturating_add(r.amount);
        }
    }
    out
}

/// First-year amounts signed in the span, per signer.
pub async fn signed_revenue<C: ConnectionTrait>(conn: &C, span: &Span) -> Result<HashMap<i64, i64>, DbErr> {
    let rows = OrgAmount::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT signer_id AS org_id, first_year_fen AS amount FROM contracts \
         WHERE signed_on >= $1 AND signed_on <= $2 AND status <> 'cancelled'",
        [span.from.into(), span.to.into()],
    ))
    .all(conn)
    .await?;
    Ok(sum_by_org(rows))
}

/// Line amounts of the orders a partner delivered for another signer, accepted in the span.
pub async fn delivered_revenue<C: ConnectionTrait>(conn: &C, span: &Span) -> Result<HashMap<i64, i64>, DbErr> {
    let rows = OrgAmount::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT o.deliverer_id AS org_id, l.amount_fen AS amount FROM orders o JOIN contract_lines l ON l.id = o.line_id \
         WHERE o.accepted_at >= $1 AND o.accepted_at < $2 AND o.deliverer_id <> o.signer_id",
        [span.start().into(), span.end().into()],
    ))
    .all(conn)
    .await?;
    Ok(sum_by_org(rows))
}

/// Valid credentials (earned or expiring, not past expiry on `day`) per organisation and
/// certification code.
pub async fn valid_credentials<C: ConnectionTrait>(
    conn: &C,
    day: NaiveDate,
) -> Result<HashMap<i64, std::collections::BTreeMap<String, i64>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        org_id: i64,
        code: String,
        n: i64,
    }
    let rows = Row::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT c.org_id, k.code, COUNT(*) AS n FROM credentials c JOIN certifications k ON k.id = c.certification_id \
         WHERE c.status IN ('earned', 'expiring') AND c.expires_on >= $1 GROUP BY c.org_id, k.code",
        [day.into()],
    ))
    .all(conn)
    .await?;
    let mut out: HashMap<i64, std::collections::BTreeMap<String, i64>> = HashMap::new();
    for r in rows {
        out.entry(r.org_id).or_default().insert(r.code, r.n);
    }
    Ok(out)
}

/// Ratings of each deliverer, all time: (count, sum of overall stars).
pub async fn rating_totals<C: ConnectionTrait>(conn: &C) -> Result<HashMap<i64, (i64, i64)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        deliverer_id: i64,
        n: i64,
        s: Option<i64>,
    }
    let rows = Row::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT deliverer_id, COUNT(*) AS n, SUM(overall) AS s FROM ratings GROUP BY deliverer_id",
        [],
    ))
    .all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.deliverer_id, (r.n, r.s.unwrap_or(0)))).collect())
}

/// Orders delivered in the span that the client disputed, per deliverer (the dispute is in the
/// audit trail: the order's status moves on once ops resolve it).
pub async fn disputed<C: ConnectionTrait>(conn: &C, span: &Span) -> Result<HashMap<i64, i64>, DbErr> {
    let rows = OrgAmount::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT o.deliverer_id AS org_id, COUNT(DISTINCT o.id) AS amount FROM orders o \
         JOIN audit_events a ON a.resource_kind = 'order' AND a.resource_id = CAST(o.id AS TEXT) AND a.action = 'order.dispute' \
         WHERE o.delivered_at >= $1 AND o.delivered_at < $2 GROUP BY o.deliverer_id",
        [span.start().into(), span.end().into()],
    ))
    .all(conn)
    .await?;
    Ok(sum_by_org(rows))
}
