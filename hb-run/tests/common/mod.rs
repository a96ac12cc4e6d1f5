//! A scratch git repository with one task, for tests that run hb against
//! the real Docker engine. Dropping it removes every container, network and
//! image its runs made.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const IMAGE: &str = "hb-test-agent:latest";

pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub task: String,
}

/// Returns a task id that no other test, even in another process, uses:
/// container names are global to the Docker engine.
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}{}x{nanos:x}x{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// The directory that holds the built `hb` and `hb-*` executables.
pub fn bin_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_hb-run"));
    exe.parent().unwrap().to_path_buf()
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

impl TestRepo {
    /// Makes a repository with one committed task whose runs use the test
    /// image and run `exec`.
    pub fn new(exec: &str) -> TestRepo {
        Self::with_task(&unique_id("t"), exec)
    }

    pub fn with_task(task: &str, exec: &str) -> TestRepo {
        let dir = tempfile::Builder::new().prefix("hb-test-").tempdir().unwrap();
        let repo = TestRepo { dir, task: task.to_string() };
        git(repo.path(), &["init", "--quiet", "--initial-branch=main"]);
        git(repo.path(), &["config", "user.name", "hb test"]);
        git(repo.path(), &["config", "user.email", "test@example.invalid"]);
        repo.write_task(task, "");
        repo.write(".hyperbranch/config.toml", &format!("image = \"{IMAGE}\"\nexec = {}\n", toml_string(exec)));
        repo.commit("Add task");
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn write_task(&self, id: &str, front: &str) {
        self.write(
            &format!(".hyperbranch/tasks/task-{id}.md"),
            &format!("---\nid: {id}\nstatus: open\n{front}---\n# Task {id}\n\nDo it.\n"),
        );
    }

    pub fn commit(&self, message: &str) {
        git(self.path(), &["add", "-A"]);
        git(self.path(), &["commit", "--quiet", "-m", message]);
    }

    /// Builds `hb <args>` run in the repository, with the built executables
    /// first on PATH.
    pub fn hb(&self, args: &[&str]) -> Command {
        let mut command = Command::new(bin_dir().join("hb"));
        command.args(args).current_dir(self.path()).env("PATH", path_with_bins());
        command
    }

    pub fn run_hb(&self, args: &[&str]) -> Output {
        self.hb(args).output().unwrap()
    }

    /// Starts a run and returns its `--json` record; panics with hb's
    /// stderr when it fails.
    pub fn start(&self, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["run", self.task.as_str(), "--json"];
        args.extend_from_slice(extra);
        let output = self.run_hb(&args);
        assert!(output.status.success(), "hb run failed: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }

    pub fn run_dir(&self, task: &str, n: u32) -> PathBuf {
        self.path().join(format!(".hyperbranch/.runs/task-{task}-{n}"))
    }

    /// Waits until the watcher of a run has finished its work.
    pub fn wait_for_watcher(&self, task: &str, n: u32) {
        self.wait_for_log_line(task, n, "watcher: done");
    }

    /// Waits until the watcher of a run has removed the project after a
    /// signal.
    pub fn wait_for_watcher_end(&self, task: &str, n: u32) {
        self.wait_for_log_line(task, n, "Network hb-");
        self.wait_for_log_line(task, n, " Removed");
    }

    fn wait_for_log_line(&self, task: &str, n: u32, line: &str) {
        let log = self.run_dir(task, n).join("watch.log");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains(line) {
                return;
            }
            assert!(Instant::now() < deadline, "the watcher of {task}/{n} did not write `{line}`: {text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestRepo {
    fn drop(&mut self) {
        let root = self.path().to_string_lossy().into_owned();
        let filter = format!("label=org.hyperbranch.repo={root}");
        let listed = Command::new("docker").args(["ps", "-aq", "--filter", &filter]).output();
        let ids: Vec<String> = listed
            .map(|output| String::from_utf8_lossy(&output.stdout).split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        if !ids.is_empty() {
            let _ = Command::new("docker").args(["rm", "-f"]).args(&ids).output();
        }

        let runs = self.path().join(".hyperbranch/.runs");
        for entry in std::fs::read_dir(runs).into_iter().flatten().flatten() {
            let compose = entry.path().join("docker-compose.yml");
            if !compose.exists() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let project = project_of(&name);
            let _ = Command::new("docker")
                .args(["compose", "--env-file", "/dev/null", "-f"])
                .arg(&compose)
                .args(["-p", &project, "down", "-v", "--remove-orphans", "--rmi", "local"])
                .output();
        }
    }
}

/// The Compose project of a run directory name `task-<id>-<n>`, for ids of
/// lower-case letters, digits and `-`.
pub fn project_of(dir_name: &str) -> String {
    let rest = dir_name.strip_prefix("task-").unwrap();
    let mut encoded = String::new();
    for c in rest.chars() {
        match c {
            'A'..='Z' => {
                encoded.push('_');
                encoded.push(c.to_ascii_lowercase());
            }
            '_' => encoded.push_str("__"),
            '.' => encoded.push_str("_-"),
            _ => encoded.push(c),
        }
    }
    format!("hb-{encoded}")
}

pub fn path_with_bins() -> String {
    format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default())
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Tells whether Docker has a network of this name.
pub fn network_exists(name: &str) -> bool {
    let output = Command::new("docker").args(["network", "inspect", name]).output().unwrap();
    output.status.success()
}

pub fn container_field(name: &str, template: &str) -> Option<String> {
    let output = Command::new("docker").args(["container", "inspect", "--format", template, name]).output().unwrap();
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}
