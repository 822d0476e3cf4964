//! The policy matrix: every operation of the OpenAPI spec × every role, over real HTTP, against
//! the expectations in `tests/policy-matrix.csv`.
//!
//! For each operation the test sends a request the role would be entitled to make if the policy
//! allowed it — on its own records, with a valid body — so that `allow` must answer with the
//! operation's success (or its documented business outcome) and `deny` must answer 403 (401 for
//! the anonymous caller). An operation of the spec without a row or a request here fails.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::support::{Backend, TestPark, User, spawn_park};

both!(every_operation_for_every_role_matches_the_policy_matrix);

/// The demo account of each role; each holds exactly that role.
const ROLES: &[(&str, &str)] = &[
    ("platform_admin", "admin@vpark.demo"),
    ("vendor_ops", "ops@vpark.demo"),
    ("vendor_finance", "finance@vpark.demo"),
    ("team_admin", "team@vpark.demo"),
    ("team_member", "team.member@vpark.demo"),
    ("equity_admin", "equity@vpark.demo"),
    ("equity_staff", "equity.staff@vpark.demo"),
    ("sub_admin", "sub@vpark.demo"),
    ("sub_staff", "sub.staff@vpark.demo"),
    ("implementer", "implementer@vpark.demo"),
    ("client_admin", "client@vpark.demo"),
    ("client_user", "client.user@vpark.demo"),
];

/// `operation → caller → allow?` from the CSV.
fn expectations() -> BTreeMap<String, BTreeMap<String, bool>> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/policy-matrix.csv")).expect("policy-matrix.csv");
    let data: String = text.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    let mut reader = csv::Reader::from_reader(data.as_bytes());
    let headers = reader.headers().expect("header row").clone();
    let mut out = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("a row");
        let mut cells = BTreeMap::new();
        for (i, cell) in row.iter().enumerate().skip(1) {
            let allowed = match cell {
                "allow" => true,
                "deny" => false,
                other => panic!("policy-matrix.csv: {other:?} is neither allow nor deny ({})", &row[0]),
            };
            cells.insert(headers[i].to_owned(), allowed);
        }
        out.insert(row[0].to_owned(), cells);
    }
    out
}

struct Ctx {
    role: String,
    email: String,
    user: User,
    current_roles: Value,
    implementer_id: i64,
    credential_id: i64,
    client_id: i64,
    direct_team_id: i64,
}

/// An id no record has.
const MISSING: i64 = 999_999;

