//! The API of customer success: the outcome catalog, clients' outcome milestones and their
//! verification, the success metrics and the cash flow.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use kernel::Fen;
use kernel::{Action, Resource};
use platform::api_types::CursorText;
use platform::api_types::{CodeText, Line, Para, RejectRequest};
use platform::http::{ApiResult, Caller, OperationPermit, page_request};
use platform::idempotency::IdempotencyKey;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::{Example, MaybeUndefined};
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::app::{self, CashFlow, Credit, KindPatch, MetricsQuery, MetricsReport, Outcome, OutcomeKind, Success};
use crate::domain::{CreditRole, KindStatus, OutcomeKindDef, OutcomeReport, OutcomeStatus};
use crate::metrics::{Average, Granularity, GroupBy, MetricRow, Ratio};
use crate::store::{CashRow, OutcomeFilter};

/// What each operation of this API asks of the policy first (`platform::http::Gate`): a role
/// the policy does not allow the action at all gets its 403 before the request is validated.
pub const PERMITS: &[OperationPermit] = &[
    ("listOutcomeKinds", Resource::OutcomeKind, Action::Read),
    ("createOutcomeKind", Resource::OutcomeKind, Action::Create),
    ("getOutcomeKind", Resource::OutcomeKind, Action::Read),
    ("updateOutcomeKind", Resource::OutcomeKind, Action::Update),
    ("reportOutcome", Resource::Outcome, Action::Create),
    ("listOutcomes", Resource::Outcome, Action::Read),
    ("getOutcome", Resource::Outcome, Action::Read),
    ("verifyOutcome", Resource::Outcome, Action::Verify),
    ("rejectOutcome", Resource::Outcome, Action::Verify),
    ("getSuccessMetrics", Resource::Metrics, Action::Read),
    ("getCashFlow", Resource::CashFlow, Action::Read),
    ("getTierThresholds", Resource::Tier, Action::Read),
    ("putTierThresholds", Resource::Tier, Action::Update),
    ("listScorecards", Resource::Tier, Action::Read),
    ("listTierAssessments", Resource::Tier, Action::Read),
    ("recomputeTiers", Resource::Tier, Action::Run),
];

#[derive(Tags)]
enum ApiTags {
    /// Outcome milestones of clients (高新技术企业, 专精特新 …), reported with evidence and
    /// verified by vendor ops.
    Outcomes,
    /// Customer-success metrics and the cash flow.
    Metrics,
}

fn example_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

fn example_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum KindStatusName {
    Active,
    Retired,
}

impl From<KindStatus> for KindStatusName {
    fn from(s: KindStatus) -> Self {
        match s {
            KindStatus::Active => KindStatusName::Active,
            KindStatus::Retired => KindStatusName::Retired,
        }
    }
}

impl From<KindStatusName> for KindStatus {
    fn from(s: KindStatusName) -> Self {
        match s {
            KindStatusName::Active => KindStatus::Active,
            KindStatusName::Retired => KindStatus::Retired,
        }
    }
}

platform::created!(OutcomeKindCreated, OutcomeKindView);

