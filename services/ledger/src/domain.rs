//! The settlement calculation of DESIGN §5, with no I/O.
//!
//! For each contract line and stream, a party's **entitlement** is computed from the cumulative
//! amount paid so far (each share rounded half away from zero to the fen, the vendor taking what
//! the rules leave), and a settlement posts the **difference** between the entitlements and what
//! the ledger already holds. Everything else follows from that: shares always sum to what was
//! paid, the split does not depend on how the money was cut, a refund claws back by the same
//! rule, a second run posts nothing, and a run interrupted half-way and started again ends where
//! an uninterrupted one does.

use std::collections::BTreeMap;

use kernel::agreement::{Agreement, Basis, Beneficiary};
use kernel::{Error, Fen, MoneyError, Rate, Stream};
use serde::Serialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

/// The ledger's accounts. `payable`, `held` and `vendor_revenue` are credit accounts (what the
/// park owes a party, holds back for it, or earned itself); `cash` is the debit side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Account {
    Payable,
    Held,
    VendorRevenue,
    Cash,
}

impl Account {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why an entry was posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A share of money received.
    Allocation,
    /// A share taken back (a refund, or a rule that dropped out).
    Clawback,
    /// Held money released on acceptance (a `held` debit and a `payable` credit).
    Release,
    /// A share that grew because the split changed (a subcontract that dropped out).
    Adjustment,
    /// Money received or refunded.
    Receipt,
    /// A payable paid out to its party.
    Payout,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the subcontractor of a line is paid under the subcontract it won.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terms {
    Share(Rate),
    Fee(Fen),
}

/// The party executing a line under a won subcontract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    pub party: i64,
    pub terms: Terms,
}

/// The state of a contract line that decides its split: who executes it under a subcontract
/// (`None` when nobody does, including a subcontracted order cancelled before acceptance), and
/// whether its order has been accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineState {
    pub line_no: i32,
    pub execution: Option<Execution>,
    pub accepted: bool,
}

/// The parties of a contract: the vendor and the signer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parties {
    pub vendor: i64,
    pub signer: i64,
}

/// Where one share comes from: the rule (its index in the agreement; `None` for the vendor's
/// rest), and its rate or fixed fee.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Source {
    pub rule: Option<usize>,
    pub rate: Option<Rate>,
    pub fee: Option<Fen>,
}

/// A party's entitlement on one line and stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entitlement {
    pub party: i64,
    pub account: Account,
    pub amount: Fen,
    pub source: Source,
}

/// What the ledger holds per party and account for one line and stream (credit-positive).
pub type Holdings = BTreeMap<(i64, Account), Fen>;

/// The entitlements of every party on one line and stream, from the cumulative amount paid.
/// They sum to exactly `paid`.
pub fn entitlements(
    agreement: &Agreement,
    parties: Parties,
    line: &LineState,
    stream: Stream,
    paid: Fen,
) -> Result<Vec<Entitlement>, MoneyError> {
    let mut out: Vec<Entitlement> = Vec::new();
    let mut left = paid;
    let applicable = agreement
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.stream.covers(stream) && r.line_no.is_none_or(|n| n == line.line_no));
    for (i, rule) in applicable {
        let account = if rule.held_until_acceptance && !line.accepted { Account::Held } else { Account::Payable };
        let (party, amount, source) = match rule.beneficiary {
            Beneficiary::Subcontractor => {
                let Some(ex) = line.execution else { continue };
                match ex.terms {
                    Terms::Share(rate) => {
                        (ex.party, paid.share(rate)?, Source { rule: Some(i), rate: Some(rate), fee: None })
                    }
                    Terms::Fee(fee) => (
                        ex.party,
                        // Taken from the line's payments until it is covered.
                        paid.clamp(Fen::ZERO, fee.max(Fen::ZERO)),
                        Source { rule: Some(i), rate: None, fee: Some(fee) },
                    ),
                }
            }
            Beneficiary::Signer => {
                let rate = rule.rate.unwrap_or(Rate::ZERO);
                let base = match rule.basis {
                    Basis::Gross => paid,
                    Basis::Remainder => left,
                };
                (parties.signer, base.share(rate)?, Source { rule: Some(i), rate: Some(rate), fee: None })
            }
        };
        left = left.checked_sub(amount)?;
        out.push(Entitlement { party, account, amount, source });
    }
    out.push(Entitlement {
        party: parties.vendor,
        account: Account::VendorRevenue,
        amount: left,
        source: Source::default(),
    });
    Ok(out)
}

