//! The command-line front ends of hb's executables: argument definitions,
//! output and exit status. Each `hb-<name>` binary calls one `main` here,
//! and the completion scripts are generated from the same definitions.

pub mod completions;
pub mod logs;
pub mod prune;
pub mod rm;
pub mod run;
pub mod runs;
mod signals;
pub mod stop;

/// Reads the current directory, which every operation starts from.
pub(crate) fn current_dir() -> Result<std::path::PathBuf, hb_core::Error> {
    std::env::current_dir()
        .map_err(|error| hb_core::Error::environment(format!("cannot read the current directory: {error}")))
}

/// Restores the default action of SIGPIPE, which Rust ignores, so that
/// `hb runs | head -1` ends quietly when the reader goes away instead of
/// failing on the next write.
pub(crate) fn exit_quietly_on_broken_pipe() {
    // SAFETY: called first thing in main, before any thread starts, and
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
