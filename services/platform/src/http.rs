//! The edge of every API: the one error shape, the one mapping from outcomes to statuses, the
//! bearer-token security scheme and pagination parameters.
//!
//! Every 4xx/5xx body is a `Problem` — `{"code","message","details","request_id"}` — whether it
//! comes from a service outcome (mapped here), from the framework (bad JSON, wrong types,
//! unknown routes: mapped by the server's edge middleware with `problem_response`), or from a
//! panic. Unexpected errors are logged once with their cause and answered with an opaque 500.

use std::sync::Arc;

use kernel::{Error, PageRequest};
use poem::{IntoResponse, Request};
use poem_openapi::auth::Bearer;
use poem_openapi::payload::Json;
use poem_openapi::types::{Any, Example};
use poem_openapi::{ApiResponse, Object, SecurityScheme};

use crate::access::Principal;

tokio::task_local! {
    /// The id of the request being served, set by the server's edge middleware.
    pub static REQUEST_ID: String;
}

/// The id of the request this task serves, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The body of every error response.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct Problem {
    /// A stable machine-readable code (`not_found`, `forbidden`, `illegal_transition`, …).
    pub code: String,
    /// What went wrong, for a human.
    pub message: String,
    /// Structured facts about the error (the offending field, the current state), if any.
    #[oai(nullable, skip_serializing_if_is_none)]
    pub details: Option<Any<serde_json::Value>>,
    /// The request id; quote it when reporting a problem. Also in the `x-request-id` header.
    pub request_id: String,
}

impl Example for Problem {
    fn example() -> Self {
        Problem {
            code: "invalid_field".into(),
            message: "email: is not a valid e-mail address".into(),
            details: Some(Any(serde_json::json!({"field": "email", "reason": "is not a valid e-mail address"}))),
            request_id: "7f3a9c2e4b1d8a60".into(),
        }
    }
}

impl Problem {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            code: code.into(),
            message: message.into(),
            details: None,
            request_id: current_request_id().unwrap_or_default(),
        }
    }
}

/// Every error an operation can answer. Declared on every operation, so the spec lists them.
#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// The request is malformed: bad JSON, a wrong type, an unknown enum value, a bad parameter
    /// or pagination cursor.
    #[oai(status = 400)]
    BadRequest(Json<Problem>),
    /// No valid bearer token: log in with `POST /api/v1/auth/login`.
    #[oai(status = 401)]
    Unauthorized(Json<Problem>),
    /// Your role may not do this. The message says what was refused.
    #[oai(status = 403)]
    Forbidden(Json<Problem>),
    /// No such record, or not one you may see.
    #[oai(status = 404)]
    NotFound(Json<Problem>),
    /// The request conflicts with the current state (duplicate, illegal transition).
    #[oai(status = 409)]
    Conflict(Json<Problem>),
    /// The request body is too large.
    #[oai(status = 413)]
    PayloadTooLarge(Json<Problem>),
    /// The request body is not JSON (`Content-Type: application/json` is expected).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<Problem>),
    /// The request is well-formed but breaks a rule; `details` names the field.
    #[oai(status = 422)]
    Unprocessable(Json<Problem>),
    /// Too many attempts; retry after the time given in `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<Problem>, #[oai(header = "Retry-After")] String),
    /// Something went wrong on our side; the request id helps us find it.
    #[oai(status = 500)]
    Internal(Json<Problem>),
    /// The database is unavailable (`unavailable`: nothing was changed, retry after the time
    /// in `Retry-After`), or became unavailable while a change was committed
    /// (`outcome_unknown`: it may have been saved — retry with the same `Idempotency-Key`, which
    /// returns the original result, or read the record before trying again).
    #[oai(status = 503)]
    Unavailable(Json<Problem>, #[oai(header = "Retry-After")] String),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What `Retry-After` says when the database is unavailable: pools reconnect within seconds.
pub const RETRY_AFTER_S: u64 = 2;

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let code = err.code();
        match err {
            Error::BadRequest { message, .. } => ApiError::BadRequest(Json(Problem::new(code, message))),
            Error::Unauthenticated { message } => ApiError::Unauthorized(Json(Problem::new(code, message))),
            Error::Forbidden { message } => ApiError::Forbidden(Json(Problem::new(code, message))),
            e @ Error::NotFound { .. } => ApiError::NotFound(Json(Problem::new(code, e.to_string()))),
            Error::Conflict { message, details, .. } => {
                ApiError::Conflict(Json(Problem { details: details.map(Any), ..Problem::new(code, message) }))
            }
            Error::Unprocessable { message, details, .. } => {
                ApiError::Unprocessable(Json(Problem { details: details.map(Any), ..Problem::new(code, message) }))
            }
            Error::TooManyRequests { message, retry_after_s } => ApiError::TooManyRequests(
                Json(Problem {
                    details: Some(Any(serde_json::json!({ "retry_after_s": retry_after_s }))),
                    ..Problem::new(code, message)
                }),
                retry_after_s.to_string(),
            ),
            Error::Unavailable(message) => {
                tracing::warn!(%message, "dependency unavailable");
                ApiError::Unavailable(Json(Problem::new(code, message)), RETRY_AFTER_S.to_string())
            }
            Error::OutcomeUnknown(message) => {
                tracing::warn!(%message, "outcome unknown");
                ApiError::Unavailable(Json(Problem::new(code, message)), RETRY_AFTER_S.to_string())
            }
            Error::Unexpected(cause) => {
                tracing::error!(error = format!("{cause:#}"), "unexpected error");
                ApiError::Internal(Json(Problem::new(
                    code,
                    "an unexpected error occurred; it has been logged with the request id",
                )))
            }
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        crate::db::db_error(err).into()
    }
}

