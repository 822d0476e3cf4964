//! Use cases of the success area: the outcome catalog, reporting and verifying clients' outcome
//! milestones, and the metrics and cash flow computed from the marketplace and the ledger.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use identity::people;
use kernel::{Action, Clock, Error, Page, PageRequest, Resource};
use notify::Template;
use platform::audit::{self, Change};
use platform::db::is_unique_violation;
use platform::idempotency::{self, Created, IdempotencyKey};
use platform::{Actor, AppResult, Permit, PolicyTable, Principal, Scope, finish};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde::Serialize;
use serde_json::json;

use crate::domain::{self, CreditRole, KindStatus, OutcomeKindDef, OutcomeReport, OutcomeStatus, Window};
use crate::metrics::{self, Facts, Granularity, GroupBy, Key, MetricRow};
use crate::store::{self, OutcomeFilter, Span, credit, kind, outcome};

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeKind {
    pub id: i64,
    pub def: OutcomeKindDef,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct KindPatch {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub description: Option<Option<String>>,
    pub window_months: Option<i32>,
    pub status: Option<KindStatus>,
}

/// An organisation credited with a client's success.
#[derive(Debug, Clone, Serialize)]
pub struct Credit {
    pub org_id: i64,
    pub org_name: String,
    pub role: CreditRole,
}

/// A client's outcome milestone with what a reader needs to understand it.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub kind_code: String,
    pub kind_name_zh: String,
    pub kind_name_en: String,
    pub report: OutcomeReport,
    pub status: OutcomeStatus,
    pub window: Window,
    /// Reached inside its window: a verified milestone then counts as a success.
    pub in_window: bool,
    pub reported_by: Option<i64>,
    pub reporter_org_id: Option<i64>,
    pub reported_at: DateTime<Utc>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    /// Set once verified: the client, its signers and the deliverers involved.
    pub credits: Vec<Credit>,
}

/// What a metrics request asks for.
#[derive(Debug, Clone)]
pub struct MetricsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: GroupBy,
    pub granularity: Granularity,
}

/// A metrics row with the group's name.
#[derive(Debug, Clone)]
pub struct NamedRow {
    pub org_id: Option<i64>,
    pub label: String,
    pub row: MetricRow,
}

#[derive(Debug, Clone)]
pub struct MetricsReport {
    pub query: MetricsQuery,
    /// Set when the figures are restricted to the caller's organisation's business.
    pub restricted_to: Option<i64>,
    pub rows: Vec<NamedRow>,
    pub total: MetricRow,
}

#[derive(Debug, Clone)]
pub struct CashFlow {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by_region: bool,
    pub granularity: Granularity,
    pub rows: Vec<store::CashRow>,
    pub period_labels: Vec<Option<String>>,
    pub total: store::CashRow,
}

/// The longest period one metrics request may span.
pub const MAX_MONTHS: i64 = 60;

