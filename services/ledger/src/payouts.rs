//! Payout runs, their approval, statements and the vendor's report on equity partners.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use directory::store::organisation;
use kernel::{Action, Error, Fen, OrgKind, Page, PageRequest, Rate, Resource};
use notify::Template;
use platform::audit::{self, Change};
use platform::idempotency::{self, Created, IdempotencyKey};
use platform::{Actor, AppResult, Principal, Scope, finish};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::Ledger;
use crate::domain::{Account, Kind};
use crate::statement::{
    self, AccountSummary, Approval, PayoutLine, PayoutStatus, Period, Statement, StatementLine, StatementSummary,
    needs_two_approvers,
};
use crate::store::{self, NewEntry, payout, payout_item};

/// A payout batch with its payees.
#[derive(Debug, Clone)]
pub struct PayoutBatch {
    pub payout: payout::Model,
    pub lines: Vec<PayoutLine>,
}

/// The vendor's attributable share of one equity partner's net earnings in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquityShare {
    pub party_id: i64,
    pub party_name: String,
    pub stake: Rate,
    pub allocations: Fen,
    pub clawbacks: Fen,
    pub adjustments: Fen,
    pub net_earnings: Fen,
    pub attributable: Fen,
}

fn system_or(caller: Option<&Principal>) -> Actor {
    caller.map(Actor::of).unwrap_or(Actor::System("cli"))
}

fn fen(total: i64, credit: bool) -> Fen {
    // Entries are debit-positive; what is owed to a party is a credit.
    if credit { Fen::new(total.saturating_neg()) } else { Fen::new(total) }
}

impl Ledger {
    fn check(&self, caller: Option<&Principal>, resource: Resource, action: Action) -> AppResult<Scope> {
        Ok(match caller {
            Some(p) => self.policy.permit(p, resource, action)?.scope(Some(p)),
            None => Scope::All,
        })
    }

    // ---- payouts ----------------------------------------------------------------------------

