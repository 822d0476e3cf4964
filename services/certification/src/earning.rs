//! How credentials are earned, kept and lost: versioned requirements, evidence and its review,
//! progress, automatic earning and renewal, and the daily sweep.
//!
//! Every status change is a compare-and-set on the credential's current status, so of several
//! requests or server replicas making the same change exactly one succeeds, audits and mails.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use identity::people;
use kernel::{Action, Error, OrgKind, Page, PageRequest, Resource};
use notify::Template;
use platform::audit::{self, Change};
use platform::{Actor, AppResult, Owner, Permit, Principal, finish};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::json;

use crate::app::{Certification, Certifications, Credential, cert_from, facts_of};
use crate::domain::{
    self, CertStatus, CredentialFacts, CredentialStatus, EXPIRING_WINDOW_DAYS, EvidenceFacts, EvidenceKind,
    EvidenceStatus,
};
use crate::requirements::{self, Achieved, DeliveryRecord, Progress, Requirements};
use crate::store::{self, Assessed, EvidenceFilter, credential, evidence, requirement};

/// One published version of a certification's requirements.
#[derive(Debug, Clone)]
pub struct RequirementsVersion {
    pub certification_id: i64,
    pub requirements: Requirements,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

fn requirements_from(m: requirement::Model) -> AppResult<RequirementsVersion> {
    let delivery_services: Vec<String> = serde_json::from_value(m.delivery_services)
        .map_err(|e| Error::unexpected(format!("requirements {} have unreadable services: {e}", m.id)))?;
    Ok(RequirementsVersion {
        certification_id: m.certification_id,
        requirements: Requirements {
            version: m.version,
            exam_min_score: m.exam_min_score,
            training_hours: m.training_hours,
            delivery_services,
            delivery_count: m.delivery_count,
            min_rating_centi: m.min_rating_centi,
            validity_months: m.validity_months,
            note: m.note,
        },
        created_by: m.created_by,
        created_at: m.created_at,
    })
}

/// A piece of evidence and its review.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub id: i64,
    pub credential_id: i64,
    pub user_id: i64,
    pub org_id: i64,
    pub facts: EvidenceFacts,
    pub status: EvidenceStatus,
    pub submitted_by: Option<i64>,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
}

/// What a person needs to recognise a piece of evidence: whose it is and towards what.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EvidenceLabels {
    pub user_name: String,
    pub org_name: String,
    pub certification_code: String,
    pub certification_name_zh: String,
    pub certification_name_en: String,
}

