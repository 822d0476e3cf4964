//! Partner scorecards and tiers: the thresholds (data), the live scorecard of the trailing
//! twelve months, and the per-period recomputation that moves partners between tiers.
//!
//! A period is a calendar month. The recomputation for a month scores the twelve months ending
//! on its last day and sets the tier that applies from then on: contracts signed afterwards take
//! the new tier's share rates in their agreement snapshot; contracts already signed keep theirs.
//! One assessment per partner and period (a unique index): of several replicas recomputing the
//! same period, exactly one records, audits and mails each change.

use std::collections::HashMap;

use chrono::{DateTime, Months, NaiveDate, Utc};
use directory::domain::Tier;
use identity::people;
use kernel::{Action, Error, Page, PageRequest, Resource};
use notify::Template;
use platform::audit::{self, Change};
use platform::db::sql;
use platform::{Actor, AppResult, Principal, Scope, finish};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::json;

use crate::app::{MetricsQuery, Success};
use crate::metrics::{Granularity, GroupBy, Key, Month};
use crate::store::{self, Span, assessment, threshold};
use crate::tiers::{self, Scorecard, Threshold};

/// A partner's scorecard with the tier it reaches.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerScorecard {
    pub org_id: i64,
    pub org_name: String,
    pub org_kind: String,
    /// The tier in force (set by the last recomputation or by the platform admin).
    pub current_tier: Tier,
    /// The tier this scorecard reaches.
    pub reached_tier: Tier,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub scorecard: Scorecard,
    /// What the next tier up asks that the scorecard misses (empty at the top).
    pub next_tier: Option<Tier>,
    pub next_tier_misses: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub id: i64,
    pub org_id: i64,
    pub period: String,
    pub tier: Tier,
    pub previous_tier: Option<Tier>,
    pub scorecard: serde_json::Value,
    pub computed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RecomputeReport {
    pub period: String,
    /// Partners assessed by this run.
    pub assessed: usize,
    /// Of which whose tier changed.
    pub changed: usize,
    /// Partners already assessed for the period (by an earlier run or another replica).
    pub already_assessed: usize,
}

fn tier_of(text: Option<&str>) -> AppResult<Tier> {
    match text {
        None => Ok(Tier::Registered),
        Some(t) => t.parse().map_err(|_| Error::unexpected(format!("unknown tier {t}")).into()),
    }
}

fn threshold_from(m: threshold::Model) -> AppResult<Threshold> {
    Ok(Threshold {
        tier: tier_of(Some(&m.tier))?,
        min_revenue_fen: m.min_revenue_fen,
        min_success_bp: m.min_success_bp,
        min_valid_credentials: m.min_valid_credentials,
        min_quality_centi: m.min_quality_centi,
        min_on_time_bp: m.min_on_time_bp,
        max_dispute_bp: m.max_dispute_bp,
    })
}

fn assessment_from(m: assessment::Model) -> AppResult<Assessment> {
    Ok(Assessment {
        id: m.id,
        org_id: m.org_id,
        period: m.period,
        tier: tier_of(Some(&m.tier))?,
        previous_tier: m.previous_tier.as_deref().map(|t| tier_of(Some(t))).transpose()?,
        scorecard: m.scorecard,
        computed_at: m.computed_at,
    })
}

/// The last day of a month.
fn month_end(m: Month) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(m.year, m.month, 1)?.checked_add_months(Months::new(1))?.pred_opt()
}

/// "2026-10" → the month, if it is a whole month before `today`'s.
pub fn parse_period(text: &str, today: NaiveDate) -> Result<Month, Error> {
    let m = (text.len() == 7)
        .then(|| Month::parse(text))
        .flatten()
        .ok_or_else(|| Error::invalid("period", "is a month, YYYY-MM"))?;
    if m >= Month::of(today) {
        return Err(Error::invalid("period", "must be a month that has ended"));
    }
    Ok(m)
}

/// The month before `today`'s.
pub fn previous_period(today: NaiveDate) -> Month {
    Month::of(today.checked_sub_months(Months::new(1)).unwrap_or(today))
}

impl Success {
    pub async fn thresholds(&self, caller: &Principal) -> AppResult<Vec<Threshold>> {
        let _permit = self.policy.permit(caller, Resource::Tier, Action::Read)?;
        self.ladder(self.db.read()).await
    }

