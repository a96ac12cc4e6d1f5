//! Starting a run: the `hb run` operation.
//!
//! Everything that can be checked is checked before anything is created.
//! After that, a failure before the container exists removes what was made;
//! a failure to start the container keeps the run, marked failed, so the
//! build output can be read and `hb rm` removes it.

use crate::compose::{self, ImageSource, ServiceSpec};
use crate::config::{self, Config};
use crate::docker;
use crate::envfile;
use crate::error::{Error, Result};
use crate::mount::Mount;
use crate::repo::Repo;
use crate::rundir::{self, RunDir, RunRecord};
use crate::task::{Task, TaskId};
use crate::watcher;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Label keys on every container hb starts; `docker ps --filter label=…`
/// finds them.
pub mod labels {
    pub const RUN: &str = "org.hyperbranch.run";
    pub const TASK: &str = "org.hyperbranch.task";
    pub const N: &str = "org.hyperbranch.n";
    pub const REPO: &str = "org.hyperbranch.repo";
    pub const DIR: &str = "org.hyperbranch.dir";
}

/// What the caller of `hb run` asks for. Paths are relative to `cwd`.
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

impl Progress for StderrProgress {
    fn step(&self, message: &str) {
        eprintln!("hb: {message}");
    }

    fn note(&self, message: &str) {
        eprintln!("note: {message}");
    }
}

/// Everything decided before anything is created.
struct Plan {
    repo: Repo,
    task: Task,
    source: ImageSource,
    command: Option<Vec<String>>,
    env: BTreeMap<String, String>,
    mounts: Vec<Mount>,
    ports: Vec<String>,
    base_commit: String,
    base_branch: Option<String>,
}

/// Starts a run of `options.task` and returns once its container runs.
pub fn start(options: &StartOptions, progress: &dyn Progress) -> Result<StartedRun> {
    let repo = Repo::discover(&options.cwd)?;
    let task_id = TaskId::parse(&options.task)?;
    let task = Task::find(&repo, &task_id)?;
    let mut stopwatch = Stopwatch::new();
    let plan = plan(repo, task, options, progress)?;
    stopwatch.lap("plan");
    // Listing the numbers taken by containers also proves the engine answers.
    let taken_by_containers = docker::taken_run_numbers(plan.task.id.as_str())?;
    stopwatch.lap("check docker");

    let dir = create_run(&plan, &taken_by_containers, progress, &mut stopwatch)?;
    let run = dir.run.clone();

    progress.step(&format!("starting container {} (docker compose run)", run.project()));
    let cid = match run_container(&dir) {
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

fn plan(repo: Repo, task: Task, options: &StartOptions, progress: &dyn Progress) -> Result<Plan> {
    let config = Config::load(&repo)?;
    let source = image_source(options, &config, progress)?;
    let env = environment(options, &config, progress)?;

    let mut mounts = Vec::new();
    for spec in &config.mounts {
        mounts.push(Mount::parse(spec, repo.root())?);
    }
    for spec in &options.mounts {
        mounts.push(Mount::parse(spec, &options.cwd)?);
    }

    let command = if !options.command.is_empty() {
        Some(options.command.clone())
    } else if let Some(exec) = &config.exec {
        Some(exec.to_args())
    } else if uses_default_agent(options, &config) {
        Some(config::DEFAULT_EXEC.iter().map(|arg| arg.to_string()).collect())
    } else {
        None
    };

    let (base_commit, base_branch) = base(&repo, &task)?;
    if repo.has_uncommitted_changes()? {
        progress.note(&format!(
            "the working tree has uncommitted changes; the run starts from commit {} and does not see them",
            &base_commit[..base_commit.len().min(12)]
        ));
    }

    Ok(Plan { repo, task, source, command, env, mounts, ports: config.ports.clone(), base_commit, base_branch })
}

/// Tells whether the run uses hb's built-in agent: no command, image or
/// Dockerfile is given anywhere, so the default image and command go
/// together with the variables that command needs.
fn uses_default_agent(options: &StartOptions, config: &Config) -> bool {
    options.command.is_empty()
        && options.image.is_none()
        && options.dockerfile.is_none()
        && config.exec.is_none()
        && config.image.is_none()
        && config.dockerfile.is_none()
}

/// Picks the image: flags win over configuration, and a Dockerfile wins over
/// an image given at the same level.
fn image_source(options: &StartOptions, config: &Config, progress: &dyn Progress) -> Result<ImageSource> {
    if let (Some(image), Some(dockerfile)) = (&options.image, &options.dockerfile) {
        progress.note(&format!(
            "both --image and --dockerfile are given; building `{}` and ignoring the image `{image}`",
            dockerfile.display()
        ));
    }

    let dockerfile = options.dockerfile.as_ref().map(|path| options.cwd.join(path));
    let chosen = match (dockerfile, &options.image) {
        (Some(path), _) => Some(ImageSource::Build { dockerfile: path }),
        (None, Some(image)) => Some(ImageSource::Image(image.clone())),
        (None, None) => None,
    };
    let chosen = chosen.or_else(|| match (&config.dockerfile, &config.image) {
        (Some(path), _) => Some(ImageSource::Build { dockerfile: path.clone() }),
        (None, Some(image)) => Some(ImageSource::Image(image.clone())),
        (None, None) => None,
    });
    let source = chosen.unwrap_or_else(|| ImageSource::Image(config::DEFAULT_IMAGE.to_string()));

    match &source {
        ImageSource::Build { dockerfile } if !dockerfile.is_file() => Err(Error::usage(format!(
            "Dockerfile `{}` not found",
            dockerfile.display()
        ))
        .help("pass the path of an existing Dockerfile to --dockerfile, or fix `dockerfile` in the configuration")),
        ImageSource::Build { dockerfile } => {
            let path = dockerfile.canonicalize().map_err(|e| Error::io("resolve", dockerfile, e))?;
            Ok(ImageSource::Build { dockerfile: path })
        }
        ImageSource::Image(image) if image.trim().is_empty() || image.chars().any(char::is_whitespace) => {
            Err(Error::usage(format!("invalid image name `{}`", image.escape_debug()))
                .help("name an image such as `debian:12` or `registry.example/agent:1.2`"))
        }
        ImageSource::Image(_) => Ok(source),
    }
}

/// Collects the container's environment: hb's own variables, then forwarded
/// host variables, configured literals and `--env` values, later ones
/// winning. Values are checked here so that nothing is created for a value
/// that could not arrive intact.
fn environment(options: &StartOptions, config: &Config, progress: &dyn Progress) -> Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();

    let forwarded: Vec<String> = match &config.env_vars {
        Some(names) => names.clone(),
        None if uses_default_agent(options, config) => config::DEFAULT_ENV_VARS.iter().map(|name| name.to_string()).collect(),
        None => Vec::new(),
    };
    for name in forwarded {
        envfile::validate_key(&name)?;
        match options.host_env.get(&name) {
            Some(value) => {
                env.insert(name, value.clone());
            }
            None => progress.note(&format!("`{name}` is not set in this environment, so the run goes without it")),
        }
    }

    env.extend(config.env.clone());

    for entry in &options.env {
        let (key, value) = match entry.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => {
                let value = options.host_env.get(entry).cloned().ok_or_else(|| {
                    Error::usage(format!("`--env {entry}` forwards `{entry}`, which is not set in this environment"))
                        .help(format!("set `{entry}` first, or give a value with `--env {entry}=VALUE`"))
                })?;
                (entry.clone(), value)
            }
        };
        envfile::validate_key(&key)?;
        env.insert(key, value);
    }

    for (key, value) in &env {
        envfile::validate_value(key, value)?;
    }
    Ok(env)
}

