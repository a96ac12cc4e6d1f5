//! `hb rm` against a real Docker engine and git.

use hb_testkit::{docker, docker_object_exists, TestRepo};
use serde_json::Value;

const COMMIT_GREETING: &str = "echo hello > greeting.txt; git add greeting.txt; git commit -qm 'Add greeting'";

fn finished_run(repo: &TestRepo, script: &str) -> String {
    let run = repo.start_script(script);
    repo.wait_for_status(&run, "exited");
    repo.wait_for_watcher(&run);
    run
}

#[test]
fn rm_rejects_unmerged_commits_and_force_removes() {
    let repo = TestRepo::new();
    let run = finished_run(&repo, COMMIT_GREETING);
    let branch = format!("task/{run}");
    let commit = repo.git(&["log", "-1", "--format=%h", &branch]);

    let output = repo.exe("hb-rm").arg(&run).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "error: run {run} has 1 commit not in `main`: {commit} Add greeting\n\
             help: merge `{branch}` into `main` first, or remove the run anyway with `hb rm --force {run}`\n"
        )
    );
    assert!(repo.branch_exists(&branch));
    assert!(repo.run_dir(&run).exists());
    assert!(docker_object_exists("container", &repo.project(1)));

    let output = repo.exe("hb-rm").args(["--force", "--json", run.as_str()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let removed: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["run"], run.as_str());
    assert_eq!(removed[0]["container"], repo.project(1));
    assert_eq!(removed[0]["branch"], branch.as_str());
    assert_eq!(removed[0]["dir"], repo.run_dir(&run).to_string_lossy().as_ref());
    assert!(!repo.branch_exists(&branch));
    assert!(!repo.run_dir(&run).exists());
    assert!(!docker_object_exists("container", &repo.project(1)));
    assert_eq!(repo.runs(), Vec::<Value>::new());
}

#[test]
fn rm_accepts_squash_merged_branch() {
    let repo = TestRepo::new();
    let run = finished_run(
        &repo,
        &format!("{COMMIT_GREETING}; echo more >> greeting.txt; git commit -qam 'Extend greeting'"),
    );
    repo.git(&["merge", "--squash", &format!("task/{run}")]);
    repo.git(&["commit", "--quiet", "-m", "Squash the greeting"]);
    // The base moves on after the squash merge.
    std::fs::write(repo.root.join("later.txt"), "later\n").unwrap();
    repo.git(&["add", "later.txt"]);
    repo.git(&["commit", "--quiet", "-m", "Add later work"]);

    let output = repo.exe("hb-rm").arg(&run).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with(&format!("removed run {run}\n  container  {} (", repo.project(1))), "{text}");
    assert!(text.contains(&format!("\n  branch     task/{run}\n")), "{text}");
    assert!(!repo.branch_exists(&format!("task/{run}")));
}

#[test]
fn rm_accepts_squash_merge_before_base_edits() {
    let repo = TestRepo::new();
    repo.write("data.txt", "line1\n");
    repo.commit("Add data");
    let run = finished_run(
        &repo,
        "echo agent >> data.txt; git commit -qam 'Append agent'; echo agent again >> data.txt; git commit -qam 'Append more'",
    );
    repo.git(&["merge", "--squash", &format!("task/{run}")]);
    repo.git(&["commit", "--quiet", "-m", "Squash the agent's lines"]);
    // The base edits the same file again, so merging the branch into the
    // base's tip conflicts, and no single commit of the branch matches.
    repo.write("data.txt", "line1\nagent\nagent again\nuser\n");
    repo.commit("Append user");

    let output = repo.exe("hb-rm").arg(&run).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!repo.branch_exists(&format!("task/{run}")));
    assert!(!repo.run_dir(&run).exists());
}

#[test]
fn rm_rejects_running_run() {
    let repo = TestRepo::new();
    let run = repo.start_script("sleep 300");

    let output = repo.exe("hb-rm").arg(&repo.task).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!("error: run {run} is still running\nhelp: stop it first with `hb stop {run}`, or remove it anyway with `hb rm --force {run}`\n")
    );

    let output = repo.exe("hb-rm").args(["--force", run.as_str()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!docker_object_exists("container", &repo.project(1)));
    assert!(!docker_object_exists("network", &format!("{}_default", repo.project(1))));
    assert!(!repo.run_dir(&run).exists());
}

