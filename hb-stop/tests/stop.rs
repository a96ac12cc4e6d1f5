//! `hb stop` against a real Docker engine.

use hb_testkit::{kill, TestRepo};
use serde_json::Value;

fn stop_json(repo: &TestRepo, args: &[&str]) -> Vec<Value> {
    let output = repo.exe("hb-stop").args(args).arg("--json").output().unwrap();
    assert!(output.status.success(), "hb stop failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn stop_ends_run_with_signal_exit() {
    let repo = TestRepo::new();
    let run = repo.start_script("sleep 300");

    let stopped = stop_json(&repo, &[&repo.task, "--time", "1"]);
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0]["run"], run.as_str());
    assert_eq!(stopped[0]["stopped"], true);
    assert_eq!(stopped[0]["status"], "exited");
    assert_eq!(stopped[0]["exit"], 137);

    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.run_dir(&run).join("exit.json")).unwrap()).unwrap();
    assert_eq!(recorded["exit"], 137);
    assert_eq!(repo.run_info(&run)["exit"], 137);
}

#[test]
fn stop_of_exited_run_says_so() {
    let repo = TestRepo::new();
    let run = repo.start_script("exit 3");
    repo.wait_for_status(&run, "exited");

    let output = repo.exe("hb-stop").arg(&run).output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), format!("run {run} has already exited (exit code 3)\n"));
}

#[test]
fn stop_without_watcher_records_exit() {
    let repo = TestRepo::new();
    let run = repo.start_script("echo x > x; git add x; git commit -qm 'Add x'; sleep 300");
    kill(repo.watcher_pid(&run), "KILL");
    repo.wait_until(&run, |_| repo.run_dir(&run).join("workspace/x").exists(), "its commit");
    std::thread::sleep(std::time::Duration::from_millis(500));

    let output = repo.exe("hb-stop").args([run.as_str(), "--time", "1"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text,
        format!("stopped run {run} (exit code 137); its watcher was gone, so hb recorded the exit code\n")
    );
    assert!(repo.run_dir(&run).join("exit.json").exists());
    assert_eq!(repo.git(&["log", "-1", "--format=%s", &format!("task/{run}")]), "Add x");
}

#[test]
fn stop_of_unknown_run_fails_in_one_line() {
    let repo = TestRepo::new();
    let output = repo.exe("hb-stop").arg(format!("{}/4", repo.task)).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        format!("error: task `{}` has no runs in this repository\nhelp: list the runs with `hb runs`\n", repo.task)
    );
}
