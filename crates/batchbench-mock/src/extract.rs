//! What handlers take from a request besides the state: custom axum extractors whose rejections
//! are [`ApiError`]s, so even a malformed id or query string is answered in the shape of the
//! API it was sent to (axum's own rejections are plain text).

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::header;
use axum::http::request::Parts;
use serde::Deserialize;

use super::errors::{Api, ApiError};

/// The API family of the request, decided by the frame middleware from the path and headers
/// before routing (it picks error shapes and header names). OpenAI when the frame did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family(pub Api);

impl<S: Send + Sync> FromRequestParts<S> for Family {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Family>()
            .copied()
            .unwrap_or(Family(Api::OpenAi)))
    }
}

/// The API key the auth middleware accepted (rate limits are per key); empty on the routes that
/// need none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ApiKey {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Taken, not cloned: only the handler reads it after the middleware.
        Ok(parts.extensions.remove::<ApiKey>().unwrap_or_default())
    }
}

/// `http://host` from the Host header, for `results_url` (the address the client used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        Ok(BaseUrl(format!("http://{host}")))
    }
}

/// The one `{id}` path parameter of a route (file, batch or model id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Id(id))
            .map_err(|e| ApiError::invalid(None, format!("Invalid path parameter: {e}")))
    }
}

/// The pagination and filter parameters of the list endpoints. Kept as text: each endpoint
/// validates `limit` itself, with the message and bounds of the API it imitates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ListParams {
    /// Page size.
    pub limit: Option<String>,
    /// OpenAI cursor: the id after which the page starts.
    pub after: Option<String>,
    /// Anthropic cursor: the id after which the page starts.
    pub after_id: Option<String>,
    /// Anthropic cursor: the id before which the page ends.
    pub before_id: Option<String>,
    /// `GET /v1/files` filter.
    pub purpose: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ListParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<ListParams>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| q)
            .map_err(|e| ApiError::invalid(None, format!("Invalid query string: {e}")))
    }
}
