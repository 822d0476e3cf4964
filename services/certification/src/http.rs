//! The certification API: the catalog and implementers' credentials.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use kernel::{Action, Resource};
use platform::api_types::CursorText;
use platform::api_types::{CategoryCode, CodeText, Line, Para};
use platform::http::{ApiResult, Caller, OperationPermit, page_request};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::{Example, MaybeUndefined};
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::app::{CertPatch, Certification, Certifications, Credential, CredentialPatch, NewCredential};
use crate::domain::{CertDef, CertStatus, CredentialFacts, CredentialStatus};
use crate::store::CredentialFilter;

/// What each operation of this API asks of the policy first (`platform::http::Gate`): a role
/// the policy does not allow the action at all gets its 403 before the request is validated.
pub const PERMITS: &[OperationPermit] = &[
    ("listCertifications", Resource::Certification, Action::Read),
    ("createCertification", Resource::Certification, Action::Create),
    ("getCertification", Resource::Certification, Action::Read),
    ("updateCertification", Resource::Certification, Action::Update),
    ("listCredentials", Resource::Credential, Action::Read),
    ("createCredential", Resource::Credential, Action::Create),
    ("getCredential", Resource::Credential, Action::Read),
    ("updateCredential", Resource::Credential, Action::Update),
    ("getCertificationRequirements", Resource::Certification, Action::Read),
    ("publishCertificationRequirements", Resource::Certification, Action::Update),
    ("getCredentialProgress", Resource::Credential, Action::Read),
    ("getCertificationProgress", Resource::Credential, Action::Read),
    ("renewCredential", Resource::Credential, Action::Renew),
    ("submitEvidence", Resource::Evidence, Action::Create),
    ("listEvidence", Resource::Evidence, Action::Read),
    ("getEvidence", Resource::Evidence, Action::Read),
    ("verifyEvidence", Resource::Evidence, Action::Verify),
    ("rejectEvidence", Resource::Evidence, Action::Verify),
];

#[derive(Tags)]
enum ApiTags {
    /// The certification catalog.
    Certifications,
    /// Implementers' credentials.
    Credentials,
}

fn example_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

fn example_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

fn maybe<T>(m: MaybeUndefined<T>) -> Option<Option<T>> {
    match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "CertStatus")]
pub enum CertStatusName {
    Active,
    Retired,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "CredentialStatus")]
pub enum CredentialStatusName {
    InProgress,
    Earned,
    Expiring,
    Expired,
    Revoked,
}

platform::created!(CertificationCreated, CertificationView);

