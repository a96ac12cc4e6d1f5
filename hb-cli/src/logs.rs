//! `hb logs`: shows what a run's container printed, from Docker.

use clap::Parser;
use hb_core::logs::{self, LogOptions};
use hb_core::naming::RunRef;
use hb_core::repo::Repo;
use hb_core::{report, Error};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};

/// Show the output of a run.
///
/// Reads the container's logs from Docker, while the run goes on and after
/// it has ended, until the run is removed.
#[derive(Parser, Debug)]
#[command(
    name = "hb logs",
    bin_name = "hb logs",
    version,
    after_help = "Examples:
  hb logs 69z-09g-ekx          the latest run of the task
  hb logs -f 69z-09g-ekx/2     follow run 2 until it ends
  hb logs --tail 50 -t 69z-09g-ekx"
)]
pub struct Args {
    /// Run as `<task-id>/<n>`, or `<task-id>` for its latest run
    #[arg(value_name = "RUN")]
    run: String,

    /// Keep printing new output until the container ends
    #[arg(short, long)]
    follow: bool,

    /// Show only this many lines from the end
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    tail: Option<u64>,

    /// Prefix each line with the time Docker received it
    #[arg(short, long)]
    timestamps: bool,
}

/// Runs the executable with the process's arguments.
pub fn main() -> ExitCode {
    crate::exit_quietly_on_broken_pipe();
    let args = Args::parse();
    match show_logs(&args) {
        Ok(code) => code,
        Err(error) => report::fail(&error),
    }
}

/// Runs `docker logs` with stdout going straight to ours, so output is not
/// copied, and watches its stderr for the line that reports the container is
/// gone, which becomes hb's own error.
fn show_logs(args: &Args) -> Result<ExitCode, Error> {
    let cwd = crate::current_dir()?;
    let repo = Repo::discover(&cwd)?;
    let reference = RunRef::parse(&args.run)?;
    let source = logs::source(&repo, &reference)?;
    let options = LogOptions { follow: args.follow, tail: args.tail, timestamps: args.timestamps };

    let mut command = Command::new("docker");
    command.args(logs::docker_args(&source, &options)).stdin(Stdio::null()).stderr(Stdio::piped());
    // SAFETY: prctl is async-signal-safe and changes only the child.
    unsafe {
        command.pre_exec(|| {
            // `docker logs --follow` must not outlive hb logs when hb logs is
            // killed, for example with SIGTERM, so it gets SIGTERM too.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|error| hb_core::process::spawn_error("docker", error))?;

    // Docker's own errors come first on stderr; the container's stderr lines
    // pass through unchanged.
    let mut missing = false;
    let mut unreachable = None;
    if let Some(stderr) = child.stderr.take() {
        let mut ours = std::io::stderr().lock();
        for line in BufReader::new(stderr).split(b'\n').map_while(Result::ok) {
            let text = String::from_utf8_lossy(&line);
            if !missing && logs::is_missing_container(&text) {
                missing = true;
                continue;
            }
            if unreachable.is_none() && logs::is_unreachable_engine(&text) {
                unreachable = Some(text.trim().to_string());
                continue;
            }
            let _ = ours.write_all(&line);
            let _ = ours.write_all(b"\n");
        }
    }
    let status = child.wait().map_err(|e| Error::environment(format!("failed to wait for `docker logs`: {e}")))?;

    if !status.success() {
        if missing {
            return Err(logs::removed(&source));
        }
        if let Some(reason) = unreachable {
            return Err(hb_core::docker::unreachable_engine(&reason));
        }
    }
    Ok(ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8))
}
