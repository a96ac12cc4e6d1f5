//! Listing runs with their state: the `hb runs` operation.
//!
//! Docker is the source of truth while a container exists, so the state of
//! every run comes from one `docker container inspect` call for all of them,
//! whatever their number. The watcher's `exit.json` only fills in the exit
//! code of a run whose container is gone.

use crate::docker::{self, Container};
use crate::error::{Error, Result};
use crate::naming::{RunId, RunRef};
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

    /// Maps Docker's `State.Status` of an existing container to a run status.
    pub fn of_container(docker_status: &str) -> Status {
        match docker_status {
            "created" => Status::Created,
            "running" | "paused" | "restarting" => Status::Running,
            _ => Status::Exited,
        }
    }

    /// Tells whether the run's container exists.
    pub fn has_container(self) -> bool {
        matches!(self, Status::Created | Status::Running | Status::Exited)
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
///
/// NOTE: a container whose run directory and branch are both gone is not
/// listed, because finding it takes a second Docker call; `hb rm` and
/// `hb prune` find and remove such containers.
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
            let status = Status::of_container(&state.status);
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

/// A container that carries this repository's label, as `docker ps` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct LabeledContainer {
    pub cid: String,
    pub name: String,
    /// Docker's state word: `created`, `running`, `exited`, …
    pub state: String,
    /// The run named by the container's labels, when they name a valid one.
    #[serde(skip)]
    pub run: Option<RunId>,
}

/// Lists every container labeled with this repository, in one
/// `docker ps --all --filter label=org.hyperbranch.repo=<root>` call.
pub fn repo_containers(repo: &Repo) -> Result<Vec<LabeledContainer>> {
    let filter = format!("label={}={}", labels::REPO, repo.root().to_string_lossy());
    let format = format!("{{{{.ID}}}}\t{{{{.Names}}}}\t{{{{.State}}}}\t{{{{.Label \"{}\"}}}}\t{{{{.Label \"{}\"}}}}", labels::TASK, labels::N);
    let output = crate::process::capture(
        "docker",
        ["ps", "--all", "--no-trunc", "--filter", filter.as_str(), "--format", format.as_str()],
        None,
    )?;
    if !output.success() {
        return Err(docker::unreachable_engine(&output.reason()));
    }

    let mut containers = Vec::new();
    for line in output.stdout.lines().filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [cid, name, state, task, n] = fields[..] else { continue };
        let run = TaskId::parse(task).ok().zip(n.parse::<u32>().ok().filter(|n| *n > 0)).map(|(task, n)| RunId::new(task, n));
        containers.push(LabeledContainer { cid: cid.to_string(), name: name.to_string(), state: state.to_string(), run });
    }
    Ok(containers)
}

/// Finds the runs that `references` name, each once, in the order given.
///
/// The usual case costs the one Docker call of [`list`]. A run that `list`
/// does not show costs one more call per reference: its container may have
/// neither run directory nor branch, or belong to another repository, and
/// the result or the error reports which.
pub fn find(repo: &Repo, references: &[RunRef]) -> Result<Vec<RunInfo>> {
    let listed = list(repo, None)?;
    let mut found: Vec<RunInfo> = Vec::new();
    for reference in references {
        let info = match pick(&listed, reference) {
            Some(info) => info.clone(),
            None => find_unlisted(repo, reference, &listed)?,
        };
        if !found.iter().any(|known| known.run == info.run) {
            found.push(info);
        }
    }
    Ok(found)
}

fn pick<'a>(listed: &'a [RunInfo], reference: &RunRef) -> Option<&'a RunInfo> {
    match reference {
        RunRef::Run(run) => listed.iter().find(|info| info.task == run.task.as_str() && info.n == run.n),
        RunRef::Latest(task) => listed.iter().filter(|info| info.task == task.as_str()).max_by_key(|info| info.n),
    }
}

/// Looks for a run among the containers of this repository that have
/// neither run directory nor branch, then among other repositories'
/// containers, and explains what it found.
fn find_unlisted(repo: &Repo, reference: &RunRef, listed: &[RunInfo]) -> Result<RunInfo> {
    let orphan = repo_containers(repo)?
        .into_iter()
        .filter(|container| match (reference, &container.run) {
            (RunRef::Run(run), Some(labeled)) => labeled == run,
            (RunRef::Latest(task), Some(labeled)) => &labeled.task == task,
            (_, None) => false,
        })
        .max_by_key(|container| container.run.as_ref().map(|run| run.n));
    if let Some(orphan) = orphan {
        let run = orphan.run.clone().expect("the filter keeps labeled containers only");
        let container = docker::inspect(std::slice::from_ref(&orphan.cid))?.into_iter().next();
        if let Some(container) = container {
            return Ok(describe(&RunDir::new(repo, run), Some(&container), false));
        }
    }

    if let RunRef::Run(run) = reference {
        let root = repo.root().to_string_lossy();
        for container in docker::inspect(&[run.project()])? {
            let labels = container.config.labels.unwrap_or_default();
            if let Some(owner) = labels.get(labels::REPO).filter(|owner| owner.as_str() != root.as_ref()) {
                return Err(Error::usage(format!("run {run} belongs to another repository, `{owner}`"))
                    .help(format!("run hb inside `{owner}` to manage it")));
            }
        }
    }
    Err(unknown_run(reference, listed))
}

fn unknown_run(reference: &RunRef, listed: &[RunInfo]) -> Error {
    let task = reference.task();
    let numbers: Vec<String> = listed.iter().filter(|info| info.task == task.as_str()).map(|info| info.run.clone()).collect();
    match reference {
        RunRef::Run(run) if !numbers.is_empty() => {
            Error::usage(format!("unknown run `{run}`")).help(format!("runs of task `{task}`: {}", numbers.join(", ")))
        }
        _ => Error::usage(format!("task `{task}` has no runs in this repository")).help("list the runs with `hb runs`"),
    }
}
