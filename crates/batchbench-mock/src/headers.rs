//! Extra response headers as the handlers and errors carry them: names and values ready to
//! insert, so that no header is parsed from text per response. Its own module because both the
//! response builders and the errors add them to responses.

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

/// Extra response headers, in the order they are added.
pub type Headers = Vec<(HeaderName, HeaderValue)>;

/// Adds headers, each replacing any of the same name.
pub fn add_headers(resp: &mut Response, headers: Headers) {
    let map = resp.headers_mut();
    for (name, value) in headers {
        map.insert(name, value);
    }
}
