//! Removing runs: the `hb rm` operation, also used by `hb prune`.
//!
//! A run owns its container, the Compose project's networks, volumes and
//! built image, its run directory with the workspace, and its branch. Docker
//! objects go first and the run directory and branch last, so a removal that
//! fails halfway leaves the run findable and `hb rm` can finish it.
//!
//! Work is never lost without `--force`: the workspace's commits are first
//! brought back into the branch, and a run whose branch has commits that
//! its base lacks is rejected, naming them.

use crate::docker;
use crate::error::{Error, Result};
use crate::finish;
use crate::merge::{self, Commit};
use crate::naming::RunRef;
use crate::process;
use crate::repo::Repo;
use crate::rundir::RunDir;
use crate::runs::{self, RunInfo, Status};
use crate::start::labels;
use crate::watcher;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// The label Compose puts on the containers, networks, volumes and images of
/// a project.
const COMPOSE_PROJECT_LABEL: &str = "com.docker.compose.project";

/// How long to wait for a run's watcher to finish its own cleanup before
/// removing what it works on.
const WATCHER_GRACE: Duration = Duration::from_secs(30);

/// How many unmerged commits a rejection names before it counts the rest.
const MAX_COMMITS_NAMED: usize = 5;

#[derive(Debug, Clone, Copy, Default)]
pub struct RemoveOptions {
    /// Remove running runs and unmerged work too.
    pub force: bool,
    /// Check and list, but remove nothing.
    pub dry_run: bool,
}

/// The objects removed for one run, or to be removed with `dry_run`.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub run: String,
    /// The container's name, when a container existed.
    pub container: Option<String>,
    pub cid: Option<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    /// The image Compose built for a `--dockerfile` run.
    pub image: Option<String>,
    /// The branch, when it existed.
    pub branch: Option<String>,
    /// The run directory with its workspace, when it existed.
    pub dir: Option<PathBuf>,
    /// Facts worth telling, such as a branch that was already deleted.
    pub notes: Vec<String>,
}

/// Removes each run `references` names. The runs are found first, so an
/// unknown run removes nothing; after that each run succeeds or fails on
/// its own.
pub fn remove(repo: &Repo, references: &[RunRef], options: RemoveOptions) -> Result<Vec<Result<Removed>>> {
    let found = runs::find(repo, references)?;
    Ok(found.iter().map(|info| remove_run(repo, info, options)).collect())
}

/// Removes one run, or checks that it could be removed with `dry_run`.
pub fn remove_run(repo: &Repo, info: &RunInfo, options: RemoveOptions) -> Result<Removed> {
    let run = info.id();
    let dir = RunDir::new(repo, run.clone());
    let branch = run.branch();
    let mut notes = Vec::new();

    if merge::current_branch(repo)?.as_deref() == Some(branch.as_str()) {
        return Err(Error::usage(format!("cannot remove run {run}: its branch `{branch}` is checked out"))
            .help("switch to another branch first, for example with `git switch -`"));
    }

    let live = matches!(info.status, Status::Running | Status::Created);
    if live && !options.force {
        return Err(Error::usage(format!("run {run} is still running"))
            .help(format!("stop it first with `hb stop {run}`, or remove it anyway with `hb rm --force {run}`")));
    }

    let mut container_removed = false;
    if !options.dry_run {
        if live {
            // Removing the container ends the watcher's wait, so it finishes now.
            remove_containers(std::slice::from_ref(info.cid.as_ref().unwrap_or(&info.container)))?;
            container_removed = true;
        }
        if !watcher::wait_until_ended(&dir, WATCHER_GRACE) {
            notes.push(format!("the watcher of run {run} was still running after {} s", WATCHER_GRACE.as_secs()));
        }
    }

    let branch_existed = repo.resolve(&format!("refs/heads/{branch}"))?.is_some();
    let workspace_tip = match finish::bring_back(repo, &dir, !options.dry_run) {
        Ok(tip) => tip,
        Err(error) if options.force => {
            notes.push(error.message);
            None
        }
        Err(error) => return Err(error),
    };
    let branch_tip = repo.resolve(&format!("refs/heads/{branch}"))?;
    if !options.force {
        reject_unmerged(repo, info, &dir, [branch_tip.as_deref(), workspace_tip.as_deref()])?;
    }

    let project = info.container.clone();
    let objects = ProjectObjects::find(repo, &project)?;
    let mut containers = objects.containers.clone();
    if let Some(cid) = info.cid.as_ref().filter(|_| info.status.has_container()) {
        if !containers.contains(cid) {
            containers.insert(0, cid.clone());
        }
    }
    let had_container = container_removed || !containers.is_empty();

    // A branch deleted by hand comes back from the workspace above, so that
    // its commits are checked; it is reported as already deleted.
    if !branch_existed && (dir.exists() || branch_tip.is_some()) {
        notes.push(format!("branch `{branch}` was already deleted"));
    }
    if !dir.exists() && (branch_tip.is_some() || had_container) {
        notes.push(format!("run directory `{}` was already deleted", dir.path.display()));
    }

    let removed = Removed {
        run: run.to_string(),
        container: had_container.then(|| project.clone()),
        cid: info.cid.clone().filter(|_| had_container),
        networks: objects.networks.clone(),
        volumes: objects.volumes.clone(),
        image: objects.images.first().cloned(),
        branch: branch_existed.then(|| branch.clone()),
        dir: dir.exists().then(|| dir.path.clone()),
        notes,
    };
    if options.dry_run {
        return Ok(removed);
    }

    remove_containers(&containers)?;
    remove_objects("network", &objects.networks)?;
    remove_objects("volume", &objects.volumes)?;
    remove_objects("image", &objects.images)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir.path).map_err(|error| {
            Error::io("remove the run directory", &dir.path, error)
                .help(format!("remove it by hand, then run `hb rm {run}` again"))
        })?;
    }
    if branch_tip.is_some() {
        repo.git_ok(&format!("delete branch `{branch}`"), ["branch", "-D", "--quiet", branch.as_str()])?;
    }
    Ok(removed)
}

