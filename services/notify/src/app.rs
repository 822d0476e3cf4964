//! Use cases of the outbox view: list messages, requeue a dead one.

use std::sync::Arc;

use kernel::{Action, Clock, Error, Page, PageRequest, Resource};
use platform::audit::{self, Change};
use platform::{Actor, AppResult, Db, PolicyTable, Principal, finish};

use crate::store::{self, OutboxFilter, OutboxRow};

pub struct Notifications {
    pub db: Db,
    pub policy: Arc<PolicyTable>,
    pub clock: Arc<dyn Clock>,
}

impl Notifications {
    pub async fn list(
        &self,
        caller: &Principal,
        filter: &OutboxFilter,
        page: &PageRequest,
    ) -> AppResult<Page<OutboxRow>> {
        let permit = self.policy.permit(caller, Resource::Notification, Action::Read)?;
        Ok(store::list(self.db.read(), &permit.scope(Some(caller)), filter, page).await?)
    }

    pub async fn retry(&self, caller: &Principal, id: i64) -> AppResult<OutboxRow> {
        let permit = self.policy.permit(caller, Resource::Notification, Action::Retry)?;
        let scope = permit.scope(Some(caller));
        let txn = self.db.begin().await?;
        let outcome: AppResult<OutboxRow> = async {
            store::find(&txn, &scope, id).await?.ok_or_else(|| Error::not_found("notification", id))?;
            let now = self.clock.now();
            if !store::requeue_dead(&txn, id, now).await? {
                return Err(Error::conflict("not_dead", "only a dead notification can be retried").into());
            }
            audit::record_in(&txn, &Actor::of(caller), now, Change::new(Resource::Notification, "requeued", id))
                .await?;
            Ok(store::find(&txn, &scope, id).await?.ok_or_else(|| Error::not_found("notification", id))?)
        }
        .await;
        finish(txn, outcome).await
    }
}
