//! Use cases of the marketplace: contracts, dispatch, the pool, claims and tenders, delivery,
//! acceptance and ratings. Each change runs in one transaction with its audit events and the
//! notifications it implies.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use directory::app::{Organisation, Service, organisation_from, service_from};
use directory::store::{organisation, service};
use kernel::{Action, Clock, Error, Fen, OrgKind, Page, PageRequest, Resource};
use notify::{Notification, Template};
use platform::audit::{self, Change};
use platform::batch::Batcher;
use platform::idempotency::{self, Created, IdempotencyKey};
use platform::{Actor, AppError, AppResult, Db, Owner, Permit, PolicyTable, Principal, finish};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TryIntoModel,
};
use serde_json::{Value, json};

use crate::claims::{ClaimWrite, Claimed};
use crate::domain::{
    self, Candidate, ContractDraft, MilestoneStatus, Mode, Need, OrderEvent, OrderStatus, Quality, Ranked, Reason,
    Stars, SubcontractStatus, Terms, Weights,
};
use crate::store::{self, ContractFilter, OrderFilter, Person, PoolAccess, PoolFilter};
use crate::store::{bid, contract, line, milestone, order, rating, subcontract};

/// Settings of the marketplace.
#[derive(Clone, Debug)]
pub struct MarketConfig {
    pub weights: Weights,
    /// How long the winner of a subcontract has to assign a certified implementer.
    pub assign_within: Duration,
    /// Where links in e-mails point.
    pub public_url: String,
}

