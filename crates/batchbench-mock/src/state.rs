//! Shared server state: configuration, oracle, counters, limiter, caches and the stores of files
//! and batches, plus the server's seeded random source for ids and jitter.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::anthropic::store::MessageBatchStore;
use super::cache::PromptCache;
use super::config::MockConfig;
use super::faults::Faults;
use super::gemini::store::GeminiStore;
use super::models::KnownModels;
use super::openai::store::{BatchStore, FileStore};
use super::oracle::Oracle;
use super::ratelimit::Limiter;
use super::stats::Stats;

/// Everything the handlers share.
#[derive(Debug)]
pub struct State {
    /// The configuration.
    pub config: MockConfig,
    /// Gold answers.
    pub oracle: Oracle,
    /// Accepted model ids.
    pub models: KnownModels,
    /// Counters.
    pub stats: Stats,
    /// Rate limits.
    pub limiter: Limiter,
    /// Fault injection.
    pub faults: Faults,
    /// Prompt caches.
    pub cache: PromptCache,
    /// Stored files.
    pub files: Mutex<FileStore>,
    /// OpenAI batches.
    pub batches: Mutex<BatchStore>,
    /// Anthropic message batches.
    pub message_batches: Mutex<MessageBatchStore>,
    /// Gemini files, uploads, context caches and batches.
    pub gemini: Mutex<GeminiStore>,
    /// Background batch workers, aborted on shutdown.
    pub tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    rng: Mutex<ChaCha8Rng>,
}

/// Locks a mutex, recovering from poisoning (a panicked holder cannot leave these maps invalid
/// in a way that matters more than stopping the server would).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl State {
    /// Builds the state.
    pub fn new(config: MockConfig, oracle: Oracle) -> State {
        let models = KnownModels::new(&config.models, config.accept_any_model);
        State {
            limiter: Limiter::new(config.rate_limits.rpm, config.rate_limits.tpm),
            faults: Faults::new(config.seed),
            cache: PromptCache::new(config.cache.clone()),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(config.seed)),
            files: Mutex::new(FileStore::default()),
            batches: Mutex::new(BatchStore::default()),
            message_batches: Mutex::new(MessageBatchStore::default()),
            gemini: Mutex::new(GeminiStore::default()),
            tasks: Mutex::new(Vec::new()),
            stats: Stats::default(),
            models,
            oracle,
            config,
        }
    }

    /// `prefix` followed by `len` random alphanumerics.
    pub fn random_id(&self, prefix: &str, len: usize) -> String {
        let mut rng = lock(&self.rng);
        let mut s = String::with_capacity(prefix.len() + len);
        s.push_str(prefix);
        for _ in 0..len {
            s.push(ALNUM[rng.random_range(0..ALNUM.len())] as char);
        }
        s
    }

    /// `prefix` followed by `len` random lowercase hex digits.
    pub fn random_hex(&self, prefix: &str, len: usize) -> String {
        let mut rng = lock(&self.rng);
        let mut s = String::from(prefix);
        for _ in 0..len {
            s.push(char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'));
        }
        s
    }

    /// A uniform draw in `[-1, 1]` for latency jitter.
    pub fn jitter(&self) -> f64 {
        lock(&self.rng).random_range(-1.0..=1.0)
    }

    /// A seed for shuffling one batch's output.
    pub fn shuffle_seed(&self) -> u64 {
        lock(&self.rng).random()
    }

    /// Simulated seconds as a real duration (times the time scale).
    pub fn scaled(&self, secs: f64) -> Duration {
        let s = secs * self.config.time_scale;
        if s.is_finite() && s > 0.0 {
            Duration::from_secs_f64(s.min(1e9))
        } else {
            Duration::ZERO
        }
    }

    /// Keeps a background task's handle so shutdown can stop it.
    pub fn track(&self, handle: tokio::task::AbortHandle) {
        let mut tasks = lock(&self.tasks);
        tasks.retain(|h| !h.is_finished());
        tasks.push(handle);
    }

    /// Stops every background task.
    pub fn abort_tasks(&self) {
        for h in lock(&self.tasks).drain(..) {
            h.abort();
        }
    }
}