/// One entry to post for a party (credit-positive: a negative amount takes money back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posting {
    pub party: i64,
    pub account: Account,
    pub amount: Fen,
    pub kind: Kind,
    pub source: Source,
}

/// The postings that bring `holdings` to the entitlements (and applies them to `holdings`).
/// With a payment, shares are allocations or clawbacks; without one (the split changed), held
/// money that becomes payable to the same party is a release.
pub fn post_difference(
    entitled: &[Entitlement],
    holdings: &mut Holdings,
    with_payment: bool,
) -> Result<Vec<Posting>, MoneyError> {
    let mut target: BTreeMap<(i64, Account), (Fen, Source)> = BTreeMap::new();
    for e in entitled {
        let slot = target.entry((e.party, e.account)).or_insert((Fen::ZERO, e.source));
        slot.0 = slot.0.checked_add(e.amount)?;
    }
    for key in holdings.keys() {
        target.entry(*key).or_insert((Fen::ZERO, Source::default()));
    }
    let mut out = Vec::new();
    for ((party, account), (amount, source)) in target {
        let now = holdings.get(&(party, account)).copied().unwrap_or_default();
        let diff = amount.checked_sub(now)?;
        if diff.is_zero() {
            continue;
        }
        holdings.insert((party, account), amount);
        let kind = if diff.is_negative() {
            Kind::Clawback
        } else if with_payment {
            Kind::Allocation
        } else {
            Kind::Adjustment
        };
        out.push(Posting { party, account, amount: diff, kind, source });
    }
    if !with_payment {
        for party in out.iter().map(|p| p.party).collect::<Vec<_>>() {
            let held_out = out.iter().any(|p| p.party == party && p.account == Account::Held && p.amount.is_negative());
            let payable_in =
                out.iter().any(|p| p.party == party && p.account == Account::Payable && !p.amount.is_negative());
            if held_out && payable_in {
                for p in
                    out.iter_mut().filter(|p| p.party == party && matches!(p.account, Account::Held | Account::Payable))
                {
                    p.kind = Kind::Release;
                }
            }
        }
    }
    Ok(out)
}

/// A payment to settle on one line and stream (negative: a refund).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinePayment {
    pub id: i64,
    pub amount: Fen,
}

/// One balanced ledger transaction: the party postings and the cash that balances them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub payment_id: Option<i64>,
    pub postings: Vec<Posting>,
    /// Money that came in (negative: went out) with this step; the sum of the postings.
    pub cash: Fen,
}

/// Settles one line and stream: first brings what is already posted to the current state of
/// the line (a release on acceptance, a re-split on cancellation), then posts each new payment
/// in turn from the cumulative amount. `holdings` is what the ledger holds, and is updated.
pub fn settle_line(
    agreement: &Agreement,
    parties: Parties,
    line: &LineState,
    stream: Stream,
    payments: &[LinePayment],
    holdings: &mut Holdings,
) -> Result<Vec<Step>, MoneyError> {
    let mut paid = Fen::checked_sum(holdings.values().copied())?;
    let mut steps = Vec::new();
    if !holdings.is_empty() {
        let entitled = entitlements(agreement, parties, line, stream, paid)?;
        let postings = post_difference(&entitled, holdings, false)?;
        if !postings.is_empty() {
            steps.push(Step { payment_id: None, postings, cash: Fen::ZERO });
        }
    }
    for p in payments {
        paid = paid.checked_add(p.amount)?;
        let entitled = entitlements(agreement, parties, line, stream, paid)?;
        let postings = post_difference(&entitled, holdings, true)?;
        steps.push(Step { payment_id: Some(p.id), postings, cash: p.amount });
    }
    Ok(steps)
}

// ---- what a payment may be --------------------------------------------------------------

