//! The watcher outlives the terminal that started the run, and on SIGTERM
//! stops the run and cleans up like at any other end.

use hb_testkit::*;
use std::process::Command;
use std::time::{Duration, Instant};

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn watcher_survives_closing_terminal() {
    let repo = TestRepo::with_exec("while [ ! -e /app/stop ]; do sleep 0.2; done; exit 4");
    let session = unique_id("hbtest");
    let command = format!("PATH='{}' hb run {}; sleep 600", path_with_bins(), repo.task);

    // A terminal: tmux runs hb in a pty, then the whole session is killed,
    // which hangs up the terminal and sends SIGHUP to its processes.
    let started = Command::new("tmux")
        .args(["new-session", "-d", "-s", &session, "-c"])
        .arg(repo.path())
        .arg(&command)
        .status()
        .unwrap();
    assert!(started.success());
    let cid_file = repo.run_dir(&format!("{}/1", repo.task)).join("hb.cid");
    wait_for("the run to start", || cid_file.exists());
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("tmux").args(["kill-session", "-t", &session]).status().unwrap();
    assert!(killed.success());

    std::fs::write(repo.run_dir(&format!("{}/1", repo.task)).join("workspace/stop"), "").unwrap();
    repo.wait_for_watcher(&format!("{}/1", repo.task));
    let exit = std::fs::read_to_string(repo.run_dir(&format!("{}/1", repo.task)).join("exit.json")).unwrap();
    assert!(exit.starts_with("{\"exit\":4,"), "{exit}");
}

#[test]
fn sigterm_to_watcher_stops_and_cleans_up() {
    let repo = TestRepo::with_exec("echo working; sleep 300");
    let started = repo.start(&[]);
    let dir = repo.run_dir(&format!("{}/1", repo.task));
    // The watcher's signal handlers are set once it logs that it is waiting.
    let log = dir.join("watch.log");
    wait_for("the watcher to wait", || std::fs::read_to_string(&log).unwrap_or_default().contains("watcher: waiting"));
    let pid = std::fs::read_to_string(dir.join("watch.pid")).unwrap().trim().to_string();

    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let run = format!("{}/1", repo.task);
    repo.wait_for_log_line(&run, "Network hb-");
    repo.wait_for_log_line(&run, " Removed");

    let cid = started["cid"].as_str().unwrap();
    assert_eq!(container_field(cid, "{{.State.Status}}").as_deref(), Some("exited"));
    assert!(dir.join("exit.json").exists());
    assert!(!network_exists(&format!("hb-{}-1_default", repo.task)));
    assert_eq!(stdout(&repo.run_hb(&["logs", &repo.task])), "working\n");
}
