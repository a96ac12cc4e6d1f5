//! The plugin in the real `nu` (0.115.1) against the real Docker engine.
//!
//! Each test makes its own git repository, task id and plugin registry
//! file, so it never touches the user's registry, and removes the
//! containers and networks its runs made when it ends, failed or not.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const IMAGE: &str = "hb-test-agent:latest";

/// The agent command of every test run: two lines with a pause between
/// them, then the requested exit code.
const EXEC: &str = "echo first; sleep ${SLEEP:-0}; echo last; exit ${CODE:-0}";

struct Fixture {
    dir: tempfile::TempDir,
    task: String,
}

impl Fixture {
    /// Makes a repository with one committed task and registers the plugin
    /// in a registry file of its own with `plugin add`.
    fn new() -> Fixture {
        let dir = tempfile::Builder::new().prefix("hb-nu-test-").tempdir().unwrap();
        let fixture = Fixture { dir, task: unique_task_id() };
        let root = fixture.root();
        git(root, &["init", "--quiet", "--initial-branch=main"]);
        git(root, &["config", "user.name", "hb test"]);
        git(root, &["config", "user.email", "test@example.invalid"]);
        let task = &fixture.task;
        write(root, &format!(".hyperbranch/tasks/task-{task}.md"), &format!("---\nid: {task}\n---\n# Task {task}\n"));
        write(root, ".hyperbranch/config.toml", &format!("image = \"{IMAGE}\"\nexec = '{EXEC}'\n"));
        git(root, &["add", "."]);
        git(root, &["commit", "--quiet", "-m", "Add task"]);

        let plugin = env!("CARGO_BIN_EXE_nu_plugin_hb");
        let added = fixture.nu_raw(&format!("plugin add --plugin-config {} {plugin}", fixture.registry().display()));
        assert_success(&added, "plugin add");
        fixture
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn registry(&self) -> PathBuf {
        self.root().join("plugins.msgpackz")
    }

    /// Runs `nu -c script` in the repository, with no config file.
    fn nu_raw(&self, script: &str) -> Output {
        self.nu_command(script).output().unwrap()
    }

    fn nu_command(&self, script: &str) -> Command {
        let mut command = Command::new("nu");
        command.args(["--no-config-file", "-c", script]).current_dir(self.root()).stdin(Stdio::null());
        command
    }

    /// Loads the plugin with `plugin use`, then runs `script`.
    fn hb_script(&self, script: &str) -> String {
        format!("plugin use --plugin-config {} hb; {script}", self.registry().display())
    }

    /// Runs `script` with the plugin loaded and returns its stdout, which
    /// must be the script's value as JSON.
    fn nu_json(&self, script: &str) -> serde_json::Value {
        let output = self.nu_raw(&self.hb_script(&format!("{script} | to json --raw")));
        assert_success(&output, script);
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!("`{script}` printed no JSON ({error}): {}", String::from_utf8_lossy(&output.stdout))
        })
    }

    /// Starts a run through the plugin with the container variables `env`
    /// (a Nushell record) and returns its run id.
    fn start(&self, env: &str) -> String {
        let record = self.nu_json(&format!("hb run {} --env {env}", self.task));
        record["run"].as_str().unwrap().to_string()
    }

    /// Waits until the container of `run` has exited.
    fn wait_exited(&self, run: &str) {
        let n = run.rsplit('/').next().unwrap();
        let container = format!("hb-{}-{n}", self.task);
        let output = Command::new("docker").args(["wait", &container]).output().unwrap();
        assert_success(&output, "docker wait");
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let filter = format!("label=org.hyperbranch.repo={}", self.root().display());
        let ids = docker_lines(&["ps", "-aq", "--filter", &filter]);
        if !ids.is_empty() {
            let _ = Command::new("docker").args(["rm", "-f"]).args(&ids).output();
        }

        let runs = self.root().join(".hyperbranch/.runs");
        for entry in std::fs::read_dir(runs).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(n) = name.rsplit('-').next() else { continue };
            let project = format!("label=com.docker.compose.project=hb-{}-{n}", self.task);
            let networks = docker_lines(&["network", "ls", "-q", "--filter", &project]);
            if !networks.is_empty() {
                let _ = Command::new("docker").args(["network", "rm"]).args(&networks).output();
            }
            // The image Compose built for a run with a Dockerfile.
            let image = format!("hb-{}-{n}-task", self.task);
            let _ = Command::new("docker").args(["image", "rm", "--force", &image]).output();
        }
    }
}

