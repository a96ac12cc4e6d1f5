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
    let written = match prune_runs(&args) {
        Ok(pruned) if args.json => report::print_json(&pruned),
        Ok(pruned) => print_pruned(&pruned),
        Err(error) => return report::fail(&error),
    };
    report::exit_after(written)
}

fn prune_runs(args: &Args) -> Result<Pruned, Error> {
    let repo = Repo::discover(&crate::current_dir()?)?;
    prune::prune(&repo, args.dry_run)
}

fn print_pruned(pruned: &Pruned) -> Result<(), Error> {
    if pruned.removed.is_empty() && pruned.kept.is_empty() {
        report::status("nothing to prune");
        return Ok(());
    }

    let verb = if pruned.dry_run { "would remove" } else { "removed" };
    let mut text = String::new();
    for record in &pruned.removed {
        text.push_str(&crate::rm::describe(record, verb));
    }
    for kept in &pruned.kept {
        text.push_str(&format!("kept run {}: {}\n", kept.run, kept.reason));
    }
    report::print(&text)
}
