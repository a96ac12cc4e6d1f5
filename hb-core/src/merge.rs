//! Whether a run's work is already in its base, which decides whether
//! `hb rm` and `hb prune` may delete its branch.
//!
//! Ancestry alone would call a squash-merged or rebased branch unmerged, so
//! the check compares content. A branch is merged when merging it into the
//! base's current tip changes nothing, or when every commit has an
//! equivalent patch in the base (`git cherry`). It is also merged when one
//! commit of the base has the same patch as the whole branch, which is what
//! `git merge --squash` makes.

use crate::error::{Error, Result};
use crate::repo::Repo;
use crate::rundir::RunRecord;
use serde::Serialize;

/// A commit of a run's branch that its base does not contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    pub id: String,
    pub subject: String,
}

impl Commit {
    /// Formats the short id and subject as `git log --oneline` does.
    pub fn oneline(&self) -> String {
        format!("{} {}", &self.id[..self.id.len().min(7)], self.subject)
    }
}

/// Returns the branch a run's work is compared with: the parent task's
/// branch the run started from when it still exists, else the checked-out
/// branch, or `HEAD` when it is detached.
pub fn base_of(repo: &Repo, record: Option<&RunRecord>) -> Result<String> {
    if let Some(branch) = record.and_then(|record| record.base_branch.as_ref()) {
        if repo.resolve(&format!("refs/heads/{branch}"))?.is_some() {
            return Ok(branch.clone());
        }
    }
    Ok(current_branch(repo)?.unwrap_or_else(|| "HEAD".to_string()))
}

/// Returns the checked-out branch, or `None` when `HEAD` is detached.
pub fn current_branch(repo: &Repo) -> Result<Option<String>> {
    let output = repo.git(["symbolic-ref", "--quiet", "--short", "HEAD"])?;
    Ok(output.success().then(|| output.stdout.trim().to_string()))
}

/// Returns the commits of `tip` whose changes `base` lacks, oldest first.
/// The list is empty when the work is in `base`, also after a squash merge
/// or a rebase.
pub fn unmerged(repo: &Repo, base: &str, tip: &str) -> Result<Vec<Commit>> {
    let range = format!("{base}..{tip}");
    let ahead = repo.git_ok("list the run's commits", ["rev-list", "--reverse", range.as_str()])?;
    if ahead.trim().is_empty() {
        return Ok(Vec::new());
    }

    if merge_changes_nothing(repo, base, tip)? {
        return Ok(Vec::new());
    }

    // `git cherry` marks with `-` each commit whose patch the base already
    // has, which covers a rebase onto a base that changed since.
    let cherry = repo.git_ok("compare the run's commits with its base", ["cherry", base, tip])?;
    let missing: Vec<&str> = cherry.lines().filter_map(|line| line.strip_prefix("+ ")).map(str::trim).collect();
    if missing.is_empty() || squashed_into(repo, base, tip)? {
        return Ok(Vec::new());
    }

    let mut commits = Vec::new();
    for id in missing {
        commits.push(Commit { id: id.to_string(), subject: subject(repo, id)? });
    }
    Ok(commits)
}

/// Tells whether a commit of `base` since it forked from `tip` has the
/// same patch as all of `tip`'s changes together, which is what
/// `git merge --squash` and a commit make. Later edits of the same lines in
/// the base make the other checks fail, but they leave that commit as it
/// is. Costs five processes, whatever the number of commits.
///
/// NOTE: a squash commit that also changed other files, or whose conflicts
/// were resolved by hand, has another patch id and is not recognized.
fn squashed_into(repo: &Repo, base: &str, tip: &str) -> Result<bool> {
    let merge_base = repo.git(["merge-base", base, tip])?;
    if !merge_base.success() {
        return Ok(false);
    }
    let merge_base = merge_base.stdout.trim();

    let branch_patch = patch_ids(repo, &["diff", "--no-color", "--no-ext-diff", "--no-textconv", merge_base, tip])?;
    let Some(branch_patch) = branch_patch.first() else {
        return Ok(false);
    };

    let range = format!("{merge_base}..{base}");
    let base_patches = patch_ids(
        repo,
        &["log", "-p", "--no-merges", "--no-color", "--no-ext-diff", "--no-textconv", "--format=commit %H", &range],
    )?;
    Ok(base_patches.contains(branch_patch))
}

/// Pipes `git <args>` into `git patch-id --stable` and returns the patch id
/// of each patch, in order. A patch that changes nothing has no id.
fn patch_ids(repo: &Repo, args: &[&str]) -> Result<Vec<String>> {
    let output = duct::cmd("git", args)
        .pipe(duct::cmd!("git", "patch-id", "--stable"))
        .dir(repo.root())
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|error| crate::process::spawn_error("git", error))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("no error output").trim();
        return Err(Error::environment(format!(
            "failed to compute the patch ids of `git {}`: {reason}",
            args.join(" ")
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    Ok(stdout.lines().filter_map(|line| line.split_whitespace().next()).map(str::to_string).collect())
}

/// Tells whether merging `tip` into `base` leaves the base's tree as it is.
/// A merge with conflicts counts as a change.
fn merge_changes_nothing(repo: &Repo, base: &str, tip: &str) -> Result<bool> {
    let merged = repo.git(["merge-tree", "--write-tree", "--no-messages", base, tip])?;
    if !merged.success() {
        return Ok(false);
    }
    let merged_tree = merged.stdout.lines().next().unwrap_or_default().trim().to_string();
    let base_tree = repo.git_ok("read the base's tree", ["rev-parse", &format!("{base}^{{tree}}")])?;
    Ok(merged_tree == base_tree.trim())
}

fn subject(repo: &Repo, id: &str) -> Result<String> {
    let text = repo.git_ok("read a commit's subject", ["log", "-1", "--format=%s", id])?;
    Ok(text.trim().to_string())
}
