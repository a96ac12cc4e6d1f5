//! Temporary repositories and runs to measure against.
//!
//! Runs made here are named, rendered and labeled by hb-core itself
//! (`RunId`, `RunDir`, `compose::render`, `envfile::render`,
//! `start::labels`), so a fixture run looks to `hb runs` like one that
//! `hb run` started. Only the container is made differently: `docker create`
//! with the same name and labels, never started, because starting a
//! thousand Compose projects on two cores takes far too long.

use crate::cleanup;
use anyhow::{bail, Context, Result};
use hb_core::compose::{self, ImageSource, ServiceSpec};
use hb_core::naming::RunId;
use hb_core::repo::Repo;
use hb_core::rundir::{RunDir, RunRecord};
use hb_core::start::labels;
use hb_core::task::TaskId;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The local image every benchmark container runs; nothing is pulled.
pub const IMAGE: &str = "hb-test-agent:latest";

/// How many `docker create` calls run at once while a fixture grows.
const CREATE_WORKERS: usize = 4;

/// How many runs each fixture task gets before the next task starts.
const RUNS_PER_TASK: u32 = 10;

/// One fixture run in this many is started and left to hb's own watcher,
/// so listings also cover exited runs with the watcher's exit record.
pub const EXITED_EVERY: usize = 20;

/// Where the hb executables are and how to start them.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub dir: PathBuf,
}

impl Binaries {
    /// Returns `hb <args…>` started in `cwd`, with the executables' folder
    /// first on PATH as an installed hb would be.
    pub fn hb(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(self.dir.join("hb"));
        command.args(args).current_dir(cwd).env("PATH", self.path_env());
        command
    }

    pub fn path_env(&self) -> std::ffi::OsString {
        let mut paths = vec![self.dir.clone()];
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        std::env::join_paths(paths).expect("PATH entries never contain `:`")
    }
}

/// A git repository in the temporary directory with committed task files,
/// registered for cleanup before anything is made in it.
pub struct TempRepo {
    pub repo: Repo,
}

impl TempRepo {
    /// Creates the repository `hb-bench-<name>-<pid>` with one task file
    /// per id in `tasks`.
    pub fn create(name: &str, tasks: &[String]) -> Result<TempRepo> {
        let path = std::env::temp_dir().join(format!("hb-bench-{name}-{}", std::process::id()));
        cleanup::register_repo(&path);
        if path.exists() {
            bail!("`{}` exists already; remove it or wait for the other benchmark to end", path.display());
        }
        std::fs::create_dir_all(path.join(".hyperbranch/tasks"))?;
        git(&path, &["init", "--quiet", "--initial-branch=main"])?;
        git(&path, &["config", "user.name", "hb bench"])?;
        git(&path, &["config", "user.email", "bench@example.invalid"])?;
        for task in tasks {
            let text = format!("---\nid: {task}\nstatus: open\n---\n# Benchmark task {task}\n");
            std::fs::write(path.join(format!(".hyperbranch/tasks/task-{task}.md")), text)?;
        }
        git(&path, &["add", "."])?;
        git(&path, &["commit", "--quiet", "--allow-empty", "-m", "Add benchmark tasks"])?;

        // Label values and run records carry the root as git prints it.
        let repo = Repo::discover(&path).map_err(|error| anyhow::anyhow!("{}", error.message))?;
        if repo.root() != path {
            cleanup::register_repo(repo.root());
        }
        Ok(TempRepo { repo })
    }

    pub fn root(&self) -> &Path {
        self.repo.root()
    }

    pub fn head(&self) -> Result<String> {
        Ok(git(self.root(), &["rev-parse", "HEAD"])?.trim().to_string())
    }
}

impl Drop for TempRepo {
    fn drop(&mut self) {
        cleanup::remove_repo(self.repo.root());
    }
}

/// A repository whose runs have a run directory, a branch and a created
/// container each, grown in place so that larger cases reuse smaller ones.
pub struct ListingFixture {
    pub temp: TempRepo,
    prefix: String,
    runs: Vec<RunId>,
}

