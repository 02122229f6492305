//! Per-key rate limits: a requests-per-minute and a tokens-per-minute token bucket, each refilled
//! continuously at `limit / 60` per second. A request is admitted only when both have room; the
//! headers report what is left and when each bucket is full again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One token bucket.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    /// Capacity (the per-minute limit).
    pub capacity: f64,
    /// Current content.
    pub level: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket of `per_minute`.
    pub fn new(per_minute: u64, now: Instant) -> Bucket {
        Bucket {
            capacity: per_minute as f64,
            level: per_minute as f64,
            last: now,
        }
    }

    fn rate(&self) -> f64 {
        self.capacity / 60.0
    }

    /// Refills for the time elapsed since the last call.
    pub fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.level = (self.level + dt * self.rate()).min(self.capacity);
        self.last = now;
    }

    /// Time until `amount` is available (zero when it is).
    pub fn wait_for(&self, amount: f64) -> Duration {
        if self.level >= amount {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((amount - self.level) / self.rate())
    }

    /// Time until the bucket is full.
    pub fn until_full(&self) -> Duration {
        Duration::from_secs_f64(((self.capacity - self.level) / self.rate()).max(0.0))
    }
}

/// What the limiter decided for one request, with everything the headers need.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Admitted.
    pub allowed: bool,
    /// Which limit refused it: `requests` or `tokens`.
    pub refused_by: Option<&'static str>,
    /// The request can never fit (it needs more tokens than the per-minute limit).
    pub too_large: bool,
    /// Wait before a retry can succeed.
    pub retry_after: Duration,
    /// RPM limit, remaining and time to full (None when unlimited).
    pub requests: Option<(u64, u64, Duration)>,
    /// TPM limit, remaining and time to full (None when unlimited).
    pub tokens: Option<(u64, u64, Duration)>,
}

/// The RPM and TPM buckets of one key (None = unlimited).
type KeyBuckets = (Option<Bucket>, Option<Bucket>);

/// Buckets per API key.
#[derive(Debug)]
pub struct Limiter {
    rpm: Option<u64>,
    tpm: Option<u64>,
    keys: Mutex<HashMap<String, KeyBuckets>>,
}

impl Limiter {
    /// A limiter with these per-minute limits (None = unlimited).
    pub fn new(rpm: Option<u64>, tpm: Option<u64>) -> Limiter {
        Limiter {
            rpm,
            tpm,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Charges one request of `tokens` estimated tokens to `key` at `now`.
    pub fn check(&self, key: &str, tokens: u64, now: Instant) -> Decision {
        if self.rpm.is_none() && self.tpm.is_none() {
            // Unlimited: nothing to charge, no headers to send, no lock to take.
            return Decision {
                allowed: true,
                refused_by: None,
                too_large: false,
                retry_after: Duration::ZERO,
                requests: None,
                tokens: None,
            };
        }
        let mut keys = match self.keys.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if keys.len() > 100_000 && !keys.contains_key(key) {
            keys.clear();
        }
        let (rb, tb) = keys.entry(key.to_string()).or_insert_with(|| {
            (
                self.rpm.map(|r| Bucket::new(r, now)),
                self.tpm.map(|t| Bucket::new(t, now)),
            )
        });
        if let Some(b) = rb.as_mut() {
            b.refill(now);
        }
        if let Some(b) = tb.as_mut() {
            b.refill(now);
        }
        let need_tokens = tokens as f64;
        let too_large = tb.as_ref().is_some_and(|b| need_tokens > b.capacity);
        let wait_r = rb.as_ref().map_or(Duration::ZERO, |b| b.wait_for(1.0));
        let wait_t = if too_large {
            Duration::ZERO
        } else {
            tb.as_ref()
                .map_or(Duration::ZERO, |b| b.wait_for(need_tokens))
        };
        let allowed = !too_large && wait_r.is_zero() && wait_t.is_zero();
        if allowed {
            if let Some(b) = rb.as_mut() {
                b.level -= 1.0;
            }
            if let Some(b) = tb.as_mut() {
                b.level -= need_tokens;
            }
        }
        let refused_by = if allowed {
            None
        } else if !wait_r.is_zero() {
            Some("requests")
        } else {
            Some("tokens")
        };
        let snap = |b: &Option<Bucket>| {
            b.as_ref().map(|b| {
                (
                    b.capacity as u64,
                    b.level.max(0.0).floor() as u64,
                    b.until_full(),
                )
            })
        };
        Decision {
            allowed,
            refused_by,
            too_large,
            retry_after: wait_r.max(wait_t),
            requests: snap(rb),
            tokens: snap(tb),
        }
    }
}

/// A duration as OpenAI writes it in `x-ratelimit-reset-*`: `20ms`, `1.5s`, `6m0s`.
pub fn openai_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        let s = format!("{:.3}", secs);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return format!("{s}s");
    }
    let total = d.as_secs();
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else {
        format!("{m}m{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_exact() {
        let t0 = Instant::now();
        let l = Limiter::new(Some(60), Some(6_000));
        // 60 RPM = 1 request per second; 6,000 TPM = 100 tokens per second.
        let d = l.check("k", 1_000, t0);
        assert!(d.allowed);
        assert_eq!(d.requests.map(|r| (r.0, r.1)), Some((60, 59)));
        assert_eq!(d.tokens.map(|t| (t.0, t.1)), Some((6_000, 5_000)));
        assert_eq!(d.tokens.map(|t| t.2), Some(Duration::from_secs(10)));
        assert_eq!(d.requests.map(|r| r.2), Some(Duration::from_secs(1)));
        // 5,000 left; asking 5,500 must wait 5 s for 500 more tokens.
        let d = l.check("k", 5_500, t0);
        assert!(!d.allowed);
        assert_eq!(d.refused_by, Some("tokens"));
        assert_eq!(d.retry_after, Duration::from_secs(5));
        let d = l.check("k", 5_500, t0 + Duration::from_secs(5));
        assert!(d.allowed);
        assert_eq!(d.tokens.map(|t| t.1), Some(0));
        // Another key has its own buckets.
        assert!(l.check("other", 6_000, t0).allowed);
        // Too large for the limit at all.
        let d = l.check("other", 7_000, t0 + Duration::from_secs(3600));
        assert!(!d.allowed && d.too_large);
    }

    #[test]
    fn rpm_refusal() {
        let t0 = Instant::now();
        let l = Limiter::new(Some(2), None);
        assert!(l.check("k", 0, t0).allowed);
        assert!(l.check("k", 0, t0).allowed);
        let d = l.check("k", 0, t0);
        assert_eq!((d.allowed, d.refused_by), (false, Some("requests")));
        assert_eq!(d.retry_after, Duration::from_secs(30));
        assert!(d.tokens.is_none());
    }

    #[test]
    fn duration_format() {
        assert_eq!(openai_duration(Duration::from_millis(20)), "20ms");
        assert_eq!(openai_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(openai_duration(Duration::from_secs(1)), "1s");
        assert_eq!(openai_duration(Duration::from_secs(360)), "6m0s");
        assert_eq!(openai_duration(Duration::from_secs(3725)), "1h2m5s");
    }
}
