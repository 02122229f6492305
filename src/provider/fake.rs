//! An in-memory provider for tests and benches: answers chat requests and runs batches from a
//! script, without sockets, so the runner's retries, re-asks and the batch lifecycle are tested
//! as plain function calls (as hyperfine tests its runner with a mock executor).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::BoxFuture;

use super::api::{BatchApi, ChatApi, Ended, Polled};
use super::openai::BatchResult;
use super::{CallError, ChatRequest, ChatResponse, Usage};

/// How the fake answers one request: from the request and how many times it has been sent.
pub type Responder = dyn Fn(&ChatRequest, usize) -> Result<ChatResponse, CallError> + Send + Sync;

/// A scripted provider. Chat answers come from the responder; a batch ends after
/// `polls_until_ended` polls, and its results are the responder's answers to its requests.
pub struct FakeProvider {
    responder: Box<Responder>,
    /// Batch limits: (requests, bytes).
    pub limits: (usize, usize),
    /// Polls a batch stays in progress before it ends.
    pub polls_until_ended: usize,
    /// Fail the nth batch submission (0-based) with this error.
    pub fail_submit: Option<(usize, CallError)>,
    sent: Mutex<HashMap<String, usize>>,
    encoded: Mutex<HashMap<String, ChatRequest>>,
    batches: Mutex<Vec<FakeBatch>>,
    cancelled: Mutex<Vec<String>>,
    submissions: AtomicUsize,
}

struct FakeBatch {
    id: String,
    ids: Vec<String>,
    polls: usize,
}

impl FakeProvider {
    /// A fake answering with `responder`, with roomy batch limits that end after one poll.
    pub fn new(
        responder: impl Fn(&ChatRequest, usize) -> Result<ChatResponse, CallError>
        + Send
        + Sync
        + 'static,
    ) -> FakeProvider {
        FakeProvider {
            responder: Box::new(responder),
            limits: (1_000, 1 << 20),
            polls_until_ended: 1,
            fail_submit: None,
            sent: Mutex::new(HashMap::new()),
            encoded: Mutex::new(HashMap::new()),
            batches: Mutex::new(Vec::new()),
            cancelled: Mutex::new(Vec::new()),
            submissions: AtomicUsize::new(0),
        }
    }

    /// An answer with `text` and the given usage.
    pub fn answer(text: &str, input_tokens: u64, output_tokens: u64) -> ChatResponse {
        ChatResponse {
            id: "fake".into(),
            text: text.into(),
            choices: 1,
            finish_reason: "stop".into(),
            usage: Usage {
                input_tokens,
                output_tokens,
                ..Usage::default()
            },
            request_id: None,
            ttft: None,
            served_tier: None,
            rate_limit: None,
        }
    }

    /// Batches submitted so far, as (batch id, custom ids).
    pub fn submitted(&self) -> Vec<(String, Vec<String>)> {
        let batches = self.batches.lock().unwrap();
        batches
            .iter()
            .map(|b| (b.id.clone(), b.ids.clone()))
            .collect()
    }

    /// Batch ids cancelled so far.
    pub fn cancelled(&self) -> Vec<String> {
        self.cancelled.lock().unwrap().clone()
    }

    fn respond(&self, request: &ChatRequest) -> Result<ChatResponse, CallError> {
        let key = request
            .messages
            .last()
            .map(|m| m.content.clone())
            .unwrap_or_default();
        let n = {
            let mut sent = self.sent.lock().unwrap();
            let n = sent.entry(key).or_default();
            *n += 1;
            *n
        };
        (self.responder)(request, n)
    }
}

impl ChatApi for FakeProvider {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, CallError>> {
        Box::pin(async move { self.respond(request) })
    }
}

impl BatchApi for FakeProvider {
    fn limits(&self) -> (usize, usize) {
        self.limits
    }

    fn encode(&self, custom_id: &str, request: &ChatRequest) -> String {
        let mut encoded = self.encoded.lock().unwrap();
        encoded.insert(custom_id.to_string(), request.clone());
        custom_id.to_string()
    }

    fn submit<'a>(
        &'a self,
        _endpoint: super::api::BatchEndpoint,
        encoded: Vec<String>,
        _on_input: &'a (dyn Fn(&str) + Send + Sync),
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            let n = self.submissions.fetch_add(1, Ordering::SeqCst);
            if let Some((k, e)) = &self.fail_submit {
                if *k == n {
                    return Err(e.clone());
                }
            }
            let id = format!("batch_{n}");
            self.batches.lock().unwrap().push(FakeBatch {
                id: id.clone(),
                ids: encoded,
                polls: 0,
            });
            Ok(id)
        })
    }

    fn poll<'a>(
        &'a self,
        id: &'a str,
        expected: usize,
    ) -> BoxFuture<'a, Result<Polled, CallError>> {
        Box::pin(async move {
            let mut batches = self.batches.lock().unwrap();
            let b = batches.iter_mut().find(|b| b.id == id).ok_or_else(|| {
                CallError::new(super::CallErrorKind::Status, format!("no batch {id}"))
            })?;
            b.polls += 1;
            let done = b.polls >= self.polls_until_ended;
            Ok(Polled {
                progress: format!("{id} {} {expected}", if done { "ended" } else { "running" }),
                status: if done { "completed" } else { "in_progress" }.into(),
                ended: done.then(|| Ended {
                    status: "completed".into(),
                    error: None,
                    sources: vec![id.to_string()],
                }),
            })
        })
    }

    fn results<'a>(
        &'a self,
        id: &'a str,
        _ended: &'a Ended,
    ) -> BoxFuture<'a, Result<Vec<bytes::Bytes>, CallError>> {
        Box::pin(async move {
            let batches = self.batches.lock().unwrap();
            let ids = batches
                .iter()
                .find(|b| b.id == id)
                .map(|b| b.ids.join("\n"))
                .unwrap_or_default();
            Ok(vec![bytes::Bytes::from(ids)])
        })
    }

    fn parse_result(&self, line: &str) -> Result<BatchResult, String> {
        let request = self
            .encoded
            .lock()
            .unwrap()
            .get(line)
            .cloned()
            .ok_or_else(|| format!("unknown custom id {line:?}"))?;
        Ok(BatchResult {
            custom_id: line.to_string(),
            outcome: self.respond(&request),
        })
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            self.cancelled.lock().unwrap().push(id.to_string());
            Ok(())
        })
    }
}
