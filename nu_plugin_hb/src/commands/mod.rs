//! One Nushell command per file, each a thin call into `hb_core`.

pub mod hb;
pub mod logs;
pub mod rm;
pub mod run;
pub mod runs;
pub mod stop;

use nu_protocol::Category;

/// Returns the category that `help commands` lists hb's commands under.
fn category() -> Category {
    Category::Custom("hb".into())
}
