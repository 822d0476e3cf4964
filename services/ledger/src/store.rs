//! The ledger's tables and its set-based queries: a settlement batch reads everything it needs
//! for a few hundred contracts in a fixed number of statements and writes its entries in bulk.

use chrono::{DateTime, Utc};
use platform::db::{WideSum, sql, wide_sum};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Value};

pub mod payment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "payments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub contract_id: i64,
        pub line_id: i64,
        pub stream: String,
        pub year: i32,
        pub amount_fen: i64,
        pub received_on: Date,
        pub idempotency_key: String,
        pub request_hash: String,
        pub note: Option<String>,
        pub recorded_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_entries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub txn_id: i64,
        pub contract_id: Option<i64>,
        pub line_id: Option<i64>,
        pub stream: Option<String>,
        pub payment_id: Option<i64>,
        pub payout_id: Option<i64>,
        pub party_id: i64,
        pub account: String,
        pub amount_fen: i64,
        pub kind: String,
        pub rule: Option<i32>,
        pub rate_bp: Option<i32>,
        pub fee_fen: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `$from, $from+1, …` for `n` values on PostgreSQL; plain `?` on SQLite, whose lookup of a
/// numbered parameter is linear in the number of parameters (quadratic for a bulk statement).
/// Values must be bound in the order the marks appear, and a statement must not mix these with
/// numbered `$n` marks (SQLite would bind them shifted by one).
fn marks(be: DbBackend, from: usize, n: usize) -> String {
    match be {
        DbBackend::Postgres => (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", "),
        _ => vec!["?"; n].join(", "),
    }
}

fn ids(values: &[i64]) -> Vec<Value> {
    values.iter().map(|v| (*v).into()).collect()
}

async fn rows<T: FromQueryResult, C: ConnectionTrait>(
    conn: &C,
    text: &str,
    values: Vec<Value>,
) -> Result<Vec<T>, DbErr> {
    T::find_by_statement(sql(conn.get_database_backend(), text, values)).all(conn).await
}

/// Contracts whose money moved since they were last settled (after `after`, in id order).
pub async fn dirty_contracts<C: ConnectionTrait>(conn: &C, after: i64, limit: u64) -> Result<Vec<i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
    }
    let found: Vec<Row> = rows(
        conn,
        // The bound on `s` repeats the one on `c`: with it a merge join (PostgreSQL's choice while
        // its statistics still see an empty `settlement_state`) starts at `after` instead of
        // reading the state of every contract settled before.
        "SELECT c.id FROM contracts c \
         LEFT JOIN settlement_state s ON s.contract_id = c.id AND s.contract_id > $1 \
         WHERE c.settle_rev > COALESCE(s.settled_rev, 0) AND c.id > $1 ORDER BY c.id LIMIT $2",
        vec![after.into(), (limit as i64).into()],
    )
    .await?;
    Ok(found.into_iter().map(|r| r.id).collect())
}

/// Locks the contracts to settle. On PostgreSQL, contracts another settler holds are skipped
/// (`skip`) or waited for; on SQLite the write transaction already excludes other writers.
pub async fn lock_contracts<C: ConnectionTrait>(conn: &C, contract_ids: &[i64], skip: bool) -> Result<Vec<i64>, DbErr> {
    if conn.get_database_backend() != DbBackend::Postgres || contract_ids.is_empty() {
        return Ok(contract_ids.to_vec());
    }
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
    }
    let text = format!(
        "SELECT id FROM contracts WHERE id IN ({}) ORDER BY id FOR UPDATE{}",
        marks(conn.get_database_backend(), 1, contract_ids.len()),
        if skip { " SKIP LOCKED" } else { "" }
    );
    let locked: Vec<Row> = rows(conn, &text, ids(contract_ids)).await?;
    Ok(locked.into_iter().map(|r| r.id).collect())
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct ContractRow {
    pub id: i64,
    pub contract_no: String,
    pub client_id: i64,
    pub signer_id: i64,
    pub signer_kind: String,
    pub vendor_id: Option<i64>,
    pub agreement: serde_json::Value,
    pub settle_rev: i64,
    /// The revision the contract was last settled at (none before its first settlement).
    pub settled_rev: Option<i64>,
}

