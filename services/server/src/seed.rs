//! Loading the demo park (`seed-data/`) through the same services the API uses.
//!
//! Only an empty database is seeded; a second run finds organisations and does nothing. The
//! demo accounts share one argon2 hash of `vpark-demo`, computed once (hashing seventy passwords
//! one by one would dominate the first start).

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use certification::app::NewCredential;
use certification::domain::{CertDef, CertStatus, CredentialFacts, CredentialStatus};
use chrono::Duration;
use directory::domain::{MilestoneDef, OrgStatus, Profile, ServiceDef, ServiceStatus};
use identity::app::{InitialPassword, NewUser};
use kernel::{Email, Fen, Locale, OrgKind, Password, Rate, Role};
use marketplace::app::{NewBid, NewContract, NewSubcontract};
use marketplace::domain::{Mode, Reason, Stars, Terms};
use platform::Principal;
use serde::Deserialize;
use tracing::info;

use crate::park::Park;

pub const ORGANISATIONS: &str = include_str!("../../../seed-data/organisations.toml");
pub const PEOPLE: &str = include_str!("../../../seed-data/people.toml");
pub const CATALOG: &str = include_str!("../../../seed-data/catalog.toml");
pub const CREDENTIALS: &str = include_str!("../../../seed-data/credentials.toml");
pub const ORDERS: &str = include_str!("../../../seed-data/orders.toml");
pub const OUTCOMES: &str = include_str!("../../../seed-data/outcomes.toml");

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "vpark-demo";
/// The domain of the demo accounts that must never exist in a real park.
pub const DEMO_DOMAIN: &str = "@vpark.demo";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgFile {
    organisation: Vec<OrgSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgSeed {
    key: String,
    kind: String,
    name_zh: String,
    name_en: Option<String>,
    credit_code: Option<String>,
    equity_stake: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    industries: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    capacity: Option<i32>,
    tier: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    contact_email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleFile {
    user: Vec<UserSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSeed {
    email: String,
    org: String,
    name: String,
    roles: Vec<String>,
    locale: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    certification: Vec<CertSeed>,
    service: Vec<ServiceSeed>,
    outcome: Vec<OutcomeKindSeed>,
    tier: Vec<TierSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TierSeed {
    tier: String,
    min_revenue: String,
    min_success_rate: Option<String>,
    min_valid_credentials: i32,
    min_quality: Option<String>,
    min_on_time_rate: Option<String>,
    max_dispute_rate: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeKindSeed {
    code: String,
    name_zh: String,
    name_en: String,
    description: Option<String>,
    window_months: i32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomesFile {
    outcome: Vec<OutcomeSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeSeed {
    client: String,
    kind: String,
    achieved_days_ago: i64,
    title: String,
    details: Option<String>,
    attachments: Vec<String>,
    reporter: String,
    review: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CertSeed {
    code: String,
    name_zh: String,
    name_en: String,
    category: String,
    validity_months: i32,
    description: Option<String>,
    #[serde(default)]
    requirements: Vec<RequirementsSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementsSeed {
    exam_min_score: Option<i32>,
    training_hours: Option<i32>,
    #[serde(default)]
    delivery_services: Vec<String>,
    #[serde(default)]
    delivery_count: i32,
    min_average_rating: Option<String>,
    validity_months: i32,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceSeed {
    kind: String,
    title: String,
    days_ago: i64,
    score: Option<i32>,
    hours: Option<i32>,
    status: String,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceSeed {
    code: String,
    name_zh: String,
    name_en: String,
    category: String,
    description: Option<String>,
    #[serde(default)]
    required_certifications: Vec<String>,
    milestones: Vec<MilestoneDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    credential: Vec<CredentialSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialSeed {
    holder: String,
    certification: String,
    status: Option<String>,
    issued_days_ago: Option<i64>,
    expires_in_days: Option<i64>,
    revoked_reason: Option<String>,
    #[serde(default)]
    evidence: Vec<EvidenceSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrdersFile {
    contract: Vec<ContractSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContractSeed {
    by: String,
    signer: String,
    signer_admin: String,
    client: String,
    client_admin: String,
    signed_days_ago: i64,
    #[serde(default = "three")]
    term_years: i32,
    first_year: String,
    maintenance: String,
    lines: Vec<LineSeed>,
    /// Money received (or, negative, refunded) on the contract, recorded by vendor finance.
    #[serde(default)]
    payments: Vec<PaymentSeed>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct PaymentSeed {
    line: i32,
    #[serde(default = "first_year")]
    stream: String,
    year: Option<i32>,
    amount: String,
    received_days_ago: i64,
    note: Option<String>,
    /// Recorded after the demo period's payout was approved (so statements show money that
    /// waits for the next payout).
    #[serde(default)]
    after_payout: bool,
}

fn first_year() -> String {
    "first_year".into()
}

fn three() -> i32 {
    3
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineSeed {
    service: String,
    amount: String,
    story: String,
    deliverer: Option<String>,
    implementer: Option<String>,
    stars: Option<i16>,
    comment: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    bids: Vec<BidSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BidSeed {
    by: String,
    fee: String,
    implementer: String,
    plan: String,
}

/// What seeding did.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    pub organisations: usize,
    pub users: usize,
    pub certifications: usize,
    pub services: usize,
    pub credentials: usize,
    pub evidence: usize,
    pub outcome_kinds: usize,
    pub outcomes: usize,
    pub tier_assessments: usize,
    pub contracts: usize,
    pub orders: usize,
    pub payments: usize,
    pub payouts: usize,
    pub millis: u128,
}

/// Loads the demo park into an empty database. Returns None when the park is not empty.
pub async fn seed_demo(park: &Park) -> anyhow::Result<Option<SeedReport>> {
    if !park.directory.is_empty().await.map_err(|e| e.0)? {
        return Ok(None);
    }
    let started = Instant::now();
    let mut report = SeedReport::default();
    let orgs: OrgFile = toml::from_str(ORGANISATIONS).context("seed-data/organisations.toml")?;
    let people: PeopleFile = toml::from_str(PEOPLE).context("seed-data/people.toml")?;
    let catalog: CatalogFile = toml::from_str(CATALOG).context("seed-data/catalog.toml")?;
    let creds: CredentialFile = toml::from_str(CREDENTIALS).context("seed-data/credentials.toml")?;
    const WHO: &str = "seed";

    let mut org_ids: HashMap<String, i64> = HashMap::new();
    for o in orgs.organisation {
        let kind: OrgKind =
            o.kind.parse().map_err(|_| anyhow::anyhow!("organisation {}: unknown kind {}", o.key, o.kind))?;
        let profile = Profile {
            kind,
            name_zh: o.name_zh,
            name_en: o.name_en,
            credit_code: o.credit_code,
            parent_id: None,
            equity_stake: o.equity_stake.as_deref().map(Rate::parse).transpose()?,
            regions: o.regions,
            industries: o.industries,
            categories: o.categories,
            capacity: o.capacity,
            tier: o
                .tier
                .as_deref()
                .map(|t| t.parse())
                .transpose()
                .map_err(|_| anyhow::anyhow!("organisation {}: unknown tier", o.key))?,
            status: OrgStatus::Active,
            contact_name: o.contact_name,
            contact_phone: o.contact_phone,
            contact_email: o.contact_email,
        };
        let created = park
            .directory
            .create_org_system(WHO, profile)
            .await
            .map_err(|e| anyhow::anyhow!("organisation {}: {}", o.key, e.0))?;
        org_ids.insert(o.key, created.id);
        report.organisations += 1;
    }

    let hash = identity::app::hash_password(Password::new_chosen(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?)
        .await
        .map_err(|e| e.0)?;
    let mut user_ids: HashMap<String, i64> = HashMap::new();
    for u in people.user {
        let org_id =
            *org_ids.get(&u.org).ok_or_else(|| anyhow::anyhow!("user {}: unknown organisation {}", u.email, u.org))?;
        let roles = u
            .roles
            .iter()
            .map(|r| r.parse::<Role>().map_err(|_| anyhow::anyhow!("user {}: unknown role {r}", u.email)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let new = NewUser {
            org_id: Some(org_id),
            email: Email::parse(&u.email).map_err(|e| anyhow::anyhow!("user {}: {e}", u.email))?,
            display_name: u.name,
            phone: None,
            locale: Locale::parse(&u.locale).map_err(|e| anyhow::anyhow!("user {}: {e}", u.email))?,
            roles,
            password: InitialPassword::Hashed(hash.clone()),
        };
        let d = park
            .identity
            .create_user_system(WHO, org_id, new)
            .await
            .map_err(|e| anyhow::anyhow!("user {}: {}", u.email, e.0))?;
        user_ids.insert(u.email, d.user.id);
        report.users += 1;
    }

    let mut requirements = Vec::new();
    for c in catalog.certification {
        requirements.push((c.code.clone(), c.requirements));
        let def = CertDef {
            code: c.code.clone(),
            name_zh: c.name_zh,
            name_en: c.name_en,
            category: c.category,
            description: c.description,
            validity_months: c.validity_months,
            status: CertStatus::Active,
        };
        park.certifications
            .create_cert_system(WHO, def)
            .await
            .map_err(|e| anyhow::anyhow!("certification {}: {}", c.code, e.0))?;
        report.certifications += 1;
    }
    for s in catalog.service {
        let def = ServiceDef {
            code: s.code.clone(),
            name_zh: s.name_zh,
            name_en: s.name_en,
            category: s.category,
            description: s.description,
            required_certifications: s.required_certifications,
            milestones: s.milestones,
            agreement_template: None,
            status: ServiceStatus::Active,
        };
        park.directory
            .create_service_system(WHO, def)
            .await
            .map_err(|e| anyhow::anyhow!("service {}: {}", s.code, e.0))?;
        report.services += 1;
    }

    for k in catalog.outcome {
        let def = success::domain::OutcomeKindDef {
            code: k.code.clone(),
            name_zh: k.name_zh,
            name_en: k.name_en,
            description: k.description,
            window_months: k.window_months,
            status: success::domain::KindStatus::Active,
        };
        park.success
            .create_kind_system(WHO, def)
            .await
            .map_err(|e| anyhow::anyhow!("outcome milestone {}: {}", k.code, e.0))?;
        report.outcome_kinds += 1;
    }

    let mut ladder = Vec::new();
    for t in catalog.tier {
        let what = format!("tier {}", t.tier);
        let bp = |v: Option<String>| -> anyhow::Result<Option<i32>> {
            v.map(|r| Rate::parse(&r).map(Rate::to_bp).map_err(|e| anyhow::anyhow!("{what}: {e}"))).transpose()
        };
        ladder.push(success::tiers::Threshold {
            tier: t.tier.parse().map_err(|_| anyhow::anyhow!("{what}: unknown tier"))?,
            min_revenue_fen: Fen::parse_yuan(&t.min_revenue).map_err(|e| anyhow::anyhow!("{what}: {e}"))?.get(),
            min_success_bp: bp(t.min_success_rate)?,
            min_valid_credentials: t.min_valid_credentials,
            min_quality_centi: t
                .min_quality
                .as_deref()
                .map(|q| certification::requirements::rating_centi("min_quality", q))
                .transpose()
                .map_err(|e| anyhow::anyhow!("{what}: {e}"))?,
            min_on_time_bp: bp(t.min_on_time_rate)?,
            max_dispute_bp: bp(t.max_dispute_rate)?,
        });
    }
    park.success.put_thresholds_system(WHO, ladder).await.map_err(|e| anyhow::anyhow!("tier thresholds: {}", e.0))?;

    for (code, versions) in requirements {
        for r in versions {
            let req = certification::requirements::Requirements {
                version: 0,
                exam_min_score: r.exam_min_score,
                training_hours: r.training_hours,
                delivery_services: r.delivery_services,
                delivery_count: r.delivery_count,
                min_rating_centi: r
                    .min_average_rating
                    .as_deref()
                    .map(|t| certification::requirements::rating_centi("min_average_rating", t))
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("requirements of {code}: {e}"))?,
                validity_months: r.validity_months,
                note: r.note,
            };
            park.certifications
                .publish_requirements_system(WHO, &code, req)
                .await
                .map_err(|e| anyhow::anyhow!("requirements of {code}: {}", e.0))?;
        }
    }

    // The standard agreement of DESIGN §5, with the tiers' raised channel rates.
    let rate = |t: &str| kernel::Rate::parse(t).ok();
    let tiers = std::collections::BTreeMap::from([
        ("silver".to_owned(), kernel::agreement::TierRates { first_year: None, maintenance: rate("0.22") }),
        ("gold".to_owned(), kernel::agreement::TierRates { first_year: rate("0.42"), maintenance: rate("0.25") }),
        ("platinum".to_owned(), kernel::agreement::TierRates { first_year: rate("0.45"), maintenance: rate("0.30") }),
    ]);
    park.directory
        .put_agreement_template_system(
            WHO,
            "standard",
            directory::app::TemplateDef {
                name_zh: "标准分成协议".into(),
                name_en: "Standard revenue-share agreement".into(),
                rules: kernel::agreement::standard_rules(),
                tiers,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("agreement template: {}", e.0))?;

    let today = park.clock.now().date_naive();
    let mut evidence = Vec::new();
    for c in creds.credential {
        let user_id =
            *user_ids.get(&c.holder).ok_or_else(|| anyhow::anyhow!("credential: unknown holder {}", c.holder))?;
        let status: CredentialStatus = match c.status.as_deref() {
            Some(s) => s.parse().map_err(|_| anyhow::anyhow!("credential of {}: unknown status {s}", c.holder))?,
            None => CredentialStatus::Earned,
        };
        let issued_on = c.issued_days_ago.map(|d| today - Duration::days(d));
        let expires_on = c.expires_in_days.map(|d| today + Duration::days(d));
        let facts = CredentialFacts { status, issued_on, expires_on, revoked_reason: c.revoked_reason };
        // Held credentials start with the status their dates give them today.
        let facts = CredentialFacts { status: certification::domain::status_on(&facts, today), ..facts };
        let id = park
            .certifications
            .create_credential_system(
                WHO,
                NewCredential { user_id, certification_code: c.certification.clone(), facts },
            )
            .await
            .map_err(|e| anyhow::anyhow!("credential {} of {}: {}", c.certification, c.holder, e.0))?;
        report.credentials += 1;
        if !c.evidence.is_empty() {
            evidence.push((id, format!("{} of {}", c.certification, c.holder), c.evidence));
        }
    }
    let payments = seed_orders(park, &org_ids, &mut report).await?;
    seed_evidence(park, evidence, today, &mut report).await?;
    seed_money(park, payments, &mut report).await?;
    seed_outcomes(park, &org_ids, today, &mut report).await?;
    // Last month's tiers, as the server's monthly recomputation would have set them.
    let tiers = park.success.recompute_system(WHO, None).await.map_err(|e| anyhow::anyhow!("tiers: {}", e.0))?;
    report.tier_assessments = tiers.assessed;
    report.millis = started.elapsed().as_millis();
    info!(?report, "demo park loaded");
    Ok(Some(report))
}

/// The demo accounts, as principals, looked up once each.
struct Cast<'a> {
    park: &'a Park,
    known: HashMap<String, Principal>,
}

impl Cast<'_> {
    async fn get(&mut self, email: &str) -> anyhow::Result<Principal> {
        if let Some(p) = self.known.get(email) {
            return Ok(p.clone());
        }
        let e = Email::parse(email).map_err(|e| anyhow::anyhow!("{email}: {e}"))?;
        let p = self.park.identity.principal_of_system(&e).await.map_err(|e| anyhow::anyhow!("{email}: {}", e.0))?;
        self.known.insert(email.to_owned(), p.clone());
        Ok(p)
    }
}

/// Replays `seed-data/orders.toml`: each contract registered, each order taken as far as its
/// story says, every step through the marketplace service as the account that would take it.
async fn seed_orders(
    park: &Park,
    org_ids: &HashMap<String, i64>,
    report: &mut SeedReport,
) -> anyhow::Result<Vec<(i64, PaymentSeed)>> {
    let mut payments = Vec::new();
    let file: OrdersFile = toml::from_str(ORDERS).context("seed-data/orders.toml")?;
    let market = &park.marketplace;
    let mut cast = Cast { park, known: HashMap::new() };
    let today = park.clock.now().date_naive();
    let org =
        |key: &str| org_ids.get(key).copied().ok_or_else(|| anyhow::anyhow!("orders: unknown organisation {key}"));
    let fen = |t: &str| Fen::parse_yuan(t).map_err(|e| anyhow::anyhow!("orders: amount {t}: {e}"));
    let app = |e: platform::AppError| anyhow::anyhow!("{}", e.0);
    let share = Rate::from_bp(3500).map_err(|e| anyhow::anyhow!("{e}"))?;
    const STORIES: &[&str] = &[
        "new",
        "dispatched",
        "in_progress",
        "published",
        "tender",
        "claimed",
        "delivered",
        "accepted",
        "rated",
        "disputed",
        "cancelled",
    ];
    for (i, c) in file.contract.iter().enumerate() {
        let by = cast.get(&c.by).await?;
        let signer_id = org(&c.signer)?;
        let mut lines = Vec::new();
        for l in &c.lines {
            lines.push((l.service.clone(), fen(&l.amount)?));
        }
        let new = NewContract {
            client_id: org(&c.client)?,
            signer_id,
            account_manager_id: Some(cast.get(&c.signer_admin).await?.user_id),
            signed_on: today - Duration::days(c.signed_days_ago),
            term_years: c.term_years,
            first_year: fen(&c.first_year)?,
            maintenance_fee: fen(&c.maintenance)?,
            lines,
            agreement_template: None,
        };
        let contract = market
            .create_contract(&by, new, None)
            .await
            .map_err(|e| anyhow::anyhow!("contract {}: {}", i + 1, e.0))?
            .value;
        report.contracts += 1;
        payments.extend(c.payments.iter().map(|p| (contract.contract.id, p.clone())));
        for (line, details) in c.lines.iter().zip(&contract.lines) {
            let order = details.order_id.ok_or_else(|| anyhow::anyhow!("contract {}: a line without order", i + 1))?;
            report.orders += 1;
            let story = line.story.as_str();
            if !STORIES.contains(&story) {
                anyhow::bail!("orders: unknown story {story} (one of {})", STORIES.join(", "));
            }
            let deadline = park.clock.now() + Duration::days(3);
            let subcontracted = line.deliverer.as_deref().is_some_and(|d| d != "self");
            let publish = |mode: Mode| NewSubcontract {
                reason: Reason::CantDo,
                mode,
                terms: Terms::Share(share),
                min_quality_centi: Some(350),
                claim_deadline: deadline,
                extra_certifications: vec![],
            };
            let worker = match &line.deliverer {
                Some(d) if d != "self" => d.clone(),
                _ => c.signer_admin.clone(),
            };
            match story {
                "new" => continue,
                "cancelled" => {
                    let reason = line.reason.clone().unwrap_or_else(|| "客户撤单".into());
                    market.cancel(&by, order, reason).await.map_err(app)?;
                    continue;
                }
                "published" => {
                    market.publish(&by, order, publish(Mode::FirstClaim)).await.map_err(app)?;
                    continue;
                }
                "tender" => {
                    let o = market.publish(&by, order, publish(Mode::Tender)).await.map_err(app)?;
                    let sid =
                        o.subcontract.map(|s| s.id).ok_or_else(|| anyhow::anyhow!("a tender without subcontract"))?;
                    for b in &line.bids {
                        let bidder = cast.get(&b.by).await?;
                        let imp = cast.get(&b.implementer).await?.user_id;
                        let bid = NewBid {
                            terms: Terms::Fee(fen(&b.fee)?),
                            plan: b.plan.clone(),
                            implementer_ids: vec![imp],
                        };
                        market.bid(&bidder, sid, bid, None).await.map_err(app)?;
                    }
                    continue;
                }
                _ if subcontracted => {
                    let o = market.publish(&by, order, publish(Mode::FirstClaim)).await.map_err(app)?;
                    let sid = o.subcontract.map(|s| s.id).ok_or_else(|| anyhow::anyhow!("no subcontract"))?;
                    market.claim(&cast.get(&worker).await?, sid).await.map_err(app)?;
                }
                _ => {
                    market.dispatch(&by, order, signer_id, None, None).await.map_err(app)?;
                }
            }
            if story == "dispatched" {
                continue;
            }
            let admin = cast.get(&worker).await?;
            let imp_email =
                line.implementer.as_deref().ok_or_else(|| anyhow::anyhow!("order {order}: no implementer"))?;
            let imp = cast.get(imp_email).await?;
            let o = market.assign(&admin, order, vec![imp.user_id]).await.map_err(app)?;
            let finished = !matches!(story, "in_progress" | "claimed");
            let todo: Vec<i64> =
                o.milestones.iter().map(|m| m.id).take(if finished { usize::MAX } else { 1 }).collect();
            for m in todo {
                market.complete_milestone(&imp, order, m).await.map_err(app)?;
            }
            if !finished {
                continue;
            }
            market.deliver(&admin, order).await.map_err(app)?;
            let client = cast.get(&c.client_admin).await?;
            match story {
                "delivered" => {}
                "disputed" => {
                    let reason = line.reason.clone().unwrap_or_else(|| "交付范围与合同不符".into());
                    market.dispute(&client, order, reason).await.map_err(app)?;
                }
                "accepted" | "rated" => {
                    market.accept(&client, order).await.map_err(app)?;
                    if story == "rated" {
                        let n = line.stars.unwrap_or(5);
                        let stars =
                            Stars { overall: n, professionalism: n, timeliness: n, communication: n, outcome: n };
                        market.rate(&client, order, stars, line.comment.clone()).await.map_err(app)?;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(payments)
}

/// Vendor finance records the demo payments and refunds (each settled at once), runs the
/// payout of the current period and approves it (two people when the batch is above the
/// two-person limit), then records the money that arrived after the payout.
async fn seed_money(park: &Park, payments: Vec<(i64, PaymentSeed)>, report: &mut SeedReport) -> anyhow::Result<()> {
    let mut cast = Cast { park, known: HashMap::new() };
    let finance = cast.get("finance@vpark.demo").await?;
    let today = park.clock.now().date_naive();
    let app = |e: platform::AppError| anyhow::anyhow!("{}", e.0);
    let record = async |n: usize, contract_id: i64, p: &PaymentSeed| -> anyhow::Result<()> {
        let new = ledger::app::NewPayment {
            contract_id,
            line_no: p.line,
            stream: p.stream.parse().map_err(|_| anyhow::anyhow!("payments: unknown stream {}", p.stream))?,
            year: p.year,
            amount: Fen::parse_yuan(&p.amount).map_err(|e| anyhow::anyhow!("payments: amount {}: {e}", p.amount))?,
            received_on: today - Duration::days(p.received_days_ago),
            note: p.note.clone(),
        };
        park.ledger.record_payment(&finance, &format!("demo-{n}"), new).await.map_err(app)?;
        Ok(())
    };
    for (n, (contract_id, p)) in payments.iter().enumerate().filter(|(_, (_, p))| !p.after_payout) {
        record(n, *contract_id, p).await?;
        report.payments += 1;
    }
    let period = ledger::Period::containing(park.clock.now());
    let batch = park.ledger.run_payout(None, period, None, None).await.map_err(app)?.value;
    let mut approved = park.ledger.approve_payout(&finance, batch.payout.id).await.map_err(app)?;
    if approved.payout.status != "approved" {
        let second = cast.get("finance2@vpark.demo").await?;
        approved = park.ledger.approve_payout(&second, batch.payout.id).await.map_err(app)?;
    }
    report.payouts += usize::from(approved.payout.status == "approved");
    for (n, (contract_id, p)) in payments.iter().enumerate().filter(|(_, (_, p))| p.after_payout) {
        record(n, *contract_id, p).await?;
        report.payments += 1;
    }
    Ok(())
}

/// Submits each credential's evidence as its holder would and reviews it as vendor ops would;
/// a verification that completes the requirements earns the credential, as it does in use.
async fn seed_evidence(
    park: &Park,
    evidence: Vec<(i64, String, Vec<EvidenceSeed>)>,
    today: chrono::NaiveDate,
    report: &mut SeedReport,
) -> anyhow::Result<()> {
    use certification::domain::{EvidenceFacts, EvidenceStatus};
    const WHO: &str = "seed";
    for (credential_id, what, items) in evidence {
        for e in items {
            let facts = EvidenceFacts {
                kind: e.kind.parse().map_err(|_| anyhow::anyhow!("evidence of {what}: unknown kind {}", e.kind))?,
                title: e.title,
                taken_on: today - Duration::days(e.days_ago),
                exam_score: e.score,
                training_hours: e.hours,
                attachments: vec![format!("doc:EVIDENCE-{credential_id}-{}", e.days_ago)],
            };
            let verdict: EvidenceStatus =
                e.status.parse().map_err(|_| anyhow::anyhow!("evidence of {what}: unknown status {}", e.status))?;
            let submitted = park
                .certifications
                .submit_evidence_system(WHO, credential_id, facts)
                .await
                .map_err(|err| anyhow::anyhow!("evidence of {what}: {}", err.0))?;
            if verdict != EvidenceStatus::Submitted {
                park.certifications
                    .review_evidence_system(WHO, submitted.id, verdict, e.note)
                    .await
                    .map_err(|err| anyhow::anyhow!("review of evidence of {what}: {}", err.0))?;
            }
            report.evidence += 1;
        }
    }
    Ok(())
}

/// Replays `seed-data/outcomes.toml`: each milestone reported by the account that would report
/// it and reviewed by vendor ops, through the success service.
async fn seed_outcomes(
    park: &Park,
    org_ids: &HashMap<String, i64>,
    today: chrono::NaiveDate,
    report: &mut SeedReport,
) -> anyhow::Result<()> {
    use success::domain::{OutcomeReport, OutcomeStatus};
    let file: OutcomesFile = toml::from_str(OUTCOMES).context("seed-data/outcomes.toml")?;
    let mut cast = Cast { park, known: HashMap::new() };
    let ops = cast.get("ops@vpark.demo").await?;
    for o in file.outcome {
        let what = format!("{} of {}", o.kind, o.client);
        let client_id = *org_ids.get(&o.client).ok_or_else(|| anyhow::anyhow!("outcome {what}: unknown client"))?;
        let reporter = cast.get(&o.reporter).await?;
        let r = OutcomeReport {
            achieved_on: today - Duration::days(o.achieved_days_ago),
            title: o.title,
            details: o.details,
            attachments: o.attachments,
        };
        let reported = park
            .success
            .report(&reporter, client_id, &o.kind, r, None)
            .await
            .map_err(|e| anyhow::anyhow!("outcome {what}: {}", e.0))?
            .value;
        if let Some(review) = o.review {
            let verdict: OutcomeStatus =
                review.parse().map_err(|_| anyhow::anyhow!("outcome {what}: unknown review {review}"))?;
            park.success
                .review(&ops, reported.id, verdict, o.note)
                .await
                .map_err(|e| anyhow::anyhow!("review of outcome {what}: {}", e.0))?;
        }
        report.outcomes += 1;
    }
    Ok(())
}
