//! What earns a certification, and how far an implementer has come towards it. Pure: the
//! achieved figures are gathered by the store, the judgement is made here.

use kernel::Error;
use rust_decimal::Decimal;
use serde::Serialize;

/// One version of a certification's requirements. Every criterion that is set must be met; a
/// version sets at least one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Requirements {
    pub version: i32,
    /// A verified exam result of at least this score (0–100).
    pub exam_min_score: Option<i32>,
    /// At least this many verified training hours.
    pub training_hours: Option<i32>,
    /// Accepted deliveries of any of these services (catalog codes) count …
    pub delivery_services: Vec<String>,
    /// … and at least this many are needed (0: no delivery criterion).
    pub delivery_count: i32,
    /// The average client rating of those deliveries, in hundredths (400 = 4.00).
    pub min_rating_centi: Option<i32>,
    /// How long a credential earned under this version stays valid.
    pub validity_months: i32,
    pub note: Option<String>,
}

/// Checks a new version's criteria (the version number is assigned by the store).
pub fn validate_requirements(mut r: Requirements) -> Result<Requirements, Error> {
    if r.exam_min_score.is_some_and(|s| !(0..=100).contains(&s)) {
        return Err(Error::invalid("exam_min_score", "must be between 0 and 100"));
    }
    if r.training_hours.is_some_and(|h| !(1..=2000).contains(&h)) {
        return Err(Error::invalid("training_hours", "must be between 1 and 2000"));
    }
    if !(0..=1000).contains(&r.delivery_count) {
        return Err(Error::invalid("delivery_count", "must be between 0 and 1000"));
    }
    let mut services = Vec::with_capacity(r.delivery_services.len());
    for s in &r.delivery_services {
        let code = kernel::text::code("delivery_services", s)?;
        if !services.contains(&code) {
            services.push(code);
        }
    }
    r.delivery_services = services;
    if r.delivery_count > 0 && r.delivery_services.is_empty() {
        return Err(Error::invalid("delivery_services", "name the services whose accepted deliveries count"));
    }
    if r.delivery_count == 0 && !r.delivery_services.is_empty() {
        return Err(Error::invalid("delivery_count", "must be at least 1 when services are named"));
    }
    if let Some(m) = r.min_rating_centi {
        if !(100..=500).contains(&m) {
            return Err(Error::invalid("min_average_rating", "must be between 1.00 and 5.00"));
        }
        if r.delivery_count == 0 {
            return Err(Error::invalid("min_average_rating", "a minimum rating applies to required deliveries"));
        }
    }
    if !(1..=120).contains(&r.validity_months) {
        return Err(Error::invalid("validity_months", "must be between 1 and 120"));
    }
    r.note = r.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if r.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(Error::invalid("note", "must have at most 2000 characters"));
    }
    if r.exam_min_score.is_none() && r.training_hours.is_none() && r.delivery_count == 0 {
        return Err(Error::invalid(
            "requirements",
            "set at least one criterion (exam, training hours or deliveries); a certification without \
             requirements is earned only by verification",
        ));
    }
    Ok(r)
}

/// Parses a rating such as "4.0" or "4.25" into hundredths.
pub fn rating_centi(field: &str, text: &str) -> Result<i32, Error> {
    let d: Decimal = text.trim().parse().map_err(|_| Error::invalid(field, "must be a number such as 4.0"))?;
    if d.scale() > 2 {
        return Err(Error::invalid(field, "has at most two decimal places"));
    }
    (d * Decimal::ONE_HUNDRED)
        .trunc()
        .to_string()
        .parse::<i32>()
        .map_err(|_| Error::invalid(field, "must be between 1.00 and 5.00"))
}

pub fn centi_text(centi: i32) -> String {
    Decimal::new(i64::from(centi), 2).to_string()
}

/// What an implementer has achieved that counts towards one credential.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Achieved {
    /// The best verified exam score.
    pub best_exam: Option<i32>,
    /// Verified training hours.
    pub training_hours: i64,
    /// Accepted deliveries of the required services.
    pub deliveries: i64,
    /// How many of those the client rated, and the sum of their overall stars.
    pub rated: i64,
    pub stars: i64,
}

