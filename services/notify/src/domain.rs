//! What a notification is, the templates that exist, and the retry schedule. Pure.

use std::time::Duration;

use kernel::Locale;
use serde_json::Value;
use strum::{EnumIter, EnumString, IntoStaticStr};

/// The e-mails the park sends. Each has a subject, a plain-text and an HTML body in every
/// locale (`templates/*.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumString, IntoStaticStr, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Template {
    /// A user was invited: a link to choose a password.
    UserInvited,
    /// A password reset was requested: a link to choose a new one.
    PasswordReset,
    /// An order was dispatched to the recipient's organisation.
    OrderDispatched,
    /// A subcontract the recipient's organisation is eligible for was published.
    SubcontractPublished,
    /// The recipient's organisation won a first-claim subcontract.
    ClaimWon,
    /// Another partner claimed the subcontract first.
    ClaimLost,
    /// The recipient's bid won the tender.
    BidAwarded,
    /// The tender went to another bid.
    BidNotAwarded,
    /// The recipient was assigned to an order as implementer.
    ImplementerAssigned,
    /// A delivery milestone is past its due date.
    MilestoneOverdue,
    /// An order was delivered and waits for the client's acceptance.
    DeliveryAwaitingAcceptance,
    /// The client accepted the delivery.
    OrderAccepted,
    /// The client rated the delivery.
    OrderRated,
    /// A rating of 2 stars or less (to vendor ops).
    LowRatingAlert,
    /// Vendor finance recorded a payment or refund on a contract the recipient signed.
    PaymentRecorded,
    /// A held execution share was released to the recipient's organisation on acceptance.
    ShareReleased,
    /// The recipient's organisation has a statement for a period (sent when the period's payout
    /// batch is approved).
    StatementReady,
    /// A payout to the recipient's organisation was approved.
    PayoutApproved,
    /// A credential was earned (or renewed): requirements met or evidence verified.
    CredentialEarned,
    /// A credential expires within 30 days.
    CredentialExpiring,
    /// A credential expired: it no longer counts for dispatch.
    CredentialExpired,
    /// A credential was revoked.
    CredentialRevoked,
    /// A client's outcome milestone was reported and waits for verification (to vendor ops).
    OutcomeReported,
    /// Vendor ops verified an outcome milestone (to the client and its signers).
    OutcomeVerified,
    /// Vendor ops rejected an outcome milestone (to the client and the reporter's organisation).
    OutcomeRejected,
    /// A partner's tier changed with the period's recomputation (to its administrators).
    TierChanged,
}

impl Template {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A payload with every variable the template uses, for previews and tests.
    pub fn example_payload(self) -> Value {
        match self {
            Template::UserInvited => serde_json::json!({
                "org_name": "杭州云帆财税服务有限公司",
                "invited_by": "ops@vpark.demo",
                "link": "http://127.0.0.1:8080/set-password?token=vpt_example",
                "expires_at": "2026-11-29 10:00 UTC",
            }),
            Template::PasswordReset => serde_json::json!({
                "link": "http://127.0.0.1:8080/set-password?token=vpt_example",
                "expires_at": "2026-11-22 11:00 UTC",
            }),
            Template::PaymentRecorded => serde_json::json!({
                "contract_no": "HT2026000012",
                "client": "宁波海曙精密机械有限公司",
                "line_no": 2,
                "stream": "first_year",
                "amount": "20000.00",
                "received_on": "2026-11-20",
                "share": "2400.00",
            }),
            Template::ShareReleased => serde_json::json!({
                "contract_no": "HT2026000012",
                "client": "宁波海曙精密机械有限公司",
                "line_no": 2,
                "amount": "14000.00",
            }),
            Template::StatementReady => serde_json::json!({
                "org_name": "杭州云帆财税服务有限公司",
                "period": "2026-10",
                "opening": "12000.00",
                "closing": "3600.00",
                "link": "http://127.0.0.1:8080/statements/7/2026-10",
            }),
            Template::PayoutApproved => serde_json::json!({
                "org_name": "杭州云帆财税服务有限公司",
                "period": "2026-10",
                "amount": "26400.00",
                "payout_id": 3,
            }),
            Template::CredentialEarned
            | Template::CredentialExpiring
            | Template::CredentialExpired
            | Template::CredentialRevoked => serde_json::json!({
                "holder": "王工",
                "certification_code": "ERP-L2",
                "certification_zh": "ERP 实施顾问（二级）",
                "certification_en": "ERP implementation consultant, level 2",
                "expires_on": "2028-11-22",
                "reason": "考试作弊",
                "link": "http://127.0.0.1:8080/docs",
            }),
            Template::TierChanged => serde_json::json!({
                "org_name": "杭州云帆财税服务有限公司",
                "period": "2026-10",
                "previous": "silver",
                "tier": "gold",
                "first_year_rate": "0.42",
                "maintenance_rate": "0.25",
                "reasons": "revenue 120000.00 < 300000.00",
                "link": "http://127.0.0.1:8080/docs",
            }),
            Template::OutcomeReported | Template::OutcomeVerified | Template::OutcomeRejected => serde_json::json!({
                "client": "宁波海曙精密机械有限公司",
                "outcome_zh": "高新技术企业认定",
                "outcome_en": "High-tech enterprise (HNTE) recognition",
                "achieved_on": "2026-10-28",
                "title": "高新技术企业证书 GR202633001234",
                "reporter": "client@vpark.demo",
                "in_window": "yes",
                "note": "证书编号查无此证",
                "link": "http://127.0.0.1:8080/docs",
            }),
            _ => serde_json::json!({
                "order_no": "HT2026000012-1",
                "service_zh": "ERP 实施",
                "service_en": "ERP implementation",
                "client": "宁波海曙精密机械有限公司",
                "deliverer": "杭州云帆财税服务有限公司",
                "link": "http://127.0.0.1:8080/orders/12",
                "deadline": "2026-11-25 18:00 UTC",
                "assign_by": "2026-11-24 10:00 UTC",
                "milestone_zh": "需求调研",
                "milestone_en": "Requirements",
                "due_on": "2026-11-20",
                "overall": 2,
                "comment": "上线延期两周",
            }),
        }
    }

