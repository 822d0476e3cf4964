//! The rules of the directory, with no I/O: what makes an organisation profile valid for its
//! kind, partner tiers, and the unified social credit code (统一社会信用代码) check.

use kernel::reference::{self, INDUSTRIES, REGIONS, SERVICE_CATEGORIES};
use kernel::{Error, OrgKind, Rate};
use serde::Serialize;
use strum::{EnumIter, EnumString, IntoStaticStr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Registered,
    Silver,
    Gold,
    Platinum,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum OrgStatus {
    Active,
    /// Its users cannot sign in; it receives no work.
    Suspended,
}

impl OrgStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Everything that describes an organisation, as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    pub kind: OrgKind,
    pub name_zh: String,
    pub name_en: Option<String>,
    pub credit_code: Option<String>,
    pub parent_id: Option<i64>,
    /// The vendor's stake in an equity partner.
    pub equity_stake: Option<Rate>,
    /// Regions served (a client: where it is).
    pub regions: Vec<String>,
    /// Industries served (a client: its industry).
    pub industries: Vec<String>,
    /// Service categories offered (deliverers only).
    pub categories: Vec<String>,
    /// Maximum concurrent orders (deliverers only).
    pub capacity: Option<i32>,
    pub tier: Option<Tier>,
    pub status: OrgStatus,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
}

/// Checks a profile against the rules of its kind (DESIGN §3), given the id of the park's vendor
/// (None while there is none). Normalises what it can (defaults the parent and tier).
pub fn validate(mut p: Profile, vendor_id: Option<i64>) -> Result<Profile, Error> {
    p.name_zh = kernel::text::required_text("name_zh", &p.name_zh, 200)?;
    p.name_en = p.name_en.as_deref().map(|n| kernel::text::required_text("name_en", n, 200)).transpose()?;
    p.credit_code = p.credit_code.as_deref().map(credit_code).transpose()?;
    p.contact_name =
        p.contact_name.as_deref().map(|n| kernel::text::required_text("contact_name", n, 100)).transpose()?;
    p.contact_phone =
        p.contact_phone.as_deref().map(|n| kernel::text::required_text("contact_phone", n, 40)).transpose()?;
    p.contact_email =
        p.contact_email.as_deref().map(|e| kernel::Email::parse(e).map(|e| e.as_str().to_owned())).transpose()?;
    p.regions = reference::codes(REGIONS, "regions", "region", &p.regions)?;
    p.industries = reference::codes(INDUSTRIES, "industries", "industry", &p.industries)?;
    p.categories = reference::codes(SERVICE_CATEGORIES, "categories", "service category", &p.categories)?;

    match p.kind {
        OrgKind::Vendor => {
            if p.parent_id.is_some() {
                return Err(Error::invalid("parent_id", "the vendor has no parent organisation"));
            }
        }
        OrgKind::DirectTeam | OrgKind::EquityPartner => {
            let vendor =
                vendor_id.ok_or_else(|| Error::unprocessable("no_vendor", "create the vendor organisation first"))?;
            match p.parent_id {
                None => p.parent_id = Some(vendor),
                Some(parent) if parent == vendor => {}
                Some(_) => {
                    return Err(Error::invalid("parent_id", "direct teams and equity partners belong to the vendor"));
                }
            }
        }
        OrgKind::SubcontractPartner | OrgKind::Client => {
            if p.parent_id.is_some() {
                return Err(Error::invalid("parent_id", "subcontract partners and clients are independent firms"));
            }
        }
    }

    match (p.kind, p.equity_stake) {
        (OrgKind::EquityPartner, None) => {
            return Err(Error::invalid("equity_stake", "an equity partner needs the vendor's stake"));
        }
        (OrgKind::EquityPartner, Some(stake)) => {
            if stake <= Rate::ZERO || stake.to_bp() >= 5000 {
                return Err(Error::invalid(
                    "equity_stake",
                    "must be above 0 and below 0.50: at 50% or more the firm is direct, not a channel",
                ));
            }
        }
        (_, Some(_)) => return Err(Error::invalid("equity_stake", "only equity partners have a stake")),
        (_, None) => {}
    }

    if p.kind.is_deliverer() {
        if p.regions.is_empty() {
            return Err(Error::invalid("regions", "name at least one region served"));
        }
        if p.kind == OrgKind::SubcontractPartner && p.categories.is_empty() {
            return Err(Error::invalid("categories", "name at least one service category offered"));
        }
        match p.capacity {
            Some(c) if !(1..=100_000).contains(&c) => {
                return Err(Error::invalid("capacity", "must be between 1 and 100000 concurrent orders"));
            }
            None if p.kind == OrgKind::SubcontractPartner => {
                return Err(Error::invalid("capacity", "a subcontract partner states its capacity"));
            }
            _ => {}
        }
    } else {
        if p.capacity.is_some() {
            return Err(Error::invalid("capacity", "only delivering organisations have a capacity"));
        }
        if !p.categories.is_empty() {
            return Err(Error::invalid("categories", "only delivering organisations offer service categories"));
        }
    }

    if p.kind == OrgKind::Client && (p.regions.len() != 1 || p.industries.len() != 1) {
        return Err(Error::invalid("regions", "a client has exactly one region and one industry"));
    }

    if p.kind.is_partner() {
        p.tier.get_or_insert(Tier::Registered);
    } else if p.tier.is_some() {
        return Err(Error::invalid("tier", "only partners have a tier"));
    }
    Ok(p)
}

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// The check character of the first 17 characters of a unified social credit code
/// (GB 32100-2015).
pub fn uscc_check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut count = 0;
    for (c, w) in first17.chars().zip(USCC_WEIGHTS) {
        sum += USCC_CHARS.find(c)? as u32 * w;
        count += 1;
    }
    if count != 17 {
        return None;
    }
    let check = (31 - sum % 31) % 31;
    USCC_CHARS.chars().nth(check as usize)
}

