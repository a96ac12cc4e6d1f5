//! The Compose file a run renders: its exact text, and Compose accepts it.

use hb_testkit::*;
use std::process::Command;

#[test]
fn rendered_file_matches_snapshot() {
    let repo = TestRepo::with_exec("echo $HOME");
    std::fs::create_dir(repo.path().join("cache dir")).unwrap();
    let output = repo.run_hb(&["run", &repo.task, "--mount", "cache dir:/cache:ro"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let task = repo.task.clone();
    repo.wait_for_watcher(&format!("{task}/1"));

    let dir = repo.run_dir(&format!("{task}/1"));
    let text = std::fs::read_to_string(dir.join("docker-compose.yml")).unwrap();
    let root = std::fs::canonicalize(repo.path()).unwrap();
    let user = format!("{}:{}", process_uid(), process_gid());
    let text = text
        .replace(&root.to_string_lossy().into_owned(), "<repo>")
        .replace(&task, "<task>")
        .replace(&user, "<uid>:<gid>");

    let expected = r#"services:
  task:
    image: hb-test-agent:latest
    container_name: hb-<task>-1
    working_dir: /app
    user: <uid>:<gid>
    env_file:
    - .env
    volumes:
    - type: bind
      source: <repo>/.hyperbranch/.runs/task-<task>-1/workspace
      target: /app
      read_only: false
    - type: bind
      source: <repo>/.hyperbranch/.runs/task-<task>-1/task.md
      target: /hb/task.md
      read_only: true
    - type: bind
      source: <repo>/cache dir
      target: /cache
      read_only: true
    labels:
      org.hyperbranch.dir: <repo>/.hyperbranch/.runs/task-<task>-1
      org.hyperbranch.n: '1'
      org.hyperbranch.repo: <repo>
      org.hyperbranch.run: <task>/1
      org.hyperbranch.task: <task>
    command:
    - sh
    - -c
    - echo $$HOME
"#;
    assert_eq!(text, expected);

    let config = Command::new("docker")
        .args(["compose", "--env-file", "/dev/null", "-f"])
        .arg(dir.join("docker-compose.yml"))
        .args(["-p", &format!("hb-{task}-1"), "config", "--format", "json"])
        .output()
        .unwrap();
    assert!(config.status.success(), "docker compose config rejected the file: {}", stderr(&config));
    let parsed: serde_json::Value = serde_json::from_slice(&config.stdout).unwrap();
    let service = &parsed["services"]["task"];
    // `config` prints the file escaped again, as it would be written.
    assert_eq!(service["command"][2], "echo $$HOME");

    // The container's shell expanded HOME, not Compose with the host's.
    assert_eq!(stdout(&repo.run_hb(&["logs", &task])), "/tmp\n");
    assert_eq!(service["container_name"], format!("hb-{task}-1"));
}

#[test]
fn paths_with_dollar_stay_literal() {
    let repo = TestRepo::with_exec("cat /data/marker");
    let odd = repo.path().join("has $HOME and ${X}");
    std::fs::create_dir(&odd).unwrap();
    std::fs::write(odd.join("marker"), "literal path\n").unwrap();
    let spec = format!("{}:/data", odd.display());
    let output = repo.run_hb(&["run", &repo.task, "--mount", &spec]);
    assert!(output.status.success(), "{}", stderr(&output));
    repo.wait_for_watcher(&format!("{}/1", repo.task));
    assert_eq!(stdout(&repo.run_hb(&["logs", &repo.task])), "literal path\n");
}

/// Returns the uid of this process, which owns `/proc/self`.
fn process_uid() -> u32 {
    std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap())
}

fn process_gid() -> u32 {
    std::os::unix::fs::MetadataExt::gid(&std::fs::metadata("/proc/self").unwrap())
}
