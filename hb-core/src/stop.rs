//! Stopping runs: the `hb stop` operation.
//!
//! Docker sends SIGTERM and, after the timeout, SIGKILL. The exit code is
//! then recorded as for any other end: by the watcher, or by this module
//! when the watcher is gone.

use crate::docker;
use crate::error::{Error, Result};
use crate::finish;
use crate::naming::RunRef;
use crate::repo::Repo;
use crate::rundir::RunDir;
use crate::runs::{self, RunInfo, Status};
use crate::watcher;
use serde::Serialize;
use std::time::Duration;

/// How long a run's watcher gets to record the exit and clean up after the
/// container stopped, before hb does those steps itself.
const WATCHER_GRACE: Duration = Duration::from_secs(30);

/// The outcome of stopping one run.
#[derive(Debug, Clone, Serialize)]
pub struct Stopped {
    pub run: String,
    pub container: String,
    pub cid: Option<String>,
    /// Whether this call stopped the container; false when it had ended before.
    pub stopped: bool,
    pub status: Status,
    pub exit: Option<i64>,
    /// A sentence for a person about the outcome.
    pub message: String,
}

/// Stops the containers of the runs `references` name, waiting `timeout`
/// seconds after SIGTERM before Docker sends SIGKILL.
///
/// A run that has already ended is reported as such and is not an error.
/// A run whose container does not exist yet is an error.
pub fn stop(repo: &Repo, references: &[RunRef], timeout: u32) -> Result<Vec<Stopped>> {
    let found = runs::find(repo, references)?;
    if let Some(preparing) = found.iter().find(|info| info.status == Status::Preparing) {
        return Err(Error::usage(format!("run {} has no container yet", preparing.run))
            .help(format!("its container is still being created; try `hb stop {}` again in a moment", preparing.run)));
    }

    let live: Vec<&RunInfo> =
        found.iter().filter(|info| matches!(info.status, Status::Running | Status::Created)).collect();
    let cids: Vec<String> = live.iter().filter_map(|info| info.cid.clone()).collect();
    if !cids.is_empty() {
        stop_containers(&cids, timeout)?;
    }

    let mut finished_by_hb = Vec::new();
    for info in &live {
        let dir = RunDir::new(repo, info.id());
        if !watcher::wait_until_ended(&dir, WATCHER_GRACE) || !finish_without_watcher(repo, &dir, info)? {
            continue;
        }
        finished_by_hb.push(info.run.clone());
    }

    let after = docker::inspect(&cids)?;
    let mut results = Vec::new();
    for info in &found {
        let was_live = live.iter().any(|live| live.run == info.run);
        let container = info.cid.as_ref().and_then(|cid| after.iter().find(|container| &container.id == cid));
        let (status, exit) = match container {
            Some(container) if was_live => {
                (Status::of_container(&container.state.status), Some(container.state.exit_code))
            }
            _ => (info.status, info.exit),
        };
        let message = if was_live {
            let mut message = match exit {
                Some(code) => format!("stopped run {} (exit code {code})", info.run),
                None => format!("stopped run {}", info.run),
            };
            if finished_by_hb.contains(&info.run) {
                message.push_str("; its watcher was gone, so hb recorded the exit code");
            }
            message
        } else {
            already_ended(info)
        };
        results.push(Stopped {
            run: info.run.clone(),
            container: info.container.clone(),
            cid: info.cid.clone(),
            stopped: was_live,
            status,
            exit: if status == Status::Exited || !was_live { exit } else { None },
            message,
        });
    }
    Ok(results)
}

/// Runs one `docker stop` for all `cids`. A container removed in the
/// meantime is not an error.
fn stop_containers(cids: &[String], timeout: u32) -> Result<()> {
    let mut args = vec!["stop".to_string(), "--time".to_string(), timeout.to_string()];
    args.extend(cids.iter().cloned());
    let output = crate::process::capture("docker", args, None)?;
    if output.success() {
        return Ok(());
    }
    let real_failure = output.stderr.lines().any(|line| !line.trim().is_empty() && !line.contains("No such container"));
    if real_failure {
        return Err(Error::environment(format!("`docker stop` failed: {}", output.reason())));
    }
    Ok(())
}

/// Does the watcher's steps for a run whose watcher is gone: records the
/// exit code, brings the commits back and removes the Compose project's
/// network. Returns whether anything was left for hb to do.
fn finish_without_watcher(repo: &Repo, dir: &RunDir, info: &RunInfo) -> Result<bool> {
    if !dir.exists() || dir.read_exit().is_some() {
        return Ok(false);
    }
    let Some(cid) = &info.cid else { return Ok(false) };
    let Some(container) = docker::inspect(std::slice::from_ref(cid))?.into_iter().next() else {
        return Ok(false);
    };
    if !finish::record_exit(dir, &container)? {
        return Ok(false);
    }

    // A branch that moved elsewhere is for `hb rm` to report; stopping has succeeded.
    let _ = finish::bring_back(repo, dir, true);
    finish::compose_down(dir);
    Ok(true)
}

fn already_ended(info: &RunInfo) -> String {
    let run = &info.run;
    match (info.status, info.exit) {
        (Status::Exited, Some(code)) => format!("run {run} has already exited (exit code {code})"),
        (Status::Removed, Some(code)) => {
            format!("run {run} has already ended (exit code {code}), and its container was removed")
        }
        (Status::Failed, _) => format!("run {run} failed to start, so it has no container to stop"),
        _ => format!("run {run} has already ended"),
    }
}
