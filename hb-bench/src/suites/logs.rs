//! Logs: `hb logs` of a run that printed 100 MB against `docker logs` of
//! the same container, both written to /dev/null.

use crate::fixture::{self, Binaries, TempRepo, IMAGE};
use crate::measure::{interleave, time_command, Case, Goal, Series, SuiteReport};
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// 1,000,000 lines of 99 `x` and a newline: exactly 100,000,000 bytes.
const PRINT_100_MB: &str = "head -c 99000000 /dev/zero | tr '\\000' x | fold -w 99; echo";
const EXPECTED_BYTES: u64 = 100_000_000;

pub fn run(binaries: &Binaries, trials: usize) -> Result<SuiteReport> {
    let mut report = SuiteReport::new("logs", trials);
    let task = format!("bench{}-logs", std::process::id());
    let temp = TempRepo::create("logs", std::slice::from_ref(&task))?;
    let root = temp.root().to_path_buf();

    let args = ["run", task.as_str(), "--json", "--image", IMAGE, "--", "sh", "-c", PRINT_100_MB];
    let output = binaries.hb(&root, &args).stdin(Stdio::null()).output()?;
    if !output.status.success() {
        bail!("`hb run` of the 100 MB printer failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let started: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("`hb run --json` printed no JSON")?;
    let run = started["run"].as_str().context("no run id")?.to_string();
    let cid = started["cid"].as_str().context("no container id")?.to_string();
    let dir = PathBuf::from(started["dir"].as_str().context("no run dir")?);
    fixture::wait_for_watcher(&dir, Duration::from_secs(300))?;
    check_size(&cid)?;
    eprintln!("logs: run {run} printed {EXPECTED_BYTES} bytes");

    let mut docker = || time_command(Command::new("docker").args(["logs", &cid])).map(Some);
    let mut hb = || time_command(&mut binaries.hb(&root, &["logs", &run])).map(Some);
    let times = interleave(trials, &mut [&mut docker, &mut hb])?;
    let [docker, hb] = <[Vec<f64>; 2]>::try_from(times).expect("two measures");

    report.cases.push(Case::new(
        "100 MB of output, to /dev/null",
        Some(Series::new("docker logs <cid>", docker)),
        Series::new("hb logs <run>", hb),
        Goal::MaxRatio(1.05),
    ));
    let driver = docker_output(&["info", "--format", "{{.LoggingDriver}}"]).unwrap_or_else(|_| "unknown".to_string());
    report.notes.push(format!("Docker's logging driver: {}.", driver.trim()));
    Ok(report)
}

/// Checks that `docker logs` returns the whole 100 MB, so both commands
/// measured read all of it.
fn check_size(cid: &str) -> Result<()> {
    let mut child = Command::new("docker").args(["logs", cid]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut buffer = vec![0u8; 1 << 20];
    let mut total: u64 = 0;
    loop {
        let read = stdout.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        total += read as u64;
    }
    child.wait()?;
    if total != EXPECTED_BYTES {
        bail!("the run printed {total} bytes, expected {EXPECTED_BYTES}");
    }
    Ok(())
}

fn docker_output(args: &[&str]) -> Result<String> {
    let output = Command::new("docker").args(args).stdin(Stdio::null()).output()?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
