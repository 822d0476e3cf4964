//! Batches: requests of one kind that wait for the database at the same moment are written
//! together, with one statement per table for all of them.
//!
//! Group commit (`group_commit`) shares one transaction among pieces of work, but each piece
//! still sends its own statements, one after another, to the one SQLite writer. A `Batcher`
//! goes further for one kind of request: its writer function (`WriteAll`) is given every
//! request waiting and writes them all at once — one guarded `UPDATE` for all the rows they
//! take, one `INSERT` for all the rows they add — and answers each of them.
//!
//! One batch is written at a time; requests that arrive meanwhile wait for the next one, so
//! batches grow with the load and a request that comes alone is written alone, at once. The
//! batch goes through `Db::grouped`, so it runs on the writer's thread (on PostgreSQL over the
//! writer's own connection).
//!
//! When a batch fails (a database error, or a panic), nothing of it is kept, and each request
//! is written again as a batch of its own: one failure costs the others time, never an
//! outcome. The writer function may therefore see a request twice, and must do nothing
//! outside the transaction it is given.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};
use sea_orm::DatabaseTransaction;
use tokio::sync::{mpsc, oneshot};

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::group_commit::next_waiting;

/// The most requests in one batch.
pub const MAX_BATCH: usize = 64;

/// Writes every request of a batch in the transaction it is given; one answer per request, in
/// their order.
pub type WriteAll<I, O> =
    dyn for<'t> Fn(&'t DatabaseTransaction, &'t [I]) -> BoxFuture<'t, AppResult<Vec<O>>> + Send + Sync;

struct Waiting<I, O> {
    item: I,
    reply: oneshot::Sender<AppResult<O>>,
}

/// Collects requests of one kind and writes them in batches (see the module).
pub struct Batcher<I, O> {
    db: Db,
    write: Arc<WriteAll<I, O>>,
    /// The writer's queue. Its task starts with the first request, on the runtime that serves
    /// it (again if that runtime has gone), and stops when the batcher is dropped.
    queue: Mutex<Option<mpsc::UnboundedSender<Waiting<I, O>>>>,
}

impl<I, O> Batcher<I, O>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
{
    pub fn new<F>(db: Db, write: F) -> Batcher<I, O>
    where
        F: for<'t> Fn(&'t DatabaseTransaction, &'t [I]) -> BoxFuture<'t, AppResult<Vec<O>>> + Send + Sync + 'static,
    {
        Batcher { db, write: Arc::new(write), queue: Mutex::new(None) }
    }

    /// Writes `item` with whatever else is waiting, and returns its answer.
    pub async fn submit(&self, item: I) -> AppResult<O> {
        let (reply, answer) = oneshot::channel();
        {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let queue = match queue.as_ref() {
                Some(q) if !q.is_closed() => q,
                _ => {
                    let (q, waiting) = mpsc::unbounded_channel();
                    tokio::spawn(run(self.db.clone(), self.write.clone(), waiting));
                    queue.insert(q)
                }
            };
            queue.send(Waiting { item, reply }).map_err(|_| stopped())?;
        }
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> AppError {
    anyhow::anyhow!("the batch writer stopped").into()
}

async fn run<I, O>(db: Db, write: Arc<WriteAll<I, O>>, mut queue: mpsc::UnboundedReceiver<Waiting<I, O>>)
where
    I: Send + Sync + 'static,
    O: Send + 'static,
{
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while next_waiting(&mut queue, &mut waiting, MAX_BATCH).await {
        let (items, replies): (Vec<I>, Vec<_>) = waiting.drain(..).map(|w| (w.item, w.reply)).unzip();
        let items = Arc::new(items);
        let n = items.len();
        let outcome = AssertUnwindSafe(write_range(&db, &write, &items, 0..n)).catch_unwind().await;
        match outcome {
            Ok(Ok(answers)) if answers.len() == n => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            // A request alone: its outcome is the answer.
            outcome if n == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(answer_of(outcome));
                }
            }
            _ => {
                tracing::warn!(requests = n, "batch failed; each request is written alone");
                // Each alone, all at once: on SQLite they still share the committer's groups.
                let alone =
                    (0..n).map(|i| {
                        let (db, write, items) = (&db, &write, &items);
                        async move {
                            answer_of(AssertUnwindSafe(write_range(db, write, items, i..i + 1)).catch_unwind().await)
                        }
                    });
                for (reply, answer) in replies.into_iter().zip(join_all(alone).await) {
                    let _ = reply.send(answer);
                }
            }
        }
    }
}

