//! A scratch repository with tasks and run directories, the environment
//! that makes `hb` and `hb-*` resolve to this workspace's build, and a
//! tmux driver for testing completion the way a person types.

#![allow(dead_code)]

use std::fs::{self, File, FileTimes};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Task ids of the fixture, sorted.
pub const TASKS: [&str; 3] = ["69z-09g-ekx", "a.b_C-1", "fix-login"];

/// Run ids of the fixture in the order completion offers them: the task
/// whose run directories changed last first, highest n first.
pub const RUNS_NEWEST_FIRST: [&str; 5] = ["fix-login/10", "fix-login/2", "fix-login/1", "a.b_C-1/1", "69z-09g-ekx/1"];

/// The name of an external command installed on PATH as `hb-my tool`.
pub const EXTERNAL_WITH_SPACE: &str = "my tool";

pub struct Fixture {
    pub temp: tempfile::TempDir,
    pub repo: PathBuf,
    pub home: PathBuf,
    /// A PATH directory holding the external `hb-my tool` command.
    pub extra_bin: PathBuf,
}

impl Fixture {
    /// Builds the repository with `TASKS`, the run directories of
    /// `RUNS_NEWEST_FIRST` with modification times that fix their order,
    /// a `Dockerfile` and a `my dir/Docker file`.
    pub fn new() -> Fixture {
        let temp = tempfile::tempdir().unwrap();
        let repo = temp.path().join("repo");
        let home = temp.path().join("home");
        let extra_bin = temp.path().join("bin");
        fs::create_dir_all(repo.join(".git")).unwrap();
        fs::create_dir_all(repo.join(".hyperbranch/tasks")).unwrap();
        fs::create_dir_all(repo.join("src/deep")).unwrap();
        fs::create_dir_all(repo.join("my dir")).unwrap();
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&extra_bin).unwrap();

        for task in TASKS {
            let text = format!("---\nid: {task}\nstatus: open\n---\n# Task {task}\n");
            fs::write(repo.join(format!(".hyperbranch/tasks/task-{task}.md")), text).unwrap();
        }
        fs::write(repo.join(".hyperbranch/tasks/README.md"), "not a task\n").unwrap();
        fs::write(repo.join("Dockerfile"), "FROM scratch\n").unwrap();
        fs::write(repo.join("my dir/Docker file"), "FROM scratch\n").unwrap();

        let runs = [
            ("69z-09g-ekx", 1, 100),
            ("a.b_C-1", 1, 200),
            ("fix-login", 1, 300),
            ("fix-login", 2, 400),
            ("fix-login", 10, 350),
        ];
        for (task, n, seconds) in runs {
            make_run_dir(&repo, task, n, seconds);
        }

        let external = extra_bin.join(format!("hb-{EXTERNAL_WITH_SPACE}"));
        fs::write(&external, "#!/bin/sh\necho external\n").unwrap();
        fs::set_permissions(&external, fs::Permissions::from_mode(0o755)).unwrap();

        Fixture { temp, repo, home, extra_bin }
    }

    /// Returns the PATH for shells: this workspace's build first, then the
    /// external command, then the system.
    pub fn path_env(&self) -> String {
        format!("{}:{}:/usr/local/bin:/usr/bin:/bin", build_dir().display(), self.extra_bin.display())
    }

    /// Builds a command with a cleared environment: the fixture's PATH and
    /// HOME, fish's configuration directories inside HOME, and a UTF-8
    /// locale. It runs in the repository.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", self.path_env())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("LANG", "C.UTF-8")
            .env("TERM", "xterm-256color")
            .current_dir(&self.repo);
        command
    }

    /// Writes the script `hb completions <shell>` prints into the scratch
    /// directory and returns its path.
    pub fn script(&self, shell: &str) -> PathBuf {
        let output = self.command("hb").args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "hb completions {shell} failed: {}", stderr(&output));
        let path = self.temp.path().join(format!("completion.{shell}"));
        fs::write(&path, &output.stdout).unwrap();
        path
    }
}

