//! The Docker and Compose calls hb makes, through the `docker` CLI as the
//! user has it configured, so Docker contexts and `DOCKER_HOST` work.

use crate::error::{Error, Result};
use crate::process;
use serde::Deserialize;
use std::ffi::OsString;
use std::path::Path;

/// Compose settings from the host environment that would point hb's calls
/// at another file, project or set of services. hb removes them from the
/// environment of every Compose call.
const STEERING_VARIABLES: &[&str] = &[
    "COMPOSE_FILE",
    "COMPOSE_PROJECT_NAME",
    "COMPOSE_PROFILES",
    "COMPOSE_ENV_FILES",
    "COMPOSE_PATH_SEPARATOR",
    "COMPOSE_REMOVE_ORPHANS",
    "COMPOSE_IGNORE_ORPHANS",
];

/// Checks that the Docker engine responds.
pub fn check_engine() -> Result<()> {
    let engine = process::capture("docker", ["version", "--format", "{{.Server.Version}}"], None)?;
    if !engine.success() {
        return Err(unreachable_engine(&engine.reason()));
    }
    Ok(())
}

/// Checks that Compose v2 is installed as the `docker compose` plugin.
pub fn check_compose() -> Result<()> {
    let compose = process::capture("docker", ["compose", "version", "--short"], None)?;
    let version = compose.stdout.trim().trim_start_matches('v');
    if compose.success() && version.starts_with(|c: char| c.is_ascii_digit() && c >= '2') {
        return Ok(());
    }
    Err(missing_compose_v2())
}

fn missing_compose_v2() -> Error {
    let standalone = process::capture("docker-compose", ["version", "--short"], None)
        .ok()
        .filter(|output| output.success())
        .map(|output| output.stdout.trim().trim_start_matches('v').to_string());
    compose_error(standalone.as_deref())
}

/// Explains what is wrong given the version of a standalone
/// `docker-compose`, if one responded.
fn compose_error(standalone: Option<&str>) -> Error {
    match standalone {
        Some(version) if version.starts_with('1') => Error::environment(format!(
            "only Docker Compose v1 (`docker-compose` {version}) is installed, and hb needs Compose v2"
        ))
        .help("install the Compose v2 plugin so that `docker compose version` works (Debian and Ubuntu: package `docker-compose-v2` or `docker-compose-plugin`)"),
        Some(version) => Error::environment(format!(
            "Docker Compose {version} is installed only as the standalone `docker-compose`, and hb calls `docker compose`"
        ))
        .help("link it as a Docker CLI plugin: `mkdir -p ~/.docker/cli-plugins && ln -s \"$(command -v docker-compose)\" ~/.docker/cli-plugins/docker-compose`"),
        None => Error::environment("Docker Compose v2 is not installed: `docker compose version` failed")
            .help("install the Compose v2 plugin (Debian and Ubuntu: package `docker-compose-v2` or `docker-compose-plugin`)"),
    }
}

/// Returns the run numbers of containers that hb made for `task` in any
/// repository. Container names are global, so a new run skips them.
pub fn taken_run_numbers(task: &str) -> Result<Vec<u32>> {
    let filter = format!("label={}={task}", crate::start::labels::TASK);
    let format = format!("{{{{.Label \"{}\"}}}}", crate::start::labels::N);
    let output =
        process::capture("docker", ["ps", "--all", "--filter", filter.as_str(), "--format", format.as_str()], None)?;
    if !output.success() {
        return Err(unreachable_engine(&output.reason()));
    }
    Ok(output.stdout.lines().filter_map(|line| line.trim().parse().ok()).collect())
}

/// Returns the error for a Docker engine that does not respond.
pub fn unreachable_engine(reason: &str) -> Error {
    Error::environment(format!("the Docker engine is not reachable: {reason}"))
        .help("start Docker (for example `sudo systemctl start docker`), or point `docker context use` or DOCKER_HOST at a running engine")
}

/// Builds `docker compose --env-file /dev/null -f <file> -p <project> <args…>`.
///
/// `--env-file /dev/null` stops Compose from reading the run's `.env` as its
/// own settings file: that file carries the container's environment, and a
/// user value such as `COMPOSE_PROJECT_NAME` in it must not steer Compose.
pub fn compose<I, S>(compose_file: &Path, project: &str, args: I) -> duct::Expression
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let mut argv: Vec<OsString> = vec![
        "compose".into(),
        "--env-file".into(),
        "/dev/null".into(),
        "-f".into(),
        compose_file.into(),
        "-p".into(),
        project.into(),
    ];
    argv.extend(args.into_iter().map(Into::into));

    let mut expression = duct::cmd("docker", argv).stdin_null();
    for variable in STEERING_VARIABLES {
        expression = expression.env_remove(variable);
    }
    expression
}

/// The part of `docker inspect` output hb reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    pub id: String,
    pub name: String,
    pub state: ContainerState,
    pub config: ContainerConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    pub status: String,
    pub exit_code: i64,
    pub started_at: String,
    pub finished_at: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    pub image: String,
    #[serde(default)]
    pub labels: Option<std::collections::BTreeMap<String, String>>,
}

/// Inspects all `names` (ids or names) in one `docker inspect` call.
/// Containers that do not exist are left out of the result.
pub fn inspect(names: &[String]) -> Result<Vec<Container>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }

    let mut args = vec!["container".to_string(), "inspect".to_string()];
    args.extend(names.iter().cloned());
    let output = process::capture("docker", args, None)?;

    // docker exits 1 when some names do not exist but still prints the rest.
    let containers: Vec<Container> = match serde_json::from_str(output.stdout.trim()) {
        Ok(containers) => containers,
        Err(_) if output.stdout.trim().is_empty() || output.stdout.trim() == "[]" => Vec::new(),
        Err(error) => return Err(Error::environment(format!("failed to read `docker inspect` output: {error}"))),
    };
    if containers.is_empty() && !output.success() && !output.stderr.contains("No such") {
        return Err(unreachable_engine(&output.reason()));
    }
    Ok(containers)
}

/// Reads a Docker timestamp, treating Docker's zero time as absent.
pub fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if text.is_empty() || text.starts_with("0001-01-01") {
        return None;
    }
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|time| time.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_v1_gets_its_own_message() {
        let error = compose_error(Some("1.29.2"));
        assert_eq!(
            error.message,
            "only Docker Compose v1 (`docker-compose` 1.29.2) is installed, and hb needs Compose v2"
        );
        assert!(error.help.unwrap().contains("docker compose version"));
    }

    #[test]
    fn zero_time_is_absent() {
        assert_eq!(parse_time("0001-01-01T00:00:00Z"), None);
        assert!(parse_time("2026-12-04T19:34:00.279415857Z").is_some());
    }
}
