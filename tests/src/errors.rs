//! Bad input of every kind gets a clear 4xx in the one error shape — never a 500, never a
//! panic — and loses nothing already stored.

use reqwest::Method;
use serde_json::json;

use crate::both;
use crate::support::{Backend, spawn_park};

both!(
    bad_input_is_a_clear_4xx_and_changes_nothing,
    oversized_bodies_are_refused,
    garbage_never_causes_a_500,
    the_edge_refuses_what_no_operation_declares,
    a_role_that_may_not_act_is_refused_before_its_body_is_read
);

/// A misspelt filter, an extra field, a method a path does not take: each refused by name, so
/// nothing is ever silently ignored.
async fn the_edge_refuses_what_no_operation_declares(b: Backend) {
    let park = spawn_park(b).await;
    let ops = park.login("ops@vpark.demo").await;
    let all = ops.get("/api/v1/orders?limit=200").await.items().len();
    // An unknown query parameter is 400 naming it, on every kind of operation.
    for path in
        ["/api/v1/orders?signer=4", "/api/v1/orders/1?verbose=1", "/api/v1/me?x=1", "/api/v1/contracts?query=德清"]
    {
        let r = ops.get(path).await;
        let body = r.problem(400, "unknown_parameter");
        let name = path.split('?').nth(1).and_then(|q| q.split('=').next()).unwrap_or_default();
        assert!(body["message"].as_str().is_some_and(|m| m.contains(name)), "{path}: {body}");
    }
    // The declared ones filter.
    let signer = park.org_id_of("equity@vpark.demo").await;
    let signed = ops.get(&format!("/api/v1/orders?signer_id={signer}&limit=200")).await.items();
    assert!(!signed.is_empty() && signed.len() < all, "{} of {all}", signed.len());
    // An unknown field in a body is 400 naming it.
    let finance = park.login("finance@vpark.demo").await;
    let payment = json!({"contract_id": 1, "line_no": 1, "stream": "first_year", "amount": "1.00",
        "received_on": park.today().to_string(), "is_admin": true});
    let r = finance.post("/api/v1/payments", payment).await;
    assert!(r.problem(400, "malformed_body")["message"].as_str().is_some_and(|m| m.contains("is_admin")), "{}", r.body);
    // A method the path does not take: 405 with the methods it does take.
    let r = ops.raw(Method::TRACE, "/api/v1/orders", "application/json", Vec::new()).await;
    r.problem(405, "method_not_allowed");
    let allow = r.headers.get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(allow.contains("GET") && !allow.contains("TRACE"), "Allow: {allow}");
    park.stop().await;
}

/// A role the policy does not allow an operation is told so (403) whatever its body or
/// parameters say: it does not learn the operation's rules first.
async fn a_role_that_may_not_act_is_refused_before_its_body_is_read(b: Backend) {
    let park = spawn_park(b).await;
    let client = park.login("client@vpark.demo").await;
    for body in ["{}", "{\"kind\": 7}", "not json", "{\"name_zh\": \"x\", \"unknown\": true}"] {
        let r = client.raw(Method::POST, "/api/v1/organisations", "application/json", body.as_bytes().to_vec()).await;
        r.problem(403, "forbidden");
    }
    let r = client.raw(Method::POST, "/api/v1/organisations", "text/plain", b"x".to_vec()).await;
    r.problem(403, "forbidden");
    client.get("/api/v1/payments?limit=0").await.problem(403, "forbidden");
    // A role that may act gets the body's problems.
    let admin = park.login("admin@vpark.demo").await;
    admin
        .raw(Method::POST, "/api/v1/organisations", "application/json", b"{}".to_vec())
        .await
        .problem(400, "malformed_body");
    park.stop().await;
}