    async fn ladder<C: ConnectionTrait>(&self, conn: &C) -> AppResult<Vec<Threshold>> {
        let rows = threshold::Entity::find().all(conn).await?;
        let list = rows.into_iter().map(threshold_from).collect::<AppResult<Vec<_>>>()?;
        Ok(tiers::validate_thresholds(list)?)
    }

    /// Replaces the thresholds of every tier (platform admin). Takes effect at the next
    /// recomputation.
    pub async fn put_thresholds(&self, caller: &Principal, list: Vec<Threshold>) -> AppResult<Vec<Threshold>> {
        let _permit = self.policy.permit(caller, Resource::Tier, Action::Update)?;
        self.put_thresholds_as(&Actor::of(caller), list).await
    }

    pub async fn put_thresholds_system(&self, who: &'static str, list: Vec<Threshold>) -> AppResult<Vec<Threshold>> {
        self.put_thresholds_as(&Actor::System(who), list).await
    }

    async fn put_thresholds_as(&self, actor: &Actor, list: Vec<Threshold>) -> AppResult<Vec<Threshold>> {
        let list = tiers::validate_thresholds(list)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Vec<Threshold>> = async {
            let before = self.ladder(&txn).await?;
            threshold::Entity::delete_many().exec(&txn).await?;
            for t in &list {
                threshold::ActiveModel {
                    tier: Set(t.tier.as_str().to_owned()),
                    min_revenue_fen: Set(t.min_revenue_fen),
                    min_success_bp: Set(t.min_success_bp),
                    min_valid_credentials: Set(t.min_valid_credentials),
                    min_quality_centi: Set(t.min_quality_centi),
                    min_on_time_bp: Set(t.min_on_time_bp),
                    max_dispute_bp: Set(t.max_dispute_bp),
                    updated_by: Set(actor.user_id()),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::Tier, "thresholds_updated", "ladder").before(&before).after(&list),
            )
            .await?;
            Ok(list)
        }
        .await;
        finish(txn, outcome).await
    }

    /// Every partner's scorecard for the twelve months ending on `to`.
    async fn score<C: ConnectionTrait>(
        &self,
        conn: &C,
        to: NaiveDate,
        only: Option<i64>,
    ) -> AppResult<Vec<PartnerScorecard>> {
        let from = to.checked_sub_months(Months::new(12)).and_then(|d| d.succ_opt()).unwrap_or(to);
        let span = Span { from, to, org: only };
        let partners = store::partners(conn, only).await?;
        let q = MetricsQuery { from, to, group_by: GroupBy::Partner, granularity: Granularity::Month };
        let metrics = self.metrics_for(only, only, q).await?;
        let by_org: HashMap<i64, &crate::metrics::MetricRow> = metrics
            .rows
            .iter()
            .filter_map(|r| match r.row.key {
                Some(Key::Org(id)) => Some((id, &r.row)),
                _ => None,
            })
            .collect();
        let signed = store::signed_revenue(conn, &span).await?;
        let delivered = store::delivered_revenue(conn, &span).await?;
        let mut creds = store::valid_credentials(conn, to).await?;
        let ratings = store::rating_totals(conn).await?;
        let disputed = store::disputed(conn, &span).await?;
        let ladder = self.ladder(conn).await?;
        let mut out = Vec::with_capacity(partners.len());
        for p in partners {
            let row = by_org.get(&p.id);
            let (rated, stars) = ratings.get(&p.id).copied().unwrap_or((0, 0));
            let scorecard = Scorecard {
                signed_revenue_fen: signed.get(&p.id).copied().unwrap_or(0),
                delivered_revenue_fen: delivered.get(&p.id).copied().unwrap_or(0),
                clients: row.map_or(0, |r| r.clients),
                successes: row.map_or(0, |r| r.success.numerator),
                credentials: creds.remove(&p.id).unwrap_or_default(),
                rated,
                stars,
                delivered: row.map_or(0, |r| r.on_time.denominator),
                on_time: row.map_or(0, |r| r.on_time.numerator),
                disputed: disputed.get(&p.id).copied().unwrap_or(0),
            };
            let reached = tiers::tier_for(&scorecard, &ladder);
            let next = ladder.iter().find(|t| tiers::rank(t.tier) > tiers::rank(reached));
            out.push(PartnerScorecard {
                org_id: p.id,
                org_name: p.name_zh,
                org_kind: p.kind,
                current_tier: tier_of(p.tier.as_deref())?,
                reached_tier: reached,
                from,
                to,
                next_tier: next.map(|t| t.tier),
                next_tier_misses: next.map(|t| tiers::misses(&scorecard, t)).unwrap_or_default(),
                scorecard,
            });
        }
        Ok(out)
    }

