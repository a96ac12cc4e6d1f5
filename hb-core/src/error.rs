//! The one error type of hb's operations.
//!
//! Every error carries a message that names what failed and, where there is
//! one, a `help` line that explains what to do next. Front ends print both
//! (`error: …` / `help: …`) or turn them into Nushell errors; none of them
//! parses the message.

use std::fmt;

/// The kind of failure, so front ends can pick an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input was wrong: unknown task, invalid id, bad flag value.
    Usage,
    /// Something hb depends on is missing or failed: Docker, Compose, git.
    Environment,
    /// A child process that ran the user's work failed, such as an image build.
    Child,
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub help: Option<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Usage, message: message.into(), help: None }
    }

    pub fn environment(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Environment, message: message.into(), help: None }
    }

    pub fn child(message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Child, message: message.into(), help: None }
    }

    /// Adds the line that explains how to fix the problem.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Wraps an I/O error on `path` with what hb was doing.
    pub fn io(action: &str, path: &std::path::Path, error: std::io::Error) -> Self {
        Error::environment(format!("failed to {action} `{}`: {error}", path.display()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