#[test]
fn rm_removes_image_built_for_run() {
    let repo = TestRepo::new();
    std::fs::write(repo.root.join("Agent.Dockerfile"), "FROM hb-test-agent:latest\nLABEL purpose=test\n").unwrap();
    let output = repo
        .exe("hb-run")
        .args([repo.task.as_str(), "--dockerfile", "Agent.Dockerfile", "--", "true"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let run = format!("{}/1", repo.task);
    repo.wait_for_status(&run, "exited");
    repo.wait_for_watcher(&run);
    let image = format!("{}-task", repo.project(1));
    assert!(docker_object_exists("image", &image));

    let output = repo.exe("hb-rm").args([run.as_str(), "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let removed: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(removed[0]["image"], format!("{image}:latest"));
    assert!(!docker_object_exists("image", &image));
}

#[test]
fn rm_cleans_up_what_hand_edits_left() {
    let repo = TestRepo::new();
    let no_dir = finished_run(&repo, "exit 0");
    let no_branch = finished_run(&repo, "exit 0");
    let orphan = finished_run(&repo, "exit 0");

    std::fs::remove_dir_all(repo.run_dir(&no_dir)).unwrap();
    repo.git(&["branch", "-D", &format!("task/{no_branch}")]);
    std::fs::remove_dir_all(repo.run_dir(&orphan)).unwrap();
    repo.git(&["branch", "-D", &format!("task/{orphan}")]);

    let output =
        repo.exe("hb-rm").args([no_dir.as_str(), no_branch.as_str(), orphan.as_str(), "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let removed: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(removed.len(), 3);
    assert_eq!(removed[0]["dir"], Value::Null);
    assert_eq!(removed[0]["branch"], format!("task/{no_dir}"));
    assert_eq!(removed[1]["branch"], Value::Null);
    assert_eq!(removed[1]["notes"][0], format!("branch `task/{no_branch}` was already deleted"));
    assert_eq!(removed[2]["container"], repo.project(3));
    for n in 1..=3 {
        assert!(!docker_object_exists("container", &repo.project(n)), "container {n} is left");
    }
    assert!(!repo.run_dir(&no_branch).exists());
}

#[test]
fn rm_rejects_unknown_and_foreign_runs() {
    let repo = TestRepo::new();
    let output = repo.exe("hb-rm").arg(format!("{}/9", repo.task)).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!("error: task `{}` has no runs in this repository\nhelp: list the runs with `hb runs`\n", repo.task)
    );

    // A second repository with the same task id: its container is not ours.
    let other = TestRepo::new();
    let task_file = format!(".hyperbranch/tasks/task-{}.md", other.task);
    std::fs::rename(other.root.join(&task_file), other.root.join(format!(".hyperbranch/tasks/task-{}.md", repo.task)))
        .unwrap();
    std::fs::write(
        other.root.join(format!(".hyperbranch/tasks/task-{}.md", repo.task)),
        format!("---\nid: {}\n---\n# Same id\n", repo.task),
    )
    .unwrap();
    other.git(&["add", "-A", "."]);
    other.git(&["commit", "--quiet", "-m", "Rename task"]);
    let output = other.exe("hb-run").args([repo.task.as_str(), "--", "true"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let output = repo.exe("hb-rm").arg(format!("{}/1", repo.task)).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "error: run {0}/1 belongs to another repository, `{1}`\nhelp: run hb inside `{1}` to manage it\n",
            repo.task,
            other.root.display()
        )
    );
    assert!(docker_object_exists("container", &repo.project(1)));
    // The other repository's guard does not know this id, so remove its container here.
    let _ = docker(&["rm", "--force", &repo.project(1)]);
    let _ = docker(&["network", "rm", &format!("{}_default", repo.project(1))]);
}
