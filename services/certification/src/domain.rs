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

/// What a piece of evidence proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// An exam result (score 0–100).
    Exam,
    /// Training attended (hours).
    Training,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// `submitted → verified | rejected`, decided by vendor ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    Submitted,
    Verified,
    Rejected,
}

impl EvidenceStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A piece of evidence as submitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvidenceFacts {
    pub kind: EvidenceKind,
    pub title: String,
    pub taken_on: NaiveDate,
    pub exam_score: Option<i32>,
    pub training_hours: Option<i32>,
    /// References to the documents that prove it (document ids or links), not the documents.
    pub attachments: Vec<String>,
}

pub fn validate_evidence(mut e: EvidenceFacts, today: NaiveDate) -> Result<EvidenceFacts, Error> {
    e.title = kernel::text::required_text("title", &e.title, 200)?;
    if e.taken_on > today {
        return Err(Error::invalid("taken_on", "cannot be in the future"));
    }
    if e.taken_on < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(Error::invalid("taken_on", "is too far in the past"));
    }
    match e.kind {
        EvidenceKind::Exam => {
            let s = e.exam_score.ok_or_else(|| Error::invalid("exam_score", "an exam result has a score"))?;
            if !(0..=100).contains(&s) {
                return Err(Error::invalid("exam_score", "must be between 0 and 100"));
            }
            if e.training_hours.is_some() {
                return Err(Error::invalid("training_hours", "an exam result has no training hours"));
            }
        }
        EvidenceKind::Training => {
            let h = e.training_hours.ok_or_else(|| Error::invalid("training_hours", "training has hours"))?;
            if !(1..=500).contains(&h) {
                return Err(Error::invalid("training_hours", "must be between 1 and 500"));
            }
            if e.exam_score.is_some() {
                return Err(Error::invalid("exam_score", "training has no exam score"));
            }
        }
    }
    if e.attachments.len() > 20 {
        return Err(Error::invalid("attachments", "at most 20 references"));
    }
    let mut refs = Vec::with_capacity(e.attachments.len());
    for a in &e.attachments {
        refs.push(kernel::text::required_text("attachments", a, 500)?);
    }
    e.attachments = refs;
    Ok(e)
}

/// Evidence is added while a credential is being worked towards or renewed — not to a revoked one.
pub fn accepts_evidence(status: CredentialStatus) -> Result<(), Error> {
    if status == CredentialStatus::Revoked {
        return Err(Error::conflict("illegal_transition", "a revoked credential takes no evidence"));
    }
    Ok(())
}

/// A review decides submitted evidence once; a rejection says why.
pub fn review(status: EvidenceStatus, verdict: EvidenceStatus, note: Option<String>) -> Result<Option<String>, Error> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(Error::invalid("note", "must have at most 2000 characters"));
    }
    if status != EvidenceStatus::Submitted {
        return Err(Error::conflict("illegal_transition", format!("this evidence was already {}", status.as_str())));
    }
    match verdict {
        EvidenceStatus::Rejected if note.is_none() => {
            Err(Error::invalid("note", "a rejection says why, so the implementer can put it right"))
        }
        EvidenceStatus::Submitted => Err(Error::invalid("verdict", "is verified or rejected")),
        _ => Ok(note),
    }
}

/// Which credentials are assessed against their requirements, and from when their evidence and
/// deliveries count: a credential in progress counts everything; an expiring or expired one is
/// renewed by what was achieved since it was last issued. Earned (not yet expiring) and revoked
/// credentials are not assessed.
pub fn counts_since(f: &CredentialFacts) -> Option<Option<NaiveDate>> {
    match f.status {
        CredentialStatus::InProgress => Some(None),
        CredentialStatus::Expiring | CredentialStatus::Expired => Some(f.issued_on),
        CredentialStatus::Earned | CredentialStatus::Revoked => None,
    }
}

/// The facts of a credential earned (or renewed) on `today` under requirements valid for
/// `validity_months`.
pub fn earned_on(today: NaiveDate, validity_months: i32) -> Result<CredentialFacts, Error> {
    let expires = today
        .checked_add_months(Months::new(validity_months.max(1) as u32))
        .ok_or_else(|| Error::invalid("validity_months", "is out of range"))?;
    Ok(CredentialFacts {
        status: CredentialStatus::Earned,
        issued_on: Some(today),
        expires_on: Some(expires),
        revoked_reason: None,
    })
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

    #[test]
    fn evidence_is_checked_by_kind() {
        let exam = EvidenceFacts {
            kind: EvidenceKind::Exam,
            title: " ERP-L2 written exam ".into(),
            taken_on: d("2026-10-01"),
            exam_score: Some(82),
            training_hours: None,
            attachments: vec!["doc:EX-2026-118".into()],
        };
        let today = d("2026-11-01");
        assert_eq!(validate_evidence(exam.clone(), today).unwrap().title, "ERP-L2 written exam");
        assert!(validate_evidence(EvidenceFacts { exam_score: None, ..exam.clone() }, today).is_err());
        assert!(validate_evidence(EvidenceFacts { exam_score: Some(101), ..exam.clone() }, today).is_err());
        assert!(validate_evidence(EvidenceFacts { taken_on: d("2026-12-01"), ..exam.clone() }, today).is_err());
        assert!(validate_evidence(EvidenceFacts { attachments: vec![" ".into()], ..exam.clone() }, today).is_err());
        let training =
            EvidenceFacts { kind: EvidenceKind::Training, exam_score: None, training_hours: Some(8), ..exam };
        assert!(validate_evidence(training.clone(), today).is_ok());
        assert!(validate_evidence(EvidenceFacts { training_hours: Some(0), ..training }, today).is_err());
    }

    #[test]
    fn evidence_is_reviewed_once_and_rejections_say_why() {
        use EvidenceStatus as E;
        assert!(review(E::Submitted, E::Verified, None).is_ok());
        assert!(review(E::Submitted, E::Rejected, None).is_err());
        assert_eq!(
            review(E::Submitted, E::Rejected, Some(" blurry scan ".into())).unwrap().as_deref(),
            Some("blurry scan")
        );
        assert!(review(E::Verified, E::Rejected, Some("late".into())).is_err());
        assert!(review(E::Submitted, E::Submitted, None).is_err());
    }

    #[test]
    fn what_is_assessed_and_from_when() {
        let f = earned("2025-01-01", Some("2026-12-01"));
        assert_eq!(counts_since(&f), None);
        let expiring = CredentialFacts { status: CredentialStatus::Expiring, ..f.clone() };
        assert_eq!(counts_since(&expiring), Some(Some(d("2025-01-01"))));
        let progress = CredentialFacts {
            status: CredentialStatus::InProgress,
            issued_on: None,
            expires_on: None,
            revoked_reason: None,
        };
        assert_eq!(counts_since(&progress), Some(None));
        let e = earned_on(d("2026-01-31"), 24).unwrap();
        assert_eq!(e.expires_on, Some(d("2028-01-31")));
        assert!(is_valid_on(&e, d("2026-02-01")));
    }
}
