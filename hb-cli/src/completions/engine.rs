//! Works out what the word under the cursor can be, from the clap
//! definitions of hb's subcommands and the values the repository offers.
//!
//! It reads nothing itself: repository values come through `Sources`, so
//! the rules here are tested without files, and the scripts stay free of
//! rules.

use clap::{Arg, ArgAction, Command, ValueHint};
use std::collections::{BTreeMap, HashSet};

/// One completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    /// A one-line help text, shown next to the value by zsh and fish.
    pub description: Option<String>,
}

impl Candidate {
    fn plain(value: impl Into<String>) -> Candidate {
        Candidate { value: value.into(), description: None }
    }

    fn described(value: impl Into<String>, description: Option<String>) -> Candidate {
        Candidate { value: value.into(), description }
    }
}

/// The candidates for the word under the cursor, as the shell should offer
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Exactly these candidates, in this order. The shell filters them by
    /// what is already typed.
    Words(Vec<Candidate>),
    /// File paths, which the shell completes itself so that its quoting,
    /// `~` and directory handling apply. `prefix` is the part of the word
    /// before the path, such as `--dockerfile=`.
    Files { prefix: String },
}

impl Reply {
    fn nothing() -> Reply {
        Reply::Words(Vec::new())
    }

    /// Formats the reply for the scripts: a first line `words` or `files`,
    /// then one `value` or `value<TAB>description` a line for words, or
    /// the prefix line for files. No candidates render as no output.
    ///
    /// A value containing a tab or a line break cannot be sent this way
    /// and is left out.
    pub fn render(&self) -> String {
        match self {
            Reply::Words(candidates) if candidates.is_empty() => String::new(),
            Reply::Words(candidates) => {
                let mut text = String::from("words\n");
                for candidate in candidates {
                    if candidate.value.contains(['\t', '\n', '\r']) {
                        continue;
                    }
                    text.push_str(&candidate.value);
                    if let Some(description) = &candidate.description {
                        text.push('\t');
                        text.push_str(&one_line(description));
                    }
                    text.push('\n');
                }
                text
            }
            Reply::Files { prefix } if prefix.contains(['\t', '\n', '\r']) => String::new(),
            Reply::Files { prefix } => format!("files\n{prefix}\n"),
        }
    }
}

/// A provider of the values that change with the repository.
pub trait Sources {
    /// Task ids, in the order to offer them.
    fn task_ids(&self) -> Vec<String>;
    /// Run ids as `<task-id>/<n>`, in the order to offer them.
    fn run_ids(&self) -> Vec<String>;
    /// Names of the installed `hb-*` commands, ours and others.
    fn installed_commands(&self) -> Vec<String>;
}

/// Values that completion fills from the repository, chosen by an
/// argument's value name. An `Args` field named `TASK-ID` or `RUN` in its
/// help therefore completes task or run ids without further wiring.
const VALUE_NAME_SOURCES: &[(&str, ValueSource)] = &[("TASK-ID", ValueSource::TaskIds), ("RUN", ValueSource::RunIds)];

#[derive(Debug, Clone, Copy)]
enum ValueSource {
    TaskIds,
    RunIds,
}

/// The dispatcher's own options. `hb` parses them by hand rather than with
/// clap, so they are copied here from its usage text, and a new dispatcher
/// option needs a line here too.
const DISPATCHER_FLAGS: &[(&str, &str)] = &[
    ("--help", "Print help"),
    ("--list", "Print the names of the installed commands, one per line"),
    ("--version", "Print the version"),
];

/// Computes the reply for `words`: the command line up to the cursor,
/// split into words, where the first word is the program and the last is
/// the (possibly empty) word under the cursor.
pub fn complete(tree: &Command, words: &[String], sources: &dyn Sources) -> Reply {
    let Some((current, before)) = words.split_last() else {
        return Reply::nothing();
    };
    let Some((_program, typed)) = before.split_first() else {
        return Reply::nothing();
    };

    let Some((first, rest)) = typed.split_first() else {
        if current.starts_with('-') {
            return dispatcher_flags();
        }
        return command_names(tree, sources, true);
    };

    if first == "help" {
        return match rest {
            [] => command_names(tree, sources, false),
            _ => Reply::nothing(),
        };
    }
    if first.starts_with('-') {
        return Reply::nothing();
    }

    match tree.find_subcommand(first) {
        Some(command) => complete_arguments(command, rest, current, sources),
        // An external command's arguments are unknown, so the shell's
        // usual file completion is the best guess.
        None => Reply::Files { prefix: String::new() },
    }
}

