//! Idempotency keys for creations: a client that sends `Idempotency-Key` with a request that
//! creates something (a contract, a payout, a bid, an outcome report) may send the same request
//! again — after a timeout, a dropped connection or a 503 `outcome_unknown` — and gets the
//! record the first one created instead of a second record.
//!
//! The key is remembered in the transaction of the creation, with the hash of what the request
//! *means* (the command after defaults are applied, so a default left out and the same default
//! written are the same request) and the id of what it created. The same key with a different
//! meaning is refused (422 `idempotency_key_reused`), as Stripe does. Keys belong to an
//! organisation and an operation: two organisations never collide, and one key cannot replay
//! a different kind of creation. Keys are kept (a retry after a day still finds its record).
//!
//! Two requests with one key at the same moment: the second one's insert of the key meets the
//! first's (a unique violation, on PostgreSQL after the first commits), its transaction rolls
//! back, and it answers as a replay of the first (see [`replayed_after_race`]).

use chrono::{DateTime, Utc};
use kernel::Error;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub operation: String,
        pub org_id: i64,
        pub key: String,
        pub request_hash: String,
        pub resource_id: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a keyed creation answers: the record, and whether an earlier request with the same
/// key created it (then nothing new was created).
#[derive(Clone, Debug)]
pub struct Created<T> {
    pub value: T,
    pub replayed: bool,
}

/// A validated `Idempotency-Key`: 1 to 128 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> Result<IdempotencyKey, Error> {
        let k = text.trim();
        if k.is_empty() || k.len() > 128 || !k.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::bad_request(
                "invalid_idempotency_key",
                "the Idempotency-Key header must be 1 to 128 visible ASCII characters, unique per creation",
            ));
        }
        Ok(IdempotencyKey(k.to_owned()))
    }

    /// The optional header of an operation.
    pub fn optional(header: Option<&str>) -> Result<Option<IdempotencyKey>, Error> {
        header.map(IdempotencyKey::parse).transpose()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The hash of what a request means: its command, after defaults, as canonical JSON (object
/// keys sorted at every level, whatever order the maps keep).
pub fn request_hash(meaning: &serde_json::Value) -> String {
    fn canonical(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    if let Some(v) = m.get(k) {
                        canonical(v, out);
                    }
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut text = String::new();
    canonical(meaning, &mut text);
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// One creation's key, as the operation knows it.
#[derive(Clone, Debug)]
pub struct Claim<'a> {
    pub operation: &'static str,
    pub org_id: i64,
    pub key: &'a IdempotencyKey,
    pub hash: String,
}

/// The record an earlier request with this key created, if any; 422 when the key was used for
/// a request that meant something else.
pub async fn replay<C: ConnectionTrait>(conn: &C, claim: &Claim<'_>) -> AppResult<Option<i64>> {
    use entity::Column as K;
    let found = entity::Entity::find()
        .filter(K::Operation.eq(claim.operation))
        .filter(K::OrgId.eq(claim.org_id))
        .filter(K::Key.eq(claim.key.as_str()))
        .one(conn)
        .await?;
    match found {
        None => Ok(None),
        Some(k) if k.request_hash == claim.hash => Ok(Some(k.resource_id)),
        Some(_) => Err(Error::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request; use a new key for a new one",
        )
        .into()),
    }
}

/// Remembers the key with what it created, in the creation's transaction.
pub async fn remember<C: ConnectionTrait>(
    conn: &C,
    claim: &Claim<'_>,
    resource_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    entity::ActiveModel {
        id: Default::default(),
        operation: Set(claim.operation.to_owned()),
        org_id: Set(claim.org_id),
        key: Set(claim.key.as_str().to_owned()),
        request_hash: Set(claim.hash.clone()),
        resource_id: Set(resource_id),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// After a creation failed: if it lost a race with another request carrying the same key (a
/// unique violation), the record that request created; otherwise the failure.
pub async fn replayed_after_race<C: ConnectionTrait>(conn: &C, claim: &Claim<'_>, failure: AppError) -> AppResult<i64> {
    if failure.is_duplicate()
        && let Some(id) = replay(conn, claim).await?
    {
        return Ok(id);
    }
    Err(failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse("pay-2026-11-001").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("有中文").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err());
        assert_eq!(IdempotencyKey::optional(None).ok(), Some(None));
    }

    #[test]
    fn the_hash_is_of_the_meaning_not_of_the_key_order() {
        let a = serde_json::json!({"a": 1, "b": [1, 2]});
        let b: serde_json::Value = serde_json::from_str(r#"{"b": [1, 2], "a": 1}"#).unwrap_or_default();
        assert_eq!(request_hash(&a), request_hash(&b));
        assert_ne!(request_hash(&a), request_hash(&serde_json::json!({"a": 2, "b": [1, 2]})));
    }
}
