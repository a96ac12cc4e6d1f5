//! Whether a run's work is already in its base, which decides whether
//! `hb rm` and `hb prune` may delete its branch.
//!
//! Ancestry alone would call a squash-merged or rebased branch unmerged, so
//! the check compares content. A branch is merged when merging it into the
//! base's current tip changes nothing, or when every commit has an
//! equivalent patch in the base (`git cherry`).

use crate::error::Result;
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
    let mut commits = Vec::new();
    for line in cherry.lines() {
        if let Some(id) = line.strip_prefix("+ ") {
            commits.push(Commit { id: id.trim().to_string(), subject: subject(repo, id.trim())? });
        }
    }
    Ok(commits)
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
