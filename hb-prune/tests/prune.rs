//! `hb prune` against a real Docker engine and git.

use hb_testkit::{docker_object_exists, TestRepo};
use serde_json::Value;

#[test]
fn prune_removes_merged_runs_and_leftovers() {
    let repo = TestRepo::new();
    let merged = repo.start_script("exit 0");
    let unmerged = repo.start_script("echo x > x; git add x; git commit -qm 'Add x'");
    let running = repo.start_script("sleep 300");
    let leftover = repo.start_script("exit 1");
    for run in [&merged, &unmerged, &leftover] {
        repo.wait_for_status(run, "exited");
        repo.wait_for_watcher(run);
    }
    std::fs::remove_dir_all(repo.run_dir(&leftover)).unwrap();
    repo.git(&["branch", "-D", &format!("task/{leftover}")]);

    let output = repo.exe("hb-prune").args(["--dry-run", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let planned: Value = serde_json::from_slice(&output.stdout).unwrap();
    let would_remove: Vec<&str> =
        planned["removed"].as_array().unwrap().iter().map(|r| r["run"].as_str().unwrap()).collect();
    assert_eq!(would_remove, [merged.as_str(), leftover.as_str()]);
    let kept: Vec<&str> = planned["kept"].as_array().unwrap().iter().map(|k| k["run"].as_str().unwrap()).collect();
    assert_eq!(kept, [unmerged.as_str()]);
    assert!(planned["kept"][0]["reason"].as_str().unwrap().contains("Add x"), "{planned}");
    assert!(repo.run_dir(&merged).exists(), "a dry run removes nothing");
    assert!(docker_object_exists("container", &repo.project(4)), "a dry run removes nothing");

    let output = repo.exe("hb-prune").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains(&format!("removed run {merged}\n")), "{text}");
    assert!(text.contains(&format!("removed run {leftover}\n")), "{text}");
    assert!(text.contains(&format!("kept run {unmerged}: run {unmerged} has 1 commit not in `main`: ")), "{text}");

    let left: Vec<String> = repo.runs().iter().map(|info| info["run"].as_str().unwrap().to_string()).collect();
    assert_eq!(left, [unmerged.clone(), running.clone()]);
    assert!(!docker_object_exists("container", &repo.project(1)));
    assert!(!docker_object_exists("container", &repo.project(4)));
    assert!(docker_object_exists("container", &repo.project(3)));
}
