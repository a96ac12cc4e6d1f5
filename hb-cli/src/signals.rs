//! Catching the signals that would otherwise kill `hb run` half-way.
//!
//! Ctrl-C, a closed terminal or a closed pipe used to end `hb run` between
//! creating a run and starting its container, leaving a run that stayed
//! `preparing` forever. With these handlers an interrupt only sets a flag:
//! the Compose child still gets Ctrl-C and ends, and `hb run` removes what
//! it made. A closed stdout or stderr is not an interrupt, so `hb run`
//! carries on and its writes fail quietly.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn record_signal(_signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

extern "C" fn ignore_signal(_signal: libc::c_int) {}

/// Installs handlers for SIGINT, SIGTERM and SIGHUP, which set the returned
/// flag, and for SIGPIPE, which does nothing. Handlers rather than SIG_IGN,
/// because exec resets caught signals to their default actions, so the
/// children hb starts behave as usual.
pub fn catch_interrupts() -> &'static AtomicBool {
    // SAFETY: the handlers only store to an atomic or do nothing, which is
    // async-signal-safe.
    unsafe {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::signal(signal, record_signal as *const () as libc::sighandler_t);
        }
        libc::signal(libc::SIGPIPE, ignore_signal as *const () as libc::sighandler_t);
    }
    &INTERRUPTED
}
