//! Test support: parks on fresh databases, users, requests and answers.

pub mod db;
pub mod http;
pub mod replica;
pub mod smtp;

use std::sync::Arc;
use std::time::Duration;

use kernel::ManualClock;
use poem::listener::Acceptor;
use server::{Park, Settings};
use tokio::sync::oneshot;

pub use db::{Backend, TestDb};
pub use http::User;

/// Runs `$name(backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::support::db::postgres_or_skip() {
                        super::$name($crate::support::Backend::Postgres).await
                    }
                }
            }
        )+
    };
}

/// A running park on its own database, listening on a free port.
pub struct TestPark {
    pub base: String,
    pub park: Arc<Park>,
    pub clock: Arc<ManualClock>,
    pub mail_dir: tempfile::TempDir,
    http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _db: TestDb,
}

/// How a test wants its park.
pub struct Options {
    /// Start from the seeded demo park (a clone of the template), or from an empty database.
    pub seeded: bool,
    pub tweak: Box<dyn FnOnce(&mut Settings) + Send>,
}

impl Default for Options {
    fn default() -> Self {
        Options { seeded: true, tweak: Box::new(|_| {}) }
    }
}

pub fn test_settings(url: &str, mail_dir: &std::path::Path) -> Settings {
    let mut s = Settings::default();
    s.server.listen = "127.0.0.1:0".into();
    s.server.shutdown_grace_s = 5;
    s.database.url = url.to_owned();
    s.database.max_connections = 4;
    s.mail.dir = mail_dir.to_path_buf();
    s.mail.worker = false;
    s.mail.backoff_base_ms = 1_000;
    s.mail.backoff_max_s = 60;
    s.demo.seed_on_empty = false;
    s
}

/// A park on a fresh copy of the seeded demo park.
pub async fn spawn_park(backend: Backend) -> TestPark {
    spawn_park_with(backend, Options::default()).await
}

pub async fn spawn_park_with(backend: Backend, options: Options) -> TestPark {
    let db = if options.seeded { TestDb::seeded(backend).await } else { TestDb::empty(backend).await };
    let mail_dir = tempfile::tempdir().expect("mail dir");
    let mut settings = test_settings(&db.url, mail_dir.path());
    (options.tweak)(&mut settings);
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let park = Arc::new(Park::open(settings, clock.clone()).await.expect("the park opens"));
    let acceptor = server::park::bind("127.0.0.1:0".into()).await.expect("bind");
    let addr = acceptor.local_addr().first().and_then(|a| a.as_socket_addr().copied()).expect("a socket address");
    let (tx, rx) = oneshot::channel::<()>();
    let endpoint = park.endpoint();
    let server = tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                endpoint,
                async move {
                    let _ = rx.await;
                },
                Some(Duration::from_secs(5)),
            )
            .await;
    });
    TestPark {
        base: format!("http://{addr}"),
        park,
        clock,
        mail_dir,
        http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("http client"),
        shutdown: Some(tx),
        server: Some(server),
        _db: db,
    }
}

impl TestPark {
    /// Today by the park's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        kernel::Clock::now(&*self.clock).date_naive()
    }

    /// A caller without a token.
    pub fn anon(&self) -> User {
        User::new(self.http.clone(), self.base.clone(), None)
    }

    /// Logs in with the demo password.
    pub async fn login(&self, email: &str) -> User {
        self.login_with(email, server::seed::DEMO_PASSWORD).await
    }

    pub async fn login_with(&self, email: &str, password: &str) -> User {
        let r =
            self.anon().post("/api/v1/auth/login", serde_json::json!({ "email": email, "password": password })).await;
        assert_eq!(r.status, 200, "login of {email} failed: {}", r.body);
        let mut user = User::new(self.http.clone(), self.base.clone(), r.body["token"].as_str().map(str::to_owned));
        user.id = r.body["user"]["id"].as_i64().unwrap_or_default();
        user.org_id = r.body["user"]["organisation"]["id"].as_i64().unwrap_or_default();
        user.email = email.to_owned();
        user
    }

    /// The id of a user by e-mail (through the platform admin).
    pub async fn user_id(&self, email: &str) -> i64 {
        let admin = self.login("admin@vpark.demo").await;
        let r = admin.get(&format!("/api/v1/users?q={email}")).await;
        r.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|u| u["email"] == email))
            .and_then(|u| u["id"].as_i64())
            .unwrap_or_else(|| panic!("no user {email}"))
    }

    /// The organisation of a user, by e-mail (through the platform admin).
    pub async fn org_id_of(&self, email: &str) -> i64 {
        let admin = self.login("admin@vpark.demo").await;
        let r = admin.get(&format!("/api/v1/users?q={email}")).await;
        r.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|u| u["email"] == email))
            .and_then(|u| u["org_id"].as_i64())
            .unwrap_or_else(|| panic!("no user {email}"))
    }

    /// The URL of this park's database.
    pub fn db_url(&self) -> &str {
        &self._db.url
    }

    /// Runs a statement on this park's database, as its writer (`$1`-style placeholders).
    pub async fn execute(&self, text: &str, values: Vec<sea_orm::Value>) {
        use sea_orm::ConnectionTrait;
        let conn = self.park.db.write();
        let statement = platform::db::sql(conn.get_database_backend(), text, values);
        conn.execute_raw(statement).await.unwrap_or_else(|e| panic!("{text}: {e}"));
    }

    /// One integer a query over this park's database answers (`$1`-style placeholders).
    pub async fn scalar(&self, text: &str, values: Vec<sea_orm::Value>) -> i64 {
        use sea_orm::ConnectionTrait;
        let conn = self.park.db.read();
        let statement = platform::db::sql(conn.get_database_backend(), text, values);
        let row = conn.query_one_raw(statement).await.unwrap_or_else(|e| panic!("{text}: {e}"));
        let row = row.unwrap_or_else(|| panic!("{text}: no row"));
        match row.try_get_by_index::<Option<i64>>(0) {
            Ok(n) => n.unwrap_or(0),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    /// The counters the database keeps of every deliverer (busy orders, deliveries, on time,
    /// ratings, stars) equal the same figures counted afresh over all orders and ratings.
    pub async fn assert_deliverer_counters_hold(&self) {
        let kept =
            marketplace::store::deliverer_stats(self.park.db.read(), None, self.today()).await.expect("counters");
        assert!(kept.values().any(|s| s.busy > 0 || s.delivered > 0), "a park with work has deliverers to count");
        let drift = self.park.marketplace.check_deliverer_counters(false).await.expect("check");
        assert!(drift.is_empty(), "the deliverer counters drifted from the orders and ratings: {drift:?}");
    }

    /// Runs one outbox round with this park's settings; returns what it did.
    pub async fn drain_outbox(&self) -> notify::worker::Round {
        self.park.outbox().expect("outbox").round().await.expect("outbox round")
    }

    /// Stops the server and closes the pools (the database is dropped with `db`).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.park.db.clone().close().await;
    }
}
