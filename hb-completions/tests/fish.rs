//! fish completion through `complete -C`, which returns the candidates
//! that pressing Tab after the given command line offers.

mod common;

use common::{stderr, stdout, Fixture, RUNS_NEWEST_FIRST, TASKS};

/// Returns fish's candidates for `line`, without their descriptions.
fn complete(fixture: &Fixture, line: &str) -> Vec<String> {
    let lines = complete_with_descriptions(fixture, line);
    lines.iter().map(|line| line.split('\t').next().unwrap().to_string()).collect()
}

fn complete_with_descriptions(fixture: &Fixture, line: &str) -> Vec<String> {
    let script = fixture.script("fish");
    let driver = format!("source '{}'; complete -C $argv[1]", script.display());
    let output = fixture.command("fish").args(["--no-config", "-c", &driver, line]).output().unwrap();
    assert!(output.status.success(), "fish failed: {}", stderr(&output));
    assert_eq!(stderr(&output), "", "completion printed to stderr");
    stdout(&output).lines().map(str::to_string).collect()
}

#[test]
fn fish_completes_subcommands_with_descriptions() {
    let fixture = Fixture::new();
    let lines = complete_with_descriptions(&fixture, "hb ");
    assert!(lines.contains(&"logs\tShow the output of a run".to_string()), "{lines:?}");
    assert!(lines.contains(&"run\tStart a task in a new container, detached".to_string()), "{lines:?}");
    assert!(lines.contains(&common::EXTERNAL_WITH_SPACE.to_string()), "{lines:?}");
}

#[test]
fn fish_completes_a_flag() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb run --dock"), ["--dockerfile"]);
}

#[test]
fn fish_completes_task_ids() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb run "), TASKS);
    assert_eq!(complete(&fixture, "hb run a."), ["a.b_C-1"]);
}

#[test]
fn fish_completes_run_ids_newest_first() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb logs "), RUNS_NEWEST_FIRST);
    assert_eq!(complete(&fixture, "hb logs fix-login/"), ["fix-login/10", "fix-login/2", "fix-login/1"]);
}

#[test]
fn fish_completes_runs_for_stop_and_rm() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb stop "), RUNS_NEWEST_FIRST);
    assert_eq!(complete(&fixture, "hb rm a."), ["a.b_C-1/1"]);
}

#[test]
fn fish_completes_paths_for_path_flags() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb run x --dockerfile Dock"), ["Dockerfile"]);
    assert_eq!(complete(&fixture, "hb run x --dockerfile=my"), ["--dockerfile=my dir/"]);
}

#[test]
fn fish_offers_nothing_outside_a_repository() {
    let fixture = Fixture::new();
    let script = fixture.script("fish");
    let driver = format!("source '{}'; complete -C 'hb logs '", script.display());
    let output =
        fixture.command("fish").current_dir(&fixture.home).args(["--no-config", "-c", &driver]).output().unwrap();
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "");
}
