//! Deciding everything about a new run before anything is created: task,
//! base commit, image, command, environment, mounts and ports. Input that
//! Docker or Compose would reject is rejected here, so a bad value never
//! leaves a branch or a failed run behind.

use crate::compose::{self, ImageSource};
use crate::config::{self, Config};
use crate::envfile;
use crate::error::{Error, Result};
use crate::mount::Mount;
use crate::repo::Repo;
use crate::start::{Progress, StartOptions};
use crate::task::Task;
use std::collections::BTreeMap;

/// Variables hb sets in every container; user values may not replace them.
pub const RESERVED_ENV: &[&str] = &["HB_RUN", "HB_TASK", "HB_TASK_FILE"];

/// Everything decided before anything is created.
pub struct Plan {
    pub repo: Repo,
    pub task: Task,
    pub source: ImageSource,
    /// `None` keeps the image's own command.
    pub command: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub mounts: Vec<Mount>,
    pub ports: Vec<String>,
    pub base_commit: String,
    pub base_branch: Option<String>,
}

/// Checks the request and decides the run, creating nothing.
pub fn plan(repo: Repo, task: Task, options: &StartOptions, progress: &dyn Progress) -> Result<Plan> {
    let config = Config::load(&repo)?;
    for key in &config.unknown_keys {
        progress.note(&format!("unknown configuration key `{key}` is ignored"));
    }

    let source = image_source(options, &config, progress)?;
    let env = environment(options, &config, progress)?;
    let mounts = mounts(&repo, options, &config)?;
    for port in &config.ports {
        check_port(port)?;
    }
    let command = command(options, &config);

    let (base_commit, base_branch) = base(&repo, &task, progress)?;
    if repo.has_uncommitted_changes()? {
        progress.note(&format!(
            "the working tree has uncommitted changes; the run starts from commit {} and does not see them",
            &base_commit[..base_commit.len().min(12)]
        ));
    }

    Ok(Plan { repo, task, source, command, env, mounts, ports: config.ports.clone(), base_commit, base_branch })
}

/// Returns the container's command: the command line's, else the
/// configured `exec`, else hb's built-in agent. An empty `exec` keeps the image's own
/// command.
fn command(options: &StartOptions, config: &Config) -> Option<Vec<String>> {
    if !options.command.is_empty() {
        return Some(options.command.clone());
    }
    match &config.exec {
        Some(exec) => Some(exec.to_args()).filter(|args| !args.is_empty()),
        None => Some(config::DEFAULT_EXEC.iter().map(|arg| arg.to_string()).collect()),
    }
}

/// Tells whether the run uses hb's built-in agent command, and so needs
/// the variables that command reads.
fn uses_default_agent(options: &StartOptions, config: &Config) -> bool {
    options.command.is_empty() && config.exec.is_none()
}

/// Picks the image: flags win over configuration, and a Dockerfile wins over
/// an image given at the same level.
fn image_source(options: &StartOptions, config: &Config, progress: &dyn Progress) -> Result<ImageSource> {
    if let (Some(image), Some(dockerfile)) = (&options.image, &options.dockerfile) {
        progress.note(&format!(
            "both --image and --dockerfile are given; building `{}` and ignoring the image `{image}`",
            dockerfile.display()
        ));
    }

    let dockerfile = options.dockerfile.as_ref().map(|path| options.cwd.join(path));
    let chosen = match (dockerfile, &options.image) {
        (Some(path), _) => Some(ImageSource::Build { dockerfile: path }),
        (None, Some(image)) => Some(ImageSource::Image(image.clone())),
        (None, None) => None,
    };
    let chosen = chosen.or_else(|| match (&config.dockerfile, &config.image) {
        (Some(path), _) => Some(ImageSource::Build { dockerfile: path.clone() }),
        (None, Some(image)) => Some(ImageSource::Image(image.clone())),
        (None, None) => None,
    });
    let source = chosen.unwrap_or_else(|| ImageSource::Image(config::DEFAULT_IMAGE.to_string()));

    match source {
        ImageSource::Build { dockerfile } if !dockerfile.is_file() => {
            Err(Error::usage(format!("Dockerfile `{}` not found", dockerfile.display())).help(
                "pass the path of an existing Dockerfile to --dockerfile, or fix `dockerfile` in the configuration",
            ))
        }
        ImageSource::Build { dockerfile } => {
            let path = dockerfile.canonicalize().map_err(|e| Error::io("resolve", &dockerfile, e))?;
            Ok(ImageSource::Build { dockerfile: path })
        }
        ImageSource::Image(image) => {
            check_image(&image)?;
            Ok(ImageSource::Image(image))
        }
    }
}