impl From<crate::error::AppError> for ApiError {
    fn from(err: crate::error::AppError) -> Self {
        err.0.into()
    }
}

/// A framework-level problem (raised outside any operation) as a response.
pub fn problem_response(status: poem::http::StatusCode, code: &str, message: impl Into<String>) -> poem::Response {
    problem_body(status, code, message.into(), None)
}

/// [`problem_response`] with structured details.
pub fn problem_response_with(
    status: poem::http::StatusCode,
    code: &str,
    message: impl Into<String>,
    details: serde_json::Value,
) -> poem::Response {
    problem_body(status, code, message.into(), Some(details))
}

fn problem_body(
    status: poem::http::StatusCode,
    code: &str,
    message: String,
    details: Option<serde_json::Value>,
) -> poem::Response {
    let problem = Problem::new(code, message);
    let mut body = serde_json::json!({
        "code": problem.code,
        "message": problem.message,
        "request_id": problem.request_id,
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    poem::Response::builder().status(status).content_type("application/json; charset=utf-8").body(body.to_string())
}

/// The operation a request was routed to (its `operationId`), set by the server's edge before
/// the operation runs.
#[derive(Clone, Debug)]
pub struct OperationRef(pub std::sync::Arc<str>);

/// What each operation asks of the policy before anything else of the request is looked at:
/// the kind of resource and the action, as the operation's use case asks it first. A role that
/// the policy does not allow that action at all gets its 403 here — whatever the body, the
/// parameters or the content type — so a request is never validated for someone who may not
/// make it. Whether a given *record* is the caller's is decided later, by the use case (404 or
/// 403). Operations whose first check depends on the record (a user reading themself) are not
/// listed, and are checked by their use case alone.
pub struct Gate {
    policy: Arc<crate::PolicyTable>,
    permits: std::collections::HashMap<&'static str, (kernel::Resource, kernel::Action)>,
}

/// An operation and what it asks of the policy first.
pub type OperationPermit = (&'static str, kernel::Resource, kernel::Action);

impl Gate {
    pub fn new(policy: Arc<crate::PolicyTable>, permits: impl IntoIterator<Item = OperationPermit>) -> Gate {
        Gate { policy, permits: permits.into_iter().map(|(op, r, a)| (op, (r, a))).collect() }
    }

    /// The permit an operation asks for first, if it is listed.
    pub fn permit_of(&self, operation: &str) -> Option<(kernel::Resource, kernel::Action)> {
        self.permits.get(operation).copied()
    }

    /// 403 when the caller's roles may not take the operation's action at all.
    pub fn admit(&self, caller: &Principal, operation: &str) -> Result<(), Error> {
        match self.permits.get(operation) {
            Some((resource, action)) => self.policy.permit(caller, *resource, *action).map(|_| ()),
            None => Ok(()),
        }
    }
}

/// Resolves a bearer token to the caller. Implemented by `identity`.
#[async_trait::async_trait]
pub trait Authenticate: Send + Sync + 'static {
    async fn authenticate(&self, token: &str) -> Result<Principal, Error>;
}

/// The authenticated caller of an operation. An operation that takes a `Caller` cannot run
/// without a valid, unexpired, unrevoked bearer token.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque token from POST /api/v1/auth/login", checker = "check_bearer")]
pub struct Caller(pub Principal);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let refuse = |e: Error| poem::Error::from_response(ApiError::from(e).into_response());
    let principal = match req.data::<Arc<dyn Authenticate>>() {
        Some(auth) => auth.authenticate(&bearer.token).await.map_err(refuse)?,
        None => return Err(refuse(Error::unexpected("no authenticator is installed"))),
    };
    // Authorization comes before validation: the security scheme is the first thing an
    // operation extracts, before its parameters and its body.
    if let (Some(gate), Some(op)) = (req.data::<Arc<Gate>>(), req.data::<OperationRef>()) {
        gate.admit(&principal, &op.0).map_err(refuse)?;
    }
    Ok(principal)
}

/// Parses the `limit` and `cursor` query parameters of a list operation.
pub fn page_request(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    PageRequest::parse(limit, cursor).map_err(ApiError::from)
}

/// Declares the response object of a list: `{ "items": [...], "next_cursor": "…" | null }`.
#[macro_export]
macro_rules! page_of {
    ($name:ident, $item:ty) => {
        #[derive(poem_openapi::Object, Debug)]
        #[oai(example)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; null on the last page.
            #[oai(nullable)]
            pub next_cursor: Option<String>,
        }

        impl poem_openapi::types::Example for $name {
            fn example() -> Self {
                $name {
                    items: vec![<$item as poem_openapi::types::Example>::example()],
                    next_cursor: Some(kernel::Cursor::after_id(42).encode()),
                }
            }
        }

        impl $name {
            pub fn from_page<T>(page: kernel::Page<T>, f: impl FnMut(T) -> $item) -> Self {
                let next_cursor = page.next.as_ref().map(kernel::Cursor::encode);
                $name { items: page.items.into_iter().map(f).collect(), next_cursor }
            }
        }
    };
}

