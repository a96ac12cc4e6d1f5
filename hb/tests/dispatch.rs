//! End-to-end tests of the `hb` dispatcher: real `hb` processes running
//! small `#!/bin/sh` commands that each test writes into its own temp dir.
//!
//! Tests that check which commands `hb` finds run a copy of `hb` in a temp
//! dir, because the build directory next to the real binary also contains
//! this workspace's other `hb-*` executables.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use assert_cmd::prelude::*;
use tempfile::TempDir;

/// Script that prints its argument count, then each argument in brackets.
const PRINT_ARGS: &str = r#"printf '%s\n' "$#"; for arg in "$@"; do printf '[%s]\n' "$arg"; done"#;

/// Writes an executable `#!/bin/sh` script with `body` to `dir/file_name`.
fn write_script(dir: &Path, file_name: &str, body: &str) -> PathBuf {
    let path = dir.join(file_name);
    write_file(&path, &format!("#!/bin/sh\n{body}\n"), "755");
    path
}

/// Writes `contents` to `path` and sets its permission bits to `mode`
/// (octal, as `chmod` reads it).
///
/// A child `sh` writes the file, not this process: a process that another
/// test thread forks meanwhile would inherit an open write handle, and
/// running the file while that handle is open fails with ETXTBSY ("Text
/// file busy").
fn write_file(path: &Path, contents: &str, mode: &str) {
    let mut writer = Command::new("/bin/sh")
        .args(["-c", r#"cat > "$1" && chmod "$2" "$1""#, "sh"])
        .arg(path)
        .arg(mode)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();

    let mut stdin = writer.stdin.take().unwrap();
    stdin.write_all(contents.as_bytes()).unwrap();
    drop(stdin);

    let status = writer.wait().unwrap();
    assert!(status.success(), "writing {} failed: {status}", path.display());
}

/// Returns a PATH of `dir` followed by the system directories that `sh`,
/// `printf` and `cat` live in.
fn search_path(dir: &Path) -> OsString {
    let mut path = dir.as_os_str().to_owned();
    path.push(":/usr/bin:/bin");
    path
}

/// A copy of the built `hb` in a directory of its own (`own_dir`), next to
/// a separate directory for PATH (`path_dir`).
struct Install {
    _root: TempDir,
    own_dir: PathBuf,
    path_dir: PathBuf,
}

impl Install {
    fn new() -> Install {
        let root = TempDir::new().unwrap();
        let own_dir = root.path().join("own");
        let path_dir = root.path().join("path");
        fs::create_dir(&own_dir).unwrap();
        fs::create_dir(&path_dir).unwrap();

        // `cp` writes the copy in its own process, for the reason given at
        // `write_file`.
        let copied = Command::new("cp").arg(cargo_bin!("hb")).arg(own_dir.join("hb")).status().unwrap();
        assert!(copied.success(), "cp of the hb binary failed: {copied}");

        Install { _root: root, own_dir, path_dir }
    }

    /// Returns a command running the copied `hb` with PATH set to `path_dir`.
    fn hb(&self) -> Command {
        let mut command = Command::new(self.own_dir.join("hb"));
        command.env("PATH", search_path(&self.path_dir));
        command
    }
}

/// Returns a command running the built `hb` with PATH set to `dir`.
fn hb_with_path(dir: &Path) -> assert_cmd::Command {
    let mut command = cargo_bin_cmd!("hb");
    command.env("PATH", search_path(dir));
    command
}

#[test]
fn arguments_pass_through() {
    let dir = TempDir::new().unwrap();
    write_script(dir.path(), "hb-test-args", PRINT_ARGS);

    hb_with_path(dir.path())
        .args(["test-args", "two words", "--help", "--", "", "-x", "tab\there"])
        .assert()
        .success()
        .stdout("6\n[two words]\n[--help]\n[--]\n[]\n[-x]\n[tab\there]\n")
        .stderr("");
}

#[test]
fn no_arguments_pass_through_as_none() {
    let dir = TempDir::new().unwrap();
    write_script(dir.path(), "hb-test-args", PRINT_ARGS);

    hb_with_path(dir.path()).arg("test-args").assert().success().stdout("0\n");
}

#[test]
fn stdin_passes_through() {
    let dir = TempDir::new().unwrap();
    write_script(dir.path(), "hb-test-cat", "cat");

    hb_with_path(dir.path())
        .arg("test-cat")
        .write_stdin("line one\nline two\n")
        .assert()
        .success()
        .stdout("line one\nline two\n");
}

#[test]
fn exit_code_passes_through() {
    let dir = TempDir::new().unwrap();
    write_script(dir.path(), "hb-test-exit", "echo to stderr >&2; exit 7");

    hb_with_path(dir.path()).arg("test-exit").assert().code(7).stdout("").stderr("to stderr\n");
}

#[test]
fn signal_passes_through() {
    let dir = TempDir::new().unwrap();
    write_script(dir.path(), "hb-test-signal", "kill -TERM $$");

    let output = hb_with_path(dir.path()).arg("test-signal").output().unwrap();

    assert_eq!(output.status.signal(), Some(15), "status: {:?}", output.status);
    assert_eq!(output.status.code(), None);
}

/// `hb` ignores SIGPIPE (the Rust runtime does), but the command it runs
/// must start with the default action, or `hb logs | head` would make the
/// command fail with write errors instead of ending quietly.
#[test]
fn command_gets_default_sigpipe() {
    let dir = TempDir::new().unwrap();
    write_script(dir.path(), "hb-test-sigign", "grep SigIgn /proc/$$/status");

    let output = hb_with_path(dir.path()).arg("test-sigign").output().unwrap();

    let stdout = String::from_utf8(output.stdout).unwrap();
    let mask_hex = stdout.trim().strip_prefix("SigIgn:").unwrap().trim();
    let ignored = u64::from_str_radix(mask_hex, 16).unwrap();
    let sigpipe_bit = 1 << (13 - 1);
    assert_eq!(ignored & sigpipe_bit, 0, "SigIgn mask: {mask_hex}");
}

#[test]
fn sibling_wins_over_path() {
    let install = Install::new();
    write_script(&install.own_dir, "hb-x", "echo sibling");
    write_script(&install.path_dir, "hb-x", "echo path");

    install.hb().arg("x").assert().success().stdout("sibling\n");

    install.hb().arg("--list").assert().success().stdout("x\n");
}

#[test]
fn help_lists_commands() {
    let install = Install::new();
    write_script(&install.own_dir, "hb-run", "exit 0");
    write_script(&install.own_dir, "hb-logs", "exit 0");
    write_script(&install.path_dir, "hb-custom", "exit 0");

    let commands = "Commands:\n    \
                    custom\n    \
                    logs    Show the output of a run\n    \
                    run     Start a task in a new container, detached\n\n";

    for flag in ["--help", "-h", "help"] {
        let output = install.hb().arg(flag).output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();

        assert_eq!(output.status.code(), Some(0), "hb {flag}");
        assert!(output.stderr.is_empty(), "hb {flag}");
        assert!(stdout.starts_with("Run coding-agent tasks in Docker containers"), "hb {flag}:\n{stdout}");
        assert!(stdout.contains("Usage: hb <command> [args...]\n"), "hb {flag}:\n{stdout}");
        assert!(stdout.contains(commands), "hb {flag}:\n{stdout}");
        assert!(stdout.ends_with("See 'hb <command> --help' for the options of a command.\n"), "hb {flag}:\n{stdout}");
    }
}

#[test]
fn help_without_commands_says_none() {
    let install = Install::new();

    let output = install.hb().arg("--help").output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();

    assert!(output.status.success());
    assert!(stdout.contains("Commands:\n    (none found next to hb or on PATH)\n"), "{stdout}");
}

#[test]
fn help_command_runs_command_help() {
    let install = Install::new();
    write_script(&install.path_dir, "hb-x", PRINT_ARGS);

    install.hb().args(["help", "x"]).assert().success().stdout("1\n[--help]\n");
}

#[test]
fn list_skips_non_executables() {
    let install = Install::new();
    write_script(&install.own_dir, "hb-run", "exit 0");
    write_script(&install.path_dir, "hb-run", "exit 0");
    write_script(&install.path_dir, "hb-foo.sh", "exit 0");
    write_script(&install.path_dir, "hb-", "exit 0");
    write_script(&install.path_dir, "other", "exit 0");

    let not_executable = install.path_dir.join("hb-notes");
    write_file(&not_executable, "#!/bin/sh\n", "644");

    let directory = install.path_dir.join("hb-dir");
    fs::create_dir(&directory).unwrap();
    fs::set_permissions(&directory, fs::Permissions::from_mode(0o755)).unwrap();

    install.hb().arg("--list").assert().success().stdout("foo.sh\nrun\n").stderr("");
}

#[test]
fn list_into_closed_pipe_is_quiet() {
    let install = Install::new();
    write_script(&install.own_dir, "hb-run", "exit 0");

    // `true` is the only process with the read end of the pipe open, and
    // it exits without reading, so every write to `closed_pipe` fails
    // with EPIPE.
    let mut reader = Command::new("/bin/true").stdin(Stdio::piped()).spawn().unwrap();
    let closed_pipe = reader.stdin.take().unwrap();
    reader.wait().unwrap();

    let output = install.hb().arg("--list").stdout(closed_pipe).output().unwrap();

    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn unknown_command_suggests_similar() {
    let install = Install::new();
    write_script(&install.own_dir, "hb-run", "exit 0");
    write_script(&install.own_dir, "hb-logs", "exit 0");

    install.hb().arg("rum").assert().code(1).stdout("").stderr(
        "error: no such command: `rum`\n\
             help: a command with a similar name exists: `run`\n",
    );
}

#[test]
fn unknown_command_prefers_nearest() {
    let install = Install::new();
    write_script(&install.own_dir, "hb-run", "exit 0");
    write_script(&install.own_dir, "hb-runs", "exit 0");

    install.hb().arg("runss").assert().code(1).stderr(
        "error: no such command: `runss`\n\
             help: a command with a similar name exists: `runs`\n",
    );
}

#[test]
fn unknown_command_with_swapped_letters() {
    let install = Install::new();
    write_script(&install.own_dir, "hb-rm", "exit 0");
    write_script(&install.own_dir, "hb-run", "exit 0");

    install.hb().arg("rnu").assert().code(1).stdout("").stderr(
        "error: no such command: `rnu`\n\
             help: a command with a similar name exists: `run`\n",
    );
}

#[test]
fn help_of_unlike_command_suggests_nothing() {
    let install = Install::new();
    write_script(&install.own_dir, "hb-logs", "exit 0");
    write_script(&install.own_dir, "hb-run", "exit 0");

    install.hb().args(["help", "nope"]).assert().code(1).stdout("").stderr(
        "error: no such command: `nope`\n\
             help: view all installed commands with `hb --list`\n",
    );
}

#[test]
fn unknown_command_without_suggestion() {
    let install = Install::new();
    write_script(&install.own_dir, "hb-run", "exit 0");

    install.hb().arg("frobnicate").assert().code(1).stdout("").stderr(
        "error: no such command: `frobnicate`\n\
             help: view all installed commands with `hb --list`\n",
    );
}

#[test]
fn path_in_command_name_rejected() {
    let install = Install::new();
    let outside = install.own_dir.parent().unwrap();
    write_script(outside, "hb-escape", "echo escaped");

    install.hb().arg("../hb-escape").assert().code(1).stdout("").stderr(
        "error: no such command: `../hb-escape`\n\
             help: view all installed commands with `hb --list`\n",
    );
}

#[test]
fn exec_failure_reported() {
    let dir = TempDir::new().unwrap();
    let script = dir.path().join("hb-test-broken");
    write_file(&script, "#!/nonexistent/interpreter\n", "755");

    hb_with_path(dir.path())
        .arg("test-broken")
        .assert()
        .code(1)
        .stdout("")
        .stderr("error: failed to run `hb-test-broken`: No such file or directory (os error 2)\n");
}

#[test]
fn version_prints_version() {
    let expected = format!("hb {}\n", env!("CARGO_PKG_VERSION"));

    for flag in ["--version", "-V"] {
        cargo_bin_cmd!("hb").arg(flag).assert().success().stdout(expected.clone()).stderr("");
    }
}

#[test]
fn no_arguments_exits_2() {
    let output = cargo_bin_cmd!("hb").output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(stderr.contains("Usage: hb <command> [args...]\n"), "{stderr}");
}

#[test]
fn unknown_flag_exits_2() {
    cargo_bin_cmd!("hb").arg("--x").assert().code(2).stdout("").stderr(
        "error: unexpected argument `--x`\n\
             help: see `hb --help` for the options and commands\n",
    );
}
