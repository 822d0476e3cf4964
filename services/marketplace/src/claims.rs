//! The writes of first-claim claims, in batches (`platform::batch`).
//!
//! Claims that wait for the database at the same moment are written together, with one
//! statement per table for all of them: one guarded `UPDATE` takes every subcontract still
//! open for its first claimant in the batch, one `INSERT` records every attempt, won or lost,
//! one `UPDATE` moves the won orders to their winners, one refreshes the facts of their
//! contracts, and one `INSERT` each writes the audit events and the e-mails. A batch of one
//! claim is the claim alone.
//!
//! Everything a claim's writes need (the subcontract and its order as they were, who is told,
//! what the e-mails say) is read before, so a batch that fails can be written again claim by
//! claim with the same outcome.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use kernel::{Error, Resource};
use notify::{Notification, Template};
use platform::audit::{self, Change, Event};
use platform::{Actor, AppResult, Principal};
use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};

use crate::app::{notifications, order_change, status_of};
use crate::domain::{self, OrderEvent, SubcontractStatus};
use crate::store::{self, Award, ClaimRow, Person, Take, order, subcontract};

/// A claim, with what its writes need.
pub(crate) struct ClaimWrite {
    pub caller: Principal,
    pub actor: Actor,
    /// The id of the request that made the claim, for its audit events.
    pub request_id: Option<String>,
    /// The subcontract and its order as read before the write.
    pub subcontract: subcontract::Model,
    pub order: order::Model,
    /// Who is told of the outcome: the claimant's administrators.
    pub admins: Vec<Person>,
    /// What the e-mails say.
    pub payload: Value,
    /// The claimant's capacity (none: unlimited), checked after the batch takes its orders.
    pub capacity: Option<i32>,
    pub now: DateTime<Utc>,
}

/// The order and the subcontract as the winner took them, or why the claim lost.
pub(crate) type Claimed = Result<(order::Model, subcontract::Model), Error>;

