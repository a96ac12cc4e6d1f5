//! Starting: `hb run --json` (detached) against a bare
//! `docker compose run -d` of the same image and Compose file, with the
//! medians of hb's own steps from the `timings` it reports.

use crate::cleanup;
use crate::fixture::{self, Binaries, TempRepo, IMAGE};
use crate::measure::{interleave, median, time_command, time_output, Case, Goal, Series, Step, SuiteReport};
use anyhow::{Context, Result};
use hb_core::compose;
use hb_core::naming::RunId;
use hb_core::rundir::RunDir;
use hb_core::task::TaskId;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// How long a watcher of a run of `true` may take to record the exit and
/// bring its Compose project down.
const WATCHER_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(binaries: &Binaries, trials: usize) -> Result<SuiteReport> {
    let mut report = SuiteReport::new("start", trials);
    let task = format!("bench{}-start", std::process::id());
    let temp = TempRepo::create("start", std::slice::from_ref(&task))?;
    let root = temp.root().to_path_buf();
    let bare_file = render_bare_compose_file(&temp, &task)?;

    let mut steps: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut step_order: Vec<String> = Vec::new();
    let mut bare_trial = 0;

    let mut hb = || -> Result<Option<f64>> {
        let (ms, stdout) =
            time_output(&mut binaries.hb(&root, &["run", &task, "--json", "--image", IMAGE, "--", "true"]))?;
        let started: serde_json::Value = serde_json::from_str(&stdout).context("`hb run --json` printed no JSON")?;
        for timing in started["timings"].as_array().into_iter().flatten() {
            let step = timing["step"].as_str().unwrap_or("?").to_string();
            if !step_order.contains(&step) {
                step_order.push(step.clone());
            }
            steps.entry(step).or_default().push(timing["ms"].as_f64().unwrap_or(f64::NAN));
        }

        // Untimed: let the watcher finish, then drop the exited container.
        let dir = PathBuf::from(started["dir"].as_str().context("`hb run --json` printed no dir")?);
        fixture::wait_for_watcher(&dir, WATCHER_TIMEOUT)?;
        let cid = started["cid"].as_str().unwrap_or_default();
        let _ = Command::new("docker").args(["rm", "--force", cid]).output();
        Ok(Some(ms))
    };
    let mut bare = || -> Result<Option<f64>> {
        bare_trial += 1;
        let project = format!("hb-bench{}-bare-{bare_trial}", std::process::id());
        cleanup::register_project(&project);
        let file = bare_file.to_string_lossy();
        let args = [
            "compose",
            "-f",
            &file,
            "-p",
            &project,
            "run",
            "-d",
            "--name",
            &project,
            "--remove-orphans",
            "--service-ports",
            "task",
            "true",
        ];
        let ms = time_command(Command::new("docker").args(args));
        cleanup::remove_project(&project);
        ms.map(Some)
    };
    let times = interleave(trials, &mut [&mut bare, &mut hb])?;
    let [bare, hb] = <[Vec<f64>; 2]>::try_from(times).expect("two measures");

    let hb = Series::new(format!("hb run <task> --json --image {IMAGE} -- true"), hb);
    let bare =
        Series::new("docker compose -f <file> -p <project> run -d --name <project> … task true".to_string(), bare);
    let compose_ms = steps.get("compose run").map(|times| median(times));
    report.cases.push(Case::new("start one run, detached", Some(bare), hb.clone(), Goal::MaxRatio(1.25)));
    report.breakdown =
        step_order.iter().map(|step| Step { step: step.clone(), median_ms: median(&steps[step]) }).collect();
    if let Some(compose_ms) = compose_ms {
        let steps_ms: f64 = report.breakdown.iter().map(|step| step.median_ms).sum();
        report.notes.push(format!(
            "Outside `docker compose run`, hb's steps take {:.0} ms of the median; process start, task lookup \
             and JSON output take the remaining {:.0} ms.",
            steps_ms - compose_ms,
            hb.median_ms - steps_ms
        ));
    }
    report.notes.push(
        "Each hb trial waits, untimed, for its watcher to write `watcher: done` before the next trial; \
         each bare trial's container and network are removed, untimed, right after it."
            .to_string(),
    );
    Ok(report)
}

/// Renders the Compose file of the bare trials once, as hb would render
/// it for run 1 of `task`, in a directory of its own next to the runs.
fn render_bare_compose_file(temp: &TempRepo, task: &str) -> Result<PathBuf> {
    let task = TaskId::parse(task).map_err(|error| anyhow::anyhow!("{}", error.message))?;
    let mut dir = RunDir::new(&temp.repo, RunId::new(task, 1));
    dir.path = temp.root().join(".hyperbranch/bare");
    std::fs::create_dir_all(dir.workspace())?;
    let mut spec = fixture::service_spec(&temp.repo, &dir, &["true"]);
    spec.command = None;
    std::fs::write(dir.compose_file(), compose::render(&spec))?;
    std::fs::write(dir.env_file(), "")?;
    std::fs::write(dir.task_file(), "# Bare Compose baseline\n")?;
    Ok(dir.compose_file())
}
