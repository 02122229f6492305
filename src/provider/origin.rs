//! Keeping credentials on the configured origin. A server may hand back absolute URLs (an
//! Anthropic batch's `results_url`, pagination links, file locations); behind a gateway those
//! name the upstream, and following them would send the gateway's key to a host the user never
//! configured. Every such URL goes through [`confine`] before a request is built, and the HTTP
//! client follows redirects only within the same origin.

use reqwest::Url;

/// A URL that is safe to send credentials to, and a warning when it had to be rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confined {
    /// Where to send the request: on the configured origin.
    pub url: String,
    /// Set when the server's URL named another origin (both origins, never a key).
    pub warning: Option<String>,
}

/// The `scheme://host:port` of a URL, as browsers compare origins.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Puts a URL taken from a response onto the configured base URL's origin: a same-origin URL
/// is kept, a relative one is joined onto the base, and a foreign one keeps its path and query
/// but is rewritten onto the base (after the base's own path prefix, unless it already starts
/// with it), with a warning naming both origins.
pub fn confine(base: &str, candidate: &str) -> Confined {
    let Ok(base_url) = Url::parse(base) else {
        return Confined {
            url: candidate.to_string(),
            warning: None,
        };
    };
    let Ok(found) = Url::parse(candidate) else {
        return Confined {
            url: join(&base_url, candidate),
            warning: None,
        };
    };
    if found.origin() == base_url.origin() {
        return Confined {
            url: candidate.to_string(),
            warning: None,
        };
    }
    let mut path_and_query = found.path().to_string();
    if let Some(q) = found.query() {
        path_and_query.push('?');
        path_and_query.push_str(q);
    }
    Confined {
        url: join(&base_url, &path_and_query),
        warning: Some(format!(
            "the server returned a URL on {} but the configured base URL is on {}: \
             requesting {} on the configured origin instead (credentials are only sent there)",
            origin_of(&found),
            origin_of(&base_url),
            found.path()
        )),
    }
}

/// Joins a server path (with or without a leading `/`) onto the base URL, keeping the base's
/// path prefix (a gateway mounted under `/anthropic` stays under it).
fn join(base: &Url, path: &str) -> String {
    let prefix = base.path().trim_end_matches('/');
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let path = if !prefix.is_empty() && (path == prefix || path.starts_with(&format!("{prefix}/")))
    {
        path
    } else {
        format!("{prefix}{path}")
    };
    format!("{}{}", origin_of(base), path)
}

/// A redirect policy that follows at most 10 redirects and only within `base`'s origin: a
/// redirect elsewhere is not followed (reqwest strips `Authorization` on cross-origin redirects
/// but not custom headers such as Anthropic's `x-api-key`).
pub fn same_origin_redirects(base: &str) -> reqwest::redirect::Policy {
    let allowed = Url::parse(base).ok().map(|u| u.origin());
    reqwest::redirect::Policy::custom(move |attempt| {
        let same = allowed
            .as_ref()
            .is_some_and(|o| &attempt.url().origin() == o);
        if attempt.previous().len() >= 10 {
            attempt.error("too many redirects")
        } else if same {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_is_kept() {
        let c = confine(
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/v1/messages/batches/b/results",
        );
        assert_eq!(c.url, "http://127.0.0.1:8080/v1/messages/batches/b/results");
        assert_eq!(c.warning, None);
    }

    #[test]
    fn foreign_host_is_rewritten_keeping_path_and_query() {
        let c = confine(
            "http://127.0.0.1:9000",
            "https://api.anthropic.com/v1/messages/batches/b/results?x=1",
        );
        assert_eq!(
            c.url,
            "http://127.0.0.1:9000/v1/messages/batches/b/results?x=1"
        );
        let w = c.warning.unwrap();
        assert!(w.contains("https://api.anthropic.com"), "{w}");
        assert!(w.contains("http://127.0.0.1:9000"), "{w}");
    }

    #[test]
    fn other_port_or_scheme_is_foreign() {
        let c = confine("http://127.0.0.1:9000", "http://127.0.0.1:9001/r");
        assert_eq!(c.url, "http://127.0.0.1:9000/r");
        assert!(c.warning.is_some());
        let c = confine("http://gw.local", "https://gw.local/r");
        assert_eq!(c.url, "http://gw.local/r");
        assert!(c.warning.is_some());
    }

    #[test]
    fn base_path_prefix_is_kept_once() {
        let c = confine(
            "https://gw.example/anthropic/",
            "https://api.anthropic.com/v1/messages/batches/b/results",
        );
        assert_eq!(
            c.url,
            "https://gw.example/anthropic/v1/messages/batches/b/results"
        );
        let c = confine(
            "https://gw.example/anthropic",
            "https://up.example/anthropic/v1/x",
        );
        assert_eq!(c.url, "https://gw.example/anthropic/v1/x");
    }

    #[test]
    fn relative_url_joins_the_base() {
        let c = confine("http://127.0.0.1:9000/v1", "/v1/files/f/content");
        assert_eq!(c.url, "http://127.0.0.1:9000/v1/files/f/content");
        assert_eq!(c.warning, None);
    }
}
