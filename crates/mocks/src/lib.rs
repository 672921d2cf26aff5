//! Halcytone's mock CRM and mock Platform: real HTTP services that stand in for the email
//! CRM and the web/social platform during a dry run. They capture everything they accept
//! (SQLite), simulate the documented failures, inject faults on demand, honour
//! `Idempotency-Key`, and keep a request journal.
//!
//! A mock imports nothing from the publishers that call it, so a client bug cannot hide
//! behind shared code.
#![forbid(unsafe_code)]

pub mod body;
pub mod bounces;
pub mod captures;
pub mod checks;
pub mod console;
pub mod crm;
pub mod dkim;
pub mod eml;
pub mod error;
pub mod faults;
pub mod idempotency;
pub mod imported;
pub mod journal;
pub mod messages;
pub mod metrics;
pub mod networks;
pub mod openapi;
pub mod platform;
pub mod search;
pub mod seeded;
pub mod smtp;
pub mod smtp_chaos;
pub mod state;
pub mod store;

use axum::Router;
use axum::routing::{get, put};
use state::{Counters, MockConfig, MockKind, MockState};
use std::sync::Arc;
use std::time::Instant;
use store::Store;
use tokio::net::TcpListener;

/// Now, as the mocks write times: RFC 3339 in UTC with milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Builds the router of one mock over `store`, counting this start as a new run.
pub async fn router(
    kind: MockKind,
    config: MockConfig,
    store: Store,
) -> Result<Router, store::StoreError> {
    Ok(app(state(kind, config, store).await?))
}

/// The shared state of one mock over `store`, counting this start as a new run. Serve it with
/// [`app`], and for the CRM also with [`smtp::serve`], so both capture into the same store.
pub async fn state(
    kind: MockKind,
    config: MockConfig,
    store: Store,
) -> Result<MockState, store::StoreError> {
    let run = store.start_run().await?;
    let chaos = config.smtp_chaos.clone();
    let fault_routes = match kind {
        MockKind::Crm => crm::FAULT_ROUTES,
        MockKind::Platform => platform::FAULT_ROUTES,
    };
    let metrics = Arc::new(metrics::Metrics::new(kind));
    halcytone_telemetry::upkeep::while_alive(
        &metrics,
        std::time::Duration::from_secs(5),
        metrics::Metrics::run_upkeep,
    );
    let links = checks::LinkResolver::new(&config.link_hosts);
    let state = MockState {
        kind,
        config: Arc::new(config),
        store,
        faults: Arc::new(faults::Faults::new(
            fault_routes.iter().map(|r| (*r).to_string()).collect(),
        )),
        journal: Arc::default(),
        counters: Arc::new(Counters::default()),
        metrics,
        started: Instant::now(),
        run,
        in_flight: Arc::default(),
        imported: Arc::default(),
        smtp_chaos: Arc::new(tokio::sync::RwLock::new(chaos)),
        smtp_data: Arc::default(),
        links,
    };
    if kind == MockKind::Crm {
        checks::spawn_checker(&state);
    }
    Ok(state)
}

/// The HTTP router of a mock over `state`.
pub fn app(state: MockState) -> Router {
    let service_routes = match state.kind {
        MockKind::Crm => crm::routes(),
        MockKind::Platform => platform::routes(),
    };
    let admin = Router::new()
        .route("/api/v1/captures", get(captures::list))
        .route("/api/v1/captures/{id}", get(captures::get))
        .route(
            "/api/v1/faults",
            put(faults::put).get(faults::list).delete(faults::delete),
        )
        .route("/api/v1/journal", get(journal::list))
        .route("/metrics", get(metrics::render))
        .route("/openapi.json", get(openapi::serve));
    service_routes
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .merge(admin)
        .fallback(no_such_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            journal::record,
        ))
        .merge(console::routes())
        .with_state(state)
        .merge(openapi::swagger_ui())
}

/// Unknown paths: a JSON 404, journalled and counted like any other request.
async fn no_such_route() -> error::MockError {
    error::MockError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no such route on this mock; see /docs or /openapi.json",
    )
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A mock running on a free port of 127.0.0.1 over an in-memory capture store.
#[derive(Debug)]
pub struct LocalMock {
    /// `http://127.0.0.1:<port>/`
    pub url: String,
    /// The SMTP capture's port, when one was asked for.
    pub smtp_port: Option<u16>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Drop for LocalMock {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Starts a mock with `config` on a free local port (tests, rehearsals in one process); it
/// stops when the returned [`LocalMock`] is dropped. A CRM whose `config.smtp_port` is
/// `Some(0)` also gets its SMTP capture, on another free port ([`LocalMock::smtp_port`]).
pub async fn spawn_local(kind: MockKind, mut config: MockConfig) -> std::io::Result<LocalMock> {
    let io = |e: store::StoreError| std::io::Error::other(e.to_string());
    let smtp = match (kind, config.smtp_port) {
        (MockKind::Crm, Some(0)) => {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            config.smtp_port = Some(listener.local_addr()?.port());
            Some(listener)
        }
        _ => None,
    };
    let smtp_port = smtp.as_ref().and(config.smtp_port);
    let state = state(kind, config, Store::in_memory().await.map_err(io)?)
        .await
        .map_err(io)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    if let Some(smtp) = smtp {
        tokio::spawn(smtp::serve(smtp, state.clone(), until(rx.clone())));
    }
    tokio::spawn(serve(listener, app(state), until(rx)));
    Ok(LocalMock {
        url,
        smtp_port,
        stop: tx,
    })
}