impl Default for MarketConfig {
    fn default() -> Self {
        MarketConfig {
            weights: Weights::default(),
            assign_within: Duration::hours(48),
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// A contract as its readers see it. `amounts_visible` is false for readers who may not see
/// the revenue-share snapshot (clients see amounts, never shares).
#[derive(Debug, Clone)]
pub struct ContractDetails {
    pub contract: contract::Model,
    pub client: Organisation,
    pub signer: Organisation,
    pub lines: Vec<LineDetails>,
    pub shares_visible: bool,
}

#[derive(Debug, Clone)]
pub struct LineDetails {
    pub line: line::Model,
    pub service: Service,
    pub order_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewContract {
    pub client_id: i64,
    pub signer_id: i64,
    pub account_manager_id: Option<i64>,
    pub signed_on: NaiveDate,
    pub term_years: i32,
    pub first_year: Fen,
    pub maintenance_fee: Fen,
    /// (service code, amount)
    pub lines: Vec<(String, Fen)>,
    /// The agreement template to sign under (default: the first service's, else `standard`).
    pub agreement_template: Option<String>,
}

/// An order with everything its parties need to work on it.
#[derive(Debug, Clone)]
pub struct OrderDetails {
    pub order: order::Model,
    pub service: Service,
    pub client: Organisation,
    pub signer: Organisation,
    pub deliverer: Option<Organisation>,
    pub milestones: Vec<milestone::Model>,
    pub implementers: Vec<Person>,
    pub subcontract: Option<subcontract::Model>,
    pub rating: Option<rating::Model>,
}

#[derive(Debug, Clone)]
pub struct NewSubcontract {
    pub reason: Reason,
    pub mode: Mode,
    pub terms: Terms,
    pub min_quality_centi: Option<i32>,
    pub claim_deadline: DateTime<Utc>,
    /// Certifications required beyond the service's own.
    pub extra_certifications: Vec<String>,
}

/// A subcontract of the pool, with only what DESIGN §6 lets a subcontract partner see of the
/// client: name, region, industry, the order's scope and the signer's account manager.
#[derive(Debug, Clone)]
pub struct PoolItem {
    pub sub: subcontract::Model,
    pub order_no: String,
    pub order_due_on: NaiveDate,
    pub service: Service,
    pub client_name: String,
    pub signer_name: String,
    pub account_manager: Option<Person>,
    pub milestones: Vec<milestone::Model>,
    pub required_certifications: Vec<String>,
    /// The caller's own bid, if any (tenders).
    pub my_bid: Option<bid::Model>,
    /// Every bid (for the publisher only).
    pub bids: Vec<bid::Model>,
    /// The bidders of `my_bid` and `bids`, by id.
    pub bidders: HashMap<i64, Organisation>,
    /// The implementers the bids propose, by id.
    pub proposed: HashMap<i64, Person>,
}

#[derive(Debug, Clone)]
pub struct NewBid {
    pub terms: Terms,
    pub plan: String,
    pub implementer_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Recommendations {
    pub order_id: i64,
    pub weights: Weights,
    pub ranked: Vec<(Ranked, Organisation)>,
    pub ineligible: Vec<(Organisation, Vec<domain::Ineligible>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Accept,
    Rework,
}

/// A deliverer whose kept counters differ from a fresh count.
#[derive(Debug, Clone)]
pub struct CounterDrift {
    pub org_id: i64,
    pub kept: store::DelivererStats,
    pub counted: store::DelivererStats,
}

#[derive(Debug, Clone)]
pub struct QualityReport {
    pub org: Organisation,
    pub quality: Quality,
    pub delivered: i64,
    pub on_time: i64,
    pub implementers: Vec<(Person, Quality)>,
}

fn parse<T: std::str::FromStr>(what: &str, text: &str) -> AppResult<T> {
    text.parse().map_err(|_| Error::unexpected(format!("unknown {what} {text}")).into())
}

pub(crate) fn status_of(o: &order::Model) -> AppResult<OrderStatus> {
    parse("order status", &o.status)
}

/// One e-mail to each of `people`, deduplicated per person by `dedupe`.
pub(crate) fn notifications(
    template: Template,
    people: &[Person],
    payload: &Value,
    org_id: Option<i64>,
    dedupe: &str,
) -> Vec<Notification> {
    people
        .iter()
        .map(|p| Notification {
            template,
            to: recipient(p),
            payload: payload.clone(),
            org_id,
            dedupe_key: Some(format!("{dedupe}:{}", p.id)),
        })
        .collect()
}

/// The audit event of an order's transition.
pub(crate) fn order_change(
    o: &order::Model,
    event: OrderEvent,
    from: OrderStatus,
    to: OrderStatus,
    deliverer_after: Option<i64>,
    detail: Value,
) -> Change {
    Change::new(Resource::Order, event.verb().replace(' ', "_").as_str(), o.id)
        .org(o.signer_id)
        .before(&json!({ "status": from.as_str(), "deliverer_id": o.deliverer_id }))
        .after(&json!({ "status": to.as_str(), "deliverer_id": deliverer_after, "detail": detail }))
}

pub use identity::people::notify_org_admins;
use identity::people::{ADMIN_ROLES, recipient};

pub struct Marketplace {
    db: Db,
    policy: Arc<PolicyTable>,
    clock: Arc<dyn Clock>,
    config: MarketConfig,
    money_hook: std::sync::OnceLock<MoneyHook>,
    track_record_hook: std::sync::OnceLock<TrackRecordHook>,
    /// The writes of first-claim claims, in batches.
    claims: Arc<Batcher<ClaimWrite, Claimed>>,
}

/// Called (after commit) with the contract whose money split an order change moved: an
/// acceptance releases held shares, a cancellation re-splits. The ledger settles it.
pub type MoneyHook = Arc<dyn Fn(i64) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>;

/// Called (after commit) with an order whose acceptance or rating changed the track record of
/// the implementers assigned to it: certifications earned by deliveries are assessed at once.
pub type TrackRecordHook = Arc<dyn Fn(i64) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>;

impl Marketplace {
    pub fn new(db: Db, policy: Arc<PolicyTable>, clock: Arc<dyn Clock>, config: MarketConfig) -> Self {
        let assign_within = config.assign_within;
        let claims = Batcher::new(db.clone(), move |txn, claims: &[ClaimWrite]| {
            Box::pin(crate::claims::write_claims(txn, claims, assign_within))
        });
        Marketplace {
            db,
            policy,
            clock,
            config,
            money_hook: std::sync::OnceLock::new(),
            track_record_hook: std::sync::OnceLock::new(),
            claims: Arc::new(claims),
        }
    }

    /// Registers what runs after an order's acceptance or rating (once; later calls are ignored).
    pub fn on_track_record_change(&self, hook: TrackRecordHook) {
        let _ = self.track_record_hook.set(hook);
    }

    async fn track_record_changed(&self, order_id: i64) {
        if let Some(hook) = self.track_record_hook.get() {
            hook(order_id).await;
        }
    }

    /// Registers what runs after an order change that moves money (once; later calls are
    /// ignored).
    pub fn on_money_change(&self, hook: MoneyHook) {
        let _ = self.money_hook.set(hook);
    }

    async fn money_changed(&self, contract_id: i64) {
        if let Some(hook) = self.money_hook.get() {
            hook(contract_id).await;
        }
    }

    pub fn config(&self) -> &MarketConfig {
        &self.config
    }

    fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    fn link(&self, order_id: i64) -> String {
        format!("{}/orders/{order_id}", self.config.public_url.trim_end_matches('/'))
    }

    // ---- loading ------------------------------------------------------------------------

    async fn orgs<C: ConnectionTrait>(&self, conn: &C, ids: &[i64]) -> AppResult<HashMap<i64, Organisation>> {
        let rows =
            organisation::Entity::find().filter(organisation::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
        let mut out = HashMap::new();
        for m in rows {
            let o = organisation_from(m)?;
            out.insert(o.id, o);
        }
        Ok(out)
    }

    async fn org<C: ConnectionTrait>(&self, conn: &C, id: i64) -> AppResult<Organisation> {
        let m = organisation::Entity::find_by_id(id)
            .one(conn)
            .await?
            .ok_or_else(|| Error::not_found("organisation", id))?;
        organisation_from(m)
    }

    async fn services<C: ConnectionTrait>(&self, conn: &C, ids: &[i64]) -> AppResult<HashMap<i64, Service>> {
        let rows = service::Entity::find().filter(service::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
        let mut out = HashMap::new();
        for m in rows {
            let s = service_from(m)?;
            out.insert(s.id, s);
        }
        Ok(out)
    }

    /// One order's details: the page's reading, for a page of one.
    async fn order_details<C: ConnectionTrait>(&self, conn: &C, o: order::Model) -> AppResult<OrderDetails> {
        let id = o.id;
        self.orders_details(conn, vec![o]).await?.pop().ok_or_else(|| Error::not_found("order", id).into())
    }

    /// What a change answers, read after its commit: the order as it stands now, with everything
    /// around it read after it (a concurrent change committed meanwhile shows in all of it, never
    /// in half). A read that fails after the commit is `outcome_unknown`.
    async fn answer(&self, o: order::Model) -> AppResult<OrderDetails> {
        let read = async {
            let conn = self.db.read();
            let now =
                order::Entity::find_by_id(o.id).one(conn).await?.ok_or_else(|| Error::not_found("order", o.id))?;
            self.order_details(conn, now).await
        };
        read.await.map_err(platform::error::after_commit)
    }

    /// The order as the caller may see it (404 otherwise), with the permit for `action` checked
    /// against the party of the order that the action concerns.
    async fn order_for<C: ConnectionTrait>(
        &self,
        conn: &C,
        caller: &Principal,
        id: i64,
        action: Action,
    ) -> AppResult<(order::Model, Permit)> {
        let permit = self.policy.permit(caller, Resource::Order, action)?;
        let read = self.policy.permit(caller, Resource::Order, Action::Read)?;
        let o = store::order_in_scope(conn, &read.scope(Some(caller)), id)
            .await?
            .ok_or_else(|| Error::not_found("order", id))?;
        if action == Action::Read {
            // Visible through the read scope: that is all reading needs.
            return Ok((o, permit));
        }
        let party = match action {
            Action::Dispatch | Action::Resolve => Some(o.signer_id),
            Action::Assign | Action::Deliver | Action::Complete => o.deliverer_id,
            Action::Accept | Action::Rate => Some(o.client_id),
            _ => None,
        };
        let orgs = self.orgs(conn, &[o.signer_id, o.client_id, o.deliverer_id.unwrap_or(o.signer_id)]).await?;
        let mut owners = Vec::new();
        if let Some(p) = party.and_then(|id| orgs.get(&id)) {
            owners.push(p.owner());
        }
        if action == Action::Complete {
            let assigned = store::assignments_of(conn, o.id).await?;
            if assigned.iter().any(|a| a.user_id == caller.user_id) {
                owners.push(Owner {
                    org_id: o.deliverer_id.unwrap_or_default(),
                    org_kind: OrgKind::SubcontractPartner,
                    org_parent_id: None,
                    user_id: Some(caller.user_id),
                });
            }
        }
        let mut last = Err(Error::forbidden(format!(
            "you may not {} this order: it is not your organisation's to {}",
            action.as_str(),
            action.as_str()
        )));
        for owner in owners {
            last = permit.admit(Some(caller), &owner);
            if last.is_ok() {
                break;
            }
        }
        last?;
        Ok((o, permit))
    }

    async fn notify_people<C: ConnectionTrait>(
        &self,
        conn: &C,
        template: Template,
        people: &[Person],
        payload: &Value,
        org_id: Option<i64>,
        dedupe: &str,
    ) -> AppResult<()> {
        let mails = notifications(template, people, payload, org_id, dedupe);
        notify::enqueue_many_in(conn, self.clock.now(), &mails).await?;
        Ok(())
    }

    async fn notify_org<C: ConnectionTrait>(
        &self,
        conn: &C,
        template: Template,
        org_id: i64,
        payload: &Value,
        dedupe: &str,
    ) -> AppResult<()> {
        let people = store::people_with_roles(conn, Some(org_id), ADMIN_ROLES).await?;
        self.notify_people(conn, template, &people, payload, Some(org_id), dedupe).await
    }

    async fn notify_ops<C: ConnectionTrait>(
        &self,
        conn: &C,
        template: Template,
        payload: &Value,
        dedupe: &str,
    ) -> AppResult<()> {
        let people = store::people_with_roles(conn, None, &["vendor_ops"]).await?;
        self.notify_people(conn, template, &people, payload, None, dedupe).await
    }

    async fn payload<C: ConnectionTrait>(&self, conn: &C, o: &order::Model, extra: Value) -> AppResult<Value> {
        let mut ids = vec![o.client_id];
        ids.extend(o.deliverer_id);
        let orgs = self.orgs(conn, &ids).await?;
        let service = self.services(conn, &[o.service_id]).await?.remove(&o.service_id);
        Ok(self.payload_with(o, &orgs, service.as_ref(), extra))
    }

    /// What an e-mail about an order says, from its parties and service as already read.
    fn payload_with(
        &self,
        o: &order::Model,
        orgs: &HashMap<i64, Organisation>,
        service: Option<&Service>,
        extra: Value,
    ) -> Value {
        let mut v = json!({
            "order_no": o.order_no,
            "service_zh": service.map(|s| s.def.name_zh.clone()).unwrap_or_default(),
            "service_en": service.map(|s| s.def.name_en.clone()).unwrap_or_default(),
            "client": orgs.get(&o.client_id).map(|c| c.profile.name_zh.clone()).unwrap_or_default(),
            "deliverer": o.deliverer_id.and_then(|d| orgs.get(&d)).map(|d| d.profile.name_zh.clone()).unwrap_or_default(),
            "link": self.link(o.id),
        });
        if let (Value::Object(base), Value::Object(more)) = (&mut v, extra) {
            base.extend(more);
        }
        v
    }

    /// Moves an order through its lifecycle, writing the audit event.
    async fn transition<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        o: &order::Model,
        event: OrderEvent,
        set: impl FnOnce(&mut order::ActiveModel),
        detail: Value,
    ) -> AppResult<order::Model> {
        let now = self.clock.now();
        let (after, change) = self.move_order(conn, o, event, set, detail, now).await?;
        audit::record_in(conn, actor, now, change).await?;
        Ok(after)
    }

    /// Moves an order through its lifecycle; returns it and the audit event the caller writes.
    async fn move_order<C: ConnectionTrait>(
        &self,
        conn: &C,
        o: &order::Model,
        event: OrderEvent,
        set: impl FnOnce(&mut order::ActiveModel),
        detail: Value,
        now: DateTime<Utc>,
    ) -> AppResult<(order::Model, Change)> {
        let from = status_of(o)?;
        let to = domain::next(from, event)?;
        let mut am: order::ActiveModel = o.clone().into();
        am.status = Set(to.as_str().to_owned());
        am.updated_at = Set(now);
        set(&mut am);
        // One door: the write happens only if the order is still where it was read. Of two
        // requests racing on one order (on PostgreSQL the second waits for the first's row lock
        // and then checks again), one moves it and the other finds it moved.
        let moved = order::Entity::update_many()
            .set(am.clone())
            .filter(order::Column::Id.eq(o.id))
            .filter(order::Column::Status.eq(from.as_str()))
            .exec(conn)
            .await?;
        if moved.rows_affected != 1 {
            return Err(moved_meanwhile(conn, o.id, event).await);
        }
        let after = am.try_into_model()?;
        if matches!(
            event,
            OrderEvent::Dispatch
                | OrderEvent::Publish
                | OrderEvent::Award
                | OrderEvent::Lapse
                | OrderEvent::Accept
                | OrderEvent::ResolveAccepted
                | OrderEvent::Cancel
        ) {
            // Who executes the line, and whether it is accepted, decide its split — and what
            // the success metrics read of the contract.
            store::refresh_contract_facts(conn, o.contract_id, true).await?;
            if event == OrderEvent::Cancel {
                store::refresh_client_facts(conn, o.client_id).await?;
            }
        }
        let change = order_change(o, event, from, to, after.deliverer_id, detail);
        Ok((after, change))
    }

    // ---- contracts ----------------------------------------------------------------------

    /// Registers a contract. With an idempotency key, a retry of the same contract returns the
    /// one the first request created (`Created::replayed`).
    pub async fn create_contract(
        &self,
        caller: &Principal,
        new: NewContract,
        key: Option<&IdempotencyKey>,
    ) -> AppResult<Created<ContractDetails>> {
        let permit = self.policy.permit(caller, Resource::Contract, Action::Create)?;
        self.create_contract_as(Some(caller), &Actor::of(caller), &permit, new, key).await
    }

    pub async fn create_contract_system(&self, who: &'static str, new: NewContract) -> AppResult<ContractDetails> {
        let permit = Permit::system(Resource::Contract, Action::Create);
        Ok(self.create_contract_as(None, &Actor::System(who), &permit, new, None).await?.value)
    }

    /// What a contract request means, for its idempotency key: the request with its defaults
    /// resolved (the agreement template: the first line's service's, else `standard`).
    async fn contract_meaning<C: ConnectionTrait>(&self, conn: &C, new: &NewContract) -> AppResult<Value> {
        let template = match &new.agreement_template {
            Some(t) => Some(t.trim().to_ascii_lowercase()),
            None => match new.lines.first() {
                Some((code, _)) => service::Entity::find()
                    .filter(service::Column::Code.eq(code.trim().to_uppercase()))
                    .one(conn)
                    .await?
                    .map(service_from)
                    .transpose()?
                    .and_then(|s| s.def.agreement_template),
                None => None,
            },
        };
        Ok(json!({
            "client_id": new.client_id,
            "signer_id": new.signer_id,
            "account_manager_id": new.account_manager_id,
            "signed_on": new.signed_on.to_string(),
            "term_years": new.term_years,
            "first_year_fen": new.first_year.get(),
            "maintenance_fen": new.maintenance_fee.get(),
            "lines": new.lines.iter().map(|(c, a)| json!([c.trim().to_uppercase(), a.get()])).collect::<Vec<_>>(),
            "agreement_template": template.unwrap_or_else(|| "standard".to_owned()),
        }))
    }

    async fn create_contract_as(
        &self,
        caller: Option<&Principal>,
        actor: &Actor,
        permit: &Permit,
        new: NewContract,
        key: Option<&IdempotencyKey>,
    ) -> AppResult<Created<ContractDetails>> {
        let claim = match (key, caller) {
            (Some(key), Some(p)) => Some(idempotency::Claim {
                operation: "createContract",
                org_id: p.org_id,
                key,
                hash: idempotency::request_hash(&self.contract_meaning(self.db.read(), &new).await?),
            }),
            _ => None,
        };
        let draft = ContractDraft {
            term_years: new.term_years,
            first_year: new.first_year,
            maintenance_fee: new.maintenance_fee,
            lines: new
                .lines
                .iter()
                .map(|(code, amount)| domain::LineDraft { service_code: code.clone(), amount: *amount })
                .collect(),
        };
        domain::validate_contract(&draft)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<(i64, bool)> = async {
            if let Some(claim) = &claim
                && let Some(id) = idempotency::replay(&txn, claim).await?
            {
                return Ok((id, true));
            }
            let signer = self.org(&txn, new.signer_id).await.map_err(|_| Error::invalid("signer_id", "no such organisation"))?;
            if !signer.profile.kind.is_signer() {
                return Err(Error::invalid("signer_id", "the signer is a direct team or an equity partner").into());
            }
            permit.admit(caller, &signer.owner())?;
            let client = self.org(&txn, new.client_id).await.map_err(|_| Error::invalid("client_id", "no such organisation"))?;
            if client.profile.kind != OrgKind::Client {
                return Err(Error::invalid("client_id", "is not a client").into());
            }
            if let Some(am) = new.account_manager_id {
                let p = store::people(&txn, &[am]).await?;
                if p.first().is_none_or(|p| p.org_id != signer.id) {
                    return Err(Error::invalid("account_manager_id", "is not a member of the signer").into());
                }
            }
            let mut services = Vec::new();
            for (i, (code, _)) in new.lines.iter().enumerate() {
                let m = service::Entity::find()
                    .filter(service::Column::Code.eq(code.trim().to_uppercase()))
                    .one(&txn)
                    .await?
                    .ok_or_else(|| Error::invalid(&format!("lines[{i}].service"), format!("no service {code}")))?;
                let s = service_from(m)?;
                if s.def.status != directory::domain::ServiceStatus::Active {
                    return Err(Error::invalid(&format!("lines[{i}].service"), format!("{code} is retired")).into());
                }
                services.push(s);
            }
            let code = match new.agreement_template.as_deref().or(services[0].def.agreement_template.as_deref()) {
                Some(c) => kernel::agreement::template_code("agreement_template", c)?,
                None => "standard".to_owned(),
            };
            let template = directory::app::template_for_signing(&txn, &code)
                .await?
                .ok_or_else(|| Error::invalid("agreement_template", format!("no agreement template {code}")))?;
            let snapshot = kernel::agreement::snapshot(
                &template.code,
                template.version,
                &template.rules,
                &template.tiers,
                signer.profile.kind,
                signer.profile.tier.map(|t| t.as_str()),
            );
            let agreement = serde_json::to_value(&snapshot).map_err(Error::unexpected)?;
            let c = contract::ActiveModel {
                id: Default::default(),
                contract_no: Set(format!("TMP-{}", rand_suffix())),
                client_id: Set(client.id),
                signer_id: Set(signer.id),
                account_manager_id: Set(new.account_manager_id),
                signed_on: Set(new.signed_on),
                term_years: Set(new.term_years),
                first_year_fen: Set(new.first_year.get()),
                maintenance_fen: Set(new.maintenance_fee.get()),
                agreement: Set(agreement),
                status: Set("active".into()),
                created_by: Set(actor.user_id()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
            let contract_no = format!("HT{}{:06}", new.signed_on.format("%Y"), c.id);
            let mut am: contract::ActiveModel = c.clone().into();
            am.contract_no = Set(contract_no.clone());
            let c = am.update(&txn).await?;
            let region = client.profile.regions.first().cloned().unwrap_or_default();
            let industry = client.profile.industries.first().cloned();
            for (i, ((_, amount), s)) in new.lines.iter().zip(&services).enumerate() {
                let l = line::ActiveModel {
                    id: Default::default(),
                    contract_id: Set(c.id),
                    line_no: Set(i as i32 + 1),
                    service_id: Set(s.id),
                    amount_fen: Set(amount.get()),
                }
                .insert(&txn)
                .await?;
                let due = s
                    .def
                    .milestones
                    .iter()
                    .map(|m| new.signed_on + Duration::days(i64::from(m.due_days)))
                    .max()
                    .unwrap_or(new.signed_on + Duration::days(90));
                let o = order::ActiveModel {
                    id: Default::default(),
                    order_no: Set(format!("{contract_no}-{}", i + 1)),
                    contract_id: Set(c.id),
                    line_id: Set(l.id),
                    client_id: Set(client.id),
                    signer_id: Set(signer.id),
                    service_id: Set(s.id),
                    category: Set(s.def.category.clone()),
                    region: Set(region.clone()),
                    industry: Set(industry.clone()),
                    status: Set(OrderStatus::New.as_str().into()),
                    deliverer_id: Set(None),
                    due_on: Set(due),
                    assign_by: Set(None),
                    dispatched_at: Set(None),
                    delivered_at: Set(None),
                    on_time: Set(None),
                    accepted_at: Set(None),
                    note: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                    exec_share_bp: Set(None),
                    exec_fee_fen: Set(None),
                }
                .insert(&txn)
                .await?;
                for (seq, m) in s.def.milestones.iter().enumerate() {
                    milestone::ActiveModel {
                        id: Default::default(),
                        order_id: Set(o.id),
                        seq: Set(seq as i32 + 1),
                        code: Set(m.code.clone()),
                        name_zh: Set(m.name_zh.clone()),
                        name_en: Set(m.name_en.clone()),
                        due_on: Set(new.signed_on + Duration::days(i64::from(m.due_days))),
                        status: Set(MilestoneStatus::Pending.as_str().into()),
                        done_at: Set(None),
                        done_by: Set(None),
                        overdue_notified_at: Set(None),
                    }
                    .insert(&txn)
                    .await?;
                }
                audit::record_in(
                    &txn,
                    actor,
                    now,
                    Change::new(Resource::Order, "created", o.id)
                        .org(signer.id)
                        .after(&json!({ "order_no": o.order_no, "status": "new", "service": s.def.code })),
                )
                .await?;
            }
            store::refresh_contract_facts(&txn, c.id, false).await?;
            store::refresh_client_facts(&txn, client.id).await?;
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::Contract, "created", c.id).org(signer.id).after(&json!({
                    "contract_no": c.contract_no,
                    "client_id": c.client_id,
                    "signer_id": c.signer_id,
                    "first_year_amount": new.first_year.to_yuan(),
                    "annual_maintenance_fee": new.maintenance_fee.to_yuan(),
                    "lines": new.lines.iter().map(|(s, a)| json!({"service": s, "amount": a.to_yuan()})).collect::<Vec<_>>(),
                    "agreement": c.agreement,
                })),
            )
            .await?;
            if let Some(claim) = &claim {
                idempotency::remember(&txn, claim, c.id, now).await?;
            }
            Ok((c.id, false))
        }
        .await;
        let (id, replayed) = match (finish(txn, outcome).await, &claim) {
            (Err(e), Some(claim)) => (idempotency::replayed_after_race(self.db.read(), claim, e).await?, true),
            (done, _) => done?,
        };
        let value = self.contract_details(self.db.read(), caller, id).await.map_err(platform::error::after_commit)?;
        Ok(Created { value, replayed })
    }

    async fn contract_details<C: ConnectionTrait>(
        &self,
        conn: &C,
        caller: Option<&Principal>,
        id: i64,
    ) -> AppResult<ContractDetails> {
        let scope = match caller {
            Some(p) => self.policy.permit(p, Resource::Contract, Action::Read)?.scope(Some(p)),
            None => platform::Scope::All,
        };
        let c = store::contract_in_scope(conn, &scope, id).await?.ok_or_else(|| Error::not_found("contract", id))?;
        let orgs = self.orgs(conn, &[c.client_id, c.signer_id]).await?;
        let lines = store::lines_of(conn, c.id).await?;
        let services = self.services(conn, &lines.iter().map(|l| l.service_id).collect::<Vec<_>>()).await?;
        let orders = store::orders_of_contract(conn, c.id).await?;
        let shares_visible = caller.is_none_or(|p| p.org_kind != OrgKind::Client);
        Ok(ContractDetails {
            client: orgs.get(&c.client_id).cloned().ok_or_else(|| Error::unexpected("client missing"))?,
            signer: orgs.get(&c.signer_id).cloned().ok_or_else(|| Error::unexpected("signer missing"))?,
            lines: lines
                .into_iter()
                .map(|l| {
                    let service =
                        services.get(&l.service_id).cloned().ok_or_else(|| Error::unexpected("service missing"))?;
                    let order_id = orders.iter().find(|o| o.line_id == l.id).map(|o| o.id);
                    Ok(LineDetails { line: l, service, order_id })
                })
                .collect::<Result<_, Error>>()?,
            contract: c,
            shares_visible,
        })
    }

    pub async fn get_contract(&self, caller: &Principal, id: i64) -> AppResult<ContractDetails> {
        self.contract_details(self.db.read(), Some(caller), id).await
    }

    pub async fn list_contracts(
        &self,
        caller: &Principal,
        filter: &ContractFilter,
        page: &PageRequest,
    ) -> AppResult<Page<ContractDetails>> {
        let permit = self.policy.permit(caller, Resource::Contract, Action::Read)?;
        let rows = store::list_contracts(self.db.read(), &permit.scope(Some(caller)), filter, page).await?;
        let mut items = Vec::with_capacity(rows.items.len());
        for c in &rows.items {
            items.push(self.contract_details(self.db.read(), Some(caller), c.id).await?);
        }
        Ok(Page { items, next: rows.next })
    }

    // ---- orders -------------------------------------------------------------------------

    pub async fn list_orders(
        &self,
        caller: &Principal,
        filter: &OrderFilter,
        page: &PageRequest,
    ) -> AppResult<Page<OrderDetails>> {
        let permit = self.policy.permit(caller, Resource::Order, Action::Read)?;
        let conn = self.db.read();
        let rows = store::list_orders(conn, &permit.scope(Some(caller)), filter, page).await?;
        Ok(Page { items: self.orders_details(conn, rows.items).await?, next: rows.next })
    }

    /// The details of a page of orders in a fixed number of queries (seven), not seven per order.
    async fn orders_details<C: ConnectionTrait>(
        &self,
        conn: &C,
        orders: Vec<order::Model>,
    ) -> AppResult<Vec<OrderDetails>> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let mut org_ids: Vec<i64> =
            orders.iter().flat_map(|o| [Some(o.client_id), Some(o.signer_id), o.deliverer_id]).flatten().collect();
        org_ids.sort_unstable();
        org_ids.dedup();
        let mut service_ids: Vec<i64> = orders.iter().map(|o| o.service_id).collect();
        service_ids.sort_unstable();
        service_ids.dedup();
        let orgs = self.orgs(conn, &org_ids).await?;
        let services = self.services(conn, &service_ids).await?;
        let mut subcontracts = store::current_subcontracts(conn, &ids).await?;
        let mut ratings: HashMap<i64, rating::Model> =
            store::ratings_of_many(conn, &ids).await?.into_iter().map(|r| (r.order_id, r)).collect();
        let assignments = store::assignments_of_many(conn, &ids).await?;
        let mut user_ids: Vec<i64> = assignments.iter().map(|a| a.user_id).collect();
        user_ids.sort_unstable();
        user_ids.dedup();
        let people: HashMap<i64, Person> =
            store::people(conn, &user_ids).await?.into_iter().map(|p| (p.id, p)).collect();
        let mut assigned: HashMap<i64, Vec<Person>> = HashMap::new();
        for a in assignments {
            if let Some(p) = people.get(&a.user_id) {
                assigned.entry(a.order_id).or_default().push(p.clone());
            }
        }
        // As one order's view lists them: by id.
        assigned.values_mut().for_each(|v| {
            v.sort_by_key(|p| p.id);
            v.dedup_by_key(|p| p.id);
        });
        let mut milestones: HashMap<i64, Vec<milestone::Model>> = HashMap::new();
        for m in store::milestones_of_many(conn, &ids).await? {
            milestones.entry(m.order_id).or_default().push(m);
        }
        let mut out = Vec::with_capacity(orders.len());
        for o in orders {
            let service = services.get(&o.service_id).cloned().ok_or_else(|| Error::unexpected("service missing"))?;
            let id = o.id;
            out.push(details_of(
                o,
                &orgs,
                service,
                milestones.remove(&id).unwrap_or_default(),
                assigned.remove(&id).unwrap_or_default(),
                subcontracts.remove(&id),
                ratings.remove(&id),
            )?);
        }
        Ok(out)
    }

    pub async fn get_order(&self, caller: &Principal, id: i64) -> AppResult<OrderDetails> {
        let (o, _) = self.order_for(self.db.read(), caller, id, Action::Read).await?;
        self.answer(o).await
    }

    async fn candidates<C: ConnectionTrait>(
        &self,
        conn: &C,
        kinds: &[OrgKind],
        org: Option<i64>,
    ) -> AppResult<Vec<(Candidate, Organisation)>> {
        let mut q =
            organisation::Entity::find().filter(organisation::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())));
        if let Some(id) = org {
            q = q.filter(organisation::Column::Id.eq(id));
        }
        let rows = q.all(conn).await?;
        let mut stats = store::deliverer_stats(conn, org, self.today()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            let o = organisation_from(m)?;
            let s = stats.remove(&o.id).unwrap_or_default();
            out.push((candidate_of(&o, s), o));
        }
        Ok(out)
    }

    fn need_of(o: &order::Model, s: &Service, extra: &[String], min_quality: Option<i32>) -> Need {
        let mut certs: BTreeSet<String> = s.def.required_certifications.iter().cloned().collect();
        certs.extend(extra.iter().cloned());
        Need {
            region: o.region.clone(),
            industry: o.industry.clone(),
            category: o.category.clone(),
            required_certs: certs.into_iter().collect(),
            min_quality_centi: min_quality,
        }
    }

    pub async fn recommendations(&self, caller: &Principal, id: i64) -> AppResult<Recommendations> {
        let conn = self.db.read();
        let (o, _) = self.order_for(conn, caller, id, Action::Dispatch).await?;
        let service = self
            .services(conn, &[o.service_id])
            .await?
            .remove(&o.service_id)
            .ok_or_else(|| Error::unexpected("service missing"))?;
        let need = Self::need_of(&o, &service, &[], None);
        let all = self
            .candidates(conn, &[OrgKind::DirectTeam, OrgKind::EquityPartner, OrgKind::SubcontractPartner], None)
            .await?;
        let (cands, orgs): (Vec<Candidate>, Vec<Organisation>) = all.into_iter().unzip();
        let by_id: HashMap<i64, Organisation> = orgs.into_iter().map(|o| (o.id, o)).collect();
        let (ranked, out) = domain::rank(&cands, &need, &self.config.weights);
        Ok(Recommendations {
            order_id: o.id,
            weights: self.config.weights,
            ranked: ranked.into_iter().filter_map(|r| by_id.get(&r.org_id).cloned().map(|o| (r, o))).collect(),
            ineligible: out.into_iter().filter_map(|(id, why)| by_id.get(&id).cloned().map(|o| (o, why))).collect(),
        })
    }

    /// Compares every deliverer's counters with a fresh count of its orders and ratings; with
    /// `repair`, rebuilds them when they differ (audited). The two are read one after the
    /// other, so on a busy park a change between them can show as a passing difference: check
    /// again, or repair (the rebuild excludes writers while it counts).
    pub async fn check_deliverer_counters(&self, repair: bool) -> AppResult<Vec<CounterDrift>> {
        let read = self.db.read();
        let today = self.today();
        let mut kept = store::deliverer_stats(read, None, today).await?;
        let mut counted = store::recount_deliverer_stats(read, today).await?;
        let ids: BTreeSet<i64> = kept.keys().chain(counted.keys()).copied().collect();
        let drift: Vec<CounterDrift> = ids
            .into_iter()
            .filter_map(|org_id| {
                let kept = kept.remove(&org_id).unwrap_or_default();
                let counted = counted.remove(&org_id).unwrap_or_default();
                (kept != counted).then_some(CounterDrift { org_id, kept, counted })
            })
            .collect();
        if repair && !drift.is_empty() {
            let txn = self.db.begin().await?;
            let outcome: AppResult<()> = async {
                store::rebuild_deliverer_stats(&txn, today).await?;
                let orgs: Vec<i64> = drift.iter().map(|d| d.org_id).collect();
                audit::record_in(
                    &txn,
                    &Actor::System("cli"),
                    self.clock.now(),
                    Change::new(Resource::Organisation, "deliverer_counters_rebuilt", "all")
                        .after(&json!({ "drifted": orgs })),
                )
                .await?;
                Ok(())
            }
            .await;
            finish(txn, outcome).await?;
        }
        Ok(drift)
    }

    /// Withdraws the open subcontract of an order, if any (the order is re-dispatched or
    /// cancelled). A subcontract claimed or awarded meanwhile is not withdrawn: 409.
    async fn withdraw_open<C: ConnectionTrait>(&self, conn: &C, actor: &Actor, order_id: i64) -> AppResult<()> {
        if let Some(s) = store::current_subcontract(conn, order_id).await?
            && s.status == SubcontractStatus::Open.as_str()
        {
            if !store::withdraw_subcontract(conn, s.id).await? {
                return Err(state_changed("subcontract", "taken").into());
            }
            audit::record_in(
                conn,
                actor,
                self.clock.now(),
                Change::new(Resource::Subcontract, "withdrawn", s.id).org(s.signer_id),
            )
            .await?;
        }
        Ok(())
    }

    /// Assigns an order to a deliverer: the signer itself, one of the vendor's direct teams, or
    /// (by vendor ops) any eligible deliverer. A deliverer paid for executing the order (a
    /// subcontract partner, or another signer's equity partner) is dispatched on terms — an
    /// execution share or a fixed fee of the line's first-year money, as if it had won the
    /// order from the pool (DESIGN §5 rule 1).
    pub async fn dispatch(
        &self,
        caller: &Principal,
        id: i64,
        deliverer_id: i64,
        terms: Option<Terms>,
        note: Option<String>,
    ) -> AppResult<OrderDetails> {
        let _early = self.policy.permit(caller, Resource::Order, Action::Dispatch)?;
        let note = note.map(|n| kernel::text::required_paragraph("note", &n, 1000)).transpose()?;
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Dispatch).await?;
            let deliverer = self
                .org(&txn, deliverer_id)
                .await
                .map_err(|_| Error::invalid("deliverer_id", "no such organisation"))?;
            if !deliverer.profile.kind.is_deliverer() {
                return Err(Error::invalid("deliverer_id", "is not an organisation that delivers orders").into());
            }
            let signer_is_caller = caller.org_id == o.signer_id;
            if caller.org_kind != OrgKind::Vendor && signer_is_caller && deliverer.id != o.signer_id {
                return Err(Error::unprocessable(
                    "dispatch_to_self_only",
                    "a signer assigns its orders to itself; to hand one to a partner, publish it as a subcontract",
                )
                .into());
            }
            let service = self
                .services(&txn, &[o.service_id])
                .await?
                .remove(&o.service_id)
                .ok_or_else(|| Error::unexpected("service missing"))?;
            let need = Self::need_of(&o, &service, &[], None);
            let (cand, _) = self
                .candidates(&txn, &[deliverer.profile.kind], Some(deliverer.id))
                .await?
                .pop()
                .ok_or_else(|| Error::not_found("organisation", deliverer.id))?;
            let why = domain::eligibility(&cand, &need);
            if !why.is_empty() {
                return Err(not_eligible(&deliverer, &why).into());
            }
            let role = domain::deliverer_role(deliverer.id, deliverer.profile.kind, o.signer_id);
            let exec = domain::dispatch_terms(role, terms, &deliverer.profile.name_zh)?;
            if let Some(t) = exec {
                let line = store::line_of(&txn, o.line_id).await?;
                domain::check_fee_fits(t, Fen::new(line.amount_fen), "fixed_fee")?;
            }
            self.withdraw_open(&txn, &Actor::of(caller), o.id).await?;
            let now = self.clock.now();
            let (share_bp, fee_fen) = Terms::columns(exec);
            let after = self
                .transition(
                    &txn,
                    &Actor::of(caller),
                    &o,
                    OrderEvent::Dispatch,
                    |am| {
                        am.deliverer_id = Set(Some(deliverer.id));
                        am.dispatched_at = Set(Some(now));
                        am.assign_by = Set(None);
                        am.note = Set(note.clone());
                        am.exec_share_bp = Set(share_bp);
                        am.exec_fee_fen = Set(fee_fen);
                    },
                    json!({ "note": note, "execution_share_bp": share_bp, "fixed_fee_fen": fee_fen }),
                )
                .await?;
            check_capacity(&txn, [deliverer.id]).await?;
            let payload = self.payload(&txn, &after, json!({})).await?;
            self.notify_org(
                &txn,
                Template::OrderDispatched,
                deliverer.id,
                &payload,
                &format!("order:{}:dispatched:{}", o.id, now.timestamp_millis()),
            )
            .await?;
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        // Who executes the line, and for what, decides its split: re-split what was paid.
        self.money_changed(o.contract_id).await;
        self.answer(o).await
    }

    /// Publishes an order to the subcontract pool and tells every eligible partner.
    pub async fn publish(&self, caller: &Principal, id: i64, new: NewSubcontract) -> AppResult<OrderDetails> {
        let _early = self.policy.permit(caller, Resource::Order, Action::Dispatch)?;
        let now = self.clock.now();
        if new.claim_deadline <= now {
            return Err(Error::invalid("claim_deadline", "must be in the future").into());
        }
        if new.claim_deadline > now + Duration::days(90) {
            return Err(Error::invalid("claim_deadline", "must be within 90 days").into());
        }
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Dispatch).await?;
            let _ = self.policy.permit(caller, Resource::Subcontract, Action::Award)?;
            let service = self
                .services(&txn, &[o.service_id])
                .await?
                .remove(&o.service_id)
                .ok_or_else(|| Error::unexpected("service missing"))?;
            domain::check_fee_fits(
                new.terms,
                Fen::new(store::line_of(&txn, o.line_id).await?.amount_fen),
                "fixed_fee",
            )?;
            let unknown = directory::store::unknown_certifications(&txn, &new.extra_certifications).await?;
            if let Some(u) = unknown.first() {
                return Err(Error::invalid("required_certifications", format!("no certification {u}")).into());
            }
            let need = Self::need_of(&o, &service, &new.extra_certifications, new.min_quality_centi);
            let after = self
                .transition(
                    &txn,
                    &Actor::of(caller),
                    &o,
                    OrderEvent::Publish,
                    |am| {
                        am.deliverer_id = Set(None);
                        am.assign_by = Set(None);
                        am.exec_share_bp = Set(None);
                        am.exec_fee_fen = Set(None);
                    },
                    json!({ "reason": new.reason.as_str(), "mode": new.mode.as_str() }),
                )
                .await?;
            let (share_bp, fee) = match new.terms {
                Terms::Share(r) => (Some(r.to_bp()), None),
                Terms::Fee(f) => (None, Some(f.get())),
            };
            let s = subcontract::ActiveModel {
                id: Default::default(),
                order_id: Set(o.id),
                signer_id: Set(o.signer_id),
                service_id: Set(o.service_id),
                category: Set(o.category.clone()),
                region: Set(o.region.clone()),
                industry: Set(o.industry.clone()),
                reason: Set(new.reason.as_str().into()),
                mode: Set(new.mode.as_str().into()),
                min_quality_centi: Set(new.min_quality_centi),
                share_bp: Set(share_bp),
                fixed_fee_fen: Set(fee),
                claim_deadline: Set(new.claim_deadline),
                status: Set(SubcontractStatus::Open.as_str().into()),
                winner_id: Set(None),
                awarded_at: Set(None),
                published_by: Set(Some(caller.user_id)),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            store::insert_requirements(&txn, s.id, &need.required_certs).await?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Subcontract, "published", s.id).org(o.signer_id).after(&json!({
                    "order_id": o.id,
                    "reason": s.reason,
                    "mode": s.mode,
                    "execution_share_bp": s.share_bp,
                    "fixed_fee_fen": s.fixed_fee_fen,
                    "min_quality_centi": s.min_quality_centi,
                    "required_certifications": need.required_certs,
                    "claim_deadline": s.claim_deadline,
                })),
            )
            .await?;
            // Tell every eligible subcontract partner.
            let cands = self.candidates(&txn, &[OrgKind::SubcontractPartner], None).await?;
            let payload = self
                .payload(&txn, &after, json!({ "deadline": s.claim_deadline.format("%Y-%m-%d %H:%M UTC").to_string() }))
                .await?;
            for (c, org) in cands {
                if domain::eligibility(&c, &need).is_empty() {
                    self.notify_org(
                        &txn,
                        Template::SubcontractPublished,
                        org.id,
                        &payload,
                        &format!("sub:{}:published", s.id),
                    )
                    .await?;
                }
            }
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        // An order taken back from an executor to the pool re-splits its line.
        self.money_changed(o.contract_id).await;
        self.answer(o).await
    }

    pub async fn cancel(&self, caller: &Principal, id: i64, reason: String) -> AppResult<OrderDetails> {
        let _early = self.policy.permit(caller, Resource::Order, Action::Dispatch)?;
        let reason = kernel::text::required_paragraph("reason", &reason, 1000)?;
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Dispatch).await?;
            self.withdraw_open(&txn, &Actor::of(caller), o.id).await?;
            let after = self
                .transition(
                    &txn,
                    &Actor::of(caller),
                    &o,
                    OrderEvent::Cancel,
                    |am| {
                        am.note = Set(Some(reason.clone()));
                        am.assign_by = Set(None);
                    },
                    json!({ "reason": reason }),
                )
                .await?;
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.money_changed(o.contract_id).await;
        self.answer(o).await
    }

