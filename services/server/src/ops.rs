//! Operational endpoints: liveness, readiness, Prometheus metrics.

use std::sync::Arc;

use platform::Db;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::metrics::Metrics;

#[derive(Tags)]
enum ApiTags {
    /// Health and metrics, for load balancers and monitoring.
    Operations,
}

#[derive(Object, Debug)]
#[oai(example)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    /// `ok` or `unreachable`.
    pub database: String,
}

impl Example for Readiness {
    fn example() -> Self {
        Readiness { status: "ready".into(), database: "ok".into() }
    }
}

#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The server can take traffic.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// The database is unreachable; take this replica out of rotation.
    #[oai(status = 503)]
    NotReady(Json<Readiness>),
}

pub struct OperationsApi {
    pub db: Db,
    pub metrics: Arc<Metrics>,
}

#[OpenApi(tag = "ApiTags::Operations")]
impl OperationsApi {
    /// Liveness
    ///
    /// 200 while the process serves requests.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> PlainText<&'static str> {
        PlainText("ok")
    }

    /// Readiness
    ///
    /// 200 when the database answers, 503 otherwise.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self) -> ReadyResponse {
        if self.db.ping().await {
            ReadyResponse::Ready(Json(Readiness { status: "ready".into(), database: "ok".into() }))
        } else {
            ReadyResponse::NotReady(Json(Readiness { status: "not_ready".into(), database: "unreachable".into() }))
        }
    }

    /// Prometheus metrics
    ///
    /// Request counts and latency histograms by operation (`vpark_http_requests_total`,
    /// `vpark_http_request_duration_seconds`) and the outbox depth by status
    /// (`vpark_outbox_messages`), in the Prometheus text format.
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self) -> PlainText<String> {
        match notify::store::depth(&self.db).await {
            Ok(depth) => self.metrics.set_outbox(&depth),
            Err(e) => tracing::warn!(error = %e, "outbox depth unavailable"),
        }
        PlainText(self.metrics.encode())
    }
}
