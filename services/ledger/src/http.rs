//! The money API: payments (idempotent), settlements, ledger entries and balances.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use kernel::{Action, Resource};
use kernel::{Fen, Rate, Stream};
use platform::api_types::CursorText;
use platform::api_types::{DecimalText, MonthText, Para, RateText, SignedAmount};
use platform::http::{ApiResult, Caller, OperationPermit, page_request};
use poem_openapi::param::{Header, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::app::{
    Balance, ContractMoney, EntryFilter, EntryLabels, Ledger, NewPayment, RecordedPayment, SettleSummary,
};
use crate::store::{entry, payment};

/// What each operation of this API asks of the policy first (`platform::http::Gate`): a role
/// the policy does not allow the action at all gets its 403 before the request is validated.
pub const PERMITS: &[OperationPermit] = &[
    ("recordPayment", Resource::Payment, Action::Create),
    ("listPayments", Resource::Payment, Action::Read),
    ("getPayment", Resource::Payment, Action::Read),
    ("runSettlement", Resource::Settlement, Action::Run),
    ("listLedgerEntries", Resource::Ledger, Action::Read),
    ("getContractMoney", Resource::Ledger, Action::Read),
    ("listBalances", Resource::Ledger, Action::Read),
    ("runPayout", Resource::Payout, Action::Run),
    ("listPayouts", Resource::Payout, Action::Read),
    ("getPayout", Resource::Payout, Action::Read),
    ("approvePayout", Resource::Payout, Action::Approve),
    ("downloadPayout", Resource::Payout, Action::Read),
    ("listStatements", Resource::Statement, Action::Read),
    ("getStatement", Resource::Statement, Action::Read),
    ("downloadStatement", Resource::Statement, Action::Read),
    ("equityEarningsReport", Resource::Report, Action::Read),
];

#[derive(Tags)]
enum ApiTags {
    /// Money received from clients (回款) and refunded to them, settled automatically into
    /// every party's share.
    Money,
}

fn example_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

fn example_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default()
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "Stream")]
pub enum StreamName {
    FirstYear,
    Maintenance,
}

/// A payment to record. Refunds are negative amounts, at most what was paid on the line and
/// stream.
#[derive(Object, Debug, Clone)]
#[oai(example, deny_unknown_fields)]
pub struct RecordPaymentRequest {
    pub contract_id: i64,
    /// The contract line (1, 2, …) the money is for.
    pub line_no: i32,
    pub stream: StreamName,
    /// The contract year: 1 for `first_year` (the default), 2 or later for `maintenance`.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "10")))]
    pub year: Option<i32>,
    /// "20000.00"; negative for a refund.
    pub amount: SignedAmount,
    pub received_on: NaiveDate,
    #[oai(nullable)]
    pub note: Option<Para<500>>,
}

