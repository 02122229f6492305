//! The rate limits a server reports on its responses (OpenAI `x-ratelimit-*`, Anthropic
//! `anthropic-ratelimit-*`), read so the runner can pace itself instead of meeting 429s.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use super::headers::header_str;

/// One limit: its size per minute, what is left, and when it is full again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Per-minute capacity.
    pub limit: u64,
    /// Left now.
    pub remaining: u64,
    /// Until it resets.
    pub reset: Option<Duration>,
}

/// The request and token limits of one response.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RateLimitInfo {
    /// Requests per minute.
    pub requests: Option<Limit>,
    /// Tokens per minute (Anthropic: input tokens when given separately).
    pub tokens: Option<Limit>,
}

impl RateLimitInfo {
    /// Reads whichever provider's headers are present; `None` when there are none.
    pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Option<RateLimitInfo> {
        let num = |name: &str| header_str(headers, name).and_then(|v| v.parse::<u64>().ok());
        // Names spelled out, not formatted: this runs on every response.
        let openai = |[limit, remaining, reset]: [&str; 3]| {
            Some(Limit {
                limit: num(limit)?,
                remaining: num(remaining)?,
                reset: header_str(headers, reset).and_then(parse_openai_duration),
            })
        };
        let anthropic = |[limit, remaining, reset]: [&str; 3]| {
            Some(Limit {
                limit: num(limit)?,
                remaining: num(remaining)?,
                reset: header_str(headers, reset).and_then(|v| {
                    let at = chrono::DateTime::parse_from_rfc3339(v).ok()?;
                    let at = SystemTime::from(at);
                    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
                }),
            })
        };
        let info = RateLimitInfo {
            requests: openai(OPENAI_REQUESTS).or_else(|| anthropic(ANTHROPIC_REQUESTS)),
            tokens: openai(OPENAI_TOKENS)
                .or_else(|| anthropic(ANTHROPIC_INPUT_TOKENS))
                .or_else(|| anthropic(ANTHROPIC_TOKENS)),
        };
        (info.requests.is_some() || info.tokens.is_some()).then_some(info)
    }
}

/// The limit, remaining and reset headers of each limit, in each provider's names.
const OPENAI_REQUESTS: [&str; 3] = [
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
];
const OPENAI_TOKENS: [&str; 3] = [
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
];
const ANTHROPIC_REQUESTS: [&str; 3] = [
    "anthropic-ratelimit-requests-limit",
    "anthropic-ratelimit-requests-remaining",
    "anthropic-ratelimit-requests-reset",
];
const ANTHROPIC_INPUT_TOKENS: [&str; 3] = [
    "anthropic-ratelimit-input-tokens-limit",
    "anthropic-ratelimit-input-tokens-remaining",
    "anthropic-ratelimit-input-tokens-reset",
];
const ANTHROPIC_TOKENS: [&str; 3] = [
    "anthropic-ratelimit-tokens-limit",
    "anthropic-ratelimit-tokens-remaining",
    "anthropic-ratelimit-tokens-reset",
];

/// Parses OpenAI's reset durations: `20ms`, `1.5s`, `6m0s`, `1h2m3.5s`.
pub fn parse_openai_duration(s: &str) -> Option<Duration> {
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = s.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let value: f64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
        total += value * unit;
        any = true;
    }
    if !num.is_empty() || !any || !total.is_finite() {
        return None;
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    #[test]
    fn durations() {
        assert_eq!(
            parse_openai_duration("20ms"),
            Some(Duration::from_millis(20))
        );
        assert_eq!(
            parse_openai_duration("1.5s"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_openai_duration("6m0s"),
            Some(Duration::from_secs(360))
        );
        assert_eq!(
            parse_openai_duration("1h2m3s"),
            Some(Duration::from_secs(3723))
        );
        assert_eq!(parse_openai_duration("soon"), None);
        assert_eq!(parse_openai_duration("12"), None);
    }

    #[test]
    fn both_providers_headers() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("x-ratelimit-limit-requests", "500"),
            ("x-ratelimit-remaining-requests", "499"),
            ("x-ratelimit-reset-requests", "120ms"),
            ("x-ratelimit-limit-tokens", "200000"),
            ("x-ratelimit-remaining-tokens", "199000"),
            ("x-ratelimit-reset-tokens", "300ms"),
        ] {
            h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        let i = RateLimitInfo::from_headers(&h, SystemTime::now()).unwrap();
        assert_eq!(
            i.requests,
            Some(Limit {
                limit: 500,
                remaining: 499,
                reset: Some(Duration::from_millis(120))
            })
        );
        assert_eq!(i.tokens.unwrap().remaining, 199_000);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let reset =
            chrono::DateTime::<chrono::Utc>::from(now + Duration::from_secs(2)).to_rfc3339();
        let mut a = HeaderMap::new();
        a.insert(
            "anthropic-ratelimit-requests-limit",
            HeaderValue::from_static("50"),
        );
        a.insert(
            "anthropic-ratelimit-requests-remaining",
            HeaderValue::from_static("0"),
        );
        a.insert(
            "anthropic-ratelimit-requests-reset",
            HeaderValue::from_str(&reset).unwrap(),
        );
        let i = RateLimitInfo::from_headers(&a, now).unwrap();
        assert_eq!(
            i.requests,
            Some(Limit {
                limit: 50,
                remaining: 0,
                reset: Some(Duration::from_secs(2))
            })
        );
        assert!(RateLimitInfo::from_headers(&HeaderMap::new(), now).is_none());
    }
}
