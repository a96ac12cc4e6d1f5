//! `hb runs` against a real Docker engine: statuses through a run's life,
//! exit codes, and the number of Docker calls.

use hb_testkit::{docker, docker_object_exists, kill, stderr, stdout, TestRepo};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;

#[test]
fn statuses_follow_a_run_through_its_life() {
    let repo = TestRepo::new();
    let run = repo.start_script("sleep 3; exit 0");

    let info = repo.run_info(&run);
    assert_eq!(info["status"], "running");
    assert_eq!(info["exit"], Value::Null);
    assert_eq!(info["finished"], Value::Null);
    assert_eq!(info["n"], 1);
    assert_eq!(info["task"], repo.task.as_str());
    assert_eq!(info["container"], repo.project(1));
    assert_eq!(info["branch"], format!("task/{run}"));
    assert_eq!(info["image"], "hb-test-agent:latest");
    assert_eq!(info["cid"].as_str().map(str::len), Some(64));

    let info = repo.wait_for_status(&run, "exited");
    assert_eq!(info["exit"], 0);
    assert!(info["finished"].as_str().is_some_and(|time| time.ends_with('Z')), "{info}");

    repo.wait_for_watcher(&run);
    assert!(docker(&["rm", repo.project(1).as_str()]).status.success());
    let info = repo.run_info(&run);
    assert_eq!(info["status"], "removed");
    assert_eq!(info["exit"], 0, "the exit code comes from the watcher's record");
}

#[test]
fn preparing_and_failed_runs_are_listed() {
    let repo = TestRepo::new();
    std::fs::create_dir_all(repo.run_dir(&format!("{}/7", repo.task))).unwrap();
    std::fs::write(repo.root.join("Broken.Dockerfile"), "FROM hb-test-agent:latest\nRUN exit 3\n").unwrap();
    let failed = repo.exe("hb-run").args([repo.task.as_str(), "--dockerfile", "Broken.Dockerfile"]).output().unwrap();
    assert!(!failed.status.success());

    let runs = repo.runs();
    let summary: Vec<(String, String)> = runs
        .iter()
        .map(|info| (info["run"].as_str().unwrap().to_string(), info["status"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        summary,
        [(format!("{}/7", repo.task), "preparing".to_string()), (format!("{}/8", repo.task), "failed".to_string())]
    );
    assert_eq!(runs[1]["exit"], Value::Null);
}

#[test]
fn exit_codes_come_from_docker() {
    let repo = TestRepo::new();
    let zero = repo.start_script("exit 0");
    let seven = repo.start_script("exit 7");
    let killed = repo.start_script("sleep 300");
    assert!(docker(&["kill", "--signal", "KILL", repo.project(3).as_str()]).status.success());

    assert_eq!(repo.wait_for_status(&zero, "exited")["exit"], 0);
    assert_eq!(repo.wait_for_status(&seven, "exited")["exit"], 7);
    assert_eq!(repo.wait_for_status(&killed, "exited")["exit"], 137);
}

#[test]
fn killed_watcher_does_not_hide_the_exit() {
    let repo = TestRepo::new();
    let run = repo.start_script("echo work > work.txt; git add work.txt; git commit -qm 'Add work'; sleep 2; exit 4");
    kill(repo.watcher_pid(&run), "KILL");

    let info = repo.wait_for_status(&run, "exited");
    assert_eq!(info["exit"], 4);
    assert!(!repo.run_dir(&run).join("exit.json").exists(), "the killed watcher cannot have recorded the exit");
    assert!(docker_object_exists("network", &format!("{}_default", repo.project(1))));

    // hb rm brings the workspace's commit back, then rejects the removal.
    let output = repo.exe("hb-rm").arg(&run).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let subject = repo.git(&["log", "-1", "--format=%h Add work", &format!("task/{run}")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("run {run} has 1 commit not in `main`: {subject}")), "{stderr}");
}

#[test]
fn list_of_one_task_and_text_table() {
    let repo = TestRepo::new();
    let run = repo.start_script("exit 2");
    repo.wait_for_status(&run, "exited");

    let output = repo.exe("hb-runs").arg(&repo.task).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("RUN"), "{text}");
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells[..3], [run.as_str(), "exited", "2"], "{text}");

    let other = repo.exe("hb-runs").args(["other-task", "--json"]).output().unwrap();
    assert_eq!(String::from_utf8(other.stdout).unwrap().trim(), "[]");
}