/// Creates `.hyperbranch/.runs/task-<task>-<n>/` with the given
/// modification time in seconds since the epoch.
pub fn make_run_dir(repo: &Path, task: &str, n: u32, seconds: u64) {
    let dir = repo.join(format!(".hyperbranch/.runs/task-{task}-{n}"));
    fs::create_dir_all(&dir).unwrap();
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
    File::open(&dir).unwrap().set_times(FileTimes::new().set_modified(time)).unwrap();
}

/// The directory of this workspace's built executables, which must hold
/// `hb` next to `hb-completions`.
pub fn build_dir() -> PathBuf {
    let completer = PathBuf::from(env!("CARGO_BIN_EXE_hb-completions"));
    let dir = completer.parent().unwrap().to_path_buf();
    assert!(
        dir.join("hb").is_file(),
        "`hb` is missing from {}; build the workspace first with `cargo build --workspace`",
        dir.display()
    );
    dir
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An interactive shell in a tmux session on a private tmux server, so
/// that tests neither see nor touch any other tmux session. Dropping it
/// kills the session by its unique name.
pub struct Tmux {
    socket: String,
    session: String,
    /// TMUX_TMPDIR, where the private server puts its socket.
    socket_dir: PathBuf,
}

impl Tmux {
    /// Starts `shell_command` in a new detached 160x40 session.
    pub fn start(fixture: &Fixture, shell_command: &str) -> Tmux {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!("hb-completions-test-{}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed));
        let socket_dir = fixture.temp.path().join(format!("tmux-{unique}"));
        fs::create_dir_all(&socket_dir).unwrap();
        let tmux = Tmux { socket: unique.clone(), session: unique, socket_dir };

        let output = tmux
            .tmux(fixture)
            .args(["new-session", "-d", "-s", &tmux.session, "-x", "160", "-y", "40", shell_command])
            .output()
            .unwrap();
        assert!(output.status.success(), "tmux new-session failed: {}", stderr(&output));
        tmux
    }

    fn tmux(&self, fixture: &Fixture) -> Command {
        let mut command = fixture.command("tmux");
        command.env("TMUX_TMPDIR", &self.socket_dir).args(["-L", &self.socket]);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = Command::new("tmux")
            .env("TMUX_TMPDIR", &self.socket_dir)
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "tmux {args:?} failed: {}", stderr(&output));
        output
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", &self.session, "-l", text]);
    }

    /// Presses keys by tmux name, such as `Tab`, `Enter` or `C-u`.
    pub fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", &self.session, key]);
    }

    pub fn screen(&self) -> String {
        stdout(&self.run(&["capture-pane", "-p", "-N", "-t", &self.session]))
    }

    /// Polls the screen until `ready` accepts it, for at most ten seconds.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen was:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `line` in the shell and waits until it printed `marker`, a
    /// text that appears on screen only as output, never as typed input.
    pub fn run_line(&self, line: &str, marker: &str) {
        self.type_text(line);
        self.press("Enter");
        self.wait_for(marker, |screen| screen.lines().any(|row| row.trim_end() == marker));
    }

    /// Clears the input line and the screen, leaving the prompt `% `.
    pub fn clear(&self) {
        self.press("C-u");
        self.type_text("clear");
        self.press("Enter");
        self.wait_for("a cleared screen", |screen| screen.trim() == "%");
    }

    /// Types `line`, presses Tab and waits until the screen changes from
    /// the typed line alone and `ready` accepts it.
    pub fn complete(&self, line: &str, ready: impl Fn(&str) -> bool) -> String {
        self.clear();
        self.type_text(line);
        self.wait_for("the typed line", |screen| screen.trim_end().ends_with(line.trim_end()));
        self.press("Tab");
        self.wait_for(&format!("completion of `{line}`"), ready)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .env("TMUX_TMPDIR", &self.socket_dir)
            .args(["-L", &self.socket, "kill-session", "-t", &self.session])
            .output();
    }
}