    /// Runs the payout of a period: every `payable` balance at the cut-off, positive and at or
    /// above the minimum (the configured one unless `minimum` is given), goes into one batch
    /// that waits for approval. One batch per period, in period order, one pending at a time.
    /// With an idempotency key, a retry of the same run returns the batch the first request
    /// made (`Created::replayed`).
    pub async fn run_payout(
        &self,
        caller: Option<&Principal>,
        period: Period,
        minimum: Option<Fen>,
        key: Option<&IdempotencyKey>,
    ) -> AppResult<Created<PayoutBatch>> {
        self.check(caller, Resource::Payout, Action::Run)?;
        let minimum = minimum.unwrap_or(self.config.payouts.minimum);
        if minimum.is_negative() {
            return Err(Error::invalid("minimum", "must not be negative").into());
        }
        let claim = match (key, caller) {
            (Some(key), Some(p)) => Some(idempotency::Claim {
                operation: "runPayout",
                org_id: p.org_id,
                key,
                hash: idempotency::request_hash(&json!({ "period": period.to_string(), "minimum_fen": minimum.get() })),
            }),
            _ => None,
        };
        let now = self.clock.now();
        let cutoff = period.cutoff(now)?;
        let txn = self.db.begin().await?;
        let outcome: AppResult<(payout::Model, bool)> = async {
            store::lock_payouts(&txn).await?;
            if let Some(claim) = &claim
                && let Some(id) = idempotency::replay(&txn, claim).await?
            {
                let p =
                    payout::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| Error::not_found("payout", id))?;
                return Ok((p, true));
            }
            if let Some(p) = payout::Entity::find()
                .filter(payout::Column::Status.eq(PayoutStatus::PendingApproval.as_str()))
                .one(&txn)
                .await?
            {
                return Err(Error::conflict(
                    "payout_pending",
                    format!("payout batch {} of {} waits for approval; approve it before the next run", p.id, p.period),
                )
                .into());
            }
            if let Some(last) = payout::Entity::find().order_by_desc(payout::Column::Period).one(&txn).await?
                && last.period.as_str() >= period.to_string().as_str()
            {
                let message = if last.period == period.to_string() {
                    format!("the payout of {period} ran already (batch {})", last.id)
                } else {
                    format!("the payout of the later period {} ran already; periods are paid in order", last.period)
                };
                return Err(Error::conflict("payout_exists", message).into());
            }
            let balances: Vec<(i64, Fen)> =
                store::party_totals_before(&txn, cutoff, &[Account::Payable.as_str()], None)
                    .await?
                    .into_iter()
                    .map(|t| (t.party_id, fen(t.total.0, true)))
                    .collect();
            let items = statement::payout_items(&balances, minimum);
            let total = Fen::checked_sum(items.iter().map(|(_, a)| *a))?;
            let p = payout::ActiveModel {
                id: Default::default(),
                period: Set(period.to_string()),
                status: Set(PayoutStatus::PendingApproval.as_str().into()),
                cutoff: Set(cutoff),
                minimum_fen: Set(minimum.get()),
                total_fen: Set(total.get()),
                items: Set(i32::try_from(items.len()).map_err(Error::unexpected)?),
                dual_approval: Set(needs_two_approvers(total, self.config.payouts)),
                created_by: Set(caller.map(|c| c.user_id)),
                created_at: Set(now),
                first_approved_by: Set(None),
                first_approved_at: Set(None),
                approved_by: Set(None),
                approved_at: Set(None),
                txn_id: Set(None),
            }
            .insert(&txn)
            .await?;
            if !items.is_empty() {
                payout_item::Entity::insert_many(items.iter().map(|(party, amount)| payout_item::ActiveModel {
                    id: Default::default(),
                    payout_id: Set(p.id),
                    party_id: Set(*party),
                    amount_fen: Set(amount.get()),
                }))
                .exec(&txn)
                .await?;
            }
            audit::record_in(
                &txn,
                &system_or(caller),
                now,
                Change::new(Resource::Payout, "run", p.id).after(&json!({
                    "period": p.period,
                    "cutoff": cutoff.to_rfc3339(),
                    "minimum": minimum.to_yuan(),
                    "total": total.to_yuan(),
                    "items": p.items,
                    "dual_approval": p.dual_approval,
                })),
            )
            .await?;
            if let Some(claim) = &claim {
                idempotency::remember(&txn, claim, p.id, now).await?;
            }
            Ok((p, false))
        }
        .await;
        let (p, replayed) = finish(txn, outcome).await.map_err(|e| {
            if e.is_duplicate() {
                Error::conflict("payout_exists", format!("the payout of {period} ran already")).into()
            } else {
                e
            }
        })?;
        let value = self.batch(p).await.map_err(platform::error::after_commit)?;
        Ok(Created { value, replayed })
    }

    /// Approves a payout batch. Above the two-person limit the first approval only records
    /// itself and a different person must approve too; the final approval posts the payouts
    /// (a `payable` debit per party, a `cash` credit) and tells every party.
    pub async fn approve_payout(&self, caller: &Principal, id: i64) -> AppResult<PayoutBatch> {
        let _permit = self.policy.permit(caller, Resource::Payout, Action::Approve)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<payout::Model> = async {
            store::lock_payouts(&txn).await?;
            let p = payout::Entity::find_by_id(id).one(&txn).await?.ok_or_else(|| Error::not_found("payout", id))?;
            let status: PayoutStatus = p.status.parse().map_err(|_| Error::unexpected("unknown payout status"))?;
            let decision = statement::approve(status, p.dual_approval, p.first_approved_by, caller.user_id)?;
            let mut items = Vec::new();
            let mut active = p.clone().into_active_model();
            let verb = match decision {
                Approval::First => {
                    active.first_approved_by = Set(Some(caller.user_id));
                    active.first_approved_at = Set(Some(now));
                    "approved_first"
                }
                Approval::Complete => {
                    items =
                        payout_item::Entity::find().filter(payout_item::Column::PayoutId.eq(p.id)).all(&txn).await?;
                    let txn_id = self.post_payout(&txn, &p, &items, now).await?;
                    active.status = Set(PayoutStatus::Approved.as_str().into());
                    active.approved_by = Set(Some(caller.user_id));
                    active.approved_at = Set(Some(now));
                    active.txn_id = Set(Some(txn_id));
                    "approved"
                }
            };
            let updated = active.update(&txn).await?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Payout, verb, p.id).before(&json!({ "status": p.status })).after(&json!({
                    "status": updated.status,
                    "period": p.period,
                    "total": Fen::new(p.total_fen).to_yuan(),
                })),
            )
            .await?;
            if decision == Approval::Complete {
                self.announce(&txn, &updated, &items, now).await?;
            }
            Ok(updated)
        }
        .await;
        let p = finish(txn, outcome).await?;
        self.batch(p).await
    }

    /// Posts an approved batch: one balanced transaction.
    async fn post_payout<C: ConnectionTrait>(
        &self,
        conn: &C,
        p: &payout::Model,
        items: &[payout_item::Model],
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<i64> {
        let vendor =
            directory::store::vendor(conn).await?.ok_or_else(|| Error::unexpected("the park has no vendor"))?;
        let txn_id = store::reserve_txns(conn, 1)
            .await?
            .pop()
            .ok_or_else(|| Error::unexpected("no ledger transaction number"))?;
        let entry = |party_id, account: Account, amount_fen| NewEntry {
            txn_id,
            contract_id: None,
            line_id: None,
            stream: None,
            payment_id: None,
            payout_id: Some(p.id),
            party_id,
            account: account.as_str(),
            amount_fen,
            kind: Kind::Payout.as_str(),
            rule: None,
            rate_bp: None,
            fee_fen: None,
        };
        let mut entries: Vec<NewEntry> =
            items.iter().map(|i| entry(i.party_id, Account::Payable, i.amount_fen)).collect();
        if p.total_fen != 0 {
            entries.push(entry(
                vendor.id,
                Account::Cash,
                p.total_fen.checked_neg().ok_or(kernel::MoneyError::Overflow)?,
            ));
        }
        store::append(conn, &entries, now).await?;
        Ok(txn_id)
    }

    /// Tells every party of the batch that its payout is approved, and every party with a
    /// statement for the period that it is ready.
    async fn announce<C: ConnectionTrait>(
        &self,
        conn: &C,
        p: &payout::Model,
        items: &[payout_item::Model],
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<()> {
        let period: Period = p.period.parse()?;
        let names = org_names(conn, &items.iter().map(|i| i.party_id).collect::<Vec<_>>()).await?;
        for i in items {
            let payload = json!({
                "org_name": names.get(&i.party_id).cloned().unwrap_or_default(),
                "period": p.period,
                "amount": Fen::new(i.amount_fen).to_yuan(),
                "payout_id": p.id,
            });
            marketplace::app::notify_org_admins(
                conn,
                now,
                Template::PayoutApproved,
                i.party_id,
                &payload,
                &format!("payout:{}", p.id),
            )
            .await?;
        }
        let base = self.config.public_url.trim_end_matches('/');
        for s in self.summaries(conn, &Scope::All, period, now).await? {
            let payload = json!({
                "org_name": s.party_name,
                "period": p.period,
                "opening": s.payable.opening.to_yuan(),
                "closing": s.payable.closing.to_yuan(),
                "link": format!("{base}/statements/{}/{}", s.party_id, p.period),
            });
            marketplace::app::notify_org_admins(
                conn,
                now,
                Template::StatementReady,
                s.party_id,
                &payload,
                &format!("statement:{}:{}", s.party_id, p.period),
            )
            .await?;
        }
        Ok(())
    }

    async fn batch(&self, p: payout::Model) -> AppResult<PayoutBatch> {
        let conn = self.db.read();
        let items = payout_item::Entity::find()
            .filter(payout_item::Column::PayoutId.eq(p.id))
            .order_by_asc(payout_item::Column::PartyId)
            .all(conn)
            .await?;
        let orgs = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(items.iter().map(|i| i.party_id).collect::<Vec<_>>()))
            .all(conn)
            .await?;
        let by_id: HashMap<i64, organisation::Model> = orgs.into_iter().map(|o| (o.id, o)).collect();
        let lines = items
            .iter()
            .map(|i| PayoutLine {
                party_id: i.party_id,
                party_name: by_id.get(&i.party_id).map(|o| o.name_zh.clone()).unwrap_or_default(),
                credit_code: by_id.get(&i.party_id).and_then(|o| o.credit_code.clone()),
                amount: Fen::new(i.amount_fen),
            })
            .collect();
        Ok(PayoutBatch { payout: p, lines })
    }

    /// One payout batch with its payees (vendor finance).
    pub async fn payout(&self, caller: Option<&Principal>, id: i64) -> AppResult<PayoutBatch> {
        self.check(caller, Resource::Payout, Action::Read)?;
        let p =
            payout::Entity::find_by_id(id).one(self.db.read()).await?.ok_or_else(|| Error::not_found("payout", id))?;
        self.batch(p).await
    }

    /// Payout batches, newest period first (vendor finance).
    pub async fn payouts(&self, caller: Option<&Principal>, page: &PageRequest) -> AppResult<Page<payout::Model>> {
        self.check(caller, Resource::Payout, Action::Read)?;
        let mut q = payout::Entity::find().order_by_desc(payout::Column::Id).limit(page.limit + 1);
        if let Some(after) = page.after_id() {
            q = q.filter(payout::Column::Id.lt(after));
        }
        let rows = q.all(self.db.read()).await?;
        Ok(Page::from_rows(rows, page.limit, |p| kernel::Cursor::after_id(p.id)))
    }

    // ---- statements -------------------------------------------------------------------------

    /// The statements of a period the caller may read: one per party with a balance or a
    /// movement. Vendor finance reads all; vendor ops those of the teams and equity partners it
    /// supervises; a party its own.
    pub async fn statements(&self, caller: Option<&Principal>, period: Period) -> AppResult<Vec<StatementSummary>> {
        let scope = self.check(caller, Resource::Statement, Action::Read)?;
        self.summaries(self.db.read(), &scope, period, self.clock.now()).await
    }

    async fn summaries<C: ConnectionTrait>(
        &self,
        conn: &C,
        scope: &Scope,
        period: Period,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<Vec<StatementSummary>> {
        let accounts = [Account::Payable.as_str(), Account::Held.as_str()];
        let opening = store::party_totals_before(conn, period.start(), &accounts, None).await?;
        let moves = store::movements(conn, period.start(), period.end()).await?;
        let mut sums: BTreeMap<i64, (AccountSummary, AccountSummary)> = BTreeMap::new();
        for o in opening {
            let s = sums.entry(o.party_id).or_default();
            let summary = AccountSummary::opening(fen(o.total.0, true));
            match o.account.parse::<Account>() {
                Ok(Account::Payable) => s.0 = summary,
                Ok(Account::Held) => s.1 = summary,
                _ => {}
            }
        }
        for m in moves {
            let s = sums.entry(m.party_id).or_default();
            let kind: Kind = m.kind.parse().map_err(|_| Error::unexpected("unknown entry kind"))?;
            match m.account.parse::<Account>() {
                Ok(Account::Payable) => s.0.add(kind, fen(m.total.0, true))?,
                Ok(Account::Held) => s.1.add(kind, fen(m.total.0, true))?,
                _ => {}
            }
        }
        sums.retain(|_, (p, h)| !(p.is_empty() && h.is_empty()));
        let mut q = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(sums.keys().copied().collect::<Vec<_>>()));
        if let Some(cond) = platform::scope::condition(scope, organisation::Column::Id, None::<organisation::Column>) {
            q = q.filter(cond);
        }
        let orgs = q.order_by_asc(organisation::Column::Id).all(conn).await?;
        Ok(orgs
            .into_iter()
            .filter_map(|o| {
                let (payable, held) = sums.get(&o.id).copied()?;
                Some(StatementSummary {
                    party_id: o.id,
                    party_name: o.name_zh,
                    party_kind: o.kind,
                    period,
                    closed: period.is_closed(now),
                    payable,
                    held,
                })
            })
            .collect())
    }

    /// A party's statement for a period: opening balances, every entry, closing balances. A
    /// party the caller may not read is not found.
    pub async fn statement(&self, caller: Option<&Principal>, party: i64, period: Period) -> AppResult<Statement> {
        let scope = self.check(caller, Resource::Statement, Action::Read)?;
        let conn = self.db.read();
        let org = directory::store::org_in_scope(conn, &scope, party)
            .await?
            .ok_or_else(|| Error::not_found("statement", format!("{party}/{period}")))?;
        let accounts = [Account::Payable.as_str(), Account::Held.as_str()];
        let opening = store::party_totals_before(conn, period.start(), &accounts, Some(&[party])).await?;
        let open = |a: Account| {
            opening.iter().find(|t| t.account == a.as_str()).map(|t| fen(t.total.0, true)).unwrap_or(Fen::ZERO)
        };
        let lines = store::statement_rows(conn, party, period.start(), period.end())
            .await?
            .into_iter()
            .map(|r| {
                Ok(StatementLine {
                    entry_id: r.id,
                    at: r.created_at,
                    account: r.account.parse().map_err(|_| Error::unexpected("unknown account"))?,
                    kind: r.kind.parse().map_err(|_| Error::unexpected("unknown entry kind"))?,
                    amount: fen(r.amount_fen, true),
                    contract_no: r.contract_no,
                    line_no: r.line_no,
                    stream: r.stream,
                    payment_id: r.payment_id,
                    payout_id: r.payout_id,
                    rule: r.rule,
                    rate_bp: r.rate_bp,
                    fee_fen: r.fee_fen,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let (payable, held) = statement::summarize(open(Account::Payable), open(Account::Held), &lines)?;
        Ok(Statement {
            summary: StatementSummary {
                party_id: org.id,
                party_name: org.name_zh,
                party_kind: org.kind,
                period,
                closed: period.is_closed(self.clock.now()),
                payable,
                held,
            },
            lines,
        })
    }

    // ---- reports ----------------------------------------------------------------------------

    /// The vendor's attributable share of each equity partner's net earnings in a period
    /// (allocations, clawbacks and adjustments on `payable` and `held`; releases only move
    /// money between the two, payouts are not earnings). Vendor roles only.
    pub async fn equity_report(&self, caller: Option<&Principal>, period: Period) -> AppResult<Vec<EquityShare>> {
        self.check(caller, Resource::Report, Action::Read)?;
        let conn = self.db.read();
        let partners = organisation::Entity::find()
            .filter(organisation::Column::Kind.eq(OrgKind::EquityPartner.as_str()))
            .order_by_asc(organisation::Column::Id)
            .all(conn)
            .await?;
        let ids: BTreeSet<i64> = partners.iter().map(|o| o.id).collect();
        let mut by_party: HashMap<i64, (Fen, Fen, Fen)> = HashMap::new();
        for m in store::movements(conn, period.start(), period.end()).await? {
            if !ids.contains(&m.party_id) {
                continue;
            }
            let s = by_party.entry(m.party_id).or_insert((Fen::ZERO, Fen::ZERO, Fen::ZERO));
            let amount = fen(m.total.0, true);
            match m.kind.parse::<Kind>() {
                Ok(Kind::Allocation) => s.0 = s.0.checked_add(amount)?,
                Ok(Kind::Clawback) => s.1 = s.1.checked_add(amount)?,
                Ok(Kind::Adjustment) => s.2 = s.2.checked_add(amount)?,
                _ => {}
            }
        }
        partners
            .into_iter()
            .map(|o| {
                let stake = Rate::from_bp(o.equity_stake_bp.unwrap_or(0)).map_err(Error::unexpected)?;
                let (allocations, clawbacks, adjustments) =
                    by_party.get(&o.id).copied().unwrap_or((Fen::ZERO, Fen::ZERO, Fen::ZERO));
                let net_earnings = allocations.checked_add(clawbacks)?.checked_add(adjustments)?;
                Ok(EquityShare {
                    party_id: o.id,
                    party_name: o.name_zh,
                    stake,
                    allocations,
                    clawbacks,
                    adjustments,
                    net_earnings,
                    attributable: statement::attributable(net_earnings, stake)?,
                })
            })
            .collect::<AppResult<Vec<_>>>()
    }
}

async fn org_names<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    let orgs = organisation::Entity::find().filter(organisation::Column::Id.is_in(ids.to_vec())).all(conn).await?;
    Ok(orgs.into_iter().map(|o| (o.id, o.name_zh)).collect())
}
