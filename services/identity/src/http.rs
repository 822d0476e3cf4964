//! The identity API: logging in and out, the caller's own account, users and roles, the audit
//! trail. Handlers parse, call one use case, and map the result.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kernel::{Action, Resource};
use kernel::{Email, Locale, Relation, Role};
use platform::api_types::CursorText;
use platform::api_types::{
    Accepted, Done, EmailText, Line, LocaleName, OrgKindName, PasswordText, PhoneText, RoleName, SecretText,
};
use platform::audit::AuditFilter;
use platform::http::{ApiResult, Caller, OperationPermit, page_request};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::{Any, Example, MaybeUndefined};
use poem_openapi::{Enum, Object, OpenApi, Tags};
use strum::IntoEnumIterator;

use crate::app::{Identity, InitialPassword, NewUser, UserDetails, UserPatch};
use crate::audit::AuditLog;
use crate::domain::UserStatus;
use crate::store::UserFilter;

/// What each operation of this API asks of the policy first (`platform::http::Gate`): a role
/// the policy does not allow the action at all gets its 403 before the request is validated.
pub const PERMITS: &[OperationPermit] = &[
    ("logout", Resource::Session, Action::Revoke),
    ("getMe", Resource::User, Action::Read),
    ("updateMe", Resource::User, Action::Update),
    ("changeMyPassword", Resource::User, Action::Update),
    ("listUsers", Resource::User, Action::Read),
    ("createUser", Resource::User, Action::Create),
    ("getUser", Resource::User, Action::Read),
    ("updateUser", Resource::User, Action::Update),
    ("setUserRoles", Resource::UserRole, Action::Update),
    ("listAuditEvents", Resource::AuditEvent, Action::Read),
];

#[derive(Tags)]
enum ApiTags {
    /// Logging in and out, the caller's own account, passwords.
    Auth,
    /// Users of every organisation and their roles.
    Users,
    /// Who changed what, when.
    Audit,
}

fn example_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

/// A user's state.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "UserStatus")]
pub enum UserStatusName {
    Invited,
    Active,
    Disabled,
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct LoginRequest {
    pub email: Line<254>,
    #[oai(write_only)]
    pub password: SecretText,
}

impl Example for LoginRequest {
    fn example() -> Self {
        LoginRequest { email: "ops@vpark.demo".into(), password: "vpark-demo".into() }
    }
}

/// An organisation in brief.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct OrgSummary {
    pub id: i64,
    pub kind: OrgKindName,
    pub name_zh: String,
    #[oai(nullable)]
    pub name_en: Option<String>,
    #[oai(nullable)]
    pub parent_id: Option<i64>,
}

impl Example for OrgSummary {
    fn example() -> Self {
        OrgSummary {
            id: 1,
            kind: OrgKindName::Vendor,
            name_zh: "云栖企服科技有限公司".into(),
            name_en: Some("Yunqi Enterprise Services".into()),
            parent_id: None,
        }
    }
}

/// One permission of the caller: an action on a kind of resource, in the domains where it
/// applies (`own`, `supervised`, `self`, `any`).
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct PermissionView {
    pub resource: String,
    pub action: String,
    pub domains: Vec<String>,
}

impl Example for PermissionView {
    fn example() -> Self {
        PermissionView { resource: "organisation".into(), action: "read".into(), domains: vec!["any".into()] }
    }
}

/// The signed-in user, their organisation, roles and what they may do.
#[derive(Object, Debug)]
#[oai(example)]
pub struct MeView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    #[oai(nullable)]
    pub phone: Option<String>,
    pub locale: LocaleName,
    pub roles: Vec<RoleName>,
    pub organisation: OrgSummary,
    pub permissions: Vec<PermissionView>,
}

impl Example for MeView {
    fn example() -> Self {
        MeView {
            id: 2,
            email: "ops@vpark.demo".into(),
            display_name: "陈静".into(),
            phone: Some("+86 138 0000 0002".into()),
            locale: LocaleName::ZhCn,
            roles: vec![RoleName::VendorOps],
            organisation: OrgSummary::example(),
            permissions: vec![PermissionView::example()],
        }
    }
}