/// Per service: accepted deliveries, rated ones and their stars.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub service_code: String,
    pub accepted: i64,
    pub rated: i64,
    pub stars: i64,
}

impl Achieved {
    /// Adds up the deliveries of the services the requirements name.
    pub fn with_deliveries(mut self, req: &Requirements, records: &[DeliveryRecord]) -> Achieved {
        for r in records.iter().filter(|r| req.delivery_services.contains(&r.service_code)) {
            self.deliveries = self.deliveries.saturating_add(r.accepted);
            self.rated = self.rated.saturating_add(r.rated);
            self.stars = self.stars.saturating_add(r.stars);
        }
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    Exam,
    Training,
    Deliveries,
    Rating,
}

/// One criterion: what is required, what is achieved, and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CriterionProgress {
    pub criterion: Criterion,
    pub required: String,
    pub achieved: String,
    pub met: bool,
    pub text_en: String,
    pub text_zh: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub version: i32,
    pub items: Vec<CriterionProgress>,
    /// Every criterion met.
    pub met: bool,
}

/// The average of `stars` over `rated`, to two places (half away from zero).
fn average_text(stars: i64, rated: i64) -> String {
    if rated == 0 {
        return "–".into();
    }
    (Decimal::from(stars) / Decimal::from(rated))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_string()
}

