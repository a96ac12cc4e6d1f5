//! Run defaults from `.hyperbranch/config.toml` and
//! `.hyperbranch.config.toml` at the repository root (the latter wins, key
//! by key). Command-line flags win over both.

use crate::error::{Error, Result};
use crate::repo::Repo;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The image runs use when neither a flag nor configuration names one.
pub const DEFAULT_IMAGE: &str = "node:22-bookworm";

/// The agent command runs use when neither a flag nor configuration names
/// one: Claude Code, non-interactive, on the task file mounted at
/// `/hb/task.md`.
pub const DEFAULT_EXEC: &[&str] = &[
    "sh",
    "-c",
    "exec npx --yes @anthropic-ai/claude-code --dangerously-skip-permissions --print \"$(cat /hb/task.md)\"",
];

/// Host variables forwarded when configuration names none.
pub const DEFAULT_ENV_VARS: &[&str] = &["ANTHROPIC_API_KEY"];

/// The agent command: a shell string (run with `sh -c`) or an argument list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Exec {
    Shell(String),
    Args(Vec<String>),
}

impl Exec {
    /// Returns the command's arguments; an empty command has none.
    pub fn to_args(&self) -> Vec<String> {
        match self {
            Exec::Shell(line) if line.trim().is_empty() => Vec::new(),
            Exec::Shell(line) => vec!["sh".into(), "-c".into(), line.clone()],
            Exec::Args(args) => args.clone(),
        }
    }
}

/// One configuration file; every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
struct ConfigFile {
    image: Option<String>,
    dockerfile: Option<PathBuf>,
    exec: Option<Exec>,
    env_vars: Option<Vec<String>>,
    env: Option<BTreeMap<String, String>>,
    mounts: Option<Vec<String>>,
    ports: Option<Vec<String>>,
}

/// The merged configuration, with relative paths resolved against the
/// repository root.
#[derive(Debug, Default, Clone)]
pub struct Config {
    pub image: Option<String>,
    pub dockerfile: Option<PathBuf>,
    pub exec: Option<Exec>,
    pub env_vars: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub mounts: Vec<String>,
    pub ports: Vec<String>,
    /// Top-level keys hb does not know, such as a misspelt `imgae`.
    pub unknown_keys: Vec<String>,
}

/// The top-level keys of a configuration file.
const KEYS: &[&str] = &["image", "dockerfile", "exec", "env_vars", "env", "mounts", "ports"];

impl Config {
    /// Reads both configuration files; missing files are empty.
    pub fn load(repo: &Repo) -> Result<Config> {
        let (inner, mut unknown_keys) = read_file(&repo.hb_dir().join("config.toml"))?;
        let (outer, unknown_outer) = read_file(&repo.root().join(".hyperbranch.config.toml"))?;
        unknown_keys.extend(unknown_outer);
        let merged = merge(inner, outer);

        Ok(Config {
            image: merged.image,
            dockerfile: merged.dockerfile.map(|path| repo.root().join(path)),
            exec: merged.exec,
            env_vars: merged.env_vars,
            env: merged.env.unwrap_or_default(),
            mounts: merged.mounts.unwrap_or_default(),
            ports: merged.ports.unwrap_or_default(),
            unknown_keys,
        })
    }
}

/// Reads one file and returns it with the top-level keys it has that hb
/// does not know, each named with the file.
fn read_file(path: &Path) -> Result<(ConfigFile, Vec<String>)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok((ConfigFile::default(), Vec::new())),
        Err(error) => return Err(Error::io("read", path, error)),
    };

    let file: ConfigFile = toml::from_str(&text).map_err(|error| {
        let line = error.span().map(|span| text[..span.start].matches('\n').count() + 1);
        let place = line.map(|line| format!(" line {line}")).unwrap_or_default();
        Error::usage(format!("invalid configuration in `{}`{place}: {}", path.display(), error.message().trim()))
            .help("see the README's configuration section for the keys and their types")
    })?;

    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let unknown = toml::from_str::<toml::Table>(&text)
        .map(|table| {
            table.keys().filter(|key| !KEYS.contains(&key.as_str())).map(|key| format!("{key}` in `{name}")).collect()
        })
        .unwrap_or_default();
    Ok((file, unknown))
}

/// Merges key by key; `outer` wins, and `env` tables merge entry by entry.
fn merge(inner: ConfigFile, outer: ConfigFile) -> ConfigFile {
    let env = match (inner.env, outer.env) {
        (Some(mut base), Some(over)) => {
            base.extend(over);
            Some(base)
        }
        (base, over) => over.or(base),
    };

    ConfigFile {
        image: outer.image.or(inner.image),
        dockerfile: outer.dockerfile.or(inner.dockerfile),
        exec: outer.exec.or(inner.exec),
        env_vars: outer.env_vars.or(inner.env_vars),
        env,
        mounts: outer.mounts.or(inner.mounts),
        ports: outer.ports.or(inner.ports),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ConfigFile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn outer_file_wins_key_by_key() {
        let inner = parse("image = \"a\"\nexec = \"run a\"\n[env]\nX = \"1\"\nY = \"2\"\n");
        let outer = parse("image = \"b\"\n[env]\nY = \"3\"\n");
        let merged = merge(inner, outer);
        assert_eq!(merged.image.as_deref(), Some("b"));
        assert_eq!(merged.exec, Some(Exec::Shell("run a".into())));
        let env = merged.env.unwrap();
        assert_eq!(env["X"], "1");
        assert_eq!(env["Y"], "3");
    }

    #[test]
    fn type_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "image = \"a\"\n[env]\nX = 5\n").unwrap();
        let error = read_file(&path).unwrap_err();
        assert!(
            error.message.contains("config.toml` line 3: invalid type: integer `5`, expected a string"),
            "{}",
            error.message
        );
    }

    #[test]
    fn unknown_keys_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "imgae = \"a\"\nimage = \"b\"\n").unwrap();
        let (file, unknown) = read_file(&path).unwrap();
        assert_eq!(file.image.as_deref(), Some("b"));
        assert_eq!(unknown, ["imgae` in `config.toml"]);
    }

    #[test]
    fn empty_exec_has_no_args() {
        assert!(parse("exec = \"\"").exec.unwrap().to_args().is_empty());
        assert!(parse("exec = []").exec.unwrap().to_args().is_empty());
    }

    #[test]
    fn exec_accepts_string_or_list() {
        assert_eq!(parse("exec = \"a b\"").exec.unwrap().to_args(), ["sh", "-c", "a b"]);
        assert_eq!(parse("exec = [\"a\", \"b c\"]").exec.unwrap().to_args(), ["a", "b c"]);
    }
}
