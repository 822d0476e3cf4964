//! Periods, payout batches and statements, with no I/O.
//!
//! A **period** is a calendar month in park time (China Standard Time, UTC+8): `2026-10` runs
//! from 2026-10-01 00:00 +08:00 up to, not including, 2026-11-01 00:00 +08:00.
//!
//! A **payout run** for a period takes every party's `payable` balance as of the run's cut-off
//! (the end of the period, or now if the period is still open) and puts each positive balance at
//! or above the minimum into the batch. Balances are cumulative and approved payouts are debits
//! to `payable`, so a party is never paid twice and a negative balance (a clawback larger than
//! what was owed) simply carries into the next period.
//!
//! A **statement** is a party's `payable` and `held` accounts over a period: the opening
//! balance, every entry (allocations by contract and payment, clawbacks, releases, adjustments,
//! payouts) and the closing balance; closing = opening + the period's movements, to the fen.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use kernel::{Error, Fen, MoneyError};
use serde::Serialize;

use crate::domain::{Account, Kind};

/// Park time: China Standard Time.
pub fn park_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// A calendar month of park time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    pub fn new(year: i32, month: u32) -> Option<Period> {
        ((2000..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Period { year, month })
    }

    /// The period an instant falls in.
    pub fn containing(t: DateTime<Utc>) -> Period {
        let local = t.with_timezone(&park_offset());
        Period { year: local.year(), month: local.month() }
    }

    pub fn next(self) -> Period {
        if self.month == 12 {
            Period { year: self.year + 1, month: 1 }
        } else {
            Period { month: self.month + 1, ..self }
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// The first instant of the period.
    pub fn start(self) -> DateTime<Utc> {
        let midnight = self.first_day().and_hms_opt(0, 0, 0).unwrap_or_default();
        park_offset().from_local_datetime(&midnight).single().map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    /// The first instant after the period.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    /// The cut-off of a payout run made at `now`: the end of the period, or `now` while it is
    /// still open. A period that has not begun has none.
    pub fn cutoff(self, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
        if now < self.start() {
            return Err(Error::unprocessable("period_not_started", format!("the period {self} has not begun yet")));
        }
        Ok(now.min(self.end()))
    }

    /// True once the period is over: its statements are final.
    pub fn is_closed(self, now: DateTime<Utc>) -> bool {
        now >= self.end()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = Error;

    fn from_str(s: &str) -> Result<Period, Error> {
        let bad = || Error::invalid("period", format!("{s:?} is not a month such as 2026-10"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Period::new(year, month).ok_or_else(bad)
    }
}

// ---- payouts ----------------------------------------------------------------------------------

/// The park's payout rules (configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayoutRules {
    /// The smallest balance paid out; smaller ones wait for a later period.
    pub minimum: Fen,
    /// A batch above this total needs two different approvers.
    pub dual_approval_above: Fen,
}

impl Default for PayoutRules {
    fn default() -> Self {
        PayoutRules { minimum: Fen::new(10_000), dual_approval_above: Fen::new(5_000_000) }
    }
}

/// The items of a payout batch: every positive balance at or above `minimum`, in party order.
pub fn payout_items(balances: &[(i64, Fen)], minimum: Fen) -> Vec<(i64, Fen)> {
    let mut items: Vec<(i64, Fen)> =
        balances.iter().copied().filter(|(_, b)| !b.is_negative() && !b.is_zero() && *b >= minimum).collect();
    items.sort_by_key(|(party, _)| *party);
    items
}

/// A payout batch's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    PendingApproval,
    Approved,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What an approval does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approval {
    /// The batch is approved: post the payouts.
    Complete,
    /// The first of two approvals: the batch waits for a second, different person.
    First,
}

/// True when a batch of `total` needs two different approvers under `rules`.
pub fn needs_two_approvers(total: Fen, rules: PayoutRules) -> bool {
    total > rules.dual_approval_above
}

/// Decides an approval by `approver` of a batch in `status` that `first` (if anyone) approved
/// before; `needs_two` was decided when the batch was made.
pub fn approve(status: PayoutStatus, needs_two: bool, first: Option<i64>, approver: i64) -> Result<Approval, Error> {
    if status == PayoutStatus::Approved {
        return Err(Error::illegal_transition("payout batch", status.as_str(), "approve"));
    }
    match first {
        Some(p) if p == approver => Err(Error::conflict(
            "second_approver_required",
            "this batch is above the two-person limit: a different person of vendor finance must approve it too",
        )),
        Some(_) => Ok(Approval::Complete),
        None if needs_two => Ok(Approval::First),
        None => Ok(Approval::Complete),
    }
}

// ---- statements -------------------------------------------------------------------------------

/// One account of a statement: the opening balance, the period's movements by kind and the
/// closing balance (credit-positive: what the park owes the party).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    pub opening: Fen,
    pub allocations: Fen,
    pub clawbacks: Fen,
    pub adjustments: Fen,
    pub releases: Fen,
    pub payouts: Fen,
    pub closing: Fen,
}

impl AccountSummary {
    pub fn opening(opening: Fen) -> AccountSummary {
        AccountSummary { opening, closing: opening, ..Default::default() }
    }

    /// Adds one movement (credit-positive).
    pub fn add(&mut self, kind: Kind, amount: Fen) -> Result<(), MoneyError> {
        let slot = match kind {
            Kind::Allocation => &mut self.allocations,
            Kind::Clawback => &mut self.clawbacks,
            Kind::Adjustment => &mut self.adjustments,
            Kind::Release => &mut self.releases,
            Kind::Payout => &mut self.payouts,
            // Receipts are cash, never a party's account; count them as adjustments if ever.
            Kind::Receipt => &mut self.adjustments,
        };
        *slot = slot.checked_add(amount)?;
        self.closing = self.closing.checked_add(amount)?;
        Ok(())
    }

    /// True when nothing happened and nothing is owed.
    pub fn is_empty(&self) -> bool {
        *self == AccountSummary::default()
    }
}

/// One line of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementLine {
    pub entry_id: i64,
    pub at: DateTime<Utc>,
    pub account: Account,
    pub kind: Kind,
    /// Credit-positive: what the entry adds to what the park owes the party.
    pub amount: Fen,
    pub contract_no: Option<String>,
    pub line_no: Option<i32>,
    pub stream: Option<String>,
    pub payment_id: Option<i64>,
    pub payout_id: Option<i64>,
    pub rule: Option<i32>,
    pub rate_bp: Option<i32>,
    pub fee_fen: Option<i64>,
}

/// One party's statement figures for a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementSummary {
    pub party_id: i64,
    pub party_name: String,
    pub party_kind: String,
    pub period: Period,
    /// False while the period is still open (later entries may still join it).
    pub closed: bool,
    pub payable: AccountSummary,
    pub held: AccountSummary,
}

/// A party's statement for a period: its figures and every entry behind them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub summary: StatementSummary,
    pub lines: Vec<StatementLine>,
}

