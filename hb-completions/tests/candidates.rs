//! The hidden `--complete` mode that the scripts call: its output format,
//! the repository it reads, and its silence on failure.

mod common;

use common::{stderr, stdout, Fixture, RUNS_NEWEST_FIRST};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn candidates(fixture: &Fixture, dir: &Path, words: &[&str]) -> std::process::Output {
    fixture.command("hb").current_dir(dir).args(["completions", "--complete", "--"]).args(words).output().unwrap()
}

#[test]
fn run_ids_print_one_per_line() {
    let fixture = Fixture::new();
    let output = candidates(&fixture, &fixture.repo, &["hb", "logs", ""]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), format!("words\n{}\n", RUNS_NEWEST_FIRST.join("\n")));
    assert_eq!(stderr(&output), "");
}

#[test]
fn subdirectory_reads_the_enclosing_repository() {
    let fixture = Fixture::new();
    let output = candidates(&fixture, &fixture.repo.join("src/deep"), &["hb", "run", ""]);
    assert_eq!(stdout(&output), "words\n69z-09g-ekx\na.b_C-1\nfix-login\n");
}

#[test]
fn outside_a_repository_prints_nothing() {
    let fixture = Fixture::new();
    for line in [["hb", "logs", ""], ["hb", "run", ""]] {
        let output = candidates(&fixture, &fixture.home, &line);
        assert!(output.status.success(), "{line:?}");
        assert_eq!(stdout(&output), "", "{line:?}");
        assert_eq!(stderr(&output), "", "{line:?}");
    }
}

#[test]
fn unreadable_runs_dir_prints_nothing() {
    let fixture = Fixture::new();
    let runs = fixture.repo.join(".hyperbranch/.runs");
    fs::set_permissions(&runs, fs::Permissions::from_mode(0o000)).unwrap();
    let output = candidates(&fixture, &fixture.repo, &["hb", "logs", ""]);
    fs::set_permissions(&runs, fs::Permissions::from_mode(0o755)).unwrap();

    assert!(output.status.success());
    assert_eq!(stderr(&output), "");
    // Root can read any directory, so as root the runs are still listed.
    if !stdout(&output).is_empty() {
        assert!(running_as_root(), "unreadable runs were listed: {}", stdout(&output));
    }
}

#[test]
fn tasks_path_that_is_a_file_prints_nothing() {
    let fixture = Fixture::new();
    let tasks = fixture.repo.join(".hyperbranch/tasks");
    fs::remove_dir_all(&tasks).unwrap();
    fs::write(&tasks, "not a directory\n").unwrap();
    let output = candidates(&fixture, &fixture.repo, &["hb", "run", ""]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "");
}

#[test]
fn words_without_candidates_print_nothing() {
    let fixture = Fixture::new();
    for words in [&[][..], &["hb"][..], &["hb", "--list", ""][..], &["hb", "logs", "--tail", ""][..]] {
        let output = candidates(&fixture, &fixture.repo, words);
        assert!(output.status.success(), "{words:?}");
        assert_eq!(stdout(&output), "", "{words:?}");
        assert_eq!(stderr(&output), "", "{words:?}");
    }
}

#[test]
fn scripts_print_without_a_repository() {
    let fixture = Fixture::new();
    for shell in ["bash", "zsh", "fish"] {
        let output = fixture.command("hb").current_dir(&fixture.home).args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        assert!(stdout(&output).contains("hb completions --complete --"), "{shell}");
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let fixture = Fixture::new();
    let output = fixture.command("hb").args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid value 'tcsh'"), "{}", stderr(&output));
}

fn running_as_root() -> bool {
    std::process::Command::new("id").arg("-u").output().map(|output| stdout(&output).trim() == "0").unwrap_or(false)
}
