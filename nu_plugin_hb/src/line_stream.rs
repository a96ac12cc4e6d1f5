//! A child process's stdout and stderr as lines, read as they arrive.
//!
//! Plugins run in their own process group, so Ctrl-C in the terminal never
//! reaches the child. Nushell instead sends the plugin an interrupt, and the
//! handler registered here kills the child. Dropping the stream, which
//! happens when the consumer stops early, kills and reaps it too, so no
//! child outlives the command that started it.

use nu_plugin::EngineInterface;
use nu_protocol::{HandlerGuard, SignalAction};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// One thing the child did.
#[derive(Debug)]
pub enum Output {
    Stdout(String),
    Stderr(String),
    /// The child ended; always the last item.
    Exited(ExitStatus),
}

/// The running child and the lines it has printed so far.
pub struct LineStream {
    child: Arc<Mutex<Child>>,
    lines: Receiver<Output>,
    exited: bool,
    _interrupt: Option<HandlerGuard>,
}

impl LineStream {
    /// Starts `command` with stdin closed and stdout and stderr piped, and
    /// kills it when Nushell's interrupt arrives.
    pub fn spawn(mut command: Command, engine: &EngineInterface) -> std::io::Result<LineStream> {
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // SAFETY: prctl is async-signal-safe and changes only the child.
        unsafe {
            command.pre_exec(|| {
                // The child gets SIGTERM if the plugin process dies, so no
                // `docker logs --follow` is orphaned when Nushell kills it.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = command.spawn()?;

        let (sender, lines) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            forward_lines(stdout, sender.clone(), Output::Stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            forward_lines(stderr, sender, Output::Stderr);
        }

        let child = Arc::new(Mutex::new(child));
        let for_handler = Arc::clone(&child);
        let interrupt = engine
            .register_signal_handler(Box::new(move |action| {
                if action == SignalAction::Interrupt {
                    kill(&for_handler);
                }
            }))
            .ok();

        Ok(LineStream { child, lines, exited: false, _interrupt: interrupt })
    }
}

impl Iterator for LineStream {
    type Item = Output;

    fn next(&mut self) -> Option<Output> {
        if self.exited {
            return None;
        }
        if let Ok(line) = self.lines.recv() {
            return Some(line);
        }

        // Both pipes are closed, so the child has ended or is about to.
        self.exited = true;
        let status = lock(&self.child).wait().ok()?;
        Some(Output::Exited(status))
    }
}

impl Drop for LineStream {
    fn drop(&mut self) {
        if !self.exited {
            kill(&self.child);
        }
    }
}

/// Reads `pipe` line by line on its own thread and sends each line, without
/// its line ending, until the pipe closes or the receiver is gone.
fn forward_lines<R, F>(pipe: R, sender: Sender<Output>, wrap: F)
where
    R: Read + Send + 'static,
    F: Fn(String) -> Output + Send + 'static,
{
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).split(b'\n') {
            let Ok(mut line) = line else { break };
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            if sender.send(wrap(text)).is_err() {
                break;
            }
        }
    });
}

/// Kills and reaps the child. Both are no-ops for a child already reaped,
/// so a late interrupt never signals a process that reused its pid.
fn kill(child: &Mutex<Child>) {
    let mut child = lock(child);
    let _ = child.kill();
    let _ = child.wait();
}

fn lock(child: &Mutex<Child>) -> std::sync::MutexGuard<'_, Child> {
    child.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