/// Builds the two account summaries from the opening balances and the period's lines.
pub fn summarize(
    opening_payable: Fen,
    opening_held: Fen,
    lines: &[StatementLine],
) -> Result<(AccountSummary, AccountSummary), MoneyError> {
    let mut payable = AccountSummary::opening(opening_payable);
    let mut held = AccountSummary::opening(opening_held);
    for l in lines {
        match l.account {
            Account::Payable => payable.add(l.kind, l.amount)?,
            Account::Held => held.add(l.kind, l.amount)?,
            Account::VendorRevenue | Account::Cash => {}
        }
    }
    Ok((payable, held))
}

/// The bilingual label of an entry kind, for statements people read.
pub fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Allocation => "分成 allocation",
        Kind::Clawback => "追回 clawback",
        Kind::Release => "释放 release",
        Kind::Adjustment => "调整 adjustment",
        Kind::Receipt => "收款 receipt",
        Kind::Payout => "付款 payout",
    }
}

fn account_label(account: Account) -> &'static str {
    match account {
        Account::Payable => "应付 payable",
        Account::Held => "暂扣 held",
        Account::VendorRevenue => "厂商收入 vendor revenue",
        Account::Cash => "现金 cash",
    }
}

/// The UTF-8 byte-order mark: Excel reads a CSV as UTF-8 (and shows Chinese correctly) only
/// when the file starts with it.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

fn csv_error(e: impl fmt::Display) -> Error {
    Error::unexpected(format!("cannot write the CSV: {e}"))
}

fn to_csv(header: &[&str], rows: Vec<Vec<String>>) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(BOM.to_vec());
    w.write_record(header).map_err(csv_error)?;
    for r in rows {
        w.write_record(&r).map_err(csv_error)?;
    }
    w.into_inner().map_err(csv_error)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// A statement as CSV (UTF-8 with BOM): one row per entry with the running balances of both