/// How far `achieved` goes towards `req`.
pub fn progress(req: &Requirements, a: &Achieved) -> Progress {
    let mut items = Vec::new();
    if let Some(min) = req.exam_min_score {
        let met = a.best_exam.is_some_and(|s| s >= min);
        let achieved = a.best_exam.map_or_else(|| "–".to_owned(), |s| s.to_string());
        let (en, zh) = match (a.best_exam, met) {
            (None, _) => (format!("exam not passed yet (pass mark {min})"), format!("考试尚未通过（及格线 {min} 分）")),
            (Some(s), true) => (format!("exam passed ({s} ≥ {min})"), format!("考试已通过（{s} ≥ {min} 分）")),
            (Some(s), false) => (format!("best exam score {s} < {min}"), format!("最好考试成绩 {s} 分，低于 {min} 分")),
        };
        items.push(CriterionProgress {
            criterion: Criterion::Exam,
            required: min.to_string(),
            achieved,
            met,
            text_en: en,
            text_zh: zh,
        });
    }
    if let Some(h) = req.training_hours {
        let got = a.training_hours;
        items.push(CriterionProgress {
            criterion: Criterion::Training,
            required: h.to_string(),
            achieved: got.to_string(),
            met: got >= i64::from(h),
            text_en: format!("{got} of {h} training hours"),
            text_zh: format!("培训 {got} / {h} 小时"),
        });
    }
    if req.delivery_count > 0 {
        let n = req.delivery_count;
        let services = req.delivery_services.join(", ");
        items.push(CriterionProgress {
            criterion: Criterion::Deliveries,
            required: n.to_string(),
            achieved: a.deliveries.to_string(),
            met: a.deliveries >= i64::from(n),
            text_en: format!("{} of {n} accepted {services} deliveries", a.deliveries),
            text_zh: format!("已验收 {services} 交付 {} / {n} 单", a.deliveries),
        });
    }
    if let Some(min) = req.min_rating_centi {
        // stars / rated ≥ min / 100, exactly, without division.
        let met = a.rated > 0 && a.stars.saturating_mul(100) >= i64::from(min).saturating_mul(a.rated);
        let avg = average_text(a.stars, a.rated);
        let min_t = centi_text(min);
        let (en, zh) = if a.rated == 0 {
            (format!("no rated deliveries yet (need ≥ {min_t})"), format!("尚无评分（需 ≥ {min_t}）"))
        } else if met {
            (format!("average rating {avg} ≥ {min_t}"), format!("平均评分 {avg} ≥ {min_t}"))
        } else {
            (format!("average rating {avg} < {min_t}"), format!("平均评分 {avg}，低于 {min_t}"))
        };
        items.push(CriterionProgress {
            criterion: Criterion::Rating,
            required: min_t,
            achieved: avg,
            met,
            text_en: en,
            text_zh: zh,
        });
    }
    let met = !items.is_empty() && items.iter().all(|i| i.met);
    Progress { version: req.version, items, met }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn erp() -> Requirements {
        Requirements {
            version: 2,
            exam_min_score: Some(70),
            training_hours: Some(16),
            delivery_services: vec!["ERP-IMPL".into()],
            delivery_count: 5,
            min_rating_centi: Some(400),
            validity_months: 24,
            note: None,
        }
    }

    #[test]
    fn the_issue_example_reads_as_people_say_it() {
        let a = Achieved { best_exam: Some(82), training_hours: 12, deliveries: 3, rated: 3, stars: 14 };
        let p = progress(&erp(), &a);
        let texts: Vec<&str> = p.items.iter().map(|i| i.text_en.as_str()).collect();
        assert_eq!(
            texts,
            [
                "exam passed (82 ≥ 70)",
                "12 of 16 training hours",
                "3 of 5 accepted ERP-IMPL deliveries",
                "average rating 4.67 ≥ 4.00"
            ]
        );
        assert!(!p.met);
        let done = Achieved { training_hours: 16, deliveries: 5, rated: 5, stars: 20, ..a };
        assert!(progress(&erp(), &done).met);
    }

    #[test]
    fn deliveries_count_only_for_named_services() {
        let records = vec![
            DeliveryRecord { service_code: "ERP-IMPL".into(), accepted: 2, rated: 1, stars: 5 },
            DeliveryRecord { service_code: "TAX-PLAN".into(), accepted: 9, rated: 9, stars: 9 },
        ];
        let a = Achieved::default().with_deliveries(&erp(), &records);
        assert_eq!((a.deliveries, a.rated, a.stars), (2, 1, 5));
    }

    #[test]
    fn validation_refuses_empty_and_inconsistent_versions() {
        let empty = Requirements {
            exam_min_score: None,
            training_hours: None,
            delivery_services: vec![],
            delivery_count: 0,
            min_rating_centi: None,
            ..erp()
        };
        assert!(validate_requirements(empty.clone()).is_err());
        assert!(validate_requirements(Requirements { exam_min_score: Some(101), ..erp() }).is_err());
        assert!(validate_requirements(Requirements { delivery_services: vec![], ..erp() }).is_err());
        assert!(validate_requirements(Requirements { min_rating_centi: Some(40), ..erp() }).is_err());
        let rating_alone = Requirements { min_rating_centi: Some(400), exam_min_score: Some(60), ..empty };
        assert!(validate_requirements(rating_alone).is_err());
        assert!(validate_requirements(erp()).is_ok());
        assert_eq!(rating_centi("r", "4.5").unwrap(), 450);
        assert!(rating_centi("r", "4.555").is_err());
        assert!(rating_centi("r", "four").is_err());
    }

    proptest! {
        /// The rating criterion is met exactly when the true average reaches the minimum.
        #[test]
        fn rating_is_judged_exactly(stars in 0i64..5000, rated in 1i64..1000, min in 100i32..=500) {
            let a = Achieved { best_exam: None, training_hours: 0, deliveries: rated, rated, stars };
            let req = Requirements { exam_min_score: None, training_hours: None, min_rating_centi: Some(min), delivery_count: 1, ..erp() };
            let p = progress(&req, &a);
            let avg = Decimal::from(stars) / Decimal::from(rated);
            let expect = avg >= Decimal::new(i64::from(min), 2);
            prop_assert_eq!(p.items.iter().find(|i| i.criterion == Criterion::Rating).map(|i| i.met), Some(expect));
        }

        /// More achievement never loses a criterion.
        #[test]
        fn progress_is_monotone(exam in 0i32..=100, hours in 0i64..40, n in 0i64..10, extra in 0i64..10) {
            let a = Achieved { best_exam: Some(exam), training_hours: hours, deliveries: n, rated: n, stars: 5 * n };
            let b = Achieved { best_exam: Some((exam + 5).min(100)), training_hours: hours + extra, deliveries: n + extra, rated: n + extra, stars: 5 * (n + extra) };
            let (pa, pb) = (progress(&erp(), &a), progress(&erp(), &b));
            for (x, y) in pa.items.iter().zip(&pb.items) {
                prop_assert!(!x.met || y.met);
            }
        }
    }
}
