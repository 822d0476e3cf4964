//! The rules of the marketplace: the order lifecycle, contracts, subcontract terms,
//! eligibility, the recommendation ranking, quality scores and ratings. Pure: no I/O, no async,
//! no ORM or HTTP types.

use std::collections::{BTreeMap, BTreeSet};

use kernel::{Error, Fen, Rate};
use serde::Serialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

// ---- the order lifecycle ------------------------------------------------------------------

/// Where an order stands (DESIGN §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Created from a contract line; nobody delivers it yet.
    New,
    /// In the subcontract pool.
    Published,
    /// A deliverer has it; no implementer is at work yet.
    Dispatched,
    /// Implementers are assigned and working through the milestones.
    InProgress,
    /// The deliverer declared it delivered; waiting for the client.
    Delivered,
    /// The client accepted the delivery.
    Accepted,
    /// Accepted and rated: nothing left to do.
    Closed,
    Cancelled,
    /// The client refused the delivery; vendor ops settle it.
    Disputed,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Orders that occupy a deliverer's capacity.
    pub const BUSY: [OrderStatus; 2] = [OrderStatus::Dispatched, OrderStatus::InProgress];
}

/// What can happen to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderEvent {
    /// Assign to a deliverer (or re-assign before work starts).
    Dispatch,
    /// Put into the subcontract pool.
    Publish,
    /// A subcontract was claimed or awarded.
    Award,
    /// The winner assigned nobody in time: back to the pool.
    Lapse,
    /// The first implementer is assigned.
    Start,
    Deliver,
    Accept,
    Dispute,
    /// Ops settle a dispute in the deliverer's favour.
    ResolveAccepted,
    /// Ops settle a dispute by sending the order back to work.
    ResolveRework,
    Cancel,
    /// The client rated it.
    Close,
}

impl OrderEvent {
    pub fn verb(self) -> &'static str {
        match self {
            OrderEvent::Dispatch => "dispatch",
            OrderEvent::Publish => "publish",
            OrderEvent::Award => "award",
            OrderEvent::Lapse => "return to the pool",
            OrderEvent::Start => "start",
            OrderEvent::Deliver => "deliver",
            OrderEvent::Accept => "accept",
            OrderEvent::Dispute => "dispute",
            OrderEvent::ResolveAccepted | OrderEvent::ResolveRework => "resolve",
            OrderEvent::Cancel => "cancel",
            OrderEvent::Close => "close",
        }
    }
}

