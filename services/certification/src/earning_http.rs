//! The API of earning credentials: requirements, evidence and its review, progress, renewal.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use platform::api_types::CursorText;
use platform::api_types::{CodeText, Line, Para, RejectRequest, StarsText};
use platform::http::{ApiResult, Caller, page_request};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{Enum, Object, OpenApi, Tags};

use crate::app::Certifications;
use crate::domain::{EvidenceFacts, EvidenceKind, EvidenceStatus};
use crate::earning::{CertProgress, CredentialProgress, Evidence, EvidenceLabels, RequirementsVersion};
use crate::http::CredentialView;
use crate::requirements::{self, Criterion, Progress, Requirements};
use crate::store::EvidenceFilter;

#[derive(Tags)]
enum ApiTags {
    /// The certification catalog.
    Certifications,
    /// Implementers' credentials.
    Credentials,
    /// Evidence towards credentials (exam results, training hours) and its review.
    Evidence,
}

fn example_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

fn example_date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

/// One version of what earns a certification. Every criterion that is set must be met.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct RequirementsView {
    pub certification_id: i64,
    /// Versions count up from 1; a credential records the version it was earned under.
    pub version: i32,
    /// A verified exam result of at least this score (0–100).
    #[oai(nullable)]
    pub exam_min_score: Option<i32>,
    /// At least this many verified training hours.
    #[oai(nullable)]
    pub training_hours: Option<i32>,
    /// Accepted deliveries of these services (catalog codes) count …
    pub delivery_services: Vec<String>,
    /// … and at least this many are needed (0: no delivery criterion).
    pub delivery_count: i32,
    /// The minimum average client rating of those deliveries ("4.00").
    #[oai(nullable)]
    pub min_average_rating: Option<String>,
    /// How long a credential earned under this version stays valid.
    pub validity_months: i32,
    #[oai(nullable)]
    pub note: Option<String>,
    #[oai(nullable)]
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl Example for RequirementsView {
    fn example() -> Self {
        RequirementsView {
            certification_id: 2,
            version: 2,
            exam_min_score: Some(70),
            training_hours: Some(16),
            delivery_services: vec!["ERP-IMPL".into()],
            delivery_count: 5,
            min_average_rating: Some("4.00".into()),
            validity_months: 24,
            note: Some("2026 版：增加培训学时要求".into()),
            created_by: Some(1),
            created_at: example_time(),
        }
    }
}

impl From<RequirementsVersion> for RequirementsView {
    fn from(v: RequirementsVersion) -> Self {
        let r = v.requirements;
        RequirementsView {
            certification_id: v.certification_id,
            version: r.version,
            exam_min_score: r.exam_min_score,
            training_hours: r.training_hours,
            delivery_services: r.delivery_services,
            delivery_count: r.delivery_count,
            min_average_rating: r.min_rating_centi.map(requirements::centi_text),
            validity_months: r.validity_months,
            note: r.note,
            created_by: v.created_by,
            created_at: v.created_at,
        }
    }
}

/// The current requirements of a certification and every earlier version.
#[derive(Object, Debug)]
#[oai(example)]
pub struct RequirementsHistory {
    /// None while no requirements are published: the certification is then earned only by
    /// vendor ops' verification.
    #[oai(nullable)]
    pub current: Option<RequirementsView>,
    /// Every version, newest first.
    pub versions: Vec<RequirementsView>,
}

impl Example for RequirementsHistory {
    fn example() -> Self {
        RequirementsHistory { current: Some(RequirementsView::example()), versions: vec![RequirementsView::example()] }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct PublishRequirementsRequest {
    #[oai(nullable, validator(minimum(value = "0"), maximum(value = "100")))]
    pub exam_min_score: Option<i32>,
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "1000")))]
    pub training_hours: Option<i32>,
    #[oai(default, validator(max_items = 20, unique_items))]
    pub delivery_services: Vec<CodeText>,
    #[oai(default, validator(minimum(value = "0"), maximum(value = "1000")))]
    pub delivery_count: i32,
    /// "4.0"; applies to the required deliveries.
    #[oai(nullable)]
    pub min_average_rating: Option<StarsText>,
    /// 1 to 120; also becomes the certification's validity.
    #[oai(validator(minimum(value = "1"), maximum(value = "120")))]
    pub validity_months: i32,
    #[oai(nullable)]
    pub note: Option<Para<2000>>,
}

