//! The API of partner scorecards and tiers.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use directory::http::TierName;
use kernel::{Error, Fen, Rate};
use platform::api_types::CursorText;
use platform::api_types::{Amount, DecimalText, MonthText, RateText, StarsText};
use platform::http::{ApiResult, Caller, page_request};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{Object, OpenApi, Tags};

use crate::app::Success;
use crate::scorecards::{Assessment, PartnerScorecard, RecomputeReport};
use crate::tiers::{Scorecard, Threshold};

#[derive(Tags)]
enum ApiTags {
    /// Partner scorecards and tiers (registered, silver, gold, platinum).
    Tiers,
}

fn example_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-01T00:10:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

fn example_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

fn rate_text(bp: Option<i32>) -> Option<DecimalText> {
    bp.and_then(|b| Rate::from_bp(b).ok()).map(|r| DecimalText(r.to_wire()))
}

fn centi(c: i32) -> String {
    crate::tiers::centi_text(c)
}

/// What one tier asks of a partner's trailing twelve months. Unset thresholds ask nothing.
#[derive(Object, Debug, Clone)]
#[oai(example, deny_unknown_fields)]
pub struct ThresholdView {
    pub tier: TierName,
    /// First-year amounts signed plus accepted work delivered for other signers ("300000.00").
    pub min_revenue: Amount,
    /// Clients with a verified in-window success credited to the partner ÷ clients ("0.15").
    #[oai(nullable)]
    pub min_success_rate: Option<RateText>,
    /// Valid credentials held by the partner's people, all certifications together.
    #[oai(validator(minimum(value = "0"), maximum(value = "100000")))]
    pub min_valid_credentials: i32,
    /// The quality score (Bayesian average of stars, as in dispatch), "4.30".
    #[oai(nullable)]
    pub min_quality: Option<StarsText>,
    #[oai(nullable)]
    pub min_on_time_rate: Option<RateText>,
    /// Deliveries the client disputed ÷ deliveries, at most.
    #[oai(nullable)]
    pub max_dispute_rate: Option<RateText>,
}

impl Example for ThresholdView {
    fn example() -> Self {
        ThresholdView {
            tier: TierName::Gold,
            min_revenue: "300000.00".into(),
            min_success_rate: Some("0.15".into()),
            min_valid_credentials: 4,
            min_quality: Some("4.30".into()),
            min_on_time_rate: Some("0.85".into()),
            max_dispute_rate: Some("0.10".into()),
        }
    }
}

impl From<Threshold> for ThresholdView {
    fn from(t: Threshold) -> Self {
        ThresholdView {
            tier: t.tier.into(),
            min_revenue: Amount(Fen::new(t.min_revenue_fen).to_yuan()),
            min_success_rate: rate_text(t.min_success_bp).map(|d| RateText(d.0)),
            min_valid_credentials: t.min_valid_credentials,
            min_quality: t.min_quality_centi.map(|c| StarsText(centi(c))),
            min_on_time_rate: rate_text(t.min_on_time_bp).map(|d| RateText(d.0)),
            max_dispute_rate: rate_text(t.max_dispute_bp).map(|d| RateText(d.0)),
        }
    }
}

fn parse_rate(field: &str, t: Option<RateText>) -> Result<Option<i32>, Error> {
    t.map(|t| t.rate(field).map(Rate::to_bp)).transpose()
}

impl ThresholdView {
    fn into_domain(self) -> Result<Threshold, Error> {
        Ok(Threshold {
            tier: self.tier.into(),
            min_revenue_fen: self.min_revenue.fen("min_revenue")?.get(),
            min_success_bp: parse_rate("min_success_rate", self.min_success_rate)?,
            min_valid_credentials: self.min_valid_credentials,
            min_quality_centi: self.min_quality.as_ref().map(|q| q.centi("min_quality")).transpose()?,
            min_on_time_bp: parse_rate("min_on_time_rate", self.min_on_time_rate)?,
            max_dispute_bp: parse_rate("max_dispute_rate", self.max_dispute_rate)?,
        })
    }
}

/// The tier ladder.
#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct ThresholdList {
    pub items: Vec<ThresholdView>,
}

impl Example for ThresholdList {
    fn example() -> Self {
        ThresholdList { items: vec![ThresholdView::example()] }
    }
}

/// A partner's trailing-twelve-month record.
#[derive(Object, Debug)]
pub struct ScorecardFigures {
    pub signed_revenue: DecimalText,
    pub delivered_revenue: DecimalText,
    /// `signed_revenue + delivered_revenue`: what tier thresholds compare.
    pub revenue: DecimalText,
    pub clients: i64,
    pub successes: i64,
    #[oai(nullable)]
    pub success_rate: Option<RateText>,
    /// Valid credentials per certification code.
    pub valid_credentials: BTreeMap<String, i64>,
    pub valid_credentials_total: i64,
    /// The quality score (all ratings, Bayesian average as in dispatch).
    pub quality: String,
    pub ratings: i64,
    pub delivered: i64,
    pub on_time: i64,
    #[oai(nullable)]
    pub on_time_rate: Option<RateText>,
    pub disputed: i64,
    #[oai(nullable)]
    pub dispute_rate: Option<RateText>,
}

