//! The `nu_plugin_hb` executable, which Nushell starts and talks to over
//! stdin and stdout (or a local socket) after `plugin add`.

use nu_plugin::{serve_plugin, MsgPackSerializer};
use nu_plugin_hb::HbPlugin;

fn main() {
    serve_plugin(&HbPlugin, MsgPackSerializer)
}
