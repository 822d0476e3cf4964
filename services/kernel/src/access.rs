//! The access vocabulary: organisation kinds, roles, resource kinds, actions and relations.
//!
//! The Casbin policy in `policies/` is written in these words; the authorizer refuses to start
//! if a policy line names a role, relation, resource or action that is not listed here, so a
//! typo in the policy cannot silently grant or deny.

use strum::{EnumIter, EnumString, IntoStaticStr};

/// The kinds of organisation in the park (DESIGN §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumString, IntoStaticStr, EnumIter, serde::Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// The vendor of enterprise services that runs the park.
    Vendor,
    /// One of the vendor's own regional sales and delivery teams (直营).
    DirectTeam,
    /// A channel partner in which the vendor holds a minority stake (自有渠道).
    EquityPartner,
    /// A specialist that executes subcontracted orders (合作渠道).
    SubcontractPartner,
    /// An enterprise client (企业客户).
    Client,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Organisations that sign contracts with clients.
    pub fn is_signer(self) -> bool {
        matches!(self, OrgKind::DirectTeam | OrgKind::EquityPartner)
    }

    /// Organisations that deliver orders.
    pub fn is_deliverer(self) -> bool {
        matches!(self, OrgKind::DirectTeam | OrgKind::EquityPartner | OrgKind::SubcontractPartner)
    }

    /// Partners have a tier and share rates.
    pub fn is_partner(self) -> bool {
        matches!(self, OrgKind::EquityPartner | OrgKind::SubcontractPartner)
    }

    /// Organisations under the vendor's supervision (its parent is the vendor).
    pub fn is_supervised(self) -> bool {
        matches!(self, OrgKind::DirectTeam | OrgKind::EquityPartner)
    }
}

/// What a user may be in their organisation. A user holds one or more roles, all in the
/// organisation they belong to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumString, IntoStaticStr, EnumIter, serde::Serialize,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PlatformAdmin,
    VendorOps,
    VendorFinance,
    TeamAdmin,
    TeamMember,
    EquityAdmin,
    EquityStaff,
    SubAdmin,
    SubStaff,
    Implementer,
    ClientAdmin,
    ClientUser,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The organisation kinds in which this role exists.
    pub fn allowed_in(self, kind: OrgKind) -> bool {
        use OrgKind as K;
        match self {
            Role::PlatformAdmin | Role::VendorOps | Role::VendorFinance => kind == K::Vendor,
            Role::TeamAdmin | Role::TeamMember => kind == K::DirectTeam,
            Role::EquityAdmin | Role::EquityStaff => kind == K::EquityPartner,
            Role::SubAdmin | Role::SubStaff => kind == K::SubcontractPartner,
            Role::Implementer => kind != K::Client,
            Role::ClientAdmin | Role::ClientUser => kind == K::Client,
        }
    }

    /// The administrator role of an organisation kind: the one invited first.
    pub fn admin_of(kind: OrgKind) -> Role {
        match kind {
            OrgKind::Vendor => Role::PlatformAdmin,
            OrgKind::DirectTeam => Role::TeamAdmin,
            OrgKind::EquityPartner => Role::EquityAdmin,
            OrgKind::SubcontractPartner => Role::SubAdmin,
            OrgKind::Client => Role::ClientAdmin,
        }
    }
}