#[derive(Object, Debug)]
#[oai(example)]
pub struct LoginResponse {
    /// The bearer token: send it as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    pub token_type: String,
    pub expires_at: DateTime<Utc>,
    pub user: MeView,
}

impl Example for LoginResponse {
    fn example() -> Self {
        LoginResponse {
            token: "vps_3b6f0c2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a".into(),
            token_type: "Bearer".into(),
            expires_at: example_time(),
            user: MeView::example(),
        }
    }
}

platform::created!(UserCreated, UserView);

/// A user of the park.
#[derive(Object, Debug)]
#[oai(example)]
pub struct UserView {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub email: String,
    pub display_name: String,
    #[oai(nullable)]
    pub phone: Option<String>,
    pub locale: LocaleName,
    pub status: UserStatusName,
    pub roles: Vec<RoleName>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[oai(nullable)]
    pub last_login_at: Option<DateTime<Utc>>,
}

impl Example for UserView {
    fn example() -> Self {
        UserView {
            id: 17,
            org_id: 5,
            org_name: "杭州云帆财税服务有限公司".into(),
            email: "wang.li@yunfan-tax.cn".into(),
            display_name: "王丽".into(),
            phone: None,
            locale: LocaleName::ZhCn,
            status: UserStatusName::Active,
            roles: vec![RoleName::EquityStaff, RoleName::Implementer],
            created_at: example_time(),
            updated_at: example_time(),
            last_login_at: Some(example_time()),
        }
    }
}

platform::page_of!(UserPage, UserView);

