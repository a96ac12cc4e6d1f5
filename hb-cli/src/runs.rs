//! `hb runs`: lists runs and their state.

use chrono::{DateTime, Utc};
use clap::Parser;
use hb_core::repo::Repo;
use hb_core::runs::{self, RunInfo};
use hb_core::task::TaskId;
use hb_core::{report, Error};
use std::process::ExitCode;

/// List the runs of this repository, or of one task.
///
/// Reads the state of every run from Docker in one call, so the list is
/// right even when a watcher died or Docker restarted. Runs are ordered by
/// task, then by run number.
#[derive(Parser, Debug)]
#[command(
    name = "hb runs",
    bin_name = "hb runs",
    version,
    after_help = "Status is one of preparing, failed, created, running, exited, removed.

Examples:
  hb runs
  hb runs 69z-09g-ekx
  hb runs --json | jq '.[] | select(.status == \"exited\" and .exit != 0) | .run'"
)]
pub struct Args {
    /// Show only the runs of this task
    #[arg(value_name = "TASK-ID")]
    task: Option<String>,

    /// Print one JSON array of runs; times are RFC 3339 UTC, unknown values null
    #[arg(long)]
    json: bool,
}

/// The widest a line of the table gets, in characters.
const MAX_WIDTH: usize = 100;

/// Runs the executable with the process's arguments.
pub fn main() -> ExitCode {
    crate::exit_quietly_on_broken_pipe();
    let args = Args::parse();
    let written = match list(&args) {
        Ok(runs) if args.json => report::print_json(&runs),
        Ok(runs) if runs.is_empty() => {
            report::status("no runs");
            Ok(())
        }
        Ok(runs) => report::print(&table(&runs, Utc::now())),
        Err(error) => return report::fail(&error),
    };
    report::exit_after(written)
}

fn list(args: &Args) -> Result<Vec<RunInfo>, Error> {
    let repo = Repo::discover(&crate::current_dir()?)?;
    let task = args.task.as_deref().map(parse_task).transpose()?;
    runs::list(&repo, task.as_ref())
}

/// Parses the task argument, pointing a run such as `ok/19` to its task.
fn parse_task(text: &str) -> Result<TaskId, Error> {
    let Some((task, _)) = text.rsplit_once('/') else {
        return TaskId::parse(text);
    };
    let error = Error::usage(format!("`hb runs` takes a task id, not a run: `{}`", text.escape_debug()));
    match TaskId::parse(task) {
        Ok(task) => Err(error.help(format!("use `hb runs {task}`"))),
        Err(_) => Err(error),
    }
}

/// Renders the runs as an aligned table no wider than [`MAX_WIDTH`]: the run
/// and image columns are shortened with `…` when they do not fit.
fn table(runs: &[RunInfo], now: DateTime<Utc>) -> String {
    let header = ["RUN", "STATUS", "EXIT", "STARTED", "TIME", "CONTAINER", "IMAGE"];
    let mut rows: Vec<[String; 7]> = vec![header.map(str::to_string)];
    for info in runs {
        let time = match (info.started, info.finished) {
            (Some(started), Some(finished)) => duration(finished - started),
            (Some(started), None) if info.status == runs::Status::Running => duration(now - started),
            _ => "-".to_string(),
        };
        rows.push([
            info.run.clone(),
            info.status.as_str().to_string(),
            info.exit.map_or("-".to_string(), |code| code.to_string()),
            info.started.map_or("-".to_string(), |started| format!("{} ago", duration(now - started))),
            time,
            info.cid.as_deref().map_or("-".to_string(), |cid| cid[..cid.len().min(12)].to_string()),
            info.image.clone().unwrap_or_else(|| "-".to_string()),
        ]);
    }

    let mut widths = [0usize; 7];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    // The columns between run and image have short values of bounded width.
    // When run and image do not both fit in the rest, the image keeps up to
    // half of it and the run column takes what remains.
    let gaps = 2 * (widths.len() - 1);
    let fixed: usize = widths[1..6].iter().sum::<usize>() + gaps;
    let room = MAX_WIDTH.saturating_sub(fixed);
    let image_share = widths[6].min(room / 2);
    widths[0] = widths[0].min(room - image_share);
    widths[6] = widths[6].min(room - widths[0]);

    let mut text = String::new();
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, width)| fit(cell, width)).collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

/// Pads `cell` to `width` characters, or cuts it to fit with a final `…`.
fn fit(cell: &str, width: usize) -> String {
    let count = cell.chars().count();
    if count <= width {
        return format!("{cell:width$}");
    }
    let kept: String = cell.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// Formats a duration in its largest whole unit: `45s`, `3m`, `5h`, `2d`.
fn duration(span: chrono::TimeDelta) -> String {
    let seconds = span.num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86400 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hb_core::runs::Status;

    fn info(run: &str, status: Status, image: &str) -> RunInfo {
        let (task, n) = run.rsplit_once('/').unwrap();
        let now = Utc::now();
        RunInfo {
            run: run.to_string(),
            task: task.to_string(),
            n: n.parse().unwrap(),
            status,
            exit: (status == Status::Exited).then_some(137),
            cid: Some("0123456789abcdef".repeat(4)),
            container: format!("hb-{task}-{n}"),
            branch: format!("task/{run}"),
            started: Some(now - chrono::TimeDelta::seconds(200)),
            finished: (status == Status::Exited).then_some(now - chrono::TimeDelta::seconds(20)),
            image: Some(image.to_string()),
            has_dir: true,
        }
    }

    #[test]
    fn table_fits_one_hundred_columns() {
        let long_id = "a-very-long-task-identifier-that-goes-on-and-on-and-on/12";
        let long_image = "registry.example.com/some/deeply/nested/agent-image:2024-01-01-with-a-long-tag";
        let runs =
            vec![info("abc/1", Status::Exited, "hb-test-agent:latest"), info(long_id, Status::Running, long_image)];
        let text = table(&runs, Utc::now());
        for line in text.lines() {
            assert!(line.chars().count() <= MAX_WIDTH, "{} columns: {line}", line.chars().count());
        }
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("RUN"), "{text}");
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            cells,
            ["abc/1", "exited", "137", "3m", "ago", "3m", "0123456789ab", "hb-test-agent:latest"],
            "{text}"
        );
        assert!(lines[2].contains('…'), "{text}");
    }

    #[test]
    fn task_argument_rejects_run_with_hint() {
        let error = parse_task("ok/19").unwrap_err();
        assert_eq!(error.message, "`hb runs` takes a task id, not a run: `ok/19`");
        assert_eq!(error.help.as_deref(), Some("use `hb runs ok`"));

        let error = parse_task("../19").unwrap_err();
        assert_eq!(error.message, "`hb runs` takes a task id, not a run: `../19`");
        assert_eq!(error.help, None);

        assert_eq!(parse_task("ok").unwrap().as_str(), "ok");
    }

    #[test]
    fn durations_use_the_largest_unit() {
        assert_eq!(duration(chrono::TimeDelta::seconds(45)), "45s");
        assert_eq!(duration(chrono::TimeDelta::seconds(200)), "3m");
        assert_eq!(duration(chrono::TimeDelta::seconds(5 * 3600 + 10)), "5h");
        assert_eq!(duration(chrono::TimeDelta::seconds(3 * 86400)), "3d");
        assert_eq!(duration(chrono::TimeDelta::seconds(-5)), "0s");
    }
}
