//! The park's routes as its OpenAPI spec declares them, for the edge: which operation a request
//! is for, which query parameters it may carry, and which methods a path takes.
//!
//! Built once from the spec the server serves, so it cannot disagree with the operations. The
//! edge uses it to refuse a query parameter no operation declares (a misspelt filter would
//! otherwise be ignored and return everything — `400 unknown_parameter`), to answer a method a
//! path does not take with `405` and an `Allow` header (RFC 9110), and to tell the security
//! scheme which operation it guards (`platform::http::OperationRef`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use poem::http::Method;

/// One operation: its id and the query parameters it declares.
#[derive(Debug)]
pub struct Operation {
    pub id: Arc<str>,
    pub query: BTreeSet<String>,
}

/// A path of the spec, split at its slashes (`None` for a `{parameter}` segment).
#[derive(Debug)]
struct RoutePath {
    segments: Vec<Option<String>>,
    methods: HashMap<Method, Operation>,
}

#[derive(Debug, Default)]
pub struct RouteIndex {
    paths: Vec<RoutePath>,
}

/// What the index knows of a request.
pub enum Lookup<'a> {
    /// The operation the method and path name.
    Operation(&'a Operation),
    /// The path exists, but not with this method: the methods it takes.
    OtherMethods(Vec<&'a Method>),
    /// Not a path of the spec (the console, the docs, an unknown route).
    Unknown,
}

impl RouteIndex {
    /// The routes of an OpenAPI document (its `paths`).
    pub fn from_spec(spec: &serde_json::Value) -> RouteIndex {
        let mut paths = Vec::new();
        for (path, ops) in spec["paths"].as_object().into_iter().flatten() {
            let segments =
                path.trim_start_matches('/').split('/').map(|s| (!s.starts_with('{')).then(|| s.to_owned())).collect();
            let mut methods = HashMap::new();
            for (method, op) in ops.as_object().into_iter().flatten() {
                let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else { continue };
                let query = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "query")
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect();
                let id: Arc<str> = op["operationId"].as_str().unwrap_or_default().into();
                methods.insert(method, Operation { id, query });
            }
            paths.push(RoutePath { segments, methods });
        }
        // Literal segments before parameters: `/orders/overdue` is not `/orders/{id}`.
        paths.sort_by_key(|p| p.segments.iter().map(Option::is_none).collect::<Vec<_>>());
        RouteIndex { paths }
    }

    pub fn lookup(&self, method: &Method, path: &str) -> Lookup<'_> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let found = self.paths.iter().find(|p| {
            p.segments.len() == parts.len()
                && p.segments.iter().zip(&parts).all(|(s, part)| s.as_deref().is_none_or(|s| s == *part))
        });
        let Some(route) = found else { return Lookup::Unknown };
        // HEAD is answered as GET.
        let method = if method == Method::HEAD { &Method::GET } else { method };
        match route.methods.get(method) {
            Some(op) => Lookup::Operation(op),
            None => {
                let mut allowed: Vec<&Method> = route.methods.keys().collect();
                allowed.sort_by_key(|m| m.as_str());
                Lookup::OtherMethods(allowed)
            }
        }
    }
}

/// The names of a query string's parameters (percent-decoded), in order, once each.
pub fn query_names(query: &str) -> BTreeSet<String> {
    form_urlencoded::parse(query.as_bytes()).map(|(k, _)| k.into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> RouteIndex {
        RouteIndex::from_spec(&serde_json::json!({"paths": {
            "/api/v1/orders": {"get": {"operationId": "listOrders",
                "parameters": [{"name": "status", "in": "query"}, {"name": "limit", "in": "query"}]}},
            "/api/v1/orders/{id}": {"get": {"operationId": "getOrder", "parameters": [{"name": "id", "in": "path"}]}},
            "/api/v1/orders/overdue": {"get": {"operationId": "overdue"}},
            "/api/v1/orders/{id}/dispatch": {"post": {"operationId": "dispatchOrder"}},
        }}))
    }

    #[test]
    fn requests_find_their_operation_and_its_parameters() {
        let idx = index();
        let Lookup::Operation(op) = idx.lookup(&Method::GET, "/api/v1/orders") else { panic!("list") };
        assert_eq!(
            (&*op.id, op.query.iter().map(String::as_str).collect::<Vec<_>>()),
            ("listOrders", vec!["limit", "status"])
        );
        let Lookup::Operation(op) = idx.lookup(&Method::GET, "/api/v1/orders/17") else { panic!("one") };
        assert_eq!(&*op.id, "getOrder");
        let Lookup::Operation(op) = idx.lookup(&Method::GET, "/api/v1/orders/overdue") else { panic!("literal") };
        assert_eq!(&*op.id, "overdue", "a literal segment wins over a parameter");
        let Lookup::Operation(op) = idx.lookup(&Method::HEAD, "/api/v1/orders/17") else { panic!("head") };
        assert_eq!(&*op.id, "getOrder");
        match idx.lookup(&Method::DELETE, "/api/v1/orders/17/dispatch") {
            Lookup::OtherMethods(m) => assert_eq!(m, vec![&Method::POST]),
            _ => panic!("a known path with another method"),
        }
        assert!(matches!(idx.lookup(&Method::GET, "/orders/17"), Lookup::Unknown));
        assert!(matches!(idx.lookup(&Method::GET, "/api/v1/orders/17/dispatch/x"), Lookup::Unknown));
    }

    #[test]
    fn query_names_are_decoded_and_counted_once() {
        let names = query_names("status=new&limit=5&status=published&sig%6Eer_id=4");
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["limit", "signer_id", "status"]);
        assert!(query_names("").is_empty());
    }
}
