//! Fault injection: seeded random faults at configured rates, and one-shot faults queued by
//! tests through `POST /_mock/inject` (so an SDK's retries can be exercised deterministically).

use std::collections::VecDeque;
use std::sync::Mutex;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::FaultConfig;

/// A fault that can hit one synchronous request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 rate limit.
    RateLimit,
    /// 500 server error.
    Server,
    /// 503 (OpenAI) / 529 (Anthropic) overloaded.
    Overloaded,
    /// A slow response.
    Slow,
    /// The connection dropped mid-response, after the answer was generated (and counted).
    Drop,
    /// The connection closed before the request was processed: no response, nothing counted.
    Reset,
    /// An SSE stream cut before its last event.
    TruncatedSse,
    /// A packed answer with invalid JSON.
    MalformedPacked,
    /// A packed answer missing one item.
    MissingItem,
    /// 429 "resource unavailable": flex processing has no capacity for the request.
    FlexUnavailable,
}

impl Fault {
    /// Name used in stats and in `/_mock/inject`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::RateLimit => "429",
            Fault::Server => "500",
            Fault::Overloaded => "overloaded",
            Fault::Slow => "slow",
            Fault::Drop => "drop",
            Fault::Reset => "reset",
            Fault::TruncatedSse => "truncated_sse",
            Fault::MalformedPacked => "malformed_packed",
            Fault::MissingItem => "missing_item",
            Fault::FlexUnavailable => "flex_unavailable",
        }
    }

    /// Parses a name (also `503` and `529` for overloaded).
    pub fn parse(s: &str) -> Option<Fault> {
        Some(match s {
            "429" | "rate_limit" => Fault::RateLimit,
            "500" | "server" => Fault::Server,
            "503" | "529" | "overloaded" => Fault::Overloaded,
            "slow" => Fault::Slow,
            "drop" => Fault::Drop,
            "reset" => Fault::Reset,
            "truncated_sse" | "truncate" => Fault::TruncatedSse,
            "malformed_packed" | "malformed" => Fault::MalformedPacked,
            "missing_item" => Fault::MissingItem,
            "flex_unavailable" => Fault::FlexUnavailable,
            _ => return None,
        })
    }
}

/// The faults chosen for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// An error status instead of an answer (429, 500 or overloaded).
    pub status: Option<Fault>,
    /// Multiply the latency by the slow factor.
    pub slow: bool,
    /// Drop the connection mid-body.
    pub drop: bool,
    /// Close the connection before processing the request.
    pub reset: bool,
    /// Cut the SSE stream.
    pub truncate: bool,
    /// Invalid JSON in a packed answer.
    pub malformed: bool,
    /// One item missing from a packed answer.
    pub missing_item: bool,
}

impl FaultPlan {
    /// The faults of this plan, for the stats.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if let Some(s) = self.status {
            v.push(s.name());
        }
        for (on, f) in [
            (self.slow, Fault::Slow),
            (self.drop, Fault::Drop),
            (self.reset, Fault::Reset),
            (self.truncate, Fault::TruncatedSse),
            (self.malformed, Fault::MalformedPacked),
            (self.missing_item, Fault::MissingItem),
        ] {
            if on {
                v.push(f.name());
            }
        }
        v
    }
}

/// Chooses faults.
#[derive(Debug)]
pub struct Faults {
    rng: Mutex<ChaCha8Rng>,
    queue: Mutex<VecDeque<Fault>>,
    /// One-shot faults for the Files and Batches endpoints, by endpoint label
    /// (`POST /v1/batches`).
    scoped: Mutex<std::collections::HashMap<String, VecDeque<Fault>>>,
    flex: Mutex<ChaCha8Rng>,
}

