//! The edge of the HTTP server, around every route:
//!
//! - gives each request an id (the caller's `x-request-id` if it is sane, else a new one),
//!   returns it in the `x-request-id` header and in every error body, and logs with it;
//! - refuses bodies larger than the limit (413), whether or not they announce their length;
//! - runs the request in its own task, so a client that disconnects cannot cancel a write
//!   half-way (a request either happens or it does not), and a panic becomes a 500;
//! - turns every framework error (bad JSON, wrong types, unknown routes, wrong methods, missing
//!   tokens) into the one JSON error shape;
//! - records the access log line and the request metrics by operation.

use std::sync::Arc;
use std::time::Instant;

use platform::http::{OperationRef, REQUEST_ID, problem_response, problem_response_with};
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::OperationId;
use rand::RngCore;
use tracing::Instrument;

use crate::metrics::Metrics;
use crate::routes::{Lookup, RouteIndex, query_names};

/// How much of a refused body the server still reads (and throws away) before it answers, as a
/// multiple of the limit, and for how long at most.
const LINGER_FACTOR: u64 = 16;
const LINGER_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads what is left of a refused body, bounded in bytes and time, and discards it: a client
/// still writing its body then reads the 413 instead of a reset connection (the classic
/// "lingering close"). A body far beyond the bound is cut off, as before.
async fn linger(body: Body, limit: usize) {
    use tokio::io::AsyncReadExt;
    let cap = (limit as u64).saturating_mul(LINGER_FACTOR);
    let mut rest = body.into_async_read().take(cap);
    let _ = tokio::time::timeout(LINGER_FOR, tokio::io::copy(&mut rest, &mut tokio::io::sink())).await;
}

/// Reads a body of unknown length; `None` when it exceeds the limit (what is left is drained).
async fn read_within(body: Body, limit: usize) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut reader = body.into_async_read();
    let mut buf = Vec::new();
    let within = (&mut reader).take(limit as u64 + 1).read_to_end(&mut buf).await.is_ok() && buf.len() <= limit;
    if within {
        return Some(buf);
    }
    linger(Body::from_async_read(reader), limit).await;
    None
}

pub struct Edge {
    pub metrics: Arc<Metrics>,
    pub body_limit: usize,
    pub routes: Arc<RouteIndex>,
}

impl<E: Endpoint + 'static> Middleware<E> for Edge {
    type Output = EdgeEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        EdgeEndpoint {
            inner: Arc::new(ep),
            metrics: self.metrics.clone(),
            body_limit: self.body_limit,
            routes: self.routes.clone(),
        }
    }
}

pub struct EdgeEndpoint<E> {
    inner: Arc<E>,
    metrics: Arc<Metrics>,
    body_limit: usize,
    routes: Arc<RouteIndex>,
}

fn request_id(req: &Request) -> String {
    let given = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).filter(|v| {
        !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    match given {
        Some(id) => id.to_owned(),
        None => {
            let mut bytes = [0u8; 8];
            rand::rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        }
    }
}

/// A body whose field breaks a rule the spec declares for it (a range, a length, a number of
/// items): poem-openapi's reason names the field ("field `capacity` verification failed.
/// minimum(1, exclusive: false)"). Such a body has the right shape, and its answer is the one a
/// rule checked by the park gives: 422 `invalid_field` naming the field.
fn field_rule(reason: &str) -> Option<(String, String)> {
    let rest = reason.split("field `").nth(1)?;
    let (field, after) = rest.split_once('`')?;
    let rule = after.trim_start().strip_prefix("verification failed.")?.trim();
    Some((field.to_owned(), rule.to_owned()))
}

/// The stable code of a framework error.
fn classify(err: &poem::Error) -> (&'static str, String) {
    use poem_openapi::error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
    };
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        return ("malformed_body", format!("the request body is not valid: {}", e.reason));
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        if e.name == "limit" {
            return ("invalid_limit", format!("limit must be between 1 and {}", kernel::page::MAX_LIMIT));
        }
        if e.name.eq_ignore_ascii_case("idempotency-key") {
            return ("invalid_idempotency_key", "an Idempotency-Key is 1 to 128 visible ASCII characters".into());
        }
        return ("invalid_parameter", format!("parameter `{}` is not valid: {}", e.name, e.reason));
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        return ("invalid_parameter", format!("the path parameter is not valid: {}", e.reason));
    }
    if err.is::<ContentTypeError>() {
        return ("unsupported_media_type", format!("{err}; send application/json"));
    }
    if err.is::<AuthorizationError>() {
        return ("unauthenticated", "a valid bearer token is required: log in with POST /api/v1/auth/login".into());
    }
    match err.status() {
        StatusCode::NOT_FOUND => ("no_such_route", "there is no such route; the API is described at /docs".into()),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this route does not accept that method".into()),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large".into()),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "a valid bearer token is required".into()),
        s if s.is_client_error() => ("bad_request", err.to_string()),
        _ => ("internal", "an unexpected error occurred; it has been logged with the request id".into()),
    }
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