pub async fn contracts<C: ConnectionTrait>(conn: &C, contract_ids: &[i64]) -> Result<Vec<ContractRow>, DbErr> {
    let text = format!(
        "SELECT c.id, c.contract_no, c.client_id, c.signer_id, o.kind AS signer_kind, o.parent_id AS vendor_id, \
         c.agreement, c.settle_rev, s.settled_rev FROM contracts c JOIN organisations o ON o.id = c.signer_id \
         LEFT JOIN settlement_state s ON s.contract_id = c.id WHERE c.id IN ({}) ORDER BY c.id",
        marks(conn.get_database_backend(), 1, contract_ids.len())
    );
    rows(conn, &text, ids(contract_ids)).await
}

/// A contract's money revision and the revision it was last settled at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromQueryResult)]
pub struct Revisions {
    pub id: i64,
    pub settle_rev: i64,
    pub settled_rev: Option<i64>,
}

impl From<&ContractRow> for Revisions {
    fn from(c: &ContractRow) -> Self {
        Revisions { id: c.id, settle_rev: c.settle_rev, settled_rev: c.settled_rev }
    }
}

/// The revisions of contracts, in id order. Every change a settlement depends on (a payment, an
/// award, an acceptance, a cancellation) moves `settle_rev`, and a settlement records the
/// `settle_rev` it read as `settled_rev`: while both stay as they were read, so do the
/// contract's lines, payments and ledger positions.
pub async fn revisions<C: ConnectionTrait>(conn: &C, contract_ids: &[i64]) -> Result<Vec<Revisions>, DbErr> {
    let text = format!(
        "SELECT c.id, c.settle_rev, s.settled_rev FROM contracts c \
         LEFT JOIN settlement_state s ON s.contract_id = c.id WHERE c.id IN ({}) ORDER BY c.id",
        marks(conn.get_database_backend(), 1, contract_ids.len())
    );
    rows(conn, &text, ids(contract_ids)).await
}

/// A contract line with the state of its order and, if it is executed under a won subcontract,
/// the winner and its terms (the awarded bid's terms for a tender).
#[derive(Debug, Clone, FromQueryResult)]
pub struct LineRow {
    pub contract_id: i64,
    pub line_id: i64,
    pub line_no: i32,
    pub order_status: Option<String>,
    pub deliverer_id: Option<i64>,
    /// The deliverer's execution terms, when it is paid for executing the line's order
    /// (migration `m0014_execution_terms`).
    pub exec_share_bp: Option<i32>,
    pub exec_fee_fen: Option<i64>,
}

pub async fn lines<C: ConnectionTrait>(conn: &C, contract_ids: &[i64]) -> Result<Vec<LineRow>, DbErr> {
    let text = format!(
        "SELECT l.contract_id, l.id AS line_id, l.line_no, o.status AS order_status, o.deliverer_id, \
         o.exec_share_bp, o.exec_fee_fen \
         FROM contract_lines l \
         LEFT JOIN orders o ON o.contract_id = l.contract_id AND o.line_id = l.id \
         WHERE l.contract_id IN ({}) ORDER BY l.contract_id, l.line_no",
        marks(conn.get_database_backend(), 1, contract_ids.len())
    );
    rows(conn, &text, ids(contract_ids)).await
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct PaymentRow {
    pub id: i64,
    pub contract_id: i64,
    pub line_id: i64,
    pub stream: String,
    pub amount_fen: i64,
}

/// The payments of `contract_ids` that settlement has not taken in yet: those above their
/// contract's mark (`settlement_state.settled_payment_id`, migration `m0013_settlement_marks`).
pub async fn unsettled_payments<C: ConnectionTrait>(conn: &C, contract_ids: &[i64]) -> Result<Vec<PaymentRow>, DbErr> {
    let text = format!(
        "SELECT p.id, p.contract_id, p.line_id, p.stream, p.amount_fen FROM payments p \
         LEFT JOIN settlement_state s ON s.contract_id = p.contract_id \
         WHERE p.contract_id IN ({}) AND p.id > COALESCE(s.settled_payment_id, 0) ORDER BY p.id",
        marks(conn.get_database_backend(), 1, contract_ids.len())
    );
    rows(conn, &text, ids(contract_ids)).await
}

/// When settlement took in each of `payment_ids` (those it has): the time of the first ledger
/// entry posted for it. Every settled payment has one — its receipt in cash (a payment is never
/// zero) — found through the ledger's index by contract, line and stream.
pub async fn settled_at<C: ConnectionTrait>(
    conn: &C,
    payment_ids: &[i64],
) -> Result<std::collections::HashMap<i64, DateTime<Utc>>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        payment_id: i64,
        at: DateTime<Utc>,
    }
    let mut out = std::collections::HashMap::new();
    for chunk in payment_ids.chunks(ENTRY_CHUNK) {
        let text = format!(
            "SELECT p.id AS payment_id, MIN(e.created_at) AS at FROM payments p \
             JOIN ledger_entries e ON e.contract_id = p.contract_id AND e.line_id = p.line_id \
               AND e.stream = p.stream AND e.payment_id = p.id \
             WHERE p.id IN ({}) GROUP BY p.id",
            marks(conn.get_database_backend(), 1, chunk.len())
        );
        let found: Vec<Row> = rows(conn, &text, ids(chunk)).await?;
        out.extend(found.into_iter().map(|r| (r.payment_id, r.at)));
    }
    Ok(out)
}

