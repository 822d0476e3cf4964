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
        AppError(kernel::Error::unprocessable("invalid_amount", e.to_string()))
    }
}

impl AppError {
    pub fn kind(&self) -> &kernel::Error {
        &self.0
    }
}

/// Ends a transaction by the outcome of the work done in it: commit on success, roll back on
/// failure. Transactions are always ended explicitly, never dropped mid-flight.
pub async fn finish<T>(txn: DatabaseTransaction, outcome: AppResult<T>) -> AppResult<T> {
    match outcome {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}
