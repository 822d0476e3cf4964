//! A contract's money for people, with no I/O: per line and stream, what the client paid and
//! each party's share of it — allocated, clawed back, released from held, and where it stands
//! (payable, held, or the vendor's revenue) — each figure the sum of entries it lists.

use std::collections::BTreeMap;

use crate::store::entry;

/// One party's share of one line's stream. Amounts in fen, positive when owed to the party.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShareMoney {
    pub party_id: i64,
    /// The agreement rules behind the share, numbered from 1 (empty for the vendor's rest).
    pub rules: Vec<i32>,
    /// The rate of the latest allocation, in basis points, or
    pub rate_bp: Option<i32>,
    /// the fixed fee it covers.
    pub fee_fen: Option<i64>,
    /// What the payments allocated to it.
    pub allocated: i128,
    /// What refunds and re-splits took back.
    pub clawed_back: i128,
    /// What moved from held to payable on acceptance.
    pub released: i128,
    /// Owed to it now.
    pub payable: i128,
    /// Held back until acceptance.
    pub held: i128,
    /// The vendor's revenue (the vendor's rest only).
    pub revenue: i128,
    /// The entries behind these figures.
    pub entry_ids: Vec<i64>,
}

/// One stream of one line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamMoney {
    pub stream: String,
    /// Paid by the client, net of refunds.
    pub paid: i128,
    pub shares: Vec<ShareMoney>,
}

/// One line of the contract.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineMoney {
    pub line_id: i64,
    pub streams: Vec<StreamMoney>,
}

/// The contract's money: the lines in `line_ids` order, their streams, their shares.
///
/// `paid` holds what was paid per (line, stream); `entries` the contract's entries (cash and
/// payouts are not shares and are left out).
pub fn contract_money(line_ids: &[i64], paid: &[(i64, String, i64)], entries: &[entry::Model]) -> Vec<LineMoney> {
    type Key = (i64, String);
    let mut streams: BTreeMap<Key, (i128, BTreeMap<i64, ShareMoney>)> = BTreeMap::new();
    for (line, stream, amount) in paid {
        streams.entry((*line, stream.clone())).or_default().0 += i128::from(*amount);
    }
    for e in entries {
        let (Some(line), Some(stream)) = (e.line_id, e.stream.clone()) else { continue };
        if !matches!(e.account.as_str(), "payable" | "held" | "vendor_revenue") {
            continue;
        }
        let shares = &mut streams.entry((line, stream)).or_default().1;
        let s =
            shares.entry(e.party_id).or_insert_with(|| ShareMoney { party_id: e.party_id, ..ShareMoney::default() });
        // A credit (negative amount) is money owed to the party.
        let owed = -i128::from(e.amount_fen);
        match e.account.as_str() {
            "payable" => s.payable += owed,
            "held" => s.held += owed,
            _ => s.revenue += owed,
        }
        match e.kind.as_str() {
            "allocation" => {
                s.allocated += owed;
                s.rate_bp = e.rate_bp.or(s.rate_bp);
                s.fee_fen = e.fee_fen.or(s.fee_fen);
            }
            "clawback" => s.clawed_back -= owed,
            // A release credits payable and debits held: count the payable side once.
            "release" if e.account == "payable" => s.released += owed,
            _ => {}
        }
        if let Some(r) = e.rule.map(|r| r + 1)
            && !s.rules.contains(&r)
        {
            s.rules.push(r);
        }
        s.entry_ids.push(e.id);
    }
    line_ids
        .iter()
        .map(|line| LineMoney {
            line_id: *line,
            streams: streams
                .range((*line, String::new())..)
                .take_while(|((l, _), _)| l == line)
                .map(|((_, stream), (paid, shares))| StreamMoney {
                    stream: stream.clone(),
                    paid: *paid,
                    shares: shares
                        .values()
                        .cloned()
                        .map(|mut s| {
                            s.rules.sort_unstable();
                            s
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn e(id: i64, party: i64, account: &str, kind: &str, amount: i64, rule: Option<i32>) -> entry::Model {
        entry::Model {
            id,
            txn_id: 1,
            contract_id: Some(1),
            line_id: Some(10),
            stream: Some("first_year".into()),
            payment_id: Some(1),
            payout_id: None,
            party_id: party,
            account: account.into(),
            amount_fen: amount,
            kind: kind.into(),
            rule,
            rate_bp: rule.map(|_| 4000),
            fee_fen: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn each_figure_is_the_sum_of_its_entries() {
        // 1,000.00 paid; the signer's 40% held, then released; a refund of 100.00 claws back 40.00.
        let entries = vec![
            e(1, 0, "cash", "receipt", 100_000, None),
            e(2, 4, "held", "allocation", -40_000, Some(0)),
            e(3, 1, "vendor_revenue", "allocation", -60_000, None),
            e(4, 4, "held", "release", 40_000, Some(0)),
            e(5, 4, "payable", "release", -40_000, Some(0)),
            e(6, 4, "payable", "clawback", 4_000, Some(0)),
            e(7, 1, "vendor_revenue", "clawback", 6_000, None),
        ];
        let paid = vec![(10, "first_year".to_owned(), 90_000)];
        let lines = contract_money(&[10], &paid, &entries);
        let stream = &lines[0].streams[0];
        assert_eq!(stream.paid, 90_000);
        let signer = stream.shares.iter().find(|s| s.party_id == 4).cloned().unwrap_or_default();
        assert_eq!((signer.allocated, signer.released, signer.clawed_back), (40_000, 40_000, 4_000));
        assert_eq!((signer.payable, signer.held), (36_000, 0));
        assert_eq!((signer.rules.clone(), signer.rate_bp), (vec![1], Some(4000)));
        assert_eq!(signer.entry_ids, vec![2, 4, 5, 6]);
        let vendor = stream.shares.iter().find(|s| s.party_id == 1).cloned().unwrap_or_default();
        assert_eq!(vendor.revenue, 54_000);
        // Shares add up to what was paid, net.
        let total: i128 = stream.shares.iter().map(|s| s.payable + s.held + s.revenue).sum();
        assert_eq!(total, stream.paid);
    }

    #[test]
    fn a_line_without_money_is_listed_empty() {
        let lines = contract_money(&[10, 11], &[], &[]);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.streams.is_empty()));
    }
}
