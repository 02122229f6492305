//! batchbench: measure what batching LLM API calls really saves.
//!
//! The data flow runs one way: a dataset becomes a [`dataset::PromptSet`]; each strategy plans
//! requests; the runner sends them through a [`provider::Client`] (to a real API or the built-in
//! [`mock`]); strategies unpack the answers per prompt; [`pricing`] prices each request; the
//! [`report`] exporters write CSV, JSON, Markdown, charts and HTML.

// `CallError` carries the server's hints (status, code, retry-after, request id, rate limits)
// by value: errors are rare next to a request's network time, so boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub mod advice;
pub mod app;
pub mod bench;
pub mod cli;
pub mod compare;
pub mod config;
pub mod dataset;
pub mod embed;
pub mod error;
pub mod estimate;
pub mod grade;
pub mod history;
pub mod mock;
pub mod packing;
pub mod pricing;
pub mod provider;
pub mod record;
pub mod report;
pub mod retry;
pub mod runner;
pub mod sampling;
pub mod secret;
pub mod stats;
pub mod strategy;
pub mod sweep;
pub mod tokens;

pub use error::{Error, Result};
