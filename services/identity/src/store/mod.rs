//! Identity's tables: users, their roles, sessions and one-time tokens, and the few columns of
//! `organisations` that identity needs to know who a caller is.

pub mod entities;

use chrono::{DateTime, Utc};
use kernel::{Cursor, Page, PageRequest, Role};
use platform::Scope;
use platform::db::sql;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub use entities::{one_time_token, org_ref, session, user, user_role};

/// What authenticating a session token finds.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SessionRow {
    pub session_id: i64,
    pub expires_at: DateTime<Utc>,
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub locale: String,
    pub user_status: String,
    pub org_id: i64,
    pub org_kind: String,
    pub org_parent_id: Option<i64>,
    pub org_status: String,
}

/// A live session by its token's hash, with its user, organisation and roles, in one statement
/// (one row per role; authentication runs on every request).
pub async fn session_by_hash<C: ConnectionTrait>(
    conn: &C,
    hash: &str,
) -> Result<Option<(SessionRow, Vec<Role>)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        #[sea_orm(nested)]
        session: SessionRow,
        role: Option<String>,
    }
    let rows = Row::find_by_statement(sql(
        conn.get_database_backend(),
        "SELECT s.id AS session_id, s.expires_at, u.id AS user_id, u.email, u.display_name, u.locale, \
                u.status AS user_status, o.id AS org_id, o.kind AS org_kind, o.parent_id AS org_parent_id, \
                o.status AS org_status, r.role \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.org_id \
         LEFT JOIN user_roles r ON r.user_id = u.id \
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL",
        [hash.into()],
    ))
    .all(conn)
    .await?;
    let mut roles: Vec<Role> = rows.iter().filter_map(|r| r.role.as_deref()?.parse().ok()).collect();
    roles.sort();
    Ok(rows.into_iter().next().map(|r| (r.session, roles)))
}

/// The roles of one user. Unknown role names (from a newer version) are skipped, never granted.
pub async fn roles_of<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<Vec<Role>, DbErr> {
    let rows = user_role::Entity::find().filter(user_role::Column::UserId.eq(user_id)).all(conn).await?;
    let mut roles: Vec<Role> = rows.iter().filter_map(|r| r.role.parse().ok()).collect();
    roles.sort();
    Ok(roles)
}

/// The roles of many users at once, for lists.
pub async fn roles_of_many<C: ConnectionTrait>(conn: &C, user_ids: &[i64]) -> Result<Vec<(i64, Role)>, DbErr> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = user_role::Entity::find()
        .filter(user_role::Column::UserId.is_in(user_ids.iter().copied()))
        .order_by_asc(user_role::Column::Role)
        .all(conn)
        .await?;
    Ok(rows.into_iter().filter_map(|r| r.role.parse().ok().map(|role| (r.user_id, role))).collect())
}

pub async fn replace_roles<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    org_id: i64,
    roles: &[Role],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user_role::Entity::delete_many().filter(user_role::Column::UserId.eq(user_id)).exec(conn).await?;
    if roles.is_empty() {
        return Ok(());
    }
    let rows = roles.iter().map(|r| user_role::ActiveModel {
        user_id: Set(user_id),
        org_id: Set(org_id),
        role: Set(r.as_str().to_owned()),
        granted_at: Set(now),
    });
    user_role::Entity::insert_many(rows).exec_without_returning(conn).await?;
    Ok(())
}

/// How many users other than `except` hold `role` in `org_id` and are not disabled.
pub async fn count_role_holders<C: ConnectionTrait>(
    conn: &C,
    org_id: i64,
    role: Role,
    except: i64,
) -> Result<u64, DbErr> {
    user_role::Entity::find()
        .filter(user_role::Column::OrgId.eq(org_id))
        .filter(user_role::Column::Role.eq(role.as_str()))
        .filter(user_role::Column::UserId.ne(except))
        .filter(
            user_role::Column::UserId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column("id")
                    .from("users")
                    .and_where(Expr::col("status").ne("disabled"))
                    .to_owned(),
            ),
        )
        .count(conn)
        .await
}

pub async fn user_by_email<C: ConnectionTrait>(conn: &C, email: &str) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find().filter(user::Column::Email.eq(email)).one(conn).await
}