/// Parses a unified social credit code: 18 characters with a valid check character.
pub fn credit_code(text: &str) -> Result<String, Error> {
    let code = text.trim().to_uppercase();
    let first17: String = code.chars().take(17).collect();
    let valid = code.chars().count() == 18 && uscc_check_char(&first17) == code.chars().nth(17);
    if valid {
        Ok(code)
    } else {
        Err(Error::invalid("credit_code", "is not a valid unified social credit code (18 characters, GB 32100-2015)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(kind: OrgKind) -> Profile {
        Profile {
            kind,
            name_zh: "测试".into(),
            name_en: None,
            credit_code: None,
            parent_id: None,
            equity_stake: None,
            regions: vec!["zhejiang".into()],
            industries: vec!["manufacturing".into()],
            categories: vec![],
            capacity: None,
            tier: None,
            status: OrgStatus::Active,
            contact_name: None,
            contact_phone: None,
            contact_email: None,
        }
    }

    #[test]
    fn equity_stake_is_a_minority() {
        let mut p = profile(OrgKind::EquityPartner);
        assert!(validate(p.clone(), Some(1)).is_err(), "stake required");
        p.equity_stake = Some(Rate::parse("0.5").unwrap());
        assert!(validate(p.clone(), Some(1)).is_err(), "50% is not a channel");
        p.equity_stake = Some(Rate::parse("0.3").unwrap());
        let ok = validate(p.clone(), Some(1)).unwrap();
        assert_eq!(ok.parent_id, Some(1));
        assert_eq!(ok.tier, Some(Tier::Registered));
        p.kind = OrgKind::SubcontractPartner;
        assert!(validate(p, Some(1)).is_err(), "only equity partners have a stake");
    }

    #[test]
    fn subcontract_partners_state_categories_and_capacity() {
        let mut p = profile(OrgKind::SubcontractPartner);
        assert!(validate(p.clone(), Some(1)).is_err());
        p.categories = vec!["erp".into()];
        assert!(validate(p.clone(), Some(1)).is_err());
        p.capacity = Some(8);
        assert!(validate(p.clone(), Some(1)).is_ok());
        p.parent_id = Some(1);
        assert!(validate(p, Some(1)).is_err());
    }

    #[test]
    fn clients_have_one_region_and_industry_and_no_capacity() {
        let mut p = profile(OrgKind::Client);
        assert!(validate(p.clone(), None).is_ok());
        p.regions.push("jiangsu".into());
        assert!(validate(p.clone(), None).is_err());
        p.regions.pop();
        p.capacity = Some(3);
        assert!(validate(p, None).is_err());
    }

    #[test]
    fn unknown_codes_are_refused() {
        let mut p = profile(OrgKind::Client);
        p.regions = vec!["atlantis".into()];
        let err = validate(p, None).unwrap_err();
        assert!(err.to_string().contains("atlantis"));
    }

    #[test]
    fn credit_codes_are_checked() {
        // A published example code.
        let first17 = "91350100M000100Y4";
        let check = uscc_check_char(first17).unwrap();
        let code = format!("{first17}{check}");
        assert_eq!(credit_code(&code.to_lowercase()).unwrap(), code);
        let wrong = if check == '0' { '1' } else { '0' };
        assert!(credit_code(&format!("{first17}{wrong}")).is_err());
        assert!(credit_code("123").is_err());
        assert!(credit_code("测试测试测试测试测试测试测试测试测试测").is_err());
    }
}

/// One default delivery milestone of a service (its SOP): due `due_days` after the order starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MilestoneDef {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub due_days: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr, EnumIter, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    Active,
    /// No longer sold; existing orders continue.
    Retired,
}

impl ServiceStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A service of the catalog, as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceDef {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub category: String,
    pub description: Option<String>,
    /// Codes of the certifications an implementer must hold to deliver it.
    pub required_certifications: Vec<String>,
    pub milestones: Vec<MilestoneDef>,
    pub agreement_template: Option<String>,
    pub status: ServiceStatus,
}

pub fn validate_service(mut s: ServiceDef) -> Result<ServiceDef, Error> {
    s.code = kernel::text::code("code", &s.code)?;
    s.name_zh = kernel::text::required_text("name_zh", &s.name_zh, 200)?;
    s.name_en = kernel::text::required_text("name_en", &s.name_en, 200)?;
    reference::category("category", &s.category)?;
    s.description = s
        .description
        .as_deref()
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .map(|d| {
            if d.chars().count() > 4000 {
                Err(Error::invalid("description", "must have at most 4000 characters"))
            } else {
                Ok(d)
            }
        })
        .transpose()?;
    let mut seen = Vec::new();
    for c in &mut s.required_certifications {
        *c = kernel::text::code("required_certifications", c)?;
        if seen.contains(c) {
            return Err(Error::invalid("required_certifications", format!("lists {c} twice")));
        }
        seen.push(c.clone());
    }
    if s.milestones.is_empty() || s.milestones.len() > 20 {
        return Err(Error::invalid("milestones", "a service has 1 to 20 delivery milestones"));
    }
    let mut last_due = 0;
    let mut codes: Vec<String> = Vec::new();
    for m in &mut s.milestones {
        let ok_code = (2..=32).contains(&m.code.len())
            && m.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok_code {
            return Err(Error::invalid("milestones", "a milestone code is 2 to 32 characters of a-z, 0-9 and '_'"));
        }
        if codes.contains(&m.code) {
            return Err(Error::invalid("milestones", format!("milestone {} appears twice", m.code)));
        }
        codes.push(m.code.clone());
        m.name_zh = kernel::text::required_text("milestones", &m.name_zh, 100)?;
        m.name_en = kernel::text::required_text("milestones", &m.name_en, 100)?;
        if m.due_days <= last_due || m.due_days > 1095 {
            return Err(Error::invalid(
                "milestones",
                "due days must increase from one milestone to the next, up to 1095",
            ));
        }
        last_due = m.due_days;
    }
    if let Some(t) = &s.agreement_template {
        s.agreement_template = Some(kernel::agreement::template_code("agreement_template", t)?);
    }
    Ok(s)
}

#[cfg(test)]
mod service_tests {
    use super::*;

    fn service() -> ServiceDef {
        ServiceDef {
            code: "ERP-IMPL".into(),
            name_zh: "ERP 实施".into(),
            name_en: "ERP implementation".into(),
            category: "erp".into(),
            description: None,
            required_certifications: vec!["ERP-L2".into()],
            milestones: vec![
                MilestoneDef {
                    code: "kickoff".into(),
                    name_zh: "启动".into(),
                    name_en: "Kick-off".into(),
                    due_days: 7,
                },
                MilestoneDef {
                    code: "go_live".into(),
                    name_zh: "上线".into(),
                    name_en: "Go-live".into(),
                    due_days: 60,
                },
            ],
            agreement_template: None,
            status: ServiceStatus::Active,
        }
    }

    #[test]
    fn a_good_service_passes() {
        assert!(validate_service(service()).is_ok());
    }

    #[test]
    fn milestones_must_be_in_order_and_unique() {
        let mut s = service();
        s.milestones[1].due_days = 7;
        assert!(validate_service(s).is_err());
        let mut s = service();
        s.milestones[1].code = "kickoff".into();
        assert!(validate_service(s).is_err());
        let mut s = service();
        s.milestones.clear();
        assert!(validate_service(s).is_err());
    }

    #[test]
    fn categories_and_codes_are_checked() {
        let mut s = service();
        s.category = "astrology".into();
        assert!(validate_service(s).is_err());
        let mut s = service();
        s.required_certifications = vec!["ERP-L2".into(), "ERP-L2".into()];
        assert!(validate_service(s).is_err());
    }
}