impl Example for PublishRequirementsRequest {
    fn example() -> Self {
        PublishRequirementsRequest {
            exam_min_score: Some(70),
            training_hours: Some(16),
            delivery_services: vec!["ERP-IMPL".into()],
            delivery_count: 5,
            min_average_rating: Some("4.0".into()),
            validity_months: 24,
            note: Some("2026 版：增加培训学时要求".into()),
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "EvidenceKind")]
pub enum EvidenceKindName {
    Exam,
    Training,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "EvidenceStatus")]
pub enum EvidenceStatusName {
    Submitted,
    Verified,
    Rejected,
}

platform::created!(EvidenceCreated, EvidenceView);

/// An exam result or training towards a credential, and its review by vendor ops.
#[derive(Object, Debug)]
#[oai(example)]
pub struct EvidenceView {
    pub id: i64,
    pub credential_id: i64,
    pub user_id: i64,
    /// The implementer's name.
    pub user_name: String,
    pub org_id: i64,
    /// The implementer's organisation.
    pub org_name: String,
    /// The certification the evidence counts towards.
    pub certification_code: String,
    pub certification_name_zh: String,
    pub certification_name_en: String,
    pub kind: EvidenceKindName,
    pub title: String,
    pub taken_on: NaiveDate,
    #[oai(nullable)]
    pub exam_score: Option<i32>,
    #[oai(nullable)]
    pub training_hours: Option<i32>,
    /// References to the documents (document ids or links), not the documents.
    pub attachments: Vec<String>,
    pub status: EvidenceStatusName,
    #[oai(nullable)]
    pub submitted_by: Option<i64>,
    pub submitted_at: DateTime<Utc>,
    #[oai(nullable)]
    pub reviewed_by: Option<i64>,
    #[oai(nullable)]
    pub reviewed_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub review_note: Option<String>,
}

impl Example for EvidenceView {
    fn example() -> Self {
        EvidenceView {
            id: 7,
            credential_id: 31,
            user_id: 17,
            user_name: "孙悦".into(),
            org_id: 5,
            org_name: "苏州数联 ERP 实施有限公司".into(),
            certification_code: "ERP-L2".into(),
            certification_name_zh: "ERP 实施顾问（二级）".into(),
            certification_name_en: "ERP implementation consultant, level 2".into(),
            kind: EvidenceKindName::Exam,
            title: "ERP 实施顾问二级笔试".into(),
            taken_on: example_date("2026-10-18"),
            exam_score: Some(82),
            training_hours: None,
            attachments: vec!["doc:EXAM-2026-1018-17".into()],
            status: EvidenceStatusName::Verified,
            submitted_by: Some(17),
            submitted_at: example_time(),
            reviewed_by: Some(2),
            reviewed_at: Some(example_time()),
            review_note: None,
        }
    }
}

impl From<(Evidence, EvidenceLabels)> for EvidenceView {
    fn from((e, l): (Evidence, EvidenceLabels)) -> Self {
        EvidenceView {
            id: e.id,
            credential_id: e.credential_id,
            user_id: e.user_id,
            user_name: l.user_name,
            org_id: e.org_id,
            org_name: l.org_name,
            certification_code: l.certification_code,
            certification_name_zh: l.certification_name_zh,
            certification_name_en: l.certification_name_en,
            kind: e.facts.kind.into(),
            title: e.facts.title,
            taken_on: e.facts.taken_on,
            exam_score: e.facts.exam_score,
            training_hours: e.facts.training_hours,
            attachments: e.facts.attachments,
            status: e.status.into(),
            submitted_by: e.submitted_by,
            submitted_at: e.submitted_at,
            reviewed_by: e.reviewed_by,
            reviewed_at: e.reviewed_at,
            review_note: e.review_note,
        }
    }
}

platform::page_of!(EvidencePage, EvidenceView);

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct SubmitEvidenceRequest {
    pub kind: EvidenceKindName,
    /// The exam or course.
    pub title: Line<200>,
    /// When the exam was taken or the training ended (not in the future).
    pub taken_on: NaiveDate,
    /// For an exam: 0–100.
    #[oai(nullable, validator(minimum(value = "0"), maximum(value = "100")))]
    pub exam_score: Option<i32>,
    /// For training: 1–500.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "1000")))]
    pub training_hours: Option<i32>,
    /// Up to 20 references to the documents that prove it.
    #[oai(default, validator(max_items = 20))]
    pub attachments: Vec<Line<500>>,
}