/// The labels of many pieces of evidence, in three queries whatever their number.
async fn label_evidence<C: ConnectionTrait>(
    conn: &C,
    items: Vec<Evidence>,
) -> AppResult<Vec<(Evidence, EvidenceLabels)>> {
    let mut user_ids: Vec<i64> = items.iter().map(|e| e.user_id).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let names: HashMap<i64, String> =
        people::people(conn, &user_ids).await?.into_iter().map(|p| (p.id, p.display_name)).collect();
    let orgs: HashMap<i64, String> = directory::store::organisation::Entity::find()
        .filter(directory::store::organisation::Column::Id.is_in(items.iter().map(|e| e.org_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name_zh))
        .collect();
    let certs = store::certifications_of_credentials(conn, items.iter().map(|e| e.credential_id)).await?;
    Ok(items
        .into_iter()
        .map(|e| {
            let cert = certs.get(&e.credential_id);
            let labels = EvidenceLabels {
                user_name: names.get(&e.user_id).cloned().unwrap_or_default(),
                org_name: orgs.get(&e.org_id).cloned().unwrap_or_default(),
                certification_code: cert.map(|c| c.code.clone()).unwrap_or_default(),
                certification_name_zh: cert.map(|c| c.name_zh.clone()).unwrap_or_default(),
                certification_name_en: cert.map(|c| c.name_en.clone()).unwrap_or_default(),
            };
            (e, labels)
        })
        .collect())
}

async fn label_one<C: ConnectionTrait>(conn: &C, e: Evidence) -> AppResult<(Evidence, EvidenceLabels)> {
    label_evidence(conn, vec![e]).await?.pop().ok_or_else(|| Error::unexpected("evidence vanished").into())
}

fn evidence_from(m: evidence::Model) -> AppResult<Evidence> {
    let kind: EvidenceKind =
        m.kind.parse().map_err(|_| Error::unexpected(format!("unknown evidence kind {}", m.kind)))?;
    let status: EvidenceStatus =
        m.status.parse().map_err(|_| Error::unexpected(format!("unknown evidence status {}", m.status)))?;
    let attachments: Vec<String> = serde_json::from_value(m.attachments)
        .map_err(|e| Error::unexpected(format!("evidence {} has unreadable attachments: {e}", m.id)))?;
    Ok(Evidence {
        id: m.id,
        credential_id: m.credential_id,
        user_id: m.user_id,
        org_id: m.org_id,
        facts: EvidenceFacts {
            kind,
            title: m.title,
            taken_on: m.taken_on,
            exam_score: m.exam_score,
            training_hours: m.training_hours,
            attachments,
        },
        status,
        submitted_by: m.submitted_by,
        submitted_at: m.submitted_at,
        reviewed_by: m.reviewed_by,
        reviewed_at: m.reviewed_at,
        review_note: m.review_note,
    })
}

/// Where a credential stands against the current requirements of its certification.
#[derive(Debug, Clone)]
pub struct CredentialProgress {
    pub credential: Credential,
    /// From when evidence and deliveries count: none while in progress (everything counts), the
    /// issue date for a held credential (what counts towards its renewal).
    pub counts_since: Option<NaiveDate>,
    /// None when the certification has no published requirements (earned only by verification).
    pub progress: Option<Progress>,
}

/// Progress towards one certification of the catalog, whether or not the implementer started it.
#[derive(Debug, Clone)]
pub struct CertProgress {
    pub certification: Certification,
    pub credential: Option<Credential>,
    pub progress: Option<Progress>,
}

/// What a sweep changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub expiring: usize,
    pub expired: usize,
    /// Expiring credentials whose expiry moved out of the window again.
    pub back_to_earned: usize,
    /// Credentials earned or renewed because their requirements are met.
    pub earned: usize,
}

/// Reads a certification's current requirements and the achievements of the credentials
/// `which` names; returns the ones whose requirements are met.
struct Assessment {
    creds: Vec<credential::Model>,
    certs: HashMap<i64, Certification>,
    reqs: HashMap<i64, Requirements>,
    evidence: HashMap<i64, (Option<i32>, i64)>,
    deliveries: HashMap<i64, Vec<DeliveryRecord>>,
}

impl Assessment {
    async fn load<C: ConnectionTrait>(conn: &C, which: Assessed) -> AppResult<Assessment> {
        let creds = store::assessed_credentials(conn, which).await?;
        let mut cert_ids: Vec<i64> = creds.iter().map(|c| c.certification_id).collect();
        cert_ids.sort_unstable();
        cert_ids.dedup();
        let certs = store::certs(conn, &cert_ids)
            .await?
            .into_iter()
            .map(|m| cert_from(m).map(|c| (c.id, c)))
            .collect::<AppResult<HashMap<_, _>>>()?;
        let reqs = store::current_requirements(conn, Some(&cert_ids))
            .await?
            .into_values()
            .map(|m| requirements_from(m).map(|r| (r.certification_id, r.requirements)))
            .collect::<AppResult<HashMap<_, _>>>()?;
        let evidence = store::evidence_totals(conn, which).await?;
        let deliveries = store::delivery_totals(conn, which).await?;
        Ok(Assessment { creds, certs, reqs, evidence, deliveries })
    }

    fn progress_of(&self, c: &credential::Model) -> Option<Progress> {
        let req = self.reqs.get(&c.certification_id)?;
        let (best_exam, training_hours) = self.evidence.get(&c.id).copied().unwrap_or((None, 0));
        let achieved = Achieved { best_exam, training_hours, ..Achieved::default() }
            .with_deliveries(req, self.deliveries.get(&c.id).map(Vec::as_slice).unwrap_or(&[]));
        Some(requirements::progress(req, &achieved))
    }

    /// The credentials to earn now: assessed (in progress, expiring, expired), of an active
    /// certification, with every criterion of its current requirements met.
    fn to_earn(&self) -> AppResult<Vec<(&credential::Model, CredentialFacts, &Requirements)>> {
        let mut out = Vec::new();
        for c in &self.creds {
            let facts = facts_of(c)?;
            if domain::counts_since(&facts).is_none() {
                continue;
            }
            let active = self.certs.get(&c.certification_id).is_some_and(|k| k.def.status == CertStatus::Active);
            let Some(req) = self.reqs.get(&c.certification_id) else { continue };
            if active && self.progress_of(c).is_some_and(|p| p.met) {
                out.push((c, facts, req));
            }
        }
        Ok(out)
    }
}

