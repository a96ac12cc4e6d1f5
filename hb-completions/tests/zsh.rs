//! zsh completion, driven as a person would: an interactive `zsh -f` in
//! tmux with compinit and the script loaded, keys typed, Tab pressed and
//! the screen read back.

mod common;

use common::{Fixture, Tmux, RUNS_NEWEST_FIRST, TASKS};

/// Starts zsh in the fixture repository with completion loaded.
fn start_zsh(fixture: &Fixture) -> Tmux {
    let script = fixture.script("zsh");
    let tmux = Tmux::start(fixture, "env PS1='%% ' zsh -f");
    let setup = format!(
        "autoload -Uz compinit && compinit -u -D && source '{}' && print zsh-ready-$((6 * 7))",
        script.display()
    );
    tmux.run_line(&setup, "zsh-ready-42");
    tmux
}

#[test]
fn zsh_completes_names_flags_tasks_and_runs() {
    let fixture = Fixture::new();
    let zsh = start_zsh(&fixture);

    let screen = zsh.complete("hb ", |screen| screen.contains("completions"));
    assert!(screen.contains("logs"), "subcommand `logs` missing:\n{screen}");
    assert!(screen.contains("-- Start a task in a new container"), "descriptions missing:\n{screen}");
    assert!(screen.contains(common::EXTERNAL_WITH_SPACE), "external command missing:\n{screen}");

    let screen = zsh.complete("hb run --dock", |screen| screen.contains("--dockerfile"));
    assert!(screen.contains("% hb run --dockerfile "), "flag not completed in place:\n{screen}");

    let screen = zsh.complete("hb run ", |screen| screen.contains("fix-login"));
    for task in TASKS {
        assert!(screen.contains(task), "task `{task}` missing:\n{screen}");
    }

    let screen = zsh.complete("hb logs ", |screen| screen.contains("fix-login/10"));
    for run in RUNS_NEWEST_FIRST {
        assert!(screen.contains(run), "run `{run}` missing:\n{screen}");
    }
}

#[test]
fn zsh_completes_after_task_slash() {
    let fixture = Fixture::new();
    let zsh = start_zsh(&fixture);

    let screen = zsh.complete("hb logs fix-login/", |screen| screen.contains("fix-login/10"));
    assert!(screen.contains("fix-login/2"), "{screen}");
    assert!(!screen.contains("a.b_C-1/1"), "a run of another task offered:\n{screen}");

    let screen = zsh.complete("hb logs a.b", |screen| screen.contains("a.b_C-1/1 "));
    assert!(screen.contains("% hb logs a.b_C-1/1 "), "run id not completed in place:\n{screen}");
}

#[test]
fn zsh_quotes_words_with_spaces() {
    let fixture = Fixture::new();
    let zsh = start_zsh(&fixture);

    let screen = zsh.complete("hb my", |screen| screen.contains("my\\ tool"));
    assert!(screen.contains("% hb my\\ tool "), "{screen}");

    let screen = zsh.complete("hb run --dockerfile=my", |screen| screen.contains("my\\ dir/"));
    assert!(screen.contains("% hb run --dockerfile=my\\ dir/"), "{screen}");
}
