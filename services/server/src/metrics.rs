//! Prometheus metrics: requests and latencies by operation, and the outbox depth (read from the
//! database at scrape time, so every replica reports the same shared queue).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub operation: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~8 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram, fn() -> Histogram>,
    outbox: Family<StatusLabels, Gauge>,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("vpark");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by operation, method and status", requests.clone());
        let latency = Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("http_request_duration_seconds", "HTTP request latency by operation", latency.clone());
        let outbox = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "outbox_messages",
            "E-mails in the outbox by status (pending, sending, dead)",
            outbox.clone(),
        );
        Arc::new(Metrics { registry, requests, latency, outbox })
    }

    pub fn observe(&self, operation: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { operation: operation.to_owned(), method: method.to_owned(), status })
            .inc();
        self.latency.get_or_create(&OperationLabels { operation: operation.to_owned() }).observe(seconds);
    }

    /// Sets the outbox gauges; statuses with no row report 0.
    pub fn set_outbox(&self, depth: &[(String, i64)]) {
        for status in ["pending", "sending", "dead"] {
            let n = depth.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
            self.outbox.get_or_create(&StatusLabels { status: status.to_owned() }).set(n);
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
