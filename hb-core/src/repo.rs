//! The user's git repository: where it is and the git calls hb makes in it.

use crate::error::{Error, Result};
use crate::process::{self, Output};
use std::path::{Path, PathBuf};

/// A git repository that hb works in, found from a directory inside it.
#[derive(Debug, Clone)]
pub struct Repo {
    root: PathBuf,
}

impl Repo {
    /// Finds the repository that contains `dir`, so hb works from any
    /// subdirectory.
    pub fn discover(dir: &Path) -> Result<Repo> {
        let output = process::capture("git", ["rev-parse", "--show-toplevel"], Some(dir))?;
        if !output.success() {
            return Err(Error::usage(format!("not in a git repository: `{}`", dir.display()))
                .help("run hb inside a git repository, or create one with `git init`"));
        }

        let root = PathBuf::from(output.stdout.trim_end_matches(['\n', '\r']));
        Ok(Repo { root })
    }

    /// Uses `root` as the repository root without asking git, for callers
    /// such as shell completion that must not start a process.
    pub fn from_root(root: PathBuf) -> Repo {
        Repo { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `.hyperbranch/` at the repository root.
    pub fn hb_dir(&self) -> PathBuf {
        self.root.join(".hyperbranch")
    }

    pub fn tasks_dir(&self) -> PathBuf {
        self.hb_dir().join("tasks")
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.hb_dir().join(".runs")
    }

    /// Runs git in the repository and returns its output, failed or not.
    pub fn git<I, S>(&self, args: I) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString>,
    {
        process::capture("git", args, Some(&self.root))
    }

    /// Runs git in the repository and returns its stdout, or an error that
    /// quotes git's reason.
    pub fn git_ok<I, S>(&self, what: &str, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString>,
    {
        let output = self.git(args)?;
        if !output.success() {
            return Err(Error::environment(format!("failed to {what}: {}", output.reason())));
        }
        Ok(output.stdout)
    }

    /// Resolves a revision to a commit id, or `None` when it does not exist.
    pub fn resolve(&self, revision: &str) -> Result<Option<String>> {
        let spec = format!("{revision}^{{commit}}");
        let output = self.git(["rev-parse", "--verify", "--quiet", &spec])?;
        Ok(output.success().then(|| output.stdout.trim().to_string()))
    }

    /// Lists local branch names under `prefix` (for example `task/abc/`).
    pub fn branches_under(&self, prefix: &str) -> Result<Vec<String>> {
        let pattern = format!("refs/heads/{prefix}");
        let stdout = self.git_ok("list branches", ["for-each-ref", "--format=%(refname:lstrip=2)", &pattern])?;
        Ok(stdout.lines().map(str::to_string).collect())
    }

    /// Tells whether tracked files differ from HEAD, which a run does not see.
    pub fn has_uncommitted_changes(&self) -> Result<bool> {
        let stdout = self.git_ok("read the working tree status", ["status", "--porcelain", "--untracked-files=no"])?;
        Ok(!stdout.trim().is_empty())
    }

    /// Makes git ignore `.hyperbranch/.runs/` in this clone without touching
    /// any tracked file, so run state is never committed by accident.
    pub fn exclude_runs_dir(&self) -> Result<()> {
        let info = self.git_ok("find the git directory", ["rev-parse", "--git-path", "info/exclude"])?;
        let exclude = self.root.join(info.trim());
        let line = "/.hyperbranch/.runs/";
        let current = std::fs::read_to_string(&exclude).unwrap_or_default();
        if current.lines().any(|existing| existing.trim() == line) {
            return Ok(());
        }

        if let Some(parent) = exclude.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(line);
        text.push('\n');
        std::fs::write(&exclude, text).map_err(|e| Error::io("write", &exclude, e))
    }
}
