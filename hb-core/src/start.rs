//! Starting a run: the `hb run` operation.
//!
//! Everything that can be checked is checked before anything is created.
//! After that, a failure before the container exists removes what was made.
//! A container that fails to start keeps its run, marked failed, so the
//! build output can be read, and `hb rm` removes it.

use crate::compose::{self, ImageSource, ServiceSpec};
use crate::docker;
use crate::envfile;
use crate::error::{Error, Result};
use crate::finish;
use crate::plan::{plan, Plan};
use crate::repo::Repo;
use crate::rundir::{self, RunDir, RunRecord};
use crate::task::{Task, TaskId};
use crate::watcher;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Label keys on every container hb starts; `docker ps --filter label=…`
/// finds them.
pub mod labels {
    pub const RUN: &str = "org.hyperbranch.run";
    pub const TASK: &str = "org.hyperbranch.task";
    pub const N: &str = "org.hyperbranch.n";
    pub const REPO: &str = "org.hyperbranch.repo";
    pub const DIR: &str = "org.hyperbranch.dir";
}

/// The request of an `hb run` caller. Paths are relative to `cwd`.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub cwd: PathBuf,
    pub task: String,
    pub image: Option<String>,
    pub dockerfile: Option<PathBuf>,
    /// `KEY=VALUE`, or `KEY` alone to forward the host's value.
    pub env: Vec<String>,
    pub mounts: Vec<String>,
    /// Replaces the configured agent command when not empty.
    pub command: Vec<String>,
    /// The environment that `env_vars` and `--env KEY` read from.
    pub host_env: HashMap<String, String>,
    /// Set by the caller's signal handler when the user interrupts `hb run`,
    /// so that a half-started run is removed rather than left behind.
    pub interrupted: Option<&'static AtomicBool>,
}

/// A run whose container has started.
#[derive(Debug, Clone, Serialize)]
pub struct StartedRun {
    pub run: String,
    pub task: String,
    pub n: u32,
    pub container: String,
    pub cid: String,
    pub branch: String,
    pub base: String,
    pub dir: PathBuf,
    pub workspace: PathBuf,
    pub image: String,
    /// How long each step of starting took, in order.
    pub timings: Vec<StepTime>,
}

/// The time one step of starting a run took.
#[derive(Debug, Clone, Serialize)]
pub struct StepTime {
    pub step: &'static str,
    pub ms: f64,
}

/// Measures consecutive steps, each from the end of the one before.
struct Stopwatch {
    last: std::time::Instant,
    laps: Vec<StepTime>,
}

impl Stopwatch {
    fn new() -> Stopwatch {
        Stopwatch { last: std::time::Instant::now(), laps: Vec::new() }
    }

    fn lap(&mut self, step: &'static str) {
        let now = std::time::Instant::now();
        let ms = (now - self.last).as_secs_f64() * 1000.0;
        self.laps.push(StepTime { step, ms: (ms * 100.0).round() / 100.0 });
        self.last = now;
    }
}

/// Receives progress lines and notes for the user while a run starts.
pub trait Progress {
    fn step(&self, message: &str);
    fn note(&self, message: &str);
}

/// Prints progress as `hb: …` and notes as `note: …` on stderr, which both
/// front ends want: stdout carries the CLI's data and the plugin's protocol.
pub struct StderrProgress;

// A closed or full stderr must not stop a run half-way, so write errors
// are ignored.
impl Progress for StderrProgress {
    fn step(&self, message: &str) {
        let _ = writeln!(std::io::stderr(), "hb: {message}");
    }

    fn note(&self, message: &str) {
        let _ = writeln!(std::io::stderr(), "note: {message}");
    }
}