impl Certifications {
    /// The console screen of one credential.
    fn link(&self, credential_id: i64) -> String {
        format!("{}/credentials/{credential_id}", self.public_url.trim_end_matches('/'))
    }

    async fn owner_of<C: ConnectionTrait>(conn: &C, org_id: i64, user_id: i64) -> AppResult<Owner> {
        let org = identity::store::org(conn, org_id)
            .await?
            .ok_or_else(|| Error::unexpected("credential without organisation"))?;
        Ok(Owner {
            org_id: org.id,
            org_kind: org.kind.parse().unwrap_or(OrgKind::Client),
            org_parent_id: org.parent_id,
            user_id: Some(user_id),
        })
    }

    /// Queues `template` about a credential to its holder and to the administrators of the
    /// holder's organisation.
    pub(crate) async fn tell_holder<C: ConnectionTrait>(
        &self,
        conn: &C,
        template: Template,
        c: &credential::Model,
        cert: &Certification,
        facts: &CredentialFacts,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let holder = people::people(conn, &[c.user_id]).await?;
        let payload = json!({
            "holder": holder.first().map(|p| p.display_name.clone()).unwrap_or_default(),
            "certification_code": cert.def.code,
            "certification_zh": cert.def.name_zh,
            "certification_en": cert.def.name_en,
            "expires_on": facts.expires_on.map(|d| d.to_string()).unwrap_or_default(),
            "reason": facts.revoked_reason.clone().unwrap_or_default(),
            "link": self.link(c.id),
        });
        let key = format!(
            "credential:{}:{}:{}",
            c.id,
            facts.status.as_str(),
            facts.expires_on.map(|d| d.to_string()).unwrap_or_default()
        );
        for p in &holder {
            people::notify_person(conn, now, template, p, &payload, &key).await?;
        }
        people::notify_org_admins(conn, now, template, c.org_id, &payload, &key).await
    }

    // ---- requirements ----------------------------------------------------------------------

