//! The `vpark` binary itself: serving and stopping, the command line, configuration errors.
//! These tests need the binary built (`cargo build -p server`; the Makefile's `test` does it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::both;
use crate::support::smtp::free_port;
use crate::support::{Backend, TestDb};

fn vpark() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe.parent().and_then(Path::parent).map(|d| d.join("vpark")).expect("target dir");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p server` (`make test` does)",
        bin.display()
    );
    bin
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(vpark());
    cmd.args(args).current_dir(dir).env_remove("DATABASE_URL").env("VPARK__LOG__LEVEL", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start vpark");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("vpark output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

both!(serve_migrates_seeds_serves_and_stops_on_sigterm);

async fn serve_migrates_seeds_serves_and_stops_on_sigterm(b: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::empty(b).await;
    let port = free_port();
    let mut cmd = Command::new(vpark());
    cmd.arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("VPARK__LOG__FORMAT", "json")
        .env("RUST_LOG", "info");
    if b == Backend::Postgres {
        cmd.env("DATABASE_URL", &db.url);
    }
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = cmd.stdout(log.try_clone().expect("log")).stderr(log).spawn().expect("start vpark serve");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().as_u16() == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "vpark did not become ready: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "vpark exited: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The demo park is there; choose a password that must never reach the logs.
    let login = |email: &'static str, password: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .expect("login");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = login("finance@vpark.demo", "vpark-demo").await;
    assert_eq!(status, 200);
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    let secret = "Tr0ub4dor-and-3";
    let r = http
        .post(format!("{base}/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&json!({"current_password": "vpark-demo", "new_password": secret}))
        .send()
        .await
        .expect("change password");
    assert_eq!(r.status().as_u16(), 204);
    let (status, body) = login("finance@vpark.demo", secret).await;
    assert_eq!(status, 200);
    let token2 = body["token"].as_str().unwrap_or_default().to_owned();
    let (status, _) = login("finance@vpark.demo", "wrong-Tr0ub4dor").await;
    assert_eq!(status, 401);
    let me = http.get(format!("{base}/api/v1/me")).bearer_auth(&token2).send().await.expect("me");
    assert_eq!(me.status().as_u16(), 200);
    let docs = http.get(format!("{base}/docs")).send().await.expect("docs");
    assert_eq!(docs.status().as_u16(), 200);

    // SIGTERM: a graceful stop.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(stopped.elapsed() < Duration::from_secs(30), "vpark did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let logs = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "exit status {status:?}: {logs}");
    assert!(logs.contains("vpark is ready") && logs.contains("vpark stopped"), "{logs}");
    assert!(logs.contains("demo park loaded") && logs.contains("demo accounts"), "{logs}");
    // Structured logs with request ids; no secrets.
    let request_lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "request")
        .collect();
    assert!(request_lines.len() >= 6, "{logs}");
    assert!(request_lines.iter().all(|l| l["request_id"].as_str().is_some_and(|r| r.len() == 16)), "{logs}");
    assert!(request_lines.iter().any(|l| l["operation"] == "changeMyPassword" && l["status"] == 204));
    for leaked in [secret, token.as_str(), token2.as_str(), "wrong-Tr0ub4dor"] {
        assert!(!logs.contains(leaked), "the logs contain a secret ({leaked})");
    }
    if b == Backend::Sqlite {
        assert!(dir.path().join("var/vpark.db").exists());
        assert!(dir.path().join("var/mail").is_dir());
    }
    drop(db);
}

#[test]
fn the_command_line_explains_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, out, _) = run(dir.path(), &["--help"], &[], None);
    assert!(ok);
    for word in ["serve", "migrate", "seed", "init", "export-openapi", "user", "DATABASE_URL", "VPARK__SECTION__KEY"] {
        assert!(out.contains(word), "--help does not mention {word}:\n{out}");
    }
    let (ok, out, _) = run(dir.path(), &["serve", "--help"], &[], None);
    assert!(ok && out.contains("--listen") && out.contains("--no-seed"));
    let (ok, out, _) = run(dir.path(), &["user", "add", "--help"], &[], None);
    assert!(ok && out.contains("--role") && out.contains("--invite"));
}

#[test]
fn bad_configuration_stops_with_a_message_naming_the_setting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, err) = run(dir.path(), &["migrate"], &[("VPARK__SERVER__LISTEN", "nowhere")], None);
    assert!(!ok && err.contains("server.listen"), "{err}");
    let (ok, _, err) = run(dir.path(), &["migrate"], &[("DATABASE_URL", "mysql://root@localhost/vpark")], None);
    assert!(!ok && err.contains("database.url"), "{err}");
    let (ok, _, err) = run(dir.path(), &["migrate"], &[("VPARK__MAIL__MAX_ATTEMPTS", "lots")], None);
    assert!(!ok && err.to_lowercase().contains("max_attempts"), "{err}");
    let (ok, _, err) = run(dir.path(), &["--config", "missing.toml", "migrate"], &[], None);
    assert!(!ok && err.contains("missing.toml"), "{err}");
    std::fs::write(dir.path().join("vpark.toml"), "[server]\nlisten = \"127.0.0.1:0\"\nbogus = 1\n").expect("write");
    let (ok, _, err) = run(dir.path(), &["--config", "vpark.toml", "migrate"], &[], None);
    assert!(!ok && err.contains("bogus"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_manages_users_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (ok, out, err) = run(d, &["seed"], &[], None);
    let users = server::seed::PEOPLE.matches("[[user]]").count();
    assert!(ok && out.contains(&format!("demo park loaded: 42 organisations, {users} users")), "{out}{err}");
    let (ok, out, _) = run(d, &["seed"], &[], None);
    assert!(ok && out.contains("already has data"), "{out}");

    let add =
        ["user", "add", "--email", "New.Ops@Yunqi-Qifu.cn", "--org", "1", "--name", "新运营", "--role", "vendor_ops"];
    let (ok, out, err) = run(d, &add, &[], Some("first-pass-phrase\n"));
    assert!(ok && out.contains("new.ops@yunqi-qifu.cn"), "{out}{err}");
    let (ok, _, err) = run(d, &add, &[], Some("first-pass-phrase\n"));
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = run(
        d,
        &["user", "add", "--email", "x@y.cn", "--org", "1", "--name", "X", "--role", "overlord"],
        &[],
        Some("long-enough-1\n"),
    );
    assert!(!ok && err.contains("unknown role"), "{err}");
    let (ok, _, err) = run(
        d,
        &["user", "add", "--email", "x@y.cn", "--org", "1", "--name", "X", "--role", "client_admin"],
        &[],
        Some("long-enough-1\n"),
    );
    assert!(!ok && err.contains("client_admin"), "{err}");
    let (ok, _, err) = run(
        d,
        &["user", "add", "--email", "x@y.cn", "--org", "1", "--name", "X", "--role", "vendor_ops"],
        &[],
        Some("short\n"),
    );
    assert!(!ok && err.contains("at least 8"), "{err}");
    let (ok, out, err) = run(
        d,
        &["user", "roles", "--email", "new.ops@yunqi-qifu.cn", "--role", "vendor_finance", "--role", "vendor_ops"],
        &[],
        None,
    );
    assert!(ok && out.contains("VendorFinance"), "{out}{err}");
    let (ok, _, err) =
        run(d, &["user", "passwd", "--email", "new.ops@yunqi-qifu.cn"], &[], Some("second-pass-phrase\n"));
    assert!(ok, "{err}");

    // The same database, opened by a park: the account works with the new password only.
    let mut settings =
        crate::support::test_settings(&format!("sqlite://{}?mode=rwc", d.join("var/vpark.db").display()), d);
    settings.mail.dir = d.join("var/mail");
    let park = server::Park::open(settings, std::sync::Arc::new(kernel::SystemClock)).await.expect("park");
    assert!(park.identity.login("new.ops@yunqi-qifu.cn", "first-pass-phrase").await.is_err());
    let grant = park.identity.login("new.ops@yunqi-qifu.cn", "second-pass-phrase").await.expect("login");
    assert_eq!(grant.user.roles, vec![kernel::Role::VendorOps, kernel::Role::VendorFinance]);
    park.db.clone().close().await;
}

#[test]
fn export_openapi_prints_the_checked_in_spec() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, out, err) = run(dir.path(), &["export-openapi"], &[], None);
    assert!(ok, "{err}");
    let printed: Value = serde_json::from_str(&out).expect("JSON");
    let checked_in: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/vpark.json")).unwrap_or_default(),
    )
    .unwrap_or(Value::Null);
    assert!(printed == checked_in, "vpark export-openapi differs from openapi/vpark.json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_starts_a_real_park_without_demo_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let init = [
        "init",
        "--vendor",
        "华东企服科技有限公司",
        "--vendor-en",
        "East China Enterprise Services",
        "--region",
        "zhejiang",
        "--region",
        "shanghai",
        "--admin-email",
        "root@example.cn",
        "--admin-name",
        "管理员",
    ];
    let (ok, out, err) = run(d, &init, &[], Some("a-long-passphrase\n"));
    assert!(ok && out.contains("the park is ready"), "{out}{err}");
    let (ok, _, err) = run(d, &init, &[], Some("a-long-passphrase\n"));
    assert!(!ok && err.contains("already has its vendor"), "{err}");
    // Seeding refuses a park that has data; the admin can sign in.
    let (ok, out, _) = run(d, &["seed"], &[], None);
    assert!(ok && out.contains("already has data"));
    let settings = crate::support::test_settings(&format!("sqlite://{}?mode=rwc", d.join("var/vpark.db").display()), d);
    let park = server::Park::open(settings, std::sync::Arc::new(kernel::SystemClock)).await.expect("park");
    let grant = park.identity.login("root@example.cn", "a-long-passphrase").await.expect("login");
    assert_eq!(grant.user.roles, vec![kernel::Role::PlatformAdmin]);
    assert!(!park.has_demo_accounts().await);
    park.db.clone().close().await;
}

both!(a_settlement_killed_half_way_ends_like_an_uninterrupted_one);

async fn ledger_rows(url: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let conn = sea_orm::Database::connect(url).await.expect("connect");
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT contract_id, line_id, stream, payment_id, party_id, account, amount_fen, kind, rule, rate_bp \
             FROM ledger_entries ORDER BY contract_id, line_id, stream, payment_id, party_id, account, kind, amount_fen",
        ))
        .await
        .expect("ledger");
    let out = rows
        .iter()
        .map(|r| {
            let i = |c: &str| r.try_get::<Option<i64>>("", c).ok().flatten().map(|v| v.to_string()).unwrap_or_default();
            let n = |c: &str| r.try_get::<Option<i32>>("", c).ok().flatten().map(|v| v.to_string()).unwrap_or_default();
            let s = |c: &str| r.try_get::<Option<String>>("", c).ok().flatten().unwrap_or_default();
            [
                i("contract_id"),
                i("line_id"),
                s("stream"),
                i("payment_id"),
                i("party_id"),
                s("account"),
                i("amount_fen"),
                s("kind"),
                n("rule"),
                n("rate_bp"),
            ]
            .join("|")
        })
        .collect();
    conn.close().await.ok();
    out
}

async fn count(url: &str, query: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let conn = sea_orm::Database::connect(url).await.expect("connect");
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), query))
        .await
        .expect("count")
        .expect("a row");
    let n = row.try_get::<i64>("", "n").expect("n");
    conn.close().await.ok();
    n
}

/// DESIGN §5: a settlement killed half-way and run again ends with exactly the ledger of an
/// uninterrupted run — tested on a real `vpark settle` process and SIGKILL.
async fn a_settlement_killed_half_way_ends_like_an_uninterrupted_one(b: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::empty(b).await;
    // Ten batches: with four in flight at once, the kill lands while some are still to come.
    let (ok, out, err) =
        run(dir.path(), &["bench", "settle", "--contracts", "2000", "--load-only"], &[("DATABASE_URL", &db.url)], None);
    assert!(ok, "loading failed: {out}\n{err}");
    let unsettled = "SELECT COUNT(*) AS n FROM payments p LEFT JOIN settlement_state s ON s.contract_id = p.contract_id \
                     WHERE p.id > COALESCE(s.settled_payment_id, 0)";
    assert_eq!(count(&db.url, unsettled).await, 20_000);
    let copy = db.copy().await;

    // The uninterrupted run, on the copy, one batch at a time; the interrupted and resumed runs
    // below settle four batches at once on PostgreSQL (SQLite has one writer whatever the setting).
    let one_at_a_time = [("DATABASE_URL", copy.url.as_str()), ("VPARK__LEDGER__SETTLE_WORKERS", "1")];
    let (ok, out, err) = run(dir.path(), &["settle"], &one_at_a_time, None);
    assert!(ok, "settle failed: {out}\n{err}");
    assert!(out.contains("20000 payments"), "{out}");
    let whole = ledger_rows(&copy.url).await;
    assert!(whole.len() > 20_000, "{} entries", whole.len());

    // The interrupted run: SIGKILL once the first batches are committed.
    let mut child = Command::new(vpark())
        .arg("settle")
        .current_dir(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("VPARK__LEDGER__SETTLE_WORKERS", "4")
        .env("VPARK__LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vpark settle");
    let entries = "SELECT COUNT(*) AS n FROM ledger_entries WHERE contract_id IS NOT NULL";
    let started = Instant::now();
    let before = count(&db.url, entries).await;
    while count(&db.url, entries).await == before {
        assert!(started.elapsed() < Duration::from_secs(120), "settlement never committed a batch");
        assert!(child.try_wait().expect("child status").is_none(), "settle ended before it could be killed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let left = count(&db.url, unsettled).await;
    assert!(left > 0 && left < 20_000, "killed half-way: {left} of 20000 payments left unsettled");

    let (ok, out, err) =
        run(dir.path(), &["settle"], &[("DATABASE_URL", &db.url), ("VPARK__LEDGER__SETTLE_WORKERS", "4")], None);
    assert!(ok, "the second settle failed: {out}\n{err}");
    assert_eq!(count(&db.url, unsettled).await, 0);
    let resumed = ledger_rows(&db.url).await;
    assert_eq!(resumed.len(), whole.len(), "entry counts differ");
    assert!(resumed == whole, "the resumed ledger differs from the uninterrupted one");
    let transactions = "SELECT COUNT(DISTINCT txn_id) AS n FROM ledger_entries";
    assert_eq!(count(&db.url, transactions).await, count(&copy.url, transactions).await, "transactions differ");

    // And a third run posts nothing.
    let (ok, out, _) = run(dir.path(), &["settle"], &[("DATABASE_URL", &db.url)], None);
    assert!(ok && out.contains("0 transactions"), "{out}");
}