    // ---- the pool -----------------------------------------------------------------------

    async fn pool_access<C: ConnectionTrait>(&self, conn: &C, caller: &Principal) -> AppResult<Option<PoolAccess>> {
        if caller.org_kind != OrgKind::SubcontractPartner {
            return Ok(None);
        }
        let Some((c, _)) = self.candidates(conn, &[OrgKind::SubcontractPartner], Some(caller.org_id)).await?.pop()
        else {
            return Ok(None);
        };
        let full = c.capacity.is_some_and(|cap| c.busy >= i64::from(cap));
        if !c.active || full {
            return Ok(Some(PoolAccess { regions: vec![], categories: vec![], certs: vec![], quality_centi: 0 }));
        }
        Ok(Some(PoolAccess {
            regions: c.regions,
            categories: c.categories,
            certs: c.valid_certs.into_iter().filter(|(_, n)| *n > 0).map(|(k, _)| k).collect(),
            quality_centi: c.quality.score_centi(),
        }))
    }

    /// The pool: for a subcontract partner, the open subcontracts it is eligible for; for the
    /// vendor and signers, the open subcontracts they may see.
    pub async fn pool(&self, caller: &Principal, filter: &PoolFilter, page: &PageRequest) -> AppResult<Page<PoolItem>> {
        let permit = self.policy.permit(caller, Resource::Subcontract, Action::Read)?;
        let conn = self.db.read();
        let now = self.clock.now();
        let rows = match self.pool_access(conn, caller).await? {
            Some(access) => store::pool(conn, &access, filter, now, page).await?,
            None => {
                // Publishers: their open subcontracts (vendor ops: all).
                store::published(conn, &permit.scope(Some(caller)), filter, page).await?
            }
        };
        let items = self.pool_items(conn, caller, rows.items).await?;
        Ok(Page { items, next: rows.next })
    }

