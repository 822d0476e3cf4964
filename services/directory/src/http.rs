//! The directory API: organisations, the service catalog, and the reference lists (regions,
//! industries, service categories).

use std::collections::BTreeMap;
use std::sync::Arc;

use kernel::agreement::{Applies, Basis, Beneficiary, Rule, TierRates};

use chrono::{DateTime, Utc};
use kernel::reference::{INDUSTRIES, Named, REGIONS, SERVICE_CATEGORIES};
use kernel::{Action, Resource};
use kernel::{Error, Rate};
use platform::api_types::CursorText;
use platform::api_types::{
    CategoryCode, CodeText, CreditCodeText, EmailText, IndustryCode, Line, OrgKindName, Para, PhoneText, RateText,
    RegionCode, SlugText, StakeText, TemplateCode, reference_codes,
};
use platform::http::{ApiResult, Caller, OperationPermit, page_request};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::{Example, MaybeUndefined};
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::app::{AgreementTemplate, Directory, OrgPatch, Organisation, Service, ServicePatch, TemplateDef};
use crate::domain::{MilestoneDef, OrgStatus, Profile, ServiceDef, ServiceStatus, Tier};
use crate::store::{OrgFilter, ServiceFilter};

/// What each operation of this API asks of the policy first (`platform::http::Gate`): a role
/// the policy does not allow the action at all gets its 403 before the request is validated.
pub const PERMITS: &[OperationPermit] = &[
    ("listOrganisations", Resource::Organisation, Action::Read),
    ("createOrganisation", Resource::Organisation, Action::Create),
    ("getOrganisation", Resource::Organisation, Action::Read),
    ("updateOrganisation", Resource::Organisation, Action::Update),
    ("listServices", Resource::Service, Action::Read),
    ("createService", Resource::Service, Action::Create),
    ("getService", Resource::Service, Action::Read),
    ("updateService", Resource::Service, Action::Update),
    ("listAgreementTemplates", Resource::AgreementTemplate, Action::Read),
    ("getAgreementTemplate", Resource::AgreementTemplate, Action::Read),
    ("putAgreementTemplate", Resource::AgreementTemplate, Action::Update),
];

#[derive(Tags)]
enum ApiTags {
    /// The vendor, direct teams, equity partners, subcontract partners and clients.
    Organisations,
    /// The services the park sells and delivers.
    Services,
    /// Regions, industries and service categories.
    Reference,
}

fn example_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "Tier")]
pub enum TierName {
    Registered,
    Silver,
    Gold,
    Platinum,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "OrgStatus")]
pub enum OrgStatusName {
    Active,
    Suspended,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "ServiceStatus")]
pub enum ServiceStatusName {
    Active,
    Retired,
}

platform::created!(OrganisationCreated, OrganisationView);
platform::created!(ServiceCreated, ServiceView);

