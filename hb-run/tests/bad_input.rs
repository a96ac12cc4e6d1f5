//! Bad input gets one `error:` line and a `help:` line, a non-zero exit,
//! and leaves no half-made run behind.

use hb_testkit::*;
use std::process::Command;

/// Asserts a failure with exactly one error line and a help line, and
/// returns stderr.
fn assert_error(output: &std::process::Output, expected_start: &str) -> String {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    let errors: Vec<&str> = message.lines().filter(|line| line.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{message}");
    assert!(errors[0].starts_with(expected_start), "expected `{expected_start}`, got: {message}");
    assert!(message.lines().any(|line| line.starts_with("help: ")), "no help line: {message}");
    message
}

fn assert_no_run_made(repo: &TestRepo) {
    let runs = repo.path().join(".hyperbranch/.runs");
    // `.numbers` records the run numbers given out; it is not a run.
    let entries: Vec<_> = std::fs::read_dir(&runs)
        .map(|dir| dir.flatten().filter(|entry| entry.file_name() != ".numbers").collect())
        .unwrap_or_default();
    assert!(entries.is_empty(), "run directories left behind: {entries:?}");
    let branches = git(repo.path(), &["branch", "--list", "task/*"]);
    assert!(branches.trim().is_empty(), "branches left behind: {branches}");
}

#[test]
fn outside_git_repository() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(bin_dir().join("hb"))
        .args(["run", "abc"])
        .current_dir(dir.path())
        .env("PATH", path_with_bins())
        .output()
        .unwrap();
    assert_error(&output, "error: not in a git repository");
}

#[test]
fn unknown_task_suggests_close_ids() {
    let repo = TestRepo::with_exec("true");
    let typo = format!("{}z", repo.task);
    let message = assert_error(&repo.run_hb(&["run", &typo]), &format!("error: unknown task `{typo}`"));
    assert!(message.contains(&format!("help: a task with a similar id exists: `{}`", repo.task)), "{message}");
    assert_no_run_made(&repo);
}

#[test]
fn unsafe_task_ids_are_rejected() {
    let repo = TestRepo::with_exec("true");
    for id in ["../x", "a/b", "a b", "a..b", "x.lock", ".x", ""] {
        let output = repo.run_hb(&["run", id]);
        assert_error(&output, "error: invalid task id");
    }
    assert_no_run_made(&repo);
}

#[test]
fn ids_invalid_for_compose_get_distinct_names() {
    let base = unique_id("n");
    let upper = format!("{}.Fix", base);
    let lower = format!("{}-fix", base);
    let repo = TestRepo::with_task(&upper, "true");
    repo.write_task(&lower, "");
    repo.commit("Add second task");

    let mut names = Vec::new();
    for id in [&upper, &lower] {
        let output = repo.run_hb(&["run", id, "--json"]);
        assert!(output.status.success(), "{}", stderr(&output));
        let started: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        names.push(started["container"].as_str().unwrap().to_string());
        repo.wait_for_watcher(&format!("{id}/1"));
    }

    assert_eq!(names[0], format!("hb-{base}_-_fix-1"));
    assert_eq!(names[1], format!("hb-{base}-fix-1"));
    assert_eq!(container_field(&names[0], "{{.State.ExitCode}}").as_deref(), Some("0"));
}

#[test]
fn docker_unreachable() {
    let repo = TestRepo::with_exec("true");
    let output = repo.hb(&["run", &repo.task]).env("DOCKER_HOST", "unix:///nonexistent/docker.sock").output().unwrap();
    assert_error(&output, "error: the Docker engine is not reachable");
    assert_no_run_made(&repo);
}

/// Runs `hb run <task>` with the real docker CLI in a private mount
/// namespace where the Compose plugin directories are empty, and with
/// `extra_path` as the only PATH entries besides hb's. This needs root, as
/// CI has.
fn run_without_compose_plugin(repo: &TestRepo, extra_path: &str) -> std::process::Output {
    let hide: String =
        ["/usr/local/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins"]
            .iter()
            .filter(|dir| std::path::Path::new(dir).is_dir())
            .map(|dir| format!("mount -t tmpfs none {dir} && "))
            .collect();
    let script = format!("{hide}HOME=/nonexistent exec \"$0\" run \"$1\"");
    Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .arg(bin_dir().join("hb"))
        .arg(&repo.task)
        .current_dir(repo.path())
        .env("PATH", format!("{}:{extra_path}", bin_dir().display()))
        .output()
        .unwrap()
}

