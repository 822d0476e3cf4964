//! The marketplace API: contracts, orders, the subcontract pool, delivery and ratings.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kernel::{Action, Resource};
use kernel::{Error, Fen, Rate};
use platform::api_types::CursorText;
use platform::api_types::{
    Amount, CodeText, DecimalText, Line, OrgKindName, Para, PositiveAmount, RateText, RegionCode, ShareText, StarsText,
    TemplateCode,
};
use platform::http::{ApiResult, Caller, OperationPermit, page_request};
use platform::idempotency::IdempotencyKey;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::{Any, Example};
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::app::{
    ContractDetails, Marketplace, NewBid, NewContract, NewSubcontract, OrderDetails, PoolItem, QualityReport,
    Recommendations, Resolution,
};
use crate::domain::{self, Mode, OrderStatus, Reason, Stars, Terms};
use crate::store::{ContractFilter, OrderFilter, PoolFilter, bid, milestone, order};

/// What each operation of this API asks of the policy first (`platform::http::Gate`): a role
/// the policy does not allow the action at all gets its 403 before the request is validated.
pub const PERMITS: &[OperationPermit] = &[
    ("createContract", Resource::Contract, Action::Create),
    ("listContracts", Resource::Contract, Action::Read),
    ("getContract", Resource::Contract, Action::Read),
    ("listOrders", Resource::Order, Action::Read),
    ("getOrder", Resource::Order, Action::Read),
    ("getRecommendations", Resource::Order, Action::Dispatch),
    ("dispatchOrder", Resource::Order, Action::Dispatch),
    ("subcontractOrder", Resource::Order, Action::Dispatch),
    ("cancelOrder", Resource::Order, Action::Dispatch),
    ("assignImplementers", Resource::Order, Action::Assign),
    ("completeMilestone", Resource::Order, Action::Complete),
    ("deliverOrder", Resource::Order, Action::Deliver),
    ("acceptOrder", Resource::Order, Action::Accept),
    ("disputeOrder", Resource::Order, Action::Accept),
    ("resolveDispute", Resource::Order, Action::Resolve),
    ("listOverdueMilestones", Resource::Order, Action::Dispatch),
    ("listSubcontracts", Resource::Subcontract, Action::Read),
    ("getSubcontract", Resource::Subcontract, Action::Read),
    ("claimSubcontract", Resource::Subcontract, Action::Claim),
    ("submitBid", Resource::Subcontract, Action::Claim),
    ("awardSubcontract", Resource::Subcontract, Action::Award),
    ("rateOrder", Resource::Order, Action::Rate),
    ("editRating", Resource::Order, Action::Rate),
    ("replyToRating", Resource::Rating, Action::Reply),
    ("getQuality", Resource::Rating, Action::Read),
];

#[derive(Tags)]
enum ApiTags {
    /// Signed contracts with clients; each line becomes an order.
    Contracts,
    /// Orders: dispatch, delivery, acceptance.
    Orders,
    /// The subcontract pool: claims and tenders.
    Subcontracts,
    /// Ratings and quality scores.
    Ratings,
}

fn example_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

fn example_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

fn yuan(fen: i64) -> DecimalText {
    DecimalText(Fen::new(fen).to_yuan())
}

fn terms(
    share: Option<&ShareText>,
    fee: Option<&PositiveAmount>,
    share_field: &str,
    fee_field: &str,
) -> Result<Terms, Error> {
    let share = share.map(|s| s.rate(share_field)).transpose()?;
    let fee = fee.map(|f| f.fen(fee_field)).transpose()?;
    domain::validate_terms(share, fee)
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "OrderStatus")]
pub enum OrderStatusName {
    New,
    Published,
    Dispatched,
    InProgress,
    Delivered,
    Accepted,
    Closed,
    Cancelled,
    Disputed,
}

/// Why the signer does not deliver the order itself (三不): `wont_do` 不愿做, `cant_do_well`
/// 做不好, `cant_do` 做不了.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "Reason")]
pub enum ReasonName {
    WontDo,
    CantDoWell,
    CantDo,
}