/// The lifecycle: the next status, or 409 naming the current one.
pub fn next(current: OrderStatus, event: OrderEvent) -> Result<OrderStatus, Error> {
    use OrderEvent as E;
    use OrderStatus as S;
    let to = match (current, event) {
        (S::New | S::Dispatched, E::Dispatch) => S::Dispatched,
        (S::New | S::Dispatched, E::Publish) => S::Published,
        (S::Published, E::Award) => S::Dispatched,
        (S::Dispatched, E::Lapse) => S::Published,
        (S::Dispatched, E::Start) => S::InProgress,
        (S::InProgress, E::Deliver) => S::Delivered,
        (S::Delivered, E::Accept) => S::Accepted,
        (S::Delivered, E::Dispute) => S::Disputed,
        (S::Disputed, E::ResolveAccepted) => S::Accepted,
        (S::Disputed, E::ResolveRework) => S::InProgress,
        (S::New | S::Published | S::Dispatched | S::InProgress, E::Cancel) => S::Cancelled,
        (S::Accepted, E::Close) => S::Closed,
        _ => return Err(Error::illegal_transition("order", current.as_str(), event.verb())),
    };
    Ok(to)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MilestoneStatus {
    Pending,
    Done,
    /// Accepted with the delivery.
    Accepted,
}

impl MilestoneStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

// ---- contracts ----------------------------------------------------------------------------

/// A contract line as registered: which service, for how much of the first-year amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineDraft {
    pub service_code: String,
    pub amount: Fen,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractDraft {
    pub term_years: i32,
    pub first_year: Fen,
    pub maintenance_fee: Fen,
    pub lines: Vec<LineDraft>,
}

/// The rules of a contract: positive first-year amount, a term of 1–10 years, a maintenance
/// fee that is not negative, at least one line, every line positive, and lines that add up to
/// the first-year amount to the fen.
pub fn validate_contract(d: &ContractDraft) -> Result<(), Error> {
    if !(1..=10).contains(&d.term_years) {
        return Err(Error::invalid("term_years", "must be between 1 and 10"));
    }
    if d.first_year.get() <= 0 {
        return Err(Error::invalid("first_year_amount", "must be more than zero"));
    }
    if d.maintenance_fee.is_negative() {
        return Err(Error::invalid("annual_maintenance_fee", "must not be negative"));
    }
    if d.lines.is_empty() {
        return Err(Error::invalid("lines", "a contract has at least one line"));
    }
    if d.lines.len() > 50 {
        return Err(Error::invalid("lines", "a contract has at most 50 lines"));
    }
    for (i, l) in d.lines.iter().enumerate() {
        if l.amount.get() <= 0 {
            return Err(Error::invalid(&format!("lines[{i}].amount"), "must be more than zero"));
        }
    }
    let sum = Fen::checked_sum(d.lines.iter().map(|l| l.amount))
        .map_err(|_| Error::invalid("lines", "the amounts are too large"))?;
    if sum != d.first_year {
        return Err(Error::Unprocessable {
            code: "lines_do_not_add_up",
            message: format!(
                "the lines add up to {} but the first-year amount is {}",
                sum.to_yuan(),
                d.first_year.to_yuan()
            ),
            details: Some(serde_json::json!({
                "lines_total": sum.to_yuan(),
                "first_year_amount": d.first_year.to_yuan(),
            })),
        });
    }
    Ok(())
}

// ---- subcontracts -------------------------------------------------------------------------

/// Why the signer does not deliver the order itself (三不).
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// 不愿做: not worth the signer's own people.
    WontDo,
    /// 做不好: the signer cannot do it well.
    CantDoWell,
    /// 做不了: the signer cannot do it at all (no capacity, no certified people).
    CantDo,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The first eligible claim wins.
    FirstClaim,
    /// Partners bid until the deadline; the publisher awards one.
    Tender,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SubcontractStatus {
    Open,
    Awarded,
    /// The publisher took it back (cancelled or re-dispatched the order).
    Withdrawn,
    /// The winner assigned nobody in time; the order went back to the pool as a new round.
    Lapsed,
}

impl SubcontractStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the subcontractor is paid: a share of what the client pays for the line, or a fixed fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terms {
    Share(Rate),
    Fee(Fen),
}

pub fn validate_terms(share: Option<Rate>, fee: Option<Fen>) -> Result<Terms, Error> {
    match (share, fee) {
        (Some(r), None) => {
            if r.to_bp() <= 0 || r.to_bp() >= 10_000 {
                return Err(Error::invalid("execution_share", "must be more than 0 and less than 1"));
            }
            Ok(Terms::Share(r))
        }
        (None, Some(f)) => {
            if f.get() <= 0 {
                return Err(Error::invalid("fixed_fee", "must be more than zero"));
            }
            Ok(Terms::Fee(f))
        }
        _ => Err(Error::unprocessable(
            "terms_required",
            "give either an execution_share (a rate) or a fixed_fee, not both and not neither",
        )),
    }
}

impl Terms {
    /// The terms as the order keeps them: `(exec_share_bp, exec_fee_fen)`.
    pub fn columns(terms: Option<Terms>) -> (Option<i32>, Option<i64>) {
        match terms {
            Some(Terms::Share(r)) => (Some(r.to_bp()), None),
            Some(Terms::Fee(f)) => (None, Some(f.get())),
            None => (None, None),
        }
    }

    /// The terms an order keeps, if any (a share wins if both were ever written).
    pub fn from_columns(share_bp: Option<i32>, fee_fen: Option<i64>) -> Option<Terms> {
        match (share_bp.and_then(|bp| Rate::from_bp(bp).ok()), fee_fen) {
            (Some(r), _) => Some(Terms::Share(r)),
            (None, Some(f)) => Some(Terms::Fee(Fen::new(f))),
            (None, None) => None,
        }
    }
}

/// A fixed fee is taken from the line's first-year money: it cannot be more than the line.
pub fn check_fee_fits(terms: Terms, line_amount: Fen, field: &str) -> Result<(), Error> {
    match terms {
        Terms::Fee(f) if f > line_amount => Err(Error::Unprocessable {
            code: "fee_exceeds_line",
            message: format!(
                "{field}: a fixed fee of {} is more than the line's first-year amount of {}",
                f.to_yuan(),
                line_amount.to_yuan()
            ),
            details: Some(serde_json::json!({
                "field": field, "fee": f.to_yuan(), "line_amount": line_amount.to_yuan(),
            })),
        }),
        _ => Ok(()),
    }
}

/// Who a deliverer is to an order, for its pay (DESIGN §5 rule 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelivererRole {
    /// The signer itself, or one of the vendor's direct teams: paid by the agreement's other
    /// rules (or not at all), never an execution share.
    Own,
    /// Anyone else — a subcontract partner, or an equity partner delivering another signer's
    /// order: paid an execution share or fee for the line's first-year money, however the order
    /// reached it.
    Executor,
}

