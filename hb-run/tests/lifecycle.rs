//! A run's whole life against the real engine: start, logs while it runs,
//! exit code, branch brought back, network gone, logs kept.

use hb_testkit::*;
use std::time::{Duration, Instant};

#[test]
fn run_records_exit_and_keeps_logs() {
    let repo = TestRepo::with_exec(
        "echo first line; echo to stderr >&2; echo work > result.txt; git add result.txt; \
         git commit --quiet -m 'Agent work'; echo committed; exit 3",
    );
    let started = repo.start(&[]);
    let task = repo.task.clone();

    assert_eq!(started["run"], format!("{task}/1"));
    assert_eq!(started["task"], task.as_str());
    assert_eq!(started["n"], 1);
    assert_eq!(started["container"], format!("hb-{task}-1"));
    assert_eq!(started["branch"], format!("task/{task}/1"));
    let cid = started["cid"].as_str().unwrap();
    assert_eq!(cid.len(), 64, "{cid}");
    assert!(cid.bytes().all(|b| b.is_ascii_hexdigit()), "{cid}");
    let dir = repo.run_dir(&format!("{task}/1"));
    assert_eq!(started["dir"], dir.to_string_lossy().as_ref());
    assert_eq!(std::fs::read_to_string(dir.join("hb.cid")).unwrap().trim(), cid);

    repo.wait_for_watcher(&format!("{task}/1"));

    let exit: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("exit.json")).unwrap()).unwrap();
    assert_eq!(exit["exit"], 3);
    assert_eq!(container_field(cid, "{{.State.ExitCode}}").as_deref(), Some("3"));
    assert!(!network_exists(&format!("hb-{task}-1_default")), "the project network outlived the run");

    let log = git(repo.path(), &["log", "--format=%s", &format!("task/{task}/1")]);
    assert_eq!(log.lines().next(), Some("Agent work"));

    let logs = repo.run_hb(&["logs", &task]);
    assert!(logs.status.success(), "{}", stderr(&logs));
    assert_eq!(stdout(&logs), "first line\ncommitted\n");
    assert_eq!(stderr(&logs), "to stderr\n");

    let tail = repo.run_hb(&["logs", "--tail", "1", &format!("{task}/1")]);
    assert_eq!(stdout(&tail), "committed\n");
}

#[test]
fn logs_follow_a_running_run() {
    let repo = TestRepo::with_exec("echo begin; while [ ! -e /app/stop ]; do sleep 0.2; done; echo end");
    let task = repo.task.clone();
    repo.start(&[]);

    let mut follower = repo.hb(&["logs", "--follow", &task]).stdout(std::process::Stdio::piped()).spawn().unwrap();

    // The run is still going: the follower must have printed the first line
    // and still be waiting.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let logs = repo.run_hb(&["logs", &task]);
        if stdout(&logs).contains("begin") {
            break;
        }
        assert!(Instant::now() < deadline, "no output from the running container");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(follower.try_wait().unwrap().is_none(), "hb logs --follow ended while the run went on");

    std::fs::write(repo.run_dir(&format!("{task}/1")).join("workspace/stop"), "").unwrap();
    let output = follower.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(stdout(&output), "begin\nend\n");
}

#[test]
fn logs_of_removed_container_fail_in_one_line() {
    let repo = TestRepo::with_exec("echo hi");
    let task = repo.task.clone();
    let started = repo.start(&[]);
    repo.wait_for_watcher(&format!("{task}/1"));

    let removed =
        std::process::Command::new("docker").args(["rm", "-f", started["cid"].as_str().unwrap()]).output().unwrap();
    assert!(removed.status.success());

    let output = repo.run_hb(&["logs", &task]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.starts_with(&format!("error: the container of run {task}/1 was removed")), "{message}");
    assert_eq!(message.lines().filter(|line| line.starts_with("error:")).count(), 1, "{message}");
    assert!(!message.contains("Error response from daemon"), "{message}");
}

