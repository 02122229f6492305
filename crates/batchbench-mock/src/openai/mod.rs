//! The OpenAI side of the mock: chat completions (plain and streamed), embeddings, files,
//! batches.

pub mod batches;
pub mod chat;
pub mod embeddings;
pub mod files;
pub mod stream;
