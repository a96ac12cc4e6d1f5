//! Listing: `hb runs --json` against one bare `docker ps -a` (the floor)
//! and against one `docker inspect` per run (how listing first worked), at
//! 20, 100 and 1,000 runs of one growing fixture.

use crate::fixture::{Binaries, ListingFixture, EXITED_EVERY};
use crate::measure::{interleave, time_command, time_output, Case, Goal, Series, SuiteReport};
use anyhow::{bail, Result};
use std::process::Command;

const SIZES: [usize; 3] = [20, 100, 1000];

/// The maximum number of trials of the per-run `docker inspect` baseline at a size of
/// 1,000 runs, where one trial takes 1,000 sequential calls.
const MAX_INSPECT_TRIALS_LARGE: usize = 3;

pub fn run(binaries: &Binaries, trials: usize) -> Result<SuiteReport> {
    let mut report = SuiteReport::new("list", trials);
    let mut fixture = ListingFixture::new("list")?;
    let mut hb_medians = Vec::new();
    let mut floor_medians = Vec::new();

    for size in SIZES {
        let started = std::time::Instant::now();
        fixture.grow_to(size)?;
        eprintln!("list: fixture at {size} runs ({:.1} s to grow)", started.elapsed().as_secs_f64());
        check_listing(binaries, &fixture)?;

        let root = fixture.temp.root().to_path_buf();
        let names: Vec<String> = fixture.runs().iter().map(|run| run.project()).collect();
        let inspect_trials = if size >= 1000 { trials.min(MAX_INSPECT_TRIALS_LARGE) } else { trials };
        let mut inspect_trial = 0;

        let mut floor = || time_command(Command::new("docker").args(["ps", "-a"])).map(Some);
        let mut hb = || time_command(&mut binaries.hb(&root, &["runs", "--json"])).map(Some);
        let mut per_run = || {
            inspect_trial += 1;
            if inspect_trial > inspect_trials {
                return Ok(None);
            }
            let start = std::time::Instant::now();
            for name in &names {
                time_command(Command::new("docker").args(["inspect", name]))?;
            }
            Ok(Some(start.elapsed().as_secs_f64() * 1000.0))
        };
        let times = interleave(trials, &mut [&mut floor, &mut hb, &mut per_run])?;
        let [floor, hb, per_run] = <[Vec<f64>; 3]>::try_from(times).expect("three measures");

        let floor = Series::new("docker ps -a", floor);
        let hb = Series::new("hb runs --json", hb);
        let per_run = Series::new(format!("docker inspect <name>, {size} times"), per_run);
        floor_medians.push(floor.median_ms);
        hb_medians.push(hb.median_ms);
        report.cases.push(Case::new(
            format!("{size} runs, against the floor"),
            Some(floor),
            hb.clone(),
            Goal::MaxRatio(1.5),
        ));
        report.cases.push(Case::new(
            format!("{size} runs, against one inspect per run"),
            Some(per_run),
            hb,
            Goal::None,
        ));
        eprintln!("list: {size} runs measured");
    }

    let growth = |medians: &[f64]| medians[medians.len() - 1] / medians[0];
    report.notes.push(format!(
        "From {} to {} runs, hb's median grows {:.2}× and the floor's {:.2}×.",
        SIZES[0],
        SIZES[SIZES.len() - 1],
        growth(&hb_medians),
        growth(&floor_medians)
    ));
    report.notes.push(format!(
        "Fixture: one run directory, branch and container per run, made with hb-core's naming and rendering. \
         One run in {EXITED_EVERY} was started and has exited with its watcher's record; the others are created, \
         never started. The per-run inspect baseline at 1,000 runs has at most {MAX_INSPECT_TRIALS_LARGE} trials."
    ));
    Ok(report)
}

/// Checks once per size that `hb runs --json` lists every fixture run as
/// created or exited, so the timings are of a listing that works.
fn check_listing(binaries: &Binaries, fixture: &ListingFixture) -> Result<()> {
    let (_, stdout) = time_output(&mut binaries.hb(fixture.temp.root(), &["runs", "--json"]))?;
    let runs: Vec<serde_json::Value> = serde_json::from_str(&stdout)?;
    let exited = runs.iter().filter(|run| run["status"] == "exited" && run["exit"] == 0).count();
    let created = runs.iter().filter(|run| run["status"] == "created").count();
    if runs.len() != fixture.len() || exited != fixture.exited() || created + exited != fixture.len() {
        bail!(
            "`hb runs --json` listed {} runs, {created} created and {exited} exited with 0; expected {} with {} exited",
            runs.len(),
            fixture.len(),
            fixture.exited()
        );
    }
    Ok(())
}