/// What the ledger holds per line, stream, party and account (signed, debit positive).
#[derive(Debug, Clone, FromQueryResult)]
pub struct PositionRow {
    pub contract_id: i64,
    pub line_id: i64,
    pub stream: String,
    pub party_id: i64,
    pub account: String,
    pub total: i64,
}

pub async fn positions<C: ConnectionTrait>(conn: &C, contract_ids: &[i64]) -> Result<Vec<PositionRow>, DbErr> {
    // CAST: PostgreSQL sums BIGINT into NUMERIC.
    let text = format!(
        "SELECT contract_id, line_id, stream, party_id, account, CAST(SUM(amount_fen) AS BIGINT) AS total \
         FROM ledger_entries WHERE contract_id IN ({}) AND account <> 'cash' \
         GROUP BY contract_id, line_id, stream, party_id, account",
        marks(conn.get_database_backend(), 1, contract_ids.len())
    );
    rows(conn, &text, ids(contract_ids)).await
}

/// Takes `n` new ledger transaction numbers, in increasing order. Numbers identify a
/// transaction; they don't count: one taken by a transaction that rolls back stays unused, and
/// on PostgreSQL concurrent batches may take numbers in between one another's.
///
/// On PostgreSQL they come from the sequence `ledger_txn_ids` (migration
/// `m0013_settlement_marks`), on the caller's own connection: a sequence locks no row, so
/// concurrent settlement batches don't queue for it. (They were once taken from the counter row
/// over a second connection of the pool, outside the batch's transaction; with the batch holding
/// its contracts' locks, that second connection could be waited for in vain while payments of
/// those contracts held every connection of the pool, waiting for the locks.) On SQLite they
/// come from the counter row `ledger_counters.txn`, in the caller's transaction: there is one
/// writer anyway.
pub async fn reserve_txns<C: ConnectionTrait>(conn: &C, n: i64) -> Result<Vec<i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        value: i64,
    }
    if n <= 0 {
        return Ok(Vec::new());
    }
    let b = conn.get_database_backend();
    if b == DbBackend::Postgres {
        let text = "SELECT nextval('ledger_txn_ids') AS value FROM generate_series(1, CAST($1 AS BIGINT)) ORDER BY 1";
        let found: Vec<Row> = rows(conn, text, vec![n.into()]).await?;
        if found.len() as i64 != n {
            return Err(DbErr::Custom(format!("took {} of {n} transaction numbers", found.len())));
        }
        return Ok(found.into_iter().map(|r| r.value).collect());
    }
    let row = Row::find_by_statement(sql(
        b,
        "UPDATE ledger_counters SET value = value + $1 WHERE name = 'txn' RETURNING value",
        [n.into()],
    ))
    .one(conn)
    .await?
    .ok_or_else(|| DbErr::RecordNotFound("ledger_counters.txn".into()))?;
    Ok((row.value - n + 1..=row.value).collect())
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub txn_id: i64,
    pub contract_id: Option<i64>,
    pub line_id: Option<i64>,
    pub stream: Option<&'static str>,
    pub payment_id: Option<i64>,
    pub payout_id: Option<i64>,
    pub party_id: i64,
    pub account: &'static str,
    pub amount_fen: i64,
    pub kind: &'static str,
    pub rule: Option<i32>,
    pub rate_bp: Option<i32>,
    pub fee_fen: Option<i64>,
}

const ENTRY_COLUMNS: usize = 14;
/// Rows per INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
const ENTRY_CHUNK: usize = 1_000;

