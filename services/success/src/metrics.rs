//! The customer-success metrics as a plain calculation over facts the store reads: which
//! clients signed in a period and what became of them, which maintenance years fell due and were
//! paid, how deliveries were rated and whether they were on time. No I/O.
//!
//! Every rate is a count over a count, reported with both counts so a reader can check it; a
//! rate over nothing is absent, not zero.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

/// What the rows of a metrics answer are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
pub enum GroupBy {
    /// One row per partner (signer or deliverer) — direct teams, equity and subcontract partners.
    Partner,
    /// One row per region.
    Region,
    /// One row per industry.
    Industry,
    /// One row per month, quarter or year.
    Period,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
pub enum Granularity {
    Month,
    Quarter,
    Year,
}

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(day: NaiveDate) -> Month {
        Month { year: day.year(), month: day.month() }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// "2026-03" (the first seven characters of an ISO date or timestamp).
    pub fn parse(text: &str) -> Option<Month> {
        let (y, m) = text.get(..7)?.split_once('-')?;
        let month: u32 = m.parse().ok()?;
        (1..=12).contains(&month).then_some(Month { year: y.parse().ok()?, month })
    }

    /// The first month of the bucket this month falls in.
    pub fn bucket_start(self, g: Granularity) -> Month {
        match g {
            Granularity::Month => self,
            Granularity::Quarter => Month { year: self.year, month: self.month.saturating_sub(1) / 3 * 3 + 1 },
            Granularity::Year => Month { year: self.year, month: 1 },
        }
    }

    /// The label of the bucket this month falls in: "2026-03", "2026-Q1", "2026".
    pub fn bucket(self, g: Granularity) -> String {
        match g {
            Granularity::Month => format!("{:04}-{:02}", self.year, self.month),
            Granularity::Quarter => format!("{:04}-Q{}", self.year, (self.month - 1) / 3 + 1),
            Granularity::Year => format!("{:04}", self.year),
        }
    }
}

/// The group a fact falls in, as the store resolved it for the requested grouping.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Org(i64),
    Text(String),
    /// Grouped by period only (the period is the key) — or a dimension the record lacks.
    None,
}

/// A contract signed in the period (the cohort of client metrics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signing {
    /// For partner grouping the signer and every other organisation delivering its orders;
    /// otherwise one key.
    pub keys: Vec<Key>,
    pub month: Month,
    pub client_id: i64,
    /// Days from signing to the first accepted delivery of the contract, if any yet.
    pub days_to_first_acceptance: Option<i64>,
}

/// What became of a client, as of now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientOutcome {
    /// Two contracts or more signed up to the end of the period.
    pub repeat_signed: bool,
    /// Two service categories or more bought up to the end of the period.
    pub deep_signed: bool,
    /// Organisations credited with a verified outcome milestone of this client reached inside its
    /// window (the client itself among them when it has one).
    pub credited: HashSet<i64>,
}

impl ClientOutcome {
    fn succeeded_for(&self, key: &Key, client_id: i64) -> bool {
        match key {
            Key::Org(org) => self.credited.contains(org),
            _ => self.credited.contains(&client_id),
        }
    }
}

/// Counts added up by the database: ratings (count, sum of stars), deliveries (count, on time) or
/// maintenance years that fell due (count, renewed — paid, net of refunds, more than zero).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub key: Key,
    pub month: Month,
    pub count: i64,
    pub sum: i64,
}

/// What became of each client of a cohort, by client id (looked up once per signing and key).
pub type ClientOutcomes = foldhash::HashMap<i64, ClientOutcome>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub signings: Vec<Signing>,
    pub clients: ClientOutcomes,
    pub maintenance: Vec<Tally>,
    pub ratings: Vec<Tally>,
    pub deliveries: Vec<Tally>,
}

/// A rate with what it counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ratio {
    pub numerator: i64,
    pub denominator: i64,
}

impl Ratio {
    fn add(&mut self, hit: bool) {
        self.denominator = self.denominator.saturating_add(1);
        if hit {
            self.numerator = self.numerator.saturating_add(1);
        }
    }

