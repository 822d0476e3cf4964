//! The inputs of every authorization decision.
//!
//! The policy (Casbin, loaded by `identity::policy`) is compiled at start-up into a
//! `PolicyTable`: for each (role, resource kind, action) the set of relations in which it is
//! allowed. A service asks the table for a `Permit` before it touches anything; functions that
//! change state take the permit as an argument, so a forgotten check does not compile. Whether a
//! given *record* is the caller's is then a query filter (`Scope`) — a record the caller may not
//! see is "not found", a visible record the caller may not change is "forbidden".

use std::collections::HashMap;

use kernel::access::Relations;
use kernel::{Action, Error, Locale, OrgKind, Relation, Resource, Role};

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: i64,
    pub org_id: i64,
    pub org_kind: OrgKind,
    pub org_parent_id: Option<i64>,
    pub roles: Vec<Role>,
    pub email: String,
    pub display_name: String,
    pub locale: Locale,
    pub session_id: Option<i64>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn roles_label(&self) -> String {
        if self.roles.is_empty() {
            "no role".into()
        } else {
            self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
        }
    }
}

/// Who did something, for the audit trail and for `created_by` columns.
#[derive(Clone, Debug)]
pub enum Actor {
    User {
        user_id: i64,
        org_id: i64,
        email: String,
    },
    /// The operator on the machine (CLI), the seed, or a background job.
    System(&'static str),
}

impl Actor {
    pub fn of(p: &Principal) -> Actor {
        Actor::User { user_id: p.user_id, org_id: p.org_id, email: p.email.clone() }
    }

    pub fn user_id(&self) -> Option<i64> {
        match self {
            Actor::User { user_id, .. } => Some(*user_id),
            Actor::System(_) => None,
        }
    }

    pub fn org_id(&self) -> Option<i64> {
        match self {
            Actor::User { org_id, .. } => Some(*org_id),
            Actor::System(_) => None,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Actor::User { email, .. } => email.clone(),
            Actor::System(who) => format!("system:{who}"),
        }
    }
}

/// Who owns a record, as far as access is concerned.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub org_id: i64,
    pub org_kind: OrgKind,
    pub org_parent_id: Option<i64>,
    /// Set when the record is (or belongs to) one user: their user record, their credential.
    pub user_id: Option<i64>,
}

/// How the caller stands to a record owned by `owner`.
pub fn relations_to(p: &Principal, owner: &Owner) -> Relations {
    let mut rels = Relations::NONE.with(Relation::Any);
    if owner.org_id == p.org_id {
        rels = rels.with(Relation::Own);
    }
    if p.org_kind == OrgKind::Vendor && owner.org_kind.is_supervised() && owner.org_parent_id == Some(p.org_id) {
        rels = rels.with(Relation::Supervised);
    }
    if owner.user_id == Some(p.user_id) {
        rels = rels.with(Relation::Itself);
    }
    rels
}

/// Which records a list may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Limited {
        /// Records of this organisation (the caller's own).
        own_org: Option<i64>,
        /// Records of organisations supervised by this one (the caller's vendor org).
        supervised_by: Option<i64>,
        /// Records of this user (the caller themself).
        user: Option<i64>,
    },
}

impl Scope {
    /// True when the scope admits nothing at all.
    pub fn is_empty(&self) -> bool {
        matches!(self, Scope::Limited { own_org: None, supervised_by: None, user: None })
    }
}

/// Proof that the policy allows `action` on `resource` for the caller in some relations.
#[must_use]
#[derive(Clone, Debug)]
pub struct Permit {
    resource: Resource,
    action: Action,
    relations: Relations,
}

impl Permit {
    /// A permit for work the machine's operator or a background job does (CLI, seed, sweeps):
    /// allowed everywhere. Never constructed from a request.
    pub fn system(resource: Resource, action: Action) -> Permit {
        Permit { resource, action, relations: Relations::NONE.with(Relation::Any) }
    }

    pub fn resource(&self) -> Resource {
        self.resource
    }

    pub fn action(&self) -> Action {
        self.action
    }

    pub fn allows(&self, relation: Relation) -> bool {
        self.relations.contains(relation)
    }

    /// True when the permit covers a record to which the caller stands in `rels`.
    pub fn covers(&self, rels: Relations) -> bool {
        self.relations.intersects(rels)
    }

    /// The records this permit reaches, for list queries.
    pub fn scope(&self, caller: Option<&Principal>) -> Scope {
        if self.allows(Relation::Any) {
            return Scope::All;
        }
        let Some(p) = caller else {
            return Scope::Limited { own_org: None, supervised_by: None, user: None };
        };
        Scope::Limited {
            own_org: self.allows(Relation::Own).then_some(p.org_id),
            supervised_by: (self.allows(Relation::Supervised) && p.org_kind == OrgKind::Vendor).then_some(p.org_id),
            user: self.allows(Relation::Itself).then_some(p.user_id),
        }
    }

