//! The parts hb's integration tests share: a scratch git repository with a task
//! of a unique id, the built executables, and clean-up of every Docker
//! object a test made, also when the test fails.
//!
//! Container names are global to the Docker engine, so every repository
//! gets a task id that no other test, even in another process, uses.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The local image every test runs; `scripts/setup` builds it.
pub const IMAGE: &str = "hb-test-agent:latest";

/// hb's executables, built together once per test binary because Cargo
/// builds only the binaries of the package under test.
const EXECUTABLES: &[&str] = &["hb", "hb-run", "hb-logs", "hb-runs", "hb-stop", "hb-rm", "hb-prune", "hb-completions"];

static BUILD: Once = Once::new();

/// Returns the directory of the built executables, building them on first
/// use.
pub fn bin_dir() -> PathBuf {
    let test_binary = std::env::current_exe().expect("test executable path");
    let dir = test_binary.parent().and_then(Path::parent).expect("target directory").to_path_buf();
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
    dir
}

/// Returns the path of one built executable.
pub fn executable(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// Returns PATH with the built executables first.
pub fn path_with_bins() -> String {
    format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default())
}

/// Returns a task id made of the prefix, the process id, the time and a
/// counter.
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}{}x{nanos:x}x{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// Runs git in `dir` and returns its stdout; fails the test when git fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git").args(args).current_dir(dir).output().expect("run git");
    assert!(output.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// A scratch repository with one committed task, removed with all its
/// Docker objects when dropped.
pub struct TestRepo {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub task: String,
    /// Extra directories put first on PATH for the executables.
    pub path_prefix: Option<PathBuf>,
}

impl TestRepo {
    /// Makes a repository whose runs use the test image and need a command
    /// on the command line.
    pub fn new() -> TestRepo {
        Self::make(&unique_id("t"), &format!("image = \"{IMAGE}\"\n"))
    }

    /// Makes a repository whose runs use the test image and run `exec`.
    pub fn with_exec(exec: &str) -> TestRepo {
        Self::with_task(&unique_id("t"), exec)
    }

    /// Makes a repository with task `task` whose runs run `exec`.
    pub fn with_task(task: &str, exec: &str) -> TestRepo {
        Self::make(task, &format!("image = \"{IMAGE}\"\nexec = {}\n", toml_string(exec)))
    }

    fn make(task: &str, config: &str) -> TestRepo {
        let dir = tempfile::Builder::new().prefix("hb-test-").tempdir().expect("temporary directory");
        let root = dir.path().canonicalize().expect("canonical path");
        let repo = TestRepo { _dir: dir, root, task: task.to_string(), path_prefix: None };

        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo.git(&["config", "user.name", "hb test"]);
        repo.git(&["config", "user.email", "test@example.invalid"]);
        repo.write_task(task, "");
        repo.write(".hyperbranch/config.toml", config);
        repo.write("README", "base\n");
        repo.commit("Add task");
        repo
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Runs git in the repository and returns its trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.root, args).trim().to_string()
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Writes the task file of `id` with extra front matter lines.
    pub fn write_task(&self, id: &str, front: &str) {
        self.write(
            &format!(".hyperbranch/tasks/task-{id}.md"),
            &format!("---\nid: {id}\nstatus: open\n{front}---\n# Task {id}\n\nDo it.\n"),
        );
    }

    pub fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "--quiet", "-m", message]);
    }

    /// Builds a command for one executable such as `hb-stop`, run in the
    /// repository.
    pub fn exe(&self, name: &str) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::new(executable(name));
        command.current_dir(&self.root);
        if let Some(prefix) = &self.path_prefix {
            let path = std::env::var("PATH").unwrap_or_default();
            command.env("PATH", format!("{}:{path}", prefix.display()));
        }
        command
    }

    /// `hb <args>` through the dispatcher, run in the repository with the
    /// built executables first on PATH.
    pub fn hb(&self, args: &[&str]) -> Command {
        let mut command = Command::new(executable("hb"));
        command.args(args).current_dir(&self.root).env("PATH", path_with_bins());
        command
    }

    pub fn run_hb(&self, args: &[&str]) -> Output {
        self.hb(args).output().unwrap()
    }

    /// Starts a run of the task with `extra` arguments and returns its
    /// `--json` record; fails the test with hb's stderr when it fails.
    pub fn start(&self, extra: &[&str]) -> Value {
        let mut args = vec!["run", self.task.as_str(), "--json"];
        args.extend_from_slice(extra);
        let output = self.run_hb(&args);
        assert!(output.status.success(), "hb run failed: {}", stderr(&output));
        serde_json::from_slice(&output.stdout).expect("hb run --json output")
    }

    /// Starts a run of the task with `sh -c script` and returns its run id.
    pub fn start_script(&self, script: &str) -> String {
        let started = self.start(&["--", "sh", "-c", script]);
        started["run"].as_str().expect("run id").to_string()
    }

    /// Returns `hb runs --json` as a list.
    pub fn runs(&self) -> Vec<Value> {
        let output = self.exe("hb-runs").arg("--json").output().unwrap();
        assert!(output.status.success(), "hb runs failed: {}", stderr(&output));
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

    /// Waits until the watcher of `run` (`<id>/<n>`) has finished its work.
    pub fn wait_for_watcher(&self, run: &str) {
        self.wait_for_log_line(run, "watcher: done");
    }

    /// Waits until the watcher of `run` has written `line` to its log.
    pub fn wait_for_log_line(&self, run: &str, line: &str) {
        let log = self.run_dir(run).join("watch.log");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains(line) {
                return;
            }
            assert!(Instant::now() < deadline, "the watcher of {run} did not write `{line}` within 60 s: {text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Returns the run directory of `run` (`<id>/<n>`).
    pub fn run_dir(&self, run: &str) -> PathBuf {
        let (task, n) = run.rsplit_once('/').unwrap();
        self.root.join(format!(".hyperbranch/.runs/task-{task}-{n}"))
    }

    /// Returns the process id of `run`'s watcher.
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

    /// Returns the Compose project of run `n` of the task, for ids of lower-case
    /// letters, digits and `-`.
    pub fn project(&self, n: u32) -> String {
        format!("hb-{}-{n}", self.task)
    }
}

impl Default for TestRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestRepo {
    fn drop(&mut self) {
        let label = format!("label=org.hyperbranch.repo={}", self.root.display());
        let containers = docker_lines(&["ps", "--all", "--quiet", "--filter", &label]);
        let mut projects = Vec::new();
        for container in &containers {
            let project = docker_lines(&[
                "inspect",
                "--format",
                "{{index .Config.Labels \"com.docker.compose.project\"}}",
                container,
            ]);
            projects.extend(project);
        }
        if !containers.is_empty() {
            let mut args = vec!["rm", "--force", "--volumes"];
            args.extend(containers.iter().map(String::as_str));
            let _ = docker(&args);
        }

        // Networks and images of this test's own projects: those of its
        // containers, and those named after its unique task id.
        let prefix = format!("hb-{}-", self.task);
        for network in docker_lines(&["network", "ls", "--format", "{{.Name}}"]) {
            let ours = network.starts_with(&prefix) || projects.iter().any(|p| network == format!("{p}_default"));
            if ours && network.ends_with("_default") {
                let _ = docker(&["network", "rm", &network]);
            }
        }
        for image in docker_lines(&["image", "ls", "--format", "{{.Repository}}"]) {
            let ours = image.starts_with(&prefix) || projects.iter().any(|p| image == format!("{p}-task"));
            if ours {
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
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Tells whether a container, network or image named `name` exists.
pub fn docker_object_exists(kind: &str, name: &str) -> bool {
    docker(&[kind, "inspect", name]).status.success()
}

/// Tells whether Docker has a network of this name.
pub fn network_exists(name: &str) -> bool {
    docker_object_exists("network", name)
}

/// Reads a field of a container with a Go template, or `None` when the
/// container does not exist.
pub fn container_field(name: &str, template: &str) -> Option<String> {
    let output = docker(&["container", "inspect", "--format", template, name]);
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Kills a process that the test started, by its id.
pub fn kill(pid: i32, signal: &str) {
    let status = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -{signal} {pid} failed");
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}