/// Checks the parts of an image reference that Docker rejects after the
/// run exists: blanks, and upper case in the repository path.
pub fn check_image(image: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Error::usage(format!("invalid image `{}`: {reason}", image.escape_debug()))
            .help("name an image such as `debian:12` or `registry.example/team/agent:1.2`")
    };
    if image.trim().is_empty() {
        return Err(invalid("it is empty"));
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains blanks"));
    }

    let name = image.split('@').next().unwrap_or(image);
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let repository = match name[last_slash..].find(':') {
        Some(colon) => &name[..last_slash + colon],
        None => name,
    };
    // A first component with `.` or `:`, or `localhost`, is a registry host,
    // which may have capitals; the path after it may not.
    let mut components: Vec<&str> = repository.split('/').collect();
    if components.len() > 1 && (components[0].contains(['.', ':']) || components[0] == "localhost") {
        components.remove(0);
    }
    if components.iter().any(|component| component.chars().any(|c| c.is_ascii_uppercase())) {
        return Err(invalid("repository names must be lower case"));
    }
    if components.iter().any(|component| component.is_empty()) {
        return Err(invalid("it has an empty path component"));
    }
    Ok(())
}

/// Checks a published port in Compose's short form,
/// `[[IP:]HOST:]CONTAINER[/PROTOCOL]`, where ports may be ranges.
pub fn check_port(spec: &str) -> Result<()> {
    let invalid = || {
        Error::usage(format!("invalid port `{}`", spec.escape_debug()))
            .help("write ports as `CONTAINER`, `HOST:CONTAINER` or `IP:HOST:CONTAINER`, optionally with `/tcp` or `/udp`, for example `8080:80`")
    };

    let (ports, protocol) = match spec.rsplit_once('/') {
        Some((ports, protocol)) => (ports, Some(protocol)),
        None => (spec, None),
    };
    if protocol.is_some_and(|protocol| !matches!(protocol, "tcp" | "udp" | "sctp")) {
        return Err(invalid());
    }

    let (rest, container) = match ports.rsplit_once(':') {
        Some((rest, container)) => (Some(rest), container),
        None => (None, ports),
    };
    if !is_port_range(container) {
        return Err(invalid());
    }
    let host = rest.map(|rest| rest.rsplit_once(':').map_or(rest, |(_, host)| host));
    match host {
        Some(host) if !host.is_empty() && !is_port_range(host) => Err(invalid()),
        _ => Ok(()),
    }
}

fn is_port_range(text: &str) -> bool {
    let is_port =
        |part: &str| part.parse::<u32>().is_ok_and(|port| (1..=65535).contains(&port)) && !part.starts_with('+');
    match text.split_once('-') {
        Some((low, high)) => is_port(low) && is_port(high),
        None => is_port(text),
    }
}

/// Parses configured mounts (relative to the repository) and flag mounts
/// (relative to the current directory), rejecting any that would hide the
/// workspace or the task file.
fn mounts(repo: &Repo, options: &StartOptions, config: &Config) -> Result<Vec<Mount>> {
    let configured = config.mounts.iter().map(|spec| (spec, repo.root()));
    let flagged = options.mounts.iter().map(|spec| (spec, options.cwd.as_path()));

    let mut mounts = Vec::new();
    for (spec, base) in configured.chain(flagged) {
        let mount = Mount::parse(spec, base)?;
        if let Some(hidden) = hidden_by(&mount.target) {
            return Err(Error::usage(format!(
                "invalid mount `{}`: it would hide `{hidden}`, which hb mounts itself",
                spec.escape_debug()
            ))
            .help(format!(
                "mount somewhere else; `{}` is the workspace and `{}` the task file",
                compose::WORKSPACE_TARGET,
                compose::TASK_FILE_TARGET
            )));
        }
        mounts.push(mount);
    }
    Ok(mounts)
}

/// Returns what hb mounts itself that a mount on `target` would hide or
/// write into: the workspace or task file when `target` is one of them or a
/// folder above them. A folder above the task file would make Docker create
/// `task.md` in the user's host folder.
fn hidden_by(target: &str) -> Option<&'static str> {
    let target = target.trim_end_matches('/');
    [compose::WORKSPACE_TARGET, compose::TASK_FILE_TARGET].into_iter().find(|own| {
        let above = own.strip_prefix(target).is_some_and(|rest| rest.starts_with('/'));
        target == *own || above
    })
}