impl ListingFixture {
    pub fn new(name: &str) -> Result<ListingFixture> {
        // Container names are global to the engine, so task ids carry the pid.
        let prefix = format!("bench{}", std::process::id());
        let temp = TempRepo::create(name, &[])?;
        Ok(ListingFixture { temp, prefix, runs: Vec::new() })
    }

    pub fn len(&self) -> usize {
        self.runs.len()
    }

    pub fn runs(&self) -> &[RunId] {
        &self.runs
    }

    /// Adds runs until there are `count`.
    pub fn grow_to(&mut self, count: usize) -> Result<()> {
        let head = self.temp.head()?;
        let mut new_runs = Vec::new();
        for index in self.runs.len()..count {
            let task = TaskId::parse(&format!("{}-t{}", self.prefix, index as u32 / RUNS_PER_TASK))
                .map_err(|error| anyhow::anyhow!("{}", error.message))?;
            new_runs.push(RunId::new(task, index as u32 % RUNS_PER_TASK + 1));
        }

        let mut refs = String::new();
        for run in &new_runs {
            write_run_dir(&self.temp.repo, run, &head)?;
            refs.push_str(&format!("create refs/heads/{} {head}\n", run.branch()));
        }
        git_stdin(self.temp.root(), &["update-ref", "--stdin"], &refs)?;
        create_containers(&self.temp.repo, &new_runs)?;

        let first = self.runs.len();
        let to_start: Vec<&RunId> = new_runs
            .iter()
            .enumerate()
            .filter(|(i, _)| (first + i).is_multiple_of(EXITED_EVERY))
            .map(|(_, run)| run)
            .collect();
        for run in &to_start {
            start_with_watcher(&self.temp.repo, run)?;
        }
        for run in &to_start {
            wait_for_watcher(&RunDir::new(&self.temp.repo, (*run).clone()).path, std::time::Duration::from_secs(120))?;
        }
        self.runs.extend(new_runs);
        Ok(())
    }

    /// Returns how many of the runs were started and have exited.
    pub fn exited(&self) -> usize {
        self.runs.len().div_ceil(EXITED_EVERY)
    }
}

/// Starts the created container of `run` and hb's watcher for it, which
/// records its exit in `exit.json` as after `hb run`.
fn start_with_watcher(repo: &Repo, run: &RunId) -> Result<()> {
    let dir = RunDir::new(repo, run.clone());
    std::fs::write(dir.watcher_script(), hb_core::watcher::render(&dir, repo.root()))?;
    let output = Command::new("docker").args(["start", &run.project()]).stdin(Stdio::null()).output()?;
    if !output.status.success() {
        bail!("`docker start {}` failed: {}", run.project(), String::from_utf8_lossy(&output.stderr).trim());
    }
    hb_core::watcher::spawn(&dir).map_err(|error| anyhow::anyhow!("{}", error.message))
}

/// Returns the labels `hb run` puts on the container of `run`.
pub fn run_labels(repo: &Repo, dir: &RunDir) -> BTreeMap<String, String> {
    BTreeMap::from([
        (labels::RUN.to_string(), dir.run.to_string()),
        (labels::TASK.to_string(), dir.run.task.to_string()),
        (labels::N.to_string(), dir.run.n.to_string()),
        (labels::REPO.to_string(), repo.root().to_string_lossy().into_owned()),
        (labels::DIR.to_string(), dir.path.to_string_lossy().into_owned()),
    ])
}

/// Returns the Compose service of `run` as
/// `hb run --image <IMAGE> -- <command>` renders it.
pub fn service_spec(repo: &Repo, dir: &RunDir, command: &[&str]) -> ServiceSpec {
    ServiceSpec {
        container_name: dir.run.project(),
        source: ImageSource::Image(IMAGE.to_string()),
        workspace: dir.workspace(),
        task_file: dir.task_file(),
        mounts: Vec::new(),
        ports: Vec::new(),
        command: Some(command.iter().map(|arg| arg.to_string()).collect()),
        user: host_user(),
        labels: run_labels(repo, dir),
    }
}

