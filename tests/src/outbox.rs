//! The e-mail outbox against a real SMTP server: outages, retries, dead letters, several
//! workers, authentication.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Duration as Span;
use serde_json::{Value, json};

use crate::both;
use crate::support::smtp::{self, SmtpSink, free_port};
use crate::support::{Backend, Options, TestPark, User, spawn_park_with};

both!(
    an_smtp_outage_delays_mail_but_loses_and_duplicates_nothing,
    undeliverable_mail_dies_after_its_attempts_and_can_be_sent_again,
    two_workers_never_send_the_same_message,
    smtp_authentication_is_used,
    a_stalled_smtp_server_times_out_and_the_message_waits,
);

async fn park_with_smtp(b: Backend, url: String, max_attempts: i32, batch: u64) -> TestPark {
    spawn_park_with(
        b,
        Options {
            seeded: true,
            tweak: Box::new(move |s| {
                s.mail.smtp_url = Some(url);
                s.mail.timeout_ms = 5_000;
                s.mail.backoff_base_ms = 1_000;
                s.mail.max_attempts = max_attempts;
                s.mail.batch_size = batch;
            }),
        },
    )
    .await
}

/// Invites `n` users (half of them English-speaking): `n` notifications in the outbox.
async fn invite(admin: &User, n: usize, tag: &str) -> Vec<String> {
    let mut emails = Vec::new();
    for i in 0..n {
        let email = format!("{tag}.{i}@example.cn");
        let locale = if i.is_multiple_of(2) { "zh-CN" } else { "en" };
        admin
            .post(
                "/api/v1/users",
                json!({"email": email, "display_name": format!("用户{i}"), "roles": ["vendor_ops"], "locale": locale}),
            )
            .await
            .expect(201);
        emails.push(email);
    }
    emails
}

async fn outbox(admin: &User, filter: &str) -> Vec<Value> {
    admin.get(&format!("/api/v1/notifications?limit=200{filter}")).await.items()
}

async fn an_smtp_outage_delays_mail_but_loses_and_duplicates_nothing(b: Backend) {
    if !smtp::available() {
        return;
    }
    let port = free_port();
    let park = park_with_smtp(b, format!("smtp://127.0.0.1:{port}"), 8, 20).await;
    let admin = park.login("admin@vpark.demo").await;
    let emails = invite(&admin, 12, "outage").await;

    // The server is down: every attempt fails, nothing is lost, nothing is due again at once.
    let round = park.drain_outbox().await;
    assert_eq!((round.sent, round.retrying, round.dead), (0, 12, 0));
    assert_eq!(park.drain_outbox().await.leased(), 0, "nothing is due before its backoff");
    let waiting = outbox(&admin, "&status=pending").await;
    assert_eq!(waiting.len(), 12);
    assert!(waiting.iter().all(|n| n["attempts"] == 1 && n["last_error"].as_str().is_some_and(|e| !e.is_empty())));
    let metrics = park.anon().get("/metrics").await.body.as_str().unwrap_or_default().to_owned();
    assert!(metrics.contains("vpark_outbox_messages{status=\"pending\"} 12"), "{metrics}");

    // A second failed round (still down) after the backoff.
    park.clock.advance(Span::seconds(2));
    assert_eq!(park.drain_outbox().await.retrying, 12);

    // The server comes back; the next round after the backoff delivers everything once.
    let sink = SmtpSink::start(port, None);
    park.clock.advance(Span::seconds(5));
    let round = park.drain_outbox().await;
    assert_eq!((round.sent, round.retrying, round.dead), (12, 0, 0));
    for _ in 0..3 {
        park.clock.advance(Span::minutes(30));
        assert_eq!(park.drain_outbox().await.leased(), 0);
    }
    let received = sink.received();
    assert_eq!(received.len(), 12, "exactly once each: {received:?}");
    let ids: HashSet<&str> = received.iter().filter_map(|m| m["message_id"].as_str()).collect();
    assert_eq!(ids.len(), 12);
    let sent = outbox(&admin, "&status=sent").await;
    let stored: HashSet<&str> = sent.iter().filter_map(|n| n["message_id"].as_str()).collect();
    assert_eq!(ids, stored, "the Message-ID of each e-mail is the one stored with it");
    for m in &received {
        let to = m["to"][0].as_str().unwrap_or_default();
        assert!(emails.iter().any(|e| e == to));
        assert_eq!(m["parts"], json!(["text/html", "text/plain"]));
        let n: usize = to.trim_start_matches("outage.").split('@').next().and_then(|x| x.parse().ok()).unwrap_or(99);
        let subject = m["subject"].as_str().unwrap_or_default();
        if n.is_multiple_of(2) {
            assert!(subject.contains("邀请"), "{subject}");
        } else {
            assert!(subject.contains("invited"), "{subject}");
        }
    }
    assert!(sent.iter().all(|n| n["attempts"] == 3 && n["last_error"].is_null()));
    sink.stop();
    park.stop().await;
}