async fn bad_input_is_a_clear_4xx_and_changes_nothing(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let sub = park.login("sub@vpark.demo").await;
    let org = format!("/api/v1/organisations/{}", sub.org_id);
    let before = admin.get(&org).await.body.clone();
    let audit_before = admin.get("/api/v1/audit-events?resource_kind=organisation&limit=200").await.items().len();
    let json_ct = "application/json";

    struct Case {
        what: &'static str,
        method: Method,
        path: String,
        content_type: &'static str,
        body: Vec<u8>,
        status: u16,
        code: &'static str,
    }
    let case = |what, method, path: &str, content_type, body: &str, status, code| Case {
        what,
        method,
        path: path.to_owned(),
        content_type,
        body: body.as_bytes().to_vec(),
        status,
        code,
    };
    let cases = vec![
        case("malformed JSON", Method::PATCH, &org, json_ct, "{\"capacity\": ", 400, "malformed_body"),
        case("not an object", Method::PATCH, &org, json_ct, "[1,2,3]", 400, "malformed_body"),
        case("wrong type", Method::PATCH, &org, json_ct, "{\"capacity\": \"many\"}", 400, "malformed_body"),
        case(
            "integer overflow",
            Method::PATCH,
            &org,
            json_ct,
            "{\"capacity\": 99999999999999999999}",
            400,
            "malformed_body",
        ),
        case("unknown enum value", Method::PATCH, &org, json_ct, "{\"tier\": \"diamond\"}", 400, "malformed_body"),
        case(
            "unknown field (mass assignment)",
            Method::PATCH,
            &org,
            json_ct,
            "{\"kind\": \"vendor\"}",
            400,
            "malformed_body",
        ),
        case("replacement character", Method::PATCH, &org, json_ct, "{\"name_zh\": \"\u{fffd}\"}", 200, ""),
        case("wrong content type", Method::PATCH, &org, "text/plain", "capacity=3", 415, "unsupported_media_type"),
        case("no body", Method::PATCH, &org, json_ct, "", 400, "malformed_body"),
        case("rule broken", Method::PATCH, &org, json_ct, "{\"capacity\": 0}", 422, "invalid_field"),
        case("non-numeric id", Method::GET, "/api/v1/organisations/abc", json_ct, "", 400, "invalid_parameter"),
        case(
            "id out of range",
            Method::GET,
            "/api/v1/organisations/99999999999999999999",
            json_ct,
            "",
            400,
            "invalid_parameter",
        ),
        case(
            "bad cursor",
            Method::GET,
            "/api/v1/organisations?cursor=not-a-cursor",
            json_ct,
            "",
            400,
            "invalid_cursor",
        ),
        case(
            "cursor of bad grammar",
            Method::GET,
            "/api/v1/organisations?cursor=12~zz",
            json_ct,
            "",
            400,
            "invalid_cursor",
        ),
        case("limit too large", Method::GET, "/api/v1/organisations?limit=100000", json_ct, "", 400, "invalid_limit"),
        case("limit not a number", Method::GET, "/api/v1/organisations?limit=ten", json_ct, "", 400, "invalid_limit"),
        case(
            "unknown enum in query",
            Method::GET,
            "/api/v1/organisations?kind=martian",
            json_ct,
            "",
            400,
            "invalid_parameter",
        ),
        case("unknown route", Method::GET, "/api/v1/martians", json_ct, "", 404, "no_such_route"),
        case("wrong method", Method::DELETE, &org, json_ct, "", 405, "method_not_allowed"),
        case("missing record", Method::GET, "/api/v1/organisations/999999", json_ct, "", 404, "not_found"),
    ];
    for c in cases {
        let r = admin.raw(c.method.clone(), &c.path, c.content_type, c.body.clone()).await;
        if c.status == 200 {
            // A replacement character is valid text: accepted and stored as such.
            assert_eq!(r.status, 200, "{}: {}", c.what, r.body);
            admin.patch(&org, json!({"name_zh": before["name_zh"]})).await.expect(200);
            continue;
        }
        assert!(r.status < 500, "{}: {} {}", c.what, r.status, r.body);
        r.problem(c.status, c.code);
        assert!(
            r.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"))
        );
    }

    let r = admin.raw(Method::PATCH, &org, json_ct, vec![b'{', b'"', 0xff, 0xfe, b'"', b'}']).await;
    r.problem(400, "malformed_body");

    // Authentication problems.
    let anon = park.anon();
    anon.get("/api/v1/me").await.problem(401, "unauthenticated");
    anon.with_token("garbage").get("/api/v1/me").await.problem(401, "unauthenticated");
    anon.with_token(&format!("vps_{}", "0".repeat(64))).get("/api/v1/me").await.problem(401, "unauthenticated");
    anon.with_token(&"x".repeat(5000)).get("/api/v1/me").await.problem(401, "unauthenticated");

    // A caller-supplied request id is echoed; a hostile one is replaced.
    let r = User_get_with_request_id(&admin, "abc-123").await;
    assert_eq!(r, "abc-123");
    let r = User_get_with_request_id(&admin, "<script>").await;
    assert_ne!(r, "<script>");

    // Nothing changed.
    let after = admin.get(&org).await.body.clone();
    assert_eq!(before["capacity"], after["capacity"]);
    assert_eq!(before["tier"], after["tier"]);
    assert_eq!(before["kind"], after["kind"]);
    let audit_after = admin.get("/api/v1/audit-events?resource_kind=organisation&limit=200").await.items().len();
    assert_eq!(audit_after, audit_before + 2, "only the two deliberate name updates were recorded");
    park.stop().await;
}

