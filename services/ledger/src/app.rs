//! The ledger's use cases: recording payments (idempotently), settling contracts to the
//! double-entry ledger, and reading entries and balances.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use kernel::agreement::{Agreement, standard_rules};
use kernel::{Action, Clock, Error, Fen, OrgKind, Page, PageRequest, Rate, Resource, Stream};
use marketplace::store::{contract, line};
use notify::Template;
use platform::audit::{self, Change};
use platform::{Actor, AppResult, Db, PolicyTable, Principal, Scope, finish};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::domain::{self, Account, Execution, Holdings, Kind, LinePayment, LineState, Parties, Terms};
use crate::store::{self, NewEntry, entry, payment};

/// Contracts settled per transaction by bulk runs: each batch commits on its own, so a run
/// killed half-way keeps what it posted and the next run continues from there.
pub const BATCH: u64 = 200;

#[derive(Clone)]
pub struct Ledger {
    pub(crate) db: Db,
    pub(crate) policy: Arc<PolicyTable>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: LedgerConfig,
}

/// The ledger's settings.
#[derive(Debug, Clone, Default)]
pub struct LedgerConfig {
    pub payouts: crate::PayoutRules,
    /// The console's address, for links in e-mails.
    pub public_url: String,
    /// Batches a bulk run settles at the same time on PostgreSQL (disjoint contracts, each
    /// batch its own transaction). SQLite has one writer: there it is always one.
    pub settle_workers: usize,
}

/// A payment (or, negative, a refund) to record.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub contract_id: i64,
    pub line_no: i32,
    pub stream: Stream,
    /// The contract year: 1 for `first_year`, 2 or later for `maintenance`.
    pub year: Option<i32>,
    pub amount: Fen,
    pub received_on: NaiveDate,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RecordedPayment {
    pub payment: payment::Model,
    pub line_no: i32,
    /// When settlement took the payment in (see [`store::settled_at`]).
    pub settled_at: Option<DateTime<Utc>>,
    /// True when the same Idempotency-Key and body were recorded before: this is that result.
    pub replayed: bool,
}

/// What a settlement batch will post, calculated from what was read: see
/// [`Ledger::plan_batch`] and [`Ledger::post_planned`].
#[derive(Default)]
pub struct Plan {
    /// The contracts as read (with their revisions), in id order.
    contracts: Vec<store::ContractRow>,
    /// The highest id of the payments the batch settles, per contract (contracts without
    /// payments to settle are absent).
    marks: HashMap<i64, i64>,
    /// One ledger transaction each: contract, line, stream and the calculated step.
    steps: Vec<(i64, i64, Stream, domain::Step)>,
    notices: Vec<(i64, Notice)>,
    events: Vec<Change>,
    summary: SettleSummary,
}

/// What a settlement run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SettleSummary {
    pub contracts: u64,
    pub payments: u64,
    pub transactions: u64,
    pub entries: u64,
}

impl SettleSummary {
    fn add(&mut self, o: SettleSummary) {
        self.contracts += o.contracts;
        self.payments += o.payments;
        self.transactions += o.transactions;
        self.entries += o.entries;
    }
}

/// A party's balances (credit accounts as what is owed to it; cash as received).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balance {
    pub party_id: i64,
    pub payable: Fen,
    pub held: Fen,
    pub vendor_revenue: Fen,
    pub cash: Fen,
}

#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub contract_id: Option<i64>,
    pub party_id: Option<i64>,
    pub payment_id: Option<i64>,
    /// Entries made within this month (park time).
    pub period: Option<crate::statement::Period>,
}

/// A contract's money per line and stream (see [`crate::contract_money`]).
#[derive(Clone, Debug)]
pub struct ContractMoney {
    pub contract: contract::Model,
    pub lines: Vec<(line::Model, crate::contract_money::LineMoney)>,
    /// The parties' names, by id.
    pub names: HashMap<i64, String>,
}

/// What a person needs to recognise an entry: the party's name, the contract's number and the
/// line's number (as statements print them).
#[derive(Clone, Debug, Default)]
pub struct EntryLabels {
    pub party_name: String,
    pub contract_no: Option<String>,
    pub line_no: Option<i32>,
}

/// The hash of what a payment means: with its year resolved, so that a retry that leaves out
/// the default year is the same payment as one that wrote it.
fn request_hash(n: &NewPayment, year: i32) -> String {
    payment_hash(n, json!(year))
}

/// The hash payments were recorded with before the year was resolved into it (the year as the
/// request gave it): a retry of such a payment still replays.
fn legacy_request_hash(n: &NewPayment) -> String {
    payment_hash(n, json!(n.year))
}