/// `first_claim`: the first eligible claim wins. `tender`: partners bid, the publisher awards.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "Mode")]
pub enum ModeName {
    FirstClaim,
    Tender,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ResolutionName {
    /// The delivery stands: the order is accepted.
    Accept,
    /// The deliverer works on: the order goes back to in progress.
    Rework,
}

/// An organisation named in a record.
#[derive(Object, Debug, Clone)]
pub struct OrgRefView {
    pub id: i64,
    pub name: String,
    pub kind: OrgKindName,
}

fn org_ref(o: &directory::app::Organisation) -> OrgRefView {
    OrgRefView { id: o.id, name: o.profile.name_zh.clone(), kind: o.profile.kind.into() }
}

#[derive(Object, Debug, Clone)]
pub struct ServiceRefView {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub category: String,
    pub required_certifications: Vec<String>,
}

fn service_ref(s: &directory::app::Service) -> ServiceRefView {
    ServiceRefView {
        id: s.id,
        code: s.def.code.clone(),
        name_zh: s.def.name_zh.clone(),
        name_en: s.def.name_en.clone(),
        category: s.def.category.clone(),
        required_certifications: s.def.required_certifications.clone(),
    }
}

fn example_service() -> ServiceRefView {
    ServiceRefView {
        id: 3,
        code: "ERP-IMPL".into(),
        name_zh: "ERP 实施".into(),
        name_en: "ERP implementation".into(),
        category: "erp".into(),
        required_certifications: vec!["ERP-L2".into()],
    }
}

// ---- contracts ----------------------------------------------------------------------------

#[derive(Object, Debug)]
pub struct LineView {
    pub line_no: i32,
    pub service: ServiceRefView,
    pub amount: DecimalText,
    /// The order that delivers this line.
    #[oai(nullable)]
    pub order_id: Option<i64>,
}

/// A signed contract. `agreement` (the revenue-share snapshot taken at signing) is absent for
/// clients.
#[derive(Object, Debug)]
#[oai(example)]
pub struct ContractView {
    pub id: i64,
    pub contract_no: String,
    pub client: OrgRefView,
    pub signer: OrgRefView,
    #[oai(nullable)]
    pub account_manager_id: Option<i64>,
    pub signed_on: NaiveDate,
    pub term_years: i32,
    pub first_year_amount: DecimalText,
    pub annual_maintenance_fee: DecimalText,
    pub status: String,
    pub lines: Vec<LineView>,
    #[oai(nullable)]
    pub agreement: Option<Any<serde_json::Value>>,
    pub created_at: DateTime<Utc>,
}

impl Example for ContractView {
    fn example() -> Self {
        ContractView {
            id: 12,
            contract_no: "HT2026000012".into(),
            client: OrgRefView {
                id: 30, name: "宁波海曙精密机械有限公司".into(), kind: OrgKindName::Client
            },
            signer: OrgRefView {
                id: 4, name: "杭州云帆财税服务有限公司".into(), kind: OrgKindName::EquityPartner
            },
            account_manager_id: Some(21),
            signed_on: example_date("2026-11-01"),
            term_years: 3,
            first_year_amount: DecimalText("100000.00".into()),
            annual_maintenance_fee: DecimalText("20000.00".into()),
            status: "active".into(),
            lines: vec![LineView {
                line_no: 1,
                service: example_service(),
                amount: DecimalText("100000.00".into()),
                order_id: Some(40),
            }],
            agreement: Some(Any(serde_json::json!({ "template": "standard" }))),
            created_at: example_time(),
        }
    }
}

impl From<ContractDetails> for ContractView {
    fn from(d: ContractDetails) -> Self {
        let c = d.contract;
        ContractView {
            id: c.id,
            contract_no: c.contract_no,
            client: org_ref(&d.client),
            signer: org_ref(&d.signer),
            account_manager_id: c.account_manager_id,
            signed_on: c.signed_on,
            term_years: c.term_years,
            first_year_amount: yuan(c.first_year_fen),
            annual_maintenance_fee: yuan(c.maintenance_fen),
            status: c.status,
            lines: d
                .lines
                .into_iter()
                .map(|l| LineView {
                    line_no: l.line.line_no,
                    service: service_ref(&l.service),
                    amount: yuan(l.line.amount_fen),
                    order_id: l.order_id,
                })
                .collect(),
            agreement: d.shares_visible.then_some(Any(c.agreement)),
            created_at: c.created_at,
        }
    }
}

platform::page_of!(ContractPage, ContractView);
platform::created_response!(ContractCreated, ContractView);
platform::created_response!(BidSubmitted, SubcontractView);

#[derive(Object, Debug)]
#[oai(deny_unknown_fields)]
pub struct LineRequest {
    /// The service's code.
    pub service: CodeText,
    pub amount: PositiveAmount,
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct CreateContractRequest {
    pub client_id: i64,
    /// The signer: a direct team of the vendor (registered by vendor ops) or the caller's own
    /// equity partner.
    pub signer_id: i64,
    /// The signer's account manager for this client (shown to subcontractors).
    #[oai(nullable)]
    pub account_manager_id: Option<i64>,
    pub signed_on: NaiveDate,
    #[oai(validator(minimum(value = "1"), maximum(value = "10")))]
    pub term_years: i32,
    pub first_year_amount: PositiveAmount,
    pub annual_maintenance_fee: Amount,
    /// One line per service sold; the amounts add up to the first-year amount.
    #[oai(validator(min_items = 1, max_items = 50))]
    pub lines: Vec<LineRequest>,
    /// The agreement template to sign under (its current version is snapshotted into the
    /// contract, with the signer's tier rates); defaults to the first line's service template,
    /// else `standard`.
    #[oai(nullable)]
    pub agreement_template: Option<TemplateCode>,
}

impl Example for CreateContractRequest {
    fn example() -> Self {
        CreateContractRequest {
            client_id: 30,
            signer_id: 4,
            account_manager_id: None,
            signed_on: example_date("2026-11-01"),
            term_years: 3,
            first_year_amount: "100000.00".into(),
            annual_maintenance_fee: "20000.00".into(),
            lines: vec![
                LineRequest { service: "ERP-IMPL".into(), amount: "60000.00".into() },
                LineRequest { service: "TAX-PLAN".into(), amount: "40000.00".into() },
            ],
            agreement_template: None,
        }
    }
}

// ---- orders -------------------------------------------------------------------------------

#[derive(Object, Debug)]
pub struct MilestoneView {
    pub id: i64,
    pub seq: i32,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub due_on: NaiveDate,
    /// `pending`, `done` or `accepted`.
    pub status: String,
    #[oai(nullable)]
    pub done_at: Option<DateTime<Utc>>,
    /// Pending and past its due date.
    pub overdue: bool,
}

fn milestone_view(m: milestone::Model, today: NaiveDate) -> MilestoneView {
    MilestoneView {
        overdue: m.status == "pending" && m.due_on < today,
        id: m.id,
        seq: m.seq,
        code: m.code,
        name_zh: m.name_zh,
        name_en: m.name_en,
        due_on: m.due_on,
        status: m.status,
        done_at: m.done_at,
    }
}

#[derive(Object, Debug)]
pub struct PersonView {
    pub id: i64,
    pub name: String,
}

#[derive(Object, Debug)]
pub struct SubcontractSummary {
    pub id: i64,
    pub mode: ModeName,
    pub reason: ReasonName,
    /// `open`, `awarded`, `withdrawn` or `lapsed`.
    pub status: String,
    pub claim_deadline: DateTime<Utc>,
    #[oai(nullable)]
    pub winner_id: Option<i64>,
}

#[derive(Object, Debug)]
pub struct RatingView {
    pub overall: i16,
    pub professionalism: i16,
    pub timeliness: i16,
    pub communication: i16,
    pub outcome: i16,
    #[oai(nullable)]
    pub comment: Option<String>,
    #[oai(nullable)]
    pub reply: Option<String>,
    #[oai(nullable)]
    pub replied_at: Option<DateTime<Utc>>,
    pub rated_at: DateTime<Utc>,
    /// The client may edit the rating until then.
    pub editable_until: DateTime<Utc>,
}

/// An order. It carries no contract amounts: every party of the order reads it, the
/// subcontractor included.
#[derive(Object, Debug)]
#[oai(example)]
pub struct OrderView {
    pub id: i64,
    pub order_no: String,
    pub contract_id: i64,
    pub status: OrderStatusName,
    pub service: ServiceRefView,
    pub client: OrgRefView,
    pub signer: OrgRefView,
    #[oai(nullable)]
    pub deliverer: Option<OrgRefView>,
    pub region: String,
    #[oai(nullable)]
    pub industry: Option<String>,
    pub due_on: NaiveDate,
    /// The winner of a subcontract must assign a certified implementer by then.
    #[oai(nullable)]
    pub assign_by: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub dispatched_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub delivered_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub on_time: Option<bool>,
    #[oai(nullable)]
    pub accepted_at: Option<DateTime<Utc>>,
    /// The last dispatch note, cancellation or dispute reason.
    #[oai(nullable)]
    pub note: Option<String>,
    pub milestones: Vec<MilestoneView>,
    pub implementers: Vec<PersonView>,
    #[oai(nullable)]
    pub subcontract: Option<SubcontractSummary>,
    #[oai(nullable)]
    pub rating: Option<RatingView>,
    /// What the deliverer is paid for executing the order, when it is paid an execution share
    /// or fee (it won the order from the pool, or was dispatched it on terms). Absent for
    /// clients.
    #[oai(nullable)]
    pub execution: Option<ExecutionView>,
}

/// An executor's terms: a share of the line's first-year money, or a fixed fee taken from it.
#[derive(Object, Debug)]
pub struct ExecutionView {
    #[oai(nullable)]
    pub share: Option<RateText>,
    #[oai(nullable)]
    pub fixed_fee: Option<DecimalText>,
}

impl Example for OrderView {
    fn example() -> Self {
        OrderView {
            id: 40,
            order_no: "HT2026000012-1".into(),
            contract_id: 12,
            status: OrderStatusName::InProgress,
            service: example_service(),
            client: OrgRefView {
                id: 30, name: "宁波海曙精密机械有限公司".into(), kind: OrgKindName::Client
            },
            signer: OrgRefView {
                id: 4, name: "杭州云帆财税服务有限公司".into(), kind: OrgKindName::EquityPartner
            },
            deliverer: Some(OrgRefView {
                id: 8,
                name: "温州瓯越数智科技有限公司".into(),
                kind: OrgKindName::SubcontractPartner,
            }),
            region: "zhejiang".into(),
            industry: Some("manufacturing".into()),
            due_on: example_date("2027-01-30"),
            assign_by: None,
            dispatched_at: Some(example_time()),
            delivered_at: None,
            on_time: None,
            accepted_at: None,
            note: None,
            milestones: vec![MilestoneView {
                id: 101,
                seq: 1,
                code: "kickoff".into(),
                name_zh: "项目启动".into(),
                name_en: "Kick-off".into(),
                due_on: example_date("2026-11-15"),
                status: "done".into(),
                done_at: Some(example_time()),
                overdue: false,
            }],
            implementers: vec![PersonView { id: 17, name: "王丽".into() }],
            subcontract: Some(SubcontractSummary {
                id: 5,
                mode: ModeName::FirstClaim,
                reason: ReasonName::CantDo,
                status: "awarded".into(),
                claim_deadline: example_time(),
                winner_id: Some(8),
            }),
            rating: None,
            execution: Some(ExecutionView { share: Some(RateText("0.70".into())), fixed_fee: None }),
        }
    }
}

/// Clients see amounts, never shares (DESIGN §6).
fn shares_visible(caller: &platform::Principal) -> bool {
    caller.org_kind != kernel::OrgKind::Client
}

fn order_view(d: OrderDetails, today: NaiveDate, shares_visible: bool) -> OrderView {
    let o = d.order;
    let execution =
        domain::Terms::from_columns(o.exec_share_bp, o.exec_fee_fen).filter(|_| shares_visible).map(|t| match t {
            Terms::Share(r) => ExecutionView { share: Some(RateText(r.to_wire())), fixed_fee: None },
            Terms::Fee(f) => ExecutionView { share: None, fixed_fee: Some(DecimalText(f.to_yuan())) },
        });
    OrderView {
        execution,
        id: o.id,
        order_no: o.order_no,
        contract_id: o.contract_id,
        status: o.status.parse::<OrderStatus>().unwrap_or(OrderStatus::New).into(),
        service: service_ref(&d.service),
        client: org_ref(&d.client),
        signer: org_ref(&d.signer),
        deliverer: d.deliverer.as_ref().map(org_ref),
        region: o.region,
        industry: o.industry,
        due_on: o.due_on,
        assign_by: o.assign_by,
        dispatched_at: o.dispatched_at,
        delivered_at: o.delivered_at,
        on_time: o.on_time,
        accepted_at: o.accepted_at,
        note: o.note,
        milestones: d.milestones.into_iter().map(|m| milestone_view(m, today)).collect(),
        implementers: d.implementers.into_iter().map(|p| PersonView { id: p.id, name: p.display_name }).collect(),
        subcontract: d.subcontract.map(|s| SubcontractSummary {
            id: s.id,
            mode: s.mode.parse::<Mode>().unwrap_or(Mode::FirstClaim).into(),
            reason: s.reason.parse::<Reason>().unwrap_or(Reason::CantDo).into(),
            status: s.status,
            claim_deadline: s.claim_deadline,
            winner_id: s.winner_id,
        }),
        rating: d.rating.map(|r| RatingView {
            overall: r.overall,
            professionalism: r.professionalism,
            timeliness: r.timeliness,
            communication: r.communication,
            outcome: r.outcome,
            comment: r.comment,
            reply: r.reply,
            replied_at: r.replied_at,
            rated_at: r.created_at,
            editable_until: r.created_at + Duration::days(domain::RATING_EDIT_DAYS),
        }),
    }
}

platform::page_of!(OrderPage, OrderView);

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct DispatchRequest {
    /// The deliverer: the signer itself, a direct team, or (vendor ops) any eligible deliverer.
    pub deliverer_id: i64,
    /// What a deliverer paid for executing the order (a subcontract partner, or another
    /// signer's equity partner) gets: its share of the line's first-year money, e.g. "0.70" —
    /// or give `fixed_fee`. Required for such a deliverer, refused for the signer itself and
    /// the vendor's direct teams.
    #[oai(nullable)]
    pub execution_share: Option<ShareText>,
    /// A fixed fee taken from the line's first-year payments, at most the line's amount.
    #[oai(nullable)]
    pub fixed_fee: Option<PositiveAmount>,
    #[oai(nullable)]
    pub note: Option<Para<1000>>,
}

impl Example for DispatchRequest {
    fn example() -> Self {
        DispatchRequest {
            deliverer_id: 8,
            execution_share: Some("0.70".into()),
            fixed_fee: None,
            note: Some("推荐第二名，本月有空档".into()),
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct SubcontractRequest {
    pub reason: ReasonName,
    pub mode: ModeName,
    /// The subcontractor's share of what the client pays for the line, e.g. "0.35" — or
    /// give `fixed_fee`.
    #[oai(nullable)]
    pub execution_share: Option<ShareText>,
    #[oai(nullable)]
    pub fixed_fee: Option<PositiveAmount>,
    /// The lowest quality score (Bayesian-average stars, "1.00"–"5.00") a partner must have.
    #[oai(nullable)]
    pub min_quality: Option<StarsText>,
    pub claim_deadline: DateTime<Utc>,
    /// Certifications required beyond the service's own.
    #[oai(default, validator(max_items = 20))]
    pub required_certifications: Vec<CodeText>,
}

impl Example for SubcontractRequest {
    fn example() -> Self {
        SubcontractRequest {
            reason: ReasonName::CantDo,
            mode: ModeName::FirstClaim,
            execution_share: Some("0.35".into()),
            fixed_fee: None,
            min_quality: Some("3.80".into()),
            claim_deadline: example_time() + Duration::days(3),
            required_certifications: vec![],
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: Para<1000>,
}

impl Example for ReasonRequest {
    fn example() -> Self {
        ReasonRequest { reason: "客户要求更换实施范围".into() }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct AssignRequest {
    /// Implementers of the delivering organisation, each holding a valid credential for every
    /// certification the order requires.
    #[oai(validator(min_items = 1, max_items = 20, unique_items))]
    pub user_ids: Vec<i64>,
}

impl Example for AssignRequest {
    fn example() -> Self {
        AssignRequest { user_ids: vec![17] }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct ResolveRequest {
    pub resolution: ResolutionName,
    pub note: Para<2000>,
}

impl Example for ResolveRequest {
    fn example() -> Self {
        ResolveRequest { resolution: ResolutionName::Rework, note: "补充培训两次后重新交付".into() }
    }
}

// ---- recommendations ----------------------------------------------------------------------

#[derive(Object, Debug)]
pub struct WeightsView {
    pub quality: u32,
    pub on_time: u32,
    pub region: u32,
    pub industry: u32,
    pub capacity: u32,
}

/// The parts of a score, each 0–1000.
#[derive(Object, Debug)]
pub struct PartsView {
    pub quality: i64,
    pub on_time: i64,
    pub region: i64,
    pub industry: i64,
    pub capacity: i64,
}

#[derive(Object, Debug)]
pub struct RankedView {
    pub organisation: OrgRefView,
    /// 0–100, one decimal.
    pub score: String,
    pub parts: PartsView,
    pub reasons: Vec<String>,
}

#[derive(Object, Debug)]
pub struct ReasonView {
    pub code: String,
    pub message: String,
}

#[derive(Object, Debug)]
pub struct IneligibleView {
    pub organisation: OrgRefView,
    pub reasons: Vec<ReasonView>,
}

/// Eligible deliverers ranked by score, and the others with why they are out.
#[derive(Object, Debug)]
#[oai(example)]
pub struct RecommendationsView {
    pub order_id: i64,
    pub weights: WeightsView,
    pub ranked: Vec<RankedView>,
    pub ineligible: Vec<IneligibleView>,
}

impl Example for RecommendationsView {
    fn example() -> Self {
        RecommendationsView {
            order_id: 40,
            weights: WeightsView { quality: 35, on_time: 25, region: 15, industry: 10, capacity: 15 },
            ranked: vec![RankedView {
                organisation: OrgRefView {
                    id: 8,
                    name: "温州瓯越数智科技有限公司".into(),
                    kind: OrgKindName::SubcontractPartner,
                },
                score: "83.6".into(),
                parts: PartsView { quality: 925, on_time: 866, region: 1000, industry: 1000, capacity: 625 },
                reasons: vec![
                    "holds 2 valid ERP-L2 implementers".into(),
                    "rating 4.71 over 31 orders (quality score 4.67)".into(),
                    "3 of 8 slots busy".into(),
                    "serves zhejiang".into(),
                ],
            }],
            ineligible: vec![IneligibleView {
                organisation: OrgRefView {
                    id: 9,
                    name: "苏州工联软件服务有限公司".into(),
                    kind: OrgKindName::SubcontractPartner,
                },
                reasons: vec![ReasonView {
                    code: "missing_certification".into(),
                    message: "no valid ERP-L2 implementer".into(),
                }],
            }],
        }
    }
}

impl From<Recommendations> for RecommendationsView {
    fn from(r: Recommendations) -> Self {
        RecommendationsView {
            order_id: r.order_id,
            weights: WeightsView {
                quality: r.weights.quality,
                on_time: r.weights.on_time,
                region: r.weights.region,
                industry: r.weights.industry,
                capacity: r.weights.capacity,
            },
            ranked: r
                .ranked
                .into_iter()
                .map(|(k, o)| RankedView {
                    organisation: org_ref(&o),
                    score: format!("{}.{}", k.score / 10, k.score % 10),
                    parts: PartsView {
                        quality: k.parts.quality,
                        on_time: k.parts.on_time,
                        region: k.parts.region,
                        industry: k.parts.industry,
                        capacity: k.parts.capacity,
                    },
                    reasons: k.reasons,
                })
                .collect(),
            ineligible: r
                .ineligible
                .into_iter()
                .map(|(o, why)| IneligibleView {
                    organisation: org_ref(&o),
                    reasons: why.iter().map(|w| ReasonView { code: w.code().into(), message: w.message() }).collect(),
                })
                .collect(),
        }
    }
}

// ---- the pool -----------------------------------------------------------------------------

#[derive(Object, Debug)]
pub struct BidView {
    pub id: i64,
    pub org_id: i64,
    /// The bidder.
    pub organisation: OrgRefView,
    #[oai(nullable)]
    pub execution_share: Option<RateText>,
    #[oai(nullable)]
    pub fee: Option<DecimalText>,
    pub plan: String,
    pub implementer_ids: Vec<i64>,
    /// The implementers proposed, with their names.
    pub implementers: Vec<PersonView>,
    /// `submitted`, `awarded` or `not_awarded`.
    pub status: String,
    pub updated_at: DateTime<Utc>,
}

fn bid_view(
    b: bid::Model,
    bidders: &std::collections::HashMap<i64, directory::app::Organisation>,
    proposed: &std::collections::HashMap<i64, crate::store::Person>,
) -> BidView {
    let ids = crate::app::implementer_ids_of(&b);
    BidView {
        id: b.id,
        org_id: b.org_id,
        organisation: bidders.get(&b.org_id).map(org_ref).unwrap_or(OrgRefView {
            id: b.org_id,
            name: String::new(),
            kind: OrgKindName::SubcontractPartner,
        }),
        implementers: ids
            .iter()
            .map(|id| PersonView {
                id: *id,
                name: proposed.get(id).map(|p| p.display_name.clone()).unwrap_or_default(),
            })
            .collect(),
        execution_share: b.share_bp.and_then(|bp| Rate::from_bp(bp).ok()).map(|r| RateText(r.to_wire())),
        fee: b.fee_fen.map(yuan),
        plan: b.plan,
        implementer_ids: ids,
        status: b.status,
        updated_at: b.updated_at,
    }
}

#[derive(Object, Debug)]
pub struct PoolMilestoneView {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub due_on: NaiveDate,
}

#[derive(Object, Debug)]
pub struct ContactView {
    pub name: String,
    pub email: String,
}

/// A subcontract. Of the client it shows only what delivery needs (name, region, industry,
/// the order's scope and the signer's account manager) — never contract amounts, other lines
/// or the client's contacts.
#[derive(Object, Debug)]
#[oai(example)]
pub struct SubcontractView {
    pub id: i64,
    pub order_id: i64,
    pub order_no: String,
    pub status: String,
    pub mode: ModeName,
    pub reason: ReasonName,
    pub service: ServiceRefView,
    pub region: String,
    #[oai(nullable)]
    pub industry: Option<String>,
    pub client_name: String,
    pub signer_name: String,
    #[oai(nullable)]
    pub account_manager: Option<ContactView>,
    #[oai(nullable)]
    pub execution_share: Option<RateText>,
    #[oai(nullable)]
    pub fixed_fee: Option<DecimalText>,
    #[oai(nullable)]
    pub min_quality: Option<StarsText>,
    pub required_certifications: Vec<String>,
    pub claim_deadline: DateTime<Utc>,
    pub order_due_on: NaiveDate,
    pub milestones: Vec<PoolMilestoneView>,
    #[oai(nullable)]
    pub winner_id: Option<i64>,
    /// The caller's own bid (tenders).
    #[oai(nullable)]
    pub my_bid: Option<BidView>,
    /// Every bid: for the publisher only.
    pub bids: Vec<BidView>,
}

impl Example for SubcontractView {
    fn example() -> Self {
        SubcontractView {
            id: 5,
            order_id: 40,
            order_no: "HT2026000012-1".into(),
            status: "open".into(),
            mode: ModeName::FirstClaim,
            reason: ReasonName::CantDo,
            service: example_service(),
            region: "zhejiang".into(),
            industry: Some("manufacturing".into()),
            client_name: "宁波海曙精密机械有限公司".into(),
            signer_name: "杭州云帆财税服务有限公司".into(),
            account_manager: Some(ContactView { name: "陈思远".into(), email: "equity@vpark.demo".into() }),
            execution_share: Some(RateText("0.35".into())),
            fixed_fee: None,
            min_quality: Some("3.80".into()),
            required_certifications: vec!["ERP-L2".into()],
            claim_deadline: example_time(),
            order_due_on: example_date("2027-01-30"),
            milestones: vec![PoolMilestoneView {
                code: "kickoff".into(),
                name_zh: "项目启动".into(),
                name_en: "Kick-off".into(),
                due_on: example_date("2026-11-15"),
            }],
            winner_id: None,
            my_bid: None,
            bids: vec![],
        }
    }
}

impl From<PoolItem> for SubcontractView {
    fn from(p: PoolItem) -> Self {
        let s = p.sub;
        SubcontractView {
            id: s.id,
            order_id: s.order_id,
            order_no: p.order_no,
            status: s.status,
            mode: s.mode.parse::<Mode>().unwrap_or(Mode::FirstClaim).into(),
            reason: s.reason.parse::<Reason>().unwrap_or(Reason::CantDo).into(),
            service: service_ref(&p.service),
            region: s.region,
            industry: s.industry,
            client_name: p.client_name,
            signer_name: p.signer_name,
            account_manager: p.account_manager.map(|m| ContactView { name: m.display_name, email: m.email }),
            execution_share: s.share_bp.and_then(|bp| Rate::from_bp(bp).ok()).map(|r| RateText(r.to_wire())),
            fixed_fee: s.fixed_fee_fen.map(yuan),
            min_quality: s.min_quality_centi.map(|c| StarsText(domain::centi_text(c))),
            required_certifications: p.required_certifications,
            claim_deadline: s.claim_deadline,
            order_due_on: p.order_due_on,
            milestones: p
                .milestones
                .into_iter()
                .map(|m| PoolMilestoneView { code: m.code, name_zh: m.name_zh, name_en: m.name_en, due_on: m.due_on })
                .collect(),
            winner_id: s.winner_id,
            my_bid: p.my_bid.map(|b| bid_view(b, &p.bidders, &p.proposed)),
            bids: p.bids.into_iter().map(|b| bid_view(b, &p.bidders, &p.proposed)).collect(),
        }
    }
}

platform::page_of!(SubcontractPage, SubcontractView);

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum PoolSort {
    /// Soonest claim deadline first (default).
    Deadline,
    Newest,
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct BidRequest {
    #[oai(nullable)]
    pub execution_share: Option<ShareText>,
    #[oai(nullable)]
    pub fee: Option<PositiveAmount>,
    pub plan: Para<4000>,
    /// The implementers the partner proposes; each must be certified for the order.
    #[oai(default, validator(max_items = 20, unique_items))]
    pub implementer_ids: Vec<i64>,
}

impl Example for BidRequest {
    fn example() -> Self {
        BidRequest {
            execution_share: None,
            fee: Some("28000.00".into()),
            plan: "两名 ERP-L2 顾问驻场六周，分三阶段上线".into(),
            implementer_ids: vec![17],
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct AwardRequest {
    pub bid_id: i64,
}

impl Example for AwardRequest {
    fn example() -> Self {
        AwardRequest { bid_id: 3 }
    }
}

// ---- ratings ------------------------------------------------------------------------------

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct RatingRequest {
    /// 1–5 stars, as are the four dimensions.
    #[oai(validator(minimum(value = "1"), maximum(value = "5")))]
    pub overall: i16,
    #[oai(validator(minimum(value = "1"), maximum(value = "5")))]
    pub professionalism: i16,
    #[oai(validator(minimum(value = "1"), maximum(value = "5")))]
    pub timeliness: i16,
    #[oai(validator(minimum(value = "1"), maximum(value = "5")))]
    pub communication: i16,
    #[oai(validator(minimum(value = "1"), maximum(value = "5")))]
    pub outcome: i16,
    #[oai(nullable)]
    pub comment: Option<Para<2000>>,
}

impl Example for RatingRequest {
    fn example() -> Self {
        RatingRequest {
            overall: 5,
            professionalism: 5,
            timeliness: 4,
            communication: 5,
            outcome: 5,
            comment: Some("顾问专业，按期上线".into()),
        }
    }
}

impl RatingRequest {
    fn stars(&self) -> Stars {
        Stars {
            overall: self.overall,
            professionalism: self.professionalism,
            timeliness: self.timeliness,
            communication: self.communication,
            outcome: self.outcome,
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct ReplyRequest {
    pub reply: Para<2000>,
}

impl Example for ReplyRequest {
    fn example() -> Self {
        ReplyRequest { reply: "感谢认可，我们会继续做好运维支持。".into() }
    }
}

#[derive(Object, Debug)]
pub struct ImplementerQualityView {
    pub user_id: i64,
    pub name: String,
    pub score: String,
    pub ratings: i64,
}

/// Quality of an organisation: the Bayesian average of its ratings (prior: 5 ratings of 4.00
/// stars), its plain mean, and its on-time record; and the same for its implementers.
#[derive(Object, Debug)]
#[oai(example)]
pub struct QualityView {
    pub organisation: OrgRefView,
    pub score: String,
    pub ratings: i64,
    #[oai(nullable)]
    pub mean: Option<String>,
    pub delivered: i64,
    pub on_time: i64,
    pub prior_mean: String,
    pub prior_weight: i64,
    pub implementers: Vec<ImplementerQualityView>,
}

impl Example for QualityView {
    fn example() -> Self {
        QualityView {
            organisation: OrgRefView {
                id: 8,
                name: "温州瓯越数智科技有限公司".into(),
                kind: OrgKindName::SubcontractPartner,
            },
            score: "4.67".into(),
            ratings: 31,
            mean: Some("4.71".into()),
            delivered: 33,
            on_time: 29,
            prior_mean: "4.00".into(),
            prior_weight: 5,
            implementers: vec![ImplementerQualityView {
                user_id: 17,
                name: "王丽".into(),
                score: "4.55".into(),
                ratings: 9,
            }],
        }
    }
}

impl From<QualityReport> for QualityView {
    fn from(q: QualityReport) -> Self {
        QualityView {
            organisation: org_ref(&q.org),
            score: domain::centi_text(q.quality.score_centi()),
            ratings: q.quality.ratings,
            mean: q.quality.mean_centi().map(domain::centi_text),
            delivered: q.delivered,
            on_time: q.on_time,
            prior_mean: domain::centi_text(domain::PRIOR_MEAN_CENTI as i32),
            prior_weight: domain::PRIOR_WEIGHT,
            implementers: q
                .implementers
                .into_iter()
                .map(|(p, qq)| ImplementerQualityView {
                    user_id: p.id,
                    name: p.display_name,
                    score: domain::centi_text(qq.score_centi()),
                    ratings: qq.ratings,
                })
                .collect(),
        }
    }
}

/// An overdue delivery milestone.
#[derive(Object, Debug)]
#[oai(example)]
pub struct OverdueView {
    pub milestone_id: i64,
    pub order_id: i64,
    pub order_no: String,
    pub order_status: OrderStatusName,
    #[oai(nullable)]
    pub deliverer_id: Option<i64>,
    /// Who delivers the order (none before dispatch).
    #[oai(nullable)]
    pub deliverer: Option<OrgRefView>,
    /// Whose order it is.
    pub client: OrgRefView,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub due_on: NaiveDate,
    pub days_overdue: i64,
}

impl Example for OverdueView {
    fn example() -> Self {
        OverdueView {
            milestone_id: 102,
            order_id: 40,
            order_no: "HT2026000012-1".into(),
            order_status: OrderStatusName::InProgress,
            deliverer_id: Some(8),
            deliverer: Some(OrgRefView {
                id: 8,
                name: "苏州数联 ERP 实施有限公司".into(),
                kind: OrgKindName::SubcontractPartner,
            }),
            client: OrgRefView {
                id: 21, name: "德清华锐精密机械有限公司".into(), kind: OrgKindName::Client
            },
            code: "requirements".into(),
            name_zh: "需求调研".into(),
            name_en: "Requirements".into(),
            due_on: example_date("2026-11-20"),
            days_overdue: 2,
        }
    }
}

platform::page_of!(OverduePage, OverdueView);

fn overdue_view(
    (m, o): (milestone::Model, order::Model),
    orgs: &std::collections::HashMap<i64, directory::app::Organisation>,
    today: NaiveDate,
) -> OverdueView {
    let named =
        |id: i64, kind: OrgKindName| orgs.get(&id).map(org_ref).unwrap_or(OrgRefView { id, name: String::new(), kind });
    OverdueView {
        deliverer: o.deliverer_id.map(|id| named(id, OrgKindName::SubcontractPartner)),
        client: named(o.client_id, OrgKindName::Client),
        milestone_id: m.id,
        order_id: o.id,
        order_no: o.order_no,
        order_status: o.status.parse::<OrderStatus>().unwrap_or(OrderStatus::New).into(),
        deliverer_id: o.deliverer_id,
        code: m.code,
        name_zh: m.name_zh,
        name_en: m.name_en,
        due_on: m.due_on,
        days_overdue: (today - m.due_on).num_days(),
    }
}

// ---- the API ------------------------------------------------------------------------------

pub struct MarketplaceApi {
    pub market: Arc<Marketplace>,
    pub clock: Arc<dyn kernel::Clock>,
}

impl MarketplaceApi {
    fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    fn order(&self, caller: &platform::Principal, d: OrderDetails) -> Json<OrderView> {
        Json(order_view(d, self.today(), shares_visible(caller)))
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl MarketplaceApi {
    /// Register a signed contract
    ///
    /// Each line becomes an order (status `new`) with the service's default milestones, due
    /// relative to the signing date. The lines must add up to the first-year amount (else 422
    /// `lines_do_not_add_up`).
    #[oai(path = "/contracts", method = "post", operation_id = "createContract", tag = "ApiTags::Contracts")]
    async fn create_contract(
        &self,
        auth: Caller,
        /// Optional: a unique key per contract. A retry with the same key and body returns the
        /// contract the first request created (200) instead of registering it twice; the same
        /// key with a different body is refused (422 `idempotency_key_reused`).
        #[oai(name = "Idempotency-Key", validator(pattern = r"^[!-~]{1,128}$"))]
        key: Header<Option<String>>,
        body: Json<CreateContractRequest>,
    ) -> ApiResult<ContractCreated> {
        let key = IdempotencyKey::optional(key.0.as_deref())?;
        let b = body.0;
        let mut lines = Vec::with_capacity(b.lines.len());
        for (i, l) in b.lines.iter().enumerate() {
            lines.push((l.service.code(&format!("lines[{i}].service"))?, l.amount.fen(&format!("lines[{i}].amount"))?));
        }
        let new = NewContract {
            client_id: b.client_id,
            signer_id: b.signer_id,
            account_manager_id: b.account_manager_id,
            signed_on: b.signed_on,
            term_years: b.term_years,
            first_year: b.first_year_amount.fen("first_year_amount")?,
            maintenance_fee: b.annual_maintenance_fee.fen("annual_maintenance_fee")?,
            lines,
            agreement_template: b.agreement_template.map(|t| t.code("agreement_template")).transpose()?,
        };
        let created = self.market.create_contract(&auth.0, new, key.as_ref()).await?;
        let view = ContractView::from(created.value);
        let location = format!("/api/v1/contracts/{}", view.id);
        Ok(ContractCreated::of(view, location, created.replayed))
    }

    /// List contracts
    ///
    /// Signers see theirs, clients theirs (without the share agreement), vendor ops and
    /// finance all.
    #[oai(path = "/contracts", method = "get", operation_id = "listContracts", tag = "ApiTags::Contracts")]
    #[allow(clippy::too_many_arguments)]
    async fn list_contracts(
        &self,
        auth: Caller,
        client_id: Query<Option<i64>>,
        signer_id: Query<Option<i64>>,
        /// Contracts with an order in this state.
        order_status: Query<Option<OrderStatusName>>,
        /// Contracts with a line of this service.
        service_id: Query<Option<i64>>,
        /// Contracts with an order delivered by this organisation.
        deliverer_id: Query<Option<i64>>,
        /// Contracts with an order in this region.
        region: Query<Option<RegionCode>>,
        /// Signed on or after this day.
        signed_from: Query<Option<NaiveDate>>,
        /// Signed on or before this day.
        signed_to: Query<Option<NaiveDate>>,
        /// Text in the client's name or the contract number (case-insensitive).
        q: Query<Option<Line<100>>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<ContractPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = ContractFilter {
            client_id: client_id.0,
            signer_id: signer_id.0,
            order_status: order_status.0.map(|s| OrderStatus::from(s).as_str().to_owned()),
            service_id: service_id.0,
            deliverer_id: deliverer_id.0,
            region: region.0.map(|r| r.checked("region")).transpose()?,
            signed_from: signed_from.0,
            signed_to: signed_to.0,
            q: q.0.map(|t| t.checked("q")).transpose()?,
        };
        Ok(Json(ContractPage::from_page(self.market.list_contracts(&auth.0, &filter, &page).await?, Into::into)))
    }

    /// Read a contract
    #[oai(path = "/contracts/:id", method = "get", operation_id = "getContract", tag = "ApiTags::Contracts")]
    async fn get_contract(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<ContractView>> {
        Ok(Json(self.market.get_contract(&auth.0, id.0).await?.into()))
    }

    /// List orders
    ///
    /// Each party sees the orders it signed, delivers, bought or (implementers) is assigned
    /// to; vendor ops see all.
    #[oai(path = "/orders", method = "get", operation_id = "listOrders", tag = "ApiTags::Orders")]
    #[allow(clippy::too_many_arguments)]
    async fn list_orders(
        &self,
        auth: Caller,
        status: Query<Option<OrderStatusName>>,
        region: Query<Option<RegionCode>>,
        service_id: Query<Option<i64>>,
        deliverer_id: Query<Option<i64>>,
        client_id: Query<Option<i64>>,
        signer_id: Query<Option<i64>>,
        contract_id: Query<Option<i64>>,
        /// Due on or after this day.
        due_from: Query<Option<NaiveDate>>,
        /// Due on or before this day.
        due_to: Query<Option<NaiveDate>>,
        /// Text in the client's name, the order number or the contract number (case-insensitive).
        q: Query<Option<Line<100>>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<OrderPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = OrderFilter {
            status: status.0.map(|s| OrderStatus::from(s).as_str().to_owned()),
            region: region.0.map(|r| r.checked("region")).transpose()?,
            service_id: service_id.0,
            deliverer_id: deliverer_id.0,
            client_id: client_id.0,
            signer_id: signer_id.0,
            contract_id: contract_id.0,
            due_from: due_from.0,
            due_to: due_to.0,
            q: q.0.map(|t| t.checked("q")).transpose()?,
        };
        let today = self.today();
        let shares = shares_visible(&auth.0);
        Ok(Json(OrderPage::from_page(self.market.list_orders(&auth.0, &filter, &page).await?, |d| {
            order_view(d, today, shares)
        })))
    }

    /// Read an order
    #[oai(path = "/orders/:id", method = "get", operation_id = "getOrder", tag = "ApiTags::Orders")]
    async fn get_order(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.get_order(&auth.0, id.0).await?))
    }

    /// Recommend deliverers for an order
    ///
    /// Eligibility first (active, serves the region and category, holds every required valid
    /// certification, has free capacity), then a weighted score of quality (Bayesian-average
    /// rating), on-time rate, region match, industry match and free capacity. The weights are
    /// configuration (`marketplace.weights`).
    #[oai(
        path = "/orders/:id/recommendations",
        method = "get",
        operation_id = "getRecommendations",
        tag = "ApiTags::Orders"
    )]
    async fn recommendations(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<RecommendationsView>> {
        Ok(Json(self.market.recommendations(&auth.0, id.0).await?.into()))
    }

    /// Dispatch an order
    ///
    /// Assigns a `new` (or not yet started) order to a deliverer, which must be eligible; an
    /// open subcontract of the order is withdrawn.
    #[oai(path = "/orders/:id/dispatch", method = "post", operation_id = "dispatchOrder", tag = "ApiTags::Orders")]
    async fn dispatch(&self, auth: Caller, id: Path<i64>, body: Json<DispatchRequest>) -> ApiResult<Json<OrderView>> {
        let b = body.0;
        let terms = match (&b.execution_share, &b.fixed_fee) {
            (None, None) => None,
            (share, fee) => Some(terms(share.as_ref(), fee.as_ref(), "execution_share", "fixed_fee")?),
        };
        let note = b.note.map(|n| n.checked("note")).transpose()?;
        Ok(self.order(&auth.0, self.market.dispatch(&auth.0, id.0, b.deliverer_id, terms, note).await?))
    }

    /// Publish an order as a subcontract
    ///
    /// Puts the order into the pool with a 三不 reason, a mode, the eligibility rules and the
    /// execution terms; every eligible subcontract partner is told by e-mail.
    #[oai(
        path = "/orders/:id/subcontract",
        method = "post",
        operation_id = "subcontractOrder",
        tag = "ApiTags::Orders"
    )]
    async fn subcontract(
        &self,
        auth: Caller,
        id: Path<i64>,
        body: Json<SubcontractRequest>,
    ) -> ApiResult<Json<OrderView>> {
        let b = body.0;
        let new = NewSubcontract {
            reason: b.reason.into(),
            mode: b.mode.into(),
            terms: terms(b.execution_share.as_ref(), b.fixed_fee.as_ref(), "execution_share", "fixed_fee")?,
            min_quality_centi: b.min_quality.as_ref().map(|q| q.centi("min_quality")).transpose()?,
            claim_deadline: b.claim_deadline,
            extra_certifications: b
                .required_certifications
                .iter()
                .map(|c| c.code("required_certifications"))
                .collect::<Result<_, _>>()?,
        };
        Ok(self.order(&auth.0, self.market.publish(&auth.0, id.0, new).await?))
    }

    /// Cancel an order
    #[oai(path = "/orders/:id/cancel", method = "post", operation_id = "cancelOrder", tag = "ApiTags::Orders")]
    async fn cancel(&self, auth: Caller, id: Path<i64>, body: Json<ReasonRequest>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.cancel(&auth.0, id.0, body.0.reason.checked("reason")?).await?))
    }

    /// Assign implementers
    ///
    /// The deliverer names implementers; each must hold a valid (not expired, not revoked)
    /// credential for every certification the order requires, else 422
    /// `certification_missing` naming who lacks what. The first assignment starts the order.
    #[oai(
        path = "/orders/:id/assignments",
        method = "post",
        operation_id = "assignImplementers",
        tag = "ApiTags::Orders"
    )]
    async fn assign(&self, auth: Caller, id: Path<i64>, body: Json<AssignRequest>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.assign(&auth.0, id.0, body.0.user_ids).await?))
    }

    /// Complete a milestone
    #[oai(
        path = "/orders/:id/milestones/:milestone_id/complete",
        method = "post",
        operation_id = "completeMilestone",
        tag = "ApiTags::Orders"
    )]
    async fn complete(&self, auth: Caller, id: Path<i64>, milestone_id: Path<i64>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.complete_milestone(&auth.0, id.0, milestone_id.0).await?))
    }

    /// Mark an order delivered
    #[oai(path = "/orders/:id/deliver", method = "post", operation_id = "deliverOrder", tag = "ApiTags::Orders")]
    async fn deliver(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.deliver(&auth.0, id.0).await?))
    }

    /// Accept a delivery
    #[oai(path = "/orders/:id/accept", method = "post", operation_id = "acceptOrder", tag = "ApiTags::Orders")]
    async fn accept(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.accept(&auth.0, id.0).await?))
    }

