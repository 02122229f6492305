//! A minimal axum server returning one fixed `chat.completion` on `POST /v1/chat/completions`:
//! the baseline the built-in mock's throughput is compared with in `benches/peers.sh`.
//!
//! ```text
//! cargo run --release --example fixed_chat -- 18080    # serves http://127.0.0.1:18080
//! ```

use axum::{Router, http::header, response::IntoResponse, routing::post};

const BODY: &str = r#"{"id":"chatcmpl-fixed","object":"chat.completion","created":1795615143,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Yes.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":2,"total_tokens":23},"service_tier":"default","system_fingerprint":"fp_fixed"}"#;

async fn chat() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], BODY)
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: fixed_chat PORT");
            std::process::exit(2);
        });
    let app = Router::new().route("/v1/chat/completions", post(chat));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind 127.0.0.1:PORT");
    println!("fixed_chat listening on http://127.0.0.1:{port}");
    axum::serve(listener, app).await.expect("serve");
}
