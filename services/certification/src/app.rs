//! Use cases of the certification area: the catalog and implementers' credentials.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use identity::store as people;
use kernel::{Action, Clock, Error, OrgKind, Page, PageRequest, Resource, Role};
use notify::Template;
use platform::audit::{self, Change};
use platform::{Actor, AppError, AppResult, Db, Owner, Permit, PolicyTable, Principal, finish};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::domain::{self, CertDef, CertStatus, CredentialFacts, CredentialStatus};
use crate::store::{self, CredentialFilter, certification, credential};

#[derive(Debug, Clone)]
pub struct Certification {
    pub id: i64,
    pub def: CertDef,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A credential with what a reader needs to understand it.
#[derive(Debug, Clone)]
pub struct Credential {
    pub id: i64,
    pub user_id: i64,
    pub holder_name: String,
    pub org_id: i64,
    pub certification: Certification,
    pub facts: CredentialFacts,
    /// Counts for dispatch today.
    pub valid: bool,
    pub requirements_version: Option<i32>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct CertPatch {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub category: Option<String>,
    pub description: Option<Option<String>>,
    pub validity_months: Option<i32>,
    pub status: Option<CertStatus>,
}

#[derive(Debug, Clone)]
pub struct NewCredential {
    pub user_id: i64,
    pub certification_code: String,
    pub facts: CredentialFacts,
}

#[derive(Debug, Clone, Default)]
pub struct CredentialPatch {
    pub status: Option<CredentialStatus>,
    pub issued_on: Option<Option<NaiveDate>>,
    pub expires_on: Option<Option<NaiveDate>>,
    pub revoked_reason: Option<Option<String>>,
}

pub(crate) fn cert_from(m: certification::Model) -> AppResult<Certification> {
    Ok(Certification {
        id: m.id,
        def: CertDef {
            code: m.code,
            name_zh: m.name_zh,
            name_en: m.name_en,
            category: m.category,
            description: m.description,
            validity_months: m.validity_months,
            status: m
                .status
                .parse()
                .map_err(|_| Error::unexpected(format!("unknown certification status {}", m.status)))?,
        },
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn facts_of(m: &credential::Model) -> AppResult<CredentialFacts> {
    Ok(CredentialFacts {
        status: m.status.parse().map_err(|_| Error::unexpected(format!("unknown credential status {}", m.status)))?,
        issued_on: m.issued_on,
        expires_on: m.expires_on,
        revoked_reason: m.revoked_reason.clone(),
    })
}

pub struct Certifications {
    pub(crate) db: Db,
    pub(crate) policy: Arc<PolicyTable>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Where the park is reached, for links in e-mails.
    pub(crate) public_url: String,
}

impl Certifications {
    pub fn new(db: Db, policy: Arc<PolicyTable>, clock: Arc<dyn Clock>, public_url: String) -> Self {
        Certifications { db, policy, clock, public_url }
    }

    pub(crate) fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    // ---- the catalog ----------------------------------------------------------------------

    pub async fn list_certs(
        &self,
        caller: &Principal,
        category: Option<&str>,
        query: Option<&str>,
        page: &PageRequest,
    ) -> AppResult<Page<Certification>> {
        let _permit = self.policy.permit(caller, Resource::Certification, Action::Read)?;
        let rows = store::list_certs(self.db.read(), category, query, page).await?;
        let mut items = Vec::with_capacity(rows.items.len());
        for m in rows.items {
            items.push(cert_from(m)?);
        }
        Ok(Page { items, next: rows.next })
    }

    pub async fn get_cert(&self, caller: &Principal, id: i64) -> AppResult<Certification> {
        let _permit = self.policy.permit(caller, Resource::Certification, Action::Read)?;
        cert_from(store::cert(self.db.read(), id).await?.ok_or_else(|| Error::not_found("certification", id))?)
    }

    pub async fn create_cert(&self, caller: &Principal, def: CertDef) -> AppResult<Certification> {
        let permit = self.policy.permit(caller, Resource::Certification, Action::Create)?;
        self.create_cert_as(&Actor::of(caller), &permit, def).await
    }

    pub async fn create_cert_system(&self, who: &'static str, def: CertDef) -> AppResult<Certification> {
        self.create_cert_as(&Actor::System(who), &Permit::system(Resource::Certification, Action::Create), def).await
    }

    async fn create_cert_as(&self, actor: &Actor, _permit: &Permit, def: CertDef) -> AppResult<Certification> {
        let def = domain::validate_cert(def)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Certification> = async {
            let m = certification::ActiveModel {
                id: Default::default(),
                code: Set(def.code.clone()),
                name_zh: Set(def.name_zh.clone()),
                name_en: Set(def.name_en.clone()),
                category: Set(def.category.clone()),
                description: Set(def.description.clone()),
                validity_months: Set(def.validity_months),
                status: Set(def.status.as_str().to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(|e| {
                if platform::db::is_unique_violation(&e) {
                    AppError(Error::conflict(
                        "code_taken",
                        format!("a certification with code {} already exists", def.code),
                    ))
                } else {
                    e.into()
                }
            })?;
            let c = cert_from(m)?;
            audit::record_in(&txn, actor, now, Change::new(Resource::Certification, "created", c.id).after(&c.def))
                .await?;
            Ok(c)
        }
        .await;
        finish(txn, outcome).await
    }

    pub async fn update_cert(&self, caller: &Principal, id: i64, patch: CertPatch) -> AppResult<Certification> {
        let _permit = self.policy.permit(caller, Resource::Certification, Action::Update)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Certification> = async {
            let before = cert_from(store::cert(&txn, id).await?.ok_or_else(|| Error::not_found("certification", id))?)?;
            let mut d = before.def.clone();
            if let Some(v) = patch.name_zh.clone() {
                d.name_zh = v;
            }
            if let Some(v) = patch.name_en.clone() {
                d.name_en = v;
            }
            if let Some(v) = patch.category.clone() {
                d.category = v;
            }
            if let Some(v) = patch.description.clone() {
                d.description = v;
            }
            if let Some(v) = patch.validity_months {
                d.validity_months = v;
            }
            if let Some(v) = patch.status {
                d.status = v;
            }
            let d = domain::validate_cert(d)?;
            let am = certification::ActiveModel {
                id: sea_orm::ActiveValue::Unchanged(id),
                name_zh: Set(d.name_zh.clone()),
                name_en: Set(d.name_en.clone()),
                category: Set(d.category.clone()),
                description: Set(d.description.clone()),
                validity_months: Set(d.validity_months),
                status: Set(d.status.as_str().to_owned()),
                updated_at: Set(now),
                ..Default::default()
            };
            let after = cert_from(am.update(&txn).await?)?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Certification, "updated", id).before(&before.def).after(&after.def),
            )
            .await?;
            Ok(after)
        }
        .await;
        finish(txn, outcome).await
    }

    // ---- credentials ----------------------------------------------------------------------

    pub async fn list_credentials(
        &self,
        caller: &Principal,
        filter: &CredentialFilter,
        page: &PageRequest,
    ) -> AppResult<Page<Credential>> {
        let permit = self.policy.permit(caller, Resource::Credential, Action::Read)?;
        let rows = store::list_credentials(self.db.read(), &permit.scope(Some(caller)), filter, page).await?;
        let items = self.describe(rows.items).await?;
        Ok(Page { items, next: rows.next })
    }

    pub async fn get_credential(&self, caller: &Principal, id: i64) -> AppResult<Credential> {
        let permit = self.policy.permit(caller, Resource::Credential, Action::Read)?;
        let m = store::credential_in_scope(self.db.read(), &permit.scope(Some(caller)), id)
            .await?
            .ok_or_else(|| Error::not_found("credential", id))?;
        self.describe(vec![m]).await?.pop().ok_or_else(|| Error::not_found("credential", id).into())
    }

    pub(crate) async fn describe(&self, rows: Vec<credential::Model>) -> AppResult<Vec<Credential>> {
        let mut cert_ids: Vec<i64> = rows.iter().map(|r| r.certification_id).collect();
        cert_ids.sort_unstable();
        cert_ids.dedup();
        let certs: HashMap<i64, Certification> = store::certs(self.db.read(), &cert_ids)
            .await?
            .into_iter()
            .map(|m| cert_from(m).map(|c| (c.id, c)))
            .collect::<AppResult<_>>()?;
        let mut user_ids: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
        user_ids.sort_unstable();
        user_ids.dedup();
        let names: HashMap<i64, String> =
            people::users(self.db.read(), &user_ids).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
        let today = self.today();
        rows.into_iter()
            .map(|m| {
                let facts = facts_of(&m)?;
                let certification = certs
                    .get(&m.certification_id)
                    .cloned()
                    .ok_or_else(|| Error::unexpected("credential of an unknown certification"))?;
                Ok(Credential {
                    id: m.id,
                    user_id: m.user_id,
                    holder_name: names.get(&m.user_id).cloned().unwrap_or_default(),
                    org_id: m.org_id,
                    certification,
                    valid: domain::is_valid_on(&facts, today),
                    facts,
                    requirements_version: m.requirements_version,
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                })
            })
            .collect()
    }

    /// Records a credential for an implementer (a user holding the `implementer` role).
    pub async fn create_credential(&self, caller: &Principal, new: NewCredential) -> AppResult<Credential> {
        let permit = self.policy.permit(caller, Resource::Credential, Action::Create)?;
        if !permit.allows(kernel::Relation::Any) && new.facts.status != CredentialStatus::InProgress {
            return Err(Error::forbidden(
                "implementers and their administrators start a credential in progress; it is earned by meeting \
                 its requirements or by vendor ops' verification",
            )
            .into());
        }
        let id = self.create_credential_as(&Actor::of(caller), Some(caller), &permit, new).await?;
        self.assess(&Actor::of(caller), crate::store::Assessed::One(id)).await?;
        self.get_credential(caller, id).await
    }

    pub async fn create_credential_system(&self, who: &'static str, new: NewCredential) -> AppResult<i64> {
        self.create_credential_as(&Actor::System(who), None, &Permit::system(Resource::Credential, Action::Create), new)
            .await
    }

    async fn create_credential_as(
        &self,
        actor: &Actor,
        caller: Option<&Principal>,
        permit: &Permit,
        new: NewCredential,
    ) -> AppResult<i64> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<i64> = async {
            let cert = store::cert_by_code(&txn, &new.certification_code).await?.ok_or_else(|| {
                Error::invalid("certification", format!("{} is not in the catalog", new.certification_code))
            })?;
            let holder = people::user_in_scope(&txn, &platform::Scope::All, new.user_id)
                .await?
                .ok_or_else(|| Error::invalid("user_id", "no such user"))?;
            let org = people::org(&txn, holder.org_id)
                .await?
                .ok_or_else(|| Error::unexpected("user without organisation"))?;
            let owner = Owner {
                org_id: org.id,
                org_kind: org.kind.parse().unwrap_or(OrgKind::Client),
                org_parent_id: org.parent_id,
                user_id: Some(holder.id),
            };
            permit.admit(caller, &owner)?;
            if !people::roles_of(&txn, holder.id).await?.contains(&Role::Implementer) {
                return Err(Error::invalid(
                    "user_id",
                    "credentials are held by implementers; give the user the implementer role first",
                )
                .into());
            }
            let facts = domain::validate_credential(new.facts.clone(), cert.validity_months)?;
            let m = credential::ActiveModel {
                id: Default::default(),
                user_id: Set(holder.id),
                org_id: Set(org.id),
                certification_id: Set(cert.id),
                status: Set(facts.status.as_str().to_owned()),
                issued_on: Set(facts.issued_on),
                expires_on: Set(facts.expires_on),
                revoked_reason: Set(facts.revoked_reason.clone()),
                requirements_version: Set(if facts.status == CredentialStatus::InProgress {
                    None
                } else {
                    store::current_requirements(&txn, Some(&[cert.id])).await?.get(&cert.id).map(|r| r.version)
                }),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(|e| {
                if platform::db::is_unique_violation(&e) {
                    AppError(Error::conflict(
                        "credential_exists",
                        format!("this implementer already has a {} credential; update it instead", cert.code),
                    ))
                } else {
                    e.into()
                }
            })?;
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::Credential, "created", m.id)
                    .org(org.id)
                    .after(&serde_json::json!({ "user_id": holder.id, "certification": cert.code, "facts": facts })),
            )
            .await?;
            Ok(m.id)
        }
        .await;
        finish(txn, outcome).await
    }

    /// Changes a credential's status or dates (revocation needs a reason).
    pub async fn update_credential(
        &self,
        caller: &Principal,
        id: i64,
        patch: CredentialPatch,
    ) -> AppResult<Credential> {
        let read = self.policy.permit(caller, Resource::Credential, Action::Read)?;
        let permit = self.policy.permit(caller, Resource::Credential, Action::Update)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<()> = async {
            let before = store::credential_in_scope_locked(&txn, &read.scope(Some(caller)), id)
                .await?
                .ok_or_else(|| Error::not_found("credential", id))?;
            let org = people::org(&txn, before.org_id)
                .await?
                .ok_or_else(|| Error::unexpected("credential without organisation"))?;
            permit.admit(
                Some(caller),
                &Owner {
                    org_id: org.id,
                    org_kind: org.kind.parse().unwrap_or(OrgKind::Client),
                    org_parent_id: org.parent_id,
                    user_id: Some(before.user_id),
                },
            )?;
            let cert = store::cert(&txn, before.certification_id)
                .await?
                .ok_or_else(|| Error::unexpected("unknown certification"))?;
            let old = facts_of(&before)?;
            let mut f = old.clone();
            if let Some(s) = patch.status {
                f.status = s;
                if s != CredentialStatus::Revoked {
                    f.revoked_reason = None;
                }
            }
            if let Some(v) = patch.issued_on {
                f.issued_on = v;
            }
            if let Some(v) = patch.expires_on {
                f.expires_on = v;
            }
            if let Some(v) = patch.revoked_reason.clone() {
                f.revoked_reason = v;
            }
            if f.status == CredentialStatus::InProgress && patch.issued_on.is_none() {
                f.issued_on = None;
                f.expires_on = None;
            }
            let f = domain::validate_credential(f, cert.validity_months)?;
            let held = |s: CredentialStatus| matches!(s, CredentialStatus::Earned | CredentialStatus::Expiring);
            let newly_earned = held(f.status) && !held(old.status);
            let newly_revoked = f.status == CredentialStatus::Revoked && old.status != CredentialStatus::Revoked;
            let mut am = credential::ActiveModel {
                id: sea_orm::ActiveValue::Unchanged(id),
                status: Set(f.status.as_str().to_owned()),
                issued_on: Set(f.issued_on),
                expires_on: Set(f.expires_on),
                revoked_reason: Set(f.revoked_reason.clone()),
                updated_at: Set(now),
                ..Default::default()
            };
            if newly_earned {
                // Earned by verification: under the requirements in force today.
                am.requirements_version =
                    Set(store::current_requirements(&txn, Some(&[cert.id])).await?.get(&cert.id).map(|r| r.version));
            }
            am.update(&txn).await?;
            let verb = if newly_revoked {
                "revoked"
            } else if newly_earned {
                "verified"
            } else {
                "updated"
            };
            let template = if newly_revoked {
                Some(Template::CredentialRevoked)
            } else if newly_earned {
                Some(Template::CredentialEarned)
            } else {
                None
            };
            if let Some(t) = template {
                self.tell_holder(&txn, t, &before, &cert_from(cert.clone())?, &f, now).await?;
            }
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Credential, verb, id).org(org.id).before(&old).after(&f),
            )
            .await?;
            Ok(())
        }
        .await;
        finish(txn, outcome).await?;
        self.get_credential(caller, id).await
    }

    pub async fn cert_by_code(&self, code: &str) -> AppResult<Option<Certification>> {
        store::cert_by_code(self.db.read(), code).await?.map(cert_from).transpose()
    }
}