async fn undeliverable_mail_dies_after_its_attempts_and_can_be_sent_again(b: Backend) {
    if !smtp::available() {
        return;
    }
    let port = free_port();
    let park = park_with_smtp(b, format!("smtp://127.0.0.1:{port}"), 3, 20).await;
    let admin = park.login("admin@vpark.demo").await;
    invite(&admin, 1, "dead").await;
    for _ in 0..3 {
        park.drain_outbox().await;
        park.clock.advance(Span::minutes(10));
    }
    let dead = outbox(&admin, "&status=dead").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["attempts"], 3);
    let id = dead[0]["id"].as_i64().unwrap_or_default();
    assert_eq!(park.drain_outbox().await.leased(), 0, "dead messages stay dead");

    // Ops may look but not resend; the platform admin resends once the cause is fixed.
    let ops = park.login("ops@vpark.demo").await;
    ops.post_empty(&format!("/api/v1/notifications/{id}/retry")).await.problem(403, "forbidden");
    let sink = SmtpSink::start(port, None);
    let r = admin.post_empty(&format!("/api/v1/notifications/{id}/retry")).await;
    assert_eq!(r.expect(200)["status"], "pending");
    admin.post_empty(&format!("/api/v1/notifications/{id}/retry")).await.problem(409, "not_dead");
    assert_eq!(park.drain_outbox().await.sent, 1);
    assert_eq!(sink.received().len(), 1);
    let events = admin.get(&format!("/api/v1/audit-events?resource_kind=notification&resource_id={id}")).await.items();
    assert_eq!(events.len(), 1);
    park.stop().await;
}

async fn two_workers_never_send_the_same_message(b: Backend) {
    if !smtp::available() {
        return;
    }
    let port = free_port();
    let sink = SmtpSink::start(port, None);
    let park = park_with_smtp(b, format!("smtp://127.0.0.1:{port}"), 8, 4).await;
    let admin = park.login("admin@vpark.demo").await;
    invite(&admin, 40, "pair").await;

    // A second replica on the same database.
    let replica = server::Park::open(park.park.settings.clone(), park.clock.clone()).await.expect("replica");
    let (a, b2) = (park.park.outbox().expect("outbox"), replica.outbox().expect("outbox"));
    let worker = |o: notify::Outbox| async move {
        let mut sent = 0;
        loop {
            let r = o.round().await.expect("round");
            sent += r.sent;
            if r.leased() == 0 {
                return sent;
            }
        }
    };
    let (sa, sb) = tokio::join!(worker(a), worker(b2));
    assert_eq!(sa + sb, 40);
    assert!(sa > 0 && sb > 0, "both workers took part ({sa} and {sb})");
    let received = sink.received();
    let ids: HashSet<&str> = received.iter().filter_map(|m| m["message_id"].as_str()).collect();
    assert_eq!(received.len(), 40, "no message twice");
    assert_eq!(ids.len(), 40);
    replica.db.clone().close().await;
    park.stop().await;
}

async fn smtp_authentication_is_used(b: Backend) {
    if !smtp::available() {
        return;
    }
    let port = free_port();
    let sink = SmtpSink::start(port, Some(("mailer", "s3cret")));
    let good = park_with_smtp(b, format!("smtp://mailer:s3cret@127.0.0.1:{port}"), 3, 20).await;
    let admin = good.login("admin@vpark.demo").await;
    invite(&admin, 1, "auth").await;
    assert_eq!(good.drain_outbox().await.sent, 1);
    assert_eq!(sink.received().len(), 1);
    // A wrong password is a permanent refusal: the message is dead at once, not retried forever.
    let outbox_rows = {
        let bad = park_with_smtp(b, format!("smtp://mailer:wrong@127.0.0.1:{port}"), 3, 20).await;
        let admin = bad.login("admin@vpark.demo").await;
        invite(&admin, 1, "auth").await;
        let round = bad.drain_outbox().await;
        let rows = outbox(&admin, "&status=dead").await;
        bad.stop().await;
        (round, rows)
    };
    assert_eq!(outbox_rows.0.dead, 1, "{:?}", outbox_rows.0);
    assert!(
        outbox_rows.1[0]["last_error"].as_str().is_some_and(|e| e.contains("535") || e.to_lowercase().contains("auth"))
    );
    assert_eq!(sink.received().len(), 1);
    tokio::time::sleep(Duration::from_millis(10)).await;
    good.stop().await;
}

async fn a_stalled_smtp_server_times_out_and_the_message_waits(b: Backend) {
    // A server that accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let park = spawn_park_with(
        b,
        Options {
            seeded: true,
            tweak: Box::new(move |s| {
                s.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
                s.mail.timeout_ms = 500;
            }),
        },
    )
    .await;
    let admin = park.login("admin@vpark.demo").await;
    invite(&admin, 1, "stalled").await;
    let started = std::time::Instant::now();
    let round = park.drain_outbox().await;
    assert_eq!(round.retrying, 1, "{round:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "the send was cut off by the timeout");
    let rows = outbox(&admin, "&status=pending").await;
    assert!(rows[0]["last_error"].as_str().is_some_and(|e| e.contains("timed out")), "{rows:?}");
    park.stop().await;
}
