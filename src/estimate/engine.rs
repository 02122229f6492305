//! The streaming core of `estimate`: the calling thread reads the dataset and hands chunks of
//! prompts to worker threads, which count tokens and price every planned request on its own.
//! Packed groups (K consecutive prompts, as `run` plans them) never straddle a chunk when the
//! chunk size is a multiple of every K; otherwise the reader carries the straddling prompts
//! over and sends each such group as a job of its own. Memory stays bounded whatever the
//! number of prompts: the channel holds a few chunks, and the reader at most K prompts per K.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::counter::Counter;
use super::outputs::OutputRule;
use crate::dataset::{self, Item, Prompt};
use crate::error::{Error, Result};
use crate::packing;
use crate::pricing::{ModelLimits, Pricing, ServedTier};
use crate::provider::{CacheTtl, ProviderKind, Usage};

/// Prompts per chunk before rounding up to a multiple of every K.
const CHUNK: usize = 1024;
/// The largest chunk the rounding may produce; past it, straddling groups are carried over.
const MAX_CHUNK: usize = 16_384;
/// Sentinel id used to find the layout of packed messages.
const SENTINEL: &str = "ZZSENTINELZZ";

/// What one request shape is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One prompt per request; `cached`: the shared prefix is marked for the prompt cache, kept
    /// for this TTL (1-hour writes are priced at the 1-hour write rate).
    Single { cached: Option<CacheTtl> },
    /// K prompts in one packed request.
    Packed(usize),
    /// K user messages in one request (the naive demonstration).
    Naive(usize),
}

impl Shape {
    /// Prompts per request, for packed and naive shapes.
    pub(crate) fn k(self) -> Option<usize> {
        match self {
            Shape::Single { .. } => None,
            Shape::Packed(k) | Shape::Naive(k) => Some(k),
        }
    }
}

/// Token facts of one model, computed once.
#[derive(Debug, Clone)]
pub(crate) struct ModelCtx {
    /// Model id.
    pub name: String,
    /// Which API.
    pub provider: ProviderKind,
    /// Index into the encodings.
    pub enc: usize,
    /// Size limits, for packed requests.
    pub limits: ModelLimits,
    /// Input tokens of a single request other than the prompt's own.
    pub single_base: u64,
    /// Input tokens of a packed request other than the user message and the schema.
    pub packed_base: u64,
    /// Per naive request: fixed tokens; per message: the message overhead.
    pub naive_base: u64,
    /// Per naive user message, besides its content.
    pub naive_per_message: u64,
    /// Tokens read from the cache by every cached request but the first (0: nothing cached).
    pub cache_read: u64,
    /// Tokens the first cached request writes at cache-write prices (Anthropic).
    pub cache_write: u64,
    /// How the provider caches the shared prefix.
    pub cache: crate::provider::overheads::CacheStyle,
}

/// One (model, strategy) computed in a pass.
#[derive(Debug, Clone)]
pub(crate) struct Task<'a> {
    /// Index into the models.
    pub model: usize,
    /// The request shape (with the K in force).
    pub shape: Shape,
    /// The tier it is billed at (batch for the Batch API strategies).
    pub tier: ServedTier,
    /// Output tokens.
    pub output: OutputRule<'a>,
}

/// Totals of one task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Acc {
    /// Requests.
    pub requests: u64,
    /// Prompts.
    pub prompts: u64,
    /// All input tokens.
    pub input: u64,
    /// Cached input tokens.
    pub cached: u64,
    /// Cache-write input tokens.
    pub cache_write: u64,
    /// Output tokens.
    pub output: u64,
    /// Nano-dollars, summed request by request.
    pub cost: u64,
    /// A request exceeded the model's limits (run would lower K).
    pub overflow: bool,
    /// The largest request's input + allowed output tokens.
    pub largest: u64,
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        self.requests += o.requests;
        self.prompts += o.prompts;
        self.input += o.input;
        self.cached += o.cached;
        self.cache_write += o.cache_write;
        self.output += o.output;
        self.cost += o.cost;
        self.overflow |= o.overflow;
        self.largest = self.largest.max(o.largest);
    }
}

/// Per-encoding constants.
#[derive(Debug, Clone)]
pub(crate) struct EncCtx {
    /// The counter.
    pub counter: Counter,
    /// Layout of packed messages, when it decomposes (else every packed message is counted whole).
    layout: Option<Layout>,
    /// Per K: the header tokens before the example id (when the layout decomposes).
    header_prefix: HashMap<usize, u64>,
    /// Whether some OpenAI model of this encoding needs the schema of packed requests.
    pub schema: bool,
}