/// accounts, framed by an opening and a closing row.
pub fn statement_csv(statement: &Statement) -> Result<Vec<u8>, Error> {
    let s = &statement.summary;
    let header = [
        "日期 date",
        "类型 kind",
        "账户 account",
        "合同 contract",
        "行 line",
        "收入类型 stream",
        "回款 payment",
        "付款批次 payout",
        "规则 rule",
        "比例 rate",
        "固定费用 fee",
        "金额 amount",
        "应付余额 payable balance",
        "暂扣余额 held balance",
    ];
    let local = |t: DateTime<Utc>| t.with_timezone(&park_offset()).format("%Y-%m-%d %H:%M:%S").to_string();
    let frame = |label: &str, date: String, payable: Fen, held: Fen| {
        let mut r = vec![date, label.to_owned()];
        r.extend(std::iter::repeat_n(String::new(), 10));
        r.extend([payable.to_yuan(), held.to_yuan()]);
        r
    };
    let mut rows =
        vec![frame("期初余额 opening balance", s.period.first_day().to_string(), s.payable.opening, s.held.opening)];
    let (mut payable, mut held) = (s.payable.opening, s.held.opening);
    for l in &statement.lines {
        match l.account {
            Account::Payable => payable = payable.checked_add(l.amount).map_err(csv_error)?,
            Account::Held => held = held.checked_add(l.amount).map_err(csv_error)?,
            _ => {}
        }
        rows.push(vec![
            local(l.at),
            kind_label(l.kind).to_owned(),
            account_label(l.account).to_owned(),
            opt(&l.contract_no),
            opt(&l.line_no),
            opt(&l.stream),
            opt(&l.payment_id),
            opt(&l.payout_id),
            l.rule.map(|r| (r + 1).to_string()).unwrap_or_default(),
            l.rate_bp.and_then(|bp| kernel::Rate::from_bp(bp).ok()).map(|r| r.to_wire()).unwrap_or_default(),
            l.fee_fen.map(|f| Fen::new(f).to_yuan()).unwrap_or_default(),
            l.amount.to_yuan(),
            payable.to_yuan(),
            held.to_yuan(),
        ]);
    }
    let last_day = s.period.end().with_timezone(&park_offset()).date_naive().pred_opt().unwrap_or_default();
    rows.push(frame("期末余额 closing balance", last_day.to_string(), s.payable.closing, s.held.closing));
    to_csv(&header, rows)
}

/// One payee of a payout batch, for the bank file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutLine {
    pub party_id: i64,
    pub party_name: String,
    pub credit_code: Option<String>,
    pub amount: Fen,
}

/// A payout batch as CSV (UTF-8 with BOM): one row per payee.
pub fn payout_csv(payout_id: i64, period: Period, lines: &[PayoutLine]) -> Result<Vec<u8>, Error> {
    let header = [
        "付款批次 payout",
        "期间 period",
        "收款方 party id",
        "名称 name",
        "统一社会信用代码 credit code",
        "金额 amount",
    ];
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                payout_id.to_string(),
                period.to_string(),
                l.party_id.to_string(),
                l.party_name.clone(),
                opt(&l.credit_code),
                l.amount.to_yuan(),
            ]
        })
        .collect();
    to_csv(&header, rows)
}