impl Example for RecordPaymentRequest {
    fn example() -> Self {
        RecordPaymentRequest {
            contract_id: 12,
            line_no: 2,
            stream: StreamName::FirstYear,
            year: None,
            amount: "20000.00".into(),
            received_on: example_date(),
            note: Some("招商银行转账 / bank transfer".into()),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct PaymentView {
    pub id: i64,
    pub contract_id: i64,
    pub line_no: i32,
    pub stream: StreamName,
    pub year: i32,
    pub amount: DecimalText,
    pub received_on: NaiveDate,
    #[oai(nullable)]
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    /// When settlement posted its shares (absent until then).
    #[oai(nullable)]
    pub settled_at: Option<DateTime<Utc>>,
    /// What the payment caused in the ledger: every entry it posted, each party's share with
    /// its rule, rate and account (`payable`, or `held` until acceptance), the vendor's rest and
    /// the cash. Given when one payment is recorded or read; absent in lists.
    #[oai(nullable)]
    pub split: Option<Vec<EntryView>>,
}

impl Example for PaymentView {
    fn example() -> Self {
        PaymentView {
            id: 7,
            contract_id: 12,
            line_no: 2,
            stream: StreamName::FirstYear,
            year: 1,
            amount: DecimalText("20000.00".into()),
            received_on: example_date(),
            note: None,
            recorded_at: example_time(),
            settled_at: Some(example_time()),
            split: Some(vec![EntryView::example()]),
        }
    }
}

fn payment_view(p: payment::Model, line_no: i32, settled_at: Option<DateTime<Utc>>) -> PaymentView {
    PaymentView {
        id: p.id,
        contract_id: p.contract_id,
        line_no,
        stream: if p.stream == "maintenance" { StreamName::Maintenance } else { StreamName::FirstYear },
        year: p.year,
        amount: DecimalText(Fen::new(p.amount_fen).to_yuan()),
        received_on: p.received_on,
        note: p.note,
        recorded_at: p.created_at,
        settled_at,
        split: None,
    }
}

platform::page_of!(PaymentPage, PaymentView);

platform::created_response!(PaymentResponse, PaymentView);

/// What a settlement run posted.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct SettlementView {
    pub contracts: u64,
    pub payments: u64,
    pub transactions: u64,
    pub entries: u64,
}

impl Example for SettlementView {
    fn example() -> Self {
        SettlementView { contracts: 3, payments: 5, transactions: 6, entries: 22 }
    }
}

impl From<SettleSummary> for SettlementView {
    fn from(s: SettleSummary) -> Self {
        SettlementView {
            contracts: s.contracts,
            payments: s.payments,
            transactions: s.transactions,
            entries: s.entries,
        }
    }
}

/// One immutable ledger entry. `debit`/`credit`: one of them is "0.00". Party accounts
/// (`payable`, `held`, `vendor_revenue`) grow by credits; `cash` by debits.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct EntryView {
    pub id: i64,
    /// Entries of one transaction balance (debits = credits).
    pub txn_id: i64,
    #[oai(nullable)]
    pub contract_id: Option<i64>,
    #[oai(nullable)]
    pub line_id: Option<i64>,
    #[oai(nullable)]
    pub stream: Option<String>,
    /// The payment whose share this is (absent for a release or re-split on acceptance or
    /// cancellation).
    #[oai(nullable)]
    pub payment_id: Option<i64>,
    pub party_id: i64,
    /// The party's name.
    pub party_name: String,
    /// The contract's number, as statements print it.
    #[oai(nullable)]
    pub contract_no: Option<String>,
    /// The line's number within its contract (from 1), as statements print it.
    #[oai(nullable)]
    pub line_no: Option<i32>,
    /// `payable`, `held`, `vendor_revenue` or `cash`.
    pub account: String,
    pub debit: DecimalText,
    pub credit: DecimalText,
    /// `receipt`, `allocation`, `clawback`, `release` or `adjustment`.
    pub kind: String,
    /// The agreement rule behind the share, numbered from 1 as in the contract's agreement and
    /// in statements; absent for the vendor's rest and for cash.
    #[oai(nullable)]
    pub rule: Option<i32>,
    /// The rate of that rule ("0.40"), or
    #[oai(nullable)]
    pub rate: Option<RateText>,
    /// the fixed fee it covers.
    #[oai(nullable)]
    pub fee: Option<DecimalText>,
    pub at: DateTime<Utc>,
}

impl Example for EntryView {
    fn example() -> Self {
        EntryView {
            id: 31,
            txn_id: 9,
            contract_id: Some(12),
            line_id: Some(24),
            stream: Some("first_year".into()),
            payment_id: Some(7),
            party_id: 4,
            party_name: "杭州云帆财税咨询有限公司".into(),
            contract_no: Some("HT2026000012".into()),
            line_no: Some(1),
            account: "payable".into(),
            debit: DecimalText("0.00".into()),
            credit: DecimalText("2400.00".into()),
            kind: "allocation".into(),
            rule: Some(1),
            rate: Some(RateText("0.40".into())),
            fee: None,
            at: example_time(),
        }
    }
}

fn entry_view((e, labels): (entry::Model, EntryLabels)) -> EntryView {
    let (debit, credit) = if e.amount_fen >= 0 { (e.amount_fen, 0) } else { (0, -e.amount_fen) };
    EntryView {
        id: e.id,
        txn_id: e.txn_id,
        contract_id: e.contract_id,
        line_id: e.line_id,
        stream: e.stream,
        payment_id: e.payment_id,
        party_id: e.party_id,
        party_name: labels.party_name,
        contract_no: labels.contract_no,
        line_no: labels.line_no,
        account: e.account,
        debit: DecimalText(Fen::new(debit).to_yuan()),
        credit: DecimalText(Fen::new(credit).to_yuan()),
        kind: e.kind,
        rule: e.rule.map(|r| r + 1),
        rate: e.rate_bp.and_then(|bp| Rate::from_bp(bp).ok()).map(|r| RateText(r.to_wire())),
        fee: e.fee_fen.map(|f| DecimalText(Fen::new(f).to_yuan())),
        at: e.created_at,
    }
}

platform::page_of!(EntryPage, EntryView);

/// Fen as a decimal string, for sums that may pass 64 bits.
fn wide_yuan(fen: i128) -> DecimalText {
    DecimalText(rust_decimal::Decimal::try_from_i128_with_scale(fen, 2).map(|d| d.to_string()).unwrap_or_default())
}

/// One party's share of one line's stream; each figure is the sum of the entries listed.
#[derive(Object, Debug)]
pub struct ShareMoneyView {
    pub party_id: i64,
    pub party_name: String,
    /// The agreement rules behind the share, numbered from 1 (empty for the vendor's rest).
    pub rules: Vec<i32>,
    #[oai(nullable)]
    pub rate: Option<RateText>,
    #[oai(nullable)]
    pub fee: Option<DecimalText>,
    /// What the payments allocated to the party.
    pub allocated: DecimalText,
    /// What refunds and re-splits took back.
    pub clawed_back: DecimalText,
    /// What moved from held to payable when the client accepted.
    pub released: DecimalText,
    /// Owed to the party now.
    pub payable: DecimalText,
    /// Held back until the client accepts.
    pub held: DecimalText,
    /// The vendor's revenue (the vendor's rest).
    pub revenue: DecimalText,
    /// The entries behind these figures (`GET /ledger/entries?contract_id=…`).
    pub entry_ids: Vec<i64>,
}

#[derive(Object, Debug)]
pub struct StreamMoneyView {
    pub stream: StreamName,
    /// Paid by the client on this line and stream, net of refunds.
    pub paid: DecimalText,
    pub shares: Vec<ShareMoneyView>,
}

#[derive(Object, Debug)]
pub struct LineMoneyView {
    pub line_no: i32,
    pub amount: DecimalText,
    pub streams: Vec<StreamMoneyView>,
}

/// A contract's money: per line and stream, what was paid and each party's share.
#[derive(Object, Debug)]
#[oai(example)]
pub struct ContractMoneyView {
    pub contract_id: i64,
    pub contract_no: String,
    pub lines: Vec<LineMoneyView>,
}

impl Example for ContractMoneyView {
    fn example() -> Self {
        let y = |s: &str| DecimalText(s.into());
        ContractMoneyView {
            contract_id: 12,
            contract_no: "HT2026000012".into(),
            lines: vec![LineMoneyView {
                line_no: 1,
                amount: y("80000.00"),
                streams: vec![StreamMoneyView {
                    stream: StreamName::FirstYear,
                    paid: y("20000.00"),
                    shares: vec![ShareMoneyView {
                        party_id: 4,
                        party_name: "杭州云帆财税咨询有限公司".into(),
                        rules: vec![1],
                        rate: Some(RateText("0.40".into())),
                        fee: None,
                        allocated: y("8000.00"),
                        clawed_back: y("0.00"),
                        released: y("0.00"),
                        payable: y("8000.00"),
                        held: y("0.00"),
                        revenue: y("0.00"),
                        entry_ids: vec![31],
                    }],
                }],
            }],
        }
    }
}

fn contract_money_view(m: ContractMoney) -> ContractMoneyView {
    let names = m.names;
    ContractMoneyView {
        contract_id: m.contract.id,
        contract_no: m.contract.contract_no,
        lines: m
            .lines
            .into_iter()
            .map(|(l, money)| LineMoneyView {
                line_no: l.line_no,
                amount: DecimalText(Fen::new(l.amount_fen).to_yuan()),
                streams: money
                    .streams
                    .into_iter()
                    .map(|s| StreamMoneyView {
                        stream: if s.stream == "maintenance" { StreamName::Maintenance } else { StreamName::FirstYear },
                        paid: wide_yuan(s.paid),
                        shares: s
                            .shares
                            .into_iter()
                            .map(|x| ShareMoneyView {
                                party_name: names.get(&x.party_id).cloned().unwrap_or_default(),
                                party_id: x.party_id,
                                rules: x.rules,
                                rate: x.rate_bp.and_then(|bp| Rate::from_bp(bp).ok()).map(|r| RateText(r.to_wire())),
                                fee: x.fee_fen.map(|f| DecimalText(Fen::new(f).to_yuan())),
                                allocated: wide_yuan(x.allocated),
                                clawed_back: wide_yuan(x.clawed_back),
                                released: wide_yuan(x.released),
                                payable: wide_yuan(x.payable),
                                held: wide_yuan(x.held),
                                revenue: wide_yuan(x.revenue),
                                entry_ids: x.entry_ids,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A party's balances.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct BalanceView {
    pub party_id: i64,
    /// Owed to the party (negative: it owes a clawback, carried into its next statement).
    pub payable: DecimalText,
    /// Held back until acceptance.
    pub held: DecimalText,
    /// The vendor's own revenue.
    pub vendor_revenue: DecimalText,
    /// Cash received (the vendor).
    pub cash: DecimalText,
}

impl Example for BalanceView {
    fn example() -> Self {
        BalanceView {
            party_id: 4,
            payable: DecimalText("32400.00".into()),
            held: DecimalText("0.00".into()),
            vendor_revenue: DecimalText("0.00".into()),
            cash: DecimalText("0.00".into()),
        }
    }
}

impl From<Balance> for BalanceView {
    fn from(b: Balance) -> Self {
        BalanceView {
            party_id: b.party_id,
            payable: DecimalText(b.payable.to_yuan()),
            held: DecimalText(b.held.to_yuan()),
            vendor_revenue: DecimalText(b.vendor_revenue.to_yuan()),
            cash: DecimalText(b.cash.to_yuan()),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct BalanceList {
    pub items: Vec<BalanceView>,
}

impl Example for BalanceList {
    fn example() -> Self {
        BalanceList { items: vec![BalanceView::example()] }
    }
}

pub struct LedgerApi {
    pub ledger: Arc<Ledger>,
}

impl LedgerApi {
    /// The payment's view with the entries it posted.
    async fn with_split(&self, caller: &platform::Principal, mut view: PaymentView) -> ApiResult<PaymentView> {
        let filter = EntryFilter { payment_id: Some(view.id), ..EntryFilter::default() };
        let page = kernel::PageRequest { limit: kernel::page::MAX_LIMIT, after: None };
        let mut entries = self.ledger.entries(caller, &filter, &page).await?.items;
        entries.reverse();
        view.split = Some(entries.into_iter().map(entry_view).collect());
        Ok(view)
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl LedgerApi {
    /// Record a payment or refund
    ///
    /// Vendor finance records money received from a client (回款) against a contract line and
    /// stream, or refunded to it (a negative amount). Its shares are posted at once. Send a
    /// unique `Idempotency-Key` per payment: repeating the same key with the same body returns
    /// the first result (200); the same key with a different body is refused (422
    /// `idempotency_key_reused`). A refund above what was paid on the line and stream is 422
    /// `refund_exceeds_paid`; a payment on a cancelled contract is 409 `contract_cancelled`.
    #[oai(path = "/payments", method = "post", operation_id = "recordPayment", tag = "ApiTags::Money")]
    async fn record(
        &self,
        auth: Caller,
        /// A unique key per payment, e.g. the bank transaction number.
        #[oai(name = "Idempotency-Key", validator(pattern = r"^[!-~]{1,128}$"))]
        key: Header<Option<String>>,
        body: Json<RecordPaymentRequest>,
    ) -> ApiResult<PaymentResponse> {
        let b = body.0;
        let amount = b.amount.fen("amount")?;
        let new = NewPayment {
            contract_id: b.contract_id,
            line_no: b.line_no,
            stream: b.stream.into(),
            year: b.year,
            amount,
            received_on: b.received_on,
            note: b.note.map(|n| n.checked("note")).transpose()?,
        };
        let RecordedPayment { payment, line_no, settled_at, replayed } =
            self.ledger.record_payment(&auth.0, key.0.as_deref().unwrap_or(""), new).await?;
        let view = self.with_split(&auth.0, payment_view(payment, line_no, settled_at)).await?;
        let location = format!("/api/v1/payments/{}", view.id);
        Ok(PaymentResponse::of(view, location, replayed))
    }

    /// Read a payment
    ///
    /// Vendor finance. With the entries it posted (`split`).
    #[oai(path = "/payments/:id", method = "get", operation_id = "getPayment", tag = "ApiTags::Money")]
    async fn get(&self, auth: Caller, id: poem_openapi::param::Path<i64>) -> ApiResult<Json<PaymentView>> {
        let p = self.ledger.payment(&auth.0, id.0).await?;
        let no = self.ledger.line_numbers(&[p.line_id]).await?.get(&p.line_id).copied().unwrap_or_default();
        let at = self.ledger.settled_times(&[p.id]).await?.get(&p.id).copied();
        Ok(Json(self.with_split(&auth.0, payment_view(p, no, at)).await?))
    }

    /// List payments
    ///
    /// Newest first; vendor finance only.
    #[oai(path = "/payments", method = "get", operation_id = "listPayments", tag = "ApiTags::Money")]
    async fn list(
        &self,
        auth: Caller,
        contract_id: Query<Option<i64>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<PaymentPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let found = self.ledger.list_payments(&auth.0, contract_id.0, &page).await?;
        let lines = self.ledger.line_numbers(&found.items.iter().map(|p| p.line_id).collect::<Vec<_>>()).await?;
        let settled = self.ledger.settled_times(&found.items.iter().map(|p| p.id).collect::<Vec<_>>()).await?;
        Ok(Json(PaymentPage::from_page(found, |p| {
            let no = lines.get(&p.line_id).copied().unwrap_or_default();
            let at = settled.get(&p.id).copied();
            payment_view(p, no, at)
        })))
    }

    /// Run settlement
    ///
    /// Posts the shares of every contract whose money moved since its last settlement
    /// (payments, acceptances, cancellations). Idempotent: a second run posts nothing.
    /// Settlement also runs by itself after each of those events; this catches up after an
    /// interruption. Vendor finance only.
    #[oai(path = "/settlements", method = "post", operation_id = "runSettlement", tag = "ApiTags::Money")]
    async fn settle(&self, auth: Caller) -> ApiResult<Json<SettlementView>> {
        Ok(Json(self.ledger.settle_all(Some(&auth.0), &|_| {}).await?.into()))
    }

    /// List ledger entries
    ///
    /// Newest first. Vendor finance reads every entry (filter by contract to see how every
    /// cent of it was split: which payment, which rule, which rate); a partner reads its own.
    #[oai(path = "/ledger/entries", method = "get", operation_id = "listLedgerEntries", tag = "ApiTags::Money")]
    #[allow(clippy::too_many_arguments)]
    async fn entries(
        &self,
        auth: Caller,
        contract_id: Query<Option<i64>>,
        party_id: Query<Option<i64>>,
        payment_id: Query<Option<i64>>,
        /// Entries made within this month (park time, UTC+8), e.g. `2026-10`.
        period: Query<Option<MonthText>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<EntryPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let period = period.0.map(|p| p.checked("period").and_then(str::parse)).transpose()?;
        let filter = EntryFilter { contract_id: contract_id.0, party_id: party_id.0, payment_id: payment_id.0, period };
        Ok(Json(EntryPage::from_page(self.ledger.entries(&auth.0, &filter, &page).await?, entry_view)))
    }

    /// A contract's money
    ///
    /// Per line and stream: what the client paid, and each party's share of it — allocated,
    /// clawed back, released, payable, held (or the vendor's revenue) — with the entries behind
    /// every figure. Vendor finance sees every party; a partner its own share.
    #[oai(path = "/contracts/:id/money", method = "get", operation_id = "getContractMoney", tag = "ApiTags::Money")]
    async fn contract_money(
        &self,
        auth: Caller,
        id: poem_openapi::param::Path<i64>,
    ) -> ApiResult<Json<ContractMoneyView>> {
        Ok(Json(contract_money_view(self.ledger.contract_money(&auth.0, id.0).await?)))
    }

    /// Balances
    ///
    /// Per party: payable, held, vendor revenue, cash. Vendor finance reads every party; a
    /// partner its own.
    #[oai(path = "/ledger/balances", method = "get", operation_id = "listBalances", tag = "ApiTags::Money")]
    async fn balances(&self, auth: Caller, party_id: Query<Option<i64>>) -> ApiResult<Json<BalanceList>> {
        let items = self.ledger.balances(&auth.0, party_id.0).await?;
        Ok(Json(BalanceList { items: items.into_iter().map(Into::into).collect() }))
    }
}
