//! The built-in mock server, its own crate (`crates/batchbench-mock`, built and tested without
//! the client), re-exported whole so `batchbench::mock::…` paths keep working.

pub use batchbench_mock::*;
