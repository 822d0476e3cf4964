//! Money and rates.
//!
//! Money is CNY in integer fen (分): `Fen(i64)`, with checked arithmetic only. Decimal strings
//! ("40000.00") are the wire format; `rust_decimal` parses and prints them and multiplies by
//! rates. A share of an amount is rounded half away from zero (四舍五入) to the fen. No float
//! ever touches money.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not a decimal amount: {0:?}")]
    NotANumber(String),
    #[error("an amount has at most two decimals (fen): {0:?}")]
    TooPrecise(String),
    #[error("amount out of range")]
    Overflow,
    #[error("an amount is at most 1000000000.00 (one billion yuan) either way: {0:?}")]
    TooLarge(String),
    #[error("a rate is a decimal fraction between 0 and 1 with at most four decimals: {0:?}")]
    BadRate(String),
}

/// An amount of money in fen (0.01 CNY). Negative amounts are refunds and clawbacks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(i64);

/// The largest amount accepted from outside — a payment or refund, a contract's first-year
/// amount, a line, an annual maintenance fee, a fixed fee: 10^11 fen, one billion yuan
/// (十亿元). With a line's first-year money capped at its amount and a year's maintenance at
/// the annual fee, a contract (at most ten years) moves at most 10^12 fen, and everything the
/// park adds up stays exact (docs/money.md, "Ceilings").
pub const MAX_INPUT_FEN: i64 = 100_000_000_000;

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub const fn new(fen: i64) -> Self {
        Fen(fen)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Fen) -> Result<Fen, MoneyError> {
        self.0.checked_add(other.0).map(Fen).ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Fen) -> Result<Fen, MoneyError> {
        self.0.checked_sub(other.0).map(Fen).ok_or(MoneyError::Overflow)
    }

    pub fn checked_neg(self) -> Result<Fen, MoneyError> {
        self.0.checked_neg().map(Fen).ok_or(MoneyError::Overflow)
    }

    /// Sum of many amounts, failing on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Fen>>(items: I) -> Result<Fen, MoneyError> {
        items.into_iter().try_fold(Fen::ZERO, Fen::checked_add)
    }

    /// `rate × self`, rounded half away from zero to the fen.
    pub fn share(self, rate: Rate) -> Result<Fen, MoneyError> {
        let exact = Decimal::from(self.0).checked_mul(rate.0).ok_or(MoneyError::Overflow)?;
        exact
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
            .to_i64()
            .map(Fen)
            .ok_or(MoneyError::Overflow)
    }

    /// Parses a decimal yuan amount ("40000.00", "-12.5", "7"): at most two decimals, at most
    /// `MAX_INPUT_FEN` in absolute value.
    pub fn parse_yuan(text: &str) -> Result<Fen, MoneyError> {
        let trimmed = text.trim();
        // Only plain decimal notation: no exponent, no thousands separators, no '+'.
        let plain = !trimmed.is_empty()
            && trimmed.char_indices().all(|(i, c)| c.is_ascii_digit() || c == '.' || (c == '-' && i == 0));
        if !plain {
            return Err(MoneyError::NotANumber(text.to_owned()));
        }
        let value = Decimal::from_str(trimmed).map_err(|_| MoneyError::NotANumber(text.to_owned()))?;
        if value.normalize().scale() > 2 {
            return Err(MoneyError::TooPrecise(text.to_owned()));
        }
        let too_large = || MoneyError::TooLarge(text.to_owned());
        let fen = value.checked_mul(Decimal::ONE_HUNDRED).and_then(|d| d.to_i64()).ok_or_else(too_large)?;
        if fen.unsigned_abs() > MAX_INPUT_FEN as u64 {
            return Err(too_large());
        }
        Ok(Fen(fen))
    }

    /// The decimal yuan string with exactly two decimals: "40000.00", "-0.01".
    pub fn to_yuan(self) -> String {
        Decimal::new(self.0, 2).to_string()
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_yuan())
    }
}

/// A fraction between 0 and 1 inclusive, with at most four decimals (0.01 %), e.g. a 40 %
/// channel share or a 30 % equity stake. Stored as basis points (1 bp = 0.0001).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(Decimal);

impl Rate {
    pub const ZERO: Rate = Rate(Decimal::ZERO);
    pub const ONE: Rate = Rate(Decimal::ONE);

