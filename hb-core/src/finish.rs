//! The watcher's end-of-run steps, done again by `hb stop` and `hb rm` when
//! the watcher is gone (killed, or lost in a reboot): recording the exit
//! code, bringing the workspace's commits back into the run's branch, and
//! removing the Compose project's network and volumes.
//!
//! All steps are safe to repeat, so doing them after a watcher that did
//! finish changes nothing.

use crate::docker::Container;
use crate::error::{Error, Result};
use crate::repo::Repo;
use crate::rundir::{self, ExitRecord, RunDir};

/// Writes `exit.json` from Docker's state of the ended `container`, unless
/// the watcher wrote it already. Returns whether it wrote the file.
pub fn record_exit(dir: &RunDir, container: &Container) -> Result<bool> {
    let ended = matches!(container.state.status.as_str(), "exited" | "dead");
    if !ended || dir.read_exit().is_some() || !dir.exists() {
        return Ok(false);
    }
    let record = ExitRecord {
        exit: container.state.exit_code,
        finished: Some(container.state.finished_at.clone()),
        started: Some(container.state.started_at.clone()),
    };
    let json = serde_json::to_vec(&record).expect("an exit record always serializes");
    rundir::write_atomic(&dir.exit_file(), &json, 0o644)?;
    Ok(true)
}

/// Fetches the run's branch from its workspace into the repository.
///
/// With `update_branch`, the branch moves forward to the workspace's tip as
/// the watcher does, and is created again when it was deleted. A branch
/// that has moved elsewhere is then an error. Without `update_branch`, only
/// the commits are copied and no ref changes. Returns the workspace's tip,
/// or `None` when there is no workspace or it has no such branch.
pub fn bring_back(repo: &Repo, dir: &RunDir, update_branch: bool) -> Result<Option<String>> {
    let workspace = dir.workspace();
    if !workspace.join(".git").exists() {
        return Ok(None);
    }

    let branch = dir.run.branch();
    let reference = format!("refs/heads/{branch}");
    let tip =
        crate::process::capture("git", ["rev-parse", "--verify", "--quiet", reference.as_str()], Some(&workspace))?;
    if !tip.success() {
        return Ok(None);
    }

    // NOTE: the fetch runs git-upload-pack in the workspace, whose config the
    // agent can edit; that no setting there can run a command is unverified.
    let source = workspace.to_string_lossy().into_owned();
    let refspec = if update_branch { format!("{reference}:{reference}") } else { reference.clone() };
    let output = repo.git(["fetch", "--quiet", "--no-write-fetch-head", source.as_str(), refspec.as_str()])?;
    if !output.success() {
        return Err(Error::usage(format!(
            "failed to bring the workspace's commits of run {} back into `{branch}`: {}",
            dir.run,
            output.reason()
        ))
        .help(format!(
            "the workspace is `{}`; merge what you need from it, or remove the run anyway with --force",
            workspace.display()
        )));
    }
    Ok(Some(tip.stdout.trim().to_string()))
}

/// Runs `docker compose down -v` for the run, quietly and best effort: it
/// removes the project's network and volumes, and keeps an exited one-off
/// container and so its logs. `--remove-orphans` would remove that
/// container too, so it is left out.
pub fn compose_down(dir: &RunDir) {
    if !dir.compose_file().exists() {
        return;
    }
    let _ = crate::docker::compose(&dir.compose_file(), &dir.run.project(), ["down", "-v"])
        .stdout_null()
        .stderr_null()
        .unchecked()
        .run();
}