fn kind_from(m: kind::Model) -> AppResult<OutcomeKind> {
    Ok(OutcomeKind {
        id: m.id,
        def: OutcomeKindDef {
            code: m.code,
            name_zh: m.name_zh,
            name_en: m.name_en,
            description: m.description,
            window_months: m.window_months,
            status: m
                .status
                .parse()
                .map_err(|_| Error::unexpected(format!("unknown outcome kind status {}", m.status)))?,
        },
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub struct Success {
    pub(crate) db: platform::Db,
    pub(crate) policy: Arc<PolicyTable>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) public_url: String,
}

impl Success {
    pub fn new(db: platform::Db, policy: Arc<PolicyTable>, clock: Arc<dyn Clock>, public_url: String) -> Self {
        Success { db, policy, clock, public_url }
    }

    /// The console screen of one reported outcome milestone.
    fn link(&self, outcome_id: i64) -> String {
        format!("{}/outcomes/{outcome_id}", self.public_url.trim_end_matches('/'))
    }

    // ---- the catalog ----------------------------------------------------------------------

    pub async fn kinds(&self, caller: &Principal, include_retired: bool) -> AppResult<Vec<OutcomeKind>> {
        let _permit = self.policy.permit(caller, Resource::OutcomeKind, Action::Read)?;
        store::kinds(self.db.read(), !include_retired).await?.into_iter().map(kind_from).collect()
    }

    pub async fn kind(&self, caller: &Principal, code: &str) -> AppResult<OutcomeKind> {
        let _permit = self.policy.permit(caller, Resource::OutcomeKind, Action::Read)?;
        let found = store::kind_by_code(self.db.read(), code).await?;
        kind_from(found.ok_or_else(|| Error::not_found("outcome milestone", code))?)
    }

    pub async fn create_kind(&self, caller: &Principal, def: OutcomeKindDef) -> AppResult<OutcomeKind> {
        let _permit = self.policy.permit(caller, Resource::OutcomeKind, Action::Create)?;
        self.create_kind_as(&Actor::of(caller), def).await
    }

    pub async fn create_kind_system(&self, who: &'static str, def: OutcomeKindDef) -> AppResult<OutcomeKind> {
        self.create_kind_as(&Actor::System(who), def).await
    }

    async fn create_kind_as(&self, actor: &Actor, def: OutcomeKindDef) -> AppResult<OutcomeKind> {
        let def = domain::validate_kind(def)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<OutcomeKind> = async {
            if store::kind_by_code(&txn, &def.code).await?.is_some() {
                return Err(
                    Error::conflict("duplicate", format!("an outcome milestone {} exists already", def.code)).into()
                );
            }
            let m = kind::ActiveModel {
                id: Default::default(),
                code: Set(def.code.clone()),
                name_zh: Set(def.name_zh.clone()),
                name_en: Set(def.name_en.clone()),
                description: Set(def.description.clone()),
                window_months: Set(def.window_months),
                status: Set(def.status.as_str().to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
            let k = kind_from(m)?;
            audit::record_in(&txn, actor, now, Change::new(Resource::OutcomeKind, "created", k.id).after(&k)).await?;
            Ok(k)
        }
        .await;
        finish(txn, outcome).await
    }

    pub async fn update_kind(&self, caller: &Principal, code: &str, patch: KindPatch) -> AppResult<OutcomeKind> {
        let _permit = self.policy.permit(caller, Resource::OutcomeKind, Action::Update)?;
        let actor = Actor::of(caller);
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<OutcomeKind> = async {
            let m =
                store::kind_by_code(&txn, code).await?.ok_or_else(|| Error::not_found("outcome milestone", code))?;
            let before = kind_from(m.clone())?;
            let mut def = before.def.clone();
            if let Some(v) = patch.name_zh {
                def.name_zh = v;
            }
            if let Some(v) = patch.name_en {
                def.name_en = v;
            }
            if let Some(v) = patch.description {
                def.description = v;
            }
            if let Some(v) = patch.window_months {
                def.window_months = v;
            }
            if let Some(v) = patch.status {
                def.status = v;
            }
            let def = domain::validate_kind(def)?;
            let mut am: kind::ActiveModel = m.into();
            am.name_zh = Set(def.name_zh);
            am.name_en = Set(def.name_en);
            am.description = Set(def.description);
            am.window_months = Set(def.window_months);
            am.status = Set(def.status.as_str().to_owned());
            am.updated_at = Set(now);
            let after = kind_from(am.update(&txn).await?)?;
            audit::record_in(
                &txn,
                &actor,
                now,
                Change::new(Resource::OutcomeKind, "updated", after.id).before(&before).after(&after),
            )
            .await?;
            Ok(after)
        }
        .await;
        finish(txn, outcome).await
    }

    // ---- milestones -----------------------------------------------------------------------

    async fn explain<C: ConnectionTrait>(&self, conn: &C, rows: Vec<outcome::Model>) -> AppResult<Vec<Outcome>> {
        let kinds: HashMap<i64, kind::Model> =
            store::kinds(conn, false).await?.into_iter().map(|k| (k.id, k)).collect();
        let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
        let credits = store::credits_of(conn, &ids).await?;
        let mut org_ids: Vec<i64> = rows.iter().map(|m| m.client_id).chain(credits.iter().map(|c| c.org_id)).collect();
        org_ids.sort_unstable();
        org_ids.dedup();
        let names: HashMap<i64, String> =
            identity::store::orgs(conn, &org_ids).await?.into_iter().map(|o| (o.id, o.name_zh)).collect();
        let mut by_outcome: HashMap<i64, Vec<Credit>> = HashMap::new();
        for c in credits {
            let role = c.role.parse().map_err(|_| Error::unexpected(format!("unknown credit role {}", c.role)))?;
            by_outcome.entry(c.outcome_id).or_default().push(Credit {
                org_id: c.org_id,
                org_name: names.get(&c.org_id).cloned().unwrap_or_default(),
                role,
            });
        }
        rows.into_iter()
            .map(|m| {
                let k = kinds.get(&m.kind_id).ok_or_else(|| Error::unexpected("outcome of an unknown kind"))?;
                let attachments: Vec<String> = serde_json::from_value(m.attachments.clone())
                    .map_err(|e| Error::unexpected(format!("outcome attachments: {e}")))?;
                Ok(Outcome {
                    id: m.id,
                    client_id: m.client_id,
                    client_name: names.get(&m.client_id).cloned().unwrap_or_default(),
                    kind_code: k.code.clone(),
                    kind_name_zh: k.name_zh.clone(),
                    kind_name_en: k.name_en.clone(),
                    report: OutcomeReport {
                        achieved_on: m.achieved_on,
                        title: m.title,
                        details: m.details,
                        attachments,
                    },
                    status: m
                        .status
                        .parse()
                        .map_err(|_| Error::unexpected(format!("unknown outcome status {}", m.status)))?,
                    window: Window { start: m.window_start, end: m.window_end },
                    in_window: m.in_window,
                    reported_by: m.reported_by,
                    reporter_org_id: m.reporter_org_id,
                    reported_at: m.reported_at,
                    reviewed_by: m.reviewed_by,
                    reviewed_at: m.reviewed_at,
                    review_note: m.review_note,
                    credits: by_outcome.remove(&m.id).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn explain_one<C: ConnectionTrait>(&self, conn: &C, m: outcome::Model) -> AppResult<Outcome> {
        self.explain(conn, vec![m]).await?.pop().ok_or_else(|| Error::unexpected("outcome vanished").into())
    }

    pub async fn list_outcomes(
        &self,
        caller: &Principal,
        filter: &OutcomeFilter,
        page: &PageRequest,
    ) -> AppResult<Page<Outcome>> {
        let permit = self.policy.permit(caller, Resource::Outcome, Action::Read)?;
        let conn = self.db.read();
        let rows = store::list_outcomes(conn, &permit.scope(Some(caller)), filter, page).await?;
        Ok(Page { items: self.explain(conn, rows.items).await?, next: rows.next })
    }

    pub async fn outcome(&self, caller: &Principal, id: i64) -> AppResult<Outcome> {
        let permit = self.policy.permit(caller, Resource::Outcome, Action::Read)?;
        let conn = self.db.read();
        let m = store::outcome_in_scope(conn, &permit.scope(Some(caller)), id)
            .await?
            .ok_or_else(|| Error::not_found("outcome milestone", id))?;
        self.explain_one(conn, m).await
    }

    /// The client (for itself) or an organisation that signed one of its contracts reports that
    /// the client reached an outcome milestone, with evidence. Vendor ops may report too.
    ///
    /// With an idempotency key, a retry of the same report returns the milestone the first
    /// request reported (`Created::replayed`).
    pub async fn report(
        &self,
        caller: &Principal,
        client_id: i64,
        kind_code: &str,
        report: OutcomeReport,
        key: Option<&IdempotencyKey>,
    ) -> AppResult<Created<Outcome>> {
        let permit = self.policy.permit(caller, Resource::Outcome, Action::Create)?;
        let claim = key.map(|key| idempotency::Claim {
            operation: "reportOutcome",
            org_id: caller.org_id,
            key,
            hash: idempotency::request_hash(&json!({
                "client_id": client_id,
                "kind": kind_code.trim().to_uppercase(),
                "achieved_on": report.achieved_on.to_string(),
                "title": report.title.trim(),
                "details": report.details.as_deref().map(str::trim),
                "attachments": report.attachments,
            })),
        });
        let scope = permit.scope(Some(caller));
        let (value, replayed) =
            self.report_as(&Actor::of(caller), scope, client_id, kind_code, report, claim.as_ref()).await?;
        Ok(Created { value, replayed })
    }

    pub async fn report_system(
        &self,
        who: &'static str,
        client_id: i64,
        kind_code: &str,
        report: OutcomeReport,
    ) -> AppResult<Outcome> {
        let scope = Permit::system(Resource::Outcome, Action::Create).scope(None);
        Ok(self.report_as(&Actor::System(who), scope, client_id, kind_code, report, None).await?.0)
    }

    /// The outcome milestone a keyed report created earlier, as the reporter may see it.
    async fn reported<C: ConnectionTrait>(&self, conn: &C, scope: &Scope, id: i64) -> AppResult<Outcome> {
        let m =
            store::outcome_in_scope(conn, scope, id).await?.ok_or_else(|| Error::not_found("outcome milestone", id))?;
        self.explain_one(conn, m).await
    }

    async fn report_as(
        &self,
        actor: &Actor,
        scope: Scope,
        client_id: i64,
        kind_code: &str,
        report: OutcomeReport,
        claim: Option<&idempotency::Claim<'_>>,
    ) -> AppResult<(Outcome, bool)> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<(Outcome, bool)> = async {
            if !store::may_report_for(&txn, &scope, client_id).await? {
                return Err(Error::not_found("client", client_id).into());
            }
            if let Some(claim) = claim
                && let Some(id) = idempotency::replay(&txn, claim).await?
            {
                return Ok((self.reported(&txn, &scope, id).await?, true));
            }
            let report = domain::validate_report(report, now.date_naive())?;
            let k = store::kind_by_code(&txn, kind_code).await?.ok_or_else(|| {
                Error::invalid("kind", format!("{kind_code} is not an outcome milestone of the catalog"))
            })?;
            if k.status != KindStatus::Active.as_str() {
                return Err(Error::invalid("kind", format!("{kind_code} is retired and no longer reported")).into());
            }
            let first = store::first_contract_on(&txn, client_id).await?.ok_or_else(|| {
                Error::unprocessable(
                    "no_contract",
                    "the client has no contract yet: its success window starts with its first contract",
                )
            })?;
            let window = Window::from_first_contract(first, k.window_months);
            let insert = outcome::ActiveModel {
                id: Default::default(),
                client_id: Set(client_id),
                kind_id: Set(k.id),
                achieved_on: Set(report.achieved_on),
                title: Set(report.title.clone()),
                details: Set(report.details.clone()),
                attachments: Set(json!(report.attachments)),
                status: Set(OutcomeStatus::Reported.as_str().to_owned()),
                window_start: Set(window.start),
                window_end: Set(window.end),
                in_window: Set(window.contains(report.achieved_on)),
                reported_by: Set(actor.user_id()),
                reporter_org_id: Set(actor.org_id()),
                reported_at: Set(now),
                reviewed_by: Set(None),
                reviewed_at: Set(None),
                review_note: Set(None),
            }
            .insert(&txn)
            .await;
            let m = match insert {
                Err(e) if is_unique_violation(&e) => {
                    return Err(Error::conflict(
                        "already_reported",
                        format!("{} of this client is already reported or verified", k.code),
                    )
                    .into());
                }
                other => other?,
            };
            let o = self.explain_one(&txn, m).await?;
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::Outcome, "reported", o.id).org(client_id).after(&o),
            )
            .await?;
            let payload = self.payload(&o, actor.label());
            for p in people::people_with_roles(&txn, None, &["vendor_ops"]).await? {
                people::notify_person(
                    &txn,
                    now,
                    Template::OutcomeReported,
                    &p,
                    &payload,
                    &format!("outcome:{}:reported", o.id),
                )
                .await?;
            }
            if let Some(claim) = claim {
                idempotency::remember(&txn, claim, o.id, now).await?;
            }
            Ok((o, false))
        }
        .await;
        match (finish(txn, outcome).await, claim) {
            (Err(e), Some(claim)) => {
                let id = idempotency::replayed_after_race(self.db.read(), claim, e).await?;
                Ok((self.reported(self.db.read(), &scope, id).await?, true))
            }
            (done, _) => done,
        }
    }

    fn payload(&self, o: &Outcome, reporter: String) -> serde_json::Value {
        json!({
            "client": o.client_name,
            "outcome_zh": o.kind_name_zh,
            "outcome_en": o.kind_name_en,
            "achieved_on": o.report.achieved_on.to_string(),
            "title": o.report.title,
            "reporter": reporter,
            "in_window": if o.in_window { "yes / 是" } else { "no / 否" },
            "note": o.review_note.clone().unwrap_or_default(),
            "link": self.link(o.id),
        })
    }

    /// Vendor ops verify or reject a reported milestone. Verification records who is credited
    /// with the success: the client, its signers and the deliverers involved by that day.
    pub async fn review(
        &self,
        caller: &Principal,
        id: i64,
        verdict: OutcomeStatus,
        note: Option<String>,
    ) -> AppResult<Outcome> {
        let permit = self.policy.permit(caller, Resource::Outcome, Action::Verify)?;
        self.review_as(&Actor::of(caller), permit.scope(Some(caller)), id, verdict, note).await
    }

    pub async fn review_system(
        &self,
        who: &'static str,
        id: i64,
        verdict: OutcomeStatus,
        note: Option<String>,
    ) -> AppResult<Outcome> {
        let scope = Permit::system(Resource::Outcome, Action::Verify).scope(None);
        self.review_as(&Actor::System(who), scope, id, verdict, note).await
    }

    async fn review_as(
        &self,
        actor: &Actor,
        scope: Scope,
        id: i64,
        verdict: OutcomeStatus,
        note: Option<String>,
    ) -> AppResult<Outcome> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Outcome> = async {
            let m = store::outcome_in_scope_locked(&txn, &scope, id)
                .await?
                .ok_or_else(|| Error::not_found("outcome milestone", id))?;
            let before = self.explain_one(&txn, m.clone()).await?;
            let note = domain::review(before.status, verdict, note)?;
            let client_id = m.client_id;
            let achieved_on = m.achieved_on;
            let reporter_org = m.reporter_org_id;
            let mut am: outcome::ActiveModel = m.into();
            am.status = Set(verdict.as_str().to_owned());
            am.reviewed_by = Set(actor.user_id());
            am.reviewed_at = Set(Some(now));
            am.review_note = Set(note);
            let updated = am.update(&txn).await?;
            let mut credited = Vec::new();
            if verdict == OutcomeStatus::Verified {
                let involved = store::involvement(&txn, client_id).await?;
                for (org_id, role) in domain::credits(client_id, achieved_on, &involved) {
                    credit::ActiveModel {
                        outcome_id: Set(id),
                        org_id: Set(org_id),
                        role: Set(role.as_str().to_owned()),
                    }
                    .insert(&txn)
                    .await?;
                    credited.push(org_id);
                }
            }
            let after = self.explain_one(&txn, updated).await?;
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::Outcome, verdict.as_str(), id).org(client_id).before(&before).after(&after),
            )
            .await?;
            let (template, mut tell) = match verdict {
                OutcomeStatus::Verified => (Template::OutcomeVerified, credited),
                _ => (Template::OutcomeRejected, vec![client_id]),
            };
            if let Some(org) = reporter_org {
                tell.push(org);
            }
            tell.sort_unstable();
            tell.dedup();
            let payload = self.payload(&after, actor.label());
            let key = format!("outcome:{id}:{}", verdict.as_str());
            for org in tell {
                people::notify_org_admins(&txn, now, template, org, &payload, &key).await?;
            }
            Ok(after)
        }
        .await;
        finish(txn, outcome).await
    }

    // ---- metrics ----------------------------------------------------------------------------

    fn check_period(from: NaiveDate, to: NaiveDate) -> AppResult<()> {
        if to < from {
            return Err(Error::invalid("to", "the period ends before it starts").into());
        }
        if metrics::months_between(from, to) > MAX_MONTHS {
            return Err(Error::invalid("to", format!("a period spans at most {MAX_MONTHS} months")).into());
        }
        Ok(())
    }

    /// The caller's restriction: vendor roles (any) count the whole park; a partner or a client
    /// counts its own business only.
    fn restriction(&self, caller: &Principal, resource: Resource) -> AppResult<Option<i64>> {
        let permit = self.policy.permit(caller, resource, Action::Read)?;
        Ok(match permit.scope(Some(caller)) {
            Scope::All => None,
            Scope::Limited { own_org: Some(org), .. } => Some(org),
            Scope::Limited { .. } => {
                return Err(Error::forbidden("your role may read metrics of your own organisation only").into());
            }
        })
    }

    pub async fn metrics(&self, caller: &Principal, q: MetricsQuery) -> AppResult<MetricsReport> {
        let org = self.restriction(caller, Resource::Metrics)?;
        // A partner grouped by partner sees its own row, not the rows of those it worked with;
        // a client sees the rows of the partners that served it.
        let own_row = org.filter(|_| caller.org_kind != kernel::OrgKind::Client);
        self.metrics_for(org, own_row, q).await
    }

    /// The metrics of the whole park (`org` None) or of one organisation's business.
    pub async fn metrics_for(
        &self,
        org: Option<i64>,
        own_row: Option<i64>,
        q: MetricsQuery,
    ) -> AppResult<MetricsReport> {
        Self::check_period(q.from, q.to)?;
        let conn = self.db.read();
        let span = Span { from: q.from, to: q.to, org };
        // Independent reads, side by side on the reader pool.
        let ((signings, clients), maintenance, ratings, deliveries) = tokio::try_join!(
            timed("cohort", store::cohort(conn, &span, q.group_by)),
            timed("maintenance", store::maintenance_due(conn, &span, q.group_by)),
            timed("ratings", store::rating_tallies(conn, &span, q.group_by)),
            timed("deliveries", store::delivery_tallies(conn, &span, q.group_by)),
        )?;
        let mut facts = Facts { signings, clients, maintenance, ratings, deliveries };
        if let Some(org) = own_row
            && q.group_by == GroupBy::Partner
        {
            for s in &mut facts.signings {
                s.keys.retain(|k| *k == Key::Org(org));
            }
            facts.maintenance.retain(|m| m.key == Key::Org(org));
            facts.ratings.retain(|t| t.key == Key::Org(org));
            facts.deliveries.retain(|t| t.key == Key::Org(org));
        }
        let rows = metrics::compute(&facts, q.group_by, q.granularity);
        let total = metrics::total(&facts);
        let org_ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| match r.key {
                Some(Key::Org(id)) => Some(id),
                _ => None,
            })
            .collect();
        let names: HashMap<i64, String> =
            identity::store::orgs(conn, &org_ids).await?.into_iter().map(|o| (o.id, o.name_zh)).collect();
        let rows = rows
            .into_iter()
            .map(|row| {
                let (org_id, label) = match (&row.key, &row.period) {
                    (_, Some(p)) => (None, p.clone()),
                    (Some(Key::Org(id)), _) => (Some(*id), names.get(id).cloned().unwrap_or_else(|| format!("#{id}"))),
                    (Some(Key::Text(t)), _) => (None, t.clone()),
                    _ => (None, "—".to_owned()),
                };
                NamedRow { org_id, label, row }
            })
            .collect();
        Ok(MetricsReport { query: q, restricted_to: org, rows, total })
    }

    /// Money received and shares paid out by region or period (vendor roles).
    pub async fn cash_flow(
        &self,
        caller: &Principal,
        from: NaiveDate,
        to: NaiveDate,
        by_region: bool,
        granularity: Granularity,
    ) -> AppResult<CashFlow> {
        let _permit = self.policy.permit(caller, Resource::CashFlow, Action::Read)?;
        Self::check_period(from, to)?;
        let span = Span { from, to, org: None };
        let raw = store::cash_flow(self.db.read(), &span, by_region).await?;
        let mut grouped: std::collections::BTreeMap<(Option<String>, Option<String>), store::CashRow> =
            std::collections::BTreeMap::new();
        let mut total = store::CashRow::default();
        for (region, month, r) in raw {
            let period = (!by_region).then(|| month.bucket(granularity));
            let slot = grouped.entry((region.clone(), period)).or_default();
            slot.region = region;
            slot.month = None;
            for (acc, add) in [
                (&mut slot.received_fen, r.received_fen),
                (&mut slot.refunded_fen, r.refunded_fen),
                (&mut slot.partner_shares_fen, r.partner_shares_fen),
                (&mut slot.paid_out_fen, r.paid_out_fen),
            ] {
                *acc = acc.checked_add(add).ok_or(kernel::MoneyError::Overflow)?;
            }
            for (acc, add) in [
                (&mut total.received_fen, r.received_fen),
                (&mut total.refunded_fen, r.refunded_fen),
                (&mut total.partner_shares_fen, r.partner_shares_fen),
                (&mut total.paid_out_fen, r.paid_out_fen),
            ] {
                *acc = acc.checked_add(add).ok_or(kernel::MoneyError::Overflow)?;
            }
        }
        let (period_labels, rows) = grouped.into_iter().map(|((_, p), row)| (p, row)).unzip();
        Ok(CashFlow { from, to, by_region, granularity, rows, period_labels, total })
    }
}

/// The default period of a metrics request: the twelve months up to today.
/// Runs a read and logs, at debug level, how long it took.
async fn timed<T>(what: &'static str, read: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = read.await;
    tracing::debug!(read = what, ms = started.elapsed().as_secs_f64() * 1000.0, "metrics read");
    out
}

pub fn trailing_twelve_months(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let from = today.checked_sub_months(chrono::Months::new(12)).and_then(|d| d.succ_opt()).unwrap_or(today);
    (from, today)
}
