//! The database handle.
//!
//! SQLite allows one writer at a time. A write transaction that starts `DEFERRED`, reads, and
//! then writes fails at once with `SQLITE_BUSY` when another connection wrote in between — the
//! busy timeout does not help. So on SQLite every write transaction starts `IMMEDIATE`, and all
//! of them go through a writer pool of exactly one connection: writers wait in the pool's fair
//! queue rather than in SQLite's sleeping busy handler. Reads use a separate read-only pool (WAL
//! lets them run beside the writer). On PostgreSQL both are the same pool.
//!
//! The hottest writes go through `Db::grouped`: work waiting for the writer at the same moment
//! shares one transaction (`group_commit`), written on a thread of its own — on PostgreSQL over
//! a connection of its own (`WriterThread`).

use std::sync::Arc;
use std::time::Duration;

use crate::error::{AppResult, finish};
use crate::group_commit;
use futures_util::future::BoxFuture;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, RuntimeErr,
    SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// A pooled PostgreSQL connection idle at least this long is pinged before it is handed out.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// How to connect. `url` is `sqlite://path?mode=rwc` or `postgres://…`.
#[derive(Clone, Debug)]
pub struct DbConfig {
    pub url: String,
    /// Pool size on PostgreSQL, and the number of reader connections on SQLite.
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long SQLite waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
}

impl DbConfig {
    pub fn new(url: impl Into<String>) -> Self {
        DbConfig {
            url: url.into(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    read: DatabaseConnection,
    write: DatabaseConnection,
    backend: DbBackend,
    /// The thread of the group committer (`Db::grouped`).
    writer: Arc<WriterThread>,
}

/// A thread with a runtime of its own, where the group committer (`group_commit`) runs.
///
/// A statement is a round trip to the database. On the shared runtime the task waiting for the
/// answer queues behind every other runnable task (requests being parsed, authorised, read and
/// answered) before it sends the next statement, and all that time it holds the one SQLite
/// writer, or a PostgreSQL transaction that other claims wait for. On a thread of its own it
/// runs as soon as the answer is there. On PostgreSQL the thread opens its own connection, on
/// its own runtime, so that the answers are picked up there too (a connection's socket is
/// watched by the runtime that opened it).
#[derive(Debug)]
struct WriterThread {
    queue: group_commit::Queue,
    /// Dropped with the last `Db`: the thread's runtime then stops.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl WriterThread {
    /// Starts the thread `name`; `connect` gives the writer's connection, on the thread.
    async fn start<F, C>(name: &str, backend: DbBackend, connect: F) -> Result<WriterThread, DbErr>
    where
        F: FnOnce() -> C + Send + 'static,
        C: Future<Output = Result<DatabaseConnection, DbErr>>,
    {
        let fail = |e: &dyn std::fmt::Display| DbErr::Custom(format!("cannot start the database writer thread: {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| fail(&e))?;
        let (ready, is_ready) = tokio::sync::oneshot::channel::<Result<WriterThread, DbErr>>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let write = match connect().await {
                        Ok(write) => write,
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    let (queue, jobs) = tokio::sync::mpsc::unbounded_channel();
                    let committer = group_commit::run(jobs, move || {
                        let write = write.clone();
                        async move { begin_on(&write, backend).await }
                    });
                    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                    if ready.send(Ok(WriterThread { queue, _stop: stop })).is_ok() {
                        // Runs the committer until the last `Db` is dropped.
                        tokio::select! {
                            () = committer => {}
                            _ = stopped => {}
                        }
                    }
                });
            })
            .map_err(|e| fail(&e))?;
        is_ready.await.map_err(|e| fail(&e))?
    }
}

/// `BEGIN`, `IMMEDIATE` on SQLite.
async fn begin_on(conn: &DatabaseConnection, backend: DbBackend) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: (backend == DbBackend::Sqlite).then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    conn.begin_with_options(options).await
}

impl Db {
    pub async fn connect(config: &DbConfig) -> Result<Db, DbErr> {
        if config.url.starts_with("sqlite:") {
            let write = Database::connect(sqlite_options(config, 1, false)).await?;
            // Make sure the file exists in WAL mode before readers open it read-only.
            write.execute_unprepared("SELECT 1").await?;
            let read = Database::connect(sqlite_options(config, config.max_connections.max(1), true)).await?;
            let writer = write.clone();
            let writer =
                WriterThread::start("vpark-sqlite-writer", DbBackend::Sqlite, move || async move { Ok(writer) })
                    .await?;
            Ok(Db { read, write, backend: DbBackend::Sqlite, writer: Arc::new(writer) })
        } else if config.url.starts_with("postgres:") || config.url.starts_with("postgresql:") {
            let mut opts = ConnectOptions::new(config.url.clone());
            opts.max_connections(config.max_connections.max(1))
                .min_connections(0)
                .acquire_timeout(config.acquire_timeout)
                // Not a ping before every statement (the pool's default, one more round trip
                // each): only a connection idle long enough to have been dropped by the
                // server or something on the way is checked before it is handed out.
                .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
                .sqlx_logging(false)
                .map_sqlx_postgres_opts(|o| o.application_name("vpark"));
            let mut writer = opts.clone();
            writer.max_connections(1);
            let pool = Database::connect(opts).await?;
            let writer =
                WriterThread::start("vpark-pg-writer", DbBackend::Postgres, move || Database::connect(writer)).await?;
            Ok(Db { read: pool.clone(), write: pool, backend: DbBackend::Postgres, writer: Arc::new(writer) })
        } else {
            Err(DbErr::Custom(format!(
                "unsupported database URL {:?}: use sqlite://… or postgres://…",
                redact_url(&config.url)
            )))
        }
    }

