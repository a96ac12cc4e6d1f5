//! Timing commands, interleaving trials, and the tables they end up in.
//!
//! Absolute times on a shared machine vary from minute to minute, so every
//! case measures hb and its baseline in alternating trials (A B, then B A,
//! and so on) and compares their medians.

use crate::cleanup;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The times of one command over all trials, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// The command run, as a reader would type it.
    pub command: String,
    pub median_ms: f64,
    pub samples_ms: Vec<f64>,
}

impl Series {
    pub fn new(command: impl Into<String>, samples_ms: Vec<f64>) -> Series {
        Series { command: command.into(), median_ms: median(&samples_ms), samples_ms }
    }
}

/// The value a case must reach to meet its goal.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// hb's median divided by the baseline's median is at most this.
    MaxRatio(f64),
    /// hb's median is under this many milliseconds.
    UnderMs(f64),
    /// Reported for context; no goal applies.
    None,
}

impl Goal {
    fn describe(self) -> String {
        match self {
            Goal::MaxRatio(ratio) => format!("≤ {ratio}×"),
            Goal::UnderMs(ms) => format!("< {ms} ms"),
            Goal::None => "—".to_string(),
        }
    }
}

/// One row of a suite's table: hb against its baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub case: String,
    pub baseline: Option<Series>,
    pub hb: Series,
    /// hb's median divided by the baseline's median.
    pub ratio: Option<f64>,
    pub goal: Goal,
    /// Whether the goal is met; `None` when the case has no goal.
    pub met: Option<bool>,
}

impl Case {
    pub fn new(case: impl Into<String>, baseline: Option<Series>, hb: Series, goal: Goal) -> Case {
        let ratio = baseline.as_ref().map(|baseline| hb.median_ms / baseline.median_ms);
        let met = match goal {
            Goal::MaxRatio(max) => ratio.map(|ratio| ratio <= max),
            Goal::UnderMs(max) => Some(hb.median_ms < max),
            Goal::None => None,
        };
        Case { case: case.into(), baseline, hb, ratio, goal, met }
    }
}

/// Everything one suite measured.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    pub suite: &'static str,
    pub trials: usize,
    pub cases: Vec<Case>,
    /// Medians of hb's own steps, where hb reports them.
    pub breakdown: Vec<Step>,
    /// Sentences printed under the table: fixture details and derived facts.
    pub notes: Vec<String>,
    /// The reason the suite did not run, when it did not.
    pub skipped: Option<String>,
}

/// The median time of one named step.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub step: String,
    pub median_ms: f64,
}

impl SuiteReport {
    pub fn new(suite: &'static str, trials: usize) -> SuiteReport {
        SuiteReport { suite, trials, cases: Vec::new(), breakdown: Vec::new(), notes: Vec::new(), skipped: None }
    }

    pub fn skipped(suite: &'static str, reason: impl Into<String>) -> SuiteReport {
        SuiteReport { skipped: Some(reason.into()), ..SuiteReport::new(suite, 0) }
    }

    /// Renders the suite as a Markdown section: a heading, the table of
    /// cases, the step breakdown and the notes.
    pub fn markdown(&self) -> String {
        let mut text = format!("### {}\n\n", self.suite);
        if let Some(reason) = &self.skipped {
            text.push_str(&format!("Skipped: {reason}\n"));
            return text;
        }

        text.push_str("| case | baseline | baseline median | hb median | ratio | goal | met? |\n");
        text.push_str("|---|---|--:|--:|--:|---|---|\n");
        for case in &self.cases {
            let (baseline, baseline_median) = match &case.baseline {
                Some(series) => (format!("`{}`", escape_cell(&series.command)), format_ms(series.median_ms)),
                None => ("—".to_string(), "—".to_string()),
            };
            let ratio = case.ratio.map_or("—".to_string(), |ratio| format!("{ratio:.2}×"));
            let met = match case.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            text.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                case.case,
                baseline,
                baseline_median,
                format_ms(case.hb.median_ms),
                ratio,
                case.goal.describe(),
                met
            ));
        }

        if !self.breakdown.is_empty() {
            text.push_str("\nhb's steps (medians): ");
            let steps: Vec<String> =
                self.breakdown.iter().map(|step| format!("{} {}", step.step, format_ms(step.median_ms))).collect();
            text.push_str(&steps.join(", "));
            text.push('\n');
        }
        if !self.notes.is_empty() {
            text.push('\n');
            for note in &self.notes {
                text.push_str(&format!("- {note}\n"));
            }
        }
        text
    }
}

/// Escapes `|`, which would end a Markdown table cell even inside backticks.
fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

pub fn format_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

pub fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// One measurement: returns a time in ms, or `None` to sit out a trial
/// (a slow baseline may be sampled in fewer trials than hb).
pub type Measure<'a> = &'a mut dyn FnMut() -> Result<Option<f64>>;

/// Runs `trials` rounds of the `measures`, in forward order on even rounds
/// and backward order on odd ones, so no measurement always runs right
/// after the same one. Returns the times of each measurement in the order
/// the measures were given.
pub fn interleave(trials: usize, measures: &mut [Measure]) -> Result<Vec<Vec<f64>>> {
    let mut times = vec![Vec::with_capacity(trials); measures.len()];
    for trial in 0..trials {
        let order: Vec<usize> =
            if trial % 2 == 0 { (0..measures.len()).collect() } else { (0..measures.len()).rev().collect() };
        for index in order {
            cleanup::bail_if_interrupted()?;
            if let Some(ms) = measures[index]()? {
                times[index].push(ms);
            }
        }
    }
    Ok(times)
}

/// Runs `command` to the end with stdout discarded and returns its wall
/// time in ms, or an error with its stderr when it fails.
pub fn time_command(command: &mut Command) -> Result<f64> {
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let output = command.output().with_context(|| format!("failed to start {command:?}"))?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if !output.status.success() {
        bail!("{command:?} failed with {}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(ms)
}

/// Runs `command` to the end, capturing stdout, and returns its wall time
/// in ms with the stdout, or an error with its stderr when it fails.
pub fn time_output(command: &mut Command) -> Result<(f64, String)> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let output = command.output().with_context(|| format!("failed to start {command:?}"))?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if !output.status.success() {
        bail!("{command:?} failed with {}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok((ms, String::from_utf8_lossy(&output.stdout).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn ratio_goal_compares_medians() {
        let case =
            Case::new("c", Some(Series::new("a", vec![10.0])), Series::new("b", vec![14.0]), Goal::MaxRatio(1.5));
        assert_eq!(case.ratio, Some(1.4));
        assert_eq!(case.met, Some(true));
        let case = Case::new("c", None, Series::new("b", vec![60.0]), Goal::UnderMs(50.0));
        assert_eq!(case.met, Some(false));
    }
}