fn dispatcher_flags() -> Reply {
    let candidates =
        DISPATCHER_FLAGS.iter().map(|(flag, help)| Candidate::described(*flag, Some(help.to_string()))).collect();
    Reply::Words(candidates)
}

/// Lists our subcommands with their descriptions and the installed
/// external ones by name, sorted by name.
fn command_names(tree: &Command, sources: &dyn Sources, with_help: bool) -> Reply {
    let mut names: BTreeMap<String, Option<String>> = BTreeMap::new();
    for command in tree.get_subcommands() {
        let about = command.get_about().map(|about| about.to_string());
        names.insert(command.get_name().to_string(), about.map(|text| summary(&text)));
    }
    for name in sources.installed_commands() {
        names.entry(name).or_insert(None);
    }
    if with_help {
        names.insert("help".to_string(), Some("Print the help of hb or of a command".to_string()));
    }

    let candidates = names.into_iter().map(|(name, description)| Candidate::described(name, description)).collect();
    Reply::Words(candidates)
}

/// The state after the words that follow the subcommand name.
#[derive(Default)]
struct Parsed<'a> {
    /// Ordinary positional values before `--`.
    positionals: usize,
    /// Words after `--`.
    trailing: usize,
    after_double_dash: bool,
    /// The option whose value is the next word.
    awaiting_value: Option<&'a Arg>,
    /// Options already given, by id.
    given_options: HashSet<&'a str>,
}

fn complete_arguments(command: &Command, typed: &[String], current: &str, sources: &dyn Sources) -> Reply {
    let parsed = parse_typed(command, typed);

    if let Some(option) = parsed.awaiting_value {
        return values_of(option, "", sources);
    }

    if !parsed.after_double_dash {
        if let Some((name, _value)) = current.strip_prefix("--").and_then(|rest| rest.split_once('=')) {
            return match find_long(command, name) {
                Some(option) if takes_value(option) => values_of(option, &format!("--{name}="), sources),
                _ => Reply::nothing(),
            };
        }
        if current.starts_with('-') {
            return options(command, &parsed.given_options);
        }
    }

    match current_positional(command, &parsed) {
        Some(positional) if takes_many(positional) => without_typed(values_of(positional, "", sources), typed),
        Some(positional) => values_of(positional, "", sources),
        None if current.is_empty() && !parsed.after_double_dash => options(command, &parsed.given_options),
        None => Reply::nothing(),
    }
}

/// Walks the words already typed after the subcommand the way clap would
/// parse them, counting positionals and noting the options given.
fn parse_typed<'a>(command: &'a Command, typed: &[String]) -> Parsed<'a> {
    let mut parsed = Parsed::default();

    for word in typed {
        if parsed.awaiting_value.take().is_some() {
            continue;
        }
        if parsed.after_double_dash {
            parsed.trailing += 1;
            continue;
        }
        if word == "--" {
            parsed.after_double_dash = true;
            continue;
        }

        if let Some(rest) = word.strip_prefix("--") {
            let (name, inline_value) = match rest.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (rest, None),
            };
            if let Some(option) = find_long(command, name) {
                parsed.given_options.insert(option.get_id().as_str());
                if takes_value(option) && inline_value.is_none() {
                    parsed.awaiting_value = Some(option);
                }
            }
            continue;
        }

        if word.len() > 1 && word.starts_with('-') {
            // A cluster such as `-ft` or `-eKEY=1`: flags until the first
            // option that takes a value, which takes the rest or the next word.
            let letters: Vec<char> = word[1..].chars().collect();
            for (index, letter) in letters.iter().enumerate() {
                let Some(option) = find_short(command, *letter) else {
                    break;
                };
                parsed.given_options.insert(option.get_id().as_str());
                if takes_value(option) {
                    if index + 1 == letters.len() {
                        parsed.awaiting_value = Some(option);
                    }
                    break;
                }
            }
            continue;
        }

        parsed.positionals += 1;
    }

    parsed
}

/// Finds the positional argument that the word under the cursor fills.
fn current_positional<'a>(command: &'a Command, parsed: &Parsed<'_>) -> Option<&'a Arg> {
    if parsed.after_double_dash {
        if let Some(last) = command.get_positionals().find(|arg| arg.is_last_set()) {
            return visible(last);
        }
    }

    let mut remaining = parsed.positionals + parsed.trailing;
    let mut ordinary: Vec<&Arg> = command.get_positionals().filter(|arg| !arg.is_last_set()).collect();
    ordinary.sort_by_key(|arg| arg.get_index());
    for positional in ordinary {
        if remaining == 0 || takes_many(positional) {
            return visible(positional);
        }
        remaining -= 1;
    }
    None
}

