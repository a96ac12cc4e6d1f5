//! `hb run`: starts a task in a new container, detached.

use clap::Parser;
use hb_core::report;
use hb_core::start::{self, StartOptions, StartedRun, StderrProgress};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Start a task in a new container, detached.
///
/// Creates the branch `task/<id>/<n>` and a workspace clone of it, renders
/// the run's Compose file and `.env`, starts the container with
/// `docker compose run -d`, and returns. A watcher records the exit code
/// and brings the agent's commits back into the branch when it ends.
#[derive(Parser, Debug)]
#[command(
    name = "hb run",
    bin_name = "hb run",
    version,
    after_help = "Examples:
  hb run 69z-09g-ekx
  hb run 69z-09g-ekx --image my-agent:latest --env MODEL=large
  hb run 69z-09g-ekx --dockerfile docker/agent.Dockerfile --mount ~/.cache/pip:/cache:ro
  hb run 69z-09g-ekx --json -- sh -c 'make test'"
)]
pub struct Args {
    /// Task id: the part after `task-` in `.hyperbranch/tasks/task-<id>.md`
    #[arg(value_name = "TASK-ID")]
    task: String,

    /// Image to run [default: from configuration, else node:22-bookworm]
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,

    /// Dockerfile to build the image from; wins over --image
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    dockerfile: Option<PathBuf>,

    /// Environment variable for the container; `KEY` alone forwards the host's value
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,

    /// Bind mount; relative host paths start at the current directory
    #[arg(short, long = "mount", value_name = "HOST:CONTAINER[:ro]", value_hint = clap::ValueHint::AnyPath)]
    mount: Vec<String>,

    /// Print the started run as one JSON object
    #[arg(long)]
    json: bool,

    /// Command to run instead of the configured agent command
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// Runs the executable with the process's arguments.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let cwd = match crate::current_dir() {
        Ok(cwd) => cwd,
        Err(error) => return report::fail(&error),
    };
    let options = StartOptions {
        cwd,
        task: args.task,
        image: args.image,
        dockerfile: args.dockerfile,
        env: args.env,
        mounts: args.mount,
        command: args.command,
        host_env: std::env::vars().collect(),
        interrupted: Some(crate::signals::catch_interrupts()),
    };

    let started = match start::start(&options, &StderrProgress) {
        Ok(started) => started,
        Err(error) => return report::fail(&error),
    };

    // The run has started whatever happens to stdout now, so a write error
    // does not change the exit status.
    let text = if args.json {
        serde_json::to_string(&started).expect("a started run always serializes") + "\n"
    } else {
        started_text(&started)
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::SUCCESS
}

fn started_text(started: &StartedRun) -> String {
    let run = &started.run;
    format!(
        "started run {run}\n  container  {} ({})\n  branch     {}\n  workspace  {}\n\n  hb logs -f {run}    follow its output\n",
        started.container,
        started.cid,
        started.branch,
        started.workspace.display()
    )
}