impl Example for SubmitEvidenceRequest {
    fn example() -> Self {
        SubmitEvidenceRequest {
            kind: EvidenceKindName::Training,
            title: "金蝶云星空实施方法论（线下 2 天）".into(),
            taken_on: example_date("2026-11-12"),
            exam_score: None,
            training_hours: Some(12),
            attachments: vec!["doc:TRAIN-2026-1112-17".into()],
        }
    }
}

#[derive(Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct ReviewEvidenceRequest {
    /// A remark for the implementer, if any.
    #[oai(nullable)]
    pub note: Option<Para<2000>>,
}

impl Example for ReviewEvidenceRequest {
    fn example() -> Self {
        ReviewEvidenceRequest { note: Some("成绩单扫描件不清晰，请重新上传".into()) }
    }
}

/// The reviewed evidence and the credential it counts towards (earned at once if the evidence
/// completed its requirements).
#[derive(Object, Debug)]
#[oai(example)]
pub struct ReviewResult {
    pub evidence: EvidenceView,
    pub credential: CredentialView,
}

impl Example for ReviewResult {
    fn example() -> Self {
        ReviewResult { evidence: EvidenceView::example(), credential: CredentialView::example() }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "Criterion")]
pub enum CriterionName {
    Exam,
    Training,
    Deliveries,
    Rating,
}

/// One criterion of the requirements: what is required, what is achieved.
#[derive(Object, Debug)]
pub struct CriterionView {
    pub criterion: CriterionName,
    pub required: String,
    pub achieved: String,
    pub met: bool,
    /// "3 of 5 accepted ERP-IMPL deliveries".
    pub text_en: String,
    /// "已验收 ERP-IMPL 交付 3 / 5 单".
    pub text_zh: String,
}

/// How far an implementer has come towards a certification's current requirements.
#[derive(Object, Debug)]
#[oai(example)]
pub struct ProgressView {
    /// The requirements version judged.
    pub version: i32,
    /// Every criterion met.
    pub met: bool,
    pub items: Vec<CriterionView>,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        ProgressView {
            version: p.version,
            met: p.met,
            items: p
                .items
                .into_iter()
                .map(|i| CriterionView {
                    criterion: i.criterion.into(),
                    required: i.required,
                    achieved: i.achieved,
                    met: i.met,
                    text_en: i.text_en,
                    text_zh: i.text_zh,
                })
                .collect(),
        }
    }
}

impl Example for ProgressView {
    fn example() -> Self {
        let req = Requirements {
            version: 2,
            exam_min_score: Some(70),
            training_hours: Some(16),
            delivery_services: vec!["ERP-IMPL".into()],
            delivery_count: 5,
            min_rating_centi: Some(400),
            validity_months: 24,
            note: None,
        };
        let a = requirements::Achieved { best_exam: Some(82), training_hours: 12, deliveries: 3, rated: 3, stars: 14 };
        requirements::progress(&req, &a).into()
    }
}

/// A credential and its progress: towards earning it while in progress, towards its renewal
/// once held.
#[derive(Object, Debug)]
#[oai(example)]
pub struct CredentialProgressView {
    pub credential: CredentialView,
    /// Evidence and deliveries count from this date (the issue date of a held credential); all
    /// of them while in progress.
    #[oai(nullable)]
    pub counts_since: Option<NaiveDate>,
    /// None when the certification has no published requirements.
    #[oai(nullable)]
    pub progress: Option<ProgressView>,
}

impl Example for CredentialProgressView {
    fn example() -> Self {
        CredentialProgressView {
            credential: CredentialView::example(),
            counts_since: Some(example_date("2025-06-01")),
            progress: Some(ProgressView::example()),
        }
    }
}

impl From<CredentialProgress> for CredentialProgressView {
    fn from(p: CredentialProgress) -> Self {
        CredentialProgressView {
            credential: p.credential.into(),
            counts_since: p.counts_since,
            progress: p.progress.map(Into::into),
        }
    }
}

/// Progress towards one certification of the catalog.
#[derive(Object, Debug)]
pub struct CertProgressView {
    pub certification_id: i64,
    pub certification_code: String,
    pub certification_name_zh: String,
    pub certification_name_en: String,
    /// The implementer's credential, if they hold or work towards this certification.
    #[oai(nullable)]
    pub credential: Option<CredentialView>,
    /// None when the certification has no published requirements.
    #[oai(nullable)]
    pub progress: Option<ProgressView>,
}