/// The request that exercises `op` for a caller, and the statuses that mean "allowed".
fn request(op: &str, c: &Ctx) -> (Method, String, Option<Value>, Vec<u16>) {
    let staff_role = match c.role.as_str() {
        "platform_admin" | "vendor_ops" | "vendor_finance" => "vendor_ops",
        "team_admin" | "team_member" => "team_member",
        "equity_admin" | "equity_staff" => "equity_staff",
        "sub_admin" | "sub_staff" | "implementer" => "sub_staff",
        _ => "client_user",
    };
    let me = c.user.id;
    let org = c.user.org_id;
    let r = &c.role;
    use Method as M;
    match op {
        "login" => {
            let email = if c.email.is_empty() { "ops@vpark.demo" } else { c.email.as_str() };
            (M::POST, "/api/v1/auth/login".into(), Some(json!({"email": email, "password": "vpark-demo"})), vec![200])
        }
        "logout" => (M::POST, "/api/v1/auth/logout".into(), None, vec![204]),
        "requestPasswordReset" => {
            (M::POST, "/api/v1/auth/password-reset".into(), Some(json!({"email": "nobody@example.cn"})), vec![202])
        }
        "setPasswordWithToken" => (
            M::POST,
            "/api/v1/auth/password".into(),
            Some(json!({"token": "vpt_unknown", "password": "long-enough-1"})),
            vec![422],
        ),
        "getMe" => (M::GET, "/api/v1/me".into(), None, vec![200]),
        "updateMe" => (M::PATCH, "/api/v1/me".into(), Some(json!({})), vec![200]),
        "changeMyPassword" => (
            M::POST,
            "/api/v1/me/password".into(),
            Some(json!({"current_password": "not-my-password", "new_password": "long-enough-1"})),
            vec![422],
        ),
        "listUsers" => (M::GET, "/api/v1/users".into(), None, vec![200]),
        "createUser" => (
            M::POST,
            "/api/v1/users".into(),
            Some(
                json!({"email": format!("matrix.{r}@example.cn"), "display_name": "矩阵", "roles": [staff_role], "password": "long-enough-1"}),
            ),
            vec![201],
        ),
        "getUser" => (M::GET, format!("/api/v1/users/{me}"), None, vec![200]),
        "updateUser" => (M::PATCH, format!("/api/v1/users/{me}"), Some(json!({})), vec![200]),
        "setUserRoles" => {
            (M::PUT, format!("/api/v1/users/{me}/roles"), Some(json!({"roles": c.current_roles})), vec![200])
        }
        "listOrganisations" => (M::GET, "/api/v1/organisations".into(), None, vec![200]),
        "createOrganisation" => (
            M::POST,
            "/api/v1/organisations".into(),
            Some(
                json!({"kind": "client", "name_zh": format!("矩阵客户 {r}"), "regions": ["zhejiang"], "industries": ["software"]}),
            ),
            vec![201],
        ),
        "getOrganisation" => (M::GET, format!("/api/v1/organisations/{org}"), None, vec![200]),
        "updateOrganisation" => (M::PATCH, format!("/api/v1/organisations/{org}"), Some(json!({})), vec![200]),
        "listServices" => (M::GET, "/api/v1/services".into(), None, vec![200]),
        "createService" => (
            M::POST,
            "/api/v1/services".into(),
            Some(
                json!({"code": format!("MX-{}", r.to_uppercase().replace('_', "-")), "name_zh": "矩阵", "name_en": "Matrix", "category": "erp",
                "milestones": [{"code": "one", "name_zh": "一", "name_en": "One", "due_days": 1}]}),
            ),
            vec![201],
        ),
        "getService" => (M::GET, "/api/v1/services/1".into(), None, vec![200]),
        "updateService" => (M::PATCH, "/api/v1/services/1".into(), Some(json!({})), vec![200]),
        "getReference" => (M::GET, "/api/v1/reference".into(), None, vec![200]),
        "listCertifications" => (M::GET, "/api/v1/certifications".into(), None, vec![200]),
        "createCertification" => (
            M::POST,
            "/api/v1/certifications".into(),
            Some(
                json!({"code": format!("MX-{}", r.to_uppercase().replace('_', "-")), "name_zh": "矩阵", "name_en": "Matrix", "category": "erp", "validity_months": 12}),
            ),
            vec![201],
        ),
        "getCertification" => (M::GET, "/api/v1/certifications/1".into(), None, vec![200]),
        "updateCertification" => (M::PATCH, "/api/v1/certifications/1".into(), Some(json!({})), vec![200]),
        "listCredentials" => (M::GET, "/api/v1/credentials".into(), None, vec![200]),
        // Vendor roles start one for the demo implementer; the implementer one for themself;
        // partner and team admins name themselves (own organisation) and learn that only
        // implementers hold credentials.
        "createCredential" => match r.as_str() {
            "platform_admin" | "vendor_ops" => {
                let cert = if r == "platform_admin" { "MKT-DIG" } else { "HR-PRO" };
                let body = json!({"user_id": c.implementer_id, "certification": cert});
                (M::POST, "/api/v1/credentials".into(), Some(body), vec![201])
            }
            "implementer" => {
                let body = json!({"user_id": me, "certification": "FIN-ADV"});
                (M::POST, "/api/v1/credentials".into(), Some(body), vec![201])
            }
            _ => (
                M::POST,
                "/api/v1/credentials".into(),
                Some(json!({"user_id": me, "certification": "FIN-ADV"})),
                vec![422],
            ),
        },
        // Everyone may read credentials, each within their scope: outside it, not found.
        "getCredential" => (M::GET, format!("/api/v1/credentials/{}", c.credential_id), None, vec![200, 404]),
        "updateCredential" => {
            (M::PATCH, format!("/api/v1/credentials/{}", c.credential_id), Some(json!({})), vec![200])
        }
        "getCertificationRequirements" => (M::GET, "/api/v1/certifications/1/requirements".into(), None, vec![200]),
        "publishCertificationRequirements" => {
            (M::PUT, "/api/v1/certifications/1/requirements".into(), Some(json!({"validity_months": 24})), vec![422])
        }
        "getCredentialProgress" => {
            (M::GET, format!("/api/v1/credentials/{}/progress", c.credential_id), None, vec![200, 404])
        }
        "getCertificationProgress" => (M::GET, format!("/api/v1/users/{me}/certification-progress"), None, vec![200]),
        "renewCredential" => (M::POST, format!("/api/v1/credentials/{MISSING}/renew"), None, vec![404]),
        "submitEvidence" => (
            M::POST,
            format!("/api/v1/credentials/{MISSING}/evidence"),
            Some(json!({"kind": "training", "title": "矩阵", "taken_on": "2026-01-05", "training_hours": 2})),
            vec![404],
        ),
        "listEvidence" => (M::GET, "/api/v1/evidence".into(), None, vec![200]),
        "getEvidence" => (M::GET, format!("/api/v1/evidence/{MISSING}"), None, vec![404]),
        "verifyEvidence" => (M::POST, format!("/api/v1/evidence/{MISSING}/verify"), Some(json!({})), vec![404]),
        "rejectEvidence" => {
            (M::POST, format!("/api/v1/evidence/{MISSING}/reject"), Some(json!({"note": "矩阵"})), vec![404])
        }
        // ---- customer success
        "listOutcomeKinds" => (M::GET, "/api/v1/outcome-kinds".into(), None, vec![200]),
        "getOutcomeKind" => (M::GET, "/api/v1/outcome-kinds/HNTE".into(), None, vec![200]),
        "createOutcomeKind" => (
            M::POST,
            "/api/v1/outcome-kinds".into(),
            Some(
                json!({"code": format!("MX-{}", r.to_uppercase().replace('_', "-")), "name_zh": "矩阵", "name_en": "Matrix"}),
            ),
            vec![201],
        ),
        "updateOutcomeKind" => (M::PATCH, "/api/v1/outcome-kinds/HNTE".into(), Some(json!({})), vec![200]),
        "reportOutcome" => (
            M::POST,
            format!("/api/v1/clients/{MISSING}/outcomes"),
            Some(json!({"kind": "HNTE", "achieved_on": "2026-01-05", "title": "矩阵", "attachments": ["doc:MX"]})),
            vec![404],
        ),
        "listOutcomes" => (M::GET, "/api/v1/outcomes".into(), None, vec![200]),
        "getOutcome" => (M::GET, format!("/api/v1/outcomes/{MISSING}"), None, vec![404]),
        "verifyOutcome" => (M::POST, format!("/api/v1/outcomes/{MISSING}/verify"), Some(json!({})), vec![404]),
        "rejectOutcome" => {
            (M::POST, format!("/api/v1/outcomes/{MISSING}/reject"), Some(json!({"note": "矩阵"})), vec![404])
        }
        "getSuccessMetrics" => (M::GET, "/api/v1/success-metrics".into(), None, vec![200]),
        "getCashFlow" => (M::GET, "/api/v1/cash-flow".into(), None, vec![200]),
        "getTierThresholds" => (M::GET, "/api/v1/tier-thresholds".into(), None, vec![200]),
        "putTierThresholds" => (
            M::PUT,
            "/api/v1/tier-thresholds".into(),
            Some(json!({"items": [{"tier": "silver", "min_revenue": "1.00", "min_valid_credentials": 0}]})),
            vec![200],
        ),
        "listScorecards" => (M::GET, "/api/v1/scorecards".into(), None, vec![200]),
        "listTierAssessments" => (M::GET, "/api/v1/tier-assessments".into(), None, vec![200]),
        "recomputeTiers" => (M::POST, "/api/v1/tier-assessments".into(), Some(json!({"period": "2000-01"})), vec![200]),
        // ---- the marketplace: lists on the caller's scope, actions on a record that does not
        // exist (an allowed role passes the policy and finds nothing: 404; a denied one: 403).
        "createContract" => {
            let signer = if r == "vendor_ops" { c.direct_team_id } else { org };
            (
                M::POST,
                "/api/v1/contracts".into(),
                Some(json!({"client_id": c.client_id, "signer_id": signer, "signed_on": "2026-11-01", "term_years": 2,
                    "first_year_amount": "50000.00", "annual_maintenance_fee": "8000.00",
                    "lines": [{"service": "TAX-PLAN", "amount": "50000.00"}]})),
                vec![201],
            )
        }
        "listContracts" => (M::GET, "/api/v1/contracts".into(), None, vec![200]),
        "getContract" => (M::GET, format!("/api/v1/contracts/{MISSING}"), None, vec![404]),
        "listOrders" => (M::GET, "/api/v1/orders".into(), None, vec![200]),
        "getOrder" => (M::GET, format!("/api/v1/orders/{MISSING}"), None, vec![404]),
        "getRecommendations" => (M::GET, format!("/api/v1/orders/{MISSING}/recommendations"), None, vec![404]),
        "dispatchOrder" => {
            (M::POST, format!("/api/v1/orders/{MISSING}/dispatch"), Some(json!({"deliverer_id": org})), vec![404])
        }
        "subcontractOrder" => (
            M::POST,
            format!("/api/v1/orders/{MISSING}/subcontract"),
            Some(json!({"reason": "cant_do", "mode": "first_claim", "execution_share": "0.30",
                "claim_deadline": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()})),
            vec![404],
        ),
        "cancelOrder" => {
            (M::POST, format!("/api/v1/orders/{MISSING}/cancel"), Some(json!({"reason": "矩阵"})), vec![404])
        }
        "assignImplementers" => {
            (M::POST, format!("/api/v1/orders/{MISSING}/assignments"), Some(json!({"user_ids": [me]})), vec![404])
        }
        "completeMilestone" => (M::POST, format!("/api/v1/orders/{MISSING}/milestones/1/complete"), None, vec![404]),
        "deliverOrder" => (M::POST, format!("/api/v1/orders/{MISSING}/deliver"), None, vec![404]),
        "acceptOrder" => (M::POST, format!("/api/v1/orders/{MISSING}/accept"), None, vec![404]),
        "disputeOrder" => {
            (M::POST, format!("/api/v1/orders/{MISSING}/dispute"), Some(json!({"reason": "矩阵"})), vec![404])
        }
        "resolveDispute" => (
            M::POST,
            format!("/api/v1/orders/{MISSING}/resolve"),
            Some(json!({"resolution": "accept", "note": "矩阵"})),
            vec![404],
        ),
        "listOverdueMilestones" => (M::GET, "/api/v1/milestones/overdue".into(), None, vec![200]),
        "listSubcontracts" => (M::GET, "/api/v1/subcontracts".into(), None, vec![200]),
        "getSubcontract" => (M::GET, format!("/api/v1/subcontracts/{MISSING}"), None, vec![404]),
        "claimSubcontract" => (M::POST, format!("/api/v1/subcontracts/{MISSING}/claim"), None, vec![404]),
        "submitBid" => (
            M::POST,
            format!("/api/v1/subcontracts/{MISSING}/bids"),
            Some(json!({"fee": "1000.00", "plan": "矩阵"})),
            vec![404],
        ),
        "awardSubcontract" => {
            (M::POST, format!("/api/v1/subcontracts/{MISSING}/award"), Some(json!({"bid_id": 1})), vec![404])
        }
        "rateOrder" | "editRating" => (
            if op == "rateOrder" { M::POST } else { M::PUT },
            format!("/api/v1/orders/{MISSING}/rating"),
            Some(json!({"overall": 5, "professionalism": 5, "timeliness": 5, "communication": 5, "outcome": 5})),
            vec![404],
        ),
        "replyToRating" => {
            (M::POST, format!("/api/v1/orders/{MISSING}/rating/reply"), Some(json!({"reply": "矩阵"})), vec![404])
        }
        "getQuality" => (M::GET, format!("/api/v1/organisations/{org}/quality"), None, vec![200]),
        "listNotifications" => (M::GET, "/api/v1/notifications".into(), None, vec![200]),
        "retryNotification" => (M::POST, "/api/v1/notifications/999999/retry".into(), None, vec![404]),
        "listAuditEvents" => (M::GET, "/api/v1/audit-events".into(), None, vec![200]),
        "listAgreementTemplates" => (M::GET, "/api/v1/agreement-templates".into(), None, vec![200]),
        "getAgreementTemplate" => (M::GET, "/api/v1/agreement-templates/standard".into(), None, vec![200]),
        "putAgreementTemplate" => (
            M::PUT,
            format!("/api/v1/agreement-templates/mx-{}", r.replace('_', "-")),
            Some(json!({"name_zh": "矩阵", "name_en": "Matrix", "rules": [
                {"beneficiary": "signer", "stream": "any", "basis": "remainder", "rate": "0.30"}]})),
            vec![200],
        ),
        // Authorized callers get past the policy to the missing Idempotency-Key.
        "recordPayment" => (
            M::POST,
            "/api/v1/payments".into(),
            Some(json!({"contract_id": MISSING, "line_no": 1, "stream": "first_year", "amount": "1.00",
                "received_on": "2026-11-20"})),
            vec![400],
        ),
        "listPayments" => (M::GET, "/api/v1/payments".into(), None, vec![200]),
        "getPayment" => (M::GET, format!("/api/v1/payments/{MISSING}"), None, vec![404]),
        "runSettlement" => (M::POST, "/api/v1/settlements".into(), None, vec![200]),
        "listLedgerEntries" => (M::GET, "/api/v1/ledger/entries".into(), None, vec![200]),
        "getContractMoney" => (M::GET, format!("/api/v1/contracts/{MISSING}/money"), None, vec![404]),
        "listBalances" => (M::GET, "/api/v1/ledger/balances".into(), None, vec![200]),
        // A period that has not begun: allowed callers get past the policy to 422.
        "runPayout" => (M::POST, "/api/v1/payouts".into(), Some(json!({"period": "2099-01"})), vec![422]),
        "listPayouts" => (M::GET, "/api/v1/payouts".into(), None, vec![200]),
        "getPayout" => (M::GET, format!("/api/v1/payouts/{MISSING}"), None, vec![404]),
        "approvePayout" => (M::POST, format!("/api/v1/payouts/{MISSING}/approve"), None, vec![404]),
        "downloadPayout" => (M::GET, format!("/api/v1/payouts/{MISSING}/csv"), None, vec![404]),
        "listStatements" => (M::GET, "/api/v1/statements?period=2026-10".into(), None, vec![200]),
        // Vendor roles read a supervised party's statement; a partner its own.
        "getStatement" | "downloadStatement" => {
            let party = if matches!(r.as_str(), "vendor_ops" | "vendor_finance") { c.direct_team_id } else { org };
            let csv = if op == "downloadStatement" { "/csv" } else { "" };
            (M::GET, format!("/api/v1/statements/{party}/2026-10{csv}"), None, vec![200])
        }
        "equityEarningsReport" => (M::GET, "/api/v1/reports/equity-earnings?period=2026-10".into(), None, vec![200]),
        "healthz" => (M::GET, "/healthz".into(), None, vec![200]),
        "readyz" => (M::GET, "/readyz".into(), None, vec![200]),
        "metrics" => (M::GET, "/metrics".into(), None, vec![200]),
        other => panic!("the matrix test has no request for operation {other}: add one to tests/src/matrix.rs"),
    }
}

