//! Identity rules with no I/O: login throttling, token hashing, role assignment, user states.

use chrono::Duration;
use kernel::{Error, OrgKind, Role};
use sha2::{Digest, Sha256};
use strum::{EnumString, IntoStaticStr};

/// Consecutive failed logins allowed before the account is locked for a while.
pub const FAILURES_BEFORE_LOCK: i32 = 5;
const LOCK_BASE_S: i64 = 60;
const LOCK_MAX_S: i64 = 15 * 60;

/// After `failed` consecutive failures, how long the account stays locked: nothing for the
/// first four, then one minute, doubling with each further failure, at most fifteen minutes.
pub fn lockout(failed: i32) -> Option<Duration> {
    if failed < FAILURES_BEFORE_LOCK {
        return None;
    }
    let doublings = (failed - FAILURES_BEFORE_LOCK).min(10) as u32;
    Some(Duration::seconds((LOCK_BASE_S << doublings).min(LOCK_MAX_S)))
}

/// Tokens are stored as their SHA-256: a leaked table does not leak sessions. (Tokens are 256
/// random bits, so a fast hash is enough; passwords get argon2id.)
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Prefix of session (bearer) tokens.
pub const SESSION_PREFIX: &str = "vps_";
/// Prefix of one-time tokens (invitations, password resets).
pub const ONE_TIME_PREFIX: &str = "vpt_";

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum UserStatus {
    /// Invited, has not chosen a password yet.
    Invited,
    Active,
    /// Cannot log in; existing sessions are revoked.
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumString, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum TokenPurpose {
    Invite,
    Reset,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The roles a user of an organisation of `kind` may hold: at least one, each existing in that
/// kind of organisation. Returned sorted and without duplicates.
pub fn validate_roles(kind: OrgKind, roles: &[Role]) -> Result<Vec<Role>, Error> {
    if roles.is_empty() {
        return Err(Error::invalid("roles", "a user needs at least one role"));
    }
    if let Some(bad) = roles.iter().find(|r| !r.allowed_in(kind)) {
        return Err(Error::invalid(
            "roles",
            format!("role {} does not exist in a {} organisation", bad.as_str(), kind.as_str()),
        ));
    }
    let mut out = roles.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Refuses a role change that would leave an organisation without an administrator.
pub fn keeps_an_admin(kind: OrgKind, other_admins: u64, new_roles: &[Role], was_admin: bool) -> Result<(), Error> {
    let admin = Role::admin_of(kind);
    if was_admin && other_admins == 0 && !new_roles.contains(&admin) {
        return Err(Error::conflict(
            "last_admin",
            format!("this is the last {} of the organisation; appoint another one first", admin.as_str()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_at_the_fifth_failure_and_grows() {
        assert_eq!(lockout(4), None);
        assert_eq!(lockout(5), Some(Duration::seconds(60)));
        assert_eq!(lockout(6), Some(Duration::seconds(120)));
        assert_eq!(lockout(50), Some(Duration::seconds(900)));
    }

    #[test]
    fn roles_must_exist_in_the_organisation_kind() {
        assert!(validate_roles(OrgKind::Client, &[Role::VendorOps]).is_err());
        assert!(validate_roles(OrgKind::Client, &[]).is_err());
        let roles =
            validate_roles(OrgKind::SubcontractPartner, &[Role::Implementer, Role::SubStaff, Role::Implementer])
                .unwrap();
        assert_eq!(roles, vec![Role::SubStaff, Role::Implementer]);
    }

    #[test]
    fn the_last_admin_stays() {
        assert!(keeps_an_admin(OrgKind::EquityPartner, 0, &[Role::EquityStaff], true).is_err());
        assert!(keeps_an_admin(OrgKind::EquityPartner, 1, &[Role::EquityStaff], true).is_ok());
        assert!(keeps_an_admin(OrgKind::EquityPartner, 0, &[Role::EquityAdmin], true).is_ok());
    }

    #[test]
    fn token_hashes_are_stable_hex() {
        assert_eq!(token_hash("abc").len(), 64);
        assert_eq!(token_hash("abc"), token_hash("abc"));
        assert_ne!(token_hash("abc"), token_hash("abd"));
    }
}
