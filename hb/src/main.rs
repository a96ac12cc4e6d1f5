//! `hb`, the dispatcher. `hb <command> [args...]` runs the executable
//! `hb-<command>` found next to `hb` or on PATH, the way git and cargo run
//! their external subcommands. It contains no domain logic: each operation is
//! its own `hb-*` executable, and `hb` only finds it and hands over.

mod commands;
mod usage;

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

/// Exit code for a command line that `hb` cannot parse, the same code that
/// clap-based parsers such as those of the `hb-*` commands exit with.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(first) = args.next() else {
        eprint!("{}", usage::usage_text(&commands::installed()));
        return ExitCode::from(EXIT_USAGE);
    };
    let rest: Vec<OsString> = args.collect();

    // A name that is not valid UTF-8 matches no flag below, so it falls
    // through to the command lookup, which works on the raw bytes.
    let first_text = first.to_string_lossy();
    match first_text.as_ref() {
        "--help" | "-h" | "help" => match rest.first() {
            Some(name) => run_command(name, &[OsString::from("--help")]),
            None => print_stdout(&usage::usage_text(&commands::installed())),
        },
        "--version" | "-V" => print_stdout(&format!("hb {}\n", env!("CARGO_PKG_VERSION"))),
        "--list" => print_stdout(&usage::list_text(&commands::installed())),
        flag if flag.starts_with('-') => reject_unexpected_argument(flag),
        _ => run_command(&first, &rest),
    }
}

/// Replaces this process with `hb-<name>`, passing `args` unchanged.
///
/// `exec` rather than spawn-and-wait, so the command's exit code and a
/// terminating signal reach the caller as if it had been run directly.
/// Returns only when the command is not found or `exec` fails.
fn run_command(name: &OsStr, args: &[OsString]) -> ExitCode {
    let Some(path) = commands::find(name) else {
        return report_no_such_command(name);
    };

    let error = Command::new(&path).args(args).exec();

    eprintln!("error: failed to run `hb-{}`: {error}", name.to_string_lossy());
    ExitCode::FAILURE
}

/// Prints the unknown-command error, with the closest installed command
/// name when one is near enough to be a likely typo.
fn report_no_such_command(name: &OsStr) -> ExitCode {
    let name = name.to_string_lossy();
    eprintln!("error: no such command: `{name}`");

    let installed = commands::installed();
    match commands::closest_name(&name, installed.keys().map(String::as_str)) {
        Some(similar) => eprintln!("help: a command with a similar name exists: `{similar}`"),
        None => eprintln!("help: view all installed commands with `hb --list`"),
    }
    ExitCode::FAILURE
}

fn reject_unexpected_argument(flag: &str) -> ExitCode {
    eprintln!("error: unexpected argument `{flag}`");
    eprintln!("help: see `hb --help` for the options and commands");
    ExitCode::from(EXIT_USAGE)
}

/// Writes `text` to stdout.
///
/// A reader that closes the pipe early, as `hb --list | head -1` does, is
/// not an error: the Rust runtime ignores SIGPIPE, so the write fails with
/// `BrokenPipe`, and `hb` then exits 0 without a message.
fn print_stdout(text: &str) -> ExitCode {
    let mut stdout = io::stdout().lock();
    let written = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());

    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: failed to write to stdout: {error}");
            ExitCode::FAILURE
        }
    }
}
