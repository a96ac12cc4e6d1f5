//! `hb stop`: stops running runs.

use clap::Parser;
use hb_core::naming::RunRef;
use hb_core::repo::Repo;
use hb_core::stop::{self, Stopped};
use hb_core::{report, Error};
use std::process::ExitCode;

/// Stop runs gracefully.
///
/// Docker sends the container SIGTERM, then SIGKILL once the timeout has
/// passed. The exit code is recorded as for any other end, and the agent's
/// commits are brought back into the run's branch. Stopping a run that has
/// already ended reports that and succeeds.
#[derive(Parser, Debug)]
#[command(
    name = "hb stop",
    bin_name = "hb stop",
    version,
    after_help = "Examples:
  hb stop 69z-09g-ekx          the latest run of the task
  hb stop 69z-09g-ekx/2 abc/1
  hb stop --time 0 69z-09g-ekx  send SIGKILL at once"
)]
pub struct Args {
    /// Runs as `<task-id>/<n>`, or `<task-id>` for its latest run
    #[arg(value_name = "RUN", required = true)]
    runs: Vec<String>,

    /// Seconds to wait after SIGTERM before SIGKILL
    #[arg(short, long, value_name = "SECONDS", default_value_t = 10, allow_negative_numbers = true)]
    time: u32,

    /// Print one JSON array with the outcome for each run
    #[arg(long)]
    json: bool,
}

/// Runs the executable with the process's arguments.
pub fn main() -> ExitCode {
    crate::exit_quietly_on_broken_pipe();
    let args = Args::parse();
    let written = match stop_runs(&args) {
        Ok(stopped) if args.json => report::print_json(&stopped),
        Ok(stopped) => {
            let text: String = stopped.iter().map(|outcome| format!("{}\n", outcome.message)).collect();
            report::print(&text)
        }
        Err(error) => return report::fail(&error),
    };
    report::exit_after(written)
}

fn stop_runs(args: &Args) -> Result<Vec<Stopped>, Error> {
    let repo = Repo::discover(&crate::current_dir()?)?;
    let references = args.runs.iter().map(|text| RunRef::parse(text)).collect::<Result<Vec<_>, _>>()?;
    stop::stop(&repo, &references, args.time)
}
