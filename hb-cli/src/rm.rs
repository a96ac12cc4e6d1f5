//! `hb rm`: removes runs and everything hb created for them.

use clap::Parser;
use hb_core::naming::RunRef;
use hb_core::remove::{self, RemoveOptions, Removed};
use hb_core::repo::Repo;
use hb_core::{report, Error};
use std::process::ExitCode;

/// Remove runs: container, network, volumes, built image, run directory
/// with its workspace, and branch.
///
/// The workspace's commits are first brought back into the run's branch.
/// A run that is still running, or whose branch has commits that its base
/// lacks, is rejected with the commits named. A squash-merged or rebased
/// branch counts as merged. --force removes it anyway.
#[derive(Parser, Debug)]
#[command(
    name = "hb rm",
    bin_name = "hb rm",
    version,
    after_help = "Examples:
  hb rm 69z-09g-ekx/2
  hb rm 69z-09g-ekx            the latest run of the task
  hb rm --force 69z-09g-ekx/3  also when running or unmerged"
)]
pub struct Args {
    /// Runs as `<task-id>/<n>`, or `<task-id>` for its latest run
    #[arg(value_name = "RUN", required = true)]
    runs: Vec<String>,

    /// Remove running runs and unmerged commits too
    #[arg(short, long)]
    force: bool,

    /// Print one JSON array of what was removed; errors still go to stderr
    #[arg(long)]
    json: bool,
}

/// Runs the executable with the process's arguments.
pub fn main() -> ExitCode {
    crate::exit_quietly_on_broken_pipe();
    let args = Args::parse();
    let outcomes = match remove_runs(&args) {
        Ok(outcomes) => outcomes,
        Err(error) => return report::fail(&error),
    };

    let mut removed = Vec::new();
    let mut code = ExitCode::SUCCESS;
    for outcome in outcomes {
        match outcome {
            Ok(record) => removed.push(record),
            Err(error) => code = report::fail(&error),
        }
    }
    let written = if args.json {
        report::print_json(&removed)
    } else {
        let text: String = removed.iter().map(|record| describe(record, "removed")).collect();
        report::print(&text)
    };
    match written {
        Ok(()) => code,
        Err(error) => report::fail(&error),
    }
}

fn remove_runs(args: &Args) -> Result<Vec<Result<Removed, Error>>, Error> {
    let repo = Repo::discover(&crate::current_dir()?)?;
    let references = args.runs.iter().map(|text| RunRef::parse(text)).collect::<Result<Vec<_>, _>>()?;
    remove::remove(&repo, &references, RemoveOptions { force: args.force, dry_run: false })
}

/// Lists what was removed for one run, one thing a line, under `verb run …`.
pub(crate) fn describe(record: &Removed, verb: &str) -> String {
    let mut text = format!("{verb} run {}\n", record.run);
    if let Some(container) = &record.container {
        match &record.cid {
            Some(cid) => text.push_str(&format!("  container  {container} ({})\n", &cid[..cid.len().min(12)])),
            None => text.push_str(&format!("  container  {container}\n")),
        }
    }
    for network in &record.networks {
        text.push_str(&format!("  network    {network}\n"));
    }
    for volume in &record.volumes {
        text.push_str(&format!("  volume     {volume}\n"));
    }
    if let Some(image) = &record.image {
        text.push_str(&format!("  image      {image}\n"));
    }
    if let Some(branch) = &record.branch {
        text.push_str(&format!("  branch     {branch}\n"));
    }
    if let Some(dir) = &record.dir {
        text.push_str(&format!("  directory  {}\n", dir.display()));
    }
    for note in &record.notes {
        text.push_str(&format!("  note: {note}\n"));
    }
    text
}
