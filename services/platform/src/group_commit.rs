//! Group commit: write work submitted at the same moment shares one SQLite transaction.
//!
//! SQLite has one writer. Every write transaction holds it for a `BEGIN IMMEDIATE`, its
//! statements and a `COMMIT` — and the commit appends every page the transaction changed to the
//! write-ahead log. Under load most of those pages are the same few (the last page of each table
//! and index that grows, the rows a hot path moves), written again by every transaction.
//!
//! The committer (`run`) takes whatever work is waiting, runs it one piece after another in one
//! transaction and commits once: one begin, one commit and one copy of each hot page for the
//! whole group. Work that arrives while a group is written waits for the next one, so groups
//! grow with the load and a single request is not delayed.
//!
//! Each piece of work runs as if it had its own transaction right after the pieces before it
//! in its group: it sees what they wrote, and the group commits or fails as a whole. When a
//! piece fails, or the commit does, the group is rolled back and every piece is run again in a
//! transaction of its own (`Db::grouped`), so one failure costs the others time, never an
//! outcome. Work given to the committer may therefore run twice, and must do nothing outside
//! the transaction.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sea_orm::{DatabaseTransaction, DbErr};
use tokio::sync::{mpsc, oneshot};

use crate::error::AppResult;

/// The most pieces of work in one transaction.
pub const MAX_GROUP: usize = 64;

/// Write work, run in the transaction it is given.
pub type Work<T> = dyn for<'t> Fn(&'t DatabaseTransaction) -> BoxFuture<'t, AppResult<T>> + Send + Sync;

/// A piece of work waiting for the committer, its result type erased.
pub(crate) trait Job: Send {
    /// Runs the work in `txn`; false when it failed.
    fn run<'t>(&'t mut self, txn: &'t DatabaseTransaction) -> BoxFuture<'t, bool>;
    /// Hands the result over when the group committed, or says it did not.
    fn done(self: Box<Self>, committed: bool);
}

pub(crate) type Queue = mpsc::UnboundedSender<Box<dyn Job>>;

/// `Some(result)` when the group committed; `None` when the work must run on its own.
pub(crate) type Reply<T> = oneshot::Receiver<Option<AppResult<T>>>;

pub(crate) struct Pending<T> {
    work: std::sync::Arc<Work<T>>,
    outcome: Option<AppResult<T>>,
    reply: oneshot::Sender<Option<AppResult<T>>>,
}

/// The job to queue for `work`, and where its answer comes.
pub(crate) fn pending<T: Send + 'static>(work: std::sync::Arc<Work<T>>) -> (Box<dyn Job>, Reply<T>) {
    let (reply, answer) = oneshot::channel();
    (Box::new(Pending { work, outcome: None, reply }), answer)
}

impl<T: Send + 'static> Job for Pending<T> {
    fn run<'t>(&'t mut self, txn: &'t DatabaseTransaction) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            let outcome = (self.work)(txn).await;
            let ok = outcome.is_ok();
            self.outcome = Some(outcome);
            ok
        })
    }

    fn done(self: Box<Self>, committed: bool) {
        // A caller that stopped waiting has dropped its receiver: nothing to hand over.
        let _ = self.reply.send(if committed { self.outcome } else { None });
    }
}

/// The committer: runs until every sender of the queue is gone.
pub(crate) async fn run<F, Fut>(mut queue: mpsc::UnboundedReceiver<Box<dyn Job>>, begin: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<DatabaseTransaction, DbErr>>,
{
    let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_GROUP);
    while next_waiting(&mut queue, &mut group, MAX_GROUP).await {
        let committed = write(&begin, &mut group).await;
        for job in group.drain(..) {
            job.done(committed);
        }
    }
}

/// Waits for the next item, then takes whatever else is waiting, up to `max` in all, into
/// `into`; false once every sender is gone.
pub(crate) async fn next_waiting<T>(queue: &mut mpsc::UnboundedReceiver<T>, into: &mut Vec<T>, max: usize) -> bool {
    let Some(first) = queue.recv().await else {
        return false;
    };
    into.push(first);
    while into.len() < max {
        match queue.try_recv() {
            Ok(item) => into.push(item),
            Err(_) => break,
        }
    }
    true
}

async fn write<F, Fut>(begin: &F, group: &mut [Box<dyn Job>]) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<DatabaseTransaction, DbErr>>,
{
    let txn = match begin().await {
        Ok(txn) => txn,
        Err(e) => {
            tracing::warn!(error = %e, "group commit: cannot begin; the work runs alone");
            return false;
        }
    };
    for job in group.iter_mut() {
        // A piece that panics fails its group like one that returns an error; it then runs
        // again alone in its caller's task, where the panic surfaces as it would have.
        let ran = AssertUnwindSafe(job.run(&txn)).catch_unwind().await;
        if !matches!(ran, Ok(true)) {
            if let Err(e) = txn.rollback().await {
                tracing::warn!(error = %e, "group commit: rollback failed");
            }
            return false;
        }
    }
    match txn.commit().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "group commit: commit failed; the work runs alone");
            false
        }
    }
}