/// An organisation of the park.
#[derive(Object, Debug)]
#[oai(example)]
pub struct OrganisationView {
    pub id: i64,
    pub kind: OrgKindName,
    pub name_zh: String,
    #[oai(nullable)]
    pub name_en: Option<String>,
    /// Unified social credit code (统一社会信用代码).
    #[oai(nullable)]
    pub credit_code: Option<String>,
    /// The vendor, for direct teams and equity partners.
    #[oai(nullable)]
    pub parent_id: Option<i64>,
    /// The vendor's stake in an equity partner, a fraction ("0.30").
    #[oai(nullable)]
    pub equity_stake: Option<StakeText>,
    /// Regions served (for a client: where it is).
    pub regions: Vec<String>,
    /// Industries served (for a client: its industry).
    pub industries: Vec<String>,
    /// Service categories offered.
    pub categories: Vec<String>,
    /// Maximum concurrent orders.
    #[oai(nullable)]
    pub capacity: Option<i32>,
    #[oai(nullable)]
    pub tier: Option<TierName>,
    pub status: OrgStatusName,
    #[oai(nullable)]
    pub contact_name: Option<String>,
    #[oai(nullable)]
    pub contact_phone: Option<String>,
    #[oai(nullable)]
    pub contact_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Example for OrganisationView {
    fn example() -> Self {
        OrganisationView {
            id: 5,
            kind: OrgKindName::EquityPartner,
            name_zh: "杭州云帆财税服务有限公司".into(),
            name_en: Some("Hangzhou Yunfan Tax Services".into()),
            credit_code: Some("91330106MA2H3K4L5P".into()),
            parent_id: Some(1),
            equity_stake: Some(StakeText("0.30".into())),
            regions: vec!["zhejiang".into()],
            industries: vec!["manufacturing".into(), "software".into()],
            categories: vec!["finance_tax".into(), "high_tech".into()],
            capacity: Some(12),
            tier: Some(TierName::Gold),
            status: OrgStatusName::Active,
            contact_name: Some("周海".into()),
            contact_phone: Some("+86 571 8800 1234".into()),
            contact_email: Some("contact@yunfan-tax.cn".into()),
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

impl From<Organisation> for OrganisationView {
    fn from(o: Organisation) -> Self {
        let p = o.profile;
        OrganisationView {
            id: o.id,
            kind: p.kind.into(),
            name_zh: p.name_zh,
            name_en: p.name_en,
            credit_code: p.credit_code,
            parent_id: p.parent_id,
            equity_stake: p.equity_stake.map(|r| StakeText(r.to_wire())),
            regions: p.regions,
            industries: p.industries,
            categories: p.categories,
            capacity: p.capacity,
            tier: p.tier.map(Into::into),
            status: p.status.into(),
            contact_name: p.contact_name,
            contact_phone: p.contact_phone,
            contact_email: p.contact_email,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

platform::page_of!(OrganisationPage, OrganisationView);

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct CreateOrganisationRequest {
    pub kind: OrgKindName,
    pub name_zh: Line<200>,
    #[oai(nullable)]
    pub name_en: Option<Line<200>>,
    #[oai(nullable)]
    pub credit_code: Option<CreditCodeText>,
    /// Direct teams and equity partners belong to the vendor; this defaults to it.
    #[oai(nullable)]
    pub parent_id: Option<i64>,
    /// Required for an equity partner: the vendor's stake, above 0 and below 0.50.
    #[oai(nullable)]
    pub equity_stake: Option<StakeText>,
    #[oai(default, validator(max_items = 34, unique_items))]
    pub regions: Vec<RegionCode>,
    #[oai(default, validator(max_items = 20, unique_items))]
    pub industries: Vec<IndustryCode>,
    #[oai(default, validator(max_items = 20, unique_items))]
    pub categories: Vec<CategoryCode>,
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "100000")))]
    pub capacity: Option<i32>,
    /// Partners start as `registered` unless stated.
    #[oai(nullable)]
    pub tier: Option<TierName>,
    #[oai(nullable)]
    pub contact_name: Option<Line<100>>,
    #[oai(nullable)]
    pub contact_phone: Option<PhoneText>,
    #[oai(nullable)]
    pub contact_email: Option<EmailText>,
}

impl Example for CreateOrganisationRequest {
    fn example() -> Self {
        CreateOrganisationRequest {
            kind: OrgKindName::SubcontractPartner,
            name_zh: "苏州精工 ERP 实施服务有限公司".into(),
            name_en: Some("Suzhou Jinggong ERP Services".into()),
            credit_code: None,
            parent_id: None,
            equity_stake: None,
            regions: vec!["jiangsu".into(), "shanghai".into()],
            industries: vec!["manufacturing".into()],
            categories: vec!["erp".into()],
            capacity: Some(6),
            tier: None,
            contact_name: Some("钱伟".into()),
            contact_phone: None,
            contact_email: Some("bd@jinggong-erp.cn".into()),
        }
    }
}

/// A field that may be left out (`None`), cleared (`Some(None)`) or set, its value checked.
fn maybe_checked<T, U>(
    m: MaybeUndefined<T>,
    check: impl FnOnce(T) -> Result<U, Error>,
) -> Result<Option<Option<U>>, Error> {
    Ok(match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(check(v)?)),
    })
}

fn maybe<T>(m: MaybeUndefined<T>) -> Option<Option<T>> {
    match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

impl TryFrom<CreateOrganisationRequest> for Profile {
    type Error = Error;

    fn try_from(b: CreateOrganisationRequest) -> Result<Self, Error> {
        Ok(Profile {
            kind: b.kind.into(),
            name_zh: b.name_zh.checked("name_zh")?,
            name_en: b.name_en.map(|n| n.checked("name_en")).transpose()?,
            credit_code: b.credit_code.map(|c| c.checked("credit_code").map(str::to_owned)).transpose()?,
            parent_id: b.parent_id,
            equity_stake: b.equity_stake.as_ref().map(|s| s.rate("equity_stake")).transpose()?,
            regions: reference_codes(&b.regions, "regions", RegionCode::checked)?,
            industries: reference_codes(&b.industries, "industries", IndustryCode::checked)?,
            categories: reference_codes(&b.categories, "categories", CategoryCode::checked)?,
            capacity: b.capacity,
            tier: b.tier.map(Into::into),
            status: OrgStatus::Active,
            contact_name: b.contact_name.map(|n| n.checked("contact_name")).transpose()?,
            contact_phone: b.contact_phone.map(|p| p.checked("contact_phone").map(str::to_owned)).transpose()?,
            contact_email: b.contact_email.map(|e| e.checked("contact_email").map(str::to_owned)).transpose()?,
        })
    }
}

/// Changes to an organisation: absent fields stay, `null` clears. Kind and parent never change.
#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct UpdateOrganisationRequest {
    #[oai(nullable)]
    pub name_zh: Option<Line<200>>,
    #[oai(nullable)]
    pub name_en: MaybeUndefined<Line<200>>,
    #[oai(nullable)]
    pub credit_code: MaybeUndefined<CreditCodeText>,
    #[oai(nullable)]
    pub equity_stake: MaybeUndefined<StakeText>,
    #[oai(nullable, validator(max_items = 34, unique_items))]
    pub regions: Option<Vec<RegionCode>>,
    #[oai(nullable, validator(max_items = 20, unique_items))]
    pub industries: Option<Vec<IndustryCode>>,
    #[oai(nullable, validator(max_items = 20, unique_items))]
    pub categories: Option<Vec<CategoryCode>>,
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "100000")))]
    pub capacity: MaybeUndefined<i32>,
    #[oai(nullable)]
    pub tier: Option<TierName>,
    /// `suspended` stops its users from signing in.
    #[oai(nullable)]
    pub status: Option<OrgStatusName>,
    #[oai(nullable)]
    pub contact_name: MaybeUndefined<Line<100>>,
    #[oai(nullable)]
    pub contact_phone: MaybeUndefined<PhoneText>,
    #[oai(nullable)]
    pub contact_email: MaybeUndefined<EmailText>,
}

