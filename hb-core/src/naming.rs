//! The one rule that names everything a run owns, from its task id and n.
//!
//! | thing | name |
//! |---|---|
//! | run id | `<id>/<n>` |
//! | git branch | `task/<id>/<n>` |
//! | Compose project and container | `hb-<compose id>-<n>` |
//! | run directory | `.hyperbranch/.runs/task-<id>-<n>/` |

use crate::error::{Error, Result};
use crate::task::TaskId;
use std::fmt;

/// Identifies one run of a task.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId {
    pub task: TaskId,
    pub n: u32,
}

impl RunId {
    pub fn new(task: TaskId, n: u32) -> RunId {
        RunId { task, n }
    }

    /// Returns the git branch of the run in the user's repository.
    pub fn branch(&self) -> String {
        format!("task/{}/{}", self.task, self.n)
    }

    /// Returns the Compose project name, which is also the container name.
    pub fn project(&self) -> String {
        format!("hb-{}-{}", compose_id(&self.task), self.n)
    }

    /// Returns the name of the run directory under `.hyperbranch/.runs/`.
    pub fn dir_name(&self) -> String {
        format!("task-{}-{}", self.task, self.n)
    }

    /// Parses a run directory name back into a run id.
    pub fn from_dir_name(name: &str) -> Option<RunId> {
        let rest = name.strip_prefix("task-")?;
        let (id, n) = rest.rsplit_once('-')?;
        let n = parse_n(n)?;
        Some(RunId::new(TaskId::parse(id).ok()?, n))
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.task, self.n)
    }
}

/// A run as a user names it on the command line: a run id, or a task id
/// meaning its latest run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRef {
    Run(RunId),
    Latest(TaskId),
}

impl RunRef {
    /// Parses `<id>/<n>` or `<id>`.
    pub fn parse(text: &str) -> Result<RunRef> {
        let Some((id, n)) = text.rsplit_once('/') else {
            return Ok(RunRef::Latest(TaskId::parse(text)?));
        };

        let task = TaskId::parse(id)?;
        let n = parse_n(n).ok_or_else(|| {
            Error::usage(format!("invalid run `{}`: `{}` is not a run number", text.escape_debug(), n.escape_debug()))
                .help("a run is `<task-id>/<n>` with n = 1, 2, 3…, or `<task-id>` for its latest run")
        })?;
        Ok(RunRef::Run(RunId::new(task, n)))
    }

    pub fn task(&self) -> &TaskId {
        match self {
            RunRef::Run(run) => &run.task,
            RunRef::Latest(task) => task,
        }
    }
}

fn parse_n(text: &str) -> Option<u32> {
    if text.is_empty() || text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| *n > 0)
}

/// Encodes a task id into the characters Compose allows in project names
/// (`a-z`, `0-9`, `-`, `_`), one to one so that two ids never share a name.
///
/// Lower-case letters, digits and `-` stay; an upper-case letter becomes `_`
/// and its lower-case form, `_` becomes `__`, and `.` becomes `_-`. The
/// result always starts with a letter or digit because task ids do.
pub fn compose_id(task: &TaskId) -> String {
    let mut encoded = String::with_capacity(task.as_str().len());
    for c in task.as_str().chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' => encoded.push(c),
            'A'..='Z' => {
                encoded.push('_');
                encoded.push(c.to_ascii_lowercase());
            }
            '_' => encoded.push_str("__"),
            '.' => encoded.push_str("_-"),
            _ => unreachable!("TaskId::parse admits only ASCII letters, digits, `-`, `_` and `.`"),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, n: u32) -> RunId {
        RunId::new(TaskId::parse(id).unwrap(), n)
    }

    #[test]
    fn names_follow_one_rule() {
        let run = run("69z-09g-ekx", 3);
        assert_eq!(run.to_string(), "69z-09g-ekx/3");
        assert_eq!(run.branch(), "task/69z-09g-ekx/3");
        assert_eq!(run.project(), "hb-69z-09g-ekx-3");
        assert_eq!(run.dir_name(), "task-69z-09g-ekx-3");
    }

    #[test]
    fn compose_names_are_valid_and_distinct() {
        let ids = ["Ab", "ab", "ab_", "a_b", "a.b", "a-b", "a__b", "A.B", "a_-b", "a_B"];
        let names: Vec<String> = ids.iter().map(|id| run(id, 1).project()).collect();
        for name in &names {
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'),
                "{name}"
            );
        }
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    #[test]
    fn dir_name_round_trips() {
        for (id, n) in [("a-1", 2), ("x", 10), ("A.b_c", 1)] {
            let run = run(id, n);
            assert_eq!(RunId::from_dir_name(&run.dir_name()), Some(run));
        }
        assert_eq!(RunId::from_dir_name("task-a-0"), None);
        assert_eq!(RunId::from_dir_name("task-a-01"), None);
        assert_eq!(RunId::from_dir_name("other"), None);
    }

    #[test]
    fn run_ref_parses_both_forms() {
        assert_eq!(RunRef::parse("abc/2").unwrap(), RunRef::Run(run("abc", 2)));
        assert_eq!(RunRef::parse("abc").unwrap(), RunRef::Latest(TaskId::parse("abc").unwrap()));
        assert!(RunRef::parse("abc/x").is_err());
        assert!(RunRef::parse("abc/0").is_err());
        assert!(RunRef::parse("../abc/1").is_err());
    }
}