/// The vendor's attributable share of an equity partner's net earnings in a period: its
/// allocations, releases excluded (they only move money from `held` to `payable`), clawbacks
/// and adjustments, times the vendor's equity stake, rounded half away from zero to the fen.
pub fn attributable(net_earnings: Fen, stake: kernel::Rate) -> Result<Fen, MoneyError> {
    net_earnings.share(stake)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn periods_are_months_of_china_standard_time() {
        let p: Period = "2026-10".parse().unwrap();
        assert_eq!(p.to_string(), "2026-10");
        assert_eq!(p.start(), at("2026-09-30T16:00:00Z"));
        assert_eq!(p.end(), at("2026-10-31T16:00:00Z"));
        assert_eq!("2026-12".parse::<Period>().unwrap().next().to_string(), "2027-01");
        // 23:30 UTC on 31 October is already 1 November in Beijing.
        assert_eq!(Period::containing(at("2026-10-31T23:30:00Z")).to_string(), "2026-11");
        for bad in ["2026-13", "2026-1", "26-10", "2026/10", "", "2026-00", "abcd-ef"] {
            assert_eq!(bad.parse::<Period>().unwrap_err().code(), "invalid_field", "{bad}");
        }
        assert!("2026-10" < "2026-11" && p < p.next(), "periods order like their text");
    }

    #[test]
    fn a_run_cuts_off_at_the_end_of_its_period_or_now() {
        let p: Period = "2026-10".parse().unwrap();
        assert_eq!(p.cutoff(at("2026-11-03T09:00:00Z")).unwrap(), p.end());
        assert_eq!(p.cutoff(at("2026-10-20T09:00:00Z")).unwrap(), at("2026-10-20T09:00:00Z"));
        assert_eq!(p.cutoff(at("2026-09-20T09:00:00Z")).unwrap_err().code(), "period_not_started");
        assert!(p.is_closed(p.end()) && !p.is_closed(at("2026-10-20T09:00:00Z")));
    }

    #[test]
    fn payout_items_take_positive_balances_at_or_above_the_minimum() {
        let balances =
            [(7, Fen::new(9_999)), (3, Fen::new(10_000)), (5, Fen::new(-500)), (9, Fen::ZERO), (1, Fen::new(1))];
        assert_eq!(payout_items(&balances, Fen::new(10_000)), vec![(3, Fen::new(10_000))]);
        assert_eq!(
            payout_items(&balances, Fen::ZERO),
            vec![(1, Fen::new(1)), (3, Fen::new(10_000)), (7, Fen::new(9_999))]
        );
    }

    #[test]
    fn large_batches_need_two_different_approvers() {
        let rules = PayoutRules { minimum: Fen::ZERO, dual_approval_above: Fen::new(100) };
        assert!(!needs_two_approvers(Fen::new(100), rules));
        assert!(needs_two_approvers(Fen::new(101), rules));
        let pending = PayoutStatus::PendingApproval;
        assert_eq!(approve(pending, false, None, 1).unwrap(), Approval::Complete);
        assert_eq!(approve(pending, true, None, 1).unwrap(), Approval::First);
        assert_eq!(approve(pending, true, Some(1), 1).unwrap_err().code(), "second_approver_required");
        assert_eq!(approve(pending, true, Some(1), 2).unwrap(), Approval::Complete);
        assert_eq!(approve(PayoutStatus::Approved, false, None, 2).unwrap_err().code(), "illegal_transition");
    }

    fn line(account: Account, kind: Kind, amount: i64) -> StatementLine {
        StatementLine {
            entry_id: 1,
            at: at("2026-10-05T02:00:00Z"),
            account,
            kind,
            amount: Fen::new(amount),
            contract_no: Some("HT2026000012".into()),
            line_no: Some(2),
            stream: Some("first_year".into()),
            payment_id: Some(4),
            payout_id: None,
            rule: Some(0),
            rate_bp: Some(7000),
            fee_fen: None,
        }
    }

    #[test]
    fn a_statement_closes_at_opening_plus_movements() {
        let lines = [
            line(Account::Held, Kind::Allocation, 1_400_000),
            line(Account::Held, Kind::Release, -1_400_000),
            line(Account::Payable, Kind::Release, 1_400_000),
            line(Account::Payable, Kind::Allocation, 240_000),
            line(Account::Payable, Kind::Clawback, -40_000),
            line(Account::Payable, Kind::Payout, -1_000_000),
        ];
        let (payable, held) = summarize(Fen::new(50_000), Fen::ZERO, &lines).unwrap();
        assert_eq!(payable.opening, Fen::new(50_000));
        assert_eq!(payable.releases, Fen::new(1_400_000));
        assert_eq!(payable.allocations, Fen::new(240_000));
        assert_eq!(payable.clawbacks, Fen::new(-40_000));
        assert_eq!(payable.payouts, Fen::new(-1_000_000));
        assert_eq!(payable.closing, Fen::new(650_000));
        assert_eq!(
            (held.allocations, held.releases, held.closing),
            (Fen::new(1_400_000), Fen::new(-1_400_000), Fen::ZERO)
        );
    }

    #[test]
    fn csv_starts_with_a_bom_and_keeps_chinese_and_running_balances() {
        let lines =
            vec![line(Account::Payable, Kind::Allocation, 240_000), line(Account::Payable, Kind::Payout, -40_000)];
        let (payable, held) = summarize(Fen::new(10_000), Fen::ZERO, &lines).unwrap();
        let s = Statement {
            summary: StatementSummary {
                party_id: 3,
                party_name: "杭州云帆".into(),
                party_kind: "equity_partner".into(),
                period: "2026-10".parse().unwrap(),
                closed: true,
                payable,
                held,
            },
            lines,
        };
        let bytes = statement_csv(&s).unwrap();
        assert!(bytes.starts_with(BOM));
        let text = std::str::from_utf8(&bytes[BOM.len()..]).unwrap();
        let rows: Vec<csv::StringRecord> =
            csv::Reader::from_reader(text.as_bytes()).records().collect::<Result<_, _>>().unwrap();
        assert_eq!(rows.len(), 4, "opening, two entries, closing");
        assert_eq!(&rows[0][1], "期初余额 opening balance");
        assert_eq!(&rows[0][12], "100.00");
        assert_eq!(&rows[1][0], "2026-10-05 10:00:00", "park time");
        assert_eq!((&rows[1][8], &rows[1][9], &rows[1][11], &rows[1][12]), ("1", "0.70", "2400.00", "2500.00"));
        assert_eq!((&rows[2][11], &rows[2][12]), ("-400.00", "2100.00"));
        assert_eq!((&rows[3][0], &rows[3][1], &rows[3][12]), ("2026-10-31", "期末余额 closing balance", "2100.00"));
    }

    #[test]
    fn attributable_share_rounds_half_away_from_zero() {
        let stake = kernel::Rate::parse("0.35").unwrap();
        assert_eq!(attributable(Fen::new(1_000_001), stake).unwrap(), Fen::new(350_000));
        assert_eq!(attributable(Fen::new(-3), stake).unwrap(), Fen::new(-1));
    }
}
