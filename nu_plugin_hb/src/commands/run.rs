//! `hb run`: starts a task in a new container and returns the started run.

use crate::convert::{self, error_at, error_at_head};
use crate::HbPlugin;
use hb_core::envfile;
use hb_core::mount::Mount;
use hb_core::plan;
use hb_core::repo::Repo;
use hb_core::start::{self, StartOptions, StderrProgress};
use hb_core::task::{Task, TaskId};
use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Record, SignalAction, Signature, Spanned, SyntaxShape, Type};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by Nushell's interrupt while `hb run` starts a run.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub struct Run;

impl PluginCommand for Run {
    type Plugin = HbPlugin;

    fn name(&self) -> &str {
        "hb run"
    }

    fn description(&self) -> &str {
        "Start a task in a new container, detached, and return the started run."
    }

    fn extra_description(&self) -> &str {
        "Creates the branch `task/<id>/<n>` and a workspace clone of it, renders the run's Compose file \
         and `.env`, starts the container with `docker compose run -d`, and returns once it runs. \
         Progress and build output go to stderr. The record has the fields of `hb run --json`."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .required(
                "task",
                SyntaxShape::String,
                "Task id: the part after `task-` in `.hyperbranch/tasks/task-<id>.md`.",
            )
            .named("image", SyntaxShape::String, "Image to run, instead of the configured one.", None)
            .named("dockerfile", SyntaxShape::Filepath, "Dockerfile to build the image from; wins over --image.", None)
            .named(
                "env",
                SyntaxShape::Record(Default::default()),
                "Environment variables for the container; a null value forwards the variable from this environment.",
                Some('e'),
            )
            .named(
                "mount",
                SyntaxShape::List(Box::new(SyntaxShape::String)),
                "Bind mounts as `HOST:CONTAINER[:ro]`; relative host paths start at the current directory.",
                Some('m'),
            )
            .rest("command", SyntaxShape::String, "Command to run instead of the configured agent command.")
            .input_output_type(Type::Nothing, Type::record())
            .category(super::category())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "hb run 69z-09g-ekx",
                description: "Start the configured agent on a task",
                result: None,
            },
            Example {
                example: "hb run 69z-09g-ekx --image my-agent:latest --env {MODEL: large, API_KEY: null}",
                description: "Start it in another image, with one value set and one forwarded from this environment",
                result: None,
            },
            Example {
                example: "hb run 69z-09g-ekx --mount [~/.cache/pip:/cache:ro] -- sh -c 'make test'",
                description:
                    "Run a command of your own with a read-only mount; `--` passes the flags after it to the command",
                result: None,
            },
        ]
    }

    fn run(
        &self,
        _plugin: &HbPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: PipelineData,
    ) -> Result<PipelineData, LabeledError> {
        let head = call.head;
        let task: Spanned<String> = call.req(0)?;
        let image: Option<String> = call.get_flag("image")?;
        let dockerfile: Option<String> = call.get_flag("dockerfile")?;
        let env: Option<Record> = call.get_flag("env")?;
        let mounts: Option<Vec<Spanned<String>>> = call.get_flag("mount")?;
        let command: Vec<String> = call.rest(1)?;
        let cwd = crate::engine::current_dir(engine, head)?;

        // Checks that point at one argument run first, so their errors are
        // labeled there; `start` repeats them.
        let repo = Repo::discover(&cwd).map_err(|error| error_at_head(error, head))?;
        let task_id = TaskId::parse(&task.item).map_err(|error| error_at(error, task.span, "invalid task id"))?;
        Task::find(&repo, &task_id).map_err(|error| error_at(error, task.span, "this task"))?;
        let mounts = mounts.unwrap_or_default();
        for mount in &mounts {
            Mount::parse(&mount.item, &cwd).map_err(|error| error_at(error, mount.span, "invalid mount"))?;
        }
        let env_span = call.get_flag_span("env").unwrap_or(head);
        let host_env = crate::engine::host_env(engine, head)?;
        let env = match env {
            Some(record) => env_entries(record, env_span, &host_env)?,
            None => Vec::new(),
        };

        let options = StartOptions {
            cwd,
            task: task.item,
            image,
            dockerfile: dockerfile.map(PathBuf::from),
            env,
            mounts: mounts.into_iter().map(|mount| mount.item).collect(),
            command,
            host_env,
            interrupted: Some(&INTERRUPTED),
        };

        // The plugin runs in its own process group, so Ctrl-C reaches Compose
        // only through Nushell's interrupt, which makes `start` stop it and
        // remove the half-started run.
        INTERRUPTED.store(false, Ordering::SeqCst);
        let _guard = engine
            .register_signal_handler(Box::new(|action| {
                if action == SignalAction::Interrupt {
                    INTERRUPTED.store(true, Ordering::SeqCst);
                }
            }))
            .ok();
        let started = start::start(&options, &StderrProgress).map_err(|error| error_at_head(error, head))?;
        Ok(PipelineData::value(convert::started_record(&started, head), None))
    }
}

/// Turns `--env {KEY: value}` into `KEY=VALUE` entries, and a null value
/// into `KEY`, which forwards the variable from the host environment.
fn env_entries(
    record: Record,
    span: nu_protocol::Span,
    host_env: &std::collections::HashMap<String, String>,
) -> Result<Vec<String>, LabeledError> {
    let mut entries = Vec::new();
    for (key, value) in record {
        envfile::validate_key(&key).map_err(|error| error_at(error, span, "invalid variable name"))?;
        plan::check_not_reserved(&key).map_err(|error| error_at(error, span, "set by hb"))?;
        if value.is_nothing() {
            if !host_env.contains_key(&key) {
                return Err(error_at(plan::unset_forwarded(&key), value.span(), "not set in this environment"));
            }
            entries.push(key);
            continue;
        }
        let text = value.coerce_string().map_err(|_| {
            LabeledError::new(format!(
                "invalid value of `{key}`: expected a string, number or bool, found {}",
                value.get_type()
            ))
            .with_label("not a string", value.span())
            .with_help("write the value as a string, or as null to forward the variable from this environment")
        })?;
        envfile::validate_value(&key, &text).map_err(|error| error_at(error, value.span(), "invalid value"))?;
        entries.push(format!("{key}={text}"));
    }
    Ok(entries)
}