impl Faults {
    /// A fault source seeded with `seed`.
    pub fn new(seed: u64) -> Faults {
        Faults {
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x6661_756c_7473)),
            queue: Mutex::new(VecDeque::new()),
            scoped: Mutex::new(std::collections::HashMap::new()),
            flex: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x666c_6578)),
        }
    }

    /// Queues `count` one-shot faults, each hitting the next synchronous request.
    pub fn inject(&self, fault: Fault, count: usize) {
        let mut q = match self.queue.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        for _ in 0..count.min(10_000) {
            q.push_back(fault);
        }
    }

    /// Queues `count` one-shot faults for the next calls of one Files or Batches endpoint,
    /// named by its label (`POST /v1/batches`, `GET /v1/batches/{id}`).
    pub fn inject_at(&self, endpoint: &str, fault: Fault, count: usize) {
        let mut scoped = match self.scoped.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let q = scoped.entry(endpoint.to_string()).or_default();
        for _ in 0..count.min(10_000) {
            q.push_back(fault);
        }
    }

    /// Clears queued faults.
    pub fn clear(&self) {
        if let Ok(mut q) = self.queue.lock() {
            q.clear();
        }
        if let Ok(mut s) = self.scoped.lock() {
            s.clear();
        }
    }

    /// The faults for the next synchronous request (a queued one first, else random draws).
    pub fn plan(&self, cfg: &FaultConfig) -> FaultPlan {
        let queued = self.queue.lock().ok().and_then(|mut q| q.pop_front());
        if let Some(f) = queued {
            let mut p = FaultPlan::default();
            match f {
                Fault::RateLimit | Fault::Server | Fault::Overloaded | Fault::FlexUnavailable => {
                    p.status = Some(f)
                }
                Fault::Slow => p.slow = true,
                Fault::Drop => p.drop = true,
                Fault::Reset => p.reset = true,
                Fault::TruncatedSse => p.truncate = true,
                Fault::MalformedPacked => p.malformed = true,
                Fault::MissingItem => p.missing_item = true,
            }
            return p;
        }
        let mut rng = match self.rng.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        draw(cfg, &mut *rng)
    }

    /// Whether flex processing refuses this flex request for capacity, drawn at
    /// `rate_flex_unavailable` (from its own stream, so runs without flex requests keep their
    /// fault sequence).
    pub fn flex_refused(&self, cfg: &FaultConfig) -> bool {
        if cfg.rate_flex_unavailable <= 0.0 {
            return false;
        }
        let mut rng = match self.flex.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        rng.random::<f64>() < cfg.rate_flex_unavailable
    }

    /// Faults for a Files or Batches API call: a fault queued for this endpoint, else (when
    /// `batch_endpoints` is on) a status fault, a reset or a dropped body drawn at the
    /// synchronous rates. Faults queued without an endpoint are left for chat requests.
    pub fn control_plan(&self, cfg: &FaultConfig, endpoint: &str) -> FaultPlan {
        let queued = self
            .scoped
            .lock()
            .ok()
            .and_then(|mut s| s.get_mut(endpoint).and_then(VecDeque::pop_front));
        if let Some(f) = queued {
            let mut p = FaultPlan::default();
            match f {
                Fault::RateLimit | Fault::Server | Fault::Overloaded => p.status = Some(f),
                Fault::Reset => p.reset = true,
                _ => p.drop = true,
            }
            return p;
        }
        if !cfg.batch_endpoints {
            return FaultPlan::default();
        }
        let mut rng = match self.rng.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let drawn = draw(cfg, &mut *rng);
        FaultPlan {
            status: drawn.status,
            reset: drawn.reset,
            drop: drawn.drop,
            ..FaultPlan::default()
        }
    }

    /// Answer-level faults only (used for batch requests).
    pub fn answer_plan(&self, cfg: &FaultConfig) -> FaultPlan {
        let mut rng = match self.rng.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        // A batch line can fail on its own with a server error (it then goes to the error
        // file); rate limits and dropped connections do not apply inside a batch.
        let status = (rng.random::<f64>() < cfg.rate_500).then_some(Fault::Server);
        FaultPlan {
            status,
            malformed: rng.random::<f64>() < cfg.rate_malformed_packed,
            missing_item: rng.random::<f64>() < cfg.rate_missing_item,
            ..FaultPlan::default()
        }
    }
}

/// One draw per fault kind; the status faults are exclusive (429 first, then 500, then 503).
pub fn draw(cfg: &FaultConfig, rng: &mut impl Rng) -> FaultPlan {
    let u: f64 = rng.random();
    let status = if u < cfg.rate_429 {
        Some(Fault::RateLimit)
    } else if u < cfg.rate_429 + cfg.rate_500 {
        Some(Fault::Server)
    } else if u < cfg.rate_429 + cfg.rate_500 + cfg.rate_overloaded {
        Some(Fault::Overloaded)
    } else {
        None
    };
    FaultPlan {
        status,
        slow: rng.random::<f64>() < cfg.rate_slow,
        drop: rng.random::<f64>() < cfg.rate_drop,
        truncate: rng.random::<f64>() < cfg.rate_truncated_sse,
        malformed: rng.random::<f64>() < cfg.rate_malformed_packed,
        missing_item: rng.random::<f64>() < cfg.rate_missing_item,
        // Drawn last, and only when enabled, so that configurations without resets keep the
        // fault sequence they had before this fault existed.
        reset: cfg.rate_reset > 0.0 && rng.random::<f64>() < cfg.rate_reset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_honoured_and_seeded() {
        let cfg = FaultConfig {
            rate_429: 0.1,
            rate_500: 0.05,
            rate_drop: 0.2,
            ..FaultConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let plans: Vec<FaultPlan> = (0..20_000).map(|_| draw(&cfg, &mut rng)).collect();
        let n429 = plans
            .iter()
            .filter(|p| p.status == Some(Fault::RateLimit))
            .count();
        let n500 = plans
            .iter()
            .filter(|p| p.status == Some(Fault::Server))
            .count();
        let drops = plans.iter().filter(|p| p.drop).count();
        assert!((1_800..2_200).contains(&n429), "{n429}");
        assert!((850..1_150).contains(&n500), "{n500}");
        assert!((3_700..4_300).contains(&drops), "{drops}");
        assert!(plans.iter().all(|p| !p.slow && !p.truncate));
        let mut again = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(draw(&cfg, &mut again), plans[0]);
    }

    #[test]
    fn injected_first() {
        let f = Faults::new(1);
        f.inject(Fault::Server, 2);
        let cfg = FaultConfig::default();
        assert_eq!(f.plan(&cfg).status, Some(Fault::Server));
        assert_eq!(f.plan(&cfg).status, Some(Fault::Server));
        assert_eq!(f.plan(&cfg), FaultPlan::default());
        assert_eq!(Fault::parse("529"), Some(Fault::Overloaded));
        assert_eq!(Fault::parse("x"), None);
    }
}
