//! Bind mounts given as `HOST:CONTAINER[:ro]`.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

impl Mount {
    /// Parses `HOST:CONTAINER[:ro|:rw]`, resolving a relative host path
    /// against `base` and `~/` against HOME, and checks that the host path
    /// exists.
    pub fn parse(spec: &str, base: &Path) -> Result<Mount> {
        let help = "write mounts as `HOST:CONTAINER` or `HOST:CONTAINER:ro`, with an existing host path \
                    and an absolute container path, neither containing `:`";
        let invalid =
            |reason: &str| Error::usage(format!("invalid mount `{}`: {reason}", spec.escape_debug())).help(help);

        let parts: Vec<&str> = spec.split(':').collect();
        let (host, target, read_only) = match parts.as_slice() {
            [host, target] => (*host, *target, false),
            [host, target, "ro"] => (*host, *target, true),
            [host, target, "rw"] => (*host, *target, false),
            [_, _, mode] if !mode.starts_with('/') => {
                return Err(invalid(&format!("unknown mode `{mode}`; use `ro` or `rw`")))
            }
            [_] => return Err(invalid("expected `HOST:CONTAINER`")),
            _ => return Err(invalid("a path contains `:`, which the mount syntax cannot express")),
        };
        if host.is_empty() || target.is_empty() {
            return Err(invalid("a path is empty"));
        }
        if !target.starts_with('/') {
            return Err(invalid(&format!("the container path `{target}` is not absolute")));
        }

        let source = match host.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(rest),
            None => base.join(host),
        };
        if !source.exists() {
            return Err(Error::usage(format!(
                "invalid mount `{}`: the host path `{}` does not exist",
                spec.escape_debug(),
                source.display()
            ))
            .help("create the host path first, or fix the path in the mount"));
        }
        let source = source.canonicalize().map_err(|e| Error::io("resolve", &source, e))?;
        Ok(Mount { source, target: target.to_string(), read_only })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes() {
        let base = std::env::temp_dir();
        let mount = Mount::parse(".:/data:ro", &base).unwrap();
        assert_eq!(mount.target, "/data");
        assert!(mount.read_only);
        assert!(!Mount::parse(".:/data", &base).unwrap().read_only);
    }

    #[test]
    fn expands_home() {
        let home = std::env::var("HOME").unwrap();
        let mount = Mount::parse("~/:/home", std::path::Path::new("/nonexistent")).unwrap();
        assert_eq!(mount.source, std::path::Path::new(&home).canonicalize().unwrap());
    }

    #[test]
    fn rejects_bad_specs() {
        let base = std::env::temp_dir();
        for spec in ["", ".", ".:data", ".:/a:x", "a:b:/c:ro", ":/a", "/no/such/path/hb:/a", ".:/a:b:c"] {
            assert!(Mount::parse(spec, &base).is_err(), "{spec}");
        }
    }
}