    async fn pool_item<C: ConnectionTrait>(
        &self,
        conn: &C,
        caller: &Principal,
        s: subcontract::Model,
    ) -> AppResult<PoolItem> {
        self.pool_items(conn, caller, vec![s])
            .await?
            .pop()
            .ok_or_else(|| Error::unexpected("subcontract vanished").into())
    }

    /// The views of many subcontracts, in a fixed number of queries (not one per item).
    async fn pool_items<C: ConnectionTrait>(
        &self,
        conn: &C,
        caller: &Principal,
        subs: Vec<subcontract::Model>,
    ) -> AppResult<Vec<PoolItem>> {
        if subs.is_empty() {
            return Ok(Vec::new());
        }
        let order_ids: Vec<i64> = subs.iter().map(|s| s.order_id).collect();
        let sub_ids: Vec<i64> = subs.iter().map(|s| s.id).collect();
        let orders: HashMap<i64, order::Model> = order::Entity::find()
            .filter(order::Column::Id.is_in(order_ids.clone()))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        let mut org_ids: Vec<i64> = orders.values().flat_map(|o| [o.client_id, o.signer_id]).collect();
        org_ids.sort_unstable();
        org_ids.dedup();
        let orgs = self.orgs(conn, &org_ids).await?;
        let contracts: HashMap<i64, contract::Model> = contract::Entity::find()
            .filter(contract::Column::Id.is_in(orders.values().map(|o| o.contract_id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let manager_ids: Vec<i64> = contracts.values().filter_map(|c| c.account_manager_id).collect();
        let managers: HashMap<i64, Person> =
            store::people(conn, &manager_ids).await?.into_iter().map(|p| (p.id, p)).collect();
        let services = self.services(conn, &subs.iter().map(|s| s.service_id).collect::<Vec<_>>()).await?;
        let mut milestones: HashMap<i64, Vec<milestone::Model>> = HashMap::new();
        for m in store::milestones_of_many(conn, &order_ids).await? {
            milestones.entry(m.order_id).or_default().push(m);
        }
        let mut reqs: HashMap<i64, Vec<String>> = HashMap::new();
        for (sid, cert) in store::requirements_of_many(conn, &sub_ids).await? {
            reqs.entry(sid).or_default().push(cert);
        }
        let mut bids: HashMap<i64, Vec<bid::Model>> = HashMap::new();
        for b in store::bids_of_many(conn, &sub_ids).await? {
            bids.entry(b.subcontract_id).or_default().push(b);
        }
        // The names behind the bids a caller will see (its own, or all of them for the
        // publisher), in two queries for the whole page.
        let seen = |s: &subcontract::Model, b: &bid::Model| {
            caller.org_kind == OrgKind::Vendor || caller.org_id == s.signer_id || b.org_id == caller.org_id
        };
        let mut bidder_ids = Vec::new();
        let mut proposed_ids = Vec::new();
        for s in &subs {
            for b in bids.get(&s.id).into_iter().flatten().filter(|b| seen(s, b)) {
                bidder_ids.push(b.org_id);
                proposed_ids.extend(implementer_ids_of(b));
            }
        }
        bidder_ids.sort_unstable();
        bidder_ids.dedup();
        proposed_ids.sort_unstable();
        proposed_ids.dedup();
        let bidders = self.orgs(conn, &bidder_ids).await?;
        let proposed: HashMap<i64, Person> =
            store::people(conn, &proposed_ids).await?.into_iter().map(|p| (p.id, p)).collect();
        let mut out = Vec::with_capacity(subs.len());
        for s in subs {
            let o = orders.get(&s.order_id).ok_or_else(|| Error::unexpected("order missing"))?;
            let manager = contracts
                .get(&o.contract_id)
                .and_then(|c| c.account_manager_id)
                .and_then(|id| managers.get(&id))
                .cloned();
            let service = services.get(&s.service_id).cloned().ok_or_else(|| Error::unexpected("service missing"))?;
            let these = bids.remove(&s.id).unwrap_or_default();
            let is_publisher = caller.org_kind == OrgKind::Vendor || caller.org_id == s.signer_id;
            let shown: Vec<&bid::Model> = these.iter().filter(|b| seen(&s, b)).collect();
            let bidders_here = shown.iter().filter_map(|b| bidders.get(&b.org_id).map(|o| (o.id, o.clone()))).collect();
            let proposed_here = shown
                .iter()
                .flat_map(|b| implementer_ids_of(b))
                .filter_map(|id| proposed.get(&id).map(|p| (id, p.clone())))
                .collect();
            out.push(PoolItem {
                bidders: bidders_here,
                proposed: proposed_here,
                order_no: o.order_no.clone(),
                order_due_on: o.due_on,
                client_name: orgs.get(&o.client_id).map(|c| c.profile.name_zh.clone()).unwrap_or_default(),
                signer_name: orgs.get(&o.signer_id).map(|c| c.profile.name_zh.clone()).unwrap_or_default(),
                account_manager: manager,
                milestones: milestones.remove(&o.id).unwrap_or_default(),
                required_certifications: reqs.remove(&s.id).unwrap_or_default(),
                my_bid: these.iter().find(|b| b.org_id == caller.org_id).cloned(),
                bids: if is_publisher { these } else { Vec::new() },
                service,
                sub: s,
            });
        }
        Ok(out)
    }

    /// One subcontract: a partner sees it while it is eligible for it (or has bid on or won
    /// it); publishers see theirs.
    pub async fn get_subcontract(&self, caller: &Principal, id: i64) -> AppResult<PoolItem> {
        let conn = self.db.read();
        let s = self.subcontract_for(conn, caller, id, Action::Read).await?;
        self.pool_item(conn, caller, s).await
    }

    async fn subcontract_for<C: ConnectionTrait>(
        &self,
        conn: &C,
        caller: &Principal,
        id: i64,
        action: Action,
    ) -> AppResult<subcontract::Model> {
        let permit = self.policy.permit(caller, Resource::Subcontract, action)?;
        let read = self.policy.permit(caller, Resource::Subcontract, Action::Read)?;
        let s =
            subcontract::Entity::find_by_id(id).one(conn).await?.ok_or_else(|| Error::not_found("subcontract", id))?;
        if caller.org_kind == OrgKind::SubcontractPartner {
            // Visible while open and eligible, or once the partner took part.
            let took_part = s.winner_id == Some(caller.org_id)
                || store::bids_of(conn, s.id).await?.iter().any(|b| b.org_id == caller.org_id);
            if !took_part {
                let need = self.need_of_sub(conn, &s).await?;
                let cand = self.candidates(conn, &[OrgKind::SubcontractPartner], Some(caller.org_id)).await?.pop();
                let eligible = cand.as_ref().is_some_and(|(c, _)| {
                    domain::eligibility(c, &need).iter().all(|w| matches!(w, domain::Ineligible::AtCapacity { .. }))
                });
                if !eligible || s.status != SubcontractStatus::Open.as_str() {
                    return Err(Error::not_found("subcontract", id).into());
                }
            }
            return Ok(s);
        }
        let signer = self.org(conn, s.signer_id).await?;
        if !read.covers(platform::access::relations_to(caller, &signer.owner())) {
            return Err(Error::not_found("subcontract", id).into());
        }
        permit.admit(Some(caller), &signer.owner())?;
        Ok(s)
    }

    async fn need_of_sub<C: ConnectionTrait>(&self, conn: &C, s: &subcontract::Model) -> AppResult<Need> {
        Ok(need_with(s, store::requirements_of(conn, s.id).await?))
    }

    /// Claims a `first_claim` subcontract: exactly one claim wins, every other gets 409.
    pub async fn claim(&self, caller: &Principal, id: i64) -> AppResult<OrderDetails> {
        let _permit = self.policy.permit(caller, Resource::Subcontract, Action::Claim)?;
        let now = self.clock.now();
        // Eligibility is read before the write transaction (on the reader pool), so the single
        // SQLite writer is held only for the claim itself; the guarded UPDATE below decides the
        // winner whatever was read.
        let read = self.db.read();
        let subject = store::claim_subject(read, id, caller.org_id, self.today())
            .await?
            .ok_or_else(|| Error::not_found("subcontract", id))?;
        let (s, o) = (subject.subcontract, subject.order);
        let need = need_with(&s, subject.requirements);
        // The claimant, the client and the signer came with the subject: the claimant for its
        // eligibility, the other two for what the e-mails and the answer say.
        let mut orgs = HashMap::new();
        for m in subject.orgs {
            let g = organisation_from(m)?;
            orgs.insert(g.id, g);
        }
        let org = orgs
            .get(&caller.org_id)
            .filter(|g| g.profile.kind == OrgKind::SubcontractPartner)
            .cloned()
            .ok_or_else(|| Error::forbidden("only a subcontract partner claims subcontracts"))?;
        let why = domain::eligibility(&candidate_of(&org, subject.stats), &need);
        // Outside the partner's read scope (see `subcontract_for`) the claim is as unknown as the
        // read: 404, before anything about the subcontract — its mode, its state, the partner's
        // own shortfalls — is told. Only a partner that could see it while open learns more.
        let at_capacity_only = why.iter().all(|w| matches!(w, domain::Ineligible::AtCapacity { .. }));
        if !at_capacity_only && s.winner_id != Some(caller.org_id) {
            return Err(Error::not_found("subcontract", id).into());
        }
        if s.mode != Mode::FirstClaim.as_str() {
            return Err(Error::conflict("tender_only", "this subcontract is a tender: submit a bid instead").into());
        }
        if !why.is_empty() {
            return Err(not_eligible(&org, &why).into());
        }
        if s.status != SubcontractStatus::Open.as_str() {
            return Err(Error::Conflict {
                code: "already_claimed",
                message: format!("this subcontract is no longer open (it is {})", s.status),
                details: Some(json!({ "current_state": s.status })),
            }
            .into());
        }
        // What the e-mails say and to whom, and what the winner gets back, were read with the
        // subject: none of it depends on who wins, and every read moved out of the transaction
        // is time the single writer is not held.
        let won = order::Model { deliverer_id: Some(caller.org_id), ..o.clone() };
        let service = service_from(subject.service)?;
        let payload = self.payload_with(&won, &orgs, Some(&service), json!({}));
        // The writes are batched with those of the claims waiting at the same moment (see
        // `claims`). Everything they need is read above.
        let write = ClaimWrite {
            caller: caller.clone(),
            actor: Actor::of(caller),
            request_id: platform::http::current_request_id(),
            subcontract: s,
            order: o,
            admins: subject.admins,
            payload,
            capacity: org.profile.capacity,
            now,
        };
        let (o, taken) = self.claims.submit(write).await??;
        if subject.has_money {
            // The line now has an executor on the subcontract's terms: re-split what was paid.
            self.money_changed(o.contract_id).await;
        }
        // The answer needs no further read. The milestones came with the subject (a claim
        // changes none). A published order has never been accepted, so it has no rating, and
        // nobody is assigned to it: implementers are assigned from `dispatched` on, which moves
        // the order to `in_progress`, and no order goes from there back to the pool.
        details_of(o, &orgs, service, subject.milestones, Vec::new(), Some(taken), None)
    }

    /// Submits (or replaces) the caller's bid on an open tender. With an idempotency key, a
    /// retry of the same bid returns the tender as the first request left it, without a second
    /// submission.
    pub async fn bid(
        &self,
        caller: &Principal,
        id: i64,
        new: NewBid,
        key: Option<&IdempotencyKey>,
    ) -> AppResult<Created<PoolItem>> {
        let _early = self.policy.permit(caller, Resource::Subcontract, Action::Claim)?;
        let now = self.clock.now();
        let (share_bp, fee) = Terms::columns(Some(new.terms));
        let claim = key.map(|key| idempotency::Claim {
            operation: "submitBid",
            org_id: caller.org_id,
            key,
            hash: idempotency::request_hash(&json!({
                "subcontract_id": id, "share_bp": share_bp, "fee_fen": fee, "plan": new.plan.trim(),
                "implementer_ids": new.implementer_ids,
            })),
        });
        let txn = self.db.begin().await?;
        let outcome: AppResult<(i64, bool)> = async {
            // Visible first (404 otherwise, whatever the body says), then locked: an award of
            // this tender waits for the bid, or the bid finds the tender closed.
            self.subcontract_for(&txn, caller, id, Action::Claim).await?;
            if let Some(claim) = &claim
                && let Some(sid) = idempotency::replay(&txn, claim).await?
            {
                return Ok((sid, true));
            }
            let s = store::lock_subcontract(&txn, id).await?.ok_or_else(|| Error::not_found("subcontract", id))?;
            let plan = kernel::text::required_paragraph("plan", &new.plan, 4000)?;
            if s.mode != Mode::Tender.as_str() {
                return Err(
                    Error::conflict("first_claim_only", "this subcontract is first-claim: claim it instead").into()
                );
            }
            if s.status != SubcontractStatus::Open.as_str() {
                return Err(Error::Conflict {
                    code: "tender_closed",
                    message: format!("this tender no longer takes bids (it is {})", s.status),
                    details: Some(json!({ "current_state": s.status })),
                }
                .into());
            }
            if s.claim_deadline <= now {
                return Err(Error::conflict("tender_closed", "the deadline of this tender has passed").into());
            }
            let o = order::Entity::find_by_id(s.order_id)
                .one(&txn)
                .await?
                .ok_or_else(|| Error::unexpected("order missing"))?;
            domain::check_fee_fits(new.terms, Fen::new(store::line_of(&txn, o.line_id).await?.amount_fen), "fee")?;
            let need = self.need_of_sub(&txn, &s).await?;
            let (cand, org) = self
                .candidates(&txn, &[OrgKind::SubcontractPartner], Some(caller.org_id))
                .await?
                .pop()
                .ok_or_else(|| Error::forbidden("only a subcontract partner bids"))?;
            let why = domain::eligibility(&cand, &need);
            if !why.is_empty() {
                return Err(not_eligible(&org, &why).into());
            }
            self.check_implementers(&txn, caller.org_id, &new.implementer_ids, &need.required_certs, "implementer_ids")
                .await?;
            let b = store::upsert_bid(
                &txn,
                s.id,
                caller.org_id,
                share_bp,
                fee,
                &plan,
                &json!(new.implementer_ids),
                caller.user_id,
                now,
            )
            .await?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Subcontract, "bid_submitted", s.id)
                    .org(caller.org_id)
                    .after(&json!({ "bid_id": b.id, "share_bp": share_bp, "fee_fen": fee })),
            )
            .await?;
            if let Some(claim) = &claim {
                idempotency::remember(&txn, claim, s.id, now).await?;
            }
            Ok((s.id, false))
        }
        .await;
        let (sid, replayed) = match (finish(txn, outcome).await, &claim) {
            (Err(e), Some(claim)) => (idempotency::replayed_after_race(self.db.read(), claim, e).await?, true),
            (done, _) => done?,
        };
        let read = async {
            let s = subcontract::Entity::find_by_id(sid)
                .one(self.db.read())
                .await?
                .ok_or_else(|| Error::not_found("subcontract", sid))?;
            self.pool_item(self.db.read(), caller, s).await
        };
        let value = read.await.map_err(platform::error::after_commit)?;
        Ok(Created { value, replayed })
    }

    /// Awards a tender to one bid; the other bidders are told.
    pub async fn award(&self, caller: &Principal, id: i64, bid_id: i64) -> AppResult<OrderDetails> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            self.subcontract_for(&txn, caller, id, Action::Award).await?;
            // Locked: a bid made before the award is among the bids read below; one made after
            // finds the tender closed.
            let s = store::lock_subcontract(&txn, id).await?.ok_or_else(|| Error::not_found("subcontract", id))?;
            if s.mode != Mode::Tender.as_str() {
                return Err(Error::conflict("first_claim_only", "a first-claim subcontract is not awarded").into());
            }
            if s.status != SubcontractStatus::Open.as_str() {
                return Err(Error::illegal_transition("subcontract", &s.status, "award").into());
            }
            let bids = store::bids_of(&txn, s.id).await?;
            let winner =
                bids.iter().find(|b| b.id == bid_id).cloned().ok_or_else(|| Error::not_found("bid", bid_id))?;
            let b = conn_backend_update_sub(&txn, s.id, winner.org_id, now).await?;
            if !b {
                return Err(Error::conflict("already_awarded", "this tender was awarded meanwhile").into());
            }
            for other in &bids {
                let mut am: bid::ActiveModel = other.clone().into();
                am.status = Set(if other.id == winner.id { "awarded" } else { "not_awarded" }.into());
                am.updated_at = Set(now);
                am.update(&txn).await?;
            }
            let o = order::Entity::find_by_id(s.order_id)
                .one(&txn)
                .await?
                .ok_or_else(|| Error::unexpected("order missing"))?;
            let assign_by = now + self.config.assign_within;
            let after = self
                .transition(
                    &txn,
                    &Actor::of(caller),
                    &o,
                    OrderEvent::Award,
                    |am| {
                        am.deliverer_id = Set(Some(winner.org_id));
                        am.dispatched_at = Set(Some(now));
                        am.assign_by = Set(Some(assign_by));
                        am.exec_share_bp = Set(winner.share_bp);
                        am.exec_fee_fen = Set(winner.fee_fen);
                    },
                    json!({ "subcontract_id": s.id, "bid_id": winner.id, "mode": "tender" }),
                )
                .await?;
            check_capacity(&txn, [winner.org_id]).await?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Subcontract, "awarded", s.id)
                    .org(s.signer_id)
                    .after(&json!({ "winner_id": winner.org_id, "bid_id": winner.id })),
            )
            .await?;
            let payload = self
                .payload(&txn, &after, json!({ "assign_by": assign_by.format("%Y-%m-%d %H:%M UTC").to_string() }))
                .await?;
            self.notify_org(&txn, Template::BidAwarded, winner.org_id, &payload, &format!("sub:{}:awarded", s.id))
                .await?;
            for other in bids.iter().filter(|b| b.id != winner.id) {
                self.notify_org(
                    &txn,
                    Template::BidNotAwarded,
                    other.org_id,
                    &payload,
                    &format!("sub:{}:not_awarded", s.id),
                )
                .await?;
            }
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.money_changed(o.contract_id).await;
        self.answer(o).await
    }

    // ---- delivery -----------------------------------------------------------------------

    /// Checks that every user is an implementer of `org_id` holding a valid credential for each
    /// required certification; 422 naming who lacks what.
    async fn check_implementers<C: ConnectionTrait>(
        &self,
        conn: &C,
        org_id: i64,
        user_ids: &[i64],
        required: &[String],
        field: &str,
    ) -> AppResult<Vec<Person>> {
        let people = store::people(conn, user_ids).await?;
        for id in user_ids {
            match people.iter().find(|p| p.id == *id) {
                Some(p) if p.org_id == org_id => {}
                _ => {
                    return Err(Error::invalid(
                        field,
                        format!("user {id} is not a member of the delivering organisation"),
                    )
                    .into());
                }
            }
        }
        let held = store::valid_certs_of_users(conn, user_ids, self.today()).await?;
        let mut problems = Vec::new();
        for p in &people {
            let mine: BTreeSet<String> = held.iter().filter(|(u, _)| *u == p.id).map(|(_, c)| c.clone()).collect();
            let missing = domain::missing_certs(required, &mine);
            if !missing.is_empty() {
                problems.push(json!({ "user_id": p.id, "name": p.display_name, "missing": missing }));
            }
        }
        if !problems.is_empty() {
            let text: Vec<String> = problems
                .iter()
                .map(|p| {
                    format!(
                        "{} lacks a valid {}",
                        p["name"].as_str().unwrap_or_default(),
                        p["missing"]
                            .as_array()
                            .map(|m| m.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "))
                            .unwrap_or_default()
                    )
                })
                .collect();
            return Err(Error::Unprocessable {
                code: "certification_missing",
                message: format!("not certified for this service: {}", text.join("; ")),
                details: Some(json!({ "implementers": problems })),
            }
            .into());
        }
        Ok(people)
    }

    /// Puts implementers on an order the caller's organisation delivers.
    pub async fn assign(&self, caller: &Principal, id: i64, user_ids: Vec<i64>) -> AppResult<OrderDetails> {
        let _early = self.policy.permit(caller, Resource::Order, Action::Assign)?;
        if user_ids.is_empty() || user_ids.len() > 20 {
            return Err(Error::invalid("user_ids", "name 1 to 20 implementers").into());
        }
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Assign).await?;
            let status = status_of(&o)?;
            if !matches!(status, OrderStatus::Dispatched | OrderStatus::InProgress) {
                return Err(Error::illegal_transition("order", status.as_str(), "assign implementers to").into());
            }
            let deliverer = o.deliverer_id.ok_or_else(|| Error::unexpected("dispatched order without deliverer"))?;
            let s = store::current_subcontract(&txn, o.id).await?.filter(|s| s.winner_id == Some(deliverer));
            let required = match &s {
                Some(s) => store::requirements_of(&txn, s.id).await?,
                None => {
                    let service = self
                        .services(&txn, &[o.service_id])
                        .await?
                        .remove(&o.service_id)
                        .ok_or_else(|| Error::unexpected("service missing"))?;
                    service.def.required_certifications.clone()
                }
            };
            let people = self.check_implementers(&txn, deliverer, &user_ids, &required, "user_ids").await?;
            let existing: BTreeSet<i64> = store::assignments_of(&txn, o.id).await?.iter().map(|a| a.user_id).collect();
            let mut added = Vec::new();
            for p in &people {
                if existing.contains(&p.id) {
                    continue;
                }
                // Assigned by a concurrent request meanwhile: nothing to add.
                if store::assign(&txn, o.id, p.id, caller.user_id, now).await? {
                    added.push(p.clone());
                }
            }
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Order, "implementers_assigned", o.id)
                    .org(deliverer)
                    .before(&json!({ "implementers": existing }))
                    .after(&json!({ "added": added.iter().map(|p| p.id).collect::<Vec<_>>() })),
            )
            .await?;
            let after = if status == OrderStatus::Dispatched {
                self.transition(
                    &txn,
                    &Actor::of(caller),
                    &o,
                    OrderEvent::Start,
                    |am| am.assign_by = Set(None),
                    json!({}),
                )
                .await?
            } else {
                o
            };
            let payload = self.payload(&txn, &after, json!({})).await?;
            self.notify_people(
                &txn,
                Template::ImplementerAssigned,
                &added,
                &payload,
                Some(deliverer),
                &format!("order:{}:assigned", after.id),
            )
            .await?;
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.answer(o).await
    }

    pub async fn complete_milestone(&self, caller: &Principal, id: i64, milestone_id: i64) -> AppResult<OrderDetails> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Complete).await?;
            let status = status_of(&o)?;
            if status != OrderStatus::InProgress {
                return Err(Error::illegal_transition("order", status.as_str(), "complete a milestone of").into());
            }
            let m = store::milestones_of(&txn, o.id)
                .await?
                .into_iter()
                .find(|m| m.id == milestone_id)
                .ok_or_else(|| Error::not_found("milestone", milestone_id))?;
            if m.status != MilestoneStatus::Pending.as_str() {
                return Err(Error::illegal_transition("milestone", &m.status, "complete").into());
            }
            let mut am: milestone::ActiveModel = m.clone().into();
            am.status = Set(MilestoneStatus::Done.as_str().into());
            am.done_at = Set(Some(now));
            am.done_by = Set(Some(caller.user_id));
            let done = milestone::Entity::update_many()
                .set(am)
                .filter(milestone::Column::Id.eq(m.id))
                .filter(milestone::Column::Status.eq(MilestoneStatus::Pending.as_str()))
                .exec(&txn)
                .await?;
            if done.rows_affected != 1 {
                return Err(state_changed("milestone", MilestoneStatus::Done.as_str()).into());
            }
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Order, "milestone_completed", o.id)
                    .org(o.deliverer_id.unwrap_or(o.signer_id))
                    .before(&json!({ "milestone": m.code, "status": m.status }))
                    .after(&json!({ "milestone": m.code, "status": "done", "late": m.due_on < now.date_naive() })),
            )
            .await?;
            Ok(o)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.answer(o).await
    }

    pub async fn deliver(&self, caller: &Principal, id: i64) -> AppResult<OrderDetails> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Deliver).await?;
            domain::next(status_of(&o)?, OrderEvent::Deliver)?;
            let pending: Vec<String> = store::milestones_of(&txn, o.id)
                .await?
                .into_iter()
                .filter(|m| m.status == MilestoneStatus::Pending.as_str())
                .map(|m| m.code)
                .collect();
            if !pending.is_empty() {
                return Err(Error::Conflict {
                    code: "milestones_pending",
                    message: format!("complete every milestone first; still pending: {}", pending.join(", ")),
                    details: Some(json!({ "pending": pending })),
                }
                .into());
            }
            let on_time = now.date_naive() <= o.due_on;
            let after = self
                .transition(
                    &txn,
                    &Actor::of(caller),
                    &o,
                    OrderEvent::Deliver,
                    |am| {
                        am.delivered_at = Set(Some(now));
                        am.on_time = Set(Some(on_time));
                    },
                    json!({ "on_time": on_time }),
                )
                .await?;
            let payload = self.payload(&txn, &after, json!({})).await?;
            self.notify_org(
                &txn,
                Template::DeliveryAwaitingAcceptance,
                o.client_id,
                &payload,
                &format!("order:{}:delivered:{}", o.id, now.timestamp_millis()),
            )
            .await?;
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.answer(o).await
    }

    async fn accept_milestones<C: ConnectionTrait>(&self, conn: &C, order_id: i64) -> AppResult<()> {
        for m in store::milestones_of(conn, order_id).await? {
            if m.status == MilestoneStatus::Done.as_str() {
                let mut am: milestone::ActiveModel = m.into();
                am.status = Set(MilestoneStatus::Accepted.as_str().into());
                am.update(conn).await?;
            }
        }
        Ok(())
    }

    pub async fn accept(&self, caller: &Principal, id: i64) -> AppResult<OrderDetails> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Accept).await?;
            let after = self
                .transition(
                    &txn,
                    &Actor::of(caller),
                    &o,
                    OrderEvent::Accept,
                    |am| am.accepted_at = Set(Some(now)),
                    json!({}),
                )
                .await?;
            self.accept_milestones(&txn, o.id).await?;
            let payload = self.payload(&txn, &after, json!({})).await?;
            if let Some(d) = o.deliverer_id {
                self.notify_org(&txn, Template::OrderAccepted, d, &payload, &format!("order:{}:accepted", o.id))
                    .await?;
            }
            if o.deliverer_id != Some(o.signer_id) {
                self.notify_org(
                    &txn,
                    Template::OrderAccepted,
                    o.signer_id,
                    &payload,
                    &format!("order:{}:accepted", o.id),
                )
                .await?;
            }
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.money_changed(o.contract_id).await;
        self.track_record_changed(o.id).await;
        self.answer(o).await
    }

    pub async fn dispute(&self, caller: &Principal, id: i64, reason: String) -> AppResult<OrderDetails> {
        let _early = self.policy.permit(caller, Resource::Order, Action::Accept)?;
        let reason = kernel::text::required_paragraph("reason", &reason, 2000)?;
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Accept).await?;
            let after = self
                .transition(
                    &txn,
                    &Actor::of(caller),
                    &o,
                    OrderEvent::Dispute,
                    |am| am.note = Set(Some(reason.clone())),
                    json!({ "reason": reason }),
                )
                .await?;
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.answer(o).await
    }

    pub async fn resolve(
        &self,
        caller: &Principal,
        id: i64,
        resolution: Resolution,
        note: String,
    ) -> AppResult<OrderDetails> {
        let _early = self.policy.permit(caller, Resource::Order, Action::Resolve)?;
        let note = kernel::text::required_paragraph("note", &note, 2000)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Resolve).await?;
            let after = match resolution {
                Resolution::Accept => {
                    let a = self
                        .transition(
                            &txn,
                            &Actor::of(caller),
                            &o,
                            OrderEvent::ResolveAccepted,
                            |am| {
                                am.accepted_at = Set(Some(now));
                                am.note = Set(Some(note.clone()));
                            },
                            json!({ "resolution": "accept", "note": note }),
                        )
                        .await?;
                    self.accept_milestones(&txn, o.id).await?;
                    a
                }
                Resolution::Rework => {
                    self.transition(
                        &txn,
                        &Actor::of(caller),
                        &o,
                        OrderEvent::ResolveRework,
                        |am| {
                            am.delivered_at = Set(None);
                            am.on_time = Set(None);
                            am.note = Set(Some(note.clone()));
                        },
                        json!({ "resolution": "rework", "note": note }),
                    )
                    .await?
                }
            };
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.money_changed(o.contract_id).await;
        if o.accepted_at.is_some() {
            self.track_record_changed(o.id).await;
        }
        self.answer(o).await
    }

    // ---- ratings ------------------------------------------------------------------------

    pub async fn rate(
        &self,
        caller: &Principal,
        id: i64,
        stars: Stars,
        comment: Option<String>,
    ) -> AppResult<OrderDetails> {
        let _early = self.policy.permit(caller, Resource::Order, Action::Rate)?;
        domain::validate_stars(&stars)?;
        let comment = clean_comment(comment)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Rate).await?;
            if store::rating_of(&txn, o.id).await?.is_some() {
                return Err(Error::conflict(
                    "already_rated",
                    "this order is rated; edit the rating within 7 days instead",
                )
                .into());
            }
            let deliverer = o.deliverer_id.ok_or_else(|| Error::unexpected("accepted order without deliverer"))?;
            let after = self
                .transition(
                    &txn,
                    &Actor::of(caller),
                    &o,
                    OrderEvent::Close,
                    |_| {},
                    json!({ "overall": stars.overall }),
                )
                .await?;
            rating::ActiveModel {
                id: Default::default(),
                order_id: Set(o.id),
                client_id: Set(o.client_id),
                deliverer_id: Set(deliverer),
                overall: Set(stars.overall),
                professionalism: Set(stars.professionalism),
                timeliness: Set(stars.timeliness),
                communication: Set(stars.communication),
                outcome: Set(stars.outcome),
                comment: Set(comment.clone()),
                reply: Set(None),
                replied_at: Set(None),
                rated_by: Set(Some(caller.user_id)),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Rating, "created", o.id)
                    .org(deliverer)
                    .after(&json!({ "stars": stars, "comment": comment })),
            )
            .await?;
            let payload = self
                .payload(
                    &txn,
                    &after,
                    json!({ "overall": stars.overall, "comment": comment.clone().unwrap_or_default() }),
                )
                .await?;
            self.notify_org(&txn, Template::OrderRated, deliverer, &payload, &format!("order:{}:rated", o.id)).await?;
            if stars.overall <= domain::LOW_RATING {
                self.notify_ops(&txn, Template::LowRatingAlert, &payload, &format!("order:{}:low_rating", o.id))
                    .await?;
            }
            Ok(after)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.track_record_changed(o.id).await;
        self.answer(o).await
    }

    pub async fn edit_rating(
        &self,
        caller: &Principal,
        id: i64,
        stars: Stars,
        comment: Option<String>,
    ) -> AppResult<OrderDetails> {
        let _early = self.policy.permit(caller, Resource::Order, Action::Rate)?;
        domain::validate_stars(&stars)?;
        let comment = clean_comment(comment)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let (o, _) = self.order_for(&txn, caller, id, Action::Rate).await?;
            let r = store::rating_of(&txn, o.id).await?.ok_or_else(|| Error::not_found("rating", id))?;
            if !domain::may_edit_rating(r.created_at, now) {
                return Err(Error::conflict(
                    "edit_window_closed",
                    "a rating can be edited for 7 days after it was given",
                )
                .into());
            }
            let before = json!({ "overall": r.overall, "comment": r.comment });
            let was_low = r.overall <= domain::LOW_RATING;
            let mut am: rating::ActiveModel = r.clone().into();
            am.overall = Set(stars.overall);
            am.professionalism = Set(stars.professionalism);
            am.timeliness = Set(stars.timeliness);
            am.communication = Set(stars.communication);
            am.outcome = Set(stars.outcome);
            am.comment = Set(comment.clone());
            am.updated_at = Set(now);
            am.update(&txn).await?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Rating, "edited", o.id)
                    .org(r.deliverer_id)
                    .before(&before)
                    .after(&json!({ "stars": stars, "comment": comment })),
            )
            .await?;
            if stars.overall <= domain::LOW_RATING && !was_low {
                let payload = self
                    .payload(
                        &txn,
                        &o,
                        json!({ "overall": stars.overall, "comment": comment.clone().unwrap_or_default() }),
                    )
                    .await?;
                self.notify_ops(&txn, Template::LowRatingAlert, &payload, &format!("order:{}:low_rating", o.id))
                    .await?;
            }
            Ok(o)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.track_record_changed(o.id).await;
        self.answer(o).await
    }

    pub async fn reply(&self, caller: &Principal, id: i64, text: String) -> AppResult<OrderDetails> {
        let _early = self.policy.permit(caller, Resource::Rating, Action::Reply)?;
        let text = kernel::text::required_paragraph("reply", &text, 2000)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<order::Model> = async {
            let permit = self.policy.permit(caller, Resource::Rating, Action::Reply)?;
            let (o, _) = self.order_for(&txn, caller, id, Action::Read).await?;
            let deliverer = self.org(&txn, o.deliverer_id.unwrap_or(o.signer_id)).await?;
            permit.admit(Some(caller), &deliverer.owner())?;
            let r = store::rating_of(&txn, o.id).await?.ok_or_else(|| Error::not_found("rating", id))?;
            if r.reply.is_some() {
                return Err(Error::conflict("already_replied", "the deliverer replies to a rating once").into());
            }
            let mut am: rating::ActiveModel = r.clone().into();
            am.reply = Set(Some(text.clone()));
            am.replied_at = Set(Some(now));
            let replied = rating::Entity::update_many()
                .set(am)
                .filter(rating::Column::Id.eq(r.id))
                .filter(rating::Column::Reply.is_null())
                .exec(&txn)
                .await?;
            if replied.rows_affected != 1 {
                return Err(Error::conflict("already_replied", "the deliverer replies to a rating once").into());
            }
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Rating, "replied", o.id).org(deliverer.id).after(&json!({ "reply": text })),
            )
            .await?;
            Ok(o)
        }
        .await;
        let o = finish(txn, outcome).await?;
        self.answer(o).await
    }

    pub async fn quality(&self, caller: &Principal, org_id: i64) -> AppResult<QualityReport> {
        let permit = self.policy.permit(caller, Resource::Rating, Action::Read)?;
        let conn = self.db.read();
        let org = self.org(conn, org_id).await?;
        if !permit.covers(platform::access::relations_to(caller, &org.owner())) {
            return Err(Error::not_found("organisation", org_id).into());
        }
        let stats = store::deliverer_stats(conn, Some(org_id), self.today()).await?.remove(&org_id).unwrap_or_default();
        let imps = store::implementer_quality(conn, org_id).await?;
        let people = store::people(conn, &imps.iter().map(|(id, _)| *id).collect::<Vec<_>>()).await?;
        let by_id: BTreeMap<i64, Person> = people.into_iter().map(|p| (p.id, p)).collect();
        Ok(QualityReport {
            org,
            quality: stats.quality,
            delivered: stats.delivered,
            on_time: stats.on_time,
            implementers: imps.into_iter().filter_map(|(id, q)| by_id.get(&id).cloned().map(|p| (p, q))).collect(),
        })
    }

    pub async fn overdue(
        &self,
        caller: &Principal,
        page: &PageRequest,
    ) -> AppResult<(Page<(milestone::Model, order::Model)>, HashMap<i64, Organisation>)> {
        let permit = self.policy.permit(caller, Resource::Order, Action::Dispatch)?;
        if !permit.allows(kernel::Relation::Supervised) && !permit.allows(kernel::Relation::Any) {
            // Signers see their own overdue milestones through their orders; this list is ops'.
            return Err(Error::forbidden("the overdue list is vendor ops' view of the whole park").into());
        }
        let conn = self.db.read();
        let rows = store::overdue(conn, self.today(), page).await?;
        let ids: Vec<i64> = rows.items.iter().map(|m| m.order_id).collect();
        let orders: HashMap<i64, order::Model> = order::Entity::find()
            .filter(order::Column::Id.is_in(ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        let mut org_ids: Vec<i64> =
            orders.values().flat_map(|o| [Some(o.client_id), o.deliverer_id]).flatten().collect();
        org_ids.sort_unstable();
        org_ids.dedup();
        let orgs = self.orgs(conn, &org_ids).await?;
        let items = rows.items.into_iter().filter_map(|m| orders.get(&m.order_id).cloned().map(|o| (m, o))).collect();
        Ok((Page { items, next: rows.next }, orgs))
    }

    // ---- sweeps -------------------------------------------------------------------------

    /// Returns to the pool every order whose winner assigned nobody in time. Safe with several
    /// replicas: rows are taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one
    /// writer). Returns how many orders went back.
    pub async fn sweep_lapsed(&self) -> AppResult<usize> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<usize> = async {
            let orders = store::lapsed_orders(&txn, now, 100).await?;
            let actor = Actor::System("sweep");
            for o in &orders {
                let Some(old) = store::current_subcontract(&txn, o.id).await? else { continue };
                let after = self
                    .transition(
                        &txn,
                        &actor,
                        o,
                        OrderEvent::Lapse,
                        |am| {
                            am.deliverer_id = Set(None);
                            am.assign_by = Set(None);
                            am.exec_share_bp = Set(None);
                            am.exec_fee_fen = Set(None);
                        },
                        json!({ "lapsed_winner": o.deliverer_id }),
                    )
                    .await?;
                let mut am: subcontract::ActiveModel = old.clone().into();
                am.status = Set(SubcontractStatus::Lapsed.as_str().into());
                am.update(&txn).await?;
                let window = (old.claim_deadline - old.created_at).max(Duration::hours(24));
                let fresh = subcontract::ActiveModel {
                    id: Default::default(),
                    order_id: Set(o.id),
                    signer_id: Set(old.signer_id),
                    service_id: Set(old.service_id),
                    category: Set(old.category.clone()),
                    region: Set(old.region.clone()),
                    industry: Set(old.industry.clone()),
                    reason: Set(old.reason.clone()),
                    mode: Set(old.mode.clone()),
                    min_quality_centi: Set(old.min_quality_centi),
                    share_bp: Set(old.share_bp),
                    fixed_fee_fen: Set(old.fixed_fee_fen),
                    claim_deadline: Set(now + window),
                    status: Set(SubcontractStatus::Open.as_str().into()),
                    winner_id: Set(None),
                    awarded_at: Set(None),
                    published_by: Set(old.published_by),
                    created_at: Set(now),
                }
                .insert(&txn)
                .await?;
                let reqs = store::requirements_of(&txn, old.id).await?;
                store::insert_requirements(&txn, fresh.id, &reqs).await?;
                audit::record_in(
                    &txn,
                    &actor,
                    now,
                    Change::new(Resource::Subcontract, "lapsed", old.id)
                        .org(old.signer_id)
                        .after(&json!({ "lapsed_winner": old.winner_id, "new_subcontract_id": fresh.id })),
                )
                .await?;
                let _ = after;
            }
            Ok(orders.len())
        }
        .await;
        finish(txn, outcome).await
    }

    /// E-mails the deliverer and vendor ops once about each overdue milestone.
    pub async fn sweep_overdue(&self) -> AppResult<usize> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<usize> = async {
            let rows = store::overdue_unannounced(&txn, now.date_naive(), 200).await?;
            let mut n = 0;
            for m in &rows {
                let Some(o) = order::Entity::find_by_id(m.order_id).one(&txn).await? else { continue };
                let mut am: milestone::ActiveModel = m.clone().into();
                am.overdue_notified_at = Set(Some(now));
                am.update(&txn).await?;
                let busy = matches!(status_of(&o)?, OrderStatus::Dispatched | OrderStatus::InProgress);
                if !busy {
                    continue;
                }
                let payload = self
                    .payload(
                        &txn,
                        &o,
                        json!({ "milestone_zh": m.name_zh, "milestone_en": m.name_en, "due_on": m.due_on.to_string() }),
                    )
                    .await?;
                let key = format!("milestone:{}:overdue", m.id);
                if let Some(d) = o.deliverer_id {
                    self.notify_org(&txn, Template::MilestoneOverdue, d, &payload, &key).await?;
                }
                self.notify_ops(&txn, Template::MilestoneOverdue, &payload, &key).await?;
                n += 1;
            }
            Ok(n)
        }
        .await;
        finish(txn, outcome).await
    }
}