/// The kinds of thing the policy speaks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumString, IntoStaticStr, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Resource {
    Organisation,
    User,
    UserRole,
    Service,
    Certification,
    Credential,
    AuditEvent,
    Notification,
    /// A login session (bearer token).
    Session,
    /// A signed contract with a client; owned by its signer (and visible to its client).
    Contract,
    /// One line of a contract to deliver; its parties are the signer, the deliverer, the client
    /// and (as `self`) the implementers assigned to it.
    Order,
    /// An order published to the subcontract pool; owned by the signer that published it.
    Subcontract,
    /// A client's rating of a delivered order, and the quality scores computed from ratings.
    Rating,
    /// A revenue-share agreement template of the catalog.
    AgreementTemplate,
    /// Money received from a client or refunded to it.
    Payment,
    /// A settlement run: posting the shares of payments to the ledger.
    Settlement,
    /// Ledger entries and balances of a party (or, supervised, of a contract).
    Ledger,
    /// A payout batch: the positive payable balances of a period, approved by vendor finance.
    Payout,
    /// A party's statement for a period; owned by the party.
    Statement,
    /// The vendor's reports over the partners (attributable share of equity partners' earnings).
    Report,
    /// Evidence towards a credential (exam results, training hours); owned by the implementer.
    Evidence,
    /// The catalog of outcome milestones a client may reach (高新技术企业, 专精特新, listing …).
    OutcomeKind,
    /// An outcome milestone a client reached; its parties are the client, the organisations
    /// that signed its contracts and those that delivered its orders.
    Outcome,
    /// Customer-success metrics (success, repeat-sign, deep-sign, renewal rates, ratings, time
    /// to first acceptance, on-time delivery); a party sees the figures of its own business.
    Metrics,
    /// Money received and shares paid out, by region and period (vendor roles).
    CashFlow,
    /// Partner scorecards, tier thresholds and the tier assessments of each period; a partner
    /// owns its own scorecard and assessments.
    Tier,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A human name for messages ("organisation", "user role").
    pub fn label(self) -> String {
        self.as_str().replace('_', " ")
    }
}

/// What is done to a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumString, IntoStaticStr, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    /// Re-queue a dead message.
    Retry,
    /// End something early: a session, a credential.
    Revoke,
    /// Decide who delivers an order: assign, publish as a subcontract, cancel, re-dispatch.
    Dispatch,
    /// Take part in the subcontract pool: claim (first_claim) or bid (tender).
    Claim,
    /// Choose the winner of a tender.
    Award,
    /// Put implementers on an order one's organisation delivers.
    Assign,
    /// Complete a delivery milestone.
    Complete,
    /// Declare an order delivered.
    Deliver,
    /// Accept or dispute a delivery (the client).
    Accept,
    /// Settle a disputed delivery (vendor ops).
    Resolve,
    /// Rate a delivery (the client) or edit one's rating.
    Rate,
    /// Answer a rating (the deliverer).
    Reply,
    /// Run something that posts money (a settlement, a payout run).
    Run,
    /// Approve something that moves money out (a payout batch).
    Approve,
    /// Verify or reject what someone submitted (evidence, a reported milestone).
    Verify,
    /// Renew a credential that is expiring or expired.
    Renew,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How the caller stands to the record: the Casbin *domain* of a request. A policy line grants
/// a role an action on a resource kind in its own organisation (`own`), in organisations it
/// supervises (`supervised`: the vendor over its direct teams and equity partners), on the
/// caller's own user record (`self`), or anywhere (`any`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumString, IntoStaticStr, EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Relation {
    Own,
    Supervised,
    #[strum(serialize = "self")]
    Itself,
    Any,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub const fn bit(self) -> u8 {
        match self {
            Relation::Own => 1,
            Relation::Supervised => 2,
            Relation::Itself => 4,
            Relation::Any => 8,
        }
    }
}

/// A small set of relations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Relations(u8);

impl Relations {
    pub const NONE: Relations = Relations(0);

    pub fn with(self, r: Relation) -> Relations {
        Relations(self.0 | r.bit())
    }

    pub fn contains(self, r: Relation) -> bool {
        self.0 & r.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn intersects(self, other: Relations) -> bool {
        self.0 & other.0 != 0
    }

    pub fn union(self, other: Relations) -> Relations {
        Relations(self.0 | other.0)
    }
}

impl FromIterator<Relation> for Relations {
    fn from_iter<I: IntoIterator<Item = Relation>>(iter: I) -> Self {
        iter.into_iter().fold(Relations::NONE, Relations::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn every_kind_has_an_admin_role_that_lives_there() {
        for kind in OrgKind::iter() {
            assert!(Role::admin_of(kind).allowed_in(kind));
        }
    }

    #[test]
    fn names_round_trip() {
        for r in Role::iter() {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert_eq!(Relation::Itself.as_str(), "self");
        assert_eq!("self".parse::<Relation>().unwrap(), Relation::Itself);
        assert_eq!(Resource::UserRole.as_str(), "user_role");
    }

    #[test]
    fn relation_sets() {
        let s: Relations = [Relation::Own, Relation::Any].into_iter().collect();
        assert!(s.contains(Relation::Own) && !s.contains(Relation::Supervised));
        assert!(s.intersects(Relations::NONE.with(Relation::Any)));
    }
}
