//! The console is served at `/`: its routes survive a reload (any GET that is not a file answers
//! `index.html`), hashed assets are cached and gzipped, `index.html` is not cached, every answer
//! carries the console's security headers — and the API, docs and operations keep their own
//! answers.

use crate::support::{Backend, TestPark, spawn_park};

fn url(park: &TestPark, path: &str) -> String {
    format!("{}{path}", park.base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_its_routes_headers_and_caching() {
    let park = spawn_park(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(url(&park, path)).header("accept-encoding", "gzip");

    // A console route (an e-mail's link) answers the page, not a 404.
    for path in ["/", "/orders/17", "/set-password?token=vpt_x", "/statements/7/2026-10"] {
        let r = get(path).send().await.expect("console route");
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers().clone();
        assert!(h["content-type"].to_str().unwrap_or_default().starts_with("text/html"), "{path}");
        assert_eq!(h["cache-control"], "no-cache", "{path}: index.html is never cached");
        let csp = h["content-security-policy"].to_str().unwrap_or_default();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "no inline scripts");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        let body = r.text().await.unwrap_or_default();
        assert!(body.to_lowercase().starts_with("<!doctype html>"), "{path}");
    }

    // Other methods are refused with the methods the console takes.
    let r = http.post(url(&park, "/orders/17")).send().await.expect("post");
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");

    // A missing asset is a 404 (a stale page must not get index.html as JavaScript).
    let r = get("/assets/index-missing.js").send().await.expect("missing asset");
    assert_eq!(r.status(), 404);

    // The API keeps its JSON 404s and the docs their page.
    let r = park.anon().get("/api/v1/no-such-thing").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["code"], "no_such_route");
    assert_eq!(park.anon().get("/healthz").await.status, 200);

    if server::console::is_built() {
        let index = get("/").send().await.expect("index").text().await.unwrap_or_default();
        assert!(index.contains("<div id=\"root\">"), "the built console's index.html");
        let asset = regex::Regex::new(r#"/assets/[A-Za-z0-9_.-]+\.js"#)
            .expect("regex")
            .find(&index)
            .map(|m| m.as_str().to_owned())
            .expect("index.html loads a hashed script");
        let r = get(&asset).send().await.expect("asset");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(r.headers()["content-encoding"], "gzip", "served gzipped to a browser that accepts it");
        let plain = http.get(url(&park, &asset)).send().await.expect("asset without gzip");
        assert!(plain.headers().get("content-encoding").is_none());
        assert!(plain.headers()["content-type"].to_str().unwrap_or_default().contains("javascript"));
    } else {
        let body = get("/").send().await.expect("/").text().await.unwrap_or_default();
        assert!(body.contains("make web"), "without a built console, / says how to build it");
    }
    park.stop().await;
}
