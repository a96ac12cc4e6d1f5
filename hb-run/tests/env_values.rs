//! Values given to a run reach the container byte for byte, through the
//! real Compose, whatever `$`, quotes, `#`, blanks or YAML words they hold.

use hb_testkit::*;
use proptest::prelude::*;

/// Pieces that Compose, dotenv parsers, shells or YAML treat specially.
const PIECES: &[&str] = &[
    "$",
    "$$",
    "${X}",
    "$HOME",
    "${HOME:-x}",
    "'",
    "\"",
    "#",
    " #",
    "\\",
    "\\n",
    "\\$",
    "=",
    "\n",
    "\r",
    "\t",
    " ",
    "  ",
    "yes",
    "no",
    "0755",
    "~",
    "null",
    "true",
    "1e3",
    "é",
    "日本",
    "😀",
    "a",
    "Z",
    "0",
    "{",
    "}",
    "`",
    "!",
    "*",
    "COMPOSE_FILE=x",
];

fn value() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..10).prop_map(|pieces| pieces.concat())
}

/// Starts one run with `values` as `--env V<i>=…` and returns what the
/// container saw for each.
fn round_trip(values: &[String], host_env: &[(&str, &str)]) -> Vec<String> {
    let keys: Vec<String> = (0..values.len()).map(|i| format!("V{i}")).collect();
    let script = format!(
        "mkdir -p /app/out; for k in {}; do eval \"printf %s \\\"\\${{$k}}\\\"\" > /app/out/$k; done",
        keys.join(" ")
    );
    let repo = TestRepo::with_exec(&script);

    let mut args = vec!["run".to_string(), repo.task.clone()];
    for (key, value) in keys.iter().zip(values) {
        args.push("--env".into());
        args.push(format!("{key}={value}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = repo.hb(&args);
    command.envs(host_env.iter().copied());
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    repo.wait_for_watcher(&format!("{}/1", repo.task));

    let out = repo.run_dir(&format!("{}/1", repo.task)).join("workspace/out");
    keys.iter().map(|key| String::from_utf8(std::fs::read(out.join(key)).unwrap()).unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_values_arrive_unchanged(values in prop::collection::vec(value(), 1..24)) {
        let seen = round_trip(&values, &[]);
        prop_assert_eq!(seen, values);
    }
}

#[test]
fn hand_picked_values_arrive_unchanged() {
    let values: Vec<String> = [
        "has $HOME dollar",
        "${HOME}",
        "$$",
        "it's \"quoted\"",
        "a # not a comment",
        "value #comment",
        "  leading and trailing  ",
        "back\\slash \\n not a newline",
        "key=value=more",
        "line one\nline two\n",
        "unicode é 日本 😀",
        "yes",
        "0755",
        "~",
        "",
    ]
    .iter()
    .map(|v| v.to_string())
    .collect();
    let seen = round_trip(&values, &[]);
    for (expected, got) in values.iter().zip(&seen) {
        assert_eq!(got, expected);
    }
}

#[test]
fn host_environment_does_not_override_values() {
    let values = vec!["from hb".to_string()];
    let seen = round_trip(&values, &[("V0", "from the host")]);
    assert_eq!(seen[0], "from hb");
}

#[test]
fn compose_settings_in_values_do_not_steer_compose() {
    let repo = TestRepo::with_exec("printf %s \"$COMPOSE_PROJECT_NAME|$COMPOSE_PROFILES\"");
    let output = repo.run_hb(&[
        "run",
        &repo.task,
        "--json",
        "--env",
        "COMPOSE_PROJECT_NAME=evil",
        "--env",
        "COMPOSE_PROFILES=nothing",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let started: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let project = format!("hb-{}-1", repo.task);
    assert_eq!(started["container"], project.as_str());
    repo.wait_for_watcher(&format!("{}/1", repo.task));

    let label = container_field(&project, "{{index .Config.Labels \"com.docker.compose.project\"}}");
    assert_eq!(label.as_deref(), Some(project.as_str()));
    assert!(!network_exists("evil_default"));
    let logs = repo.run_hb(&["logs", &repo.task]);
    assert_eq!(stdout(&logs), "evil|nothing");
}

#[test]
fn forwarded_and_configured_values_arrive() {
    let repo = TestRepo::with_exec("printf '%s|%s' \"$FORWARDED\" \"$LITERAL\"");
    repo.write(
        ".hyperbranch/config.toml",
        &format!(
            "image = \"{IMAGE}\"\nexec = \"printf '%s|%s' \\\"$FORWARDED\\\" \\\"$LITERAL\\\"\"\nenv_vars = [\"FORWARDED\"]\n[env]\nLITERAL = \"a $HOME # b\"\n"
        ),
    );
    repo.commit("Configure env");
    let output = repo.hb(&["run", &repo.task]).env("FORWARDED", "x ${Y} 'z'").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    repo.wait_for_watcher(&format!("{}/1", repo.task));

    let logs = repo.run_hb(&["logs", &repo.task]);
    assert_eq!(stdout(&logs), "x ${Y} 'z'|a $HOME # b");
}

#[test]
fn env_file_is_private() {
    use std::os::unix::fs::PermissionsExt;

    let repo = TestRepo::with_exec("true");
    let output = repo.hb(&["run", &repo.task, "--env", "TOKEN"]).env("TOKEN", "s3cret-value").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    repo.wait_for_watcher(&format!("{}/1", repo.task));

    let env_file = repo.run_dir(&format!("{}/1", repo.task)).join(".env");
    let mode = std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(std::fs::read_to_string(&env_file).unwrap().contains("s3cret-value"));
    for file in ["docker-compose.yml", "run.json", "watch.sh", "watch.log"] {
        let text = std::fs::read_to_string(repo.run_dir(&format!("{}/1", repo.task)).join(file)).unwrap();
        assert!(!text.contains("s3cret-value"), "the secret is in {file}");
    }
    assert!(!stderr(&output).contains("s3cret-value"));
    assert!(!stdout(&output).contains("s3cret-value"));
    let status = git(repo.path(), &["status", "--porcelain", "--untracked-files=all"]);
    assert!(!status.contains(".runs"), "run state shows up in git status: {status}");
}
