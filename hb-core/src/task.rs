//! Task files: `.hyperbranch/tasks/task-<id>.md`, markdown with YAML front
//! matter. hb reads them and never writes them.

use crate::error::{Error, Result};
use crate::repo::Repo;
use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;

const MAX_ID_LENGTH: usize = 100;

/// A validated task id: safe as a file name part and as a git ref component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(String);

impl TaskId {
    /// Checks that `id` cannot escape the tasks folder and can name a branch.
    ///
    /// Allowed: ASCII letters, digits, `-`, `_` and `.`, starting with a
    /// letter or digit, without `..`, and not ending in `.` or `.lock`.
    pub fn parse(id: &str) -> Result<TaskId> {
        let help = "a task id uses letters, digits, `-`, `_` and `.`, starts with a letter or digit, \
                    and is what follows `task-` in `.hyperbranch/tasks/task-<id>.md`";
        let invalid =
            |reason: &str| Error::usage(format!("invalid task id `{}`: {reason}", id.escape_debug())).help(help);

        if id.is_empty() {
            return Err(invalid("it is empty"));
        }
        if id.len() > MAX_ID_LENGTH {
            return Err(invalid(&format!("it is longer than {MAX_ID_LENGTH} characters")));
        }
        if let Some(bad) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c))) {
            return Err(invalid(&format!("`{}` is not allowed", bad.escape_debug())));
        }
        if !id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(invalid("it must start with a letter or digit"));
        }
        if id.contains("..") || id.ends_with('.') || id.ends_with(".lock") {
            return Err(invalid("git cannot use it in a branch name"));
        }

        Ok(TaskId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The fields of a task's front matter that runs use.
#[derive(Debug, Default, Deserialize)]
struct FrontMatter {
    #[serde(default)]
    parent: Option<serde_norway::Value>,
}

/// A task file that exists in the repository.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: TaskId,
    pub path: PathBuf,
    pub title: Option<String>,
    /// The parent task, whose run branch becomes the base of this task's runs.
    pub parent: Option<TaskId>,
    pub text: String,
}

impl Task {
    /// Reads `.hyperbranch/tasks/task-<id>.md`, suggesting close ids when it
    /// does not exist.
    pub fn find(repo: &Repo, id: &TaskId) -> Result<Task> {
        let path = repo.tasks_dir().join(format!("task-{id}.md"));
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(unknown_task(repo, id));
            }
            Err(error) => return Err(Error::io("read", &path, error)),
        };

        let (front, body) = split_front_matter(&text);
        let front: FrontMatter = match front {
            Some(yaml) if !yaml.trim().is_empty() => serde_norway::from_str(yaml).map_err(|error| {
                Error::usage(format!("invalid front matter in `{}`: {error}", path.display()))
                    .help("the front matter is YAML between two `---` lines at the top of the file")
            })?,
            _ => FrontMatter::default(),
        };
        let parent = parent_id(&front, &path)?;
        let title = body.lines().find_map(|line| line.strip_prefix("# ")).map(|title| title.trim().to_string());

        Ok(Task { id: id.clone(), path, title, parent, text })
    }
}

fn parent_id(front: &FrontMatter, path: &std::path::Path) -> Result<Option<TaskId>> {
    let value = match &front.parent {
        None | Some(serde_norway::Value::Null) => return Ok(None),
        Some(serde_norway::Value::String(text)) if text.trim().is_empty() => return Ok(None),
        Some(serde_norway::Value::String(text)) => text.trim().to_string(),
        Some(serde_norway::Value::Number(number)) => number.to_string(),
        Some(_) => return Err(Error::usage(format!("invalid `parent` in `{}`: expected a task id", path.display()))),
    };
    let value = value.strip_prefix("task-").unwrap_or(&value).to_string();
    TaskId::parse(&value).map(Some)
}

/// Splits `---\n<yaml>\n---\n<body>` into its parts; a file without front
/// matter is all body.
fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else {
        return (None, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return (Some(&rest[..offset]), &rest[offset + line.len()..]);
        }
        offset += line.len();
    }
    (None, text)
}