/// The commit and branch a task's runs start from: the latest run branch of
/// the parent task, else the parent's task branch `task/<parent>`, else HEAD.
fn base(repo: &Repo, task: &Task) -> Result<(String, Option<String>)> {
    if let Some(parent) = &task.parent {
        let runs = repo.branches_under(&format!("task/{parent}/"))?;
        let latest = runs
            .iter()
            .filter_map(|branch| Some((branch.rsplit('/').next()?.parse::<u32>().ok()?, branch)))
            .max()
            .map(|(_, branch)| branch.clone());
        for branch in latest.into_iter().chain([format!("task/{parent}")]) {
            if let Some(commit) = repo.resolve(&format!("refs/heads/{branch}"))? {
                return Ok((commit, Some(branch)));
            }
        }
    }

    match repo.resolve("HEAD")? {
        Some(commit) => Ok((commit, None)),
        None => Err(Error::usage("the repository has no commits yet, so a run has nothing to start from")
            .help("commit the task files first, for example `git add .hyperbranch && git commit -m 'Add tasks'`")),
    }
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
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(branch) = &self.branch {
            let _ = self.repo.git(["branch", "-D", "--quiet", branch.as_str()]);
        }
    }
}

/// Allocates n, creates the branch and the workspace clone, and renders the
/// run directory.
fn create_run(plan: &Plan, taken_by_containers: &[u32], progress: &dyn Progress, stopwatch: &mut Stopwatch) -> Result<RunDir> {
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
    repo.git_ok(&format!("create branch `{branch}`"), ["branch", "--no-track", branch.as_str(), plan.base_commit.as_str()])?;
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

    // Commits the agent makes carry the user's identity when git knows it.
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
fn run_container(dir: &RunDir) -> Result<String> {
    let run = &dir.run;
    let project = run.project();
    let args = ["run", "-d", "--name", project.as_str(), "--remove-orphans", "--service-ports", compose::SERVICE];
    let output = docker::compose(&dir.compose_file(), &project, args)
        .stdout_capture()
        .unchecked()
        .run()
        .map_err(|error| crate::process::spawn_error("docker", error))?;

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
fn handle_start_failure(repo: &Repo, dir: &RunDir, error: Error) -> Error {
    if let Err(compose_error) = docker::check_compose() {
        let _ = std::fs::remove_dir_all(&dir.path);
        let _ = repo.git(["branch", "-D", "--quiet", dir.run.branch().as_str()]);
        return compose_error;
    }
    mark_failed(dir, error)
}

fn mark_failed(dir: &RunDir, error: Error) -> Error {
    let _ = rundir::write_atomic(&dir.failure_file(), format!("{}\n", error.message).as_bytes(), 0o644);
    let project = dir.run.project();
    let _ = docker::compose(&dir.compose_file(), &project, ["down", "-v", "--remove-orphans"])
        .stdout_null()
        .stderr_null()
        .unchecked()
        .run();
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
