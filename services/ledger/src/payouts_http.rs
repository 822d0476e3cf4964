//! The payouts API: payout runs and their approval, statements (JSON and CSV), and the
//! vendor's report on equity partners.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kernel::{Error, Fen};
use platform::api_types::CursorText;
use platform::api_types::{Amount, DecimalText, MonthText, RateText, StakeText};
use platform::http::{ApiResult, Caller, page_request};
use platform::idempotency::IdempotencyKey;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};

use crate::Ledger;
use crate::payouts::{EquityShare, PayoutBatch};
use crate::statement::{self, AccountSummary, PayoutLine, Period, Statement, StatementLine, StatementSummary};
use crate::store::payout;

#[derive(Tags)]
enum ApiTags {
    /// Payout runs per period, their approval, every party's statements and the vendor's
    /// reports.
    Payouts,
}

fn example_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T02:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

fn money(f: Fen) -> DecimalText {
    DecimalText(f.to_yuan())
}

fn period_param(text: &str) -> Result<Period, Error> {
    text.parse()
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum PayoutStatusName {
    PendingApproval,
    Approved,
}

/// A payout run to make.
#[derive(Object, Debug, Clone)]
#[oai(example, deny_unknown_fields)]
pub struct RunPayoutRequest {
    /// The month, in park time (UTC+8): "2026-10".
    pub period: MonthText,
    /// The smallest balance to pay (yuan); the configured minimum when absent.
    #[oai(nullable)]
    pub minimum: Option<Amount>,
}

impl Example for RunPayoutRequest {
    fn example() -> Self {
        RunPayoutRequest { period: "2026-10".into(), minimum: None }
    }
}

/// One payee of a batch.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct PayeeView {
    pub party_id: i64,
    pub party_name: String,
    /// 统一社会信用代码, for the bank transfer.
    #[oai(nullable)]
    pub credit_code: Option<String>,
    pub amount: DecimalText,
}

impl Example for PayeeView {
    fn example() -> Self {
        PayeeView {
            party_id: 4,
            party_name: "杭州云帆财税服务有限公司".into(),
            credit_code: Some("91330106MA2KXXXX1A".into()),
            amount: DecimalText("26400.00".into()),
        }
    }
}

/// A payout batch.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct PayoutView {
    pub id: i64,
    pub period: String,
    pub status: PayoutStatusName,
    /// Balances are taken as of this instant: the end of the period, or the time of the run
    /// while the period was still open.
    pub cutoff: DateTime<Utc>,
    pub minimum: DecimalText,
    pub total: DecimalText,
    /// The number of payees.
    pub items: i32,
    /// True when the total is above the two-person limit: two different people approve.
    pub dual_approval: bool,
    pub created_at: DateTime<Utc>,
    #[oai(nullable)]
    pub first_approved_by: Option<i64>,
    #[oai(nullable)]
    pub first_approved_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub approved_by: Option<i64>,
    #[oai(nullable)]
    pub approved_at: Option<DateTime<Utc>>,
}

impl Example for PayoutView {
    fn example() -> Self {
        PayoutView {
            id: 3,
            period: "2026-10".into(),
            status: PayoutStatusName::PendingApproval,
            cutoff: DateTime::parse_from_rfc3339("2026-10-31T16:00:00Z")
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            minimum: DecimalText("100.00".into()),
            total: DecimalText("64400.00".into()),
            items: 2,
            dual_approval: true,
            created_at: example_time(),
            first_approved_by: Some(3),
            first_approved_at: Some(example_time()),
            approved_by: None,
            approved_at: None,
        }
    }
}

fn payout_view(p: payout::Model) -> PayoutView {
    PayoutView {
        id: p.id,
        status: if p.status == "approved" { PayoutStatusName::Approved } else { PayoutStatusName::PendingApproval },
        period: p.period,
        cutoff: p.cutoff,
        minimum: money(Fen::new(p.minimum_fen)),
        total: money(Fen::new(p.total_fen)),
        items: p.items,
        dual_approval: p.dual_approval,
        created_at: p.created_at,
        first_approved_by: p.first_approved_by,
        first_approved_at: p.first_approved_at,
        approved_by: p.approved_by,
        approved_at: p.approved_at,
    }
}

