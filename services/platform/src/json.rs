//! Lists stored as JSON columns (regions, industries, categories, milestones).

use sea_orm::JsonValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Reads a JSON column into a typed value; a malformed column is a data error, not a panic.
pub fn from_column<T: DeserializeOwned>(column: &str, value: &JsonValue) -> kernel::Result<T> {
    serde_json::from_value(value.clone())
        .map_err(|e| kernel::Error::unexpected(format!("column {column} holds malformed JSON: {e}")))
}

pub fn to_column<T: Serialize>(value: &T) -> kernel::Result<JsonValue> {
    serde_json::to_value(value).map_err(kernel::Error::unexpected)
}