/// Returns a task id that no other test, in this process or another, uses,
/// because container names are global to the Docker engine. Lower-case, so
/// the container name is `hb-<id>-<n>` unchanged.
fn unique_task_id() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!("nu{:016x}", hasher.finish())
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert_success(&output, &format!("git {args:?}"));
}

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn docker_lines(args: &[&str]) -> Vec<String> {
    let output = Command::new("docker").args(args).output();
    output
        .map(|output| String::from_utf8_lossy(&output.stdout).split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed with {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Lists the `docker` processes that descend from `ancestor`, found through
/// the parent links in /proc, so processes of anyone else never count.
fn docker_descendants(ancestor: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "docker" && descends_from(pid, ancestor) {
            found.push(pid);
        }
    }
    found
}

fn descends_from(mut pid: u32, ancestor: u32) -> bool {
    while pid > 1 {
        let Some(parent) = parent_of(pid) else { return false };
        if parent == ancestor {
            return true;
        }
        pid = parent;
    }
    false
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name in brackets may contain spaces, so fields are counted
    // after its closing bracket: state, then the parent pid.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn plugin_add_and_use_register_commands() {
    let fixture = Fixture::new();

    let names = fixture.nu_json("help commands | where name starts-with 'hb' | get name | sort");

    assert_eq!(names, serde_json::json!(["hb", "hb logs", "hb rm", "hb run", "hb runs", "hb stop"]));
}

#[test]
fn examples_run_to_hb_answer() {
    let fixture = Fixture::new();
    let examples =
        fixture.nu_json("scope commands | where name starts-with 'hb' | get examples | flatten | get example");
    let examples: Vec<&str> = examples.as_array().unwrap().iter().map(|example| example.as_str().unwrap()).collect();
    assert!(examples.len() >= 10, "{examples:?}");

    for example in examples {
        // The examples name a task that this repository lacks, so each one
        // either succeeds with no runs or stops at hb's own usage error.
        let outcome = fixture
            .nu_json(&format!("try {{ {example} | ignore; 'ok' }} catch {{|e| $e.details.code? | default $e.msg }}"));
        assert!(outcome == "ok" || outcome == "hb::usage", "`{example}` ended with {outcome}");
    }
}

#[test]
fn runs_where_exit_nonzero_returns_failing_runs() {
    let fixture = Fixture::new();
    let runs = [fixture.start("{CODE: 0}"), fixture.start("{CODE: 3}"), fixture.start("{CODE: '7'}")];
    for run in &runs {
        fixture.wait_exited(run);
    }

    let failing = fixture.nu_json("hb runs | where exit != 0 | select run exit");

    assert_eq!(failing, serde_json::json!([{"run": runs[1], "exit": 3}, {"run": runs[2], "exit": 7}]));
}

#[test]
fn runs_describe_shows_typed_columns() {
    let fixture = Fixture::new();
    let run = fixture.start("{}");
    fixture.wait_exited(&run);

    let described = fixture.nu_json("hb runs | describe");

    assert_eq!(
        described,
        "table<run: string, task: string, n: int, status: string, exit: int, cid: string, \
         container: string, branch: string, started: datetime, finished: datetime, \
         duration: duration, image: string>"
    );
}

#[test]
fn runs_of_running_run_have_no_exit() {
    let fixture = Fixture::new();
    let run = fixture.start("{SLEEP: 30}");

    let row = fixture.nu_json(&format!(
        "hb runs {} | first | {{status: $in.status, exit: ($in.exit | describe), finished: ($in.finished | describe), \
         duration: ($in.duration | describe), positive: ($in.duration > 0sec)}}",
        fixture.task
    ));

    assert_eq!(row["status"], "running", "{run}: {row}");
    assert_eq!(row["exit"], "nothing");
    assert_eq!(row["finished"], "nothing");
    assert_eq!(row["duration"], "duration");
    assert_eq!(row["positive"], true);
}

#[test]
fn logs_of_finished_run_are_its_lines() {
    let fixture = Fixture::new();
    let run = fixture.start("{}");
    fixture.wait_exited(&run);

    let lines = fixture.nu_json(&format!("hb logs {run}"));
    let tail = fixture.nu_json(&format!("hb logs --tail 1 {run}"));

    assert_eq!(lines, serde_json::json!(["first", "last"]));
    assert_eq!(tail, serde_json::json!(["last"]));
}

#[test]
fn logs_follow_streams_lines_as_they_arrive() {
    let fixture = Fixture::new();
    let run = fixture.start("{SLEEP: 4}");
    let script =
        fixture.hb_script(&format!("hb logs --follow {run} | each {{|line| print $line }}; print ended; sleep 3sec"));
    let mut nu = fixture.nu_command(&script).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let nu_pid = nu.id();
    let mut lines = BufReader::new(nu.stdout.take().unwrap()).lines();

    let first = lines.next().unwrap().unwrap();
    let first_at = Instant::now();
    let streaming = docker_descendants(nu_pid);
    let last = lines.next().unwrap().unwrap();
    let last_at = Instant::now();
    let ended = lines.next().unwrap().unwrap();
    let left = docker_descendants(nu_pid);
    let status = nu.wait().unwrap();

    assert_eq!((first.as_str(), last.as_str(), ended.as_str()), ("first", "last", "ended"));
    assert!(last_at - first_at > Duration::from_secs(2), "`first` came {:?} before `last`", last_at - first_at);
    assert_eq!(streaming.len(), 1, "one `docker logs` while streaming");
    assert_eq!(left, Vec::<u32>::new(), "`docker logs` processes left after the stream ended");
    assert!(status.success(), "nu exited with {status}");
}

#[test]
fn logs_of_unknown_run_is_labeled_error() {
    let fixture = Fixture::new();
    let unknown = format!("{}/9", fixture.task);

    let error = fixture.nu_json(&format!(
        "try {{ hb logs {unknown} }} catch {{|e| let label = $e.details.labels.0; \
         {{msg: $e.details.msg, code: $e.details.code, label: $label.text, at: (view span $label.span.start $label.span.end)}} }}"
    ));

    assert_eq!(error["msg"], format!("task `{}` has no runs in this repository", fixture.task));
    assert_eq!(error["code"], "hb::usage");
    assert_eq!(error["label"], "this run");
    assert_eq!(error["at"], unknown);
}

#[test]
fn run_of_unknown_task_points_at_task() {
    let fixture = Fixture::new();

    let error = fixture.nu_json(
        "try { hb run no-such-task } catch {|e| let label = $e.details.labels.0; \
         {code: $e.details.code, at: (view span $label.span.start $label.span.end)} }",
    );

    assert_eq!(error, serde_json::json!({"code": "hb::usage", "at": "no-such-task"}));
}

#[test]
fn run_record_has_json_fields() {
    let fixture = Fixture::new();

    let record = fixture.nu_json(&format!("hb run {}", fixture.task));
    let described = fixture.nu_json(&format!("hb run {} | get n | describe", fixture.task));

    let fields: Vec<&str> = record.as_object().unwrap().keys().map(String::as_str).collect();
    let json_fields = ["run", "task", "n", "container", "cid", "branch", "base", "dir", "workspace", "image"];
    assert_eq!(fields[..json_fields.len()], json_fields, "{fields:?}");
    assert_eq!(record["run"], format!("{}/1", fixture.task));
    assert_eq!(record["image"], IMAGE);
    assert_eq!(described, "int");
}

#[test]
fn stop_running_run_reports_exit() {
    let fixture = Fixture::new();
    let run = fixture.start("{SLEEP: 60}");

    let stopped = fixture.nu_json(&format!("hb stop --time 0 {run} | select run stopped status exit"));
    let status = fixture.nu_json(&format!("hb runs | where run == '{run}' | get 0.status"));

    assert_eq!(stopped, serde_json::json!([{"run": run, "stopped": true, "status": "exited", "exit": 137}]));
    assert_eq!(status, "exited");
}

#[test]
fn stop_unknown_run_points_at_it() {
    let fixture = Fixture::new();
    let run = fixture.start("{}");
    fixture.wait_exited(&run);
    let unknown = format!("{}/9", fixture.task);

    let error = fixture.nu_json(&format!(
        "try {{ hb stop {run} {unknown} }} catch {{|e| let label = $e.details.labels.0; \
         {{msg: $e.details.msg, at: (view span $label.span.start $label.span.end)}} }}"
    ));

    assert_eq!(error["msg"], format!("unknown run `{unknown}`"));
    assert_eq!(error["at"], unknown);
}

#[test]
fn rm_removes_finished_run() {
    let fixture = Fixture::new();
    let run = fixture.start("{}");
    fixture.wait_exited(&run);

    let removed = fixture.nu_json(&format!("hb rm {run} | select run branch"));
    let left = fixture.nu_json("hb runs | length");

    assert_eq!(removed, serde_json::json!([{"run": run, "branch": format!("task/{run}")}]));
    assert_eq!(left, 0);
}

#[test]
fn rm_running_run_needs_force() {
    let fixture = Fixture::new();
    let run = fixture.start("{SLEEP: 60}");

    let error = fixture.nu_json(&format!(
        "try {{ hb rm {run} }} catch {{|e| let label = $e.details.labels.0; \
         {{msg: $e.details.msg, at: (view span $label.span.start $label.span.end)}} }}"
    ));
    let forced = fixture.nu_json(&format!("hb rm --force {run} | get run"));
    let left = fixture.nu_json("hb runs | length");

    assert_eq!(error["msg"], format!("run {run} is still running"));
    assert_eq!(error["at"], run);
    assert_eq!(forced, serde_json::json!([run]));
    assert_eq!(left, 0);
}

#[test]
fn rm_partial_failure_names_removed_runs() {
    let fixture = Fixture::new();
    let finished = fixture.start("{}");
    fixture.wait_exited(&finished);
    let running = fixture.start("{SLEEP: 60}");

    let error = fixture.nu_json(&format!(
        "try {{ hb rm {finished} {running} }} catch {{|e| let label = $e.details.labels.0; \
         {{msg: $e.details.msg, help: $e.details.help, at: (view span $label.span.start $label.span.end)}} }}"
    ));
    let left = fixture.nu_json("hb runs | get run");

    assert_eq!(error["msg"], format!("run {running} is still running"));
    assert_eq!(error["at"], running);
    assert!(error["help"].as_str().unwrap().ends_with(&format!("these runs were removed: {finished}")), "{error}");
    assert_eq!(left, serde_json::json!([running]));
}

#[test]
fn ctrl_c_ends_follow_and_docker_logs() {
    let fixture = Fixture::new();
    let run = fixture.start("{SLEEP: 60}");
    let session = format!("hb-nu-test-{}", fixture.task);
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().unwrap();
    let started = tmux(&["new-session", "-d", "-s", &session, "-x", "120", "-y", "30", "nu --no-config-file"]);
    assert_success(&started, "tmux new-session");
    let _session = KillOnDrop(session.clone());

    let keys = format!("cd {}; {}", fixture.root().display(), fixture.hb_script(&format!("hb logs --follow {run}")));
    tmux(&["send-keys", "-t", &session, &keys, "Enter"]);
    let pane = tmux(&["display", "-p", "-t", &session, "#{pane_pid}"]);
    let nu_pid: u32 = String::from_utf8_lossy(&pane.stdout).trim().parse().unwrap();
    let streaming = wait_for(|| !docker_descendants(nu_pid).is_empty());
    tmux(&["send-keys", "-t", &session, "C-c"]);
    let stopped = wait_for(|| docker_descendants(nu_pid).is_empty());
    let capture = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).into_owned();
    wait_for(|| capture().contains("interrupted"));
    let screen = capture();

    assert!(streaming, "`docker logs` never started: {screen}");
    assert!(stopped, "`docker logs` still runs after Ctrl-C: {screen}");
    assert!(screen.contains("interrupted"), "{screen}");
}

/// Ends the tmux session of a test, passed or failed.
struct KillOnDrop(String);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.0]).output();
    }
}

