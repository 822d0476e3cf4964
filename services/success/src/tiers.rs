//! Partner scorecards and tiers as plain calculations: what a scorecard holds, the thresholds
//! of each tier (data, edited by the platform admin), and which tier a scorecard reaches. No I/O.

use std::collections::BTreeMap;

use directory::domain::Tier;
use kernel::Error;
use serde::Serialize;

/// What a tier asks of a partner's trailing twelve months. Every threshold that is set must be
/// met; rates are in basis points (1 % = 100), quality in hundredths of a star.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Threshold {
    pub tier: Tier,
    /// First-year amounts signed plus accepted work delivered for other signers, in fen.
    pub min_revenue_fen: i64,
    pub min_success_bp: Option<i32>,
    /// Valid credentials held by the partner's people, all certifications together.
    pub min_valid_credentials: i32,
    pub min_quality_centi: Option<i32>,
    pub min_on_time_bp: Option<i32>,
    pub max_dispute_bp: Option<i32>,
}

/// A partner's trailing-twelve-month record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Scorecard {
    /// First-year amounts of the contracts it signed.
    pub signed_revenue_fen: i64,
    /// Amounts of the lines it delivered for other signers, accepted in the period.
    pub delivered_revenue_fen: i64,
    /// Clients it signed or delivered for.
    pub clients: i64,
    /// Of which with a verified in-window success credited to it.
    pub successes: i64,
    /// Valid credentials per certification code.
    pub credentials: BTreeMap<String, i64>,
    /// Ratings of its deliveries, all time, and their stars (the quality score's inputs).
    pub rated: i64,
    pub stars: i64,
    /// Orders it delivered in the period, of which on time, of which disputed by the client.
    pub delivered: i64,
    pub on_time: i64,
    pub disputed: i64,
}

impl Scorecard {
    pub fn revenue_fen(&self) -> i64 {
        self.signed_revenue_fen.saturating_add(self.delivered_revenue_fen)
    }

    pub fn valid_credentials(&self) -> i64 {
        self.credentials.values().sum()
    }

    /// The marketplace's quality score (the Bayesian average of overall stars), so tiers and
    /// dispatch ranking judge quality alike.
    pub fn quality_centi(&self) -> i32 {
        marketplace::domain::Quality { ratings: self.rated, stars: self.stars }.score_centi()
    }
}

/// The order of the tiers, registered lowest.
pub fn rank(t: Tier) -> u8 {
    match t {
        Tier::Registered => 0,
        Tier::Silver => 1,
        Tier::Gold => 2,
        Tier::Platinum => 3,
    }
}

/// Thresholds are a ladder: silver, gold, platinum at most once each (registered needs none),
/// each at least as demanding as the one below. Returns them sorted from the lowest.
pub fn validate_thresholds(mut list: Vec<Threshold>) -> Result<Vec<Threshold>, Error> {
    list.sort_by_key(|t| rank(t.tier));
    for (i, t) in list.iter().enumerate() {
        let field = |f: &str| format!("thresholds[{}].{f}", t.tier.as_str());
        if t.tier == Tier::Registered {
            return Err(Error::invalid("tier", "registered is where every partner starts: it has no thresholds"));
        }
        if i > 0 && list[i - 1].tier == t.tier {
            return Err(Error::invalid("tier", format!("{} appears twice", t.tier.as_str())));
        }
        if t.min_revenue_fen < 0 || t.min_valid_credentials < 0 {
            return Err(Error::invalid(&field("min_revenue"), "must not be negative"));
        }
        for (name, v) in [
            ("min_success_rate", t.min_success_bp),
            ("min_on_time_rate", t.min_on_time_bp),
            ("max_dispute_rate", t.max_dispute_bp),
        ] {
            if v.is_some_and(|v| !(0..=10_000).contains(&v)) {
                return Err(Error::invalid(&field(name), "must be between 0 and 1"));
            }
        }
        if t.min_quality_centi.is_some_and(|q| !(100..=500).contains(&q)) {
            return Err(Error::invalid(&field("min_quality"), "must be between 1.00 and 5.00"));
        }
        if i > 0 {
            let lower = &list[i - 1];
            let at_least = |a: Option<i32>, b: Option<i32>| b.is_none() || a.is_some_and(|a| Some(a) >= b);
            let ok = t.min_revenue_fen >= lower.min_revenue_fen
                && t.min_valid_credentials >= lower.min_valid_credentials
                && at_least(t.min_success_bp, lower.min_success_bp)
                && at_least(t.min_quality_centi, lower.min_quality_centi)
                && at_least(t.min_on_time_bp, lower.min_on_time_bp)
                && (lower.max_dispute_bp.is_none()
                    || t.max_dispute_bp.is_some_and(|d| Some(d) <= lower.max_dispute_bp));
            if !ok {
                return Err(Error::invalid(
                    "thresholds",
                    format!("{} must ask at least what {} asks", t.tier.as_str(), lower.tier.as_str()),
                ));
            }
        }
    }
    Ok(list)
}

