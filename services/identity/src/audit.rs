//! Reading the audit trail (writing it is `platform::audit`, inside each change's transaction).

use std::sync::Arc;

use kernel::{Action, Page, PageRequest, Resource};
use platform::audit::{self, AuditEvent, AuditFilter};
use platform::{AppResult, Db, PolicyTable, Principal};

pub struct AuditLog {
    pub db: Db,
    pub policy: Arc<PolicyTable>,
}

impl AuditLog {
    pub async fn list(
        &self,
        caller: &Principal,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> AppResult<Page<AuditEvent>> {
        let permit = self.policy.permit(caller, Resource::AuditEvent, Action::Read)?;
        Ok(audit::list(self.db.read(), &permit.scope(Some(caller)), filter, page).await?)
    }
}