/// Polls `condition` for up to 10 seconds.
fn wait_for(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn ctrl_c_during_run_removes_half_started_run() {
    let fixture = Fixture::new();
    // The task id makes the build step unique, so no cached layer skips it.
    write(fixture.root(), "slow.Dockerfile", &format!("FROM {IMAGE}\nRUN echo {} && sleep 30\n", fixture.task));
    let session = format!("hb-nu-run-{}", fixture.task);
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().unwrap();
    let started = tmux(&["new-session", "-d", "-s", &session, "-x", "160", "-y", "30", "nu --no-config-file"]);
    assert_success(&started, "tmux new-session");
    let _session = KillOnDrop(session.clone());

    let keys = format!(
        "cd {}; {}",
        fixture.root().display(),
        fixture.hb_script(&format!("hb run {} --dockerfile slow.Dockerfile", fixture.task))
    );
    tmux(&["send-keys", "-t", &session, &keys, "Enter"]);
    let compose_file = fixture.root().join(format!(".hyperbranch/.runs/task-{}-1/docker-compose.yml", fixture.task));
    assert!(wait_for(|| compose_file.exists()), "the run was not created");
    std::thread::sleep(Duration::from_millis(1500));
    tmux(&["send-keys", "-t", &session, "C-c"]);

    let capture = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).into_owned();
    assert!(wait_for(|| capture().contains("the run was removed")), "{}", capture());
    assert!(!fixture.root().join(format!(".hyperbranch/.runs/task-{}-1", fixture.task)).exists());
    let branches =
        Command::new("git").args(["branch", "--list", "task/*"]).current_dir(fixture.root()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&branches.stdout).trim(), "");
}