/// Writes the control files of `run`: Compose file, `.env`, task file and
/// run record. The workspace is an empty directory, not a clone, because
/// listing never reads it.
pub fn write_run_dir(repo: &Repo, run: &RunId, base: &str) -> Result<RunDir> {
    let dir = RunDir::new(repo, run.clone());
    std::fs::create_dir_all(dir.workspace())?;
    std::fs::write(dir.compose_file(), compose::render(&service_spec(repo, &dir, &["true"])))?;
    let task_file = compose::TASK_FILE_TARGET.to_string();
    let env = [("HB_RUN", run.to_string()), ("HB_TASK", run.task.to_string()), ("HB_TASK_FILE", task_file)];
    let env_text = hb_core::envfile::render(env.iter().map(|(key, value)| (*key, value.as_str())))
        .map_err(|error| anyhow::anyhow!("{}", error.message))?;
    std::fs::write(dir.env_file(), env_text)?;
    std::fs::write(dir.task_file(), format!("# Benchmark task {}\n", run.task))?;

    let record = RunRecord {
        run: run.to_string(),
        task: run.task.to_string(),
        n: run.n,
        branch: run.branch(),
        base: base.to_string(),
        base_branch: None,
        image: IMAGE.to_string(),
        repo: repo.root().to_path_buf(),
        created: chrono::Utc::now(),
    };
    std::fs::write(dir.record_file(), serde_json::to_vec_pretty(&record)?)?;
    Ok(dir)
}

/// Creates the containers of `runs` without starting them, several at a
/// time, and writes each one's id to `hb.cid` as `hb run` does.
fn create_containers(repo: &Repo, runs: &[RunId]) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..CREATE_WORKERS {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(run) = runs.get(index) else { break };
                if cleanup::bail_if_interrupted().is_err() {
                    break;
                }
                if let Err(error) = create_container(repo, run) {
                    failures.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{run}: {error:#}"));
                    break;
                }
            });
        }
    });
    cleanup::bail_if_interrupted()?;

    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(first) = failures.first() {
        bail!("failed to create {} fixture containers; the first: {first}", failures.len());
    }
    Ok(())
}

fn create_container(repo: &Repo, run: &RunId) -> Result<()> {
    let dir = RunDir::new(repo, run.clone());
    let mut command = Command::new("docker");
    command.args(["create", "--name", &run.project(), "--workdir", compose::WORKSPACE_TARGET, "--user", &host_user()]);
    for (key, value) in run_labels(repo, &dir) {
        command.arg("--label").arg(format!("{key}={value}"));
    }
    command.args([IMAGE, "true"]);
    let output = command.stdin(Stdio::null()).output().context("failed to start `docker create`")?;
    if !output.status.success() {
        bail!("`docker create` failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let cid = String::from_utf8_lossy(&output.stdout).trim().to_string();
    std::fs::write(dir.cid_file(), format!("{cid}\n"))?;
    Ok(())
}

pub fn host_user() -> String {
    // SAFETY: getuid and getgid cannot fail and have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    format!("{uid}:{gid}")
}

/// Runs git in `dir` and returns its stdout, or an error with its stderr.
pub fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git").args(args).current_dir(dir).stdin(Stdio::null()).output()?;
    if !output.status.success() {
        bail!("`git {}` failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn git_stdin(dir: &Path, args: &[&str], input: &str) -> Result<()> {
    let mut child =
        Command::new("git").args(args).current_dir(dir).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    child.stdin.take().expect("stdin is piped").write_all(input.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("`git {}` failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

/// Waits until the watcher of the run in `dir` has written `watcher: done`,
/// so its `docker compose down` does not overlap the next measurement.
pub fn wait_for_watcher(dir: &Path, timeout: std::time::Duration) -> Result<()> {
    let log = dir.join("watch.log");
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if std::fs::read_to_string(&log).is_ok_and(|text| text.contains("watcher: done")) {
            return Ok(());
        }
        cleanup::bail_if_interrupted()?;
        if std::time::Instant::now() >= deadline {
            bail!("the watcher in `{}` did not finish within {} s", dir.display(), timeout.as_secs());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
