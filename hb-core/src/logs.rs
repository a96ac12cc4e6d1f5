//! Reading a run's output: Docker keeps the logs, and hb only finds the
//! container and builds the `docker logs` call.

use crate::error::{Error, Result};
use crate::naming::{RunId, RunRef};
use crate::repo::Repo;
use crate::state;

#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub follow: bool,
    /// Lines from the end to show; `None` shows all.
    pub tail: Option<u64>,
    pub timestamps: bool,
}

/// The container whose logs to read.
#[derive(Debug, Clone)]
pub struct LogSource {
    pub run: RunId,
    pub cid: String,
}

/// Finds the container of the run `reference` names.
pub fn source(repo: &Repo, reference: &RunRef) -> Result<LogSource> {
    let dir = state::resolve(repo, reference)?;
    let run = dir.run.clone();

    if let Some(cid) = dir.read_cid() {
        return Ok(LogSource { run, cid });
    }
    if let Some(reason) = dir.read_failure() {
        return Err(Error::usage(format!("run {run} has no container: {}", reason.trim()))
            .help(format!("start the task again with `hb run {}`, and remove this run with `hb rm {run}`", run.task)));
    }
    Err(Error::usage(format!("run {run} has no container yet"))
        .help(format!("its container is still being created; try `hb logs {run}` again in a moment")))
}

/// Returns the arguments of `docker` that print or follow the logs.
pub fn docker_args(source: &LogSource, options: &LogOptions) -> Vec<String> {
    let mut args = vec!["logs".to_string()];
    if options.follow {
        args.push("--follow".into());
    }
    if let Some(tail) = options.tail {
        args.push("--tail".into());
        args.push(tail.to_string());
    }
    if options.timestamps {
        args.push("--timestamps".into());
    }
    args.push(source.cid.clone());
    args
}

/// Tells whether a line `docker logs` printed on stderr reports that the
/// container does not exist.
pub fn is_missing_container(line: &str) -> bool {
    line.contains("No such container")
}

/// Tells whether a line `docker logs` printed on stderr reports that the
/// Docker engine did not respond.
pub fn is_unreachable_engine(line: &str) -> bool {
    line.contains("Cannot connect to the Docker daemon") || line.starts_with("error during connect")
}

/// Returns the error for logs of a container that was removed.
pub fn removed(source: &LogSource) -> Error {
    Error::usage(format!("the container of run {} was removed, and its logs with it", source.run)).help(format!(
        "Docker keeps logs only while the container exists; `hb rm {}` cleans up the rest of the run",
        source.run
    ))
}
