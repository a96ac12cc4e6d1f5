//! Removing every finished run whose work is in its base: the `hb prune`
//! operation.
//!
//! Runs come from [`runs::list`]; containers of this repository that have
//! neither run directory nor branch, which `list` cannot see, come from one
//! `docker ps` call by label and are swept as well.

use crate::error::Result;
use crate::remove::{self, RemoveOptions, Removed};
use crate::repo::Repo;
use crate::runs::{self, RunInfo, Status};
use serde::Serialize;

/// The runs `hb prune` removed (or would remove with `dry_run`) and kept.
#[derive(Debug, Clone, Serialize)]
pub struct Pruned {
    pub dry_run: bool,
    pub removed: Vec<Removed>,
    pub kept: Vec<Kept>,
}

/// A finished run, or a leftover container, that prune did not remove.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub run: String,
    pub status: Status,
    pub reason: String,
}

/// Removes every finished run whose work is in its base, and leftover
/// containers of this repository, unless `dry_run`. Runs that are not
/// finished are left alone and not reported.
pub fn prune(repo: &Repo, dry_run: bool) -> Result<Pruned> {
    let options = RemoveOptions { force: false, dry_run };
    let listed = runs::list(repo, None)?;
    let mut pruned = Pruned { dry_run, removed: Vec::new(), kept: Vec::new() };

    for info in listed.iter().filter(|info| info.status.is_finished()) {
        record(&mut pruned, info, remove::remove_run(repo, info, options));
    }

    for container in runs::repo_containers(repo)? {
        let Some(run) = container.run.clone() else { continue };
        if listed.iter().any(|info| info.task == run.task.as_str() && info.n == run.n) {
            continue;
        }
        let status = Status::of_container(&container.state);
        let info = RunInfo {
            run: run.to_string(),
            task: run.task.to_string(),
            n: run.n,
            status,
            exit: None,
            cid: Some(container.cid.clone()),
            container: run.project(),
            branch: run.branch(),
            started: None,
            finished: None,
            image: None,
            has_dir: false,
        };
        record(&mut pruned, &info, remove::remove_run(repo, &info, options));
    }
    Ok(pruned)
}

fn record(pruned: &mut Pruned, info: &RunInfo, outcome: Result<Removed>) {
    match outcome {
        Ok(removed) => pruned.removed.push(removed),
        Err(error) => pruned.kept.push(Kept { run: info.run.clone(), status: info.status, reason: error.message }),
    }
}
