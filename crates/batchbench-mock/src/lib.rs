//! The built-in mock server: a faithful-enough OpenAI, Anthropic and Gemini API on one port, so
//! the official SDKs and batchbench's own clients run unmodified against it.
//!
//! It answers from an [`Oracle`] of gold answers with a calibrated error model (quality is
//! *simulated*), counts usage with the client's own tokenizer rules ([`batchbench_core::tokens`]),
//! and simulates latency, prompt caching, rate limits, faults, files, the OpenAI Batch API and
//! Anthropic Message Batches. Everything random is seeded from [`MockConfig::seed`].
//! `GET /_mock/stats` reports what clients really sent. See `docs/MOCK.md`.

// Handlers return `Result<Response, ApiError>`; an error is built once per failed request, so its
// size (status, strings, headers) does not matter.
#![allow(clippy::result_large_err)]

pub mod admission;
pub mod anthropic;
pub mod cache;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod connection;
pub mod control;
pub mod error;
pub mod error_model;
pub mod errors;
pub mod extract;
pub mod faults;
pub mod gemini;
pub mod headers;
pub mod latency;
pub mod middleware;
pub mod models;
pub mod openai;
pub mod oracle;
pub mod ratelimit;
pub mod respond;
pub mod router;
pub mod seed;
pub mod state;
pub mod stats;
pub mod text;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use tower::ServiceExt;

pub use config::MockConfig;
pub use oracle::Oracle;

pub use error::{Error, Result};
use state::State;

/// A running mock server.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<State>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl MockServer {
    /// Binds `addr` (port 0 = a free port) and serves in the background; returns once bound.
    pub async fn start(config: MockConfig, oracle: Oracle, addr: SocketAddr) -> Result<MockServer> {
        config
            .validate()
            .map_err(|e| Error::Mock(format!("invalid configuration: {e}")))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Mock(format!("cannot listen on {addr}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Mock(format!("cannot read the bound address: {e}")))?;
        let state = Arc::new(State::new(config, oracle));
        let app = router::router(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(MockServer {
            addr,
            state,
            stop,
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`, the OpenAI base URL.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.loopback())
    }

    /// `http://127.0.0.1:PORT`, the Anthropic base URL.
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.loopback())
    }

    /// `http://127.0.0.1:PORT`, the Gemini base URL (the SDK adds `/v1beta`).
    pub fn gemini_base_url(&self) -> String {
        format!("http://{}", self.loopback())
    }

    fn loopback(&self) -> SocketAddr {
        if self.addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], self.addr.port()))
        } else {
            self.addr
        }
    }

    /// The counters, as `GET /_mock/stats` serves them.
    pub fn stats(&self) -> serde_json::Value {
        self.state.stats.snapshot()
    }

    /// Empties the prompt caches, so that the next strategy of a run starts cold instead of
    /// reading what the previous one wrote.
    pub fn clear_caches(&self) {
        self.state.cache.clear();
    }

    /// Stops accepting connections, stops batch workers and waits (at most 2 s) for open
    /// connections to finish.
    pub async fn shutdown(self) {
        self.state.abort_tasks();
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// The mock's request handling without a socket: for tests, fuzzing and benches of the router.
/// It drives the same axum `Router` the server serves, as a tower service.
#[derive(Clone)]
pub struct InProcess {
    state: Arc<State>,
    app: axum::Router,
    /// Counts the clones of this handle (the router and batch workers hold the state too), so
    /// the last one dropped stops the workers.
    handles: Arc<()>,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcess").finish_non_exhaustive()
    }
}

impl InProcess {
    /// A handler over fresh state.
    pub fn new(config: MockConfig, oracle: Oracle) -> InProcess {
        let state = Arc::new(State::new(config, oracle));
        InProcess {
            app: router::router(state.clone()),
            state,
            handles: Arc::new(()),
        }
    }

    /// Handles one request exactly as the server would.
    pub async fn call(&self, request: Request<Body>) -> Response {
        match self.app.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// The counters.
    pub fn stats(&self) -> serde_json::Value {
        self.state.stats.snapshot()
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if Arc::strong_count(&self.handles) == 1 {
            self.state.abort_tasks();
        }
    }
}

/// Serves on `127.0.0.1:port` until Ctrl-C, printing the base URLs first (port 0 = a free port).
pub async fn run_standalone(config: MockConfig, oracle: Oracle, port: u16) -> Result<()> {
    let known = oracle.len();
    let scale = config.time_scale;
    let server =
        MockServer::start(config, oracle, SocketAddr::from(([127, 0, 0, 1], port))).await?;
    // Written with errors ignored: a reader that closes the pipe after the first line must not
    // bring the server down.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "batchbench mock listening on http://{}", server.addr());
    let _ = writeln!(out, "  OPENAI_BASE_URL={}", server.openai_base_url());
    let _ = writeln!(out, "  ANTHROPIC_BASE_URL={}", server.anthropic_base_url());
    let _ = writeln!(out, "  GEMINI base URL={}", server.gemini_base_url());
    let _ = writeln!(
        out,
        "  {known} gold answers loaded; time scale {scale}; answer quality is simulated"
    );
    let _ = out.flush();
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    Ok(())
}
