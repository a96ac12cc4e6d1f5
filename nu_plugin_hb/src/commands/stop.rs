//! `hb stop`: stops runs and returns what happened to each.

use crate::convert::{error_at_head, json_value};
use crate::{run_refs, HbPlugin};
use hb_core::repo::Repo;
use hb_core::stop;
use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Spanned, SyntaxShape, Type};

pub struct Stop;

impl PluginCommand for Stop {
    type Plugin = HbPlugin;

    fn name(&self) -> &str {
        "hb stop"
    }

    fn description(&self) -> &str {
        "Stop runs gracefully and return the outcome for each one."
    }

    fn extra_description(&self) -> &str {
        "Docker sends the container SIGTERM, then SIGKILL once --time has passed. The exit code is \
         recorded as for any other end, and the agent's commits are brought back into the run's \
         branch. Stopping a run that has already ended reports that with `stopped` false. Each row \
         has the fields of `hb stop --json`: run, container, cid, stopped, status, exit and message."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .rest("runs", SyntaxShape::String, "Runs as `<task-id>/<n>`, or `<task-id>` for its latest run.")
            .named("time", SyntaxShape::Int, "Seconds to wait after SIGTERM before SIGKILL (default 10).", Some('t'))
            .input_output_type(Type::Nothing, Type::table())
            .category(super::category())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example { example: "hb stop 69z-09g-ekx", description: "Stop the latest run of a task", result: None },
            Example { example: "hb stop --time 0 69z-09g-ekx/2", description: "Kill run 2 at once", result: None },
            Example {
                example: "hb runs | where status == running | get run | each { hb stop $in }",
                description: "Stop every run that is still going",
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
        let args: Vec<Spanned<String>> = call.rest(0)?;
        let time = match call.get_flag::<Spanned<i64>>("time")? {
            Some(time) => u32::try_from(time.item).map_err(|_| {
                LabeledError::new(format!(
                    "invalid --time {}: expected whole seconds from 0 to {}",
                    time.item,
                    u32::MAX
                ))
                .with_label("out of range", time.span)
                .with_help("pass 0 to send SIGKILL at once")
            })?,
            None => 10,
        };
        let references = run_refs::parse(&args, head)?;
        let cwd = crate::engine::current_dir(engine, head)?;
        let repo = Repo::discover(&cwd).map_err(|error| error_at_head(error, head))?;

        let stopped = stop::stop(&repo, &references, time)
            .map_err(|error| run_refs::locate_error(error, &repo, &references, &args, head))?;

        let json = serde_json::to_value(&stopped).expect("stop outcomes always serialize");
        Ok(PipelineData::value(json_value(&json, head), None))
    }
}
