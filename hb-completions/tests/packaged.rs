//! The scripts under `completions/` for packagers must be exactly what
//! `hb completions <shell>` prints.

mod common;

use common::{stderr, Fixture};
use std::path::Path;

#[test]
fn packaged_scripts_are_up_to_date() {
    let fixture = Fixture::new();
    let packaged_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../completions");

    for (shell, file) in [("bash", "hb.bash"), ("zsh", "_hb"), ("fish", "hb.fish")] {
        let output = fixture.command("hb").args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "hb completions {shell} failed: {}", stderr(&output));

        let packaged = std::fs::read(packaged_dir.join(file)).unwrap_or_default();
        assert!(
            packaged == output.stdout,
            "completions/{file} differs from `hb completions {shell}`; regenerate it with scripts/update-completions"
        );
    }
}
