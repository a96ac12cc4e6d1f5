//! Runs git and docker as child processes and turns their failures into
//! errors that name the command and quote what it printed.

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::path::Path;

/// The output of a finished child process.
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// Returns the last non-empty line of stderr, which is where git and
    /// docker put the reason for a failure.
    pub fn reason(&self) -> String {
        self.stderr.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("no error output").trim().to_string()
    }
}

/// Runs `program args…` in `dir`, capturing stdout and stderr; a non-zero
/// exit is returned as data, not as an error.
pub fn capture<I, S>(program: &str, args: I, dir: Option<&Path>) -> Result<Output>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let mut expression = duct::cmd(program, args).stdout_capture().stderr_capture().stdin_null().unchecked();
    if let Some(dir) = dir {
        expression = expression.dir(dir);
    }
    let output = expression.run().map_err(|error| spawn_error(program, error))?;

    Ok(Output {
        status: output.status.code().unwrap_or(128),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Describes why a program could not be started at all.
pub fn spawn_error(program: &str, error: std::io::Error) -> Error {
    if error.kind() == std::io::ErrorKind::NotFound {
        Error::environment(format!("`{program}` was not found on PATH"))
            .help(format!("install {program}, or add the directory that holds it to PATH"))
    } else {
        Error::environment(format!("failed to start `{program}`: {error}"))
    }
}