fn spec_operations(park: &TestPark) -> BTreeSet<String> {
    let spec: Value = serde_json::from_str(&park.park.spec_json()).expect("spec JSON");
    let mut ops = BTreeSet::new();
    for (_, item) in spec["paths"].as_object().cloned().unwrap_or_default() {
        for (_, op) in item.as_object().cloned().unwrap_or_default() {
            if let Some(id) = op["operationId"].as_str() {
                ops.insert(id.to_owned());
            }
        }
    }
    ops
}

async fn every_operation_for_every_role_matches_the_policy_matrix(b: Backend) {
    let park = spawn_park(b).await;
    let expected = expectations();
    let spec_ops = spec_operations(&park);
    let missing: Vec<_> = spec_ops.iter().filter(|op| !expected.contains_key(*op)).collect();
    assert!(missing.is_empty(), "operations missing from tests/policy-matrix.csv: {missing:?}");
    let stale: Vec<_> = expected.keys().filter(|op| !spec_ops.contains(*op)).collect();
    assert!(stale.is_empty(), "rows of tests/policy-matrix.csv for operations that do not exist: {stale:?}");

    let implementer_id = park.user_id("implementer@vpark.demo").await;
    let implementer = park.login("implementer@vpark.demo").await;
    let credential_id = implementer.get("/api/v1/credentials").await.items()[0]["id"].as_i64().unwrap_or_default();
    let client_id = park.org_id_of("client@vpark.demo").await;
    let direct_team_id = park.org_id_of("team@vpark.demo").await;

    let mut callers = vec![Ctx {
        role: "anonymous".into(),
        email: String::new(),
        user: park.anon(),
        current_roles: json!([]),
        implementer_id,
        credential_id,
        client_id,
        direct_team_id,
    }];
    for (role, email) in ROLES {
        let user = park.login(email).await;
        let me = user.get("/api/v1/me").await;
        assert_eq!(me.body["roles"], json!([role]), "{email} must hold exactly the role {role}");
        callers.push(Ctx {
            role: (*role).into(),
            email: (*email).into(),
            user,
            current_roles: me.body["roles"].clone(),
            implementer_id,
            credential_id,
            client_id,
            direct_team_id,
        });
    }

    let mut failures = Vec::new();
    let mut checked = 0;
    for (op, cells) in &expected {
        for caller in &callers {
            let allowed = *cells.get(&caller.role).unwrap_or_else(|| panic!("no column {} in the matrix", caller.role));
            let (method, path, body, ok) = request(op, caller);
            // Logging out ends the session: use a session of its own.
            let user = if op == "logout" && caller.role != "anonymous" {
                park.login(&caller.email).await
            } else {
                caller.user.clone()
            };
            let r = user.send(method.clone(), &path, body).await;
            checked += 1;
            let fine = if allowed {
                ok.contains(&r.status)
            } else if caller.role == "anonymous" {
                r.status == 401 && r.body["code"] == "unauthenticated"
            } else {
                r.status == 403 && r.body["code"] == "forbidden"
            };
            if !fine {
                failures.push(format!(
                    "{op} as {}: expected {}, got {} {}",
                    caller.role,
                    if allowed { format!("one of {ok:?}") } else { "a denial".into() },
                    r.status,
                    r.body
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, expected.len() * (ROLES.len() + 1));
    park.stop().await;
}