/// An outcome milestone of the catalog.
#[derive(Object, Debug)]
#[oai(example)]
pub struct OutcomeKindView {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    #[oai(nullable)]
    pub description: Option<String>,
    /// Reaching it within this many months of the client's first contract counts as a success.
    pub window_months: i32,
    pub status: KindStatusName,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Example for OutcomeKindView {
    fn example() -> Self {
        OutcomeKindView {
            id: 1,
            code: "HNTE".into(),
            name_zh: "高新技术企业认定".into(),
            name_en: "High-tech enterprise (HNTE) recognition".into(),
            description: Some("取得高新技术企业证书".into()),
            window_months: 36,
            status: KindStatusName::Active,
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

impl From<OutcomeKind> for OutcomeKindView {
    fn from(k: OutcomeKind) -> Self {
        OutcomeKindView {
            id: k.id,
            code: k.def.code,
            name_zh: k.def.name_zh,
            name_en: k.def.name_en,
            description: k.def.description,
            window_months: k.def.window_months,
            status: k.def.status.into(),
            created_at: k.created_at,
            updated_at: k.updated_at,
        }
    }
}

#[derive(Object, Debug)]
#[oai(example)]
pub struct OutcomeKindList {
    pub items: Vec<OutcomeKindView>,
}

impl Example for OutcomeKindList {
    fn example() -> Self {
        OutcomeKindList { items: vec![OutcomeKindView::example()] }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct CreateOutcomeKindRequest {
    /// Upper-case letters, digits and dashes.
    pub code: CodeText,
    pub name_zh: Line<200>,
    pub name_en: Line<200>,
    #[oai(nullable)]
    pub description: Option<Para<4000>>,
    /// 1 to 120; 36 (three years) when absent.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "240")))]
    pub window_months: Option<i32>,
}

impl Example for CreateOutcomeKindRequest {
    fn example() -> Self {
        CreateOutcomeKindRequest {
            code: "SRDI".into(),
            name_zh: "专精特新中小企业".into(),
            name_en: "Specialised and sophisticated SME (SRDI)".into(),
            description: None,
            window_months: Some(36),
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct UpdateOutcomeKindRequest {
    #[oai(nullable)]
    pub name_zh: Option<Line<200>>,
    #[oai(nullable)]
    pub name_en: Option<Line<200>>,
    #[oai(nullable)]
    pub description: MaybeUndefined<Para<4000>>,
    /// Applies to milestones reported from now on.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "240")))]
    pub window_months: Option<i32>,
    #[oai(nullable)]
    pub status: Option<KindStatusName>,
}

impl Example for UpdateOutcomeKindRequest {
    fn example() -> Self {
        UpdateOutcomeKindRequest {
            name_zh: None,
            name_en: None,
            description: MaybeUndefined::Undefined,
            window_months: Some(48),
            status: None,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum OutcomeStatusName {
    Reported,
    Verified,
    Rejected,
}

impl From<OutcomeStatus> for OutcomeStatusName {
    fn from(s: OutcomeStatus) -> Self {
        match s {
            OutcomeStatus::Reported => OutcomeStatusName::Reported,
            OutcomeStatus::Verified => OutcomeStatusName::Verified,
            OutcomeStatus::Rejected => OutcomeStatusName::Rejected,
        }
    }
}

impl From<OutcomeStatusName> for OutcomeStatus {
    fn from(s: OutcomeStatusName) -> Self {
        match s {
            OutcomeStatusName::Reported => OutcomeStatus::Reported,
            OutcomeStatusName::Verified => OutcomeStatus::Verified,
            OutcomeStatusName::Rejected => OutcomeStatus::Rejected,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum CreditRoleName {
    Client,
    Signer,
    Deliverer,
}

/// An organisation credited with a client's success.
#[derive(Object, Debug)]
pub struct CreditView {
    pub org_id: i64,
    pub org_name: String,
    pub role: CreditRoleName,
}

impl From<Credit> for CreditView {
    fn from(c: Credit) -> Self {
        CreditView {
            org_id: c.org_id,
            org_name: c.org_name,
            role: match c.role {
                CreditRole::Client => CreditRoleName::Client,
                CreditRole::Signer => CreditRoleName::Signer,
                CreditRole::Deliverer => CreditRoleName::Deliverer,
            },
        }
    }
}

/// An outcome milestone a client reached (or is said to have reached).
#[derive(Object, Debug)]
#[oai(example)]
pub struct OutcomeView {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub kind: String,
    pub kind_name_zh: String,
    pub kind_name_en: String,
    pub achieved_on: NaiveDate,
    pub title: String,
    #[oai(nullable)]
    pub details: Option<String>,
    /// References to the evidence (certificate scans, public announcements).
    pub attachments: Vec<String>,
    pub status: OutcomeStatusName,
    /// The client's first contract: the window opens.
    pub window_start: NaiveDate,
    /// The window closes (default three years later).
    pub window_end: NaiveDate,
    /// Reached inside the window: once verified, it counts as a success.
    pub in_window: bool,
    #[oai(nullable)]
    pub reported_by: Option<i64>,
    #[oai(nullable)]
    pub reporter_org_id: Option<i64>,
    pub reported_at: DateTime<Utc>,
    #[oai(nullable)]
    pub reviewed_by: Option<i64>,
    #[oai(nullable)]
    pub reviewed_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub review_note: Option<String>,
    /// Once verified: the client, the organisations that had signed its contracts by that day,
    /// and those delivering their orders by then.
    pub credits: Vec<CreditView>,
}

impl Example for OutcomeView {
    fn example() -> Self {
        OutcomeView {
            id: 7,
            client_id: 12,
            client_name: "宁波海曙精密机械有限公司".into(),
            kind: "HNTE".into(),
            kind_name_zh: "高新技术企业认定".into(),
            kind_name_en: "High-tech enterprise (HNTE) recognition".into(),
            achieved_on: example_date("2026-10-28"),
            title: "高新技术企业证书 GR202633001234".into(),
            details: Some("浙江省 2026 年第二批".into()),
            attachments: vec!["dms://certificates/GR202633001234.pdf".into()],
            status: OutcomeStatusName::Verified,
            window_start: example_date("2025-03-15"),
            window_end: example_date("2028-03-15"),
            in_window: true,
            reported_by: Some(21),
            reporter_org_id: Some(12),
            reported_at: example_time(),
            reviewed_by: Some(2),
            reviewed_at: Some(example_time()),
            review_note: None,
            credits: vec![
                CreditView {
                    org_id: 3, org_name: "杭州云帆财税服务有限公司".into(), role: CreditRoleName::Signer
                },
                CreditView {
                    org_id: 12, org_name: "宁波海曙精密机械有限公司".into(), role: CreditRoleName::Client
                },
            ],
        }
    }
}

impl From<Outcome> for OutcomeView {
    fn from(o: Outcome) -> Self {
        OutcomeView {
            id: o.id,
            client_id: o.client_id,
            client_name: o.client_name,
            kind: o.kind_code,
            kind_name_zh: o.kind_name_zh,
            kind_name_en: o.kind_name_en,
            achieved_on: o.report.achieved_on,
            title: o.report.title,
            details: o.report.details,
            attachments: o.report.attachments,
            status: o.status.into(),
            window_start: o.window.start,
            window_end: o.window.end,
            in_window: o.in_window,
            reported_by: o.reported_by,
            reporter_org_id: o.reporter_org_id,
            reported_at: o.reported_at,
            reviewed_by: o.reviewed_by,
            reviewed_at: o.reviewed_at,
            review_note: o.review_note,
            credits: o.credits.into_iter().map(Into::into).collect(),
        }
    }
}

platform::page_of!(OutcomePage, OutcomeView);
platform::created_response!(OutcomeCreated, OutcomeView);

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct ReportOutcomeRequest {
    /// A code of the outcome catalog (`GET /outcome-kinds`).
    pub kind: CodeText,
    /// The day it was reached (the date on the certificate); not in the future.
    pub achieved_on: NaiveDate,
    pub title: Line<200>,
    #[oai(nullable)]
    pub details: Option<Para<4000>>,
    /// One to 20 references to the evidence.
    #[oai(validator(min_items = 1, max_items = 20))]
    pub attachments: Vec<Line<500>>,
}

impl Example for ReportOutcomeRequest {
    fn example() -> Self {
        ReportOutcomeRequest {
            kind: "HNTE".into(),
            achieved_on: example_date("2026-10-28"),
            title: "高新技术企业证书 GR202633001234".into(),
            details: Some("浙江省 2026 年第二批".into()),
            attachments: vec!["dms://certificates/GR202633001234.pdf".into()],
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct ReviewOutcomeRequest {
    /// A remark for the reporter, if any.
    #[oai(nullable)]
    pub note: Option<Para<2000>>,
}

impl Example for ReviewOutcomeRequest {
    fn example() -> Self {
        ReviewOutcomeRequest { note: Some("证书编号在认定公示名单中查无此证".into()) }
    }
}

// ---- metrics --------------------------------------------------------------------------------

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum GroupByName {
    Partner,
    Region,
    Industry,
    Period,
}

impl From<GroupByName> for GroupBy {
    fn from(g: GroupByName) -> Self {
        match g {
            GroupByName::Partner => GroupBy::Partner,
            GroupByName::Region => GroupBy::Region,
            GroupByName::Industry => GroupBy::Industry,
            GroupByName::Period => GroupBy::Period,
        }
    }
}

impl From<GroupBy> for GroupByName {
    fn from(g: GroupBy) -> Self {
        match g {
            GroupBy::Partner => GroupByName::Partner,
            GroupBy::Region => GroupByName::Region,
            GroupBy::Industry => GroupByName::Industry,
            GroupBy::Period => GroupByName::Period,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum GranularityName {
    Month,
    Quarter,
    Year,
}

impl From<GranularityName> for Granularity {
    fn from(g: GranularityName) -> Self {
        match g {
            GranularityName::Month => Granularity::Month,
            GranularityName::Quarter => Granularity::Quarter,
            GranularityName::Year => Granularity::Year,
        }
    }
}

impl From<Granularity> for GranularityName {
    fn from(g: Granularity) -> Self {
        match g {
            Granularity::Month => GranularityName::Month,
            Granularity::Quarter => GranularityName::Quarter,
            Granularity::Year => GranularityName::Year,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum CashGroupByName {
    Region,
    Period,
}

/// A rate and what it counts: `rate` = `numerator` ÷ `denominator` to four decimals, absent
/// when the denominator is zero.
#[derive(Object, Debug, Clone)]
pub struct RatioView {
    pub numerator: i64,
    pub denominator: i64,
    #[oai(nullable)]
    pub rate: Option<String>,
}

impl From<Ratio> for RatioView {
    fn from(r: Ratio) -> Self {
        RatioView { numerator: r.numerator, denominator: r.denominator, rate: r.rate().map(|d| format!("{d:.4}")) }
    }
}

/// An average and how many values it is over (two decimals; absent over nothing).
#[derive(Object, Debug, Clone)]
pub struct AverageView {
    pub count: i64,
    #[oai(nullable)]
    pub average: Option<String>,
}

impl From<Average> for AverageView {
    fn from(a: Average) -> Self {
        AverageView { count: a.count, average: a.value().map(|d| format!("{d:.2}")) }
    }
}

/// One group's metrics. See the operation's description for the definitions.
#[derive(Object, Debug, Clone)]
pub struct MetricRowView {
    /// The partner (grouped by partner).
    #[oai(nullable)]
    pub org_id: Option<i64>,
    /// The partner's name, the region, the industry, or the period ("2026-03", "2026-Q1",
    /// "2026").
    pub label: String,
    /// Clients who signed a contract in the period (the cohort).
    pub clients: i64,
    pub success: RatioView,
    pub repeat_sign: RatioView,
    pub deep_sign: RatioView,
    pub maintenance_renewal: RatioView,
    /// Overall stars of the ratings given in the period.
    pub average_rating: AverageView,
    /// Days from signing to the first accepted delivery, over the cohort's contracts that have
    /// one.
    pub days_to_first_acceptance: AverageView,
    pub on_time: RatioView,
}

fn row_view(org_id: Option<i64>, label: String, r: MetricRow) -> MetricRowView {
    MetricRowView {
        org_id,
        label,
        clients: r.clients,
        success: r.success.into(),
        repeat_sign: r.repeat_sign.into(),
        deep_sign: r.deep_sign.into(),
        maintenance_renewal: r.maintenance_renewal.into(),
        average_rating: r.rating.into(),
        days_to_first_acceptance: r.days_to_first_acceptance.into(),
        on_time: r.on_time.into(),
    }
}

#[derive(Object, Debug)]
#[oai(example)]
pub struct MetricsView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: GroupByName,
    pub granularity: GranularityName,
    /// Set when the figures are those of the caller's organisation's business only.
    #[oai(nullable)]
    pub restricted_to_org: Option<i64>,
    pub rows: Vec<MetricRowView>,
    /// The whole period and scope, each client counted once.
    pub total: MetricRowView,
}

impl Example for MetricsView {
    fn example() -> Self {
        let r = MetricRow {
            key: None,
            period: None,
            clients: 41,
            success: Ratio { numerator: 9, denominator: 41 },
            repeat_sign: Ratio { numerator: 12, denominator: 41 },
            deep_sign: Ratio { numerator: 15, denominator: 41 },
            maintenance_renewal: Ratio { numerator: 17, denominator: 20 },
            rating: Average { count: 33, sum: 151 },
            days_to_first_acceptance: Average { count: 30, sum: 1710 },
            on_time: Ratio { numerator: 29, denominator: 34 },
        };
        MetricsView {
            from: example_date("2025-12-01"),
            to: example_date("2026-11-30"),
            group_by: GroupByName::Partner,
            granularity: GranularityName::Month,
            restricted_to_org: None,
            rows: vec![row_view(Some(3), "杭州云帆财税服务有限公司".into(), r.clone())],
            total: row_view(None, "total".into(), r),
        }
    }
}

impl From<MetricsReport> for MetricsView {
    fn from(m: MetricsReport) -> Self {
        MetricsView {
            from: m.query.from,
            to: m.query.to,
            group_by: m.query.group_by.into(),
            granularity: m.query.granularity.into(),
            restricted_to_org: m.restricted_to,
            rows: m.rows.into_iter().map(|r| row_view(r.org_id, r.label, r.row)).collect(),
            total: row_view(None, "total".into(), m.total),
        }
    }
}

/// Money of one region or period, in yuan.
#[derive(Object, Debug)]
pub struct CashRowView {
    /// The region, or the period ("2026-03", "2026-Q1", "2026").
    pub label: String,
    /// Money received from clients (回款).
    pub received: String,
    /// Money refunded to clients.
    pub refunded: String,
    /// `received − refunded`.
    pub net_received: String,
    /// The shares of channel partners and subcontractors posted to the ledger for that money
    /// (allocations less clawbacks, payable or held).
    pub partner_shares: String,
    /// Payout batches approved (by period only: a payout is per party, not per region).
    pub paid_out: String,
}

fn cash_view(label: String, r: &CashRow) -> CashRowView {
    CashRowView {
        label,
        received: Fen::new(r.received_fen).to_yuan(),
        refunded: Fen::new(r.refunded_fen).to_yuan(),
        net_received: Fen::new(r.received_fen.saturating_sub(r.refunded_fen)).to_yuan(),
        partner_shares: Fen::new(r.partner_shares_fen).to_yuan(),
        paid_out: Fen::new(r.paid_out_fen).to_yuan(),
    }
}

#[derive(Object, Debug)]
#[oai(example)]
pub struct CashFlowView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: CashGroupByName,
    pub rows: Vec<CashRowView>,
    pub total: CashRowView,
}

impl Example for CashFlowView {
    fn example() -> Self {
        let r = CashRow {
            region: None,
            month: None,
            received_fen: 12_000_000,
            refunded_fen: 500_000,
            partner_shares_fen: 4_100_000,
            paid_out_fen: 3_000_000,
        };
        CashFlowView {
            from: example_date("2026-01-01"),
            to: example_date("2026-12-31"),
            group_by: CashGroupByName::Period,
            rows: vec![cash_view("2026-Q1".into(), &r)],
            total: cash_view("total".into(), &r),
        }
    }
}

impl From<CashFlow> for CashFlowView {
    fn from(c: CashFlow) -> Self {
        let rows = c
            .rows
            .iter()
            .zip(c.period_labels)
            .map(|(r, p)| {
                let label =
                    if c.by_region { r.region.clone().unwrap_or_else(|| "—".into()) } else { p.unwrap_or_default() };
                cash_view(label, r)
            })
            .collect();
        CashFlowView {
            from: c.from,
            to: c.to,
            group_by: if c.by_region { CashGroupByName::Region } else { CashGroupByName::Period },
            rows,
            total: cash_view("total".into(), &c.total),
        }
    }
}

pub struct SuccessApi {
    pub success: Arc<Success>,
    pub clock: Arc<dyn kernel::Clock>,
}

impl SuccessApi {
    fn period(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> (NaiveDate, NaiveDate) {
        let (f, t) = app::trailing_twelve_months(self.clock.now().date_naive());
        (from.unwrap_or(f), to.unwrap_or(t))
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl SuccessApi {
    /// List the outcome catalog
    ///
    /// The outcome milestones a client may reach: 高新技术企业, 专精特新, 科技小巨人, unicorn,
    /// listing, revenue growth targets … Each has the window (months from the client's first
    /// contract) within which reaching it counts as a success.
    #[oai(path = "/outcome-kinds", method = "get", operation_id = "listOutcomeKinds", tag = "ApiTags::Outcomes")]
    async fn kinds(&self, auth: Caller, include_retired: Query<Option<bool>>) -> ApiResult<Json<OutcomeKindList>> {
        let items = self.success.kinds(&auth.0, include_retired.0.unwrap_or(false)).await?;
        Ok(Json(OutcomeKindList { items: items.into_iter().map(Into::into).collect() }))
    }

    /// Add an outcome milestone to the catalog
    ///
    /// Platform admin.
    #[oai(path = "/outcome-kinds", method = "post", operation_id = "createOutcomeKind", tag = "ApiTags::Outcomes")]
    async fn create_kind(&self, auth: Caller, body: Json<CreateOutcomeKindRequest>) -> ApiResult<OutcomeKindCreated> {
        let b = body.0;
        let def = OutcomeKindDef {
            code: b.code.code("code")?,
            name_zh: b.name_zh.checked("name_zh")?,
            name_en: b.name_en.checked("name_en")?,
            description: b.description.map(|d| d.checked("description")).transpose()?,
            window_months: b.window_months.unwrap_or(crate::domain::DEFAULT_WINDOW_MONTHS),
            status: KindStatus::Active,
        };
        let view = OutcomeKindView::from(self.success.create_kind(&auth.0, def).await?);
        let location = format!("/api/v1/outcome-kinds/{}", view.code);
        Ok(OutcomeKindCreated::at(view, location))
    }

    /// Read an outcome milestone of the catalog
    #[oai(path = "/outcome-kinds/:code", method = "get", operation_id = "getOutcomeKind", tag = "ApiTags::Outcomes")]
    async fn kind(&self, auth: Caller, code: Path<CodeText>) -> ApiResult<Json<OutcomeKindView>> {
        let code = code.0.code("code")?;
        Ok(Json(self.success.kind(&auth.0, &code).await?.into()))
    }

    /// Update an outcome milestone of the catalog
    ///
    /// Platform admin. A new window applies to milestones reported from now on; retiring one
    /// stops new reports and keeps those made.
    #[oai(
        path = "/outcome-kinds/:code",
        method = "patch",
        operation_id = "updateOutcomeKind",
        tag = "ApiTags::Outcomes"
    )]
    async fn update_kind(
        &self,
        auth: Caller,
        code: Path<CodeText>,
        body: Json<UpdateOutcomeKindRequest>,
    ) -> ApiResult<Json<OutcomeKindView>> {
        let b = body.0;
        let patch = KindPatch {
            name_zh: b.name_zh.map(|n| n.checked("name_zh")).transpose()?,
            name_en: b.name_en.map(|n| n.checked("name_en")).transpose()?,
            description: match b.description {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(v) => Some(Some(v.checked("description")?)),
            },
            window_months: b.window_months,
            status: b.status.map(Into::into),
        };
        Ok(Json(self.success.update_kind(&auth.0, &code.0.code("code")?, patch).await?.into()))
    }

    /// Report an outcome milestone of a client
    ///
    /// The client itself or an organisation that signed one of its contracts (vendor ops too),
    /// with references to the evidence. The window runs from the client's first contract; a
    /// client without a contract is 422 `no_contract`. One live report per client and milestone:
    /// a second is 409 `already_reported` (a rejected one may be reported again).
    #[oai(path = "/clients/:id/outcomes", method = "post", operation_id = "reportOutcome", tag = "ApiTags::Outcomes")]
    async fn report(
        &self,
        auth: Caller,
        id: Path<i64>,
        /// Optional: a unique key per report. A retry with the same key and body returns the
        /// milestone the first request reported (200).
        #[oai(name = "Idempotency-Key", validator(pattern = r"^[!-~]{1,128}$"))]
        key: Header<Option<String>>,
        body: Json<ReportOutcomeRequest>,
    ) -> ApiResult<OutcomeCreated> {
        let key = IdempotencyKey::optional(key.0.as_deref())?;
        let b = body.0;
        let report = OutcomeReport {
            achieved_on: b.achieved_on,
            title: b.title.checked("title")?,
            details: b.details.map(|d| d.checked("details")).transpose()?,
            attachments: b.attachments.iter().map(|a| a.checked("attachments")).collect::<Result<_, _>>()?,
        };
        let kind = b.kind.code("kind")?;
        let created = self.success.report(&auth.0, id.0, &kind, report, key.as_ref()).await?;
        let view = OutcomeView::from(created.value);
        let location = format!("/api/v1/outcomes/{}", view.id);
        Ok(OutcomeCreated::of(view, location, created.replayed))
    }

    /// List outcome milestones
    ///
    /// Newest first. Vendor ops' review queue is `?status=reported`. Clients see their own;
    /// signers and deliverers those of their clients; vendor roles all.
    #[oai(path = "/outcomes", method = "get", operation_id = "listOutcomes", tag = "ApiTags::Outcomes")]
    async fn list(
        &self,
        auth: Caller,
        client_id: Query<Option<i64>>,
        status: Query<Option<OutcomeStatusName>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<OutcomePage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = OutcomeFilter {
            client_id: client_id.0,
            status: status.0.map(|s| OutcomeStatus::from(s).as_str().to_owned()),
            kind_id: None,
        };
        let rows = self.success.list_outcomes(&auth.0, &filter, &page).await?;
        Ok(Json(OutcomePage::from_page(rows, OutcomeView::from)))
    }

    /// Read an outcome milestone
    #[oai(path = "/outcomes/:id", method = "get", operation_id = "getOutcome", tag = "ApiTags::Outcomes")]
    async fn get(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<OutcomeView>> {
        Ok(Json(self.success.outcome(&auth.0, id.0).await?.into()))
    }

    /// Verify an outcome milestone
    ///
    /// Vendor ops, after checking the evidence. It counts as a success when it was reached
    /// inside its window, credited to the client, the organisations that had signed its
    /// contracts by that day and those delivering their orders by then; they are told by e-mail.
    #[oai(path = "/outcomes/:id/verify", method = "post", operation_id = "verifyOutcome", tag = "ApiTags::Outcomes")]
    async fn verify(
        &self,
        auth: Caller,
        id: Path<i64>,
        body: Json<ReviewOutcomeRequest>,
    ) -> ApiResult<Json<OutcomeView>> {
        Ok(Json(
            self.success
                .review(&auth.0, id.0, OutcomeStatus::Verified, body.0.note.map(|n| n.checked("note")).transpose()?)
                .await?
                .into(),
        ))
    }

    /// Reject an outcome milestone
    ///
    /// Vendor ops, with a note saying why. The client and the reporter are told; it may be
    /// reported again with the evidence put right.
    #[oai(path = "/outcomes/:id/reject", method = "post", operation_id = "rejectOutcome", tag = "ApiTags::Outcomes")]
    async fn reject(&self, auth: Caller, id: Path<i64>, body: Json<RejectRequest>) -> ApiResult<Json<OutcomeView>> {
        let note = Some(body.0.note.checked("note")?);
        Ok(Json(self.success.review(&auth.0, id.0, OutcomeStatus::Rejected, note).await?.into()))
    }

    /// Customer-success metrics
    ///
    /// Grouped by `partner`, `region`, `industry` or `period` (by `granularity`: month,
    /// quarter, year) over `from`–`to` (both days included; default the twelve months up to
    /// today; at most 60 months). Vendor roles see the whole park; a partner or a client the
    /// business it took part in (grouped by partner, a partner sees its own row).
    ///
    /// **Definitions.** The *cohort* is the clients who signed a contract in the period (each
    /// counted once per group).
    /// - `success` — cohort clients with a verified outcome milestone reached inside its window
    ///   (default three years from the first contract) ÷ cohort clients. Grouped by partner, the
    ///   success must be credited to that partner (it signed or delivered for the client by the
    ///   day the milestone was reached).
    /// - `repeat_sign` (重复签单率) — cohort clients with two or more contracts signed up to the
    ///   end of the period ÷ cohort clients.
    /// - `deep_sign` (深度签单率) — cohort clients who bought two or more service categories up
    ///   to the end of the period ÷ cohort clients.
    /// - `maintenance_renewal` — maintenance years falling due in the period (year k ≥ 2 of a
    ///   contract starts on the (k−1)th anniversary of signing) for which a maintenance payment
    ///   of that year was received (net of refunds, above zero) ÷ maintenance years due. Grouped
    ///   by the contract's signer.
    /// - `average_rating` — the mean overall stars of the ratings given in the period, grouped
    ///   by the rated deliverer.
    /// - `days_to_first_acceptance` — the mean days from signing to the first accepted delivery
    ///   (its acceptance milestone) of the cohort's contracts that have one.
    /// - `on_time` — orders delivered in the period on or before their due date ÷ orders
    ///   delivered in the period, grouped by deliverer.
    ///
    /// Regions and industries are those of the orders (the client's).
    #[oai(path = "/success-metrics", method = "get", operation_id = "getSuccessMetrics", tag = "ApiTags::Metrics")]
    async fn metrics(
        &self,
        auth: Caller,
        group_by: Query<Option<GroupByName>>,
        granularity: Query<Option<GranularityName>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
    ) -> ApiResult<Json<MetricsView>> {
        let (from, to) = self.period(from.0, to.0);
        let q = MetricsQuery {
            from,
            to,
            group_by: group_by.0.unwrap_or(GroupByName::Partner).into(),
            granularity: granularity.0.unwrap_or(GranularityName::Month).into(),
        };
        Ok(Json(self.success.metrics(&auth.0, q).await?.into()))
    }

    /// Cash flow
    ///
    /// Vendor roles. Money received from clients and refunded to them (by the region of the
    /// order paid for and the day received), the channel partners' and subcontractors' shares
    /// posted for it, and payouts approved (by period only) — grouped by `region` or `period`
    /// (by `granularity`) over `from`–`to` (default the twelve months up to today).
    #[oai(path = "/cash-flow", method = "get", operation_id = "getCashFlow", tag = "ApiTags::Metrics")]
    async fn cash_flow(
        &self,
        auth: Caller,
        group_by: Query<Option<CashGroupByName>>,
        granularity: Query<Option<GranularityName>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
    ) -> ApiResult<Json<CashFlowView>> {
        let (from, to) = self.period(from.0, to.0);
        let by_region = group_by.0 == Some(CashGroupByName::Region);
        let g = granularity.0.unwrap_or(GranularityName::Month).into();
        Ok(Json(self.success.cash_flow(&auth.0, from, to, by_region, g).await?.into()))
    }
}