#[test]
fn compose_v2_missing() {
    let repo = TestRepo::with_exec("true");
    let output = run_without_compose_plugin(&repo, "/usr/bin:/bin");
    assert_error(&output, "error: Docker Compose v2 is not installed");
    assert_no_run_made(&repo);
}

#[test]
fn compose_only_standalone() {
    // The real Compose v2 binary, reachable only as `docker-compose`.
    let plugin = std::fs::canonicalize("/usr/local/lib/docker/cli-plugins/docker-compose").unwrap();
    let standalone = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(plugin, standalone.path().join("docker-compose")).unwrap();

    let repo = TestRepo::with_exec("true");
    let output = run_without_compose_plugin(&repo, &format!("{}:/usr/bin:/bin", standalone.path().display()));
    let message = assert_error(&output, "error: Docker Compose 2.");
    assert!(message.contains("installed only as the standalone `docker-compose`"), "{message}");
    assert_no_run_made(&repo);
}

#[test]
fn failing_dockerfile_marks_run_failed() {
    let repo = TestRepo::with_exec("true");
    repo.write("agent.Dockerfile", &format!("FROM {IMAGE}\nRUN echo building-step && exit 7\n"));
    let output = repo.run_hb(&["run", &repo.task, "--dockerfile", "agent.Dockerfile"]);
    let message = assert_error(&output, &format!("error: run {}/1 failed to start", repo.task));
    assert!(message.contains("exit code: 7"), "the build output did not reach the user: {message}");
    assert!(message.contains(&format!("hb rm {}/1", repo.task)), "{message}");

    let dir = repo.run_dir(&format!("{}/1", repo.task));
    assert!(dir.join("failed").exists());
    assert!(!network_exists(&format!("hb-{}-1_default", repo.task)));
    let logs = repo.run_hb(&["logs", &repo.task]);
    assert_error(&logs, &format!("error: run {}/1 has no container", repo.task));
}

#[test]
fn bad_mounts_are_rejected() {
    let repo = TestRepo::with_exec("true");
    let with_colon = repo.path().join("a:b");
    std::fs::create_dir(&with_colon).unwrap();
    let spec = format!("{}:/data", with_colon.display());
    let message = assert_error(&repo.run_hb(&["run", &repo.task, "--mount", &spec]), "error: invalid mount");
    assert!(message.contains("contains `:`"), "{message}");

    let message = assert_error(&repo.run_hb(&["run", &repo.task, "--mount", "missing:/data"]), "error: invalid mount");
    assert!(message.contains("does not exist"), "{message}");
    assert_no_run_made(&repo);
}

