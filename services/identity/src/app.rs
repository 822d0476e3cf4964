//! Identity's use cases: logging in and out, resolving a token to a caller, managing users and
//! their roles, invitations and password resets.
//!
//! Passwords are hashed with argon2id (OWASP parameters: 19 MiB, 2 passes) on the blocking pool;
//! a login for an unknown address verifies against a dummy hash so that both take as long.
//! Failed logins are counted per account in the database (so every replica sees them) and per
//! unknown address in memory; either way the fifth failure locks further attempts for a while.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use kernel::{Action, Clock, Email, Error, Locale, OrgKind, Page, PageRequest, Password, Resource, Role};
use notify::{Notification, Recipient, Template};
use platform::audit::{self, Change};
use platform::{Actor, AppError, AppResult, Db, Owner, Permit, PolicyTable, Principal, finish};
use rand::RngCore;
use serde::Serialize;
use tracing::info;

use crate::domain::{self, ONE_TIME_PREFIX, SESSION_PREFIX, TokenPurpose, UserStatus};
use crate::store::{self, UserFilter, org_ref, user};

#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// How long an invitation link stays valid.
    pub invite_ttl: Duration,
    /// How long a password-reset link stays valid.
    pub reset_ttl: Duration,
    /// The address users reach the park at, for links in e-mails.
    pub public_url: String,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            session_ttl: Duration::hours(12),
            invite_ttl: Duration::days(7),
            reset_ttl: Duration::hours(1),
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// A user with their roles and organisation.
#[derive(Debug, Clone)]
pub struct UserDetails {
    pub user: user::Model,
    pub roles: Vec<Role>,
    pub org: org_ref::Model,
}

/// The result of a successful login. The token is shown once and never stored.
#[derive(Debug, Clone)]
pub struct LoginGrant {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserDetails,
}

/// What a user record looks like in the audit trail (no secrets).
#[derive(Serialize)]
struct UserSnapshot<'a> {
    email: &'a str,
    display_name: &'a str,
    phone: Option<&'a str>,
    locale: &'a str,
    status: &'a str,
    org_id: i64,
}

fn snapshot(u: &user::Model) -> UserSnapshot<'_> {
    UserSnapshot {
        email: &u.email,
        display_name: &u.display_name,
        phone: u.phone.as_deref(),
        locale: &u.locale,
        status: &u.status,
        org_id: u.org_id,
    }
}

/// A new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The organisation; None means the caller's own.
    pub org_id: Option<i64>,
    pub email: Email,
    pub display_name: String,
    pub phone: Option<String>,
    pub locale: Locale,
    pub roles: Vec<Role>,
    pub password: InitialPassword,
}

/// How a new user gets their password.
#[derive(Debug, Clone)]
pub enum InitialPassword {
    /// An e-mail invites them to choose one.
    Invite,
    /// Set now.
    Plain(Password),
    /// Set now from an argon2 hash computed once for many users (the demo seed).
    Hashed(String),
}

/// Changes to a user; None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    /// Some(None) clears the phone number.
    pub phone: Option<Option<String>>,
    pub locale: Option<Locale>,
    pub status: Option<UserStatus>,
}

pub struct Identity {
    db: Db,
    policy: Arc<PolicyTable>,
    clock: Arc<dyn Clock>,
    config: IdentityConfig,
    dummy_hash: String,
    unknown_failures: Mutex<HashMap<String, Failures>>,
}

const UNKNOWN_FAILURES_CAP: usize = 10_000;

/// Consecutive failures for an address, and until when it is locked.
type Failures = (i32, Option<DateTime<Utc>>);

impl Identity {
    pub async fn new(
        db: Db,
        policy: Arc<PolicyTable>,
        clock: Arc<dyn Clock>,
        config: IdentityConfig,
    ) -> AppResult<Identity> {
        let dummy_hash = hash_password(Password::offered(&random_token(""))).await?;
        Ok(Identity { db, policy, clock, config, dummy_hash, unknown_failures: Mutex::new(HashMap::new()) })
    }

    pub fn policy(&self) -> &PolicyTable {
        &self.policy
    }

