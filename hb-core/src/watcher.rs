//! The watcher: a small POSIX shell script, rendered into the run directory
//! and started detached, that outlives `hb run` and the terminal.
//!
//! A script rather than a process of ours because the CLI and the Nushell
//! plugin both start runs, and a script needs neither to be installed when
//! the run ends. It waits for the container with `docker wait`, records how
//! it ended, brings the workspace's branch back into the user's repository,
//! and runs `docker compose down -v`, which removes the project's network
//! and volumes but keeps the exited one-off container and so its logs.
//! On SIGINT or SIGTERM it stops the container first and then does the
//! same, because `down` leaves a running one-off container alone.

use crate::error::{Error, Result};
use crate::naming::RunId;
use crate::rundir::RunDir;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Renders the watcher script for `dir`.
pub fn render(dir: &RunDir, repo_root: &Path) -> String {
    let run: &RunId = &dir.run;
    let quoted = |text: &str| shell_quote(text);
    let path = |p: &Path| shell_quote(&p.to_string_lossy());

    format!(
        r#"#!/bin/sh
# Watches run {run} for hb: waits for its container to end, records the exit
# code and times in exit.json, fetches the workspace's branch into the
# repository, and removes the Compose project's network and volumes. hb
# starts it detached.
set -u
dir={dir}
repo={repo}
branch={branch}
project={project}
cd "$dir" || exit 1
cid=$(cat hb.cid) || exit 1

record_exit() {{
  state=$(docker container inspect --format '{{{{.State.Status}}}} {{{{.State.ExitCode}}}} {{{{.State.FinishedAt}}}} {{{{.State.StartedAt}}}}' "$cid") || return
  set -- $state
  [ "$1" = exited ] || [ "$1" = dead ] || return
  printf '{{"exit":%s,"finished":"%s","started":"%s"}}\n' "$2" "$3" "$4" > exit.json.tmp && mv exit.json.tmp exit.json
}}

finish() {{
  trap '' INT TERM
  record_exit
  git -C "$repo" fetch --quiet --no-write-fetch-head "$dir/workspace" "refs/heads/$branch:refs/heads/$branch" ||
    echo "watcher: could not bring $branch back from the workspace; \`hb rm\` tries again" >&2
  docker compose --env-file /dev/null -f docker-compose.yml -p "$project" down -v
}}

# Stopping the watcher stops the run, so the project is never left
# running without anyone to record its end.
on_signal() {{
  echo "watcher: stopping $cid on signal $1"
  docker stop "$cid" >/dev/null
  finish
  exit "$2"
}}

trap '' HUP
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
echo "watcher: waiting for $cid"
docker wait "$cid" >/dev/null &
wait $!
finish
echo "watcher: done"
"#,
        run = run,
        dir = path(&dir.path),
        repo = path(repo_root),
        branch = quoted(&run.branch()),
        project = quoted(&run.project()),
    )
}

/// Starts the watcher script in a new session with its output appended to
/// `watch.log`, so neither closing the terminal nor Ctrl-C in it stops it.
pub fn spawn(dir: &RunDir) -> Result<()> {
    let log_path = dir.watcher_log();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| Error::io("open", &log_path, e))?;
    let log_for_stderr = log.try_clone().map_err(|e| Error::io("open", &log_path, e))?;

    let mut command = Command::new("sh");
    command.arg(dir.watcher_script()).current_dir(&dir.path).stdin(Stdio::null()).stdout(log).stderr(log_for_stderr);
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| Error::environment(format!("failed to start the watcher of run {}: {e}", dir.run)))?;
    crate::rundir::write_atomic(&pid_file(dir), format!("{}\n", child.id()).as_bytes(), 0o644)?;

    // A long-lived caller such as the Nushell plugin reaps the watcher when
    // it ends; a short-lived one exits first and init reaps it.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Returns the path of the file with the watcher's process id, which
/// `hb stop` and `hb rm` read to learn whether the watcher can still finish
/// the run.
pub fn pid_file(dir: &RunDir) -> std::path::PathBuf {
    dir.path.join("watch.pid")
}

/// Tells whether the watcher of `dir` is still running.
///
/// A run without a pid file (started before hb wrote one) counts as having
/// no watcher. On Linux the process's command line must name this run's
/// script, so a reused process id is not mistaken for the watcher.
pub fn is_running(dir: &RunDir) -> bool {
    let Some(pid) = std::fs::read_to_string(pid_file(dir)).ok().and_then(|text| text.trim().parse::<i32>().ok()) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let exists =
        unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => {
            let script = dir.watcher_script();
            String::from_utf8_lossy(&cmdline).contains(script.to_string_lossy().as_ref())
        }
        Err(_) => !std::path::Path::new("/proc/self").exists(),
    }
}

/// Waits at most `timeout` for the watcher of `dir` to end, and returns
/// whether it ended.
pub fn wait_until_ended(dir: &RunDir, timeout: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while is_running(dir) {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    true
}

/// Quotes `text` for a POSIX shell: single quotes, with each `'` closed,
/// escaped and reopened.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_survives_the_shell() {
        let text = "a 'b' $HOME \"c\" \\ `d`";
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote(text)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(output.stdout).unwrap(), text);
    }
}
