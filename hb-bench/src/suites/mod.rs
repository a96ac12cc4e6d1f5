//! One module per suite; each returns its report and removes what it made.

pub mod completion;
pub mod list;
pub mod logs;
pub mod nu;
pub mod start;
