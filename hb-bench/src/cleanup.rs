//! Removing everything the benchmark made: containers, networks, run
//! directories and temporary repositories, at the end, on failure, and on
//! Ctrl-C.
//!
//! Every fixture registers here before it creates anything. SIGINT, SIGTERM
//! and SIGHUP are blocked in all threads and taken by one thread with
//! `sigwait`, which marks the process as interrupted, removes what is
//! registered and exits. Children start with an empty signal mask (Rust's
//! `Command` resets it), so Ctrl-C still reaches them.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Something the benchmark made and must remove.
#[derive(Debug, Clone, PartialEq)]
enum Resource {
    /// A temporary repository: its containers (found by the
    /// `org.hyperbranch.repo` label), the networks of its runs' Compose
    /// projects, and the directory itself.
    Repo(PathBuf),
    /// A Compose project started outside hb: its container and network.
    Project(String),
}

static REGISTERED: Mutex<Vec<Resource>> = Mutex::new(Vec::new());
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Blocks the termination signals and starts the thread that cleans up
/// when one arrives. Must run before any other thread starts, because
/// threads inherit the signal mask of the thread that creates them.
pub fn install_signal_handler() {
    // SAFETY: the set is initialized by sigemptyset before use, and
    // pthread_sigmask only changes this thread's mask.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };

    std::thread::spawn(move || {
        let mut signal: libc::c_int = 0;
        // SAFETY: `set` is a valid, initialized signal set, blocked in
        // every thread, so sigwait is the only receiver.
        unsafe { libc::sigwait(&set, &mut signal) };
        INTERRUPTED.store(true, Ordering::SeqCst);
        eprintln!("hb-bench: interrupted by signal {signal}; removing what the benchmark made");
        remove_all();
        std::process::exit(128 + signal);
    });
}

/// Returns an error once a termination signal has arrived, so the main
/// thread stops making fixtures while the signal thread removes them.
pub fn bail_if_interrupted() -> Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        bail!("interrupted");
    }
    Ok(())
}

pub fn register_repo(root: &Path) {
    REGISTERED.lock().unwrap_or_else(|e| e.into_inner()).push(Resource::Repo(root.to_path_buf()));
}

pub fn register_project(project: &str) {
    REGISTERED.lock().unwrap_or_else(|e| e.into_inner()).push(Resource::Project(project.to_string()));
}

/// Removes one registered repository and everything of it now.
pub fn remove_repo(root: &Path) {
    remove(&Resource::Repo(root.to_path_buf()));
    REGISTERED.lock().unwrap_or_else(|e| e.into_inner()).retain(|known| known != &Resource::Repo(root.to_path_buf()));
}

/// Removes one Compose project started outside hb now.
pub fn remove_project(project: &str) {
    remove(&Resource::Project(project.to_string()));
    REGISTERED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|known| known != &Resource::Project(project.to_string()));
}

/// Removes everything still registered, newest first.
pub fn remove_all() {
    let resources: Vec<Resource> = std::mem::take(&mut *REGISTERED.lock().unwrap_or_else(|e| e.into_inner()));
    for resource in resources.iter().rev() {
        remove(resource);
    }
}

fn remove(resource: &Resource) {
    match resource {
        Resource::Repo(root) => remove_repo_resources(root),
        Resource::Project(project) => {
            docker_quiet(&["rm", "--force", "--volumes", project]);
            docker_quiet(&["network", "rm", &format!("{project}_default")]);
        }
    }
}

fn remove_repo_resources(root: &Path) {
    let filter = format!("label={}={}", hb_core::start::labels::REPO, root.display());
    let ids = docker_lines(&["ps", "--all", "--quiet", "--filter", &filter]);
    // Large fixtures have a thousand containers: remove them in a few
    // parallel batches rather than one by one.
    let batches: Vec<Vec<String>> = ids.chunks(100).map(<[String]>::to_vec).collect();
    let workers: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            std::thread::spawn(move || {
                let mut args = vec!["rm".to_string(), "--force".to_string(), "--volumes".to_string()];
                args.extend(batch);
                let arguments: Vec<&str> = args.iter().map(String::as_str).collect();
                docker_quiet(&arguments);
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }

    // A watcher removes its run's network when the container ends, and
    // needs the run directory to do it, so let running watchers finish
    // before the directory goes, then remove any network left behind.
    let runs = hb_core::rundir::list_run_ids(&root.join(".hyperbranch/.runs"));
    for run in &runs {
        let dir =
            hb_core::rundir::RunDir { path: root.join(".hyperbranch/.runs").join(run.dir_name()), run: run.clone() };
        hb_core::watcher::wait_until_ended(&dir, std::time::Duration::from_secs(10));
    }
    let networks: Vec<String> = runs.iter().map(|run| format!("{}_default", run.project())).collect();
    let existing = docker_lines(&["network", "ls", "--format", "{{.Name}}"]);
    let leftover: Vec<&String> = networks.iter().filter(|name| existing.contains(name)).collect();
    if !leftover.is_empty() {
        let mut args = vec!["network", "rm"];
        args.extend(leftover.iter().map(|name| name.as_str()));
        docker_quiet(&args);
    }

    let _ = std::fs::remove_dir_all(root);
}

fn docker_quiet(args: &[&str]) {
    let _ = Command::new("docker").args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
}

fn docker_lines(args: &[&str]) -> Vec<String> {
    let Ok(output) = Command::new("docker").args(args).stdin(Stdio::null()).stderr(Stdio::null()).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}
