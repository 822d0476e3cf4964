//! The audit trail: who did what to which record, before and after, when.
//!
//! Events are appended in the same transaction as the change they describe (so there is no
//! change without its event, and no event for a change that rolled back) and never updated or
//! deleted.

use chrono::{DateTime, Utc};
use kernel::{Cursor, Page, PageRequest, Resource};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use crate::access::{Actor, Scope};
use crate::http::current_request_id;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at: DateTimeUtc,
        pub actor_user_id: Option<i64>,
        pub actor_org_id: Option<i64>,
        pub actor_label: String,
        pub action: String,
        pub resource_kind: String,
        pub resource_id: String,
        pub org_id: Option<i64>,
        pub before: Option<Json>,
        pub after: Option<Json>,
        pub request_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use entity::Model as AuditEvent;

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change {
    /// What happened, as `resource.verb`: `organisation.created`, `user.roles_changed`.
    pub action: String,
    pub resource: Resource,
    pub resource_id: String,
    /// The organisation the record belongs to, for scoping who may read the event.
    pub org_id: Option<i64>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    pub fn new(resource: Resource, verb: &str, resource_id: impl ToString) -> Change {
        Change {
            action: format!("{}.{verb}", resource.as_str()),
            resource,
            resource_id: resource_id.to_string(),
            org_id: None,
            before: None,
            after: None,
        }
    }

    pub fn org(mut self, org_id: i64) -> Change {
        self.org_id = Some(org_id);
        self
    }

    pub fn before<T: serde::Serialize>(mut self, value: &T) -> Change {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after<T: serde::Serialize>(mut self, value: &T) -> Change {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

fn row_of(actor: &Actor, at: DateTime<Utc>, request_id: Option<String>, change: Change) -> entity::ActiveModel {
    entity::ActiveModel {
        id: Default::default(),
        at: Set(at),
        actor_user_id: Set(actor.user_id()),
        actor_org_id: Set(actor.org_id()),
        actor_label: Set(actor.label()),
        action: Set(change.action),
        resource_kind: Set(change.resource.as_str().to_owned()),
        resource_id: Set(change.resource_id),
        org_id: Set(change.org_id),
        before: Set(change.before),
        after: Set(change.after),
        request_id: Set(request_id),
    }
}

/// Appends an event inside the caller's transaction.
pub async fn record_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    at: DateTime<Utc>,
    change: Change,
) -> Result<(), DbErr> {
    let row = row_of(actor, at, current_request_id(), change);
    entity::Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

/// Events per INSERT of [`record_many_in`]: 12 columns each, well under SQLite's 32,766 bound
/// parameters.
const MANY_CHUNK: usize = 1_000;

/// Appends many events by one actor inside the caller's transaction, in a few statements (bulk
/// work: one round trip per event would cost more than the work they describe).
pub async fn record_many_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    at: DateTime<Utc>,
    changes: Vec<Change>,
) -> Result<(), DbErr> {
    let request_id = current_request_id();
    let events =
        changes.into_iter().map(|change| Event { actor, at, request_id: request_id.clone(), change }).collect();
    record_each_in(conn, events).await
}

/// An event with everything said: for work written away from the request it belongs to (a
/// batch of requests, each with its actor, time and request id).
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub actor: &'a Actor,
    pub at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub change: Change,
}

/// Appends events inside the caller's transaction, in a few statements.
pub async fn record_each_in<C: ConnectionTrait>(conn: &C, events: Vec<Event<'_>>) -> Result<(), DbErr> {
    let rows: Vec<entity::ActiveModel> =
        events.into_iter().map(|e| row_of(e.actor, e.at, e.request_id, e.change)).collect();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<entity::ActiveModel> = rows.by_ref().take(MANY_CHUNK).collect();
        entity::Entity::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// Filters of the audit list.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub resource_kind: Option<String>,
    pub resource_id: Option<String>,
    pub actor_user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub action: Option<String>,
}

/// Events newest first, within the caller's scope.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    filter: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<AuditEvent>, DbErr> {
    use entity::Column as C;
    let mut q = entity::Entity::find();
    if let Scope::Limited { own_org, .. } = scope {
        // Audit events are scoped by the organisation they concern; only `own` applies.
        q = q.filter(C::OrgId.eq(own_org.unwrap_or(-1)));
    }
    if let Some(k) = &filter.resource_kind {
        q = q.filter(C::ResourceKind.eq(k.as_str()));
    }
    if let Some(id) = &filter.resource_id {
        q = q.filter(C::ResourceId.eq(id.as_str()));
    }
    if let Some(a) = filter.actor_user_id {
        q = q.filter(C::ActorUserId.eq(a));
    }
    if let Some(o) = filter.org_id {
        q = q.filter(C::OrgId.eq(o));
    }
    if let Some(action) = &filter.action {
        q = q.filter(C::Action.eq(action.as_str()));
    }
    if let Some(after) = page.after_id() {
        q = q.filter(C::Id.lt(after));
    }
    let rows = q.order_by_desc(C::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |e| Cursor::after_id(e.id)))
}
