//! Loading the Casbin policy and compiling it into a `PolicyTable`.
//!
//! The model and policy (`policies/model.conf`, `policies/policy.csv`) are embedded in the
//! binary and may be overridden by files at start-up. Loading fails closed: a model that does
//! not parse, a policy line that names an unknown role, domain, resource or action, or a model
//! whose request is not `(sub, dom, obj, act)` stops the server from starting. Once loaded,
//! Casbin's decision for every (role, domain, resource, action) is computed once into a table —
//! the policy is immutable while the process runs, and role assignments are not part of it, so
//! nothing can go stale. Casbin stays the single authority: the table holds its answers.

use std::collections::{HashMap, HashSet};

use casbin::{CoreApi, DefaultModel, Enforcer, StringAdapter};
use kernel::access::Relations;
use kernel::{Action, Relation, Resource, Role};
use platform::PolicyTable;
use strum::IntoEnumIterator;

pub const EMBEDDED_MODEL: &str = include_str!("../../../policies/model.conf");
pub const EMBEDDED_POLICY: &str = include_str!("../../../policies/policy.csv");

/// Loads and compiles the policy. Any problem is an error: never start with a partial policy.
pub async fn compile(model_text: &str, policy_text: &str) -> anyhow::Result<PolicyTable> {
    // Casbin is asked about every (resource, action) pair that some line of the policy names —
    // every other pair is denied by construction, since `validate` admits only concrete names.
    let pairs = validate(policy_text)?;
    let model = DefaultModel::from_str(model_text)
        .await
        .map_err(|e| anyhow::anyhow!("the access model does not parse: {e}"))?;
    let enforcer = Enforcer::new(model, StringAdapter::new(policy_text))
        .await
        .map_err(|e| anyhow::anyhow!("the access policy does not load: {e}"))?;
    let mut grants = HashMap::new();
    for role in Role::iter() {
        for &(resource, action) in &pairs {
            let mut rels = Relations::NONE;
            for relation in Relation::iter() {
                let allowed = enforcer
                    .enforce((role.as_str(), relation.as_str(), resource.as_str(), action.as_str()))
                    .map_err(|e| anyhow::anyhow!("the access model cannot decide: {e}"))?;
                if allowed {
                    rels = rels.with(relation);
                }
            }
            if !rels.is_empty() {
                grants.insert((role, resource, action), rels);
            }
        }
    }
    if grants.is_empty() {
        anyhow::bail!("the access policy grants nothing: refusing to start");
    }
    Ok(PolicyTable::from_grants(grants))
}

/// Checks every line of the policy against the vocabulary of `kernel::access`, and returns the
/// (resource, action) pairs the policy speaks about.
pub fn validate(policy_text: &str) -> anyhow::Result<Vec<(Resource, Action)>> {
    let mut pairs = HashSet::new();
    let mut abstract_roles = HashSet::new();
    let mut p_lines = Vec::new();
    for (n, raw) in policy_text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let at = || format!("policy line {}: {line:?}", n + 1);
        match fields.as_slice() {
            ["g", child, parent] => {
                for name in [child, parent] {
                    if name.parse::<Role>().is_err() {
                        abstract_roles.insert((*name).to_owned());
                    }
                }
                if parent.parse::<Role>().is_ok() && child.parse::<Role>().is_err() {
                    anyhow::bail!("{}: an abstract role cannot inherit an assignable one", at());
                }
            }
            ["p", sub, dom, obj, act] => {
                if dom.parse::<Relation>().is_err() {
                    anyhow::bail!("{}: unknown domain {dom:?} (own, supervised, self, any)", at());
                }
                let Ok(resource) = obj.parse::<Resource>() else {
                    anyhow::bail!("{}: unknown resource {obj:?}", at());
                };
                let Ok(action) = act.parse::<Action>() else {
                    anyhow::bail!("{}: unknown action {act:?}", at());
                };
                pairs.insert((resource, action));
                p_lines.push((at(), (*sub).to_owned()));
            }
            _ => anyhow::bail!("{}: expected `p, role, domain, resource, action` or `g, role, role`", at()),
        }
    }
    for (at, sub) in p_lines {
        if sub.parse::<Role>().is_err() && !abstract_roles.contains(&sub) {
            anyhow::bail!("{at}: unknown role {sub:?}");
        }
    }
    Ok(pairs.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_shipped_policy_compiles() {
        let table = compile(EMBEDDED_MODEL, EMBEDDED_POLICY).await.unwrap();
        // The supervisory right: vendor ops read users of supervised organisations.
        let rels = table.relations(Role::VendorOps, Resource::User, Action::Read);
        assert!(rels.contains(Relation::Supervised) && !rels.contains(Relation::Any));
        // Inheritance: an equity admin manages users of its own organisation.
        assert!(table.relations(Role::EquityAdmin, Resource::User, Action::Create).contains(Relation::Own));
        // And nobody but the platform admin creates organisations.
        for role in Role::iter().filter(|r| *r != Role::PlatformAdmin) {
            assert!(table.relations(role, Resource::Organisation, Action::Create).is_empty(), "{role:?}");
        }
    }

    #[tokio::test]
    async fn typos_refuse_to_start() {
        for bad in [
            "p, vendor_ops, any, organisaton, read",
            "p, vendor_ops, anywhere, organisation, read",
            "p, vendor_opps, any, organisation, read",
            "p, vendor_ops, any, organisation, raed",
            "p, vendor_ops, any, organisation",
            "g, park_member, vendor_ops",
        ] {
            assert!(compile(EMBEDDED_MODEL, bad).await.is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_broken_model_fails_closed() {
        assert!(compile("[request_definition]\nr = sub\n", EMBEDDED_POLICY).await.is_err());
        assert!(compile(EMBEDDED_MODEL, "# nothing\n").await.is_err());
    }
}
