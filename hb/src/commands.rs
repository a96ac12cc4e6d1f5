//! Finding the `hb-<name>` executables that `hb` dispatches to.
//!
//! The search order is the directory of the running `hb` first, then each
//! PATH directory. Installing a release as one directory of binaries
//! therefore works without touching PATH, and a command installed next to
//! `hb` wins over an older one that happens to be on PATH.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Prefix of every command's file name: command `run` is file `hb-run`.
const PREFIX: &str = "hb-";

/// Typed characters per allowed edit when a mistyped name is matched to an
/// installed one. Command names are short, and a fixed allowance of three
/// edits (cargo's) matches `nope` to `logs`. One edit per three characters,
/// and at least one, still catches a slip in any name while the suggestion
/// shares most of its letters with what was typed.
const CHARS_PER_EDIT: usize = 3;

/// One-line descriptions of the commands this project ships. Other `hb-*`
/// executables are listed without a description.
const DESCRIPTIONS: &[(&str, &str)] = &[
    ("run", "Start a task in a new container, detached"),
    ("logs", "Show the output of a run"),
    ("runs", "List runs with their status and exit code"),
    ("stop", "Stop running runs"),
    ("rm", "Remove runs: container, workspace and branch"),
    ("prune", "Remove finished runs whose work is merged"),
    ("completions", "Print a shell completion script"),
];

/// Returns the built-in description of command `name`, if it is one of ours.
pub fn description(name: &str) -> Option<&'static str> {
    DESCRIPTIONS.iter().find(|(known, _)| *known == name).map(|(_, text)| *text)
}

/// Finds the executable for command `name`, searching in precedence order.
///
/// Returns `None` for an empty name or one containing `/`, so that a
/// command line such as `hb ../x` cannot run a file outside the search
/// directories.
pub fn find(name: &OsStr) -> Option<PathBuf> {
    if name.is_empty() || name.as_encoded_bytes().contains(&b'/') {
        return None;
    }

    let mut file_name = OsString::from(PREFIX);
    file_name.push(name);

    search_dirs().into_iter().map(|dir| dir.join(&file_name)).find(|path| is_executable(path))
}

/// Lists every installed command, mapping its name to its executable.
///
/// A name found in several directories maps to the one that `find` would
/// run. File names that are not valid UTF-8 are skipped because they
/// cannot be shown or completed reliably.
pub fn installed() -> BTreeMap<String, PathBuf> {
    let mut commands = BTreeMap::new();

    for dir in search_dirs() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };

        for entry in entries.flatten() {
            let Ok(file_name) = entry.file_name().into_string() else {
                continue;
            };
            let Some(name) = file_name.strip_prefix(PREFIX) else {
                continue;
            };
            if name.is_empty() || commands.contains_key(name) {
                continue;
            }

            let path = entry.path();
            if is_executable(&path) {
                commands.insert(name.to_owned(), path);
            }
        }
    }

    commands
}

/// Picks the candidate nearest to `name` by Damerau–Levenshtein distance,
/// where swapping two adjacent characters counts as one edit, within
/// `max(1, characters of name / CHARS_PER_EDIT)` edits. Among equally near
/// candidates the first one wins, so sorted input gives the alphabetically
/// first.
pub fn closest_name<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let max_distance = (name.chars().count() / CHARS_PER_EDIT).max(1);
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= max_distance)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Returns the directories to search, highest precedence first.
///
/// The directory of `hb` comes from the canonicalized executable path, so
/// that a symlink to `hb` (say in `~/.local/bin`) still finds the commands
/// installed next to the real binary. Empty PATH entries are skipped
/// although POSIX reads them as the current directory, because running a
/// program from wherever the user happens to stand is a hazard.
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();

    let own_dir =
        std::env::current_exe().and_then(fs::canonicalize).ok().and_then(|exe| exe.parent().map(Path::to_path_buf));
    dirs.extend(own_dir);

    if let Some(path) = std::env::var_os("PATH") {
        let path_dirs = std::env::split_paths(&path).filter(|dir| !dir.as_os_str().is_empty());
        dirs.extend(path_dirs);
    }

    dirs
}

/// Tells whether `path` is a regular file (after following symlinks) with
/// at least one execute bit set.
fn is_executable(path: &Path) -> bool {
    match fs::metadata(path) {
        Ok(metadata) => metadata.is_file() && metadata.permissions().mode() & 0o111 != 0,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::closest_name;

    const COMMANDS: [&str; 7] = ["completions", "logs", "prune", "rm", "run", "runs", "stop"];

    #[test]
    fn closest_name_counts_swap_as_one_edit() {
        assert_eq!(closest_name("rnu", COMMANDS), Some("run"));
        assert_eq!(closest_name("sotp", COMMANDS), Some("stop"));
    }

    #[test]
    fn closest_name_allows_one_edit_per_three_chars() {
        assert_eq!(closest_name("rn", COMMANDS), Some("rm"));
        assert_eq!(closest_name("nope", COMMANDS), None);
        assert_eq!(closest_name("prxxe", COMMANDS), None);
        assert_eq!(closest_name("compleshons", COMMANDS), Some("completions"));
        assert_eq!(closest_name("complxxxons", COMMANDS), Some("completions"));
        assert_eq!(closest_name("cmplxxxons", COMMANDS), None);
    }
}