#[test]
fn dockerfile_wins_over_image() {
    let repo = TestRepo::with_exec("cat /built-marker");
    repo.write("agent.Dockerfile", &format!("FROM {IMAGE}\nRUN echo built > /built-marker\n"));
    repo.commit("Add Dockerfile");
    let output = repo.run_hb(&["run", &repo.task, "--image", "no-such-image:1", "--dockerfile", "agent.Dockerfile"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("note: both --image and --dockerfile are given"), "{}", stderr(&output));
    repo.wait_for_watcher(&format!("{}/1", repo.task));

    let logs = repo.run_hb(&["logs", &repo.task]);
    assert_eq!(stdout(&logs), "built\n");
}

#[test]
fn missing_dockerfile_is_rejected() {
    let repo = TestRepo::with_exec("true");
    assert_error(&repo.run_hb(&["run", &repo.task, "--dockerfile", "nope.Dockerfile"]), "error: Dockerfile `");
    assert_no_run_made(&repo);
}

#[test]
fn invalid_env_names_are_rejected() {
    let repo = TestRepo::with_exec("true");
    for entry in ["1A=x", "A-B=x", "=x"] {
        assert_error(&repo.run_hb(&["run", &repo.task, "--env", entry]), "error: invalid environment variable name");
    }
    assert_error(
        &repo.run_hb(&["run", &repo.task, "--env", "HB_UNSET_FOR_TEST"]),
        "error: `--env HB_UNSET_FOR_TEST` forwards",
    );
    assert_no_run_made(&repo);
}

#[test]
fn repository_without_commits() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet"]);
    std::fs::create_dir_all(dir.path().join(".hyperbranch/tasks")).unwrap();
    std::fs::write(dir.path().join(".hyperbranch/tasks/task-a.md"), "# A\n").unwrap();
    let output = Command::new(bin_dir().join("hb"))
        .args(["run", "a", "--image", IMAGE])
        .current_dir(dir.path())
        .env("PATH", path_with_bins())
        .output()
        .unwrap();
    assert_error(&output, "error: the repository has no commits yet");
}

#[test]
fn invalid_configuration_is_rejected() {
    let repo = TestRepo::with_exec("true");
    repo.write(".hyperbranch.config.toml", "image = 5\n");
    assert_error(&repo.run_hb(&["run", &repo.task]), "error: invalid configuration in");
    assert_no_run_made(&repo);
}

#[test]
fn values_docker_would_reject_are_caught_early() {
    let repo = TestRepo::with_exec("true");
    assert_error(&repo.run_hb(&["run", &repo.task, "--image", "UPPER:bad"]), "error: invalid image `UPPER:bad`");
    assert_error(
        &repo.run_hb(&["run", &repo.task, "--mount", ".:/app"]),
        "error: invalid mount `.:/app`: it would hide `/app`",
    );
    assert_error(&repo.run_hb(&["run", &repo.task, "--env", "HB_RUN=x"]), "error: `HB_RUN` is set by hb");

    repo.write(".hyperbranch.config.toml", "ports = [\"abc\"]\n");
    assert_error(&repo.run_hb(&["run", &repo.task]), "error: invalid port `abc`");
    assert_no_run_made(&repo);
}

#[test]
fn task_naming_itself_as_parent() {
    let repo = TestRepo::with_exec("true");
    repo.write_task(&repo.task, &format!("parent: {}\n", repo.task));
    repo.commit("Make the task its own parent");
    assert_error(
        &repo.run_hb(&["run", &repo.task]),
        &format!("error: task `{}` names itself as its parent", repo.task),
    );
    assert_no_run_made(&repo);
}

#[test]
fn interrupt_removes_half_started_run() {
    use std::os::unix::process::CommandExt;

    let repo = TestRepo::with_exec("true");
    // The task id makes the build step unique, so no cached layer skips it.
    repo.write("slow.Dockerfile", &format!("FROM {IMAGE}\nRUN echo {} && sleep 30\n", repo.task));
    // Its own process group, so that the signal reaches hb and Compose
    // together, as Ctrl-C in a terminal does.
    let child = repo
        .hb(&["run", &repo.task, "--dockerfile", "slow.Dockerfile"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let compose_file = repo.run_dir(&format!("{}/1", repo.task)).join("docker-compose.yml");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !compose_file.exists() {
        assert!(std::time::Instant::now() < deadline, "the run was not created");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = Command::new("kill").args(["-INT", "--", &format!("-{}", child.id())]).status().unwrap();
    assert!(sent.success());

    let output = child.wait_with_output().unwrap();
    assert_error_without_help(&output, &format!("error: hb run was interrupted while run {}/1 started", repo.task));
    assert_no_run_made(&repo);
    assert!(!network_exists(&format!("hb-{}-1_default", repo.task)));
}

/// Asserts a failure with exactly one error line.
fn assert_error_without_help(output: &std::process::Output, expected_start: &str) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    let errors: Vec<&str> = message.lines().filter(|line| line.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{message}");
    assert!(errors[0].starts_with(expected_start), "expected `{expected_start}`, got: {message}");
}
