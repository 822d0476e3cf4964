//! The error vocabulary shared by every area.
//!
//! Each variant is an *outcome* a caller can act on, with a stable snake_case `code`. The HTTP
//! layer maps them to statuses in exactly one function (`platform::http`). `Unexpected` carries
//! the cause for the log only: it is never shown to a caller.

use serde_json::Value;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself is malformed (a bad cursor, an unparsable parameter): 400.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// No valid credentials: 401.
    #[error("{message}")]
    Unauthenticated { message: String },
    /// The caller is known but may not do this: 403. The message says what was refused.
    #[error("{message}")]
    Forbidden { message: String },
    /// The record does not exist, or is not visible to the caller: 404.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The request conflicts with the current state (duplicate, already claimed, illegal
    /// transition): 409.
    #[error("{message}")]
    Conflict { code: &'static str, message: String, details: Option<Value> },
    /// The request is well-formed but its content breaks a rule: 422.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String, details: Option<Value> },
    /// Too many attempts: 429.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_s: u64 },
    /// A dependency is down (database unreachable): 503 with `Retry-After`. Nothing was
    /// changed: the request may be retried as it is.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The database became unreachable while the change was being committed, or right after:
    /// it may or may not have been saved. 503 `outcome_unknown` with `Retry-After`; a retry
    /// with the same `Idempotency-Key` returns the original result instead of doing it twice.
    #[error("{0}")]
    OutcomeUnknown(String),
    /// Anything else: 500 with an opaque body; the cause goes to the log.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Money out of range in a calculation a request asked for: 422 `invalid_amount`.
impl From<crate::money::MoneyError> for Error {
    fn from(e: crate::money::MoneyError) -> Self {
        Error::Unprocessable {
            code: "invalid_amount",
            message: e.to_string(),
            details: Some(serde_json::json!({ "reason": e.to_string() })),
        }
    }
}

/// "a" or "an" before a word, by its first letter ("an order", "a payout batch").
pub fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

impl Error {
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound { what, id: id.to_string() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden { message: message.into() }
    }

    /// A field of the request breaks a rule (422, code `invalid_field`).
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Unprocessable {
            code: "invalid_field",
            details: Some(serde_json::json!({ "field": field, "reason": message })),
            message: format!("{field}: {message}"),
        }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable { code, message: message.into(), details: None }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into(), details: None }
    }

    /// A lifecycle refused a move: 409 naming the current state.
    pub fn illegal_transition(what: &str, current: &str, action: &str) -> Self {
        Self::Conflict {
            code: "illegal_transition",
            message: format!("cannot {action} {} {what} that is {current}", article(what)),
            details: Some(serde_json::json!({ "current_state": current, "action": action })),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    pub fn unexpected(message: impl std::fmt::Display) -> Self {
        Self::Unexpected(anyhow::anyhow!("{message}"))
    }

    /// The stable machine-readable code of this outcome.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::Unauthenticated { .. } => "unauthenticated",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Conflict { code, .. } => code,
            Self::Unprocessable { code, .. } => code,
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable(_) => "unavailable",
            Self::OutcomeUnknown(_) => "outcome_unknown",
            Self::Unexpected(_) => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_plain_english() {
        let order = Error::illegal_transition("order", "delivered", "close");
        assert_eq!(order.to_string(), "cannot close an order that is delivered");
        let batch = Error::illegal_transition("payout batch", "approved", "approve");
        assert_eq!(batch.to_string(), "cannot approve a payout batch that is approved");
    }
}