fn ratio(n: i64, d: i64) -> Option<RateText> {
    (d > 0).then(|| {
        let r = (rust_decimal::Decimal::from(n) / rust_decimal::Decimal::from(d))
            .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        RateText(format!("{r:.4}"))
    })
}

impl From<&Scorecard> for ScorecardFigures {
    fn from(s: &Scorecard) -> Self {
        ScorecardFigures {
            signed_revenue: DecimalText(Fen::new(s.signed_revenue_fen).to_yuan()),
            delivered_revenue: DecimalText(Fen::new(s.delivered_revenue_fen).to_yuan()),
            revenue: DecimalText(Fen::new(s.revenue_fen()).to_yuan()),
            clients: s.clients,
            successes: s.successes,
            success_rate: ratio(s.successes, s.clients),
            valid_credentials: s.credentials.clone(),
            valid_credentials_total: s.valid_credentials(),
            quality: centi(s.quality_centi()),
            ratings: s.rated,
            delivered: s.delivered,
            on_time: s.on_time,
            on_time_rate: ratio(s.on_time, s.delivered),
            disputed: s.disputed,
            dispute_rate: ratio(s.disputed, s.delivered),
        }
    }
}

#[derive(Object, Debug)]
#[oai(example)]
pub struct ScorecardView {
    pub org_id: i64,
    pub org_name: String,
    pub org_kind: String,
    /// In force: share rates of contracts signed now follow it.
    pub current_tier: TierName,
    /// What these twelve months reach; it takes effect at the next period's recomputation.
    pub reached_tier: TierName,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub figures: ScorecardFigures,
    #[oai(nullable)]
    pub next_tier: Option<TierName>,
    /// What the next tier asks that these figures miss: "revenue 120000.00 < 300000.00".
    pub next_tier_misses: Vec<String>,
}

impl Example for ScorecardView {
    fn example() -> Self {
        let s = Scorecard {
            signed_revenue_fen: 21_000_000,
            delivered_revenue_fen: 0,
            clients: 9,
            successes: 2,
            credentials: BTreeMap::from([("ERP-L2".into(), 2), ("TAX-ADV".into(), 1)]),
            rated: 14,
            stars: 63,
            delivered: 11,
            on_time: 10,
            disputed: 0,
        };
        ScorecardView {
            org_id: 4,
            org_name: "杭州云帆财税服务有限公司".into(),
            org_kind: "equity_partner".into(),
            current_tier: TierName::Silver,
            reached_tier: TierName::Silver,
            from: example_date("2025-11-23"),
            to: example_date("2026-11-22"),
            figures: (&s).into(),
            next_tier: Some(TierName::Gold),
            next_tier_misses: vec!["revenue 210000.00 < 300000.00".into()],
        }
    }
}

impl From<PartnerScorecard> for ScorecardView {
    fn from(p: PartnerScorecard) -> Self {
        ScorecardView {
            org_id: p.org_id,
            org_name: p.org_name,
            org_kind: p.org_kind,
            current_tier: p.current_tier.into(),
            reached_tier: p.reached_tier.into(),
            from: p.from,
            to: p.to,
            figures: (&p.scorecard).into(),
            next_tier: p.next_tier.map(Into::into),
            next_tier_misses: p.next_tier_misses,
        }
    }
}

#[derive(Object, Debug)]
#[oai(example)]
pub struct ScorecardList {
    pub items: Vec<ScorecardView>,
}

impl Example for ScorecardList {
    fn example() -> Self {
        ScorecardList { items: vec![ScorecardView::example()] }
    }
}

/// A partner's assessment for one period: its scorecard then and the tier it reached.
#[derive(Object, Debug)]
#[oai(example)]
pub struct AssessmentView {
    pub id: i64,
    pub org_id: i64,
    /// The partner's name.
    pub org_name: String,
    /// The month assessed ("2026-10"): its trailing twelve months.
    pub period: String,
    pub tier: TierName,
    #[oai(nullable)]
    pub previous_tier: Option<TierName>,
    /// The scorecard as computed.
    pub scorecard: poem_openapi::types::Any<serde_json::Value>,
    pub computed_at: DateTime<Utc>,
}

impl Example for AssessmentView {
    fn example() -> Self {
        AssessmentView {
            id: 31,
            org_id: 4,
            org_name: "杭州云帆财税咨询有限公司".into(),
            period: "2026-10".into(),
            tier: TierName::Gold,
            previous_tier: Some(TierName::Silver),
            scorecard: poem_openapi::types::Any(serde_json::json!({"reached_tier": "gold"})),
            computed_at: example_time(),
        }
    }
}

impl From<(Assessment, String)> for AssessmentView {
    fn from((a, org_name): (Assessment, String)) -> Self {
        AssessmentView {
            id: a.id,
            org_id: a.org_id,
            org_name,
            period: a.period,
            tier: a.tier.into(),
            previous_tier: a.previous_tier.map(Into::into),
            scorecard: poem_openapi::types::Any(a.scorecard),
            computed_at: a.computed_at,
        }
    }
}