    /// Adds a tally: `count` in the denominator, `sum` of them in the numerator.
    fn add_tally(&mut self, t: &Tally) {
        self.denominator = self.denominator.saturating_add(t.count);
        self.numerator = self.numerator.saturating_add(t.sum);
    }

    /// numerator ÷ denominator to four decimals (half away from zero); none over nothing.
    pub fn rate(&self) -> Option<Decimal> {
        (self.denominator > 0).then(|| {
            (Decimal::from(self.numerator) / Decimal::from(self.denominator))
                .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
        })
    }
}

/// An average with how many values it is over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Average {
    pub count: i64,
    pub sum: i64,
}

impl Average {
    /// sum ÷ count to two decimals (half away from zero); none over nothing.
    pub fn value(&self) -> Option<Decimal> {
        (self.count > 0).then(|| {
            (Decimal::from(self.sum) / Decimal::from(self.count))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        })
    }

    fn add(&mut self, count: i64, sum: i64) {
        self.count = self.count.saturating_add(count);
        self.sum = self.sum.saturating_add(sum);
    }
}

/// One row of the answer: a group and its seven metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricRow {
    pub key: Option<Key>,
    /// Set when grouped by period.
    pub period: Option<String>,
    /// Clients who signed a contract in the period (the cohort).
    pub clients: i64,
    pub success: Ratio,
    pub repeat_sign: Ratio,
    pub deep_sign: Ratio,
    pub maintenance_renewal: Ratio,
    pub rating: Average,
    pub days_to_first_acceptance: Average,
    pub on_time: Ratio,
}

/// Adds the facts up into one row per group (by key, or by period bucket).
pub fn compute(facts: &Facts, group_by: GroupBy, granularity: Granularity) -> Vec<MetricRow> {
    aggregate(facts, |key, month| match group_by {
        GroupBy::Period => ((Key::None, Some(month.bucket_start(granularity))), key),
        _ => ((key.clone(), None), key),
    })
    .into_iter()
    .map(|((key, period), mut row)| {
        row.key = (group_by != GroupBy::Period).then_some(key);
        row.period = period.map(|m| m.bucket(granularity));
        row
    })
    .collect()
}

/// Adds every fact up into one row, each client once, its success its own.
pub fn total(facts: &Facts) -> MetricRow {
    aggregate(facts, |_, _| ((Key::None, None), &Key::None)).into_values().next().unwrap_or_default()
}

/// A group: its key, and the first month of its period bucket when grouped by period.
type Group = (Key, Option<Month>);

/// Adds the facts up by the group `group` puts them in (with the key a success is credited to).
/// A signing counts once in each group its keys fall in.
fn aggregate<'k>(facts: &'k Facts, group: impl Fn(&'k Key, Month) -> (Group, &'k Key)) -> BTreeMap<Group, MetricRow> {
    // Tens of thousands of signings pass through here per request: a fast hasher (the keys are
    // ids and short labels, not attacker-chosen in bulk).
    let mut rows: foldhash::HashMap<Group, MetricRow> = Default::default();
    let mut cohort: foldhash::HashSet<(Group, i64)> =
        std::collections::HashSet::with_capacity_and_hasher(facts.signings.len(), Default::default());
    let mut seen: Vec<Group> = Vec::new();
    for s in &facts.signings {
        seen.clear();
        for key in &s.keys {
            let (g, credited) = group(key, s.month);
            if seen.contains(&g) {
                continue;
            }
            let first_of_client = cohort.insert((g.clone(), s.client_id));
            let row = match rows.get_mut(&g) {
                Some(row) => row,
                None => rows.entry(g.clone()).or_default(),
            };
            if let Some(days) = s.days_to_first_acceptance {
                row.days_to_first_acceptance.add(1, days);
            }
            if first_of_client {
                row.clients = row.clients.saturating_add(1);
                let outcome = facts.clients.get(&s.client_id);
                row.success.add(outcome.is_some_and(|o| o.succeeded_for(credited, s.client_id)));
                row.repeat_sign.add(outcome.is_some_and(|o| o.repeat_signed));
                row.deep_sign.add(outcome.is_some_and(|o| o.deep_signed));
            }
            seen.push(g);
        }
    }
    for t in &facts.maintenance {
        rows.entry(group(&t.key, t.month).0).or_default().maintenance_renewal.add_tally(t);
    }
    for t in &facts.ratings {
        rows.entry(group(&t.key, t.month).0).or_default().rating.add(t.count, t.sum);
    }
    for t in &facts.deliveries {
        rows.entry(group(&t.key, t.month).0).or_default().on_time.add_tally(t);
    }
    rows.into_iter().collect()
}