impl Example for UpdateOrganisationRequest {
    fn example() -> Self {
        UpdateOrganisationRequest {
            name_zh: None,
            name_en: MaybeUndefined::Undefined,
            credit_code: MaybeUndefined::Undefined,
            equity_stake: MaybeUndefined::Undefined,
            regions: Some(vec!["jiangsu".into(), "shanghai".into(), "zhejiang".into()]),
            industries: None,
            categories: None,
            capacity: MaybeUndefined::Value(8),
            tier: None,
            status: None,
            contact_name: MaybeUndefined::Undefined,
            contact_phone: MaybeUndefined::Null,
            contact_email: MaybeUndefined::Undefined,
        }
    }
}

impl TryFrom<UpdateOrganisationRequest> for OrgPatch {
    type Error = Error;

    fn try_from(b: UpdateOrganisationRequest) -> Result<Self, Error> {
        Ok(OrgPatch {
            name_zh: b.name_zh.map(|n| n.checked("name_zh")).transpose()?,
            name_en: maybe_checked(b.name_en, |n| n.checked("name_en"))?,
            credit_code: maybe_checked(b.credit_code, |c| c.checked("credit_code").map(str::to_owned))?,
            equity_stake: maybe_checked(b.equity_stake, |s| s.rate("equity_stake"))?,
            regions: b.regions.map(|r| reference_codes(&r, "regions", RegionCode::checked)).transpose()?,
            industries: b.industries.map(|i| reference_codes(&i, "industries", IndustryCode::checked)).transpose()?,
            categories: b.categories.map(|c| reference_codes(&c, "categories", CategoryCode::checked)).transpose()?,
            capacity: maybe(b.capacity),
            tier: b.tier.map(Into::into),
            status: b.status.map(Into::into),
            contact_name: maybe_checked(b.contact_name, |n| n.checked("contact_name"))?,
            contact_phone: maybe_checked(b.contact_phone, |p| p.checked("contact_phone").map(str::to_owned))?,
            contact_email: maybe_checked(b.contact_email, |e| e.checked("contact_email").map(str::to_owned))?,
        })
    }
}