platform::page_of!(AssessmentPage, AssessmentView);

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct RecomputeRequest {
    /// A month that has ended ("2026-10"); its trailing twelve months are scored.
    pub period: MonthText,
}

impl Example for RecomputeRequest {
    fn example() -> Self {
        RecomputeRequest { period: "2026-10".into() }
    }
}

#[derive(Object, Debug)]
#[oai(example)]
pub struct RecomputeView {
    pub period: String,
    pub assessed: i64,
    pub changed: i64,
    /// Partners already assessed for this period (an earlier run, another replica): unchanged.
    pub already_assessed: i64,
}

impl Example for RecomputeView {
    fn example() -> Self {
        RecomputeView { period: "2026-10".into(), assessed: 54, changed: 3, already_assessed: 0 }
    }
}

impl From<RecomputeReport> for RecomputeView {
    fn from(r: RecomputeReport) -> Self {
        let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
        RecomputeView {
            period: r.period,
            assessed: n(r.assessed),
            changed: n(r.changed),
            already_assessed: n(r.already_assessed),
        }
    }
}

pub struct TierApi {
    pub success: Arc<Success>,
}

#[OpenApi(prefix_path = "/api/v1")]
impl TierApi {
    /// Read the tier thresholds
    ///
    /// What silver, gold and platinum ask of a partner's trailing twelve months (registered
    /// asks nothing). A partner reaches the highest tier whose every threshold it meets.
    #[oai(path = "/tier-thresholds", method = "get", operation_id = "getTierThresholds", tag = "ApiTags::Tiers")]
    async fn thresholds(&self, auth: Caller) -> ApiResult<Json<ThresholdList>> {
        let items = self.success.thresholds(&auth.0).await?.into_iter().map(Into::into).collect();
        Ok(Json(ThresholdList { items }))
    }

    /// Replace the tier thresholds
    ///
    /// Platform admin. The ladder must climb: each tier asks at least what the one below asks.
    /// Used from the next recomputation on; audited.
    #[oai(path = "/tier-thresholds", method = "put", operation_id = "putTierThresholds", tag = "ApiTags::Tiers")]
    async fn put_thresholds(&self, auth: Caller, body: Json<ThresholdList>) -> ApiResult<Json<ThresholdList>> {
        let list = body.0.items.into_iter().map(ThresholdView::into_domain).collect::<Result<Vec<_>, _>>()?;
        let items = self.success.put_thresholds(&auth.0, list).await?.into_iter().map(Into::into).collect();
        Ok(Json(ThresholdList { items }))
    }

    /// Partner scorecards
    ///
    /// The trailing twelve months up to today, live: revenue (first-year amounts signed plus
    /// accepted work delivered for other signers), clients and successes credited, valid
    /// credentials per certification, quality, on-time and dispute rates, the tier in force, the
    /// tier reached and what the next one misses. Vendor roles read every partner's; a partner's
    /// administrator its own.
    #[oai(path = "/scorecards", method = "get", operation_id = "listScorecards", tag = "ApiTags::Tiers")]
    async fn scorecards(&self, auth: Caller, org_id: Query<Option<i64>>) -> ApiResult<Json<ScorecardList>> {
        let items = self.success.scorecards(&auth.0, org_id.0).await?.into_iter().map(Into::into).collect();
        Ok(Json(ScorecardList { items }))
    }

    /// List tier assessments
    ///
    /// Newest first: every partner's scorecard and tier for each period recomputed.
    #[oai(path = "/tier-assessments", method = "get", operation_id = "listTierAssessments", tag = "ApiTags::Tiers")]
    async fn assessments(
        &self,
        auth: Caller,
        org_id: Query<Option<i64>>,
        period: Query<Option<MonthText>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<AssessmentPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let rows = self
            .success
            .assessments(
                &auth.0,
                org_id.0,
                period.0.map(|p| p.checked("period").map(str::to_owned)).transpose()?,
                &page,
            )
            .await?;
        Ok(Json(AssessmentPage::from_page(rows, AssessmentView::from)))
    }

    /// Recompute the tiers of a period
    ///
    /// Vendor ops or the platform admin, for a month that has ended (the server does it by
    /// itself for the month just ended). Each partner is scored over the twelve months ending
    /// on the period's last day and moved to the tier it reaches: contracts signed from now on
    /// take that tier's share rates; contracts already signed keep their agreement. Each change
    /// is audited and mailed to the partner's administrators. Safe to repeat: a partner already
    /// assessed for the period is left as it is.
    #[oai(path = "/tier-assessments", method = "post", operation_id = "recomputeTiers", tag = "ApiTags::Tiers")]
    async fn recompute(&self, auth: Caller, body: Json<RecomputeRequest>) -> ApiResult<Json<RecomputeView>> {
        Ok(Json(self.success.recompute(&auth.0, body.0.period.checked("period")?).await?.into()))
    }
}