/// What a new payment (or refund) is checked against: its line, what was paid before, and the
/// contract's dates and maintenance fee.
#[derive(Clone, Copy, Debug)]
pub struct PaymentCheck {
    pub line_no: i32,
    pub stream: kernel::Stream,
    pub year: i32,
    pub amount: Fen,
    pub received_on: chrono::NaiveDate,
    pub signed_on: chrono::NaiveDate,
    pub today: chrono::NaiveDate,
    /// The line's first-year amount.
    pub line_amount: Fen,
    /// Paid so far on the line and stream (refunds negative), every year of it.
    pub paid_on_line: Fen,
    /// The contract's annual maintenance fee.
    pub maintenance_fee: Fen,
    /// Maintenance paid so far for `year`, on every line of the contract.
    pub paid_for_year: Fen,
}

/// The rules a payment keeps (422 naming the figures otherwise): received between the signing
/// and today; a refund at most what was paid on its line and stream; the first-year money of a
/// line at most the line's amount; the maintenance of a year at most the annual fee. Money that
/// really came beyond these is a mistake in the contract or an earlier payment: correct that
/// first (a refund, or a new contract).
pub fn check_payment(p: &PaymentCheck) -> Result<(), Error> {
    let figures = |code: &'static str, message: String, details: serde_json::Value| Error::Unprocessable {
        code,
        message,
        details: Some(details),
    };
    if p.received_on < p.signed_on {
        return Err(Error::invalid(
            "received_on",
            format!("is before the contract was signed ({}); money before signing belongs to no contract", p.signed_on),
        ));
    }
    if p.received_on > p.today {
        return Err(Error::invalid("received_on", format!("is in the future (today is {})", p.today)));
    }
    let after = p.paid_on_line.checked_add(p.amount)?;
    if after.is_negative() {
        return Err(figures(
            "refund_exceeds_paid",
            format!(
                "a refund of {} is more than the {} paid on line {} ({})",
                p.amount.checked_neg()?.to_yuan(),
                p.paid_on_line.to_yuan(),
                p.line_no,
                p.stream.as_str()
            ),
            serde_json::json!({ "field": "amount", "paid": p.paid_on_line.to_yuan(), "refund": p.amount.to_yuan() }),
        ));
    }
    if p.amount.is_negative() {
        return Ok(());
    }
    match p.stream {
        kernel::Stream::FirstYear if after > p.line_amount => Err(figures(
            "exceeds_line_amount",
            format!(
                "line {} is for {}; {} is paid already, so a payment of {} would make it {}: record at most {}                  (if more money really came, correct the earlier payments with a refund first)",
                p.line_no,
                p.line_amount.to_yuan(),
                p.paid_on_line.to_yuan(),
                p.amount.to_yuan(),
                after.to_yuan(),
                p.line_amount.checked_sub(p.paid_on_line)?.max(Fen::ZERO).to_yuan()
            ),
            serde_json::json!({
                "field": "amount", "line_amount": p.line_amount.to_yuan(), "paid": p.paid_on_line.to_yuan(),
                "amount": p.amount.to_yuan(),
            }),
        )),
        kernel::Stream::Maintenance if p.paid_for_year.checked_add(p.amount)? > p.maintenance_fee => Err(figures(
            "exceeds_maintenance_fee",
            format!(
                "the annual maintenance fee is {}; {} is paid already for year {}, so a payment of {} would make \
                 it {}: record at most {}",
                p.maintenance_fee.to_yuan(),
                p.paid_for_year.to_yuan(),
                p.year,
                p.amount.to_yuan(),
                p.paid_for_year.checked_add(p.amount)?.to_yuan(),
                p.maintenance_fee.checked_sub(p.paid_for_year)?.max(Fen::ZERO).to_yuan()
            ),
            serde_json::json!({
                "field": "amount", "maintenance_fee": p.maintenance_fee.to_yuan(),
                "paid": p.paid_for_year.to_yuan(), "amount": p.amount.to_yuan(), "year": p.year,
            }),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use kernel::OrgKind;
    use kernel::agreement::{snapshot, standard_rules};
    use proptest::prelude::*;

    use super::*;

    const VENDOR: i64 = 1;
    const P: i64 = 2;
    const S: i64 = 3;

    fn yuan(t: &str) -> Fen {
        Fen::parse_yuan(t).unwrap()
    }

    fn standard(signer: OrgKind) -> Agreement {
        snapshot("standard", 1, &standard_rules(), &BTreeMap::new(), signer, None)
    }

    fn parties() -> Parties {
        Parties { vendor: VENDOR, signer: P }
    }

    fn seventy(accepted: bool) -> LineState {
        LineState {
            line_no: 2,
            execution: Some(Execution { party: S, terms: Terms::Share(Rate::parse("0.7").unwrap()) }),
            accepted,
        }
    }

    fn plain(line_no: i32) -> LineState {
        LineState { line_no, execution: None, accepted: false }
    }

    fn held(h: &Holdings, party: i64, account: Account) -> Fen {
        h.get(&(party, account)).copied().unwrap_or_default()
    }

    fn pay(id: i64, t: &str) -> LinePayment {
        LinePayment { id, amount: yuan(t) }
    }

    /// The worked example of DESIGN §5, step by step.
    #[test]
    fn the_worked_example() {
        let a = standard(OrgKind::EquityPartner);
        let mut sub = Holdings::new();
        let steps = settle_line(&a, parties(), &plain(1), Stream::FirstYear, &[pay(1, "60000.00")], &mut sub).unwrap();
        assert_eq!(held(&sub, P, Account::Payable), yuan("24000.00"));
        assert_eq!(held(&sub, VENDOR, Account::VendorRevenue), yuan("36000.00"));
        assert_eq!(steps[0].cash, yuan("60000.00"));

        let mut imp = Holdings::new();
        settle_line(&a, parties(), &seventy(false), Stream::FirstYear, &[pay(2, "20000.00")], &mut imp).unwrap();
        assert_eq!(held(&imp, S, Account::Held), yuan("14000.00"));
        assert_eq!(held(&imp, P, Account::Payable), yuan("2400.00"));
        assert_eq!(held(&imp, VENDOR, Account::VendorRevenue), yuan("3600.00"));

        let steps = settle_line(&a, parties(), &seventy(true), Stream::FirstYear, &[], &mut imp).unwrap();
        assert_eq!(steps.len(), 1);
        assert!(steps[0].postings.iter().all(|p| p.kind == Kind::Release && p.party == S));
        assert_eq!(steps[0].cash, Fen::ZERO);
        assert_eq!(held(&imp, S, Account::Held), Fen::ZERO);
        assert_eq!(held(&imp, S, Account::Payable), yuan("14000.00"));

        settle_line(&a, parties(), &seventy(true), Stream::FirstYear, &[pay(3, "20000.00")], &mut imp).unwrap();
        assert_eq!(held(&imp, S, Account::Payable), yuan("28000.00"));
        assert_eq!(held(&imp, P, Account::Payable), yuan("4800.00"));
        assert_eq!(held(&imp, VENDOR, Account::VendorRevenue), yuan("7200.00"));

        let mut maint = Holdings::new();
        settle_line(&a, parties(), &plain(1), Stream::Maintenance, &[pay(4, "18000.00")], &mut maint).unwrap();
        assert_eq!(held(&maint, P, Account::Payable), yuan("3600.00"));
        assert_eq!(held(&maint, VENDOR, Account::VendorRevenue), yuan("14400.00"));

        let total = |party, account| [&sub, &imp, &maint].iter().map(|h| held(h, party, account).get()).sum::<i64>();
        assert_eq!(total(S, Account::Payable), yuan("28000.00").get());
        assert_eq!(total(P, Account::Payable), yuan("32400.00").get());
        assert_eq!(total(VENDOR, Account::VendorRevenue), yuan("57600.00").get());
    }

    /// The rounding example: three payments of 0.01 with P at 40 %.
    #[test]
    fn the_rounding_example() {
        let a = standard(OrgKind::EquityPartner);
        let mut h = Holdings::new();
        let steps = settle_line(
            &a,
            parties(),
            &plain(1),
            Stream::FirstYear,
            &[pay(1, "0.01"), pay(2, "0.01"), pay(3, "0.01")],
            &mut h,
        )
        .unwrap();
        let got =
            |step: &Step, party| step.postings.iter().filter(|p| p.party == party).map(|p| p.amount.get()).sum::<i64>();
        assert_eq!(steps.iter().map(|s| got(s, P)).collect::<Vec<_>>(), vec![0, 1, 0]);
        assert_eq!(steps.iter().map(|s| got(s, VENDOR)).collect::<Vec<_>>(), vec![1, 0, 1]);
    }

    #[test]
    fn a_direct_team_leaves_everything_to_the_vendor_after_the_subcontractor() {
        let a = standard(OrgKind::DirectTeam);
        let mut h = Holdings::new();
        settle_line(&a, parties(), &seventy(false), Stream::FirstYear, &[pay(1, "100.00")], &mut h).unwrap();
        assert_eq!(held(&h, S, Account::Held), yuan("70.00"));
        assert_eq!(held(&h, VENDOR, Account::VendorRevenue), yuan("30.00"));
        assert_eq!(held(&h, P, Account::Payable), Fen::ZERO);
    }

    #[test]
    fn a_fixed_fee_is_taken_until_covered() {
        let a = standard(OrgKind::EquityPartner);
        let line = LineState {
            line_no: 1,
            execution: Some(Execution { party: S, terms: Terms::Fee(yuan("500.00")) }),
            accepted: true,
        };
        let mut h = Holdings::new();
        settle_line(&a, parties(), &line, Stream::FirstYear, &[pay(1, "300.00")], &mut h).unwrap();
        assert_eq!(held(&h, S, Account::Payable), yuan("300.00"));
        assert_eq!(held(&h, P, Account::Payable), Fen::ZERO);
        settle_line(&a, parties(), &line, Stream::FirstYear, &[pay(2, "700.00")], &mut h).unwrap();
        assert_eq!(held(&h, S, Account::Payable), yuan("500.00"));
        assert_eq!(held(&h, P, Account::Payable), yuan("200.00"));
        assert_eq!(held(&h, VENDOR, Account::VendorRevenue), yuan("300.00"));
    }

    // ---- properties ----------------------------------------------------------------------

    #[derive(Clone, Debug)]
    struct Case {
        agreement: Agreement,
        line: LineState,
        stream: Stream,
        amounts: Vec<i64>,
    }

    fn case() -> impl Strategy<Value = Case> {
        let terms = prop_oneof![
            (1i32..10_000).prop_map(|bp| Some(Terms::Share(Rate::from_bp(bp).unwrap_or(Rate::ZERO)))),
            (1i64..5_000_000).prop_map(|f| Some(Terms::Fee(Fen::new(f)))),
            Just(None),
        ];
        let signer = prop_oneof![Just(OrgKind::EquityPartner), Just(OrgKind::DirectTeam)];
        let stream = prop_oneof![Just(Stream::FirstYear), Just(Stream::Maintenance)];
        // Payments and refunds: a refund never takes more than was paid so far.
        let amounts = proptest::collection::vec(-3_000_000i64..10_000_000, 1..12).prop_map(|raw| {
            let mut paid = 0i64;
            raw.into_iter()
                .filter_map(|a| {
                    let a = if a < 0 { a.max(-paid) } else { a };
                    paid += a;
                    (a != 0).then_some(a)
                })
                .collect::<Vec<_>>()
        });
        (terms, signer, stream, any::<bool>(), 0i32..=3000, amounts).prop_map(
            |(terms, signer, stream, accepted, mbp, amounts)| {
                let mut rules = standard_rules();
                rules[2].rate = Some(Rate::from_bp(mbp).unwrap_or(Rate::ZERO));
                let agreement = snapshot("standard", 1, &rules, &BTreeMap::new(), signer, None);
                let line =
                    LineState { line_no: 1, execution: terms.map(|terms| Execution { party: S, terms }), accepted };
                Case { agreement, line, stream, amounts }
            },
        )
    }

    fn run(c: &Case, amounts: &[i64]) -> (Holdings, Vec<Step>) {
        let payments: Vec<_> =
            amounts.iter().enumerate().map(|(i, a)| LinePayment { id: i as i64, amount: Fen::new(*a) }).collect();
        let mut h = Holdings::new();
        let steps = settle_line(&c.agreement, parties(), &c.line, c.stream, &payments, &mut h).unwrap();
        (h, steps)
    }

    proptest! {
        #[test]
        fn shares_sum_to_what_was_paid_after_every_payment(c in case()) {
            let mut h = Holdings::new();
            let mut paid = 0i64;
            for (i, a) in c.amounts.iter().enumerate() {
                paid += a;
                let steps = settle_line(&c.agreement, parties(), &c.line, c.stream, &[LinePayment { id: i as i64, amount: Fen::new(*a) }], &mut h).unwrap();
                for s in &steps {
                    let sum: i64 = s.postings.iter().map(|p| p.amount.get()).sum();
                    prop_assert_eq!(sum, s.cash.get(), "every step balances");
                }
                prop_assert_eq!(h.values().map(|f| f.get()).sum::<i64>(), paid);
                prop_assert!(h.values().all(|f| !f.is_negative() || paid < 0));
            }
        }

        #[test]
        fn the_final_split_does_not_depend_on_how_the_money_was_cut(c in case(), cuts in proptest::collection::vec(1u8..=255, 1..6)) {
            let total: i64 = c.amounts.iter().sum();
            prop_assume!(total > 0);
            let (whole, _) = run(&c, &[total]);
            // Cut the same total differently.
            let weights: i64 = cuts.iter().map(|w| i64::from(*w)).sum();
            let mut pieces: Vec<i64> = cuts.iter().map(|w| total * i64::from(*w) / weights).collect();
            let rest = total - pieces.iter().sum::<i64>();
            pieces.push(rest);
            pieces.retain(|p| *p != 0);
            let (cut, _) = run(&c, &pieces);
            let (original, _) = run(&c, &c.amounts);
            let nonzero = |h: Holdings| h.into_iter().filter(|(_, f)| !f.is_zero()).collect::<Holdings>();
            prop_assert_eq!(nonzero(whole.clone()), nonzero(cut));
            prop_assert_eq!(nonzero(whole), nonzero(original));
        }

        #[test]
        fn a_second_settlement_posts_nothing(c in case()) {
            let (mut h, _) = run(&c, &c.amounts);
            let again = settle_line(&c.agreement, parties(), &c.line, c.stream, &[], &mut h).unwrap();
            prop_assert!(again.is_empty());
        }

        #[test]
        fn paying_then_refunding_leaves_every_party_at_zero(c in case(), x in 1i64..100_000_000) {
            let (h, _) = run(&c, &[x, -x]);
            prop_assert!(h.values().all(|f| f.is_zero()), "{:?}", h);
        }

        #[test]
        fn an_interrupted_settlement_ends_like_an_uninterrupted_one(c in case(), at in 0usize..12) {
            let at = at.min(c.amounts.len());
            let (full, _) = run(&c, &c.amounts);
            let payments: Vec<_> = c.amounts.iter().enumerate().map(|(i, a)| LinePayment { id: i as i64, amount: Fen::new(*a) }).collect();
            let mut h = Holdings::new();
            settle_line(&c.agreement, parties(), &c.line, c.stream, &payments[..at], &mut h).unwrap();
            settle_line(&c.agreement, parties(), &c.line, c.stream, &payments[at..], &mut h).unwrap();
            prop_assert_eq!(h, full);
        }

        #[test]
        fn cancellation_before_acceptance_leaves_the_subcontractor_at_zero(c in case()) {
            prop_assume!(c.stream == Stream::FirstYear && c.line.execution.is_some());
            let before = LineState { accepted: false, ..c.line };
            let (mut h, _) = { let c = Case { line: before, ..c.clone() }; run(&c, &c.amounts) };
            // The order is cancelled: the subcontract rule drops out.
            let cancelled = LineState { execution: None, accepted: false, ..c.line };
            settle_line(&c.agreement, parties(), &cancelled, c.stream, &[], &mut h).unwrap();
            prop_assert_eq!(held(&h, S, Account::Held), Fen::ZERO);
            prop_assert_eq!(held(&h, S, Account::Payable), Fen::ZERO);
            // …and the rest is split as if the line had never been subcontracted.
            let never = Case { line: cancelled, ..c.clone() };
            let (plain, _) = run(&never, &c.amounts);
            let nonzero = |h: Holdings| h.into_iter().filter(|(_, f)| !f.is_zero()).collect::<Holdings>();
            prop_assert_eq!(nonzero(h), nonzero(plain));
        }
    }
}