    /// Checks this permit against one record the caller can see.
    ///
    /// Call it after loading the record through the caller's *read* scope: a record they
    /// cannot see has already been "not found" (404); a visible record they may not change is
    /// refused here (403).
    pub fn admit(&self, caller: Option<&Principal>, owner: &Owner) -> Result<(), Error> {
        let rels = match caller {
            Some(p) => relations_to(p, owner),
            None => Relations::NONE.with(Relation::Any),
        };
        if self.covers(rels) {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "you may not {} this {}: it is outside the organisations your role covers for that",
                self.action.as_str(),
                self.resource.label()
            )))
        }
    }
}

/// The compiled policy: for each (role, resource, action), the relations in which it is
/// allowed. Built once from the Casbin model and policy; role assignments are not in it (they
/// are read from the database with each request), so a revoked role takes effect at once.
#[derive(Clone, Debug, Default)]
pub struct PolicyTable {
    grants: HashMap<(Role, Resource, Action), Relations>,
}

impl PolicyTable {
    pub fn from_grants(grants: HashMap<(Role, Resource, Action), Relations>) -> Self {
        PolicyTable { grants }
    }

    /// Everything a set of roles may do: (resource, action, relations), sorted.
    pub fn grants_for(&self, roles: &[Role]) -> Vec<(Resource, Action, Relations)> {
        let mut merged: HashMap<(Resource, Action), Relations> = HashMap::new();
        for ((role, resource, action), rels) in &self.grants {
            if roles.contains(role) {
                let e = merged.entry((*resource, *action)).or_default();
                *e = e.union(*rels);
            }
        }
        let mut out: Vec<_> = merged.into_iter().map(|((r, a), rels)| (r, a, rels)).collect();
        out.sort_by_key(|(r, a, _)| (r.as_str(), a.as_str()));
        out
    }

    pub fn relations(&self, role: Role, resource: Resource, action: Action) -> Relations {
        self.grants.get(&(role, resource, action)).copied().unwrap_or_default()
    }

    /// The caller's permit for an action on a kind of resource, or 403 naming what was refused.
    pub fn permit(&self, p: &Principal, resource: Resource, action: Action) -> Result<Permit, Error> {
        let relations =
            p.roles.iter().fold(Relations::NONE, |acc, role| acc.union(self.relations(*role, resource, action)));
        if relations.is_empty() {
            return Err(Error::forbidden(format!(
                "your role ({}) may not {} {}",
                p.roles_label(),
                action.as_str(),
                plural(resource)
            )));
        }
        Ok(Permit { resource, action, relations })
    }
}

fn plural(r: Resource) -> String {
    let label = r.label();
    if label.ends_with('s') { label } else { format!("{label}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(org_id: i64, kind: OrgKind, roles: &[Role]) -> Principal {
        Principal {
            user_id: 100 + org_id,
            org_id,
            org_kind: kind,
            org_parent_id: None,
            roles: roles.to_vec(),
            email: "a@b.cn".into(),
            display_name: "A".into(),
            locale: Locale::ZhCn,
            session_id: None,
        }
    }

    #[test]
    fn the_vendor_supervises_its_equity_partners_but_not_subcontractors() {
        let ops = principal(1, OrgKind::Vendor, &[Role::VendorOps]);
        let equity = Owner { org_id: 2, org_kind: OrgKind::EquityPartner, org_parent_id: Some(1), user_id: None };
        let sub = Owner { org_id: 3, org_kind: OrgKind::SubcontractPartner, org_parent_id: Some(1), user_id: None };
        assert!(relations_to(&ops, &equity).contains(Relation::Supervised));
        assert!(!relations_to(&ops, &sub).contains(Relation::Supervised));
    }

    #[test]
    fn permits_combine_roles_and_refuse_with_a_message() {
        let mut grants = HashMap::new();
        grants.insert((Role::EquityAdmin, Resource::User, Action::Read), Relations::NONE.with(Relation::Own));
        let table = PolicyTable::from_grants(grants);
        let admin = principal(2, OrgKind::EquityPartner, &[Role::EquityStaff, Role::EquityAdmin]);
        let permit = table.permit(&admin, Resource::User, Action::Read).unwrap();
        assert_eq!(permit.scope(Some(&admin)), Scope::Limited { own_org: Some(2), supervised_by: None, user: None });
        let err = table.permit(&admin, Resource::User, Action::Create).unwrap_err();
        assert!(err.to_string().contains("may not create users"), "{err}");
    }

    #[test]
    fn a_visible_record_outside_the_permit_is_403() {
        let mut grants = HashMap::new();
        grants.insert((Role::EquityAdmin, Resource::User, Action::Update), Relations::NONE.with(Relation::Own));
        let table = PolicyTable::from_grants(grants);
        let admin = principal(2, OrgKind::EquityPartner, &[Role::EquityAdmin]);
        let permit = table.permit(&admin, Resource::User, Action::Update).unwrap();
        let other = Owner { org_id: 9, org_kind: OrgKind::EquityPartner, org_parent_id: Some(1), user_id: None };
        assert!(matches!(permit.admit(Some(&admin), &other), Err(Error::Forbidden { .. })));
        let mine = Owner { org_id: 2, ..other };
        assert!(permit.admit(Some(&admin), &mine).is_ok());
    }
}
