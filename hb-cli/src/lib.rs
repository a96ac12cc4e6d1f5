//! The command-line front ends of hb's executables: argument definitions,
//! output and exit status. Each `hb-<name>` binary calls one `main` here,
//! and the completion scripts are generated from the same definitions.

pub mod completions;
pub mod logs;
pub mod prune;
pub mod rm;
pub mod run;
pub mod runs;
pub mod stop;

/// Reads the current directory, which every operation starts from.
pub(crate) fn current_dir() -> Result<std::path::PathBuf, hb_core::Error> {
    std::env::current_dir()
        .map_err(|error| hb_core::Error::environment(format!("cannot read the current directory: {error}")))
}
