//! Listing runs with their state: the `hb runs` operation.
//!
//! Docker is the source of truth while a container exists, so the state of
//! every run comes from one `docker ps` call for all of them, whatever their
//! number. `docker ps` shows no start and end times, so they come from the
//! watcher's `exit.json`, which it read from Docker when the container
//! ended. Containers without such a record (running, or whose watcher died)
//! are read with one `docker container inspect` call for all of them.
//! `docker inspect` costs one Engine API request per container, which made
//! listing 1,000 runs 3 to 4 times slower than `docker ps -a`.

use crate::docker::{self, Container, ContainerConfig, ContainerState};
use crate::error::{Error, Result};
use crate::naming::{RunId, RunRef};
use crate::repo::Repo;
use crate::rundir::{self, RunDir};
use crate::start::labels;
use crate::task::TaskId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// The stage of a run's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The run directory exists, and its container does not yet.
    Preparing,
    /// The container failed to start, for example because its image did
    /// not build; the file `failed` contains the reason.
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
/// outlive a directory deleted by hand). Their containers are read with one
/// `docker ps` call, and one `docker inspect` call when some need it.
///
/// A container whose run directory and branch are both gone, left by a
/// crash or a hand-made clean-up, is listed too, from its labels.
pub fn list(repo: &Repo, task: Option<&TaskId>) -> Result<Vec<RunInfo>> {
    let listed = repo_containers(repo)?;
    let mut ids: BTreeSet<RunId> = rundir::list_run_ids(&repo.runs_dir()).into_iter().collect();
    let with_dir: BTreeSet<RunId> = ids.clone();
    ids.extend(run_branches(repo)?);
    ids.extend(listed.iter().filter_map(|container| container.run.clone()));
    if let Some(task) = task {
        ids.retain(|run| &run.task == task);
    }

    let dirs: Vec<RunDir> = ids.iter().map(|run| RunDir::new(repo, run.clone())).collect();
    let names: Vec<String> = dirs.iter().map(|dir| dir.read_cid().unwrap_or_else(|| dir.run.project())).collect();
    let containers = containers_of(&listed, &dirs, &names)?;

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

/// Reads the containers of `dirs`, named by `names`, keyed by both id and
/// name: from one `docker ps` call of this repository's containers, and
/// from one `docker container inspect` call of those that need it.
fn containers_of(listed: &[LabeledContainer], dirs: &[RunDir], names: &[String]) -> Result<HashMap<String, Container>> {
    let mut by_key: HashMap<&str, &LabeledContainer> = HashMap::new();
    for container in listed {
        by_key.insert(container.cid.as_str(), container);
        by_key.insert(container.name.as_str(), container);
    }

    let mut containers = HashMap::new();
    let mut to_inspect = Vec::new();
    for (dir, name) in dirs.iter().zip(names) {
        let Some(found) = by_key.get(name.as_str()).or_else(|| by_key.get(dir.run.project().as_str())) else {
            continue;
        };
        match from_listing(found, dir) {
            Some(container) => insert_container(&mut containers, container),
            None => to_inspect.push(found.cid.clone()),
        }
    }
    for container in docker::inspect(&to_inspect)? {
        insert_container(&mut containers, container);
    }
    Ok(containers)
}

fn insert_container(containers: &mut HashMap<String, Container>, container: Container) {
    containers.insert(container.name.trim_start_matches('/').to_string(), container.clone());
    containers.insert(container.id.clone(), container);
}

/// Builds the container's state from its `docker ps` line when that line
/// and the run's files tell all of it: a created container has no times
/// yet, and an exited one has the watcher's record of this container's end.
/// Returns `None` when only `docker inspect` can tell.
///
/// NOTE: a container restarted by hand after the watcher recorded its end,
/// and ended again with the same code, shows the first run's times. The
/// image is the one `docker ps` shows, which is an image id instead of the
/// name when that name has since been given to another image.
fn from_listing(listed: &LabeledContainer, dir: &RunDir) -> Option<Container> {
    const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
    let (exit_code, started_at, finished_at) = match listed.state.as_str() {
        "created" => (0, ZERO_TIME.to_string(), ZERO_TIME.to_string()),
        "exited" => {
            let record = dir.read_exit().filter(|_| dir.read_cid().as_deref() == Some(listed.cid.as_str()))?;
            if exit_code_of_status(&listed.status) != Some(record.exit) {
                return None;
            }
            (record.exit, record.started?, record.finished?)
        }
        _ => return None,
    };
    Some(Container {
        id: listed.cid.clone(),
        name: listed.name.clone(),
        state: ContainerState { status: listed.state.clone(), exit_code, started_at, finished_at },
        config: ContainerConfig { image: listed.image.clone(), labels: None },
    })
}

/// Reads the exit code from the status that `docker ps` shows for an exited
/// container, such as `Exited (137) 5 minutes ago`.
fn exit_code_of_status(status: &str) -> Option<i64> {
    let rest = status.strip_prefix("Exited (")?;
    let (code, _) = rest.split_once(')')?;
    code.parse().ok()
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
    /// Docker's status line, such as `Exited (0) 5 minutes ago`.
    #[serde(skip)]
    pub status: String,
    #[serde(skip)]
    pub image: String,
    /// The run named by the container's labels, when they name a valid one.
    #[serde(skip)]
    pub run: Option<RunId>,
}

/// Lists every container labeled with this repository, in one
/// `docker ps --all --filter label=org.hyperbranch.repo=<root>` call.
pub fn repo_containers(repo: &Repo) -> Result<Vec<LabeledContainer>> {
    let filter = format!("label={}={}", labels::REPO, repo.root().to_string_lossy());
    let format = format!(
        "{{{{.ID}}}}\t{{{{.Names}}}}\t{{{{.State}}}}\t{{{{.Status}}}}\t{{{{.Image}}}}\t{{{{.Label \"{}\"}}}}\t{{{{.Label \"{}\"}}}}",
        labels::TASK,
        labels::N
    );
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
        let [cid, name, state, status, image, task, n] = fields[..] else { continue };
        let run =
            TaskId::parse(task).ok().zip(n.parse::<u32>().ok().filter(|n| *n > 0)).map(|(task, n)| RunId::new(task, n));
        containers.push(LabeledContainer {
            cid: cid.to_string(),
            name: name.to_string(),
            state: state.to_string(),
            status: status.to_string(),
            image: image.to_string(),
            run,
        });
    }
    Ok(containers)
}

/// Finds the runs that `references` name, each once, in the order given.
///
/// The usual case costs the Docker calls of [`list`]. A run that `list`
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
    let numbers: Vec<u32> = listed.iter().filter(|info| info.task == task.as_str()).map(|info| info.n).collect();
    match reference {
        RunRef::Run(run) if !numbers.is_empty() => {
            Error::usage(format!("unknown run `{run}`")).help(crate::state::runs_of_task_hint(task, &numbers))
        }
        _ => Error::usage(format!("task `{task}` has no runs in this repository")).help("list the runs with `hb runs`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_read_from_ps_status() {
        assert_eq!(exit_code_of_status("Exited (0) 5 minutes ago"), Some(0));
        assert_eq!(exit_code_of_status("Exited (137) About an hour ago"), Some(137));
        assert_eq!(exit_code_of_status("Up 3 seconds"), None);
        assert_eq!(exit_code_of_status("Created"), None);
    }
}
