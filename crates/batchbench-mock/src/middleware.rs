//! The steps around every handler, as axum middleware: the frame (API family, request id,
//! error rendering, the headers every answer carries, status counting) around the router, and
//! per group of routes the guard: endpoint counting, authentication with each API's 401
//! messages, Anthropic's required `anthropic-version`, body size limits per route, and the
//! seeded faults of the Files and Batches endpoints. Plus the
//! fallback for unknown paths and methods, which answers in the shape of the API the path
//! belongs to.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State as Shared};
use axum::http::uri::{PathAndQuery, Uri};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;

use super::admission::fault_error;
use super::connection::{self, ConnectionReset};
use super::errors::{Api, ApiError};
use super::extract::{ApiKey, Family};
use super::state::State;

// Built once: `HeaderMap::insert` with a `&str` name would parse it on every request.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const OPENAI_VERSION: HeaderName = HeaderName::from_static("openai-version");
const OPENAI_ORGANIZATION: HeaderName = HeaderName::from_static("openai-organization");
const OPENAI_PROCESSING_MS: HeaderName = HeaderName::from_static("openai-processing-ms");
const X_BATCHBENCH_MOCK: HeaderName = HeaderName::from_static("x-batchbench-mock");
const VERSION_2020: HeaderValue = HeaderValue::from_static("2020-10-01");
const ORGANIZATION: HeaderValue = HeaderValue::from_static("batchbench-mock");
const SIMULATED: HeaderValue = HeaderValue::from_static("simulated");

/// The path as sent (trailing slashes trimmed), kept when the frame rewrote it for routing, so
/// the 404 of an unknown path quotes what the client sent.
#[derive(Debug, Clone)]
struct SentPath(String);

/// The outermost step, before routing: normalises the path (`/v1//messages/` routes as
/// `/v1/messages`), decides the API family, draws the request id, and after the handler renders
/// a pending [`ApiError`] in that family's shape, adds the id and the family's fixed headers,
/// and counts the status (a simulated reset sends none and is not counted).
pub async fn frame(Shared(state): Shared<Arc<State>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    normalise_path(&mut req);
    let api = family(req.uri().path(), req.uri().query(), req.headers());
    if api == Api::Gemini {
        gemini_v1_as_v1beta(&mut req);
    }
    let request_id = match api {
        Api::OpenAi => state.random_hex("req_", 32),
        Api::Anthropic => state.random_id("req_011C", 20),
        // Google sends no request-id header (a response carries its `responseId`).
        Api::Gemini => String::new(),
    };
    req.extensions_mut().insert(Family(api));
    // axum would answer HEAD from the GET handlers; the APIs the mock imitates serve no HEAD.
    let mut resp = if req.method() == Method::HEAD {
        refuse_unknown(&state, api, req).await
    } else {
        next.run(req).await
    };
    if let Some(error) = resp.extensions_mut().remove::<ApiError>() {
        resp = error.render(api, &request_id);
    }
    let rid = HeaderValue::try_from(request_id).unwrap_or(HeaderValue::from_static("req_mock"));
    let h = resp.headers_mut();
    match api {
        Api::OpenAi => {
            h.insert(X_REQUEST_ID, rid);
            h.insert(OPENAI_VERSION, VERSION_2020);
            h.insert(OPENAI_ORGANIZATION, ORGANIZATION);
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            h.insert(OPENAI_PROCESSING_MS, HeaderValue::from(ms));
        }
        Api::Anthropic => {
            h.insert(REQUEST_ID, rid);
        }
        Api::Gemini => {}
    }
    h.insert(X_BATCHBENCH_MOCK, SIMULATED);
    if resp.extensions().get::<ConnectionReset>().is_none() {
        state.stats.status(resp.status().as_u16());
    }
    resp
}

/// Empty segments dropped and trailing slashes trimmed, as the real APIs route; the request is
/// only rewritten (and its sent path kept) when that changes it.
fn normalise_path(req: &mut Request) {
    let path = req.uri().path();
    if !path.contains("//") && (path == "/" || !path.ends_with('/')) {
        return;
    }
    let sent = path.trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut clean = format!("/{}", segments.join("/"));
    if let Some(q) = req.uri().query() {
        clean.push('?');
        clean.push_str(q);
    }
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(clean).ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        *req.uri_mut() = uri;
        req.extensions_mut().insert(SentPath(sent));
    }
}

