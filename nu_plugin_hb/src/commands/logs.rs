//! `hb logs`: a run's output as a stream of lines, read from `docker logs`
//! as they arrive.

use crate::convert::{error_at, error_at_head};
use crate::line_stream::{LineStream, Output};
use crate::HbPlugin;
use hb_core::logs::{self, LogOptions};
use hb_core::naming::RunRef;
use hb_core::repo::Repo;
use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{
    Example, LabeledError, ListStream, PipelineData, ShellError, Signature, Span, Spanned, SyntaxShape, Type, Value,
};
use std::process::Command;

pub struct Logs;

impl PluginCommand for Logs {
    type Plugin = HbPlugin;

    fn name(&self) -> &str {
        "hb logs"
    }

    fn description(&self) -> &str {
        "Stream the output of a run, line by line as it arrives."
    }

    fn extra_description(&self) -> &str {
        "Reads the container's logs from Docker, while the run goes on and after it has ended, until \
         the run is removed. The container's stdout and stderr lines are merged into one stream; \
         each keeps its own order, but the order between the two is not guaranteed. With --follow the stream ends when the container ends; Ctrl-C ends it earlier and \
         stops `docker logs`."
    }

    fn search_terms(&self) -> Vec<&str> {
        vec!["output", "tail"]
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .required("run", SyntaxShape::String, "Run as `<task-id>/<n>`, or `<task-id>` for its latest run.")
            .switch("follow", "Keep streaming new lines until the container ends.", Some('f'))
            .named("tail", SyntaxShape::Int, "Start with only this many lines from the end.", None)
            .switch("timestamps", "Prefix each line with the time Docker received it.", Some('t'))
            .input_output_type(Type::Nothing, Type::List(Box::new(Type::String)))
            .category(super::category())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "hb logs 69z-09g-ekx",
                description: "Show the output of the task's latest run",
                result: None,
            },
            Example {
                example: "hb logs --follow 69z-09g-ekx/2",
                description: "Follow run 2 until it ends",
                result: None,
            },
            Example {
                example: "hb logs 69z-09g-ekx | where $it =~ error",
                description: "Show the lines that mention errors",
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
        let run: Spanned<String> = call.req(0)?;
        let tail: Option<Spanned<i64>> = call.get_flag("tail")?;
        let tail = match tail {
            Some(tail) => Some(u64::try_from(tail.item).map_err(|_| {
                LabeledError::new(format!("invalid --tail {}: the number of lines cannot be negative", tail.item))
                    .with_label("negative", tail.span)
                    .with_help("pass 0 or more, or leave --tail out to show all lines")
            })?),
            None => None,
        };
        let options = LogOptions { follow: call.has_flag("follow")?, tail, timestamps: call.has_flag("timestamps")? };
        let cwd = crate::engine::current_dir(engine, head)?;

        let repo = Repo::discover(&cwd).map_err(|error| error_at_head(error, head))?;
        let reference = RunRef::parse(&run.item).map_err(|error| error_at(error, run.span, "invalid run"))?;
        let source = logs::source(&repo, &reference).map_err(|error| error_at(error, run.span, "this run"))?;

        let mut command = Command::new("docker");
        command.args(logs::docker_args(&source, &options));
        let mut lines = LineStream::spawn(command, engine)
            .map_err(|error| error_at_head(hb_core::process::spawn_error("docker", error), head))?;

        // Docker's own errors come before any log line, so the command waits
        // for the first line and returns those errors as its own error
        // rather than as an item of the stream, which `length` would count.
        let mut docker_error = None;
        let first = loop {
            match lines.next() {
                Some(Output::Stderr(line)) if logs::is_missing_container(&line) => {
                    docker_error = Some(error_at(logs::removed(&source), run.span, "container removed"));
                }
                Some(Output::Stderr(line)) if logs::is_unreachable_engine(&line) => {
                    docker_error = Some(error_at_head(hb_core::docker::unreachable_engine(line.trim()), head));
                }
                Some(Output::Exited(status)) if !status.success() => {
                    return Err(docker_error.unwrap_or_else(|| exit_error(status, head)));
                }
                other => break other,
            }
        };

        let values = first.into_iter().chain(lines).filter_map(move |output| match output {
            Output::Stdout(line) | Output::Stderr(line) => Some(Value::string(line, head)),
            Output::Exited(status) if !status.success() && status.code().is_some() => {
                Some(Value::error(ShellError::LabeledError(Box::new(exit_error(status, head))), head))
            }
            // Success, or killed by a signal, which is how an interrupt ends the stream.
            Output::Exited(_) => None,
        });
        Ok(PipelineData::list_stream(ListStream::new(values, head, engine.signals().clone()), None))
    }
}

/// Returns the error for `docker logs` ending with a failure that hb does
/// not recognize. Docker's reason was among the lines before it.
fn exit_error(status: std::process::ExitStatus, head: Span) -> LabeledError {
    let code = status.code().map_or("a signal".to_string(), |code| format!("status {code}"));
    LabeledError::new(format!("`docker logs` exited with {code}"))
        .with_label("reading the logs failed", head)
        .with_help("the lines before this error include the reason Docker gave")
}