pub fn deliverer_role(deliverer: i64, deliverer_kind: kernel::OrgKind, signer: i64) -> DelivererRole {
    if deliverer == signer || deliverer_kind == kernel::OrgKind::DirectTeam || deliverer_kind == kernel::OrgKind::Vendor
    {
        DelivererRole::Own
    } else {
        DelivererRole::Executor
    }
}

/// The execution terms a dispatch writes: required for an executor, refused for the signer's
/// own people.
pub fn dispatch_terms(role: DelivererRole, terms: Option<Terms>, deliverer_name: &str) -> Result<Option<Terms>, Error> {
    match (role, terms) {
        (DelivererRole::Executor, Some(t)) => Ok(Some(t)),
        (DelivererRole::Executor, None) => Err(Error::Unprocessable {
            code: "terms_required",
            message: format!(
                "{deliverer_name} is paid for executing this order: give its execution_share or fixed_fee"
            ),
            details: Some(serde_json::json!({ "field": "execution_share" })),
        }),
        (DelivererRole::Own, Some(_)) => Err(Error::invalid(
            "execution_share",
            "the signer and the vendor's direct teams deliver without an execution share or fee",
        )),
        (DelivererRole::Own, None) => Ok(None),
    }
}

// ---- quality ------------------------------------------------------------------------------

/// The prior of the Bayesian average: an organisation or implementer without ratings counts as
/// `PRIOR_WEIGHT` ratings of `PRIOR_MEAN` stars, so one lucky 5 does not outrank thirty 4.8s.
pub const PRIOR_MEAN_CENTI: i64 = 400;
pub const PRIOR_WEIGHT: i64 = 5;

/// A quality score: the Bayesian average of overall ratings, in hundredths of a star.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Quality {
    pub ratings: i64,
    /// Sum of the overall stars.
    pub stars: i64,
}

impl Quality {
    /// `(C·m + Σ stars) / (C + n)`, in hundredths of a star, rounded half up.
    pub fn score_centi(self) -> i32 {
        let num = PRIOR_WEIGHT * PRIOR_MEAN_CENTI + self.stars.saturating_mul(100);
        let den = PRIOR_WEIGHT + self.ratings.max(0);
        let score = (2 * num + den) / (2 * den);
        score.clamp(100, 500) as i32
    }

    /// The plain average, in hundredths, when there are ratings.
    pub fn mean_centi(self) -> Option<i32> {
        (self.ratings > 0).then(|| ((self.stars * 200 + self.ratings) / (2 * self.ratings)) as i32)
    }
}