    /// Payload keys that carry a secret (a one-time link): removed once the e-mail is sent.
    pub fn secret_keys(self) -> &'static [&'static str] {
        match self {
            Template::UserInvited | Template::PasswordReset => &["link"],
            _ => &[],
        }
    }
}

/// Who receives a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub name: String,
    pub locale: Locale,
}

/// One e-mail to send.
#[derive(Clone, Debug)]
pub struct Notification {
    pub template: Template,
    pub to: Recipient,
    /// The variables of the template.
    pub payload: Value,
    /// The organisation the notification concerns (for scoping the outbox view).
    pub org_id: Option<i64>,
    /// Producers that may run twice for one event (a retried request, a sweep on two replicas)
    /// set a key naming the event; a second notification with the same key is dropped.
    pub dedupe_key: Option<String>,
}

/// Delivery states of an outbox row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Pending,
    Sending,
    Sent,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The delay before attempt `attempts + 1`, after `attempts` failed ones: `base × 2^(n-1)`,
/// capped at `max`.
pub fn backoff(attempts: i32, base: Duration, max: Duration) -> Duration {
    let exp = attempts.saturating_sub(1).clamp(0, 30) as u32;
    base.checked_mul(1u32 << exp).map_or(max, |d| d.min(max))
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterFailure {
    RetryIn(Duration),
    GiveUp,
}

pub fn after_failure(attempts: i32, max_attempts: i32, permanent: bool, base: Duration, max: Duration) -> AfterFailure {
    if permanent || attempts >= max_attempts {
        AfterFailure::GiveUp
    } else {
        AfterFailure::RetryIn(backoff(attempts, base, max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let s = Duration::from_secs;
        assert_eq!(backoff(1, s(30), s(3600)), s(30));
        assert_eq!(backoff(2, s(30), s(3600)), s(60));
        assert_eq!(backoff(4, s(30), s(3600)), s(240));
        assert_eq!(backoff(20, s(30), s(3600)), s(3600));
        assert_eq!(backoff(i32::MAX, s(30), s(3600)), s(3600));
    }

    #[test]
    fn gives_up_after_the_last_attempt_or_a_permanent_error() {
        let s = Duration::from_secs;
        assert_eq!(after_failure(8, 8, false, s(1), s(10)), AfterFailure::GiveUp);
        assert_eq!(after_failure(1, 8, true, s(1), s(10)), AfterFailure::GiveUp);
        assert_eq!(after_failure(1, 8, false, s(1), s(10)), AfterFailure::RetryIn(s(1)));
    }
}
