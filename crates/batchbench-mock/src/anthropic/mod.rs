//! The Anthropic side of the mock: messages (plain and streamed), count_tokens, message batches.

pub mod batches;
pub mod messages;
pub mod stream;
