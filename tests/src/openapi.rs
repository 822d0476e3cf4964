//! The exported OpenAPI spec in `openapi/` is the spec of the code, and documents every
//! operation properly.

use serde_json::Value;

use crate::support::{Backend, spawn_park};

const EXPORTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/vpark.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_spec_matches_the_code() {
    let park = spawn_park(Backend::Sqlite).await;
    let live = park.park.spec_json();
    let exported = std::fs::read_to_string(EXPORTED).unwrap_or_default();
    if std::env::var("VPARK_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(EXPORTED, format!("{live}\n")).expect("write openapi/vpark.json");
        eprintln!("openapi/vpark.json updated");
    } else {
        let live_v: Value = serde_json::from_str(&live).expect("live spec");
        let exported_v: Value = serde_json::from_str(&exported).unwrap_or(Value::Null);
        assert!(
            live_v == exported_v,
            "openapi/vpark.json is out of date with the code: run `make openapi` (vpark export-openapi --out openapi/vpark.json) and commit it"
        );
    }
    // The spec is also served.
    let served = park.anon().get("/openapi.json").await;
    assert_eq!(served.status, 200);
    assert_eq!(served.body["info"]["title"], "vpark");
    let docs = park.anon().get("/docs").await;
    assert_eq!(docs.status, 200);
    assert!(docs.body.as_str().unwrap_or_default().contains("swagger"), "interactive docs at /docs");
    park.stop().await;
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &spec["components"]["schemas"][name]
        }
        None => schema,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_is_documented_with_examples_and_errors() {
    let park = spawn_park(Backend::Sqlite).await;
    let spec: Value = serde_json::from_str(&park.park.spec_json()).expect("spec");
    let mut problems = Vec::new();
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().cloned().unwrap_or_default() {
        for (method, op) in item.as_object().cloned().unwrap_or_default() {
            operations += 1;
            let id = op["operationId"].as_str().unwrap_or("").to_owned();
            let at = format!("{method} {path} ({id})");
            if id.is_empty() {
                problems.push(format!("{at}: no operationId"));
            }
            if op["summary"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{at}: no summary"));
            }
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (_, media) in content {
                    let schema = resolve(&spec, &media["schema"]);
                    if schema.get("example").is_none() {
                        problems.push(format!("{at}: the request body has no example"));
                    }
                }
            }
            let responses = op["responses"].as_object().cloned().unwrap_or_default();
            for (status, resp) in &responses {
                for (_, media) in resp["content"].as_object().cloned().unwrap_or_default() {
                    let schema = resolve(&spec, &media["schema"]);
                    let is_object = schema.get("properties").is_some();
                    if is_object && schema.get("example").is_none() {
                        problems.push(format!("{at}: response {status} has no example"));
                    }
                }
            }
            let secured = op.get("security").is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()));
            if secured {
                for status in ["400", "401", "403", "404", "422", "500"] {
                    if !responses.contains_key(status) {
                        problems.push(format!("{at}: error response {status} is not declared"));
                    }
                }
            }
        }
    }
    assert!(operations >= 30, "only {operations} operations?");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    park.stop().await;
}