    // ---- sessions -----------------------------------------------------------------------

    /// Logs in with e-mail and password. Every failure reads the same ("invalid e-mail or
    /// password") whether the address exists or not.
    pub async fn login(&self, email: &str, password: &str) -> AppResult<LoginGrant> {
        let now = self.clock.now();
        let invalid = || AppError(Error::Unauthenticated { message: "invalid e-mail or password".into() });
        let password = Password::offered(password);
        let Ok(email) = Email::parse(email) else {
            return Err(invalid());
        };
        let Some(u) = store::user_by_email(self.db.read(), email.as_str()).await? else {
            self.check_unknown_throttle(email.as_str(), now)?;
            let _ = verify_password(password, self.dummy_hash.clone()).await;
            self.count_unknown_failure(email.as_str(), now);
            return Err(invalid());
        };
        if let Some(until) = u.locked_until.filter(|t| *t > now) {
            return Err(too_many(until, now));
        }
        let ok = match u.password_hash.clone() {
            Some(hash) => verify_password(password, hash).await,
            None => {
                let _ = verify_password(password, self.dummy_hash.clone()).await;
                false
            }
        };
        if !ok {
            let failed = u.failed_logins.saturating_add(1);
            let locked_until = domain::lockout(failed).map(|d| now + d);
            let txn = self.db.begin().await?;
            let outcome: AppResult<()> = async {
                store::record_failure(&txn, u.id, failed, locked_until).await?;
                if let Some(until) = locked_until {
                    audit::record_in(
                        &txn,
                        &Actor::System("login"),
                        now,
                        Change::new(Resource::User, "locked", u.id)
                            .org(u.org_id)
                            .after(&serde_json::json!({ "failed_logins": failed, "locked_until": until })),
                    )
                    .await?;
                }
                Ok(())
            }
            .await;
            finish(txn, outcome).await?;
            return Err(invalid());
        }
        let org = store::org(self.db.read(), u.org_id)
            .await?
            .ok_or_else(|| Error::unexpected("user without organisation"))?;
        if u.status != UserStatus::Active.as_str() {
            return Err(Error::forbidden("this account is disabled; ask your organisation's administrator").into());
        }
        if org.status != "active" {
            return Err(Error::forbidden("your organisation is suspended in the park").into());
        }
        let token = random_token(SESSION_PREFIX);
        let expires_at = now + self.config.session_ttl;
        let txn = self.db.begin().await?;
        let outcome: AppResult<()> = async {
            store::insert_session(&txn, u.id, domain::token_hash(&token), now, expires_at).await?;
            store::record_success(&txn, u.id, now).await?;
            Ok(())
        }
        .await;
        finish(txn, outcome).await?;
        info!(user_id = u.id, "login");
        let roles = store::roles_of(self.db.read(), u.id).await?;
        Ok(LoginGrant { token, expires_at, user: UserDetails { user: u, roles, org } })
    }

    fn check_unknown_throttle(&self, email: &str, now: DateTime<Utc>) -> AppResult<()> {
        let map = self.unknown_failures.lock().map_err(|_| Error::unexpected("throttle lock poisoned"))?;
        if let Some((_, Some(until))) = map.get(email)
            && *until > now
        {
            return Err(too_many(*until, now));
        }
        Ok(())
    }

    fn count_unknown_failure(&self, email: &str, now: DateTime<Utc>) {
        if let Ok(mut map) = self.unknown_failures.lock() {
            if map.len() >= UNKNOWN_FAILURES_CAP {
                map.clear();
            }
            let entry = map.entry(email.to_owned()).or_insert((0, None));
            entry.0 = entry.0.saturating_add(1);
            entry.1 = domain::lockout(entry.0).map(|d| now + d);
        }
    }

