//! The composition root: one `Park` holds the database, the compiled policy and every area's
//! services, and builds the HTTP endpoint (API, docs, operations, console) from them. The same
//! path serves production (`vpark serve`) and the tests (bound to port 0 on a fresh database).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use certification::Certifications;
use certification::earning_http::EarningApi;
use certification::http::CertificationApi;
use directory::Directory;
use directory::http::DirectoryApi;
use identity::app::{Identity, IdentityConfig};
use identity::audit::AuditLog;
use identity::http::{AuditApi, AuthApi, UserApi};
use kernel::Clock;
use ledger::Ledger;
use ledger::http::LedgerApi;
use ledger::payouts_http::PayoutApi;
use marketplace::http::MarketplaceApi;
use marketplace::{MarketConfig, Marketplace};
use migration::{Migrator, MigratorTrait};
use notify::app::Notifications;
use notify::http::NotificationApi;
use notify::{Mailer, MailerConfig, Outbox, OutboxConfig, Templates};
use platform::http::{Authenticate, Gate};
use platform::{Db, PolicyTable};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Html;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
use poem_openapi::OpenApiService;
use success::Success;
use success::http::SuccessApi;
use success::tiers_http::TierApi;

/// Each area's operations and the action the policy is asked for each (see `Park::gate`).
const PERMIT_TABLES: [&[platform::http::OperationPermit]; 7] = [
    identity::http::PERMITS,
    directory::http::PERMITS,
    certification::http::PERMITS,
    marketplace::http::PERMITS,
    ledger::http::PERMITS,
    success::http::PERMITS,
    notify::http::PERMITS,
];

use crate::config::Settings;
use crate::edge::Edge;
use crate::metrics::Metrics;
use crate::ops::OperationsApi;
use crate::routes::RouteIndex;

pub type Apis = (
    AuthApi,
    UserApi,
    DirectoryApi,
    CertificationApi,
    EarningApi,
    MarketplaceApi,
    LedgerApi,
    PayoutApi,
    SuccessApi,
    TierApi,
    NotificationApi,
    AuditApi,
    OperationsApi,
);

pub struct Park {
    pub settings: Settings,
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub policy: Arc<PolicyTable>,
    pub identity: Arc<Identity>,
    pub directory: Arc<Directory>,
    pub certifications: Arc<Certifications>,
    pub marketplace: Arc<Marketplace>,
    pub ledger: Arc<Ledger>,
    pub success: Arc<Success>,
    pub notifications: Arc<Notifications>,
    pub audit: Arc<AuditLog>,
    pub templates: Arc<Templates>,
    pub metrics: Arc<Metrics>,
}

const API_DESCRIPTION: &str = "\
The API of vpark, a virtual industrial park (虚拟产业园) for enterprise services: the vendor, its \
direct teams, equity-held channel partners, subcontract partners, implementers and clients.

**Try it here.** Call `POST /api/v1/auth/login` with a demo account (for example \
`ops@vpark.demo` / `vpark-demo`), copy the `token` of the answer, press **Authorize** and paste \
it. Every other operation then runs as that user.

**Conventions.** JSON in and out; money as decimal strings (`\"40000.00\"`), rates as fractions \
(`\"0.40\"`); lists are paged with `limit` (1–200, default 50) and the `cursor` of the previous \
page's `next_cursor`. Every error has the same body: `{\"code\", \"message\", \"details\", \
\"request_id\"}` — a stable `code` to act on, a message for people, and the request id (also in \
the `x-request-id` header). A record you may not see is `404`; an action your role may not take \
is `403` with a message that says what was refused.";

