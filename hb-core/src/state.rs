//! Finding runs: which run a user means, and what the run directories hold.

use crate::error::{Error, Result};
use crate::naming::{RunId, RunRef};
use crate::repo::Repo;
use crate::rundir::{self, RunDir};

/// Returns the run `reference` names. `<id>` alone means the task's latest
/// run; a run must have a run directory.
pub fn resolve(repo: &Repo, reference: &RunRef) -> Result<RunDir> {
    let runs = rundir::list_run_ids(&repo.runs_dir());
    let run = match reference {
        RunRef::Run(run) => runs.into_iter().find(|candidate| candidate == run).ok_or_else(|| unknown_run(repo, reference))?,
        RunRef::Latest(task) => runs
            .into_iter()
            .filter(|run| &run.task == task)
            .max_by_key(|run| run.n)
            .ok_or_else(|| unknown_run(repo, reference))?,
    };
    Ok(RunDir::new(repo, run))
}

fn unknown_run(repo: &Repo, reference: &RunRef) -> Error {
    let task = reference.task();
    let of_task: Vec<RunId> = rundir::list_run_ids(&repo.runs_dir()).into_iter().filter(|run| &run.task == task).collect();
    match (reference, of_task.is_empty()) {
        (RunRef::Latest(_), _) | (RunRef::Run(_), true) => {
            let error = Error::usage(format!("task `{task}` has no runs in this repository"));
            if repo.tasks_dir().join(format!("task-{task}.md")).exists() {
                error.help(format!("start one with `hb run {task}`"))
            } else {
                error.help("list the runs with `hb runs`")
            }
        }
        (RunRef::Run(run), false) => {
            let mut numbers: Vec<u32> = of_task.iter().map(|run| run.n).collect();
            numbers.sort();
            let list = numbers.iter().map(|n| format!("{task}/{n}")).collect::<Vec<_>>().join(", ");
            Error::usage(format!("unknown run `{run}`")).help(format!("runs of task `{task}`: {list}"))
        }
    }
}