#[test]
fn eight_concurrent_runs_get_distinct_numbers() {
    let repo = TestRepo::with_exec("true");
    let task = repo.task.clone();

    let children: Vec<_> = (0..8)
        .map(|_| {
            repo.hb(&["run", &task, "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut numbers = Vec::new();
    let mut containers = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let started: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        numbers.push(started["n"].as_u64().unwrap());
        containers.push(started["container"].as_str().unwrap().to_string());
    }

    numbers.sort();
    assert_eq!(numbers, (1..=8).collect::<Vec<u64>>());
    containers.sort();
    containers.dedup();
    assert_eq!(containers.len(), 8);
    for n in 1..=8 {
        repo.wait_for_watcher(&format!("{task}/{n}"));
    }
}

#[test]
fn run_starts_from_parent_run_branch() {
    let repo = TestRepo::with_exec("echo parent > parent.txt; git add parent.txt; git commit --quiet -m 'Parent work'");
    let parent = repo.task.clone();
    repo.start(&[]);
    repo.wait_for_watcher(&format!("{parent}/1"));

    let child = unique_id("c");
    repo.write_task(&child, &format!("parent: {parent}\n"));
    repo.commit("Add child task");
    let output = repo.run_hb(&["run", &child, "--json", "--", "cat", "parent.txt"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let started: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let parent_tip = git(repo.path(), &["rev-parse", &format!("task/{parent}/1")]);
    assert_eq!(started["base"], parent_tip.trim());

    repo.wait_for_watcher(&format!("{child}/1"));
    let logs = repo.run_hb(&["logs", &child]);
    assert_eq!(stdout(&logs), "parent\n");
}

#[test]
fn dirty_tree_gets_a_note() {
    let repo = TestRepo::with_exec("true");
    repo.write("notes.txt", "draft");
    git(repo.path(), &["add", "notes.txt"]);

    let output = repo.run_hb(&["run", &repo.task]);
    assert!(output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("note: the working tree has uncommitted changes"), "{message}");
    assert!(!repo.run_dir(&format!("{}/1", repo.task)).join("workspace/notes.txt").exists());
    repo.wait_for_watcher(&format!("{}/1", repo.task));
}

#[test]
fn output_into_closed_pipe_is_quiet() {
    let repo = TestRepo::with_exec("seq 1 20000");
    repo.start(&[]);
    repo.wait_for_watcher(&format!("{}/1", repo.task));

    for command in ["hb runs --json | head -c 1", "hb runs | head -n 1", "hb logs $0 | head -n 1"] {
        let output = std::process::Command::new("sh")
            .args(["-c", &format!("set -o pipefail 2>/dev/null; {command}"), &repo.task])
            .current_dir(repo.path())
            .env("PATH", path_with_bins())
            .output()
            .unwrap();
        assert_eq!(stderr(&output), "", "{command}");
    }
}

#[test]
fn container_stdin_is_closed() {
    let repo = TestRepo::with_exec("cat; echo done");
    repo.start(&[]);
    repo.wait_for_watcher(&format!("{}/1", repo.task));
    assert_eq!(stdout(&repo.run_hb(&["logs", &repo.task])), "done\n");
}

#[test]
fn default_agent_command_applies_to_any_image() {
    let repo = TestRepo::new();
    let started = repo.start(&["--image", IMAGE]);
    let compose =
        std::fs::read_to_string(std::path::Path::new(started["dir"].as_str().unwrap()).join("docker-compose.yml"))
            .unwrap();
    assert!(compose.contains("@anthropic-ai/claude-code"), "{compose}");

    // An empty exec keeps the image's own command, a shell that ends at once
    // because stdin is closed.
    repo.write(".hyperbranch/config.toml", &format!("image = \"{IMAGE}\"\nexec = []\n"));
    repo.commit("Use the image's command");
    let started = repo.start(&[]);
    let compose =
        std::fs::read_to_string(std::path::Path::new(started["dir"].as_str().unwrap()).join("docker-compose.yml"))
            .unwrap();
    assert!(!compose.contains("command:"), "{compose}");
    let run = started["run"].as_str().unwrap().to_string();
    repo.wait_for_watcher(&run);
    let exit = std::fs::read_to_string(repo.run_dir(&run).join("exit.json")).unwrap();
    assert!(exit.starts_with("{\"exit\":0,"), "{exit}");
}

#[test]
fn logs_with_docker_unreachable() {
    let repo = TestRepo::with_exec("true");
    repo.start(&[]);
    repo.wait_for_watcher(&format!("{}/1", repo.task));

    let output = repo.hb(&["logs", &repo.task]).env("DOCKER_HOST", "unix:///nonexistent/docker.sock").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.starts_with("error: the Docker engine is not reachable"), "{message}");
    assert!(message.contains("\nhelp: "), "{message}");
}

#[test]
fn killed_follower_takes_docker_logs_along() {
    let repo = TestRepo::with_exec("sleep 300");
    repo.start(&[]);
    let follower = repo.hb(&["logs", "--follow", &repo.task]).stdout(std::process::Stdio::null()).spawn().unwrap();

    // The follower's child is the `docker logs` process.
    let children = |pid: u32| -> Vec<u32> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        text.split_whitespace().filter_map(|id| id.parse().ok()).collect()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let docker_logs = loop {
        if let Some(child) = children(follower.id()).first().copied() {
            break child;
        }
        assert!(Instant::now() < deadline, "hb logs started no child");
        std::thread::sleep(Duration::from_millis(50));
    };

    let killed = std::process::Command::new("kill").args(["-TERM", &follower.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut follower = follower;
    let _ = follower.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{docker_logs}")).exists() && !is_zombie(docker_logs) {
        assert!(Instant::now() < deadline, "docker logs ({docker_logs}) outlived hb logs");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
}

#[test]
fn removed_run_number_is_not_reused() {
    let repo = TestRepo::with_exec("true");
    repo.start(&[]);
    repo.wait_for_watcher(&format!("{}/1", repo.task));
    let removed = repo.run_hb(&["rm", "--force", &format!("{}/1", repo.task)]);
    assert!(removed.status.success(), "{}", stderr(&removed));

    let started = repo.start(&[]);
    assert_eq!(started["n"], 2);
    repo.wait_for_watcher(&format!("{}/2", repo.task));
}

#[test]
fn closed_stderr_pipe_does_not_fail_run() {
    let repo = TestRepo::with_exec("echo ok");
    let output = std::process::Command::new("sh")
        .args(["-c", "hb run \"$0\" 2>&1 | head -n 1", &repo.task])
        .current_dir(repo.path())
        .env("PATH", path_with_bins())
        .output()
        .unwrap();
    assert!(output.status.success());

    let run = format!("{}/1", repo.task);
    repo.wait_for_watcher(&run);
    assert!(!repo.run_dir(&run).join("failed").exists(), "the run was marked failed");
    assert_eq!(stdout(&repo.run_hb(&["logs", &repo.task])), "ok\n");
}
