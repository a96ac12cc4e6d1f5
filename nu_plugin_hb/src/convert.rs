//! Conversions between hb's data and Nushell values and errors.

use chrono::{DateTime, Utc};
use hb_core::runs::{RunInfo, Status};
use hb_core::start::StartedRun;
use hb_core::ErrorKind;
use nu_protocol::{LabeledError, Record, Span, Type, Value};

/// Turns an hb error into a Nushell error whose label points at `span`,
/// the argument the error is about, or the command name when it is about
/// none of them.
pub fn error_at(error: hb_core::Error, span: Span, label: &str) -> LabeledError {
    let code = match error.kind {
        ErrorKind::Usage => "hb::usage",
        ErrorKind::Environment => "hb::environment",
        ErrorKind::Child => "hb::child",
    };
    let mut labeled = LabeledError::new(error.message).with_label(label, span).with_code(code);
    if let Some(help) = error.help {
        labeled = labeled.with_help(help);
    }
    labeled
}

/// Turns an hb error about no single argument into a Nushell error whose
/// label points at the command name, `head`.
pub fn error_at_head(error: hb_core::Error, head: Span) -> LabeledError {
    let label = match error.kind {
        ErrorKind::Usage => "cannot run here",
        ErrorKind::Environment => "Docker, Compose or git failed",
        ErrorKind::Child => "the container failed to start",
    };
    error_at(error, head, label)
}

/// Returns the column types of `hb runs`, in table order.
pub fn runs_columns() -> Vec<(String, Type)> {
    [
        ("run", Type::String),
        ("task", Type::String),
        ("n", Type::Int),
        ("status", Type::String),
        ("exit", Type::Int),
        ("cid", Type::String),
        ("container", Type::String),
        ("branch", Type::String),
        ("started", Type::Date),
        ("finished", Type::Date),
        ("duration", Type::Duration),
        ("image", Type::String),
    ]
    .into_iter()
    .map(|(name, ty)| (name.to_string(), ty))
    .collect()
}

/// Converts one run into a row of `hb runs`, with `now` as the end of a
/// running run's duration.
pub fn run_row(run: &RunInfo, now: DateTime<Utc>, span: Span) -> Value {
    let date = |time: Option<DateTime<Utc>>| match time {
        Some(time) => Value::date(time.fixed_offset(), span),
        None => Value::nothing(span),
    };
    let end = match (run.finished, run.status) {
        (Some(finished), _) => Some(finished),
        (None, Status::Running) => Some(now),
        (None, _) => None,
    };
    let duration = match (run.started, end) {
        (Some(started), Some(end)) => {
            (end - started).num_nanoseconds().map(|nanos| Value::duration(nanos.max(0), span))
        }
        _ => None,
    };

    let mut row = Record::new();
    row.push("run", Value::string(&run.run, span));
    row.push("task", Value::string(&run.task, span));
    row.push("n", Value::int(i64::from(run.n), span));
    row.push("status", Value::string(run.status.as_str(), span));
    row.push("exit", run.exit.map_or(Value::nothing(span), |exit| Value::int(exit, span)));
    row.push("cid", Value::string(run.cid.clone().unwrap_or_default(), span));
    row.push("container", Value::string(&run.container, span));
    row.push("branch", Value::string(&run.branch, span));
    row.push("started", date(run.started));
    row.push("finished", date(run.finished));
    row.push("duration", duration.unwrap_or(Value::nothing(span)));
    row.push("image", Value::string(run.image.clone().unwrap_or_default(), span));
    Value::record(row, span)
}

/// Converts a started run into the record `hb run` returns: the fields of
/// `hb run --json`, taken from the same serialization.
pub fn started_record(started: &StartedRun, span: Span) -> Value {
    let json = serde_json::to_value(started).expect("a started run always serializes");
    json_value(&json, span)
}

/// Converts JSON into a Nushell value: integers stay integers, and objects
/// become records with their keys in order.
pub fn json_value(json: &serde_json::Value, span: Span) -> Value {
    match json {
        serde_json::Value::Null => Value::nothing(span),
        serde_json::Value::Bool(flag) => Value::bool(*flag, span),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(int) => Value::int(int, span),
            None => Value::float(number.as_f64().unwrap_or(f64::NAN), span),
        },
        serde_json::Value::String(text) => Value::string(text, span),
        serde_json::Value::Array(items) => Value::list(items.iter().map(|item| json_value(item, span)).collect(), span),
        serde_json::Value::Object(fields) => {
            let mut record = Record::new();
            for (key, value) in fields {
                record.push(key, json_value(value, span));
            }
            Value::record(record, span)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_value_keeps_order_and_ints() {
        let json = serde_json::json!({"run": "a/1", "n": 1, "ms": 2.5, "dir": null});
        let record = json_value(&json, Span::test_data()).into_record().unwrap();
        let columns: Vec<&str> = record.columns().map(String::as_str).collect();
        assert_eq!(columns, ["run", "n", "ms", "dir"]);
        assert_eq!(record.get("n"), Some(&Value::int(1, Span::test_data())));
        assert_eq!(record.get("ms"), Some(&Value::float(2.5, Span::test_data())));
        assert_eq!(record.get("dir"), Some(&Value::nothing(Span::test_data())));
    }
}