/// The constant parts of a packed user message, so that its count is a sum of per-item counts:
/// every cut is at a `<` that follows a newline, where no pre-tokenizer piece can cross.
#[derive(Debug, Clone)]
struct Layout {
    /// Tokens of the header after the example id (through the first item's leading newline).
    header_suffix: u64,
    /// `</item>\n\n` between items.
    close_mid: u64,
    /// `</item>\n` after the last item.
    close_last: u64,
}

/// Everything a pass needs.
pub(crate) struct Pass<'a> {
    pub encs: Vec<EncCtx>,
    pub models: Vec<ModelCtx>,
    pub tasks: Vec<Task<'a>>,
    pub pricing: &'a Pricing,
    pub answer_tokens: u64,
}

impl EncCtx {
    /// Builds the constants for `counter`, for the Ks given.
    pub fn new(counter: Counter, ks: &[usize], schema: bool) -> EncCtx {
        let mut enc = EncCtx {
            counter,
            layout: None,
            header_prefix: HashMap::new(),
            schema,
        };
        let mut layout = None;
        for &k in ks {
            match header_parts(k) {
                Some((prefix, suffix)) => {
                    enc.header_prefix.insert(k, counter.count(&prefix));
                    layout.get_or_insert_with(|| Layout {
                        header_suffix: counter.count(&suffix),
                        close_mid: counter.count("</item>\n\n"),
                        close_last: counter.count("</item>\n"),
                    });
                }
                None => return enc,
            }
        }
        enc.layout = layout;
        enc
    }
}

/// Splits the packed message of K items around the example id, checking that the message is
/// header + items as this module assumes. `None` if the layout differs (then count whole).
fn header_parts(k: usize) -> Option<(String, String)> {
    let msg = packing::pack_user_message(std::iter::repeat_n((SENTINEL, "x"), k));
    let item = format!("\n<item id=\"{SENTINEL}\">\nx\n</item>\n");
    let header_len = msg.len().checked_sub(item.len() * k)?;
    let (header, items) = msg.split_at(header_len);
    if items != item.repeat(k) || !header.ends_with('\n') {
        return None;
    }
    let at = header.find(SENTINEL)?;
    if header[at + SENTINEL.len()..].contains(SENTINEL) {
        return None;
    }
    Some((
        header[..at].to_string(),
        format!("{}\n", &header[at + SENTINEL.len()..]),
    ))
}

