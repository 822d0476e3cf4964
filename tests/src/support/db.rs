//! Fresh databases for tests, on SQLite and PostgreSQL.
//!
//! Loading the demo park takes a while, so it happens once per test process and backend into a
//! template (a SQLite file, a PostgreSQL template database); each test then gets its own copy.
//! PostgreSQL databases are named `vpark_t_<pid>_<n>` and dropped when the test ends (also when
//! it panics); leftovers of crashed runs are dropped by the next run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use kernel::SystemClock;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, FromQueryResult, Statement};
use server::Park;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn next_n() -> u64 {
    COUNTER.fetch_add(1, Ordering::SeqCst)
}

/// The PostgreSQL server the tests use: `VPARK_TEST_PG_URL`, or the local one.
pub fn pg_admin_url() -> String {
    std::env::var("VPARK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    match admin.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{db}", &admin[..i]),
        _ => format!("{admin}/{db}"),
    }
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Runs a future to completion on a runtime of its own, in a thread of its own: the templates
/// are shared by tests that each run on their own runtime.
fn block_on_own_runtime<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(f)
    })
    .join()
    .expect("helper thread")
}

async fn admin_connection() -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut opts = ConnectOptions::new(pg_admin_url());
    opts.max_connections(1).sqlx_logging(false).acquire_timeout(std::time::Duration::from_secs(5));
    Database::connect(opts).await
}

/// Whether PostgreSQL answers (checked once).
fn postgres_status() -> &'static Result<(), String> {
    static STATUS: OnceLock<Result<(), String>> = OnceLock::new();
    STATUS.get_or_init(|| {
        block_on_own_runtime(async {
            let conn = admin_connection().await.map_err(|e| e.to_string())?;
            conn.execute_unprepared("SELECT 1").await.map_err(|e| e.to_string())?;
            drop_leftovers(&conn).await;
            conn.close().await.map_err(|e| e.to_string())
        })
    })
}

/// True when the PostgreSQL half of a test should run. Without PostgreSQL: a loud skip, or a
/// failure under `CI=true`.
pub fn postgres_or_skip() -> bool {
    match postgres_status() {
        Ok(()) => true,
        Err(e) if is_ci() => panic!("PostgreSQL is required under CI=true, but {} is unreachable: {e}", pg_admin_url()),
        Err(e) => {
            eprintln!(
                "\n*** SKIPPED ON POSTGRESQL: {} is unreachable ({e}).\n*** Start PostgreSQL or set VPARK_TEST_PG_URL; under CI=true this fails. ***\n",
                pg_admin_url()
            );
            false
        }
    }
}

#[derive(FromQueryResult)]
struct DbName {
    datname: String,
}

/// Drops test databases left by processes that no longer run.
async fn drop_leftovers(conn: &DatabaseConnection) {
    let Ok(rows) = DbName::find_by_statement(Statement::from_string(
        conn.get_database_backend(),
        "SELECT datname FROM pg_database WHERE datname LIKE 'vpark\\_t%'",
    ))
    .all(conn)
    .await
    else {
        return;
    };
    for row in rows {
        let pid = row.datname.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", row.datname)).await;
        }
    }
}

/// A template per backend, created on first use.
#[derive(Clone)]
enum Template {
    SqliteFile(PathBuf),
    PgDatabase(String),
}

fn template_dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::Builder::new().prefix("vpark-tests-").tempdir().expect("temp dir"))
}

fn template(backend: Backend) -> Template {
    static TEMPLATES: OnceLock<Mutex<HashMap<Backend, Template>>> = OnceLock::new();
    let map = TEMPLATES.get_or_init(|| Mutex::new(HashMap::new()));
    let mut guard = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(t) = guard.get(&backend) {
        return t.clone();
    }
    let t = match backend {
        Backend::Sqlite => {
            let path = template_dir().path().join("template.db");
            let url = format!("sqlite://{}?mode=rwc", path.display());
            block_on_own_runtime(async move { load_demo(url, true).await });
            Template::SqliteFile(path)
        }
        Backend::Postgres => {
            let name = format!("vpark_t_{}_template", std::process::id());
            let create = name.clone();
            block_on_own_runtime(async move {
                let conn = admin_connection().await.expect("postgres admin connection");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{create}\"")).await.expect("create template");
                conn.close().await.ok();
                load_demo(pg_url_for(&create), false).await;
            });
            Template::PgDatabase(name)
        }
    };
    guard.insert(backend, t.clone());
    t
}