    /// Resolves a bearer token to the caller: the session must exist, be unrevoked and
    /// unexpired, its user active and its organisation active. Roles are read on every call, so
    /// a role removed takes effect on the next request.
    pub async fn authenticate(&self, token: &str) -> AppResult<Principal> {
        let unauthenticated = |m: &str| AppError(Error::Unauthenticated { message: m.to_owned() });
        if !token.starts_with(SESSION_PREFIX) || token.len() > 200 {
            return Err(unauthenticated("the bearer token is not a vpark session token"));
        }
        let Some((row, roles)) = store::session_by_hash(self.db.read(), &domain::token_hash(token)).await? else {
            return Err(unauthenticated("the session does not exist or has ended; log in again"));
        };
        if row.expires_at <= self.clock.now() {
            return Err(unauthenticated("the session has expired; log in again"));
        }
        if row.user_status != UserStatus::Active.as_str() || row.org_status != "active" {
            return Err(unauthenticated("the account is disabled or its organisation suspended"));
        }
        let org_kind: OrgKind = row.org_kind.parse().map_err(|_| Error::unexpected("unknown organisation kind"))?;
        Ok(Principal {
            user_id: row.user_id,
            org_id: row.org_id,
            org_kind,
            org_parent_id: row.org_parent_id,
            roles,
            email: row.email,
            display_name: row.display_name,
            locale: Locale::parse(&row.locale).unwrap_or_default(),
            session_id: Some(row.session_id),
        })
    }

    /// The principal of an active user, without a session: for work the machine's operator
    /// does on a user's behalf (the demo seed acting as each demo account). Never reachable from
    /// a request.
    pub async fn principal_of_system(&self, email: &Email) -> AppResult<Principal> {
        let u = store::user_by_email(self.db.read(), email.as_str())
            .await?
            .ok_or_else(|| Error::not_found("user", email.as_str()))?;
        if u.status != UserStatus::Active.as_str() {
            return Err(Error::unprocessable("user_disabled", format!("{} is not active", email.as_str())).into());
        }
        let org =
            store::org(self.db.read(), u.org_id).await?.ok_or_else(|| Error::not_found("organisation", u.org_id))?;
        let org_kind: OrgKind = org.kind.parse().map_err(|_| Error::unexpected("unknown organisation kind"))?;
        let roles = store::roles_of(self.db.read(), u.id).await?;
        Ok(Principal {
            user_id: u.id,
            org_id: u.org_id,
            org_kind,
            org_parent_id: org.parent_id,
            roles,
            email: u.email,
            display_name: u.display_name,
            locale: Locale::parse(&u.locale).unwrap_or_default(),
            session_id: None,
        })
    }

    /// Ends the caller's session.
    pub async fn logout(&self, caller: &Principal) -> AppResult<()> {
        let _permit = self.policy.permit(caller, Resource::Session, Action::Revoke)?;
        let txn = self.db.begin().await?;
        let outcome: AppResult<()> = async {
            store::revoke_sessions(&txn, caller.user_id, Some(caller.session_id.unwrap_or(-1)), None, self.clock.now())
                .await?;
            Ok(())
        }
        .await;
        finish(txn, outcome).await
    }

    // ---- the caller ---------------------------------------------------------------------

    pub async fn me(&self, caller: &Principal) -> AppResult<UserDetails> {
        let permit = self.policy.permit(caller, Resource::User, Action::Read)?;
        self.details(&permit, caller, caller.user_id).await
    }

    /// Updates the caller's own profile (name, phone, language). Status is not theirs to change.
    pub async fn update_me(&self, caller: &Principal, mut patch: UserPatch) -> AppResult<UserDetails> {
        patch.status = None;
        self.update_user(caller, caller.user_id, patch).await
    }

