//! The directory's use cases: organisations of every kind and the service catalog, each change
//! audited in its own transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use kernel::agreement::{Rule, TierRates};

use kernel::{Action, Clock, Error, OrgKind, Page, PageRequest, Rate, Resource};
use platform::audit::{self, Change};
use platform::json::{from_column, to_column};
use platform::{Actor, AppError, AppResult, Db, Owner, Permit, PolicyTable, Principal, finish};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

use crate::domain::{self, MilestoneDef, OrgStatus, Profile, ServiceDef, ServiceStatus, Tier};
use crate::store::{self, OrgFilter, ServiceFilter, agreement_template, organisation, service};

/// An organisation as the directory knows it.
#[derive(Debug, Clone)]
pub struct Organisation {
    pub id: i64,
    pub profile: Profile,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Organisation {
    pub fn owner(&self) -> Owner {
        Owner { org_id: self.id, org_kind: self.profile.kind, org_parent_id: self.profile.parent_id, user_id: None }
    }
}

/// A service of the catalog.
#[derive(Debug, Clone)]
pub struct Service {
    pub id: i64,
    pub def: ServiceDef,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Changes to an organisation. The outer Option: leave as is; the inner: clear.
#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub name_zh: Option<String>,
    pub name_en: Option<Option<String>>,
    pub credit_code: Option<Option<String>>,
    pub equity_stake: Option<Option<Rate>>,
    pub regions: Option<Vec<String>>,
    pub industries: Option<Vec<String>>,
    pub categories: Option<Vec<String>>,
    pub capacity: Option<Option<i32>>,
    pub tier: Option<Tier>,
    pub status: Option<OrgStatus>,
    pub contact_name: Option<Option<String>>,
    pub contact_phone: Option<Option<String>>,
    pub contact_email: Option<Option<String>>,
}

/// Changes to a service; None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ServicePatch {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub category: Option<String>,
    pub description: Option<Option<String>>,
    pub required_certifications: Option<Vec<String>>,
    pub milestones: Option<Vec<MilestoneDef>>,
    pub agreement_template: Option<Option<String>>,
    pub status: Option<ServiceStatus>,
}

pub fn organisation_from(m: organisation::Model) -> AppResult<Organisation> {
    let kind: OrgKind =
        m.kind.parse().map_err(|_| Error::unexpected(format!("unknown organisation kind {}", m.kind)))?;
    let profile = Profile {
        kind,
        name_zh: m.name_zh,
        name_en: m.name_en,
        credit_code: m.credit_code,
        parent_id: m.parent_id,
        equity_stake: m.equity_stake_bp.map(Rate::from_bp).transpose()?,
        regions: from_column("regions", &m.regions)?,
        industries: from_column("industries", &m.industries)?,
        categories: from_column("categories", &m.categories)?,
        capacity: m.capacity,
        tier: m
            .tier
            .as_deref()
            .map(|t| t.parse().map_err(|_| Error::unexpected(format!("unknown tier {t}"))))
            .transpose()?,
        status: m.status.parse().map_err(|_| Error::unexpected(format!("unknown status {}", m.status)))?,
        contact_name: m.contact_name,
        contact_phone: m.contact_phone,
        contact_email: m.contact_email,
    };
    Ok(Organisation { id: m.id, profile, created_at: m.created_at, updated_at: m.updated_at })
}

fn write_profile(am: &mut organisation::ActiveModel, p: &Profile) -> AppResult<()> {
    am.kind = Set(p.kind.as_str().to_owned());
    am.name_zh = Set(p.name_zh.clone());
    am.name_en = Set(p.name_en.clone());
    am.credit_code = Set(p.credit_code.clone());
    am.parent_id = Set(p.parent_id);
    am.equity_stake_bp = Set(p.equity_stake.map(Rate::to_bp));
    am.regions = Set(to_column(&p.regions)?);
    am.industries = Set(to_column(&p.industries)?);
    am.categories = Set(to_column(&p.categories)?);
    am.capacity = Set(p.capacity);
    am.tier = Set(p.tier.map(|t| t.as_str().to_owned()));
    am.status = Set(p.status.as_str().to_owned());
    am.contact_name = Set(p.contact_name.clone());
    am.contact_phone = Set(p.contact_phone.clone());
    am.contact_email = Set(p.contact_email.clone());
    Ok(())
}

