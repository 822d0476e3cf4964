//! Revenue-share agreements (DESIGN §5): the ordered rules that split every payment of a contract
//! among the subcontractor of a line, the signing channel partner and the vendor.
//!
//! An agreement **template** is catalog data with per-tier overrides of the partner rates; a
//! contract stores the **snapshot** taken at signing (the template's rules for that signer and its
//! tier), which a later template change never alters. The subcontractor's rule carries no rate:
//! its terms (a share of gross or a fixed fee) are those of the subcontract it won.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr};

use crate::access::OrgKind;
use crate::error::Error;
use crate::money::Rate;

/// The money stream a payment belongs to.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Stream {
    /// The first-year contract amount.
    FirstYear,
    /// The annual maintenance fee of year 2 onwards.
    Maintenance,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Which streams a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    FirstYear,
    Maintenance,
    Any,
}

impl Applies {
    pub fn covers(self, s: Stream) -> bool {
        matches!(
            (self, s),
            (Applies::Any, _) | (Applies::FirstYear, Stream::FirstYear) | (Applies::Maintenance, Stream::Maintenance)
        )
    }
}

/// What a rate is taken of: the gross paid on the line and stream, or what the rules before it
/// left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Gross,
    Remainder,
}

/// Who a rule pays. The vendor is never named: it takes whatever the rules leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Beneficiary {
    /// The partner executing the line under a won subcontract (if the line is subcontracted).
    Subcontractor,
    /// The signing channel partner (equity partner); dropped when a direct team signs.
    Signer,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub beneficiary: Beneficiary,
    pub stream: Applies,
    /// Only this contract line (its number), or every line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_no: Option<i32>,
    pub basis: Basis,
    /// The rate; absent for the subcontractor, whose terms come from its award.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// The share is held back until the line's order is accepted.
    #[serde(default)]
    pub held_until_acceptance: bool,
}

/// A tier's overrides of the signer's rates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRates {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_year: Option<Rate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<Rate>,
}

/// The agreement snapshot a contract carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub template: String,
    #[serde(default)]
    pub version: i32,
    /// The signer's tier when it signed, if a tier override applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    pub rules: Vec<Rule>,
}

/// A template code: 2..=32 characters of a-z, 0-9, '-' and '_' ("standard", "erp-2027").
pub fn template_code(field: &str, text: &str) -> Result<String, Error> {
    let t = text.trim().to_ascii_lowercase();
    let ok = (2..=32).contains(&t.len())
        && t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok { Ok(t) } else { Err(Error::invalid(field, "must be 2 to 32 characters of a-z, 0-9, '-' or '_'")) }
}

/// The standard agreement of DESIGN §5: the subcontractor's execution share held back until
/// acceptance, 40 % of the remainder of first-year payments and 20 % of the remainder of
/// maintenance to the signing channel partner, the rest to the vendor.
pub fn standard_rules() -> Vec<Rule> {
    vec![
        Rule {
            beneficiary: Beneficiary::Subcontractor,
            stream: Applies::FirstYear,
            line_no: None,
            basis: Basis::Gross,
            rate: None,
            held_until_acceptance: true,
        },
        Rule {
            beneficiary: Beneficiary::Signer,
            stream: Applies::FirstYear,
            line_no: None,
            basis: Basis::Remainder,
            rate: Some(Rate::from_bp(4_000).unwrap_or(Rate::ZERO)),
            held_until_acceptance: false,
        },
        Rule {
            beneficiary: Beneficiary::Signer,
            stream: Applies::Maintenance,
            line_no: None,
            basis: Basis::Remainder,
            rate: Some(Rate::from_bp(2_000).unwrap_or(Rate::ZERO)),
            held_until_acceptance: false,
        },
    ]
}