    /// Changes the caller's password; their other sessions end.
    pub async fn change_password(&self, caller: &Principal, current: &str, new: &str) -> AppResult<()> {
        let _permit = self.policy.permit(caller, Resource::User, Action::Update)?;
        let new = Password::new_chosen(new)?;
        let u = store::user_in_scope(self.db.read(), &platform::Scope::All, caller.user_id)
            .await?
            .ok_or_else(|| Error::not_found("user", caller.user_id))?;
        let ok = match u.password_hash.clone() {
            Some(h) => verify_password(Password::offered(current), h).await,
            None => false,
        };
        if !ok {
            return Err(Error::invalid("current_password", "is not your current password").into());
        }
        let hash = hash_password(new).await?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<()> = async {
            set_password_in(&txn, u.id, hash, None, now).await?;
            store::revoke_sessions(&txn, u.id, None, caller.session_id, now).await?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::User, "password_changed", u.id).org(u.org_id),
            )
            .await?;
            Ok(())
        }
        .await;
        finish(txn, outcome).await
    }

    // ---- passwords by e-mail --------------------------------------------------------------

    /// Sends a password-reset link if the address belongs to an active user. Says nothing
    /// either way (no account enumeration) and sends at most one link a minute per user.
    pub async fn request_password_reset(&self, email: &str) -> AppResult<()> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let Some(u) = store::user_by_email(self.db.read(), email.as_str()).await? else {
            return Ok(());
        };
        if u.status != UserStatus::Active.as_str() {
            return Ok(());
        }
        let now = self.clock.now();
        if let Some(last) = store::last_token_at(self.db.read(), u.id, TokenPurpose::Reset.as_str()).await?
            && now - last < Duration::minutes(1)
        {
            return Ok(());
        }
        let token = random_token(ONE_TIME_PREFIX);
        let expires_at = now + self.config.reset_ttl;
        let txn = self.db.begin().await?;
        let outcome: AppResult<()> = async {
            store::insert_one_time_token(
                &txn,
                u.id,
                TokenPurpose::Reset.as_str(),
                domain::token_hash(&token),
                now,
                expires_at,
            )
            .await?;
            notify::enqueue_in(
                &txn,
                now,
                &Notification {
                    template: Template::PasswordReset,
                    to: recipient(&u),
                    payload: serde_json::json!({
                        "link": self.link(&token),
                        "expires_at": format_time(expires_at),
                    }),
                    org_id: Some(u.org_id),
                    dedupe_key: None,
                },
            )
            .await?;
            audit::record_in(
                &txn,
                &Actor::System("password_reset"),
                now,
                Change::new(Resource::User, "password_reset_requested", u.id).org(u.org_id),
            )
            .await?;
            Ok(())
        }
        .await;
        finish(txn, outcome).await
    }

    /// Sets a password with a one-time token from an invitation or reset e-mail. The token works
    /// once; an invited user becomes active; all the user's sessions end.
    pub async fn set_password_with_token(&self, token: &str, password: &str) -> AppResult<()> {
        let password = Password::new_chosen(password)?;
        let hash = hash_password(password).await?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<()> = async {
            let user_id =
                store::consume_one_time_token(&txn, &domain::token_hash(token), now).await?.ok_or_else(|| {
                    Error::unprocessable("invalid_token", "the link is invalid, used or expired; ask for a new one")
                })?;
            let u = store::user_in_scope(&txn, &platform::Scope::All, user_id)
                .await?
                .ok_or_else(|| Error::not_found("user", user_id))?;
            if u.status == UserStatus::Disabled.as_str() {
                return Err(Error::forbidden("this account is disabled").into());
            }
            set_password_in(&txn, user_id, hash, Some(UserStatus::Active), now).await?;
            store::revoke_sessions(&txn, user_id, None, None, now).await?;
            audit::record_in(
                &txn,
                &Actor::System("one_time_link"),
                now,
                Change::new(Resource::User, "password_set", user_id).org(u.org_id),
            )
            .await?;
            Ok(())
        }
        .await;
        finish(txn, outcome).await
    }

    fn link(&self, token: &str) -> String {
        format!("{}/set-password?token={token}", self.config.public_url.trim_end_matches('/'))
    }

    // ---- users ----------------------------------------------------------------------------

    pub async fn list_users(
        &self,
        caller: &Principal,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> AppResult<Page<UserDetails>> {
        let permit = self.policy.permit(caller, Resource::User, Action::Read)?;
        let rows = store::list_users(self.db.read(), &permit.scope(Some(caller)), filter, page).await?;
        self.with_roles_and_orgs(rows).await
    }

    pub async fn get_user(&self, caller: &Principal, id: i64) -> AppResult<UserDetails> {
        let permit = self.policy.permit(caller, Resource::User, Action::Read)?;
        self.details(&permit, caller, id).await
    }

    async fn details(&self, read: &Permit, caller: &Principal, id: i64) -> AppResult<UserDetails> {
        let u = store::user_in_scope(self.db.read(), &read.scope(Some(caller)), id)
            .await?
            .ok_or_else(|| Error::not_found("user", id))?;
        let org = store::org(self.db.read(), u.org_id)
            .await?
            .ok_or_else(|| Error::unexpected("user without organisation"))?;
        let roles = store::roles_of(self.db.read(), u.id).await?;
        Ok(UserDetails { user: u, roles, org })
    }

    async fn with_roles_and_orgs(&self, page: Page<user::Model>) -> AppResult<Page<UserDetails>> {
        let ids: Vec<i64> = page.items.iter().map(|u| u.id).collect();
        let mut org_ids: Vec<i64> = page.items.iter().map(|u| u.org_id).collect();
        org_ids.sort_unstable();
        org_ids.dedup();
        let roles = store::roles_of_many(self.db.read(), &ids).await?;
        let orgs: HashMap<i64, org_ref::Model> =
            store::orgs(self.db.read(), &org_ids).await?.into_iter().map(|o| (o.id, o)).collect();
        let mut out = Vec::with_capacity(page.items.len());
        for u in page.items {
            let org = orgs.get(&u.org_id).cloned().ok_or_else(|| Error::unexpected("user without organisation"))?;
            let user_roles = roles.iter().filter(|(id, _)| *id == u.id).map(|(_, r)| *r).collect();
            out.push(UserDetails { user: u, roles: user_roles, org });
        }
        Ok(Page { items: out, next: page.next })
    }

    /// Creates a user in the caller's organisation (or, for the platform admin, any). Without a
    /// password the user is `invited` and receives an e-mail with a link to choose one.
    pub async fn create_user(&self, caller: &Principal, new: NewUser) -> AppResult<UserDetails> {
        let permit = self.policy.permit(caller, Resource::User, Action::Create)?;
        let org_read = self.policy.permit(caller, Resource::Organisation, Action::Read)?;
        let org_id = new.org_id.unwrap_or(caller.org_id);
        self.create_user_as(&Actor::of(caller), Some(caller), &permit, &org_read, org_id, new).await
    }

    /// Creates a user as the machine's operator (CLI, seed).
    pub async fn create_user_system(&self, who: &'static str, org_id: i64, new: NewUser) -> AppResult<UserDetails> {
        let permit = Permit::system(Resource::User, Action::Create);
        let org_read = Permit::system(Resource::Organisation, Action::Read);
        self.create_user_as(&Actor::System(who), None, &permit, &org_read, org_id, new).await
    }

    async fn create_user_as(
        &self,
        actor: &Actor,
        caller: Option<&Principal>,
        permit: &Permit,
        org_read: &Permit,
        org_id: i64,
        new: NewUser,
    ) -> AppResult<UserDetails> {
        let display_name = kernel::text::required_text("display_name", &new.display_name, 100)?;
        let phone = new.phone.as_deref().map(|p| kernel::text::required_text("phone", p, 40)).transpose()?;
        let hash = match new.password.clone() {
            InitialPassword::Plain(p) => Some(hash_password(p).await?),
            InitialPassword::Hashed(h) => Some(h),
            InitialPassword::Invite => None,
        };
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<(user::Model, org_ref::Model, Vec<Role>, Option<String>)> = async {
            let org = self.visible_org(&txn, org_read, caller, org_id).await?;
            let kind: OrgKind = org.kind.parse().map_err(|_| Error::unexpected("unknown organisation kind"))?;
            permit.admit(caller, &owner_of(&org, None))?;
            let roles = domain::validate_roles(kind, &new.roles)?;
            if store::user_by_email(&txn, new.email.as_str()).await?.is_some() {
                return Err(
                    Error::conflict("email_taken", format!("a user with e-mail {} already exists", new.email)).into()
                );
            }
            let status = if hash.is_some() { UserStatus::Active } else { UserStatus::Invited };
            let row = user::ActiveModel {
                id: Default::default(),
                org_id: sea_orm::Set(org.id),
                email: sea_orm::Set(new.email.as_str().to_owned()),
                display_name: sea_orm::Set(display_name.clone()),
                phone: sea_orm::Set(phone.clone()),
                password_hash: sea_orm::Set(hash.clone()),
                locale: sea_orm::Set(new.locale.as_str().to_owned()),
                status: sea_orm::Set(status.as_str().to_owned()),
                failed_logins: sea_orm::Set(0),
                locked_until: sea_orm::Set(None),
                last_login_at: sea_orm::Set(None),
                created_at: sea_orm::Set(now),
                updated_at: sea_orm::Set(now),
            };
            let u = sea_orm::ActiveModelTrait::insert(row, &txn).await.map_err(|e| {
                if platform::db::is_unique_violation(&e) {
                    AppError(Error::conflict("email_taken", format!("a user with e-mail {} already exists", new.email)))
                } else {
                    e.into()
                }
            })?;
            store::replace_roles(&txn, u.id, org.id, &roles, now).await?;
            let mut invite_token = None;
            if status == UserStatus::Invited {
                let token = random_token(ONE_TIME_PREFIX);
                let expires_at = now + self.config.invite_ttl;
                store::insert_one_time_token(
                    &txn,
                    u.id,
                    TokenPurpose::Invite.as_str(),
                    domain::token_hash(&token),
                    now,
                    expires_at,
                )
                .await?;
                notify::enqueue_in(
                    &txn,
                    now,
                    &Notification {
                        template: Template::UserInvited,
                        to: recipient(&u),
                        payload: serde_json::json!({
                            "org_name": org.name_zh,
                            "invited_by": actor.label(),
                            "link": self.link(&token),
                            "expires_at": format_time(expires_at),
                        }),
                        org_id: Some(org.id),
                        dedupe_key: None,
                    },
                )
                .await?;
                invite_token = Some(token);
            }
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::User, "created", u.id)
                    .org(org.id)
                    .after(&serde_json::json!({ "user": snapshot(&u), "roles": roles })),
            )
            .await?;
            Ok((u, org, roles, invite_token))
        }
        .await;
        let (u, org, roles, _) = finish(txn, outcome).await?;
        Ok(UserDetails { user: u, roles, org })
    }

    /// The organisation `org_id` if the caller may see it (404 otherwise).
    async fn visible_org<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        org_read: &Permit,
        caller: Option<&Principal>,
        org_id: i64,
    ) -> AppResult<org_ref::Model> {
        let org = store::org(conn, org_id).await?.ok_or_else(|| Error::not_found("organisation", org_id))?;
        let visible = match caller {
            None => true,
            Some(p) => org_read.covers(platform::access::relations_to(p, &owner_of(&org, None))),
        };
        if visible { Ok(org) } else { Err(Error::not_found("organisation", org_id).into()) }
    }

    /// Updates a user's profile or status. Disabling a user ends their sessions.
    pub async fn update_user(&self, caller: &Principal, id: i64, patch: UserPatch) -> AppResult<UserDetails> {
        let read = self.policy.permit(caller, Resource::User, Action::Read)?;
        let permit = self.policy.permit(caller, Resource::User, Action::Update)?;
        if patch.status.is_some() && id == caller.user_id {
            return Err(Error::forbidden("you cannot change the status of your own account").into());
        }
        let display_name =
            patch.display_name.as_deref().map(|n| kernel::text::required_text("display_name", n, 100)).transpose()?;
        let phone = match &patch.phone {
            Some(Some(p)) => Some(Some(kernel::text::required_text("phone", p, 40)?)),
            Some(None) => Some(None),
            None => None,
        };
        if patch.status == Some(UserStatus::Invited) {
            return Err(Error::invalid("status", "a user can be set active or disabled, not invited").into());
        }
        let now = self.clock.now();
        let scope = read.scope(Some(caller));
        let txn = self.db.begin().await?;
        let outcome: AppResult<user::Model> = async {
            let before = store::user_in_scope(&txn, &scope, id).await?.ok_or_else(|| Error::not_found("user", id))?;
            let org =
                store::org(&txn, before.org_id).await?.ok_or_else(|| Error::unexpected("user without organisation"))?;
            permit.admit(Some(caller), &owner_of(&org, Some(before.id)))?;
            if patch.status == Some(UserStatus::Active) && before.password_hash.is_none() {
                return Err(Error::conflict(
                    "no_password",
                    "this user has not chosen a password yet; they activate by the invitation link",
                )
                .into());
            }
            let mut am: user::ActiveModel = before.clone().into();
            if let Some(n) = &display_name {
                am.display_name = sea_orm::Set(n.clone());
            }
            if let Some(p) = &phone {
                am.phone = sea_orm::Set(p.clone());
            }
            if let Some(l) = patch.locale {
                am.locale = sea_orm::Set(l.as_str().to_owned());
            }
            if let Some(s) = patch.status {
                am.status = sea_orm::Set(s.as_str().to_owned());
                if s == UserStatus::Disabled && before.status != UserStatus::Disabled.as_str() {
                    let kind: OrgKind = org.kind.parse().map_err(|_| Error::unexpected("unknown organisation kind"))?;
                    let roles = store::roles_of(&txn, id).await?;
                    let admin = Role::admin_of(kind);
                    let others = store::count_role_holders(&txn, org.id, admin, id).await?;
                    domain::keeps_an_admin(kind, others, &[], roles.contains(&admin))?;
                    store::revoke_sessions(&txn, id, None, None, now).await?;
                }
            }
            am.updated_at = sea_orm::Set(now);
            let after = sea_orm::ActiveModelTrait::update(am, &txn).await?;
            audit::record_in(
                &txn,
                &Actor::of(caller),
                now,
                Change::new(Resource::User, "updated", id)
                    .org(after.org_id)
                    .before(&snapshot(&before))
                    .after(&snapshot(&after)),
            )
            .await?;
            Ok(after)
        }
        .await;
        finish(txn, outcome).await?;
        self.details(&read, caller, id).await
    }

    /// Replaces a user's roles. Only roles of the user's kind of organisation; never leaves an
    /// organisation without its administrator. Takes effect on the user's next request.
    pub async fn set_roles(&self, caller: &Principal, id: i64, roles: &[Role]) -> AppResult<UserDetails> {
        let read = self.policy.permit(caller, Resource::UserRole, Action::Read)?;
        let permit = self.policy.permit(caller, Resource::UserRole, Action::Update)?;
        self.set_roles_as(&Actor::of(caller), Some(caller), &read, &permit, id, roles).await?;
        let user_read = self.policy.permit(caller, Resource::User, Action::Read)?;
        self.details(&user_read, caller, id).await
    }

    /// Replaces a user's roles as the machine's operator (CLI).
    pub async fn set_roles_system(&self, email: &Email, roles: &[Role]) -> AppResult<UserDetails> {
        let u = store::user_by_email(self.db.read(), email.as_str())
            .await?
            .ok_or_else(|| Error::not_found("user", email))?;
        let read = Permit::system(Resource::UserRole, Action::Read);
        let permit = Permit::system(Resource::UserRole, Action::Update);
        self.set_roles_as(&Actor::System("cli"), None, &read, &permit, u.id, roles).await?;
        self.details(&Permit::system(Resource::User, Action::Read), &system_principal(), u.id).await
    }

    async fn set_roles_as(
        &self,
        actor: &Actor,
        caller: Option<&Principal>,
        read: &Permit,
        permit: &Permit,
        id: i64,
        roles: &[Role],
    ) -> AppResult<()> {
        let now = self.clock.now();
        let scope = read.scope(caller);
        let txn = self.db.begin().await?;
        let outcome: AppResult<()> = async {
            let u = store::user_in_scope(&txn, &scope, id).await?.ok_or_else(|| Error::not_found("user", id))?;
            let org =
                store::org(&txn, u.org_id).await?.ok_or_else(|| Error::unexpected("user without organisation"))?;
            permit.admit(caller, &owner_of(&org, Some(u.id)))?;
            let kind: OrgKind = org.kind.parse().map_err(|_| Error::unexpected("unknown organisation kind"))?;
            let new_roles = domain::validate_roles(kind, roles)?;
            let before = store::roles_of(&txn, id).await?;
            let admin = Role::admin_of(kind);
            let others = store::count_role_holders(&txn, org.id, admin, id).await?;
            domain::keeps_an_admin(kind, others, &new_roles, before.contains(&admin) && u.status != "disabled")?;
            store::replace_roles(&txn, id, org.id, &new_roles, now).await?;
            audit::record_in(
                &txn,
                actor,
                now,
                Change::new(Resource::UserRole, "changed", id).org(org.id).before(&before).after(&new_roles),
            )
            .await?;
            Ok(())
        }
        .await;
        finish(txn, outcome).await
    }

    /// Sets a user's password as the machine's operator (CLI); the user becomes active and their
    /// sessions end.
    pub async fn set_password_system(&self, email: &Email, password: Password) -> AppResult<()> {
        let u = store::user_by_email(self.db.read(), email.as_str())
            .await?
            .ok_or_else(|| Error::not_found("user", email))?;
        let hash = hash_password(password).await?;
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let outcome: AppResult<()> = async {
            let status = if u.status == UserStatus::Disabled.as_str() { None } else { Some(UserStatus::Active) };
            set_password_in(&txn, u.id, hash, status, now).await?;
            store::revoke_sessions(&txn, u.id, None, None, now).await?;
            audit::record_in(
                &txn,
                &Actor::System("cli"),
                now,
                Change::new(Resource::User, "password_set", u.id).org(u.org_id),
            )
            .await?;
            Ok(())
        }
        .await;
        finish(txn, outcome).await
    }

    pub async fn user_by_email(&self, email: &Email) -> AppResult<Option<user::Model>> {
        Ok(store::user_by_email(self.db.read(), email.as_str()).await?)
    }
}

