//! `hb rm`: removes runs and returns what was removed for each.

use crate::convert::{error_at, error_at_head, json_value};
use crate::{run_refs, HbPlugin};
use hb_core::remove::{self, RemoveOptions, Removed};
use hb_core::repo::Repo;
use nu_plugin::{EngineInterface, EvaluatedCall, PluginCommand};
use nu_protocol::{Example, LabeledError, PipelineData, Signature, Span, Spanned, SyntaxShape, Type};

pub struct Rm;

impl PluginCommand for Rm {
    type Plugin = HbPlugin;

    fn name(&self) -> &str {
        "hb rm"
    }

    fn description(&self) -> &str {
        "Remove runs: container, network, volumes, built image, run directory and branch."
    }

    fn extra_description(&self) -> &str {
        "The workspace's commits are first brought back into the run's branch. A run that is still \
         running, or whose branch has commits that its base lacks, is rejected; --force removes it \
         anyway. Each run is removed or rejected on its own: when some are rejected, the error names \
         them and the runs that were removed. Each row has the fields of `hb rm --json`."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .rest("runs", SyntaxShape::String, "Runs as `<task-id>/<n>`, or `<task-id>` for its latest run.")
            .switch("force", "Remove running runs and unmerged commits too.", Some('f'))
            .input_output_type(Type::Nothing, Type::table())
            .category(super::category())
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example { example: "hb rm 69z-09g-ekx/2", description: "Remove run 2 of a task", result: None },
            Example {
                example: "hb rm --force 69z-09g-ekx",
                description: "Remove the latest run even if it still runs",
                result: None,
            },
            Example {
                example: "hb runs | where status == exited and exit == 0 | get run | each { hb rm $in }",
                description: "Remove the runs that succeeded",
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
        let options = RemoveOptions { force: call.has_flag("force")?, dry_run: false };
        let references = run_refs::parse(&args, head)?;
        let cwd = crate::engine::current_dir(engine, head)?;
        let repo = Repo::discover(&cwd).map_err(|error| error_at_head(error, head))?;

        let outcomes = remove::remove(&repo, &references, options)
            .map_err(|error| run_refs::locate_error(error, &repo, &references, &args, head))?;

        // The outcomes follow the arguments one to one unless two arguments
        // named the same run, so only then can a failure point at its argument.
        let spans: Vec<Span> = if outcomes.len() == args.len() {
            args.iter().map(|arg| arg.span).collect()
        } else {
            vec![head; outcomes.len()]
        };
        let mut removed: Vec<Removed> = Vec::new();
        let mut failed: Vec<LabeledError> = Vec::new();
        for (outcome, span) in outcomes.into_iter().zip(spans) {
            match outcome {
                Ok(record) => removed.push(record),
                Err(error) => failed.push(error_at(error, span, "not removed")),
            }
        }
        if !failed.is_empty() {
            return Err(partial_failure(failed, &removed));
        }

        let json = serde_json::to_value(&removed).expect("removal records always serialize");
        Ok(PipelineData::value(json_value(&json, head), None))
    }
}

/// Builds the error for runs that were rejected, naming the runs that were
/// removed all the same, because the error replaces the table of them.
fn partial_failure(mut failed: Vec<LabeledError>, removed: &[Removed]) -> LabeledError {
    let mut error = if failed.len() == 1 {
        failed.remove(0)
    } else {
        let mut combined = LabeledError::new(format!("{} runs were not removed", failed.len()));
        for inner in failed {
            combined = combined.with_inner(inner);
        }
        combined
    };
    if !removed.is_empty() {
        let names: Vec<&str> = removed.iter().map(|record| record.run.as_str()).collect();
        let note = format!("these runs were removed: {}", names.join(", "));
        error.help = Some(match error.help {
            Some(help) => format!("{help}\n{note}"),
            None => note,
        });
    }
    error
}
