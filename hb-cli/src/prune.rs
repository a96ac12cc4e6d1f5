//! `hb prune`: removes every finished run whose work is merged.

use clap::Parser;
use hb_core::prune::{self, Pruned};
use hb_core::repo::Repo;
use hb_core::{report, Error};
use std::process::ExitCode;

/// Remove every finished run whose work is in its base.
///
/// A run counts as finished when it exited, failed to start or lost its
/// container, and as merged when its base has all of its changes, also
/// after a squash merge or a rebase. Containers of this repository that
/// have neither run directory nor branch are removed too. Running runs are
/// left alone.
#[derive(Parser, Debug)]
#[command(
    name = "hb prune",
    bin_name = "hb prune",
    version,
    after_help = "Examples:
  hb prune --dry-run    list what would be removed
  hb prune
  hb prune --json | jq -r '.removed[].run'"
)]
pub struct Args {
    /// List what would be removed, and remove nothing
    #[arg(short = 'n', long)]
    dry_run: bool,

    /// Print one JSON object with `removed` and `kept` runs
    #[arg(long)]
    json: bool,
}

/// Runs the executable with the process's arguments.
pub fn main() -> ExitCode {
    crate::exit_quietly_on_broken_pipe();
    let args = Args::parse();
    match prune_runs(&args) {
        Ok(pruned) if args.json => {
            report::print_json(&pruned);
            ExitCode::SUCCESS
        }
        Ok(pruned) => {
            print_pruned(&pruned);
            ExitCode::SUCCESS
        }
        Err(error) => report::fail(&error),
    }
}

fn prune_runs(args: &Args) -> Result<Pruned, Error> {
    let repo = Repo::discover(&crate::current_dir()?)?;
    prune::prune(&repo, args.dry_run)
}

fn print_pruned(pruned: &Pruned) {
    let verb = if pruned.dry_run { "would remove" } else { "removed" };
    for record in &pruned.removed {
        print!("{}", crate::rm::describe(record, verb));
    }
    for kept in &pruned.kept {
        println!("kept run {}: {}", kept.run, kept.reason);
    }
    if pruned.removed.is_empty() && pruned.kept.is_empty() {
        eprintln!("nothing to prune");
    }
}
