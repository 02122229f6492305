//! The mock's axum `Router`: the shared routes here, each API's in its own module
//! ([`super::openai::routes`], [`super::anthropic::routes`], [`super::gemini::routes`]), wrapped in the middleware of
//! [`super::middleware`]. [`router`] is what the server serves and what [`crate::InProcess`]
//! drives without a socket.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use super::anthropic;
use super::catalog;
use super::control;
use super::gemini;
use super::middleware::{self, BodyLimit, Guard, guarded};
use super::openai;
use super::state::State;

/// Every route, behind the frame middleware (which runs before routing, so it can normalise the
/// path the router matches).
pub fn router(state: Arc<State>) -> Router {
    let open = Router::new()
        .route("/_mock/stats", get(control::stats))
        .route("/_mock/health", get(control::health));
    let routes = guarded(open, &state, Guard::OPEN)
        .merge(guarded(
            Router::new()
                .route("/_mock/reset", post(control::reset))
                .route("/_mock/inject", post(control::inject)),
            &state,
            Guard {
                key: false,
                anthropic_version: false,
                limit: Some(BodyLimit::Json),
                control_faults: false,
                control_actions: &[],
            },
        ))
        .merge(guarded(
            Router::new()
                .route("/v1/models", get(catalog::models))
                .route("/v1/models/{id}", get(catalog::model)),
            &state,
            Guard {
                key: true,
                anthropic_version: false,
                limit: Some(BodyLimit::Json),
                control_faults: false,
                control_actions: &[],
            },
        ))
        .merge(openai::routes(&state))
        .merge(anthropic::routes(&state))
        .merge(gemini::routes(&state))
        .fallback(middleware::unknown)
        .method_not_allowed_fallback(middleware::unknown)
        // The bodies were read within each route's limit, with the APIs' 413, by the middleware.
        .layer(DefaultBodyLimit::disable())
        .with_state(state.clone());
    Router::new()
        .fallback_service(routes)
        .layer(from_fn_with_state(state, middleware::frame))
}
