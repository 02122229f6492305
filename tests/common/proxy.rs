//! A key-swapping reverse proxy of the kind companies put in front of a provider: it accepts its
//! own key, forwards to the upstream with the upstream's key, passes the upstream's bodies
//! (absolute URLs included) through unchanged, and can refuse chosen paths, as a gateway without
//! a Files or Batches API does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

/// How the proxy behaves.
#[derive(Clone, Default)]
pub struct ProxyConfig {
    /// The key clients must send (`Authorization: Bearer` or `x-api-key`).
    pub own_key: String,
    /// The key sent upstream in its place.
    pub upstream_key: String,
    /// `http://127.0.0.1:PORT` of the upstream.
    pub upstream: String,
    /// Requests whose `METHOD /path` starts with one of these get a 404 without reaching the
    /// upstream.
    pub refuse: Vec<String>,
}

/// A running proxy; its thread ends with the test process.
pub struct Proxy {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    refuse: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone)]
struct Shared {
    config: ProxyConfig,
    http: reqwest::Client,
    seen: Arc<Mutex<Vec<String>>>,
    refuse: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// Starts the proxy on a random loopback port.
    pub fn start(config: ProxyConfig) -> Proxy {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let refuse = Arc::new(Mutex::new(config.refuse.clone()));
        let shared = Shared {
            config,
            http: reqwest::Client::new(),
            seen: seen.clone(),
            refuse: refuse.clone(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(forward).with_state(shared);
                axum::serve(listener, app).await.unwrap();
            });
        });
        Proxy {
            addr: rx.recv().unwrap(),
            seen,
            refuse,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every `METHOD /path` the proxy received, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Stops refusing any path (the gateway was fixed).
    pub fn stop_refusing(&self) {
        self.refuse.lock().unwrap().clear();
    }
}

fn client_key(headers: &HeaderMap) -> Option<String> {
    if let Some(k) = headers.get("x-api-key") {
        return k.to_str().ok().map(String::from);
    }
    let auth = headers.get("authorization")?.to_str().ok()?;
    auth.strip_prefix("Bearer ").map(String::from)
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

async fn forward(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let line = format!("{method} {}", uri.path());
    s.seen.lock().unwrap().push(line.clone());
    if s.refuse.lock().unwrap().iter().any(|r| line.starts_with(r)) {
        return plain(StatusCode::NOT_FOUND, r#"{"detail":"Not Found"}"#);
    }
    if client_key(&headers).as_deref() != Some(s.config.own_key.as_str()) {
        return plain(StatusCode::UNAUTHORIZED, r#"{"detail":"proxy: bad key"}"#);
    }
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut out = s
        .http
        .request(method, format!("{}{path_and_query}", s.config.upstream))
        .body(body);
    for (name, value) in &headers {
        let n = name.as_str();
        if !matches!(n, "host" | "authorization" | "x-api-key" | "content-length") {
            out = out.header(name, value);
        }
    }
    let out = if headers.contains_key("x-api-key") {
        out.header("x-api-key", &s.config.upstream_key)
    } else {
        out.bearer_auth(&s.config.upstream_key)
    };
    let Ok(reply) = out.send().await else {
        return plain(
            StatusCode::BAD_GATEWAY,
            r#"{"detail":"upstream unreachable"}"#,
        );
    };
    let mut response = Response::builder().status(reply.status().as_u16());
    for (name, value) in reply.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            response = response.header(name, value);
        }
    }
    let bytes = reply.bytes().await.unwrap_or_default();
    response.body(Body::from(bytes)).unwrap()
}