    /// Every published version of a certification's requirements, newest first.
    pub async fn requirements(&self, caller: &Principal, cert_id: i64) -> AppResult<Vec<RequirementsVersion>> {
        let _permit = self.policy.permit(caller, Resource::Certification, Action::Read)?;
        store::cert(self.db.read(), cert_id).await?.ok_or_else(|| Error::not_found("certification", cert_id))?;
        let mut out = store::requirements_of(self.db.read(), &[cert_id])
            .await?
            .into_iter()
            .map(requirements_from)
            .collect::<AppResult<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// Publishes a new version of a certification's requirements. Credentials already earned keep
    /// the version they were earned under; work in progress is judged by the new one.
    pub async fn publish_requirements(
        &self,
        caller: &Principal,
        cert_id: i64,
        req: Requirements,
    ) -> AppResult<RequirementsVersion> {
        let permit = self.policy.permit(caller, Resource::Certification, Action::Update)?;
        self.publish_requirements_as(&Actor::of(caller), &permit, cert_id, req).await
    }

    pub async fn publish_requirements_system(
        &self,
        who: &'static str,
        code: &str,
        req: Requirements,
    ) -> AppResult<RequirementsVersion> {
        let cert = store::cert_by_code(self.db.read(), code)
            .await?
            .ok_or_else(|| Error::invalid("certification", format!("{code} is not in the catalog")))?;
        self.publish_requirements_as(
            &Actor::System(who),
            &Permit::system(Resource::Certification, Action::Update),
            cert.id,
            req,
        )
        .await
    }

    async fn publish_requirements_as(
        &self,
        actor: &Actor,
        _permit: &Permit,
        cert_id: i64,
        req: Requirements,
    ) -> AppResult<RequirementsVersion> {
        let req = requirements::validate_requirements(req)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<RequirementsVersion> = async {
            let cert = store::cert(&txn, cert_id).await?.ok_or_else(|| Error::not_found("certification", cert_id))?;
            for code in &req.delivery_services {
                if directory::store::service_by_code(&txn, code).await?.is_none() {
                    return Err(
                        Error::invalid("delivery_services", format!("{code} is not in the service catalog")).into()
                    );
                }
            }
            let version = store::requirements_of(&txn, &[cert_id]).await?.last().map_or(1, |r| r.version + 1);
            let m = requirement::ActiveModel {
                id: Default::default(),
                certification_id: Set(cert_id),
                version: Set(version),
                exam_min_score: Set(req.exam_min_score),
                training_hours: Set(req.training_hours),
                delivery_services: Set(json!(req.delivery_services)),
                delivery_count: Set(req.delivery_count),
                min_rating_centi: Set(req.min_rating_centi),
                validity_months: Set(req.validity_months),
                note: Set(req.note.clone()),
                created_by: Set(actor.user_id()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(|e| {
                if platform::db::is_unique_violation(&e) {
                    platform::AppError(Error::conflict(
                        "concurrent_update",
                        "another version was published at the same moment; read the requirements and try again",
                    ))
                } else {
                    e.into()
                }
            })?;
            if cert.validity_months != req.validity_months {
                crate::store::certification::ActiveModel {
                    id: sea_orm::ActiveValue::Unchanged(cert_id),
                    validity_months: Set(req.validity_months),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(&txn)
                .await?;
            }
            let v = requirements_from(m)?;
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::Certification, "requirements_published", cert_id).after(&v.requirements),
            )
            .await?;
            Ok(v)
        }
        .await;
        finish(txn, outcome).await
    }

    // ---- evidence --------------------------------------------------------------------------

    pub async fn list_evidence(
        &self,
        caller: &Principal,
        filter: &EvidenceFilter,
        page: &PageRequest,
    ) -> AppResult<Page<(Evidence, EvidenceLabels)>> {
        let permit = self.policy.permit(caller, Resource::Evidence, Action::Read)?;
        let conn = self.db.read();
        let rows = store::list_evidence(conn, &permit.scope(Some(caller)), filter, page).await?;
        let items = rows.items.into_iter().map(evidence_from).collect::<AppResult<Vec<_>>>()?;
        Ok(Page { items: label_evidence(conn, items).await?, next: rows.next })
    }

    /// One piece of evidence in the caller's read scope (404 outside it).
    pub async fn get_evidence(&self, caller: &Principal, id: i64) -> AppResult<(Evidence, EvidenceLabels)> {
        let filter = EvidenceFilter { id: Some(id), ..EvidenceFilter::default() };
        let page = PageRequest { limit: 1, ..PageRequest::default() };
        let found = self.list_evidence(caller, &filter, &page).await?.items.pop();
        found.ok_or_else(|| Error::not_found("evidence", id).into())
    }

    /// Records an exam result or training towards a credential (the implementer, their
    /// organisation's administrator, or vendor ops).
    pub async fn submit_evidence(
        &self,
        caller: &Principal,
        credential_id: i64,
        facts: EvidenceFacts,
    ) -> AppResult<(Evidence, EvidenceLabels)> {
        let permit = self.policy.permit(caller, Resource::Evidence, Action::Create)?;
        let read = self.policy.permit(caller, Resource::Credential, Action::Read)?;
        let e = self.submit_evidence_as(&Actor::of(caller), Some(caller), &read, &permit, credential_id, facts).await?;
        label_one(self.db.write(), e).await
    }

    pub async fn submit_evidence_system(
        &self,
        who: &'static str,
        credential_id: i64,
        facts: EvidenceFacts,
    ) -> AppResult<Evidence> {
        self.submit_evidence_as(
            &Actor::System(who),
            None,
            &Permit::system(Resource::Credential, Action::Read),
            &Permit::system(Resource::Evidence, Action::Create),
            credential_id,
            facts,
        )
        .await
    }

    async fn submit_evidence_as(
        &self,
        actor: &Actor,
        caller: Option<&Principal>,
        read: &Permit,
        permit: &Permit,
        credential_id: i64,
        facts: EvidenceFacts,
    ) -> AppResult<Evidence> {
        let facts = domain::validate_evidence(facts, self.today())?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Evidence> = async {
            let c = store::credential_in_scope(&txn, &read.scope(caller), credential_id)
                .await?
                .ok_or_else(|| Error::not_found("credential", credential_id))?;
            permit.admit(caller, &Self::owner_of(&txn, c.org_id, c.user_id).await?)?;
            domain::accepts_evidence(facts_of(&c)?.status)?;
            let m = evidence::ActiveModel {
                id: Default::default(),
                credential_id: Set(c.id),
                user_id: Set(c.user_id),
                org_id: Set(c.org_id),
                kind: Set(facts.kind.as_str().to_owned()),
                title: Set(facts.title.clone()),
                taken_on: Set(facts.taken_on),
                exam_score: Set(facts.exam_score),
                training_hours: Set(facts.training_hours),
                attachments: Set(json!(facts.attachments)),
                status: Set(EvidenceStatus::Submitted.as_str().to_owned()),
                submitted_by: Set(actor.user_id()),
                submitted_at: Set(now),
                reviewed_by: Set(None),
                reviewed_at: Set(None),
                review_note: Set(None),
            }
            .insert(&txn)
            .await?;
            let e = evidence_from(m)?;
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::Evidence, "submitted", e.id).org(e.org_id).after(&e),
            )
            .await?;
            Ok(e)
        }
        .await;
        finish(txn, outcome).await
    }