impl From<CertProgress> for CertProgressView {
    fn from(p: CertProgress) -> Self {
        CertProgressView {
            certification_id: p.certification.id,
            certification_code: p.certification.def.code,
            certification_name_zh: p.certification.def.name_zh,
            certification_name_en: p.certification.def.name_en,
            credential: p.credential.map(Into::into),
            progress: p.progress.map(Into::into),
        }
    }
}

/// An implementer's progress towards every certification that has requirements.
#[derive(Object, Debug)]
#[oai(example)]
pub struct CertProgressList {
    pub items: Vec<CertProgressView>,
}

impl Example for CertProgressList {
    fn example() -> Self {
        CertProgressList {
            items: vec![CertProgressView {
                certification_id: 2,
                certification_code: "ERP-L2".into(),
                certification_name_zh: "ERP 实施顾问（二级）".into(),
                certification_name_en: "ERP implementation consultant, level 2".into(),
                credential: None,
                progress: Some(ProgressView::example()),
            }],
        }
    }
}

pub struct EarningApi {
    pub certifications: Arc<Certifications>,
}

#[OpenApi(prefix_path = "/api/v1")]
impl EarningApi {
    /// Read a certification's requirements
    ///
    /// The current version and every earlier one. A credential records the version it was
    /// earned under.
    #[oai(
        path = "/certifications/:id/requirements",
        method = "get",
        operation_id = "getCertificationRequirements",
        tag = "ApiTags::Certifications"
    )]
    async fn requirements(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<RequirementsHistory>> {
        let versions: Vec<RequirementsView> =
            self.certifications.requirements(&auth.0, id.0).await?.into_iter().map(Into::into).collect();
        Ok(Json(RequirementsHistory { current: versions.first().cloned(), versions }))
    }

    /// Publish new requirements for a certification
    ///
    /// Creates the next version (platform admin). Credentials already earned keep the version
    /// they were earned under; credentials in progress are judged by the new one from now on.
    #[oai(
        path = "/certifications/:id/requirements",
        method = "put",
        operation_id = "publishCertificationRequirements",
        tag = "ApiTags::Certifications"
    )]
    async fn publish_requirements(
        &self,
        auth: Caller,
        id: Path<i64>,
        body: Json<PublishRequirementsRequest>,
    ) -> ApiResult<Json<RequirementsView>> {
        let b = body.0;
        let req = Requirements {
            version: 0,
            exam_min_score: b.exam_min_score,
            training_hours: b.training_hours,
            delivery_services: b
                .delivery_services
                .iter()
                .map(|c| c.code("delivery_services"))
                .collect::<Result<_, _>>()?,
            delivery_count: b.delivery_count,
            min_rating_centi: b.min_average_rating.as_ref().map(|t| t.centi("min_average_rating")).transpose()?,
            validity_months: b.validity_months,
            note: b.note.map(|n| n.checked("note")).transpose()?,
        };
        Ok(Json(self.certifications.publish_requirements(&auth.0, id.0, req).await?.into()))
    }

    /// Read a credential's progress
    ///
    /// Each criterion of the current requirements, required and achieved: verified exam results
    /// and training hours, accepted deliveries of the named services and their average rating.
    /// While in progress everything counts; for a held credential, what was achieved since it
    /// was issued (its renewal).
    #[oai(
        path = "/credentials/:id/progress",
        method = "get",
        operation_id = "getCredentialProgress",
        tag = "ApiTags::Credentials"
    )]
    async fn credential_progress(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<CredentialProgressView>> {
        Ok(Json(self.certifications.credential_progress(&auth.0, id.0).await?.into()))
    }

    /// Read an implementer's progress towards every certification
    ///
    /// Every active certification with published requirements, and every one the implementer
    /// holds or works towards. Implementers read their own; partner administrators their
    /// people's; vendor roles everyone's.
    #[oai(
        path = "/users/:id/certification-progress",
        method = "get",
        operation_id = "getCertificationProgress",
        tag = "ApiTags::Credentials"
    )]
    async fn user_progress(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<CertProgressList>> {
        let items = self.certifications.user_progress(&auth.0, id.0).await?.into_iter().map(Into::into).collect();
        Ok(Json(CertProgressList { items }))
    }

    /// Renew a credential
    ///
    /// For an expiring or expired credential whose requirements are met again by what was
    /// achieved since it was issued: re-issued today with a new expiry. Otherwise 422
    /// `requirements_not_met` with the progress in `details`. (Renewal also happens by itself
    /// the moment the requirements are met.)
    #[oai(
        path = "/credentials/:id/renew",
        method = "post",
        operation_id = "renewCredential",
        tag = "ApiTags::Credentials"
    )]
    async fn renew(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<CredentialView>> {
        Ok(Json(self.certifications.renew(&auth.0, id.0).await?.into()))
    }

    /// Submit evidence towards a credential
    ///
    /// An exam result or training hours, with references to the documents. It counts once
    /// vendor ops verify it.
    #[oai(
        path = "/credentials/:id/evidence",
        method = "post",
        operation_id = "submitEvidence",
        tag = "ApiTags::Evidence"
    )]
    async fn submit_evidence(
        &self,
        auth: Caller,
        id: Path<i64>,
        body: Json<SubmitEvidenceRequest>,
    ) -> ApiResult<EvidenceCreated> {
        let b = body.0;
        let facts = EvidenceFacts {
            kind: b.kind.into(),
            title: b.title.checked("title")?,
            taken_on: b.taken_on,
            exam_score: b.exam_score,
            training_hours: b.training_hours,
            attachments: b.attachments.iter().map(|a| a.checked("attachments")).collect::<Result<_, _>>()?,
        };
        let view = EvidenceView::from(self.certifications.submit_evidence(&auth.0, id.0, facts).await?);
        let location = format!("/api/v1/evidence/{}", view.id);
        Ok(EvidenceCreated::at(view, location))
    }

    /// Read evidence
    ///
    /// One exam result or record of training, in the same scope as the list.
    #[oai(path = "/evidence/:id", method = "get", operation_id = "getEvidence", tag = "ApiTags::Evidence")]
    async fn get_evidence(&self, auth: Caller, id: Path<i64>) -> ApiResult<Json<EvidenceView>> {
        Ok(Json(self.certifications.get_evidence(&auth.0, id.0).await?.into()))
    }

    /// List evidence
    ///
    /// Vendor ops' review queue is `?status=submitted`. Implementers see their own evidence,
    /// partner administrators their people's.
    #[oai(path = "/evidence", method = "get", operation_id = "listEvidence", tag = "ApiTags::Evidence")]
    async fn list_evidence(
        &self,
        auth: Caller,
        credential_id: Query<Option<i64>>,
        status: Query<Option<EvidenceStatusName>>,
        /// How many items a page holds: 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<CursorText>>,
    ) -> ApiResult<Json<EvidencePage>> {
        let page = page_request(limit.0, cursor.0.as_ref().map(CursorText::as_str))?;
        let filter = EvidenceFilter {
            id: None,
            credential_id: credential_id.0,
            status: status.0.map(|s| EvidenceStatus::from(s).as_str().to_owned()),
        };
        let rows = self.certifications.list_evidence(&auth.0, &filter, &page).await?;
        Ok(Json(EvidencePage::from_page(rows, EvidenceView::from)))
    }

    /// Verify evidence
    ///
    /// Vendor ops. The evidence counts from now on; if it completes the credential's
    /// requirements, the credential is earned in the same call.
    #[oai(path = "/evidence/:id/verify", method = "post", operation_id = "verifyEvidence", tag = "ApiTags::Evidence")]
    async fn verify(
        &self,
        auth: Caller,
        id: Path<i64>,
        body: Json<ReviewEvidenceRequest>,
    ) -> ApiResult<Json<ReviewResult>> {
        let (e, c) =
            self.certifications.review_evidence(&auth.0, id.0, EvidenceStatus::Verified, note(body.0.note)?).await?;
        Ok(Json(ReviewResult { evidence: e.into(), credential: c.into() }))
    }

    /// Reject evidence
    ///
    /// Vendor ops, with a note saying why. Rejected evidence never counts; the implementer
    /// submits it again, corrected.
    #[oai(path = "/evidence/:id/reject", method = "post", operation_id = "rejectEvidence", tag = "ApiTags::Evidence")]
    async fn reject(&self, auth: Caller, id: Path<i64>, body: Json<RejectRequest>) -> ApiResult<Json<ReviewResult>> {
        let note = Some(body.0.note.checked("note")?);
        let (e, c) = self.certifications.review_evidence(&auth.0, id.0, EvidenceStatus::Rejected, note).await?;
        Ok(Json(ReviewResult { evidence: e.into(), credential: c.into() }))
    }
}

fn note(n: Option<Para<2000>>) -> Result<Option<String>, kernel::Error> {
    n.map(|n| n.checked("note")).transpose()
}