/// Declares the answer of a creation: `201 Created` with the record and its `Location`, or —
/// when an earlier request with the same `Idempotency-Key` created it — `200` with that record
/// (nothing new was created).
#[macro_export]
macro_rules! created_response {
    ($name:ident, $view:ty) => {
        #[derive(poem_openapi::ApiResponse, Debug)]
        pub enum $name {
            /// Created; `Location` is where to read it.
            #[oai(status = 201)]
            Created(poem_openapi::payload::Json<$view>, #[oai(header = "Location")] String),
            /// An earlier request with this `Idempotency-Key` and the same meaning created it:
            /// this is that record, and nothing new was created.
            #[oai(status = 200)]
            Replayed(poem_openapi::payload::Json<$view>, #[oai(header = "Location")] String),
        }

        impl $name {
            pub fn of(view: $view, location: String, replayed: bool) -> Self {
                if replayed {
                    $name::Replayed(poem_openapi::payload::Json(view), location)
                } else {
                    $name::Created(poem_openapi::payload::Json(view), location)
                }
            }
        }
    };
}

/// Declares the answer of a creation without an idempotency key: `201 Created` with the record
/// and its `Location`.
#[macro_export]
macro_rules! created {
    ($name:ident, $view:ty) => {
        #[derive(poem_openapi::ApiResponse, Debug)]
        pub enum $name {
            /// Created; `Location` is where to read it.
            #[oai(status = 201)]
            Created(poem_openapi::payload::Json<$view>, #[oai(header = "Location")] String),
        }

        impl $name {
            pub fn at(view: $view, location: String) -> Self {
                $name::Created(poem_openapi::payload::Json(view), location)
            }
        }
    };
}
