//! Certification rules with no I/O: catalog entries, credential states and validity.

use chrono::{Months, NaiveDate};
use kernel::Error;
use serde::Serialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    Active,
    /// No longer awarded; credentials already held stay as they are.
    Retired,
}

impl CertStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A certification of the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertDef {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub category: String,
    pub description: Option<String>,
    /// How long a credential stays valid after it is issued.
    pub validity_months: i32,
    pub status: CertStatus,
}

pub fn validate_cert(mut c: CertDef) -> Result<CertDef, Error> {
    c.code = kernel::text::code("code", &c.code)?;
    c.name_zh = kernel::text::required_text("name_zh", &c.name_zh, 200)?;
    c.name_en = kernel::text::required_text("name_en", &c.name_en, 200)?;
    kernel::reference::category("category", &c.category)?;
    c.description = c.description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    if c.description.as_ref().is_some_and(|d| d.chars().count() > 4000) {
        return Err(Error::invalid("description", "must have at most 4000 characters"));
    }
    if !(1..=120).contains(&c.validity_months) {
        return Err(Error::invalid("validity_months", "must be between 1 and 120"));
    }
    Ok(c)
}

/// The states of a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Working towards it.
    InProgress,
    Earned,
    /// Earned, and expires within 30 days.
    Expiring,
    Expired,
    /// Withdrawn, with a reason.
    Revoked,
}

impl CredentialStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The days before expiry in which an earned credential is `expiring`.
pub const EXPIRING_WINDOW_DAYS: i64 = 30;

/// A credential's facts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CredentialFacts {
    pub status: CredentialStatus,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub revoked_reason: Option<String>,
}

/// Checks a credential's facts; fills the expiry date from the certification's validity when a
/// held credential has none.
pub fn validate_credential(mut f: CredentialFacts, validity_months: i32) -> Result<CredentialFacts, Error> {
    use CredentialStatus as S;
    f.revoked_reason = f.revoked_reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    match f.status {
        S::InProgress => {
            if f.issued_on.is_some() || f.expires_on.is_some() {
                return Err(Error::invalid("issued_on", "a credential in progress has no issue or expiry date yet"));
            }
        }
        S::Earned | S::Expiring | S::Expired | S::Revoked => {
            let issued =
                f.issued_on.ok_or_else(|| Error::invalid("issued_on", "a held credential has an issue date"))?;
            if f.status != S::Revoked || f.expires_on.is_none() {
                let default_expiry = issued
                    .checked_add_months(Months::new(validity_months.max(1) as u32))
                    .ok_or_else(|| Error::invalid("issued_on", "is out of range"))?;
                f.expires_on.get_or_insert(default_expiry);
            }
            if f.expires_on.is_some_and(|e| e <= issued) {
                return Err(Error::invalid("expires_on", "must be after the issue date"));
            }
        }
    }
    match (f.status, &f.revoked_reason) {
        (S::Revoked, None) => return Err(Error::invalid("revoked_reason", "a revoked credential states why")),
        (S::Revoked, Some(r)) if r.chars().count() > 1000 => {
            return Err(Error::invalid("revoked_reason", "must have at most 1000 characters"));
        }
        (S::Revoked, Some(_)) => {}
        (_, Some(_)) => return Err(Error::invalid("revoked_reason", "only a revoked credential has a reason")),
        (_, None) => {}
    }
    Ok(f)
}

/// True when the credential counts on `today`: earned or expiring, and not past its expiry.
/// Expiry by date counts at once, whether or not the daily sweep has updated the status yet.
pub fn is_valid_on(f: &CredentialFacts, today: NaiveDate) -> bool {
    matches!(f.status, CredentialStatus::Earned | CredentialStatus::Expiring)
        && f.expires_on.is_some_and(|e| e >= today)
}

/// The status a held credential should have on `today` (what the daily sweep writes).
pub fn status_on(f: &CredentialFacts, today: NaiveDate) -> CredentialStatus {
    use CredentialStatus as S;
    match (f.status, f.expires_on) {
        (S::Earned | S::Expiring, Some(e)) if e < today => S::Expired,
        (S::Earned | S::Expiring, Some(e)) if (e - today).num_days() <= EXPIRING_WINDOW_DAYS => S::Expiring,
        (S::Expiring, Some(_)) => S::Earned,
        (s, _) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn earned(issued: &str, expires: Option<&str>) -> CredentialFacts {
        CredentialFacts {
            status: CredentialStatus::Earned,
            issued_on: Some(d(issued)),
            expires_on: expires.map(d),
            revoked_reason: None,
        }
    }

    #[test]
    fn expiry_defaults_to_the_validity() {
        let f = validate_credential(earned("2026-01-31", None), 24).unwrap();
        assert_eq!(f.expires_on, Some(d("2028-01-31")));
    }

    #[test]
    fn bad_facts_are_refused() {
        assert!(validate_credential(earned("2026-01-01", Some("2025-01-01")), 12).is_err());
        let mut revoked = earned("2026-01-01", None);
        revoked.status = CredentialStatus::Revoked;
        assert!(validate_credential(revoked.clone(), 12).is_err());
        revoked.revoked_reason = Some("forged exam".into());
        assert!(validate_credential(revoked, 12).is_ok());
        let progress = CredentialFacts {
            status: CredentialStatus::InProgress,
            issued_on: Some(d("2026-01-01")),
            expires_on: None,
            revoked_reason: None,
        };
        assert!(validate_credential(progress, 12).is_err());
    }

    #[test]
    fn validity_follows_status_and_date() {
        let f = earned("2025-01-01", Some("2026-12-01"));
        assert!(is_valid_on(&f, d("2026-12-01")));
        assert!(!is_valid_on(&f, d("2026-12-02")));
        let mut revoked = f.clone();
        revoked.status = CredentialStatus::Revoked;
        assert!(!is_valid_on(&revoked, d("2026-06-01")));
    }

    #[test]
    fn the_sweep_status() {
        let f = earned("2025-01-01", Some("2026-12-01"));
        assert_eq!(status_on(&f, d("2026-10-01")), CredentialStatus::Earned);
        assert_eq!(status_on(&f, d("2026-11-05")), CredentialStatus::Expiring);
        assert_eq!(status_on(&f, d("2026-12-02")), CredentialStatus::Expired);
    }
}