/// A payout batch with its payees.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct PayoutDetail {
    #[oai(flatten)]
    pub payout: PayoutView,
    pub payees: Vec<PayeeView>,
}

impl Example for PayoutDetail {
    fn example() -> Self {
        PayoutDetail { payout: PayoutView::example(), payees: vec![PayeeView::example()] }
    }
}

fn payee_view(l: PayoutLine) -> PayeeView {
    PayeeView { party_id: l.party_id, party_name: l.party_name, credit_code: l.credit_code, amount: money(l.amount) }
}

fn detail(b: PayoutBatch) -> PayoutDetail {
    PayoutDetail { payout: payout_view(b.payout), payees: b.lines.into_iter().map(payee_view).collect() }
}

platform::page_of!(PayoutPage, PayoutView);

/// One account of a statement: opening balance, the period's movements by kind, closing
/// balance. closing = opening + allocations + clawbacks + adjustments + releases + payouts.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct AccountSummaryView {
    pub opening: DecimalText,
    pub allocations: DecimalText,
    /// Negative: shares taken back after refunds.
    pub clawbacks: DecimalText,
    pub adjustments: DecimalText,
    /// Held money released on acceptance: positive on `payable`, negative on `held`.
    pub releases: DecimalText,
    /// Negative: money paid out.
    pub payouts: DecimalText,
    pub closing: DecimalText,
}

impl Example for AccountSummaryView {
    fn example() -> Self {
        summary_view(AccountSummary {
            opening: Fen::new(1_200_000),
            allocations: Fen::new(2_640_000),
            clawbacks: Fen::new(-240_000),
            adjustments: Fen::ZERO,
            releases: Fen::ZERO,
            payouts: Fen::new(-1_200_000),
            closing: Fen::new(2_400_000),
        })
    }
}

fn summary_view(s: AccountSummary) -> AccountSummaryView {
    AccountSummaryView {
        opening: money(s.opening),
        allocations: money(s.allocations),
        clawbacks: money(s.clawbacks),
        adjustments: money(s.adjustments),
        releases: money(s.releases),
        payouts: money(s.payouts),
        closing: money(s.closing),
    }
}

/// A party's statement figures for a period.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct StatementSummaryView {
    pub party_id: i64,
    pub party_name: String,
    pub party_kind: String,
    pub period: String,
    /// False while the period is open: later entries still join it.
    pub closed: bool,
    /// What the park owes the party, to be paid out.
    pub payable: AccountSummaryView,
    /// Execution shares held back until acceptance.
    pub held: AccountSummaryView,
}

impl Example for StatementSummaryView {
    fn example() -> Self {
        StatementSummaryView {
            party_id: 4,
            party_name: "杭州云帆财税服务有限公司".into(),
            party_kind: "equity_partner".into(),
            period: "2026-10".into(),
            closed: true,
            payable: AccountSummaryView::example(),
            held: summary_view(AccountSummary::default()),
        }
    }
}

fn statement_summary_view(s: StatementSummary) -> StatementSummaryView {
    StatementSummaryView {
        party_id: s.party_id,
        party_name: s.party_name,
        party_kind: s.party_kind,
        period: s.period.to_string(),
        closed: s.closed,
        payable: summary_view(s.payable),
        held: summary_view(s.held),
    }
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct StatementList {
    pub items: Vec<StatementSummaryView>,
}

impl Example for StatementList {
    fn example() -> Self {
        StatementList { items: vec![StatementSummaryView::example()] }
    }
}

/// One entry of a statement: which contract, line, payment, rule and rate it comes from.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct StatementLineView {
    pub entry_id: i64,
    pub at: DateTime<Utc>,
    /// `payable` or `held`.
    pub account: String,
    /// `allocation`, `clawback`, `adjustment`, `release` or `payout`.
    pub kind: String,
    /// Positive when it adds to what the park owes the party.
    pub amount: DecimalText,
    #[oai(nullable)]
    pub contract_no: Option<String>,
    #[oai(nullable)]
    pub line_no: Option<i32>,
    #[oai(nullable)]
    pub stream: Option<String>,
    #[oai(nullable)]
    pub payment_id: Option<i64>,
    #[oai(nullable)]
    pub payout_id: Option<i64>,
    /// The agreement rule (1-based) that produced it.
    #[oai(nullable)]
    pub rule: Option<i32>,
    #[oai(nullable)]
    pub rate: Option<RateText>,
    #[oai(nullable)]
    pub fee: Option<DecimalText>,
}