    /// For queries outside a transaction.
    pub fn read(&self) -> &DatabaseConnection {
        &self.read
    }

    /// For migrations and other schema work.
    pub fn write(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite). Commit or roll it back
    /// explicitly: every caller's read-check-write belongs inside one of these.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        begin_on(&self.write, self.backend).await
    }

    /// Runs `work` in a write transaction on the writer's thread (`WriterThread`) and commits
    /// it, or rolls it back when the work fails. The transaction may be shared with other work
    /// submitted at the same moment (`group_commit`): the work may run twice — in a group that
    /// failed, then alone — so it must do nothing outside the transaction. On PostgreSQL the
    /// writer's thread has one connection of its own: work that goes through here is written
    /// one group at a time, so keep it to batches that are better written so (`batch`), not
    /// to every write.
    pub async fn grouped<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t DatabaseTransaction) -> BoxFuture<'t, AppResult<T>> + Send + Sync + 'static,
    {
        let work: Arc<group_commit::Work<T>> = Arc::new(work);
        let (job, answer) = group_commit::pending(work.clone());
        if self.writer.queue.send(job).is_ok()
            && let Ok(Some(result)) = answer.await
        {
            return result;
        }
        let txn = self.begin().await?;
        let outcome = work(&txn).await;
        finish(txn, outcome).await
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    pub fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.read.execute_unprepared("SELECT 1").await.is_ok()
            && (self.backend != DbBackend::Sqlite || self.write.execute_unprepared("SELECT 1").await.is_ok())
    }

    pub async fn close(self) {
        let _ = self.read.close().await;
        if self.backend == DbBackend::Sqlite {
            let _ = self.write.close().await;
        }
    }
}

/// The WAL pages after which a commit copies them back into the database file (SQLite's
/// default is 1,000, 4 MB). The copy runs on the single writer, inside the commit that crosses
/// the mark, so it holds up every write behind it. With 10,000 pages it runs a tenth as often,
/// and a page written many times in between is copied once: 8–11 % more claims per second
/// (`vpark bench marketplace`), settlement unchanged. The price is a WAL of up to ~40 MB on disk.
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