pub fn centi_text(centi: i32) -> String {
    format!("{}.{:02}", centi / 100, centi % 100)
}

/// Parses a quality floor such as "4.2" or "4.20" into hundredths (1.00–5.00).
pub fn parse_centi(field: &str, text: &str) -> Result<i32, Error> {
    let bad = || Error::invalid(field, "must be a number of stars from \"1.00\" to \"5.00\", at most two decimals");
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.len() != 1 || frac.len() > 2 || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i32 = whole.parse().map_err(|_| bad())?;
    let frac: i32 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    let centi = whole * 100 + frac;
    if !(100..=500).contains(&centi) {
        return Err(bad());
    }
    Ok(centi)
}

// ---- eligibility and ranking --------------------------------------------------------------

/// What an order needs of its deliverer.
#[derive(Clone, Debug, Default)]
pub struct Need {
    pub region: String,
    pub industry: Option<String>,
    pub category: String,
    pub required_certs: Vec<String>,
    /// Floor of the quality score, hundredths of a star.
    pub min_quality_centi: Option<i32>,
}

/// What the park knows of a possible deliverer.
#[derive(Clone, Debug, Default)]
pub struct Candidate {
    pub org_id: i64,
    pub name: String,
    pub active: bool,
    pub regions: Vec<String>,
    pub industries: Vec<String>,
    pub categories: Vec<String>,
    /// Maximum concurrent orders; `None` is unlimited.
    pub capacity: Option<i32>,
    /// Orders it has dispatched or in progress.
    pub busy: i64,
    /// Certification code → implementers holding it validly today.
    pub valid_certs: BTreeMap<String, i64>,
    pub quality: Quality,
    /// Delivered orders, and how many of them by their due date.
    pub delivered: i64,
    pub on_time: i64,
}

/// Why a candidate is out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Ineligible {
    Suspended,
    RegionNotServed { region: String },
    CategoryNotOffered { category: String },
    MissingCertification { certification: String },
    AtCapacity { busy: i64, capacity: i32 },
    BelowQualityFloor { score: String, floor: String },
}

impl Ineligible {
    pub fn code(&self) -> &'static str {
        match self {
            Ineligible::Suspended => "suspended",
            Ineligible::RegionNotServed { .. } => "region_not_served",
            Ineligible::CategoryNotOffered { .. } => "category_not_offered",
            Ineligible::MissingCertification { .. } => "missing_certification",
            Ineligible::AtCapacity { .. } => "at_capacity",
            Ineligible::BelowQualityFloor { .. } => "below_quality_floor",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Ineligible::Suspended => "the organisation is suspended".into(),
            Ineligible::RegionNotServed { region } => format!("does not serve the region {region}"),
            Ineligible::CategoryNotOffered { category } => format!("does not offer the category {category}"),
            Ineligible::MissingCertification { certification } => format!("no valid {certification} implementer"),
            Ineligible::AtCapacity { busy, capacity } => format!("at capacity ({busy} of {capacity} orders busy)"),
            Ineligible::BelowQualityFloor { score, floor } => format!("quality {score} below the floor {floor}"),
        }
    }
}

/// Every reason the candidate may not deliver the order; empty when it may.
pub fn eligibility(c: &Candidate, need: &Need) -> Vec<Ineligible> {
    let mut out = Vec::new();
    if !c.active {
        out.push(Ineligible::Suspended);
    }
    if !c.regions.iter().any(|r| r == &need.region) {
        out.push(Ineligible::RegionNotServed { region: need.region.clone() });
    }
    if !c.categories.iter().any(|k| k == &need.category) {
        out.push(Ineligible::CategoryNotOffered { category: need.category.clone() });
    }
    for cert in &need.required_certs {
        if c.valid_certs.get(cert).copied().unwrap_or(0) < 1 {
            out.push(Ineligible::MissingCertification { certification: cert.clone() });
        }
    }
    if let Some(cap) = c.capacity
        && c.busy >= i64::from(cap)
    {
        out.push(Ineligible::AtCapacity { busy: c.busy, capacity: cap });
    }
    if let Some(floor) = need.min_quality_centi {
        let score = c.quality.score_centi();
        if score < floor {
            out.push(Ineligible::BelowQualityFloor { score: centi_text(score), floor: centi_text(floor) });
        }
    }
    out
}