/// Which API a request is for. `/v1beta/…` (and its `/upload/` and `/download/` forms) is
/// Gemini; so is a Gemini request on `v1`, the default API version of python-genai 3.x, whose
/// paths (`/v1/models/…`, `/v1/files`, `/v1/batches`) overlap OpenAI's: it is told apart by its
/// key (`x-goog-api-key` or `?key=`), a custom method (`…/{name}:action`), or a Gemini-only
/// collection (`cachedContents`, `/upload/v1/`, `/download/v1/`). `/v1/messages…` is Anthropic;
/// so is any other path a request with Anthropic's headers is sent to, except chat completions.
fn family(path: &str, query: Option<&str>, headers: &HeaderMap) -> Api {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let (first, second) = (segments.next(), segments.next());
    let transfer = matches!(first, Some("upload" | "download"));
    if first == Some("v1beta") || (transfer && matches!(second, Some("v1beta" | "v1"))) {
        return Api::Gemini;
    }
    let v1 = first == Some("v1");
    let google_key = headers.contains_key("x-goog-api-key")
        || query.is_some_and(|q| q.split('&').any(|p| p.starts_with("key=")));
    let custom_method = path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'));
    if v1 && (google_key || custom_method || second == Some("cachedContents")) {
        return Api::Gemini;
    }
    let looks_anthropic =
        headers.contains_key("x-api-key") || headers.contains_key("anthropic-version");
    if (v1 && second == Some("messages")) || (looks_anthropic && !(v1 && second == Some("chat"))) {
        Api::Anthropic
    } else {
        Api::OpenAi
    }
}

/// A Gemini request on API version `v1` is routed as its `v1beta` twin (the mock serves the
/// same methods on both); the path as sent is kept for a 404's message.
fn gemini_v1_as_v1beta(req: &mut Request) {
    let path = req.uri().path();
    let rewritten = ["/v1/", "/upload/v1/", "/download/v1/"]
        .iter()
        .find_map(|prefix| {
            path.strip_prefix(prefix).map(|rest| {
                let head = prefix.trim_end_matches("v1/");
                format!("{head}v1beta/{rest}")
            })
        });
    let Some(mut clean) = rewritten else {
        return;
    };
    let sent = path.to_string();
    if let Some(q) = req.uri().query() {
        clean.push('?');
        clean.push_str(q);
    }
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(clean).ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        *req.uri_mut() = uri;
        if req.extensions().get::<SentPath>().is_none() {
            req.extensions_mut().insert(SentPath(sent));
        }
    }
}

/// The fallback for a path no route matches or a method the path does not serve: counted as
/// `METHOD (unknown)`, authenticated and size-checked like any call, then a 404 in the shape of
/// the request's API.
pub async fn unknown(
    Shared(state): Shared<Arc<State>>,
    Family(api): Family,
    req: Request,
) -> Response {
    refuse_unknown(&state, api, req).await
}

async fn refuse_unknown(state: &State, api: Api, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    state.stats.request(parts.method.as_str(), "(unknown)");
    let refused = match authenticate(state, api, &parts.headers, parts.uri.query()) {
        Err(e) => e,
        Ok(_) => match read_limited(body, &parts.headers, state.config.body_limit_bytes).await {
            Err(e) => e,
            Ok(_) => {
                let path = match parts.extensions.get::<SentPath>() {
                    Some(SentPath(p)) => p.as_str(),
                    None => parts.uri.path().trim_end_matches('/'),
                };
                ApiError::not_found(format!("Invalid URL ({} {path})", parts.method))
                    .code("unknown_url")
            }
        },
    };
    axum::response::IntoResponse::into_response(refused)
}

/// Which body size limit a group of routes reads within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// `body_limit_bytes`: every JSON call.
    Json,
    /// `POST /v1/files`: the largest file plus 1 MiB of multipart framing.
    FileUpload,
    /// `POST /v1/messages/batches`: Anthropic's batch size limit.
    MessageBatch,
}

