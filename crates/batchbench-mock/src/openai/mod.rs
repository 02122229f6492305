//! The OpenAI side of the mock: chat completions (plain and streamed), files, batches.

pub mod batches;
pub mod chat;
pub mod files;
pub mod stream;
