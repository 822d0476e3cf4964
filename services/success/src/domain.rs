//! Outcome-milestone rules with no I/O: the catalog entry, the window a milestone counts in,
//! a report's validation, its review, and who a verified success is credited to.

use chrono::{Months, NaiveDate};
use kernel::Error;
use serde::Serialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

/// A client's success counts when reached within this many months of its first contract,
/// unless the catalog entry says otherwise.
pub const DEFAULT_WINDOW_MONTHS: i32 = 36;

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum KindStatus {
    Active,
    /// No longer reported; milestones already reported stay as they are.
    Retired,
}

impl KindStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An outcome milestone of the catalog (高新技术企业 high-tech enterprise, 专精特新 SME …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutcomeKindDef {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub description: Option<String>,
    /// How long after the client's first contract reaching it counts as a success.
    pub window_months: i32,
    pub status: KindStatus,
}

pub fn validate_kind(mut k: OutcomeKindDef) -> Result<OutcomeKindDef, Error> {
    k.code = kernel::text::code("code", &k.code)?;
    k.name_zh = kernel::text::required_text("name_zh", &k.name_zh, 200)?;
    k.name_en = kernel::text::required_text("name_en", &k.name_en, 200)?;
    k.description = k.description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    if k.description.as_ref().is_some_and(|d| d.chars().count() > 4000) {
        return Err(Error::invalid("description", "must have at most 4000 characters"));
    }
    if !(1..=120).contains(&k.window_months) {
        return Err(Error::invalid("window_months", "must be between 1 and 120"));
    }
    Ok(k)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// Reported by the client or its signer, waiting for vendor ops.
    Reported,
    Verified,
    Rejected,
}

impl OutcomeStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a reporter says about a milestone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutcomeReport {
    pub achieved_on: NaiveDate,
    /// "高新技术企业证书 GR202633001234".
    pub title: String,
    pub details: Option<String>,
    /// References to documents (certificate scans, announcements); the park stores references.
    pub attachments: Vec<String>,
}

pub fn validate_report(mut r: OutcomeReport, today: NaiveDate) -> Result<OutcomeReport, Error> {
    r.title = kernel::text::required_text("title", &r.title, 200)?;
    r.details = r.details.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    if r.details.as_ref().is_some_and(|d| d.chars().count() > 4000) {
        return Err(Error::invalid("details", "must have at most 4000 characters"));
    }
    if r.achieved_on > today {
        return Err(Error::invalid("achieved_on", "cannot be in the future"));
    }
    if r.achieved_on < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(Error::invalid("achieved_on", "is too far in the past"));
    }
    if r.attachments.is_empty() {
        return Err(Error::invalid(
            "attachments",
            "a milestone is reported with evidence: at least one document reference",
        ));
    }
    if r.attachments.len() > 20 {
        return Err(Error::invalid("attachments", "at most 20 references"));
    }
    let mut refs = Vec::with_capacity(r.attachments.len());
    for a in &r.attachments {
        refs.push(kernel::text::required_text("attachments", a, 500)?);
    }
    r.attachments = refs;
    Ok(r)
}

/// The dates within which a milestone counts as a success: from the client's first contract
/// to `window_months` later, both days included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Window {
    pub fn from_first_contract(first_signed_on: NaiveDate, window_months: i32) -> Window {
        let months = Months::new(u32::try_from(window_months.max(0)).unwrap_or(0));
        Window { start: first_signed_on, end: first_signed_on.checked_add_months(months).unwrap_or(NaiveDate::MAX) }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }
}

/// A review decides a reported milestone once; a rejection says why.
pub fn review(status: OutcomeStatus, verdict: OutcomeStatus, note: Option<String>) -> Result<Option<String>, Error> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(Error::invalid("note", "must have at most 2000 characters"));
    }
    if status != OutcomeStatus::Reported {
        return Err(Error::conflict("illegal_transition", format!("this milestone was already {}", status.as_str())));
    }
    match verdict {
        OutcomeStatus::Rejected if note.is_none() => {
            Err(Error::invalid("note", "a rejection says why, so the reporter can put it right"))
        }
        OutcomeStatus::Reported => Err(Error::invalid("verdict", "is verified or rejected")),
        _ => Ok(note),
    }
}