/// The answer of a request written alone, from what writing it gave (or how it panicked).
fn answer_of<O>(outcome: std::thread::Result<AppResult<Vec<O>>>) -> AppResult<O> {
    match outcome {
        Ok(Ok(mut answers)) if answers.len() == 1 => answers.pop().ok_or_else(stopped),
        Ok(Ok(_)) => Err(anyhow::anyhow!("the batch writer gave no answer").into()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(anyhow::anyhow!("the batch writer panicked").into()),
    }
}

/// Writes `items[range]` in one transaction.
async fn write_range<I, O>(
    db: &Db,
    write: &Arc<WriteAll<I, O>>,
    items: &Arc<Vec<I>>,
    range: std::ops::Range<usize>,
) -> AppResult<Vec<O>>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
{
    let (write, items) = (write.clone(), items.clone());
    db.grouped(move |txn| {
        let (write, items, range) = (write.clone(), items.clone(), range.clone());
        Box::pin(async move { write(txn, &items[range]).await })
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use sea_orm::ConnectionTrait;

    use super::*;
    use crate::db::tests::{count, count_where, remove, temp_sqlite_with_t};

    /// A batcher of numbers: each batch inserts its numbers into `t` in one statement and
    /// answers each with ten times itself. The batch holding 0 waits until `release` is sent;
    /// 3 fails its batch; 7 panics. `sizes` lists the batches written, failed or not.
    struct Numbers {
        batcher: Arc<Batcher<i64, i64>>,
        sizes: Arc<Mutex<Vec<usize>>>,
        release: oneshot::Sender<()>,
        started: oneshot::Receiver<()>,
    }

    fn numbers(db: &Db) -> Numbers {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let (release, released) = oneshot::channel::<()>();
        let (start, started) = oneshot::channel::<()>();
        let gate = Arc::new(tokio::sync::Mutex::new(Some((start, released))));
        let seen = sizes.clone();
        let batcher = Batcher::new(db.clone(), move |txn, items: &[i64]| {
            let (seen, gate) = (seen.clone(), gate.clone());
            Box::pin(async move {
                seen.lock().unwrap_or_else(PoisonError::into_inner).push(items.len());
                let values: Vec<String> = items.iter().map(|x| format!("({x})")).collect();
                txn.execute_unprepared(&format!("INSERT INTO t (x) VALUES {}", values.join(", "))).await?;
                if items.contains(&0)
                    && let Some((start, released)) = gate.lock().await.take()
                {
                    let _ = start.send(());
                    let _ = released.await;
                }
                if items.contains(&3) {
                    return Err(kernel::Error::conflict("three", "three is refused").into());
                }
                assert!(!items.contains(&7), "seven panics");
                Ok(items.iter().map(|x| x * 10).collect())
            })
        });
        Numbers { batcher: Arc::new(batcher), sizes, release, started }
    }

    /// Submits `xs` while the batch of 0 holds the writer, then releases it.
    async fn behind_a_held_batch(n: Numbers, xs: &[i64]) -> (Vec<AppResult<i64>>, Vec<usize>) {
        let Numbers { batcher, sizes, release, started } = n;
        let on = batcher.clone();
        let first = tokio::spawn(async move { on.submit(0).await });
        started.await.expect("the first batch runs");
        // join! polls in order: every request is queued before the first batch is released.
        let (results, ()) =
            tokio::join!(futures_util::future::join_all(xs.iter().map(|x| batcher.submit(*x))), async {
                let _ = release.send(());
            });
        assert_eq!(first.await.expect("joined").expect("the first batch"), 0);
        let sizes = sizes.lock().unwrap_or_else(PoisonError::into_inner).clone();
        (results, sizes)
    }

    /// Requests that arrive while a batch is written wait, then make one batch together.
    #[tokio::test]
    async fn requests_waiting_together_are_written_in_one_batch() {
        let (db, path) = temp_sqlite_with_t("batch").await;
        let (results, sizes) = behind_a_held_batch(numbers(&db), &[1, 2, 4, 5, 6]).await;
        let answers: Vec<i64> = results.into_iter().map(|r| r.expect("written")).collect();
        assert_eq!(answers, [10, 20, 40, 50, 60]);
        assert_eq!(sizes, [1, 5], "one batch for the five that waited");
        assert_eq!(count(db.read()).await, 6);
        remove(&path);
    }

    /// A batch that fails is written again request by request: the failing one gets its error
    /// and leaves nothing; the others are written and answered.
    #[tokio::test]
    async fn a_failed_batch_is_written_again_request_by_request() {
        let (db, path) = temp_sqlite_with_t("batch-failure").await;
        let (results, mut sizes) = behind_a_held_batch(numbers(&db), &[1, 2, 3, 4, 5]).await;
        for (x, r) in [1, 2, 3, 4, 5].into_iter().zip(&results) {
            match r {
                Ok(got) => assert_eq!(*got, x * 10),
                Err(e) => assert_eq!((x, e.to_string().contains("three is refused")), (3, true), "{e}"),
            }
        }
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
        // The batch of five failed, then each was written alone. (A failed piece of work is
        // also tried again alone by the group committer: some are tried twice.)
        sizes.sort_unstable();
        sizes.dedup();
        assert_eq!(sizes, [1, 5], "the batch of five failed, then each alone");
        assert_eq!((count(db.read()).await, count_where(db.read(), "x = 3").await), (5, 0));
        remove(&path);
    }

    /// A request whose writes panic gets an error; the others of its batch are written, and
    /// the batcher goes on.
    #[tokio::test]
    async fn a_panicking_request_leaves_the_batcher_running() {
        let (db, path) = temp_sqlite_with_t("batch-panic").await;
        let n = numbers(&db);
        let batcher = n.batcher.clone();
        let (results, _) = behind_a_held_batch(n, &[6, 7, 8]).await;
        assert!(matches!(results[0], Ok(60)) && matches!(results[2], Ok(80)), "{results:?}");
        assert!(results[1].as_ref().is_err_and(|e| e.to_string().contains("panicked")), "{results:?}");
        assert_eq!(batcher.submit(9).await.expect("the batcher goes on"), 90);
        // A request alone that fails gets its own error, and leaves nothing.
        let alone = batcher.submit(3).await;
        assert!(alone.as_ref().is_err_and(|e| e.to_string().contains("three is refused")), "{alone:?}");
        assert_eq!(count(db.read()).await, 4, "0, 6, 8 and 9");
        remove(&path);
    }
}
