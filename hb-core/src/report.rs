//! Output of the executables: data on stdout, and errors as `error: …`,
//! then `help: …` when there is a fix, on stderr, with exit status 1.
//!
//! Nothing here panics when a stream cannot be written, as `print!` does.
//! A failed write to stdout is an error that the caller reports. A broken
//! pipe never gets that far in the executables, because they restore the
//! default SIGPIPE action, which ends the process quietly.

use crate::error::{Error, Result};
use std::io::Write;
use std::process::ExitCode;

/// Prints `error` for a person and returns the exit status to end with.
/// A failure to write to stderr is ignored because there is nowhere left to
/// report it.
pub fn fail(error: &Error) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {}", error.message);
    if let Some(help) = &error.help {
        let _ = writeln!(stderr, "help: {help}");
    }
    ExitCode::from(1)
}

/// Prints a status line such as `no runs` on stderr, ignoring a failure to
/// write it.
pub fn status(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Writes `text` to stdout as it is and flushes it.
pub fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{text}").and_then(|()| stdout.flush()).map_err(write_error)
}

/// Writes `value` to stdout as JSON on one line and flushes it.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string(value).expect("hb's output types always serialize");
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}").and_then(|()| stdout.flush()).map_err(write_error)
}

/// Returns the exit status for a command whose work succeeded and whose
/// output was written with `written`.
pub fn exit_after(written: Result<()>) -> ExitCode {
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

fn write_error(error: std::io::Error) -> Error {
    Error::environment(format!("failed to write output: {error}"))
}