#[async_trait::async_trait]
impl platform::http::Authenticate for Identity {
    async fn authenticate(&self, token: &str) -> Result<Principal, Error> {
        Identity::authenticate(self, token).await.map_err(|e| e.0)
    }
}

async fn set_password_in<C: sea_orm::ConnectionTrait>(
    conn: &C,
    user_id: i64,
    hash: String,
    status: Option<UserStatus>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut q = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(user::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id));
    if let Some(s) = status {
        q = q.col_expr(user::Column::Status, Expr::value(s.as_str()));
    }
    q.exec(conn).await?;
    Ok(())
}

fn owner_of(org: &org_ref::Model, user_id: Option<i64>) -> Owner {
    Owner {
        org_id: org.id,
        org_kind: org.kind.parse().unwrap_or(OrgKind::Client),
        org_parent_id: org.parent_id,
        user_id,
    }
}

/// A principal that stands for the machine's operator in reads that need one.
fn system_principal() -> Principal {
    Principal {
        user_id: 0,
        org_id: 0,
        org_kind: OrgKind::Vendor,
        org_parent_id: None,
        roles: Vec::new(),
        email: "system".into(),
        display_name: "system".into(),
        locale: Locale::default(),
        session_id: None,
    }
}

fn recipient(u: &user::Model) -> Recipient {
    Recipient {
        email: u.email.clone(),
        name: u.display_name.clone(),
        locale: Locale::parse(&u.locale).unwrap_or_default(),
    }
}

fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn too_many(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let retry_after_s = (until - now).num_seconds().max(1) as u64;
    AppError(Error::TooManyRequests {
        message: format!("too many failed logins; try again in {retry_after_s} s"),
        retry_after_s,
    })
}

/// A random token: 32 bytes from the OS generator, hex-encoded, with a prefix that says what it
/// is (so a leaked token is recognisable by secret scanners).
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// Hashes a password with argon2id on the blocking pool.
pub async fn hash_password(password: Password) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
    })
    .await
    .map_err(|e| anyhow::anyhow!("password hashing task failed: {e}"))?
    .map_err(AppError::from)
}

/// Verifies a password against a stored hash on the blocking pool. A malformed hash is a
/// mismatch, never a panic.
pub async fn verify_password(password: Password, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}
