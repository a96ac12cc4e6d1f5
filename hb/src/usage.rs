//! The text of `hb --help` and `hb --list`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::commands;

/// Builds the usage text, listing the installed `commands` with their
/// descriptions.
pub fn usage_text(commands: &BTreeMap<String, PathBuf>) -> String {
    let mut text = String::new();

    text.push_str("Run coding-agent tasks in Docker containers, one git branch per run.\n\n");
    text.push_str("Usage: hb <command> [args...]\n");
    text.push_str("       hb help <command>\n\n");

    text.push_str("Options:\n");
    text.push_str("    -h, --help       Print this help\n");
    text.push_str("    -V, --version    Print the version\n");
    text.push_str("        --list       Print the names of the installed commands, one per line\n\n");

    text.push_str("Commands:\n");
    push_command_lines(&mut text, commands);
    text.push('\n');

    text.push_str("Examples:\n");
    text.push_str("    hb run <task-id>         Start a run of .hyperbranch/tasks/task-<task-id>.md\n");
    text.push_str("    hb runs                  List runs with their status and exit code\n");
    text.push_str("    hb logs <task-id>/<n>    Show the output of run <n> of a task\n\n");

    text.push_str("See 'hb <command> --help' for the options of a command.\n");
    text
}

/// Builds the `--list` output: one command name a line, sorted.
pub fn list_text(commands: &BTreeMap<String, PathBuf>) -> String {
    let mut text = String::new();
    for name in commands.keys() {
        text.push_str(name);
        text.push('\n');
    }
    text
}

/// Appends one line per command, with descriptions aligned in a column.
fn push_command_lines(text: &mut String, commands: &BTreeMap<String, PathBuf>) {
    if commands.is_empty() {
        text.push_str("    (none found next to hb or on PATH)\n");
        return;
    }

    let width = commands.keys().map(|name| name.chars().count()).max().unwrap_or(0);
    for name in commands.keys() {
        let line = match commands::description(name) {
            Some(description) => format!("    {name:<width$}  {description}"),
            None => format!("    {name}"),
        };
        text.push_str(&line);
        text.push('\n');
    }
}