/// Starts a run of `options.task` and returns once its container runs.
pub fn start(options: &StartOptions, progress: &dyn Progress) -> Result<StartedRun> {
    let repo = Repo::discover(&options.cwd)?;
    let task_id = TaskId::parse(&options.task)?;
    let task = Task::find(&repo, &task_id)?;
    let mut stopwatch = Stopwatch::new();
    let plan = plan(repo, task, options, progress)?;
    stopwatch.lap("plan");
    // Listing the numbers taken by containers also proves the engine responds.
    let taken_by_containers = docker::taken_run_numbers(plan.task.id.as_str())?;
    stopwatch.lap("check docker");

    let dir = create_run(&plan, &taken_by_containers, progress, &mut stopwatch)?;
    let run = dir.run.clone();
    let interrupted = || options.interrupted.is_some_and(|flag| flag.load(Ordering::SeqCst));
    if interrupted() {
        discard(&plan.repo, &dir);
        return Err(Error::usage(format!("hb run was interrupted before run {run} started; nothing was left behind")));
    }

    progress.step(&format!("starting container {} (docker compose run)", run.project()));
    let cid = match run_container(&dir, options.interrupted) {
        Ok(_) | Err(_) if interrupted() => {
            discard(&plan.repo, &dir);
            return Err(Error::usage(format!("hb run was interrupted while run {run} started; the run was removed")));
        }
        Ok(cid) => cid,
        Err(error) => return Err(handle_start_failure(&plan.repo, &dir, error)),
    };
    stopwatch.lap("compose run");

    rundir::write_atomic(&dir.cid_file(), format!("{cid}\n").as_bytes(), 0o644)?;
    watcher::spawn(&dir)?;
    stopwatch.lap("start watcher");

    Ok(StartedRun {
        run: run.to_string(),
        task: run.task.to_string(),
        n: run.n,
        container: run.project(),
        cid,
        branch: run.branch(),
        base: plan.base_commit.clone(),
        dir: dir.path.clone(),
        workspace: dir.workspace(),
        image: image_name(&plan.source),
        timings: stopwatch.laps,
    })
}

/// Removes a half-made run unless `keep` is called.
struct Cleanup<'a> {
    repo: &'a Repo,
    dir: PathBuf,
    branch: Option<String>,
    armed: bool,
}

impl Cleanup<'_> {
    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        remove_dir_and_branch(self.repo, &self.dir, self.branch.as_deref());
    }
}

/// Allocates n, creates the branch and the workspace clone, and renders the
/// run directory.
fn create_run(
    plan: &Plan,
    taken_by_containers: &[u32],
    progress: &dyn Progress,
    stopwatch: &mut Stopwatch,
) -> Result<RunDir> {
    let repo = &plan.repo;
    repo.exclude_runs_dir()?;

    let prefix = format!("task/{}/", plan.task.id);
    let branch_numbers = repo
        .branches_under(&prefix)?
        .into_iter()
        .filter_map(|branch| branch.strip_prefix(&prefix)?.parse::<u32>().ok());
    let highest_taken = branch_numbers.chain(taken_by_containers.iter().copied()).max().unwrap_or(0);
    let dir = rundir::allocate(repo, &plan.task.id, highest_taken)?;
    let run = dir.run.clone();
    stopwatch.lap("allocate n");
    let mut cleanup = Cleanup { repo, dir: dir.path.clone(), branch: None, armed: true };

    let branch = run.branch();
    let from = plan.base_branch.clone().unwrap_or_else(|| short(&plan.base_commit).to_string());
    progress.step(&format!("run {run}: creating branch {branch} from {from}"));
    repo.git_ok(
        &format!("create branch `{branch}`"),
        ["branch", "--no-track", branch.as_str(), plan.base_commit.as_str()],
    )?;
    cleanup.branch = Some(branch.clone());
    stopwatch.lap("create branch");

    progress.step(&format!("run {run}: cloning the workspace"));
    clone_workspace(repo, &branch, &dir.workspace())?;
    stopwatch.lap("clone workspace");
    render_files(plan, &dir)?;
    stopwatch.lap("render files");

    cleanup.keep();
    Ok(dir)
}

fn clone_workspace(repo: &Repo, branch: &str, workspace: &Path) -> Result<()> {
    let source = repo.root().to_string_lossy().into_owned();
    let target = workspace.to_string_lossy().into_owned();
    repo.git_ok(
        "clone the workspace",
        ["clone", "--quiet", "--single-branch", "--branch", branch, source.as_str(), target.as_str()],
    )?;

    // Commits the agent makes carry the user's identity when git has one.
    for key in ["user.name", "user.email"] {
        let output = repo.git(["config", "--get", key])?;
        if output.success() {
            let value = output.stdout.trim().to_string();
            crate::process::capture("git", ["config", key, value.as_str()], Some(workspace))?;
        }
    }
    Ok(())
}

