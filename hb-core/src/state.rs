//! Finding runs: which run a user means, and what the run directories hold.

use crate::error::{Error, Result};
use crate::naming::{RunId, RunRef};
use crate::repo::Repo;
use crate::rundir::{self, RunDir};
use crate::task::TaskId;

/// Returns the run `reference` names. `<id>` alone means the task's latest
/// run; a run must have a run directory.
pub fn resolve(repo: &Repo, reference: &RunRef) -> Result<RunDir> {
    let runs = rundir::list_run_ids(&repo.runs_dir());
    let run = match reference {
        RunRef::Run(run) => {
            runs.into_iter().find(|candidate| candidate == run).ok_or_else(|| unknown_run(repo, reference))?
        }
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
    let of_task: Vec<RunId> =
        rundir::list_run_ids(&repo.runs_dir()).into_iter().filter(|run| &run.task == task).collect();
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
            let numbers: Vec<u32> = of_task.iter().map(|run| run.n).collect();
            Error::usage(format!("unknown run `{run}`")).help(runs_of_task_hint(task, &numbers))
        }
    }
}

/// Maximum number of runs that the hint for an unknown run names, because a
/// task can have dozens and `hb runs <task>` lists them all.
const MAX_HINT_RUNS: usize = 5;

/// Formats the hint that names the runs of `task`, given their numbers in
/// any order: the newest [`MAX_HINT_RUNS`] first, then how many more there
/// are and how to see them.
pub fn runs_of_task_hint(task: &TaskId, numbers: &[u32]) -> String {
    let mut newest_first = numbers.to_vec();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    newest_first.dedup();

    let listed: Vec<String> = newest_first.iter().take(MAX_HINT_RUNS).map(|n| format!("{task}/{n}")).collect();
    let mut hint = format!("runs of task `{task}`: {}", listed.join(", "));
    let hidden = newest_first.len().saturating_sub(MAX_HINT_RUNS);
    if hidden > 0 {
        hint.push_str(&format!(", … and {hidden} more; see `hb runs {task}`"));
    }
    hint
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> TaskId {
        TaskId::parse("ok").unwrap()
    }

    #[test]
    fn runs_hint_names_few_runs_newest_first() {
        assert_eq!(runs_of_task_hint(&task(), &[1, 3, 2]), "runs of task `ok`: ok/3, ok/2, ok/1");
    }

    #[test]
    fn runs_hint_names_exactly_five_runs() {
        assert_eq!(runs_of_task_hint(&task(), &[1, 2, 3, 4, 5]), "runs of task `ok`: ok/5, ok/4, ok/3, ok/2, ok/1");
    }

    #[test]
    fn runs_hint_shortens_many_runs() {
        let numbers: Vec<u32> = (1..=22).collect();
        assert_eq!(
            runs_of_task_hint(&task(), &numbers),
            "runs of task `ok`: ok/22, ok/21, ok/20, ok/19, ok/18, … and 17 more; see `hb runs ok`"
        );
    }
}
