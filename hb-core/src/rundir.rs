//! The run directory, `.hyperbranch/.runs/task-<id>-<n>/`: the control files
//! hb trusts, kept outside the workspace that the container can write.

use crate::error::{Error, Result};
use crate::naming::RunId;
use crate::repo::Repo;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Facts about a run that do not change after it is created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub run: String,
    pub task: String,
    pub n: u32,
    pub branch: String,
    /// The commit the branch was created from.
    pub base: String,
    /// The branch the run started from, when it was a parent task's branch.
    pub base_branch: Option<String>,
    pub image: String,
    pub repo: PathBuf,
    pub created: chrono::DateTime<chrono::Utc>,
}

/// The end of a container, as the watcher read it from Docker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExitRecord {
    pub exit: i64,
    pub finished: Option<String>,
    /// Docker's `State.StartedAt`, absent in records of older hb versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RunDir {
    pub run: RunId,
    pub path: PathBuf,
}

impl RunDir {
    pub fn new(repo: &Repo, run: RunId) -> RunDir {
        let path = repo.runs_dir().join(run.dir_name());
        RunDir { run, path }
    }

    pub fn compose_file(&self) -> PathBuf {
        self.path.join("docker-compose.yml")
    }

    pub fn env_file(&self) -> PathBuf {
        self.path.join(".env")
    }

    pub fn cid_file(&self) -> PathBuf {
        self.path.join("hb.cid")
    }

    pub fn exit_file(&self) -> PathBuf {
        self.path.join("exit.json")
    }

    /// Returns the file with the reason a run failed to start, when it did.
    pub fn failure_file(&self) -> PathBuf {
        self.path.join("failed")
    }

    pub fn record_file(&self) -> PathBuf {
        self.path.join("run.json")
    }

    pub fn task_file(&self) -> PathBuf {
        self.path.join("task.md")
    }

    pub fn watcher_script(&self) -> PathBuf {
        self.path.join("watch.sh")
    }

    pub fn watcher_log(&self) -> PathBuf {
        self.path.join("watch.log")
    }

    pub fn workspace(&self) -> PathBuf {
        self.path.join("workspace")
    }

    pub fn exists(&self) -> bool {
        self.path.is_dir()
    }

    pub fn read_cid(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.cid_file()).ok()?;
        let cid = text.trim();
        (!cid.is_empty()).then(|| cid.to_string())
    }

    pub fn read_record(&self) -> Option<RunRecord> {
        let text = std::fs::read_to_string(self.record_file()).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn read_exit(&self) -> Option<ExitRecord> {
        let text = std::fs::read_to_string(self.exit_file()).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn read_failure(&self) -> Option<String> {
        std::fs::read_to_string(self.failure_file()).ok()
    }
}

/// Creates the run directory of the next free n for `task` above
/// `highest_taken` (the highest n of existing branches and containers).
/// `mkdir` is atomic, so concurrent callers never share an n: a loser moves
/// on to the next number.
pub fn allocate(repo: &Repo, task: &crate::task::TaskId, highest_taken: u32) -> Result<RunDir> {
    let runs = repo.runs_dir();
    std::fs::create_dir_all(&runs).map_err(|e| Error::io("create", &runs, e))?;

    let record = highest_record(&runs, task);
    let recorded = std::fs::read_to_string(&record).ok().and_then(|text| text.trim().parse::<u32>().ok()).unwrap_or(0);
    let mut n = highest_dir_n(&runs, task).max(highest_taken).max(recorded) + 1;
    let dir = loop {
        let dir = RunDir::new(repo, RunId::new(task.clone(), n));
        match std::fs::create_dir(&dir.path) {
            Ok(()) => break dir,
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(error) => return Err(Error::io("create", &dir.path, error)),
        }
    };

    // NOTE: two runs allocating at once may write this record out of order.
    // It then keeps the lower n, and a number can be reused after `hb rm`.
    let current = std::fs::read_to_string(&record).ok().and_then(|text| text.trim().parse::<u32>().ok()).unwrap_or(0);
    if n > current {
        std::fs::create_dir_all(record.parent().expect("the record has a folder"))
            .map_err(|e| Error::io("create", &runs, e))?;
        write_atomic(&record, format!("{n}\n").as_bytes(), 0o644)?;
    }
    Ok(dir)
}

/// Returns the file with the highest n ever given to a run of `task`, so
/// that a removed run's number, and so its branch name, is not reused.
fn highest_record(runs: &Path, task: &crate::task::TaskId) -> PathBuf {
    runs.join(".numbers").join(task.as_str())
}

fn highest_dir_n(runs: &Path, task: &crate::task::TaskId) -> u32 {
    list_run_ids(runs).into_iter().filter(|run| &run.task == task).map(|run| run.n).max().unwrap_or(0)
}

/// Lists the runs that have a directory, by reading directory names only.
pub fn list_run_ids(runs: &Path) -> Vec<RunId> {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| RunId::from_dir_name(entry.file_name().to_str()?))
        .collect()
}

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// reader sees the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;

    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temporary)
        .map_err(|e| Error::io("create", &temporary, e))?;
    file.write_all(contents).map_err(|e| Error::io("write", &temporary, e))?;
    file.sync_all().map_err(|e| Error::io("write", &temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| Error::io("rename", &temporary, e))
}