/// Writes a batch of claims in `txn`: one answer per claim, in their order.
pub(crate) async fn write_claims(
    txn: &DatabaseTransaction,
    claims: &[ClaimWrite],
    assign_within: Duration,
) -> AppResult<Vec<Claimed>> {
    // The first claim of each subcontract in the batch contends for it; a later one loses,
    // to it or to whoever took the subcontract before.
    let mut contender: BTreeMap<i64, usize> = BTreeMap::new();
    for (i, c) in claims.iter().enumerate() {
        contender.entry(c.subcontract.id).or_insert(i);
    }
    let takes: Vec<Take> = contender
        .values()
        .map(|&i| Take { subcontract_id: claims[i].subcontract.id, org_id: claims[i].caller.org_id, at: claims[i].now })
        .collect();
    let taken: BTreeMap<i64, subcontract::Model> =
        store::take_subcontracts(txn, &takes).await?.into_iter().map(|s| (s.id, s)).collect();
    let won: Vec<bool> = claims
        .iter()
        .enumerate()
        .map(|(i, c)| taken.contains_key(&c.subcontract.id) && contender.get(&c.subcontract.id) == Some(&i))
        .collect();

    // What the losers are told: the state of the subcontracts they did not get.
    let untaken: BTreeSet<i64> = claims.iter().map(|c| c.subcontract.id).filter(|id| !taken.contains_key(id)).collect();
    let mut current =
        if untaken.is_empty() { BTreeMap::new() } else { store::subcontract_statuses(txn, untaken).await? };
    current.extend(taken.keys().map(|id| (*id, SubcontractStatus::Awarded.as_str().to_owned())));

    // Every attempt is recorded, won or lost: an organisation's first at a subcontract (a
    // repeated one is not recorded, so its loser is told once).
    let attempts: Vec<ClaimRow> = claims
        .iter()
        .zip(&won)
        .map(|(c, won)| ClaimRow {
            subcontract_id: c.subcontract.id,
            org_id: c.caller.org_id,
            user_id: c.caller.user_id,
            outcome: if *won { "won" } else { "lost" },
            at: c.now,
        })
        .collect();
    let recorded = store::record_claims(txn, &attempts).await?;
    let mut seen = BTreeSet::new();
    let first_attempt: Vec<bool> = claims
        .iter()
        .map(|c| {
            let key = (c.subcontract.id, c.caller.org_id);
            seen.insert(key) && recorded.contains(&key)
        })
        .collect();

    // The won orders go to their winners.
    let mut awards = Vec::new();
    let mut events = Vec::new();
    let mut mails: Vec<Notification> = Vec::new();
    for (c, _) in claims.iter().zip(&won).filter(|(_, won)| **won) {
        let (s, o, org) = (&c.subcontract, &c.order, c.caller.org_id);
        // The order as read before: while its subcontract is open it stays published, and
        // whatever would change that (cancelling, re-dispatching, a new round) closes the
        // subcontract in the same transaction — which the guarded take has just shown did
        // not happen.
        let from = status_of(o)?;
        let to = domain::next(from, OrderEvent::Award)?;
        let assign_by = c.now + assign_within;
        awards.push(Award {
            order_id: o.id,
            status: to.as_str(),
            deliverer_id: org,
            at: c.now,
            assign_by,
            exec_share_bp: s.share_bp,
            exec_fee_fen: s.fixed_fee_fen,
        });
        let detail = json!({ "subcontract_id": s.id, "mode": "first_claim" });
        let claimed =
            Change::new(Resource::Subcontract, "claimed", s.id).org(s.signer_id).after(&json!({ "winner_id": org }));
        for change in [order_change(o, OrderEvent::Award, from, to, Some(org), detail), claimed] {
            events.push(Event { actor: &c.actor, at: c.now, request_id: c.request_id.clone(), change });
        }
        let mut payload = c.payload.clone();
        if let Value::Object(fields) = &mut payload {
            fields.insert("assign_by".into(), json!(assign_by.format("%Y-%m-%d %H:%M UTC").to_string()));
        }
        let dedupe = format!("sub:{}:won", s.id);
        mails.extend(notifications(Template::ClaimWon, &c.admins, &payload, Some(org), &dedupe));
    }
    let mut orders: BTreeMap<i64, order::Model> =
        store::award_orders(txn, &awards).await?.into_iter().map(|o| (o.id, o)).collect();
    if orders.len() != awards.len() {
        // An open subcontract's order is published: whatever moves the order closes the
        // subcontract in the same transaction, which the guarded take has just shown did not
        // happen. Should that ever break, nothing of the batch is kept.
        return Err(anyhow::anyhow!(
            "{} orders of {} claimed subcontracts were not published",
            awards.len() - orders.len(),
            awards.len()
        )
        .into());
    }
    if !awards.is_empty() {
        // Who executes a line decides its split, and what the success metrics read. The same
        // statement says whether a winner now holds more than its capacity: a partner that
        // claimed more at once than it has free slots (in this batch, or racing another) loses
        // the batch, and each claim is written again alone — the one that no longer fits
        // answers 409 `at_capacity`.
        let contracts: BTreeSet<i64> =
            claims.iter().zip(&won).filter(|(_, w)| **w).map(|(c, _)| c.order.contract_id).collect();
        let limited: BTreeSet<i64> = claims
            .iter()
            .zip(&won)
            .filter(|(c, w)| **w && c.capacity.is_some())
            .map(|(c, _)| c.caller.org_id)
            .collect();
        if store::refresh_facts_checking_capacity(txn, contracts, limited.iter().copied()).await?.is_some() {
            crate::app::check_capacity(txn, limited).await?;
        }
    }

    let mut answers = Vec::with_capacity(claims.len());
    for (i, c) in claims.iter().enumerate() {
        let s = &c.subcontract;
        if won[i] {
            let after = orders.remove(&c.order.id);
            let took = taken.get(&s.id).cloned();
            let (Some(after), Some(took)) = (after, took) else {
                return Err(anyhow::anyhow!("order {} of subcontract {} was not moved", c.order.id, s.id).into());
            };
            answers.push(Ok((after, took)));
            continue;
        }
        let state = current.get(&s.id).cloned().unwrap_or_default();
        if first_attempt[i] && state == SubcontractStatus::Awarded.as_str() {
            let dedupe = format!("sub:{}:lost", s.id);
            mails.extend(notifications(Template::ClaimLost, &c.admins, &c.payload, Some(c.caller.org_id), &dedupe));
        }
        let message = if s.claim_deadline <= c.now && state == SubcontractStatus::Open.as_str() {
            "the claim deadline of this subcontract has passed".to_owned()
        } else {
            format!("this subcontract is no longer open (it is {state})")
        };
        answers.push(Err(Error::Conflict {
            code: "already_claimed",
            message,
            details: Some(json!({ "current_state": state })),
        }));
    }
    audit::record_each_in(txn, events).await?;
    let at = claims.iter().map(|c| c.now).max().unwrap_or_else(Utc::now);
    notify::enqueue_many_in(txn, at, &mails).await?;
    Ok(answers)
}