fn payment_hash(n: &NewPayment, year: serde_json::Value) -> String {
    let canonical = json!({
        "contract_id": n.contract_id,
        "line_no": n.line_no,
        "stream": n.stream.as_str(),
        "year": year,
        "amount_fen": n.amount.get(),
        "received_on": n.received_on.to_string(),
        "note": n.note,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn idempotency_key(key: &str) -> Result<String, Error> {
    let k = key.trim();
    if k.is_empty() || k.len() > 128 || !k.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::bad_request(
            "invalid_idempotency_key",
            "the Idempotency-Key header is required: 1 to 128 visible ASCII characters, unique per payment",
        ));
    }
    Ok(k.to_owned())
}

/// The agreement a contract carries; contracts signed before snapshots carried rules get the
/// standard agreement for their signer.
fn agreement_of(value: &serde_json::Value, signer: OrgKind) -> Result<Agreement, Error> {
    match serde_json::from_value::<Agreement>(value.clone()) {
        Ok(a) => Ok(a),
        Err(_) if value.get("rules").is_none() => {
            Ok(kernel::agreement::snapshot("standard", 0, &standard_rules(), &BTreeMap::new(), signer, None))
        }
        Err(e) => Err(Error::unexpected(format!("unreadable agreement snapshot: {e}"))),
    }
}

fn line_state(l: &store::LineRow) -> Result<LineState, Error> {
    let status = l.order_status.as_deref().unwrap_or("new");
    let cancelled = status == "cancelled";
    let accepted = matches!(status, "accepted" | "closed");
    // The deliverer is paid its execution terms however the order reached it (claimed,
    // awarded, or dispatched on terms); a cancelled order drops the rule (DESIGN §5).
    let execution = match (l.deliverer_id, l.exec_share_bp, l.exec_fee_fen) {
        (Some(party), Some(bp), _) if !cancelled => {
            Some(Execution { party, terms: Terms::Share(Rate::from_bp(bp).map_err(Error::unexpected)?) })
        }
        (Some(party), None, Some(fee)) if !cancelled => Some(Execution { party, terms: Terms::Fee(Fen::new(fee)) }),
        _ => None,
    };
    Ok(LineState { line_no: l.line_no, execution, accepted })
}

/// E-mails a settlement batch sends.
enum Notice {
    Payment { signer: i64, payment_id: i64, line_no: i32, stream: Stream, amount: Fen, share: Fen },
    Released { party: i64, line_no: i32, amount: Fen },
}

impl Ledger {
    pub fn new(db: Db, policy: Arc<PolicyTable>, clock: Arc<dyn Clock>, config: LedgerConfig) -> Self {
        Ledger { db, policy, clock, config }
    }

    // ---- payments ---------------------------------------------------------------------------

    /// Records a payment or refund, then settles its contract. The same key with the same body
    /// returns the first result; with a different body it is refused.
    pub async fn record_payment(&self, caller: &Principal, key: &str, new: NewPayment) -> AppResult<RecordedPayment> {
        let _permit = self.policy.permit(caller, Resource::Payment, Action::Create)?;
        let key = idempotency_key(key)?;
        if new.amount.is_zero() {
            return Err(Error::invalid("amount", "must not be zero (refunds are negative)").into());
        }
        let year = match (new.stream, new.year) {
            (Stream::FirstYear, None | Some(1)) => 1,
            (Stream::FirstYear, Some(_)) => {
                return Err(Error::invalid("year", "first_year payments are of year 1").into());
            }
            (Stream::Maintenance, Some(y)) if y >= 2 => y,
            (Stream::Maintenance, _) => {
                return Err(Error::invalid("year", "maintenance payments name their contract year, 2 or later").into());
            }
        };
        let note = new.note.as_deref().map(|n| kernel::text::required_paragraph("note", n, 500)).transpose()?;
        let hash = request_hash(&new, year);
        let hashes = [hash.clone(), legacy_request_hash(&new)];
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<RecordedPayment> = async {
            if let Some(found) = self.replay(&txn, &key, &hashes).await? {
                return Ok(found);
            }
            let locked = store::lock_contracts(&txn, &[new.contract_id], false).await?;
            let c = contract::Entity::find_by_id(new.contract_id)
                .one(&txn)
                .await?
                .filter(|_| !locked.is_empty())
                .ok_or_else(|| Error::not_found("contract", new.contract_id))?;
            let l = line::Entity::find()
                .filter(line::Column::ContractId.eq(c.id))
                .filter(line::Column::LineNo.eq(new.line_no))
                .one(&txn)
                .await?
                .ok_or_else(|| {
                    Error::invalid("line_no", format!("contract {} has no line {}", c.contract_no, new.line_no))
                })?;
            if new.stream == Stream::Maintenance && year > c.term_years {
                return Err(Error::invalid("year", format!("the contract runs {} years", c.term_years)).into());
            }
            let cancelled = c.status == "cancelled"
                || marketplace::store::orders_of_contract(&txn, c.id).await?.iter().all(|o| o.status == "cancelled");
            if cancelled && !new.amount.is_negative() {
                return Err(Error::conflict(
                    "contract_cancelled",
                    format!("contract {} is cancelled: it takes refunds only", c.contract_no),
                )
                .into());
            }
            let paid = Fen::new(store::paid_on(&txn, l.id, new.stream.as_str()).await?);
            let paid_for_year = match new.stream {
                Stream::Maintenance => Fen::new(store::maintenance_paid(&txn, c.id, year).await?),
                Stream::FirstYear => Fen::ZERO,
            };
            domain::check_payment(&domain::PaymentCheck {
                line_no: new.line_no,
                stream: new.stream,
                year,
                amount: new.amount,
                received_on: new.received_on,
                signed_on: c.signed_on,
                today: now.date_naive(),
                line_amount: Fen::new(l.amount_fen),
                paid_on_line: paid,
                maintenance_fee: Fen::new(c.maintenance_fen),
                paid_for_year,
            })?;
            let p = payment::ActiveModel {
                id: Default::default(),
                contract_id: Set(c.id),
                line_id: Set(l.id),
                stream: Set(new.stream.as_str().into()),
                year: Set(year),
                amount_fen: Set(new.amount.get()),
                received_on: Set(new.received_on),
                idempotency_key: Set(key.clone()),
                request_hash: Set(hash.clone()),
                note: Set(note.clone()),
                recorded_by: Set(Some(caller.user_id)),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            marketplace::store::bump_settle_rev(&txn, c.id).await?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Payment, if new.amount.is_negative() { "refunded" } else { "recorded" }, p.id)
                    .org(c.signer_id)
                    .after(&json!({
                        "contract_no": c.contract_no,
                        "line_no": new.line_no,
                        "stream": new.stream.as_str(),
                        "year": year,
                        "amount": new.amount.to_yuan(),
                        "received_on": new.received_on.to_string(),
                        "idempotency_key": key,
                    })),
            )
            .await?;
            Ok(RecordedPayment { payment: p, line_no: new.line_no, settled_at: None, replayed: false })
        }
        .await;
        let recorded = match finish(txn, outcome).await {
            Err(e) if e.is_duplicate() => {
                // Two requests with one key raced; the other one won. Answer as a replay.
                self.replay(self.db.read(), &key, &hashes).await?.ok_or(e)?
            }
            other => other?,
        };
        if recorded.replayed {
            return Ok(recorded);
        }
        // The payment is recorded. Settling it now is a courtesy to the people waiting for
        // their share: if it fails, the settlement sweep posts it shortly (its contract is
        // marked), and the answer says so by having no `settled_at`.
        if let Err(e) = self.settle_contract(recorded.payment.contract_id).await {
            tracing::warn!(error = %e, payment = recorded.payment.id, "settling a new payment failed; the sweep will");
        }
        let settled_at = self
            .settled_times(&[recorded.payment.id])
            .await
            .map_err(platform::error::after_commit)?
            .remove(&recorded.payment.id);
        Ok(RecordedPayment { settled_at, ..recorded })
    }

    /// When settlement took in each of `payment_ids` (those it has), for views.
    pub async fn settled_times(&self, payment_ids: &[i64]) -> AppResult<HashMap<i64, DateTime<Utc>>> {
        Ok(store::settled_at(self.db.read(), payment_ids).await?)
    }

    async fn replay<C: ConnectionTrait>(
        &self,
        conn: &C,
        key: &str,
        hashes: &[String],
    ) -> AppResult<Option<RecordedPayment>> {
        let Some(p) = payment::Entity::find().filter(payment::Column::IdempotencyKey.eq(key)).one(conn).await? else {
            return Ok(None);
        };
        if !hashes.contains(&p.request_hash) {
            return Err(Error::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different payment; use a new key for a new payment",
            )
            .into());
        }
        let line_no = line::Entity::find_by_id(p.line_id).one(conn).await?.map(|l| l.line_no).unwrap_or_default();
        let settled_at = store::settled_at(conn, &[p.id]).await?.remove(&p.id);
        Ok(Some(RecordedPayment { payment: p, line_no, settled_at, replayed: true }))
    }

    pub async fn list_payments(
        &self,
        caller: &Principal,
        contract_id: Option<i64>,
        page: &PageRequest,
    ) -> AppResult<Page<payment::Model>> {
        let _permit = self.policy.permit(caller, Resource::Payment, Action::Read)?;
        let mut q = payment::Entity::find().order_by_desc(payment::Column::Id).limit(page.limit + 1);
        if let Some(c) = contract_id {
            q = q.filter(payment::Column::ContractId.eq(c));
        }
        if let Some(after) = page.after_id() {
            q = q.filter(payment::Column::Id.lt(after));
        }
        let rows = q.all(self.db.read()).await?;
        Ok(Page::from_rows(rows, page.limit, |p| kernel::Cursor::after_id(p.id)))
    }

    /// One payment (vendor finance).
    pub async fn payment(&self, caller: &Principal, id: i64) -> AppResult<payment::Model> {
        let _permit = self.policy.permit(caller, Resource::Payment, Action::Read)?;
        let found = payment::Entity::find_by_id(id).one(self.db.read()).await?;
        found.ok_or_else(|| Error::not_found("payment", id).into())
    }

    /// The line numbers of lines, for views.
    pub async fn line_numbers(&self, line_ids: &[i64]) -> AppResult<HashMap<i64, i32>> {
        let lines = line::Entity::find().filter(line::Column::Id.is_in(line_ids.to_vec())).all(self.db.read()).await?;
        Ok(lines.into_iter().map(|l| (l.id, l.line_no)).collect())
    }

    // ---- settlement -------------------------------------------------------------------------

    /// Settles one contract now (after a payment, an acceptance, a cancellation), sending the
    /// e-mails its postings call for. Waits for another settler of the same contract.
    pub async fn settle_contract(&self, contract_id: i64) -> AppResult<SettleSummary> {
        self.settle_batch(&[contract_id], false, true).await
    }

    /// Settles every contract whose money moved since its last settlement, in batches of
    /// `BATCH` contracts, each its own transaction (on PostgreSQL `settle_workers` of them at a
    /// time, contracts locked by another settler skipped; on SQLite the next batch read and
    /// calculated while the writer posts the current one); `progress` is told the contracts done.
    /// Bulk runs post without e-mails (statements carry the figures).
    pub async fn settle_all(
        &self,
        caller: Option<&Principal>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> AppResult<SettleSummary> {
        if let Some(p) = caller {
            let _permit = self.policy.permit(p, Resource::Settlement, Action::Run)?;
        }
        if !self.db.is_postgres() {
            return self.settle_pipelined(progress).await;
        }
        // On PostgreSQL the database does most of the work; a few batches at once keep its cores
        // busy while one of them waits for `vpark` (three measured best on two cores).
        let workers = self.config.settle_workers.max(1);
        let mut total = SettleSummary::default();
        let mut running = FuturesUnordered::new();
        let mut after = 0i64;
        loop {
            let ids = store::dirty_contracts(self.db.read(), after, BATCH).await?;
            let Some(last) = ids.last().copied() else { break };
            after = last;
            let n = ids.len() as u64;
            running.push(async move { self.settle_batch(&ids, true, false).await.map(|done| (done, n)) });
            if running.len() >= workers
                && let Some(result) = running.next().await
            {
                let (done, n) = result?;
                total.add(done);
                progress(n);
            }
        }
        while let Some(result) = running.next().await {
            let (done, n) = result?;
            total.add(done);
            progress(n);
        }
        Ok(total)
    }

    /// SQLite has one writer: a second batch posting at the same time would only queue for it.
    /// Instead, while the writer posts one batch, the next is read and calculated on a reader
    /// connection; its write transaction posts that plan only if none of its contracts' revisions
    /// moved in between (else it plans the batch again inside the transaction).
    async fn settle_pipelined(&self, progress: &(dyn Fn(u64) + Send + Sync)) -> AppResult<SettleSummary> {
        let mut total = SettleSummary::default();
        let mut next = self.plan_next(0).await?;
        while let Some((plan, n, last)) = next {
            // The next plan runs as its own task, so that its calculation runs on the other core
            // while this one keeps the writer fed.
            let planner = self.clone();
            let following = tokio::spawn(async move { planner.plan_next(last).await });
            match self.post_planned(plan).await {
                Ok(done) => total.add(done),
                Err(e) => {
                    following.abort();
                    return Err(e);
                }
            }
            progress(n);
            next = following.await.map_err(|e| Error::unexpected(format!("the settlement planner failed: {e}")))??;
        }
        Ok(total)
    }

    /// Plans the next batch of contracts to settle after `after`, on a reader connection: the
    /// plan, its size and its last contract.
    async fn plan_next(&self, after: i64) -> AppResult<Option<(Plan, u64, i64)>> {
        let ids = store::dirty_contracts(self.db.read(), after, BATCH).await?;
        let Some(last) = ids.last().copied() else { return Ok(None) };
        let plan = self.plan_batch(&ids).await?;
        Ok(Some((plan, ids.len() as u64, last)))
    }

    /// Reads and calculates the settlement of `contract_ids` outside any write transaction,
    /// without e-mails; [`Ledger::post_planned`] posts it.
    pub async fn plan_batch(&self, contract_ids: &[i64]) -> AppResult<Plan> {
        self.plan(self.db.read(), contract_ids, false).await
    }

    /// The number of contracts waiting for settlement.
    pub async fn unsettled_contracts(&self) -> AppResult<u64> {
        let mut n = 0u64;
        let mut after = 0;
        loop {
            let ids = store::dirty_contracts(self.db.read(), after, 10_000).await?;
            let Some(last) = ids.last() else { break };
            after = *last;
            n += ids.len() as u64;
        }
        Ok(n)
    }

    async fn settle_batch(&self, ids: &[i64], skip_locked: bool, notify: bool) -> AppResult<SettleSummary> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<SettleSummary> = async {
            let ids = store::lock_contracts(&txn, ids, skip_locked).await?;
            if ids.is_empty() {
                return Ok(SettleSummary::default());
            }
            let plan = self.plan(&txn, &ids, notify).await?;
            self.post(&txn, plan, now).await
        }
        .await;
        finish(txn, outcome).await
    }

    /// Posts a batch planned outside the write transaction ([`Ledger::plan_batch`]): in the
    /// transaction, with the contracts locked, their revisions are read again, and if any moved
    /// since the plan was read, the batch is planned afresh inside the transaction.
    pub async fn post_planned(&self, plan: Plan) -> AppResult<SettleSummary> {
        if plan.contracts.is_empty() {
            return Ok(SettleSummary::default());
        }
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<SettleSummary> = async {
            let ids: Vec<i64> = plan.contracts.iter().map(|c| c.id).collect();
            store::lock_contracts(&txn, &ids, false).await?;
            let read: Vec<store::Revisions> = plan.contracts.iter().map(store::Revisions::from).collect();
            let plan =
                if store::revisions(&txn, &ids).await? == read { plan } else { self.plan(&txn, &ids, false).await? };
            self.post(&txn, plan, now).await
        }
        .await;
        finish(txn, outcome).await
    }

    /// Reads the contracts, their lines, unsettled payments and ledger positions, and
    /// calculates what to post: no writes.
    async fn plan<C: ConnectionTrait>(&self, conn: &C, ids: &[i64], notify: bool) -> AppResult<Plan> {
        if ids.is_empty() {
            return Ok(Plan::default());
        }
        let contracts = store::contracts(conn, ids).await?;
        let lines = store::lines(conn, ids).await?;
        let payments = store::unsettled_payments(conn, ids).await?;
        let positions = store::positions(conn, ids).await?;

        let mut lines_of: HashMap<i64, BTreeMap<i64, store::LineRow>> = HashMap::new();
        for l in lines {
            lines_of.entry(l.contract_id).or_default().insert(l.line_id, l);
        }
        type Key = (i64, Stream);
        let mut holdings: HashMap<i64, BTreeMap<Key, Holdings>> = HashMap::new();
        for p in positions {
            let stream: Stream = p.stream.parse().map_err(|_| Error::unexpected("unknown stream"))?;
            let account: Account = p.account.parse().map_err(|_| Error::unexpected("unknown account"))?;
            holdings
                .entry(p.contract_id)
                .or_default()
                .entry((p.line_id, stream))
                .or_default()
                .insert((p.party_id, account), Fen::new(-p.total));
        }
        let mut pays: HashMap<i64, BTreeMap<Key, Vec<LinePayment>>> = HashMap::new();
        for p in &payments {
            let stream: Stream = p.stream.parse().map_err(|_| Error::unexpected("unknown stream"))?;
            pays.entry(p.contract_id)
                .or_default()
                .entry((p.line_id, stream))
                .or_default()
                .push(LinePayment { id: p.id, amount: Fen::new(p.amount_fen) });
        }

        let mut steps_out: Vec<(i64, i64, Stream, domain::Step)> = Vec::new();
        let mut notices = Vec::new();
        let mut posted_events = Vec::new();
        let mut summary = SettleSummary { contracts: contracts.len() as u64, ..Default::default() };
        for c in &contracts {
            let kind: OrgKind = c.signer_kind.parse().map_err(|_| Error::unexpected("unknown signer kind"))?;
            let agreement = agreement_of(&c.agreement, kind)?;
            let vendor = c.vendor_id.ok_or_else(|| Error::unexpected("the signer has no vendor"))?;
            let parties = Parties { vendor, signer: c.signer_id };
            let mut held = holdings.remove(&c.id).unwrap_or_default();
            let mut new = pays.remove(&c.id).unwrap_or_default();
            let keys: std::collections::BTreeSet<Key> = held.keys().chain(new.keys()).copied().collect();
            let empty = BTreeMap::new();
            let contract_lines = lines_of.get(&c.id).unwrap_or(&empty);
            let mut posted = 0u64;
            for key in keys {
                let l = contract_lines.get(&key.0).ok_or_else(|| Error::unexpected("a payment on a missing line"))?;
                let state = line_state(l)?;
                let h = held.entry(key).or_default();
                let ps = new.remove(&key).unwrap_or_default();
                summary.payments += ps.len() as u64;
                for step in domain::settle_line(&agreement, parties, &state, key.1, &ps, h)? {
                    posted += 1;
                    if notify {
                        notices.extend(step_notices(c.id, &step, parties, &state, key.1));
                    }
                    steps_out.push((c.id, key.0, key.1, step));
                }
            }
            if posted > 0 {
                posted_events.push(
                    Change::new(Resource::Settlement, "posted", c.id)
                        .org(c.signer_id)
                        .after(&json!({ "contract_no": c.contract_no, "transactions": posted })),
                );
            }
        }
        Ok(Plan {
            contracts,
            marks: payments.iter().fold(HashMap::new(), |mut marks, p| {
                let mark = marks.entry(p.contract_id).or_insert(p.id);
                *mark = (*mark).max(p.id);
                marks
            }),
            steps: steps_out,
            notices,
            events: posted_events,
            summary,
        })
    }

    /// Writes a plan: the audit events, the ledger transactions, what each contract has had
    /// settled (its revision and its payments), and the e-mails.
    async fn post(&self, txn: &DatabaseTransaction, plan: Plan, now: DateTime<Utc>) -> AppResult<SettleSummary> {
        let Plan { contracts, marks, steps: steps_out, notices, events: posted_events, mut summary } = plan;
        audit::record_many_in(txn, &Actor::System("settlement"), now, posted_events).await?;

        let numbers = store::reserve_txns(txn, steps_out.len() as i64).await?;
        let vendor_of: HashMap<i64, Option<i64>> = contracts.iter().map(|c| (c.id, c.vendor_id)).collect();
        let mut entries = Vec::new();
        for (txn_id, (contract_id, line_id, stream, step)) in numbers.into_iter().zip(&steps_out) {
            let base = |party_id, account: Account, amount: i64, kind: Kind| NewEntry {
                txn_id,
                contract_id: Some(*contract_id),
                line_id: Some(*line_id),
                stream: Some(stream.as_str()),
                payment_id: step.payment_id,
                payout_id: None,
                party_id,
                account: account.as_str(),
                amount_fen: amount,
                kind: kind.as_str(),
                rule: None,
                rate_bp: None,
                fee_fen: None,
            };
            if !step.cash.is_zero() {
                let vendor = vendor_of
                    .get(contract_id)
                    .copied()
                    .flatten()
                    .ok_or_else(|| Error::unexpected("contract missing"))?;
                entries.push(base(vendor, Account::Cash, step.cash.get(), Kind::Receipt));
            }
            for p in &step.postings {
                let mut e = base(p.party, p.account, p.amount.checked_neg()?.get(), p.kind);
                e.rule = p.source.rule.map(|r| r as i32);
                e.rate_bp = p.source.rate.map(Rate::to_bp);
                e.fee_fen = p.source.fee.map(Fen::get);
                entries.push(e);
            }
        }
        summary.transactions = steps_out.len() as u64;
        summary.entries = entries.len() as u64;
        store::append(txn, &entries, now).await?;
        // The payments settled are those up to each contract's mark (see `store::unsettled_payments`).
        let settled: Vec<(i64, i64, i64)> =
            contracts.iter().map(|c| (c.id, c.settle_rev, marks.get(&c.id).copied().unwrap_or(0))).collect();
        store::record_settled(txn, &settled, now).await?;
        for (contract_id, n) in &notices {
            if let Some(c) = contracts.iter().find(|c| c.id == *contract_id) {
                self.send(txn, now, c, n).await?;
            }
        }
        Ok(summary)
    }

    async fn send<C: ConnectionTrait>(
        &self,
        conn: &C,
        now: chrono::DateTime<chrono::Utc>,
        c: &store::ContractRow,
        n: &Notice,
    ) -> AppResult<()> {
        let client = directory::store::org_name(conn, c.client_id).await?.unwrap_or_default();
        match n {
            Notice::Payment { signer, payment_id, line_no, stream, amount, share } => {
                let payload = json!({
                    "contract_no": c.contract_no,
                    "client": client,
                    "line_no": line_no,
                    "stream": stream.as_str(),
                    "amount": amount.to_yuan(),
                    "received_on": now.date_naive().to_string(),
                    "share": share.to_yuan(),
                });
                marketplace::app::notify_org_admins(
                    conn,
                    now,
                    Template::PaymentRecorded,
                    *signer,
                    &payload,
                    &format!("payment:{payment_id}"),
                )
                .await
            }
            Notice::Released { party, line_no, amount } => {
                let payload = json!({ "contract_no": c.contract_no, "client": client, "line_no": line_no, "amount": amount.to_yuan() });
                marketplace::app::notify_org_admins(
                    conn,
                    now,
                    Template::ShareReleased,
                    *party,
                    &payload,
                    &format!("release:{}:{line_no}:{}", c.id, now.timestamp()),
                )
                .await
            }
        }
    }

    // ---- reading the ledger ---------------------------------------------------------------

    fn party_scope(&self, caller: &Principal) -> AppResult<Option<i64>> {
        let permit = self.policy.permit(caller, Resource::Ledger, Action::Read)?;
        Ok(match permit.scope(Some(caller)) {
            Scope::All => None,
            Scope::Limited { own_org: Some(org), .. } => Some(org),
            Scope::Limited { .. } => Some(-1),
        })
    }

    /// A contract's money per line and stream: what was paid and each party's share of it.
    /// Vendor finance sees every party; a party its own share, and a contract it has no share
    /// in (and did not sign) is 404.
    pub async fn contract_money(&self, caller: &Principal, contract_id: i64) -> AppResult<ContractMoney> {
        let own = self.party_scope(caller)?;
        let conn = self.db.read();
        let c = contract::Entity::find_by_id(contract_id)
            .one(conn)
            .await?
            .ok_or_else(|| Error::not_found("contract", contract_id))?;
        let lines = line::Entity::find()
            .filter(line::Column::ContractId.eq(contract_id))
            .order_by_asc(line::Column::LineNo)
            .all(conn)
            .await?;
        let mut q =
            entry::Entity::find().filter(entry::Column::ContractId.eq(contract_id)).order_by_asc(entry::Column::Id);
        if let Some(org) = own {
            q = q.filter(entry::Column::PartyId.eq(org));
        }
        let entries = q.all(conn).await?;
        if let Some(org) = own
            && entries.is_empty()
            && c.signer_id != org
        {
            return Err(Error::not_found("contract", contract_id).into());
        }
        let paid: Vec<(i64, String, i64)> = payment::Entity::find()
            .filter(payment::Column::ContractId.eq(contract_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|p| (p.line_id, p.stream, p.amount_fen))
            .collect();
        let line_ids: Vec<i64> = lines.iter().map(|l| l.id).collect();
        let money = crate::contract_money::contract_money(&line_ids, &paid, &entries);
        let mut party_ids: Vec<i64> = entries.iter().map(|e| e.party_id).collect();
        party_ids.sort_unstable();
        party_ids.dedup();
        let names = directory::store::organisation::Entity::find()
            .filter(directory::store::organisation::Column::Id.is_in(party_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name_zh))
            .collect();
        Ok(ContractMoney { lines: lines.into_iter().zip(money).collect(), contract: c, names })
    }

    /// Ledger entries, newest first: vendor finance sees all; a party only its own.
    pub async fn entries(
        &self,
        caller: &Principal,
        filter: &EntryFilter,
        page: &PageRequest,
    ) -> AppResult<Page<(entry::Model, EntryLabels)>> {
        let own = self.party_scope(caller)?;
        let mut q = entry::Entity::find().order_by_desc(entry::Column::Id).limit(page.limit + 1);
        if let Some(org) = own {
            if filter.party_id.is_some_and(|p| p != org) {
                return Err(Error::forbidden("a party reads only its own ledger").into());
            }
            q = q.filter(entry::Column::PartyId.eq(org));
        }
        if let Some(p) = filter.party_id {
            q = q.filter(entry::Column::PartyId.eq(p));
        }
        if let Some(c) = filter.contract_id {
            q = q.filter(entry::Column::ContractId.eq(c));
        }
        if let Some(p) = filter.payment_id {
            q = q.filter(entry::Column::PaymentId.eq(p));
        }
        if let Some(period) = filter.period {
            q = q
                .filter(entry::Column::CreatedAt.gte(period.start()))
                .filter(entry::Column::CreatedAt.lt(period.end()));
        }
        if let Some(after) = page.after_id() {
            q = q.filter(entry::Column::Id.lt(after));
        }
        let conn = self.db.read();
        let rows = Page::from_rows(q.all(conn).await?, page.limit, |e| kernel::Cursor::after_id(e.id));
        // The names behind the page, in three queries whatever its size.
        let ids = |f: fn(&entry::Model) -> Option<i64>| {
            let mut v: Vec<i64> = rows.items.iter().filter_map(f).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let parties: HashMap<i64, String> = directory::store::organisation::Entity::find()
            .filter(directory::store::organisation::Column::Id.is_in(ids(|e| Some(e.party_id))))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name_zh))
            .collect();
        let contracts: HashMap<i64, String> = contract::Entity::find()
            .filter(contract::Column::Id.is_in(ids(|e| e.contract_id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, c.contract_no))
            .collect();
        let lines: HashMap<i64, i32> = line::Entity::find()
            .filter(line::Column::Id.is_in(ids(|e| e.line_id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|l| (l.id, l.line_no))
            .collect();
        let items = rows
            .items
            .into_iter()
            .map(|e| {
                let labels = EntryLabels {
                    party_name: parties.get(&e.party_id).cloned().unwrap_or_default(),
                    contract_no: e.contract_id.and_then(|c| contracts.get(&c).cloned()),
                    line_no: e.line_id.and_then(|l| lines.get(&l).copied()),
                };
                (e, labels)
            })
            .collect();
        Ok(Page { items, next: rows.next })
    }

    /// Balances per party: vendor finance sees every party; a party only itself.
    pub async fn balances(&self, caller: &Principal, party: Option<i64>) -> AppResult<Vec<Balance>> {
        let own = self.party_scope(caller)?;
        if let (Some(org), Some(p)) = (own, party)
            && org != p
        {
            return Err(Error::forbidden("a party reads only its own balances").into());
        }
        let rows = store::balances(self.db.read(), own.or(party)).await?;
        let mut out: BTreeMap<i64, Balance> = BTreeMap::new();
        for r in rows {
            let b = out.entry(r.party_id).or_insert_with(|| Balance { party_id: r.party_id, ..Default::default() });
            match r.account.as_str() {
                "payable" => b.payable = Fen::new(r.total.0).checked_neg()?,
                "held" => b.held = Fen::new(r.total.0).checked_neg()?,
                "vendor_revenue" => b.vendor_revenue = Fen::new(r.total.0).checked_neg()?,
                "cash" => b.cash = Fen::new(r.total.0),
                _ => {}
            }
        }
        Ok(out.into_values().collect())
    }

    /// Transactions that do not balance (for checks and tests; there should be none).
    pub async fn unbalanced(&self) -> AppResult<Vec<i64>> {
        Ok(store::unbalanced_txns(self.db.read()).await?)
    }
}

/// The e-mails one settlement step calls for: the signer hears of each payment with its
/// share; a subcontractor of each release.
fn step_notices(
    contract_id: i64,
    step: &domain::Step,
    parties: Parties,
    state: &LineState,
    stream: Stream,
) -> Vec<(i64, Notice)> {
    let mut out = Vec::new();
    if let Some(pid) = step.payment_id {
        let share = step
            .postings
            .iter()
            .filter(|p| p.party == parties.signer)
            .fold(Fen::ZERO, |a, p| a.checked_add(p.amount).unwrap_or(a));
        out.push((
            contract_id,
            Notice::Payment {
                signer: parties.signer,
                payment_id: pid,
                line_no: state.line_no,
                stream,
                amount: step.cash,
                share,
            },
        ));
    }
    for p in step.postings.iter().filter(|p| p.kind == Kind::Release && p.account == Account::Payable) {
        if let Some(ex) = state.execution
            && ex.party == p.party
        {
            out.push((contract_id, Notice::Released { party: p.party, line_no: state.line_no, amount: p.amount }));
        }
    }
    out
}