/// A certification of the catalog.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct CertificationView {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub category: String,
    #[oai(nullable)]
    pub description: Option<String>,
    pub validity_months: i32,
    pub status: CertStatusName,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Example for CertificationView {
    fn example() -> Self {
        CertificationView {
            id: 2,
            code: "ERP-L2".into(),
            name_zh: "ERP 实施顾问（二级）".into(),
            name_en: "ERP implementation consultant, level 2".into(),
            category: "erp".into(),
            description: None,
            validity_months: 24,
            status: CertStatusName::Active,
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

impl From<Certification> for CertificationView {
    fn from(c: Certification) -> Self {
        let d = c.def;
        CertificationView {
            id: c.id,
            code: d.code,
            name_zh: d.name_zh,
            name_en: d.name_en,
            category: d.category,
            description: d.description,
            validity_months: d.validity_months,
            status: d.status.into(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

platform::page_of!(CertificationPage, CertificationView);

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct CreateCertificationRequest {
    /// A-Z, 0-9, '-' and '_'.
    pub code: CodeText,
    pub name_zh: Line<200>,
    pub name_en: Line<200>,
    pub category: CategoryCode,
    #[oai(nullable)]
    pub description: Option<Para<4000>>,
    /// 1 to 120.
    #[oai(validator(minimum(value = "1"), maximum(value = "120")))]
    pub validity_months: i32,
}

impl Example for CreateCertificationRequest {
    fn example() -> Self {
        CreateCertificationRequest {
            code: "HT-ADV".into(),
            name_zh: "高企认定辅导顾问".into(),
            name_en: "High-tech certification advisor".into(),
            category: "high_tech".into(),
            description: None,
            validity_months: 36,
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct UpdateCertificationRequest {
    #[oai(nullable)]
    pub name_zh: Option<Line<200>>,
    #[oai(nullable)]
    pub name_en: Option<Line<200>>,
    #[oai(nullable)]
    pub category: Option<CategoryCode>,
    #[oai(nullable)]
    pub description: MaybeUndefined<Para<4000>>,
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "120")))]
    pub validity_months: Option<i32>,
    #[oai(nullable)]
    pub status: Option<CertStatusName>,
}

impl Example for UpdateCertificationRequest {
    fn example() -> Self {
        UpdateCertificationRequest {
            name_zh: None,
            name_en: None,
            category: None,
            description: MaybeUndefined::Undefined,
            validity_months: Some(24),
            status: None,
        }
    }
}

platform::created!(CredentialCreated, CredentialView);

/// A credential held (or being earned) by an implementer.
#[derive(Object, Debug)]
#[oai(example)]
pub struct CredentialView {
    pub id: i64,
    pub user_id: i64,
    pub holder_name: String,
    pub org_id: i64,
    pub certification_id: i64,
    pub certification_code: String,
    pub certification_name_zh: String,
    pub certification_name_en: String,
    pub status: CredentialStatusName,
    #[oai(nullable)]
    pub issued_on: Option<NaiveDate>,
    #[oai(nullable)]
    pub expires_on: Option<NaiveDate>,
    #[oai(nullable)]
    pub revoked_reason: Option<String>,
    /// True when the credential counts for dispatch today (earned or expiring, not past its
    /// expiry date, not revoked).
    pub valid: bool,
    /// The version of the certification's requirements it was earned under.
    #[oai(nullable)]
    pub requirements_version: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Example for CredentialView {
    fn example() -> Self {
        CredentialView {
            id: 31,
            user_id: 17,
            holder_name: "王丽".into(),
            org_id: 5,
            certification_id: 2,
            certification_code: "ERP-L2".into(),
            certification_name_zh: "ERP 实施顾问（二级）".into(),
            certification_name_en: "ERP implementation consultant, level 2".into(),
            status: CredentialStatusName::Earned,
            issued_on: Some(example_date("2025-06-01")),
            expires_on: Some(example_date("2027-06-01")),
            revoked_reason: None,
            valid: true,
            requirements_version: Some(2),
            created_at: example_time(),
            updated_at: example_time(),
        }
    }
}

impl From<Credential> for CredentialView {
    fn from(c: Credential) -> Self {
        CredentialView {
            id: c.id,
            user_id: c.user_id,
            holder_name: c.holder_name,
            org_id: c.org_id,
            certification_id: c.certification.id,
            certification_code: c.certification.def.code,
            certification_name_zh: c.certification.def.name_zh,
            certification_name_en: c.certification.def.name_en,
            status: c.facts.status.into(),
            issued_on: c.facts.issued_on,
            expires_on: c.facts.expires_on,
            revoked_reason: c.facts.revoked_reason,
            valid: c.valid,
            requirements_version: c.requirements_version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

platform::page_of!(CredentialPage, CredentialView);

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct CreateCredentialRequest {
    /// The implementer (a user with the `implementer` role).
    pub user_id: i64,
    /// The certification's code.
    pub certification: CodeText,
    /// Defaults to `earned` when an issue date is given, else `in_progress`.
    #[oai(nullable)]
    pub status: Option<CredentialStatusName>,
    #[oai(nullable)]
    pub issued_on: Option<NaiveDate>,
    /// Defaults to the issue date plus the certification's validity.
    #[oai(nullable)]
    pub expires_on: Option<NaiveDate>,
}

impl Example for CreateCredentialRequest {
    fn example() -> Self {
        CreateCredentialRequest {
            user_id: 17,
            certification: "ERP-L2".into(),
            status: None,
            issued_on: Some(example_date("2026-11-20")),
            expires_on: None,
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct UpdateCredentialRequest {
    #[oai(nullable)]
    pub status: Option<CredentialStatusName>,
    #[oai(nullable)]
    pub issued_on: MaybeUndefined<NaiveDate>,
    #[oai(nullable)]
    pub expires_on: MaybeUndefined<NaiveDate>,
    /// Required when revoking.
    #[oai(nullable)]
    pub revoked_reason: MaybeUndefined<Para<1000>>,
}

impl Example for UpdateCredentialRequest {
    fn example() -> Self {
        UpdateCredentialRequest {
            status: Some(CredentialStatusName::Revoked),
            issued_on: MaybeUndefined::Undefined,
            expires_on: MaybeUndefined::Undefined,
            revoked_reason: MaybeUndefined::Value("考试成绩经核查无效".into()),
        }
    }
}

pub struct CertificationApi {
    pub certifications: Arc<Certifications>,
}

#[OpenApi(prefix_path = "/api/v1")]
impl CertificationApi {
    /// List certifications
    #[oai(
        path = "/certifications",
        method = "get",
        operation_id = "listCertifications",
        tag = "ApiTags::Certifications"
    )]
    async fn list_certs(
        &self,
        auth: Caller,
        category: Query<Option<String>>,
        /// Part of the code or name.
        q: Query<Option<String>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<CertificationPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let certs = self.certifications.list_certs(&auth.0, category.0.as_deref(), q.0.as_deref(), &page).await?;
        Ok(Json(CertificationPage::from_page(certs, CertificationView::from)))
    }

    /// Create a certification
    #[oai(
        path = "/certifications",
        method = "post",
        operation_id = "createCertification",
        tag = "ApiTags::Certifications"
    )]
    async fn create_cert(
        &self,
        auth: Caller,
        body: Json<CreateCertificationRequest>,
    ) -> ApiResult<CertificationCreated> {
        let b = body.0;
        let def = CertDef {
            code: b.code.code("code")?,
            name_zh: b.name_zh.checked("name_zh")?,
            name_en: b.name_en.checked("name_en")?,
            category: b.category.checked("category")?,
            description: b.description.map(|d| d.checked("description")).transpose()?,
            validity_months: b.validity_months,
            status: CertStatus::Active,
        };
        let view = CertificationView::from(self.certifications.create_cert(&auth.0, def).await?);
        let location = format!("/api/v1/certifications/{}", view.id);
        Ok(CertificationCreated::at(view, location))
    }

    /// Read a certification
    #[oai(
        path = "/certifications/:id",
        method = "get",
        operation_id = "getCertification",
        tag = "ApiTags::Certifications"
    )]
    async fn get_cert(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<CertificationView>> {
        Ok(Json(self.certifications.get_cert(&auth.0, id.0).await?.into()))
    }

    /// Update a certification
    #[oai(
        path = "/certifications/:id",
        method = "patch",
        operation_id = "updateCertification",
        tag = "ApiTags::Certifications"
    )]
    async fn update_cert(
        &self,
        auth: Caller,
        id: Path<i64>,
        body: Json<UpdateCertificationRequest>,
    ) -> ApiResult<Json<CertificationView>> {
        let b = body.0;
        let patch = CertPatch {
            name_zh: b.name_zh.map(|n| n.checked("name_zh")).transpose()?,
            name_en: b.name_en.map(|n| n.checked("name_en")).transpose()?,
            category: b.category.map(|c| c.checked("category")).transpose()?,
            description: maybe(b.description).map(|d| d.map(|d| d.checked("description")).transpose()).transpose()?,
            validity_months: b.validity_months,
            status: b.status.map(Into::into),
        };
        Ok(Json(self.certifications.update_cert(&auth.0, id.0, patch).await?.into()))
    }

    /// List credentials
    ///
    /// Implementers see their own; partner administrators and staff their organisation's;
    /// vendor ops and the platform admin everyone's.
    #[oai(path = "/credentials", method = "get", operation_id = "listCredentials", tag = "ApiTags::Credentials")]
    #[allow(clippy::too_many_arguments)]
    async fn list_credentials(
        &self,
        auth: Caller,
        user_id: Query<Option<i64>>,
        org_id: Query<Option<i64>>,
        certification_id: Query<Option<i64>>,
        status: Query<Option<CredentialStatusName>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<CredentialPage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = CredentialFilter {
            user_id: user_id.0,
            org_id: org_id.0,
            certification_id: certification_id.0,
            status: status.0.map(|s| CredentialStatus::from(s).as_str().to_owned()),
        };
        let creds = self.certifications.list_credentials(&auth.0, &filter, &page).await?;
        Ok(Json(CredentialPage::from_page(creds, CredentialView::from)))
    }

    /// Record a credential
    #[oai(path = "/credentials", method = "post", operation_id = "createCredential", tag = "ApiTags::Credentials")]
    async fn create_credential(
        &self,
        auth: Caller,
        body: Json<CreateCredentialRequest>,
    ) -> ApiResult<CredentialCreated> {
        let b = body.0;
        let status = b.status.map(Into::into).unwrap_or(if b.issued_on.is_some() {
            CredentialStatus::Earned
        } else {
            CredentialStatus::InProgress
        });
        let new = NewCredential {
            user_id: b.user_id,
            certification_code: b.certification.code("certification")?,
            facts: CredentialFacts { status, issued_on: b.issued_on, expires_on: b.expires_on, revoked_reason: None },
        };
        let view = CredentialView::from(self.certifications.create_credential(&auth.0, new).await?);
        let location = format!("/api/v1/credentials/{}", view.id);
        Ok(CredentialCreated::at(view, location))
    }

    /// Read a credential
    #[oai(path = "/credentials/:id", method = "get", operation_id = "getCredential", tag = "ApiTags::Credentials")]
    async fn get_credential(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<CredentialView>> {
        Ok(Json(self.certifications.get_credential(&auth.0, id.0).await?.into()))
    }

    /// Update a credential
    ///
    /// Change its status or dates; revoking needs a reason and takes effect for dispatch at
    /// once.
    #[oai(path = "/credentials/:id", method = "patch", operation_id = "updateCredential", tag = "ApiTags::Credentials")]
    async fn update_credential(
        &self,
        auth: Caller,
        id: Path<i64>,
        body: Json<UpdateCredentialRequest>,
    ) -> ApiResult<Json<CredentialView>> {
        let b = body.0;
        let patch = CredentialPatch {
            status: b.status.map(Into::into),
            issued_on: maybe(b.issued_on),
            expires_on: maybe(b.expires_on),
            revoked_reason: maybe(b.revoked_reason)
                .map(|r| r.map(|r| r.checked("revoked_reason")).transpose())
                .transpose()?,
        };
        Ok(Json(self.certifications.update_credential(&auth.0, id.0, patch).await?.into()))
    }
}