    /// Vendor ops verify or reject submitted evidence. Verified evidence counts at once: if it
    /// completes the requirements, the credential is earned in the same call.
    pub async fn review_evidence(
        &self,
        caller: &Principal,
        id: i64,
        verdict: EvidenceStatus,
        note: Option<String>,
    ) -> AppResult<((Evidence, EvidenceLabels), Credential)> {
        let permit = self.policy.permit(caller, Resource::Evidence, Action::Verify)?;
        let (e, c) = self.review_evidence_as(&Actor::of(caller), Some(caller), &permit, id, verdict, note).await?;
        Ok((label_one(self.db.write(), e).await?, c))
    }

    pub async fn review_evidence_system(
        &self,
        who: &'static str,
        id: i64,
        verdict: EvidenceStatus,
        note: Option<String>,
    ) -> AppResult<(Evidence, Credential)> {
        let permit = Permit::system(Resource::Evidence, Action::Verify);
        self.review_evidence_as(&Actor::System(who), None, &permit, id, verdict, note).await
    }

    async fn review_evidence_as(
        &self,
        actor: &Actor,
        caller: Option<&Principal>,
        permit: &Permit,
        id: i64,
        verdict: EvidenceStatus,
        note: Option<String>,
    ) -> AppResult<(Evidence, Credential)> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Evidence> = async {
            let m = store::evidence_in_scope_locked(&txn, &permit.scope(caller), id)
                .await?
                .ok_or_else(|| Error::not_found("evidence", id))?;
            let before = evidence_from(m.clone())?;
            let note = domain::review(before.status, verdict, note)?;
            let mut am: evidence::ActiveModel = m.into();
            am.status = Set(verdict.as_str().to_owned());
            am.reviewed_by = Set(actor.user_id());
            am.reviewed_at = Set(Some(now));
            am.review_note = Set(note);
            let after = evidence_from(am.update(&txn).await?)?;
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::Evidence, verdict.as_str(), id).org(after.org_id).before(&before).after(&after),
            )
            .await?;
            Ok(after)
        }
        .await;
        let e = finish(txn, outcome).await?;
        if verdict == EvidenceStatus::Verified {
            self.assess(actor, Assessed::One(e.credential_id)).await?;
        }
        let c = self.credential_by_id(e.credential_id).await?;
        Ok((e, c))
    }

    async fn credential_by_id(&self, id: i64) -> AppResult<Credential> {
        let m = store::credential_in_scope(self.db.read(), &platform::Scope::All, id)
            .await?
            .ok_or_else(|| Error::not_found("credential", id))?;
        self.describe(vec![m]).await?.pop().ok_or_else(|| Error::not_found("credential", id).into())
    }

    // ---- progress --------------------------------------------------------------------------

    pub async fn credential_progress(&self, caller: &Principal, id: i64) -> AppResult<CredentialProgress> {
        let credential = self.get_credential(caller, id).await?;
        let a = Assessment::load(self.db.read(), Assessed::One(id)).await?;
        let progress = a.creds.first().and_then(|c| a.progress_of(c));
        let counts_since = match credential.facts.status {
            CredentialStatus::InProgress => None,
            _ => credential.facts.issued_on,
        };
        Ok(CredentialProgress { credential, counts_since, progress })
    }

    /// An implementer's progress towards every active certification that has requirements, and
    /// every certification they hold or work towards.
    pub async fn user_progress(&self, caller: &Principal, user_id: i64) -> AppResult<Vec<CertProgress>> {
        let permit = self.policy.permit(caller, Resource::Credential, Action::Read)?;
        let user = identity::store::user_in_scope(self.db.read(), &platform::Scope::All, user_id)
            .await?
            .ok_or_else(|| Error::not_found("user", user_id))?;
        let owner = Self::owner_of(self.db.read(), user.org_id, user.id).await?;
        if !permit.covers(platform::access::relations_to(caller, &owner)) {
            return Err(Error::not_found("user", user_id).into());
        }
        let a = Assessment::load(self.db.read(), Assessed::User(user_id)).await?;
        let held = self.describe(a.creds.clone()).await?;
        let all_reqs = store::current_requirements(self.db.read(), None).await?;
        let mut cert_ids: Vec<i64> = all_reqs.keys().copied().collect();
        cert_ids.extend(a.creds.iter().map(|c| c.certification_id));
        cert_ids.sort_unstable();
        cert_ids.dedup();
        let certs = store::certs(self.db.read(), &cert_ids).await?;
        let lifetime = store::user_deliveries(self.db.read(), user_id).await?;
        let mut out = Vec::new();
        for m in certs {
            let cert = cert_from(m)?;
            let credential = held.iter().find(|c| c.certification.id == cert.id).cloned();
            if credential.is_none() && cert.def.status != CertStatus::Active {
                continue;
            }
            let progress = match (&credential, all_reqs.get(&cert.id)) {
                (_, None) => None,
                (Some(c), Some(_)) => a.creds.iter().find(|m| m.id == c.id).and_then(|m| a.progress_of(m)),
                (None, Some(r)) => {
                    let req = requirements_from(r.clone())?.requirements;
                    Some(requirements::progress(&req, &Achieved::default().with_deliveries(&req, &lifetime)))
                }
            };
            out.push(CertProgress { certification: cert, credential, progress });
        }
        Ok(out)
    }

    // ---- earning, renewal and the sweep ------------------------------------------------------

    /// Earns (or renews) every credential `which` names whose requirements are met; returns how
    /// many changed. Reads first, then changes each by compare-and-set in one transaction.
    pub async fn assess(&self, actor: &Actor, which: Assessed) -> AppResult<usize> {
        let a = Assessment::load(self.db.read(), which).await?;
        let due = a.to_earn()?;
        if due.is_empty() {
            return Ok(0);
        }
        let today = self.today();
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<usize> = async {
            let mut n = 0;
            for (c, old, req) in due {
                let new = domain::earned_on(today, req.validity_months)?;
                if !store::compare_and_set(&txn, c.id, old.status.as_str(), &new, Some(Some(req.version)), now).await? {
                    continue;
                }
                let verb = if old.status == CredentialStatus::InProgress { "earned" } else { "renewed" };
                audit::record_in(
                    &txn,
                    actor,
                    now,
                    Change::new(Resource::Credential, verb, c.id)
                        .org(c.org_id)
                        .before(&old)
                        .after(&json!({ "facts": new, "requirements_version": req.version })),
                )
                .await?;
                if let Some(cert) = a.certs.get(&c.certification_id) {
                    self.tell_holder(&txn, Template::CredentialEarned, c, cert, &new, now).await?;
                }
                n += 1;
            }
            Ok(n)
        }
        .await;
        finish(txn, outcome).await
    }

    /// Assesses the credentials of the implementers assigned to an order (after its acceptance
    /// or rating).
    pub async fn assess_order(&self, order_id: i64) -> AppResult<usize> {
        let mut n = 0;
        for user in store::assigned_users(self.db.read(), order_id).await? {
            n += self.assess(&Actor::System("certification"), Assessed::User(user)).await?;
        }
        Ok(n)
    }

    /// Renews an expiring or expired credential whose renewal requirements are met (what was
    /// achieved since it was issued); otherwise says what is missing.
    pub async fn renew(&self, caller: &Principal, id: i64) -> AppResult<Credential> {
        let read = self.policy.permit(caller, Resource::Credential, Action::Read)?;
        let permit = self.policy.permit(caller, Resource::Credential, Action::Renew)?;
        let m = store::credential_in_scope(self.db.read(), &read.scope(Some(caller)), id)
            .await?
            .ok_or_else(|| Error::not_found("credential", id))?;
        permit.admit(Some(caller), &Self::owner_of(self.db.read(), m.org_id, m.user_id).await?)?;
        let facts = facts_of(&m)?;
        match facts.status {
            CredentialStatus::Expiring | CredentialStatus::Expired => {}
            CredentialStatus::Earned => {
                return Err(Error::conflict(
                    "not_due_for_renewal",
                    format!("renewal opens {EXPIRING_WINDOW_DAYS} days before the credential expires"),
                )
                .into());
            }
            CredentialStatus::InProgress => {
                return Err(
                    Error::conflict("illegal_transition", "a credential in progress has not been earned yet").into()
                );
            }
            CredentialStatus::Revoked => {
                return Err(Error::conflict(
                    "illegal_transition",
                    "a revoked credential is not renewed; vendor ops may reinstate it",
                )
                .into());
            }
        }
        if self.assess(&Actor::of(caller), Assessed::One(id)).await? == 0 {
            let p = self.credential_progress(caller, id).await?;
            let still = p.credential.facts.status;
            if still == CredentialStatus::Expiring || still == CredentialStatus::Expired {
                let missing: Vec<String> = p
                    .progress
                    .iter()
                    .flat_map(|p| p.items.iter().filter(|i| !i.met).map(|i| i.text_en.clone()))
                    .collect();
                return Err(Error::Unprocessable {
                    code: "requirements_not_met",
                    message: if missing.is_empty() {
                        "this certification has no published requirements; vendor ops renew it by verification".into()
                    } else {
                        format!("the renewal requirements are not met yet: {}", missing.join("; "))
                    },
                    details: Some(json!({ "progress": p.progress, "counts_since": p.counts_since })),
                }
                .into());
            }
        }
        self.get_credential(caller, id).await
    }

    /// The daily sweep: held credentials become `expiring` 30 days before their expiry and
    /// `expired` after it (their holder and the holder's administrators are mailed once each);
    /// then every credential in progress, expiring or expired is assessed, so an earning missed
    /// by a failed hook is caught up. Safe on several replicas: each change is a
    /// compare-and-set.
    pub async fn sweep(&self) -> AppResult<SweepReport> {
        let today = self.today();
        let now = self.clock.now();
        let window_end = today.checked_add_days(Days::new(EXPIRING_WINDOW_DAYS as u64)).unwrap_or(today);
        let candidates = store::sweep_candidates(self.db.read(), window_end).await?;
        let mut changes = Vec::new();
        for c in candidates {
            let old = facts_of(&c)?;
            let status = domain::status_on(&old, today);
            if status != old.status {
                changes.push((c, old.clone(), CredentialFacts { status, ..old }));
            }
        }
        let mut report = SweepReport::default();
        if !changes.is_empty() {
            let mut cert_ids: Vec<i64> = changes.iter().map(|(c, _, _)| c.certification_id).collect();
            cert_ids.sort_unstable();
            cert_ids.dedup();
            let certs = store::certs(self.db.read(), &cert_ids)
                .await?
                .into_iter()
                .map(|m| cert_from(m).map(|c| (c.id, c)))
                .collect::<AppResult<HashMap<_, _>>>()?;
            let actor = Actor::System("credential sweep");
            let txn = self.db.begin().await?;
            let outcome: AppResult<SweepReport> = async {
                let mut r = SweepReport::default();
                for (c, old, new) in &changes {
                    if !store::compare_and_set(&txn, c.id, old.status.as_str(), new, None, now).await? {
                        continue;
                    }
                    audit::record_in(
                        &txn,
                        &actor,
                        now,
                        Change::new(Resource::Credential, new.status.as_str(), c.id)
                            .org(c.org_id)
                            .before(old)
                            .after(new),
                    )
                    .await?;
                    let template = match new.status {
                        CredentialStatus::Expiring => {
                            r.expiring += 1;
                            Some(Template::CredentialExpiring)
                        }
                        CredentialStatus::Expired => {
                            r.expired += 1;
                            Some(Template::CredentialExpired)
                        }
                        _ => {
                            r.back_to_earned += 1;
                            None
                        }
                    };
                    if let (Some(t), Some(cert)) = (template, certs.get(&c.certification_id)) {
                        self.tell_holder(&txn, t, c, cert, new, now).await?;
                    }
                }
                Ok(r)
            }
            .await;
            report = finish(txn, outcome).await?;
        }
        report.earned = self.assess(&Actor::System("credential sweep"), Assessed::Pending).await?;
        Ok(report)
    }
}
