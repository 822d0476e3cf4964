//! A caller of the API and what it gets back.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// One answer: status, JSON body (or the text as a JSON string), headers.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Resp {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "expected {status}, got {}: {}", self.status, self.body);
        &self.body
    }

    /// Asserts a creation: `201 Created` with a `Location` that names the new record (its id, or
    /// its code for a catalog entry) and that the creator can read.
    #[track_caller]
    pub fn created(&self) -> &Value {
        let body = self.expect(201);
        let location = self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let key = body["id"].as_i64().map(|id| id.to_string()).or_else(|| body["code"].as_str().map(str::to_owned));
        let key = key.unwrap_or_else(|| panic!("a created record without id or code: {body}"));
        assert!(
            location.starts_with("/api/v1/") && location.ends_with(&format!("/{key}")),
            "Location {location:?} does not name the record {key}"
        );
        body
    }

    /// Asserts an error answer in the one error shape, with this status and code.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "expected {status} {code}, got {}: {}", self.status, self.body);
        assert_eq!(self.body["code"], code, "wrong code: {}", self.body);
        assert!(self.body["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {}", self.body);
        let rid = self.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(!rid.is_empty(), "no x-request-id header");
        assert_eq!(self.body["request_id"], rid, "request id of body and header differ: {}", self.body);
        &self.body
    }

    pub fn items(&self) -> Vec<Value> {
        self.body["items"].as_array().cloned().unwrap_or_default()
    }
}

/// A caller: anonymous, or signed in with a token.
#[derive(Clone, Debug)]
pub struct User {
    http: reqwest::Client,
    base: String,
    pub token: Option<String>,
    pub id: i64,
    pub org_id: i64,
    pub email: String,
}

impl User {
    pub fn new(http: reqwest::Client, base: String, token: Option<String>) -> User {
        User { http, base, token, id: 0, org_id: 0, email: String::new() }
    }

    /// The same caller, talking to another server (a replica) of the same park.
    pub fn at(&self, base: &str) -> User {
        User { base: base.to_owned(), ..self.clone() }
    }

    pub fn with_token(&self, token: &str) -> User {
        User { token: Some(token.to_owned()), ..self.clone() }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> Resp {
        self.send(Method::POST, path, None).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::finish(req).await
    }

    /// Sends raw bytes with a content type (for malformed bodies).
    pub async fn raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        let mut req =
            self.http.request(method, format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        Self::finish(req).await
    }

    pub async fn finish(req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.expect("the request reaches the server");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp { status, body, headers }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
