//! Simulated connection failures: a reset before any byte of the response, and a body cut off
//! half-way. Kept apart from the response builders so that error rendering (which needs the
//! reset) and the builders (which need the error type) do not import each other.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;

/// Marks a [`reset`] response, whose status is never sent (and so is not counted).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionReset;

/// A response whose body fails on its first read, before the status line has been flushed:
/// hyper then closes the connection without writing anything, so the client sees the connection
/// close with no response at all.
pub fn reset() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "mock: connection reset",
        ))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.extensions_mut().insert(ConnectionReset);
    resp
}

/// The same response, whose connection drops after about half of its body was sent: the work
/// behind it was done (a batch created, a file stored), but the client never sees the answer.
pub async fn cut(resp: Response) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let cut = half_then_break(bytes);
    Response::from_parts(parts, cut.into_body())
}

/// A 200 response that sends the first half of `body`, then breaks the connection.
pub fn half_then_break(body: Vec<u8>) -> Response {
    let half = Bytes::from(body[..body.len() / 2].to_vec());
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(async move {
        if tx.send(Ok(half)).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = tx
                .send(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "mock: connection dropped",
                )))
                .await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::new(Body::from_stream(stream))
}