#[test]
fn logs_with_docker_unreachable_is_error() {
    let fixture = Fixture::new();
    let run = fixture.start("{}");
    fixture.wait_exited(&run);

    let error = fixture.nu_json(&format!(
        "$env.DOCKER_HOST = 'unix:///nonexistent/docker.sock'; \
         try {{ hb logs {run} | length }} catch {{|e| {{msg: $e.details.msg, code: $e.details.code}} }}"
    ));

    let message = error["msg"].as_str().unwrap_or_default();
    assert!(message.starts_with("the Docker engine is not reachable"), "{error}");
    assert_eq!(error["code"], "hb::environment");
}

#[test]
fn env_errors_point_at_the_record() {
    let fixture = Fixture::new();
    let catch = |env: &str| {
        fixture.nu_json(&format!(
            "try {{ hb run {} --env {env} }} catch {{|e| let label = $e.details.labels.0; \
             {{msg: $e.details.msg, at: (view span $label.span.start $label.span.end)}} }}",
            fixture.task
        ))
    };

    let unset = catch("{HB_TEST_UNSET_VARIABLE: null}");
    assert_eq!(
        unset["msg"],
        "`--env HB_TEST_UNSET_VARIABLE` forwards `HB_TEST_UNSET_VARIABLE`, which is not set in this environment"
    );
    assert_eq!(unset["at"], "null");

    let reserved = catch("{HB_RUN: x}");
    assert_eq!(reserved["msg"], "`HB_RUN` is set by hb and cannot be given a value");
    assert_eq!(reserved["at"], "--env {HB_RUN: x}");
}