/// Why a scorecard misses a threshold, one sentence per criterion missed.
pub fn misses(s: &Scorecard, t: &Threshold) -> Vec<String> {
    let mut out = Vec::new();
    if s.revenue_fen() < t.min_revenue_fen {
        out.push(format!(
            "revenue {} < {}",
            kernel::Fen::new(s.revenue_fen()).to_yuan(),
            kernel::Fen::new(t.min_revenue_fen).to_yuan()
        ));
    }
    if let Some(min) = t.min_success_bp
        && s.successes.saturating_mul(10_000) < i64::from(min).saturating_mul(s.clients.max(1))
    {
        out.push(format!("success {} of {} clients < {}", s.successes, s.clients, bp_text(min)));
    }
    if s.valid_credentials() < i64::from(t.min_valid_credentials) {
        out.push(format!("valid credentials {} < {}", s.valid_credentials(), t.min_valid_credentials));
    }
    if let Some(min) = t.min_quality_centi
        && s.quality_centi() < min
    {
        out.push(format!("quality {} < {}", centi_text(s.quality_centi()), centi_text(min)));
    }
    if let Some(min) = t.min_on_time_bp
        && s.on_time.saturating_mul(10_000) < i64::from(min).saturating_mul(s.delivered.max(1))
    {
        out.push(format!("on time {} of {} deliveries < {}", s.on_time, s.delivered, bp_text(min)));
    }
    if let Some(max) = t.max_dispute_bp
        && s.disputed.saturating_mul(10_000) > i64::from(max).saturating_mul(s.delivered)
    {
        out.push(format!("disputed {} of {} deliveries > {}", s.disputed, s.delivered, bp_text(max)));
    }
    out
}

/// The highest tier whose every threshold the scorecard meets; registered when none.
pub fn tier_for(s: &Scorecard, ladder: &[Threshold]) -> Tier {
    ladder
        .iter()
        .filter(|t| misses(s, t).is_empty())
        .map(|t| t.tier)
        .max_by_key(|t| rank(*t))
        .unwrap_or(Tier::Registered)
}

pub fn bp_text(bp: i32) -> String {
    format!("{}.{:02} %", bp / 100, bp % 100)
}

pub fn centi_text(c: i32) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ladder() -> Vec<Threshold> {
        let t = |tier, rev, succ, creds, q| Threshold {
            tier,
            min_revenue_fen: rev,
            min_success_bp: succ,
            min_valid_credentials: creds,
            min_quality_centi: q,
            min_on_time_bp: None,
            max_dispute_bp: Some(2_000),
        };
        vec![
            t(Tier::Platinum, 100_000_000, Some(3_000), 10, Some(460)),
            t(Tier::Silver, 10_000_000, None, 1, Some(400)),
            t(Tier::Gold, 30_000_000, Some(1_500), 4, Some(430)),
        ]
    }

    #[test]
    fn the_ladder_is_sorted_and_must_climb() {
        let l = validate_thresholds(ladder()).unwrap();
        assert_eq!(l.iter().map(|t| t.tier).collect::<Vec<_>>(), [Tier::Silver, Tier::Gold, Tier::Platinum]);
        let mut easy_gold = ladder();
        easy_gold[2].min_revenue_fen = 1;
        assert!(validate_thresholds(easy_gold).unwrap_err().to_string().contains("gold must ask at least"));
        let mut twice = ladder();
        twice[0].tier = Tier::Gold;
        assert!(validate_thresholds(twice).is_err());
    }

    #[test]
    fn a_scorecard_reaches_the_highest_tier_it_fully_meets() {
        let l = validate_thresholds(ladder()).unwrap();
        let mut s = Scorecard {
            signed_revenue_fen: 35_000_000,
            clients: 10,
            successes: 2,
            credentials: BTreeMap::from([("ERP-L2".into(), 3), ("PMP".into(), 2)]),
            rated: 20,
            stars: 92,
            delivered: 10,
            on_time: 9,
            disputed: 1,
            ..Scorecard::default()
        };
        assert_eq!(tier_for(&s, &l), Tier::Gold);
        // Success 2 of 10 misses platinum's 30 % (and revenue, credentials, quality).
        assert_eq!(misses(&s, &l[2]).len(), 4, "{:?}", misses(&s, &l[2]));
        s.disputed = 3;
        assert_eq!(tier_for(&s, &l), Tier::Registered, "30 % disputed is over every tier's 20 %");
        assert_eq!(tier_for(&Scorecard::default(), &l), Tier::Registered);
    }

    proptest! {
        #[test]
        fn more_of_everything_never_lowers_the_tier(
            rev in 0i64..200_000_000, clients in 0i64..50, succ in 0i64..50, creds in 0i64..20,
            rated in 0i64..50, stars_each in 1i64..=5, extra_rev in 0i64..50_000_000, extra_creds in 0i64..5,
        ) {
            let l = validate_thresholds(ladder()).unwrap();
            let s = Scorecard {
                signed_revenue_fen: rev,
                clients,
                successes: succ.min(clients),
                credentials: BTreeMap::from([("X".into(), creds)]),
                rated,
                stars: rated * stars_each,
                ..Scorecard::default()
            };
            let better = Scorecard {
                signed_revenue_fen: rev + extra_rev,
                credentials: BTreeMap::from([("X".into(), creds + extra_creds)]),
                ..s.clone()
            };
            prop_assert!(rank(tier_for(&better, &l)) >= rank(tier_for(&s, &l)));
            // The tier reached meets every one of its thresholds.
            let t = tier_for(&s, &l);
            if let Some(th) = l.iter().find(|x| x.tier == t) {
                prop_assert!(misses(&s, th).is_empty());
            }
        }
    }
}