async fn load_demo(url: String, checkpoint: bool) {
    let dir = tempfile::tempdir().expect("mail dir");
    let settings = super::test_settings(&url, dir.path());
    let park = Park::open(settings, Arc::new(SystemClock)).await.expect("template park");
    server::seed::seed_demo(&park).await.expect("demo park").expect("an empty template");
    // The demo park's history e-mails are not the business of the tests: each test starts with
    // an empty outbox and sees only the messages it causes.
    park.db.write().execute_unprepared("DELETE FROM notifications").await.expect("empty outbox");
    if checkpoint {
        park.db.write().execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.expect("checkpoint");
    }
    park.db.clone().close().await;
}

/// A database of one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    /// A copy of the seeded demo park.
    pub async fn seeded(backend: Backend) -> TestDb {
        let t = tokio::task::spawn_blocking(move || template(backend)).await.expect("template");
        match t {
            Template::SqliteFile(src) => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("vpark.db");
                std::fs::copy(&src, &path).expect("copy the template");
                TestDb { url: format!("sqlite://{}?mode=rwc", path.display()), _dir: Some(dir), pg_name: None }
            }
            Template::PgDatabase(template) => {
                let name = format!("vpark_t_{}_{}", std::process::id(), next_n());
                // Cloning a template is refused while another clone of it runs: one at a time.
                static CLONING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
                let _one = CLONING.lock().await;
                let conn = admin_connection().await.expect("postgres admin connection");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
                    .await
                    .expect("clone the template");
                conn.close().await.ok();
                TestDb { url: pg_url_for(&name), _dir: None, pg_name: Some(name) }
            }
        }
    }

    /// A copy of this database as it is now (nothing may be connected to it).
    pub async fn copy(&self) -> TestDb {
        match &self.pg_name {
            None => {
                let src = self.url.trim_start_matches("sqlite://").split('?').next().unwrap_or_default().to_owned();
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("vpark.db");
                std::fs::copy(&src, &path).expect("copy the database");
                for suffix in ["-wal", "-shm"] {
                    let side = format!("{src}{suffix}");
                    if std::path::Path::new(&side).exists() {
                        std::fs::copy(&side, format!("{}{suffix}", path.display())).expect("copy the WAL");
                    }
                }
                TestDb { url: format!("sqlite://{}?mode=rwc", path.display()), _dir: Some(dir), pg_name: None }
            }
            Some(source) => {
                let name = format!("vpark_t_{}_{}", std::process::id(), next_n());
                let conn = admin_connection().await.expect("postgres admin connection");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{source}\""))
                    .await
                    .expect("copy the database");
                conn.close().await.ok();
                TestDb { url: pg_url_for(&name), _dir: None, pg_name: Some(name) }
            }
        }
    }

    /// An empty database (migrations run when the park opens).
    pub async fn empty(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("vpark.db");
                TestDb { url: format!("sqlite://{}?mode=rwc", path.display()), _dir: Some(dir), pg_name: None }
            }
            Backend::Postgres => {
                let name = format!("vpark_t_{}_{}", std::process::id(), next_n());
                let conn = admin_connection().await.expect("postgres admin connection");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
                conn.close().await.ok();
                TestDb { url: pg_url_for(&name), _dir: None, pg_name: Some(name) }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            block_on_own_runtime(async move {
                if let Ok(conn) = admin_connection().await {
                    let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    let _ = conn.close().await;
                }
            });
        }
    }
}
