//! The error of use cases (the `app` layer of each area): a domain outcome from
//! `kernel::Error`, or a database failure, converted with `?` from either.

use sea_orm::{DatabaseTransaction, DbErr};

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct AppError(pub kernel::Error);

pub type AppResult<T> = Result<T, AppError>;

impl From<kernel::Error> for AppError {
    fn from(e: kernel::Error) -> Self {
        AppError(e)
    }
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        AppError(crate::db::db_error(e))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError(kernel::Error::Unexpected(e))
    }
}

impl From<kernel::MoneyError> for AppError {
    fn from(e: kernel::MoneyError) -> Self {
        AppError(e.into())
    }
}

impl AppError {
    pub fn kind(&self) -> &kernel::Error {
        &self.0
    }

    /// True when two requests created the same record at once (a unique-constraint violation,
    /// see `db::db_error`).
    pub fn is_duplicate(&self) -> bool {
        matches!(&self.0, kernel::Error::Conflict { code, .. } if *code == crate::db::DUPLICATE)
    }
}

/// What a request that changed something answers when the database fails it *after* the
/// change was committed (reading the result back): the outcome is unknown to the caller, not a
/// failure to retry blindly. Other errors pass unchanged.
pub fn after_commit(e: AppError) -> AppError {
    match e.0 {
        kernel::Error::Unavailable(_) => AppError(kernel::Error::OutcomeUnknown(
            "the change was saved, but the database became unreachable before its result could be read: \
             read the record, or retry with the same Idempotency-Key to get the original result"
                .into(),
        )),
        other => AppError(other),
    }
}

/// Ends a transaction by the outcome of the work done in it: commit on success, roll back on
/// failure. Transactions are always ended explicitly, never dropped mid-flight.
///
/// A commit that fails because the connection was lost may have been applied by the database
/// before the connection died: that is `outcome_unknown` (503), never a plain failure — a
/// client that retried a plain failure with a new idempotency key would do the work twice.
pub async fn finish<T>(txn: DatabaseTransaction, outcome: AppResult<T>) -> AppResult<T> {
    match outcome {
        Ok(value) => match txn.commit().await {
            Ok(()) => Ok(value),
            Err(e) if crate::db::is_connection_error(&e) => {
                tracing::warn!(error = %e, "the connection failed during a commit");
                Err(AppError(kernel::Error::OutcomeUnknown(
                    "the database became unreachable while the change was being saved; it may or may not have \
                     been saved: retry with the same Idempotency-Key to get the original result, or read the \
                     record before trying again"
                        .into(),
                )))
            }
            Err(e) => Err(e.into()),
        },
        Err(e) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}