pub async fn append<C: ConnectionTrait>(conn: &C, entries: &[NewEntry], now: DateTime<Utc>) -> Result<(), DbErr> {
    if conn.get_database_backend() == DbBackend::Postgres {
        return append_unnest(conn, entries, now).await;
    }
    for chunk in entries.chunks(ENTRY_CHUNK) {
        let mut text = String::from(
            "INSERT INTO ledger_entries (txn_id, contract_id, line_id, stream, payment_id, payout_id, party_id, \
             account, amount_fen, kind, rule, rate_bp, fee_fen, created_at) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * ENTRY_COLUMNS);
        for (i, e) in chunk.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push('(');
            text.push_str(&marks(conn.get_database_backend(), i * ENTRY_COLUMNS + 1, ENTRY_COLUMNS));
            text.push(')');
            values.extend([
                e.txn_id.into(),
                e.contract_id.into(),
                e.line_id.into(),
                e.stream.map(str::to_owned).into(),
                e.payment_id.into(),
                e.payout_id.into(),
                e.party_id.into(),
                e.account.to_owned().into(),
                e.amount_fen.into(),
                e.kind.to_owned().into(),
                e.rule.into(),
                e.rate_bp.into(),
                e.fee_fen.into(),
                now.into(),
            ]);
        }
        conn.execute_raw(sql(conn.get_database_backend(), &text, values)).await?;
    }
    Ok(())
}

/// PostgreSQL: one column array per parameter, so every chunk is the same 14-parameter statement
/// (prepared and planned once per connection) instead of a fresh statement of 14,000 parameters
/// for each chunk size. Arrays are bound as array literals in text (`{1,NULL,3}`), which needs no
/// array support from the driver.
async fn append_unnest<C: ConnectionTrait>(conn: &C, entries: &[NewEntry], now: DateTime<Utc>) -> Result<(), DbErr> {
    const TEXT: &str = "INSERT INTO ledger_entries (txn_id, contract_id, line_id, stream, payment_id, payout_id, \
        party_id, account, amount_fen, kind, rule, rate_bp, fee_fen, created_at) \
        SELECT t.*, $14 FROM UNNEST(CAST($1 AS BIGINT[]), CAST($2 AS BIGINT[]), CAST($3 AS BIGINT[]), \
        CAST($4 AS TEXT[]), CAST($5 AS BIGINT[]), CAST($6 AS BIGINT[]), CAST($7 AS BIGINT[]), CAST($8 AS TEXT[]), \
        CAST($9 AS BIGINT[]), CAST($10 AS TEXT[]), CAST($11 AS INTEGER[]), CAST($12 AS INTEGER[]), \
        CAST($13 AS BIGINT[])) AS t";
    for chunk in entries.chunks(ENTRY_CHUNK * 10) {
        let ints = |f: &dyn Fn(&NewEntry) -> Option<i64>| -> Value {
            array_literal(chunk.iter().map(|e| f(e).map(|v| v.to_string()))).into()
        };
        let texts = |f: &dyn Fn(&NewEntry) -> Option<&'static str>| -> Value {
            array_literal(chunk.iter().map(|e| f(e).map(quoted))).into()
        };
        let values = vec![
            ints(&|e| Some(e.txn_id)),
            ints(&|e| e.contract_id),
            ints(&|e| e.line_id),
            texts(&|e| e.stream),
            ints(&|e| e.payment_id),
            ints(&|e| e.payout_id),
            ints(&|e| Some(e.party_id)),
            texts(&|e| Some(e.account)),
            ints(&|e| Some(e.amount_fen)),
            texts(&|e| Some(e.kind)),
            ints(&|e| e.rule.map(i64::from)),
            ints(&|e| e.rate_bp.map(i64::from)),
            ints(&|e| e.fee_fen),
            now.into(),
        ];
        conn.execute_raw(sql(DbBackend::Postgres, TEXT, values)).await?;
    }
    Ok(())
}

/// A PostgreSQL array literal of already formatted elements, `None` as `NULL`.
fn array_literal(items: impl Iterator<Item = Option<String>>) -> String {
    let mut out = String::from("{");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item.as_deref().unwrap_or("NULL"));
    }
    out.push('}');
    out
}