#[allow(non_snake_case)]
async fn User_get_with_request_id(user: &crate::support::User, rid: &str) -> String {
    let mut req = user.http().get(user.url("/api/v1/me")).header("x-request-id", rid);
    if let Some(t) = &user.token {
        req = req.bearer_auth(t);
    }
    let r = crate::support::User::finish(req).await;
    r.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

async fn oversized_bodies_are_refused(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    let huge = format!("{{\"name_zh\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let org = format!("/api/v1/organisations/{}", admin.org_id);
    // With a Content-Length.
    admin
        .raw(Method::PATCH, &org, "application/json", huge.clone().into_bytes())
        .await
        .problem(413, "payload_too_large");
    // Chunked, without one.
    let stream = futures_stream(huge.into_bytes());
    let req = admin
        .http()
        .patch(admin.url(&org))
        .bearer_auth(admin.token.clone().unwrap_or_default())
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream));
    crate::support::User::finish(req).await.problem(413, "payload_too_large");
    // A chunked body under the limit is fine.
    let small = futures_stream("{\"contact_name\": \"林志远\"}".as_bytes().to_vec());
    let req = admin
        .http()
        .patch(admin.url(&org))
        .bearer_auth(admin.token.clone().unwrap_or_default())
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(small));
    crate::support::User::finish(req).await.expect(200);
    park.stop().await;
}

fn futures_stream(
    bytes: Vec<u8>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    futures_util::stream::iter(chunks)
}

async fn garbage_never_causes_a_500(b: Backend) {
    let park = spawn_park(b).await;
    let admin = park.login("admin@vpark.demo").await;
    // A deterministic stream of awkward bodies against every write operation of the platform.
    let paths = [
        (Method::POST, "/api/v1/auth/login"),
        (Method::POST, "/api/v1/auth/password"),
        (Method::POST, "/api/v1/auth/password-reset"),
        (Method::POST, "/api/v1/users"),
        (Method::PATCH, "/api/v1/me"),
        (Method::POST, "/api/v1/me/password"),
        (Method::POST, "/api/v1/organisations"),
        (Method::POST, "/api/v1/services"),
        (Method::POST, "/api/v1/certifications"),
        (Method::POST, "/api/v1/credentials"),
    ];
    let bodies = [
        "null",
        "{}",
        "\"\"",
        "{\"email\": null, \"password\": null}",
        "{\"email\": [], \"roles\": {}}",
        "{\"regions\": [1,2,3], \"kind\": \"client\", \"name_zh\": \"x\"}",
        "{\"kind\": \"client\", \"name_zh\": \"\u{0}\", \"regions\": [\"zhejiang\"], \"industries\": [\"software\"]}",
        "{\"code\": \"测试\", \"name_zh\": \"x\", \"name_en\": \"x\", \"category\": \"erp\", \"validity_months\": -1, \"milestones\": []}",
        "{\"user_id\": -1, \"certification\": \"ERP-L1\", \"issued_on\": \"2026-02-30\"}",
        "{\"user_id\": 9223372036854775807, \"certification\": \"\"}",
        "{\"token\": \"vpt_\", \"password\": \"aaaaaaaa\"}",
        "{\"credit_code\": \"统一社会信用代码统一社会信用代码统一社\", \"kind\": \"client\", \"name_zh\": \"x\", \"regions\": [\"zhejiang\"], \"industries\": [\"software\"]}",
        "{\"display_name\": \"\", \"phone\": \"\"}",
        "{\"current_password\": \"\", \"new_password\": \"\"}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ];
    for (method, path) in &paths {
        for body in &bodies {
            let r = admin.raw(method.clone(), path, "application/json", body.as_bytes().to_vec()).await;
            assert!(r.status < 500, "{method} {path} with {body}: {} {}", r.status, r.body);
            if r.status >= 400 {
                assert!(r.body["code"].as_str().is_some(), "{method} {path}: not the error shape: {}", r.body);
            }
        }
    }
    // The server is still up and well.
    park.anon().get("/readyz").await.expect(200);
    park.stop().await;
}
