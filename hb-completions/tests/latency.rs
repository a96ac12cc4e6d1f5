//! The completer stays fast with many runs, because it reads directory
//! names and modification times and nothing else.

mod common;

use common::{make_run_dir, stdout, Fixture};
use std::time::{Duration, Instant};

const RUNS: u32 = 500;

/// A bound for the debug build with a process start per call, loose
/// enough for a busy machine; `scripts/bench completion` measures the
/// release build.
const MAX_MEDIAN: Duration = Duration::from_millis(100);

#[test]
fn run_ids_at_500_runs_under_100_ms() {
    let fixture = Fixture::new();
    for index in 0..RUNS {
        make_run_dir(&fixture.repo, &format!("bench-{}", index % 50), index / 50 + 1, 1_000 + u64::from(index));
    }

    let mut times = Vec::new();
    for _ in 0..11 {
        let started = Instant::now();
        let output =
            fixture.command("hb").args(["completions", "--complete", "--", "hb", "logs", ""]).output().unwrap();
        times.push(started.elapsed());
        assert_eq!(stdout(&output).lines().count(), 1 + RUNS as usize + 5, "kind line, bench runs and fixture runs");
    }
    times.sort();
    let median = times[times.len() / 2];
    assert!(median < MAX_MEDIAN, "median {median:?} at {RUNS} runs; all: {times:?}");
}
