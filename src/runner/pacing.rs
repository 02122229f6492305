//! Client-side pacing from the limits the server reports: a local token bucket per limit that
//! mirrors the server's (capacity = the per-minute limit, refilled continuously), corrected
//! down to the server's `remaining` on every response. A run at the provider's limit then
//! waits a little before sending instead of meeting a storm of 429s.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::provider::ratelimit::RateLimitInfo;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    capacity: f64,
    level: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let rate = self.capacity / 60.0;
        self.level =
            (self.level + rate * now.duration_since(self.at).as_secs_f64()).min(self.capacity);
        self.at = now;
    }

    /// How long until `amount` is available (zero: now).
    fn wait_for(&self, amount: f64) -> Duration {
        if self.level >= amount || self.capacity <= 0.0 {
            return Duration::ZERO;
        }
        let rate = self.capacity / 60.0;
        Duration::from_secs_f64(((amount.min(self.capacity) - self.level) / rate).max(0.0))
    }
}

/// Shared pacing state of one runner.
#[derive(Debug, Default)]
pub struct Pacer {
    state: Mutex<(Option<Bucket>, Option<Bucket>)>,
}

impl Pacer {
    /// Learns from a response's headers.
    pub fn observe(&self, info: &RateLimitInfo) {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else { return };
        let update = |slot: &mut Option<Bucket>,
                      limit: Option<crate::provider::ratelimit::Limit>| {
            if let Some(l) = limit {
                let b = slot.get_or_insert(Bucket {
                    capacity: l.limit as f64,
                    level: l.remaining as f64,
                    at: now,
                });
                b.refill(now);
                b.capacity = l.limit as f64;
                b.level = b.level.min(l.remaining as f64);
            }
        };
        update(&mut s.0, info.requests);
        update(&mut s.1, info.tokens);
    }

    /// Takes one request and `tokens` tokens, or says how long to wait first.
    fn try_take(&self, tokens: u64) -> Duration {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return Duration::ZERO;
        };
        let (req, tok) = &mut *s;
        if let Some(b) = req.as_mut() {
            b.refill(now);
        }
        if let Some(b) = tok.as_mut() {
            b.refill(now);
        }
        let wait = req
            .map_or(Duration::ZERO, |b| b.wait_for(1.0))
            .max(tok.map_or(Duration::ZERO, |b| b.wait_for(tokens as f64)));
        if wait.is_zero() {
            if let Some(b) = req.as_mut() {
                b.level -= 1.0;
            }
            if let Some(b) = tok.as_mut() {
                b.level -= (tokens as f64).min(b.capacity);
            }
        }
        wait
    }

    /// Waits until the local buckets allow one more request of `tokens` tokens, then takes them.
    /// Returns how long it waited.
    pub async fn before_send(&self, tokens: u64) -> Duration {
        let mut waited = Duration::ZERO;
        for _ in 0..10_000 {
            let wait = self.try_take(tokens);
            if wait.is_zero() {
                break;
            }
            let wait = wait.min(Duration::from_secs(60));
            tokio::time::sleep(wait).await;
            waited += wait;
        }
        waited
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ratelimit::Limit;

    #[test]
    fn waits_only_when_the_server_says_the_bucket_is_empty() {
        let p = Pacer::default();
        assert_eq!(
            p.try_take(100),
            Duration::ZERO,
            "no limits known yet: no wait"
        );
        p.observe(&RateLimitInfo {
            requests: Some(Limit {
                limit: 60,
                remaining: 1,
                reset: None,
            }),
            tokens: None,
        });
        assert_eq!(p.try_take(10), Duration::ZERO);
        // Empty now; 60 per minute refills one per second.
        let w = p.try_take(10);
        assert!(
            w > Duration::from_millis(900) && w <= Duration::from_secs(1),
            "{w:?}"
        );
        let t = Pacer::default();
        t.observe(&RateLimitInfo {
            requests: None,
            tokens: Some(Limit {
                limit: 6_000,
                remaining: 500,
                reset: None,
            }),
        });
        // 1,000 tokens needed, 500 left, 100 tokens/s: about 5 s.
        let w = t.try_take(1_000);
        assert!(
            w > Duration::from_millis(4_900) && w <= Duration::from_secs(5),
            "{w:?}"
        );
    }
}