impl From<UserDetails> for UserView {
    fn from(d: UserDetails) -> Self {
        UserView {
            id: d.user.id,
            org_id: d.user.org_id,
            org_name: d.org.name_zh,
            email: d.user.email,
            display_name: d.user.display_name,
            phone: d.user.phone,
            locale: Locale::parse(&d.user.locale).unwrap_or_default().into(),
            status: d.user.status.parse::<UserStatus>().unwrap_or(UserStatus::Disabled).into(),
            roles: d.roles.into_iter().map(Into::into).collect(),
            created_at: d.user.created_at,
            updated_at: d.user.updated_at,
            last_login_at: d.user.last_login_at,
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct CreateUserRequest {
    /// The user's organisation. Defaults to the caller's own; only the platform admin may name
    /// another one.
    #[oai(nullable)]
    pub org_id: Option<i64>,
    pub email: EmailText,
    pub display_name: Line<100>,
    #[oai(nullable)]
    pub phone: Option<PhoneText>,
    /// Defaults to `zh-CN`.
    #[oai(nullable)]
    pub locale: Option<LocaleName>,
    /// At least one; each must exist in the organisation's kind.
    #[oai(validator(min_items = 1, max_items = 12, unique_items))]
    pub roles: Vec<RoleName>,
    /// Set a password now. Without one the user is invited by e-mail to choose it.
    #[oai(nullable, write_only)]
    pub password: Option<PasswordText>,
}

impl Example for CreateUserRequest {
    fn example() -> Self {
        CreateUserRequest {
            org_id: None,
            email: "zhao.lei@yunfan-tax.cn".into(),
            display_name: "赵磊".into(),
            phone: Some("+86 139 0000 1234".into()),
            locale: Some(LocaleName::ZhCn),
            roles: vec![RoleName::EquityStaff, RoleName::Implementer],
            password: None,
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[oai(nullable)]
    pub display_name: Option<Line<100>>,
    /// `null` clears the phone number.
    #[oai(nullable)]
    pub phone: MaybeUndefined<PhoneText>,
    #[oai(nullable)]
    pub locale: Option<LocaleName>,
    /// `active` or `disabled`. Disabling ends the user's sessions. Not for your own account.
    #[oai(nullable)]
    pub status: Option<UserStatusName>,
}

impl Example for UpdateUserRequest {
    fn example() -> Self {
        UpdateUserRequest {
            display_name: Some("赵磊".into()),
            phone: MaybeUndefined::Null,
            locale: None,
            status: Some(UserStatusName::Disabled),
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[oai(nullable)]
    pub display_name: Option<Line<100>>,
    /// `null` clears the phone number.
    #[oai(nullable)]
    pub phone: MaybeUndefined<PhoneText>,
    #[oai(nullable)]
    pub locale: Option<LocaleName>,
}

impl Example for UpdateMeRequest {
    fn example() -> Self {
        UpdateMeRequest { display_name: None, phone: MaybeUndefined::Undefined, locale: Some(LocaleName::En) }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct SetRolesRequest {
    #[oai(validator(min_items = 1, max_items = 12, unique_items))]
    pub roles: Vec<RoleName>,
}

impl Example for SetRolesRequest {
    fn example() -> Self {
        SetRolesRequest { roles: vec![RoleName::SubStaff, RoleName::Implementer] }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[oai(write_only)]
    pub current_password: SecretText,
    #[oai(write_only)]
    pub new_password: PasswordText,
}

impl Example for ChangePasswordRequest {
    fn example() -> Self {
        ChangePasswordRequest { current_password: "vpark-demo".into(), new_password: "a-longer-passphrase".into() }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: Line<254>,
}

impl Example for PasswordResetRequest {
    fn example() -> Self {
        PasswordResetRequest { email: "sub@vpark.demo".into() }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct SetPasswordRequest {
    /// The token from the invitation or reset link.
    #[oai(write_only)]
    pub token: Line<200>,
    #[oai(write_only)]
    pub password: PasswordText,
}

impl Example for SetPasswordRequest {
    fn example() -> Self {
        SetPasswordRequest {
            token: "vpt_9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a3b6f0c2a".into(),
            password: "a-longer-passphrase".into(),
        }
    }
}

/// One audit event.
#[derive(Object, Debug)]
#[oai(example)]
pub struct AuditEventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The user who made the change; absent for the system (CLI, seed, background jobs).
    #[oai(nullable)]
    pub actor_user_id: Option<i64>,
    pub actor: String,
    /// `resource.verb`, e.g. `organisation.updated`.
    pub action: String,
    pub resource_kind: String,
    pub resource_id: String,
    #[oai(nullable)]
    pub org_id: Option<i64>,
    #[oai(nullable)]
    pub before: Option<Any<serde_json::Value>>,
    #[oai(nullable)]
    pub after: Option<Any<serde_json::Value>>,
    #[oai(nullable)]
    pub request_id: Option<String>,
}

impl Example for AuditEventView {
    fn example() -> Self {
        AuditEventView {
            id: 311,
            at: example_time(),
            actor_user_id: Some(1),
            actor: "admin@vpark.demo".into(),
            action: "user_role.changed".into(),
            resource_kind: "user_role".into(),
            resource_id: "17".into(),
            org_id: Some(5),
            before: Some(Any(serde_json::json!(["equity_staff"]))),
            after: Some(Any(serde_json::json!(["equity_staff", "implementer"]))),
            request_id: Some("7f3a9c2e4b1d8a60".into()),
        }
    }
}

platform::page_of!(AuditEventPage, AuditEventView);

impl From<platform::audit::AuditEvent> for AuditEventView {
    fn from(e: platform::audit::AuditEvent) -> Self {
        AuditEventView {
            id: e.id,
            at: e.at,
            actor_user_id: e.actor_user_id,
            actor: e.actor_label,
            action: e.action,
            resource_kind: e.resource_kind,
            resource_id: e.resource_id,
            org_id: e.org_id,
            before: e.before.map(Any),
            after: e.after.map(Any),
            request_id: e.request_id,
        }
    }
}

fn me_view(identity: &Identity, d: UserDetails) -> MeView {
    let permissions = identity
        .policy()
        .grants_for(&d.roles)
        .into_iter()
        .map(|(resource, action, rels)| PermissionView {
            resource: resource.as_str().into(),
            action: action.as_str().into(),
            domains: Relation::iter().filter(|r| rels.contains(*r)).map(|r| r.as_str().into()).collect(),
        })
        .collect();
    MeView {
        id: d.user.id,
        email: d.user.email,
        display_name: d.user.display_name,
        phone: d.user.phone,
        locale: Locale::parse(&d.user.locale).unwrap_or_default().into(),
        roles: d.roles.into_iter().map(Into::into).collect(),
        organisation: OrgSummary {
            id: d.org.id,
            kind: d.org.kind.parse::<kernel::OrgKind>().unwrap_or(kernel::OrgKind::Client).into(),
            name_zh: d.org.name_zh,
            name_en: d.org.name_en,
            parent_id: d.org.parent_id,
        },
        permissions,
    }
}

fn patch_phone(phone: MaybeUndefined<PhoneText>) -> Result<Option<Option<String>>, kernel::Error> {
    Ok(match phone {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(p) => Some(Some(p.checked("phone")?.to_owned())),
    })
}

fn display_name(name: Option<Line<100>>) -> Result<Option<String>, kernel::Error> {
    name.map(|n| n.checked("display_name")).transpose()
}

fn roles(names: Vec<RoleName>) -> Vec<Role> {
    names.into_iter().map(Into::into).collect()
}

pub struct AuthApi {
    pub identity: Arc<Identity>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Log in
    ///
    /// Exchanges an e-mail address and password for a bearer token. After five failed attempts
    /// the account is locked for a minute, then longer (429 with `Retry-After`).
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(&self, body: Json<LoginRequest>) -> ApiResult<Json<LoginResponse>> {
        // Any text is tried (and fails like a wrong password): a login never says which part
        // of it was wrong.
        let grant = self.identity.login(&body.0.email.0, &body.0.password.0).await?;
        Ok(Json(LoginResponse {
            token: grant.token,
            token_type: "Bearer".into(),
            expires_at: grant.expires_at,
            user: me_view(&self.identity, grant.user),
        }))
    }

    /// Log out
    ///
    /// Ends the session of the token used for this request.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(&self, auth: Caller) -> ApiResult<Done> {
        self.identity.logout(&auth.0).await?;
        Ok(Done::NoContent)
    }

    /// Ask for a password-reset link
    ///
    /// If the address belongs to an active user, an e-mail with a one-hour link is sent. The
    /// answer is the same either way.
    #[oai(path = "/auth/password-reset", method = "post", operation_id = "requestPasswordReset")]
    async fn request_reset(&self, body: Json<PasswordResetRequest>) -> ApiResult<Accepted> {
        self.identity.request_password_reset(&body.0.email.checked("email")?).await?;
        Ok(Accepted::Accepted)
    }

    /// Choose a password with a link token
    ///
    /// Completes an invitation or a password reset. The token works once; all sessions of the
    /// user end.
    #[oai(path = "/auth/password", method = "post", operation_id = "setPasswordWithToken")]
    async fn set_password(&self, body: Json<SetPasswordRequest>) -> ApiResult<Done> {
        let password = body.0.password.checked("password")?;
        self.identity.set_password_with_token(&body.0.token.0, password).await?;
        Ok(Done::NoContent)
    }

    /// Who am I
    ///
    /// The signed-in user, their organisation, roles and permissions.
    #[oai(path = "/me", method = "get", operation_id = "getMe")]
    async fn me(&self, auth: Caller) -> ApiResult<Json<MeView>> {
        let d = self.identity.me(&auth.0).await?;
        Ok(Json(me_view(&self.identity, d)))
    }

    /// Update my profile
    #[oai(path = "/me", method = "patch", operation_id = "updateMe")]
    async fn update_me(&self, auth: Caller, body: Json<UpdateMeRequest>) -> ApiResult<Json<MeView>> {
        let b = body.0;
        let patch = UserPatch {
            display_name: display_name(b.display_name)?,
            phone: patch_phone(b.phone)?,
            locale: b.locale.map(Into::into),
            status: None,
        };
        let d = self.identity.update_me(&auth.0, patch).await?;
        Ok(Json(me_view(&self.identity, d)))
    }

    /// Change my password
    ///
    /// Your other sessions end; this one stays.
    #[oai(path = "/me/password", method = "post", operation_id = "changeMyPassword")]
    async fn change_password(&self, auth: Caller, body: Json<ChangePasswordRequest>) -> ApiResult<Done> {
        let new = body.0.new_password.checked("new_password")?;
        self.identity.change_password(&auth.0, &body.0.current_password.0, new).await?;
        Ok(Done::NoContent)
    }
}

pub struct UserApi {
    pub identity: Arc<Identity>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Users")]
impl UserApi {
    /// List users
    ///
    /// The users the caller may see: the platform admin sees everyone; vendor ops see the
    /// vendor's own people and those of its direct teams and equity partners; an organisation's
    /// administrator and staff see their own organisation.
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: Caller,
        org_id: Query<Option<i64>>,
        role: Query<Option<RoleName>>,
        status: Query<Option<UserStatusName>>,
        /// Part of the e-mail address or name.
        q: Query<Option<String>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<UserPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = UserFilter {
            org_id: org_id.0,
            role: role.0.map(Into::into),
            status: status.0.map(|s| UserStatus::from(s).as_str().to_owned()),
            query: q.0,
        };
        let users = self.identity.list_users(&auth.0, &filter, &page).await?;
        Ok(Json(UserPage::from_page(users, UserView::from)))
    }

    /// Create a user
    ///
    /// Without a password the user is `invited`: they get an e-mail (in their language) with a
    /// seven-day link to choose one.
    #[oai(path = "/users", method = "post", operation_id = "createUser")]
    async fn create(&self, auth: Caller, body: Json<CreateUserRequest>) -> ApiResult<UserCreated> {
        let b = body.0;
        let new = NewUser {
            org_id: b.org_id,
            email: Email::parse(b.email.checked("email")?)?,
            display_name: b.display_name.checked("display_name")?,
            phone: b.phone.map(|p| p.checked("phone").map(str::to_owned)).transpose()?,
            locale: b.locale.map(Into::into).unwrap_or_default(),
            roles: roles(b.roles),
            password: match &b.password {
                Some(p) => InitialPassword::Plain(kernel::Password::new_chosen(p.checked("password")?)?),
                None => InitialPassword::Invite,
            },
        };
        let view = UserView::from(self.identity.create_user(&auth.0, new).await?);
        let location = format!("/api/v1/users/{}", view.id);
        Ok(UserCreated::at(view, location))
    }

    /// Read a user
    #[oai(path = "/users/:id", method = "get", operation_id = "getUser")]
    async fn get(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<UserView>> {
        Ok(Json(self.identity.get_user(&auth.0, id.0).await?.into()))
    }

    /// Update a user
    #[oai(path = "/users/:id", method = "patch", operation_id = "updateUser")]
    async fn update(&self, auth: Caller, id: Path<i64>, body: Json<UpdateUserRequest>) -> ApiResult<Json<UserView>> {
        let b = body.0;
        let patch = UserPatch {
            display_name: display_name(b.display_name)?,
            phone: patch_phone(b.phone)?,
            locale: b.locale.map(Into::into),
            status: b.status.map(Into::into),
        };
        Ok(Json(self.identity.update_user(&auth.0, id.0, patch).await?.into()))
    }

    /// Replace a user's roles
    ///
    /// Roles must exist in the user's kind of organisation; an organisation always keeps an
    /// administrator. The change applies from the user's next request.
    #[oai(path = "/users/:id/roles", method = "put", operation_id = "setUserRoles")]
    async fn set_roles(&self, auth: Caller, id: Path<i64>, body: Json<SetRolesRequest>) -> ApiResult<Json<UserView>> {
        Ok(Json(self.identity.set_roles(&auth.0, id.0, &roles(body.0.roles)).await?.into()))
    }
}

pub struct AuditApi {
    pub audit: Arc<AuditLog>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Audit")]
impl AuditApi {
    /// List audit events
    ///
    /// Newest first: who changed what, with the record before and after.
    #[oai(path = "/audit-events", method = "get", operation_id = "listAuditEvents")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: Caller,
        resource_kind: Query<Option<String>>,
        resource_id: Query<Option<String>>,
        actor_user_id: Query<Option<i64>>,
        org_id: Query<Option<i64>>,
        action: Query<Option<String>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<AuditEventPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = AuditFilter {
            resource_kind: resource_kind.0,
            resource_id: resource_id.0,
            actor_user_id: actor_user_id.0,
            org_id: org_id.0,
            action: action.0,
        };
        let events = self.audit.list(&auth.0, &filter, &page).await?;
        Ok(Json(AuditEventPage::from_page(events, AuditEventView::from)))
    }
}
