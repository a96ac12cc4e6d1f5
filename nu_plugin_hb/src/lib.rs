//! hb's operations as Nushell commands that return typed values.
//!
//! Each command parses its arguments, calls one operation of `hb_core` and
//! converts the result; no domain logic lives here. Stdout is the plugin
//! protocol's channel, so nothing here prints to it, and every child process
//! gets its stdout captured or redirected.

mod commands;
mod convert;
mod engine;
mod line_stream;
mod run_refs;

use nu_plugin::{Plugin, PluginCommand};

/// The plugin that `plugin add` registers as `hb`.
pub struct HbPlugin;

impl Plugin for HbPlugin {
    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").into()
    }

    fn commands(&self) -> Vec<Box<dyn PluginCommand<Plugin = Self>>> {
        vec![
            Box::new(commands::hb::Hb),
            Box::new(commands::runs::Runs),
            Box::new(commands::run::Run),
            Box::new(commands::logs::Logs),
            Box::new(commands::stop::Stop),
            Box::new(commands::rm::Rm),
        ]
    }
}