/// Rejects the removal when the branch or the workspace has commits whose
/// changes the run's base lacks.
fn reject_unmerged(repo: &Repo, info: &RunInfo, dir: &RunDir, tips: [Option<&str>; 2]) -> Result<()> {
    let base = merge::base_of(repo, dir.read_record().as_ref())?;
    let mut commits: Vec<Commit> = Vec::new();
    for tip in tips.into_iter().flatten() {
        for commit in merge::unmerged(repo, &base, tip)? {
            if !commits.contains(&commit) {
                commits.push(commit);
            }
        }
    }
    if commits.is_empty() {
        return Ok(());
    }

    let count = if commits.len() == 1 { "1 commit".to_string() } else { format!("{} commits", commits.len()) };
    let mut named: Vec<String> = commits.iter().take(MAX_COMMITS_NAMED).map(Commit::oneline).collect();
    if commits.len() > MAX_COMMITS_NAMED {
        named.push(format!("and {} more", commits.len() - MAX_COMMITS_NAMED));
    }
    Err(Error::usage(format!("run {} has {count} not in `{base}`: {}", info.run, named.join(", "))).help(format!(
        "merge `{}` into `{base}` first, or remove the run anyway with `hb rm --force {}`",
        info.branch, info.run
    )))
}

/// The Docker objects that carry a Compose project's label.
struct ProjectObjects {
    /// Ids of this repository's containers in the project.
    containers: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
    /// Images Compose built for the project, such as `<project>-task:latest`.
    images: Vec<String>,
}

impl ProjectObjects {
    fn find(repo: &Repo, project: &str) -> Result<ProjectObjects> {
        let project_filter = format!("label={COMPOSE_PROJECT_LABEL}={project}");
        let repo_filter = format!("label={}={}", labels::REPO, repo.root().to_string_lossy());
        let containers = docker_lines(&[
            "ps",
            "--all",
            "--quiet",
            "--no-trunc",
            "--filter",
            &project_filter,
            "--filter",
            &repo_filter,
        ])?;
        let networks = docker_lines(&["network", "ls", "--filter", &project_filter, "--format", "{{.Name}}"])?;
        let volumes = docker_lines(&["volume", "ls", "--filter", &project_filter, "--format", "{{.Name}}"])?;
        let images = docker_lines(&[
            "image",
            "ls",
            "--filter",
            &project_filter,
            "--format",
            "{{.Repository}}:{{.Tag}}\t{{.ID}}",
        ])?
        .into_iter()
        .map(|line| {
            let (name, id) = line.split_once('\t').unwrap_or((line.as_str(), ""));
            if name.contains("<none>") {
                id.to_string()
            } else {
                name.to_string()
            }
        })
        .collect();
        Ok(ProjectObjects { containers, networks, volumes, images })
    }
}

fn docker_lines(args: &[&str]) -> Result<Vec<String>> {
    let output = process::capture("docker", args, None)?;
    if !output.success() {
        return Err(docker::unreachable_engine(&output.reason()));
    }
    Ok(output.stdout.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_string).collect())
}

/// Removes containers with their anonymous volumes, killing running ones.
/// A container that is already gone is not an error.
fn remove_containers(containers: &[String]) -> Result<()> {
    if containers.is_empty() {
        return Ok(());
    }
    let mut args = vec!["rm".to_string(), "--force".to_string(), "--volumes".to_string()];
    args.extend(containers.iter().cloned());
    let output = process::capture("docker", args, None)?;
    if !output.success() && !only_missing(&output.stderr) {
        return Err(Error::environment(format!(
            "failed to remove container {}: {}",
            containers.join(", "),
            output.reason()
        )));
    }
    Ok(())
}

fn remove_objects(kind: &str, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let mut args = vec![kind.to_string(), "rm".to_string()];
    args.extend(names.iter().cloned());
    let output = process::capture("docker", args, None)?;
    if !output.success() && !only_missing(&output.stderr) {
        return Err(Error::environment(format!("failed to remove {kind} {}: {}", names.join(", "), output.reason())));
    }
    Ok(())
}

/// Tells whether every error line reports an object that does not exist.
fn only_missing(stderr: &str) -> bool {
    stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .all(|line| line.contains("No such") || line.contains("not found"))
}
