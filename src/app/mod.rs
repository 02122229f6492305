//! The commands: each takes parsed options, does the work through the library, and returns an
//! exit code or a typed error. `main.rs` only maps errors to one line and an exit code.

mod commands;
mod merge;
mod plan;
mod prices;
mod resume;
mod run;
mod session;
mod sweep;

pub use commands::{compare_command, gen_command, mock_command};
pub use merge::merge_command;
pub use plan::*;
pub use prices::prices;
pub use run::{print_summary, run, write_report, write_rows};
pub use session::Session;
pub use sweep::sweep_command;
