//! `hb_bench`: measures hb against its baselines in interleaved trials on
//! the same machine, and writes a Markdown table of medians and ratios.
//!
//! `scripts/bench` sets up Docker and the test image, builds the release
//! executables and runs this with their folder. Each suite prints its table
//! on stdout as it ends and writes `<out>/<suite>.json`. The tables of all
//! suites of one call, with the machine they ran on, go to `<out>/latest.md`.

mod cleanup;
mod fixture;
mod machine;
mod measure;
mod suites;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use fixture::Binaries;
use measure::SuiteReport;
use std::path::PathBuf;
use std::process::ExitCode;

/// Measure hb against its baselines, side by side.
#[derive(Parser, Debug)]
#[command(name = "hb_bench", version)]
struct Args {
    /// Suites to run, in this order [default: all]
    #[arg(value_enum)]
    suites: Vec<Suite>,

    /// Trials per case; each trial runs hb and its baseline once
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    trials: u32,

    /// Folder with the release executables `hb`, `hb-runs`, …
    #[arg(long, value_name = "DIR")]
    bin_dir: PathBuf,

    /// Folder for `<suite>.json` and `latest.md`
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// The built nu_plugin_hb; without it the nu suite is skipped
    #[arg(long, value_name = "PATH")]
    nu_plugin: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Suite {
    List,
    Start,
    Nu,
    Logs,
    Completion,
}

impl Suite {
    const ALL: [Suite; 5] = [Suite::List, Suite::Start, Suite::Nu, Suite::Logs, Suite::Completion];
}

fn main() -> ExitCode {
    cleanup::install_signal_handler();
    let args = Args::parse();
    let result = run(&args);
    cleanup::remove_all();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    let binaries = Binaries {
        dir: args.bin_dir.canonicalize().with_context(|| format!("`{}` not found", args.bin_dir.display()))?,
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("failed to create `{}`", args.out.display()))?;
    let suites = if args.suites.is_empty() { Suite::ALL.to_vec() } else { args.suites.clone() };
    let trials = args.trials as usize;

    let machine_before = machine::Machine::read();
    let mut reports: Vec<SuiteReport> = Vec::new();
    for suite in suites {
        let started = std::time::Instant::now();
        let report = match suite {
            Suite::List => suites::list::run(&binaries, trials),
            Suite::Start => suites::start::run(&binaries, trials),
            Suite::Nu => suites::nu::run(&binaries, args.nu_plugin.as_deref(), trials),
            Suite::Logs => suites::logs::run(&binaries, trials),
            Suite::Completion => suites::completion::run(&binaries, trials),
        }
        .with_context(|| format!("the {suite:?} suite failed"))?;
        eprintln!("{}: done in {:.0} s", report.suite, started.elapsed().as_secs_f64());

        let json = serde_json::json!({ "machine": machine_before, "report": report });
        let path = args.out.join(format!("{}.json", report.suite));
        std::fs::write(&path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("failed to write `{}`", path.display()))?;
        println!("{}", report.markdown());
        reports.push(report);
    }

    let machine_after = machine::Machine::read();
    let mut text = format!("## hb benchmark, {}\n\n", chrono::Local::now().format("%Y-%m-%d %H:%M %Z"));
    text.push_str(&machine_before.markdown(&machine_after));
    text.push_str(&format!("\n{trials} interleaved trials per case unless a note says otherwise.\n\n"));
    for report in &reports {
        text.push_str(&report.markdown());
        text.push('\n');
    }
    let latest = args.out.join("latest.md");
    std::fs::write(&latest, text).with_context(|| format!("failed to write `{}`", latest.display()))?;
    eprintln!("wrote {}", latest.display());
    Ok(())
}