fn sqlite_options(config: &DbConfig, connections: u32, read_only: bool) -> ConnectOptions {
    let busy = config.busy_timeout;
    let mut opts = ConnectOptions::new(config.url.clone());
    opts.max_connections(connections)
        .min_connections(if read_only { 0 } else { 1 })
        .acquire_timeout(config.acquire_timeout)
        // An embedded connection has no server or network to lose it: pinging it before every
        // statement (the pool's default) only doubled the hand-offs to SQLite's worker thread.
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |o| {
            let o = o
                .busy_timeout(busy)
                .foreign_keys(true)
                .synchronous(SqliteSynchronous::Normal)
                .pragma("temp_store", "memory")
                .pragma("cache_size", "-16000");
            if read_only {
                o.read_only(true)
            } else {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
            }
        });
    opts
}

/// A URL with its password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// True when the error is a unique-constraint violation (recognised portably).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// True when the error is a foreign-key violation.
pub fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_)))
}

/// True when the database could not be reached (as opposed to a query that failed): no
/// connection, a connection that broke, or a server that ended the session (PostgreSQL's
/// SQLSTATE class 08, connection exception, and 57P01–57P03: terminated by an administrator
/// (`pg_terminate_backend`), a crash, or a server starting up or shutting down).
pub fn is_connection_error(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            use sea_orm::sqlx::Error as E;
            match &**e {
                E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Protocol(_) => true,
                E::Database(d) => {
                    d.code().is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03"))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// The code of the conflict a unique-constraint violation becomes (see [`db_error`]).
pub const DUPLICATE: &str = "duplicate";

/// Maps a database error to the error vocabulary: unavailability is 503; a unique-constraint
/// violation is a 409 `duplicate` (two requests created the same record at the same moment —
/// the loser of such a race conflicts with the winner's record, it is not a server error); the
/// rest is unexpected (500, cause logged). Never "not found".
pub fn db_error(err: DbErr) -> kernel::Error {
    if is_connection_error(&err) {
        kernel::Error::Unavailable("the database is not reachable; nothing was changed, try again shortly".into())
    } else if is_unique_violation(&err) {
        tracing::info!(error = %err, "unique violation answered as a conflict");
        kernel::Error::conflict(DUPLICATE, "a record like this was created at the same moment; read it, then try again")
    } else {
        kernel::Error::Unexpected(anyhow::Error::new(err))
    }
}

/// A raw statement written with PostgreSQL placeholders (`$1`, `$2`, …), made portable: SQLite
/// gets `?1`, `?2`, … (numbered, so a placeholder may repeat). Keep `$` out of string literals.
pub fn sql<I>(backend: DbBackend, text: &str, values: I) -> sea_orm::Statement
where
    I: IntoIterator<Item = sea_orm::Value>,
{
    let text = match backend {
        DbBackend::Sqlite => text.replace('$', "?"),
        _ => text.to_owned(),
    };
    sea_orm::Statement::from_sql_and_values(backend, text, values)
}

/// An exact sum of a fen column over any number of rows, as SQL selecting it as `alias`: a
/// sum that cannot overflow in the database. PostgreSQL sums `BIGINT` into `NUMERIC` (exact at
/// any size); SQLite's `SUM` of integers fails on overflow, so it sums the upper and the lower
/// 32 bits of each amount apart (each part's sum stays exact for two billion rows) and
/// [`WideSum`] puts them together. Read the column as a `WideSum`.
pub fn wide_sum(backend: DbBackend, expr: &str, alias: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST(SUM({expr}) AS TEXT) AS {alias}"),
        _ => format!("CAST(SUM(({expr}) >> 32) AS TEXT) || ':' || CAST(SUM(({expr}) & 4294967295) AS TEXT) AS {alias}"),
    }
}

/// A sum selected with [`wide_sum`], in fen (no rows: zero). A sum beyond `i64` — more than
/// 92 quadrillion yuan, which the input ceilings keep out of reach (docs/money.md) — is an
/// error, never a wrong figure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WideSum(pub i64);

impl WideSum {
    pub fn parse(text: Option<&str>) -> Result<WideSum, String> {
        let Some(text) = text else { return Ok(WideSum(0)) };
        let num = |t: &str| t.trim().parse::<i128>().map_err(|_| format!("not a sum: {text:?}"));
        let total = match text.split_once(':') {
            Some((hi, lo)) => num(hi)?.checked_mul(1 << 32).and_then(|h| h.checked_add(num(lo).ok()?)),
            None => Some(num(text)?),
        };
        total.and_then(|t| i64::try_from(t).ok()).map(WideSum).ok_or_else(|| format!("a sum beyond 64 bits: {text}"))
    }
}

impl sea_orm::TryGetable for WideSum {
    fn try_get_by<I: sea_orm::ColIdx>(res: &sea_orm::QueryResult, index: I) -> Result<Self, sea_orm::TryGetError> {
        let text: Option<String> = sea_orm::TryGetable::try_get_by(res, index)?;
        WideSum::parse(text.as_deref()).map_err(|e| sea_orm::TryGetError::DbErr(DbErr::Type(e)))
    }
}

/// `FOR UPDATE SKIP LOCKED` where the database has it (PostgreSQL). On SQLite the surrounding
/// `IMMEDIATE` transaction already excludes other writers.
pub fn skip_locked(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
        _ => "",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn wide_sums_put_their_halves_together() {
        assert_eq!(WideSum::parse(None), Ok(WideSum(0)));
        assert_eq!(WideSum::parse(Some("-12345")), Ok(WideSum(-12345)));
        // -5 = -1 · 2^32 + 4294967291
        assert_eq!(WideSum::parse(Some("-1:4294967291")), Ok(WideSum(-5)));
        assert_eq!(WideSum::parse(Some("2147483647:4294967295")), Ok(WideSum(i64::MAX)));
        assert!(WideSum::parse(Some("2147483648:0")).is_err(), "beyond 64 bits is an error");
        assert!(WideSum::parse(Some("99999999999999999999")).is_err());
    }

    /// SQLite sums past `i64` without failing, and the halves come back exact.
    #[tokio::test]
    async fn sqlite_wide_sums_do_not_overflow() {
        let (db, path) = temp_sqlite_with_t("wide-sum").await;
        db.write()
            .execute_unprepared(
                "INSERT INTO t (x) VALUES (9223372036854775807), (9223372036854775807), (-9223372036854775807)",
            )
            .await
            .expect("insert");
        let text = format!("SELECT {} FROM t", wide_sum(DbBackend::Sqlite, "x", "total"));
        let row = db.read().query_one_raw(sea_orm::Statement::from_string(DbBackend::Sqlite, text)).await;
        let total: WideSum = row.expect("sum").expect("a row").try_get("", "total").expect("a wide sum");
        db.close().await;
        remove(&path);
        assert_eq!(total, WideSum(i64::MAX));
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://vpark.db"), "sqlite://vpark.db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    /// The writer checkpoints the WAL as `WAL_AUTOCHECKPOINT_PAGES` says.
    #[tokio::test]
    async fn the_sqlite_writer_checkpoints_less_often() {
        let (db, path) = temp_sqlite("checkpoint").await;
        let row = db
            .write()
            .query_one_raw(sea_orm::Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_autocheckpoint"))
            .await
            .expect("pragma")
            .expect("a row");
        let pages: i64 = row.try_get_by_index(0).expect("pages");
        db.close().await;
        remove(&path);
        assert_eq!(pages, i64::from(WAL_AUTOCHECKPOINT_PAGES));
    }

    /// A fresh SQLite database in the temporary directory (remove it with `remove`).
    pub(crate) async fn temp_sqlite(name: &str) -> (Db, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("vpark-{name}-{}.db", std::process::id()));
        remove(&path);
        let db = Db::connect(&DbConfig::new(format!("sqlite://{}?mode=rwc", path.display()))).await.expect("db");
        (db, path)
    }

    /// A fresh SQLite database with one table, `t (x)`.
    pub(crate) async fn temp_sqlite_with_t(name: &str) -> (Db, std::path::PathBuf) {
        let (db, path) = temp_sqlite(name).await;
        db.write().execute_unprepared("CREATE TABLE t (x INTEGER NOT NULL)").await.expect("create");
        (db, path)
    }

    pub(crate) fn remove(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    pub(crate) async fn count(conn: &impl ConnectionTrait) -> i64 {
        count_where(conn, "1 = 1").await
    }

    /// The rows of `t` that `filter` (SQL) keeps.
    pub(crate) async fn count_where(conn: &impl ConnectionTrait, filter: &str) -> i64 {
        let text = format!("SELECT count(*) FROM t WHERE {filter}");
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(DbBackend::Sqlite, text))
            .await
            .expect("count")
            .expect("a row");
        row.try_get_by_index(0).expect("count")
    }

    /// Submits a piece that inserts 0 and then holds the committer (inside its transaction)
    /// until released; returns once it runs. The piece answers with the name of its thread.
    async fn hold_the_committer(
        db: &Db,
    ) -> (tokio::task::JoinHandle<AppResult<Option<String>>>, tokio::sync::oneshot::Sender<()>) {
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let gates = Arc::new(tokio::sync::Mutex::new(Some((started, released))));
        let db = db.clone();
        let first = tokio::spawn(async move {
            db.grouped(move |txn| {
                let gates = gates.clone();
                Box::pin(async move {
                    txn.execute_unprepared("INSERT INTO t (x) VALUES (0)").await?;
                    if let Some((started, released)) = gates.lock().await.take() {
                        let _ = started.send(());
                        let _ = released.await;
                    }
                    Ok(std::thread::current().name().map(str::to_owned))
                })
            })
            .await
        });
        running.await.expect("the first piece runs");
        (first, release)
    }

    /// Work submitted while the committer is busy waits, then shares one transaction: the last
    /// piece sees its group's rows in its transaction and none of them from outside. It runs on
    /// the writer's own thread.
    #[tokio::test]
    async fn sqlite_work_submitted_together_commits_together() {
        let (db, path) = temp_sqlite_with_t("group-commit").await;

        // The first piece holds the committer until it is released.
        let (first, release) = hold_the_committer(&db).await;
        let piece = |x: i64| {
            let outside = db.clone();
            db.grouped(move |txn| {
                let outside = outside.clone();
                Box::pin(async move {
                    txn.execute_unprepared(&format!("INSERT INTO t (x) VALUES ({x})")).await?;
                    Ok((count(txn).await, count(outside.read()).await))
                })
            })
        };
        // join! polls in order: the three pieces are queued before the first is released.
        let (a, b, c, ()) = tokio::join!(piece(1), piece(2), piece(3), async move {
            let _ = release.send(());
        });
        let first = first.await.expect("joined").expect("first");
        assert_eq!(first.as_deref(), Some("vpark-sqlite-writer"));
        let (a, b, c) = (a.expect("a"), b.expect("b"), c.expect("c"));
        assert_eq!([a, b, c], [(2, 1), (3, 1), (4, 1)], "the three pieces shared one transaction after the first's");
        assert_eq!(count(db.read()).await, 4, "every piece committed");
        db.close().await;
        remove(&path);
    }

    /// A piece that fails costs the others of its group nothing: the group is rolled back and
    /// every piece runs again alone; the failed one's writes are gone, the rest (and the piece
    /// committed before) are there.
    #[tokio::test]
    async fn sqlite_a_failed_piece_leaves_its_group_committed() {
        let (db, path) = temp_sqlite_with_t("group-commit-failure").await;
        let (first, release) = hold_the_committer(&db).await;
        let piece = |x: i64| {
            db.grouped(move |txn| {
                Box::pin(async move {
                    txn.execute_unprepared(&format!("INSERT INTO t (x) VALUES ({x})")).await?;
                    if x == 5 {
                        return Err(kernel::Error::conflict("five", "five is refused").into());
                    }
                    Ok(x)
                })
            })
        };
        // Pieces 1 to 9 are queued while the committer is held, so they make one group.
        let (results, ()) = tokio::join!(futures_util::future::join_all((1..10).map(piece)), async move {
            let _ = release.send(());
        });
        first.await.expect("joined").expect("first");
        for (x, result) in (1..10).zip(&results) {
            match result {
                Ok(got) => assert_eq!(*got, x),
                Err(e) => assert_eq!((x, e.to_string().contains("five is refused")), (5, true), "{e}"),
            }
        }
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
        assert_eq!((count(db.read()).await, count_where(db.read(), "x = 5").await), (9, 0));

        // The writer's runtime stops with the last handle: a task that never ends is dropped.
        let (alive, gone) = tokio::sync::oneshot::channel::<()>();
        let writer = &db.writer;
        let _ = writer.queue.send(Box::new(Forever { _alive: alive }));
        drop(db);
        let stopped = tokio::time::timeout(Duration::from_secs(10), gone).await;
        remove(&path);
        assert!(matches!(stopped, Ok(Err(_))), "the writer's runtime stopped with the last handle: {stopped:?}");
    }

    /// A piece that panics fails its group; it panics again alone in its caller's task, and
    /// the committer goes on: the next piece still runs on the writer's thread.
    #[tokio::test]
    async fn sqlite_a_panicking_piece_leaves_the_committer_running() {
        let (db, path) = temp_sqlite("group-commit-panic").await;
        let on = db.clone();
        let panicked = tokio::spawn(async move {
            on.grouped(|_txn| -> BoxFuture<'_, AppResult<()>> { Box::pin(async { panic!("the work failed") }) }).await
        })
        .await;
        assert!(panicked.is_err_and(|e| e.is_panic()), "the panic reaches the caller");
        let thread = db
            .grouped(|_txn| Box::pin(async { Ok(std::thread::current().name().map(str::to_owned)) }))
            .await
            .expect("the next piece runs");
        assert_eq!(thread.as_deref(), Some("vpark-sqlite-writer"));
        drop(db);
        remove(&path);
    }

    /// A job that never finishes, holding a sender that says when it is dropped.
    struct Forever {
        _alive: tokio::sync::oneshot::Sender<()>,
    }

    impl group_commit::Job for Forever {
        fn run<'t>(&'t mut self, _txn: &'t DatabaseTransaction) -> BoxFuture<'t, bool> {
            Box::pin(std::future::pending())
        }

        fn done(self: Box<Self>, _committed: bool) {}
    }

    /// The SQLite that is linked in is the one `.cargo/config.toml` asks for: no memory
    /// statistics (a process-wide mutex on every allocation) and no sampled statistics (a new
    /// compilation of a statement for every new bound value once `ANALYZE` has run).
    #[tokio::test]
    async fn sqlite_is_built_as_configured() {
        let conn = sea_orm::Database::connect("sqlite::memory:").await.expect("in-memory SQLite");
        let rows = conn
            .query_all_raw(sea_orm::Statement::from_string(DbBackend::Sqlite, "PRAGMA compile_options"))
            .await
            .expect("compile options");
        let options: Vec<String> = rows.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect();
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!options.iter().any(|o| o.starts_with("ENABLE_STAT")), "{options:?}");
        assert!(options.iter().any(|o| o.starts_with("THREADSAFE")), "{options:?}");
    }
}
