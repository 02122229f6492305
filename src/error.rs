//! The crate's error type and how each kind maps to a process exit code.

use std::path::PathBuf;

/// Exit code: the run finished and every prompt was answered.
pub const EXIT_OK: i32 = 0;
/// Exit code: the run finished but some prompts failed (or `compare` found a regression).
pub const EXIT_FAILURES: i32 = 1;
/// Exit code: interrupted by Ctrl-C (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit code: a usage error or bad input; nothing (more) was sent.
pub const EXIT_USAGE: i32 = 2;

/// Every error batchbench reports. Messages are one line and name the file, line or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line or configuration value is not acceptable.
    #[error("{0}")]
    Usage(String),
    /// A dataset (or an `estimate --outputs` file) is missing or malformed; the message names
    /// file and line.
    #[error("{0}")]
    Dataset(String),
    /// A configuration input is missing or malformed: `bench.toml`, a price file or override, a
    /// mock config, an API key or instructions file.
    #[error("{0}")]
    Config(String),
    /// Files an earlier run wrote (a run folder, `report.json`, the resume journal) cannot be
    /// read or do not fit together (`compare`, `merge`, `--resume`).
    #[error("{0}")]
    RunFiles(String),
    /// The `--history` database given cannot be opened, read or updated.
    #[error("{0}")]
    History(String),
    /// A file could not be written (a full disk, a read-only folder): the run's results so far
    /// are what is on disk; exit 1, not the usage code.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An output could not be produced (a report that failed to serialise).
    #[error("{0}")]
    Output(String),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Pricing data could not price a request.
    #[error("pricing: {0}")]
    Pricing(String),
    /// The server answered in a way that cannot be used (bad status, bad body).
    #[error("{0}")]
    Provider(String),
    /// The provider said the account has no quota left; the run stops.
    #[error("stopping: {0}")]
    Fatal(String),
    /// The mock server could not start or failed.
    #[error("mock server: {0}")]
    Mock(String),
    /// The user pressed Ctrl-C.
    #[error("{0}")]
    Interrupted(String),
    /// A bug: a worker thread panicked or a lock was poisoned.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_)
            | Error::Dataset(_)
            | Error::Config(_)
            | Error::RunFiles(_)
            | Error::History(_)
            | Error::Io { .. }
            | Error::Pricing(_) => EXIT_USAGE,
            Error::Provider(_)
            | Error::Internal(_)
            | Error::Fatal(_)
            | Error::Mock(_)
            | Error::Write { .. }
            | Error::Output(_) => EXIT_FAILURES,
            Error::Interrupted(_) => EXIT_INTERRUPTED,
        }
    }

    /// Wraps an error writing `path`.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Write {
            path: path.into(),
            source,
        }
    }

    /// Wraps an I/O error reading the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The mock crate's errors keep their message and exit code when they reach the CLI.
impl From<batchbench_mock::Error> for Error {
    fn from(e: batchbench_mock::Error) -> Error {
        match e {
            batchbench_mock::Error::Input(m) => Error::Config(m),
            batchbench_mock::Error::Mock(m) => Error::Mock(m),
        }
    }
}