impl Park {
    /// Connects, migrates, compiles the policy and builds the services.
    pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Park> {
        settings.prepare_sqlite_dir()?;
        let db = Db::connect(&settings.db_config()).await.with_context(|| {
            format!("cannot open the database {}", platform::db::redact_url(&settings.database.url))
        })?;
        Migrator::up(db.write(), None).await.context("database migration failed")?;
        let model = match &settings.policy.model_file {
            Some(p) => {
                std::fs::read_to_string(p).with_context(|| format!("cannot read the access model {}", p.display()))?
            }
            None => identity::policy::EMBEDDED_MODEL.to_owned(),
        };
        let policy_text = match &settings.policy.policy_file {
            Some(p) => {
                std::fs::read_to_string(p).with_context(|| format!("cannot read the access policy {}", p.display()))?
            }
            None => identity::policy::EMBEDDED_POLICY.to_owned(),
        };
        let policy = Arc::new(identity::policy::compile(&model, &policy_text).await?);
        let identity_config = IdentityConfig {
            session_ttl: chrono::Duration::minutes(settings.auth.session_ttl_minutes),
            invite_ttl: chrono::Duration::hours(settings.auth.invite_ttl_hours),
            reset_ttl: chrono::Duration::minutes(settings.auth.reset_ttl_minutes),
            public_url: settings.public_url(),
        };
        let identity = Arc::new(
            Identity::new(db.clone(), policy.clone(), clock.clone(), identity_config)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.0))?,
        );
        let directory = Arc::new(Directory::new(db.clone(), policy.clone(), clock.clone()));
        let certifications =
            Arc::new(Certifications::new(db.clone(), policy.clone(), clock.clone(), settings.public_url()));
        let market_config = MarketConfig {
            weights: settings.marketplace.weights,
            assign_within: chrono::Duration::hours(settings.marketplace.assign_within_hours),
            public_url: settings.public_url(),
        };
        let marketplace = Arc::new(Marketplace::new(db.clone(), policy.clone(), clock.clone(), market_config));
        let ledger_config = ledger::app::LedgerConfig {
            payouts: settings.ledger.rules()?,
            public_url: settings.public_url(),
            settle_workers: settings.ledger.settle_workers,
        };
        let ledger = Arc::new(Ledger::new(db.clone(), policy.clone(), clock.clone(), ledger_config));
        // An acceptance releases held shares and a cancellation re-splits: settle at once. A
        // failure here loses nothing — the contract stays marked and the next sweep or
        // `vpark settle` posts it.
        let settler = ledger.clone();
        marketplace.on_money_change(Arc::new(move |contract_id| {
            let settler = settler.clone();
            Box::pin(async move {
                if let Err(e) = settler.settle_contract(contract_id).await {
                    tracing::warn!(contract_id, error = %e.0, "settlement after an order change failed; the sweep retries");
                }
            })
        }));
        // An acceptance or a rating may complete an implementer's requirements: assess at once.
        // A failure here loses nothing — the daily sweep assesses every credential in progress.
        let assessor = certifications.clone();
        marketplace.on_track_record_change(Arc::new(move |order_id| {
            let assessor = assessor.clone();
            Box::pin(async move {
                if let Err(e) = assessor.assess_order(order_id).await {
                    tracing::warn!(order_id, error = %e.0, "assessing credentials after an order change failed; the sweep retries");
                }
            })
        }));
        let success = Arc::new(Success::new(db.clone(), policy.clone(), clock.clone(), settings.public_url()));
        let notifications = Arc::new(Notifications { db: db.clone(), policy: policy.clone(), clock: clock.clone() });
        let audit = Arc::new(AuditLog { db: db.clone(), policy: policy.clone() });
        let templates = Arc::new(Templates::load()?);
        Ok(Park {
            settings,
            db,
            clock,
            policy,
            identity,
            directory,
            certifications,
            marketplace,
            ledger,
            success,
            notifications,
            audit,
            templates,
            metrics: Metrics::new(),
        })
    }

    /// The OpenAPI service: every operation of the park.
    pub fn api(&self) -> OpenApiService<Apis, ()> {
        let apis = (
            AuthApi { identity: self.identity.clone() },
            UserApi { identity: self.identity.clone() },
            DirectoryApi { directory: self.directory.clone() },
            CertificationApi { certifications: self.certifications.clone() },
            EarningApi { certifications: self.certifications.clone() },
            MarketplaceApi { market: self.marketplace.clone(), clock: self.clock.clone() },
            LedgerApi { ledger: self.ledger.clone() },
            PayoutApi { ledger: self.ledger.clone() },
            SuccessApi { success: self.success.clone(), clock: self.clock.clone() },
            TierApi { success: self.success.clone() },
            NotificationApi { app: self.notifications.clone() },
            AuditApi { audit: self.audit.clone() },
            OperationsApi { db: self.db.clone(), metrics: self.metrics.clone() },
        );
        OpenApiService::new(apis, "vpark", env!("CARGO_PKG_VERSION"))
            .description(API_DESCRIPTION)
            .license("Apache-2.0")
            .server("/")
    }

    /// The spec as JSON, as exported to `openapi/`.
    pub fn spec_json(&self) -> String {
        crate::spec::refine(&self.api().spec())
    }

    /// The whole HTTP endpoint: API, docs, spec, operations, console.
    pub fn endpoint(&self) -> impl Endpoint + 'static {
        let api = self.api();
        let raw = api.spec();
        let refined = crate::spec::refine(&raw);
        // The interactive docs show the refined document too (the raw one is inlined in their
        // page).
        let docs_html = api.swagger_ui_html().replace(&raw, &refined);
        let docs = poem::endpoint::make_sync(move |_| Html(docs_html.clone()));
        let served = refined.clone();
        let spec = poem::endpoint::make_sync(move |_| {
            poem::Response::builder().content_type("application/json").body(served.clone())
        });
        let routes = Arc::new(RouteIndex::from_spec(&serde_json::from_str(&refined).unwrap_or_default()));
        let api = Arc::new(api.into_endpoint());
        let authenticator: Arc<dyn Authenticate> = self.identity.clone();
        let gate = Arc::new(self.gate());
        Route::new()
            .nest_no_strip("/api", api.clone())
            .at("/healthz", api.clone())
            .at("/readyz", api.clone())
            .at("/metrics", api)
            .at("/openapi.json", spec)
            .nest("/docs", docs)
            .at("/", crate::console::console)
            .at("/*path", crate::console::console)
            .data(authenticator)
            .data(gate)
            .with(Edge { metrics: self.metrics.clone(), body_limit: self.settings.server.body_limit_bytes, routes })
    }

    /// What every operation asks of the policy before its request is validated.
    pub fn gate(&self) -> Gate {
        Gate::new(self.policy.clone(), PERMIT_TABLES.into_iter().flatten().copied())
    }

    /// The e-mail outbox worker of this park.
    pub fn outbox(&self) -> anyhow::Result<Outbox> {
        let m = &self.settings.mail;
        let mailer = Mailer::from_config(&MailerConfig {
            smtp_url: m.smtp_url.clone(),
            dir: m.dir.clone(),
            from: m.from.clone(),
            timeout: Duration::from_millis(m.timeout_ms),
        })?;
        let config = OutboxConfig {
            poll_interval: Duration::from_millis(m.poll_interval_ms),
            batch_size: m.batch_size,
            max_attempts: m.max_attempts,
            backoff_base: Duration::from_millis(m.backoff_base_ms),
            backoff_max: Duration::from_secs(m.backoff_max_s),
            lease: Duration::from_secs(600),
        };
        Ok(Outbox::new(self.db.clone(), mailer, self.templates.clone(), self.clock.clone(), config))
    }

    /// Runs the marketplace sweeps every `sweep_interval_s` until `stop` fires: winners that
    /// assigned nobody in time lose their order back to the pool; overdue milestones are
    /// announced once; contracts whose money moved are settled; once a day, credentials become
    /// expiring or expired and those whose requirements are met are earned. Safe on several
    /// replicas (rows are taken with SKIP LOCKED, credential changes are compare-and-set).
    pub fn sweeps(&self, mut stop: tokio::sync::watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
        let every = Duration::from_secs(self.settings.marketplace.sweep_interval_s);
        let market = self.marketplace.clone();
        let ledger = self.ledger.clone();
        let certifications = self.certifications.clone();
        let success = self.success.clone();
        let clock = self.clock.clone();
        async move {
            let mut credentials_swept_on = None;
            loop {
                // The credential sweep is daily: on start and at the first round of each new day.
                let today = clock.now().date_naive();
                if credentials_swept_on != Some(today) {
                    match certifications.sweep().await {
                        Ok(r) => {
                            credentials_swept_on = Some(today);
                            tracing::info!(
                                expiring = r.expiring,
                                expired = r.expired,
                                earned = r.earned,
                                "credential sweep done"
                            );
                        }
                        Err(e) => tracing::warn!(error = %e.0, "the credential sweep failed; retrying next round"),
                    }
                    // Then the tiers of the month just ended, once every partner has none yet.
                    match success.recompute_if_due().await {
                        Ok(Some(r)) => {
                            tracing::info!(period = %r.period, assessed = r.assessed, changed = r.changed, "tiers recomputed")
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e.0, "the tier recomputation failed; retrying tomorrow"),
                    }
                }
                match ledger.settle_all(None, &|_| {}).await {
                    Ok(s) if s.transactions > 0 => {
                        tracing::info!(contracts = s.contracts, transactions = s.transactions, "settlement caught up")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e.0, "the settlement sweep failed; retrying next round"),
                }
                match market.sweep_lapsed().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(orders = n, "orders returned to the pool: no implementer assigned in time"),
                    Err(e) => tracing::warn!(error = %e, "the lapse sweep failed; retrying next round"),
                }
                match market.sweep_overdue().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(milestones = n, "overdue milestones announced"),
                    Err(e) => tracing::warn!(error = %e, "the overdue sweep failed; retrying next round"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => break,
                }
            }
        }
    }

    /// True while accounts of the demo park exist.
    pub async fn has_demo_accounts(&self) -> bool {
        match kernel::Email::parse("admin@vpark.demo") {
            Ok(e) => matches!(self.identity.user_by_email(&e).await, Ok(Some(_))),
            Err(_) => false,
        }
    }
}

