//! The state a command reads from the Nushell engine that called it: the
//! current directory and the environment. Both belong to the engine, not to the
//! plugin process, which Nushell started once and keeps between calls.

use nu_protocol::{LabeledError, Span, Value};
use std::collections::HashMap;
use std::path::PathBuf;

/// Reads the engine's current directory, which every operation starts from.
pub fn current_dir(engine: &nu_plugin::EngineInterface, head: Span) -> Result<PathBuf, LabeledError> {
    let dir = engine.get_current_dir().map_err(|error| {
        LabeledError::new("cannot read the current directory from Nushell").with_label(error.to_string(), head)
    })?;
    Ok(PathBuf::from(dir))
}

/// Reads the engine's environment as strings, for the variables a run
/// forwards into its container.
///
/// NOTE: `docker` and `git` still run with the environment the plugin
/// process started with, so a `DOCKER_HOST` set in Nushell after the plugin
/// started does not reach them.
///
/// A list value, such as `PATH` in Nushell, becomes its items joined by
/// `:`. Values of other types have no string form here and are left out.
pub fn host_env(engine: &nu_plugin::EngineInterface, head: Span) -> Result<HashMap<String, String>, LabeledError> {
    let vars = engine.get_env_vars().map_err(|error| {
        LabeledError::new("cannot read the environment from Nushell").with_label(error.to_string(), head)
    })?;

    let mut env = HashMap::new();
    for (name, value) in vars {
        if let Some(text) = env_string(&value) {
            env.insert(name, text);
        }
    }
    Ok(env)
}

fn env_string(value: &Value) -> Option<String> {
    match value {
        Value::String { val, .. } => Some(val.clone()),
        Value::List { vals, .. } => {
            let items: Option<Vec<&str>> = vals.iter().map(|item| item.as_str().ok()).collect();
            items.map(|items| items.join(":"))
        }
        _ => None,
    }
}