/// A double-quoted array element (so that `NULL`, commas and braces stay text).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Records what settlement has taken in of each contract: `(contract, revision settled, highest
/// payment id settled)`. A contract's payment mark never goes back (a batch that settled none
/// of its payments passes 0).
pub async fn record_settled<C: ConnectionTrait>(
    conn: &C,
    settled: &[(i64, i64, i64)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let b = conn.get_database_backend();
    let higher = if b == DbBackend::Postgres { "GREATEST" } else { "MAX" };
    for chunk in settled.chunks(ENTRY_CHUNK) {
        let mut text = String::from(
            "INSERT INTO settlement_state (contract_id, settled_rev, settled_at, settled_payment_id) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
        for (i, (id, rev, mark)) in chunk.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push('(');
            text.push_str(&marks(b, i * 4 + 1, 4));
            text.push(')');
            values.extend([(*id).into(), (*rev).into(), now.into(), (*mark).into()]);
        }
        text.push_str(&format!(
            " ON CONFLICT (contract_id) DO UPDATE SET settled_rev = excluded.settled_rev, \
             settled_at = excluded.settled_at, \
             settled_payment_id = {higher}(settlement_state.settled_payment_id, excluded.settled_payment_id)"
        ));
        conn.execute_raw(sql(b, &text, values)).await?;
    }
    Ok(())
}

/// Balances per party and account (signed, debit positive), optionally of one party.
#[derive(Debug, Clone, FromQueryResult)]
pub struct BalanceRow {
    pub party_id: i64,
    pub account: String,
    pub total: WideSum,
}

pub async fn balances<C: ConnectionTrait>(conn: &C, party: Option<i64>) -> Result<Vec<BalanceRow>, DbErr> {
    let (filter, values): (&str, Vec<Value>) = match party {
        Some(p) => ("WHERE party_id = $1 ", vec![p.into()]),
        None => ("", vec![]),
    };
    let text = format!(
        "SELECT party_id, account, {} FROM ledger_entries {filter}GROUP BY party_id, account ORDER BY party_id, account",
        wide_sum(conn.get_database_backend(), "amount_fen", "total")
    );
    rows(conn, &text, values).await
}

/// The sum of payments (refunds negative) on a line and stream.
pub async fn paid_on<C: ConnectionTrait>(conn: &C, line_id: i64, stream: &str) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        total: Option<i64>,
    }
    let r: Vec<Row> = rows(
        conn,
        "SELECT CAST(SUM(amount_fen) AS BIGINT) AS total FROM payments WHERE line_id = $1 AND stream = $2",
        vec![line_id.into(), stream.to_owned().into()],
    )
    .await?;
    Ok(r.first().and_then(|r| r.total).unwrap_or(0))
}

/// The maintenance paid (refunds negative) for one year of a contract, on every line.
pub async fn maintenance_paid<C: ConnectionTrait>(conn: &C, contract_id: i64, year: i32) -> Result<i64, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        total: Option<i64>,
    }
    let r: Vec<Row> = rows(
        conn,
        "SELECT CAST(SUM(amount_fen) AS BIGINT) AS total FROM payments \
         WHERE contract_id = $1 AND stream = 'maintenance' AND year = $2",
        vec![contract_id.into(), year.into()],
    )
    .await?;
    Ok(r.first().and_then(|r| r.total).unwrap_or(0))
}

/// Transactions whose entries do not sum to zero (there should never be any).
pub async fn unbalanced_txns<C: ConnectionTrait>(conn: &C) -> Result<Vec<i64>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        txn_id: i64,
    }
    let r: Vec<Row> = rows(
        conn,
        "SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING SUM(amount_fen) <> 0 ORDER BY txn_id",
        vec![],
    )
    .await?;
    Ok(r.into_iter().map(|r| r.txn_id).collect())
}

// ---- payouts and statements -------------------------------------------------------------------