impl Example for StatementLineView {
    fn example() -> Self {
        StatementLineView {
            entry_id: 81,
            at: example_time(),
            account: "payable".into(),
            kind: "allocation".into(),
            amount: DecimalText("24000.00".into()),
            contract_no: Some("HT2026000012".into()),
            line_no: Some(1),
            stream: Some("first_year".into()),
            payment_id: Some(7),
            payout_id: None,
            rule: Some(2),
            rate: Some(RateText("0.40".into())),
            fee: None,
        }
    }
}

fn line_view(l: StatementLine) -> StatementLineView {
    StatementLineView {
        entry_id: l.entry_id,
        at: l.at,
        account: l.account.as_str().into(),
        kind: l.kind.as_str().into(),
        amount: money(l.amount),
        contract_no: l.contract_no,
        line_no: l.line_no,
        stream: l.stream,
        payment_id: l.payment_id,
        payout_id: l.payout_id,
        rule: l.rule.map(|r| r + 1),
        rate: l.rate_bp.and_then(|bp| kernel::Rate::from_bp(bp).ok()).map(|r| RateText(r.to_wire())),
        fee: l.fee_fen.map(|f| money(Fen::new(f))),
    }
}

/// A party's statement for a period.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct StatementView {
    #[oai(flatten)]
    pub summary: StatementSummaryView,
    pub lines: Vec<StatementLineView>,
}

impl Example for StatementView {
    fn example() -> Self {
        StatementView { summary: StatementSummaryView::example(), lines: vec![StatementLineView::example()] }
    }
}

fn statement_view(s: Statement) -> StatementView {
    StatementView { summary: statement_summary_view(s.summary), lines: s.lines.into_iter().map(line_view).collect() }
}

/// The vendor's attributable share of one equity partner's net earnings.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct EquityShareView {
    pub party_id: i64,
    pub party_name: String,
    /// The vendor's equity stake in the partner.
    pub stake: StakeText,
    pub allocations: DecimalText,
    pub clawbacks: DecimalText,
    pub adjustments: DecimalText,
    /// allocations + clawbacks + adjustments (releases and payouts are not earnings).
    pub net_earnings: DecimalText,
    /// net_earnings × stake, rounded half away from zero to the fen.
    pub attributable: DecimalText,
}

impl Example for EquityShareView {
    fn example() -> Self {
        EquityShareView {
            party_id: 4,
            party_name: "杭州云帆财税服务有限公司".into(),
            stake: StakeText("0.35".into()),
            allocations: DecimalText("32400.00".into()),
            clawbacks: DecimalText("-2400.00".into()),
            adjustments: DecimalText("0.00".into()),
            net_earnings: DecimalText("30000.00".into()),
            attributable: DecimalText("10500.00".into()),
        }
    }
}

