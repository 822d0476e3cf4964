//! The browser console, as `npm run build` leaves it in `web/dist`.
//!
//! Release builds carry the files inside the binary (one file to deploy); debug builds read them
//! from `web/dist` at run time, so a rebuilt console shows without recompiling the server. Any
//! GET that is not a file answers `index.html`, so the console's own routes (`/orders/17`, the
//! links in e-mails) survive a reload. Hashed assets are cached for a year, `index.html` never.
//! Without a built console, `/` says how to build it.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Request, Response, handler};
use rust_embed::Embed;

use platform::http::problem_response;

#[derive(Embed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
struct Dist;

/// Content-Security-Policy of the console: scripts only from the park itself, never inline.
/// Styles allow inline `style` because antd writes its theme as CSS-in-JS.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// True when the binary (or, in a debug build, `web/dist`) holds a built console.
pub fn is_built() -> bool {
    Dist::get("index.html").is_some()
}

/// Serves a file of the console, `index.html` for the console's routes, or the page that says
/// how to build it.
#[handler]
pub fn console(req: &Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = problem_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{} takes GET, HEAD, not {}", req.uri().path(), req.method()),
        );
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let path = req.uri().path().trim_start_matches('/');
    let gzip_ok = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")));
    let mut gzipped = false;
    let (body, mime, cache) = match Dist::get(path).filter(|_| !path.is_empty() && !path.ends_with(".gz")) {
        Some(file) => {
            let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
            let mime = file.metadata.mimetype().to_owned();
            // `npm run build` leaves a gzip copy beside each text asset.
            let data = match Dist::get(&format!("{path}.gz")).filter(|_| gzip_ok) {
                Some(gz) => {
                    gzipped = true;
                    gz.data.into_owned()
                }
                None => file.data.into_owned(),
            };
            (data, mime, cache)
        }
        // A missing asset is a 404, not the console (a stale page asking for last week's chunk).
        None if path.starts_with("assets/") => {
            return problem_response(StatusCode::NOT_FOUND, "not_found", format!("no file /{path}"));
        }
        None => match Dist::get("index.html") {
            Some(index) => (index.data.into_owned(), "text/html; charset=utf-8".to_owned(), "no-cache"),
            None => (NOT_BUILT.as_bytes().to_vec(), "text/html; charset=utf-8".to_owned(), "no-cache"),
        },
    };
    let mut builder = Response::builder().status(StatusCode::OK).header(header::VARY, "accept-encoding");
    if gzipped {
        builder = builder.header(header::CONTENT_ENCODING, "gzip");
    }
    let mut resp = builder
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, cache)
        .header("content-security-policy", CSP)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "same-origin")
        .header("x-frame-options", "DENY")
        .body(body);
    if req.method() == Method::HEAD {
        resp.set_body(());
    }
    resp
}

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>vpark · 虚拟产业园</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",Helvetica,Arial,sans-serif;max-width:720px;margin:60px auto;padding:0 20px;color:#1f2933}
a{color:#1f4e8c}code{background:#f0f3f7;padding:2px 6px;border-radius:4px}</style></head>
<body><h1>vpark · 虚拟产业园</h1>
<p>The park is running, but this build carries no console. 园区已启动，但此版本未包含控制台。</p>
<p>Build it with <code>make web</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>), then
reload this page (a release binary must be rebuilt to carry it: <code>make run</code> does both).</p>
<ul><li><a href="/docs">API documentation (interactive) · 接口文档</a></li>
<li><a href="/openapi.json">OpenAPI specification</a></li>
<li><a href="/healthz">Health</a> · <a href="/readyz">Readiness</a> · <a href="/metrics">Metrics</a></li></ul>
</body></html>"#;