/// The weights of the recommendation score (configuration). Any non-negative integers; the
/// score is the weighted mean of the parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct Weights {
    pub quality: u32,
    pub on_time: u32,
    pub region: u32,
    pub industry: u32,
    pub capacity: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { quality: 35, on_time: 25, region: 15, industry: 10, capacity: 15 }
    }
}

impl Weights {
    pub fn total(self) -> u32 {
        self.quality + self.on_time + self.region + self.industry + self.capacity
    }
}

/// Each part of a score, in permille (0–1000).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Parts {
    pub quality: i64,
    pub on_time: i64,
    pub region: i64,
    pub industry: i64,
    pub capacity: i64,
}

/// A ranked, eligible deliverer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub org_id: i64,
    /// 0–1000.
    pub score: i64,
    pub parts: Parts,
    pub reasons: Vec<String>,
}

/// The on-time rate counts as `PRIOR_WEIGHT` deliveries at 80 % before an organisation has any.
const ON_TIME_PRIOR_PERMILLE: i64 = 800;

pub fn parts(c: &Candidate, need: &Need) -> Parts {
    let q = i64::from(c.quality.score_centi());
    let quality = ((q - 100) * 1000 / 400).clamp(0, 1000);
    let on_time =
        (c.on_time.max(0) * 1000 + ON_TIME_PRIOR_PERMILLE * PRIOR_WEIGHT) / (c.delivered.max(0) + PRIOR_WEIGHT);
    let region = match c.regions.iter().position(|r| r == &need.region) {
        Some(0) => 1000,
        Some(_) => 500,
        None => 0,
    };
    let industry = match &need.industry {
        Some(ind) if c.industries.iter().any(|i| i == ind) => 1000,
        _ => 0,
    };
    let capacity = match c.capacity {
        None => 1000,
        Some(cap) if cap <= 0 => 0,
        Some(cap) => ((i64::from(cap) - c.busy).max(0) * 1000 / i64::from(cap)).clamp(0, 1000),
    };
    Parts { quality, on_time: on_time.clamp(0, 1000), region, industry, capacity }
}

pub fn score(p: &Parts, w: &Weights) -> i64 {
    let total = i64::from(w.total());
    if total == 0 {
        return 0;
    }
    let sum = p.quality * i64::from(w.quality)
        + p.on_time * i64::from(w.on_time)
        + p.region * i64::from(w.region)
        + p.industry * i64::from(w.industry)
        + p.capacity * i64::from(w.capacity);
    sum / total
}

fn reasons(c: &Candidate, need: &Need) -> Vec<String> {
    let mut out = Vec::new();
    for cert in &need.required_certs {
        let n = c.valid_certs.get(cert).copied().unwrap_or(0);
        out.push(format!("holds {n} valid {cert} implementer{}", if n == 1 { "" } else { "s" }));
    }
    match c.quality.mean_centi() {
        Some(mean) => out.push(format!(
            "rating {} over {} order{} (quality score {})",
            centi_text(mean),
            c.quality.ratings,
            if c.quality.ratings == 1 { "" } else { "s" },
            centi_text(c.quality.score_centi())
        )),
        None => {
            out.push(format!("no ratings yet (quality score {} by the prior)", centi_text(c.quality.score_centi())))
        }
    }
    if c.delivered > 0 {
        out.push(format!("{} of {} deliveries on time", c.on_time, c.delivered));
    }
    match c.capacity {
        Some(cap) => out.push(format!("{} of {cap} slots busy", c.busy)),
        None => out.push(format!("{} orders busy, no capacity limit", c.busy)),
    }
    out.push(format!("serves {}", need.region));
    if let Some(ind) = &need.industry
        && c.industries.iter().any(|i| i == ind)
    {
        out.push(format!("works in {ind}"));
    }
    out
}

