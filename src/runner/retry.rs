//! The retry policy: which failures are retried, and how long to wait before the next attempt.

use std::time::Duration;

use rand::Rng;

use crate::provider::CallError;

/// Retry settings (one layer only: batchbench's HTTP client never retries on its own).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubled each retry.
    pub base: Duration,
    /// Longest computed backoff.
    pub max_backoff: Duration,
    /// Longest server-requested wait honoured; a longer `retry-after` ends the retries.
    pub max_retry_after: Duration,
    /// Total time a request may spend across all attempts.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(120),
            deadline: Duration::from_secs(900),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Give up on this request.
    GiveUp,
}

impl RetryPolicy {
    /// Decides on attempt `attempt` (1-based) that failed with `error`, `elapsed` after the first send.
    pub fn decide(
        &self,
        error: &CallError,
        attempt: u32,
        elapsed: Duration,
        rng: &mut impl Rng,
    ) -> Decision {
        if !error.is_retryable() || attempt > self.max_retries {
            return Decision::GiveUp;
        }
        let wait = match error.retry_after {
            Some(w) if w > self.max_retry_after => return Decision::GiveUp,
            Some(w) => w,
            None => self.backoff(attempt, rng),
        };
        if elapsed + wait > self.deadline {
            return Decision::GiveUp;
        }
        Decision::Retry(wait)
    }

    /// Exponential backoff `min(base · 2^(attempt-1), max)` shortened by up to 25% of jitter.
    pub fn backoff(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(20));
        let capped = exp.min(self.max_backoff);
        let jitter: f64 = rng.random_range(0.0..0.25);
        capped.mul_f64(1.0 - jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::CallErrorKind;
    use rand::SeedableRng;
    use reqwest::header::HeaderMap;

    fn rng() -> rand_chacha::ChaCha8Rng {
        rand_chacha::ChaCha8Rng::seed_from_u64(7)
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let p = RetryPolicy::default();
        let mut r = rng();
        for (attempt, full) in [
            (1, 500),
            (2, 1000),
            (3, 2000),
            (4, 4000),
            (5, 8000),
            (9, 8000),
        ] {
            let b = p.backoff(attempt, &mut r).as_millis() as u64;
            assert!(b <= full && b >= full * 3 / 4, "attempt {attempt}: {b}");
        }
    }

    #[test]
    fn decisions() {
        let p = RetryPolicy {
            max_retries: 2,
            ..RetryPolicy::default()
        };
        let mut r = rng();
        let h = HeaderMap::new();
        let e429 = CallError::status(429, Some("rate_limit_exceeded".into()), String::new(), &h);
        assert!(matches!(
            p.decide(&e429, 1, Duration::ZERO, &mut r),
            Decision::Retry(_)
        ));
        assert!(matches!(
            p.decide(&e429, 2, Duration::ZERO, &mut r),
            Decision::Retry(_)
        ));
        assert_eq!(p.decide(&e429, 3, Duration::ZERO, &mut r), Decision::GiveUp);
        let mut with_wait = e429.clone();
        with_wait.retry_after = Some(Duration::from_secs(3));
        assert_eq!(
            p.decide(&with_wait, 1, Duration::ZERO, &mut r),
            Decision::Retry(Duration::from_secs(3))
        );
        with_wait.retry_after = Some(Duration::from_secs(600));
        assert_eq!(
            p.decide(&with_wait, 1, Duration::ZERO, &mut r),
            Decision::GiveUp
        );
        let e400 = CallError::status(400, None, String::new(), &h);
        assert_eq!(p.decide(&e400, 1, Duration::ZERO, &mut r), Decision::GiveUp);
        let quota = CallError::status(429, Some("insufficient_quota".into()), String::new(), &h);
        assert_eq!(
            p.decide(&quota, 1, Duration::ZERO, &mut r),
            Decision::GiveUp
        );
        let conn = CallError::new(CallErrorKind::Connect, "reset");
        assert_eq!(
            p.decide(&conn, 1, Duration::from_millis(899_900), &mut r),
            Decision::GiveUp
        );
    }
}