/// Puts a `docker` script first on PATH that logs each call to a file and
/// runs the real docker, and returns the log's path.
fn count_docker_calls(repo: &mut TestRepo) -> std::path::PathBuf {
    let real =
        String::from_utf8(std::process::Command::new("sh").args(["-c", "command -v docker"]).output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
    let bin = repo.root.join(".git/test-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = repo.root.join(".git/docker-calls.log");
    let script = format!("#!/bin/sh\necho \"$*\" >> '{}'\nexec '{real}' \"$@\"\n", log.display());
    let wrapper = bin.join("docker");
    std::fs::write(&wrapper, script).unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    repo.path_prefix = Some(bin);
    log
}

fn docker_calls_of_runs(repo: &TestRepo, log: &std::path::Path) -> (usize, usize) {
    let _ = std::fs::remove_file(log);
    let listed = repo.runs().len();
    let calls = std::fs::read_to_string(log).unwrap_or_default().lines().count();
    (listed, calls)
}

#[test]
fn docker_calls_do_not_grow_with_runs() {
    let mut repo = TestRepo::new();
    let mut started: Vec<String> = (0..2).map(|_| repo.start_script("exit 0")).collect();
    for run in &started {
        repo.wait_for_watcher(run);
    }
    let log = count_docker_calls(&mut repo);
    let (listed, calls_for_two) = docker_calls_of_runs(&repo, &log);
    assert_eq!(listed, 2);
    assert_eq!(calls_for_two, 1);

    // 48 more real runs, started eight at a time without the counting
    // wrapper, so that their watchers do not write to the log.
    let prefix = repo.path_prefix.take();
    let more = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..6 {
                    let run = repo.start_script("exit 0");
                    more.lock().unwrap().push(run);
                }
            });
        }
    });
    started.extend(more.into_inner().unwrap());
    for run in &started {
        repo.wait_for_watcher(run);
    }
    repo.path_prefix = prefix;

    let (listed, calls_for_fifty) = docker_calls_of_runs(&repo, &log);
    assert_eq!(listed, 50);
    assert_eq!(calls_for_fifty, calls_for_two);
}

/// Each executable's usage line names the command as typed through `hb`,
/// not as the file `hb-<name>`, in `--help` and in a parse error.
#[test]
fn usage_line_names_hb_command() {
    let repo = TestRepo::new();
    for name in ["run", "runs", "logs", "stop", "rm", "prune", "completions"] {
        let output = repo.exe(&format!("hb-{name}")).arg("--help").output().unwrap();
        assert!(output.status.success(), "hb-{name} --help: {}", stderr(&output));
        let help = stdout(&output);
        let usage = help.lines().find(|line| line.starts_with("Usage:")).unwrap_or_default();
        assert!(usage.starts_with(&format!("Usage: hb {name} ")), "hb-{name} --help: {help}");

        let output = repo.exe(&format!("hb-{name}")).arg("--no-such-flag").output().unwrap();
        assert_eq!(output.status.code(), Some(2), "hb-{name} --no-such-flag");
        let error = stderr(&output);
        assert!(error.contains(&format!("\nUsage: hb {name} ")), "hb-{name} --no-such-flag: {error}");
    }
}

/// A full disk behind stdout is an error line and exit 1, not a panic.
#[test]
fn output_to_full_device_fails_cleanly() {
    let repo = TestRepo::new();
    for args in [&["runs", "--json"][..], &["prune", "--json"], &["completions", "bash"]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let output = repo.hb(args).stdout(full).output().unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{args:?}: {message}");
        assert_eq!(message, "error: failed to write output: No space left on device (os error 28)\n", "{args:?}");
    }
}

#[test]
fn run_id_argument_points_to_task() {
    let repo = TestRepo::new();
    let output = repo.exe("hb-runs").arg("ok/19").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "error: `hb runs` takes a task id, not a run: `ok/19`\nhelp: use `hb runs ok`\n");
}

#[test]
fn container_without_dir_or_branch_is_listed() {
    let repo = TestRepo::new();
    let run = repo.start_script("exit 5");
    repo.wait_for_watcher(&run);

    std::fs::remove_dir_all(repo.run_dir(&run)).unwrap();
    let branch = format!("task/{run}");
    repo.git(&["branch", "-D", "--quiet", &branch]);

    let info = repo.run_info(&run);
    assert_eq!(info["status"], "exited");
    assert_eq!(info["exit"], 5);
    assert_eq!(info["has_dir"], false);

    let removed = repo.exe("hb-rm").arg(&run).output().unwrap();
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(repo.run_info(&run), Value::Null);
}

#[test]
fn negative_numbers_get_a_range_error() {
    let repo = TestRepo::new();
    for (executable, flag) in [("hb-stop", "--time"), ("hb-logs", "--tail")] {
        let output = repo.exe(executable).args(["x", flag, "-1"]).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        let message = stderr(&output);
        assert!(message.starts_with(&format!("error: invalid value '-1' for '{flag} ")), "{message}");
    }
}