/// Ranks the candidates for an order: the eligible ones by score (best first; ties by quality,
/// then by id), and the others with every reason they are out.
pub fn rank(candidates: &[Candidate], need: &Need, w: &Weights) -> (Vec<Ranked>, Vec<(i64, Vec<Ineligible>)>) {
    let mut ranked = Vec::new();
    let mut out = Vec::new();
    for c in candidates {
        let why = eligibility(c, need);
        if why.is_empty() {
            let p = parts(c, need);
            ranked.push((
                c.quality.score_centi(),
                Ranked { org_id: c.org_id, score: score(&p, w), parts: p, reasons: reasons(c, need) },
            ));
        } else {
            out.push((c.org_id, why));
        }
    }
    ranked.sort_by(|(qa, a), (qb, b)| b.score.cmp(&a.score).then(qb.cmp(qa)).then(a.org_id.cmp(&b.org_id)));
    out.sort_by_key(|(id, _)| *id);
    (ranked.into_iter().map(|(_, r)| r).collect(), out)
}

/// The certifications of `required` an implementer does not hold validly.
pub fn missing_certs(required: &[String], held_valid: &BTreeSet<String>) -> Vec<String> {
    required.iter().filter(|c| !held_valid.contains(*c)).cloned().collect()
}

// ---- ratings ------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stars {
    pub overall: i16,
    pub professionalism: i16,
    pub timeliness: i16,
    pub communication: i16,
    pub outcome: i16,
}

/// How long a client may edit its rating.
pub const RATING_EDIT_DAYS: i64 = 7;
/// A rating at or below this alerts vendor ops.
pub const LOW_RATING: i16 = 2;

pub fn validate_stars(s: &Stars) -> Result<(), Error> {
    for (field, v) in [
        ("overall", s.overall),
        ("professionalism", s.professionalism),
        ("timeliness", s.timeliness),
        ("communication", s.communication),
        ("outcome", s.outcome),
    ] {
        if !(1..=5).contains(&v) {
            return Err(Error::invalid(field, "must be a whole number of stars from 1 to 5"));
        }
    }
    Ok(())
}