fn visible(arg: &Arg) -> Option<&Arg> {
    (!arg.is_hide_set()).then_some(arg)
}

/// Lists the visible options not given yet, plus the repeatable ones, by
/// their long name where they have one.
fn options(command: &Command, given_options: &HashSet<&str>) -> Reply {
    let candidates = command
        .get_arguments()
        .filter(|arg| !arg.is_positional() && !arg.is_hide_set())
        .filter(|arg| is_repeatable(arg) || !given_options.contains(arg.get_id().as_str()))
        .filter_map(|arg| {
            let name = match (arg.get_long(), arg.get_short()) {
                (Some(long), _) => format!("--{long}"),
                (None, Some(short)) => format!("-{short}"),
                (None, None) => return None,
            };
            let help = arg.get_help().map(|help| summary(&help.to_string()));
            Some(Candidate::described(name, help))
        })
        .collect();
    Reply::Words(candidates)
}

/// Lists the values `arg` accepts: its possible values, file paths for a
/// path hint, or repository ids chosen by its value name. `prefix` is
/// typed before the value in the same word.
fn values_of(arg: &Arg, prefix: &str, sources: &dyn Sources) -> Reply {
    let possible: Vec<Candidate> = arg
        .get_possible_values()
        .into_iter()
        .filter(|value| !value.is_hide_set())
        .map(|value| {
            let help = value.get_help().map(|help| summary(&help.to_string()));
            Candidate::described(format!("{prefix}{}", value.get_name()), help)
        })
        .collect();
    if !possible.is_empty() {
        return Reply::Words(possible);
    }

    if matches!(
        arg.get_value_hint(),
        ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath | ValueHint::ExecutablePath
    ) {
        return Reply::Files { prefix: prefix.to_string() };
    }

    let Some(source) = value_source(arg) else {
        return Reply::nothing();
    };
    let values = match source {
        ValueSource::TaskIds => sources.task_ids(),
        ValueSource::RunIds => sources.run_ids(),
    };
    Reply::Words(values.into_iter().map(|value| Candidate::plain(format!("{prefix}{value}"))).collect())
}

/// Drops the candidates already typed, so that `hb rm a/1 <Tab>` does not
/// offer `a/1` again.
fn without_typed(reply: Reply, typed: &[String]) -> Reply {
    match reply {
        Reply::Words(candidates) => {
            Reply::Words(candidates.into_iter().filter(|candidate| !typed.contains(&candidate.value)).collect())
        }
        files => files,
    }
}

fn value_source(arg: &Arg) -> Option<ValueSource> {
    let value_name = arg.get_value_names()?.first()?.as_str();
    VALUE_NAME_SOURCES.iter().find(|(name, _)| *name == value_name).map(|(_, source)| *source)
}

fn find_long<'a>(command: &'a Command, name: &str) -> Option<&'a Arg> {
    command.get_arguments().find(|arg| {
        arg.get_long() == Some(name) || arg.get_all_aliases().is_some_and(|aliases| aliases.contains(&name))
    })
}

fn find_short(command: &Command, letter: char) -> Option<&Arg> {
    command.get_arguments().find(|arg| {
        arg.get_short() == Some(letter) || arg.get_all_short_aliases().is_some_and(|aliases| aliases.contains(&letter))
    })
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

fn takes_many(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|range| range.max_values() > 1)
}

fn is_repeatable(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Append | ArgAction::Count)
}

/// Shortens help text to its first line, without a closing period, the
/// way completion menus show it.
fn summary(text: &str) -> String {
    let first = text.lines().next().unwrap_or("").trim();
    first.strip_suffix('.').unwrap_or(first).to_string()
}