fn render_files(plan: &Plan, dir: &RunDir) -> Result<()> {
    let run = &dir.run;
    let mut labels = BTreeMap::new();
    labels.insert(labels::RUN.to_string(), run.to_string());
    labels.insert(labels::TASK.to_string(), run.task.to_string());
    labels.insert(labels::N.to_string(), run.n.to_string());
    labels.insert(labels::REPO.to_string(), plan.repo.root().to_string_lossy().into_owned());
    labels.insert(labels::DIR.to_string(), dir.path.to_string_lossy().into_owned());

    let spec = ServiceSpec {
        container_name: run.project(),
        source: plan.source.clone(),
        workspace: dir.workspace(),
        task_file: dir.task_file(),
        mounts: plan.mounts.clone(),
        ports: plan.ports.clone(),
        command: plan.command.clone(),
        user: host_user(),
        labels,
    };
    rundir::write_atomic(&dir.compose_file(), compose::render(&spec).as_bytes(), 0o644)?;

    let mut env: Vec<(&str, String)> = vec![
        ("HB_RUN", run.to_string()),
        ("HB_TASK", run.task.to_string()),
        ("HB_TASK_FILE", compose::TASK_FILE_TARGET.to_string()),
    ];
    env.retain(|(key, _)| !plan.env.contains_key(*key));
    let pairs = env.iter().map(|(k, v)| (*k, v.as_str())).chain(plan.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    rundir::write_atomic(&dir.env_file(), envfile::render(pairs)?.as_bytes(), 0o600)?;

    rundir::write_atomic(&dir.task_file(), plan.task.text.as_bytes(), 0o644)?;
    rundir::write_atomic(&dir.watcher_script(), watcher::render(dir, plan.repo.root()).as_bytes(), 0o755)?;

    let record = RunRecord {
        run: run.to_string(),
        task: run.task.to_string(),
        n: run.n,
        branch: run.branch(),
        base: plan.base_commit.clone(),
        base_branch: plan.base_branch.clone(),
        image: image_name(&plan.source),
        repo: plan.repo.root().to_path_buf(),
        created: chrono::Utc::now(),
    };
    let json = serde_json::to_vec_pretty(&record).expect("a run record always serializes");
    rundir::write_atomic(&dir.record_file(), &json, 0o644)
}

/// Runs `docker compose run -d` with its progress and errors on the user's
/// terminal, and returns the full container id.
fn run_container(dir: &RunDir, interrupted_flag: Option<&'static AtomicBool>) -> Result<String> {
    let run = &dir.run;
    let project = run.project();
    // Without --interactive=false the container's stdin stays open with
    // nothing attached, and an agent that reads it waits forever.
    let args = [
        "run",
        "-d",
        "--interactive=false",
        "--name",
        project.as_str(),
        "--remove-orphans",
        "--service-ports",
        compose::SERVICE,
    ];
    let mut expression = docker::compose(&dir.compose_file(), &project, args).stdout_capture().unchecked();
    let relay = if stderr_is_terminal() { None } else { Some(relay_stderr(&mut expression)?) };
    let handle = expression.start().map_err(|error| crate::process::spawn_error("docker", error))?;
    drop(expression);
    let handle = std::sync::Arc::new(handle);

    // Compose finishes an image build it has begun even after Ctrl-C, so a
    // second thread kills it on an interrupt. The thread polls, and the
    // wait below does not, so a run that is not interrupted never waits
    // for a poll.
    let finished = std::sync::Arc::new(AtomicBool::new(false));
    let (for_thread, finished_for_thread) = (std::sync::Arc::clone(&handle), std::sync::Arc::clone(&finished));
    let was_interrupted = std::sync::Arc::new(AtomicBool::new(false));
    let interrupted_for_thread = std::sync::Arc::clone(&was_interrupted);
    let flag = interrupted_flag;
    std::thread::spawn(move || {
        while !finished_for_thread.load(Ordering::SeqCst) {
            if flag.is_some_and(|flag| flag.load(Ordering::SeqCst)) {
                interrupted_for_thread.store(true, Ordering::SeqCst);
                let _ = for_thread.kill();
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    let waited = handle.wait().cloned();
    finished.store(true, Ordering::SeqCst);
    if let Some(relay) = relay {
        let _ = relay.join();
    }
    if was_interrupted.load(Ordering::SeqCst) {
        return Err(Error::usage(format!("run {run} was interrupted")));
    }
    let output = waited.map_err(|e| Error::environment(format!("failed to wait for `docker compose run`: {e}")))?;

    let failed = |reason: String| {
        Error::child(format!("run {run} failed to start: {reason}"))
            .help(format!("the output above shows why; the run is kept as failed, and `hb rm {run}` removes it"))
    };
    if !output.status.success() {
        let status = output.status.code().map_or("a signal".to_string(), |code| format!("status {code}"));
        return Err(failed(format!("`docker compose run` exited with {status}")));
    }

    let stdout = String::from_utf8_lossy(&output.stdout);
    if let Some(cid) = stdout.split_whitespace().rev().find(|word| is_container_id(word)) {
        return Ok(cid.to_string());
    }
    // Compose v2.40 exits 0 when the image build fails, so a missing
    // container is how that failure shows.
    let inspected = docker::inspect(std::slice::from_ref(&project))?;
    match inspected.into_iter().next() {
        Some(container) => Ok(container.id),
        None => Err(failed("`docker compose run` created no container".to_string())),
    }
}

/// Sorts out why the container did not start. Checking Compose only now
/// keeps `docker compose version`, which takes over 100 ms, off the path
/// of every run. A missing Compose v2 means the run never could start, so
/// it is removed; any other failure keeps the run, marked failed.
fn stderr_is_terminal() -> bool {
    // SAFETY: isatty only reads the state of a file descriptor.
    unsafe { libc::isatty(libc::STDERR_FILENO) == 1 }
}

/// Sends Compose's stderr through a pipe that a thread copies to hb's
/// stderr. When hb's stderr is a pipe whose reader has gone
/// (`hb run … 2>&1 | head -1`), the copy fails quietly, whereas Compose
/// writing there itself would die of SIGPIPE and fail the run. A terminal
/// keeps Compose's own progress display, so it is used only for pipes and
/// files.
fn relay_stderr(expression: &mut duct::Expression) -> Result<std::thread::JoinHandle<()>> {
    let (mut reader, writer) =
        std::io::pipe().map_err(|error| Error::environment(format!("failed to create a pipe: {error}")))?;
    *expression = expression.stderr_file(writer);

    Ok(std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        let mut stderr = std::io::stderr();
        loop {
            match std::io::Read::read(&mut reader, &mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(count) => {
                    let _ = stderr.write_all(&buffer[..count]);
                }
            }
        }
    }))
}

fn handle_start_failure(repo: &Repo, dir: &RunDir, error: Error) -> Error {
    if let Err(compose_error) = docker::check_compose() {
        discard(repo, dir);
        return compose_error;
    }
    mark_failed(dir, error)
}

/// Removes everything a run that never properly started has: a container
/// Compose may have created, the project's network, the run directory and
/// the branch. Each step is best effort because some may not exist.
fn discard(repo: &Repo, dir: &RunDir) {
    let project = dir.run.project();
    let _ = duct::cmd("docker", ["rm", "--force", project.as_str()]).stdout_null().stderr_null().unchecked().run();
    finish::compose_down(dir);
    remove_dir_and_branch(repo, &dir.path, Some(&dir.run.branch()));
}

/// Removes a run directory and, when given, the branch hb created for it;
/// best effort, because either may not exist yet.
fn remove_dir_and_branch(repo: &Repo, dir: &Path, branch: Option<&str>) {
    let _ = std::fs::remove_dir_all(dir);
    if let Some(branch) = branch {
        let _ = repo.git(["branch", "-D", "--quiet", branch]);
    }
}

fn mark_failed(dir: &RunDir, error: Error) -> Error {
    let _ = rundir::write_atomic(&dir.failure_file(), format!("{}\n", error.message).as_bytes(), 0o644);
    finish::compose_down(dir);
    error
}

fn is_container_id(word: &str) -> bool {
    word.len() == 64 && word.bytes().all(|b| b.is_ascii_hexdigit())
}

fn image_name(source: &ImageSource) -> String {
    match source {
        ImageSource::Image(image) => image.clone(),
        ImageSource::Build { dockerfile } => format!("build:{}", dockerfile.display()),
    }
}

fn host_user() -> String {
    // SAFETY: getuid and getgid cannot fail and have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    format!("{uid}:{gid}")
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}
