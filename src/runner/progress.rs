//! Progress bars on stderr: shown only when stderr is a terminal and `--quiet` is not given.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Creates progress bars, or hidden ones.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    visible: bool,
}

impl Progress {
    /// Visible only on a terminal and when not quiet.
    pub fn new(quiet: bool) -> Progress {
        Progress {
            visible: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Never visible (tests, library use).
    pub fn hidden() -> Progress {
        Progress { visible: false }
    }

    /// A bar of `len` steps labelled `label`.
    pub fn bar(&self, len: u64, label: &str) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{prefix:>28} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        bar
    }

    /// Whether bars are drawn.
    pub fn is_visible(&self) -> bool {
        self.visible
    }
}