fn one_line(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Sources for Fixed {
        fn task_ids(&self) -> Vec<String> {
            vec!["a.b_C-1".to_string(), "fix-login".to_string()]
        }

        fn run_ids(&self) -> Vec<String> {
            vec!["fix-login/2".to_string(), "fix-login/1".to_string(), "a.b_C-1/1".to_string()]
        }

        fn installed_commands(&self) -> Vec<String> {
            vec!["logs".to_string(), "my tool".to_string(), "run".to_string()]
        }
    }

    fn reply(line: &[&str]) -> Reply {
        let words: Vec<String> = line.iter().map(|word| word.to_string()).collect();
        complete(&crate::completions::command_tree(), &words, &Fixed)
    }

    fn values(line: &[&str]) -> Vec<String> {
        match reply(line) {
            Reply::Words(candidates) => candidates.into_iter().map(|candidate| candidate.value).collect(),
            other => panic!("expected words for {line:?}, got {other:?}"),
        }
    }

    #[test]
    fn first_word_offers_ours_externals_and_help() {
        let names = values(&["hb", ""]);
        let mut expected: Vec<String> =
            crate::completions::SUBCOMMANDS.iter().map(|(name, _)| name.to_string()).collect();
        expected.extend(["help".to_string(), "my tool".to_string()]);
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn first_word_describes_our_commands() {
        let Reply::Words(candidates) = reply(&["hb", ""]) else { panic!() };
        let run = candidates.iter().find(|candidate| candidate.value == "run").unwrap();
        assert_eq!(run.description.as_deref(), Some("Start a task in a new container, detached"));
    }

    #[test]
    fn dash_at_first_word_offers_dispatcher_flags() {
        assert_eq!(values(&["hb", "-"]), ["--help", "--list", "--version"]);
    }

    #[test]
    fn help_offers_command_names() {
        assert!(values(&["hb", "help", ""]).contains(&"logs".to_string()));
        assert!(!values(&["hb", "help", ""]).contains(&"help".to_string()));
    }

    #[test]
    fn run_offers_task_ids() {
        assert_eq!(values(&["hb", "run", ""]), ["a.b_C-1", "fix-login"]);
    }

    #[test]
    fn logs_offers_run_ids_in_source_order() {
        assert_eq!(values(&["hb", "logs", ""]), ["fix-login/2", "fix-login/1", "a.b_C-1/1"]);
        assert_eq!(values(&["hb", "logs", "-f", ""]), ["fix-login/2", "fix-login/1", "a.b_C-1/1"]);
    }

    #[test]
    fn repeated_runs_skip_those_typed() {
        assert_eq!(values(&["hb", "rm", "fix-login/1", "-f", ""]), ["fix-login/2", "a.b_C-1/1"]);
    }

    #[test]
    fn option_value_is_not_a_positional() {
        assert_eq!(values(&["hb", "logs", "--tail", ""]), Vec::<String>::new());
        assert_eq!(values(&["hb", "logs", "--tail", "5", ""]).len(), 3);
        assert_eq!(values(&["hb", "logs", "--tail=5", ""]).len(), 3);
    }

    #[test]
    fn path_options_complete_files() {
        assert_eq!(reply(&["hb", "run", "--dockerfile", ""]), Reply::Files { prefix: String::new() });
        assert_eq!(reply(&["hb", "run", "x", "-m", ""]), Reply::Files { prefix: String::new() });
        assert_eq!(reply(&["hb", "run", "--dockerfile=do"]), Reply::Files { prefix: "--dockerfile=".to_string() });
    }

    #[test]
    fn dash_offers_options_not_given_yet() {
        let options = values(&["hb", "run", "--json", "--env", "A=1", "-"]);
        assert!(options.contains(&"--dockerfile".to_string()));
        assert!(options.contains(&"--env".to_string()), "--env can repeat");
        assert!(options.contains(&"--help".to_string()));
        assert!(!options.contains(&"--json".to_string()));
    }

    #[test]
    fn filled_positionals_offer_options() {
        let options = values(&["hb", "logs", "abc/1", ""]);
        assert!(options.contains(&"--follow".to_string()));
    }

    #[test]
    fn words_after_double_dash_are_not_options() {
        assert_eq!(values(&["hb", "run", "abc", "--", "-"]), Vec::<String>::new());
    }

    #[test]
    fn completions_offers_shells() {
        assert_eq!(values(&["hb", "completions", ""]), ["bash", "zsh", "fish"]);
    }

    #[test]
    fn external_command_gets_files() {
        assert_eq!(reply(&["hb", "my tool", ""]), Reply::Files { prefix: String::new() });
    }

    #[test]
    fn render_writes_one_candidate_a_line() {
        let reply = Reply::Words(vec![
            Candidate::described("run", Some("Start\ta task".to_string())),
            Candidate::plain("bad\nvalue"),
            Candidate::plain("abc/1"),
        ]);
        assert_eq!(reply.render(), "words\nrun\tStart a task\nabc/1\n");
        assert_eq!(Reply::Files { prefix: "--x=".to_string() }.render(), "files\n--x=\n");
        assert_eq!(Reply::nothing().render(), "");
    }
}