impl<E: Endpoint + 'static> Endpoint for EdgeEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let rid = request_id(&req);
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let span = tracing::info_span!("request", request_id = %rid, method = %method, path = %path);

        let too_large = REQUEST_ID
            .scope(rid.clone(), async {
                problem_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the request body exceeds {} bytes", self.body_limit),
                )
            })
            .await;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut early: Option<Response> = None;
        if declared.is_some_and(|n| n > self.body_limit) {
            linger(req.take_body(), self.body_limit).await;
            early = Some(too_large);
        } else if declared.is_none() && matches!(method, Method::POST | Method::PUT | Method::PATCH) {
            // No declared length (chunked): read it here, within the limit.
            match read_within(req.take_body(), self.body_limit).await {
                Some(bytes) => req.set_body(Body::from(bytes)),
                None => early = Some(too_large),
            }
        }

        if early.is_none() {
            early = REQUEST_ID.scope(rid.clone(), async { self.route(&mut req, &method, &path) }).await;
        }

        let (operation, mut resp) = match early {
            Some(resp) => ("edge".to_owned(), resp),
            None => {
                let inner = self.inner.clone();
                let task_rid = rid.clone();
                let task = tokio::spawn(
                    REQUEST_ID
                        .scope(task_rid, async move {
                            match inner.call(req).await {
                                Ok(out) => {
                                    let resp = out.into_response();
                                    let op = resp.data::<OperationId>().map(|o| o.0.to_owned());
                                    (op, resp)
                                }
                                Err(err) => {
                                    let op = err.data::<OperationId>().map(|o| o.0.to_owned());
                                    let rule = err
                                        .downcast_ref::<poem_openapi::error::ParseRequestPayloadError>()
                                        .and_then(|e| field_rule(&e.reason));
                                    let resp = if let Some((field, rule)) = rule {
                                        problem_response_with(
                                            StatusCode::UNPROCESSABLE_ENTITY,
                                            "invalid_field",
                                            format!("{field}: breaks its rule {rule}"),
                                            serde_json::json!({ "field": field, "reason": rule }),
                                        )
                                    } else if !err.is_from_response() {
                                        let (code, message) = classify(&err);
                                        if code == "internal" {
                                            tracing::error!(error = %err, "unexpected framework error");
                                        }
                                        problem_response(err.status(), code, message)
                                    } else {
                                        err.into_response()
                                    };
                                    (op, resp)
                                }
                            }
                        })
                        .instrument(span.clone()),
                );
                match task.await {
                    Ok((op, resp)) => (op.unwrap_or_else(|| route_label(&path)), resp),
                    Err(join) => {
                        span.in_scope(|| tracing::error!(panic = join.is_panic(), "request task failed"));
                        let resp = REQUEST_ID
                            .scope(rid.clone(), async {
                                problem_response(
                                    StatusCode::INTERNAL_SERVER_ERROR,
                                    "internal",
                                    "an unexpected error occurred; it has been logged with the request id",
                                )
                            })
                            .await;
                        (route_label(&path), resp)
                    }
                }
            }
        };

        // Framework answers that are not JSON yet (a 404 for an unknown route, a 405).
        if resp.status().as_u16() >= 400 && !is_json(&resp) {
            let status = resp.status();
            let err = poem::Error::from_status(status);
            let (code, message) = classify(&err);
            resp = REQUEST_ID.scope(rid.clone(), async { problem_response(status, code, message) }).await;
        }
        if let Ok(v) = HeaderValue::from_str(&rid) {
            resp.headers_mut().insert("x-request-id", v);
        }
        let status = resp.status().as_u16();
        let elapsed = started.elapsed();
        self.metrics.observe(&operation, method.as_str(), status, elapsed.as_secs_f64());
        span.in_scope(|| {
            tracing::info!(request_id = %rid, operation = %operation, status, latency_ms = elapsed.as_secs_f64() * 1000.0, "request");
        });
        Ok(resp)
    }
}

impl<E> EdgeEndpoint<E> {
    /// Finds the operation a request is for and tells it to the security scheme; refuses at
    /// once a method its path does not take (405 with `Allow`) and a query parameter its
    /// operation does not declare (400: a misspelt filter must not quietly return everything).
    fn route(&self, req: &mut Request, method: &Method, path: &str) -> Option<Response> {
        match self.routes.lookup(method, path) {
            Lookup::Operation(op) => {
                let unknown: Vec<String> = query_names(req.uri().query().unwrap_or(""))
                    .into_iter()
                    .filter(|name| !op.query.contains(name))
                    .collect();
                if !unknown.is_empty() {
                    let known: Vec<&String> = op.query.iter().collect();
                    return Some(problem_response_with(
                        StatusCode::BAD_REQUEST,
                        "unknown_parameter",
                        format!(
                            "{} does not take the query parameter{} {}",
                            op.id,
                            if unknown.len() == 1 { "" } else { "s" },
                            unknown.join(", ")
                        ),
                        serde_json::json!({ "unknown": unknown, "known": known }),
                    ));
                }
                req.set_data(OperationRef(op.id.clone()));
                None
            }
            Lookup::OtherMethods(allowed) => {
                let allow = allowed.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
                let mut resp = problem_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    format!("{path} takes {allow}, not {method}"),
                );
                if let Ok(v) = HeaderValue::from_str(&allow) {
                    resp.headers_mut().insert(header::ALLOW, v);
                }
                Some(resp)
            }
            Lookup::Unknown => None,
        }
    }
}

/// A metrics label for requests outside the API operations (docs, console, unknown routes).
fn route_label(path: &str) -> String {
    match path {
        "/healthz" | "/readyz" | "/metrics" | "/openapi.json" => path.trim_start_matches('/').to_owned(),
        p if p.starts_with("/docs") => "docs".into(),
        p if p.starts_with("/api/") => "unmatched".into(),
        _ => "console".into(),
    }
}