/// A default delivery milestone of a service.
#[derive(Object, Debug, Clone)]
#[oai(example, deny_unknown_fields)]
pub struct MilestoneDefView {
    /// a-z, 0-9 and '_'.
    pub code: SlugText,
    pub name_zh: Line<100>,
    pub name_en: Line<100>,
    /// Due this many days after the order starts; increasing from one milestone to the next.
    #[oai(validator(minimum(value = "1"), maximum(value = "1095")))]
    pub due_days: i32,
}

impl Example for MilestoneDefView {
    fn example() -> Self {
        MilestoneDefView {
            code: "go_live".into(), name_zh: "系统上线".into(), name_en: "Go-live".into(), due_days: 60
        }
    }
}

impl From<MilestoneDef> for MilestoneDefView {
    fn from(m: MilestoneDef) -> Self {
        MilestoneDefView {
            code: SlugText(m.code),
            name_zh: Line(m.name_zh),
            name_en: Line(m.name_en),
            due_days: m.due_days,
        }
    }
}

impl MilestoneDefView {
    /// The milestone, its texts checked.
    fn def(self) -> Result<MilestoneDef, Error> {
        Ok(MilestoneDef {
            code: self.code.checked("milestones")?.to_owned(),
            name_zh: self.name_zh.checked("milestones")?,
            name_en: self.name_en.checked("milestones")?,
            due_days: self.due_days,
        })
    }
}

fn milestone_defs(views: Vec<MilestoneDefView>) -> Result<Vec<MilestoneDef>, Error> {
    views.into_iter().map(MilestoneDefView::def).collect()
}

fn codes(items: &[CodeText], field: &str) -> Result<Vec<String>, Error> {
    items.iter().map(|c| c.code(field)).collect()
}