    /// Dispute a delivery
    #[oai(path = "/orders/:id/dispute", method = "post", operation_id = "disputeOrder", tag = "ApiTags::Orders")]
    async fn dispute(&self, auth: Caller, id: Path<i64>, body: Json<ReasonRequest>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.dispute(&auth.0, id.0, body.0.reason.checked("reason")?).await?))
    }

    /// Resolve a dispute
    #[oai(path = "/orders/:id/resolve", method = "post", operation_id = "resolveDispute", tag = "ApiTags::Orders")]
    async fn resolve(&self, auth: Caller, id: Path<i64>, body: Json<ResolveRequest>) -> ApiResult<Json<OrderView>> {
        let r = match body.0.resolution {
            ResolutionName::Accept => Resolution::Accept,
            ResolutionName::Rework => Resolution::Rework,
        };
        Ok(self.order(&auth.0, self.market.resolve(&auth.0, id.0, r, body.0.note.checked("note")?).await?))
    }

    /// List overdue milestones
    ///
    /// Pending delivery milestones past their due date, of orders still being delivered.
    #[oai(
        path = "/milestones/overdue",
        method = "get",
        operation_id = "listOverdueMilestones",
        tag = "ApiTags::Orders"
    )]
    async fn overdue(
        &self,
        auth: Caller,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<OverduePage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let today = self.today();
        let (rows, orgs) = self.market.overdue(&auth.0, &page).await?;
        Ok(Json(OverduePage::from_page(rows, |x| overdue_view(x, &orgs, today))))
    }

    /// List the subcontract pool
    ///
    /// A subcontract partner sees only the open subcontracts it is eligible for (region,
    /// category, every required valid certification, quality floor, free capacity); publishers
    /// see their open subcontracts, vendor ops all.
    #[oai(path = "/subcontracts", method = "get", operation_id = "listSubcontracts", tag = "ApiTags::Subcontracts")]
    #[allow(clippy::too_many_arguments)]
    async fn pool(
        &self,
        auth: Caller,
        region: Query<Option<String>>,
        category: Query<Option<String>>,
        service_id: Query<Option<i64>>,
        mode: Query<Option<ModeName>>,
        sort: Query<Option<PoolSort>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<SubcontractPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = PoolFilter {
            region: region.0,
            category: category.0,
            service_id: service_id.0,
            mode: mode.0.map(|m| Mode::from(m).as_str().to_owned()),
            newest_first: sort.0 == Some(PoolSort::Newest),
        };
        Ok(Json(SubcontractPage::from_page(self.market.pool(&auth.0, &filter, &page).await?, Into::into)))
    }

    /// Read a subcontract
    #[oai(path = "/subcontracts/:id", method = "get", operation_id = "getSubcontract", tag = "ApiTags::Subcontracts")]
    async fn get_subcontract(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<SubcontractView>> {
        Ok(Json(self.market.get_subcontract(&auth.0, id.0).await?.into()))
    }

    /// Claim a subcontract
    ///
    /// `first_claim` mode: exactly one claim wins, even under concurrent claims from many
    /// partners and several server replicas; every other claim gets 409 `already_claimed`.
    /// The winner must assign a certified implementer within the configured time.
    #[oai(
        path = "/subcontracts/:id/claim",
        method = "post",
        operation_id = "claimSubcontract",
        tag = "ApiTags::Subcontracts"
    )]
    async fn claim(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.claim(&auth.0, id.0).await?))
    }

    /// Bid on a tender
    ///
    /// Submits or replaces the caller's bid until the deadline.
    #[oai(path = "/subcontracts/:id/bids", method = "post", operation_id = "submitBid", tag = "ApiTags::Subcontracts")]
    async fn bid(
        &self,
        auth: Caller,
        id: Path<i64>,
        /// Optional: a unique key per bid. A retry with the same key and body returns the
        /// tender as the first request left it (200), without submitting twice.
        #[oai(name = "Idempotency-Key", validator(pattern = r"^[!-~]{1,128}$"))]
        key: Header<Option<String>>,
        body: Json<BidRequest>,
    ) -> ApiResult<BidSubmitted> {
        let key = IdempotencyKey::optional(key.0.as_deref())?;
        let b = body.0;
        let new = NewBid {
            terms: terms(b.execution_share.as_ref(), b.fee.as_ref(), "execution_share", "fee")?,
            plan: b.plan.checked("plan")?,
            implementer_ids: b.implementer_ids,
        };
        let created = self.market.bid(&auth.0, id.0, new, key.as_ref()).await?;
        let location = format!("/api/v1/subcontracts/{}", id.0);
        Ok(BidSubmitted::of(created.value.into(), location, created.replayed))
    }

    /// Award a tender
    #[oai(
        path = "/subcontracts/:id/award",
        method = "post",
        operation_id = "awardSubcontract",
        tag = "ApiTags::Subcontracts"
    )]
    async fn award(&self, auth: Caller, id: Path<i64>, body: Json<AwardRequest>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.award(&auth.0, id.0, body.0.bid_id).await?))
    }

    /// Rate an order
    ///
    /// Once, after acceptance; closes the order. A rating of 2 stars or less alerts vendor ops.
    #[oai(path = "/orders/:id/rating", method = "post", operation_id = "rateOrder", tag = "ApiTags::Ratings")]
    async fn rate(&self, auth: Caller, id: Path<i64>, body: Json<RatingRequest>) -> ApiResult<Json<OrderView>> {
        let stars = body.0.stars();
        Ok(self.order(
            &auth.0,
            self.market.rate(&auth.0, id.0, stars, body.0.comment.map(|c| c.checked("comment")).transpose()?).await?,
        ))
    }

    /// Edit a rating
    ///
    /// Within 7 days of rating.
    #[oai(path = "/orders/:id/rating", method = "put", operation_id = "editRating", tag = "ApiTags::Ratings")]
    async fn edit_rating(&self, auth: Caller, id: Path<i64>, body: Json<RatingRequest>) -> ApiResult<Json<OrderView>> {
        let stars = body.0.stars();
        Ok(self.order(
            &auth.0,
            self.market
                .edit_rating(&auth.0, id.0, stars, body.0.comment.map(|c| c.checked("comment")).transpose()?)
                .await?,
        ))
    }

    /// Reply to a rating
    ///
    /// The deliverer replies once.
    #[oai(path = "/orders/:id/rating/reply", method = "post", operation_id = "replyToRating", tag = "ApiTags::Ratings")]
    async fn reply(&self, auth: Caller, id: Path<i64>, body: Json<ReplyRequest>) -> ApiResult<Json<OrderView>> {
        Ok(self.order(&auth.0, self.market.reply(&auth.0, id.0, body.0.reply.checked("reply")?).await?))
    }

    /// Quality of an organisation
    ///
    /// The Bayesian average of its overall ratings, `(C·m + Σ stars) / (C + n)` with the prior
    /// `m` = 4.00 stars and `C` = 5 ratings, its on-time record, and its implementers' scores.
    #[oai(path = "/organisations/:id/quality", method = "get", operation_id = "getQuality", tag = "ApiTags::Ratings")]
    async fn quality(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<QualityView>> {
        Ok(Json(self.market.quality(&auth.0, id.0).await?.into()))
    }
}