fn equity_view(e: EquityShare) -> EquityShareView {
    EquityShareView {
        party_id: e.party_id,
        party_name: e.party_name,
        stake: StakeText(e.stake.to_wire()),
        allocations: money(e.allocations),
        clawbacks: money(e.clawbacks),
        adjustments: money(e.adjustments),
        net_earnings: money(e.net_earnings),
        attributable: money(e.attributable),
    }
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct EquityReport {
    pub period: String,
    pub items: Vec<EquityShareView>,
    /// The sum of `attributable` over the partners.
    pub total_attributable: DecimalText,
}

impl Example for EquityReport {
    fn example() -> Self {
        EquityReport {
            period: "2026-10".into(),
            items: vec![EquityShareView::example()],
            total_attributable: DecimalText("10500.00".into()),
        }
    }
}

/// A CSV download (UTF-8 with a byte-order mark, so that Excel shows Chinese text correctly).
#[derive(ApiResponse, Debug)]
pub enum CsvFile {
    /// The file, with a `Content-Disposition: attachment` file name.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Binary<Vec<u8>>, #[oai(header = "Content-Disposition")] String),
}

fn csv_file(bytes: Vec<u8>, name: &str) -> CsvFile {
    CsvFile::Ok(Binary(bytes), format!("attachment; filename=\"{name}\""))
}

pub struct PayoutApi {
    pub ledger: Arc<Ledger>,
}

#[OpenApi(prefix_path = "/api/v1")]
impl PayoutApi {
    /// Run the payout of a period
    ///
    /// Every party's `payable` balance as of the cut-off (the end of the period, or now while
    /// it is open), positive and at or above the minimum, goes into one batch that waits for
    /// approval; smaller and negative balances carry into the next period. One batch per
    /// period, in period order (409 `payout_exists`), and none while another waits for
    /// approval (409 `payout_pending`). A period that has not begun is 422
    /// `period_not_started`. Vendor finance only.
    #[oai(path = "/payouts", method = "post", operation_id = "runPayout", tag = "ApiTags::Payouts")]
    async fn run(
        &self,
        auth: Caller,
        /// Optional: a unique key per run. A retry with the same key and body returns the batch
        /// the first request made (200).
        #[oai(name = "Idempotency-Key", validator(pattern = r"^[!-~]{1,128}$"))]
        key: Header<Option<String>>,
        body: Json<RunPayoutRequest>,
    ) -> ApiResult<RunPayoutResponse> {
        let key = IdempotencyKey::optional(key.0.as_deref())?;
        let period = period_param(body.0.period.checked("period")?)?;
        let minimum = body
            .0
            .minimum
            .as_ref()
            .map(|m| Fen::parse_yuan(m.as_str()).map_err(|e| Error::invalid("minimum", e.to_string())))
            .transpose()?;
        let batch = self.ledger.run_payout(Some(&auth.0), period, minimum, key.as_ref()).await?;
        let view = detail(batch.value);
        let location = format!("/api/v1/payouts/{}", view.payout.id);
        Ok(RunPayoutResponse::of(view, location, batch.replayed))
    }

    /// List payout batches
    ///
    /// Newest first. Vendor finance only.
    #[oai(path = "/payouts", method = "get", operation_id = "listPayouts", tag = "ApiTags::Payouts")]
    async fn list(
        &self,
        auth: Caller,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<PayoutPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        Ok(Json(PayoutPage::from_page(self.ledger.payouts(Some(&auth.0), &page).await?, payout_view)))
    }

    /// Read a payout batch
    ///
    /// With its payees. Vendor finance only.
    #[oai(path = "/payouts/:id", method = "get", operation_id = "getPayout", tag = "ApiTags::Payouts")]
    async fn get(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<PayoutDetail>> {
        Ok(Json(detail(self.ledger.payout(Some(&auth.0), id.0).await?)))
    }

    /// Approve a payout batch
    ///
    /// Posts the payouts (each payee's `payable` debited, `cash` credited) and tells every
    /// payee, and every party with a statement for the period that it is ready. A batch above
    /// the two-person limit needs two approvals by different people: the first only records
    /// itself (`first_approved_by`); the same person again is 409 `second_approver_required`.
    /// An approved batch is 409 `illegal_transition`. Vendor finance only.
    #[oai(path = "/payouts/:id/approve", method = "post", operation_id = "approvePayout", tag = "ApiTags::Payouts")]
    async fn approve(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<PayoutDetail>> {
        Ok(Json(detail(self.ledger.approve_payout(&auth.0, id.0).await?)))
    }

    /// Download a payout batch as CSV
    ///
    /// One row per payee (name, credit code, amount) for the bank transfer; UTF-8 with BOM.
    #[oai(path = "/payouts/:id/csv", method = "get", operation_id = "downloadPayout", tag = "ApiTags::Payouts")]
    async fn csv(&self, auth: Caller, id: Path<i64>) -> ApiResult<CsvFile> {
        let b = self.ledger.payout(Some(&auth.0), id.0).await?;
        let period = period_param(&b.payout.period)?;
        let bytes = statement::payout_csv(b.payout.id, period, &b.lines)?;
        Ok(csv_file(bytes, &format!("payout-{}-{}.csv", b.payout.period, b.payout.id)))
    }

    /// List the statements of a period
    ///
    /// One per party with a balance or a movement in the period: opening balance, movements
    /// by kind, closing balance, for `payable` and `held`. Vendor finance reads every party's;
    /// vendor ops those of the direct teams and equity partners; a partner its own.
    #[oai(path = "/statements", method = "get", operation_id = "listStatements", tag = "ApiTags::Payouts")]
    async fn statements(&self, auth: Caller, period: Query<MonthText>) -> ApiResult<Json<StatementList>> {
        let period = period_param(period.0.checked("period")?)?;
        let items = self.ledger.statements(Some(&auth.0), period).await?;
        Ok(Json(StatementList { items: items.into_iter().map(statement_summary_view).collect() }))
    }

    /// Read a statement
    ///
    /// A party's statement for a period: opening balances, every entry (allocations by
    /// contract and payment, clawbacks, releases, adjustments, payouts) and closing balances.
    /// Another party's statement is 404.
    #[oai(
        path = "/statements/:party_id/:period",
        method = "get",
        operation_id = "getStatement",
        tag = "ApiTags::Payouts"
    )]
    async fn statement(
        &self,
        auth: Caller,
        party_id: Path<i64>,
        period: Path<MonthText>,
    ) -> ApiResult<Json<StatementView>> {
        let period = period_param(period.0.checked("period")?)?;
        Ok(Json(statement_view(self.ledger.statement(Some(&auth.0), party_id.0, period).await?)))
    }

    /// Download a statement as CSV
    ///
    /// The statement as one table: an opening row, one row per entry with the running
    /// balances, a closing row. UTF-8 with BOM, so that Excel opens the Chinese text correctly.
    #[oai(
        path = "/statements/:party_id/:period/csv",
        method = "get",
        operation_id = "downloadStatement",
        tag = "ApiTags::Payouts"
    )]
    async fn statement_csv(&self, auth: Caller, party_id: Path<i64>, period: Path<MonthText>) -> ApiResult<CsvFile> {
        let period = period_param(period.0.checked("period")?)?;
        let s = self.ledger.statement(Some(&auth.0), party_id.0, period).await?;
        let bytes = statement::statement_csv(&s)?;
        Ok(csv_file(bytes, &format!("statement-{}-{}.csv", s.summary.party_id, s.summary.period)))
    }

    /// The vendor's share of equity partners' earnings
    ///
    /// For each equity partner: its net earnings in the period (allocations, clawbacks and
    /// adjustments; releases only move held money to payable, payouts are not earnings) and
    /// the vendor's attributable share of them at its equity stake. The stake does not touch
    /// the ledger. Vendor finance and vendor ops.
    #[oai(
        path = "/reports/equity-earnings",
        method = "get",
        operation_id = "equityEarningsReport",
        tag = "ApiTags::Payouts"
    )]
    async fn equity(&self, auth: Caller, period: Query<MonthText>) -> ApiResult<Json<EquityReport>> {
        let period = period_param(period.0.checked("period")?)?;
        let items = self.ledger.equity_report(Some(&auth.0), period).await?;
        let total = Fen::checked_sum(items.iter().map(|e| e.attributable)).map_err(Error::unexpected)?;
        Ok(Json(EquityReport {
            period: period.to_string(),
            items: items.into_iter().map(equity_view).collect(),
            total_attributable: money(total),
        }))
    }
}

platform::created_response!(RunPayoutResponse, PayoutDetail);