/// A service of the catalog.
#[derive(Object, Debug)]
#[oai(example)]
pub struct ServiceView {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub category: String,
    #[oai(nullable)]
    pub description: Option<String>,
    /// Certification codes an implementer must hold (valid) to deliver it.
    pub required_certifications: Vec<String>,
    /// The default delivery milestones (SOP) of its orders.
    pub milestones: Vec<MilestoneDefView>,
    #[oai(nullable)]
    pub agreement_template: Option<String>,
    pub status: ServiceStatusName,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Example for ServiceView {
    fn example() -> Self {
        ServiceView {
            id: 3,
            code: "ERP-IMPL".into(),
            name_zh: "ERP 系统实施".into(),
            name_en: "ERP implementation".into(),
            category: "erp".into(),
            description: Some("从需求调研到上线验收的全流程 ERP 实施。".into()),
            required_certifications: vec!["ERP-L2".into()],
            milestones: vec![MilestoneDefView::example()],
            agreement_template: Some("STANDARD".into()),
            status: ServiceStatusName::Active,
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

impl From<Service> for ServiceView {
    fn from(s: Service) -> Self {
        let d = s.def;
        ServiceView {
            id: s.id,
            code: d.code,
            name_zh: d.name_zh,
            name_en: d.name_en,
            category: d.category,
            description: d.description,
            required_certifications: d.required_certifications,
            milestones: d.milestones.into_iter().map(Into::into).collect(),
            agreement_template: d.agreement_template,
            status: d.status.into(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

platform::page_of!(ServicePage, ServiceView);

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct CreateServiceRequest {
    /// A-Z, 0-9, '-' and '_'.
    pub code: CodeText,
    pub name_zh: Line<200>,
    pub name_en: Line<200>,
    pub category: CategoryCode,
    #[oai(nullable)]
    pub description: Option<Para<4000>>,
    #[oai(default, validator(max_items = 20, unique_items))]
    pub required_certifications: Vec<CodeText>,
    #[oai(validator(min_items = 1, max_items = 20))]
    pub milestones: Vec<MilestoneDefView>,
    #[oai(nullable)]
    pub agreement_template: Option<TemplateCode>,
}

impl Example for CreateServiceRequest {
    fn example() -> Self {
        CreateServiceRequest {
            code: "ERP-IMPL".into(),
            name_zh: "ERP 系统实施".into(),
            name_en: "ERP implementation".into(),
            category: "erp".into(),
            description: None,
            required_certifications: vec!["ERP-L2".into()],
            milestones: vec![
                MilestoneDefView {
                    code: "kickoff".into(),
                    name_zh: "项目启动".into(),
                    name_en: "Kick-off".into(),
                    due_days: 7,
                },
                MilestoneDefView::example(),
            ],
            agreement_template: None,
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct UpdateServiceRequest {
    #[oai(nullable)]
    pub name_zh: Option<Line<200>>,
    #[oai(nullable)]
    pub name_en: Option<Line<200>>,
    #[oai(nullable)]
    pub category: Option<CategoryCode>,
    #[oai(nullable)]
    pub description: MaybeUndefined<Para<4000>>,
    #[oai(nullable, validator(max_items = 20, unique_items))]
    pub required_certifications: Option<Vec<CodeText>>,
    #[oai(nullable, validator(min_items = 1, max_items = 20))]
    pub milestones: Option<Vec<MilestoneDefView>>,
    #[oai(nullable)]
    pub agreement_template: MaybeUndefined<TemplateCode>,
    /// `retired`: no longer sold; existing orders continue.
    #[oai(nullable)]
    pub status: Option<ServiceStatusName>,
}

impl Example for UpdateServiceRequest {
    fn example() -> Self {
        UpdateServiceRequest {
            name_zh: None,
            name_en: None,
            category: None,
            description: MaybeUndefined::Undefined,
            required_certifications: Some(vec!["ERP-L2".into(), "PMP".into()]),
            milestones: None,
            agreement_template: MaybeUndefined::Undefined,
            status: None,
        }
    }
}

/// A code with its names.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct NamedView {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

impl Example for NamedView {
    fn example() -> Self {
        NamedView { code: "zhejiang".into(), name_zh: "浙江省".into(), name_en: "Zhejiang".into() }
    }
}

/// The reference lists.
#[derive(Object, Debug)]
#[oai(example)]
pub struct ReferenceView {
    pub regions: Vec<NamedView>,
    pub industries: Vec<NamedView>,
    pub service_categories: Vec<NamedView>,
}

impl Example for ReferenceView {
    fn example() -> Self {
        ReferenceView { regions: vec![NamedView::example()], industries: vec![], service_categories: vec![] }
    }
}

fn named(list: &[Named]) -> Vec<NamedView> {
    list.iter()
        .map(|n| NamedView { code: n.code.into(), name_zh: n.name_zh.into(), name_en: n.name_en.into() })
        .collect()
}

pub struct DirectoryApi {
    pub directory: Arc<Directory>,
}

// ---- agreement templates -----------------------------------------------------------------

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "Beneficiary")]
pub enum BeneficiaryName {
    Subcontractor,
    Signer,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "Applies")]
pub enum AppliesName {
    FirstYear,
    Maintenance,
    Any,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "Basis")]
pub enum BasisName {
    Gross,
    Remainder,
}

/// One rule of an agreement, applied in order; the vendor takes what the rules leave.
#[derive(Object, Debug, Clone)]
#[oai(example, deny_unknown_fields)]
pub struct AgreementRuleView {
    pub beneficiary: BeneficiaryName,
    /// The stream the rule applies to.
    pub stream: AppliesName,
    /// Only this contract line (its number); every line when absent.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "50")))]
    pub line_no: Option<i32>,
    /// `gross`: of what was paid on the line and stream; `remainder`: of what the rules
    /// before it left.
    pub basis: BasisName,
    /// The rate ("0.40"); absent for the subcontractor, whose terms are those of its award.
    #[oai(nullable)]
    pub rate: Option<RateText>,
    /// The share is held back until the line's order is accepted.
    #[oai(default)]
    pub held_until_acceptance: bool,
}

impl Example for AgreementRuleView {
    fn example() -> Self {
        AgreementRuleView {
            beneficiary: BeneficiaryName::Signer,
            stream: AppliesName::FirstYear,
            line_no: None,
            basis: BasisName::Remainder,
            rate: Some("0.40".into()),
            held_until_acceptance: false,
        }
    }
}

impl From<&Rule> for AgreementRuleView {
    fn from(r: &Rule) -> Self {
        AgreementRuleView {
            beneficiary: r.beneficiary.into(),
            stream: r.stream.into(),
            line_no: r.line_no,
            basis: r.basis.into(),
            rate: r.rate.map(|r| RateText(r.to_wire())),
            held_until_acceptance: r.held_until_acceptance,
        }
    }
}

fn parse_rate(field: &str, t: &Option<RateText>) -> Result<Option<Rate>, Error> {
    t.as_ref().map(|t| t.rate(field)).transpose()
}

pub fn rules_from(views: &[AgreementRuleView]) -> Result<Vec<Rule>, Error> {
    views
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Ok(Rule {
                beneficiary: v.beneficiary.into(),
                stream: v.stream.into(),
                line_no: v.line_no,
                basis: v.basis.into(),
                rate: parse_rate(&format!("rules[{i}].rate"), &v.rate)?,
                held_until_acceptance: v.held_until_acceptance,
            })
        })
        .collect()
}

/// A tier's overrides of the signer's rates.
#[derive(Object, Debug, Clone)]
#[oai(deny_unknown_fields)]
pub struct TierRatesView {
    #[oai(nullable)]
    pub first_year: Option<RateText>,
    #[oai(nullable)]
    pub maintenance: Option<RateText>,
}

/// A revenue-share agreement template. A contract stores the snapshot taken at signing (the
/// signer's tier applied); changing a template never alters signed contracts.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct AgreementTemplateView {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub rules: Vec<AgreementRuleView>,
    /// Overrides of the signer's rates by partner tier (`silver`, `gold`, `platinum`).
    pub tiers: BTreeMap<String, TierRatesView>,
    /// Raised by every change.
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl Example for AgreementTemplateView {
    fn example() -> Self {
        AgreementTemplate {
            code: "standard".into(),
            name_zh: "标准分成协议".into(),
            name_en: "Standard revenue-share agreement".into(),
            rules: kernel::agreement::standard_rules(),
            tiers: BTreeMap::from([(
                "gold".to_owned(),
                TierRates { first_year: None, maintenance: Rate::parse("0.25").ok() },
            )]),
            version: 1,
            updated_at: example_time(),
        }
        .into()
    }
}

impl From<AgreementTemplate> for AgreementTemplateView {
    fn from(t: AgreementTemplate) -> Self {
        AgreementTemplateView {
            code: t.code,
            name_zh: t.name_zh,
            name_en: t.name_en,
            rules: t.rules.iter().map(Into::into).collect(),
            tiers: t
                .tiers
                .into_iter()
                .map(|(k, v)| {
                    let text = |r: Option<Rate>| r.map(|r| RateText(r.to_wire()));
                    (k, TierRatesView { first_year: text(v.first_year), maintenance: text(v.maintenance) })
                })
                .collect(),
            version: t.version,
            updated_at: t.updated_at,
        }
    }
}

/// A template to create or replace.
#[derive(Object, Debug, Clone)]
#[oai(example, deny_unknown_fields)]
pub struct PutAgreementTemplateRequest {
    pub name_zh: Line<200>,
    pub name_en: Line<200>,
    #[oai(validator(min_items = 1, max_items = 20))]
    pub rules: Vec<AgreementRuleView>,
    #[oai(default)]
    pub tiers: BTreeMap<String, TierRatesView>,
}

impl Example for PutAgreementTemplateRequest {
    fn example() -> Self {
        let t = AgreementTemplateView::example();
        PutAgreementTemplateRequest {
            name_zh: Line(t.name_zh),
            name_en: Line(t.name_en),
            rules: t.rules,
            tiers: t.tiers,
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct AgreementTemplateList {
    pub items: Vec<AgreementTemplateView>,
}

impl Example for AgreementTemplateList {
    fn example() -> Self {
        AgreementTemplateList { items: vec![AgreementTemplateView::example()] }
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl DirectoryApi {
    /// List organisations
    ///
    /// The platform admin, vendor ops and vendor finance see every organisation; everyone else
    /// sees their own.
    #[oai(path = "/organisations", method = "get", operation_id = "listOrganisations", tag = "ApiTags::Organisations")]
    #[allow(clippy::too_many_arguments)]
    async fn list_orgs(
        &self,
        auth: Caller,
        kind: Query<Option<OrgKindName>>,
        status: Query<Option<OrgStatusName>>,
        /// A region served.
        region: Query<Option<String>>,
        /// A service category offered.
        category: Query<Option<String>>,
        /// Part of the Chinese or English name.
        q: Query<Option<String>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<OrganisationPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = OrgFilter {
            kind: kind.0.map(Into::into),
            status: status.0.map(|s| OrgStatus::from(s).as_str().to_owned()),
            region: region.0,
            category: category.0,
            query: q.0,
        };
        let orgs = self.directory.list_orgs(&auth.0, &filter, &page).await?;
        Ok(Json(OrganisationPage::from_page(orgs, OrganisationView::from)))
    }

    /// Create an organisation
    ///
    /// The rules of each kind apply: an equity partner needs the vendor's stake (above 0, below
    /// 50%); a subcontract partner names the categories it offers and its capacity; a client
    /// has one region and one industry.
    #[oai(
        path = "/organisations",
        method = "post",
        operation_id = "createOrganisation",
        tag = "ApiTags::Organisations"
    )]
    async fn create_org(&self, auth: Caller, body: Json<CreateOrganisationRequest>) -> ApiResult<OrganisationCreated> {
        let profile = Profile::try_from(body.0)?;
        let view = OrganisationView::from(self.directory.create_org(&auth.0, profile).await?);
        let location = format!("/api/v1/organisations/{}", view.id);
        Ok(OrganisationCreated::at(view, location))
    }

    /// Read an organisation
    #[oai(
        path = "/organisations/:id",
        method = "get",
        operation_id = "getOrganisation",
        tag = "ApiTags::Organisations"
    )]
    async fn get_org(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<OrganisationView>> {
        Ok(Json(self.directory.get_org(&auth.0, id.0).await?.into()))
    }

    /// Update an organisation
    ///
    /// Suspending an organisation stops its users from signing in. Every change is audited
    /// with the profile before and after.
    #[oai(
        path = "/organisations/:id",
        method = "patch",
        operation_id = "updateOrganisation",
        tag = "ApiTags::Organisations"
    )]
    async fn update_org(
        &self,
        auth: Caller,
        id: Path<i64>,
        body: Json<UpdateOrganisationRequest>,
    ) -> ApiResult<Json<OrganisationView>> {
        let patch = OrgPatch::try_from(body.0)?;
        Ok(Json(self.directory.update_org(&auth.0, id.0, patch).await?.into()))
    }

    /// List services
    #[oai(path = "/services", method = "get", operation_id = "listServices", tag = "ApiTags::Services")]
    async fn list_services(
        &self,
        auth: Caller,
        category: Query<Option<String>>,
        status: Query<Option<ServiceStatusName>>,
        /// Part of the code or name.
        q: Query<Option<String>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<ServicePage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = ServiceFilter {
            category: category.0,
            status: status.0.map(|s| ServiceStatus::from(s).as_str().to_owned()),
            query: q.0,
        };
        let services = self.directory.list_services(&auth.0, &filter, &page).await?;
        Ok(Json(ServicePage::from_page(services, ServiceView::from)))
    }

    /// Create a service
    #[oai(path = "/services", method = "post", operation_id = "createService", tag = "ApiTags::Services")]
    async fn create_service(&self, auth: Caller, body: Json<CreateServiceRequest>) -> ApiResult<ServiceCreated> {
        let b = body.0;
        let def = ServiceDef {
            code: b.code.code("code")?,
            name_zh: b.name_zh.checked("name_zh")?,
            name_en: b.name_en.checked("name_en")?,
            category: b.category.checked("category")?,
            description: b.description.map(|d| d.checked("description")).transpose()?,
            required_certifications: codes(&b.required_certifications, "required_certifications")?,
            milestones: milestone_defs(b.milestones)?,
            agreement_template: b.agreement_template.map(|t| t.code("agreement_template")).transpose()?,
            status: ServiceStatus::Active,
        };
        let view = ServiceView::from(self.directory.create_service(&auth.0, def).await?);
        let location = format!("/api/v1/services/{}", view.id);
        Ok(ServiceCreated::at(view, location))
    }

    /// Read a service
    #[oai(path = "/services/:id", method = "get", operation_id = "getService", tag = "ApiTags::Services")]
    async fn get_service(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<ServiceView>> {
        Ok(Json(self.directory.get_service(&auth.0, id.0).await?.into()))
    }

    /// Update a service
    ///
    /// Changing milestones affects orders created afterwards; existing orders keep theirs.
    #[oai(path = "/services/:id", method = "patch", operation_id = "updateService", tag = "ApiTags::Services")]
    async fn update_service(
        &self,
        auth: Caller,
        id: Path<i64>,
        body: Json<UpdateServiceRequest>,
    ) -> ApiResult<Json<ServiceView>> {
        let b = body.0;
        let patch = ServicePatch {
            name_zh: b.name_zh.map(|n| n.checked("name_zh")).transpose()?,
            name_en: b.name_en.map(|n| n.checked("name_en")).transpose()?,
            category: b.category.map(|c| c.checked("category")).transpose()?,
            description: maybe_checked(b.description, |d| d.checked("description"))?,
            required_certifications: b
                .required_certifications
                .map(|c| codes(&c, "required_certifications"))
                .transpose()?,
            milestones: b.milestones.map(milestone_defs).transpose()?,
            agreement_template: maybe_checked(b.agreement_template, |t| t.code("agreement_template"))?,
            status: b.status.map(Into::into),
        };
        Ok(Json(self.directory.update_service(&auth.0, id.0, patch).await?.into()))
    }

    /// List agreement templates
    ///
    /// The revenue-share templates contracts are signed under (vendor roles and the platform
    /// admin).
    #[oai(
        path = "/agreement-templates",
        method = "get",
        operation_id = "listAgreementTemplates",
        tag = "ApiTags::Services"
    )]
    async fn list_templates(&self, auth: Caller) -> ApiResult<Json<AgreementTemplateList>> {
        let items = self.directory.list_agreement_templates(&auth.0).await?;
        Ok(Json(AgreementTemplateList { items: items.into_iter().map(Into::into).collect() }))
    }

    /// Read an agreement template
    #[oai(
        path = "/agreement-templates/:code",
        method = "get",
        operation_id = "getAgreementTemplate",
        tag = "ApiTags::Services"
    )]
    async fn get_template(&self, auth: Caller, code: Path<TemplateCode>) -> ApiResult<Json<AgreementTemplateView>> {
        Ok(Json(self.directory.get_agreement_template(&auth.0, &code.0.code("code")?).await?.into()))
    }

    /// Create or replace an agreement template
    ///
    /// Each change is a new version; contracts keep the snapshot they were signed with. Rules
    /// whose rates could ever share out more than 100 % of a stream are refused with 422
    /// `agreement_exceeds_100_percent` naming the stream (a tier's rates included).
    #[oai(
        path = "/agreement-templates/:code",
        method = "put",
        operation_id = "putAgreementTemplate",
        tag = "ApiTags::Services"
    )]
    async fn put_template(
        &self,
        auth: Caller,
        code: Path<TemplateCode>,
        body: Json<PutAgreementTemplateRequest>,
    ) -> ApiResult<Json<AgreementTemplateView>> {
        let b = body.0;
        let mut tiers = BTreeMap::new();
        for (tier, v) in &b.tiers {
            tiers.insert(
                tier.clone(),
                TierRates {
                    first_year: parse_rate(&format!("tiers.{tier}.first_year"), &v.first_year)?,
                    maintenance: parse_rate(&format!("tiers.{tier}.maintenance"), &v.maintenance)?,
                },
            );
        }
        let def = TemplateDef {
            name_zh: b.name_zh.checked("name_zh")?,
            name_en: b.name_en.checked("name_en")?,
            rules: rules_from(&b.rules)?,
            tiers,
        };
        Ok(Json(self.directory.put_agreement_template(&auth.0, &code.0.code("code")?, def).await?.into()))
    }

    /// Reference lists
    ///
    /// Regions (provincial-level divisions), industries and service categories with their
    /// codes and names. Public.
    #[oai(path = "/reference", method = "get", operation_id = "getReference", tag = "ApiTags::Reference")]
    async fn reference(&self) -> Json<ReferenceView> {
        Json(ReferenceView {
            regions: named(REGIONS),
            industries: named(INDUSTRIES),
            service_categories: named(SERVICE_CATEGORIES),
        })
    }
}