fn alnum_edges(id: &str) -> bool {
    let b = id.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// Per-prompt counts in one encoding.
struct Counts {
    prompt: Vec<u64>,
    id: Vec<u64>,
    item: Vec<u64>,
}

fn counts(enc: &EncCtx, prompts: &[Prompt], need_items: bool, scratch: &mut String) -> Counts {
    let c = enc.counter;
    let prompt = prompts.iter().map(|p| c.count(&p.prompt)).collect();
    let (id, item) = if need_items {
        prompts
            .iter()
            .map(|p| {
                scratch.clear();
                scratch.push_str("<item id=\"");
                scratch.push_str(&p.id);
                scratch.push_str("\">\n");
                scratch.push_str(&p.prompt);
                scratch.push('\n');
                (c.count(&p.id), c.count(scratch))
            })
            .unzip()
    } else {
        (Vec::new(), Vec::new())
    };
    Counts { prompt, id, item }
}

/// Input tokens of the user message of a packed group, and of its schema (OpenAI).
fn packed_tokens(
    enc: &EncCtx,
    k: usize,
    group: &[&Prompt],
    ids: &[u64],
    items: &[u64],
) -> (u64, u64) {
    let c = enc.counter;
    let user = match (&enc.layout, enc.header_prefix.get(&group.len().min(k))) {
        (Some(l), Some(prefix)) if alnum_edges(&group[0].id) && group.len() == k => {
            prefix
                + ids[0]
                + l.header_suffix
                + items.iter().sum::<u64>()
                + (group.len() as u64 - 1) * l.close_mid
                + l.close_last
        }
        _ => c.count(&packing::pack_user_message(
            group.iter().map(|p| (p.id.as_str(), p.prompt.as_str())),
        )),
    };
    let schema = if enc.schema {
        c.count(&packing::answer_schema(group.iter().map(|p| p.id.as_str())).to_string())
    } else {
        0
    };
    (user, schema)
}

/// One unit of work.
enum Job {
    /// Consecutive prompts from global index `start`: singles, and every group inside.
    Chunk { start: u64, prompts: Vec<Prompt> },
    /// One group of K prompts that straddled chunks.
    Group {
        k: usize,
        start: u64,
        prompts: Vec<Prompt>,
    },
}

/// (model, tier, input, cached, cache write, output): a request's price depends on nothing else.
type MemoKey = (usize, ServedTier, u64, u64, u64, u64);

/// A packed or naive group inside a job: (from, to, user-message tokens, schema tokens).
type Group = (usize, usize, u64, u64);

/// Per-worker state.
struct Worker<'p, 'a> {
    pass: &'p Pass<'a>,
    accs: Vec<Acc>,
    memo: HashMap<MemoKey, u64>,
    scratch: String,
}

impl Worker<'_, '_> {
    fn price(&mut self, model: usize, tier: ServedTier, usage: Usage) -> Result<u64> {
        let key = (
            model,
            tier,
            usage.input_tokens,
            usage.cached_tokens,
            usage.cache_write_tokens,
            usage.output_tokens,
        );
        if let Some(v) = self.memo.get(&key) {
            return Ok(*v);
        }
        let m = &self.pass.models[model];
        let v = self
            .pass
            .pricing
            .cost_at(m.provider, &m.name, &usage, tier)?
            .0;
        if self.memo.len() > 1 << 20 {
            self.memo.clear();
        }
        self.memo.insert(key, v);
        Ok(v)
    }

    fn record(
        &mut self,
        task: usize,
        prompts: u64,
        usage: Usage,
        allowed_output: u64,
    ) -> Result<()> {
        let t = &self.pass.tasks[task];
        let cost = self.price(t.model, t.tier, usage)?;
        let m = &self.pass.models[t.model];
        let a = &mut self.accs[task];
        a.requests += 1;
        a.prompts += prompts;
        a.input += usage.input_tokens;
        a.cached += usage.cached_tokens;
        a.cache_write += usage.cache_write_tokens;
        a.output += usage.output_tokens;
        a.cost += cost;
        if allowed_output > 0 {
            let total = usage.input_tokens + allowed_output;
            a.largest = a.largest.max(total);
            if allowed_output > m.limits.max_output_tokens || total > m.limits.context_window {
                a.overflow = true;
            }
        }
        Ok(())
    }

    fn job(&mut self, job: Job) -> Result<()> {
        let (start, prompts, only_k, whole) = match job {
            Job::Chunk { start, prompts } => (start, prompts, None, false),
            Job::Group { k, start, prompts } => (start, prompts, Some(k), true),
        };
        let pass = self.pass;
        for (e, enc) in pass.encs.iter().enumerate() {
            let tasks: Vec<usize> = (0..pass.tasks.len())
                .filter(|&t| pass.models[pass.tasks[t].model].enc == e)
                .filter(|&t| match only_k {
                    Some(k) => pass.tasks[t].shape.k() == Some(k),
                    None => true,
                })
                .collect();
            if tasks.is_empty() {
                continue;
            }
            let need_items = tasks
                .iter()
                .any(|&t| matches!(pass.tasks[t].shape, Shape::Packed(_)));
            let counts = counts(enc, &prompts, need_items, &mut self.scratch);
            let len = prompts.len() as u64;
            // Groups per K, computed once for every task of that K.
            let mut groups: HashMap<(usize, bool), Vec<Group>> = HashMap::new();
            for &t in &tasks {
                let task = &pass.tasks[t];
                match task.shape {
                    Shape::Single { cached } => {
                        let m = &pass.models[task.model];
                        for (i, p) in prompts.iter().enumerate() {
                            let index = start + i as u64;
                            let input = m.single_base + counts.prompt[i];
                            let mut usage = Usage {
                                input_tokens: input,
                                output_tokens: task.output.prompt(index, p),
                                ..Usage::default()
                            };
                            if let Some(ttl) = cached {
                                cache_usage(m, index, ttl, &mut usage);
                            }
                            self.record(t, 1, usage, 0)?;
                        }
                    }
                    Shape::Packed(k) | Shape::Naive(k) => {
                        let ku = k as u64;
                        let (first, last) = if whole {
                            (0, prompts.len())
                        } else {
                            let first = start.div_ceil(ku) * ku;
                            let last = (start + len) / ku * ku;
                            if first >= last {
                                continue;
                            }
                            ((first - start) as usize, (last - start) as usize)
                        };
                        let packed = matches!(task.shape, Shape::Packed(_));
                        let list = groups.entry((k, packed)).or_insert_with(|| {
                            (first..last)
                                .step_by(k)
                                .map(|a| {
                                    let b = (a + k).min(last);
                                    let (user, schema) = if packed {
                                        let refs: Vec<&Prompt> = prompts[a..b].iter().collect();
                                        packed_tokens(
                                            enc,
                                            k,
                                            &refs,
                                            &counts.id[a..b],
                                            &counts.item[a..b],
                                        )
                                    } else {
                                        (0, 0)
                                    };
                                    (a, b, user, schema)
                                })
                                .collect()
                        });
                        let list = list.clone();
                        let m = &pass.models[task.model];
                        for (a, b, user, schema) in list {
                            let refs: Vec<&Prompt> = prompts[a..b].iter().collect();
                            let n = (b - a) as u64;
                            let gstart = start + a as u64;
                            let (input, output, allowed) = if packed {
                                let schema = if m.provider.structured_outputs() {
                                    schema
                                } else {
                                    0
                                };
                                let ids: u64 = counts.id[a..b].iter().sum();
                                let mut output = task.output.sum(gstart, &refs);
                                if task.output.json_allowance {
                                    output += 2 + ids + 6 * n;
                                }
                                let allowed = 2 + n * (pass.answer_tokens + 6) + ids;
                                (m.packed_base + user + schema, output, allowed)
                            } else {
                                let input = m.naive_base
                                    + (a..b)
                                        .map(|i| m.naive_per_message + counts.prompt[i])
                                        .sum::<u64>();
                                let output = if task.output.whole_request {
                                    task.output.sum(gstart, &refs)
                                } else {
                                    task.output.prompt(gstart, refs[0])
                                };
                                (input, output, 0)
                            };
                            self.record(
                                t,
                                n,
                                Usage {
                                    input_tokens: input,
                                    output_tokens: output,
                                    ..Usage::default()
                                },
                                allowed,
                            )?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// What a pass found.
pub(crate) struct PassResult {
    /// Per task.
    pub accs: Vec<Acc>,
    /// Prompts read.
    pub prompts: u64,
}

/// Reads the instructions: the header record if the file starts with one.
pub(crate) fn read_instructions(path: &Path) -> Result<Option<String>> {
    match dataset::stream(path)?.next() {
        Some(item) => match item? {
            Item::Instructions(s) => Ok(Some(s)),
            Item::Prompt(..) => Ok(None),
        },
        None => Ok(None),
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The chunk size: [`CHUNK`] rounded up to a multiple of every K, within [`MAX_CHUNK`].
fn chunk_size(ks: &[usize]) -> usize {
    let mut lcm = 1usize;
    for &k in ks {
        lcm = lcm / gcd(lcm, k) * k;
        if lcm > MAX_CHUNK {
            return CHUNK;
        }
    }
    CHUNK.div_ceil(lcm) * lcm
}

/// Streams the dataset once and computes every task.
pub(crate) fn run_pass(
    pass: &Pass<'_>,
    path: &Path,
    threads: usize,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<PassResult> {
    let mut ks: Vec<usize> = pass.tasks.iter().filter_map(|t| t.shape.k()).collect();
    ks.sort_unstable();
    ks.dedup();
    let chunk = chunk_size(&ks);
    let threads = threads.max(1);
    let (tx, rx): (SyncSender<Job>, Receiver<Job>) = sync_channel(threads * 2);
    let rx = Mutex::new(rx);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let rx = &rx;
                let failed = &failed;
                scope.spawn(move || -> Result<Vec<Acc>> {
                    let mut w = Worker {
                        pass,
                        accs: vec![Acc::default(); pass.tasks.len()],
                        memo: HashMap::new(),
                        scratch: String::new(),
                    };
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        let Ok(job) = job else { break };
                        if let Err(e) = w.job(job) {
                            failed.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                    Ok(w.accs)
                })
            })
            .collect();
        let read = read_and_dispatch(path, chunk, &ks, &tx, &failed, progress);
        drop(tx);
        let mut accs = vec![Acc::default(); pass.tasks.len()];
        let mut worker_error = None;
        for h in handles {
            match h.join() {
                Ok(Ok(a)) => accs.iter_mut().zip(&a).for_each(|(x, y)| x.merge(y)),
                Ok(Err(e)) => worker_error = Some(e),
                Err(_) => {
                    worker_error =
                        Some(Error::Internal("estimate: a worker thread panicked".into()))
                }
            }
        }
        if let Some(e) = worker_error {
            return Err(e);
        }
        let prompts = read?;
        Ok(PassResult { accs, prompts })
    })
}

/// The reader: chunks, and groups that straddle chunks.
fn read_and_dispatch(
    path: &Path,
    chunk: usize,
    ks: &[usize],
    tx: &SyncSender<Job>,
    failed: &AtomicBool,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<u64> {
    let send = |job: Job| -> Result<()> {
        tx.send(job)
            .map_err(|_| Error::Internal("estimate: the worker threads stopped".into()))
    };
    // Carried-over prompts of the group in progress, per K (only when chunks are not multiples of K).
    let mut carry: Vec<(usize, u64, Vec<Prompt>)> =
        ks.iter().map(|&k| (k, 0, Vec::new())).collect();
    let mut start: u64 = 0;
    let mut buf: Vec<Prompt> = Vec::with_capacity(chunk);
    let mut flush = |buf: &mut Vec<Prompt>, start: &mut u64| -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let len = buf.len() as u64;
        for (k, cstart, held) in carry.iter_mut() {
            let ku = *k as u64;
            let end = *start + len;
            let first = start.div_ceil(ku) * ku;
            if first >= end {
                // No boundary inside: every prompt continues the group in progress.
                if held.is_empty() {
                    *cstart = *start;
                }
                held.extend(buf.iter().cloned());
                if first == end {
                    send(Job::Group {
                        k: *k,
                        start: *cstart,
                        prompts: std::mem::take(held),
                    })?;
                }
                continue;
            }
            let head = (first - *start) as usize;
            held.extend(buf[..head].iter().cloned());
            if !held.is_empty() {
                send(Job::Group {
                    k: *k,
                    start: *cstart,
                    prompts: std::mem::take(held),
                })?;
            }
            let tail = (end / ku * ku - *start) as usize;
            if tail < buf.len() {
                *cstart = *start + tail as u64;
                held.extend(buf[tail..].iter().cloned());
            }
        }
        *start += len;
        send(Job::Chunk {
            start: *start - len,
            prompts: std::mem::replace(buf, Vec::with_capacity(chunk)),
        })?;
        if let Some(p) = progress {
            p.set_position(*start);
        }
        Ok(())
    };
    let mut seen_prompt = false;
    for item in dataset::stream(path)? {
        if failed.load(Ordering::Relaxed) {
            break;
        }
        match item? {
            Item::Instructions(_) => {
                if seen_prompt {
                    return Err(Error::Dataset(format!(
                        "{}: the instructions record must come before the first prompt (estimate streams the file)",
                        path.display()
                    )));
                }
            }
            Item::Prompt(_, prompt) => {
                seen_prompt = true;
                buf.push(prompt);
                if buf.len() == chunk {
                    flush(&mut buf, &mut start)?;
                }
            }
        }
    }
    flush(&mut buf, &mut start)?;
    for (k, cstart, held) in carry {
        if !held.is_empty() {
            send(Job::Group {
                k,
                start: cstart,
                prompts: held,
            })?;
        }
    }
    Ok(start)
}

/// The cache's share of one cached request: the first writes the prefix and the others read
/// it; with a stored cache (Gemini) every request reads it and the first also carries the
/// cache's making, its tokens added to the input as cache writes.
fn cache_usage(m: &ModelCtx, index: u64, ttl: CacheTtl, usage: &mut Usage) {
    use crate::provider::overheads::CacheStyle;
    let input = usage.input_tokens;
    match m.cache {
        CacheStyle::Stored { .. } => {
            usage.cached_tokens = m.cache_read.min(input);
            if index == 0 {
                usage.input_tokens += m.cache_write;
                usage.cache_write_tokens = m.cache_write;
            }
        }
        CacheStyle::Automatic { .. } | CacheStyle::Explicit { .. } => {
            if index == 0 {
                usage.cache_write_tokens = m.cache_write.min(input);
                if ttl == CacheTtl::OneHour {
                    usage.cache_write_1h_tokens = usage.cache_write_tokens;
                }
            } else {
                usage.cached_tokens = m.cache_read.min(input);
            }
        }
    }
}
