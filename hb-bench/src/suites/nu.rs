//! Nushell: `hb runs` of the plugin nu_plugin_hb in the real `nu`, against
//! the CLI's `hb runs --json | from json`, which yields the same table.
//!
//! Two cases: in one warm Nushell session (the plugin already running),
//! where each command is timed with `timeit`, and cold, one `nu` process per
//! call including Nushell's start and, for the plugin, its registration
//! check and start. The plugin is registered in a registry file of the
//! benchmark's own, never in the user's.

use crate::fixture::{Binaries, ListingFixture};
use crate::measure::{interleave, median, time_command, Case, Goal, Series, SuiteReport};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Stdio};

const RUNS: usize = 20;

pub fn run(binaries: &Binaries, plugin: Option<&Path>, trials: usize) -> Result<SuiteReport> {
    let Some(plugin) = plugin.filter(|path| path.is_file()) else {
        return Ok(SuiteReport::skipped(
            "nu",
            "nu_plugin_hb is not built (scripts/bench builds it with the workspace and passes --nu-plugin)",
        ));
    };
    if Command::new("nu").arg("--version").stdout(Stdio::null()).status().is_err() {
        return Ok(SuiteReport::skipped("nu", "`nu` is not on PATH"));
    }

    let mut fixture = ListingFixture::new("nu")?;
    fixture.grow_to(RUNS)?;
    let root = fixture.temp.root().to_path_buf();
    let registry = root.join(".hyperbranch/plugins.msgpackz");
    let added =
        nu(binaries, &root, &format!("plugin add --plugin-config '{}' '{}'", registry.display(), plugin.display()))
            .output()?;
    if !added.status.success() {
        return Ok(SuiteReport::skipped(
            "nu",
            format!("`plugin add` rejected nu_plugin_hb: {}", String::from_utf8_lossy(&added.stderr).trim()),
        ));
    }

    let mut report = SuiteReport::new("nu", trials);
    let use_plugin = format!("plugin use --plugin-config '{}' hb", registry.display());

    let (cli_warm, plugin_warm) = warm_session(binaries, &root, &use_plugin, trials)?;
    report.cases.push(Case::new(
        format!("{RUNS} runs, warm session"),
        Some(Series::new("^hb runs --json | from json", cli_warm)),
        Series::new("hb runs (plugin)", plugin_warm),
        Goal::MaxRatio(1.2),
    ));

    let cli_script = "^hb runs --json | from json | length".to_string();
    let plugin_script = format!("{use_plugin}; hb runs | length");
    let mut cli = || time_command(&mut nu(binaries, &root, &cli_script)).map(Some);
    let mut plugin = || time_command(&mut nu(binaries, &root, &plugin_script)).map(Some);
    let times = interleave(trials, &mut [&mut cli, &mut plugin])?;
    let [cli_cold, plugin_cold] = <[Vec<f64>; 2]>::try_from(times).expect("two measures");
    report.cases.push(Case::new(
        format!("{RUNS} runs, one `nu -c` each"),
        Some(Series::new("nu -c '^hb runs --json | from json'", cli_cold)),
        Series::new("nu -c 'plugin use …; hb runs'", plugin_cold),
        Goal::MaxRatio(1.2),
    ));
    report.notes.push(format!(
        "Fixture: {RUNS} runs with run directories, branches and containers, one of them exited; nu {}.",
        nu_version().unwrap_or_else(|| "of unknown version".to_string())
    ));
    Ok(report)
}

/// Times both commands in alternating order inside one `nu` process, after
/// one untimed call of each, and returns the CLI's and the plugin's times.
fn warm_session(binaries: &Binaries, root: &Path, use_plugin: &str, trials: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let script = format!(
        r#"{use_plugin}
^hb runs --json | from json | ignore
hb runs | ignore
for i in 0..<{trials} {{
  if $i mod 2 == 0 {{
    let cli = (timeit {{ ^hb runs --json | from json | ignore }})
    let plugin = (timeit {{ hb runs | ignore }})
    print ({{cli: ($cli / 1ms), plugin: ($plugin / 1ms)}} | to json --raw)
  }} else {{
    let plugin = (timeit {{ hb runs | ignore }})
    let cli = (timeit {{ ^hb runs --json | from json | ignore }})
    print ({{cli: ($cli / 1ms), plugin: ($plugin / 1ms)}} | to json --raw)
  }}
}}
"#
    );
    let output = nu(binaries, root, &script).stdin(Stdio::null()).output()?;
    if !output.status.success() {
        bail!("the warm Nushell session failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }

    let mut cli = Vec::new();
    let mut plugin = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines().filter(|line| line.starts_with('{')) {
        let times: serde_json::Value = serde_json::from_str(line).context("the Nushell session printed no JSON")?;
        cli.push(times["cli"].as_f64().context("no CLI time")?);
        plugin.push(times["plugin"].as_f64().context("no plugin time")?);
    }
    if cli.len() != trials {
        bail!("the warm Nushell session printed {} trials, expected {trials}", cli.len());
    }
    eprintln!("nu: warm medians: CLI {:.1} ms, plugin {:.1} ms", median(&cli), median(&plugin));
    Ok((cli, plugin))
}

/// Returns `nu --no-config-file -c <script>` in `root`, with the hb
/// executables on PATH.
fn nu(binaries: &Binaries, root: &Path, script: &str) -> Command {
    let mut command = Command::new("nu");
    command.args(["--no-config-file", "-c", script]).current_dir(root).env("PATH", binaries.path_env());
    command
}

fn nu_version() -> Option<String> {
    let output = Command::new("nu").arg("--version").output().ok()?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
