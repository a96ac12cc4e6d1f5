//! Completion: the run-id completer at 500 runs, as one Tab press after
//! `hb logs ` runs it, and bash's whole completion function around it.

use crate::fixture::{Binaries, TempRepo};
use crate::measure::{interleave, median, time_command, time_output, Case, Goal, Series, SuiteReport};
use anyhow::{bail, Context, Result};
use hb_core::naming::RunId;
use hb_core::rundir::RunDir;
use hb_core::task::TaskId;
use std::path::Path;
use std::process::Command;

const TASKS: u32 = 50;
const RUNS_PER_TASK: u32 = 10;

/// Completer calls per trial; one call takes milliseconds.
const CALLS_PER_TRIAL: usize = 20;

/// Calls `_hb` the way bash does after `hb logs <Tab>`, `$1` times, and
/// prints each call's time in microseconds. Fails when `_hb` offers a
/// number of runs other than `$2`.
const BASH_TIMER: &str = r#"
source /usr/share/bash-completion/bash_completion
source <(hb completions bash)
COMP_LINE='hb logs '
COMP_POINT=${#COMP_LINE}
COMP_WORDS=(hb logs '')
COMP_CWORD=2
_hb hb '' logs
if [ "${#COMPREPLY[@]}" -ne "$2" ]; then
  echo "_hb offered ${#COMPREPLY[@]} runs, expected $2" >&2
  exit 1
fi
for _ in $(seq "$1"); do
  start=${EPOCHREALTIME/./}
  _hb hb '' logs
  end=${EPOCHREALTIME/./}
  echo $((10#$end - 10#$start))
done
"#;

pub fn run(binaries: &Binaries, trials: usize) -> Result<SuiteReport> {
    let mut report = SuiteReport::new("completion", trials);
    let prefix = format!("bench{}", std::process::id());
    let tasks: Vec<String> = (1..=TASKS).map(|k| format!("{prefix}-c{k}")).collect();
    let temp = TempRepo::create("completion", &tasks)?;
    let root = temp.root().to_path_buf();
    for task in &tasks {
        let task = TaskId::parse(task).map_err(|error| anyhow::anyhow!("{}", error.message))?;
        for n in 1..=RUNS_PER_TASK {
            std::fs::create_dir_all(RunDir::new(&temp.repo, RunId::new(task.clone(), n)).path)?;
        }
    }
    let expected = (TASKS * RUNS_PER_TASK) as usize;
    check_candidates(binaries, &root, expected)?;

    let complete = ["completions", "--complete", "--", "hb", "logs", ""];
    let mut floor = || time_command(&mut binaries.hb(&root, &["completions", "--version"])).map(Some);
    let mut completer = || time_command(&mut binaries.hb(&root, &complete)).map(Some);
    let times = interleave(trials * CALLS_PER_TRIAL, &mut [&mut floor, &mut completer])?;
    let [floor, completer] = <[Vec<f64>; 2]>::try_from(times).expect("two measures");
    report.cases.push(Case::new(
        format!("`hb logs <Tab>` at {expected} runs, the completer"),
        Some(Series::new("hb completions --version", floor)),
        Series::new("hb completions --complete -- hb logs ''", completer),
        Goal::UnderMs(50.0),
    ));

    let function = time_bash_function(binaries, &root, trials * CALLS_PER_TRIAL, expected)?;
    report.cases.push(Case::new(
        format!("`hb logs <Tab>` at {expected} runs, bash's whole `_hb`"),
        None,
        Series::new("_hb in bash with bash-completion", function),
        Goal::UnderMs(50.0),
    ));
    report.notes.push(
        "The baseline `hb completions --version` is the cost of starting the completer through the `hb` \
         dispatcher at all; the completer reads files only and never calls Docker or git."
            .to_string(),
    );
    Ok(report)
}

/// Checks that the completer offers every run, so the timings are of a
/// completer that works.
fn check_candidates(binaries: &Binaries, root: &Path, expected: usize) -> Result<()> {
    let (_, stdout) = time_output(&mut binaries.hb(root, &["completions", "--complete", "--", "hb", "logs", ""]))?;
    let offered = stdout.lines().filter(|line| line.contains('/')).count();
    if offered != expected {
        bail!("the completer offered {offered} run ids, expected {expected}");
    }
    Ok(())
}

/// Times `_hb` inside one bash process, because starting bash and loading
/// bash-completion is not part of a Tab press. Returns times in ms.
fn time_bash_function(binaries: &Binaries, root: &Path, calls: usize, expected: usize) -> Result<Vec<f64>> {
    let output = Command::new("bash")
        .args(["-c", BASH_TIMER, "bash", &calls.to_string(), &expected.to_string()])
        .current_dir(root)
        .env("PATH", binaries.path_env())
        .output()
        .context("failed to start bash")?;
    if !output.status.success() {
        bail!("timing bash's `_hb` failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let times: Vec<f64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.trim().parse::<f64>().ok())
        .map(|microseconds| microseconds / 1000.0)
        .collect();
    if times.len() != calls {
        bail!("bash printed {} times, expected {calls}", times.len());
    }
    eprintln!("completion: bash `_hb` median {:.1} ms", median(&times));
    Ok(times)
}
