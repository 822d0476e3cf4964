//! The OpenAPI document the park serves and exports, with what poem-openapi cannot say itself:
//!
//! - a calendar date is `format: date` (poem-openapi writes `naive-date`, which no validator or
//!   client generator knows);
//! - every schema a request body reaches refuses properties it does not declare
//!   (`additionalProperties: false`) — the request types are `deny_unknown_fields`, and the
//!   spec says so, so a client generated from it cannot send what the server refuses;
//! - a request property with a default takes `null` for that default (serde's `Option` reading
//!   of an absent-or-null field), so the spec marks it nullable.

use std::collections::BTreeSet;

use serde_json::Value;

/// The served document, from the one poem-openapi generates.
pub fn refine(raw: &str) -> String {
    let Ok(mut spec) = serde_json::from_str::<Value>(raw) else { return raw.to_owned() };
    dates(&mut spec);
    close_request_schemas(&mut spec);
    serde_json::to_string_pretty(&spec).unwrap_or_else(|_| raw.to_owned())
}

fn dates(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some("naive-date") {
                map.insert("format".into(), Value::String("date".into()));
            }
            map.values_mut().for_each(dates);
        }
        Value::Array(items) => items.iter_mut().for_each(dates),
        _ => {}
    }
}

/// The names of the component schemas `v` refers to (`$ref`), directly.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str)
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                out.push(name.to_owned());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn close_request_schemas(spec: &mut Value) {
    let mut todo = Vec::new();
    for ops in spec["paths"].as_object().into_iter().flatten().map(|(_, ops)| ops) {
        for op in ops.as_object().into_iter().flatten().map(|(_, op)| op) {
            refs(&op["requestBody"], &mut todo);
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        refs(&spec["components"]["schemas"][&name], &mut todo);
    }
    for name in seen {
        if let Some(schema) = spec["components"]["schemas"].get_mut(&name).and_then(Value::as_object_mut)
            && schema.get("type").and_then(Value::as_str) == Some("object")
            && schema.contains_key("properties")
        {
            schema.insert("additionalProperties".into(), Value::Bool(false));
            for prop in schema.get_mut("properties").and_then(Value::as_object_mut).into_iter().flatten() {
                if let Some(p) = prop.1.as_object_mut()
                    && p.contains_key("default")
                {
                    p.insert("nullable".into(), Value::Bool(true));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_request_schemas_are_refined() {
        let raw = serde_json::json!({
            "paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}},
            "components": {"schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}, "on": {"type": "string", "format": "naive-date"}, "tags": {"type": "array", "default": []}}},
                "B": {"type": "object", "properties": {}},
                "C": {"type": "object", "properties": {}},
            }},
        });
        let refined: Value = serde_json::from_str(&refine(&raw.to_string())).unwrap_or_default();
        let s = &refined["components"]["schemas"];
        assert_eq!(s["A"]["properties"]["on"]["format"], "date");
        assert_eq!(
            (&s["A"]["additionalProperties"], &s["B"]["additionalProperties"]),
            (&Value::Bool(false), &Value::Bool(false))
        );
        assert_eq!(s["A"]["properties"]["tags"]["nullable"], true, "a defaulted request field takes null");
        assert!(s["C"].get("additionalProperties").is_none(), "a response-only schema stays open");
    }
}