impl BodyLimit {
    fn bytes(self, state: &State) -> usize {
        match self {
            BodyLimit::Json => state.config.body_limit_bytes,
            BodyLimit::FileUpload => state.config.files.max_file_bytes.saturating_add(1 << 20),
            BodyLimit::MessageBatch => state.config.batch.anthropic_max_bytes,
        }
    }
}

/// What a group of routes requires besides its handlers.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    /// An API key (every route but `/_mock/*`).
    pub key: bool,
    /// The `anthropic-version` header (the Anthropic routes).
    pub anthropic_version: bool,
    /// The body size limit; `None` for routes that take no body (the body is not read).
    pub limit: Option<BodyLimit>,
    /// Seeded status, reset and drop faults before the call (the Files and Batches routes).
    pub control_faults: bool,
    /// Gemini custom methods (`…/{name}:action`) that take those faults although the route's
    /// other calls do not (`batchGenerateContent` on `/v1beta/models/{name}`).
    pub control_actions: &'static [&'static str],
}

impl Guard {
    /// Only counted: `GET /_mock/stats` and `/_mock/health`.
    pub const OPEN: Guard = Guard {
        key: false,
        anthropic_version: false,
        limit: None,
        control_faults: false,
        control_actions: &[],
    };
}

/// Wraps every route of `routes` in [`guard`] with these requirements.
pub fn guarded(routes: Router<Arc<State>>, state: &Arc<State>, guard: Guard) -> Router<Arc<State>> {
    routes.route_layer(from_fn_with_state((state.clone(), guard), self::guard))
}

/// The steps around a routed call, in the order the real APIs take them: counted under its
/// route (`POST /v1/chat/completions`, `GET /v1/files/{id}`, as `/_mock/stats` names it), then
/// the key (handed on as [`ApiKey`]: rate limits are per key), `anthropic-version`, the body
/// read within its limit (so the handlers' `Bytes` and `Multipart` extractors see a buffered
/// body; axum's own limit is off), and the Files/Batches faults. One middleware per group rather
/// than one per step: each `from_fn` layer costs a boxed future and a service clone per request.
async fn guard(
    Shared((state, guard)): Shared<(Arc<State>, Guard)>,
    Family(api): Family,
    matched: MatchedPath,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let action = custom_method(api, matched.as_str(), req.uri().path()).map(str::to_string);
    let route = match &action {
        Some(a) => format!("{}:{a}", matched.as_str()),
        None => matched.as_str().to_string(),
    };
    state.stats.request(req.method().as_str(), &route);
    let (mut parts, body) = req.into_parts();
    if guard.key && !upload_session(api, &parts.uri) {
        let key = authenticate(&state, api, &parts.headers, parts.uri.query())?;
        parts.extensions.insert(ApiKey(key));
    }
    if guard.anthropic_version {
        require_version(&parts.headers)?;
    }
    let body = match guard.limit {
        Some(limit) => Body::from(read_limited(body, &parts.headers, limit.bytes(&state)).await?),
        None => body,
    };
    let req = Request::from_parts(parts, body);
    let control = guard.control_faults
        || action
            .as_deref()
            .is_some_and(|a| guard.control_actions.contains(&a));
    if !control {
        return Ok(next.run(req).await);
    }
    let endpoint = format!("{} {route}", req.method());
    let drop = control_fault(&state, api, &endpoint)?;
    let response = next.run(req).await;
    let answered =
        response.status().is_success() && response.extensions().get::<ApiError>().is_none();
    if drop && answered {
        return Ok(connection::cut(response).await);
    }
    Ok(response)
}

/// A chunk sent to a Gemini resumable upload URL: the URL's `upload_id` is its credential (as
/// on Google's upload servers), and python-genai sends the chunks without the API key.
fn upload_session(api: Api, uri: &Uri) -> bool {
    api == Api::Gemini
        && uri.path().starts_with("/upload/")
        && uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("upload_id=")))
}