/// One user, if the scope reaches them.
pub async fn user_in_scope<C: ConnectionTrait>(conn: &C, scope: &Scope, id: i64) -> Result<Option<user::Model>, DbErr> {
    let mut q = user::Entity::find_by_id(id);
    if let Some(cond) = platform::scope::condition(scope, user::Column::OrgId, Some(user::Column::Id)) {
        q = q.filter(cond);
    }
    q.one(conn).await
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub org_id: Option<i64>,
    pub role: Option<Role>,
    pub status: Option<String>,
    /// Part of the e-mail address or name.
    pub query: Option<String>,
}

pub async fn list_users<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &UserFilter,
    page: &PageRequest,
) -> Result<Page<user::Model>, DbErr> {
    use user::Column as C;
    let mut q = user::Entity::find();
    if let Some(cond) = platform::scope::condition(scope, C::OrgId, Some(C::Id)) {
        q = q.filter(cond);
    }
    if let Some(org) = f.org_id {
        q = q.filter(C::OrgId.eq(org));
    }
    if let Some(status) = &f.status {
        q = q.filter(C::Status.eq(status.as_str()));
    }
    if let Some(role) = f.role {
        q = q.filter(
            C::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column("user_id")
                    .from("user_roles")
                    .and_where(Expr::col("role").eq(role.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(text) = f.query.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.to_lowercase().replace(['%', '_'], ""));
        q = q.filter(sea_orm::Condition::any().add(C::Email.like(pattern.clone())).add(C::DisplayName.like(pattern)));
    }
    if let Some(after) = page.after_id() {
        q = q.filter(C::Id.gt(after));
    }
    let rows = q.order_by_asc(C::Id).limit(page.limit + 1).all(conn).await?;
    Ok(Page::from_rows(rows, page.limit, |u| Cursor::after_id(u.id)))
}

pub async fn org<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<org_ref::Model>, DbErr> {
    org_ref::Entity::find_by_id(id).one(conn).await
}

pub async fn orgs<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<Vec<org_ref::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    org_ref::Entity::find().filter(org_ref::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

pub async fn insert_session<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    hash: String,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let row = session::ActiveModel {
        id: Default::default(),
        token_hash: Set(hash),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// Revokes sessions of a user: one (`only`), all but one (`except`), or all.
pub async fn revoke_sessions<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    only: Option<i64>,
    except: Option<i64>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use session::Column as C;
    let mut q = session::Entity::update_many()
        .col_expr(C::RevokedAt, Expr::value(now))
        .filter(C::UserId.eq(user_id))
        .filter(C::RevokedAt.is_null());
    if let Some(id) = only {
        q = q.filter(C::Id.eq(id));
    }
    if let Some(id) = except {
        q = q.filter(C::Id.ne(id));
    }
    Ok(q.exec(conn).await?.rows_affected)
}

pub async fn insert_one_time_token<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    purpose: &str,
    hash: String,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    one_time_token::ActiveModel {
        id: Default::default(),
        user_id: Set(user_id),
        purpose: Set(purpose.to_owned()),
        token_hash: Set(hash),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Marks a valid one-time token used and returns its user; None when the token is unknown,
/// used or expired. The guarded update makes a token usable exactly once.
pub async fn consume_one_time_token<C: ConnectionTrait>(
    conn: &C,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    use one_time_token::Column as C;
    let Some(token) = one_time_token::Entity::find().filter(C::TokenHash.eq(hash)).one(conn).await? else {
        return Ok(None);
    };
    if token.used_at.is_some() || token.expires_at <= now {
        return Ok(None);
    }
    let res = one_time_token::Entity::update_many()
        .col_expr(C::UsedAt, Expr::value(now))
        .filter(C::Id.eq(token.id))
        .filter(C::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok((res.rows_affected == 1).then_some(token.user_id))
}

/// When the newest one-time token of this purpose was issued to the user.
pub async fn last_token_at<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    purpose: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    use one_time_token::Column as C;
    Ok(one_time_token::Entity::find()
        .filter(C::UserId.eq(user_id))
        .filter(C::Purpose.eq(purpose))
        .order_by_desc(C::Id)
        .one(conn)
        .await?
        .map(|t| t.created_at))
}

/// Records a failed login; returns the new count.
pub async fn record_failure<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    failed: i32,
    locked_until: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::value(failed))
        .col_expr(user::Column::LockedUntil, Expr::value(locked_until))
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn record_success<C: ConnectionTrait>(conn: &C, user_id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(user::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(user::Column::LastLoginAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn users<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<Vec<user::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    user::Entity::find().filter(user::Column::Id.is_in(ids.iter().copied())).all(conn).await
}