/// How an organisation took part in a client's success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CreditRole {
    Client,
    /// Signed one of the client's contracts on or before the day the milestone was reached.
    Signer,
    /// Delivers (or delivered) an order of one of those contracts.
    Deliverer,
}

impl CreditRole {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One of the client's orders (or a contract without orders), as far as credit is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Involvement {
    pub signer_id: i64,
    pub signed_on: NaiveDate,
    /// The organisation the order was dispatched to, if any.
    pub deliverer_id: Option<i64>,
}

/// Who a verified success is credited to: the client, every organisation that had signed one of
/// its contracts by the day it was reached, and every organisation delivering an order of those
/// contracts — the engagement that led to the success. Work contracted afterwards earns no
/// credit. Sorted, without repeats.
pub fn credits(client_id: i64, achieved_on: NaiveDate, involved: &[Involvement]) -> Vec<(i64, CreditRole)> {
    let mut out = vec![(client_id, CreditRole::Client)];
    for i in involved.iter().filter(|i| i.signed_on <= achieved_on) {
        out.push((i.signer_id, CreditRole::Signer));
        if let Some(d) = i.deliverer_id {
            out.push((d, CreditRole::Deliverer));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_window_is_three_years_from_the_first_contract_both_days_included() {
        let w = Window::from_first_contract(d("2024-02-29"), DEFAULT_WINDOW_MONTHS);
        assert_eq!(w.end, d("2027-02-28"));
        assert!(w.contains(d("2024-02-29")));
        assert!(w.contains(d("2027-02-28")));
        assert!(!w.contains(d("2027-03-01")));
        assert!(!w.contains(d("2024-02-28")));
    }

    #[test]
    fn a_report_needs_evidence_and_a_past_date() {
        let today = d("2026-11-22");
        let ok = OutcomeReport {
            achieved_on: d("2026-10-01"),
            title: " 高新技术企业证书 ".into(),
            details: Some("  ".into()),
            attachments: vec!["dms://cert/1".into()],
        };
        let v = validate_report(ok.clone(), today).unwrap();
        assert_eq!(v.title, "高新技术企业证书");
        assert_eq!(v.details, None);
        let future = OutcomeReport { achieved_on: d("2026-11-23"), ..ok.clone() };
        assert!(validate_report(future, today).unwrap_err().to_string().contains("future"));
        let bare = OutcomeReport { attachments: vec![], ..ok };
        assert!(validate_report(bare, today).unwrap_err().to_string().contains("evidence"));
    }

    #[test]
    fn a_review_happens_once_and_a_rejection_says_why() {
        assert!(review(OutcomeStatus::Reported, OutcomeStatus::Verified, None).is_ok());
        assert!(review(OutcomeStatus::Reported, OutcomeStatus::Rejected, Some(" ".into())).is_err());
        assert_eq!(
            review(OutcomeStatus::Reported, OutcomeStatus::Rejected, Some("证书编号查无此证".into())).unwrap(),
            Some("证书编号查无此证".into())
        );
        let again = review(OutcomeStatus::Verified, OutcomeStatus::Rejected, Some("x".into())).unwrap_err();
        assert_eq!(again.code(), "illegal_transition");
    }

    #[test]
    fn credit_goes_to_the_engagement_before_the_day_it_was_reached() {
        let i =
            |signer_id, signed_on: &str, deliverer_id| Involvement { signer_id, signed_on: d(signed_on), deliverer_id };
        let involved = [
            i(2, "2025-01-10", Some(5)),
            i(2, "2025-01-10", Some(2)),
            i(2, "2025-01-10", None),
            // Signed after the milestone: neither signer nor deliverer is credited.
            i(3, "2026-06-01", Some(6)),
            i(4, "2026-05-01", None),
        ];
        let c = credits(9, d("2026-05-01"), &involved);
        assert_eq!(
            c,
            vec![
                (2, CreditRole::Signer),
                (2, CreditRole::Deliverer),
                (4, CreditRole::Signer),
                (5, CreditRole::Deliverer),
                (9, CreditRole::Client)
            ]
        );
    }
}
