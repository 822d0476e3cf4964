//! The `notifications` table: enqueueing in the caller's transaction, leasing due rows to a
//! worker, recording the outcome, and the operator's view.

use chrono::{DateTime, Utc};
use kernel::{Cursor, Page, PageRequest};
use platform::Scope;
use platform::db::{Db, skip_locked, sql};
use rand::RngCore;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::{Notification, Status};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub created_at: DateTimeUtc,
        pub template: String,
        pub recipient_email: String,
        pub recipient_name: String,
        pub locale: String,
        pub payload: Json,
        pub org_id: Option<i64>,
        pub dedupe_key: Option<String>,
        pub message_id: String,
        pub status: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub lease_until: Option<DateTimeUtc>,
        pub last_error: Option<String>,
        pub sent_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use entity::Model as OutboxRow;

/// Writes a notification in the caller's transaction. A repeated `dedupe_key` is dropped.
pub async fn enqueue_in<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>, n: &Notification) -> Result<(), DbErr> {
    enqueue_many_in(conn, now, std::slice::from_ref(n)).await
}

/// Notifications per INSERT of [`enqueue_many_in`]: 16 columns each, well under SQLite's
/// 32,766 bound parameters.
const MANY_CHUNK: usize = 1_000;

/// Writes notifications in the caller's transaction, in as few statements as the bound
/// parameters allow. A repeated `dedupe_key` is dropped.
pub async fn enqueue_many_in<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    notifications: &[Notification],
) -> Result<(), DbErr> {
    for chunk in notifications.chunks(MANY_CHUNK) {
        let rows = chunk.iter().map(|n| {
            let mut id = [0u8; 16];
            rand::rng().fill_bytes(&mut id);
            entity::ActiveModel {
                id: Default::default(),
                created_at: Set(now),
                template: Set(n.template.as_str().to_owned()),
                recipient_email: Set(n.to.email.clone()),
                recipient_name: Set(n.to.name.clone()),
                locale: Set(n.to.locale.as_str().to_owned()),
                payload: Set(n.payload.clone()),
                org_id: Set(n.org_id),
                dedupe_key: Set(n.dedupe_key.clone()),
                message_id: Set(format!("{}@vpark", hex::encode(id))),
                status: Set(Status::Pending.as_str().to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                lease_until: Set(None),
                last_error: Set(None),
                sent_at: Set(None),
            }
        });
        entity::Entity::insert_many(rows)
            .on_conflict(OnConflict::column(entity::Column::DedupeKey).do_nothing().to_owned())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// A row leased to a worker.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Leased {
    pub id: i64,
    pub template: String,
    pub recipient_email: String,
    pub recipient_name: String,
    pub locale: String,
    pub payload: serde_json::Value,
    pub message_id: String,
    pub attempts: i32,
}

/// Leases up to `limit` due rows (pending and due, or `sending` with an expired lease) to the
/// caller until `lease_until`, counting the attempt. Rows leased by another worker are skipped.
pub async fn lease_due(
    db: &Db,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Leased>, DbErr> {
    let txn = db.begin().await?;
    let stmt = sql(
        db.backend(),
        &format!(
            "UPDATE notifications SET status = 'sending', attempts = attempts + 1, lease_until = $1 \
             WHERE id IN (SELECT id FROM notifications \
                 WHERE (status = 'pending' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_until < $2) \
                 ORDER BY next_attempt_at, id LIMIT $3{}) \
             RETURNING id, template, recipient_email, recipient_name, locale, payload, message_id, attempts",
            skip_locked(db.backend())
        ),
        [lease_until.into(), now.into(), (limit as i64).into()],
    );
    let rows = Leased::find_by_statement(stmt).all(&txn).await;
    match rows {
        Ok(rows) => {
            txn.commit().await?;
            Ok(rows)
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Records a successful send and removes the payload's secrets (one-time links).
pub async fn mark_sent(db: &Db, id: i64, now: DateTime<Utc>, scrubbed_payload: serde_json::Value) -> Result<(), DbErr> {
    db.write()
        .execute_raw(sql(
            db.backend(),
            "UPDATE notifications SET status = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL, payload = $2 \
             WHERE id = $3 AND status = 'sending'",
            [now.into(), scrubbed_payload.into(), id.into()],
        ))
        .await?;
    Ok(())
}

/// Records a failed attempt: back to `pending` at `retry_at`, or `dead` when `retry_at` is None.
pub async fn mark_failed(db: &Db, id: i64, retry_at: Option<DateTime<Utc>>, error: &str) -> Result<(), DbErr> {
    let (status, next) = match retry_at {
        Some(at) => (Status::Pending, Some(at)),
        None => (Status::Dead, None),
    };
    let error: String = error.chars().take(2000).collect();
    db.write()
        .execute_raw(sql(
            db.backend(),
            "UPDATE notifications SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
             lease_until = NULL, last_error = $3 WHERE id = $4 AND status = 'sending'",
            [status.as_str().into(), next.into(), error.into(), id.into()],
        ))
        .await?;
    Ok(())
}

/// Puts a dead message back in the queue with a fresh attempt budget. False when the row is not
/// dead (already pending, sending or sent).
pub async fn requeue_dead<C: ConnectionTrait>(conn: &C, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = conn
        .execute_raw(sql(
            conn.get_database_backend(),
            "UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = $1, last_error = NULL \
             WHERE id = $2 AND status = 'dead'",
            [now.into(), id.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

#[derive(Debug, Default, Clone)]
pub struct OutboxFilter {
    pub status: Option<Status>,
    pub recipient: Option<String>,
    pub template: Option<String>,
}

/// Outbox rows newest first, within the caller's scope.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &OutboxFilter,
    page: &PageRequest,
) -> Result<Page<OutboxRow>, DbErr> {
    use entity::Column as C;
    let mut q = entity::Entity::find();
    if let Scope::Limited { own_org, .. } = scope {
        q = q.filter(C::OrgId.eq(own_org.unwrap_or(-1)));
    }
    if let Some(s) = f.status {
        q = q.filter(C::Status.eq(s.as_str()));
    }
    if let Some(r) = &f.recipient {
        q = q.filter(C::RecipientEmail.eq(r.to_lowercase()));
    }
    if let Some(t) = &f.template {
        q = q.filter(C::Template.eq(t.as_str()));
    }
    if let Some(after) = page.after_id() {
        q = q.filter(C::Id.lt(after));
    }
    let rows = q.order_by_desc(C::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |r| Cursor::after_id(r.id)))
}

pub async fn find<C: ConnectionTrait>(conn: &C, scope: &Scope, id: i64) -> Result<Option<OutboxRow>, DbErr> {
    use entity::Column as C;
    let mut q = entity::Entity::find_by_id(id);
    if let Scope::Limited { own_org, .. } = scope {
        q = q.filter(C::OrgId.eq(own_org.unwrap_or(-1)));
    }
    q.one(conn).await
}

#[derive(Debug, FromQueryResult)]
struct StatusCount {
    status: String,
    n: i64,
}

/// Rows per status: the outbox depth for `/metrics`.
pub async fn depth(db: &Db) -> Result<Vec<(String, i64)>, DbErr> {
    let rows = StatusCount::find_by_statement(sql(
        db.backend(),
        "SELECT status, COUNT(*) AS n FROM notifications WHERE status <> 'sent' GROUP BY status",
        [],
    ))
    .all(db.read())
    .await?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}
