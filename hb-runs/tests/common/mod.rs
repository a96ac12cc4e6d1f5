//! Helpers shared by the integration tests of `hb runs`, `hb stop`, `hb rm`
//! and `hb prune`. A scratch git repository gets one task of a unique id,
//! and dropping it removes every Docker object the test created, also when
//! the test fails.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The executables these tests run, built together once per test binary
/// because Cargo builds only the package under test.
const EXECUTABLES: &[&str] = &["hb-run", "hb-runs", "hb-stop", "hb-rm", "hb-prune"];

static BUILD: Once = Once::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Returns the path of an hb executable, building them all on first use.
pub fn executable(name: &str) -> PathBuf {
    let deps = std::env::current_exe().expect("test executable path");
    let target = deps.parent().and_then(Path::parent).expect("target directory").to_path_buf();
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut command = Command::new(cargo);
        command.args(["build", "--quiet"]);
        for name in EXECUTABLES {
            command.args(["-p", name]);
        }
        let status = command.status().expect("run cargo build");
        assert!(status.success(), "cargo build of the hb executables failed");
    });
    target.join(name)
}

/// A scratch repository with one task, removed with all its Docker objects
/// when dropped.
pub struct TestRepo {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub task: String,
    /// Extra directories put first on PATH for hb's children.
    pub path_prefix: Option<PathBuf>,
}

impl TestRepo {
    /// Creates the repository with task `t<pid><nanos><counter>`, configured
    /// to run `hb-test-agent:latest`, committed on branch `main`.
    pub fn new() -> TestRepo {
        let dir = tempfile::Builder::new().prefix("hb-test-").tempdir().expect("temporary directory");
        let root = dir.path().canonicalize().expect("canonical path");
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let task = format!("t{}{}{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::SeqCst));
        let repo = TestRepo { _dir: dir, root, task, path_prefix: None };

        repo.git(&["init", "--quiet", "--initial-branch", "main"]);
        repo.git(&["config", "user.name", "hb test"]);
        repo.git(&["config", "user.email", "test@example.invalid"]);
        let tasks = repo.root.join(".hyperbranch/tasks");
        std::fs::create_dir_all(&tasks).unwrap();
        let task_text = format!("---\nid: {}\nstatus: open\n---\n# Test task\n", repo.task);
        std::fs::write(tasks.join(format!("task-{}.md", repo.task)), task_text).unwrap();
        std::fs::write(repo.root.join(".hyperbranch/config.toml"), "image = \"hb-test-agent:latest\"\n").unwrap();
        std::fs::write(repo.root.join("README"), "base\n").unwrap();
        repo.git(&["add", "."]);
        repo.git(&["commit", "--quiet", "-m", "Add task"]);
        repo
    }

    /// Runs git in the repository and returns its trimmed stdout; fails the
    /// test when git fails.
    pub fn git(&self, args: &[&str]) -> String {
        let output = Command::new("git").args(args).current_dir(&self.root).output().expect("run git");
        assert!(output.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// An hb executable to run in the repository.
    pub fn hb(&self, name: &str) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::new(executable(name));
        command.current_dir(&self.root);
        if let Some(prefix) = &self.path_prefix {
            let path = std::env::var("PATH").unwrap_or_default();
            command.env("PATH", format!("{}:{path}", prefix.display()));
        }
        command
    }

    /// Starts a run of the task with `sh -c script` and returns its run id.
    pub fn start(&self, script: &str) -> String {
        let output = self.hb("hb-run").args([self.task.as_str(), "--json", "--", "sh", "-c", script]).output().unwrap();
        assert!(output.status.success(), "hb run failed: {}", String::from_utf8_lossy(&output.stderr));
        let started: Value = serde_json::from_slice(&output.stdout).expect("hb run --json output");
        started["run"].as_str().expect("run id").to_string()
    }

    /// Returns `hb runs --json` as a list.
    pub fn runs(&self) -> Vec<Value> {
        let output = self.hb("hb-runs").arg("--json").output().unwrap();
        assert!(output.status.success(), "hb runs failed: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<Vec<Value>>(&output.stdout).expect("hb runs --json output")
    }

    /// Returns the `hb runs --json` entry of `run`, or null.
    pub fn run_info(&self, run: &str) -> Value {
        self.runs().into_iter().find(|info| info["run"] == run).unwrap_or(Value::Null)
    }

    /// Polls `hb runs --json` until `run` has `status`, and returns its entry.
    pub fn wait_for_status(&self, run: &str, status: &str) -> Value {
        self.wait_until(run, |info| info["status"] == status, &format!("status {status}"))
    }

    /// Polls `hb runs --json` until `run`'s entry satisfies `done`.
    pub fn wait_until(&self, run: &str, done: impl Fn(&Value) -> bool, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let info = self.run_info(run);
            if done(&info) {
                return info;
            }
            assert!(Instant::now() < deadline, "run {run} did not reach {what} within 60 s; last: {info}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until the watcher of `run` has recorded the exit and ended.
    pub fn wait_for_watcher(&self, run: &str) {
        let log = self.run_dir(run).join("watch.log");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(&log).unwrap_or_default().contains("watcher: done") {
            assert!(Instant::now() < deadline, "the watcher of {run} did not finish within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The run directory of `run` (`<id>/<n>`).
    pub fn run_dir(&self, run: &str) -> PathBuf {
        let (task, n) = run.rsplit_once('/').unwrap();
        self.root.join(format!(".hyperbranch/.runs/task-{task}-{n}"))
    }

    /// The process id of `run`'s watcher.
    pub fn watcher_pid(&self, run: &str) -> i32 {
        std::fs::read_to_string(self.run_dir(run).join("watch.pid")).unwrap().trim().parse().unwrap()
    }

    pub fn branch_exists(&self, branch: &str) -> bool {
        Command::new("git")
            .args(["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")])
            .current_dir(&self.root)
            .output()
            .unwrap()
            .status
            .success()
    }

    /// The Compose project of run `n` of the task.
    pub fn project(&self, n: u32) -> String {
        format!("hb-{}-{n}", self.task)
    }
}

impl Drop for TestRepo {
    fn drop(&mut self) {
        let label = format!("label=org.hyperbranch.repo={}", self.root.display());
        let containers = docker_lines(&["ps", "--all", "--quiet", "--filter", &label]);
        if !containers.is_empty() {
            let mut args = vec!["rm", "--force", "--volumes"];
            args.extend(containers.iter().map(String::as_str));
            let _ = docker(&args);
        }
        // Networks and images of this test's own projects, whose names start
        // with the unique task id.
        let prefix = format!("hb-{}-", self.task);
        for network in docker_lines(&["network", "ls", "--format", "{{.Name}}"]) {
            if network.starts_with(&prefix) && network.ends_with("_default") {
                let _ = docker(&["network", "rm", &network]);
            }
        }
        for image in docker_lines(&["image", "ls", "--format", "{{.Repository}}"]) {
            if image.starts_with(&prefix) {
                let _ = docker(&["image", "rm", "--force", &image]);
            }
        }
    }
}

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("run docker")
}

pub fn docker_lines(args: &[&str]) -> Vec<String> {
    let output = docker(args);
    String::from_utf8_lossy(&output.stdout).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Tells whether a container, network or image named `name` exists.
pub fn docker_object_exists(kind: &str, name: &str) -> bool {
    docker(&[kind, "inspect", name]).status.success()
}

/// Kills a process that the test started, by its id.
pub fn kill(pid: i32, signal: &str) {
    let status = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -{signal} {pid} failed");
}
