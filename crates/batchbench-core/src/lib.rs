//! What batchbench's client and its mock server both need, and nothing else, so the mock
//! (`batchbench-mock`) can be built and tested without the client: provider facts ([`facts`]),
//! the packed item format ([`items`]), answer normalisation ([`answer`]), the prompt types the
//! mock's oracle reads ([`prompt`]), embedding limits and vector encoding ([`embed`]) and the
//! token counting rules both sides bill by ([`tokens`]).

pub mod answer;
pub mod embed;
pub mod facts;
pub mod items;
pub mod prompt;
pub mod tokens;