/// Binds the listener and returns the acceptor (and so the actual address, for port 0).
pub async fn bind(addr: String) -> anyhow::Result<impl Acceptor> {
    TcpListener::bind(addr.clone()).into_acceptor().await.with_context(|| format!("cannot listen on {addr}"))
}

/// Serves the park until `shutdown` resolves, then waits for requests in flight (at most the
/// grace period).
pub async fn serve(
    park: &Park,
    acceptor: impl Acceptor + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(park.settings.server.shutdown_grace_s);
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(park.endpoint(), shutdown, Some(grace))
        .await
        .context("the HTTP server failed")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Operations that need a session but whose first check depends on the record (or on
    /// nothing but the session): their use cases decide alone.
    const DECIDED_BY_THE_USE_CASE: &[&str] = &["getReference"];

    /// Every operation guarded by a bearer token says what it asks of the policy first (so it
    /// refuses a role before validating its request), or is listed as decided by its use case.
    #[test]
    fn every_guarded_operation_is_gated() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../../openapi/vpark.json")).unwrap_or_default();
        let gated: BTreeSet<&str> = super::PERMIT_TABLES.into_iter().flatten().map(|(op, _, _)| *op).collect();
        let mut missing = Vec::new();
        let mut guarded = BTreeSet::new();
        for ops in spec["paths"].as_object().into_iter().flatten().map(|(_, ops)| ops) {
            for op in ops.as_object().into_iter().flatten().map(|(_, op)| op) {
                let id = op["operationId"].as_str().unwrap_or_default();
                if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                    guarded.insert(id);
                    if !gated.contains(id) && !DECIDED_BY_THE_USE_CASE.contains(&id) {
                        missing.push(id);
                    }
                }
            }
        }
        assert!(guarded.len() > 80, "the spec's operations were read: {}", guarded.len());
        assert!(missing.is_empty(), "operations without a gate entry: {missing:?}");
        let stale: Vec<&&str> = gated.iter().filter(|op| !guarded.contains(**op)).collect();
        assert!(stale.is_empty(), "gate entries for operations that do not exist: {stale:?}");
    }
}