    /// Live scorecards for the twelve months up to today: every partner for vendor roles, one's
    /// own for a partner's administrator.
    pub async fn scorecards(&self, caller: &Principal, org_id: Option<i64>) -> AppResult<Vec<PartnerScorecard>> {
        let permit = self.policy.permit(caller, Resource::Tier, Action::Read)?;
        let only = match permit.scope(Some(caller)) {
            Scope::All => org_id,
            Scope::Limited { own_org: Some(own), .. } => {
                if org_id.is_some_and(|o| o != own) {
                    return Err(Error::not_found("scorecard", org_id.unwrap_or_default()).into());
                }
                Some(own)
            }
            Scope::Limited { .. } => return Err(Error::forbidden("your role reads no scorecards").into()),
        };
        let cards = self.score(self.db.read(), self.clock.now().date_naive(), only).await?;
        if let Some(o) = only
            && cards.is_empty()
        {
            return Err(Error::not_found("partner", o).into());
        }
        Ok(cards)
    }

    pub async fn assessments(
        &self,
        caller: &Principal,
        org_id: Option<i64>,
        period: Option<String>,
        page: &PageRequest,
    ) -> AppResult<Page<(Assessment, String)>> {
        use assessment::Column as A;
        let permit = self.policy.permit(caller, Resource::Tier, Action::Read)?;
        let mut q = assessment::Entity::find();
        if let Some(c) = platform::scope::condition(&permit.scope(Some(caller)), A::OrgId, None::<A>) {
            q = q.filter(c);
        }
        if let Some(o) = org_id {
            q = q.filter(A::OrgId.eq(o));
        }
        if let Some(p) = period {
            q = q.filter(A::Period.eq(p));
        }
        if let Some(after) = page.after_id() {
            q = q.filter(A::Id.lt(after));
        }
        let conn = self.db.read();
        let rows = q.order_by_desc(A::Id).limit(page.limit + 1).all(conn).await?;
        let page = Page::from_rows(rows, page.limit, |m| kernel::Cursor::after_id(m.id));
        // The partners' names, in one query for the page.
        let names: std::collections::HashMap<i64, String> = directory::store::organisation::Entity::find()
            .filter(directory::store::organisation::Column::Id.is_in(page.items.iter().map(|a| a.org_id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name_zh))
            .collect();
        let mut items = Vec::with_capacity(page.items.len());
        for m in page.items {
            let name = names.get(&m.org_id).cloned().unwrap_or_default();
            items.push((assessment_from(m)?, name));
        }
        Ok(Page { items, next: page.next })
    }

    /// Vendor ops (or the platform admin) recompute the tiers of a month that has ended.
    pub async fn recompute(&self, caller: &Principal, period: &str) -> AppResult<RecomputeReport> {
        let _permit = self.policy.permit(caller, Resource::Tier, Action::Run)?;
        let m = parse_period(period, self.clock.now().date_naive())?;
        self.recompute_as(&Actor::of(caller), m).await
    }

    /// The scheduled recomputation of the month just ended (the server's daily sweep, the CLI).
    pub async fn recompute_system(&self, who: &'static str, period: Option<&str>) -> AppResult<RecomputeReport> {
        let today = self.clock.now().date_naive();
        let m = match period {
            Some(p) => parse_period(p, today)?,
            None => previous_period(today),
        };
        self.recompute_as(&Actor::System(who), m).await
    }

    async fn recompute_as(&self, actor: &Actor, period: Month) -> AppResult<RecomputeReport> {
        let label = period.bucket(Granularity::Month);
        let end = month_end(period).ok_or_else(|| Error::invalid("period", "is not a month"))?;
        if self.ladder(self.db.read()).await?.is_empty() {
            // Without thresholds tiers are kept by hand: recomputing would demote everyone.
            return Err(Error::unprocessable(
                "no_tier_thresholds",
                "no tier thresholds are set (PUT /api/v1/tier-thresholds): tiers are kept by hand",
            )
            .into());
        }
        let mut report = RecomputeReport { period: label.clone(), ..RecomputeReport::default() };
        let cards = self.score(self.db.read(), end, None).await?;
        let rates = directory::store::agreement_template_by_code(self.db.read(), "standard").await?;
        for card in cards {
            let now = self.clock.now();
            let txn = self.db.begin().await?;
            let outcome: AppResult<Option<bool>> = async {
                // The unique (partner, period) decides which run records it; the others skip
                // without disturbing their transaction.
                let row = assessment::ActiveModel {
                    id: Default::default(),
                    org_id: Set(card.org_id),
                    period: Set(label.clone()),
                    tier: Set(card.reached_tier.as_str().to_owned()),
                    previous_tier: Set(Some(card.current_tier.as_str().to_owned())),
                    scorecard: Set(json!(card)),
                    computed_at: Set(now),
                };
                let inserted = assessment::Entity::insert(row)
                    .on_conflict(
                        OnConflict::columns([assessment::Column::OrgId, assessment::Column::Period]).do_nothing().to_owned(),
                    )
                    .exec_without_returning(&txn)
                    .await?;
                if inserted == 0 {
                    return Ok(None);
                }
                if card.reached_tier == card.current_tier {
                    return Ok(Some(false));
                }
                // Compare-and-set on the tier read for the scorecard: an admin's change in the
                // meantime wins and this assessment only records.
                let b = txn.get_database_backend();
                let res = txn
                    .execute_raw(sql(
                        b,
                        "UPDATE organisations SET tier = $1, updated_at = $2 WHERE id = $3 AND COALESCE(tier, 'registered') = $4",
                        [
                            card.reached_tier.as_str().into(),
                            now.into(),
                            card.org_id.into(),
                            card.current_tier.as_str().into(),
                        ],
                    ))
                    .await?;
                if res.rows_affected() == 0 {
                    return Ok(Some(false));
                }
                audit::record_in(
                    &txn,
                    actor,
                    now,
                    Change::new(Resource::Organisation, "tier_changed", card.org_id)
                        .org(card.org_id)
                        .before(&json!({"tier": card.current_tier.as_str()}))
                        .after(&json!({"tier": card.reached_tier.as_str(), "period": label, "scorecard": card.scorecard})),
                )
                .await?;
                let tier_rates = rates.as_ref().and_then(|t| {
                    serde_json::from_value::<HashMap<String, kernel::agreement::TierRates>>(t.tiers.clone()).ok()
                });
                let r = tier_rates.as_ref().and_then(|m| m.get(card.reached_tier.as_str()));
                let payload = json!({
                    "org_name": card.org_name,
                    "period": label,
                    "previous": card.current_tier.as_str(),
                    "tier": card.reached_tier.as_str(),
                    "first_year_rate": r.and_then(|r| r.first_year).map(|x| x.to_string()).unwrap_or_default(),
                    "maintenance_rate": r.and_then(|r| r.maintenance).map(|x| x.to_string()).unwrap_or_default(),
                    "reasons": if card.next_tier_misses.is_empty() { "—".to_owned() } else { card.next_tier_misses.join("; ") },
                    "link": format!("{}/scorecard", self.public_url.trim_end_matches('/')),
                });
                people::notify_org_admins(&txn, now, Template::TierChanged, card.org_id, &payload, &format!("tier:{}:{label}", card.org_id))
                    .await?;
                Ok(Some(true))
            }
            .await;
            match finish(txn, outcome).await? {
                None => report.already_assessed += 1,
                Some(changed) => {
                    report.assessed += 1;
                    report.changed += usize::from(changed);
                }
            }
        }
        Ok(report)
    }
}

impl Success {
    /// The scheduled recomputation: the month just ended, unless every partner already has its
    /// assessment for it or no thresholds are set (then nothing is scored). Run daily by the
    /// server.
    pub async fn recompute_if_due(&self) -> AppResult<Option<RecomputeReport>> {
        let period = previous_period(self.clock.now().date_naive());
        let label = period.bucket(Granularity::Month);
        let conn = self.db.read();
        let done = assessment::Entity::find().filter(assessment::Column::Period.eq(label)).count(conn).await?;
        let partners = store::partners(conn, None).await?.len() as u64;
        if done >= partners || self.ladder(conn).await?.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.recompute_as(&Actor::System("tiers"), period).await?))
    }
}