pub fn service_from(m: service::Model) -> AppResult<Service> {
    let def = ServiceDef {
        code: m.code,
        name_zh: m.name_zh,
        name_en: m.name_en,
        category: m.category,
        description: m.description,
        required_certifications: from_column("required_certifications", &m.required_certifications)?,
        milestones: from_column("milestones", &m.milestones)?,
        agreement_template: m.agreement_template,
        status: m.status.parse().map_err(|_| Error::unexpected(format!("unknown service status {}", m.status)))?,
    };
    Ok(Service { id: m.id, def, created_at: m.created_at, updated_at: m.updated_at })
}

fn write_service(am: &mut service::ActiveModel, d: &ServiceDef) -> AppResult<()> {
    am.code = Set(d.code.clone());
    am.name_zh = Set(d.name_zh.clone());
    am.name_en = Set(d.name_en.clone());
    am.category = Set(d.category.clone());
    am.description = Set(d.description.clone());
    am.required_certifications = Set(to_column(&d.required_certifications)?);
    am.milestones = Set(to_column(&d.milestones)?);
    am.agreement_template = Set(d.agreement_template.clone());
    am.status = Set(d.status.as_str().to_owned());
    Ok(())
}

fn unique_violation(e: sea_orm::DbErr, code: &'static str, message: String) -> AppError {
    if platform::db::is_unique_violation(&e) { AppError(Error::conflict(code, message)) } else { e.into() }
}

pub struct Directory {
    db: Db,
    policy: Arc<PolicyTable>,
    clock: Arc<dyn Clock>,
}

impl Directory {
    pub fn new(db: Db, policy: Arc<PolicyTable>, clock: Arc<dyn Clock>) -> Self {
        Directory { db, policy, clock }
    }

    // ---- organisations --------------------------------------------------------------------

    pub async fn list_orgs(
        &self,
        caller: &Principal,
        filter: &OrgFilter,
        page: &PageRequest,
    ) -> AppResult<Page<Organisation>> {
        let permit = self.policy.permit(caller, Resource::Organisation, Action::Read)?;
        let rows = store::list_orgs(self.db.read(), &permit.scope(Some(caller)), filter, page).await?;
        let mut items = Vec::with_capacity(rows.items.len());
        for m in rows.items {
            items.push(organisation_from(m)?);
        }
        Ok(Page { items, next: rows.next })
    }

    pub async fn get_org(&self, caller: &Principal, id: i64) -> AppResult<Organisation> {
        let permit = self.policy.permit(caller, Resource::Organisation, Action::Read)?;
        let m = store::org_in_scope(self.db.read(), &permit.scope(Some(caller)), id)
            .await?
            .ok_or_else(|| Error::not_found("organisation", id))?;
        organisation_from(m)
    }

    /// Any organisation, for other areas' use cases (they do their own authorization).
    pub async fn org_in<C: ConnectionTrait>(&self, conn: &C, id: i64) -> AppResult<Option<Organisation>> {
        store::org_in_scope(conn, &platform::Scope::All, id).await?.map(organisation_from).transpose()
    }

    pub async fn create_org(&self, caller: &Principal, profile: Profile) -> AppResult<Organisation> {
        let permit = self.policy.permit(caller, Resource::Organisation, Action::Create)?;
        self.create_org_as(&Actor::of(caller), &permit, profile).await
    }

    /// Creates an organisation as the machine's operator (seed, CLI).
    pub async fn create_org_system(&self, who: &'static str, profile: Profile) -> AppResult<Organisation> {
        self.create_org_as(&Actor::System(who), &Permit::system(Resource::Organisation, Action::Create), profile).await
    }

