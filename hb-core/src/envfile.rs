//! Writes the run's `.env`, which Compose passes to the container through
//! `env_file`.
//!
//! Compose (v2.40) expands `$VAR` in unquoted and double-quoted values, cuts
//! `#` comments and trims blanks. Every value is therefore written
//! double-quoted with `\`, `"`, `$` and newlines escaped. The dotenv parser
//! of Compose turns exactly those escapes back, so each value reaches the
//! container byte for byte. Tests send generated values through the real
//! Compose to check it.

use crate::error::{Error, Result};

/// Checks that `key` is a name the container's environment can carry.
pub fn validate_key(key: &str) -> Result<()> {
    let valid = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        return Ok(());
    }
    Err(Error::usage(format!("invalid environment variable name `{}`", key.escape_debug()))
        .help("names use ASCII letters, digits and `_`, and do not start with a digit"))
}

/// Checks that `value` can reach a process environment at all. The value
/// itself never appears in the message, because it may be a secret.
pub fn validate_value(key: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::usage(format!("the value of `{key}` contains a NUL byte"))
            .help("process environments cannot carry NUL bytes; remove it from the value"));
    }
    Ok(())
}

/// Renders `KEY="value"` lines in the given order.
pub fn render<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<String> {
    let mut text = String::new();
    for (key, value) in vars {
        validate_key(key)?;
        validate_value(key, value)?;
        text.push_str(key);
        text.push_str("=\"");
        text.push_str(&escape(value));
        text.push_str("\"\n");
    }
    Ok(text)
}

fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '$' => escaped.push_str("\\$"),
            '\n' => escaped.push_str("\\n"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_escaped() {
        let text = render([("A", "x $HOME \"q\" 'sq' # c \\ \n end ")]).unwrap();
        assert_eq!(text, "A=\"x \\$HOME \\\"q\\\" 'sq' # c \\\\ \\n end \"\n");
    }

    #[test]
    fn invalid_keys_are_rejected() {
        for key in ["", "1A", "A-B", "A B", "A=B", "É"] {
            assert!(render([(key, "v")]).is_err(), "{key:?}");
        }
    }

    #[test]
    fn nul_value_is_rejected_without_echo() {
        let error = render([("TOKEN", "secret\0value")]).unwrap_err();
        assert!(!error.message.contains("secret"), "{}", error.message);
    }
}
