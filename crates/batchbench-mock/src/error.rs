//! The mock's own error type, so the crate stands without the client; the client maps each
//! variant onto its own `Error` of the same name (same message, same exit code).

/// Why the mock could not start or load its configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A mock config file is unreadable or malformed; the message names the file.
    #[error("{0}")]
    Input(String),
    /// The server could not start (bad configuration, port in use).
    #[error("mock server: {0}")]
    Mock(String),
}

/// The mock's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