    async fn create_org_as(&self, actor: &Actor, _permit: &Permit, profile: Profile) -> AppResult<Organisation> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Organisation> = async {
            let vendor = store::vendor(&txn).await?;
            if profile.kind == OrgKind::Vendor && vendor.is_some() {
                return Err(Error::conflict("vendor_exists", "the park already has its vendor").into());
            }
            let profile = domain::validate(profile, vendor.map(|v| v.id))?;
            let mut am = organisation::ActiveModel { created_at: Set(now), updated_at: Set(now), ..Default::default() };
            write_profile(&mut am, &profile)?;
            let m = am.insert(&txn).await.map_err(|e| {
                unique_violation(
                    e,
                    "credit_code_taken",
                    "another organisation has this unified social credit code".into(),
                )
            })?;
            let org = organisation_from(m)?;
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::Organisation, "created", org.id).org(org.id).after(&org.profile),
            )
            .await?;
            Ok(org)
        }
        .await;
        finish(txn, outcome).await
    }

    pub async fn update_org(&self, caller: &Principal, id: i64, patch: OrgPatch) -> AppResult<Organisation> {
        let read = self.policy.permit(caller, Resource::Organisation, Action::Read)?;
        let permit = self.policy.permit(caller, Resource::Organisation, Action::Update)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Organisation> = async {
            let before = store::org_in_scope(&txn, &read.scope(Some(caller)), id)
                .await?
                .ok_or_else(|| Error::not_found("organisation", id))?;
            let before = organisation_from(before)?;
            permit.admit(Some(caller), &before.owner())?;
            let mut p = before.profile.clone();
            if let Some(v) = patch.name_zh.clone() {
                p.name_zh = v;
            }
            if let Some(v) = patch.name_en.clone() {
                p.name_en = v;
            }
            if let Some(v) = patch.credit_code.clone() {
                p.credit_code = v;
            }
            if let Some(v) = patch.equity_stake {
                p.equity_stake = v;
            }
            if let Some(v) = patch.regions.clone() {
                p.regions = v;
            }
            if let Some(v) = patch.industries.clone() {
                p.industries = v;
            }
            if let Some(v) = patch.categories.clone() {
                p.categories = v;
            }
            if let Some(v) = patch.capacity {
                p.capacity = v;
            }
            if let Some(v) = patch.tier {
                p.tier = Some(v);
            }
            if let Some(v) = patch.status {
                p.status = v;
            }
            if let Some(v) = patch.contact_name.clone() {
                p.contact_name = v;
            }
            if let Some(v) = patch.contact_phone.clone() {
                p.contact_phone = v;
            }
            if let Some(v) = patch.contact_email.clone() {
                p.contact_email = v;
            }
            if p.kind == OrgKind::Vendor && p.status == OrgStatus::Suspended {
                return Err(Error::invalid("status", "the vendor cannot be suspended").into());
            }
            let vendor_id = store::vendor(&txn).await?.map(|v| v.id);
            let p = domain::validate(p, vendor_id)?;
            let mut am: organisation::ActiveModel =
                organisation::ActiveModel { id: sea_orm::ActiveValue::Unchanged(id), ..Default::default() };
            write_profile(&mut am, &p)?;
            am.updated_at = Set(now);
            let m = am.update(&txn).await.map_err(|e| {
                unique_violation(
                    e,
                    "credit_code_taken",
                    "another organisation has this unified social credit code".into(),
                )
            })?;
            let after = organisation_from(m)?;
            let verb = if before.profile.status != after.profile.status { "status_changed" } else { "updated" };
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Organisation, verb, id).org(id).before(&before.profile).after(&after.profile),
            )
            .await?;
            Ok(after)
        }
        .await;
        finish(txn, outcome).await
    }

    /// The park's vendor, if it has one.
    pub async fn vendor(&self) -> AppResult<Option<Organisation>> {
        store::vendor(self.db.read()).await?.map(organisation_from).transpose()
    }

    /// True when the database holds no organisation at all (a fresh park).
    pub async fn is_empty(&self) -> AppResult<bool> {
        Ok(store::org_count(self.db.read()).await? == 0)
    }

    // ---- the service catalog --------------------------------------------------------------

    pub async fn list_services(
        &self,
        caller: &Principal,
        filter: &ServiceFilter,
        page: &PageRequest,
    ) -> AppResult<Page<Service>> {
        let _permit = self.policy.permit(caller, Resource::Service, Action::Read)?;
        let rows = store::list_services(self.db.read(), filter, page).await?;
        let mut items = Vec::with_capacity(rows.items.len());
        for m in rows.items {
            items.push(service_from(m)?);
        }
        Ok(Page { items, next: rows.next })
    }

    pub async fn get_service(&self, caller: &Principal, id: i64) -> AppResult<Service> {
        let _permit = self.policy.permit(caller, Resource::Service, Action::Read)?;
        service_from(store::service_by_id(self.db.read(), id).await?.ok_or_else(|| Error::not_found("service", id))?)
    }

    pub async fn service_by_code(&self, code: &str) -> AppResult<Option<Service>> {
        store::service_by_code(self.db.read(), code).await?.map(service_from).transpose()
    }

    pub async fn create_service(&self, caller: &Principal, def: ServiceDef) -> AppResult<Service> {
        let permit = self.policy.permit(caller, Resource::Service, Action::Create)?;
        self.create_service_as(&Actor::of(caller), &permit, def).await
    }

    pub async fn create_service_system(&self, who: &'static str, def: ServiceDef) -> AppResult<Service> {
        self.create_service_as(&Actor::System(who), &Permit::system(Resource::Service, Action::Create), def).await
    }

    async fn create_service_as(&self, actor: &Actor, _permit: &Permit, def: ServiceDef) -> AppResult<Service> {
        let def = domain::validate_service(def)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Service> = async {
            check_certifications(&txn, &def.required_certifications).await?;
            let mut am = service::ActiveModel { created_at: Set(now), updated_at: Set(now), ..Default::default() };
            write_service(&mut am, &def)?;
            let m = am.insert(&txn).await.map_err(|e| {
                unique_violation(e, "code_taken", format!("a service with code {} already exists", def.code))
            })?;
            let s = service_from(m)?;
            audit::record_in(&txn, actor, now, Change::new(Resource::Service, "created", s.id).after(&s.def)).await?;
            Ok(s)
        }
        .await;
        finish(txn, outcome).await
    }

    pub async fn update_service(&self, caller: &Principal, id: i64, patch: ServicePatch) -> AppResult<Service> {
        let _permit = self.policy.permit(caller, Resource::Service, Action::Update)?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<Service> = async {
            let before =
                service_from(store::service_by_id(&txn, id).await?.ok_or_else(|| Error::not_found("service", id))?)?;
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
            if let Some(v) = patch.required_certifications.clone() {
                d.required_certifications = v;
            }
            if let Some(v) = patch.milestones.clone() {
                d.milestones = v;
            }
            if let Some(v) = patch.agreement_template.clone() {
                d.agreement_template = v;
            }
            if let Some(v) = patch.status {
                d.status = v;
            }
            let d = domain::validate_service(d)?;
            check_certifications(&txn, &d.required_certifications).await?;
            let mut am = service::ActiveModel { id: sea_orm::ActiveValue::Unchanged(id), ..Default::default() };
            write_service(&mut am, &d)?;
            am.updated_at = Set(now);
            let after = service_from(am.update(&txn).await?)?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::Service, "updated", id).before(&before.def).after(&after.def),
            )
            .await?;
            Ok(after)
        }
        .await;
        finish(txn, outcome).await
    }
}