/// Lists the ids of all task files, sorted.
pub fn list_task_ids(repo: &Repo) -> Vec<String> {
    read_task_ids(&repo.tasks_dir())
}

/// Lists the ids of the `task-<id>.md` files in `dir` that are valid task
/// ids, sorted; an unreadable directory has none.
pub fn read_task_ids(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let id = name.strip_prefix("task-")?.strip_suffix(".md")?;
            TaskId::parse(id).ok().map(|id| id.0)
        })
        .collect();
    ids.sort();
    ids
}

fn unknown_task(repo: &Repo, id: &TaskId) -> Error {
    let ids = list_task_ids(repo);
    let error = Error::usage(format!("unknown task `{id}`: no `.hyperbranch/tasks/task-{id}.md`"));
    let close = closest(id.as_str(), &ids);
    match close.as_slice() {
        [] if ids.is_empty() => error.help("create the task file `.hyperbranch/tasks/task-<id>.md` first"),
        [] => error.help("see the tasks with `ls .hyperbranch/tasks`"),
        [one] => error.help(format!("a task with a similar id exists: `{one}`")),
        many => error.help(format!("tasks with similar ids exist: {}", quote_list(many))),
    }
}

/// Returns up to three candidates within a small edit distance of `typed`,
/// nearest first. Case is ignored in the distance, so an id typed in the
/// wrong case is found, and the candidate is returned as it is spelled.
pub fn closest(typed: &str, candidates: &[String]) -> Vec<String> {
    let typed_lower = typed.to_lowercase();
    let mut scored: Vec<(usize, &String)> = candidates
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(&typed_lower, &candidate.to_lowercase()), candidate))
        .filter(|(distance, candidate)| *distance <= 3.max(typed.len() / 3) && *distance < candidate.len())
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, candidate)| candidate.clone()).collect()
}

fn quote_list(items: &[String]) -> String {
    items.iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_id_accepts_usual_ids() {
        for id in ["69z-09g-ekx", "a", "Fix.Login_2", "7"] {
            assert!(TaskId::parse(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn task_id_rejects_unsafe_ids() {
        for id in ["", "../x", "a/b", "-a", ".a", "a..b", "a.", "a.lock", "a b", "a\nb", "é", "a:b", "a~1"] {
            assert!(TaskId::parse(id).is_err(), "{id:?}");
        }
    }

    #[test]
    fn front_matter_splits_from_body() {
        let (front, body) = split_front_matter("---\nid: x\nparent: y\n---\n# Title\nbody\n");
        assert_eq!(front, Some("id: x\nparent: y\n"));
        assert_eq!(body, "# Title\nbody\n");
    }

    #[test]
    fn file_without_front_matter_is_body() {
        let (front, body) = split_front_matter("# Title\n");
        assert_eq!(front, None);
        assert_eq!(body, "# Title\n");
    }

    #[test]
    fn task_ids_skip_invalid_names() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["task-b.md", "task-a.b_C-1.md", "task-.md", "task-x y.md", "notes.md", "task-c.txt"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(read_task_ids(dir.path()), ["a.b_C-1", "b"]);
    }

    #[test]
    fn closest_suggests_typos_only() {
        let ids = vec!["69z-09g-ekx".to_string(), "abc".to_string()];
        assert_eq!(closest("69z-09g-ekz", &ids), vec!["69z-09g-ekx".to_string()]);
        assert!(closest("zzzzzzzzzzzzzzzz", &ids).is_empty());
    }

    #[test]
    fn closest_ignores_case() {
        let ids = vec!["Fix.UI-1".to_string(), "FIX".to_string()];
        assert_eq!(closest("fix.ui-1", &ids), vec!["Fix.UI-1".to_string()]);
        assert_eq!(closest("FIX.ui-1", &ids), vec!["Fix.UI-1".to_string()]);
        assert_eq!(closest("fix", &ids), vec!["FIX".to_string()]);
    }
}
