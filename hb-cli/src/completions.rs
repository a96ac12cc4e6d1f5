//! `hb completions`: prints the shell completion scripts, and computes the
//! candidates that those scripts ask for.
//!
//! The scripts are thin. On each Tab they run
//! `hb completions --complete -- <words up to the cursor>`, and this module
//! computes the candidates from the clap definitions of the subcommands and
//! from files in the repository. Flags therefore never need to be copied into a script,
//! and adding a subcommand is one line in `SUBCOMMANDS`.
//!
//! The `--complete` mode must stay fast and quiet: it reads files only
//! (no git, no Docker), and on any failure it prints nothing and exits 0,
//! so a broken repository never puts an error message in the user's
//! command line.

mod engine;
mod sources;

use clap::{CommandFactory, Parser, ValueEnum};
use std::io::Write;
use std::process::ExitCode;

/// Builds the clap definition of one subcommand.
type BuildCommand = fn() -> clap::Command;

/// The subcommands that this workspace ships, each with the function that
/// builds its clap definition. External `hb-*` commands found on PATH are
/// completed by name only.
const SUBCOMMANDS: &[(&str, BuildCommand)] = &[
    ("completions", Args::command),
    ("logs", crate::logs::Args::command),
    ("prune", crate::prune::Args::command),
    ("rm", crate::rm::Args::command),
    ("run", crate::run::Args::command),
    ("runs", crate::runs::Args::command),
    ("stop", crate::stop::Args::command),
];

/// The flag that switches to candidate mode; the words to complete follow
/// after `--`.
const COMPLETE_FLAG: &str = "--complete";

/// Print a shell completion script.
///
/// The script completes subcommands, flags, task ids for `hb run` and run
/// ids for the commands that take a run. Candidates are read from the
/// repository's files each time Tab is pressed, without calling Docker.
#[derive(Parser, Debug)]
#[command(
    name = "hb completions",
    bin_name = "hb completions",
    version,
    after_help = "Load the completions in the current shell:
  bash:  source <(hb completions bash)
  zsh:   source <(hb completions zsh)     (after compinit)
  fish:  hb completions fish | source"
)]
pub struct Args {
    /// Shell to print the script for
    #[arg(value_enum, required_unless_present = "complete")]
    shell: Option<Shell>,

    /// Print the candidates for the words after `--`, the last one being
    /// the word under the cursor (used by the scripts)
    #[arg(long, hide = true, conflicts_with = "shell")]
    complete: bool,

    /// The command line up to the cursor, split into words
    #[arg(last = true, hide = true, requires = "complete")]
    words: Vec<String>,
}

/// A shell that hb ships a completion script for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    /// Every supported shell, in the order the packaged files are listed.
    pub const ALL: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

    /// Returns the completion script, identical to the packaged copy in
    /// `completions/<file name>`.
    pub fn script(self) -> &'static str {
        match self {
            Shell::Bash => include_str!("completions/hb.bash"),
            Shell::Zsh => include_str!("completions/_hb"),
            Shell::Fish => include_str!("completions/hb.fish"),
        }
    }

    /// Returns the file name that the shell's completion loader looks for.
    pub fn file_name(self) -> &'static str {
        match self {
            Shell::Bash => "hb.bash",
            Shell::Zsh => "_hb",
            Shell::Fish => "hb.fish",
        }
    }
}

/// Runs the executable with the process's arguments.
pub fn main() -> ExitCode {
    crate::exit_quietly_on_broken_pipe();
    // Candidate mode is recognized before clap, so that no parse error can
    // ever reach the terminal while the user is typing.
    let raw: Vec<String> = std::env::args_os().skip(1).map(|word| word.to_string_lossy().into_owned()).collect();
    if raw.first().map(String::as_str) == Some(COMPLETE_FLAG) {
        let words = match raw.get(1).map(String::as_str) {
            Some("--") => &raw[2..],
            _ => &raw[1..],
        };
        print_candidates(words);
        return ExitCode::SUCCESS;
    }

    let args = Args::parse();
    match args.shell {
        Some(shell) => hb_core::report::exit_after(hb_core::report::print(shell.script())),
        None => {
            print_candidates(&args.words);
            ExitCode::SUCCESS
        }
    }
}

/// Builds the command tree that completion walks: `hb` with one
/// subcommand per entry of `SUBCOMMANDS`, built so that clap's own
/// `--help` and `--version` flags are part of it.
pub fn command_tree() -> clap::Command {
    // The dispatcher's `help` is added by the completer itself, not by clap.
    let mut tree = clap::Command::new("hb").disable_help_subcommand(true);
    for (name, definition) in SUBCOMMANDS {
        tree = tree.subcommand(definition().name(*name));
    }
    tree.build();
    tree
}

/// Prints the reply for `words` in the line format the scripts read,
/// or nothing at all when anything fails, including a panic.
fn print_candidates(words: &[String]) {
    std::panic::set_hook(Box::new(|_| {}));
    let reply = std::panic::catch_unwind(|| {
        let tree = command_tree();
        let files = sources::RepoFiles::from_current_dir();
        engine::complete(&tree, words, &files).render()
    });

    if let Ok(text) = reply {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_definition_is_valid() {
        Args::command().debug_assert();
    }

    #[test]
    fn tree_names_subcommands_without_hb_prefix() {
        let tree = command_tree();
        let names: Vec<&str> = tree.get_subcommands().map(|command| command.get_name()).collect();
        assert_eq!(names, SUBCOMMANDS.iter().map(|(name, _)| *name).collect::<Vec<_>>());
    }
}
