//! The domain of hb, shared by every executable and the Nushell plugin.
//!
//! Each operation lives here once and returns data; the executables print
//! it as text or JSON and the plugin as Nushell values.

pub mod compose;
pub mod config;
pub mod docker;
pub mod envfile;
pub mod error;
pub mod finish;
pub mod logs;
pub mod merge;
pub mod mount;
pub mod naming;
pub mod plan;
pub mod process;
pub mod prune;
pub mod remove;
pub mod repo;
pub mod report;
pub mod rundir;
pub mod runs;
pub mod start;
pub mod state;
pub mod stop;
pub mod task;
pub mod watcher;

pub use error::{Error, ErrorKind, Result};
