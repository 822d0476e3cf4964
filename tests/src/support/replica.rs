//! Other `vpark serve` processes on a test park's database: replicas behind a load balancer,
//! for the races that must hold across processes (PostgreSQL).

use std::time::{Duration, Instant};

/// Starts `vpark serve` on the park's database (no seeding, no mail worker).
pub struct Replica {
    child: std::process::Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn replica(db_url: &str) -> Replica {
    let dir = tempfile::tempdir().expect("dir");
    let port = crate::support::smtp::free_port();
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/vpark");
    let log = std::fs::File::create(dir.path().join("serve.log")).expect("log");
    let child = std::process::Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env("DATABASE_URL", db_url)
        .env("VPARK__MAIL__WORKER", "false")
        .env("VPARK__DEMO__SEED_ON_EMPTY", "false")
        .env("VPARK__DATABASE__MAX_CONNECTIONS", "16")
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start a replica (build it first: cargo build -p server --bin vpark)");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().as_u16() == 200
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the replica did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Replica { child, base, _dir: dir }
}