/// Collects the container's environment: forwarded host variables, then
/// configured literals and `--env` values, later ones winning. Values are
/// checked here so that nothing is created for a value that could not
/// arrive intact.
fn environment(options: &StartOptions, config: &Config, progress: &dyn Progress) -> Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();

    let forwarded: Vec<String> = match &config.env_vars {
        Some(names) => names.clone(),
        None if uses_default_agent(options, config) => {
            config::DEFAULT_ENV_VARS.iter().map(|name| name.to_string()).collect()
        }
        None => Vec::new(),
    };
    for name in forwarded {
        envfile::validate_key(&name)?;
        match options.host_env.get(&name) {
            Some(value) => {
                env.insert(name, value.clone());
            }
            None => progress.note(&format!("`{name}` is not set in this environment, so the run goes without it")),
        }
    }

    env.extend(config.env.clone());

    for entry in &options.env {
        let (key, value) = match entry.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => {
                let value = options.host_env.get(entry).cloned().ok_or_else(|| unset_forwarded(entry))?;
                (entry.clone(), value)
            }
        };
        envfile::validate_key(&key)?;
        env.insert(key, value);
    }

    for (key, value) in &env {
        check_not_reserved(key)?;
        envfile::validate_value(key, value)?;
    }
    Ok(env)
}

/// Rejects a variable that hb sets itself in every run.
pub fn check_not_reserved(key: &str) -> Result<()> {
    if !RESERVED_ENV.contains(&key) {
        return Ok(());
    }
    Err(Error::usage(format!("`{key}` is set by hb and cannot be given a value"))
        .help(format!("hb sets {} in every run; use another name", RESERVED_ENV.join(", "))))
}

/// Returns the error for forwarding a variable that the caller's
/// environment does not have.
pub fn unset_forwarded(key: &str) -> Error {
    Error::usage(format!("`--env {key}` forwards `{key}`, which is not set in this environment"))
        .help(format!("set `{key}` first, or give a value with `--env {key}=VALUE`"))
}

/// Returns the commit and branch a task's runs start from: the latest run branch of
/// the parent task, else the parent's task branch `task/<parent>`, else HEAD.
fn base(repo: &Repo, task: &Task, progress: &dyn Progress) -> Result<(String, Option<String>)> {
    if let Some(parent) = &task.parent {
        if parent == &task.id {
            return Err(Error::usage(format!("task `{parent}` names itself as its parent"))
                .help(format!("fix or remove `parent:` in `{}`", task.path.display())));
        }

        let runs = repo.branches_under(&format!("task/{parent}/"))?;
        let latest = runs
            .iter()
            .filter_map(|branch| Some((branch.rsplit('/').next()?.parse::<u32>().ok()?, branch)))
            .max()
            .map(|(_, branch)| branch.clone());
        for branch in latest.into_iter().chain([format!("task/{parent}")]) {
            if let Some(commit) = repo.resolve(&format!("refs/heads/{branch}"))? {
                return Ok((commit, Some(branch)));
            }
        }

        if repo.tasks_dir().join(format!("task-{parent}.md")).exists() {
            progress.note(&format!("the parent task `{parent}` has no run branch yet, so the run starts from HEAD"));
        } else {
            progress.note(&format!("the parent task `{parent}` does not exist, so the run starts from HEAD"));
        }
    }

    match repo.resolve("HEAD")? {
        Some(commit) => Ok((commit, None)),
        None => Err(Error::usage("the repository has no commits yet, so a run has nothing to start from")
            .help("commit the task files first, for example `git add .hyperbranch && git commit -m 'Add tasks'`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_docker_accepts_pass() {
        for image in [
            "debian:12",
            "hb-test-agent:latest",
            "Registry.Example:5000/team/agent:V1",
            "localhost/a/b",
            "a@sha256:abc",
            "node",
        ] {
            assert!(check_image(image).is_ok(), "{image}");
        }
    }

    #[test]
    fn images_docker_rejects_fail() {
        for image in ["", " ", "UPPER:bad", "team/Agent", "a b", "a//b"] {
            assert!(check_image(image).is_err(), "{image:?}");
        }
    }

    #[test]
    fn mounts_over_hb_paths_are_caught() {
        for target in ["/app", "/app/", "/", "/hb", "/hb/", "/hb/task.md"] {
            assert!(hidden_by(target).is_some(), "{target}");
        }
        for target in ["/app/cache", "/data", "/hbx", "/ap", "/hb/other"] {
            assert_eq!(hidden_by(target), None, "{target}");
        }
    }

    #[test]
    fn ports_in_short_form_pass() {
        for port in ["80", "8080:80", "127.0.0.1:8080:80", "8000-8010:8000-8010", "53:53/udp", "127.0.0.1::80"] {
            assert!(check_port(port).is_ok(), "{port}");
        }
    }

    #[test]
    fn malformed_ports_fail() {
        for port in ["", "abc", "80:abc", "0", "70000", "80/xyz", "a:b:c", "80:", "+80"] {
            assert!(check_port(port).is_err(), "{port:?}");
        }
    }
}