async fn conn_backend_update_sub<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    winner: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let b = conn.get_database_backend();
    let res = conn
        .execute_raw(platform::db::sql(
            b,
            "UPDATE subcontracts SET status = 'awarded', winner_id = $1, awarded_at = $2 WHERE id = $3 AND status = 'open'",
            [winner.into(), now.into(), id.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// The answer to a transition that found its order moved by a concurrent request: the
/// lifecycle's own refusal when the move is illegal from where the order is now, else 409
/// `state_changed` naming the state found.
async fn moved_meanwhile<C: ConnectionTrait>(conn: &C, id: i64, event: OrderEvent) -> AppError {
    let now = match order::Entity::find_by_id(id).one(conn).await {
        Ok(Some(o)) => o,
        Ok(None) => return Error::not_found("order", id).into(),
        Err(e) => return e.into(),
    };
    match status_of(&now).and_then(|s| domain::next(s, event).map_err(Into::into)) {
        Err(refused) => refused,
        Ok(_) => state_changed("order", &now.status).into(),
    }
}

/// 409 `state_changed`: a record moved while the request was acting on it.
fn state_changed(what: &str, current: &str) -> Error {
    Error::Conflict {
        code: "state_changed",
        message: format!("the {what} changed while you acted (it is {current} now): read it again and retry"),
        details: Some(json!({ "current_state": current })),
    }
}

/// 409 `at_capacity` when one of `orgs` now holds more orders than its capacity: the last free
/// slot went to a concurrent claim, award or dispatch.
pub(crate) async fn check_capacity<C: ConnectionTrait>(conn: &C, orgs: impl IntoIterator<Item = i64>) -> AppResult<()> {
    if let Some((org, busy, capacity)) = store::over_capacity(conn, orgs).await?.into_iter().next() {
        return Err(Error::Conflict {
            code: "at_capacity",
            message: format!(
                "organisation {org} has no free capacity: it would hold {busy} orders, its capacity is {capacity}"
            ),
            details: Some(json!({ "organisation_id": org, "busy": busy - 1, "capacity": capacity })),
        }
        .into());
    }
    Ok(())
}

fn clean_comment(comment: Option<String>) -> Result<Option<String>, Error> {
    let c = comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if c.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(Error::invalid("comment", "must have at most 2000 characters"));
    }
    Ok(c)
}

/// What a subcontract asks of its deliverer, given the certifications it requires.
fn need_with(s: &subcontract::Model, required_certs: Vec<String>) -> Need {
    Need {
        region: s.region.clone(),
        industry: s.industry.clone(),
        category: s.category.clone(),
        required_certs,
        min_quality_centi: s.min_quality_centi,
    }
}

/// An order with its parties, milestones and implementers, as read.
fn details_of(
    o: order::Model,
    orgs: &HashMap<i64, Organisation>,
    service: Service,
    milestones: Vec<milestone::Model>,
    implementers: Vec<Person>,
    subcontract: Option<subcontract::Model>,
    rating: Option<rating::Model>,
) -> AppResult<OrderDetails> {
    let get = |id: i64| orgs.get(&id).cloned().ok_or_else(|| Error::unexpected(format!("organisation {id} missing")));
    Ok(OrderDetails {
        client: get(o.client_id)?,
        signer: get(o.signer_id)?,
        deliverer: o.deliverer_id.map(get).transpose()?,
        service,
        milestones,
        implementers,
        subcontract,
        rating,
        order: o,
    })
}

/// A deliverer as eligibility and ranking see it: its profile and what it has done.
fn candidate_of(o: &Organisation, s: store::DelivererStats) -> Candidate {
    Candidate {
        org_id: o.id,
        name: o.profile.name_zh.clone(),
        active: o.profile.status == directory::domain::OrgStatus::Active,
        regions: o.profile.regions.clone(),
        industries: o.profile.industries.clone(),
        categories: o.profile.categories.clone(),
        capacity: o.profile.capacity,
        busy: s.busy,
        valid_certs: s.valid_certs,
        quality: s.quality,
        delivered: s.delivered,
        on_time: s.on_time,
    }
}

/// The implementers a bid proposes (a JSON list of user ids in the row).
pub fn implementer_ids_of(b: &bid::Model) -> Vec<i64> {
    serde_json::from_value(b.implementer_ids.clone()).unwrap_or_default()
}

fn not_eligible(org: &Organisation, why: &[domain::Ineligible]) -> Error {
    Error::Unprocessable {
        code: "not_eligible",
        message: format!(
            "{} may not take this order: {}",
            org.profile.name_zh,
            why.iter().map(|w| w.message()).collect::<Vec<_>>().join("; ")
        ),
        details: Some(json!({ "reasons": why })),
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{n:x}")
}
