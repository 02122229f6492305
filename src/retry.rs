//! The one retry policy: which failures are retried and how long to wait before the next
//! attempt, for sync requests (the runner's loop, which also journals and paces) and for Batch
//! API control calls ([`with_retries`]) alike. Hand-written rather than `backon`: the decision
//! needs the error's `retry-after`, the attempt and the time spent, and the runner records every
//! attempt, which a closure-driven retry crate would hide.

use std::time::Duration;

use rand::{Rng, SeedableRng};

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

impl RetryPolicy {
    /// Batch API control calls (list, upload, create, poll, download, cancel): six tries from
    /// 200 ms doubling up to 30 s, so that a flaky poll does not lose a batch that is running.
    pub const CONTROL: RetryPolicy = RetryPolicy {
        max_retries: 5,
        base: Duration::from_millis(200),
        max_backoff: Duration::from_secs(30),
        max_retry_after: Duration::from_secs(120),
        deadline: Duration::from_secs(900),
    };
}

/// Runs `f` until it succeeds, fails in a way the policy does not retry, or the policy gives up;
/// the last error is returned. Jitter comes from a fixed seed: control calls are not paced
/// against each other, and a seeded wait keeps runs reproducible.
pub async fn with_retries<T, F, Fut>(policy: &RetryPolicy, mut f: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let started = std::time::Instant::now();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut attempt = 1;
    loop {
        match f().await {
            Err(e) => match policy.decide(&e, attempt, started.elapsed(), &mut rng) {
                Decision::Retry(wait) => tokio::time::sleep(wait).await,
                Decision::GiveUp => return Err(e),
            },
            ok => return ok,
        }
        attempt += 1;
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

    #[tokio::test]
    async fn control_calls_retry_transient_errors_and_stop_on_others() {
        // CONTROL's tries and rules with millisecond waits, so the test takes no time.
        let quick = RetryPolicy {
            base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            ..RetryPolicy::CONTROL
        };
        let h = HeaderMap::new();
        let calls = std::cell::Cell::new(0);
        let flaky = || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            let h = h.clone();
            async move {
                if n < 3 {
                    Err(CallError::status(503, None, String::new(), &h))
                } else {
                    Ok(n)
                }
            }
        };
        assert_eq!(with_retries(&quick, flaky).await.unwrap(), 3);
        calls.set(0);
        let refused = || {
            calls.set(calls.get() + 1);
            let h = h.clone();
            async move { Err::<(), _>(CallError::status(404, None, String::new(), &h)) }
        };
        assert!(with_retries(&quick, refused).await.is_err());
        assert_eq!(calls.get(), 1, "a 404 is not retried");
        calls.set(0);
        let down = || {
            calls.set(calls.get() + 1);
            let h = h.clone();
            async move { Err::<(), _>(CallError::status(500, None, String::new(), &h)) }
        };
        assert!(with_retries(&quick, down).await.is_err());
        assert_eq!(calls.get(), 6, "six tries in all");
    }
}
