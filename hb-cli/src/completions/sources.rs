//! The repository values that completion offers, read from files only.
//!
//! Each Tab press runs this code, so it must not spawn git or Docker. The
//! repository root is the nearest directory upwards with a `.git` entry.
//! Task ids are file names under `.hyperbranch/tasks/`, and run ids are
//! directory names under `.hyperbranch/.runs/`. Every failure reads as
//! "no values".

use super::engine::Sources;
use hb_core::naming::RunId;
use hb_core::repo::Repo;
use hb_core::task::TaskId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// Reads completion values from the repository around a directory.
pub struct RepoFiles {
    /// The repository root, or `None` outside a repository.
    root: Option<PathBuf>,
}

impl RepoFiles {
    /// Finds the repository that contains the current directory, if any.
    pub fn from_current_dir() -> RepoFiles {
        let root = std::env::current_dir().ok().and_then(|dir| find_repo_root(&dir));
        RepoFiles { root }
    }
}

impl Sources for RepoFiles {
    fn task_ids(&self) -> Vec<String> {
        match &self.root {
            Some(root) => hb_core::task::read_task_ids(&tasks_dir(root)),
            None => Vec::new(),
        }
    }

    fn run_ids(&self) -> Vec<String> {
        match &self.root {
            Some(root) => read_run_ids_newest_first(&runs_dir(root)),
            None => Vec::new(),
        }
    }

    fn installed_commands(&self) -> Vec<String> {
        read_installed_commands()
    }
}

/// Finds the nearest directory at or above `dir` that has a `.git` entry,
/// a directory in a clone and a file in a linked worktree or submodule.
///
/// NOTE: unlike `git rev-parse`, this ignores `GIT_DIR`, `GIT_WORK_TREE`
/// and `GIT_CEILING_DIRECTORIES`, which only matters when they point
/// somewhere else than the directory tree.
pub fn find_repo_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|candidate| candidate.join(".git").symlink_metadata().is_ok()).map(Path::to_path_buf)
}

/// Returns the tasks folder of the repository at `root`.
pub fn tasks_dir(root: &Path) -> PathBuf {
    Repo::from_root(root.to_path_buf()).tasks_dir()
}

/// Returns the run directories' folder of the repository at `root`.
pub fn runs_dir(root: &Path) -> PathBuf {
    Repo::from_root(root.to_path_buf()).runs_dir()
}

/// Lists the runs that have a directory in `runs_dir`, newest first.
///
/// Runs of one task are listed together, highest n first, because n
/// counts up as runs are created. Tasks are ordered by the latest
/// modification time among their run directories, newest first, so the
/// run that was started or ended last leads the list. A directory's
/// modification time changes when hb adds or replaces a file in it, so
/// it marks a run's last recorded event rather than its start.
pub fn read_run_ids_newest_first(runs_dir: &Path) -> Vec<String> {
    let mut runs = hb_core::rundir::list_run_ids(runs_dir);

    let mut latest_by_task: HashMap<TaskId, SystemTime> = HashMap::new();
    for run in &runs {
        let modified = std::fs::metadata(runs_dir.join(run.dir_name()))
            .and_then(|metadata| metadata.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let latest = latest_by_task.entry(run.task.clone()).or_insert(modified);
        *latest = (*latest).max(modified);
    }

    runs.sort_by(|a: &RunId, b: &RunId| {
        let a_time = latest_by_task[&a.task];
        let b_time = latest_by_task[&b.task];
        b_time.cmp(&a_time).then_with(|| a.task.cmp(&b.task)).then_with(|| b.n.cmp(&a.n))
    });
    runs.iter().map(RunId::to_string).collect()
}

/// Lists the installed `hb-*` commands with `hb --list`, so that the
/// dispatcher's own search rules decide what counts as installed.
///
/// The `hb` next to this executable is preferred over the one on PATH, as
/// the dispatcher would have found this executable next to itself.
fn read_installed_commands() -> Vec<String> {
    let beside_us = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.canonicalize().ok())
        .map(|exe| exe.with_file_name("hb"))
        .filter(|hb| hb.is_file());
    let hb = beside_us.unwrap_or_else(|| PathBuf::from("hb"));

    let output = Command::new(hb).arg("--list").stdin(Stdio::null()).stderr(Stdio::null()).output();
    match output {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{self, File, FileTimes};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A scratch directory removed when dropped; hb-cli has no tempfile
    /// dependency for its unit tests.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            static COUNT: AtomicUsize = AtomicUsize::new(0);
            let name = format!("hb-completions-{}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed));
            let path = std::env::temp_dir().join(name);
            fs::create_dir_all(&path).unwrap();
            Scratch(path)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn make_run_dir(runs: &Path, name: &str, seconds: u64) {
        let dir = runs.join(name);
        fs::create_dir_all(&dir).unwrap();
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
        File::open(&dir).unwrap().set_times(FileTimes::new().set_modified(time)).unwrap();
    }

    #[test]
    fn runs_order_by_task_activity_then_n() {
        let temp = Scratch::new();
        let runs = temp.path();
        make_run_dir(runs, "task-old-1", 100);
        make_run_dir(runs, "task-old-2", 200);
        make_run_dir(runs, "task-new-1", 500);
        make_run_dir(runs, "task-new-2", 300);
        make_run_dir(runs, "task-new-10", 400);
        make_run_dir(runs, "task-a.b_C-1-3", 50);
        fs::create_dir(runs.join("not-a-run")).unwrap();

        let ids = read_run_ids_newest_first(runs);

        assert_eq!(ids, ["new/10", "new/2", "new/1", "old/2", "old/1", "a.b_C-1/3"]);
    }

    #[test]
    fn missing_runs_dir_has_no_runs() {
        let temp = Scratch::new();
        assert!(read_run_ids_newest_first(&temp.path().join("absent")).is_empty());
    }

    #[test]
    fn repo_root_is_found_from_a_subdirectory() {
        let temp = Scratch::new();
        let root = temp.path().join("repo");
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::create_dir_all(root.join("src/deep")).unwrap();
        assert_eq!(find_repo_root(&root.join("src/deep")), Some(root.clone()));
    }

    #[test]
    fn worktree_git_file_marks_a_root() {
        let temp = Scratch::new();
        fs::write(temp.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert_eq!(find_repo_root(temp.path()), Some(temp.path().to_path_buf()));
    }

    #[test]
    fn root_matches_git() {
        let temp = Scratch::new();
        let status = Command::new("git").args(["init", "--quiet"]).current_dir(temp.path()).status().unwrap();
        assert!(status.success());
        fs::create_dir_all(temp.path().join("sub")).unwrap();
        let repo = hb_core::repo::Repo::discover(&temp.path().join("sub")).unwrap();

        assert_eq!(find_repo_root(&temp.path().join("sub")).as_deref(), Some(repo.root()));
    }
}