async fn check_certifications<C: ConnectionTrait>(conn: &C, codes: &[String]) -> AppResult<()> {
    let unknown = store::unknown_certifications(conn, codes).await?;
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(
            "required_certifications",
            format!("not in the certification catalog: {}", unknown.join(", ")),
        )
        .into())
    }
}

/// An agreement template of the catalog.
#[derive(Debug, Clone)]
pub struct AgreementTemplate {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub rules: Vec<Rule>,
    pub tiers: BTreeMap<String, TierRates>,
    pub version: i32,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A template as written by the platform admin.
#[derive(Debug, Clone)]
pub struct TemplateDef {
    pub name_zh: String,
    pub name_en: String,
    pub rules: Vec<Rule>,
    pub tiers: BTreeMap<String, TierRates>,
}

pub fn template_from(m: agreement_template::Model) -> AppResult<AgreementTemplate> {
    Ok(AgreementTemplate {
        code: m.code,
        name_zh: m.name_zh,
        name_en: m.name_en,
        rules: from_column("agreement_templates.rules", &m.rules)?,
        tiers: from_column("agreement_templates.tiers", &m.tiers)?,
        version: m.version,
        updated_at: m.updated_at,
    })
}

/// The template a contract is signed under: the catalog's, or the built-in standard agreement
/// of DESIGN §5 while the catalog has no `standard` row.
pub async fn template_for_signing<C: ConnectionTrait>(conn: &C, code: &str) -> AppResult<Option<AgreementTemplate>> {
    match store::agreement_template_by_code(conn, code).await? {
        Some(m) => Ok(Some(template_from(m)?)),
        None if code == "standard" => Ok(Some(AgreementTemplate {
            code: "standard".into(),
            name_zh: "标准分成协议".into(),
            name_en: "Standard revenue-share agreement".into(),
            rules: kernel::agreement::standard_rules(),
            tiers: BTreeMap::new(),
            version: 0,
            updated_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        })),
        None => Ok(None),
    }
}

impl Directory {
    pub async fn list_agreement_templates(&self, caller: &Principal) -> AppResult<Vec<AgreementTemplate>> {
        let _permit = self.policy.permit(caller, Resource::AgreementTemplate, Action::Read)?;
        store::agreement_templates(self.db.read()).await?.into_iter().map(template_from).collect()
    }

