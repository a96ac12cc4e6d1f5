//! The run's `docker-compose.yml`, built from typed structs and serialized
//! with a YAML library so that no value can change the file's structure.
//!
//! Compose interpolates `$` anywhere in the file with variables from the
//! host, so every string is written with `$` doubled: paths, labels and
//! commands reach Docker exactly as given.

use crate::mount::Mount;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The one service of every run's project.
pub const SERVICE: &str = "task";

/// The mount point of the workspace, and the container's working directory.
pub const WORKSPACE_TARGET: &str = "/app";

/// The mount point of the task file, read-only.
pub const TASK_FILE_TARGET: &str = "/hb/task.md";

/// The source of the container's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    Image(String),
    Build { dockerfile: PathBuf },
}

/// Everything the Compose file of one run contains.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub container_name: String,
    pub source: ImageSource,
    pub workspace: PathBuf,
    pub task_file: PathBuf,
    pub mounts: Vec<Mount>,
    pub ports: Vec<String>,
    pub command: Option<Vec<String>>,
    pub user: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct ComposeFile {
    services: BTreeMap<&'static str, Service>,
}

#[derive(Serialize)]
struct Service {
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<Build>,
    container_name: String,
    working_dir: &'static str,
    user: String,
    env_file: Vec<&'static str>,
    volumes: Vec<Volume>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<String>,
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<Vec<String>>,
}

#[derive(Serialize)]
struct Build {
    context: String,
    dockerfile: String,
}

#[derive(Serialize)]
struct Volume {
    #[serde(rename = "type")]
    kind: &'static str,
    source: String,
    target: String,
    read_only: bool,
}

/// Renders the Compose file.
pub fn render(spec: &ServiceSpec) -> String {
    let (image, build) = match &spec.source {
        ImageSource::Image(image) => (Some(escape(image)), None),
        ImageSource::Build { dockerfile } => {
            let context = dockerfile.parent().unwrap_or(Path::new("/"));
            let name = dockerfile.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            (None, Some(Build { context: escape_path(context), dockerfile: escape(&name) }))
        }
    };

    let mut volumes =
        vec![bind(&spec.workspace, WORKSPACE_TARGET, false), bind(&spec.task_file, TASK_FILE_TARGET, true)];
    volumes.extend(spec.mounts.iter().map(|m| bind(&m.source, &m.target, m.read_only)));

    let service = Service {
        image,
        build,
        container_name: escape(&spec.container_name),
        working_dir: WORKSPACE_TARGET,
        user: escape(&spec.user),
        env_file: vec![".env"],
        volumes,
        ports: spec.ports.iter().map(|p| escape(p)).collect(),
        labels: spec.labels.iter().map(|(k, v)| (escape(k), escape(v))).collect(),
        command: spec.command.as_ref().map(|args| args.iter().map(|a| escape(a)).collect()),
    };
    let file = ComposeFile { services: BTreeMap::from([(SERVICE, service)]) };
    serde_norway::to_string(&file).expect("a Compose file of strings and maps always serializes")
}

fn bind(source: &Path, target: &str, read_only: bool) -> Volume {
    Volume { kind: "bind", source: escape_path(source), target: escape(target), read_only }
}

/// Doubles `$` so that Compose's interpolation leaves the string as it is.
fn escape(text: &str) -> String {
    text.replace('$', "$$")
}

fn escape_path(path: &Path) -> String {
    escape(&path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ServiceSpec {
        ServiceSpec {
            container_name: "hb-abc-1".into(),
            source: ImageSource::Image("busybox:latest".into()),
            workspace: "/repo/.hyperbranch/.runs/task-abc-1/workspace".into(),
            task_file: "/repo/.hyperbranch/.runs/task-abc-1/task.md".into(),
            mounts: vec![Mount { source: "/data $HOME".into(), target: "/data".into(), read_only: true }],
            ports: vec![],
            command: Some(vec!["sh".into(), "-c".into(), "echo $HOME".into()]),
            user: "1000:1000".into(),
            labels: BTreeMap::from([("org.hyperbranch.run".to_string(), "abc/1".to_string())]),
        }
    }

    #[test]
    fn renders_image_service() {
        let expected = r#"services:
  task:
    image: busybox:latest
    container_name: hb-abc-1
    working_dir: /app
    user: 1000:1000
    env_file:
    - .env
    volumes:
    - type: bind
      source: /repo/.hyperbranch/.runs/task-abc-1/workspace
      target: /app
      read_only: false
    - type: bind
      source: /repo/.hyperbranch/.runs/task-abc-1/task.md
      target: /hb/task.md
      read_only: true
    - type: bind
      source: /data $$HOME
      target: /data
      read_only: true
    labels:
      org.hyperbranch.run: abc/1
    command:
    - sh
    - -c
    - echo $$HOME
"#;
        assert_eq!(render(&spec()), expected);
    }

    #[test]
    fn build_replaces_image() {
        let mut spec = spec();
        spec.source = ImageSource::Build { dockerfile: "/repo/docker/Dockerfile.agent".into() };
        let text = render(&spec);
        assert!(text.contains("  build:\n      context: /repo/docker\n      dockerfile: Dockerfile.agent\n"), "{text}");
        assert!(!text.contains("image:"), "{text}");
    }

    #[test]
    fn yaml_words_stay_strings() {
        let mut spec = spec();
        spec.labels.insert("k".into(), "yes".into());
        spec.command = Some(vec!["0755".into(), "~".into(), "null".into()]);
        let text = render(&spec);
        let parsed: serde_norway::Value = serde_norway::from_str(&text).unwrap();
        let command = &parsed["services"]["task"]["command"];
        assert_eq!(command[0].as_str(), Some("0755"));
        assert_eq!(command[1].as_str(), Some("~"));
        assert_eq!(command[2].as_str(), Some("null"));
        assert_eq!(parsed["services"]["task"]["labels"]["k"].as_str(), Some("yes"));
    }
}
