//! `hb` alone: the help that lists hb's subcommands.

use crate::HbPlugin;
use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{LabeledError, Signature, Type, Value};

pub struct Hb;

impl SimplePluginCommand for Hb {
    type Plugin = HbPlugin;

    fn name(&self) -> &str {
        "hb"
    }

    fn description(&self) -> &str {
        "Run coding-agent tasks in Docker containers, one git branch and one container per run."
    }

    fn extra_description(&self) -> &str {
        "The subcommands return typed values: `hb runs` is a table to filter with `where`, \
         `hb logs` a stream of lines. Run `help hb <subcommand>` for each one."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name()).input_output_type(Type::Nothing, Type::String).category(super::category())
    }

    fn run(
        &self,
        _plugin: &HbPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: &Value,
    ) -> Result<Value, LabeledError> {
        Ok(Value::string(engine.get_help()?, call.head))
    }
}