pub mod payout {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "payouts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub period: String,
        pub status: String,
        pub cutoff: DateTimeUtc,
        pub minimum_fen: i64,
        pub total_fen: i64,
        pub items: i32,
        pub dual_approval: bool,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub first_approved_by: Option<i64>,
        pub first_approved_at: Option<DateTimeUtc>,
        pub approved_by: Option<i64>,
        pub approved_at: Option<DateTimeUtc>,
        pub txn_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payout_item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "payout_items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub payout_id: i64,
        pub party_id: i64,
        pub amount_fen: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Takes the payout lock: payout runs and approvals of the park happen one at a time (a row
/// lock on PostgreSQL; SQLite's write transaction already excludes other writers).
pub async fn lock_payouts<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    conn.execute_raw(sql(
        conn.get_database_backend(),
        "UPDATE ledger_counters SET value = value + 1 WHERE name = 'payout'",
        vec![],
    ))
    .await?;
    Ok(())
}

/// A party's balance of one account (signed, debit positive).
#[derive(Debug, Clone, FromQueryResult)]
pub struct PartyTotal {
    pub party_id: i64,
    pub account: String,
    pub total: WideSum,
}

/// Every party's `payable` and `held` balances from the entries created before `before`
/// (optionally of some parties only).
pub async fn party_totals_before<C: ConnectionTrait>(
    conn: &C,
    before: DateTime<Utc>,
    accounts: &[&str],
    parties: Option<&[i64]>,
) -> Result<Vec<PartyTotal>, DbErr> {
    let be = conn.get_database_backend();
    let mut values: Vec<Value> = vec![before.into()];
    values.extend(accounts.iter().map(|a| (*a).to_owned().into()));
    let mut text = format!(
        "SELECT party_id, account, {} FROM ledger_entries WHERE created_at < {} AND account IN ({})",
        wide_sum(be, "amount_fen", "total"),
        marks(be, 1, 1),
        marks(be, 2, accounts.len())
    );
    if let Some(ps) = parties {
        if ps.is_empty() {
            return Ok(Vec::new());
        }
        text.push_str(&format!(" AND party_id IN ({})", marks(be, 2 + accounts.len(), ps.len())));
        values.extend(ids(ps));
    }
    text.push_str(" GROUP BY party_id, account ORDER BY party_id, account");
    rows(conn, &text, values).await
}

/// A party's movements in a period, per account and kind (signed, debit positive).
#[derive(Debug, Clone, FromQueryResult)]
pub struct Movement {
    pub party_id: i64,
    pub account: String,
    pub kind: String,
    pub total: WideSum,
}

pub async fn movements<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Movement>, DbErr> {
    let text = format!(
        "SELECT party_id, account, kind, {} FROM ledger_entries \
         WHERE created_at >= $1 AND created_at < $2 AND account IN ('payable', 'held') \
         GROUP BY party_id, account, kind ORDER BY party_id, account, kind",
        wide_sum(conn.get_database_backend(), "amount_fen", "total")
    );
    rows(conn, &text, vec![from.into(), to.into()]).await
}

/// A party's entries of a period on `payable` and `held`, with their contract and line numbers.
#[derive(Debug, Clone, FromQueryResult)]
pub struct StatementRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub account: String,
    pub kind: String,
    pub amount_fen: i64,
    pub contract_no: Option<String>,
    pub line_no: Option<i32>,
    pub stream: Option<String>,
    pub payment_id: Option<i64>,
    pub payout_id: Option<i64>,
    pub rule: Option<i32>,
    pub rate_bp: Option<i32>,
    pub fee_fen: Option<i64>,
}

pub async fn statement_rows<C: ConnectionTrait>(
    conn: &C,
    party: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<StatementRow>, DbErr> {
    rows(
        conn,
        "SELECT e.id, e.created_at, e.account, e.kind, e.amount_fen, c.contract_no, l.line_no, e.stream, \
         e.payment_id, e.payout_id, e.rule, e.rate_bp, e.fee_fen FROM ledger_entries e \
         LEFT JOIN contracts c ON c.id = e.contract_id LEFT JOIN contract_lines l ON l.id = e.line_id \
         WHERE e.party_id = $1 AND e.created_at >= $2 AND e.created_at < $3 AND e.account IN ('payable', 'held') \
         ORDER BY e.id",
        vec![party.into(), from.into(), to.into()],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_literal_writes_nulls_and_elements_in_order() {
        let items = [Some("3".to_owned()), None, Some("-12".to_owned())];
        assert_eq!(array_literal(items.into_iter()), "{3,NULL,-12}");
        assert_eq!(array_literal(std::iter::empty()), "{}");
    }

    #[test]
    fn quoted_elements_keep_quotes_backslashes_and_the_word_null_as_text() {
        assert_eq!(quoted("payable"), r#""payable""#);
        assert_eq!(quoted("NULL"), r#""NULL""#);
        assert_eq!(quoted(r#"a"b\c,{d}"#), r#""a\"b\\c,{d}""#);
    }
}
