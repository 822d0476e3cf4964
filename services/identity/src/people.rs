//! The people to tell about something: active users by role and organisation, and queuing an
//! e-mail to an organisation's administrators. Every area's notifications go through here.

use kernel::Locale;
use notify::{Notification, Recipient, Template};
use platform::AppResult;
use platform::db::sql;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde_json::Value as Json;

/// The organisation administrator roles that receive an organisation's e-mails.
pub const ADMIN_ROLES: &[&str] = &["team_admin", "equity_admin", "sub_admin", "client_admin"];

#[derive(Debug, Clone, FromQueryResult, serde::Deserialize)]
pub struct Person {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub display_name: String,
    pub locale: String,
}

pub fn recipient(p: &Person) -> Recipient {
    Recipient { email: p.email.clone(), name: p.display_name.clone(), locale: p.locale.parse().unwrap_or(Locale::ZhCn) }
}

/// Active users holding any of `roles`, in one organisation or (with `org_id = None`) anywhere.
pub async fn people_with_roles<C: ConnectionTrait>(
    conn: &C,
    org_id: Option<i64>,
    roles: &[&str],
) -> Result<Vec<Person>, DbErr> {
    let b = conn.get_database_backend();
    let mut values: Vec<Value> = Vec::new();
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let mut ph = Vec::with_capacity(roles.len());
    for r in roles {
        values.push((*r).to_owned().into());
        ph.push(format!("${}", values.len()));
    }
    let org = match org_id {
        Some(id) => {
            values.push(id.into());
            format!(" AND u.org_id = ${}", values.len())
        }
        None => String::new(),
    };
    Person::find_by_statement(sql(
        b,
        &format!(
            "SELECT DISTINCT u.id, u.org_id, u.email, u.display_name, u.locale FROM users u \
             JOIN user_roles r ON r.user_id = u.id WHERE u.status = 'active' AND r.role IN ({}){org} ORDER BY u.id",
            ph.join(", ")
        ),
        values,
    ))
    .all(conn)
    .await
}

pub async fn people<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<Vec<Person>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let b = conn.get_database_backend();
    let ph: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    Person::find_by_statement(sql(
        b,
        &format!(
            "SELECT id, org_id, email, display_name, locale FROM users WHERE id IN ({}) ORDER BY id",
            ph.join(", ")
        ),
        ids.iter().map(|i| Value::from(*i)),
    ))
    .all(conn)
    .await
}

/// Queues an e-mail to every administrator of an organisation, in the caller's transaction.
pub async fn notify_org_admins<C: ConnectionTrait>(
    conn: &C,
    now: chrono::DateTime<chrono::Utc>,
    template: Template,
    org_id: i64,
    payload: &Json,
    dedupe: &str,
) -> AppResult<()> {
    for p in people_with_roles(conn, Some(org_id), ADMIN_ROLES).await? {
        notify_person(conn, now, template, &p, payload, dedupe).await?;
    }
    Ok(())
}

/// Queues an e-mail to one person (deduplicated per person by `dedupe`).
pub async fn notify_person<C: ConnectionTrait>(
    conn: &C,
    now: chrono::DateTime<chrono::Utc>,
    template: Template,
    p: &Person,
    payload: &Json,
    dedupe: &str,
) -> AppResult<()> {
    let n = Notification {
        template,
        to: recipient(p),
        payload: payload.clone(),
        org_id: Some(p.org_id),
        dedupe_key: Some(format!("{dedupe}:{}", p.id)),
    };
    notify::enqueue_in(conn, now, &n).await?;
    Ok(())
}