/// A Gemini custom method: the `action` of a path whose last segment is `{name}:action` on a
/// route ending in a parameter (axum cannot match a parameter with a static suffix), so
/// `/_mock/stats` counts `POST /v1beta/models/{name}:generateContent` apart from `:countTokens`.
fn custom_method<'a>(api: Api, route: &str, path: &'a str) -> Option<&'a str> {
    if api != Api::Gemini || !route.ends_with('}') {
        return None;
    }
    let last = path.rsplit('/').next()?;
    last.split_once(':').map(|(_, action)| action)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The API key a request carries: Anthropic `x-api-key`, else a bearer token.
fn api_key(headers: &HeaderMap) -> Option<String> {
    if let Some(k) = header_str(headers, "x-api-key") {
        return Some(k.to_string());
    }
    let auth = header_str(headers, "authorization")?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Gemini's key: the `x-goog-api-key` header, else the `key` query parameter.
fn google_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(k) = header_str(headers, "x-goog-api-key") {
        return Some(k.to_string());
    }
    query?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "key").then(|| value.to_string())
    })
}

/// Google's answers: no key at all is a 403 `PERMISSION_DENIED`; a wrong one a 400
/// `INVALID_ARGUMENT` with an `ErrorInfo` of reason `API_KEY_INVALID` (as the live API answers).
fn google_key_error(missing: bool) -> ApiError {
    if missing {
        return ApiError::new(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        );
    }
    ApiError::invalid(None, "API key not valid. Please pass a valid API key.").detail(
        serde_json::json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        }),
    )
}

fn authenticate(
    state: &State,
    api: Api,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<String, ApiError> {
    if api == Api::Gemini {
        let key = google_key(headers, query).filter(|k| !k.is_empty());
        let Some(key) = key else {
            return Err(google_key_error(true));
        };
        if state.config.api_key.as_ref().is_some_and(|k| k != &key) {
            return Err(google_key_error(false));
        }
        return Ok(key);
    }
    let key = api_key(headers).filter(|k| !k.is_empty());
    let Some(key) = key else {
        let msg = match api {
            Api::OpenAi => {
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            }
            Api::Anthropic | Api::Gemini => "x-api-key header is required",
        };
        return Err(ApiError::new(401, msg).code("invalid_api_key"));
    };
    if let Some(expected) = &state.config.api_key {
        if &key != expected {
            let shown: String = key.chars().take(4).collect();
            let msg = match api {
                Api::OpenAi => format!(
                    "Incorrect API key provided: {shown}****. You can find your API key at https://platform.openai.com/account/api-keys."
                ),
                Api::Anthropic | Api::Gemini => "invalid x-api-key".to_string(),
            };
            return Err(ApiError::new(401, msg).code("invalid_api_key"));
        }
    }
    Ok(key)
}

/// Anthropic refuses a call without `anthropic-version`.
fn require_version(headers: &HeaderMap) -> Result<(), ApiError> {
    if header_str(headers, "anthropic-version").is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            None,
            "anthropic-version: header is required",
        ));
    }
    Ok(())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        format!("Request exceeds the maximum allowed size of {limit} bytes."),
    )
    .code("request_too_large")
}

/// The body, refused with a 413 as soon as its declared or read length passes `limit`.
async fn read_limited(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, ApiError> {
    if let Some(len) = header_str(headers, "content-length").and_then(|v| v.parse::<u64>().ok()) {
        if len > limit as u64 {
            return Err(too_large(limit));
        }
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))
}

/// A status fault or a reset for a Files or Batches call, drawn before it does anything (a
/// failed creation creates nothing); `Ok(true)` when the call is to do its work and have its
/// answer cut off half-way (the client never learns it).
fn control_fault(state: &State, api: Api, endpoint: &str) -> Result<bool, ApiError> {
    let plan = state.faults.control_plan(&state.config.faults, endpoint);
    if plan.reset {
        state.stats.fault("files_batches_reset");
        return Err(ApiError::reset());
    }
    if let Some(f) = plan.status {
        state.stats.fault(&format!("files_batches_{}", f.name()));
        return Err(fault_error(state, f, api));
    }
    if plan.drop {
        state.stats.fault("files_batches_drop");
    }
    Ok(plan.drop)
}