/// The months a period spans, first and last included.
pub fn months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let (a, b) = (Month::of(from), Month::of(to));
    i64::from(b.year - a.year) * 12 + i64::from(b.month) - i64::from(a.month) + 1
}

/// The maintenance years of a contract that fall due between `from` and `to`: year k ≥ 2 starts
/// on the (k−1)th anniversary of signing. Returns (k, the day it starts).
pub fn maintenance_years(
    signed_on: NaiveDate,
    term_years: i32,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(i32, NaiveDate)> {
    (2..=term_years.clamp(0, 50))
        .filter_map(|k| {
            let months = u32::try_from((k - 1) * 12).ok()?;
            let due = signed_on.checked_add_months(chrono::Months::new(months))?;
            (from <= due && due <= to).then_some((k, due))
        })
        .collect()
}

/// The signing days whose year `k` (≥ 2) falls due between `from` and `to`, as the first and last
/// such day: the anniversary moves with the signing day, never backwards, so they are one
/// interval — exactly the days for which [`maintenance_years`] yields `k`. None when no day does.
pub fn signed_for_year(k: i32, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let months = chrono::Months::new(u32::try_from(k.checked_sub(1)?.checked_mul(12)?).ok()?);
    let due = |d: NaiveDate| d.checked_add_months(months);
    let mut first = from.checked_sub_months(months)?;
    let mut last = to.checked_sub_months(months)?;
    // Subtracting months clamps the day (and the anniversary of 29 February is 28 February):
    // a step or two puts each end on the exact day.
    for _ in 0..4 {
        if due(first)? < from {
            first = first.succ_opt()?;
        } else if first.pred_opt().and_then(due).is_some_and(|d| d >= from) {
            first = first.pred_opt()?;
        }
        if due(last)? > to {
            last = last.pred_opt()?;
        } else if last.succ_opt().and_then(due).is_some_and(|d| d <= to) {
            last = last.succ_opt()?;
        }
    }
    (first <= last).then_some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn m(y: i32, mo: u32) -> Month {
        Month { year: y, month: mo }
    }

    #[test]
    fn buckets_and_parsing() {
        assert_eq!(m(2026, 3).bucket(Granularity::Month), "2026-03");
        assert_eq!(m(2026, 3).bucket(Granularity::Quarter), "2026-Q1");
        assert_eq!(m(2026, 10).bucket(Granularity::Quarter), "2026-Q4");
        assert_eq!(m(2026, 10).bucket(Granularity::Year), "2026");
        assert_eq!(Month::parse("2026-11-22 08:00:00+00:00"), Some(m(2026, 11)));
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(months_between(d("2025-12-01"), d("2026-11-30")), 12);
    }

    #[test]
    fn maintenance_falls_due_on_anniversaries() {
        let years = maintenance_years(d("2024-03-15"), 3, d("2025-01-01"), d("2026-12-31"));
        assert_eq!(years, vec![(2, d("2025-03-15")), (3, d("2026-03-15"))]);
        assert!(maintenance_years(d("2024-03-15"), 1, d("2025-01-01"), d("2026-12-31")).is_empty());
    }

    #[test]
    fn the_days_signed_for_a_year_due_in_a_period_follow_29_february() {
        // Signed on 29 February 2024, year 2 starts on 28 February 2025.
        assert_eq!(signed_for_year(2, d("2025-02-28"), d("2025-02-28")), Some((d("2024-02-28"), d("2024-02-29"))));
        assert_eq!(signed_for_year(2, d("2025-03-01"), d("2025-12-31")), Some((d("2024-03-01"), d("2024-12-31"))));
        // No year starts on 29 February 2028: contracts signed on 28 February 2026 start year 3 on
        // the 28th.
        assert_eq!(signed_for_year(3, d("2028-02-29"), d("2028-03-01")), Some((d("2026-03-01"), d("2026-03-01"))));
        assert_eq!(signed_for_year(2, d("2025-02-28"), d("2025-02-27")), None);
    }

    #[test]
    fn a_client_counts_once_per_group_and_success_is_credited_per_partner() {
        let client = |credited: &[i64], repeat_signed, deep_signed| ClientOutcome {
            repeat_signed,
            deep_signed,
            credited: credited.iter().copied().collect(),
        };
        let facts = Facts {
            signings: vec![
                // Client 10 signed twice with partner 2 (delivered by 5), once in March, once in May.
                Signing {
                    keys: vec![Key::Org(2), Key::Org(5)],
                    month: m(2026, 3),
                    client_id: 10,
                    days_to_first_acceptance: Some(30),
                },
                Signing { keys: vec![Key::Org(2)], month: m(2026, 5), client_id: 10, days_to_first_acceptance: None },
                Signing {
                    keys: vec![Key::Org(2)],
                    month: m(2026, 5),
                    client_id: 11,
                    days_to_first_acceptance: Some(45),
                },
            ],
            clients: [(10, client(&[10, 2], true, true)), (11, client(&[], false, false))].into_iter().collect(),
            maintenance: vec![Tally { key: Key::Org(2), month: m(2026, 4), count: 1, sum: 1 }],
            ratings: vec![Tally { key: Key::Org(5), month: m(2026, 6), count: 2, sum: 9 }],
            deliveries: vec![Tally { key: Key::Org(5), month: m(2026, 6), count: 4, sum: 3 }],
        };
        let rows = compute(&facts, GroupBy::Partner, Granularity::Month);
        assert_eq!(rows.len(), 2);
        let p2 = &rows[0];
        assert_eq!(p2.key, Some(Key::Org(2)));
        assert_eq!(p2.clients, 2);
        assert_eq!(p2.success, Ratio { numerator: 1, denominator: 2 });
        assert_eq!(p2.repeat_sign, Ratio { numerator: 1, denominator: 2 });
        assert_eq!(p2.deep_sign.rate(), Some(Decimal::new(5000, 4)));
        assert_eq!(p2.maintenance_renewal, Ratio { numerator: 1, denominator: 1 });
        assert_eq!(p2.days_to_first_acceptance.value(), Some(Decimal::new(3750, 2)));
        let p5 = &rows[1];
        // Partner 5 delivered for client 10 but is not credited with its success.
        assert_eq!(p5.success, Ratio { numerator: 0, denominator: 1 });
        assert_eq!(p5.rating.value(), Some(Decimal::new(450, 2)));
        assert_eq!(p5.on_time.rate(), Some(Decimal::new(7500, 4)));
        assert_eq!(p5.maintenance_renewal.rate(), None);

        let by_month = compute(&facts, GroupBy::Period, Granularity::Month);
        let labels: Vec<_> = by_month.iter().map(|r| r.period.clone().unwrap()).collect();
        assert_eq!(labels, ["2026-03", "2026-04", "2026-05", "2026-06"]);
        // In May both clients signed; client 10 counts again in its own month.
        assert_eq!(by_month[2].clients, 2);
        let by_year = compute(&facts, GroupBy::Period, Granularity::Year);
        assert_eq!(by_year.len(), 1);
        assert_eq!(by_year[0].clients, 2, "a client counts once per bucket");
        assert_eq!(by_year[0].success, Ratio { numerator: 1, denominator: 2 });
    }

    fn arb_facts() -> impl Strategy<Value = Facts> {
        let signing = (1i64..6, 1i64..4, 1u32..13, 0i64..8, proptest::option::of(0i64..400)).prop_map(
            |(k1, k2, mo, client, days)| Signing {
                keys: if k1 == k2 { vec![Key::Org(k1)] } else { vec![Key::Org(k1), Key::Org(k2)] },
                month: m(2026, mo),
                client_id: client,
                days_to_first_acceptance: days,
            },
        );
        let tally = (1i64..6, 1u32..13, 0i64..20).prop_flat_map(|(k, mo, count)| {
            (0..=count).prop_map(move |sum| Tally { key: Key::Org(k), month: m(2026, mo), count, sum })
        });
        let outcome = (0i64..8, any::<bool>(), any::<bool>(), proptest::collection::hash_set(0i64..8, 0..4)).prop_map(
            |(c, repeat_signed, deep_signed, credited)| (c, ClientOutcome { repeat_signed, deep_signed, credited }),
        );
        (
            proptest::collection::vec(signing, 0..30),
            proptest::collection::vec(outcome, 0..8),
            proptest::collection::vec(tally.clone(), 0..20),
            proptest::collection::vec(tally.clone(), 0..20),
        )
            .prop_map(|(signings, outcomes, deliveries, due)| Facts {
                signings,
                clients: outcomes.into_iter().collect(),
                maintenance: due,
                ratings: deliveries.iter().map(|t| Tally { sum: t.count * 4, ..t.clone() }).collect(),
                deliveries,
            })
    }

    fn arb_day() -> impl Strategy<Value = NaiveDate> {
        // 2020-01-01 and the next 3,000 days: several 29 Februaries.
        (0i64..3000).prop_map(|n| d("2020-01-01") + chrono::Duration::days(n))
    }

    proptest! {
        #[test]
        fn the_days_signed_for_a_year_are_those_whose_year_falls_due(
            from in arb_day(), len in 0i64..800, k in 2i32..=10, offset in -5i64..810,
        ) {
            // Signing days around those whose year k starts in the period, ends included.
            let to = from + chrono::Duration::days(len);
            let back = chrono::Months::new(u32::try_from((k - 1) * 12).unwrap_or_default());
            let signed = from.checked_sub_months(back).unwrap_or(from) + chrono::Duration::days(offset);
            let due = maintenance_years(signed, 10, from, to).iter().any(|(year, _)| *year == k);
            let window = signed_for_year(k, from, to);
            prop_assert_eq!(due, window.is_some_and(|(a, b)| a <= signed && signed <= b), "{:?}", window);
        }

        #[test]
        fn rates_are_fractions_and_additive_counts_survive_any_grouping(facts in arb_facts()) {
            for g in [GroupBy::Partner, GroupBy::Period] {
                for gran in [Granularity::Month, Granularity::Quarter, Granularity::Year] {
                    let rows = compute(&facts, g, gran);
                    for r in &rows {
                        for ratio in [r.success, r.repeat_sign, r.deep_sign, r.maintenance_renewal, r.on_time] {
                            prop_assert!(ratio.numerator <= ratio.denominator);
                            if let Some(rate) = ratio.rate() {
                                prop_assert!(rate >= Decimal::ZERO && rate <= Decimal::ONE);
                            }
                        }
                        prop_assert_eq!(r.success.denominator, r.clients);
                    }
                    // Deliveries, ratings and due maintenance years add up, however grouped.
                    let delivered: i64 = rows.iter().map(|r| r.on_time.denominator).sum();
                    prop_assert_eq!(delivered, facts.deliveries.iter().map(|t| t.count).sum::<i64>());
                    let rated: i64 = rows.iter().map(|r| r.rating.count).sum();
                    prop_assert_eq!(rated, facts.ratings.iter().map(|t| t.count).sum::<i64>());
                    let due: i64 = rows.iter().map(|r| r.maintenance_renewal.denominator).sum();
                    prop_assert_eq!(due, facts.maintenance.iter().map(|t| t.count).sum::<i64>());
                }
            }
            // A year holds every client of its months, each once.
            let year = compute(&facts, GroupBy::Period, Granularity::Year);
            let distinct: HashSet<i64> = facts.signings.iter().map(|s| s.client_id).collect();
            prop_assert_eq!(year.iter().map(|r| r.clients).sum::<i64>(), distinct.len() as i64);
            let months = compute(&facts, GroupBy::Period, Granularity::Month);
            prop_assert!(months.iter().map(|r| r.clients).sum::<i64>() >= distinct.len() as i64);
        }
    }
}
