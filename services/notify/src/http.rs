//! The operator's view of the outbox: what was sent, what waits, what died and why; and a way
//! to send a dead message again once its cause is fixed. Payloads are never shown (they may
//! hold one-time links).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kernel::{Action, Resource};
use platform::api_types::CursorText;
use platform::http::{ApiResult, Caller, OperationPermit, page_request};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::app::Notifications;
use crate::domain;
use crate::store::{OutboxFilter, OutboxRow};

/// What each operation of this API asks of the policy first (`platform::http::Gate`): a role
/// the policy does not allow the action at all gets its 403 before the request is validated.
pub const PERMITS: &[OperationPermit] = &[
    ("listNotifications", Resource::Notification, Action::Read),
    ("retryNotification", Resource::Notification, Action::Retry),
];

#[derive(Tags)]
enum ApiTags {
    /// The e-mail outbox.
    Notifications,
}

#[derive(Enum, Debug, Clone, Copy)]
#[oai(rename_all = "snake_case", remote = "domain::Status")]
pub enum NotificationStatus {
    Pending,
    Sending,
    Sent,
    Dead,
}

/// One e-mail in the outbox.
#[derive(Object, Debug)]
#[oai(example)]
pub struct NotificationView {
    pub id: i64,
    pub template: String,
    pub recipient_email: String,
    pub locale: String,
    pub status: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    #[oai(nullable)]
    pub sent_at: Option<DateTime<Utc>>,
    /// The last delivery error, if any.
    #[oai(nullable)]
    pub last_error: Option<String>,
    pub message_id: String,
}

impl Example for NotificationView {
    fn example() -> Self {
        let at =
            DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default();
        NotificationView {
            id: 42,
            template: "user_invited".into(),
            recipient_email: "wang.li@yunfan-tax.cn".into(),
            locale: "zh-CN".into(),
            status: "sent".into(),
            attempts: 1,
            created_at: at,
            next_attempt_at: at,
            sent_at: Some(at),
            last_error: None,
            message_id: "9f2c4e1a7b3d5f60a1b2c3d4e5f60718@vpark".into(),
        }
    }
}

impl From<OutboxRow> for NotificationView {
    fn from(r: OutboxRow) -> Self {
        NotificationView {
            id: r.id,
            template: r.template,
            recipient_email: r.recipient_email,
            locale: r.locale,
            status: r.status,
            attempts: r.attempts,
            created_at: r.created_at,
            next_attempt_at: r.next_attempt_at,
            sent_at: r.sent_at,
            last_error: r.last_error,
            message_id: r.message_id,
        }
    }
}

platform::page_of!(NotificationPage, NotificationView);

pub struct NotificationApi {
    pub app: Arc<Notifications>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Notifications")]
impl NotificationApi {
    /// List e-mails in the outbox
    ///
    /// Newest first. Filter by delivery status, recipient or template.
    #[oai(path = "/notifications", method = "get", operation_id = "listNotifications")]
    async fn list(
        &self,
        auth: Caller,
        status: Query<Option<NotificationStatus>>,
        recipient: Query<Option<String>>,
        template: Query<Option<String>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<NotificationPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = OutboxFilter { status: status.0.map(Into::into), recipient: recipient.0, template: template.0 };
        let rows = self.app.list(&auth.0, &filter, &page).await?;
        Ok(Json(NotificationPage::from_page(rows, NotificationView::from)))
    }

    /// Send a dead e-mail again
    ///
    /// Puts a message that exhausted its attempts back in the queue with a fresh budget. Only
    /// dead messages can be retried (409 otherwise).
    #[oai(path = "/notifications/:id/retry", method = "post", operation_id = "retryNotification")]
    async fn retry(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<NotificationView>> {
        Ok(Json(self.app.retry(&auth.0, id.0).await?.into()))
    }
}
