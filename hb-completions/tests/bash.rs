//! bash completion with the bash-completion package loaded: the completion
//! function is called with COMP_WORDS split the way bash splits them, and
//! COMPREPLY is read back. One test types into an interactive bash in tmux
//! to see readline quote what it inserts.

mod common;

use common::{stderr, stdout, Fixture, Tmux, RUNS_NEWEST_FIRST, TASKS};

const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

/// Calls `_hb` for the command line `line`, with the cursor at its end,
/// and returns COMPREPLY.
fn complete(fixture: &Fixture, line: &str) -> Vec<String> {
    let script = fixture.script("bash");
    let driver = format!(
        "source {BASH_COMPLETION}; source '{}'; \
         COMP_LINE=$1; COMP_POINT=${{#COMP_LINE}}; shift; \
         COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); \
         _hb hb \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let output = fixture
        .command("bash")
        .args(["--norc", "--noprofile", "-c", &driver, "bash", line])
        .args(comp_words(line))
        .output()
        .unwrap();
    assert!(output.status.success(), "bash failed: {}", stderr(&output));
    assert_eq!(stderr(&output), "", "completion printed to stderr");
    stdout(&output).lines().filter(|line| !line.is_empty()).map(str::to_string).collect()
}

/// Splits `line` into COMP_WORDS as bash does with its default
/// COMP_WORDBREAKS: at blanks, and with each run of `=` or `:` as a word
/// of its own. A trailing blank starts an empty word.
fn comp_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    for token in line.split(' ').filter(|token| !token.is_empty()) {
        let mut word = String::new();
        let mut in_breaks = false;
        for char in token.chars() {
            let is_break = char == '=' || char == ':';
            if is_break != in_breaks && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            in_breaks = is_break;
            word.push(char);
        }
        words.push(word);
    }
    if line.ends_with(' ') || words.is_empty() {
        words.push(String::new());
    }
    words
}

#[test]
fn bash_completes_subcommands() {
    let fixture = Fixture::new();
    let names = complete(&fixture, "hb ");
    for name in ["completions", "help", "logs", "run", common::EXTERNAL_WITH_SPACE] {
        assert!(names.contains(&name.to_string()), "`{name}` missing from {names:?}");
    }
    assert_eq!(complete(&fixture, "hb lo"), ["logs"]);
}

#[test]
fn bash_completes_a_flag() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb run --dock"), ["--dockerfile"]);
    assert_eq!(complete(&fixture, "hb logs --fol"), ["--follow"]);
}

#[test]
fn bash_completes_task_ids() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb run "), TASKS);
    assert_eq!(complete(&fixture, "hb run a."), ["a.b_C-1"]);
    assert_eq!(complete(&fixture, "hb run --json "), TASKS);
}

#[test]
fn bash_completes_run_ids_newest_first() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb logs "), RUNS_NEWEST_FIRST);
    assert_eq!(complete(&fixture, "hb logs -f "), RUNS_NEWEST_FIRST);
    assert_eq!(complete(&fixture, "hb logs fix-login/"), ["fix-login/10", "fix-login/2", "fix-login/1"]);
    assert_eq!(complete(&fixture, "hb logs fix-login/1"), ["fix-login/10", "fix-login/1"]);
}

#[test]
fn bash_completes_runs_for_stop_and_rm() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb stop "), RUNS_NEWEST_FIRST);
    assert_eq!(
        complete(&fixture, "hb rm -f fix-login/1 "),
        ["fix-login/10", "fix-login/2", "a.b_C-1/1", "69z-09g-ekx/1"],
        "rm takes several runs"
    );
    assert_eq!(complete(&fixture, "hb runs "), TASKS);
    assert_eq!(complete(&fixture, "hb prune --dry"), ["--dry-run"]);
}

#[test]
fn bash_completes_paths_for_path_flags() {
    let fixture = Fixture::new();
    assert_eq!(complete(&fixture, "hb run x --dockerfile Dock"), ["Dockerfile"]);
    assert_eq!(complete(&fixture, "hb run x --dockerfile=Dock"), ["Dockerfile"]);
    assert_eq!(complete(&fixture, "hb run x --mount my"), ["my dir"]);
}

#[test]
fn bash_offers_nothing_outside_a_repository() {
    let fixture = Fixture::new();
    let outside = fixture.temp.path().join("home");
    let script = fixture.script("bash");
    let driver = format!(
        "source {BASH_COMPLETION}; source '{}'; COMP_LINE='hb logs '; COMP_POINT=8; \
         COMP_WORDS=(hb logs ''); COMP_CWORD=2; _hb hb '' logs; echo \"count=${{#COMPREPLY[@]}}\"",
        script.display()
    );
    let output = fixture.command("bash").current_dir(outside).args(["--norc", "-c", &driver]).output().unwrap();
    assert_eq!(stdout(&output), "count=0\n");
    assert_eq!(stderr(&output), "");
}

#[test]
fn bash_quotes_words_with_spaces_when_typed() {
    let fixture = Fixture::new();
    let script = fixture.script("bash");
    let tmux = Tmux::start(&fixture, "env PS1='% ' bash --norc --noprofile");
    tmux.run_line(
        &format!("source {BASH_COMPLETION} && source '{}' && echo bash-ready-$((6 * 7))", script.display()),
        "bash-ready-42",
    );

    let screen = tmux.complete("hb my", |screen| screen.contains("my\\ tool"));
    assert!(screen.contains("% hb my\\ tool "), "{screen}");

    let screen = tmux.complete("hb logs a.", |screen| screen.contains("a.b_C-1/1"));
    assert!(screen.contains("% hb logs a.b_C-1/1 "), "{screen}");
}
