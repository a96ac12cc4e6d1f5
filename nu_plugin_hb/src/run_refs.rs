//! Run arguments (`<task-id>/<n>` or `<task-id>`) of the commands that take
//! several, and errors pointed at the one they are about.

use crate::convert::{error_at, error_at_head};
use hb_core::naming::RunRef;
use hb_core::repo::Repo;
use hb_core::runs;
use nu_protocol::{LabeledError, Span, Spanned};

/// Parses the run arguments, labeling an invalid one at its span.
pub fn parse(args: &[Spanned<String>], head: Span) -> Result<Vec<RunRef>, LabeledError> {
    if args.is_empty() {
        return Err(LabeledError::new("missing run argument")
            .with_label("expects at least one run", head)
            .with_help("name runs as `<task-id>/<n>`, or `<task-id>` for its latest run; `hb runs` lists them"));
    }
    args.iter().map(|arg| RunRef::parse(&arg.item).map_err(|error| error_at(error, arg.span, "invalid run"))).collect()
}

/// Points an error of an operation over all `references` at the first
/// argument that fails `runs::find` on its own, or at `head` when none does.
///
/// This costs one `runs::find` call per argument, and only on the error path.
pub fn locate_error(
    error: hb_core::Error,
    repo: &Repo,
    references: &[RunRef],
    args: &[Spanned<String>],
    head: Span,
) -> LabeledError {
    for (reference, arg) in references.iter().zip(args) {
        if runs::find(repo, std::slice::from_ref(reference)).is_err() {
            return error_at(error, arg.span, "this run");
        }
    }
    error_at_head(error, head)
}
