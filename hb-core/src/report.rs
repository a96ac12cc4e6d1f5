//! How the executables print an error: `error: …`, then `help: …` when
//! there is a fix, on stderr, with exit status 1.

use crate::error::Error;
use std::process::ExitCode;

/// Prints `error` for a person and returns the exit status to end with.
pub fn fail(error: &Error) -> ExitCode {
    eprintln!("error: {}", error.message);
    if let Some(help) = &error.help {
        eprintln!("help: {help}");
    }
    ExitCode::from(1)
}

/// Prints a JSON value on stdout, one line.
pub fn print_json<T: serde::Serialize>(value: &T) {
    let text = serde_json::to_string(value).expect("hb's output types always serialize");
    println!("{text}");
}