    pub async fn get_agreement_template(&self, caller: &Principal, code: &str) -> AppResult<AgreementTemplate> {
        let _permit = self.policy.permit(caller, Resource::AgreementTemplate, Action::Read)?;
        let code = kernel::agreement::template_code("code", code)?;
        template_for_signing(self.db.read(), &code)
            .await?
            .ok_or_else(|| Error::not_found("agreement template", &code).into())
    }

    /// Creates or replaces a template (a new version). Contracts keep the snapshot they were
    /// signed with; only contracts signed afterwards use the new version.
    pub async fn put_agreement_template(
        &self,
        caller: &Principal,
        code: &str,
        def: TemplateDef,
    ) -> AppResult<AgreementTemplate> {
        let _permit = self.policy.permit(caller, Resource::AgreementTemplate, Action::Update)?;
        self.put_agreement_template_as(&Actor::of(caller), code, def).await
    }

    pub async fn put_agreement_template_system(
        &self,
        who: &'static str,
        code: &str,
        def: TemplateDef,
    ) -> AppResult<AgreementTemplate> {
        self.put_agreement_template_as(&Actor::System(who), code, def).await
    }

    async fn put_agreement_template_as(
        &self,
        actor: &Actor,
        code: &str,
        def: TemplateDef,
    ) -> AppResult<AgreementTemplate> {
        let code = kernel::agreement::template_code("code", code)?;
        let name_zh = kernel::text::required_text("name_zh", &def.name_zh, 200)?;
        let name_en = kernel::text::required_text("name_en", &def.name_en, 200)?;
        kernel::agreement::validate_rules(&def.rules)?;
        for (tier, rates) in &def.tiers {
            tier.parse::<Tier>().map_err(|_| Error::invalid("tiers", format!("no tier {tier}")))?;
            // The tier's rates must keep the agreement within 100 % too.
            let raised =
                kernel::agreement::snapshot(&code, 0, &def.rules, &def.tiers, OrgKind::EquityPartner, Some(tier));
            kernel::agreement::validate_rules(&raised.rules)?;
            let _ = rates;
        }
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<AgreementTemplate> = async {
            let before = store::agreement_template_by_code(&txn, &code).await?;
            let rules = to_column(&def.rules)?;
            let tiers = to_column(&def.tiers)?;
            let m = match &before {
                Some(b) => {
                    let mut am: agreement_template::ActiveModel = b.clone().into();
                    am.name_zh = Set(name_zh.clone());
                    am.name_en = Set(name_en.clone());
                    am.rules = Set(rules);
                    am.tiers = Set(tiers);
                    am.version = Set(b.version + 1);
                    am.updated_by = Set(actor.user_id());
                    am.updated_at = Set(now);
                    am.update(&txn).await?
                }
                None => {
                    agreement_template::ActiveModel {
                        id: Default::default(),
                        code: Set(code.clone()),
                        name_zh: Set(name_zh.clone()),
                        name_en: Set(name_en.clone()),
                        rules: Set(rules),
                        tiers: Set(tiers),
                        version: Set(1),
                        updated_by: Set(actor.user_id()),
                        created_at: Set(now),
                        updated_at: Set(now),
                    }
                    .insert(&txn)
                    .await?
                }
            };
            let mut change = Change::new(
                Resource::AgreementTemplate,
                if before.is_some() { "updated" } else { "created" },
                m.id,
            )
            .after(&serde_json::json!({ "code": m.code, "version": m.version, "rules": m.rules, "tiers": m.tiers }));
            if let Some(b) = &before {
                change = change.before(
                    &serde_json::json!({ "code": b.code, "version": b.version, "rules": b.rules, "tiers": b.tiers }),
                );
            }
            audit::record_in(&txn, actor, now, change).await?;
            template_from(m)
        }
        .await;
        finish(txn, outcome).await
    }
}
