//! Listing runs with their state: the `hb runs` operation.
//!
//! Docker is the source of truth while a container exists, so the state of
//! every run comes from one `docker container inspect` call for all of them,
//! whatever their number. The watcher's `exit.json` only fills in the exit
//! code of a run whose container is gone.

use crate::docker::{self, Container};
use crate::error::Result;
use crate::naming::RunId;
use crate::repo::Repo;
use crate::rundir::{self, RunDir};
use crate::start::labels;
use crate::task::TaskId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The run directory exists, and its container does not yet.
    Preparing,
    /// The container failed to start, for example because its image did
    /// not build; `failed` holds the reason.
    Failed,
    Created,
    Running,
    Exited,
    /// The container is gone; the exit code comes from the watcher's record.
    Removed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Preparing => "preparing",
            Status::Failed => "failed",
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
            Status::Removed => "removed",
        }
    }

    /// Tells whether the run's container can no longer change.
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Failed | Status::Exited | Status::Removed)
    }
}

/// One run and its state.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub run: String,
    pub task: String,
    pub n: u32,
    pub status: Status,
    pub exit: Option<i64>,
    pub cid: Option<String>,
    pub container: String,
    pub branch: String,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
    pub image: Option<String>,
    /// Whether the run directory exists; a container whose directory was
    /// deleted by hand is still listed so that `hb rm` can clean it up.
    pub has_dir: bool,
}

impl RunInfo {
    pub fn id(&self) -> RunId {
        RunId::new(TaskId::parse(&self.task).expect("listed runs have valid task ids"), self.n)
    }
}

/// Lists the runs of the repository, or of one task, ordered by task then n.
///
/// Runs are found from their directories and from their branches (which
/// outlive a directory deleted by hand); their containers are read with a
/// single Docker call.
pub fn list(repo: &Repo, task: Option<&TaskId>) -> Result<Vec<RunInfo>> {
    let mut ids: BTreeSet<RunId> = rundir::list_run_ids(&repo.runs_dir()).into_iter().collect();
    let with_dir: BTreeSet<RunId> = ids.clone();
    ids.extend(run_branches(repo)?);
    if let Some(task) = task {
        ids.retain(|run| &run.task == task);
    }

    let dirs: Vec<RunDir> = ids.iter().map(|run| RunDir::new(repo, run.clone())).collect();
    let names: Vec<String> = dirs.iter().map(|dir| dir.read_cid().unwrap_or_else(|| dir.run.project())).collect();
    let containers = containers_of(repo, &names)?;

    let mut runs = Vec::new();
    for (dir, name) in dirs.iter().zip(&names) {
        let has_dir = with_dir.contains(&dir.run);
        let container = containers.get(name.as_str()).or_else(|| containers.get(dir.run.project().as_str()));
        if !has_dir && container.is_none() {
            // A branch without a directory or container is the user's work, not a run.
            continue;
        }
        runs.push(describe(dir, container, has_dir));
    }
    Ok(runs)
}

/// Returns the runs whose branches `task/<id>/<n>` exist.
fn run_branches(repo: &Repo) -> Result<Vec<RunId>> {
    let branches = repo.branches_under("task/")?;
    Ok(branches
        .iter()
        .filter_map(|branch| {
            let rest = branch.strip_prefix("task/")?;
            let (task, n) = rest.split_once('/')?;
            RunId::from_dir_name(&format!("task-{task}-{n}")).filter(|run| run.to_string() == rest)
        })
        .collect())
}

/// Inspects the containers in one call and keeps those of this repository,
/// keyed by both id and name.
fn containers_of(repo: &Repo, names: &[String]) -> Result<HashMap<String, Container>> {
    let root = repo.root().to_string_lossy();
    let mut by_key = HashMap::new();
    for container in docker::inspect(names)? {
        let labels = container.config.labels.clone().unwrap_or_default();
        if labels.get(labels::REPO).map(String::as_str) != Some(root.as_ref()) {
            continue;
        }
        by_key.insert(container.name.trim_start_matches('/').to_string(), container.clone());
        by_key.insert(container.id.clone(), container);
    }
    Ok(by_key)
}

fn describe(dir: &RunDir, container: Option<&Container>, has_dir: bool) -> RunInfo {
    let run = &dir.run;
    let record = dir.read_record();
    let created = record.as_ref().map(|record| record.created);

    let (status, exit, started, finished, cid) = match container {
        Some(container) => {
            let state = &container.state;
            let status = match state.status.as_str() {
                "created" => Status::Created,
                "running" | "paused" | "restarting" => Status::Running,
                _ => Status::Exited,
            };
            let exit = (status == Status::Exited).then_some(state.exit_code);
            let started = docker::parse_time(&state.started_at).or(created);
            let finished = if status == Status::Exited { docker::parse_time(&state.finished_at) } else { None };
            (status, exit, started, finished, Some(container.id.clone()))
        }
        None => {
            let cid = dir.read_cid();
            let recorded = dir.read_exit();
            let status = if cid.is_some() || recorded.is_some() {
                Status::Removed
            } else if dir.read_failure().is_some() {
                Status::Failed
            } else {
                Status::Preparing
            };
            let exit = recorded.as_ref().map(|record| record.exit);
            let finished = recorded.as_ref().and_then(|record| record.finished.as_deref()).and_then(docker::parse_time);
            (status, exit, created, finished, cid)
        }
    };

    RunInfo {
        run: run.to_string(),
        task: run.task.to_string(),
        n: run.n,
        status,
        exit,
        cid,
        container: run.project(),
        branch: run.branch(),
        started,
        finished,
        image: container.map(|c| c.config.image.clone()).or_else(|| record.map(|record| record.image)),
        has_dir,
    }
}