    pub fn parse(text: &str) -> Result<Rate, MoneyError> {
        let bad = || MoneyError::BadRate(text.to_owned());
        let trimmed = text.trim();
        if trimmed.is_empty() || !trimmed.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(bad());
        }
        let value = Decimal::from_str(trimmed).map_err(|_| bad())?;
        if value.normalize().scale() > 4 || value < Decimal::ZERO || value > Decimal::ONE {
            return Err(bad());
        }
        Ok(Rate(value))
    }

    /// From basis points (0..=10_000).
    pub fn from_bp(bp: i32) -> Result<Rate, MoneyError> {
        if !(0..=10_000).contains(&bp) {
            return Err(MoneyError::BadRate(bp.to_string()));
        }
        Ok(Rate(Decimal::new(i64::from(bp), 4)))
    }

    pub fn to_bp(self) -> i32 {
        // In range by construction: 0 ≤ self ≤ 1 with at most four decimals.
        (self.0 * Decimal::from(10_000)).to_i32().unwrap_or_default()
    }

    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// The wire form: at least two decimals ("0.40", "0.7", "0.0125" → "0.70", "0.0125").
    pub fn to_wire(self) -> String {
        let mut d = self.0.normalize();
        if d.scale() < 2 {
            d.rescale(2);
        }
        d.to_string()
    }

    pub fn checked_add(self, other: Rate) -> Option<Decimal> {
        self.0.checked_add(other.0)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

/// In audit snapshots and other JSON, money is its decimal string.
impl serde::Serialize for Fen {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_yuan())
    }
}

impl serde::Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_wire())
    }
}

impl<'de> serde::Deserialize<'de> for Fen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Fen::parse_yuan(&text).map_err(serde::de::Error::custom)
    }
}

impl<'de> serde::Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Rate::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_yuan() {
        assert_eq!(Fen::parse_yuan("40000.00"), Ok(Fen(4_000_000)));
        assert_eq!(Fen::parse_yuan("-12.5"), Ok(Fen(-1250)));
        assert_eq!(Fen::parse_yuan("7"), Ok(Fen(700)));
        assert_eq!(Fen(4_000_000).to_yuan(), "40000.00");
        assert_eq!(Fen(-1).to_yuan(), "-0.01");
        assert_eq!(Fen(5).to_yuan(), "0.05");
    }

    #[test]
    fn refuses_bad_amounts() {
        for bad in ["", "abc", "1e5", "1,000.00", "+5", "0.001", "1.2.3", "--1", "NaN"] {
            assert!(Fen::parse_yuan(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(Fen::parse_yuan("1000000000.01"), Err(MoneyError::TooLarge("1000000000.01".into())));
        assert_eq!(Fen::parse_yuan("-1000000000.01"), Err(MoneyError::TooLarge("-1000000000.01".into())));
        assert!(Fen::parse_yuan("1000000000.00").is_ok());
        assert!(matches!(Fen::parse_yuan("99999999999999999999999.00"), Err(MoneyError::TooLarge(_))));
    }

    #[test]
    fn share_rounds_half_away_from_zero() {
        let forty = Rate::parse("0.4").unwrap();
        assert_eq!(Fen(1).share(forty), Ok(Fen(0))); // 0.4 fen
        assert_eq!(Fen(2).share(forty), Ok(Fen(1))); // 0.8 fen
        let half = Rate::parse("0.5").unwrap();
        assert_eq!(Fen(1).share(half), Ok(Fen(1))); // 0.5 → 1
        assert_eq!(Fen(-1).share(half), Ok(Fen(-1))); // -0.5 → -1
        assert_eq!(Fen(6_000_000).share(forty), Ok(Fen(2_400_000)));
    }

    #[test]
    fn rates_parse_print_and_convert() {
        assert_eq!(Rate::parse("0.4").unwrap().to_wire(), "0.40");
        assert_eq!(Rate::parse("0.0125").unwrap().to_bp(), 125);
        assert_eq!(Rate::from_bp(7000).unwrap().to_wire(), "0.70");
        assert_eq!(Rate::parse("1").unwrap(), Rate::ONE);
        for bad in ["1.01", "-0.1", "0.00001", "abc", "", "40%"] {
            assert!(Rate::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(Rate::from_bp(10_001).is_err());
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(Fen(i64::MAX).checked_add(Fen(1)), Err(MoneyError::Overflow));
        assert_eq!(Fen(i64::MIN).checked_neg(), Err(MoneyError::Overflow));
        assert_eq!(Fen::checked_sum([Fen(1), Fen(2), Fen(-3)]), Ok(Fen::ZERO));
    }

    proptest! {
        #[test]
        fn yuan_round_trips(fen in -MAX_INPUT_FEN..=MAX_INPUT_FEN) {
            prop_assert_eq!(Fen::parse_yuan(&Fen(fen).to_yuan()), Ok(Fen(fen)));
        }

        #[test]
        fn rate_bp_round_trips(bp in 0i32..=10_000) {
            let rate = Rate::from_bp(bp).unwrap();
            prop_assert_eq!(rate.to_bp(), bp);
            prop_assert_eq!(Rate::parse(&rate.to_wire()), Ok(rate));
        }

        #[test]
        fn share_is_within_half_a_fen(fen in -MAX_INPUT_FEN..=MAX_INPUT_FEN, bp in 0i32..=10_000) {
            let rate = Rate::from_bp(bp).unwrap();
            let share = Fen(fen).share(rate).unwrap();
            let exact = Decimal::from(fen) * rate.as_decimal();
            let diff = (Decimal::from(share.get()) - exact).abs();
            prop_assert!(diff <= Decimal::new(5, 1));
        }
    }
}
