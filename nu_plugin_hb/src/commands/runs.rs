//! `hb runs`: the runs of the repository as a typed table.

use crate::convert::{self, error_at, error_at_head};
use crate::HbPlugin;
use hb_core::repo::Repo;
use hb_core::runs;
use hb_core::task::TaskId;
use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Spanned, SyntaxShape, Type, Value};

pub struct Runs;

impl PluginCommand for Runs {
    type Plugin = HbPlugin;

    fn name(&self) -> &str {
        "hb runs"
    }

    fn description(&self) -> &str {
        "List the runs of the repository with their state, one row per run."
    }

    fn extra_description(&self) -> &str {
        "Columns: `run` (`<task-id>/<n>`), `task`, `n`, `status` (preparing, failed, created, running, \
         exited or removed), `exit` (the exit code, nothing until the container has exited), `cid` \
         (empty until the container exists), `container`, `branch`, `started`, `finished` (nothing \
         while running), `duration` and `image`.

`duration` is finished minus started for a run that has ended, and the time so far for a \
         running one; it is nothing for a run that never started. Rows are ordered by task, then n."
    }

    fn search_terms(&self) -> Vec<&str> {
        vec!["ps", "list", "status", "containers"]
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .optional("task", SyntaxShape::String, "Show only the runs of this task id.")
            .input_output_type(Type::Nothing, Type::Table(convert::runs_columns().into()))
            .category(super::category())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example { example: "hb runs", description: "List every run of the repository", result: None },
            Example { example: "hb runs 69z-09g-ekx", description: "List the runs of one task", result: None },
            Example {
                example: "hb runs | where exit > 0",
                description: "Show the runs that exited with an error",
                result: None,
            },
            Example {
                example: "hb runs | where status == running | get run",
                description: "Get the ids of the runs still going",
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
        let task: Option<Spanned<String>> = call.opt(0)?;
        let cwd = crate::engine::current_dir(engine, head)?;

        let repo = Repo::discover(&cwd).map_err(|error| error_at_head(error, head))?;
        let task = match &task {
            Some(task) => {
                Some(TaskId::parse(&task.item).map_err(|error| error_at(error, task.span, "invalid task id"))?)
            }
            None => None,
        };
        let runs = runs::list(&repo, task.as_ref()).map_err(|error| error_at_head(error, head))?;

        let now = chrono::Utc::now();
        let rows = runs.iter().map(|run| convert::run_row(run, now, head)).collect();
        Ok(PipelineData::value(Value::list(rows, head), None))
    }
}