/// Checks a list of rules: the signer's rules have a rate, the subcontractor's are of gross and
/// take their terms from the award, and no stream of any line can ever be shared out above
/// 100 % — a subcontractor's fixed fee counts as up to all of the line's gross.
pub fn validate_rules(rules: &[Rule]) -> Result<(), Error> {
    for (i, r) in rules.iter().enumerate() {
        match r.beneficiary {
            Beneficiary::Signer if r.rate.is_none() => {
                return Err(Error::invalid(&format!("rules[{i}].rate"), "the signer's rule needs a rate"));
            }
            Beneficiary::Subcontractor if r.rate.is_some() => {
                return Err(Error::invalid(
                    &format!("rules[{i}].rate"),
                    "the subcontractor's terms are those of its award; give no rate",
                ));
            }
            Beneficiary::Subcontractor if r.basis != Basis::Gross => {
                return Err(Error::invalid(&format!("rules[{i}].basis"), "the subcontractor's share is of gross"));
            }
            _ => {}
        }
        if r.line_no.is_some_and(|n| n < 1) {
            return Err(Error::invalid(&format!("rules[{i}].line_no"), "line numbers start at 1"));
        }
    }
    let mut lines: Vec<Option<i32>> = vec![None];
    lines.extend(rules.iter().filter_map(|r| r.line_no).map(Some));
    for stream in [Stream::FirstYear, Stream::Maintenance] {
        for line in &lines {
            let mut left = Decimal::ONE;
            for r in rules.iter().filter(|r| r.stream.covers(stream) && (r.line_no.is_none() || r.line_no == *line)) {
                let rate = r.rate.map(Rate::as_decimal).unwrap_or(Decimal::ONE);
                match r.basis {
                    Basis::Gross if rate > left => {
                        let place = line.map(|n| format!(" of line {n}")).unwrap_or_default();
                        return Err(Error::unprocessable(
                            "agreement_exceeds_100_percent",
                            format!("the rates on the {} stream{place} can sum above 100%", stream.as_str()),
                        ));
                    }
                    Basis::Gross => left -= rate,
                    Basis::Remainder => left -= left * rate,
                }
            }
        }
    }
    Ok(())
}

/// Takes the snapshot of a template for a signer: the signer's rules only for an equity partner
/// (a direct team is the vendor itself), with its tier's rates where the template overrides them.
pub fn snapshot(
    template: &str,
    version: i32,
    rules: &[Rule],
    tiers: &BTreeMap<String, TierRates>,
    signer: OrgKind,
    tier: Option<&str>,
) -> Agreement {
    let overrides = tier.and_then(|t| tiers.get(t));
    let rules = rules
        .iter()
        .filter(|r| r.beneficiary != Beneficiary::Signer || signer == OrgKind::EquityPartner)
        .map(|r| {
            let mut r = r.clone();
            if r.beneficiary == Beneficiary::Signer
                && let Some(o) = overrides
            {
                let raised = match r.stream {
                    Applies::FirstYear => o.first_year,
                    Applies::Maintenance => o.maintenance,
                    Applies::Any => None,
                };
                r.rate = raised.or(r.rate);
            }
            r
        })
        .collect();
    Agreement {
        template: template.to_owned(),
        version,
        tier: overrides.and(tier).filter(|_| signer == OrgKind::EquityPartner).map(str::to_owned),
        rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(t: &str) -> Option<Rate> {
        Some(Rate::parse(t).unwrap())
    }

    #[test]
    fn the_standard_agreement_is_valid() {
        validate_rules(&standard_rules()).unwrap();
    }

    #[test]
    fn gross_rates_above_one_hundred_percent_are_refused_naming_the_stream() {
        let mut rules = standard_rules();
        rules.push(Rule {
            beneficiary: Beneficiary::Signer,
            stream: Applies::Maintenance,
            line_no: None,
            basis: Basis::Gross,
            rate: rate("0.6"),
            held_until_acceptance: false,
        });
        rules.push(Rule {
            beneficiary: Beneficiary::Signer,
            stream: Applies::Maintenance,
            line_no: Some(2),
            basis: Basis::Gross,
            rate: rate("0.5"),
            held_until_acceptance: false,
        });
        let err = validate_rules(&rules).unwrap_err();
        assert_eq!(err.code(), "agreement_exceeds_100_percent");
        assert!(err.to_string().contains("maintenance stream of line 2"), "{err}");
        // After a subcontractor's share (up to all of gross), no gross rule fits on first_year.
        let mut rules = standard_rules();
        rules.push(Rule {
            beneficiary: Beneficiary::Signer,
            stream: Applies::FirstYear,
            line_no: None,
            basis: Basis::Gross,
            rate: rate("0.01"),
            held_until_acceptance: false,
        });
        assert!(validate_rules(&rules).unwrap_err().to_string().contains("first_year"));
    }

    #[test]
    fn a_direct_team_signs_without_channel_share_and_tiers_raise_the_rates() {
        let tiers = BTreeMap::from([("gold".to_owned(), TierRates { first_year: None, maintenance: rate("0.25") })]);
        let direct = snapshot("standard", 1, &standard_rules(), &tiers, OrgKind::DirectTeam, Some("gold"));
        assert_eq!(direct.rules.len(), 1);
        assert_eq!(direct.tier, None);
        let gold = snapshot("standard", 1, &standard_rules(), &tiers, OrgKind::EquityPartner, Some("gold"));
        assert_eq!(gold.rules[1].rate, rate("0.4"));
        assert_eq!(gold.rules[2].rate, rate("0.25"));
        assert_eq!(gold.tier.as_deref(), Some("gold"));
        let json = serde_json::to_value(&gold).unwrap();
        assert_eq!(serde_json::from_value::<Agreement>(json).unwrap(), gold);
    }
}