pub fn may_edit_rating(rated_at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> bool {
    now - rated_at <= chrono::Duration::days(RATING_EDIT_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use strum::IntoEnumIterator;

    #[test]
    fn the_happy_path_of_an_order() {
        let mut s = OrderStatus::New;
        for e in [
            OrderEvent::Publish,
            OrderEvent::Award,
            OrderEvent::Start,
            OrderEvent::Deliver,
            OrderEvent::Accept,
            OrderEvent::Close,
        ] {
            s = next(s, e).unwrap();
        }
        assert_eq!(s, OrderStatus::Closed);
    }

    #[test]
    fn illegal_moves_name_the_current_state() {
        let err = next(OrderStatus::Delivered, OrderEvent::Cancel).unwrap_err();
        assert_eq!(err.code(), "illegal_transition");
        assert!(err.to_string().contains("delivered"), "{err}");
        assert!(next(OrderStatus::Closed, OrderEvent::Dispatch).is_err());
        assert!(next(OrderStatus::Cancelled, OrderEvent::Publish).is_err());
        assert!(next(OrderStatus::InProgress, OrderEvent::Dispatch).is_err());
    }

    #[test]
    fn terminal_states_accept_nothing() {
        let events = [
            OrderEvent::Dispatch,
            OrderEvent::Publish,
            OrderEvent::Award,
            OrderEvent::Lapse,
            OrderEvent::Start,
            OrderEvent::Deliver,
            OrderEvent::Accept,
            OrderEvent::Dispute,
            OrderEvent::ResolveAccepted,
            OrderEvent::ResolveRework,
            OrderEvent::Cancel,
            OrderEvent::Close,
        ];
        for s in [OrderStatus::Closed, OrderStatus::Cancelled] {
            for e in events {
                assert!(next(s, e).is_err(), "{s:?} {e:?}");
            }
        }
        // Every other state has a way out.
        for s in OrderStatus::iter().filter(|s| !matches!(s, OrderStatus::Closed | OrderStatus::Cancelled)) {
            assert!(events.iter().any(|e| next(s, *e).is_ok()), "{s:?} is a dead end");
        }
    }

    fn fen(y: &str) -> Fen {
        Fen::parse_yuan(y).unwrap()
    }

    #[test]
    fn contract_lines_must_add_up() {
        let mut d = ContractDraft {
            term_years: 3,
            first_year: fen("100000.00"),
            maintenance_fee: fen("20000.00"),
            lines: vec![
                LineDraft { service_code: "ERP-IMPL".into(), amount: fen("60000.00") },
                LineDraft { service_code: "TAX-PLAN".into(), amount: fen("40000.00") },
            ],
        };
        validate_contract(&d).unwrap();
        d.lines[1].amount = fen("39999.99");
        let err = validate_contract(&d).unwrap_err();
        assert_eq!(err.code(), "lines_do_not_add_up");
        assert!(err.to_string().contains("99999.99"), "{err}");
        d.lines[1].amount = fen("-1.00");
        assert_eq!(validate_contract(&d).unwrap_err().code(), "invalid_field");
        d.lines.clear();
        assert!(validate_contract(&d).is_err());
    }

    #[test]
    fn terms_are_a_share_or_a_fee() {
        assert!(matches!(validate_terms(Some(Rate::parse("0.35").unwrap()), None), Ok(Terms::Share(_))));
        assert!(matches!(validate_terms(None, Some(fen("8000.00"))), Ok(Terms::Fee(_))));
        assert!(validate_terms(None, None).is_err());
        assert!(validate_terms(Some(Rate::parse("0.35").unwrap()), Some(fen("1.00"))).is_err());
        assert!(validate_terms(Some(Rate::parse("1").unwrap()), None).is_err());
        assert!(validate_terms(None, Some(fen("0.00"))).is_err());
    }

    #[test]
    fn the_bayesian_average_pulls_small_samples_to_the_prior() {
        assert_eq!(Quality::default().score_centi(), 400);
        let one_five = Quality { ratings: 1, stars: 5 };
        assert_eq!(one_five.score_centi(), 417); // (5·4 + 5) / 6 = 4.1667
        let thirty = Quality { ratings: 30, stars: 144 }; // mean 4.8
        assert!(thirty.score_centi() > one_five.score_centi());
        assert_eq!(thirty.mean_centi(), Some(480));
        assert_eq!(centi_text(417), "4.17");
        assert_eq!(parse_centi("f", "4.2").unwrap(), 420);
        assert!(parse_centi("f", "5.5").is_err());
        assert!(parse_centi("f", "4.255").is_err());
        assert_eq!(parse_centi("f", "5").unwrap(), 500);
        assert!(parse_centi("f", "0.99").is_err());
        assert!(parse_centi("f", "-4").is_err());
    }

    fn candidate(id: i64) -> Candidate {
        Candidate {
            org_id: id,
            name: format!("org {id}"),
            active: true,
            regions: vec!["zhejiang".into(), "shanghai".into()],
            industries: vec!["manufacturing".into()],
            categories: vec!["erp".into()],
            capacity: Some(8),
            busy: 3,
            valid_certs: [("ERP-L2".to_owned(), 2)].into_iter().collect(),
            quality: Quality { ratings: 31, stars: 146 },
            delivered: 20,
            on_time: 18,
        }
    }

    fn need() -> Need {
        Need {
            region: "zhejiang".into(),
            industry: Some("manufacturing".into()),
            category: "erp".into(),
            required_certs: vec!["ERP-L2".into()],
            min_quality_centi: Some(400),
        }
    }

    #[test]
    fn eligibility_names_every_reason() {
        assert!(eligibility(&candidate(1), &need()).is_empty());
        let mut c = candidate(2);
        c.valid_certs.clear();
        c.busy = 8;
        c.regions = vec!["guangdong".into()];
        let why: Vec<_> = eligibility(&c, &need()).iter().map(|w| w.message()).collect();
        assert!(why.contains(&"no valid ERP-L2 implementer".to_owned()), "{why:?}");
        assert!(why.contains(&"at capacity (8 of 8 orders busy)".to_owned()), "{why:?}");
        assert!(why.contains(&"does not serve the region zhejiang".to_owned()), "{why:?}");
        let mut low = candidate(3);
        low.quality = Quality { ratings: 20, stars: 50 };
        assert_eq!(eligibility(&low, &need())[0].code(), "below_quality_floor");
    }

    #[test]
    fn ranking_prefers_quality_home_region_and_free_capacity() {
        let best = candidate(1);
        let mut far = candidate(2);
        far.regions = vec!["shanghai".into(), "zhejiang".into()];
        let mut busy = candidate(3);
        busy.busy = 7;
        let mut out = candidate(4);
        out.categories = vec!["tax".into()];
        let (ranked, ineligible) = rank(&[busy.clone(), far.clone(), best.clone(), out], &need(), &Weights::default());
        assert_eq!(ranked.iter().map(|r| r.org_id).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(ineligible.len(), 1);
        assert_eq!(ineligible[0].0, 4);
        assert!(ranked[0].reasons.iter().any(|r| r == "holds 2 valid ERP-L2 implementers"), "{:?}", ranked[0].reasons);
        assert!(ranked[0].reasons.iter().any(|r| r == "3 of 8 slots busy"));
        // Weights are configuration: with only capacity counting, the busy one is last and the
        // others tie on score, broken by quality then id.
        let w = Weights { quality: 0, on_time: 0, region: 0, industry: 0, capacity: 1 };
        let (ranked, _) = rank(&[busy, far, best], &need(), &w);
        assert_eq!(ranked.last().map(|r| r.org_id), Some(3));
    }

    #[test]
    fn the_certification_gate_lists_what_is_missing() {
        let held: BTreeSet<String> = ["ERP-L1".to_owned()].into_iter().collect();
        assert_eq!(missing_certs(&["ERP-L1".into(), "ERP-L2".into()], &held), vec!["ERP-L2".to_owned()]);
        assert!(missing_certs(&["ERP-L1".into()], &held).is_empty());
    }

    #[test]
    fn stars_are_one_to_five() {
        let mut s = Stars { overall: 5, professionalism: 4, timeliness: 3, communication: 2, outcome: 1 };
        validate_stars(&s).unwrap();
        s.outcome = 0;
        assert!(validate_stars(&s).is_err());
        s.outcome = 6;
        assert!(validate_stars(&s).is_err());
    }

    proptest! {
        #[test]
        fn scores_stay_in_range(
            ratings in 0i64..10_000, mean_tenths in 10i64..=50, delivered in 0i64..1000, on_time_frac in 0i64..=100,
            busy in 0i64..50, cap in proptest::option::of(1i32..50),
            wq in 0u32..100, wo in 0u32..100, wr in 0u32..100, wi in 0u32..100, wc in 0u32..100,
        ) {
            let mut c = candidate(1);
            c.quality = Quality { ratings, stars: ratings * mean_tenths / 10 };
            c.delivered = delivered;
            c.on_time = delivered * on_time_frac / 100;
            c.busy = busy;
            c.capacity = cap;
            let p = parts(&c, &need());
            for v in [p.quality, p.on_time, p.region, p.industry, p.capacity] {
                prop_assert!((0..=1000).contains(&v));
            }
            let s = score(&p, &Weights { quality: wq, on_time: wo, region: wr, industry: wi, capacity: wc });
            prop_assert!((0..=1000).contains(&s));
            let q = c.quality.score_centi();
            prop_assert!((100..=500).contains(&q));
        }
    }
}
